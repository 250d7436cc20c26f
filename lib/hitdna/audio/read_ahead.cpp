#include "hitdna/audio/read_ahead.hpp"

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>

namespace hitdna::audio {

struct ReadAhead::Impl {
    Impl(Source& src, size_t block_frames, bool threaded) : m_src(src), m_block(block_frames), m_threaded(threaded) {
        if (m_threaded) m_thread = std::thread([this] { produce(); });
    }
    ~Impl() {
        if (m_threaded) {
            {
                std::lock_guard<std::mutex> lock(m_mu);
                m_stop = true;
            }
            m_cv.notify_all();
            m_thread.join();
        }
    }

    size_t next(std::vector<float>& out) {
        const size_t ch = size_t(m_src.info().channels);
        if (!m_threaded) {
            out.resize(m_block * ch);
            size_t n = m_src.read(out.data(), m_block);
            return n;
        }
        std::unique_lock<std::mutex> lock(m_mu);
        m_cv.wait(lock, [&] { return !m_queue.empty() || m_done; });
        if (m_queue.empty()) {
            if (m_error) std::rethrow_exception(m_error);
            return 0;
        }
        if (!out.empty()) m_free.push_back(std::move(out));
        out = std::move(m_queue.front().first);
        size_t n = m_queue.front().second;
        m_queue.pop_front();
        lock.unlock();
        m_cv.notify_all();
        return n;
    }

    // The decoder thread: keeps up to k_depth blocks queued, reusing the buffers handed back.
    void produce() {
        const size_t ch = size_t(m_src.info().channels);
        for (;;) {
            std::vector<float> buf;
            {
                std::unique_lock<std::mutex> lock(m_mu);
                m_cv.wait(lock, [&] { return m_stop || m_queue.size() < k_depth; });
                if (m_stop) return;
                if (!m_free.empty()) {
                    buf = std::move(m_free.back());
                    m_free.pop_back();
                }
            }
            size_t n = 0;
            try {
                buf.resize(m_block * ch);
                n = m_src.read(buf.data(), m_block);
                std::lock_guard<std::mutex> lock(m_mu);
                if (n == 0) {
                    m_done = true;
                    m_cv.notify_all();
                    return;
                }
                m_queue.emplace_back(std::move(buf), n);
                m_cv.notify_all();
            } catch (...) {  // decode errors, and bad_alloc: hand them to the consumer
                std::lock_guard<std::mutex> lock(m_mu);
                m_error = std::current_exception();
                m_done = true;
                m_cv.notify_all();
                return;
            }
        }
    }

    static constexpr size_t k_depth = 4;
    Source& m_src;
    size_t m_block;
    bool m_threaded;
    std::thread m_thread;
    std::mutex m_mu;
    std::condition_variable m_cv;
    std::deque<std::pair<std::vector<float>, size_t>> m_queue;
    std::vector<std::vector<float>> m_free;
    bool m_stop = false, m_done = false;
    std::exception_ptr m_error;
};

ReadAhead::ReadAhead(Source& source, size_t block_frames, bool threaded)
    : m_impl(std::make_unique<Impl>(source, block_frames, threaded)) {}

ReadAhead::~ReadAhead() = default;

size_t ReadAhead::next(std::vector<float>& out) { return m_impl->next(out); }

}  // namespace hitdna::audio
