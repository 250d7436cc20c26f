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
    // Below: "no steady beat". Pulse clarity is the highest normalized autocorrelation of the
    // onset envelope within the tempo range: white and brown noise read 0.09-0.10, the least
    // clear of the tune-split renders (bench_forms, bench_styles) 0.32.
    double min_pulse_clarity = 0.2;
};

// Local tempo: searched within these ratios of the global tempo, weighted toward it. Steps of
// up to about 15 % fit; 4:5 and 5:4 (which real electronic songs show as false jumps), 3:4
// and 4:3 (ternary relations) and the metrical levels do not.
constexpr double k_local_min_ratio = 0.86, k_local_max_ratio = 1.17;
constexpr double k_local_prior_octaves = 0.2;
constexpr double k_tempo_tolerance = 0.04;   // "at the global tempo": within 4 %
constexpr double k_held_change_bars = 4;     // a tempo change is reported when it holds this long
// ... and moves the tracked beats this far off a steady grid: midway between one beat (what a
// tracker that drops or doubles a beat shows) and two.
constexpr double k_held_change_min_shift_beats = 1.5;

struct RhythmResult {
    std::optional<double> bpm;
    std::string null_reason;
    double confidence = 0;
    std::vector<dna::TempoCandidate> candidates;
    std::vector<double> beats_s;
    std::vector<double> local_bpm;  // local tempo (onset periodicity) every local_step_s seconds
    double local_step_s = 1;
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

// Held changes of the local tempo: runs of the local tempo (median over +-2 bars) more than
// k_tempo_tolerance away from bpm for at least k_held_change_bars bars (bar_s seconds each).
// The tracked beats (beats_s, seconds, ascending) within a run must span k_held_change_bars bars
// too and gain or lose at least k_held_change_min_shift_beats against a steady grid at bpm, on
// the run's side. Each change is reported at its start with its median tempo, and the return at
// its end.
std::vector<dna::TempoChange> held_tempo_changes(const std::vector<double>& local_bpm, double step_s, double bpm, double bar_s,
                                                 const std::vector<double>& beats_s);

// The local tempo (BPM, every step_s seconds) from the tracked beats: the slope of beat time on
// beat index over the beats within two bars (bar_s) either side of each point; local_bpm's
// value where fewer than 4 beats fall there.
std::vector<double> beat_local_bpm(const std::vector<double>& local_bpm, double step_s, const std::vector<double>& beats_s, double bar_s);

// Autocorrelation of x for lags 0..max_lag, each normalized by the overlap length.
std::vector<double> autocorrelation(const std::vector<double>& x, int max_lag);

}  // namespace hitdna::analysis
