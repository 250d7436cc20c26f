#pragma once
// A sketch played through a General MIDI soundfont with libfluidsynth (offline, one core),
// then mastered (master.hpp). Deterministic: the same sketch and soundfont give the same
// samples.
#include <string>
#include <vector>

#include "hitdna/sketch/sketch.hpp"

namespace hitdna::sketch {

// The soundfonts looked for when none is given, in order (Debian fluid-soundfont-gm,
// timgm6mb-soundfont): the first that exists is used.
const std::vector<std::string>& default_soundfonts();
// The soundfont to use: `path` when not empty (Error(io) naming it when missing), else the
// first default that exists (Error(io) listing them when none does).
std::string find_soundfont(const std::string& path = "");

struct RenderOptions {
    std::string soundfont;    // "" = find_soundfont()
    int sample_rate = 44100;  // Hz
};

struct Audio {
    std::vector<float> samples;  // interleaved stereo
    int sample_rate = 44100;
    double duration_s() const { return double(samples.size() / 2) / sample_rate; }
};

// The sketch's notes and controllers at their times (the tempo map), reverb on, chorus off,
// exactly as long as the sketch with the last 0.3 s faded out. Throws Error(io) when the
// soundfont cannot be loaded.
Audio render(const Sketch& sketch, const RenderOptions& options = {});

}  // namespace hitdna::sketch
