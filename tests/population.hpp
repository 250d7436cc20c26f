#pragma once
// A simulated listener population for tests of learn, weights and score: a track's four
// track vectors drawn around 0.5, and the engagement event it earns, rising (logistically)
// with audio[0], the tempo dimension ("faster engages more").
#include <cmath>
#include <string>

#include "hitdna/dna/dna.hpp"
#include "hitdna/learn/engagement.hpp"
#include "signals.hpp"

namespace hitdna::test {

// Redraws d's track vectors from st; returns the hidden engagement level y, 0..1.
inline double draw_engaged_vectors(dna::Dna& d, uint32_t& st) {
    for (auto* x : {&d.vectors.audio, &d.vectors.structure, &d.vectors.emotion, &d.vectors.production})
        for (auto& e : *x) e = 0.5f + 0.2f * noise(st);
    return 1 / (1 + std::exp(-(d.vectors.audio[0] - 0.5) / 0.05));
}

// 500 plays whose completion, likes, shares and skips follow y.
inline learn::Event engagement_event(const std::string& id, int64_t track_id, double y) {
    learn::Event e;
    e.id = id;
    e.track = std::to_string(track_id);
    e.plays = 500;
    e.completion = 0.3 + 0.6 * y;
    e.likes = int64_t(500 * (0.02 + 0.2 * y));
    e.shares = int64_t(500 * (0.005 + 0.05 * y));
    e.skips = int64_t(500 * (0.4 - 0.3 * y));
    return e;
}

}  // namespace hitdna::test
