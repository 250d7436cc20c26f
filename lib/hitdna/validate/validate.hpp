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
};

// The track's energy arc on the target's grid: k_arc_points parts, LU re integrated loudness.
std::vector<double> energy_arc(const dna::Dna& d);

Report compare(const dna::Dna& track, const enrich::Target& target);

// Analyzes an audio file and compares it with a target (hitdna validate). Throws Error(io|decode)
// naming the file.
Report check_file(const std::string& audio_path, const enrich::Target& target);

// A report as `hitdna validate --format json` prints it (and generation records keep it):
// overall, min_score, passed, per-layer similarity and weight, the energy arcs' correlation,
// the track's arc and the deviations, scores rounded to 0.001.
nlohmann::json to_json(const Report& report, double min_score);

}  // namespace hitdna::validate
