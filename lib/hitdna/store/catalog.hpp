#pragma once
// The catalog: one SQLite database (WAL) that is the source of truth for every track, its
// metadata and chart history, its Hit DNA, all its vectors and the per-dimension statistics
// that standardize them. A track is committed with all its sections and vectors, or not at all.
// Several processes may read and write at once: writers queue on SQLite's lock (busy timeout),
// readers never wait. Engagement, pattern models, generations and Qdrant sync state live in the
// same database behind their own modules (engagement.hpp, models.hpp, generations.hpp,
// sync_state.hpp); the DDL of every table is in store/ (catalog.cpp, and models.cpp for the
// table made with the first model). Nothing outside store/ sees SQL.
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "hitdna/dna/dna.hpp"
#include "hitdna/dna/vectors.hpp"
#include "hitdna/store/filter.hpp"

namespace hitdna::store {

namespace detail {
struct CatalogAccess;  // the store's own modules reach the connection through it
}

// --db, else $HITDNA_DB, else $XDG_DATA_HOME/hitdna/hitdna.db, else ~/.local/share/hitdna/hitdna.db.
std::string resolve_db_path(const std::string& flag);
// True when there is a catalog file at `path` (commands that can do without one ask first).
bool catalog_exists(const std::string& path);

struct ChartEntry {
    std::string chart;        // chart name: the chart file's name unless the row says otherwise
    std::string date;         // YYYY-MM-DD, or "" when the chart has no date
    std::optional<int> rank, peak_rank, previous_rank, weeks_on_chart;
    std::optional<int64_t> streams;
    std::string uri;
};

struct TrackMeta {
    std::string title, artist;
    std::vector<std::string> genres, tags;
    std::optional<int> year;
    std::string source;                 // chart | user | generated ("" = keep / user)
    std::vector<ChartEntry> charts;
    std::string extra_json = "{}";      // any other metadata, a JSON object
    // Title, artist and year come from a chart row or a list (they replace what is stored);
    // otherwise (tags, file names) they only fill empty fields. A list row that states a year
    // but no title replaces the year only.
    bool names_authoritative = false;
    bool year_authoritative = false;
};

// What a mirror adds to a TrackRow: the normalized names that filters compare, the descriptor
// words of the track's DNA, and its chart history (oldest first, then by chart name).
struct TrackExtras {
    std::string artist_key, title_key;
    std::vector<std::string> descriptors;
    std::vector<ChartEntry> charts;
};

struct TrackRow {
    int64_t id = 0;
    std::string content_hash, path, title, artist, source;
    std::optional<int> year;
    double duration_s = 0;
    std::optional<double> bpm;
    std::string key, mode;
    int analysis_version = 0;
    std::optional<int> peak_rank;
    std::vector<std::string> genres, tags;
    int64_t generation = 0;
};

struct SectionInfo {
    int index = -1;        // -1 for the per-track spaces
    double start_s = 0, end_s = 0;
    std::string label, role;
};

struct StoredVector {
    int64_t id = 0;        // vectors.id: the label in the HNSW index
    int64_t track_id = 0;
    SectionInfo section;
    std::vector<float> data;
};

// A stored vector as a scan sees it (Catalog::scan_vectors): views into the row being read.
struct VectorRowView {
    int64_t id = 0, track_id = 0;
    int section = -1;
    double start_s = 0, end_s = 0;
    std::string_view label, role;
    const void* data = nullptr;  // float32 values, not aligned
    size_t data_bytes = 0;
};

// Per-dimension mean and standard deviation over all stored vectors of a space.
struct SpaceStats {
    int64_t count = 0;
    std::vector<double> mean, sd;
    // (x - mean) / sd for each dimension.
    std::vector<float> standardize(const std::vector<float>& x) const;
};

struct CatalogStats {
    int64_t tracks = 0, sections = 0, vectors = 0, chart_entries = 0, generation = 0;
    std::vector<std::pair<int, int64_t>> by_analysis_version;
    std::vector<std::pair<std::string, int64_t>> by_source;
    int64_t file_bytes = 0, wal_bytes = 0;
    int schema_version = 0;
};

class Catalog {
public:
    enum class Mode { read_only, read_write };
    // read_write creates the file (and its directory) when missing.
    Catalog(const std::string& path, Mode mode);
    ~Catalog();
    Catalog(const Catalog&) = delete;
    Catalog& operator=(const Catalog&) = delete;

    const std::string& path() const;
    int64_t generation();
    // A random id made when the catalog was created; indexes carry it.
    std::string catalog_id();

    std::optional<TrackRow> find_by_hash(const std::string& content_hash);
    std::optional<TrackRow> track(int64_t id);
    // Tracks whose "Artist - Title" or title alone matches (case- and punctuation-insensitive).
    std::vector<TrackRow> find_by_name(const std::string& artist_title);

    // Adds a track (or replaces the analysis of the track with the same content hash) with its
    // metadata, DNA, sections and vectors in one transaction. Returns the track id.
    int64_t put_track(const std::string& content_hash, const std::string& path, const TrackMeta& meta, const dna::Dna& dna);
    // The same with the DNA's JSON as stored given (an analysis made elsewhere, stored as it was
    // printed); `dna` supplies the columns and vectors.
    int64_t put_track(const std::string& content_hash, const std::string& path, const TrackMeta& meta, const dna::Dna& dna, const std::string& dna_json);
    // Merges metadata into a known track: fills empty title/artist/year, adds genres, tags and
    // chart entries (history kept; the same chart+date is updated).
    void merge_metadata(int64_t track_id, const TrackMeta& meta);
    // Deletes a track with everything that belongs to it.
    void remove_track(int64_t track_id);

    SpaceStats stats(dna::Space space);
    // Visits vectors of a space; min_generation > 0 keeps rows newer than that generation;
    // `filter` restricts by metadata.
    void for_each_vector(dna::Space space, int64_t min_generation, const Filter& filter, const std::function<void(StoredVector&&)>& fn);
    // Every vector of the given spaces, in one read snapshot and one pass over the table, as
    // views valid during the call; returns the catalog generation they are.
    int64_t scan_vectors(const std::vector<dna::Space>& spaces, const std::function<void(dna::Space, const VectorRowView&)>& fn);
    std::vector<StoredVector> vectors_of(int64_t track_id, dna::Space space);
    std::vector<StoredVector> vectors_by_id(dna::Space space, const std::vector<int64_t>& ids);
    // vectors_of for many tracks and spaces: one prepared statement and one read snapshot for
    // all of them (a track without vectors in a space has no entry there).
    // With readers > 0, when the first tracks' rows come slowly (not from the page cache), that
    // many read-only connections read the later tracks' rows at the same time, results
    // discarded: the random page reads from the disk overlap instead of following each other
    // (a single query's candidates); with when_slow false, at once. What is returned is read
    // here, in this connection's snapshot, as without them.
    std::map<dna::Space, std::unordered_map<int64_t, std::vector<StoredVector>>> vectors_of_tracks(const std::vector<int64_t>& track_ids,
                                                                                                   const std::vector<dna::Space>& spaces,
                                                                                                   unsigned readers = 0, bool when_slow = true);
    int64_t count_vectors(dna::Space space, const Filter& filter = {});
    // Track ids passing a filter.
    std::vector<int64_t> track_ids(const Filter& filter);

    // Every genre and every artist name in the catalog, sorted (a brief's vocabulary).
    std::vector<std::string> genres();
    std::vector<std::string> artists();
    // FTS5 over title, artist, genres, tags and descriptors: track ids with bm25 (lower = better).
    std::vector<std::pair<int64_t, double>> text_search(const std::string& fts_query, size_t limit, const Filter& filter = {});
    // Track ids carrying a descriptor word (the analyzer's descriptors).
    std::vector<int64_t> tracks_with_descriptor(const std::string& descriptor);
    std::string dna_json(int64_t track_id);

    // What a mirror carries beside a TrackRow (nullopt for an unknown track).
    std::optional<TrackExtras> extras(int64_t track_id);
    // Those of `ids` that are not tracks of this catalog, in order.
    std::vector<int64_t> unknown_tracks(const std::vector<int64_t>& ids);

    CatalogStats catalog_stats();
    // PRAGMA integrity_check plus hitdna's own invariants; returns the problems found.
    std::vector<std::string> verify();

    // Every read between a snapshot's construction and its end sees one state of the catalog,
    // while writers go on.
    class ReadSnapshot {
    public:
        explicit ReadSnapshot(Catalog& catalog);
        ~ReadSnapshot();
        ReadSnapshot(const ReadSnapshot&) = delete;
        ReadSnapshot& operator=(const ReadSnapshot&) = delete;

    private:
        Catalog& m_catalog;
    };

    // false: commits no longer wait for the disk (a crash may lose the last commits, never
    // corrupt the catalog). For bulk loads that can be redone, such as benchmark fixtures.
    void set_durable_commits(bool durable);
    // Copies the write-ahead log into the database file and empties it (sizes without the log).
    void checkpoint();
    // Writes a consistent copy of the catalog to a new file (VACUUM INTO).
    void backup_to(const std::string& path);

private:
    friend struct detail::CatalogAccess;
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

// Lower-case, accents and punctuation dropped, "feat. X" and bracketed notes removed, words
// joined by single spaces: the key used to match chart rows to files.
std::string normalize_name(const std::string& s);

}  // namespace hitdna::store
