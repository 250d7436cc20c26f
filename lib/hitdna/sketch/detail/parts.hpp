#pragma once
// Internal to sketch/: the helpers the parts share, and the parts themselves (parts.cpp).
#include <array>
#include <cstdint>
#include <string>

#include "hitdna/sketch/sketch.hpp"

namespace hitdna::sketch::detail {

// A small deterministic generator (xorshift32); the sketch depends on nothing else.
struct Rng {
    uint32_t s;
    explicit Rng(uint32_t seed) : s(seed * 2654435761u + 0x9e3779b9u) {
        if (!s) s = 1;
        for (int i = 0; i < 4; ++i) next();
    }
    uint32_t next() {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        return s;
    }
    int below(int n) { return int(next() % uint32_t(n)); }
};

// A seed for one choice: the sketch's seed mixed with a name, so that one choice does not
// shift when another is added.
uint32_t mix(uint32_t seed, const std::string& what);

// The pitch classes of the triad on a scale degree 0..6 (root first); V is major in minor.
std::array<int, 3> triad(const Sketch& s, int degree);
// The pitch class of a scale degree (any integer; wraps by octaves).
int scale_pc(const Sketch& s, int degree);

// How a bar should feel, from its section and the energy arc.
struct Feel {
    std::string role;        // the section's role
    double intensity = 0.5;  // the section's level among the song's sections, 0..1
    bool breakdown = false;  // the arc dips 8 LU or more under the section's level (before a drop)
    bool last = false;       // last bar of its section, another follows
    bool build_end = false;  // one of the last two bars of a build section
    bool section_start = false;
    int chord = 0;           // scale degree
    int velocity = 90;       // base velocity, 1..127
};
Feel feel(const Sketch& s, size_t bar);

// The parts, each appended to s.tracks.
void add_drums(const enrich::Target& t, Sketch& s);
void add_bass(const enrich::Target& t, Sketch& s);
void add_chords(const enrich::Target& t, Sketch& s);
void add_lead(const enrich::Target& t, Sketch& s);
void add_fx(const enrich::Target& t, Sketch& s);
// Channel volume, pan (spread by the target's stereo width), reverb sends and one expression
// value per bar following the energy arc, on every track.
void add_dynamics(const enrich::Target& t, Sketch& s);

}  // namespace hitdna::sketch::detail
