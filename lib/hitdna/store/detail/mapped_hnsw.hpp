#pragma once
// Internal to store/: an hnswlib index file searched where it lies. hnswlib 0.6's loadIndex
// reads the whole file into memory and builds a label map and a mutex per element, so a query
// costs as much as the catalog is large. This walks the graph in the file, touching only the
// records a search visits, in one of two ways:
//   map:  the file is mapped (read-only, shared page cache). No system call per record, so a
//         process that runs many searches (match --queries) takes this; but the kernel maps
//         whole page-cache folios (up to 2 MB) around each record read, so the process's
//         resident size grows toward the file's size whatever a search reads.
//   read: each record a search visits is read into the process's own memory, a node's
//         unvisited neighbours in one io_uring submission (a pread each without io_uring),
//         and kept for the next searches: a resident size that is what the searches read
//         (one query), and disk reads in parallel when the page cache lacks them.
// It reads the layout
// HierarchicalNSW<float>::saveIndex writes (hnswlib 0.6.x):
//   header: offsetLevel0, max_elements, cur_element_count, size_data_per_element,
//           label_offset, offsetData (size_t each), maxlevel (int), enterpoint_node (uint32),
//           maxM, maxM0, M (size_t), mult (double), ef_construction (size_t): 96 bytes;
//   level 0: cur_element_count records of size_data_per_element bytes: a link count (uint16,
//           a delete mark in the third byte) and maxM0 uint32 ids, the vector (dim floats),
//           the label (size_t);
//   then per element: a byte count (uint32) and its upper levels' link lists (count and maxM
//           ids per level).
// Every count and id read while searching is checked against the header, so a file damaged
// where the cheap open check does not look gives poor neighbours, never a crash; `hitdna index
// verify` hashes the whole file.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace hitdna::store::detail {

class MappedHnsw {
public:
    enum class Access { map, read };
    // Opens (and with Access::map maps) `path` and checks its header and the upper-level
    // directory against the file size and `dim`; throws std::runtime_error saying what is
    // inconsistent.
    MappedHnsw(const std::string& path, size_t dim, Access access = Access::map);
    ~MappedHnsw();
    MappedHnsw(const MappedHnsw&) = delete;
    MappedHnsw& operator=(const MappedHnsw&) = delete;

    size_t size() const { return m_count; }
    // The k nearest stored vectors: (squared L2 distance, label), nearest first; `ef` is the
    // search breadth (at least k is used). The last few searches' lists are kept: the same
    // query and breadth again (a query's next round asking for more of the same list) is
    // answered from them.
    std::vector<std::pair<float, int64_t>> search(const float* query, size_t k, size_t ef) const;
    // The same for a set of `n` queries (n x dim floats, one after another) at once: the k
    // stored vectors nearest to any of them, each at its distance to the nearest query. One
    // beam walks level 0 from each query's own descent through the upper levels, so vectors
    // near several queries are read once (a track's sections are near each other). With n = 1
    // it is search().
    std::vector<std::pair<float, int64_t>> search(const float* queries, size_t n, size_t k, size_t ef) const;

private:
    struct Kept;
    class Records;
    struct Recent {
        std::vector<float> queries;  // n x dim
        size_t ef = 0;
        std::vector<std::pair<float, int64_t>> list;  // the whole beam's, nearest first
    };
    std::vector<std::pair<float, int64_t>> beam(const float* queries, size_t n, size_t ef) const;
    // Squared distance from the nearest of n queries to a record's vector.
    float nearest_distance(const float* queries, size_t n, const char* record) const;
    // Greedy descent from `node` through the upper levels (and level 0 too with on_level0).
    void descend(const float* query, Records& records, uint32_t& node, float& dist, bool on_level0 = false) const;
    // Fills m_upper from the file; throws when a count is inconsistent with the header or size.
    void read_upper_directory();
    // Reads `n` bytes at `offset` (Access::read); throws when the file ends early.
    void read_at_offset(void* to, size_t n, uint64_t offset) const;
    // Where the upper-level link lists of `id` start in the file, 0 when it has none, with
    // the number of its levels.
    uint64_t upper_of(uint32_t id, uint32_t& levels) const;
    float distance(const float* q, const char* record) const;

    int m_fd = -1;
    // Access::read: records kept between searches, with their io_uring, one set per search
    // running at once: searches of one index from several threads each take a free set, or
    // add one (SpaceSearcher::warm).
    Kept* take_kept() const;
    void give_back(Kept* kept) const;
    mutable std::mutex m_kept_mutex;
    mutable std::vector<std::unique_ptr<Kept>> m_kept;
    mutable std::mutex m_recent_mutex;
    mutable std::vector<Recent> m_recent;  // oldest first
    const char* m_map = nullptr;
    size_t m_bytes = 0;
    size_t m_dim = 0, m_count = 0, m_record = 0, m_label_offset = 0, m_data_offset = 0;
    size_t m_max_m = 0, m_max_m0 = 0;
    int m_max_level = 0;
    uint32_t m_entry = 0;
    // Upper-level link lists: sorted (id, byte offset, levels) of the elements above level 0.
    struct Upper {
        uint32_t id;
        uint32_t levels;
        uint64_t offset;
    };
    std::vector<Upper> m_upper;
};

}  // namespace hitdna::store::detail
