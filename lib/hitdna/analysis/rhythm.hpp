#pragma once
// Tempo, beats, tempo curve and rhythm descriptors from the onset-strength envelope.
#include <optional>
#include <string>
#include <vector>

#include "hitdna/dna/dna.hpp"

namespace hitdna::analysis {

struct TempoParams {
    double min_bpm = 40, max_bpm = 240;
    // Log-normal tempo prior. Centre and width were chosen on the evaluation set
    // (bench/bench_accuracy, data/eval/tempo_real.tsv): 135 BPM / 0.9 octave beat the
    // textbook 120 / 1.0 on real songs (Acc1 0.91 vs 0.76 in a replay of the estimator) and
    // on the generated fixtures (33 vs 31 of 35); see the accuracy notes in README.md.
    double prior_centre_bpm = 135;
    double prior_octaves = 0.9;
    double tightness = 100;         // beat DP: penalty weight on log interval deviation
    double min_pulse_clarity = 0.03;  // below: "no steady beat"
};

struct RhythmResult {
    std::optional<double> bpm;
    std::string null_reason;
    double confidence = 0;
    std::vector<dna::TempoCandidate> candidates;
    std::vector<double> beats_s;
    std::vector<std::array<double, 2>> tempo_curve;
    double stability = 0;
    double pulse_clarity = 0;
    double syncopation = 0;
    double rhythmic_complexity = 0;
    double swing_ratio = 1;
    double onset_rate_per_s = 0;
    double groove = 0;
    std::vector<int> onset_peaks;   // frame indices of picked onsets
};

// onset: log-mel flux per frame at fps frames per second; silent: the signal is silence.
RhythmResult analyze_rhythm(const std::vector<float>& onset, double fps, bool silent,
                            const TempoParams& params = {});

// Autocorrelation of x for lags 0..max_lag, each normalized by the overlap length.
std::vector<double> autocorrelation(const std::vector<double>& x, int max_lag);

}  // namespace hitdna::analysis
