#include "hitdna/generate/synth.hpp"

#include <ebur128.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numbers>

#include "hitdna/core/error.hpp"
#include "hitdna/dna/dna.hpp"
#include "hitdna/enrich/form.hpp"

namespace hitdna::generate {

namespace {

constexpr double k_two_pi = 2 * std::numbers::pi;

struct Rng {
    uint32_t s;
    explicit Rng(uint32_t seed) : s(seed ? seed : 1) {}
    uint32_t next() {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        return s;
    }
    float noise() { return float(next()) / 2147483648.0f - 1.0f; }
};

double midi_hz(double m) { return 440.0 * std::pow(2.0, (m - 69) / 12.0); }

// A stereo buffer with helpers that add one sound at a time.
struct Mix {
    std::vector<float> l, r;
    int rate;
    Mix(size_t frames, int sr) : l(frames, 0.0f), r(frames, 0.0f), rate(sr) {}
    size_t at(double t) const { return size_t(std::max(0.0, t) * rate); }

    // Kick: a sine sweeping 110 -> 45 Hz with a 0.18 s decay.
    void kick(double t, float g) {
        double ph = 0;
        const size_t i0 = at(t), n = size_t(0.3 * rate);
        for (size_t i = 0; i < n && i0 + i < l.size(); ++i) {
            const double tt = double(i) / rate;
            ph += k_two_pi * (58 + 70 * std::exp(-tt / 0.03)) / rate;
            const float v = g * float(std::sin(ph) * std::exp(-tt / 0.12));
            l[i0 + i] += v;
            r[i0 + i] += v;
        }
    }
    // Snare: noise plus a 190 Hz body, 0.12 s decay.
    void snare(double t, float g, Rng& rng) {
        const size_t i0 = at(t), n = size_t(0.25 * rate);
        for (size_t i = 0; i < n && i0 + i < l.size(); ++i) {
            const double tt = double(i) / rate;
            const float env = float(std::exp(-tt / 0.12));
            const float v = g * env * (0.7f * rng.noise() + 0.5f * float(std::sin(k_two_pi * 190 * tt)));
            l[i0 + i] += v;
            r[i0 + i] += v;
        }
    }
    // Hat: differentiated noise (bright), 40 ms decay, panned by `pan` (-1..1).
    void hat(double t, float g, float pan, float brightness, Rng& rng) {
        const size_t i0 = at(t), n = size_t(0.08 * rate);
        float prev = 0;
        for (size_t i = 0; i < n && i0 + i < l.size(); ++i) {
            const float x = rng.noise();
            const float hp = x - brightness * prev;  // first difference: more top end as brightness -> 1
            prev = x;
            const float v = g * hp * float(std::exp(-double(i) / rate / 0.04));
            l[i0 + i] += v * (1 - pan) * 0.5f * 2;
            r[i0 + i] += v * (1 + pan) * 0.5f * 2;
        }
    }
    // Sine bass note with an exponential decay (an 808 with a long `decay_s`).
    void bass(double t, double dur, double hz, float g, double decay_s) {
        const size_t i0 = at(t), n = size_t(dur * rate);
        double ph = 0;
        for (size_t i = 0; i < n && i0 + i < l.size(); ++i) {
            const double tt = double(i) / rate;
            ph += k_two_pi * hz / rate;
            const double env = std::exp(-tt / decay_s) * std::min(1.0, (dur - tt) / 0.01) * std::min(1.0, tt / 0.003);
            const float v = g * float((std::sin(ph) + 0.15 * std::sin(2 * ph)) * env);
            l[i0 + i] += v;
            r[i0 + i] += v;
        }
    }
    // Adds a rendered stereo clip (interleaved) at time t.
    void add_clip(double t, const std::vector<float>& clip, float g) {
        const size_t i0 = at(t);
        for (size_t i = 0; 2 * i + 1 < clip.size() && i0 + i < l.size(); ++i) l[i0 + i] += g * clip[2 * i], r[i0 + i] += g * clip[2 * i + 1];
    }
    // Pad chord: detuned triangle pairs, left and right apart by `width` (0..1); `edge` > 0
    // blends in a brighter saw for a second timbre.
    void pad(double t, double dur, const std::vector<double>& hz, float g, double width, float edge = 0) {
        const size_t i0 = at(t), n = size_t(dur * rate);
        for (double f : hz) {
            const double fl = f * (1 - 0.004 * width), fr = f * (1 + 0.004 * width);
            double pl = 0, pr = 0.25 * width;
            for (size_t i = 0; i < n && i0 + i < l.size(); ++i) {
                const double tt = double(i) / rate;
                const double env = std::min(1.0, tt / 0.05) * std::min(1.0, (dur - tt) / 0.08);
                pl += fl / rate;
                pr += fr / rate;
                pl -= std::floor(pl);
                pr -= std::floor(pr);
                const float tl = float((1 - edge) * (4 * std::abs(pl - 0.5) - 1) + edge * (2 * pl - 1));
                const float tr = float((1 - edge) * (4 * std::abs(pr - 0.5) - 1) + edge * (2 * pr - 1));
                const float mid = 0.5f * (tl + tr), side = 0.5f * (tl - tr);
                const float s = float(width);
                l[i0 + i] += g * float(env) * (mid + s * side + s * 0.3f * tl);
                r[i0 + i] += g * float(env) * (mid - s * side - s * 0.3f * tl);
            }
        }
    }
    // Lead note: a pulse-ish wave (odd harmonics) with a short attack.
    void lead(double t, double dur, double hz, float g) {
        const size_t i0 = at(t), n = size_t(dur * rate);
        for (size_t i = 0; i < n && i0 + i < l.size(); ++i) {
            const double tt = double(i) / rate;
            const double env = std::min(1.0, tt / 0.01) * std::exp(-tt / 0.6) * std::min(1.0, (dur - tt) / 0.02);
            const double ph = k_two_pi * hz * tt;
            const float v = g * float(env * (std::sin(ph) + std::sin(3 * ph) / 3 + std::sin(5 * ph) / 5));
            l[i0 + i] += v;
            r[i0 + i] += v;
        }
    }
    // Riser: noise through a rising brightness over `dur`.
    void riser(double t, double dur, float g, Rng& rng) {
        const size_t i0 = at(t), n = size_t(dur * rate);
        float lp = 0;
        for (size_t i = 0; i < n && i0 + i < l.size(); ++i) {
            const float prog = float(i) / float(n);
            const float a = 0.02f + 0.9f * prog * prog;
            lp += a * (rng.noise() - lp);
            const float v = g * prog * lp;
            l[i0 + i] += v;
            r[i0 + i] -= v;
        }
    }
};

// Chord loops as scale degrees (0-based semitone offsets of the chord roots and qualities).
struct Chord {
    int root;  // semitones above the tonic
    bool minor;
};

std::vector<Chord> loop_for(const std::string& mode, int variant) {
    static const std::vector<std::vector<Chord>> major = {{{0, false}, {7, false}, {9, true}, {5, false}},
                                                          {{0, false}, {5, false}, {7, false}, {0, false}},
                                                          {{0, false}, {9, true}, {5, false}, {7, false}},
                                                          {{0, false}, {2, true}, {7, false}, {0, false}}};
    // Minor loops lean on the major dominant (harmonic minor), which names the key clearly.
    static const std::vector<std::vector<Chord>> minor = {{{0, true}, {8, false}, {7, false}, {0, true}},
                                                          {{0, true}, {5, true}, {7, false}, {0, true}},
                                                          {{0, true}, {10, false}, {8, false}, {7, false}},
                                                          {{0, true}, {3, false}, {7, false}, {0, true}}};
    const auto& set = mode == "minor" ? minor : major;
    return set[size_t(variant) % set.size()];
}

// BS.1770 integrated loudness of stereo frames (interleaved when r == nullptr, else l and r),
// measured at half the sample rate: the content above 11 kHz adds well under 0.1 LU here, and
// the measurement is the synthesizer's main cost.
double loudness_half_rate(const float* l, const float* r, size_t frames, int rate) {
    std::vector<float> buf;
    buf.reserve(frames + 2);
    for (size_t i = 0; i + 1 < frames; i += 2) {
        if (r) buf.push_back(0.5f * (l[i] + l[i + 1])), buf.push_back(0.5f * (r[i] + r[i + 1]));
        else buf.push_back(0.5f * (l[2 * i] + l[2 * i + 2])), buf.push_back(0.5f * (l[2 * i + 1] + l[2 * i + 3]));
    }
    ebur128_state* st = ebur128_init(2, unsigned(rate / 2), EBUR128_MODE_I);
    ebur128_add_frames_float(st, buf.data(), buf.size() / 2);
    double lufs = -70;
    ebur128_loudness_global(st, &lufs);
    ebur128_destroy(&st);
    return std::isfinite(lufs) ? lufs : -70.0;
}

int label_index(const std::string& label) {
    int v = 0;
    for (char c : label) v = v * 26 + (c - 'A' + 1);
    return std::max(0, v - 1);
}

}  // namespace

namespace {

// RBJ biquad (band-pass or low-pass), for measuring band shares of the render.
struct Biquad {
    double b0 = 0, b1 = 0, b2 = 0, a1 = 0, a2 = 0, x1 = 0, x2 = 0, y1 = 0, y2 = 0;
    static Biquad lowpass(double f, double q, double sr) {
        Biquad x;
        const double w = k_two_pi * f / sr, al = std::sin(w) / (2 * q), c = std::cos(w), a0 = 1 + al;
        x.b0 = (1 - c) / 2 / a0, x.b1 = (1 - c) / a0, x.b2 = (1 - c) / 2 / a0, x.a1 = -2 * c / a0, x.a2 = (1 - al) / a0;
        return x;
    }
    static Biquad highpass(double f, double q, double sr) {
        Biquad x;
        const double w = k_two_pi * f / sr, al = std::sin(w) / (2 * q), c = std::cos(w), a0 = 1 + al;
        x.b0 = (1 + c) / 2 / a0, x.b1 = -(1 + c) / a0, x.b2 = (1 + c) / 2 / a0, x.a1 = -2 * c / a0, x.a2 = (1 - al) / a0;
        return x;
    }
    double operator()(double x) {
        const double y = b0 * x + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
        x2 = x1, x1 = x, y2 = y1, y1 = y;
        return y;
    }
};

// The gain of `extra` that makes a band's share of the mid signal's power reach `share`.
// Filtering is linear, so the band and total powers of main + g * extra are quadratics in g
// whose coefficients take one pass; the gain is then found by bisection on a log scale.
template <class Filter>
double fit_gain(const Mix& main, const Mix& extra, Filter f_main, Filter f_extra, double share) {
    double bmm = 0, bme = 0, bee = 0, tmm = 0, tme = 0, tee = 0;
    for (size_t i = 0; i < main.l.size(); ++i) {
        const double m = 0.5 * (main.l[i] + main.r[i]), e = 0.5 * (extra.l[i] + extra.r[i]);
        const double fm = f_main(m), fe = f_extra(e);
        bmm += fm * fm, bme += fm * fe, bee += fe * fe;
        tmm += m * m, tme += m * e, tee += e * e;
    }
    auto at = [&](double g) {
        const double tot = tmm + 2 * g * tme + g * g * tee;
        return tot > 0 ? (bmm + 2 * g * bme + g * g * bee) / tot : 0.0;
    };
    double lo = 1e-3, hi = 30;
    for (int it = 0; it < 40; ++it) {
        const double g = std::sqrt(lo * hi);
        (at(g) < share ? lo : hi) = g;
    }
    return std::sqrt(lo * hi);
}

// 6-11 kHz: two high-pass sections at 6 kHz and two low-pass sections at 11 kHz.
struct Band6to11 {
    Biquad h1, h2, l1, l2;
    explicit Band6to11(double sr)
        : h1(Biquad::highpass(6000, 0.707, sr)), h2(Biquad::highpass(6000, 0.707, sr)), l1(Biquad::lowpass(11000, 0.707, sr)), l2(Biquad::lowpass(11000, 0.707, sr)) {}
    double operator()(double x) { return l2(l1(h2(h1(x)))); }
};
struct Below60 {
    Biquad a, b;
    explicit Below60(double sr) : a(Biquad::lowpass(60, 0.707, sr)), b(Biquad::lowpass(60, 0.707, sr)) {}
    double operator()(double x) { return b(a(x)); }
};

}  // namespace

namespace {

// What every bar of the arrangement shares, from the target and the options.
struct Arrangement {
    const enrich::Target& t;
    const SynthOptions& o;
    double bpm = 0, beat = 0;  // beat in s
    int tonic = 0;
    double width = 0;          // pad and hat spread, 0..1
    float brightness = 0.9f;
    double sustain = 0;        // 808 decay, s
    // Hats on eighths only where that cannot be heard as double time; kick on every beat only
    // where that cannot be heard as half time.
    bool eighth_hats = false, four_floor = false;
};

// The arrangement of a target at the options' tempo.
Arrangement arrangement(const enrich::Target& t, const SynthOptions& o) {
    Arrangement a{t, o};
    a.bpm = t.bpm * o.tempo_scale;
    a.beat = 60.0 / a.bpm;
    a.tonic = std::max(0, dna::pitch_index(t.key));
    a.width = std::clamp(t.production.mean_width * 2.5, 0.0, 1.0);
    a.sustain = std::clamp(t.production.bass_808_sustain_s, 0.08, 2.0);
    a.eighth_hats = a.bpm >= 100 && a.bpm <= 150;
    a.four_floor = a.bpm <= 135;
    return a;
}

// The render in progress: three buses, the band, hats (brightness) and 808 (sub), whose gains
// are fitted afterwards; the one noise source; what repeated sections and bars share.
struct Buses {
    Mix mix, hats, sub;
    Rng rng;
    std::map<std::string, uint32_t> motif_seed;                 // per section label
    std::map<std::string, std::vector<float>> pad_cache;        // rendered pad bars
    Buses(size_t frames, const SynthOptions& o) : mix(frames, o.sample_rate), hats(frames, o.sample_rate), sub(frames, o.sample_rate), rng(o.seed * 2654435761u + 12345u) {}
};

// One section's material: its chord loop, energy, span and lead motif.
struct SectionPlan {
    size_t si = 0;
    const enrich::PlannedSection* s = nullptr;
    int li = 0;                // label index: the same label, the same music
    std::vector<Chord> loop;
    double energy = 0;         // 0 at -9 LU, 1 at 0 LU
    float level = 1.0f;        // sections are levelled after rendering
    double t0 = 0, t1 = 0;     // s
    std::vector<int> notes;    // the motif, semitones above the tonic
    int octave = 0;
};

// Section si's plan; its label's motif seed is made on the label's first section.
SectionPlan plan_section(Buses& b, const Arrangement& a, size_t si) {
    const auto& t = a.t;
    const auto& o = a.o;
    SectionPlan p;
    p.si = si;
    p.s = &t.sections[si];
    const auto& s = *p.s;
    p.li = label_index(s.label);
    // The chord loop follows the role (every hook plays the hook's progression, intro and
    // outro the verse's); the label varies the motif. The verse's loop leans on III (minor) or
    // ii (major): with i-iv-V-i verses the analyzer heard minor renders as the parallel major.
    const int variant = s.role == "hook" ? 0 : s.role == "pre-hook" ? 2 : s.role == "bridge" ? 1 : 3;
    p.loop = loop_for(t.mode, variant);
    p.energy = std::clamp((s.energy_lu * o.energy_contrast + 9.0) / 9.0, 0.0, 1.0);
    p.t0 = s.start_s, p.t1 = std::min(t.duration_s, s.start_s + s.duration_s);
    if (!b.motif_seed.count(s.label)) b.motif_seed[s.label] = uint32_t(p.li + 1) * 7919u + o.seed;
    Rng motif(b.motif_seed[s.label]);
    p.notes.resize(8);
    static const int major_scale[7] = {0, 2, 4, 5, 7, 9, 11}, minor_scale[7] = {0, 2, 3, 5, 7, 8, 10};
    for (auto& n : p.notes) n = (t.mode == "minor" ? minor_scale : major_scale)[motif.next() % 7] + 12 * int(motif.next() % 2);
    p.octave = 48 + 12 * (p.li % 2);
    return p;
}

// The pad bar of a chord (with the tonic drone), rendered once per (chord, timbre, length)
// since bars repeat; interleaved stereo.
const std::vector<float>& pad_bar(Buses& b, const Arrangement& a, const SectionPlan& p, const Chord& c, int root, double bar_len) {
    const int octave = p.octave, li = p.li;
    std::vector<double> hz = {midi_hz(octave + root), midi_hz(octave + root + (c.minor ? 3 : 4)), midi_hz(octave + root + 7)};
    const std::string key = std::to_string(root) + (c.minor ? "m" : "M") + std::to_string(octave) + "/" + std::to_string(li % 3) + "/" +
                            std::to_string(int(bar_len * 1000));
    auto it = b.pad_cache.find(key);
    if (it == b.pad_cache.end()) {
        Mix clip(size_t(bar_len * a.o.sample_rate) + 1, a.o.sample_rate);
        clip.pad(0, bar_len, hz, 0.05f, a.width, li % 3 == 1 ? 0.5f : (li % 3 == 2 ? 0.25f : 0.0f));
        // A quiet tonic drone anchors the key.
        clip.pad(0, bar_len, {midi_hz(36 + a.tonic), midi_hz(48 + a.tonic)}, 0.04f, 0.0);
        std::vector<float> inter(clip.l.size() * 2);
        for (size_t i = 0; i < clip.l.size(); ++i) inter[2 * i] = clip.l[i], inter[2 * i + 1] = clip.r[i];
        it = b.pad_cache.emplace(key, std::move(inter)).first;
    }
    return it->second;
}

// The four beats of a bar at bt: kick, snare, hats, bass and 808 as the energy allows, and a
// snare fill in the last bars before a hook.
void render_beats(Buses& b, const Arrangement& a, const SectionPlan& p, double bt, int root) {
    const auto& t = a.t;
    const double beat = a.beat, energy = p.energy, t1 = p.t1;
    const float level = p.level;
    auto& rng = b.rng;
    const bool last_bars = bt + 8 * beat > t1 && p.si + 1 < t.sections.size() && t.sections[p.si + 1].role == "hook";
    // The last two bars of a build before a drop (the breakdown): no beat, no bass; they come
    // back at the drop.
    if (p.s->build && p.si + 1 < t.sections.size() && t.sections[p.si + 1].drop && bt + 8 * beat > t1 - 1e-6) return;
    for (int k = 0; k < 4; ++k) {
        const double at = bt + k * beat;
        if (at >= t1) break;
        if (energy > 0.25 && (a.four_floor || k == 0 || k == 2)) b.mix.kick(at, 0.55f * level);
        if (energy > 0.6 && (k == 1 || k == 3)) b.hats.snare(at, 0.3f * level, rng);  // bright: on the hat bus
        if (energy > 0.4) {
            if (a.eighth_hats) b.hats.hat(at + beat / 2, 0.12f * level, -0.3f * float(a.width), a.brightness, rng);
            b.hats.hat(at, 0.08f * level, 0.3f * float(a.width), a.brightness, rng);
        }
        if (energy > 0.3 && (k == 0 || k == 2)) b.mix.bass(at, beat * 1.9, midi_hz(48 + (root % 12)), 0.18f * level, 0.5);
        if (energy > 0.6 && (k == 0 || k == 2))
            b.sub.bass(at, std::min(2 * beat, a.sustain * 3), midi_hz(28 + ((root + 8) % 12)), 0.35f * level, a.sustain);
        if (last_bars && energy > 0.3 && k >= 2) b.hats.snare(at + beat / 2, 0.15f * level, rng);
    }
}

// One bar at bt: the pad chord, the beats, and the lead motif in hooks (and verses at high energy).
void render_bar(Buses& b, const Arrangement& a, const SectionPlan& p, double bt, int bar) {
    const double beat = a.beat;
    const Chord c = p.loop[size_t(bar) % p.loop.size()];
    const double bar_len = std::min(4 * beat, p.t1 - bt);
    const int root = a.tonic + c.root;
    b.mix.add_clip(bt, pad_bar(b, a, p, c, root, bar_len), p.level);
    render_beats(b, a, p, bt, root);
    const auto& s = *p.s;
    if (s.role == "hook") {  // the lead motif in quarter notes marks the hook
        for (int k = 0; k < 4; ++k) {
            const int n = p.notes[size_t((bar % 2) * 4 + k)];
            b.mix.lead(bt + k * beat, beat * 0.9, midi_hz(72 + a.tonic % 12 + n - 12), 0.08f * p.level);
        }
    } else if (s.role == "verse" && p.energy > 0.8) {  // verses: the chord's third in half notes, softer
        for (int k = 0; k < 2; ++k)
            b.mix.lead(bt + 2 * k * beat, beat * 1.8, midi_hz(72 + (root + (c.minor ? 3 : 4)) % 12 - 12), 0.05f * p.level);
    }
}

// Section si, bar by bar, and a riser into the next section when that is a hook.
void render_section(Buses& b, const Arrangement& a, size_t si) {
    const SectionPlan p = plan_section(b, a, si);
    const double beat = a.beat, t0 = p.t0, t1 = p.t1;
    int bar = 0;
    for (double bt = t0; bt < t1 - 1e-6; bt += 4 * beat, ++bar) render_bar(b, a, p, bt, bar);
    // A riser into each hook.
    if (t1 > t0 && si + 1 < a.t.sections.size() && a.t.sections[si + 1].role == "hook" && p.s->role != "hook")
        b.hats.riser(std::max(t0, t1 - 8 * beat), std::min(8 * beat, t1 - t0), 0.15f * p.level, b.rng);
}

// Production targets, fitted on the render: the 808 bus so that 20-60 Hz holds the target
// share of the power, then the hat bus so that 6-11 kHz does; both mixed into the band.
void mix_in_buses(Buses& b, const enrich::Target& t, const SynthOptions& o, size_t frames) {
    Mix& mix = b.mix;
    const double sub_share = std::clamp(t.production.sub_presence, 0.0, 0.6);
    const double g_sub = sub_share > 0.005 ? fit_gain(mix, b.sub, Below60(o.sample_rate), Below60(o.sample_rate), sub_share) : 0.0;
    for (size_t i = 0; i < frames; ++i) mix.l[i] += float(g_sub) * b.sub.l[i], mix.r[i] += float(g_sub) * b.sub.r[i];
    const double bright_share = std::pow(10.0, std::clamp(t.production.sparkle_db, -60.0, -3.0) / 10.0);
    const double g_hat = fit_gain(mix, b.hats, Band6to11(o.sample_rate), Band6to11(o.sample_rate), bright_share);
    for (size_t i = 0; i < frames; ++i) mix.l[i] += float(g_hat) * b.hats.l[i], mix.r[i] += float(g_hat) * b.hats.r[i];
}

// Each section to its planned level relative to the others (BS.1770 loudness per section),
// with 50 ms ramps between sections.
void level_sections(Mix& mix, const enrich::Target& t, const SynthOptions& o, size_t frames) {
    std::vector<double> gains;
    for (const auto& s : t.sections) {
        const size_t a = std::min(frames, size_t(s.start_s * o.sample_rate)), b = std::min(frames, size_t((s.start_s + s.duration_s) * o.sample_rate));
        const double lufs = b > a + size_t(o.sample_rate) / 2 ? loudness_half_rate(mix.l.data() + a, mix.r.data() + a, b - a, o.sample_rate) : -70.0;
        gains.push_back(lufs > -69 ? std::pow(10.0, (std::clamp(s.energy_lu * o.energy_contrast, -24.0, 6.0) - (lufs + 20)) / 20.0) : 1.0);
    }
    const size_t ramp = size_t(0.05 * o.sample_rate);
    for (size_t k = 0; k < t.sections.size(); ++k) {
        const auto& s = t.sections[k];
        const size_t a = std::min(frames, size_t(s.start_s * o.sample_rate)), b = std::min(frames, size_t((s.start_s + s.duration_s) * o.sample_rate));
        const double prev = k ? gains[k - 1] : gains[k];
        for (size_t i = a; i < b; ++i) {
            const double f = i - a < ramp ? double(i - a) / double(ramp) : 1.0;
            const float g = float(prev + (gains[k] - prev) * f);
            mix.l[i] *= g, mix.r[i] *= g;
        }
    }
}

// Within each section, follow the energy arc's shape around the section's level (the arc
// has 16 points, a section may span several), in 256-frame steps with linear ramps.
void follow_energy_arc(Mix& mix, const enrich::Target& t, const SynthOptions& o, size_t frames) {
    if (t.energy_arc.empty() || t.sections.empty()) return;
    const size_t step = 256;
    auto gain_at = [&](size_t i) {
        const double tau = double(i) / o.sample_rate;
        size_t k = 0;
        while (k + 1 < t.sections.size() && tau >= t.sections[k + 1].start_s) ++k;
        const double db = std::clamp((enrich::arc_at(t, tau) - t.sections[k].energy_lu) * o.energy_contrast, -12.0, 12.0);
        return std::pow(10.0, db / 20.0);
    };
    double g0 = gain_at(0);
    for (size_t i = 0; i < frames; i += step) {
        const double g1 = gain_at(std::min(frames - 1, i + step));
        for (size_t j = i; j < std::min(frames, i + step); ++j) {
            const float g = float(g0 + (g1 - g0) * double(j - i) / double(step));
            mix.l[j] *= g, mix.r[j] *= g;
        }
        g0 = g1;
    }
}

// Breakdowns: the last two bars of each build before a drop sit enrich::k_breakdown_lu under
// their level (as the target's arc has them), with a 50 ms ramp in; the drop comes back at once.
void duck_breakdowns(Mix& mix, const enrich::Target& t, const SynthOptions& o, size_t frames) {
    const double bar = 240.0 / (t.bpm * o.tempo_scale);
    for (size_t k = 0; k + 1 < t.sections.size(); ++k) {
        const auto& s = t.sections[k];
        if (!s.build || !t.sections[k + 1].drop) continue;
        const double end = s.start_s + s.duration_s, start = std::max(s.start_s, end - 2 * bar);
        const size_t a = std::min(frames, size_t(start * o.sample_rate)), b = std::min(frames, size_t(end * o.sample_rate));
        const size_t ramp = size_t(0.05 * o.sample_rate);
        const double g = std::pow(10.0, enrich::k_breakdown_lu / 20.0);
        for (size_t i = a; i < b; ++i) {
            const float f = float(i - a < ramp ? 1 + (g - 1) * double(i - a) / double(ramp) : g);
            mix.l[i] *= f, mix.r[i] *= f;
        }
    }
}

// Stereo width: a side signal from the band's upper range, delayed 12 ms against 19 ms
// (lows stay mono), scaled so side / (mid + side) power reaches the target.
void widen_stereo(Mix& mix, const enrich::Target& t, const SynthOptions& o, size_t frames) {
    const double w = std::clamp(t.production.mean_width, 0.0, 0.45);
    std::vector<float> side(frames, 0.0f);
    double lp = 0;
    const size_t d1 = size_t(0.012 * o.sample_rate), d2 = size_t(0.019 * o.sample_rate);
    std::vector<float> hp(frames);
    for (size_t i = 0; i < frames; ++i) {
        const double m = 0.5 * (mix.l[i] + mix.r[i]);
        lp += 0.03 * (m - lp);  // ~200 Hz one-pole low-pass; m - lp is the upper range
        hp[i] = float(m - lp);
    }
    for (size_t i = d2; i < frames; ++i) side[i] = hp[i - d1] - hp[i - d2];
    double pm = 0, ps = 0, pss = 0, cross = 0;
    for (size_t i = 0; i < frames; i += 2) {
        const double m = 0.5 * (mix.l[i] + mix.r[i]), s0 = 0.5 * (mix.l[i] - mix.r[i]);
        pm += m * m, ps += s0 * s0, pss += double(side[i]) * side[i], cross += s0 * side[i];
    }
    // (s0 + k side)^2 = w / (1 - w) * pm  ->  solve for k >= 0.
    const double want = w / (1 - w) * pm;
    double k = 0;
    if (pss > 0 && want > ps) {
        const double A = pss, B = 2 * cross, C = ps - want;
        k = (-B + std::sqrt(std::max(0.0, B * B - 4 * A * C))) / (2 * A);
    }
    for (size_t i = 0; i < frames; ++i) mix.l[i] += float(k) * side[i], mix.r[i] -= float(k) * side[i];
}

// The mix interleaved into out.samples at the target loudness (BS.1770, libebur128), with a
// soft clipper for loud targets; returns the loudness measured last.
double master(const Mix& mix, const enrich::Target& t, const SynthOptions& o, size_t frames, Rendered& out) {
    out.samples.resize(frames * 2);
    for (size_t i = 0; i < frames; ++i) out.samples[2 * i] = mix.l[i], out.samples[2 * i + 1] = mix.r[i];
    auto measure = [&]() { return loudness_half_rate(out.samples.data(), nullptr, frames, o.sample_rate); };
    const double target_lufs = std::clamp(t.production.integrated_lufs, -30.0, -6.0);
    double now = measure();
    for (int pass = 0; pass < 3 && now > -69 && std::abs(now - target_lufs) > 0.1; ++pass) {
        const float g = float(std::pow(10.0, (target_lufs - now) / 20.0));
        for (auto& x : out.samples) {
            x *= g;
            if (std::abs(x) > 0.8f) x = std::copysign(0.8f + 0.2f * std::tanh((std::abs(x) - 0.8f) / 0.2f), x);
        }
        now = measure();
    }
    return now;
}

}  // namespace

Rendered render(const enrich::Target& t, const SynthOptions& o) {
    Rendered out;
    out.sample_rate = o.sample_rate;
    const Arrangement a = arrangement(t, o);
    out.duration_s = t.duration_s;
    const size_t frames = size_t(t.duration_s * o.sample_rate);
    Buses b(frames, o);
    for (size_t si = 0; si < t.sections.size(); ++si) render_section(b, a, si);
    mix_in_buses(b, t, o, frames);
    level_sections(b.mix, t, o, frames);
    follow_energy_arc(b.mix, t, o, frames);
    duck_breakdowns(b.mix, t, o, frames);
    widen_stereo(b.mix, t, o, frames);
    out.integrated_lufs = master(b.mix, t, o, frames, out);
    return out;
}

}  // namespace hitdna::generate
