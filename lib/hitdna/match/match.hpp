#pragma once
// `hitdna match` as a library call: build query vectors from audio, a catalog track or text,
// search the spaces (inside the metadata filter), and combine the spaces per track.
//
// Per-space score: exp(-d^2 / (2 D)), d the Euclidean distance between standardized vectors
// (each dimension minus its catalog mean, over its catalog standard deviation), D the number of
// dimensions. 1 = identical; two unrelated tracks average about exp(-1) = 0.37. The sections
// score of a track is the best pair (query section, track section). The track score is the
// weighted mean of the per-space scores; with text it is 0.8 x that + 0.2 x text relevance.
#include <iosfwd>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "hitdna/analysis/analyze.hpp"
#include "hitdna/qdrant/client.hpp"
#include "hitdna/store/catalog.hpp"
#include "hitdna/store/vector_index.hpp"

namespace hitdna::match {

struct MatchOptions {
    std::string like_file;                 // --like FILE
    std::string track;                     // --track ID or "Artist - Title"
    std::string text;                      // --text "..."
    std::vector<std::string> filters;      // --filter
    std::vector<dna::Space> spaces;      // empty: all spaces the query has
    std::map<dna::Space, double> weights;  // overrides of the default weights
    size_t k = 10;
    bool boost_learned = false;            // --boost learned: score x (0.75 + 0.25 x hit score)
    analysis::AnalyzeOptions analyze;
    std::string backend = "embedded";      // --backend embedded | qdrant
    qdrant::Config qdrant;                 // --qdrant-url / QDRANT_URL, QDRANT_API_KEY
    std::string collection = "hitdna";     // --collection / QDRANT_COLLECTION
    bool exact = false;                    // --exact: Qdrant searches exactly (params.exact)
    size_t breadth = 0;                    // --breadth: most candidates one search brings (0: four times the first round's)
};

struct QuerySection {
    double start_s = 0, end_s = 0;         // in the query audio (whole file when start=end=0)
};

struct MatchResult {
    int rank = 0;
    store::TrackRow track;
    double score = 0;                               // 0..1
    std::map<dna::Space, double> space_scores;    // 0..1 each
    std::optional<double> text_score;               // 0..1 (text queries)
    std::optional<store::SectionInfo> section;      // best-matching section of this track
    std::optional<QuerySection> query_section;      // the query part it matched (--like)
    std::optional<double> hit_score;                // with --boost learned, 0..1
};

struct MatchReport {
    std::string query_kind;                // like | track | text
    std::vector<std::string> resolved;     // what the query resolved to (titles found, descriptors used)
    std::map<dna::Space, double> weights;
    // Queries without text: true when the results are the top k of scoring every track
    // (the candidate rounds reached their threshold or exhausted the lists; as far as the
    // indexes' recall goes), false when --breadth stopped them first.
    std::optional<bool> complete;
    std::vector<MatchResult> results;
};

// Default space weights for a query kind ("like", "track", "text").
std::map<dna::Space, double> default_weights(const std::string& kind);

// Runs a query; warnings (bypassed index, unknown quoted title, a Qdrant mirror behind the
// catalog) go to `warn`. Throws Error(usage) for a bad query, Error(db) for catalog trouble,
// Qdrant errors (qdrant/client.hpp) with --backend qdrant. The catalog may be null only for
// --like with the Qdrant backend (results then come from the synced payload alone).
MatchReport run_match(store::Catalog& catalog, const MatchOptions& options, std::ostream& warn);
MatchReport run_match(store::Catalog* catalog, const MatchOptions& options, std::ostream& warn);

// Many queries against one catalog (`match --queries`): the indexes are opened once and kept
// for every later query with the same backend and filter. Not thread-safe: one per thread.
class Session {
public:
    // `catalog` may be null as for run_match; warnings go to `warn`. `access`: how the index
    // files are searched (store::IndexAccess: read for a few queries, map for many).
    // `resident`: vectors held in memory for many queries, shared by a batch's sessions on
    // the same catalog (store::ResidentVectors); null reads each query's from the catalog.
    Session(store::Catalog* catalog, std::ostream& warn, store::IndexAccess access = store::IndexAccess::read,
            std::shared_ptr<store::ResidentVectors> resident = nullptr);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
    // run_match for one query; `like`, when given, is the analysis of options.like_file made
    // already (batches analyze their files in parallel first).
    MatchReport run(const MatchOptions& options, const dna::Dna* like = nullptr);

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

// One line of `match --queries` as options: {"like": PATH | "track": ID or "Artist - Title" |
// "text": "..."} (exactly one), with optional "filter" (a string or a list, ANDed with the
// command line's), "k" (1..10000) and "space" (as --space: a list or "all"); "id" is the
// caller's. Everything else comes from `defaults`. Throws Error(usage) naming the key.
MatchOptions query_line_options(const nlohmann::json& line, const MatchOptions& defaults);
// --space's value: "all" (empty) or a comma list of spaces. Throws Error(usage).
std::vector<dna::Space> parse_space_list(const std::string& list);

// The catalog a query needs (db: a path, "" = $HITDNA_DB or the default); null for --like
// with the Qdrant backend when there is none. Throws Error(db) when it is missing.
std::unique_ptr<store::Catalog> open_catalog(const MatchOptions& options, const std::string& db);
// `hitdna match`: run_match on the catalog at `db`.
MatchReport run(const MatchOptions& options, const std::string& db, std::ostream& warn);

// A result as one line of `hitdna match --format jsonl` (scores rounded to 0.0001).
nlohmann::ordered_json to_json(const MatchResult& result);
// The whole answer as `--format json` prints it: query, resolved, weights, results.
nlohmann::ordered_json to_json(const MatchReport& report);

}  // namespace hitdna::match
