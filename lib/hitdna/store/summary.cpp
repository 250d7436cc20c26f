#include "hitdna/store/summary.hpp"

#include <algorithm>

namespace hitdna::store {

CatalogSummary summarize(Catalog& cat) {
    CatalogSummary s;
    s.path = cat.path();
    s.stats = cat.catalog_stats();
    s.analyzer_version = dna::k_analysis_version;
    for (auto& [v, n] : s.stats.by_analysis_version)
        if (v < dna::k_analysis_version) s.stale_tracks += n;
    VectorIndexes idx(cat);
    for (auto sp : dna::k_spaces) {
        auto is = idx.status(sp, false);
        IndexSummary e;
        e.space = sp;
        e.dimensions = dna::dimensions(sp).size();
        e.catalog_vectors = is.catalog_vectors;
        e.index = is.valid ? "ok" : (is.catalog_vectors == 0 ? "empty" : is.problem);
        e.index_vectors = is.valid ? is.manifest.count : 0;
        e.index_generation = is.valid ? is.manifest.generation : 0;
        e.vectors_not_in_index = is.newer_vectors;
        e.index_bytes = is.valid ? is.manifest.bytes : 0;
        s.index_bytes += e.index_bytes;
        s.indexes.push_back(std::move(e));
    }
    s.bytes_per_track = s.stats.tracks ? (s.stats.file_bytes + s.stats.wal_bytes + s.index_bytes) / s.stats.tracks : 0;
    return s;
}

nlohmann::ordered_json to_json(const CatalogSummary& s) {
    nlohmann::ordered_json j;
    j["db"] = s.path;
    j["schema_version"] = s.stats.schema_version;
    j["analyzer_version"] = s.analyzer_version;
    j["generation"] = s.stats.generation;
    j["tracks"] = s.stats.tracks;
    j["sections"] = s.stats.sections;
    j["vectors"] = s.stats.vectors;
    j["chart_entries"] = s.stats.chart_entries;
    nlohmann::ordered_json av = nlohmann::ordered_json::object(), src = nlohmann::ordered_json::object();
    for (auto& [v, n] : s.stats.by_analysis_version) av[std::to_string(v)] = n;
    for (auto& [v, n] : s.stats.by_source) src[v] = n;
    j["tracks_by_analysis_version"] = av;
    j["tracks_needing_reanalysis"] = s.stale_tracks;
    j["tracks_by_source"] = src;
    j["catalog_bytes"] = s.stats.file_bytes;
    j["wal_bytes"] = s.stats.wal_bytes;
    nlohmann::ordered_json ix = nlohmann::ordered_json::array();
    for (const auto& i : s.indexes) {
        nlohmann::ordered_json e;
        e["space"] = dna::to_string(i.space);
        e["dimensions"] = i.dimensions;
        e["catalog_vectors"] = i.catalog_vectors;
        e["index"] = i.index;
        e["index_vectors"] = i.index_vectors;
        e["index_generation"] = i.index_generation;
        e["vectors_not_in_index"] = i.vectors_not_in_index;
        e["index_bytes"] = i.index_bytes;
        ix.push_back(e);
    }
    j["indexes"] = ix;
    j["index_bytes"] = s.index_bytes;
    j["bytes_per_track"] = s.bytes_per_track;
    return j;
}

IndexCheck check_index(VectorIndexes& idx, Catalog& cat, dna::Space sp) {
    IndexCheck c;
    c.status = idx.status(sp, true);
    if (!c.status.valid) return c;
    // Stored vectors must find themselves through the index.
    SpaceSearcher se(idx, sp, nullptr);
    const int64_t stride = std::max<int64_t>(1, c.status.catalog_vectors / 100);
    int64_t n = 0;
    std::vector<StoredVector> sample;
    cat.for_each_vector(sp, 0, {}, [&](StoredVector&& v) {
        if (n++ % stride == 0 && sample.size() < 100) sample.push_back(std::move(v));
    });
    for (auto& v : sample) {
        auto hits = se.search(v.data, 1);
        ++c.self_tried;
        c.self_found += !hits.empty() && (hits[0].vector_id == v.id || hits[0].dist2 <= 1e-9f);
    }
    c.ok = c.self_found == c.self_tried;
    return c;
}

}  // namespace hitdna::store
