#pragma once
// Standard MIDI Files: a sketch written as format 1 (a conductor track with the tempo map,
// meters, key signature and section markers, then one track per part), and a reader for
// formats 0 and 1 that gives back notes, tempo map, meters, key signature and markers, so
// that a written file can be checked against its sketch.
#include <cstdint>
#include <string>
#include <vector>

#include "hitdna/sketch/sketch.hpp"

namespace hitdna::sketch {

// The file's bytes.
std::vector<uint8_t> midi_bytes(const Sketch& sketch);
// Writes the file atomically (a temporary file renamed over `path`); throws Error(io) naming it.
void write_midi(const std::string& path, const Sketch& sketch);

struct MidiNote {
    int64_t tick = 0, length = 0;
    int channel = 0, key = 0, velocity = 0;
};

struct MidiTrack {
    std::string name;
    std::vector<MidiNote> notes;
    std::vector<std::pair<int64_t, int>> programs;  // (tick, program) per program change
};

struct MidiFile {
    int format = 1, ppq = 480;
    std::vector<Tempo> tempo;     // bpm from us_per_quarter
    std::vector<Meter> meter;
    std::vector<Marker> markers;
    int key_sharps = 0;
    bool minor = false;
    bool has_key = false;
    std::vector<MidiTrack> tracks;
    int64_t end_tick = 0;         // the last end-of-track
};

// Parses a file's bytes; throws Error(decode) naming `source` and the cause (not a MIDI file,
// a truncated chunk, a running status without a status, SMPTE time division).
MidiFile parse_midi(const std::vector<uint8_t>& bytes, const std::string& source);
MidiFile read_midi(const std::string& path);

}  // namespace hitdna::sketch
