#pragma once
// The scores the accuracy benchmarks share, each as the MIR literature defines it (the
// definitions of mir_eval where one exists), and the way aubio's users read its output.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "hitdna/core/subprocess.hpp"
#include "hitdna/dna/dna.hpp"

namespace hitdna::bench {

// Tempo accuracy. Acc1: within 4 % of the truth. Acc2: also at x2, x1/2, x3 or x1/3 (octave
// and triple errors); x2/3 and x3/2 stay errors, counted apart as "ternary".
struct Tally {
    int n = 0, acc1 = 0, acc2 = 0, ternary = 0;
    void add(double truth, std::optional<double> est) {
        ++n;
        if (!est) return;
        const double r = *est / truth;
        const bool a1 = std::abs(r - 1) <= 0.04;
        bool a2 = a1;
        for (double f : {2.0, 0.5, 3.0, 1.0 / 3.0}) a2 |= std::abs(r / f - 1) <= 0.04;
        acc1 += a1;
        acc2 += a2;
        for (double f : {2.0 / 3.0, 1.5, 4.0 / 3.0, 0.75}) ternary += std::abs(r / f - 1) <= 0.04;
    }
    std::string str() const {
        char b[64];
        std::snprintf(b, sizeof b, "%5.1f %% / %5.1f %%", n ? 100.0 * acc1 / n : 0.0, n ? 100.0 * acc2 / n : 0.0);
        return b;
    }
};

inline int key_index(const std::string& key) {  // "A minor" -> 0..23
    auto sp = key.find(' ');
    if (sp == std::string::npos) return -1;
    const int tonic = dna::pitch_index(key.substr(0, sp));
    return tonic < 0 ? -1 : tonic + (key.substr(sp + 1) == "minor" ? 12 : 0);
}

// MIREX key score: 1 same, 0.5 fifth above, 0.3 relative, 0.2 parallel, 0 otherwise.
inline double key_score(int ref, int est) {
    if (est < 0) return 0;
    if (ref == est) return 1;
    const int rt = ref % 12, et = est % 12;
    const bool rm = ref >= 12, em = est >= 12;
    if (rm == em && et == (rt + 7) % 12) return 0.5;
    if (!rm && em && et == (rt + 9) % 12) return 0.3;
    if (rm && !em && et == (rt + 3) % 12) return 0.3;
    if (rt == et && rm != em) return 0.2;
    return 0;
}

// Pairwise frame-label agreement (mir_eval.segment.pairwise): a pair of frames is "same" when
// both fall in segments with the same label.
struct Pairwise {
    double same_both = 0, same_ref = 0, same_est = 0;
    void add(const std::vector<int>& ref, const std::vector<int>& est) {
        for (size_t i = 0; i < ref.size(); ++i)
            for (size_t j = i + 1; j < ref.size(); ++j) {
                const bool r = ref[i] == ref[j], e = est[i] == est[j];
                same_both += r && e;
                same_ref += r;
                same_est += e;
            }
    }
    double p() const { return same_est ? same_both / same_est : 0; }
    double r() const { return same_ref ? same_both / same_ref : 0; }
    double f() const { return p() + r() > 0 ? 2 * p() * r() / (p() + r()) : 0; }
};

// Boundary hit rate (mir_eval.segment.detection): one-to-one matches within the window.
struct Boundary {
    int hits = 0, est = 0, ref = 0;
    void add(const std::vector<double>& ref_b, const std::vector<double>& est_b, double window) {
        std::vector<bool> used(est_b.size(), false);
        for (double r : ref_b) {
            int best = -1;
            double bd = window;
            for (size_t i = 0; i < est_b.size(); ++i)
                if (!used[i] && std::abs(est_b[i] - r) <= bd) {
                    bd = std::abs(est_b[i] - r);
                    best = int(i);
                }
            if (best >= 0) {
                used[size_t(best)] = true;
                ++hits;
            }
        }
        est += int(est_b.size());
        ref += int(ref_b.size());
    }
    double p() const { return est ? double(hits) / est : 0; }
    double r() const { return ref ? double(hits) / ref : 0; }
    double f() const { return p() + r() > 0 ? 2 * p() * r() / (p() + r()) : 0; }
};

// Beat F-measure at +-70 ms (mir_eval.beat.f_measure), beats before 5 s ignored on both sides.
struct BeatScore {
    int hits = 0, est = 0, ref = 0;
    void add(const std::vector<double>& ref_b, const std::vector<double>& est_b) {
        std::vector<double> r, e;
        for (double t : ref_b)
            if (t >= 5) r.push_back(t);
        for (double t : est_b)
            if (t >= 5) e.push_back(t);
        std::vector<bool> used(e.size(), false);
        for (double t : r) {
            for (size_t i = 0; i < e.size(); ++i)
                if (!used[i] && std::abs(e[i] - t) <= 0.07) {
                    used[i] = true;
                    ++hits;
                    break;
                }
        }
        est += int(e.size());
        ref += int(r.size());
    }
    double f() const { return est + ref > 0 ? 2.0 * hits / (est + ref) : 0; }
};

// Frame F1 of a binary labelling (e.g. "this frame is a chorus").
struct FrameF1 {
    double tp = 0, fp = 0, fn = 0;
    void add(bool ref, bool est) {
        tp += ref && est;
        fp += !ref && est;
        fn += ref && !est;
    }
    double f() const { return tp > 0 ? 2 * tp / (2 * tp + fp + fn) : 0; }
};

// `aubio tempo FILE`: the figure it prints ("NNN.NN bpm").
inline std::optional<double> aubio_tempo_printed(const std::string& aubio, const std::string& path) {
    auto r = core::run_process({aubio, "tempo", path});
    if (r.exit_code != 0) return std::nullopt;
    std::istringstream in(r.out);
    std::string line;
    std::optional<double> bpm;
    while (std::getline(in, line))
        if (line.find("bpm") != std::string::npos) bpm = std::atof(line.c_str());
    if (bpm && *bpm <= 0) bpm.reset();
    return bpm;
}

// `aubio beat FILE`: one beat time (s) per line.
inline std::vector<double> aubio_beats(const std::string& aubio, const std::string& path) {
    std::vector<double> out;
    auto r = core::run_process({aubio, "beat", path});
    if (r.exit_code != 0) return out;
    std::istringstream in(r.out);
    double t;
    while (in >> t) out.push_back(t);
    return out;
}

// The tempo of a beat list read the robust way: 60 / the median inter-beat interval.
inline std::optional<double> median_interval_bpm(const std::vector<double>& beats) {
    std::vector<double> d;
    for (size_t i = 1; i < beats.size(); ++i)
        if (beats[i] > beats[i - 1]) d.push_back(beats[i] - beats[i - 1]);
    if (d.size() < 4) return std::nullopt;
    std::nth_element(d.begin(), d.begin() + long(d.size() / 2), d.end());
    return 60.0 / d[d.size() / 2];
}

}  // namespace hitdna::bench
