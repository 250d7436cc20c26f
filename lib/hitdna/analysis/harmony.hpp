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

// What tells keys that share a scale apart (C major from A minor): where the bass sits, the
// chords that open and close the song and its sections, and cadences.
struct TonicEvidence {
    std::array<double, 12> bass{};        // bass-line pitch-class distribution, any scale
    std::vector<dna::Chord> chords;       // chord spans over the song
    std::vector<double> section_starts_s; // section boundaries, including 0
    std::vector<double> section_ends_s;   // including the end of the song
};

// Key from the pitch-class distribution, then among the keys whose profile fits nearly as
// well (within k_key_margin) and their relative keys, the one the tonic evidence favours; a
// key and its relative are both credited with the better profile fit of the two (the profile
// tells scales apart, not the two tonics of one scale). See the weights in harmony.cpp;
// strength stays the profile correlation of the key chosen.
KeyResult estimate_key(const std::array<double, 12>& chroma, const TonicEvidence& evidence);

// Per span (e.g. section) a tonic for the global key's mode: the global tonic, unless the
// span is long enough (>= 8 s) and a transposition of the global key fits its pitch classes
// clearly better (by k_modulation_margin in correlation). chroma_spans: one distribution per span.
std::vector<int> span_tonics(const std::vector<std::array<double, 12>>& chroma_spans, const std::vector<double>& lengths_s,
                             const KeyResult& global);

// Key profile of a key as a unit-mean 12-vector (used for tension).
std::array<double, 12> key_profile(int tonic, bool minor);

// Chord labels over segments [times[i], times[i+1]) from chroma frames at chroma_fps: the
// triad from harmony_chroma (whitened, see dsp::apply_whitened_chroma), "N" where the same
// decoding of the plain chroma finds no chord (near-silence, or no triad fitting better than
// flat chroma does).
std::vector<dna::Chord> estimate_chords(const std::vector<float>& chroma, const std::vector<float>& harmony_chroma, double chroma_fps,
                                        const std::vector<double>& times, double switch_penalty = 0.12);

// Tuning offset in cents (-50..50) from predominant partials with salience >= min_salience.
double estimate_tuning_cents(const std::vector<float>& pitch_hz, const std::vector<float>& salience,
                             double min_salience = 0.2);

}  // namespace hitdna::analysis
