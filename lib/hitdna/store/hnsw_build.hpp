#pragma once
// An HNSW graph (hnswlib) built the way every hitdna index is built: shared by VectorIndexes
// and bench/bench_catalog so that the benchmark measures exactly what hitdna ships. hnswlib's
// headers may be included by one translation unit only (vector_index.cpp), hence the pimpl.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace hitdna::store {

constexpr int k_hnsw_m = 32;                 // graph degree
constexpr int k_hnsw_ef_construction = 200;  // build-time search breadth

class HnswGraph {
public:
    // An empty graph for up to `capacity` vectors of `dim` floats (squared L2 distance).
    HnswGraph(size_t dim, size_t capacity, int m = k_hnsw_m, int ef_construction = k_hnsw_ef_construction);
    // A saved graph read whole into memory by hnswlib's own loader (bench_scale's peer: what
    // hnswlib's search costs); throws std::runtime_error when hnswlib cannot read it.
    static std::unique_ptr<HnswGraph> load(const std::string& path, size_t dim);
    ~HnswGraph();
    HnswGraph(const HnswGraph&) = delete;
    HnswGraph& operator=(const HnswGraph&) = delete;

    // Adds rows of dim floats with their labels on `threads` threads (0 = all cores), tuning
    // the search breadth on the way: 200 rows (a tenth of small sets) are held out, searched
    // as fresh queries against exact neighbours among the others, then added. Returns the
    // smallest ef in 16..512 with recall@10 >= 0.99 there (512 if none), and that recall.
    std::pair<int, double> build(const std::vector<float>& data, const std::vector<int64_t>& labels, int threads);
    void set_ef(size_t ef);
    // k nearest: (squared distance, label), nearest first.
    std::vector<std::pair<float, int64_t>> search(const float* query, size_t k) const;
    void save(const std::string& path) const;
    size_t size() const;
    // The i-th stored vector (0 <= i < size(), in insertion order).
    std::vector<float> row(size_t i) const;

private:
    struct Impl;
    explicit HnswGraph(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

}  // namespace hitdna::store
