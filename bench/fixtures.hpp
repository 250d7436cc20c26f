#pragma once
// Evaluation fixtures with exact truth: click tracks, General-MIDI renders (fluidsynth) of
// generated songs with known tempo, key, beats and chords.
#include <string>
#include <vector>

namespace hitdna::bench {

struct Fixture {
    std::string path;
    std::string kind;                // "click", "render", "real"
    double bpm = 0;                  // 0 = no tempo truth
    std::string key;                 // "A minor", "" = no key truth
    double duration_s = 0;
    std::string note;
    std::vector<double> beats;       // exact beat times (s); empty = none
    std::vector<std::pair<double, std::string>> chords;  // renders: chord start (s) and label
};

// Click tracks at 60..200 BPM (44.1 kHz WAV) into dir; returns them.
std::vector<Fixture> make_click_tracks(const std::string& dir);

// Generated songs rendered with fluidsynth + soundfont; empty (with a message on stderr) when
// fluidsynth or the soundfont is missing.
std::vector<Fixture> make_renders(const std::string& dir, const std::string& soundfont);

}  // namespace hitdna::bench
