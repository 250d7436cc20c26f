#pragma once
// Where each mirror of the catalog (hitdna sync qdrant) stands, and the changes it has not
// seen. Every catalog change carries a generation; removed tracks leave a tombstone with the
// generation of their removal. A mirror keeps, per collection epoch (a random id of the
// collection), a cursor (generation, track id) up to which it holds the catalog, the changes
// in flight when a run stopped, and whether a full pass is pending.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hitdna/store/catalog.hpp"

namespace hitdna::store {

struct SyncChange {
    int64_t id = 0;           // track id
    int64_t generation = 0;   // of the change
    bool removed = false;     // a tombstone: the track was removed
};

struct SyncState {
    bool stored = false;                 // false: this epoch was never synced from this catalog
    std::string epoch;
    int64_t cursor_generation = 0, cursor_id = -1;
    bool full_pending = true;
    bool sweep = true;                   // the full pass ends by deleting strays
    std::string pass;                    // random id of the last full pass
    std::vector<SyncChange> inflight;    // sent but not confirmed when the last run stopped
    int64_t synced_generation = 0;       // catalog generation the mirror held after its last run
    std::string last_success_at;         // ISO 8601, "" before the first success
};

// The state of a collection epoch (stored = false and defaults when it has none).
SyncState load_sync_state(Catalog& catalog, const std::string& epoch);
// Saves a state in its own transaction.
void save_sync_state(Catalog& catalog, const SyncState& state, const std::string& url, const std::string& collection);
// The generation a mirror held after its last run, or nullopt when it never synced.
std::optional<int64_t> synced_generation(Catalog& catalog, const std::string& epoch);

// Up to `limit` changes after the cursor (generation, id), in (generation, id) order: tracks
// added or changed, and tombstones.
std::vector<SyncChange> changes_after(Catalog& catalog, int64_t generation, int64_t id, size_t limit);
int64_t count_changes_after(Catalog& catalog, int64_t generation, int64_t id);

}  // namespace hitdna::store
