#pragma once
// Internal to store/: an hnswlib index file searched where it lies. hnswlib 0.6's loadIndex
// reads the whole file into memory and builds a label map and a mutex per element, so a query
// costs as much as the catalog is large. This maps the file (read-only, shared page cache) and
// walks the graph in place, reading only the pages a search visits. It reads the layout
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
#include <string>
#include <utility>
#include <vector>

namespace hitdna::store::detail {

class MappedHnsw {
public:
    // Maps `path` and checks its header and the upper-level directory against the file size
    // and `dim`; throws std::runtime_error saying what is inconsistent.
    MappedHnsw(const std::string& path, size_t dim);
    ~MappedHnsw();
    MappedHnsw(const MappedHnsw&) = delete;
    MappedHnsw& operator=(const MappedHnsw&) = delete;

    size_t size() const { return m_count; }
    // The k nearest stored vectors: (squared L2 distance, label), nearest first; `ef` is the
    // search breadth (at least k is used).
    std::vector<std::pair<float, int64_t>> search(const float* query, size_t k, size_t ef) const;

private:
    const char* record(uint32_t id) const { return m_level0 + size_t(id) * m_record; }
    const float* vector_of(uint32_t id) const;
    // The link list of `id` at `level` (count then ids), nullptr when it has none there.
    const uint32_t* links(uint32_t id, int level, size_t& count) const;
    float distance(const float* q, uint32_t id) const;

    const char* m_map = nullptr;
    size_t m_bytes = 0;
    const char* m_level0 = nullptr;
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
