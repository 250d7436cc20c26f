// The parts of a sketch: drums, bass, chords, the hook's lead motif, effects and dynamics.
// The rules are listed in man/hitdna-sketch.1 (THE ARRANGEMENT).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <vector>

#include "hitdna/sketch/detail/parts.hpp"

namespace hitdna::sketch::detail {

namespace {

// General MIDI drum keys (channel 10).
enum Drum { kick = 36, snare = 38, clap = 39, closed_hat = 42, open_hat = 46, low_tom = 45, mid_tom = 47, high_tom = 50, crash = 49, ride = 51 };

constexpr int64_t k_16th = k_ppq / 4;

int vel(int base, int delta) { return std::clamp(base + delta, 1, 127); }

// Adds a note at a 16th position of a bar, cut at the bar's end (`beats` quarters long).
void put(Track& tr, const Bar& b, int pos16, int len16, int key, int velocity) {
    if (pos16 >= b.beats * 4) return;
    const int64_t at = b.tick + pos16 * k_16th;
    if (at >= b.end) return;
    const int64_t end = std::min(b.end, at + std::max(1, len16) * k_16th);
    tr.notes.push_back({at, std::max<int64_t>(1, end - at - 10), key, velocity});
}

// Below 96 BPM the parts halve their subdivision, so that the beat is heard at the written
// tempo and not twice it (man hitdna-sketch; tune targets moved to 84..92 BPM were heard at
// double in 29 of 78 with eighth-note hats, at 96 and 104 BPM in none).
bool slow(const Sketch& s) { return s.bpm < 96; }

// One bar of the drum groove for a role (kick, snare/clap, hats), as 16th positions. A lifted
// bar (a part played again: Section::pass) keeps time on the ride, a bridge's on the hats.
void groove(Track& tr, const Bar& b, const Feel& f, int style, bool slow, bool lifted) {
    const int v = f.velocity;
    const int hat = lifted ? ride : closed_hat, bridge_hat = lifted ? closed_hat : ride;
    auto hits = [&](std::initializer_list<int> pos, int key, int dv) {
        for (int p : pos) put(tr, b, p, 1, key, vel(v, dv));
    };
    if (f.role == "intro") {
        hits({0, 4, 8, 12}, hat, -25);
        if (f.intensity >= 0.4) hits({0, 8}, kick, -10);
        else hits({0}, kick, -25);  // the low end is there from the start: the verse is no drop
    } else if (f.role == "verse") {
        if (slow) hits({0, 4, 8, 12}, hat, -20);
        else hits({0, 2, 4, 6, 8, 10, 12, 14}, hat, -20);
        if (style == 0 || slow) hits({0, 8}, kick, 0);
        else if (style == 1) hits({0, 6, 8}, kick, 0);
        else hits({0, 8, 10}, kick, 0);
        hits({4, 12}, snare, 0);
    } else if (f.role == "pre-hook") {
        for (int p = 0; p < 16; p += slow ? 2 : 1) put(tr, b, p, 1, hat, vel(v, p % (slow ? 4 : 2) ? -30 : -15));
        hits({0, 8}, kick, 0);
        hits({4, 12}, snare, 5);
    } else if (f.role == "hook" || f.role == "drop") {
        if (style == 0 || slow) hits({0, 4, 8, 12}, kick, 5);
        else hits({0, 6, 8, 11}, kick, 5);
        hits({4, 12}, snare, 5);
        hits({4, 12}, clap, 0);
        if (!slow) hits({2, 6, 10, 14}, open_hat, -15);
        hits({0, 4, 8, 12}, hat, -25);
    } else if (f.role == "bridge") {
        hits({0}, kick, -5);
        hits({8}, snare, -5);
        hits({0, 4, 8, 12}, bridge_hat, -15);
    } else {  // outro and anything else
        hits({0, 8}, kick, -10);
        hits({0, 4, 8, 12}, hat, -25);
    }
}

// A snare roll through the last two bars of a build: 8ths, then 16ths, rising.
void roll(Track& tr, const Bar& b, bool final_bar) {
    const int step = final_bar ? 1 : 2;
    for (int p = 0; p < b.beats * 4; p += step) {
        const double x = (final_bar ? 0.5 : 0.0) + 0.5 * p / 16.0;
        put(tr, b, p, 1, snare, int(std::lround(45 + 75 * x)));
    }
}

// A fill on the last beat before a new section: toms down, or snare 16ths.
void fill(Track& tr, const Bar& b, const Feel& f, int style) {
    const int last = b.beats * 4 - 4;
    if (style == 0) {
        const int keys[4] = {high_tom, high_tom, mid_tom, low_tom};
        for (int i = 0; i < 4; ++i) put(tr, b, last + i, 1, keys[i], vel(f.velocity, 5 * i));
    } else {
        for (int i = 0; i < 4; ++i) put(tr, b, last + i, 1, snare, vel(f.velocity, -10 + 6 * i));
    }
}

// The bass note of a pitch class: 31..42 (G1..F#2).
int bass_key(int pc) {
    int k = 36 + pc;
    return k > 42 ? k - 12 : k;
}

// The voicing of a triad nearest to the previous one (three voices in 55..76), by total motion.
std::array<int, 3> voice(const std::array<int, 3>& pcs, const std::array<int, 3>& prev) {
    std::array<int, 3> best{};
    int best_cost = 1 << 30;
    for (int inv = 0; inv < 3; ++inv)
        for (int base = 48; base <= 72; base += 12) {
            std::array<int, 3> v{};
            int at = base + pcs[size_t(inv)];
            for (int i = 0; i < 3; ++i) {
                int k = base + pcs[size_t((inv + i) % 3)];
                while (k < at) k += 12;
                v[size_t(i)] = at = k;
            }
            if (v[0] < 55 || v[2] > 76) continue;
            int cost = 0;
            for (int i = 0; i < 3; ++i) cost += std::abs(v[size_t(i)] - prev[size_t(i)]);
            if (cost < best_cost) best_cost = cost, best = v;
        }
    return best;
}

}  // namespace

void add_drums(const enrich::Target&, Sketch& s) {
    Track tr{"drums", 9, 0, {}, {}};
    const int fill_style = int(mix(s.seed, "fill") % 2);
    for (size_t i = 0; i < s.bars.size(); ++i) {
        const Bar& b = s.bars[i];
        const Feel f = feel(s, i);
        const Section& sec = s.sections[b.section];
        if (f.section_start && (sec.role == "hook" || sec.drop)) put(tr, b, 0, 4, crash, vel(f.velocity, 10));
        if (f.build_end) {
            roll(tr, b, b.index_in_section == sec.bars - 1);
            if (!f.breakdown) put(tr, b, 0, 1, kick, f.velocity);
            continue;
        }
        if (f.breakdown) continue;
        // The groove's variation is chosen per repeat label: repeats groove alike, two
        // different verses do not (the variant steps through the role's grooves).
        const int style = int((mix(s.seed, "groove " + sec.role) + uint32_t(sec.variant + sec.variant / 3)) % 3);
        groove(tr, b, f, f.role == "hook" ? style % 2 : style, slow(s), sec.pass % 2 == 1);
        if (f.last) fill(tr, b, f, fill_style);
    }
    s.tracks.push_back(std::move(tr));
}

void add_bass(const enrich::Target& t, Sketch& s) {
    const bool long_808 = t.production.bass_808_sustain_s >= 0.5;
    const int program = long_808 ? 38 : mix(s.seed, "bass") % 2 ? 34 : 33;
    Track tr{"bass", 1, program, {}, {}};
    // Sustain of an 808 note in 16ths: the target's, at least a quarter.
    const int sustain16 = std::max(4, int(std::ceil(t.production.bass_808_sustain_s / (15.0 / s.bpm))));
    for (size_t i = 0; i < s.bars.size(); ++i) {
        const Bar& b = s.bars[i];
        const Feel f = feel(s, i);
        if (f.breakdown) continue;
        const auto tri = triad(s, f.chord);
        const int root = bass_key(tri[0]), fifth = bass_key(tri[2]);
        const int v = vel(f.velocity, 0);
        if (long_808) {
            const bool busy = f.role == "hook" || f.role == "pre-hook";
            put(tr, b, 0, busy ? std::min(sustain16, 10) : sustain16, root, v);
            if (busy) put(tr, b, 10, 6, root, vel(v, -10));
        } else if (f.role == "hook") {
            const int step = slow(s) ? 4 : 2;
            for (int p = 0; p < 16; p += step) put(tr, b, p, step, p >= 8 && p % 4 == 2 ? root + 12 : root, vel(v, p % 4 ? -15 : 0));
        } else if (f.role == "pre-hook") {
            for (int p = 0; p < 16; p += 4) put(tr, b, p, 4, root, vel(v, -5));
        } else if (f.role == "verse") {
            put(tr, b, 0, 6, root, v);
            put(tr, b, 6, 2, root, vel(v, -15));
            put(tr, b, 8, 4, root, vel(v, -5));
            put(tr, b, 14, 2, fifth, vel(v, -20));
        } else if (f.role == "bridge") {
            put(tr, b, 0, 8, root, v);
            put(tr, b, 8, 8, fifth, vel(v, -10));
        } else {
            put(tr, b, 0, 16, root, vel(v, -10));
        }
    }
    s.tracks.push_back(std::move(tr));
}

void add_chords(const enrich::Target&, Sketch& s) {
    // The seed's instrument for a role's first label; each further label of the role takes the
    // next instrument of its group (stabbing pianos, or holding strings and pad), so that two
    // different verses do not sound alike (a holding instrument among stabbing ones made the
    // analyzer hear 140 BPM targets at half tempo).
    static const int programs[5] = {0, 4, 48, 89, 5};
    static const std::vector<int> stabs = {0, 4, 5}, holds = {48, 89};
    const int seeded = programs[mix(s.seed, "chords") % 5];
    const bool held = seeded == 48 || seeded == 89;
    const auto& group = held ? holds : stabs;
    const size_t first = size_t(std::find(group.begin(), group.end(), seeded) - group.begin());
    // A family has three progressions (sketch.cpp), so with three instruments the step skips
    // one each time the progressions come round: no two of the first nine labels play the
    // same progression on the same instrument (with two instruments, of the first six).
    auto program_of = [&](const Section& sec) {
        const size_t v = size_t(sec.variant);
        return group[(first + v + (group.size() == 3 ? v / 3 : 0)) % group.size()];
    };
    Track tr{"chords", 0, s.sections.empty() ? seeded : program_of(s.sections.front()), {}, {}};
    int program = tr.program;
    std::array<int, 3> prev = {60, 64, 67};
    for (size_t i = 0; i < s.bars.size(); ++i) {
        const Bar& b = s.bars[i];
        const Feel f = feel(s, i);
        const Section& sec = s.sections[b.section];
        if (b.index_in_section == 0 && program_of(sec) != program) {
            program = program_of(sec);
            tr.controls.push_back({b.tick, -1, program});
        }
        const bool sustained = program == 48 || program == 89;  // strings and pads do not stab
        const int style = int((mix(s.seed, "comp " + sec.role) + uint32_t(sec.variant + sec.variant / 2)) % 2);  // per label, as the groove
        // Each label's register (sketch.hpp): at a section's start the voicing moves an octave
        // toward its half of the range when it is in the other, so a new part changes
        // register and a repeat sounds where its label did before.
        if (b.index_in_section == 0) {
            const bool is_high = prev[0] + prev[1] + prev[2] >= 3 * 64;
            if (is_high != sec.high)
                for (auto& k : prev) k += sec.high ? 12 : -12;
        }
        const auto v3 = voice(triad(s, f.chord), prev);
        prev = v3;
        auto chord = [&](int pos, int len, int dv) {
            for (int k : v3) put(tr, b, pos, len, k, vel(f.velocity, dv - 10));
        };
        if (f.breakdown || f.role == "intro" || f.role == "bridge" || f.role == "outro") {
            chord(0, 16, -15);
        } else if (f.role == "verse") {
            if (style == 0 || sustained) chord(0, 8, -10), chord(8, 8, -15);
            else chord(0, 6, -10), chord(6, 6, -15), chord(12, 4, -15);
        } else if (f.role == "pre-hook") {
            for (int p = 0; p < 16; p += 4) chord(p, sustained ? 4 : 3, p ? -10 : -5);
        } else if (sustained) {
            chord(0, 8, 0), chord(8, 8, -5);
            put(tr, b, 0, 16, v3[0] - 12, vel(f.velocity, -10));
        } else {
            // Eighth-note stabs; at 160 BPM and above quarters, the same number of stabs a
            // second as eighths at 80 BPM.
            const int step = s.bpm >= 160 || slow(s) ? 4 : 2;
            for (int p = 0; p < 16; p += step) chord(p, 1, p == 0 || p == 6 || p == 10 ? 0 : -15);
        }
    }
    s.tracks.push_back(std::move(tr));
}

}  // namespace hitdna::sketch::detail
