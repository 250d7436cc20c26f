#pragma once
// What `hitdna plot` and `hitdna report` show, resolved from their command-line inputs: audio
// files (analyzed), DNA JSON, targets (hitdna-target-1), generation records, catalog track ids
// and generation ids.
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "hitdna/analysis/analyze.hpp"
#include "hitdna/report/plot.hpp"

namespace hitdna::report {

struct ShowInput {
    std::string arg, name;                     // as given; legend text
    nlohmann::json dna, target, generation;    // null when absent
    std::string audio_path;                    // "" when there is no audio
    std::optional<int64_t> track_id;           // when the audio is a catalog track
};

// Resolves every input; the catalog (db, "" = $HITDNA_DB or the default) is opened only when
// an id needs it or to find audio among its tracks. Warnings (a generation whose audio is gone)
// go to `log`. Throws Error(usage) for a JSON file that is none of the kinds, Error(io) for a
// missing file, Error(db) when an id needs a catalog that is not there.
std::vector<ShowInput> resolve_inputs(const std::vector<std::string>& args, const std::string& db, const analysis::AnalyzeOptions& analyze,
                                      std::ostream& log);

// The curves of one input: its DNA, and its target (a generation is drawn over its target).
std::vector<PlotInput> plot_inputs(const ShowInput& input);

// The aggregate of an input's k nearest catalog hits (the input itself excluded), as a target
// JSON made the way enrich makes it. Throws Error(usage) when the input has no audio or no
// hits, Error(db) when their DNA cannot be read.
nlohmann::json hits_aggregate(const ShowInput& input, size_t k, const std::string& db, std::ostream& log);

struct PlotRequest {
    std::vector<std::string> inputs;
    std::string output;                // SVG file, "-" (stdout), or with several inputs a directory
    std::string db;
    bool compare = false;              // every input in one SVG
    size_t hits = 0;                   // also draw the first input's K nearest hits' aggregate
    PlotOptions plot;
    analysis::AnalyzeOptions analyze;
};

struct PlotFile {
    std::string path;                  // where it goes ("-" = stdout)
    std::string svg;
};

// The SVGs of `hitdna plot`: one (compare, or a single input), or one per input in the output
// directory (created here), named after the inputs (song.svg, song-2.svg for a second song).
// Each goes to `emit` as soon as it is drawn. Throws Error(usage) for several inputs without
// --compare written to "-" or to a .svg name.
void plot(const PlotRequest& request, const std::function<void(const PlotFile&)>& emit, std::ostream& log);

}  // namespace hitdna::report
