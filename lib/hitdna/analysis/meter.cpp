#include "hitdna/analysis/meter.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace hitdna::analysis {
namespace {

constexpr double k_ternary_ratio = 1.25;  // thirds this much stronger than the half: ternary
constexpr size_t k_min_beats = 16;

// The strongest onset within +-w frames of time t.
double onset_near(const std::vector<float>& onset, double fps, double t, double w_s) {
    const long c = long(std::lround(t * fps)), w = std::max(1L, long(std::lround(w_s * fps)));
    double best = 0;
    for (long i = c - w; i <= c + w; ++i)
        if (i >= 0 && size_t(i) < onset.size()) best = std::max(best, double(onset[size_t(i)]));
    return best;
}

// Mean of the onset strength at the beat's thirds (the weaker of the two) over that at its half.
double ternary_ratio(const std::vector<double>& beats, const std::vector<float>& onset, double fps) {
    double thirds = 0, halves = 0;
    for (size_t i = 0; i + 1 < beats.size(); ++i) {
        const double p = beats[i + 1] - beats[i], w = p / 12;
        thirds += std::min(onset_near(onset, fps, beats[i] + p / 3, w), onset_near(onset, fps, beats[i] + 2 * p / 3, w));
        halves += onset_near(onset, fps, beats[i] + p / 2, w);
    }
    return halves > 0 ? thirds / halves : (thirds > 0 ? 10.0 : 0.0);
}

std::array<double, 12> chroma_span(const std::vector<float>& chroma, double fps, double t0, double t1) {
    std::array<double, 12> c{};
    const size_t n = chroma.size() / 12;
    size_t f0 = size_t(std::max(0.0, std::floor(t0 * fps))), f1 = std::min(n, size_t(std::max(0.0, std::ceil(t1 * fps))));
    for (size_t f = f0; f < f1; ++f)
        for (int k = 0; k < 12; ++k) c[size_t(k)] += std::sqrt(chroma[f * 12 + size_t(k)]);
    return c;
}

double cosine(const std::array<double, 12>& a, const std::array<double, 12>& b) {
    double ab = 0, aa = 0, bb = 0;
    for (size_t k = 0; k < 12; ++k) {
        ab += a[k] * b[k];
        aa += a[k] * a[k];
        bb += b[k] * b[k];
    }
    return aa > 0 && bb > 0 ? ab / std::sqrt(aa * bb) : 1.0;
}

void zscore(std::vector<double>& v) {
    double m = 0, s = 0;
    for (double x : v) m += x;
    m /= double(v.size());
    for (double x : v) s += (x - m) * (x - m);
    s = std::sqrt(s / double(v.size()));
    for (double& x : v) x = s > 1e-12 ? (x - m) / s : 0.0;
}

// Accent per beat: how much the harmony changes at it (chroma of the beat before vs the beat
// after) and, at a third of the weight, how much the low end rises at it.
std::vector<double> beat_accents(const std::vector<double>& beats, const std::vector<float>& chroma, double chroma_fps,
                                 const std::vector<float>& low, double fps) {
    std::vector<double> harm(beats.size(), 0.0), bass(beats.size(), 0.0);
    for (size_t i = 1; i + 1 < beats.size(); ++i) {
        harm[i] = 1 - cosine(chroma_span(chroma, chroma_fps, beats[i - 1], beats[i]), chroma_span(chroma, chroma_fps, beats[i], beats[i + 1]));
        const double p = beats[i + 1] - beats[i];
        const double after = onset_near(low, fps, beats[i] + 0.02, p / 8), before = onset_near(low, fps, beats[i] - p / 4, p / 8);
        bass[i] = std::log10((after + 1e-12) / (before + 1e-12));
    }
    zscore(harm);
    zscore(bass);
    std::vector<double> a(beats.size());
    for (size_t i = 0; i < beats.size(); ++i) a[i] = harm[i] + 0.3 * bass[i];
    return a;
}

// The best phase's mean accent minus the mean of the other phases, for groups of g beats.
double grouping_contrast(const std::vector<double>& accent, int g) {
    double best = -1e9;
    for (int phase = 0; phase < g; ++phase) {
        double on = 0, off = 0;
        int n_on = 0, n_off = 0;
        for (size_t i = 1; i + 1 < accent.size(); ++i) {
            if (int(i % size_t(g)) == phase) {
                on += accent[i];
                ++n_on;
            } else {
                off += accent[i];
                ++n_off;
            }
        }
        if (n_on && n_off) best = std::max(best, on / n_on - off / n_off);
    }
    return best;
}

}  // namespace

MeterResult detect_meter(const std::vector<double>& beats_s, const std::vector<float>& onset, double fps,
                         const std::vector<float>& chroma, double chroma_fps, const std::vector<float>& low) {
    MeterResult m;
    if (beats_s.size() < k_min_beats) return m;
    m.ternary = ternary_ratio(beats_s, onset, fps);
    const std::vector<double> accent = beat_accents(beats_s, chroma, chroma_fps, low, fps);
    int best_g = 4;
    double best_c = -1e9;
    for (int g : {2, 3, 4}) {
        m.grouping_contrast[g - 2] = grouping_contrast(accent, g);
        if (m.grouping_contrast[g - 2] > best_c) {
            best_c = m.grouping_contrast[g - 2];
            best_g = g;
        }
    }
    const bool ternary = m.ternary >= k_ternary_ratio;
    if (best_g == 3) m.meter = "3/4";
    else if (ternary && best_g == 2) m.meter = "6/8";
    else m.meter = "4/4";  // binary in 2 or 4, or a shuffle (thirds, in 4)
    m.beats_per_bar = m.meter == "6/8" ? 2 : best_g == 3 ? 3 : 4;
    return m;
}

}  // namespace hitdna::analysis
