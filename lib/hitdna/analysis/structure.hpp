#pragma once
// Sections (boundaries, repeat labels, roles), builds and drops.
#include <vector>

#include "hitdna/dna/dna.hpp"

namespace hitdna::analysis {

struct StructureParams {
    double kernel_s = 10.0;       // half-width of the Foote checkerboard kernel
    double min_section_s = 8.0;   // no two boundaries closer than this
    double mean_section_s = 15.0; // at most duration / this many sections
    double max_section_s = 45.0;  // longer sections are split at their strongest novelty peak
    double label_similarity = 0.5;   // cosine of section means above which sections share a label
};

struct StructureInput {
    std::vector<double> unit_times;    // n_units + 1 boundaries (s): beats, or a fixed grid
    std::vector<float> unit_features;  // n_units x dim, z-scored per dimension over the song
    int dim = 0;
    int chroma_dims = 0;               // 12 when the first 12 dimensions are pitch classes C..B
    std::vector<double> feature_mean, feature_sd;  // per dimension: what the z-scoring removed
    double duration_s = 0;
    double hop_s = 1.0;
    std::vector<float> loudness_lufs;  // per hop
    std::vector<float> intensity;      // per hop, 0..1
    std::vector<float> low_db;         // per hop, power below 250 Hz, dB
    std::vector<float> low_fine;       // per analysis frame (fine_hop_s), power below 250 Hz, linear
    double fine_hop_s = 0;
};

struct Segmentation {
    std::vector<dna::Section> sections;
    std::vector<double> novelty;       // per unit, 0..1
    std::vector<std::vector<double>> section_means;  // per section, mean unit feature (unit norm)
    std::vector<std::vector<double>> section_zmeans; // per section, mean unit feature (not normalized)
};

// Boundaries by checkerboard novelty on the self-similarity of time-delay-embedded unit
// features (Foote 2000) plus loudness change; labels by clustering section means.
Segmentation segment(const StructureInput& in, const StructureParams& params = {});

// Role guesses (heuristic) for labelled sections, in place; returns the hook label or "".
std::string assign_roles(std::vector<dna::Section>& sections, double duration_s);

// Builds: sustained rises of intensity; drops: sudden jumps of intensity and low end.
void detect_builds_drops(const StructureInput& in, std::vector<dna::Event>& builds, std::vector<dna::Event>& drops);

// Mean over bars of 1 - (best cosine similarity with any earlier, non-adjacent bar), 0..1.
double surprise_factor(const StructureInput& in, int units_per_bar = 4);

}  // namespace hitdna::analysis
