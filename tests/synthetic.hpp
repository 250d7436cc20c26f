#pragma once
// Synthetic catalog tracks for the catalog, index, filter and match tests, sync tests and
// benchmarks: the analyzed DNA of a toy song, track metadata by name, and the DNA of a short
// tone with random track vectors and a chosen number of sections with random section vectors.
// Header-only so that tests and benchmarks share it.
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "hitdna/analysis/analyze.hpp"
#include "hitdna/store/catalog.hpp"
#include "signals.hpp"

namespace hitdna::test {

// The DNA of toy_song(variant, seconds), as analyze_samples gives it (name "songV").
inline dna::Dna song_dna(int variant, double seconds = 24) {
    auto s = toy_song(variant, seconds);
    return analysis::analyze_samples(s.samples.data(), s.frames(), s.rate, s.channels, "song" + std::to_string(variant));
}

// Track metadata with only an artist and a title.
inline store::TrackMeta meta(const std::string& artist, const std::string& title) {
    store::TrackMeta m;
    m.artist = artist;
    m.title = title;
    return m;
}

inline dna::Dna tone_dna() {
    std::vector<float> tone(22050 * 4);
    for (size_t i = 0; i < tone.size(); ++i) tone[i] = 0.3f * float(std::sin(2 * 3.14159265 * 220 * double(i) / 22050));
    return analysis::analyze_samples(tone.data(), tone.size(), 22050, 1, "tone");
}

// Track i gets random vectors (from seed, i and revision), `sections` sections of 12 s,
// metadata "Artist i" / "Song i", a genre from a list of four, year 1990 + i % 35 and a chart
// peak for every third track. The content hash is "syn-SEED-i": the same seed and i again
// replaces that track's analysis (a re-analysis; change `revision` to change its vectors).
// Section s of a synthetic track: len_s long, labels A-D in turn, a pop form's roles.
inline dna::Section synthetic_section(int s, double len_s) {
    static const char* roles[] = {"intro", "verse", "hook", "verse", "hook", "bridge", "hook", "outro"};
    dna::Section sec;
    sec.start_s = len_s * s;
    sec.end_s = len_s * (s + 1);
    sec.label = std::string(1, char('A' + s % 4));
    sec.role = roles[s % 8];
    return sec;
}

// Track i's metadata: "Artist i" / "Song i", a genre from a list of four, year 1990 + i % 35,
// source chart (no chart entries).
inline store::TrackMeta synthetic_meta(int i) {
    store::TrackMeta m;
    m.title = "Song " + std::to_string(i);
    m.artist = "Artist " + std::to_string(i);
    static const char* genres[] = {"pop", "phonk", "hip-hop", "house"};
    m.genres = {genres[i % 4]};
    m.year = 1990 + i % 35;
    m.source = "chart";
    return m;
}

inline int64_t put_synthetic_track(store::Catalog& cat, const dna::Dna& base, int i, int sections, uint32_t seed, int revision = 0) {
    std::mt19937 rng(seed * 7919u + uint32_t(i) * 104729u + uint32_t(revision) * 15485863u);
    std::normal_distribution<float> g(0.5f, 0.2f);
    dna::Dna d = base;
    for (auto* v : {&d.vectors.audio, &d.vectors.structure, &d.vectors.emotion, &d.vectors.production})
        for (auto& e : *v) e = g(rng);
    d.structure.sections.clear();
    d.vectors.sections.clear();
    const size_t dims = dna::dimensions(dna::Space::sections).size();
    for (int s = 0; s < sections; ++s) {
        d.structure.sections.push_back(synthetic_section(s, 12.0));
        std::vector<float> v(dims);
        for (auto& e : v) e = g(rng);
        d.vectors.sections.push_back(v);
    }
    d.duration_s = 12.0 * std::max(1, sections);
    store::TrackMeta m = synthetic_meta(i);
    m.names_authoritative = true;
    if (i % 3 == 0) {
        store::ChartEntry e;
        e.chart = "Hot 100";
        e.date = "2024-01-06";
        e.rank = 1 + i % 100;
        e.peak_rank = 1 + i % 50;
        m.charts.push_back(e);
    }
    return cat.put_track("syn-" + std::to_string(seed) + "-" + std::to_string(i), "/synthetic/" + std::to_string(i) + ".wav", m, d);
}

}  // namespace hitdna::test
