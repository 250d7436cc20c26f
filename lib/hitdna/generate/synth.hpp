#pragma once
// The built-in generator: a target rendered offline as its arrangement sketch (sketch/: drums,
// bass, chords, the hook's lead motif; man/hitdna-sketch.1) played through a General MIDI
// soundfont by libfluidsynth, then mastered to the target's loudness (true peak <= -1 dBTP)
// and stereo width. Deterministic for a target, seed and soundfont.
#include <cstdint>
#include <string>
#include <vector>

#include "hitdna/enrich/target.hpp"
#include "hitdna/sketch/sketch.hpp"

namespace hitdna::generate {

struct SynthOptions {
    uint32_t seed = 1;
    int sample_rate = 44100;
    std::string soundfont{};       // "" = sketch::find_soundfont()
    // What `generate --validate` adjusts between attempts: the energy arc's contrast in the
    // sketch's dynamics (1 = as planned).
    double energy_contrast = 1.0;
};

struct Rendered {
    std::vector<float> samples;  // interleaved stereo
    int sample_rate = 44100;
    double duration_s = 0;
    double integrated_lufs = 0;  // LUFS, measured after mastering
    double true_peak_dbtp = 0;   // dBTP, the limiter's 4x-interpolated peak
    std::string soundfont;       // the file used
    sketch::Sketch sketch;       // what was played (hitdna sketch writes the same as MIDI)
};

// Throws Error(usage) for a target that cannot be sketched, Error(io) without a soundfont.
Rendered render(const enrich::Target& target, const SynthOptions& options = {});

}  // namespace hitdna::generate
