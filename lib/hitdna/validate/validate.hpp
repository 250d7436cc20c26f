#pragma once
// A track's Hit DNA compared with a target, layer by layer. Every similarity is 0..1 (1 =
// as targeted); the formulas are in man/hitdna-validate.1.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "hitdna/dna/dna.hpp"
#include "hitdna/enrich/target.hpp"

namespace hitdna::validate {

struct Layer {
    std::string name;   // tempo, key, structure, energy, production
    double similarity = 0;
    double weight = 0;  // share of the overall score
    double pass_mark = 0;  // the layer is as targeted at or above this (see man/hitdna-validate.1)
};

// One item of the brief, checked on the track: "drop at 1:00" -> "found at 1:01".
struct BriefCheck {
    std::string item;    // the item's canonical value
    std::string text;    // the prompt's words
    std::string found;   // what the track has
    bool ok = false;
    bool measured = true;  // false: not measurable from audio (genre, title, artist)
};

struct Deviation {
    std::string layer;
    double cost = 0;     // weight x (1 - similarity of this aspect): the ranking key
    std::string text;    // "hook arrives at 1:11, target 0:45"
};

struct Report {
    std::vector<Layer> layers;
    double overall = 0;  // weighted mean of the layers, 0..1
    std::vector<Deviation> deviations;  // largest first
    std::vector<double> energy_arc;     // the track's arc, LU re integrated (k_arc_points)
    double energy_correlation = 0;      // Pearson r of the two arcs, -1..1
    std::vector<BriefCheck> brief;      // the target's brief items, in prompt order
    // What was measured on the track: tempo (BPM, 0 = none), key, mode, integrated loudness
    // (LUFS), length (s), first hook (s, -1 = none), drop times (s).
    double bpm = 0, integrated_lufs = 0, duration_s = 0, first_hook_s = -1;
    std::string key, mode;
    std::vector<double> drop_times_s;
};

// The track's energy arc on the target's grid: k_arc_points parts, LU re integrated loudness.
std::vector<double> energy_arc(const dna::Dna& d);

Report compare(const dna::Dna& track, const enrich::Target& target);

// The target's brief items checked on a track (Report::brief): tempo within 2 %, key and
// mode as stated, length within 1 s, each stated drop and the first hook within one bar,
// intro/outro as stated, counts as stated, feel words' ranges; genres, titles and artists are
// listed as not measurable.
std::vector<BriefCheck> check_brief(const dna::Dna& track, const enrich::Target& target);

// Analyzes an audio file and compares it with a target (hitdna validate). Throws Error(io|decode)
// naming the file.
Report check_file(const std::string& audio_path, const enrich::Target& target);

// A report as `hitdna validate --format json` prints it (and generation records keep it):
// overall, min_score, passed, per-layer similarity and weight, the energy arcs' correlation,
// the track's arc and the deviations, scores rounded to 0.001.
nlohmann::json to_json(const Report& report, double min_score);

}  // namespace hitdna::validate
