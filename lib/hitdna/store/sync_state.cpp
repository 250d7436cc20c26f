#include "hitdna/store/sync_state.hpp"

#include <nlohmann/json.hpp>

#include "hitdna/store/detail/access.hpp"

using json = nlohmann::json;

namespace hitdna::store {

namespace {

// In-flight changes are kept as JSON: [{"id": 7, "generation": 12}, {"id": 3, ..., "removed": true}].
std::string inflight_json(const std::vector<SyncChange>& changes) {
    json a = json::array();
    for (const auto& c : changes) {
        json e = {{"id", c.id}, {"generation", c.generation}};
        if (c.removed) e["removed"] = true;
        a.push_back(std::move(e));
    }
    return a.dump();
}

std::vector<SyncChange> inflight_from(const std::string& text) {
    std::vector<SyncChange> out;
    const json a = json::parse(text, nullptr, false);
    if (!a.is_array()) return out;
    for (const auto& e : a) {
        if (!e.is_object()) continue;
        out.push_back({e.value("id", int64_t(0)), e.value("generation", int64_t(0)), e.value("removed", false)});
    }
    return out;
}

}  // namespace

SyncState load_sync_state(Catalog& cat, const std::string& epoch) {
    SyncState s;
    s.epoch = epoch;
    Stmt st(detail::db_of(cat),
            "SELECT cursor_generation, cursor_id, full_pending, inflight, synced_generation, coalesce(last_success_at, ''), pass, sweep FROM qdrant_sync WHERE epoch = ?1");
    st.bind(1, epoch);
    if (!st.step()) return s;
    s.stored = true;
    s.cursor_generation = st.i64(0);
    s.cursor_id = st.i64(1);
    s.full_pending = st.i64(2) != 0;
    s.inflight = inflight_from(st.text(3));
    s.synced_generation = st.i64(4);
    s.last_success_at = st.text(5);
    s.pass = st.text(6);
    s.sweep = st.i64(7) != 0;
    return s;
}

void save_sync_state(Catalog& cat, const SyncState& s, const std::string& url, const std::string& collection) {
    auto& db = detail::db_of(cat);
    WriteTransaction tx(db);
    Stmt st(db,
            "INSERT INTO qdrant_sync(epoch, url, collection, cursor_generation, cursor_id, full_pending, inflight, last_success_at, synced_generation, pass, sweep) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, nullif(?8, ''), ?9, ?10, ?11) ON CONFLICT(epoch) DO UPDATE SET url = excluded.url, "
            "collection = excluded.collection, cursor_generation = excluded.cursor_generation, cursor_id = excluded.cursor_id, "
            "full_pending = excluded.full_pending, inflight = excluded.inflight, last_success_at = excluded.last_success_at, "
            "synced_generation = excluded.synced_generation, pass = excluded.pass, sweep = excluded.sweep");
    st.bind(1, s.epoch).bind(2, url).bind(3, collection).bind(4, s.cursor_generation).bind(5, s.cursor_id);
    st.bind(6, int64_t(s.full_pending ? 1 : 0)).bind(7, inflight_json(s.inflight)).bind(8, s.last_success_at).bind(9, s.synced_generation);
    st.bind(10, s.pass).bind(11, int64_t(s.sweep ? 1 : 0));
    st.run();
    tx.commit();
}

std::optional<int64_t> synced_generation(Catalog& cat, const std::string& epoch) {
    Stmt st(detail::db_of(cat), "SELECT synced_generation FROM qdrant_sync WHERE epoch = ?1");
    st.bind(1, epoch);
    if (!st.step()) return std::nullopt;
    return st.i64(0);
}

std::vector<SyncChange> changes_after(Catalog& cat, int64_t gen, int64_t id, size_t limit) {
    Stmt st(detail::db_of(cat),
            "SELECT id, generation, 0 FROM tracks WHERE generation > ?1 OR (generation = ?1 AND id > ?2) "
            "UNION ALL SELECT track_id, generation, 1 FROM removed_tracks WHERE generation > ?1 OR (generation = ?1 AND track_id > ?2) "
            "ORDER BY 2, 1 LIMIT ?3");
    st.bind(1, gen).bind(2, id).bind(3, int64_t(limit));
    std::vector<SyncChange> out;
    while (st.step()) out.push_back({st.i64(0), st.i64(1), st.i64(2) != 0});
    return out;
}

int64_t count_changes_after(Catalog& cat, int64_t gen, int64_t id) {
    Stmt st(detail::db_of(cat),
            "SELECT (SELECT count(*) FROM tracks WHERE generation > ?1 OR (generation = ?1 AND id > ?2)) + "
            "(SELECT count(*) FROM removed_tracks WHERE generation > ?1 OR (generation = ?1 AND track_id > ?2))");
    st.bind(1, gen).bind(2, id);
    return st.step() ? st.i64(0) : 0;
}

}  // namespace hitdna::store
