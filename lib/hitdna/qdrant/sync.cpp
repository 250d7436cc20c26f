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
#include <optional>
#include <random>
#include <ostream>
#include <set>
#include <thread>

#include "hitdna/core/clock.hpp"
#include "hitdna/core/text.hpp"
#include "hitdna/qdrant/filter.hpp"
#include "hitdna/store/hash.hpp"
#include "hitdna/store/sync_state.hpp"

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

// The payload both collections share: every field a filter can name, and the track's names.
json filterable_payload(const store::TrackRow& row, const store::TrackExtras& x) {
    json f = json::object();
    f["track_id"] = row.id;
    f["title"] = row.title;
    f["artist"] = row.artist;
    f["artist_key"] = x.artist_key;
    f["title_key"] = x.title_key;
    f["content_hash"] = row.content_hash;
    f["genres"] = row.genres;
    f["tags"] = row.tags;
    std::set<std::string> charts;
    for (const auto& e : x.charts) charts.insert(core::ascii_lower(e.chart));
    f["charts"] = std::vector<std::string>(charts.begin(), charts.end());
    f["source"] = row.source;
    f["key"] = row.key;
    f["mode"] = row.mode;
    f["analysis_version"] = row.analysis_version;
    f["duration_s"] = row.duration_s;
    // Absent rather than null: a missing key fails a range, as NULL fails an SQL comparison.
    if (row.year) f["year"] = *row.year;
    if (row.peak_rank) f["peak_rank"] = *row.peak_rank;
    if (row.bpm) f["bpm"] = *row.bpm;
    return f;
}

json chart_entries_payload(const std::vector<store::ChartEntry>& charts) {
    json entries = json::array();
    for (const auto& c : charts) {
        json e = {{"chart", c.chart}, {"date", c.date}};
        if (c.rank) e["rank"] = *c.rank;
        if (c.peak_rank) e["peak_rank"] = *c.peak_rank;
        if (c.previous_rank) e["previous_rank"] = *c.previous_rank;
        if (c.weeks_on_chart) e["weeks_on_chart"] = *c.weeks_on_chart;
        if (c.streams) e["streams"] = *c.streams;
        if (!c.uri.empty()) e["uri"] = c.uri;
        entries.push_back(std::move(e));
    }
    return entries;
}

// A track's two kinds of points, from one state of the catalog (the caller's snapshot).
TrackPoints read_track(store::Catalog& cat, const std::string& catalog_id, int64_t id, int64_t generation, const std::string& pass,
                       const std::map<Space, store::SpaceStats>& stats) {
    TrackPoints tp;
    tp.id = id;
    tp.generation = generation;
    auto row = cat.track(id);
    auto extras = cat.extras(id);
    if (!row || !extras) return tp;  // gone meanwhile: its tombstone follows
    tp.label = (row->artist.empty() ? "" : row->artist + " - ") + row->title;
    json f = filterable_payload(*row, *extras);
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
    payload["chart_entries"] = chart_entries_payload(extras->charts);
    payload["descriptors"] = extras->descriptors;
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

namespace {

// One writer of a catalog's mirrors at a time: a second sync waits for the first (flock on
// DB.sync.lock, released when the process ends, however it ends).
class SyncLock {
public:
    SyncLock(const std::string& catalog_path, std::ostream* warn) {
        const std::string lock_path = catalog_path + ".sync.lock";
        m_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (m_fd < 0) throw Error(ErrorKind::db, lock_path + ": cannot open the sync lock: " + std::strerror(errno));
        if (::flock(m_fd, LOCK_EX | LOCK_NB) != 0) {
            if (warn) *warn << "hitdna: waiting for another 'hitdna sync' of " << catalog_path << " to finish\n";
            if (::flock(m_fd, LOCK_EX) != 0) {
                const int e = errno;
                ::close(m_fd);
                throw Error(ErrorKind::db, lock_path + ": cannot lock: " + std::strerror(e));
            }
        }
    }
    ~SyncLock() { ::close(m_fd); }
    SyncLock(const SyncLock&) = delete;
    SyncLock& operator=(const SyncLock&) = delete;

private:
    int m_fd = -1;
};

// One run of `hitdna sync qdrant`, stage by stage: collections, state, changes, strays, finish.
class SyncRun {
public:
    SyncRun(store::Catalog& cat, Client& client, const SyncOptions& o, std::chrono::steady_clock::time_point t0)
        : m_t0(t0), m_cat(cat), m_client(client), m_o(o), m_sender(client, o), m_T(o.collection), m_S(sections_collection(o.collection)),
          m_plan(o.dry_run ? o.plan : nullptr) {
        m_rep.url = client.config().url;
        m_rep.dry_run = o.dry_run;
        m_rep.tracks_collection = m_T;
        m_rep.sections_collection = m_S;
    }

    SyncReport run() {
        m_catalog_id = m_cat.catalog_id();
        prepare_collections();
        start_state();
        take_statistics();
        m_rep.changes = store::count_changes_after(m_cat, m_st.cursor_generation, m_st.cursor_id);
        find_landed();
        send_changes();
        if (m_st.full_pending && m_st.sweep && !m_o.dry_run) sweep_strays();
        if (!m_o.dry_run) finish();
        m_rep.generation = std::max(m_st.cursor_generation, m_catalog_generation);
        m_rep.requests = m_client.stats().requests;
        m_rep.retries = m_client.stats().retries;
        m_rep.bytes_sent = m_client.stats().bytes_sent;
        m_rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - m_t0).count();
        return m_rep;
    }

private:
    // Creates (or checks) both collections and their payload indexes; reads the metadata.
    void prepare_collections() {
        if (m_o.recreate) {
            if (m_plan) *m_plan << "drop collections " << m_T << " and " << m_S << "\n";
            if (!m_o.dry_run) {
                m_client.call("DELETE", collection_path(m_T));
                m_client.call("DELETE", collection_path(m_S));
            }
        }
        auto info = m_o.recreate ? std::nullopt : m_client.call_or_404("GET", collection_path(m_T));
        auto sinfo = m_o.recreate ? std::nullopt : m_client.call_or_404("GET", collection_path(m_S));
        if (!info) create_tracks_collection();
        else check_tracks_collection(*info);
        if (!sinfo) create_sections_collection();
        else check_sections_collection(*sinfo);
        if (!m_o.dry_run) {
            ensure_indexes(m_sender, m_T, info ? *info : json::object());
            ensure_indexes(m_sender, m_S, sinfo ? *sinfo : json::object());
        } else if (m_rep.created || m_sections_fresh) {
            if (m_plan) *m_plan << "create " << store::filter_fields().size() << " payload indexes on each new collection\n";
        }
    }

    void create_tracks_collection() {
        m_meta = {{"format", k_format}, {"catalog_id", m_catalog_id}, {"epoch", random_epoch()},
                  {"created_at", core::utc_timestamp()}, {"stats_at", core::utc_timestamp()}, {"sections_collection", m_S}, {"spaces", stats_json(m_cat)}};
        m_rep.created = true;
        if (m_plan) *m_plan << "create collection " << m_T << " (" << vectors_config().dump() << ", Euclid) with metadata\n";
        if (!m_o.dry_run) create_collection(m_client, m_T, json{{"vectors", vectors_config()}, {"metadata", {{"hitdna", m_meta}}}});
    }

    void check_tracks_collection(const json& info) {
        const std::string& url = m_rep.url;
        m_meta = hitdna_metadata(info);
        if (m_meta.is_null() || m_meta.value("format", 0) < 1)
            throw Error(ErrorKind::usage, "collection " + m_T + " at " + url + " was not made by hitdna sync (no hitdna metadata); use another --collection");
        if (m_meta.value("format", 0) > k_format)
            throw Error(ErrorKind::usage, "collection " + m_T + " at " + url + " was made by a newer hitdna (format " + std::to_string(m_meta.value("format", 0)) + ")");
        if (m_meta.value("catalog_id", std::string()) != m_catalog_id)
            throw Error(ErrorKind::usage, "collection " + m_T + " at " + url + " mirrors another catalog (id " + m_meta.value("catalog_id", std::string()) +
                                              ", this one is " + m_catalog_id + "); use another --collection, or --recreate to replace it");
        check_vectors(info, vectors_config(), m_T, url);
    }

    void create_sections_collection() {
        m_sections_fresh = true;
        if (m_plan) *m_plan << "create collection " << m_S << " (" << sections_vectors_config().dump() << ")\n";
        if (!m_o.dry_run)
            create_collection(m_client, m_S,
                              json{{"vectors", sections_vectors_config()},
                                   {"metadata", {{"hitdna", {{"format", k_format}, {"catalog_id", m_catalog_id}, {"epoch", m_meta["epoch"]}, {"tracks_collection", m_T}}}}}});
    }

    void check_sections_collection(const json& sinfo) {
        check_vectors(sinfo, sections_vectors_config(), m_S, m_rep.url);
        json sm = hitdna_metadata(sinfo);
        if (sm.is_null() || sm.value("catalog_id", std::string()) != m_catalog_id)
            throw Error(ErrorKind::usage, "collection " + m_S + " at " + m_rep.url + " does not belong to this catalog's " + m_T + "; use another --collection, or --recreate");
    }

    // A fresh pass: from the start of the catalog, with a new pass id that only its points carry.
    void restart() {
        m_st.cursor_generation = 0;
        m_st.cursor_id = -1;
        m_st.full_pending = true;
        m_st.pass = random_epoch();
        m_st.sweep = !(m_rep.created && m_sections_fresh);  // collections made now hold no strays
        m_st.inflight.clear();
    }

    // The catalog's cursor for this collection, restarted when the collection cannot be trusted
    // to hold what the cursor says.
    void start_state() {
        m_st = store::load_sync_state(m_cat, m_meta.value("epoch", std::string()));
        m_catalog_generation = m_cat.generation();
        if (!m_st.stored) restart();  // a collection this catalog has not filled (or made by a copy of it)
        if (m_sections_fresh && !m_rep.created) restart();
        // A catalog restored from an older backup: its cursor is older than what the collection
        // says it holds (hitdna.synced_generation is written at the end of every sync).
        if (m_st.stored && m_meta.value("synced_generation", int64_t(0)) > m_st.synced_generation) restart();
        if (m_st.cursor_generation > m_catalog_generation) restart();
        if (m_o.full) {
            restart();
            m_meta["spaces"] = stats_json(m_cat);
            m_meta["stats_at"] = core::utc_timestamp();
        }
        m_rep.full = m_st.full_pending;
        m_rep.resumed = m_st.stored && !m_st.inflight.empty();  // (a restart empties it)
        // The restarted cursor is saved before the new statistics go out: a kill in between
        // resumes the full pass instead of leaving old vectors under new statistics.
        if (!m_o.dry_run) save();
        if (m_o.full) {
            if (m_plan) *m_plan << "refresh the standardization statistics in " << m_T << "'s metadata\n";
            if (!m_o.dry_run) m_client.call("PATCH", collection_path(m_T), json{{"metadata", {{"hitdna", m_meta}}}}.dump());
        }
    }

    void take_statistics() {
        m_stats = stats_from(m_meta["spaces"], m_T);
        m_rep.stats_vectors = m_stats.at(Space::audio).count;
        m_rep.catalog_vectors = m_cat.stats(Space::audio).count;
        if (m_o.warn && m_rep.catalog_vectors > 2 * std::max<int64_t>(m_rep.stats_vectors, 1) && m_rep.catalog_vectors >= 100)
            *m_o.warn << "hitdna: warning: " << m_T << " standardizes with statistics of " << m_rep.stats_vectors << " tracks; the catalog has "
                      << m_rep.catalog_vectors << " now (run 'hitdna sync qdrant --full' to refresh them)\n";
    }

    // Tracks in flight when a previous run stopped: those whose track point carries their
    // generation and this pass's id landed whole (track points go after their sections).
    // Deletions in flight are simply sent again (they are idempotent).
    void find_landed() {
        if (!m_rep.resumed) return;
        std::vector<int64_t> ids;
        for (const auto& e : m_st.inflight)
            if (!e.removed) ids.push_back(e.id);
        json r = ids.empty() ? json::array()
                             : m_client.call("POST", collection_path(m_T) + "/points",
                                             json{{"ids", ids}, {"with_payload", json::array({"hitdna_rev", "hitdna_pass"})}, {"with_vector", false}}.dump());
        if (!r.is_array()) return;
        for (const auto& p : r) {
            if (!p.contains("id") || !p["id"].is_number_integer() || !p.contains("payload") || !p["payload"].is_object()) continue;
            const json& pl = p["payload"];
            if (pl.value("hitdna_pass", std::string()) != m_st.pass || !pl.contains("hitdna_rev") || !pl["hitdna_rev"].is_number_integer()) continue;
            m_landed_rev[p["id"].get<int64_t>()] = pl["hitdna_rev"].get<int64_t>();
        }
    }

    // Steps of tracks_per_step changes until the cursor reaches the catalog.
    void send_changes() {
        int64_t done = 0;
        for (;;) {
            std::vector<store::SyncChange> changes;
            std::vector<TrackPoints> points;
            {
                store::Catalog::ReadSnapshot snapshot(m_cat);  // a step's tracks come from one state of the catalog
                changes = store::changes_after(m_cat, m_st.cursor_generation, m_st.cursor_id, m_o.tracks_per_step);
                for (const auto& c : changes)
                    if (!c.removed) points.push_back(read_track(m_cat, m_catalog_id, c.id, c.generation, m_st.pass, m_stats));
            }
            if (changes.empty()) break;
            send_step(changes, points);
            m_st.cursor_generation = changes.back().generation;
            m_st.cursor_id = changes.back().id;
            m_st.inflight.clear();
            if (!m_o.dry_run) save();
            done += int64_t(changes.size());
            if (m_o.progress) m_o.progress(done, std::max(done, m_rep.changes));
        }
    }

    // One step: noted in flight, old section points deleted, sections then tracks upserted,
    // removed tracks deleted.
    void send_step(const std::vector<store::SyncChange>& changes, const std::vector<TrackPoints>& points) {
        std::vector<int64_t> to_delete_sections, to_delete_tracks;
        std::vector<const std::string*> track_bodies, section_bodies;
        std::vector<store::SyncChange> inflight;
        size_t pi = 0;
        for (const auto& c : changes) {
            if (c.removed) {
                to_delete_tracks.push_back(c.id);
                to_delete_sections.push_back(c.id);
                inflight.push_back({c.id, c.generation, true});
                if (m_plan) *m_plan << "delete track " << c.id << "\n";
                continue;
            }
            const TrackPoints& tp = points[pi++];
            if (tp.track_point.empty()) continue;
            if (auto it = m_landed_rev.find(c.id); it != m_landed_rev.end() && it->second == c.generation) {
                ++m_rep.already_landed;
                continue;
            }
            if (!m_sections_fresh) to_delete_sections.push_back(c.id);
            track_bodies.push_back(&tp.track_point);
            for (const auto& sp : tp.section_points) section_bodies.push_back(&sp);
            inflight.push_back({c.id, c.generation, false});
            if (m_plan) *m_plan << "upsert track " << c.id << " " << tp.label << " (" << tp.section_points.size() << " sections, generation " << c.generation << ")\n";
        }
        if (!m_o.dry_run) {
            m_st.inflight = inflight;
            if (!inflight.empty()) save();
            delete_tracks(m_sender, m_T, m_S, to_delete_sections, false);
            m_sender.upsert(m_S, section_bodies);
            m_sender.upsert(m_T, track_bodies);
            if (!to_delete_tracks.empty()) m_sender.write("POST", collection_path(m_T) + "/points/delete?wait=true", json{{"points", to_delete_tracks}}.dump());
        }
        m_rep.tracks_upserted += int64_t(track_bodies.size());
        m_rep.sections_upserted += int64_t(section_bodies.size());
        m_rep.tracks_deleted += int64_t(to_delete_tracks.size());
    }

    // Points of tracks this catalog does not have (removed before tombstones were kept, left by
    // an interrupted run, or by a copy of the catalog): scroll both collections and delete them.
    void sweep_strays() {
        for (const std::string& coll : {m_T, m_S}) {
            const bool tracks = coll == m_T;
            json offset = nullptr;
            for (;;) {
                json req = {{"limit", 1000}, {"with_payload", tracks ? json(false) : json::array({"track_id"})}, {"with_vector", false}};
                if (!offset.is_null()) req["offset"] = offset;
                json r = m_client.call("POST", collection_path(coll) + "/points/scroll", req.dump());
                std::set<int64_t> ids;
                if (r.contains("points") && r["points"].is_array())
                    for (const auto& p : r["points"]) {
                        if (tracks && p.contains("id") && p["id"].is_number_integer()) ids.insert(p["id"].get<int64_t>());
                        if (!tracks && p.contains("payload") && p["payload"].is_object() && p["payload"].contains("track_id") &&
                            p["payload"]["track_id"].is_number_integer())
                            ids.insert(p["payload"]["track_id"].get<int64_t>());
                    }
                std::vector<int64_t> strays;
                {
                    store::Catalog::ReadSnapshot snapshot(m_cat);
                    strays = m_cat.unknown_tracks(std::vector<int64_t>(ids.begin(), ids.end()));
                }
                delete_tracks(m_sender, m_T, m_S, strays, tracks);
                if (tracks) m_rep.stale_deleted += int64_t(strays.size());
                offset = r.contains("next_page_offset") ? r["next_page_offset"] : json(nullptr);
                if (offset.is_null()) break;
            }
        }
    }

    // The cursor and the collection's metadata say what the mirror now holds.
    void finish() {
        m_st.full_pending = false;
        m_st.synced_generation = std::max(m_st.cursor_generation, m_catalog_generation);
        m_st.last_success_at = core::utc_timestamp();
        save();
        if (m_meta.value("synced_generation", int64_t(-1)) != m_st.synced_generation) {
            m_meta["synced_generation"] = m_st.synced_generation;
            m_client.call("PATCH", collection_path(m_T), json{{"metadata", {{"hitdna", m_meta}}}}.dump());
        }
    }

    void save() { store::save_sync_state(m_cat, m_st, m_rep.url, m_T); }

    std::chrono::steady_clock::time_point m_t0;  // the run's start, waiting for the lock included
    store::Catalog& m_cat;
    Client& m_client;
    const SyncOptions& m_o;
    Sender m_sender;
    const std::string m_T, m_S;  // tracks and sections collections
    std::ostream* m_plan;        // dry run: one line per change
    SyncReport m_rep;
    std::string m_catalog_id;
    json m_meta;                 // the tracks collection's hitdna metadata
    bool m_sections_fresh = false;
    store::SyncState m_st;
    int64_t m_catalog_generation = 0;
    std::map<Space, store::SpaceStats> m_stats;
    std::map<int64_t, int64_t> m_landed_rev;  // track id -> generation found landed
};

}  // namespace

nlohmann::ordered_json to_json(const SyncReport& rep) {
    nlohmann::ordered_json j;
    j["url"] = rep.url;
    j["collection"] = rep.tracks_collection;
    j["sections_collection"] = rep.sections_collection;
    j["dry_run"] = rep.dry_run;
    j["created"] = rep.created;
    j["full"] = rep.full;
    j["resumed"] = rep.resumed;
    j["changes"] = rep.changes;
    j["tracks_upserted"] = rep.tracks_upserted;
    j["sections_upserted"] = rep.sections_upserted;
    j["tracks_deleted"] = rep.tracks_deleted;
    j["already_landed"] = rep.already_landed;
    j["stale_deleted"] = rep.stale_deleted;
    j["requests"] = rep.requests;
    j["retries"] = rep.retries;
    j["bytes_sent"] = rep.bytes_sent;
    j["generation"] = rep.generation;
    j["stats_tracks"] = rep.stats_vectors;
    j["seconds"] = std::round(rep.seconds * 1000) / 1000;
    j["tracks_per_second"] = rep.seconds > 0 ? std::round(double(rep.tracks_upserted) / rep.seconds) : 0.0;
    return j;
}

SyncReport run_sync(store::Catalog& cat, Client& client, const SyncOptions& o) {
    const auto t0 = std::chrono::steady_clock::now();
    check_collection_name(o.collection);
    std::optional<SyncLock> lock;
    if (!o.dry_run) lock.emplace(cat.path(), o.warn);
    return SyncRun(cat, client, o, t0).run();
}

}  // namespace hitdna::qdrant
