#include "hitdna/analysis/emotion.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include "hitdna/analysis/numeric.hpp"

namespace hitdna::analysis {

EmotionCurves emotion_curves(const FrameFeatures& ff, const std::vector<float>& loudness_lufs, const std::vector<float>& onset_hop,
                             const std::vector<float>& centroid_hop, const KeyResult& key, double hop_s, bool silent) {
    const size_t n_hops = loudness_lufs.size();
    const size_t nc = ff.n_chroma_frames();
    const double hop = hop_s;
    std::vector<float> intensity(n_hops), tension(n_hops);
    std::vector<float> dissonance(n_hops, 0.5f);
    if (key.tonic >= 0) {
        auto prof = key_profile(key.tonic, key.minor);
        for (size_t h = 0; h < n_hops; ++h) {
            size_t f0 = size_t(std::max(0.0, (h - 0.5) * hop * ff.chroma_frames_per_s));
            size_t f1 = std::min(nc, size_t((h + 1.5) * hop * ff.chroma_frames_per_s));
            std::array<double, 12> c{};
            for (size_t f = f0; f < f1; ++f)
                for (int k = 0; k < 12; ++k) c[size_t(k)] += std::sqrt(ff.chroma[f * 12 + size_t(k)]);
            double mc = 0, mp = 0;
            for (int k = 0; k < 12; ++k) {
                mc += c[size_t(k)];
                mp += prof[size_t(k)];
            }
            mc /= 12;
            mp /= 12;
            double num = 0, dc = 0, dp = 0;
            for (int k = 0; k < 12; ++k) {
                num += (c[size_t(k)] - mc) * (prof[size_t(k)] - mp);
                dc += (c[size_t(k)] - mc) * (c[size_t(k)] - mc);
                dp += (prof[size_t(k)] - mp) * (prof[size_t(k)] - mp);
            }
            double corr = (dc > 0 && dp > 0) ? num / std::sqrt(dc * dp) : 0;
            dissonance[h] = float(clamp01((1.0 - corr) / 1.5));
        }
    }
    for (size_t h = 0; h < n_hops; ++h) {
        const double loud = clamp01((loudness_lufs[h] + 40.0) / 35.0);
        const double dens = clamp01(onset_hop[h] / 2.5);
        const double bright = clamp01((centroid_hop[h] - 500.0) / 3500.0);
        intensity[h] = float(0.55 * loud + 0.25 * dens + 0.2 * bright);
        tension[h] = float(0.35 * loud + 0.2 * dens + 0.2 * bright + 0.25 * dissonance[h]);
    }
    if (silent) std::fill(tension.begin(), tension.end(), 0.0f);
    intensity = smooth(intensity, std::max(1, int(std::round(1.5 / hop))));
    tension = smooth(tension, std::max(1, int(std::round(2.5 / hop))));
    return {std::move(intensity), std::move(tension), std::move(dissonance)};
}

dna::EmotionLayer summarize_emotion(const EmotionCurves& curves, const KeyResult& key, const dna::AudioLayer& audio,
                                    const dna::StructureLayer& structure, double hop_s, bool silent) {
    dna::EmotionLayer em;
    const auto& intensity = curves.intensity;
    const auto& tension = curves.tension;
    const auto& dissonance = curves.dissonance;
    const auto& st = structure;
    const auto& a = audio;
    const double hop = hop_s;
    const size_t n_hops = intensity.size();
    em.intensity.resize(n_hops);
    em.tension.resize(n_hops);
    for (size_t h = 0; h < n_hops; ++h) {
        em.intensity[h] = float(round_to(intensity[h], 0.001));
        em.tension[h] = float(round_to(tension[h], 0.001));
    }
    if (n_hops == 0) return em;
    // Thresholds relative to the song's own range (5th to 95th percentile), with an
    // absolute floor: a release in a quiet ballad is a smaller fall than in an EDM track.
    const double t_range = percentile(tension, 0.95) - percentile(tension, 0.05);
    const double t_high = percentile(tension, 0.6);
    const double i_range = percentile(intensity, 0.95) - percentile(intensity, 0.05);
    const double i_high = percentile(intensity, 0.6);
    for (size_t h = 1; h + 1 < n_hops; ++h) {
        // A release: tension falls by a third of its range within 6 s after a high point.
        bool is_max = tension[h] >= tension[h - 1] && tension[h] >= tension[h + 1] && tension[h] >= t_high;
        if (!is_max) continue;
        double after = tension[h];
        for (size_t k = h + 1; k < std::min(n_hops, h + size_t(std::round(6 / hop)) + 1); ++k) after = std::min(after, double(tension[k]));
        double fall = tension[h] - after;
        if (fall >= std::max(0.05, t_range / 3) && (em.releases.empty() || h * hop - em.releases.back().time_s > 8))
            em.releases.push_back({round_to(h * hop, 0.01), round_to(clamp01(fall / std::max(t_range, 0.05)), 0.001), "release"});
    }
    double mi = 0;
    for (float v : intensity) mi += v;
    em.mean_intensity = n_hops ? round_to(mi / double(n_hops), 0.001) : 0;
    // Valence (heuristic, -1..1): mode, tempo, brightness and consonance, in the spirit of
    // the classic cue models; not a trained regressor.
    const double mode_cue = key.tonic < 0 ? 0.0 : (key.minor ? -1.0 : 1.0) * clamp01(key.strength / 0.7);
    const double tempo_cue = a.bpm ? std::clamp((*a.bpm - 100.0) / 60.0, -1.0, 1.0) : -0.3;
    const double bright_cue = std::clamp((a.spectral_centroid_hz - 1800.0) / 1500.0, -1.0, 1.0);
    double mean_diss = 0;
    for (float v : dissonance) mean_diss += v;
    mean_diss = n_hops ? mean_diss / double(n_hops) : 0.5;
    const double cons_cue = std::clamp(1.0 - 2.0 * mean_diss, -1.0, 1.0);
    em.valence = silent ? 0.0 : round_to(std::clamp(0.4 * mode_cue + 0.2 * tempo_cue + 0.2 * bright_cue + 0.2 * cons_cue, -1.0, 1.0), 0.001);
    double build_sum = 0;
    for (const auto& b : st.builds) build_sum += b.strength;
    int prehooks = 0;
    for (const auto& s : st.sections) prehooks += s.role == "pre-hook";
    em.anticipation = round_to(clamp01(build_sum / 2.0 + 0.15 * prehooks), 0.001);
    // Catharsis: drops, and hook arrivals that lift intensity after a build or pre-hook.
    for (const auto& dr : st.drops) em.catharsis.push_back({dr.time_s, dr.strength, "drop"});
    for (size_t i = 1; i < st.sections.size(); ++i) {
        const auto& s = st.sections[i];
        if (s.role != "hook") continue;
        const auto& prev = st.sections[i - 1];
        const bool primed = prev.role == "pre-hook" || std::any_of(st.builds.begin(), st.builds.end(), [&](const dna::Event& b) {
                                return b.time_s >= prev.start_s - 2 && b.time_s < s.start_s; });
        size_t h = std::min(n_hops - 1, size_t(s.start_s / hop));
        const size_t back4 = size_t(std::max(1.0, std::round(4 / hop)));
        size_t hp = h >= back4 ? h - back4 : 0;
        double lift = intensity[std::min(n_hops - 1, h + 2)] - intensity[hp];
        if (primed && lift > std::max(0.04, i_range / 4) && intensity[std::min(n_hops - 1, h + 2)] >= i_high)
            em.catharsis.push_back({s.start_s, round_to(clamp01(lift / std::max(i_range, 0.05)), 0.001), "hook"});
    }
    std::sort(em.catharsis.begin(), em.catharsis.end(), [](const auto& x, const auto& y) { return x.time_s < y.time_s; });
    return em;
}

}  // namespace hitdna::analysis
