#pragma once
// Meter from the beats: how each beat divides (in two or in three) and how beats group into
// bars (2, 3 or 4, from where the harmony changes and the low end hits). Three beats whose
// bar has its second accent halfway through beat 2 are a 6/8 bar tracked at the quarter note:
// the result then carries the dotted-quarter beats.
#include <string>
#include <vector>

namespace hitdna::analysis {

struct MeterResult {
    std::string meter;        // "4/4", "3/4", "6/8" or "" (too few beats)
    int beats_per_bar = 0;    // beats of the tracked pulse per bar: 4, 3 or 2 (6/8)
    double ternary = 0;       // onset strength at the beat's thirds over its half, >= 0
    double grouping_contrast[3] = {0, 0, 0};  // accent contrast for groups of 2, 3, 4 beats
    double compound = 0;      // strength halfway through a 3-beat bar's second beat over beats 2 and 3
    std::vector<double> beats_s;  // when the tracked beats were quarter notes of a 6/8 bar: the
                                  // dotted-quarter beats (the tempo is then 2/3 of the tracked one)
};

// beats_s: tracked beats; onset: onset strength per frame at fps; chroma: frames x 12 at
// chroma_fps; low: power below 250 Hz per onset frame.
MeterResult detect_meter(const std::vector<double>& beats_s, const std::vector<float>& onset, double fps,
                         const std::vector<float>& chroma, double chroma_fps, const std::vector<float>& low);

}  // namespace hitdna::analysis
