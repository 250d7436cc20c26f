#pragma once
// The built-in synthesizer: renders a target DNA to audio without any service, so that the
// whole loop runs offline. Tempo, key and mode become a chord loop per section label (repeats
// of a label are the same music), the section plan and the energy arc become layers and gain
// (pads; bass and kick from medium energy; snare, hats and 808 from high energy; a lead motif
// in hooks; risers before hooks), production targets set the 808 level and sustain, stereo
// width, hat brightness and the final loudness (BS.1770, libebur128). Deterministic for a seed.
#include <cstdint>
#include <string>
#include <vector>

#include "hitdna/enrich/target.hpp"

namespace hitdna::generate {

struct SynthOptions {
    uint32_t seed = 1;
    int sample_rate = 44100;
    // Multipliers that `generate --validate` adjusts between attempts (1 = as planned).
    double tempo_scale = 1.0;
    double energy_contrast = 1.0;  // scales the energy arc's LU offsets
};

struct Rendered {
    std::vector<float> samples;  // interleaved stereo
    int sample_rate = 44100;
    double duration_s = 0;
    double integrated_lufs = 0;  // measured after normalization
};

Rendered render(const enrich::Target& target, const SynthOptions& options = {});

}  // namespace hitdna::generate
