#include "hitdna/qdrant/sync.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>
#include <ostream>
#include <set>
#include <thread>

#include "hitdna/core/clock.hpp"
#include "hitdna/qdrant/filter.hpp"
#include "hitdna/store/hash.hpp"
#include "hitdna/store/sqlite.hpp"

using json = nlohmann::json;

namespace hitdna::qdrant {

using dna::Space;

namespace {

constexpr int k_format = 1;  // layout of the collections and their metadata
constexpr const char* k_section_vector = "section";

std::string random_epoch() {
    std::random_device rd;
    char b[33];
    std::snprintf(b, sizeof b, "%08x%08x%08x%08x", rd(), rd(), rd(), rd());
    return b;
}

void check_collection_name(const std::string& name) {
    if (name.empty() || name.size() + 9 > 255)
        throw Error(ErrorKind::usage, "--collection '" + name + "': names are 1 to 246 characters (hitdna adds '_sections')");
    for (unsigned char c : name)
        if (c < 0x20 || std::string("<>:\"/\\|?*").find(char(c)) != std::string::npos)
            throw Error(ErrorKind::usage, "--collection '" + name + "': Qdrant names may not contain < > : \" / \\ | ? * or control characters");
}

json vectors_config() {
    json v = json::object();
    for (Space s : dna::k_track_spaces) v[dna::to_string(s)] = {{"size", dna::dimensions(s).size()}, {"distance", "Euclid"}};
    return v;
}

json sections_vectors_config() { return {{k_section_vector, {{"size", dna::dimensions(Space::sections).size()}, {"distance", "Euclid"}}}}; }

json stats_json(store::Catalog& cat) {
    json spaces = json::object();
    for (Space s : dna::k_spaces) {
        auto st = cat.stats(s);
        spaces[dna::to_string(s)] = {{"size", dna::dimensions(s).size()}, {"count", st.count}, {"mean", st.mean}, {"sd", st.sd}};
    }
    return spaces;
}

std::map<Space, store::SpaceStats> stats_from(const json& spaces, const std::string& coll) {
    std::map<Space, store::SpaceStats> out;
    for (Space s : dna::k_spaces) {
        const char* name = dna::to_string(s);
        const size_t n = dna::dimensions(s).size();
        if (!spaces.is_object() || !spaces.contains(name) || !spaces[name].is_object())
            throw Error(ErrorKind::remote, "collection " + coll + ": metadata hitdna.spaces." + name + " is missing (rerun with --full)");
        const json& j = spaces[name];
        store::SpaceStats st;
        try {
            st.mean = j.at("mean").get<std::vector<double>>();
            st.sd = j.at("sd").get<std::vector<double>>();
            st.count = j.value("count", int64_t(0));
        } catch (const json::exception&) {
            throw Error(ErrorKind::remote, "collection " + coll + ": metadata hitdna.spaces." + name + " is not readable (rerun with --full)");
        }
        if (st.mean.size() != n || st.sd.size() != n)
            throw Error(ErrorKind::remote, "collection " + coll + ": metadata hitdna.spaces." + std::string(name) + " has " + std::to_string(st.mean.size()) +
                                               " dimensions, this hitdna has " + std::to_string(n) + " (rerun with --recreate)");
        for (auto& x : st.sd)
            if (!(x > 0)) x = 1;
        out[s] = std::move(st);
    }
    return out;
}

// The vectors a collection must have; a mismatch means another hitdna version or another tool.
void check_vectors(const json& info, const json& want, const std::string& coll, const std::string& url) {
    json have;
    try {
        have = info.at("config").at("params").at("vectors");
    } catch (const json::exception&) {
        throw Error(ErrorKind::remote, "Qdrant: collection " + coll + " at " + url + ": its info has no config.params.vectors");
    }
    for (auto& [name, p] : want.items()) {
        if (!have.is_object() || !have.contains(name) || !have[name].is_object() || have[name].value("size", int64_t(-1)) != p["size"].get<int64_t>() ||
            have[name].value("distance", std::string()) != p["distance"].get<std::string>())
            throw Error(ErrorKind::usage, "collection " + coll + " at " + url + " has vectors " + have.dump() + ", hitdna needs " + want.dump() +
                                              " (another hitdna version or another tool made it: use another --collection, or --recreate)");
    }
}


struct Change {
    int64_t id = 0, generation = 0;
    bool removed = false;
};

const char* k_changes_sql =
    "SELECT id, generation, 0 FROM tracks WHERE generation > ?1 OR (generation = ?1 AND id > ?2) "
    "UNION ALL SELECT track_id, generation, 1 FROM removed_tracks WHERE generation > ?1 OR (generation = ?1 AND track_id > ?2) "
    "ORDER BY 2, 1 LIMIT ?3";

std::vector<Change> next_changes(store::Db& db, int64_t gen, int64_t id, size_t limit) {
    store::Stmt st(db, k_changes_sql);
    st.bind(1, gen).bind(2, id).bind(3, int64_t(limit));
    std::vector<Change> out;
    while (st.step()) out.push_back({st.i64(0), st.i64(1), st.i64(2) != 0});
    return out;
}

int64_t count_changes(store::Db& db, int64_t gen, int64_t id) {
    store::Stmt st(db,
                   "SELECT (SELECT count(*) FROM tracks WHERE generation > ?1 OR (generation = ?1 AND id > ?2)) + "
                   "(SELECT count(*) FROM removed_tracks WHERE generation > ?1 OR (generation = ?1 AND track_id > ?2))");
    st.bind(1, gen).bind(2, id);
    return st.step() ? st.i64(0) : 0;
}

struct State {
    bool stored = false;
    std::string epoch;
    int64_t cursor_generation = 0, cursor_id = -1;
    bool full_pending = true;
    bool sweep = true;                // the full pass ends by deleting strays (not needed in collections it made)
    std::string pass;                 // random id of the last full pass; in every point's payload
    json inflight = json::array();
    int64_t synced_generation = 0;
    std::string last_success_at;
};

State load_state(store::Db& db, const std::string& epoch) {
    State s;
    s.epoch = epoch;
    store::Stmt st(db, "SELECT cursor_generation, cursor_id, full_pending, inflight, synced_generation, coalesce(last_success_at, ''), pass, sweep FROM qdrant_sync WHERE epoch = ?1");
    st.bind(1, epoch);
    if (!st.step()) return s;
    s.stored = true;
    s.cursor_generation = st.i64(0);
    s.cursor_id = st.i64(1);
    s.full_pending = st.i64(2) != 0;
    s.inflight = json::parse(st.text(3), nullptr, false);
    if (!s.inflight.is_array()) s.inflight = json::array();
    s.synced_generation = st.i64(4);
    s.last_success_at = st.text(5);
    s.pass = st.text(6);
    s.sweep = st.i64(7) != 0;
    return s;
}

void save_state(store::Db& db, const State& s, const std::string& url, const std::string& collection) {
    store::WriteTransaction tx(db);
    store::Stmt st(db,
                   "INSERT INTO qdrant_sync(epoch, url, collection, cursor_generation, cursor_id, full_pending, inflight, last_success_at, synced_generation, pass, sweep) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, nullif(?8, ''), ?9, ?10, ?11) ON CONFLICT(epoch) DO UPDATE SET url = excluded.url, "
                   "collection = excluded.collection, cursor_generation = excluded.cursor_generation, cursor_id = excluded.cursor_id, "
                   "full_pending = excluded.full_pending, inflight = excluded.inflight, last_success_at = excluded.last_success_at, "
                   "synced_generation = excluded.synced_generation, pass = excluded.pass, sweep = excluded.sweep");
    st.bind(1, s.epoch).bind(2, url).bind(3, collection).bind(4, s.cursor_generation).bind(5, s.cursor_id);
    st.bind(6, int64_t(s.full_pending ? 1 : 0)).bind(7, s.inflight.dump()).bind(8, s.last_success_at).bind(9, s.synced_generation).bind(10, s.pass).bind(11, int64_t(s.sweep ? 1 : 0));
    st.run();
    tx.commit();
}

// One track as it goes to Qdrant: two payloads and the point bodies.
struct TrackPoints {
    int64_t id = 0, generation = 0;
    std::string label;                   // "Artist - Title" for plans
    std::string track_point;             // JSON of the tracks-collection point
    std::vector<std::string> section_points;
};

json float_array(const std::vector<float>& raw, const store::SpaceStats& st, int64_t track, Space s) {
    json a = json::array();
    auto z = st.standardize(raw);
    for (float x : z) {
        if (!std::isfinite(x))
            throw Error(ErrorKind::db, "track " + std::to_string(track) + ": a " + dna::to_string(s) + " value is not finite (hitdna db verify; ingest --reanalyze)");
        a.push_back(x);
    }
    return a;
}

TrackPoints read_track(store::Catalog& cat, const std::string& catalog_id, int64_t id, int64_t generation, const std::string& pass,
                       const std::map<Space, store::SpaceStats>& stats) {
    auto& db = cat.db();
    TrackPoints tp;
    tp.id = id;
    tp.generation = generation;
    auto row = cat.track(id);
    if (!row) return tp;  // gone meanwhile: its tombstone follows
    tp.label = (row->artist.empty() ? "" : row->artist + " - ") + row->title;
    json f = json::object();
    f["track_id"] = id;
    f["title"] = row->title;
    f["artist"] = row->artist;
    std::vector<std::string> descriptors;
    {
        store::Stmt st(db, "SELECT norm_artist, norm_title, content_hash, coalesce((SELECT json_group_array(value) FROM json_each(dna, '$.descriptors')), '[]') FROM tracks WHERE id = ?1");
        st.bind(1, id);
        if (st.step()) {
            f["artist_key"] = st.text(0);
            f["title_key"] = st.text(1);
            f["content_hash"] = st.text(2);
            json d = json::parse(st.text(3), nullptr, false);
            if (d.is_array())
                for (auto& x : d)
                    if (x.is_string()) descriptors.push_back(x.get<std::string>());
        }
    }
    f["genres"] = row->genres;
    f["tags"] = row->tags;
    json entries = json::array();
    std::set<std::string> charts;
    {
        store::Stmt st(db, "SELECT chart, chart_date, rank, peak_rank, previous_rank, weeks_on_chart, streams, uri FROM chart_entries WHERE track_id = ?1 ORDER BY chart_date, chart");
        st.bind(1, id);
        while (st.step()) {
            json e = {{"chart", st.text(0)}, {"date", st.text(1)}};
            const char* names[] = {"rank", "peak_rank", "previous_rank", "weeks_on_chart", "streams"};
            for (int i = 0; i < 5; ++i)
                if (!st.is_null(2 + i)) e[names[i]] = st.i64(2 + i);
            if (!st.text(7).empty()) e["uri"] = st.text(7);
            entries.push_back(std::move(e));
            std::string lc;
            for (char c : st.text(0)) lc += char(std::tolower(static_cast<unsigned char>(c)));
            charts.insert(lc);
        }
    }
    f["charts"] = std::vector<std::string>(charts.begin(), charts.end());
    f["source"] = row->source;
    f["key"] = row->key;
    f["mode"] = row->mode;
    f["analysis_version"] = row->analysis_version;
    f["duration_s"] = row->duration_s;
    // Absent rather than null: a missing key fails a range, as NULL fails an SQL comparison.
    if (row->year) f["year"] = *row->year;
    if (row->peak_rank) f["peak_rank"] = *row->peak_rank;
    if (row->bpm) f["bpm"] = *row->bpm;
    f["hitdna_rev"] = generation;
    f["hitdna_pass"] = pass;

    json vec = json::object();
    for (Space s : dna::k_track_spaces) {
        auto vs = cat.vectors_of(id, s);
        if (!vs.empty()) vec[dna::to_string(s)] = float_array(vs.front().data, stats.at(s), id, s);
    }
    json sections = json::array();
    for (auto& v : cat.vectors_of(id, Space::sections)) {
        json sec = {{"index", v.section.index}, {"start_s", v.section.start_s}, {"end_s", v.section.end_s}, {"label", v.section.label}, {"role", v.section.role}};
        sections.push_back(sec);
        json p = f;
        p["section"] = sec;
        json point = {{"id", section_point_id(catalog_id, id, v.section.index)},
                      {"vector", {{k_section_vector, float_array(v.data, stats.at(Space::sections), id, Space::sections)}}},
                      {"payload", std::move(p)}};
        tp.section_points.push_back(point.dump(-1, ' ', false, json::error_handler_t::replace));
    }
    json payload = std::move(f);
    payload["chart_entries"] = std::move(entries);
    payload["descriptors"] = descriptors;
    payload["sections"] = std::move(sections);
    json point = {{"id", id}, {"vector", std::move(vec)}, {"payload", std::move(payload)}};
    tp.track_point = point.dump(-1, ' ', false, json::error_handler_t::replace);
    return tp;
}

class Sender {
public:
    Sender(Client& c, const SyncOptions& o) : m_client(c), m_o(o) {}

    // Upserts points in requests of at most batch_points points and batch_bytes bytes.
    void upsert(const std::string& coll, const std::vector<const std::string*>& points) {
        const std::string head = "{\"points\":[", tail = "]}";
        std::string body = head;
        size_t n = 0;
        auto flush = [&] {
            if (n == 0) return;
            body += tail;
            write("PUT", collection_path(coll) + "/points?wait=true", body);
            body = head;
            n = 0;
        };
        const size_t limit = std::min<size_t>(m_o.batch_bytes, 32u << 20);
        for (const std::string* p : points) {
            if (p->size() + head.size() + tail.size() > limit)
                throw Error(ErrorKind::usage, "a point of " + coll + " is " + std::to_string(p->size()) + " bytes, more than --batch-bytes " + std::to_string(limit));
            if (n > 0 && (n >= m_o.batch_points || body.size() + 1 + p->size() + tail.size() > limit)) flush();
            if (n > 0) body += ',';
            body += *p;
            ++n;
        }
        flush();
    }

    // An update (upsert, delete) with wait=true; wait_timeout answers are sent again.
    void write(const std::string& method, const std::string& path, const std::string& body) {
        for (int attempt = 0;; ++attempt) {
            json r = m_client.call(method, path, body);
            const std::string status = r.is_object() ? r.value("status", std::string()) : std::string();
            if (status == "completed" || status == "acknowledged") return;
            if (status == "wait_timeout" && attempt < 5) {
                std::this_thread::sleep_for(std::chrono::seconds(1 << attempt));
                continue;
            }
            throw Error(ErrorKind::remote, "Qdrant: " + method + " " + path.substr(0, path.find('?')) + ": the update ended with status '" + status + "'" +
                                               (status == "wait_timeout" ? " six times (the server is overloaded; rerun later, nothing is lost)" : ""));
        }
    }

private:
    Client& m_client;
    const SyncOptions& m_o;
};

void delete_tracks(Sender& sender, const std::string& tracks, const std::string& sections, const std::vector<int64_t>& ids, bool track_points) {
    if (ids.empty()) return;
    json f = {{"filter", {{"must", json::array({json{{"key", "track_id"}, {"match", {{"any", ids}}}}})}}}};
    sender.write("POST", collection_path(sections) + "/points/delete?wait=true", f.dump());
    if (track_points) sender.write("POST", collection_path(tracks) + "/points/delete?wait=true", json{{"points", ids}}.dump());
}

// PUT /collections/{name}; a 409 after a retried, timed-out first attempt means it was made.
void create_collection(Client& c, const std::string& name, const json& body) {
    try {
        c.call("PUT", collection_path(name), body.dump());
    } catch (const QdrantError& e) {
        if (e.http_status != 409 || c.stats().retries == 0) throw;
    }
}

void ensure_indexes(Sender& sender, const std::string& coll, const json& info) {
    json schema = info.contains("payload_schema") && info["payload_schema"].is_object() ? info["payload_schema"] : json::object();
    // Every field --filter can name.
    for (const auto& f : store::filter_fields()) {
        if (schema.contains(f.payload)) continue;
        sender.write("PUT", collection_path(coll) + "/index?wait=true", json{{"field_name", f.payload}, {"field_schema", payload_index_type(f.kind)}}.dump());
    }
}

}  // namespace

json hitdna_metadata(const json& info) {
    const json* m = nullptr;
    if (info.contains("config") && info["config"].is_object() && info["config"].contains("metadata") && info["config"]["metadata"].is_object() &&
        info["config"]["metadata"].contains("hitdna"))
        m = &info["config"]["metadata"]["hitdna"];
    return m && m->is_object() ? *m : json();
}

std::string sections_collection(const std::string& tracks_collection) { return tracks_collection + "_sections"; }

std::string section_point_id(const std::string& catalog_id, int64_t track_id, int index) {
    const std::string key = "hitdna-section:" + catalog_id + ":" + std::to_string(track_id) + ":" + std::to_string(index);
    std::string h = store::hash_bytes(key.data(), key.size());  // 32 hex digits
    h[12] = '8';                                                // version 8 (RFC 9562: custom)
    static const char* variant = "89ab";
    h[16] = variant[std::stoi(h.substr(16, 1), nullptr, 16) & 3];
    return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20, 12);
}

SyncReport run_sync(store::Catalog& cat, Client& client, const SyncOptions& o) {
    const auto t0 = std::chrono::steady_clock::now();
    check_collection_name(o.collection);
    SyncReport rep;
    rep.url = client.config().url;
    rep.dry_run = o.dry_run;
    const std::string T = o.collection, S = sections_collection(o.collection);
    rep.tracks_collection = T;
    rep.sections_collection = S;
    auto& db = cat.db();
    // One writer of a catalog's mirrors at a time: a second sync waits for the first.
    int lock_fd = -1;
    if (!o.dry_run) {
        const std::string lock_path = cat.path() + ".sync.lock";
        lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (lock_fd < 0) throw Error(ErrorKind::db, lock_path + ": cannot open the sync lock: " + std::strerror(errno));
        if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
            if (o.warn) *o.warn << "hitdna: waiting for another 'hitdna sync' of " << cat.path() << " to finish\n";
            if (::flock(lock_fd, LOCK_EX) != 0) throw Error(ErrorKind::db, lock_path + ": cannot lock: " + std::strerror(errno));
        }
    }
    struct FdGuard {
        int fd;
        ~FdGuard() {
            if (fd >= 0) ::close(fd);
        }
    } lock_guard{lock_fd};
    const std::string catalog_id = cat.catalog_id();
    Sender sender(client, o);
    std::ostream* plan = o.dry_run ? o.plan : nullptr;

    if (o.recreate) {
        if (plan) *plan << "drop collections " << T << " and " << S << "\n";
        if (!o.dry_run) {
            client.call("DELETE", collection_path(T));
            client.call("DELETE", collection_path(S));
        }
    }
    auto info = o.recreate ? std::nullopt : client.call_or_404("GET", collection_path(T));
    auto sinfo = o.recreate ? std::nullopt : client.call_or_404("GET", collection_path(S));
    json meta;
    bool sections_fresh = false;
    if (!info) {
        meta = {{"format", k_format}, {"catalog_id", catalog_id}, {"epoch", random_epoch()},
                {"created_at", core::utc_timestamp()}, {"stats_at", core::utc_timestamp()}, {"sections_collection", S}, {"spaces", stats_json(cat)}};
        rep.created = true;
        if (plan) *plan << "create collection " << T << " (" << vectors_config().dump() << ", Euclid) with metadata\n";
        if (!o.dry_run) create_collection(client, T, json{{"vectors", vectors_config()}, {"metadata", {{"hitdna", meta}}}});
    } else {
        meta = hitdna_metadata(*info);
        if (meta.is_null() || meta.value("format", 0) < 1)
            throw Error(ErrorKind::usage, "collection " + T + " at " + rep.url + " was not made by hitdna sync (no hitdna metadata); use another --collection");
        if (meta.value("format", 0) > k_format)
            throw Error(ErrorKind::usage, "collection " + T + " at " + rep.url + " was made by a newer hitdna (format " + std::to_string(meta.value("format", 0)) + ")");
        if (meta.value("catalog_id", std::string()) != catalog_id)
            throw Error(ErrorKind::usage, "collection " + T + " at " + rep.url + " mirrors another catalog (id " + meta.value("catalog_id", std::string()) + ", this one is " +
                                              catalog_id + "); use another --collection, or --recreate to replace it");
        check_vectors(*info, vectors_config(), T, rep.url);
    }
    if (!sinfo) {
        sections_fresh = true;
        if (plan) *plan << "create collection " << S << " (" << sections_vectors_config().dump() << ")\n";
        if (!o.dry_run)
            create_collection(client, S,
                              json{{"vectors", sections_vectors_config()},
                                   {"metadata", {{"hitdna", {{"format", k_format}, {"catalog_id", catalog_id}, {"epoch", meta["epoch"]}, {"tracks_collection", T}}}}}});
    } else {
        check_vectors(*sinfo, sections_vectors_config(), S, rep.url);
        json sm = hitdna_metadata(*sinfo);
        if (sm.is_null() || sm.value("catalog_id", std::string()) != catalog_id)
            throw Error(ErrorKind::usage, "collection " + S + " at " + rep.url + " does not belong to this catalog's " + T + "; use another --collection, or --recreate");
    }
    if (!o.dry_run) {
        ensure_indexes(sender, T, info ? *info : json::object());
        ensure_indexes(sender, S, sinfo ? *sinfo : json::object());
    } else if (rep.created || sections_fresh) {
        if (plan) *plan << "create " << store::filter_fields().size() << " payload indexes on each new collection\n";
    }

    const std::string epoch = meta.value("epoch", std::string());
    State st = load_state(db, epoch);
    const int64_t catalog_generation = cat.generation();
    auto restart = [&] {
        st.cursor_generation = 0;
        st.cursor_id = -1;
        st.full_pending = true;
        st.pass = random_epoch();  // points of this pass carry it: only they count as landed
        st.sweep = !(rep.created && sections_fresh);  // collections made now hold no strays
        st.inflight = json::array();
    };
    if (!st.stored) restart();  // a collection this catalog has not filled (or made by a copy of it)
    if (sections_fresh && !rep.created) restart();
    // A catalog restored from an older backup: its cursor is older than what the collection
    // says it holds (hitdna.synced_generation is written at the end of every sync).
    if (st.stored && meta.value("synced_generation", int64_t(0)) > st.synced_generation) restart();
    if (st.cursor_generation > catalog_generation) restart();
    if (o.full) {
        restart();
        meta["spaces"] = stats_json(cat);
        meta["stats_at"] = core::utc_timestamp();
    }
    rep.full = st.full_pending;
    rep.resumed = st.stored && !st.inflight.empty();  // (a restart empties it)
    // The restarted cursor is saved before the new statistics go out: a kill in between
    // resumes the full pass instead of leaving old vectors under new statistics.
    if (!o.dry_run) save_state(db, st, rep.url, T);
    if (o.full) {
        if (plan) *plan << "refresh the standardization statistics in " << T << "'s metadata\n";
        if (!o.dry_run) client.call("PATCH", collection_path(T), json{{"metadata", {{"hitdna", meta}}}}.dump());
    }
    const auto stats = stats_from(meta["spaces"], T);
    rep.stats_vectors = stats.at(Space::audio).count;
    rep.catalog_vectors = cat.stats(Space::audio).count;
    if (o.warn && rep.catalog_vectors > 2 * std::max<int64_t>(rep.stats_vectors, 1) && rep.catalog_vectors >= 100)
        *o.warn << "hitdna: warning: " << T << " standardizes with statistics of " << rep.stats_vectors << " tracks; the catalog has "
                << rep.catalog_vectors << " now (run 'hitdna sync qdrant --full' to refresh them)\n";

    rep.changes = count_changes(db, st.cursor_generation, st.cursor_id);
    // Tracks in flight when a previous run stopped: those whose track point carries their
    // generation and this pass's id landed whole (track points go after their sections).
    // Deletions in flight are simply sent again (they are idempotent).
    std::map<int64_t, int64_t> landed_rev;
    if (rep.resumed) {
        std::vector<int64_t> ids;
        for (const auto& e : st.inflight)
            if (!e.value("removed", false)) ids.push_back(e.value("id", int64_t(0)));
        json r = ids.empty() ? json::array()
                             : client.call("POST", collection_path(T) + "/points",
                                           json{{"ids", ids}, {"with_payload", json::array({"hitdna_rev", "hitdna_pass"})}, {"with_vector", false}}.dump());
        if (r.is_array())
            for (const auto& p : r) {
                if (!p.contains("id") || !p["id"].is_number_integer() || !p.contains("payload") || !p["payload"].is_object()) continue;
                const json& pl = p["payload"];
                if (pl.value("hitdna_pass", std::string()) != st.pass || !pl.contains("hitdna_rev") || !pl["hitdna_rev"].is_number_integer()) continue;
                landed_rev[p["id"].get<int64_t>()] = pl["hitdna_rev"].get<int64_t>();
            }
    }

    int64_t done = 0;
    for (;;) {
        std::vector<Change> changes;
        std::vector<TrackPoints> points;
        {
            store::ReadTransaction snapshot(db);  // a step's tracks come from one state of the catalog
            changes = next_changes(db, st.cursor_generation, st.cursor_id, o.tracks_per_step);
            for (const auto& c : changes)
                if (!c.removed) points.push_back(read_track(cat, catalog_id, c.id, c.generation, st.pass, stats));
        }
        if (changes.empty()) break;
        std::vector<int64_t> to_delete_sections, to_delete_tracks;
        std::vector<const std::string*> track_bodies, section_bodies;
        json inflight = json::array();
        size_t pi = 0;
        for (const auto& c : changes) {
            if (c.removed) {
                to_delete_tracks.push_back(c.id);
                to_delete_sections.push_back(c.id);
                inflight.push_back({{"id", c.id}, {"generation", c.generation}, {"removed", true}});
                if (plan) *plan << "delete track " << c.id << "\n";
                continue;
            }
            const TrackPoints& tp = points[pi++];
            if (tp.track_point.empty()) continue;
            if (auto it = landed_rev.find(c.id); it != landed_rev.end() && it->second == c.generation) {
                ++rep.already_landed;
                continue;
            }
            if (!sections_fresh) to_delete_sections.push_back(c.id);
            track_bodies.push_back(&tp.track_point);
            for (const auto& s : tp.section_points) section_bodies.push_back(&s);
            inflight.push_back({{"id", c.id}, {"generation", c.generation}});
            if (plan) *plan << "upsert track " << c.id << " " << tp.label << " (" << tp.section_points.size() << " sections, generation " << c.generation << ")\n";
        }
        if (!o.dry_run) {
            st.inflight = inflight;
            if (!inflight.empty()) save_state(db, st, rep.url, T);
            delete_tracks(sender, T, S, to_delete_sections, false);
            sender.upsert(S, section_bodies);
            sender.upsert(T, track_bodies);
            if (!to_delete_tracks.empty()) sender.write("POST", collection_path(T) + "/points/delete?wait=true", json{{"points", to_delete_tracks}}.dump());
        }
        rep.tracks_upserted += int64_t(track_bodies.size());
        rep.sections_upserted += int64_t(section_bodies.size());
        rep.tracks_deleted += int64_t(to_delete_tracks.size());
        st.cursor_generation = changes.back().generation;
        st.cursor_id = changes.back().id;
        st.inflight = json::array();
        if (!o.dry_run) save_state(db, st, rep.url, T);
        done += int64_t(changes.size());
        if (o.progress) o.progress(done, std::max(done, rep.changes));
    }

    if (st.full_pending && st.sweep && !o.dry_run) {
        // Points of tracks this catalog does not have (removed before tombstones were kept,
        // left by an interrupted run, or by a copy of the catalog): scroll both collections
        // and delete the strays.
        auto known = [&](const std::set<int64_t>& ids) {
            std::vector<int64_t> strays;
            store::ReadTransaction snapshot(db);
            store::Stmt q(db, "SELECT 1 FROM tracks WHERE id = ?1");
            for (int64_t id : ids) {
                q.reset();
                q.bind(1, id);
                if (!q.step()) strays.push_back(id);
            }
            return strays;
        };
        for (const std::string& coll : {T, S}) {
            const bool tracks = coll == T;
            json offset = nullptr;
            for (;;) {
                json req = {{"limit", 1000}, {"with_payload", tracks ? json(false) : json::array({"track_id"})}, {"with_vector", false}};
                if (!offset.is_null()) req["offset"] = offset;
                json r = client.call("POST", collection_path(coll) + "/points/scroll", req.dump());
                std::set<int64_t> ids;
                if (r.contains("points") && r["points"].is_array())
                    for (const auto& p : r["points"]) {
                        if (tracks && p.contains("id") && p["id"].is_number_integer()) ids.insert(p["id"].get<int64_t>());
                        if (!tracks && p.contains("payload") && p["payload"].is_object() && p["payload"].contains("track_id") &&
                            p["payload"]["track_id"].is_number_integer())
                            ids.insert(p["payload"]["track_id"].get<int64_t>());
                    }
                const auto strays = known(ids);
                delete_tracks(sender, T, S, strays, tracks);
                if (tracks) rep.stale_deleted += int64_t(strays.size());
                offset = r.contains("next_page_offset") ? r["next_page_offset"] : json(nullptr);
                if (offset.is_null()) break;
            }
        }
    }
    if (!o.dry_run) {
        st.full_pending = false;
        st.synced_generation = std::max(st.cursor_generation, catalog_generation);
        st.last_success_at = core::utc_timestamp();
        save_state(db, st, rep.url, T);
        if (meta.value("synced_generation", int64_t(-1)) != st.synced_generation) {
            meta["synced_generation"] = st.synced_generation;
            client.call("PATCH", collection_path(T), json{{"metadata", {{"hitdna", meta}}}}.dump());
        }
    }
    rep.generation = std::max(st.cursor_generation, catalog_generation);
    rep.requests = client.stats().requests;
    rep.retries = client.stats().retries;
    rep.bytes_sent = client.stats().bytes_sent;
    rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return rep;
}

}  // namespace hitdna::qdrant
