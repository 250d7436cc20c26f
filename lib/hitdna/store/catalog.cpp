#include "hitdna/store/catalog.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <thread>
#include <tuple>

#include "hitdna/core/clock.hpp"
#include "hitdna/core/error.hpp"
#include "hitdna/dna/json.hpp"
#include "hitdna/dna/vectors.hpp"
#include "hitdna/store/detail/filter_sql.hpp"
#include "hitdna/store/detail/access.hpp"

namespace fs = std::filesystem;

namespace hitdna::store {

using dna::Space;

namespace {

constexpr int k_schema_version = 1;

const char* k_schema = R"SQL(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
INSERT OR IGNORE INTO meta VALUES ('schema_version', '1'), ('generation', '0'), ('catalog_id', lower(hex(randomblob(16))));
CREATE TABLE IF NOT EXISTS tracks(
  id INTEGER PRIMARY KEY,
  content_hash TEXT NOT NULL UNIQUE,
  path TEXT NOT NULL,
  title TEXT NOT NULL DEFAULT '',
  artist TEXT NOT NULL DEFAULT '',
  norm_title TEXT NOT NULL DEFAULT '',
  norm_artist TEXT NOT NULL DEFAULT '',
  year INTEGER,
  source TEXT NOT NULL CHECK (source IN ('chart', 'user', 'generated')),
  duration_s REAL NOT NULL,
  bpm REAL,
  key TEXT NOT NULL DEFAULT '',
  mode TEXT NOT NULL DEFAULT '',
  analysis_version INTEGER NOT NULL,
  dna TEXT NOT NULL,
  extra TEXT NOT NULL DEFAULT '{}',
  peak_rank INTEGER,
  added_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  generation INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS tracks_name ON tracks(norm_title, norm_artist);
CREATE INDEX IF NOT EXISTS tracks_year ON tracks(year);
CREATE INDEX IF NOT EXISTS tracks_peak ON tracks(peak_rank);
CREATE INDEX IF NOT EXISTS tracks_generation ON tracks(generation);
-- db stats counts tracks by analysis version and source from this index alone (a track row
-- carries its DNA JSON: scanning the table reads every track's overflow pages).
CREATE INDEX IF NOT EXISTS tracks_version_source ON tracks(analysis_version, source);
CREATE TABLE IF NOT EXISTS track_genres(
  track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
  genre TEXT NOT NULL,
  PRIMARY KEY (track_id, genre)) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS track_genres_genre ON track_genres(genre);
CREATE TABLE IF NOT EXISTS track_tags(
  track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
  tag TEXT NOT NULL,
  PRIMARY KEY (track_id, tag)) STRICT, WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS chart_entries(
  track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
  chart TEXT NOT NULL,
  chart_date TEXT NOT NULL,
  rank INTEGER, peak_rank INTEGER, previous_rank INTEGER, weeks_on_chart INTEGER, streams INTEGER,
  uri TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (track_id, chart, chart_date)) STRICT;
CREATE TABLE IF NOT EXISTS vectors(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
  space TEXT NOT NULL,
  section INTEGER NOT NULL,
  start_s REAL NOT NULL DEFAULT 0,
  end_s REAL NOT NULL DEFAULT 0,
  label TEXT NOT NULL DEFAULT '',
  role TEXT NOT NULL DEFAULT '',
  data BLOB NOT NULL,
  generation INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS vectors_space_generation ON vectors(space, generation);
CREATE INDEX IF NOT EXISTS vectors_track ON vectors(track_id, space);
CREATE TABLE IF NOT EXISTS space_stats(
  space TEXT PRIMARY KEY,
  n INTEGER NOT NULL,
  sum BLOB NOT NULL,
  sumsq BLOB NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS generations(
  id TEXT PRIMARY KEY,
  created_at TEXT NOT NULL,
  prompt TEXT NOT NULL,
  backend TEXT NOT NULL,
  output_path TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  score REAL,
  record TEXT NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS engagement_events(
  event_id TEXT PRIMARY KEY,
  track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
  generation_id TEXT,
  at TEXT NOT NULL,
  plays INTEGER NOT NULL CHECK (plays >= 0),
  completion REAL CHECK (completion >= 0 AND completion <= 1),
  likes INTEGER NOT NULL CHECK (likes >= 0),
  shares INTEGER NOT NULL CHECK (shares >= 0),
  skips INTEGER NOT NULL CHECK (skips >= 0)) STRICT;
CREATE INDEX IF NOT EXISTS engagement_events_track ON engagement_events(track_id);
CREATE TABLE IF NOT EXISTS engagement(
  track_id INTEGER PRIMARY KEY REFERENCES tracks(id) ON DELETE CASCADE,
  events INTEGER NOT NULL,
  plays INTEGER NOT NULL,
  completed REAL NOT NULL,
  completion_plays INTEGER NOT NULL,
  likes INTEGER NOT NULL,
  shares INTEGER NOT NULL,
  skips INTEGER NOT NULL,
  score REAL NOT NULL,
  promoted INTEGER NOT NULL,
  updated_at TEXT NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS removed_tracks(
  track_id INTEGER PRIMARY KEY,
  generation INTEGER NOT NULL) STRICT;
CREATE INDEX IF NOT EXISTS removed_tracks_generation ON removed_tracks(generation);
CREATE TABLE IF NOT EXISTS qdrant_sync(
  epoch TEXT PRIMARY KEY,
  url TEXT NOT NULL,
  collection TEXT NOT NULL,
  cursor_generation INTEGER NOT NULL DEFAULT 0,
  cursor_id INTEGER NOT NULL DEFAULT -1,
  full_pending INTEGER NOT NULL DEFAULT 1,
  sweep INTEGER NOT NULL DEFAULT 1,
  inflight TEXT NOT NULL DEFAULT '[]',
  pass TEXT NOT NULL DEFAULT '',
  last_success_at TEXT,
  synced_generation INTEGER NOT NULL DEFAULT 0) STRICT;
CREATE VIRTUAL TABLE IF NOT EXISTS tracks_fts USING fts5(title, artist, genres, tags, descriptors, tokenize = 'unicode61 remove_diacritics 2');
)SQL";



}  // namespace

std::string resolve_db_path(const std::string& flag) {
    if (!flag.empty()) return flag;
    if (const char* e = std::getenv("HITDNA_DB"); e && *e) return e;
    if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x) return std::string(x) + "/hitdna/hitdna.db";
    if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.local/share/hitdna/hitdna.db";
    return "hitdna.db";
}

bool catalog_exists(const std::string& path) {
    struct stat sb{};
    return ::stat(path.c_str(), &sb) == 0;
}

std::string normalize_name(const std::string& in) {
    // Fold the common Latin-1 accented letters (UTF-8, two bytes) to ASCII.
    static const std::map<std::string, char> fold = {
        {"\xc3\xa0", 'a'}, {"\xc3\xa1", 'a'}, {"\xc3\xa2", 'a'}, {"\xc3\xa3", 'a'}, {"\xc3\xa4", 'a'}, {"\xc3\xa5", 'a'},
        {"\xc3\xa7", 'c'}, {"\xc3\xa8", 'e'}, {"\xc3\xa9", 'e'}, {"\xc3\xaa", 'e'}, {"\xc3\xab", 'e'}, {"\xc3\xac", 'i'},
        {"\xc3\xad", 'i'}, {"\xc3\xae", 'i'}, {"\xc3\xaf", 'i'}, {"\xc3\xb1", 'n'}, {"\xc3\xb2", 'o'}, {"\xc3\xb3", 'o'},
        {"\xc3\xb4", 'o'}, {"\xc3\xb5", 'o'}, {"\xc3\xb6", 'o'}, {"\xc3\xb8", 'o'}, {"\xc3\xb9", 'u'}, {"\xc3\xba", 'u'},
        {"\xc3\xbb", 'u'}, {"\xc3\xbc", 'u'}, {"\xc3\xbd", 'y'}, {"\xc3\xbf", 'y'}, {"\xc3\x80", 'a'}, {"\xc3\x81", 'a'},
        {"\xc3\x89", 'e'}, {"\xc3\x96", 'o'}, {"\xc3\x9c", 'u'}, {"\xc3\x9f", 's'}};
    std::string s;
    int depth = 0;
    for (size_t i = 0; i < in.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(in[i]);
        if (c == '(' || c == '[') { ++depth; continue; }
        if ((c == ')' || c == ']') && depth > 0) { --depth; continue; }
        if (depth > 0) continue;
        if (c >= 0x80) {
            if (i + 1 < in.size()) {
                auto it = fold.find(in.substr(i, 2));
                if (it != fold.end()) { s += it->second; ++i; continue; }
            }
            s += char(c);  // other UTF-8 bytes are kept as they are
            continue;
        }
        if (c == '&') { s += " and "; continue; }
        if (c == '\'') continue;  // "don't" == "dont"
        s += std::isalnum(c) ? char(std::tolower(c)) : ' ';
    }
    // Drop "feat ..." / "ft ..." / "featuring ..." and collapse spaces.
    std::string out;
    size_t pos = 0;
    while (pos < s.size()) {
        while (pos < s.size() && s[pos] == ' ') ++pos;
        size_t end = s.find(' ', pos);
        if (end == std::string::npos) end = s.size();
        std::string w = s.substr(pos, end - pos);
        pos = end;
        if (w.empty()) continue;
        if (w == "feat" || w == "ft" || w == "featuring") break;
        out += (out.empty() ? "" : " ") + w;
    }
    return out;
}

std::vector<float> SpaceStats::standardize(const std::vector<float>& x) const {
    std::vector<float> z(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
        double m = i < mean.size() ? mean[i] : 0, s = i < sd.size() ? sd[i] : 1;
        z[i] = float((x[i] - m) / s);
    }
    return z;
}

struct Catalog::Impl {
    Db db;
    Impl(const std::string& path, Db::Mode mode) : db(path, mode) {}
};

namespace {

void ensure_parent_dir(const std::string& path) {
    fs::path p(path);
    if (!p.has_parent_path()) return;
    std::error_code ec;
    fs::create_directories(p.parent_path(), ec);
    if (ec) throw Error(ErrorKind::db, path + ": cannot create the database directory " + p.parent_path().string() + ": " + ec.message());
}

void add_stats(std::map<Space, std::pair<int64_t, std::pair<std::vector<double>, std::vector<double>>>>& acc, Space space,
               const std::vector<float>& x, int sign) {
    auto& [n, sums] = acc[space];
    auto& [sum, sumsq] = sums;
    sum.resize(x.size(), 0.0);
    sumsq.resize(x.size(), 0.0);
    n += sign;
    for (size_t i = 0; i < x.size(); ++i) {
        sum[i] += sign * double(x[i]);
        sumsq[i] += sign * double(x[i]) * double(x[i]);
    }
}

}  // namespace

Catalog::Catalog(const std::string& path, Mode mode) {
    if (mode == Mode::read_write) ensure_parent_dir(path);
    if (mode == Mode::read_only) {
        if (!catalog_exists(path))
            throw Error(ErrorKind::db, path + ": no database here (run 'hitdna ingest' first, or pass --db)");
    }
    m_impl = std::make_unique<Impl>(path, mode == Mode::read_only ? Db::Mode::read_only : Db::Mode::read_write);
    auto& db = m_impl->db;
    if (mode == Mode::read_write) {
        db.exec("PRAGMA journal_mode = WAL");
        db.exec("PRAGMA synchronous = FULL");  // a committed track survives power loss too
        db.exec("PRAGMA foreign_keys = ON");
        WriteTransaction tx(db);
        db.exec(k_schema);
        tx.commit();
    }
    Stmt st(db, "SELECT value FROM meta WHERE key = 'schema_version'");
    int v = st.step() ? int(std::atoi(st.text(0).c_str())) : 0;
    if (v != k_schema_version)
        throw Error(ErrorKind::db, path + ": database schema version " + std::to_string(v) + ", this hitdna reads version " +
                                       std::to_string(k_schema_version));
}

Catalog::~Catalog() = default;

Db& detail::CatalogAccess::db(Catalog& c) { return c.m_impl->db; }

Catalog::ReadSnapshot::ReadSnapshot(Catalog& c) : m_catalog(c) { m_catalog.m_impl->db.exec("BEGIN"); }
Catalog::ReadSnapshot::~ReadSnapshot() { sqlite3_exec(m_catalog.m_impl->db.handle(), "COMMIT", nullptr, nullptr, nullptr); }

void Catalog::set_durable_commits(bool durable) { m_impl->db.exec(durable ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = OFF"); }
void Catalog::checkpoint() { m_impl->db.exec("PRAGMA wal_checkpoint(TRUNCATE)"); }

void Catalog::backup_to(const std::string& path) {
    Stmt st(m_impl->db, "VACUUM INTO ?1");
    st.bind(1, path).run();
}
const std::string& Catalog::path() const { return m_impl->db.path(); }

std::string Catalog::catalog_id() {
    Stmt st(m_impl->db, "SELECT value FROM meta WHERE key = 'catalog_id'");
    return st.step() ? st.text(0) : std::string();
}

int64_t Catalog::generation() {
    Stmt st(m_impl->db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'generation'");
    return st.step() ? st.i64(0) : 0;
}

namespace {

const char* k_track_cols =
    "t.id, t.content_hash, t.path, t.title, t.artist, t.source, t.year, t.duration_s, t.bpm, t.key, t.mode, "
    "t.analysis_version, t.peak_rank, t.generation, "
    "(SELECT group_concat(genre, char(31)) FROM track_genres g WHERE g.track_id = t.id), "
    "(SELECT group_concat(tag, char(31)) FROM track_tags g WHERE g.track_id = t.id)";

std::vector<std::string> split_us(const std::string& s) {
    std::vector<std::string> v;
    size_t p = 0;
    while (!s.empty() && p <= s.size()) {
        size_t e = s.find('\x1f', p);
        if (e == std::string::npos) e = s.size();
        v.push_back(s.substr(p, e - p));
        p = e + 1;
    }
    std::sort(v.begin(), v.end());
    return v;
}

TrackRow read_track(Stmt& st) {
    TrackRow r;
    r.id = st.i64(0);
    r.content_hash = st.text(1);
    r.path = st.text(2);
    r.title = st.text(3);
    r.artist = st.text(4);
    r.source = st.text(5);
    if (!st.is_null(6)) r.year = int(st.i64(6));
    r.duration_s = st.f64(7);
    if (!st.is_null(8)) r.bpm = st.f64(8);
    r.key = st.text(9);
    r.mode = st.text(10);
    r.analysis_version = int(st.i64(11));
    if (!st.is_null(12)) r.peak_rank = int(st.i64(12));
    r.generation = st.i64(13);
    r.genres = split_us(st.text(14));
    r.tags = split_us(st.text(15));
    return r;
}

std::vector<TrackRow> query_tracks(Db& db, const std::string& where, const std::vector<std::string>& args) {
    Stmt st(db, (std::string("SELECT ") + k_track_cols + " FROM tracks t WHERE " + where + " ORDER BY t.id").c_str());
    for (size_t i = 0; i < args.size(); ++i) st.bind(int(i + 1), args[i]);
    std::vector<TrackRow> out;
    while (st.step()) out.push_back(read_track(st));
    return out;
}

}  // namespace

std::optional<TrackRow> Catalog::find_by_hash(const std::string& content_hash) {
    auto v = query_tracks(m_impl->db, "t.content_hash = ?1", {content_hash});
    if (v.empty()) return std::nullopt;
    return v.front();
}

std::optional<TrackRow> Catalog::track(int64_t id) {
    auto v = query_tracks(m_impl->db, "t.id = ?1", {std::to_string(id)});
    if (v.empty()) return std::nullopt;
    return v.front();
}

std::vector<TrackRow> Catalog::find_by_name(const std::string& artist_title) {
    // "Artist - Title" first, then the whole text as a title.
    for (const char* sep : {" - ", " \xe2\x80\x93 ", " \xe2\x80\x94 "}) {
        size_t p = artist_title.find(sep);
        if (p == std::string::npos) continue;
        auto v = query_tracks(m_impl->db, "t.norm_artist = ?1 AND t.norm_title = ?2",
                              {normalize_name(artist_title.substr(0, p)), normalize_name(artist_title.substr(p + std::string(sep).size()))});
        if (!v.empty()) return v;
    }
    return query_tracks(m_impl->db, "t.norm_title = ?1", {normalize_name(artist_title)});
}

namespace {

using StatsAcc = std::map<Space, std::pair<int64_t, std::pair<std::vector<double>, std::vector<double>>>>;

void apply_stats(Db& db, const StatsAcc& acc) {
    for (const auto& [space, v] : acc) {
        const auto& [n, sums] = v;
        const auto& [sum, sumsq] = sums;
        std::vector<double> s0(sum.size(), 0.0), q0(sum.size(), 0.0);
        int64_t n0 = 0;
        {
            Stmt st(db, "SELECT n, sum, sumsq FROM space_stats WHERE space = ?1");
            st.bind(1, to_string(space));
            if (st.step()) {
                n0 = st.i64(0);
                auto a = st.text(1), b = st.text(2);
                if (a.size() == s0.size() * sizeof(double)) std::memcpy(s0.data(), a.data(), a.size());
                if (b.size() == q0.size() * sizeof(double)) std::memcpy(q0.data(), b.data(), b.size());
            }
        }
        for (size_t i = 0; i < sum.size(); ++i) s0[i] += sum[i], q0[i] += sumsq[i];
        Stmt up(db, "INSERT INTO space_stats(space, n, sum, sumsq) VALUES (?1, ?2, ?3, ?4) "
                    "ON CONFLICT(space) DO UPDATE SET n = excluded.n, sum = excluded.sum, sumsq = excluded.sumsq");
        up.bind(1, to_string(space)).bind(2, n0 + n).bind_blob(3, s0.data(), s0.size() * sizeof(double)).bind_blob(4, q0.data(), q0.size() * sizeof(double));
        up.run();
    }
}

int64_t bump_generation(Db& db) {
    db.exec("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'");
    Stmt st(db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'generation'");
    st.step();
    return st.i64(0);
}

// Removes a track's vectors, subtracting them from the statistics.
void delete_vectors(Db& db, int64_t track_id, StatsAcc& acc) {
    Stmt st(db, "SELECT space, data FROM vectors WHERE track_id = ?1");
    st.bind(1, track_id);
    while (st.step())
        if (auto sp = dna::parse_space(st.text(0))) add_stats(acc, *sp, st.floats(1), -1);
    Stmt del(db, "DELETE FROM vectors WHERE track_id = ?1");
    del.bind(1, track_id).run();
}

void write_fts(Db& db, int64_t id) {
    Stmt del(db, "DELETE FROM tracks_fts WHERE rowid = ?1");
    del.bind(1, id).run();
    Stmt ins(db,
             "INSERT INTO tracks_fts(rowid, title, artist, genres, tags, descriptors) SELECT t.id, t.title, t.artist, "
             "coalesce((SELECT group_concat(genre, ' ') FROM track_genres WHERE track_id = t.id), ''), "
             "coalesce((SELECT group_concat(tag, ' ') FROM track_tags WHERE track_id = t.id), ''), "
             "coalesce((SELECT group_concat(value, ' ') FROM json_each(t.dna, '$.descriptors')), '') FROM tracks t WHERE t.id = ?1");
    ins.bind(1, id).run();
}

void merge_meta_rows(Db& db, int64_t id, const TrackMeta& m, int64_t gen) {
    const std::string now = core::utc_timestamp();
    Stmt up(db,
            "UPDATE tracks SET "
            "title = CASE WHEN ?2 <> '' AND (?11 OR title = '') THEN ?2 ELSE title END, "
            "artist = CASE WHEN ?3 <> '' AND (?11 OR artist = '') THEN ?3 ELSE artist END, "
            "norm_title = CASE WHEN ?2 <> '' AND (?11 OR title = '') THEN ?4 ELSE norm_title END, "
            "norm_artist = CASE WHEN ?3 <> '' AND (?11 OR artist = '') THEN ?5 ELSE norm_artist END, "
            "year = CASE WHEN ?11 OR ?12 THEN coalesce(?6, year) ELSE coalesce(year, ?6) END, "
            "source = CASE WHEN ?7 = 'chart' OR (?7 = 'generated' AND source = 'user') THEN ?7 ELSE source END, "
            "extra = json_patch(extra, ?8), updated_at = ?9, generation = ?10 WHERE id = ?1");
    up.bind(1, id).bind(2, m.title).bind(3, m.artist).bind(4, normalize_name(m.title)).bind(5, normalize_name(m.artist));
    up.bind(6, m.year).bind(7, m.source.empty() ? std::string("user") : m.source).bind(8, m.extra_json.empty() ? "{}" : m.extra_json);
    up.bind(9, now).bind(10, gen).bind(11, int64_t(m.names_authoritative ? 1 : 0)).bind(12, int64_t(m.year_authoritative ? 1 : 0)).run();
    Stmt g(db, "INSERT OR IGNORE INTO track_genres(track_id, genre) VALUES (?1, ?2)");
    for (const auto& x : m.genres)
        if (!x.empty()) g.bind(1, id).bind(2, x).run();
    Stmt t(db, "INSERT OR IGNORE INTO track_tags(track_id, tag) VALUES (?1, ?2)");
    for (const auto& x : m.tags)
        if (!x.empty()) t.bind(1, id).bind(2, x).run();
    Stmt c(db,
           "INSERT INTO chart_entries(track_id, chart, chart_date, rank, peak_rank, previous_rank, weeks_on_chart, streams, uri) "
           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT(track_id, chart, chart_date) DO UPDATE SET "
           "rank = excluded.rank, peak_rank = excluded.peak_rank, previous_rank = excluded.previous_rank, "
           "weeks_on_chart = excluded.weeks_on_chart, streams = excluded.streams, uri = excluded.uri");
    for (const auto& e : m.charts) {
        c.bind(1, id).bind(2, e.chart).bind(3, e.date).bind(4, e.rank).bind(5, e.peak_rank).bind(6, e.previous_rank);
        c.bind(7, e.weeks_on_chart).bind(8, e.streams).bind(9, e.uri).run();
    }
    Stmt pk(db, "UPDATE tracks SET peak_rank = (SELECT min(coalesce(peak_rank, rank)) FROM chart_entries WHERE track_id = ?1) WHERE id = ?1");
    pk.bind(1, id).run();
    write_fts(db, id);
}

}  // namespace

int64_t Catalog::put_track(const std::string& content_hash, const std::string& path, const TrackMeta& meta, const dna::Dna& d) {
    return put_track(content_hash, path, meta, d, dna::to_json_string(d, false, -1));
}

int64_t Catalog::put_track(const std::string& content_hash, const std::string& path, const TrackMeta& meta, const dna::Dna& d, const std::string& dna_json) {
    auto& db = m_impl->db;
    WriteTransaction tx(db);
    const int64_t gen = bump_generation(db);
    StatsAcc acc;
    int64_t id = 0;
    const std::string now = core::utc_timestamp();
    {
        Stmt st(db, "SELECT id FROM tracks WHERE content_hash = ?1");
        st.bind(1, content_hash);
        if (st.step()) id = st.i64(0);
    }
    if (id) {
        delete_vectors(db, id, acc);
        Stmt up(db, "UPDATE tracks SET path = ?2, duration_s = ?3, bpm = ?4, key = ?5, mode = ?6, analysis_version = ?7, dna = ?8, "
                    "updated_at = ?9, generation = ?10 WHERE id = ?1");
        up.bind(1, id).bind(2, path).bind(3, d.duration_s).bind(4, d.audio.bpm).bind(5, d.audio.key).bind(6, d.audio.mode);
        up.bind(7, d.analysis_version).bind(8, dna_json).bind(9, now).bind(10, gen).run();
    } else {
        Stmt ins(db, "INSERT INTO tracks(content_hash, path, source, duration_s, bpm, key, mode, analysis_version, dna, added_at, updated_at, generation) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11)");
        ins.bind(1, content_hash).bind(2, path).bind(3, meta.source.empty() ? std::string("user") : meta.source).bind(4, d.duration_s);
        ins.bind(5, d.audio.bpm).bind(6, d.audio.key).bind(7, d.audio.mode).bind(8, d.analysis_version).bind(9, dna_json);
        ins.bind(10, now).bind(11, gen).run();
        id = db.last_insert_rowid();
        Stmt tomb(db, "DELETE FROM removed_tracks WHERE track_id = ?1");  // the id of a removed track taken again
        tomb.bind(1, id).run();
    }
    Stmt vi(db, "INSERT INTO vectors(track_id, space, section, start_s, end_s, label, role, data, generation) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    auto put = [&](Space sp, int section, const dna::Section* sec, const std::vector<float>& x) {
        if (x.size() != dna::dimensions(sp).size()) throw Error(ErrorKind::internal, path + ": " + to_string(sp) + " vector has " + std::to_string(x.size()) + " dimensions");
        vi.bind(1, id).bind(2, to_string(sp)).bind(3, section).bind(4, sec ? sec->start_s : 0.0).bind(5, sec ? sec->end_s : d.duration_s);
        vi.bind(6, sec ? sec->label : std::string()).bind(7, sec ? sec->role : std::string());
        vi.bind_blob(8, x.data(), x.size() * sizeof(float)).bind(9, gen).run();
        add_stats(acc, sp, x, +1);
    };
    put(Space::audio, -1, nullptr, d.vectors.audio);
    put(Space::structure, -1, nullptr, d.vectors.structure);
    put(Space::emotion, -1, nullptr, d.vectors.emotion);
    put(Space::production, -1, nullptr, d.vectors.production);
    for (size_t i = 0; i < d.vectors.sections.size() && i < d.structure.sections.size(); ++i)
        put(Space::sections, int(i), &d.structure.sections[i], d.vectors.sections[i]);
    apply_stats(db, acc);
    merge_meta_rows(db, id, meta, gen);
    tx.commit();
    return id;
}

void Catalog::merge_metadata(int64_t track_id, const TrackMeta& meta) {
    auto& db = m_impl->db;
    WriteTransaction tx(db);
    const int64_t gen = bump_generation(db);
    merge_meta_rows(db, track_id, meta, gen);
    tx.commit();
}

void Catalog::remove_track(int64_t track_id) {
    auto& db = m_impl->db;
    WriteTransaction tx(db);
    const int64_t gen = bump_generation(db);
    StatsAcc acc;
    delete_vectors(db, track_id, acc);
    apply_stats(db, acc);
    Stmt f(db, "DELETE FROM tracks_fts WHERE rowid = ?1");
    f.bind(1, track_id).run();
    Stmt d(db, "DELETE FROM tracks WHERE id = ?1");
    d.bind(1, track_id).run();
    if (sqlite3_changes(db.handle()) > 0) {
        // A tombstone, so that mirrors (hitdna sync) learn of the deletion.
        Stmt t(db, "INSERT INTO removed_tracks(track_id, generation) VALUES (?1, ?2) ON CONFLICT(track_id) DO UPDATE SET generation = excluded.generation");
        t.bind(1, track_id).bind(2, gen).run();
    }
    tx.commit();
}

SpaceStats Catalog::stats(Space space) {
    const size_t n = dna::dimensions(space).size();
    SpaceStats s;
    s.mean.assign(n, 0.0);
    s.sd.assign(n, 1.0);
    Stmt st(m_impl->db, "SELECT n, sum, sumsq FROM space_stats WHERE space = ?1");
    st.bind(1, to_string(space));
    if (!st.step()) return s;
    s.count = st.i64(0);
    auto a = st.text(1), b = st.text(2);
    if (s.count <= 0 || a.size() != n * sizeof(double) || b.size() != n * sizeof(double)) return s;
    std::vector<double> sum(n), sumsq(n);
    std::memcpy(sum.data(), a.data(), a.size());
    std::memcpy(sumsq.data(), b.data(), b.size());
    for (size_t i = 0; i < n; ++i) {
        s.mean[i] = sum[i] / double(s.count);
        double var = sumsq[i] / double(s.count) - s.mean[i] * s.mean[i];
        // A floor keeps near-constant dimensions from amplifying rounding noise.
        s.sd[i] = std::max(std::sqrt(std::max(var, 0.0)), 0.02);
    }
    return s;
}

namespace {

// The row k_vector_cols selected, as views into it.
VectorRowView row_view(Stmt& st) {
    VectorRowView v;
    v.id = st.i64(0);
    v.track_id = st.i64(1);
    v.section = int(st.i64(2));
    v.start_s = st.f64(3);
    v.end_s = st.f64(4);
    v.label = st.text_view(5);
    v.role = st.text_view(6);
    std::tie(v.data, v.data_bytes) = st.blob(7);
    return v;
}

StoredVector read_vector(Stmt& st) {
    const VectorRowView r = row_view(st);
    StoredVector v{r.id, r.track_id, {r.section, r.start_s, r.end_s, std::string(r.label), std::string(r.role)}, {}};
    v.data.resize(r.data_bytes / sizeof(float));
    if (!v.data.empty()) std::memcpy(v.data.data(), r.data, v.data.size() * sizeof(float));
    return v;
}

const char* k_vector_cols = "v.id, v.track_id, v.section, v.start_s, v.end_s, v.label, v.role, v.data";

}  // namespace

void Catalog::for_each_vector(Space space, int64_t min_generation, const Filter& filter, const std::function<void(StoredVector&&)>& fn) {
    const auto [where_sql, where_args] = detail::to_sql(filter);
    std::string sql = std::string("SELECT ") + k_vector_cols + " FROM vectors v JOIN tracks t ON t.id = v.track_id WHERE v.space = ?1";
    if (min_generation > 0) sql += " AND v.generation > ?2";
    if (!where_sql.empty()) sql += " AND (" + where_sql + ")";
    Stmt st(m_impl->db, sql.c_str());
    st.bind(1, to_string(space));
    if (min_generation > 0) st.bind(2, min_generation);
    for (size_t i = 0; i < where_args.size(); ++i) st.bind(int(i + 3), where_args[i]);
    while (st.step()) fn(read_vector(st));
}

int64_t Catalog::scan_vectors(const std::vector<Space>& spaces, const std::function<void(Space, const VectorRowView&)>& fn) {
    ReadTransaction snapshot(m_impl->db);
    const int64_t gen = generation();
    std::array<bool, dna::k_spaces.size()> wanted{};
    for (Space s : spaces) wanted[size_t(s)] = true;
    // The table in its own order (a pass over the space index would look up each row).
    Stmt st(m_impl->db, (std::string("SELECT ") + k_vector_cols + ", v.space FROM vectors AS v NOT INDEXED").c_str());
    while (st.step())
        if (const auto sp = dna::parse_space(st.text_view(8)); sp && wanted[size_t(*sp)]) fn(*sp, row_view(st));
    return gen;
}

std::vector<StoredVector> Catalog::vectors_of(int64_t track_id, Space space) {
    Stmt st(m_impl->db, (std::string("SELECT ") + k_vector_cols + " FROM vectors v WHERE v.track_id = ?1 AND v.space = ?2 ORDER BY v.section").c_str());
    st.bind(1, track_id).bind(2, to_string(space));
    std::vector<StoredVector> out;
    while (st.step()) out.push_back(read_vector(st));
    return out;
}

namespace {

// Reads the vector rows of `ids` on a connection of its own and drops them: their pages come
// into the page cache. A failure only means nothing was read ahead.
void read_rows_ahead(const std::string& path, const int64_t* ids, size_t n) noexcept {
    try {
        Db db(path, Db::Mode::read_only);
        Stmt st(db, "SELECT length(v.data) FROM vectors v WHERE v.track_id = ?1");
        for (size_t i = 0; i < n; ++i) {
            st.bind(1, ids[i]);
            while (st.step()) {
            }
            st.reset();
        }
    } catch (...) {
    }
}

}  // namespace

std::map<Space, std::unordered_map<int64_t, std::vector<StoredVector>>> Catalog::vectors_of_tracks(const std::vector<int64_t>& track_ids,
                                                                                                   const std::vector<Space>& spaces,
                                                                                                   unsigned readers, bool when_slow) {
    // The readers start only when the first k_probe tracks took longer than a page cache
    // gives them (about 10-20 us a track; from the disk, 100-300): on a warm catalog they
    // would only cost. They take the later parts, in order, while this connection reads on: by
    // the time it comes to theirs they are read or being read.
    constexpr size_t k_probe = 16;
    constexpr auto k_probe_warm = std::chrono::microseconds(50 * k_probe);
    std::vector<std::thread> ahead;
    struct Join {
        std::vector<std::thread>& threads;
        ~Join() {
            for (auto& t : threads) t.join();
        }
    } join{ahead};
    auto start_readers = [&](size_t from) {
        const size_t rest = track_ids.size() - from, part = (rest + readers) / (size_t(readers) + 1);
        for (unsigned r = 1; r <= readers && size_t(r) * part < rest; ++r) {
            const size_t at = from + size_t(r) * part;
            ahead.emplace_back(read_rows_ahead, m_impl->db.path(), track_ids.data() + at, std::min(part, track_ids.size() - at));
        }
    };
    std::map<Space, std::unordered_map<int64_t, std::vector<StoredVector>>> out;
    std::array<bool, dna::k_spaces.size()> wanted{};
    for (Space s : spaces) wanted[size_t(s)] = true;
    ReadTransaction snapshot(m_impl->db);
    // One statement for every space of a track: one index descent per track.
    Stmt st(m_impl->db, (std::string("SELECT ") + k_vector_cols + ", v.space FROM vectors v WHERE v.track_id = ?1 ORDER BY v.space, v.section").c_str());
    if (readers && !when_slow) start_readers(0);
    const auto t0 = std::chrono::steady_clock::now();
    for (size_t i = 0; i < track_ids.size(); ++i) {
        if (readers && when_slow && i == k_probe && track_ids.size() >= 4 * k_probe && std::chrono::steady_clock::now() - t0 > k_probe_warm)
            start_readers(i);
        st.bind(1, track_ids[i]);
        while (st.step()) {
            const auto sp = dna::parse_space(st.text(8));
            if (!sp || !wanted[size_t(*sp)]) continue;
            out[*sp][track_ids[i]].push_back(read_vector(st));
        }
        st.reset();
    }
    return out;
}

std::vector<StoredVector> Catalog::vectors_by_id(Space space, const std::vector<int64_t>& ids) {
    std::vector<StoredVector> out;
    ReadTransaction snapshot(m_impl->db);
    Stmt st(m_impl->db, (std::string("SELECT ") + k_vector_cols + " FROM vectors v WHERE v.id = ?1 AND v.space = ?2").c_str());
    for (int64_t id : ids) {
        st.bind(1, id).bind(2, to_string(space));
        if (st.step()) out.push_back(read_vector(st));
        st.reset();
    }
    return out;
}

int64_t Catalog::count_vectors(Space space, const Filter& filter) {
    const auto [where_sql, where_args] = detail::to_sql(filter);
    // Without a filter the tracks need not be joined: every vector belongs to a track (foreign
    // key, ON DELETE CASCADE), and the count comes from the space index alone.
    std::string sql = where_sql.empty() ? "SELECT count(*) FROM vectors v WHERE v.space = ?1"
                                        : "SELECT count(*) FROM vectors v JOIN tracks t ON t.id = v.track_id WHERE v.space = ?1";
    if (!where_sql.empty()) sql += " AND (" + where_sql + ")";
    Stmt st(m_impl->db, sql.c_str());
    st.bind(1, to_string(space));
    for (size_t i = 0; i < where_args.size(); ++i) st.bind(int(i + 3), where_args[i]);
    return st.step() ? st.i64(0) : 0;
}

std::vector<int64_t> Catalog::track_ids(const Filter& filter) {
    const auto [where_sql, where_args] = detail::to_sql(filter);
    std::string sql = "SELECT t.id FROM tracks t WHERE ?1 IS NULL";
    if (!where_sql.empty()) sql += " AND (" + where_sql + ")";
    Stmt st(m_impl->db, sql.c_str());
    st.bind_null(1);
    for (size_t i = 0; i < where_args.size(); ++i) st.bind(int(i + 3), where_args[i]);
    std::vector<int64_t> out;
    while (st.step()) out.push_back(st.i64(0));
    return out;
}

std::vector<std::string> Catalog::genres() {
    Stmt st(m_impl->db, "SELECT DISTINCT genre FROM track_genres ORDER BY genre");
    std::vector<std::string> out;
    while (st.step()) out.push_back(st.text(0));
    return out;
}

std::vector<std::string> Catalog::artists() {
    Stmt st(m_impl->db, "SELECT DISTINCT artist FROM tracks WHERE artist <> '' ORDER BY artist");
    std::vector<std::string> out;
    while (st.step()) out.push_back(st.text(0));
    return out;
}

std::vector<std::pair<int64_t, double>> Catalog::text_search(const std::string& fts_query, size_t limit, const Filter& filter) {
    std::vector<std::pair<int64_t, double>> out;
    if (fts_query.empty()) return out;
    const auto [where_sql, where_args] = detail::to_sql(filter);
    std::string sql = "SELECT f.rowid, bm25(tracks_fts, 4.0, 4.0, 2.0, 2.0, 1.0) AS r FROM tracks_fts f JOIN tracks t ON t.id = f.rowid "
                      "WHERE tracks_fts MATCH ?1";
    if (!where_sql.empty()) sql += " AND (" + where_sql + ")";
    sql += " ORDER BY r LIMIT ?2";
    Stmt st(m_impl->db, sql.c_str());
    st.bind(1, fts_query).bind(2, int64_t(limit));
    for (size_t i = 0; i < where_args.size(); ++i) st.bind(int(i + 3), where_args[i]);
    while (st.step()) out.emplace_back(st.i64(0), st.f64(1));
    return out;
}

std::vector<int64_t> Catalog::tracks_with_descriptor(const std::string& descriptor) {
    std::vector<int64_t> out;
    Stmt st(m_impl->db, "SELECT rowid FROM tracks_fts WHERE tracks_fts MATCH ?1");
    std::string q = "descriptors : \"";
    for (char c : descriptor) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    q += "\"";
    st.bind(1, q);
    while (st.step()) out.push_back(st.i64(0));
    return out;
}

std::optional<TrackExtras> Catalog::extras(int64_t id) {
    TrackExtras x;
    {
        Stmt st(m_impl->db, "SELECT norm_artist, norm_title, coalesce((SELECT json_group_array(value) FROM json_each(dna, '$.descriptors')), '[]') FROM tracks WHERE id = ?1");
        st.bind(1, id);
        if (!st.step()) return std::nullopt;
        x.artist_key = st.text(0);
        x.title_key = st.text(1);
        const auto d = nlohmann::json::parse(st.text(2), nullptr, false);
        if (d.is_array())
            for (const auto& w : d)
                if (w.is_string()) x.descriptors.push_back(w.get<std::string>());
    }
    Stmt st(m_impl->db, "SELECT chart, chart_date, rank, peak_rank, previous_rank, weeks_on_chart, streams, uri FROM chart_entries WHERE track_id = ?1 ORDER BY chart_date, chart");
    st.bind(1, id);
    auto opt_int = [&](int col) { return st.is_null(col) ? std::optional<int>() : std::optional<int>(int(st.i64(col))); };
    while (st.step()) {
        ChartEntry e;
        e.chart = st.text(0);
        e.date = st.text(1);
        e.rank = opt_int(2);
        e.peak_rank = opt_int(3);
        e.previous_rank = opt_int(4);
        e.weeks_on_chart = opt_int(5);
        if (!st.is_null(6)) e.streams = st.i64(6);
        e.uri = st.text(7);
        x.charts.push_back(std::move(e));
    }
    return x;
}

std::vector<int64_t> Catalog::unknown_tracks(const std::vector<int64_t>& ids) {
    std::vector<int64_t> out;
    Stmt q(m_impl->db, "SELECT 1 FROM tracks WHERE id = ?1");
    for (int64_t id : ids) {
        q.reset();
        q.bind(1, id);
        if (!q.step()) out.push_back(id);
    }
    return out;
}

std::string Catalog::dna_json(int64_t track_id) {
    Stmt st(m_impl->db, "SELECT dna FROM tracks WHERE id = ?1");
    st.bind(1, track_id);
    return st.step() ? st.text(0) : std::string();
}

CatalogStats Catalog::catalog_stats() {
    CatalogStats s;
    auto one = [&](const char* sql) {
        Stmt st(m_impl->db, sql);
        return st.step() ? st.i64(0) : int64_t(0);
    };
    s.tracks = one("SELECT count(*) FROM tracks");
    s.sections = one("SELECT count(*) FROM vectors WHERE space = 'sections'");
    s.vectors = one("SELECT count(*) FROM vectors");
    s.chart_entries = one("SELECT count(*) FROM chart_entries");
    s.generation = generation();
    s.schema_version = k_schema_version;
    {
        // One scan of the tracks for both breakdowns.
        std::map<int, int64_t> versions;
        std::map<std::string, int64_t> sources;
        Stmt st(m_impl->db, "SELECT analysis_version, source, count(*) FROM tracks GROUP BY 1, 2");
        while (st.step()) versions[int(st.i64(0))] += st.i64(2), sources[st.text(1)] += st.i64(2);
        s.by_analysis_version.assign(versions.begin(), versions.end());
        s.by_source.assign(sources.begin(), sources.end());
    }
    struct stat sb{};
    if (::stat(path().c_str(), &sb) == 0) s.file_bytes = int64_t(sb.st_size);
    if (::stat((path() + "-wal").c_str(), &sb) == 0) s.wal_bytes = int64_t(sb.st_size);
    return s;
}

std::vector<std::string> Catalog::verify() {
    std::vector<std::string> problems;
    auto& db = m_impl->db;
    ReadTransaction snapshot(db);  // every check sees the same catalog
    {
        Stmt st(db, "PRAGMA integrity_check");
        while (st.step())
            if (st.text(0) != "ok") problems.push_back("sqlite integrity: " + st.text(0));
    }
    {
        Stmt st(db, "PRAGMA foreign_key_check");
        while (st.step()) problems.push_back("dangling row in " + st.text(0) + " (rowid " + std::to_string(st.i64(1)) + ")");
    }
    // Every track has exactly one vector in each per-track space and one per DNA section.
    {
        Stmt st(db,
                "SELECT t.id, "
                "(SELECT count(*) FROM vectors v WHERE v.track_id = t.id AND v.space IN ('audio', 'structure', 'emotion', 'production')), "
                "(SELECT count(DISTINCT v.space) FROM vectors v WHERE v.track_id = t.id AND v.space IN ('audio', 'structure', 'emotion', 'production')), "
                "(SELECT count(*) FROM vectors v WHERE v.track_id = t.id AND v.space = 'sections'), "
                "json_array_length(t.dna, '$.structure.sections') FROM tracks t");
        while (st.step()) {
            if (st.i64(1) != 4 || st.i64(2) != 4)
                problems.push_back("track " + std::to_string(st.i64(0)) + ": " + std::to_string(st.i64(1)) + " per-track vectors, expected 4");
            if (st.i64(3) != st.i64(4))
                problems.push_back("track " + std::to_string(st.i64(0)) + ": " + std::to_string(st.i64(3)) + " section vectors for " +
                                   std::to_string(st.i64(4)) + " sections");
        }
    }
    // Vector sizes and the running statistics.
    for (Space sp : dna::k_spaces) {
        const size_t n = dna::dimensions(sp).size();
        std::vector<double> sum(n, 0.0);
        int64_t count = 0, bad = 0;
        Stmt st(db, "SELECT data FROM vectors WHERE space = ?1");
        st.bind(1, to_string(sp));
        while (st.step()) {
            auto x = st.floats(0);
            if (x.size() != n) { ++bad; continue; }
            ++count;
            for (size_t i = 0; i < n; ++i) sum[i] += x[i];
        }
        if (bad) problems.push_back(std::string(to_string(sp)) + ": " + std::to_string(bad) + " vectors of the wrong size");
        SpaceStats s = stats(sp);
        if (s.count != count)
            problems.push_back(std::string(to_string(sp)) + ": statistics count " + std::to_string(s.count) + ", vectors " + std::to_string(count));
        else
            for (size_t i = 0; i < n && count > 0; ++i)
                if (std::abs(sum[i] / double(count) - s.mean[i]) > 1e-6 * (1 + std::abs(s.mean[i]))) {
                    problems.push_back(std::string(to_string(sp)) + ": statistics mean of dimension " + std::to_string(i) + " disagrees with the vectors");
                    break;
                }
    }
    {
        Stmt st(db, "SELECT (SELECT count(*) FROM tracks), (SELECT count(*) FROM tracks_fts), "
                    "(SELECT count(*) FROM tracks t WHERE NOT EXISTS (SELECT 1 FROM tracks_fts f WHERE f.rowid = t.id))");
        st.step();
        if (st.i64(0) != st.i64(1) || st.i64(2) != 0) problems.push_back("text index out of step with the tracks");
    }
    bool has_engagement = false;
    {
        Stmt t(db, "SELECT count(*) FROM sqlite_master WHERE name = 'engagement'");
        has_engagement = t.step() && t.i64(0) > 0;
    }
    if (has_engagement) {
        // Engagement totals are the sums of their events.
        Stmt st(db, "SELECT g.track_id FROM engagement g LEFT JOIN (SELECT track_id, count(*) AS n, sum(plays) AS p, sum(likes) AS l, sum(shares) AS s, "
                    "sum(skips) AS k FROM engagement_events GROUP BY track_id) e ON e.track_id = g.track_id "
                    "WHERE coalesce(e.n, 0) != g.events OR coalesce(e.p, 0) != g.plays OR coalesce(e.l, 0) != g.likes OR coalesce(e.s, 0) != g.shares "
                    "OR coalesce(e.k, 0) != g.skips");
        while (st.step()) problems.push_back("track " + std::to_string(st.i64(0)) + ": engagement totals differ from its events");
    }
    {
        Stmt st(db, "SELECT max(generation) FROM vectors");
        if (st.step() && !st.is_null(0) && st.i64(0) > generation()) problems.push_back("vector rows newer than the catalog generation");
    }
    return problems;
}

}  // namespace hitdna::store
