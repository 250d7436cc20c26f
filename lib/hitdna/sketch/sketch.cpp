#include "hitdna/sketch/sketch.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <map>
#include <tuple>

#include "hitdna/core/error.hpp"
#include "hitdna/core/text.hpp"
#include "hitdna/dna/dna.hpp"
#include "hitdna/enrich/form.hpp"
#include "hitdna/sketch/detail/parts.hpp"

namespace hitdna::sketch {

constexpr std::array<int, 7> k_major_scale = {0, 2, 4, 5, 7, 9, 11};
constexpr std::array<int, 7> k_minor_scale = {0, 2, 3, 5, 7, 8, 10};

using detail::mix;

namespace detail {

uint32_t mix(uint32_t seed, const std::string& what) {
    uint32_t h = 2166136261u ^ seed;
    for (char c : what) h = (h ^ uint8_t(c)) * 16777619u;
    return h;
}

int scale_pc(const Sketch& s, int degree) {
    const auto& scale = s.minor ? k_minor_scale : k_major_scale;
    return (s.tonic + scale[size_t(((degree % 7) + 7) % 7)]) % 12;
}

std::array<int, 3> triad(const Sketch& s, int degree) {
    std::array<int, 3> pc{};
    for (int i = 0; i < 3; ++i) pc[size_t(i)] = scale_pc(s, degree + 2 * i);
    if (s.minor && degree % 7 == 4) pc[1] = (pc[1] + 1) % 12;  // V is major in minor
    return pc;
}

}  // namespace detail

namespace {

// The role whose progressions a section plays: intros and outros the hook's (another of
// them than the hook's own), unknown roles the verse's.
std::string family(const std::string& role) {
    if (role == "intro" || role == "outro") return "hook";
    return role == "hook" || role == "verse" || role == "pre-hook" || role == "bridge" ? role : "verse";
}

// Progressions, one chord per step, as scale degrees (0 = I). Minor keys use the natural minor
// scale with a major V (the raised leading tone). Documented in man/hitdna-sketch.1.
const std::vector<std::vector<int>>& progressions(const std::string& role, bool minor) {
    static const std::map<std::string, std::vector<std::vector<int>>> major = {
        {"hook", {{0, 4, 5, 3}, {0, 5, 3, 4}, {0, 3, 5, 4}}},
        {"verse", {{5, 3, 0, 4}, {0, 2, 3, 4}, {0, 3, 0, 4}}},
        {"pre-hook", {{3, 4, 3, 4}, {1, 3, 4, 4}, {3, 5, 4, 4}}},
        {"bridge", {{3, 4, 2, 5}, {5, 4, 3, 4}, {3, 0, 4, 5}}},
    };
    static const std::map<std::string, std::vector<std::vector<int>>> minor_ = {
        {"hook", {{0, 5, 2, 6}, {0, 3, 5, 4}, {0, 5, 3, 4}}},
        {"verse", {{0, 6, 5, 6}, {0, 3, 0, 4}, {0, 5, 6, 0}}},
        {"pre-hook", {{3, 4, 3, 4}, {5, 6, 4, 4}, {3, 5, 4, 4}}},
        {"bridge", {{5, 6, 0, 0}, {3, 0, 5, 4}, {2, 6, 0, 4}}},
    };
    return (minor ? minor_ : major).at(family(role));
}

// Key signature of a tonic and mode: sharps > 0, flats < 0; names with 'b' take flats, and
// the keys the analyzer names with sharps (C#, F#) their usual signature.
int key_signature(int tonic, bool minor, const std::string& name) {
    const int major_tonic = minor ? (tonic + 3) % 12 : tonic;
    static const std::array<int, 12> sharps = {0, -5, 2, -3, 4, -1, 6, 1, -4, 3, -2, 5};  // major keys C..B
    int sf = sharps[size_t(major_tonic)];
    if (name.find('b') != std::string::npos && sf > 0) sf -= 12;
    if (name.find('#') != std::string::npos && sf < 0) sf += 12;
    return sf;
}

int64_t beat_ticks(double beats) { return int64_t(std::llround(beats * k_ppq)); }

// The tempo map: the target's tempo from 0, then each held change on the beat nearest its time.
void map_tempo(const enrich::Target& t, Sketch& s) {
    s.tempo.push_back({0, t.bpm, uint32_t(std::lround(60e6 / t.bpm))});
    for (const auto& c : t.tempo_changes) {
        const int64_t tick = beat_ticks(std::round(double(tick_at(s, c.time_s)) / k_ppq));
        if (tick <= s.tempo.back().tick) continue;
        s.tempo.push_back({tick, c.bpm, uint32_t(std::lround(60e6 / c.bpm))});
    }
}

// The grid: sections snapped to whole beats through the tempo map, each cut into 4/4 bars
// from its start (a remainder of 1..3 beats is a short bar with its own meter).
void lay_out(const enrich::Target& t, Sketch& s) {
    s.end_tick = std::max<int64_t>(k_ppq, tick_at(s, t.duration_s));
    for (size_t i = 0; i < t.sections.size(); ++i) {
        const auto& p = t.sections[i];
        Section sec;
        sec.role = p.role;
        sec.label = p.label;
        sec.build = p.build;
        sec.drop = p.drop;
        sec.energy_lu = p.energy_lu;
        sec.start_tick = beat_ticks(std::round(double(tick_at(s, p.start_s)) / k_ppq));
        if (!s.sections.empty() && sec.start_tick <= s.sections.back().start_tick) continue;  // shorter than half a beat
        if (sec.start_tick >= s.end_tick) break;
        s.sections.push_back(sec);
    }
    if (s.sections.empty()) throw Error(ErrorKind::usage, "the target has no sections to sketch");
    s.sections.front().start_tick = 0;
    for (size_t i = 0; i < s.sections.size(); ++i) s.sections[i].end_tick = i + 1 < s.sections.size() ? s.sections[i + 1].start_tick : s.end_tick;
    s.meter.push_back({0, 4, 4});
    for (size_t si = 0; si < s.sections.size(); ++si) {
        auto& sec = s.sections[si];
        int index = 0;
        for (int64_t at = sec.start_tick; at < sec.end_tick; at += 4 * k_ppq, ++index) {
            const int beats = int(std::min<int64_t>(4, (sec.end_tick - at + k_ppq - 1) / k_ppq));
            Bar b;
            b.tick = at;
            b.end = std::min(at + 4 * k_ppq, sec.end_tick);
            b.beats = std::max(1, beats);
            b.section = si;
            b.index_in_section = index;
            const double mid = seconds_at(s, at + b.beats * k_ppq / 2);
            b.level_lu = enrich::plan_level(t.sections, mid, t.bpm);
            s.bars.push_back(b);
        }
        sec.bars = index;
    }
    // Meter changes where a bar is short, and back to 4/4 after it.
    for (size_t i = 0; i < s.bars.size(); ++i) {
        const int prev = s.meter.back().numerator;
        if (s.bars[i].beats != prev) s.meter.push_back({s.bars[i].tick, s.bars[i].beats, 4});
    }
}

// Each section's variant (its label's order among the labels of its role), pass (its place in
// a run of one part side by side) and register (a new label the other half from the section
// before it, a repeat its label's, a lifted pass the other).
void assign_variants(Sketch& s) {
    std::map<std::string, std::map<std::string, int>> order;  // role family -> label -> variant
    std::map<std::string, bool> high;
    for (size_t i = 0; i < s.sections.size(); ++i) {
        auto& sec = s.sections[i];
        auto& labels = order[family(sec.role)];
        if (!labels.count(sec.label)) labels.emplace(sec.label, int(labels.size()));
        sec.variant = labels[sec.label];
        if (!high.count(sec.label)) high[sec.label] = i > 0 && !s.sections[i - 1].high;
        const Section* before = i > 0 ? &s.sections[i - 1] : nullptr;
        sec.pass = before && before->label == sec.label && before->role == sec.role ? before->pass + 1 : 0;
        sec.high = high[sec.label] != (sec.pass % 2 == 1);
    }
}

// Chords per bar: one progression per label (repeats of a label are the same music), one
// chord per bar (per two bars at 140 BPM and above, except in a pre-hook); a pre-hook ends on
// V, an outro on I.
void choose_harmony(Sketch& s) {
    std::map<std::string, int> chosen;
    for (auto& sec : s.sections) {
        // A pre-hook keeps one chord per bar at any tempo: its progressions end on V twice, and
        // at two bars a chord its second half held V for four bars, which the analyzer heard
        // as the hook arriving there (tune split, bench_sketch).
        const int per = s.bpm >= 140 && sec.role != "pre-hook" ? 2 : 1;
        const auto& options = progressions(sec.role, s.minor);
        const std::string key = sec.label + "/" + sec.role;
        // The family's progressions in a seeded order, one per label: two verses (or an intro
        // and the hook) with different labels play different progressions while the family has
        // enough.
        if (!chosen.count(key)) chosen[key] = int((mix(s.seed, "progression " + family(sec.role)) + uint32_t(sec.variant)) % options.size());
        sec.progression = chosen[key];
        const auto& prog = options[size_t(sec.progression)];
        for (int b = 0; b < sec.bars; ++b) sec.chords.push_back(prog[size_t((b / per) % int(prog.size()))]);
        if (sec.role == "pre-hook" && sec.bars > 0) sec.chords.back() = 4;
        if (sec.role == "outro" && sec.bars > 0) sec.chords.back() = 0;
    }
    // A turnaround: a section of two bars or more that leads into the tonic ends on V (major
    // in minor, with the leading tone), so that every arrival home is a cadence that names
    // the key.
    for (size_t i = 0; i + 1 < s.sections.size(); ++i) {
        auto& c = s.sections[i].chords;
        const auto& next = s.sections[i + 1].chords;
        if (c.size() >= 2 && !next.empty() && next.front() == 0) c.back() = 4;
    }
    if (!s.sections.empty() && !s.sections.back().chords.empty()) s.sections.back().chords.back() = 0;  // end home
    // Into a drop: the build's last chord (V, when the drop starts home) comes a bar before
    // the breakdown of its last two bars and holds through it, so the band dropping out is no
    // new harmony. A chord change there too was heard as the section starting two bars early,
    // and the drop, under 8 s later, was then no boundary (tune split, bench_sketch).
    for (size_t i = 0; i + 1 < s.sections.size(); ++i) {
        auto& c = s.sections[i].chords;
        if (s.sections[i].build && s.sections[i + 1].drop && c.size() >= 4) c[c.size() - 3] = c[c.size() - 2] = c.back();
    }
}

// Notes sorted; of two on one key and tick the louder kept; a note cut where the next on its
// key starts, so that no note-off ends a later note.
void tidy(Track& tr) {
    auto& v = tr.notes;
    std::sort(v.begin(), v.end(), [](const Note& a, const Note& b) { return std::tie(a.key, a.tick, b.velocity) < std::tie(b.key, b.tick, a.velocity); });
    std::vector<Note> out;
    for (const auto& n : v) {
        if (!out.empty() && out.back().key == n.key) {
            if (out.back().tick == n.tick) continue;
            if (out.back().tick + out.back().length >= n.tick) out.back().length = n.tick - out.back().tick - 1;
        }
        out.push_back(n);
    }
    std::erase_if(out, [](const Note& n) { return n.length <= 0; });
    std::sort(out.begin(), out.end(), [](const Note& a, const Note& b) { return std::tie(a.tick, a.key) < std::tie(b.tick, b.key); });
    v = std::move(out);
}

// The markers: one per section, "<label> <role>", with "(build)" or "(drop)".
void add_markers(Sketch& s) {
    for (const auto& sec : s.sections) {
        std::string text = sec.label + " " + sec.role;
        if (sec.build) text += " (build)";
        if (sec.drop) text += " (drop)";
        s.markers.push_back({sec.start_tick, text});
    }
}

// The choices in words: key, progressions per label, instruments.
std::string describe(const enrich::Target& t, const Sketch& s) {
    std::string out = "key " + t.key + " " + t.mode + ", " + std::to_string(int(std::lround(t.bpm))) + " BPM";
    for (size_t i = 1; i < s.tempo.size(); ++i) {
        char b[64];
        std::snprintf(b, sizeof b, "%s%g BPM at %s", i == 1 ? " (then " : ", ", std::round(s.tempo[i].bpm * 10) / 10,
                      core::mmss(seconds_at(s, s.tempo[i].tick)).c_str());
        out += b;
    }
    out += std::string(s.tempo.size() > 1 ? ")" : "") + "; progressions:";
    std::map<std::string, bool> seen;
    for (const auto& sec : s.sections) {
        if (seen[sec.label + sec.role]) continue;
        seen[sec.label + sec.role] = true;
        out += " " + sec.label + " " + sec.role + " ";
        for (size_t i = 0; i < std::min<size_t>(4, sec.chords.size()); ++i) out += std::string(i ? "-" : "") + roman_numeral(sec.chords[i], s.minor);
        out += ";";
    }
    out += " instruments:";
    for (const auto& tr : s.tracks) {
        if (tr.channel == 9) {
            out += " " + tr.name + " GM drum kit,";
            continue;
        }
        // A part that changes instrument by section lists each, in order of entry.
        std::vector<int> used = {tr.program};
        for (const auto& c : tr.controls)
            if (c.controller < 0 && std::find(used.begin(), used.end(), c.value) == used.end()) used.push_back(c.value);
        out += " " + tr.name;
        for (size_t i = 0; i < used.size(); ++i) out += std::string(i ? " / " : " ") + program_name(used[i]);
        out += ",";
    }
    out.back() = '.';
    return out;
}

}  // namespace

namespace detail {

Feel feel(const Sketch& s, size_t bar) {
    const Bar& b = s.bars[bar];
    const Section& sec = s.sections[b.section];
    double lo = 1e9, hi = -1e9;
    for (const auto& x : s.sections) lo = std::min(lo, x.energy_lu), hi = std::max(hi, x.energy_lu);
    Feel f;
    f.role = sec.role;
    f.intensity = hi - lo > 0.5 ? (sec.energy_lu - lo) / (hi - lo) : 0.7;
    f.breakdown = b.level_lu < sec.energy_lu - 8;
    f.last = b.index_in_section == sec.bars - 1 && b.section + 1 < s.sections.size();
    f.build_end = sec.build && b.index_in_section >= sec.bars - 2;
    f.section_start = b.index_in_section == 0;
    f.chord = sec.chords.empty() ? 0 : sec.chords[size_t(std::min(b.index_in_section, int(sec.chords.size()) - 1))];
    f.velocity = std::clamp(int(std::lround(64 + 50 * f.intensity)), 1, 127);
    return f;
}

}  // namespace detail

Sketch make_sketch(const enrich::Target& t, const SketchOptions& o) {
    if (!(t.bpm >= 30 && t.bpm <= 300)) throw Error(ErrorKind::usage, "target bpm " + std::to_string(t.bpm) + " is outside 30..300");
    if (!(t.duration_s > 0 && t.duration_s <= 3600)) throw Error(ErrorKind::usage, "target duration_s must be in 0..3600 s");
    for (const auto& c : t.tempo_changes)
        if (!(c.bpm >= 30 && c.bpm <= 300)) throw Error(ErrorKind::usage, "target tempo_changes bpm " + std::to_string(c.bpm) + " is outside 30..300");
    Sketch s;
    s.seed = o.seed;
    s.energy_contrast = o.energy_contrast;
    s.bpm = t.bpm;
    s.tonic = dna::pitch_index(t.key);
    if (s.tonic < 0) {
        static const std::map<std::string, int> flats = {{"Db", 1}, {"D#", 3}, {"Gb", 6}, {"G#", 8}, {"A#", 10}, {"Cb", 11}, {"E#", 5}, {"Fb", 4}, {"B#", 0}};
        auto it = flats.find(t.key);
        if (it == flats.end()) throw Error(ErrorKind::usage, "target key '" + t.key + "' is not a pitch name (C, C#, Db, ... B)");
        s.tonic = it->second;
    }
    if (t.mode != "major" && t.mode != "minor") throw Error(ErrorKind::usage, "target mode '" + t.mode + "' is not major or minor");
    s.minor = t.mode == "minor";
    s.key_sharps = key_signature(s.tonic, s.minor, t.key);
    map_tempo(t, s);
    lay_out(t, s);
    assign_variants(s);
    choose_harmony(s);
    detail::add_drums(t, s);
    detail::add_bass(t, s);
    detail::add_chords(t, s);
    detail::add_lead(t, s);
    detail::add_fx(t, s);
    for (auto& tr : s.tracks) tidy(tr);
    detail::add_dynamics(t, s);
    add_markers(s);
    s.summary = describe(t, s);
    return s;
}

double seconds_at(const Sketch& s, int64_t tick) {
    double sec = 0;
    for (size_t i = 0; i < s.tempo.size(); ++i) {
        const int64_t from = s.tempo[i].tick, to = i + 1 < s.tempo.size() ? std::min(tick, s.tempo[i + 1].tick) : tick;
        if (to <= from) break;
        sec += double(to - from) / k_ppq * s.tempo[i].us_per_quarter / 1e6;
    }
    return sec;
}

int64_t tick_at(const Sketch& s, double seconds) {
    double left = seconds;
    for (size_t i = 0; i < s.tempo.size(); ++i) {
        const double q = s.tempo[i].us_per_quarter / 1e6;
        if (i + 1 < s.tempo.size()) {
            const double span = double(s.tempo[i + 1].tick - s.tempo[i].tick) / k_ppq * q;
            if (left > span) {
                left -= span;
                continue;
            }
        }
        return s.tempo[i].tick + int64_t(std::llround(left / q * k_ppq));
    }
    return 0;
}

const char* roman_numeral(int degree, bool minor) {
    static const char* maj[7] = {"I", "ii", "iii", "IV", "V", "vi", "vii"};
    static const char* min[7] = {"i", "ii", "III", "iv", "V", "VI", "VII"};
    return (minor ? min : maj)[((degree % 7) + 7) % 7];
}

const char* program_name(int p) {
    static const std::map<int, const char*> names = {
        {0, "Acoustic Grand Piano"}, {4, "Electric Piano 1"}, {5, "Electric Piano 2"}, {11, "Vibraphone"}, {33, "Electric Bass (finger)"},
        {34, "Electric Bass (pick)"}, {38, "Synth Bass 1"}, {39, "Synth Bass 2"}, {48, "String Ensemble 1"}, {56, "Trumpet"},
        {65, "Alto Sax"}, {73, "Flute"}, {80, "Lead 1 (square)"}, {81, "Lead 2 (sawtooth)"}, {89, "Pad 2 (warm)"}, {119, "Reverse Cymbal"}};
    auto it = names.find(p);
    return it == names.end() ? "General MIDI program" : it->second;
}

}  // namespace hitdna::sketch
