#include "hitdna/analysis/harmony.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <numeric>
#include <string>

namespace hitdna::analysis {

namespace {

// Temperley (2007, Kostka-Payne corpus) profiles blended with Krumhansl-Kessler (1982): the
// blend is less biased toward the relative major than either alone on popular music.
constexpr std::array<double, 12> k_major = {0.748, 0.060, 0.488, 0.082, 0.670, 0.460, 0.096, 0.715, 0.104, 0.366, 0.057, 0.400};
constexpr std::array<double, 12> k_minor = {0.712, 0.084, 0.474, 0.618, 0.049, 0.460, 0.105, 0.747, 0.404, 0.067, 0.133, 0.330};
constexpr std::array<double, 12> k_kk_major = {6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88};
constexpr std::array<double, 12> k_kk_minor = {6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17};

std::array<double, 12> blended(bool minor) {
    const auto& t = minor ? k_minor : k_major;
    const auto& k = minor ? k_kk_minor : k_kk_major;
    double st = std::accumulate(t.begin(), t.end(), 0.0), sk = std::accumulate(k.begin(), k.end(), 0.0);
    std::array<double, 12> out{};
    for (int i = 0; i < 12; ++i) out[size_t(i)] = 0.5 * t[size_t(i)] / st + 0.5 * k[size_t(i)] / sk;
    return out;
}

double pearson(const double* a, const double* b, int n) {
    double ma = 0, mb = 0;
    for (int i = 0; i < n; ++i) {
        ma += a[i];
        mb += b[i];
    }
    ma /= n;
    mb /= n;
    double num = 0, da = 0, db = 0;
    for (int i = 0; i < n; ++i) {
        num += (a[i] - ma) * (b[i] - mb);
        da += (a[i] - ma) * (a[i] - ma);
        db += (b[i] - mb) * (b[i] - mb);
    }
    return (da > 0 && db > 0) ? num / std::sqrt(da * db) : 0;
}


// 24 triads (C..B major, then minor) plus "no chord".
constexpr int k_n_chord_states = 25;
using ChordScores = std::array<double, k_n_chord_states>;

// The 24 triad templates as unit vectors over the pitch classes.
std::array<std::array<double, 12>, 24> triad_templates() {
    std::array<std::array<double, 12>, 24> templates{};
    for (int root = 0; root < 12; ++root) {
        for (int m = 0; m < 2; ++m) {
            auto& t = templates[size_t(m * 12 + root)];
            t.fill(0);
            t[size_t(root)] = 1;
            t[size_t((root + (m ? 3 : 4)) % 12)] = 1;
            t[size_t((root + 7) % 12)] = 1;
            for (auto& v : t) v /= std::sqrt(3.0);
        }
    }
    return templates;
}

// Emission score of every chord state for each segment [times[s], times[s+1]): the cosine of
// the segment's sqrt-chroma with each triad; "no chord" scores 1 on near-silence, else 0.55.
std::vector<ChordScores> chord_emissions(const std::vector<float>& chroma, double fps, const std::vector<double>& times) {
    const size_t nseg = times.size() - 1, nframes = chroma.size() / 12;
    const auto templates = triad_templates();
    std::vector<ChordScores> emit(nseg);
    double max_energy = 0;
    std::vector<double> energy(nseg, 0);
    std::vector<std::array<double, 12>> seg(nseg);
    for (size_t s = 0; s < nseg; ++s) {
        size_t f0 = size_t(std::max(0.0, std::floor(times[s] * fps))), f1 = size_t(std::max(0.0, std::ceil(times[s + 1] * fps)));
        f1 = std::min(f1, nframes);
        seg[s].fill(0);
        for (size_t f = f0; f < f1; ++f)
            for (int k = 0; k < 12; ++k) seg[s][size_t(k)] += std::sqrt(chroma[f * 12 + size_t(k)]);
        for (double v : seg[s]) energy[s] += v;
        max_energy = std::max(max_energy, energy[s] / double(std::max<size_t>(1, f1 - f0)));
        energy[s] /= double(std::max<size_t>(1, f1 - f0));
    }
    for (size_t s = 0; s < nseg; ++s) {
        double norm = 0;
        for (double v : seg[s]) norm += v * v;
        norm = std::sqrt(norm);
        for (int c = 0; c < 24; ++c) {
            double dot = 0;
            for (int k = 0; k < 12; ++k) dot += templates[size_t(c)][size_t(k)] * seg[s][size_t(k)];
            emit[s][size_t(c)] = norm > 0 ? dot / norm : 0;
        }
        // "No chord" wins on near-silence and on flat (noise-like) chroma.
        emit[s][24] = energy[s] < 0.02 * max_energy ? 1.0 : 0.55;
    }
    return emit;
}

// Viterbi with a constant penalty for changing chord; returns the best state per segment.
std::vector<int> chord_path(const std::vector<ChordScores>& emit, double switch_penalty) {
    const size_t nseg = emit.size();
    std::vector<std::array<int, k_n_chord_states>> back(nseg);
    ChordScores score{};
    for (int c = 0; c < k_n_chord_states; ++c) score[size_t(c)] = emit[0][size_t(c)];
    for (size_t s = 1; s < nseg; ++s) {
        int best_prev = int(std::max_element(score.begin(), score.end()) - score.begin());
        ChordScores next{};
        for (int c = 0; c < k_n_chord_states; ++c) {
            double stay = score[size_t(c)], sw = score[size_t(best_prev)] - switch_penalty;
            if (stay >= sw) {
                next[size_t(c)] = stay + emit[s][size_t(c)];
                back[s][size_t(c)] = c;
            } else {
                next[size_t(c)] = sw + emit[s][size_t(c)];
                back[s][size_t(c)] = best_prev;
            }
        }
        score = next;
    }
    std::vector<int> path(nseg);
    path[nseg - 1] = int(std::max_element(score.begin(), score.end()) - score.begin());
    for (size_t s = nseg - 1; s > 0; --s) path[s - 1] = back[s][size_t(path[s])];
    return path;
}

std::string chord_label(int state) {
    if (state == 24) return std::string("N");
    return std::string(k_pitch_names[size_t(state % 12)]) + (state >= 12 ? "m" : "");
}

}  // namespace

std::array<double, 12> key_profile(int tonic, bool minor) {
    auto base = blended(minor);
    std::array<double, 12> out{};
    for (int i = 0; i < 12; ++i) out[size_t((i + tonic) % 12)] = base[size_t(i)] * 12;
    return out;
}

KeyResult estimate_key(const std::array<double, 12>& chroma) {
    KeyResult r;
    double total = std::accumulate(chroma.begin(), chroma.end(), 0.0);
    if (total <= 0) return r;
    double best = -2;
    for (int mode = 0; mode < 2; ++mode) {
        for (int tonic = 0; tonic < 12; ++tonic) {
            auto prof = key_profile(tonic, mode == 1);
            double c = pearson(chroma.data(), prof.data(), 12);
            r.scores[size_t(mode * 12 + tonic)] = c;
            if (c > best) {
                best = c;
                r.tonic = tonic;
                r.minor = mode == 1;
            }
        }
    }
    r.strength = best;
    return r;
}

std::vector<dna::Chord> estimate_chords(const std::vector<float>& chroma, double fps,
                                        const std::vector<double>& times, double switch_penalty) {
    std::vector<dna::Chord> out;
    if (times.size() < 2) return out;
    const std::vector<int> path = chord_path(chord_emissions(chroma, fps, times), switch_penalty);
    // Consecutive segments with one chord make one chord span.
    for (size_t s = 0; s < path.size(); ++s) {
        std::string l = chord_label(path[s]);
        if (!out.empty() && out.back().label == l) {
            out.back().end_s = times[s + 1];
        } else {
            out.push_back({times[s], times[s + 1], l});
        }
    }
    for (auto& c : out) {
        c.start_s = std::round(c.start_s * 100) / 100;
        c.end_s = std::round(c.end_s * 100) / 100;
    }
    return out;
}

double estimate_tuning_cents(const std::vector<float>& pitch_hz, const std::vector<float>& salience, double min_salience) {
    // Circular mean of the deviation from the equal-tempered grid.
    double sx = 0, sy = 0;
    int n = 0;
    for (size_t i = 0; i < pitch_hz.size(); ++i) {
        if (pitch_hz[i] <= 0 || salience[i] < min_salience) continue;
        double midi = 69 + 12 * std::log2(pitch_hz[i] / 440.0);
        double dev = midi - std::round(midi);  // -0.5..0.5 semitone
        sx += std::cos(2 * std::numbers::pi * dev);
        sy += std::sin(2 * std::numbers::pi * dev);
        ++n;
    }
    if (n < 10) return 0;
    return std::atan2(sy, sx) / (2 * std::numbers::pi) * 100.0;
}

}  // namespace hitdna::analysis
