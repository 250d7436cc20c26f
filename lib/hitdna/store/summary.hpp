#pragma once
// What `hitdna db stats` and `hitdna index verify` report about a catalog and its indexes.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "hitdna/store/vector_index.hpp"

namespace hitdna::store {

struct IndexSummary {
    dna::Space space = dna::Space::audio;
    size_t dimensions = 0;
    int64_t catalog_vectors = 0;
    std::string index;                  // "ok", "empty", or why the index is not used
    int64_t index_vectors = 0, index_generation = 0, vectors_not_in_index = 0, index_bytes = 0;
};

struct CatalogSummary {
    std::string path;
    CatalogStats stats;
    int analyzer_version = 0;           // of this hitdna
    int64_t stale_tracks = 0;           // analyzed by an older analyzer (ingest --reanalyze redoes them)
    std::vector<IndexSummary> indexes;  // one per space
    int64_t index_bytes = 0;
    int64_t bytes_per_track = 0;        // catalog + WAL + indexes
};

// Counts, sizes, analysis versions and index coverage (index files are not hashed).
CatalogSummary summarize(Catalog& catalog);
// As `hitdna db stats --json` prints it.
nlohmann::ordered_json to_json(const CatalogSummary& summary);

struct IndexCheck {
    IndexStatus status;                 // present, hash, catalog, coverage
    int self_tried = 0, self_found = 0; // stored vectors searched through the index, found as their own nearest
    bool ok = false;                    // usable, and every sampled vector finds itself
};

// `hitdna index verify` for one space: the status with the file hashed, then up to 100 stored
// vectors (evenly spread) searched through the index.
IndexCheck check_index(VectorIndexes& indexes, Catalog& catalog, dna::Space space);

}  // namespace hitdna::store
