#pragma once
// Searching a collection made by `hitdna sync qdrant` (see sync.hpp): nearest points through
// POST /collections/{name}/points/query with `using` and a filter, and the stored
// (standardized) vectors and payload of candidate tracks for exact re-scoring.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "hitdna/qdrant/client.hpp"
#include "hitdna/store/catalog.hpp"

namespace hitdna::qdrant {

struct PointHit {
    int64_t track_id = 0;
    double dist2 = 0;               // squared Euclidean distance of standardized vectors
    store::SectionInfo section;     // sections space
};

struct TrackPoint {
    store::TrackRow row;            // from the payload (path is not synced)
    std::map<dna::Space, std::vector<float>> vectors;  // standardized
};

class CollectionSearch {
public:
    // Reads the collection's metadata (statistics, sections collection, catalog id).
    // Throws Error(usage) when it is missing or was not made by hitdna sync.
    CollectionSearch(Client& client, const std::string& collection);

    const std::string& catalog_id() const { return m_catalog_id; }
    const std::string& epoch() const { return m_epoch; }
    // Tracks in the catalog when the collection's statistics were taken.
    int64_t stats_count() const { return m_stats.at(dna::Space::audio).count; }
    std::vector<float> standardize(dna::Space space, const std::vector<float>& raw) const;

    // k nearest points in a space to a standardized query, inside `filter` (null = none);
    // exact asks Qdrant for exact search (params.exact), else params.hnsw_ef = max(256, 4k).
    std::vector<PointHit> nearest(dna::Space space, const std::vector<float>& z, size_t k, const nlohmann::json& filter, bool exact);

    // Standardized vectors and payload of tracks (track spaces), and of their sections.
    std::map<int64_t, TrackPoint> tracks(const std::vector<int64_t>& ids);
    std::map<int64_t, std::vector<store::StoredVector>> sections(const std::vector<int64_t>& ids);

private:
    Client& m_client;
    std::string m_tracks, m_sections, m_catalog_id, m_epoch;
    std::map<dna::Space, store::SpaceStats> m_stats;
};

}  // namespace hitdna::qdrant
