#pragma once
// Key, mode and chord sequence from chroma.
#include <array>
#include <string>
#include <vector>

#include "hitdna/dna/dna.hpp"

namespace hitdna::analysis {

struct KeyResult {
    int tonic = -1;        // 0 = C .. 11 = B, -1 when no key
    bool minor = false;
    double strength = 0;   // Pearson correlation with the winning profile, -1..1
    std::array<double, 24> scores{};  // 0..11 major, 12..23 minor
};

using dna::k_pitch_names;

// Key from a 12-bin pitch-class distribution (any non-negative scale).
KeyResult estimate_key(const std::array<double, 12>& chroma);

// Key profile of a key as a unit-mean 12-vector (used for tension).
std::array<double, 12> key_profile(int tonic, bool minor);

// Chord labels over segments [times[i], times[i+1]) from chroma frames at chroma_fps.
std::vector<dna::Chord> estimate_chords(const std::vector<float>& chroma, double chroma_fps,
                                        const std::vector<double>& times, double switch_penalty = 0.12);

// Tuning offset in cents (-50..50) from predominant partials with salience >= min_salience.
double estimate_tuning_cents(const std::vector<float>& pitch_hz, const std::vector<float>& salience,
                             double min_salience = 0.2);

}  // namespace hitdna::analysis
