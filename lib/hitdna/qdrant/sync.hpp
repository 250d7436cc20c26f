#pragma once
// `hitdna sync qdrant`: mirrors the catalog into two Qdrant collections.
//
//   NAME           one point per track, id = the catalog track id (integer), named vectors
//                  audio, structure, emotion, production (Euclid), payload: metadata, chart
//                  history, descriptors, section times, analysis version, hitdna_rev.
//   NAME_sections  one point per section, id = a UUID derived from catalog id, track id and
//                  section index (XXH3-128, version 8), vector "section", payload: the track's
//                  filterable fields plus the section's index, times, label and role.
//
// Vectors are standardized with the catalog's per-dimension statistics taken when the
// collection is created (or at --full); they are stored in the collection's metadata so that
// `match --backend qdrant` standardizes queries the same way. Payload indexes cover every
// field --filter can name.
//
// Incremental: every catalog change carries a generation; the catalog keeps, per collection
// epoch (a random id in the collection's metadata), a cursor (generation, track id) up to which
// Qdrant holds the catalog. Each step reads the next changes in one snapshot, records them as
// in flight, deletes the changed tracks' old section points, upserts sections then tracks
// (wait=true, at most batch_points points and batch_bytes per request), deletes removed tracks,
// and moves the cursor in one transaction. After a kill, the in-flight tracks whose point
// already carries the right hitdna_rev are not sent again. A full pass (first sync, --full,
// a collection made by another copy of the catalog) ends by deleting points of tracks the
// catalog no longer has. One sync per catalog runs at a time (flock on DB.sync.lock; a second
// one waits), so a slow run never re-sends a track over a newer deletion.
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>

#include "hitdna/qdrant/client.hpp"
#include "hitdna/store/catalog.hpp"

namespace hitdna::qdrant {

struct SyncOptions {
    std::string collection = "hitdna";
    bool full = false;             // re-send every track with fresh statistics
    bool recreate = false;         // drop and create both collections first
    bool dry_run = false;          // read the server's state, send no writes, print the plan
    size_t batch_points = 128;     // points per upsert request
    size_t batch_bytes = 8 << 20;  // bytes per request (Qdrant refuses bodies over 32 MiB)
    size_t tracks_per_step = 256;  // tracks read from the catalog and committed together
    std::ostream* plan = nullptr;  // dry run: one line per change
    std::ostream* warn = nullptr;  // waiting for another sync, statistics grown stale
    std::function<void(int64_t done, int64_t total)> progress;
};

struct SyncReport {
    std::string url, tracks_collection, sections_collection;
    bool created = false, full = false, resumed = false, dry_run = false;
    int64_t changes = 0;               // changes found after the cursor
    int64_t tracks_upserted = 0, sections_upserted = 0, tracks_deleted = 0;
    int64_t already_landed = 0;        // in flight when a previous run stopped, found on the server
    int64_t stale_deleted = 0;         // full pass: points of tracks no longer in the catalog
    int64_t requests = 0, retries = 0, bytes_sent = 0;
    int64_t generation = 0;            // catalog generation mirrored
    int64_t stats_vectors = 0;         // audio vectors when the collection's statistics were taken
    int64_t catalog_vectors = 0;       // audio vectors in the catalog now
    double seconds = 0;
};

// Throws Error(usage) for a collection that is not hitdna's or another catalog's,
// QdrantError/Error(network|timeout) from the server, Error(db) from the catalog.
SyncReport run_sync(store::Catalog& catalog, Client& client, const SyncOptions& options);

// A report as `hitdna sync qdrant --format json` prints it.
nlohmann::ordered_json to_json(const SyncReport& report);

// Stable point id of a section: a UUID (version 8) from the catalog id, track id and index.
std::string section_point_id(const std::string& catalog_id, int64_t track_id, int index);

// The hitdna object in a collection's metadata (GET /collections/{name} result), or null.
nlohmann::json hitdna_metadata(const nlohmann::json& collection_info);

// Name of the sections collection that goes with a tracks collection.
std::string sections_collection(const std::string& tracks_collection);

}  // namespace hitdna::qdrant
