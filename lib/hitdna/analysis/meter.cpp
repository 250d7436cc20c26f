#include "hitdna/analysis/meter.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace hitdna::analysis {
namespace {

// Thirds this much stronger than the half: the beat divides in three. Chosen on the tune
// splits of bench_forms and bench_styles: 4/4 songs (shuffles and swing included) read up to
// 0.65, 6/8 songs tracked at the dotted quarter 0.97 and above.
constexpr double k_ternary_ratio = 0.8;
// A 3-beat bar whose onsets halfway through its second beat reach this share of those on
// beats 2 and 3 is a 6/8 bar read at the quarter note (tune splits: waltzes 0.21-0.31, the
// one 6/8 song read in three 0.74).
constexpr double k_compound_ratio = 0.5;
// ... and only when the bar of three is itself clear: its accent contrast at least this (tune
// splits: every 3-beat song 0.97 or more). Two real four-on-the-floor songs whose grouping was
// a near tie (0.07-0.11, their off-beat hats as loud as the beats) were re-read at 2/3 without it.
constexpr double k_clear_bar_contrast = 0.5;
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

// The best phase's mean accent minus the mean of the other phases, for groups of g beats;
// `best_phase` (when given) receives that phase.
double grouping_contrast(const std::vector<double>& accent, int g, int* best_phase = nullptr) {
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
        if (n_on && n_off && on / n_on - off / n_off > best) {
            best = on / n_on - off / n_off;
            if (best_phase) *best_phase = phase;
        }
    }
    return best;
}

// A bar of three tracked beats may be a 6/8 bar of two dotted-quarter beats read at the
// quarter-note level (each tracked beat two eighths). Then the bar's second strong point falls
// halfway through its second beat (1.5 beats in), not on beats 2 and 3. Returns the strength
// there over the mean at beats 2 and 3, over the bars that start at `phase`.
double compound_ratio(const std::vector<double>& beats, int phase, const std::vector<float>& strength, double fps) {
    double mid = 0, on_beats = 0;
    for (size_t i = size_t(phase); i + 3 < beats.size(); i += 3) {
        const double w = (beats[i + 3] - beats[i]) / 24;
        mid += onset_near(strength, fps, 0.5 * (beats[i + 1] + beats[i + 2]), w);
        on_beats += 0.5 * (onset_near(strength, fps, beats[i + 1], w) + onset_near(strength, fps, beats[i + 2], w));
    }
    return on_beats > 0 ? mid / on_beats : 0.0;
}

// The dotted-quarter beats of 6/8 bars tracked as three quarter-note beats from `phase`: each
// bar's first beat and the midpoint of its second and third.
std::vector<double> dotted_quarter_beats(const std::vector<double>& beats, int phase) {
    std::vector<double> out;
    for (size_t i = 0; i < beats.size(); ++i) {
        const long k = ((long(i) - phase) % 3 + 3) % 3;  // the beat's place in its bar
        if (k == 0) out.push_back(beats[i]);
        else if (k == 1 && i + 1 < beats.size()) out.push_back(0.5 * (beats[i] + beats[i + 1]));
    }
    return out;
}

}  // namespace

MeterResult detect_meter(const std::vector<double>& beats_s, const std::vector<float>& onset, double fps,
                         const std::vector<float>& chroma, double chroma_fps, const std::vector<float>& low) {
    MeterResult m;
    if (beats_s.size() < k_min_beats) return m;
    m.ternary = ternary_ratio(beats_s, onset, fps);
    const std::vector<double> accent = beat_accents(beats_s, chroma, chroma_fps, low, fps);
    int best_g = 4, phase3 = 0;
    double best_c = -1e9;
    for (int g : {2, 3, 4}) {
        m.grouping_contrast[g - 2] = grouping_contrast(accent, g, g == 3 ? &phase3 : nullptr);
        if (m.grouping_contrast[g - 2] > best_c) {
            best_c = m.grouping_contrast[g - 2];
            best_g = g;
        }
    }
    const bool ternary = m.ternary >= k_ternary_ratio;
    m.compound = compound_ratio(beats_s, phase3, onset, fps);
    if (best_g == 3 && m.compound >= k_compound_ratio && m.grouping_contrast[1] >= k_clear_bar_contrast) {
        // 6/8 read at the quarter note: the beat is the dotted quarter, two per bar.
        m.meter = "6/8";
        m.beats_per_bar = 2;
        m.beats_s = dotted_quarter_beats(beats_s, phase3);
        return m;
    }
    if (best_g == 3) m.meter = "3/4";
    else if (ternary && best_g == 2) m.meter = "6/8";
    else m.meter = "4/4";  // binary in 2 or 4, or a shuffle (thirds, in 4)
    m.beats_per_bar = m.meter == "6/8" ? 2 : best_g == 3 ? 3 : 4;
    return m;
}

}  // namespace hitdna::analysis
