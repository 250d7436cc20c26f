#pragma once
// `hitdna ingest` as a library call: files, folders, stdin lists and chart lists in; analyzed
// tracks with metadata, sections and vectors committed to the catalog one transaction per
// track; the vector indexes brought up to date at the end.
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "hitdna/analysis/analyze.hpp"
#include "hitdna/store/catalog.hpp"

namespace hitdna::ingest {

struct IngestOptions {
    std::vector<std::string> inputs;       // files, folders (recursive) and "-" (paths on stdin)
    std::vector<std::string> charts;       // chart lists
    std::vector<std::string> audio_dirs;   // where chart rows' audio is looked for
    std::string chart_date;                // YYYY-MM-DD for charts without dates
    std::string fetch_cmd;                 // template run for rows without audio (no shell)
    double fetch_timeout_s = 600;
    std::string fetch_dir;                 // where fetched audio goes ("" = DB.fetched)
    std::string source = "user";           // source of plain files: user | chart | generated
    std::vector<std::string> genres, tags; // added to every input's metadata
    bool reanalyze = false;                // redo tracks analyzed by an older analyzer
    bool update_index = true;
    int jobs = 0;                          // 0 = all cores
    bool progress = false;                 // a live progress line (terminals)
    analysis::AnalyzeOptions analyze;
};

struct IngestResult {
    int inputs = 0;
    int added = 0, reanalyzed = 0, known = 0, failed = 0;
    int stale = 0;                         // known tracks left on an older analysis version
    int bad_rows = 0, unmatched_rows = 0, fetched = 0;
    double seconds = 0;
    double analysis_s = 0;                 // summed over workers
    double store_s = 0;                    // hashing, catalog lookups and commits, summed
    double index_s = 0;                    // bringing the HNSW indexes up to date
    int exit_code = 0;                     // see man/hitdna-ingest.1
};

// Fetch-command templates: split like a shell would split words (quotes group, no expansion),
// then {artist} {title} {uri} {rank} {out} are replaced inside each word. A value never
// becomes more than one argument and is never seen by a shell.
std::vector<std::string> expand_fetch_command(const std::string& tmpl, const std::string& artist, const std::string& title,
                                              const std::string& uri, const std::string& rank, const std::string& out_dir);

IngestResult run_ingest(store::Catalog& catalog, const IngestOptions& options, std::istream& in, std::ostream& err);

// The vector indexes brought up to date after new tracks; a space that fails is left to exact
// scans with a warning on err; the new vectors are inserted on `threads` threads (0: all
// cores). Returns the seconds it took.
double update_indexes(store::Catalog& catalog, std::ostream& err, int threads = 0);

// A result as `hitdna ingest --json` prints it (db: the catalog's path).
nlohmann::ordered_json to_json(const IngestResult& result, const std::string& db_path);

}  // namespace hitdna::ingest
