#pragma once
// `hitdna plot`: a song's shape over time as one self-contained SVG (no scripts, no external
// fonts or images), drawn by hitdna itself. Stacked panels share the time axis:
//   sections   the section timeline: labels and roles, the first hook marked, builds (up
//              triangles) and drops (down triangles)
//   energy     the energy arc: loudness of 16 equal parts, LU relative to integrated
//   tension    tension 0..1 (heuristic) with release points (circles) and catharsis (diamonds)
//   tempo      local tempo, BPM
//   width      stereo width 0..1 (side / (mid + side))
//   loudness   loudness per timeline hop, LUFS, with the integrated loudness dashed
// Several inputs overlay in every panel (--compare), one colour each, aligned in time or
// normalized to song length. A target from `hitdna enrich` has only sections, the energy arc,
// the tempo and the loudness; it is drawn where it has data.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace hitdna::report {

// One thing to draw: a track's DNA (JSON as `hitdna analyze` prints it) or a target.
struct PlotInput {
    std::string name;                 // legend text
    nlohmann::json dna;               // DNA JSON, or null
    nlohmann::json target;            // hitdna-target-1 JSON, or null
};

struct PlotOptions {
    bool normalized = false;          // x = share of the song (0..100 %) instead of seconds
    int width_px = 1000;
    std::string title;                // default: the inputs' names
};

// Throws Error(usage) when an input has neither DNA nor a target.
std::string render_svg(const std::vector<PlotInput>& inputs, const PlotOptions& options);

// The fill colour of a section role in every drawing (intro, verse, pre-hook, hook, bridge, outro).
const char* role_fill(const std::string& role);

// Escapes text for XML/HTML.
std::string xml_escape(const std::string& s);

}  // namespace hitdna::report
