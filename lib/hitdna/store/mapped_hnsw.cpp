#include "hitdna/store/detail/mapped_hnsw.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <liburing.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <queue>
#include <stdexcept>
#include <string>
#include <unordered_map>

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

// Access::read: the records searches have read, kept for the searches after (a query searches
// each index several times, around the same places) until they pass their budget.
struct MappedHnsw::Kept {
    static constexpr size_t k_block = size_t(256) << 10, k_kept_bytes = size_t(32) << 20;
    static constexpr unsigned k_ring = 64;
    bool busy = false;  // a search is using them (MappedHnsw::m_kept_mutex)
    // What they may hold before the next search drops them: the first set k_kept_bytes, the
    // sets searches running beside it add (read-ahead threads, whose lists answer the query
    // and whose records are in the page cache now) a few blocks, about one search's records.
    size_t budget = k_kept_bytes;
    // An io_uring reads a node's neighbours together: one system call, and from disk in
    // parallel (a cold query 3-4 times faster than a pread each). Without one (a kernel or a
    // sandbox may refuse io_uring; HITDNA_NO_IO_URING=1 asks), a pread each.
    io_uring ring{};
    bool ring_made = false, ring_used = false;
    Kept() {
        const char* off = std::getenv("HITDNA_NO_IO_URING");
        ring_made = ring_used = !(off && *off && std::string(off) != "0") && io_uring_queue_init(k_ring, &ring, 0) == 0;
    }
    ~Kept() {
        if (ring_made) io_uring_queue_exit(&ring);
    }
    Kept(const Kept&) = delete;
    Kept& operator=(const Kept&) = delete;
    std::unordered_map<uint32_t, const char*> at;
    std::vector<std::unique_ptr<char[]>> blocks;
    size_t used = 0;  // of the last block
    // Between searches only: pointers handed out stay valid for the search. (Not once the
    // ring failed with reads in flight: their buffers must outlive them.)
    void trim() {
        if (blocks.size() * k_block >= budget && !(ring_made && !ring_used)) at.clear(), blocks.clear(), used = 0;
    }
    char* take(size_t n) {
        if (blocks.empty() || used + n > k_block) {
            blocks.push_back(std::unique_ptr<char[]>(new char[std::max(k_block, n)]));  // not zeroed: read over
            used = 0;
        }
        char* p = blocks.back().get() + used;
        used += n;
        return p;
    }
};

class MappedHnsw::Records {
public:
    // kept: the search's own (Access::read), null when mapped.
    Records(const MappedHnsw& h, Kept* kept) : m_h(h), m_k(kept) {}
    // The level-0 record of `id`: link count and ids, vector, label. (Access::read: valid for
    // the search, as the kept records are dropped only between searches.)
    const char* operator()(uint32_t id) {
        const uint64_t at = k_header + uint64_t(id) * m_h.m_record;
        if (m_h.m_map) return m_h.m_map + at;
        auto [it, fresh] = m_k->at.try_emplace(id, nullptr);
        if (fresh) {
            char* p = m_k->take(m_h.m_record);
            m_h.read_at_offset(p, m_h.m_record, at);
            it->second = p;
        }
        return it->second;
    }
    // Access::read: reads the records of `ids` not read yet, together (one io_uring submission
    // per 64), so that operator() finds them.
    void read_ahead(const std::vector<uint32_t>& ids) {
        Kept& kept = *m_k;
        if (!kept.ring_used) return;
        auto& want = m_want;
        want.clear();
        for (const uint32_t id : ids)
            if (!kept.at.count(id)) want.push_back({id, kept.take(m_h.m_record)});
        for (size_t from = 0; from < want.size(); from += Kept::k_ring) {
            const size_t n = std::min<size_t>(Kept::k_ring, want.size() - from);
            for (size_t i = 0; i < n; ++i) {
                io_uring_sqe* sqe = io_uring_get_sqe(&kept.ring);
                const auto& [id, p] = want[from + i];
                io_uring_prep_read(sqe, m_h.m_fd, p, unsigned(m_h.m_record), k_header + uint64_t(id) * m_h.m_record);
                sqe->user_data = from + i;
            }
            // (Reads of cached pages complete within the submission; the waits below then
            // take no system call.)
            const int submitted = io_uring_submit(&kept.ring);
            // Refused (or only partly taken): from here on, a pread per record.
            if (submitted != int(n)) kept.ring_used = false;
            for (int i = 0; i < submitted; ++i) {
                io_uring_cqe* cqe = nullptr;
                int rc = 0;
                while ((rc = io_uring_wait_cqe(&kept.ring, &cqe)) == -EINTR) {
                }
                if (rc != 0) {
                    // Reads may still land in the kept blocks: they stay (see trim), and the
                    // ring is not used again.
                    kept.ring_used = false;
                    return;
                }
                const auto& [id, p] = want[size_t(cqe->user_data)];
                // A short or failed read is left to operator()'s pread, which says what failed.
                if (cqe->res == int(m_h.m_record)) kept.at.emplace(id, p);
                io_uring_cqe_seen(&kept.ring, cqe);
            }
            if (!kept.ring_used) return;
        }
    }
    // The link list of `id` at upper `level` (count then ids), nullptr when it has none there.
    // (Access::read: valid until the next call.)
    const char* upper(uint32_t id, int level) {
        uint32_t levels = 0;
        const uint64_t start = m_h.upper_of(id, levels);
        if (start == 0 || uint32_t(level) > levels) return nullptr;
        const size_t list = sizeof(uint32_t) + m_h.m_max_m * sizeof(uint32_t);
        const uint64_t at = start + uint64_t(level - 1) * list;
        if (m_h.m_map) return m_h.m_map + at;
        m_list.resize(list);
        m_h.read_at_offset(m_list.data(), list, at);
        return m_list.data();
    }

private:
    const MappedHnsw& m_h;
    Kept* m_k;
    std::vector<char> m_list;
    std::vector<std::pair<uint32_t, char*>> m_want;  // read_ahead's, kept for its next call
};

MappedHnsw::MappedHnsw(const std::string& path, size_t dim, Access access) : m_dim(dim) {
    m_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (m_fd < 0) throw std::runtime_error(std::string("cannot open: ") + std::strerror(errno));
    try {
        struct stat st {};
        if (::fstat(m_fd, &st) != 0 || st.st_size < off_t(k_header)) throw std::runtime_error("shorter than an hnswlib header");
        m_bytes = size_t(st.st_size);
        if (access == Access::map) {
            void* p = ::mmap(nullptr, m_bytes, PROT_READ, MAP_SHARED, m_fd, 0);
            if (p == MAP_FAILED) throw std::runtime_error(std::string("cannot map: ") + std::strerror(errno));
            m_map = static_cast<const char*>(p);
            ::close(m_fd);  // the mapping keeps the file
            m_fd = -1;
            // A search visits records scattered over the file: read-ahead would read what it skips.
            ::madvise(p, m_bytes, MADV_RANDOM);
        } else {
            ::posix_fadvise(m_fd, 0, 0, POSIX_FADV_RANDOM);
            m_kept.push_back(std::make_unique<Kept>());
        }
        char h[k_header];
        read_at_offset(h, k_header, 0);
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
        read_upper_directory();
    } catch (...) {
        if (m_map) ::munmap(const_cast<char*>(m_map), m_bytes);
        if (m_fd >= 0) ::close(m_fd);
        throw;
    }
}

// The upper-level directory: after level 0, each element's byte count (uint32) and, when it is
// not 0, its upper levels' link lists, which are skipped. Read a window at a time (Access::read).
// Most elements have no upper level: runs of zero counts are skipped 8 bytes at a time (the
// 800 000-element sections index of a 100 000-track catalog opens in 2.1 ms so, 3.0 ms a count
// at a time; the scan is most of opening it).
void MappedHnsw::read_upper_directory() {
    const size_t per_level = sizeof(uint32_t) + m_max_m * sizeof(uint32_t);
    constexpr size_t k_window = size_t(1) << 20;
    std::unique_ptr<char[]> window(m_map ? nullptr : new char[k_window]);  // not zeroed: read over
    uint64_t window_at = 0, window_bytes = 0;
    // The bytes of the file from `at` to the end of the window holding at least 4 of them.
    auto bytes_at = [&](uint64_t at, size_t& avail) -> const char* {
        if (m_map) return avail = size_t(m_bytes - at), m_map + at;
        if (at < window_at || at + sizeof(uint32_t) > window_at + window_bytes) {
            window_bytes = std::min<uint64_t>(k_window, m_bytes - at);
            window_at = at;
            read_at_offset(window.get(), window_bytes, at);
        }
        avail = size_t(window_at + window_bytes - at);
        return window.get() + (at - window_at);
    };
    uint64_t at = k_header + uint64_t(m_count) * m_record;
    for (size_t i = 0; i < m_count;) {
        if (at + sizeof(uint32_t) > m_bytes) throw std::runtime_error("link lists end early");
        size_t avail = 0;
        const char* p = bytes_at(at, avail);
        // Two elements without upper levels per zero 8-byte word.
        size_t skip = 0;
        while (skip + 8 <= avail && i + 2 <= m_count && read_at<uint64_t>(p + skip) == 0) skip += 8, i += 2;
        if (skip > 0) {
            at += skip;
            continue;
        }
        const auto n = read_at<uint32_t>(p);
        at += sizeof(uint32_t);
        if (n != 0) {
            if (n % per_level != 0 || n / per_level > size_t(m_max_level) || at + n > m_bytes)
                throw std::runtime_error("link list " + std::to_string(i) + " is damaged");
            m_upper.push_back({uint32_t(i), uint32_t(n / per_level), at});
            at += n;
        }
        ++i;
    }
    if (at != m_bytes) throw std::runtime_error("file is longer than its link lists");
}

MappedHnsw::~MappedHnsw() {
    if (m_map) ::munmap(const_cast<char*>(m_map), m_bytes);
    if (m_fd >= 0) ::close(m_fd);
}

void MappedHnsw::read_at_offset(void* to, size_t n, uint64_t offset) const {
    if (m_map) {
        std::memcpy(to, m_map + offset, n);
        return;
    }
    char* p = static_cast<char*>(to);
    while (n > 0) {
        const ssize_t got = ::pread(m_fd, p, n, off_t(offset));
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) throw std::runtime_error(std::string("cannot read: ") + std::strerror(errno));
        if (got == 0) throw std::runtime_error("file ends early (changed since it was opened?)");
        p += got, n -= size_t(got), offset += uint64_t(got);
    }
}

uint64_t MappedHnsw::upper_of(uint32_t id, uint32_t& levels) const {
    auto it = std::lower_bound(m_upper.begin(), m_upper.end(), id, [](const Upper& u, uint32_t x) { return u.id < x; });
    if (it == m_upper.end() || it->id != id) return levels = 0, 0;
    levels = it->levels;
    return it->offset;
}

float MappedHnsw::distance(const float* q, const char* record) const {
    const char* v = record + m_data_offset;
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

float MappedHnsw::nearest_distance(const float* queries, size_t n, const char* record) const {
    float best = distance(queries, record);
    for (size_t i = 1; i < n; ++i) best = std::min(best, distance(queries + i * m_dim, record));
    return best;
}

std::vector<std::pair<float, int64_t>> MappedHnsw::search(const float* q, size_t k, size_t ef) const { return search(q, 1, k, ef); }

std::vector<std::pair<float, int64_t>> MappedHnsw::search(const float* queries, size_t n, size_t k, size_t ef) const {
    if (m_count == 0 || k == 0 || n == 0) return {};
    ef = std::max(ef, k);
    std::vector<std::pair<float, int64_t>> out;
    {
        std::lock_guard<std::mutex> lock(m_recent_mutex);
        for (const auto& r : m_recent)
            if (r.ef == ef && r.queries.size() == n * m_dim && std::equal(r.queries.begin(), r.queries.end(), queries)) out = r.list;
    }
    if (out.empty()) {
        out = beam(queries, n, ef);
        std::lock_guard<std::mutex> lock(m_recent_mutex);
        constexpr size_t k_recent = 16;  // a track query's searches of one index in a round
        if (m_recent.size() == k_recent) m_recent.erase(m_recent.begin());
        m_recent.push_back({std::vector<float>(queries, queries + n * m_dim), ef, out});
    }
    if (out.size() > k) out.resize(k);
    return out;
}

namespace {

// A link list: its count (uint16, at most `most`) and where its ids start.
const char* list_of(const char* p, size_t most, size_t& n) {
    n = p ? std::min<size_t>(read_at<uint16_t>(p), most) : 0;
    return p + sizeof(uint32_t);
}

uint32_t id_at(const char* ids, size_t i) { return read_at<uint32_t>(ids + i * sizeof(uint32_t)); }

}  // namespace

// Greedy descent through the upper levels (and level 0 with on_level0), from `cur` at `cur_d`.
void MappedHnsw::descend(const float* q, Records& rec, uint32_t& cur, float& cur_d, bool on_level0) const {
    for (int level = m_max_level; level >= (on_level0 ? 0 : 1); --level)
        for (bool moved = true; moved;) {
            moved = false;
            size_t n = 0;
            const char* ids = level > 0 ? list_of(rec.upper(cur, level), m_max_m, n) : list_of(rec(cur), m_max_m0, n);
            std::vector<uint32_t> next(n);  // (Access::read: the list's buffer is reused)
            for (size_t i = 0; i < n; ++i) next[i] = id_at(ids, i);
            if (level == 0 && !m_map) {
                std::erase_if(next, [&](uint32_t c) { return c >= m_count; });
                rec.read_ahead(next);
            }
            for (const uint32_t c : next) {
                if (c >= m_count) continue;
                const float d = distance(q, rec(c));
                if (d < cur_d) cur_d = d, cur = c, moved = true;
            }
        }
}

MappedHnsw::Kept* MappedHnsw::take_kept() const {
    std::lock_guard<std::mutex> lock(m_kept_mutex);
    for (auto& k : m_kept)
        if (!k->busy) {
            k->busy = true;
            return k.get();
        }
    m_kept.push_back(std::make_unique<Kept>());
    m_kept.back()->busy = true;
    if (m_kept.size() > 1) m_kept.back()->budget = 8 * Kept::k_block;
    return m_kept.back().get();
}

void MappedHnsw::give_back(Kept* kept) const {
    std::lock_guard<std::mutex> lock(m_kept_mutex);
    kept->busy = false;
}

std::vector<std::pair<float, int64_t>> MappedHnsw::beam(const float* queries, size_t n_queries, size_t ef) const {
    std::vector<std::pair<float, int64_t>> out;
    struct Held {  // Access::read: this search's kept records, given back at the end
        const MappedHnsw& h;
        Kept* kept;
        ~Held() {
            if (kept) h.give_back(kept);
        }
    } held{*this, m_map ? nullptr : take_kept()};
    if (held.kept) held.kept->trim();
    Records rec(*this, held.kept);
    auto deleted = [&](uint32_t id) { return (static_cast<unsigned char>(rec(id)[2]) & 1) != 0; };
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
    // Each query's greedy descent through the upper levels gives a starting node on level 0.
    // With several queries it goes on greedily on level 0 too: the beam's breadth is shared,
    // and a query whose start was still far from it would have its neighbourhood cut off by
    // the others' nearer ones (a track's sections can lie far apart).
    for (size_t i = 0; i < n_queries; ++i) {
        const float* q = queries + i * m_dim;
        uint32_t cur = m_entry;
        float cur_d = distance(q, rec(cur));
        descend(q, rec, cur, cur_d, n_queries > 1);
        if (!visit(cur)) continue;
        if (n_queries > 1) cur_d = nearest_distance(queries, n_queries, rec(cur));
        if (!deleted(cur)) top.push({cur_d, cur});
        frontier.push({cur_d, cur});
    }
    while (top.size() > ef) top.pop();
    // Beam search on level 0 with breadth ef.
    float bound = top.empty() ? 3.4e38f : top.top().first;
    std::vector<uint32_t> fresh;
    while (!frontier.empty()) {
        const auto [d, c] = frontier.top();
        if (d > bound && top.size() >= ef) break;
        frontier.pop();
        size_t n = 0;
        const char* ids = list_of(rec(c), m_max_m0, n);
        // Mapped: the neighbours' vectors are scattered over the file; ask for all of them
        // before the first distance, so that their cache misses overlap instead of following
        // each other.
        // Read: the same, as one batch of reads.
        if (m_map) {
            for (size_t i = 0; i < n; ++i) {
                const uint32_t x = id_at(ids, i);
                if (x >= m_count || seen(x)) continue;
                const char* v = rec(x) + m_data_offset;
                for (size_t b = 0; b < m_dim * sizeof(float); b += 64) __builtin_prefetch(v + b);
            }
        } else {
            fresh.clear();
            for (size_t i = 0; i < n; ++i)
                if (const uint32_t x = id_at(ids, i); x < m_count && !seen(x)) fresh.push_back(x);
            rec.read_ahead(fresh);
        }
        for (size_t i = 0; i < n; ++i) {
            const uint32_t x = id_at(ids, i);
            if (x >= m_count || !visit(x)) continue;
            const char* r = rec(x);
            const float dx = n_queries == 1 ? distance(queries, r) : nearest_distance(queries, n_queries, r);
            if (top.size() < ef || dx < bound) {
                frontier.push({dx, x});
                if (!(static_cast<unsigned char>(r[2]) & 1)) top.push({dx, x});
                if (top.size() > ef) top.pop();
                if (!top.empty()) bound = top.top().first;
            }
        }
    }
    out.resize(top.size());
    for (size_t i = out.size(); i-- > 0; top.pop()) out[i] = {top.top().first, int64_t(read_at<size_t>(rec(top.top().second) + m_label_offset))};
    return out;
}

}  // namespace hitdna::store::detail
