// The hook's lead motif, the effects track and the dynamics of a sketch (man/hitdna-sketch.1).
#include <algorithm>
#include <cmath>
#include <vector>

#include "hitdna/sketch/detail/parts.hpp"

namespace hitdna::sketch::detail {

namespace {

struct MotifNote {
    int pos16, len16;  // within the motif's two bars
    int degree;        // scale degree relative to the tonic (may leave 0..6)
};

// Two-bar rhythms, (16th position, length in 16ths).
const std::vector<std::vector<std::pair<int, int>>>& rhythms() {
    static const std::vector<std::vector<std::pair<int, int>>> r = {
        {{0, 2}, {2, 2}, {4, 4}, {8, 2}, {10, 2}, {12, 4}, {16, 2}, {18, 2}, {20, 2}, {22, 2}, {24, 8}},
        {{0, 3}, {3, 3}, {6, 2}, {8, 4}, {12, 4}, {16, 4}, {20, 4}, {24, 8}},
        {{2, 2}, {4, 2}, {6, 4}, {10, 2}, {12, 4}, {16, 2}, {18, 2}, {20, 4}, {24, 8}},
        {{0, 4}, {4, 2}, {6, 2}, {8, 6}, {14, 2}, {16, 4}, {20, 2}, {22, 2}, {24, 8}},
    };
    return r;
}

// Root, third or fifth of the triad on `chord`: 0, 2 or 4 scale steps above it.
bool chord_tone(int degree, int chord) {
    const int step = ((degree - chord) % 7 + 7) % 7;
    return step == 0 || step == 2 || step == 4;
}

// The nearest degree to `d` that is a tone of the triad on `chord` (up first on a tie).
int snap(int d, int chord) {
    for (int k : {0, 1, -1, 2, -2})
        if (chord_tone(d + k, chord)) return d + k;
    return d;
}

// The motif: a rhythm and a contour of scale steps, from the seed; it starts on a tone of I
// and ends on one.
std::vector<MotifNote> make_motif(uint32_t seed) {
    Rng rng(mix(seed, "motif"));
    const auto& rhythm = rhythms()[size_t(rng.below(int(rhythms().size())))];
    static const int starts[3] = {0, 2, 4};
    int d = starts[rng.below(3)];
    static const int steps[6] = {-2, -1, -1, 1, 1, 2};
    std::vector<MotifNote> m;
    for (size_t i = 0; i < rhythm.size(); ++i) {
        if (i) d = std::clamp(d + steps[rng.below(6)], -3, 9);
        m.push_back({rhythm[i].first, rhythm[i].second, d});
    }
    m.back().degree = snap(m.back().degree, 0);
    return m;
}

// The lead's key for a scale degree: around C5..G6.
int lead_key(const Sketch& s, int degree) {
    const int base = 72 + s.tonic - (s.tonic > 6 ? 12 : 0);
    const int octave = degree >= 0 ? degree / 7 : -((6 - degree) / 7);
    return base + 12 * octave + (scale_pc(s, degree) - s.tonic + 12) % 12;
}

}  // namespace

void add_lead(const enrich::Target&, Sketch& s) {
    static const int programs[6] = {80, 81, 73, 11, 56, 65};
    Track tr{"lead", 2, programs[mix(s.seed, "lead") % 6], {}, {}};
    const auto motif = make_motif(s.seed);
    size_t last_hook = s.sections.size();
    for (size_t i = 0; i < s.sections.size(); ++i)
        if (s.sections[i].role == "hook") last_hook = i;
    for (size_t bi = 0; bi < s.bars.size(); ++bi) {
        const Bar& b = s.bars[bi];
        const Section& sec = s.sections[b.section];
        if (sec.role != "hook" || b.index_in_section % 2 != 0) continue;
        if (b.index_in_section == 0) s.motif_hook_bars.push_back(int(bi));
        // The last hook's last whole statement is the varied one (its tag): the hook's earlier
        // statements, as every other hook's, stay the motif, so the part is heard as the hook.
        const bool varied = b.section == last_hook && b.index_in_section == std::max(0, sec.bars - 2) / 2 * 2;
        for (const auto& n : motif) {
            const size_t at = bi + size_t(n.pos16 / 16);
            if (at >= s.bars.size() || s.bars[at].section != b.section) break;
            const Feel f = feel(s, at);
            // The varied statement answers its first bar an octave up.
            int d = n.degree + (varied && n.pos16 >= 16 ? 7 : 0);
            if (n.pos16 % 8 == 0) d = snap(d, f.chord);
            const Bar& nb = s.bars[at];
            const int pos = n.pos16 % 16;
            if (pos >= nb.beats * 4) continue;
            const int64_t tick = nb.tick + pos * (k_ppq / 4);
            if (tick >= nb.end) continue;
            const int64_t end = std::min(nb.end, tick + n.len16 * (k_ppq / 4));
            tr.notes.push_back({tick, std::max<int64_t>(1, end - tick - 10), lead_key(s, d), std::clamp(f.velocity + (pos % 8 == 0 ? 5 : -5), 1, 127)});
        }
    }
    // The last hook ends on the tonic.
    if (last_hook < s.sections.size() && !tr.notes.empty()) {
        auto& n = tr.notes.back();
        const int tonic = lead_key(s, 0);
        n.key = tonic + 12 * int(std::lround((n.key - tonic) / 12.0));
    }
    s.tracks.push_back(std::move(tr));
}

void add_fx(const enrich::Target&, Sketch& s) {
    Track tr{"fx", 3, 119, {}, {}};  // a reverse cymbal swells through the last two beats of each build
    for (const auto& b : s.bars) {
        const Section& sec = s.sections[b.section];
        const int64_t at = std::max(b.tick, b.end - 2 * k_ppq);
        if (sec.build && b.index_in_section == sec.bars - 1) tr.notes.push_back({at, b.end - at - 10, 60, 110});
    }
    if (!tr.notes.empty()) s.tracks.push_back(std::move(tr));
}

void add_dynamics(const enrich::Target& t, Sketch& s) {
    double top = -1e9;
    for (const auto& b : s.bars) top = std::max(top, b.level_lu);
    // Pan spread from the target's stereo width (side / (mid + side)): 0 -> all centred,
    // 0.35 and wider -> chords 48 steps left, lead 34 right.
    const double spread = std::clamp(t.production.mean_width / 0.35, 0.0, 1.0);
    for (auto& tr : s.tracks) {
        int pan = 64, reverb = 30;
        if (tr.name == "chords") pan = 64 - int(std::lround(48 * spread)), reverb = 50;
        if (tr.name == "lead") pan = 64 + int(std::lround(34 * spread)), reverb = 40;
        if (tr.name == "bass") reverb = 0;
        if (tr.channel != 9) tr.controls.push_back({0, -1, tr.program});
        tr.controls.push_back({0, 7, 100});
        tr.controls.push_back({0, 10, pan});
        tr.controls.push_back({0, 91, reverb});
        // Expression per bar: the arc's level under the loudest bar, through General MIDI's
        // 40 log10(value / 127) dB curve.
        int last = -1;
        for (const auto& b : s.bars) {
            const int cc = std::clamp(int(std::lround(127 * std::pow(10.0, s.energy_contrast * (b.level_lu - top) / 40))), 8, 127);
            if (cc != last) tr.controls.push_back({b.tick, 11, cc}), last = cc;
        }
    }
}

}  // namespace hitdna::sketch::detail
