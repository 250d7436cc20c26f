#pragma once
// Evaluation fixtures with exact truth: click tracks, General-MIDI renders (fluidsynth) of
// generated songs with known tempo and key, and splices of real excerpts in a known order.
#include <string>
#include <vector>

namespace hitdna::bench {

struct Fixture {
    std::string path;
    std::string kind;                // "click", "render", "splice", "real"
    double bpm = 0;                  // 0 = no tempo truth
    std::string key;                 // "A minor", "" = no key truth
    std::vector<double> boundaries;  // interior section boundaries (s); empty = none
    std::vector<int> labels;         // splices: the excerpt of each segment (same = repeat)
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

// Splices of excerpts of the given real songs (decoded with hitdna's decoder) in orders with
// repeats (A B A C ...); boundaries at the splice points.
std::vector<Fixture> make_splices(const std::string& dir, const std::vector<std::string>& songs, int count);

}  // namespace hitdna::bench
