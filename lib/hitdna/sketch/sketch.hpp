#pragma once
// A producer's sketch of a target: the target's tempo, key, form, hook placement, builds,
// drops and energy arc written as a multi-track arrangement (drums, bass, chords, a lead motif
// for the hook, effects), which midi.hpp writes as a Standard MIDI File and render.hpp plays
// through a General MIDI soundfont. Every musical rule is listed in man/hitdna-sketch.1
// (THE ARRANGEMENT); the same target and seed always give the same sketch, and different seeds
// give different progressions, grooves, instruments and motifs.
#include <cstdint>
#include <string>
#include <vector>

#include "hitdna/enrich/target.hpp"

namespace hitdna::sketch {

constexpr int k_ppq = 480;  // ticks per quarter note

struct Note {
    int64_t tick = 0, length = 0;  // ticks
    int key = 60;                  // MIDI note number
    int velocity = 100;            // 1..127
};

// A controller or program change at a tick (program changes have controller -1).
struct Control {
    int64_t tick = 0;
    int controller = 0;  // 7 volume, 10 pan, 11 expression, 91 reverb send; -1: program change
    int value = 0;       // 0..127
};

struct Track {
    std::string name;     // "drums", "bass", "chords", "lead", "fx"
    int channel = 0;      // 0-based; drums on 9 (General MIDI channel 10)
    int program = 0;      // General MIDI program, 0-based (ignored on channel 9)
    std::vector<Note> notes;
    std::vector<Control> controls;
};

struct Tempo {
    int64_t tick = 0;
    double bpm = 120;
    uint32_t us_per_quarter = 500000;  // as written in the file: round(60e6 / bpm)
};

struct Meter {
    int64_t tick = 0;
    int numerator = 4, denominator = 4;
};

struct Marker {
    int64_t tick = 0;
    std::string text;  // "A hook", "B verse (build)"
};

// One section as placed on the grid: the target's section snapped to the nearest beat.
struct Section {
    std::string role, label;
    int64_t start_tick = 0, end_tick = 0;
    int bars = 0;            // bar lines it starts, the first included
    bool build = false, drop = false;
    double energy_lu = 0;    // the target's section level, LU re integrated loudness
    std::vector<int> chords; // one chord per bar, as scale degrees 0..6 (the progression, cycled)
    int progression = 0;     // index in the role's list of progressions (man page)
    // Which of the distinct labels with this role it is, in order of first appearance (repeats
    // of a label share it): different parts of one role get different progressions, grooves
    // and comping, so that the form is heard.
    int variant = 0;
    // Chords in the upper half of their range. A new label takes the other half from the
    // section before it; a repeat keeps its label's, so repeats sound alike (a lifted pass,
    // below, takes the other).
    bool high = false;
    // Its place in a run of sections of one label and role side by side (0: the run's first).
    // An odd pass is the part played again, lifted: chords in the other half of the range and
    // the ride for the hats, so that the join is heard.
    int pass = 0;
};

struct Bar {
    int64_t tick = 0, end = 0;  // where it starts and ends (a short bar ends where its section does)
    int beats = 4;           // quarter notes in this bar, rounded up (a short last bar before a section: 1..3)
    size_t section = 0;
    int index_in_section = 0;
    double level_lu = 0;     // the target plan's level at the bar's middle (enrich::plan_level), LU
};

struct Sketch {
    double bpm = 120;
    int tonic = 0;           // pitch class 0..11
    bool minor = false;
    int key_sharps = 0;      // key signature: sharps (> 0) or flats (< 0)
    std::vector<Tempo> tempo;
    std::vector<Meter> meter;
    std::vector<Marker> markers;
    std::vector<Section> sections;
    std::vector<Bar> bars;
    std::vector<Track> tracks;
    int64_t end_tick = 0;
    uint32_t seed = 1;
    double energy_contrast = 1.0;
    std::vector<int> motif_hook_bars;  // first bar of every hook occurrence that carries the motif
    std::string summary;     // the choices in words: progressions, instruments, motif
};

struct SketchOptions {
    uint32_t seed = 1;
    double energy_contrast = 1.0;  // scales the arc's LU offsets in the per-bar expression
};

// The arrangement of a target. Throws Error(usage) naming the field when the target cannot be
// sketched (no sections, a tempo outside 30..300 BPM, an unknown key).
Sketch make_sketch(const enrich::Target& target, const SketchOptions& options = {});

// Seconds at a tick and the tick at a time, through the sketch's tempo map.
double seconds_at(const Sketch& s, int64_t tick);
int64_t tick_at(const Sketch& s, double seconds);

// A scale degree (0 = the tonic) as a Roman numeral of its chord ("vi"; in minor "VI", V major).
const char* roman_numeral(int degree, bool minor);

// The General MIDI program names hitdna uses, for the summary ("Acoustic Grand Piano").
const char* program_name(int program);

}  // namespace hitdna::sketch
