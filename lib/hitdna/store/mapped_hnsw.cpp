#include "hitdna/store/detail/mapped_hnsw.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <queue>
#include <stdexcept>

namespace hitdna::store::detail {

namespace {

constexpr size_t k_header = 96;

template <class T>
T read_at(const char* p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

}  // namespace

MappedHnsw::MappedHnsw(const std::string& path, size_t dim) : m_dim(dim) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error(std::string("cannot open: ") + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || st.st_size < off_t(k_header)) {
        ::close(fd);
        throw std::runtime_error("shorter than an hnswlib header");
    }
    m_bytes = size_t(st.st_size);
    void* p = ::mmap(nullptr, m_bytes, PROT_READ, MAP_SHARED, fd, 0);
    ::close(fd);  // the mapping keeps the file
    if (p == MAP_FAILED) throw std::runtime_error(std::string("cannot map: ") + std::strerror(errno));
    m_map = static_cast<const char*>(p);
    // A search visits records scattered over the file: read-ahead would read what it skips.
    ::madvise(p, m_bytes, MADV_RANDOM);
    try {
        const char* h = m_map;
        const auto offset_level0 = read_at<size_t>(h), count = read_at<size_t>(h + 16), record = read_at<size_t>(h + 24);
        m_label_offset = read_at<size_t>(h + 32);
        m_data_offset = read_at<size_t>(h + 40);
        m_max_level = read_at<int>(h + 48);
        m_entry = read_at<uint32_t>(h + 52);
        m_max_m = read_at<size_t>(h + 56);
        m_max_m0 = read_at<size_t>(h + 64);
        m_count = count;
        m_record = record;
        const size_t links0 = sizeof(uint32_t) + m_max_m0 * sizeof(uint32_t);
        if (offset_level0 != 0 || m_max_m0 == 0 || m_max_m0 > 4096 || m_max_m == 0 || m_max_m > 4096 || m_data_offset != links0 ||
            m_label_offset != m_data_offset + dim * sizeof(float) || m_record != m_label_offset + sizeof(size_t) || m_max_level < 0 || m_max_level > 64)
            throw std::runtime_error("header does not describe a " + std::to_string(dim) + "-dimensional hnswlib 0.6 index");
        if (m_count > (m_bytes - k_header) / m_record || (m_count > 0 && m_entry >= m_count))
            throw std::runtime_error("header claims more elements than the file holds");
        m_level0 = m_map + k_header;
        // The upper-level directory: one byte count per element after level 0.
        const size_t per_level = sizeof(uint32_t) + m_max_m * sizeof(uint32_t);
        size_t at = k_header + m_count * m_record;
        for (size_t i = 0; i < m_count; ++i) {
            if (at + sizeof(uint32_t) > m_bytes) throw std::runtime_error("link lists end early");
            const auto n = read_at<uint32_t>(m_map + at);
            at += sizeof(uint32_t);
            if (n == 0) continue;
            if (n % per_level != 0 || n / per_level > size_t(m_max_level) || at + n > m_bytes) throw std::runtime_error("link list " + std::to_string(i) + " is damaged");
            m_upper.push_back({uint32_t(i), uint32_t(n / per_level), uint64_t(at)});
            at += n;
        }
        if (at != m_bytes) throw std::runtime_error("file is longer than its link lists");
    } catch (...) {
        ::munmap(const_cast<char*>(m_map), m_bytes);
        throw;
    }
}

MappedHnsw::~MappedHnsw() {
    if (m_map) ::munmap(const_cast<char*>(m_map), m_bytes);
}

const float* MappedHnsw::vector_of(uint32_t id) const { return reinterpret_cast<const float*>(record(id) + m_data_offset); }

const uint32_t* MappedHnsw::links(uint32_t id, int level, size_t& count) const {
    const char* p = nullptr;
    size_t most = 0;
    if (level == 0) {
        p = record(id);
        most = m_max_m0;
    } else {
        auto it = std::lower_bound(m_upper.begin(), m_upper.end(), id, [](const Upper& u, uint32_t x) { return u.id < x; });
        if (it == m_upper.end() || it->id != id || uint32_t(level) > it->levels) return count = 0, nullptr;
        p = m_map + it->offset + size_t(level - 1) * (sizeof(uint32_t) + m_max_m * sizeof(uint32_t));
        most = m_max_m;
    }
    count = std::min<size_t>(read_at<uint16_t>(p), most);
    return reinterpret_cast<const uint32_t*>(p + sizeof(uint32_t));
}

float MappedHnsw::distance(const float* q, uint32_t id) const {
    const char* v = reinterpret_cast<const char*>(vector_of(id));
    float s[4] = {0, 0, 0, 0};
    size_t i = 0;
    for (; i + 4 <= m_dim; i += 4)
        for (size_t j = 0; j < 4; ++j) {
            const float d = q[i + j] - read_at<float>(v + (i + j) * sizeof(float));
            s[j] += d * d;
        }
    for (; i < m_dim; ++i) {
        const float d = q[i] - read_at<float>(v + i * sizeof(float));
        s[0] += d * d;
    }
    return (s[0] + s[1]) + (s[2] + s[3]);
}

std::vector<std::pair<float, int64_t>> MappedHnsw::search(const float* q, size_t k, size_t ef) const {
    std::vector<std::pair<float, int64_t>> out;
    if (m_count == 0 || k == 0) return out;
    // Greedy descent through the upper levels.
    uint32_t cur = m_entry;
    float cur_d = distance(q, cur);
    for (int level = m_max_level; level > 0; --level)
        for (bool moved = true; moved;) {
            moved = false;
            size_t n = 0;
            const uint32_t* ids = links(cur, level, n);
            for (size_t i = 0; i < n; ++i) {
                const uint32_t c = read_at<uint32_t>(reinterpret_cast<const char*>(ids + i));
                if (c >= m_count) continue;
                const float d = distance(q, c);
                if (d < cur_d) cur_d = d, cur = c, moved = true;
            }
        }
    // Beam search on level 0 with breadth max(ef, k).
    ef = std::max(ef, k);
    auto deleted = [&](uint32_t id) { return (static_cast<unsigned char>(record(id)[2]) & 1) != 0; };
    using Item = std::pair<float, uint32_t>;
    std::priority_queue<Item> top;                                            // the best so far, worst on top
    std::priority_queue<Item, std::vector<Item>, std::greater<Item>> frontier;  // nearest first
    std::vector<uint64_t> bits((m_count + 63) / 64, 0);
    auto seen = [&](uint32_t id) { return (bits[id >> 6] >> (id & 63) & 1) != 0; };
    auto visit = [&](uint32_t id) {
        if (seen(id)) return false;
        bits[id >> 6] |= uint64_t(1) << (id & 63);
        return true;
    };
    visit(cur);
    float bound = cur_d;
    if (!deleted(cur)) top.push({cur_d, cur});
    else bound = 3.4e38f;
    frontier.push({cur_d, cur});
    while (!frontier.empty()) {
        const auto [d, c] = frontier.top();
        if (d > bound && top.size() >= ef) break;
        frontier.pop();
        size_t n = 0;
        const uint32_t* ids = links(c, 0, n);
        // The neighbours' vectors are scattered over the file: ask for all of them before the
        // first distance, so that their cache misses overlap instead of following each other.
        for (size_t i = 0; i < n; ++i) {
            const uint32_t x = read_at<uint32_t>(reinterpret_cast<const char*>(ids + i));
            if (x >= m_count || seen(x)) continue;
            const char* v = reinterpret_cast<const char*>(vector_of(x));
            for (size_t b = 0; b < m_dim * sizeof(float); b += 64) __builtin_prefetch(v + b);
        }
        for (size_t i = 0; i < n; ++i) {
            const uint32_t x = read_at<uint32_t>(reinterpret_cast<const char*>(ids + i));
            if (x >= m_count || !visit(x)) continue;
            const float dx = distance(q, x);
            if (top.size() < ef || dx < bound) {
                frontier.push({dx, x});
                if (!deleted(x)) top.push({dx, x});
                if (top.size() > ef) top.pop();
                if (!top.empty()) bound = top.top().first;
            }
        }
    }
    while (top.size() > k) top.pop();
    out.resize(top.size());
    for (size_t i = out.size(); i-- > 0; top.pop()) out[i] = {top.top().first, int64_t(read_at<size_t>(record(top.top().second) + m_label_offset))};
    return out;
}

}  // namespace hitdna::store::detail
