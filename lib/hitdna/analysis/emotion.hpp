#pragma once
// The emotion layer: per-hop intensity and tension curves and what is read off them. All of
// it is heuristic (cue models after the literature, no trained regressor).
#include <vector>

#include "hitdna/analysis/features.hpp"
#include "hitdna/analysis/harmony.hpp"
#include "hitdna/dna/dna.hpp"

namespace hitdna::analysis {

struct EmotionCurves {
    std::vector<float> intensity;   // per hop, 0..1, smoothed ~3 s
    std::vector<float> tension;     // per hop, 0..1, smoothed ~5 s
    std::vector<float> dissonance;  // per hop, 0..1: distance of the local chroma from the key
};

// Intensity = 0.55 loudness + 0.25 onset density + 0.2 brightness; tension adds the
// harmonic distance from the key. loudness_lufs, onset_hop and centroid_hop are per hop.
EmotionCurves emotion_curves(const FrameFeatures& ff, const std::vector<float>& loudness_lufs, const std::vector<float>& onset_hop,
                             const std::vector<float>& centroid_hop, const KeyResult& key, double hop_s, bool silent);

// Releases, valence, anticipation and catharsis from the curves, the key, the audio layer
// (tempo, brightness) and the structure (sections, builds, drops).
dna::EmotionLayer summarize_emotion(const EmotionCurves& curves, const KeyResult& key, const dna::AudioLayer& audio,
                                    const dna::StructureLayer& structure, double hop_s, bool silent);

}  // namespace hitdna::analysis
