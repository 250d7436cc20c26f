#include "hitdna/dna/vectors.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>

namespace hitdna::dna {
namespace {

double clamp01(double v) { return std::clamp(v, 0.0, 1.0); }

const std::vector<Dimension> k_audio = {
    {"tempo_log2", "log2(bpm / 120), clamped to -1..1; 0 without a beat", "BPM", 0, 0},
    {"tempo_confidence", "audio.bpm_confidence, 0..1"},
    {"tempo_stability", "audio.tempo_stability, 0..1"},
    {"key_fifths_x", "cos of the key's angle on the circle of fifths (relative minors share the angle of their major) x key strength"},
    {"key_fifths_y", "sin of the same angle x key strength"},
    {"mode", "+key strength for major, -key strength for minor, 0 without a key"},
    {"chord_rate", "chord changes per minute / 60, clamped to 0..1", "/min", 60, 0},
    {"chord_variety", "distinct chords / 24", "chords", 24, 0},
    {"rhythmic_complexity", "audio.rhythmic_complexity, 0..1"},
    {"syncopation", "audio.syncopation, 0..1"},
    {"pulse_clarity", "audio.pulse_clarity, 0..1"},
    {"groove", "audio.groove, 0..1"},
    {"swing", "(swing_ratio - 1) / 2, 0..1", "swing ratio", 2, 1},
    {"onset_rate", "onsets per second / 10, clamped to 0..1", "/s", 10, 0},
    {"brightness", "spectral centroid / 5000 Hz, clamped to 0..1", "Hz", 5000, 0},
    {"mfcc1", "mean MFCC 1 / 50 (spectral tilt)"},
    {"mfcc2", "mean MFCC 2 / 50"},
    {"mfcc3", "mean MFCC 3 / 50"},
    {"mfcc4", "mean MFCC 4 / 50"},
    {"mfcc5", "mean MFCC 5 / 50"},
    {"energy_arc_1", "loudness in the 1st eighth of the song relative to its integrated loudness, LU / 10, clamped to -3..3", "LU", 10, 0},
    {"energy_arc_2", "same, 2nd eighth", "LU", 10, 0},
    {"energy_arc_3", "same, 3rd eighth", "LU", 10, 0},
    {"energy_arc_4", "same, 4th eighth", "LU", 10, 0},
    {"energy_arc_5", "same, 5th eighth", "LU", 10, 0},
    {"energy_arc_6", "same, 6th eighth", "LU", 10, 0},
    {"energy_arc_7", "same, 7th eighth", "LU", 10, 0},
    {"energy_arc_8", "same, 8th eighth", "LU", 10, 0},
};
const std::vector<Dimension> k_structure = {
    {"section_count", "number of sections / 20, clamped to 0..1", "sections", 20, 0},
    {"mean_section_length", "mean section length / 60 s, clamped to 0..1", "s", 60, 0},
    {"first_hook_rel", "first hook start / duration, 0..1; 1 without a hook", "%", 100, 0},
    {"first_hook_time", "first hook start / 120 s, clamped to 0..1; 1 without a hook", "m:ss", 120, 0},
    {"hook_repeats", "hook occurrences / 8, clamped to 0..1", "times", 8, 0},
    {"hook_share", "share of the song labelled hook, 0..1", "%", 100, 0},
    {"build_rate", "builds per minute / 2, clamped to 0..1", "/min", 2, 0},
    {"drop_rate", "drops per minute / 2, clamped to 0..1", "/min", 2, 0},
    {"repetition", "structure.repetition, 0..1"},
    {"repeats_per_min", "structure.repeats_per_min / 4, clamped to 0..1", "/min", 4, 0},
    {"surprise", "structure.surprise, 0..1"},
    {"earworm", "structure.earworm, 0..1"},
    {"intro_share", "share of the song in intro sections, 0..1", "%", 100, 0},
    {"outro_share", "share of the song in outro sections, 0..1", "%", 100, 0},
    {"has_bridge", "1 when a bridge was found, else 0"},
    {"duration", "duration / 300 s, clamped to 0..1", "m:ss", 300, 0},
};
const std::vector<Dimension> k_emotion = {
    {"valence", "emotion.valence, -1..1"},
    {"tension_mean", "mean tension, 0..1"},
    {"tension_spread", "standard deviation of tension x 4, clamped to 0..1"},
    {"intensity_mean", "emotion.mean_intensity, 0..1"},
    {"intensity_spread", "standard deviation of intensity x 4, clamped to 0..1"},
    {"anticipation", "emotion.anticipation, 0..1"},
    {"release_rate", "releases per minute / 4, clamped to 0..1", "/min", 4, 0},
    {"catharsis_rate", "catharsis moments per minute / 2, clamped to 0..1", "/min", 2, 0},
    {"tension_arc_1", "mean tension in the 1st eighth of the song, 0..1"},
    {"tension_arc_2", "same, 2nd eighth"},
    {"tension_arc_3", "same, 3rd eighth"},
    {"tension_arc_4", "same, 4th eighth"},
    {"tension_arc_5", "same, 5th eighth"},
    {"tension_arc_6", "same, 6th eighth"},
    {"tension_arc_7", "same, 7th eighth"},
    {"tension_arc_8", "same, 8th eighth"},
};
const std::vector<Dimension> k_production = {
    {"sub_presence", "production.sub_presence x 4, clamped to 0..1"},
    {"low_end", "(production.low_end_db + 20) / 20, clamped to 0..1", "dB", 20, -20},
    {"sustain_808", "production.bass_808_sustain_s / 2 s, 0..1", "s", 2, 0},
    {"low_distortion", "production.low_distortion, 0..1 (proxy)"},
    {"sparkle", "production.sparkle x 10, clamped to 0..1"},
    {"reverb", "production.reverb_proxy, 0..1 (proxy)"},
    {"pitch_quantization", "production.pitch_quantization, 0..1 (proxy); 0.5 when not measurable"},
    {"melody_coverage", "production.melody_coverage, 0..1"},
    {"width", "production.mean_width x 2, clamped to 0..1"},
    {"width_spread", "standard deviation of width over time x 8, clamped to 0..1"},
    {"low_width", "production.low_width x 4, clamped to 0..1"},
    {"correlation", "production.correlation, -1..1"},
    {"loudness", "(integrated LUFS + 30) / 25, clamped to 0..1", "LUFS", 25, -30},
    {"loudness_range", "loudness range / 20 LU, clamped to 0..1", "LU", 20, 0},
    {"crest", "crest factor / 30 dB, clamped to 0..1", "dB", 30, 0},
    {"plr", "peak-to-loudness ratio / 25 dB, clamped to 0..1", "dB", 25, 0},
};
// The sections space describes what a stretch of music sounds like, so that an excerpt finds
// the part of a song it came from and similar parts of other songs. Position, length and role
// are kept beside the vector in the catalog, not in it: an excerpt has none of them.
std::vector<Dimension> make_section_dims() {
    std::vector<Dimension> d = {
        {"tempo_log2", "log2(local bpm / 120) from the tempo curve, clamped to -1..1; 0 without a beat"},
        {"loudness", "(section loudness LUFS + 30) / 25, clamped to 0..1"},
        {"width", "mean stereo width in the section x 2, clamped to 0..1"},
        {"brightness_spread", "standard deviation over frames of MFCC 1 / 50"},
    };
    static const char* mf[12] = {"mfcc1", "mfcc2", "mfcc3", "mfcc4", "mfcc5", "mfcc6", "mfcc7", "mfcc8", "mfcc9", "mfcc10", "mfcc11", "mfcc12"};
    for (int i = 0; i < 12; ++i) d.push_back({mf[i], "mean MFCC over the section / 50 (timbre)"});
    static const char* bd[7] = {"band_sub", "band_bass", "band_low_mid", "band_mid", "band_high_mid", "band_presence", "band_brilliance"};
    for (int i = 0; i < 7; ++i)
        d.push_back({bd[i], "band level in the section minus the mean of the 7 band levels, dB / 20, clamped to -2..2 (spectral shape)"});
    static const char* ch[12] = {"chroma_C", "chroma_Db", "chroma_D", "chroma_Eb", "chroma_E", "chroma_F",
                                 "chroma_Gb", "chroma_G", "chroma_Ab", "chroma_A", "chroma_Bb", "chroma_B"};
    for (int i = 0; i < 12; ++i)
        d.push_back({ch[i], "section pitch-class profile in absolute pitch classes (sqrt of chroma power), unit length"});
    return d;
}
const std::vector<Dimension> k_section = make_section_dims();

// Mean of a per-hop curve over [t0, t1).
double curve_mean(const std::vector<float>& v, double hop, double t0, double t1) {
    if (v.empty()) return 0;
    size_t i0 = size_t(std::max(0.0, t0 / hop)), i1 = std::min(v.size(), size_t(std::ceil(t1 / hop)));
    if (i1 <= i0) return v[std::min(i0, v.size() - 1)];
    double s = 0;
    for (size_t i = i0; i < i1; ++i) s += v[i];
    return s / double(i1 - i0);
}

double curve_sd(const std::vector<float>& v) {
    if (v.empty()) return 0;
    double m = 0, s2 = 0;
    for (float x : v) m += x;
    m /= double(v.size());
    for (float x : v) s2 += (x - m) * (x - m);
    return std::sqrt(s2 / double(v.size()));
}


// The eighths of the song: mean of a per-hop curve over [dur * k / 8, dur * (k + 1) / 8).
double eighth_mean(const std::vector<float>& v, double hop, double dur, int k) {
    return curve_mean(v, hop, dur * k / 8, dur * (k + 1) / 8);
}

// The vectors of each space, dimension by dimension as the tables above describe them.
std::vector<float> audio_vector(const Dna& d) {
    const auto& a = d.audio;
    const auto& p = d.production;
    const double dur = std::max(d.duration_s, 1e-3);
    const double hop = a.timeline_hop_s;
    const int tonic = pitch_index(a.key);
    double fifths_angle = 0;
    if (tonic >= 0) {
        int major_tonic = a.mode == "minor" ? (tonic + 3) % 12 : tonic;
        fifths_angle = 2 * std::numbers::pi * ((major_tonic * 7) % 12) / 12.0;
    }
    const double ks = tonic >= 0 ? clamp01(a.key_strength) : 0;
    std::vector<float> v = {
        float(a.bpm ? std::clamp(std::log2(*a.bpm / 120.0), -1.0, 1.0) : 0.0),
        float(a.bpm_confidence), float(a.tempo_stability),
        float(std::cos(fifths_angle) * ks), float(std::sin(fifths_angle) * ks),
        float(tonic < 0 ? 0.0 : (a.mode == "major" ? ks : -ks)),
        float(clamp01(a.chord_changes_per_min / 60.0)), float(clamp01(a.distinct_chords / 24.0)),
        float(a.rhythmic_complexity), float(a.syncopation), float(a.pulse_clarity), float(a.groove),
        float(clamp01((a.swing_ratio - 1) / 2)), float(clamp01(a.onset_rate_per_s / 10)),
        float(clamp01(a.spectral_centroid_hz / 5000)),
    };
    for (int k = 1; k <= 5; ++k) v.push_back(float(a.mfcc_mean[size_t(k)] / 50.0));
    for (int k = 0; k < 8; ++k) {
        double m = eighth_mean(a.energy_lufs, hop, dur, k);
        v.push_back(float(std::clamp((m - p.integrated_lufs) / 10.0, -3.0, 3.0)));
    }
    return v;
}

std::vector<float> structure_vector(const Dna& d) {
    const auto& s = d.structure;
    const double dur = std::max(d.duration_s, 1e-3);
    double intro = 0, outro = 0, len = 0;
    bool bridge = false;
    for (const auto& sec : s.sections) {
        len += sec.end_s - sec.start_s;
        if (sec.role == "intro") intro += sec.end_s - sec.start_s;
        if (sec.role == "outro") outro += sec.end_s - sec.start_s;
        bridge |= sec.role == "bridge";
    }
    const double n = double(s.sections.size());
    return {
        float(clamp01(n / 20)), float(clamp01(n > 0 ? len / n / 60 : 0)),
        float(s.first_hook_s ? clamp01(*s.first_hook_s / dur) : 1.0), float(s.first_hook_s ? clamp01(*s.first_hook_s / 120) : 1.0),
        float(clamp01(s.hook_repeats / 8.0)), float(s.hook_share),
        float(clamp01(double(s.builds.size()) / (dur / 60) / 2)), float(clamp01(double(s.drops.size()) / (dur / 60) / 2)),
        float(s.repetition), float(clamp01(s.repeats_per_min / 4)), float(s.surprise), float(s.earworm),
        float(clamp01(intro / dur)), float(clamp01(outro / dur)), bridge ? 1.0f : 0.0f, float(clamp01(dur / 300)),
    };
}

std::vector<float> emotion_vector(const Dna& d) {
    const auto& e = d.emotion;
    const double dur = std::max(d.duration_s, 1e-3);
    const double hop = d.audio.timeline_hop_s;
    double tm = curve_mean(e.tension, hop, 0, dur);
    std::vector<float> v = {
        float(e.valence), float(tm), float(clamp01(curve_sd(e.tension) * 4)), float(e.mean_intensity),
        float(clamp01(curve_sd(e.intensity) * 4)), float(e.anticipation),
        float(clamp01(double(e.releases.size()) / (dur / 60) / 4)), float(clamp01(double(e.catharsis.size()) / (dur / 60) / 2)),
    };
    for (int k = 0; k < 8; ++k) v.push_back(float(eighth_mean(e.tension, hop, dur, k)));
    return v;
}

std::vector<float> production_vector(const ProductionLayer& p) {
    return {
        float(clamp01(p.sub_presence * 4)), float(clamp01((p.low_end_db + 20) / 20)), float(clamp01(p.bass_808_sustain_s / 2)),
        float(p.low_distortion), float(clamp01(p.sparkle * 10)), float(p.reverb_proxy),
        float(p.pitch_quantization.value_or(0.5)), float(p.melody_coverage), float(clamp01(p.mean_width * 2)),
        float(clamp01(curve_sd(p.width) * 8)), float(clamp01(p.low_width * 4)), float(p.correlation),
        float(clamp01((p.integrated_lufs + 30) / 25)), float(clamp01(p.loudness_range_lu / 20)),
        float(clamp01(p.crest_db / 30)), float(clamp01(p.plr_db / 25)),
    };
}

// Mean of the tempo curve within the section; the song's tempo when no point falls in it,
// 0 without a beat.
double section_bpm(const Section& sec, const AudioLayer& a) {
    double bpm = 0;
    int nb = 0;
    for (const auto& tc : a.tempo_curve)
        if (tc[0] >= sec.start_s && tc[0] < sec.end_s) bpm += tc[1], ++nb;
    if (nb) bpm /= nb;
    else if (a.bpm) bpm = *a.bpm;
    return bpm;
}

// Appends the section's brightness spread, mean MFCCs 1..12 and spectral shape to sv.
void append_section_timbre(std::vector<float>& sv, const Section& sec, const VectorContext& ctx) {
    const size_t nf = ctx.mfcc.size() / 13;
    const size_t f0 = std::min(nf, size_t(std::max(0.0, sec.start_s * ctx.fps)));
    const size_t f1 = std::max(f0, std::min(nf, size_t(sec.end_s * ctx.fps)));
    double m[13] = {0}, m1sq = 0, band[7] = {0};
    for (size_t f = f0; f < f1; ++f) {
        for (int k = 0; k < 13; ++k) m[k] += ctx.mfcc[f * 13 + size_t(k)];
        m1sq += double(ctx.mfcc[f * 13 + 1]) * ctx.mfcc[f * 13 + 1];
        for (int k = 0; k < 7; ++k) band[k] += ctx.bands[f * 7 + size_t(k)];
    }
    const double n = std::max<double>(1, double(f1 - f0));
    for (auto& x : m) x /= n;
    sv.push_back(float(std::sqrt(std::max(0.0, m1sq / n - m[1] * m[1])) / 50));
    for (int k = 1; k <= 12; ++k) sv.push_back(float(m[k] / 50));
    double bdb[7], bmean = 0;
    for (int k = 0; k < 7; ++k) bmean += (bdb[k] = 10 * std::log10(band[k] / n + 1e-12)) / 7;
    for (int k = 0; k < 7; ++k) sv.push_back(float(std::clamp((bdb[k] - bmean) / 20, -2.0, 2.0)));
}

// Appends the section's pitch-class profile (sqrt of chroma power, unit length) to sv.
void append_section_chroma(std::vector<float>& sv, const Section& sec, const VectorContext& ctx) {
    const size_t nc = ctx.chroma.size() / 12;
    double c[12] = {0};
    for (size_t f = size_t(sec.start_s * ctx.chroma_fps); f < std::min(nc, size_t(sec.end_s * ctx.chroma_fps)); ++f)
        for (int k = 0; k < 12; ++k) c[k] += std::sqrt(ctx.chroma[f * 12 + size_t(k)]);
    double norm = 0;
    for (double x : c) norm += x * x;
    norm = std::sqrt(norm);
    for (int k = 0; k < 12; ++k) sv.push_back(norm > 0 ? float(c[k] / norm) : 0.0f);
}

// The section-space vector of one section (or of the whole song as one section).
std::vector<float> section_vector(const Section& sec, const Dna& d, const VectorContext& ctx) {
    const auto& p = d.production;
    const double bpm = section_bpm(sec, d.audio);
    std::vector<float> sv = {
        float(bpm > 0 ? std::clamp(std::log2(bpm / 120.0), -1.0, 1.0) : 0.0),
        float(clamp01((sec.energy_lufs + 30) / 25)),
        float(clamp01(curve_mean(p.width, d.audio.timeline_hop_s, sec.start_s, sec.end_s) * 2)),
    };
    append_section_timbre(sv, sec, ctx);
    append_section_chroma(sv, sec, ctx);
    return sv;
}

// Rounds to 4 decimals (what the JSON prints); non-finite values become 0.
void tidy(std::vector<float>& x) {
    for (auto& f : x) f = std::isfinite(f) ? std::round(f * 10000.0f) / 10000.0f : 0.0f;
}

}  // namespace

const std::vector<Dimension>& dimensions(Space space) {
    switch (space) {
        case Space::audio: return k_audio;
        case Space::structure: return k_structure;
        case Space::emotion: return k_emotion;
        case Space::production: return k_production;
        case Space::sections: return k_section;
    }
    return k_audio;
}

std::string in_units(const Dimension& d, double v) {
    const std::string_view unit = d.unit;
    char b[64];
    if (unit == "BPM") {
        std::snprintf(b, sizeof b, "%.0f BPM", 120 * std::exp2(v));
        return b;
    }
    const double x = d.offset + d.scale * v;
    if (unit == "m:ss") {
        const long s = std::lround(std::max(0.0, x));
        std::snprintf(b, sizeof b, "%ld:%02ld", s / 60, s % 60);
    } else if (unit.empty()) {
        std::snprintf(b, sizeof b, "%.2f", x);
    } else if (unit == "%") {
        std::snprintf(b, sizeof b, "%.0f %%", x);
    } else if (unit == "Hz" || unit == "sections" || unit == "chords") {
        std::snprintf(b, sizeof b, "%.0f %s", x, d.unit);
    } else if (unit == "/min" || unit == "/s") {
        std::snprintf(b, sizeof b, "%.1f per %s", x, unit == "/min" ? "minute" : "second");
    } else if (unit == "swing ratio") {
        std::snprintf(b, sizeof b, "swing ratio %.2f", x);
    } else {
        std::snprintf(b, sizeof b, "%.1f %s", x, d.unit);
    }
    return b;
}

const char* to_string(Space space) {
    switch (space) {
        case Space::audio: return "audio";
        case Space::structure: return "structure";
        case Space::emotion: return "emotion";
        case Space::production: return "production";
        case Space::sections: return "sections";
    }
    return "audio";
}

const char* vector_name(Space space) { return space == Space::sections ? "section" : to_string(space); }

std::optional<Space> parse_space(std::string_view name) {
    for (Space s : k_spaces)
        if (name == to_string(s)) return s;
    if (name == "section") return Space::sections;
    return std::nullopt;
}

Vectors make_vectors(const Dna& d, const VectorContext& ctx) {
    Vectors v;
    v.audio = audio_vector(d);
    v.structure = structure_vector(d);
    v.emotion = emotion_vector(d);
    v.production = production_vector(d.production);
    for (const auto& sec : d.structure.sections) v.sections.push_back(section_vector(sec, d, ctx));
    {
        // The whole song as one section.
        Section all;
        all.end_s = d.duration_s;
        all.energy_lufs = d.production.integrated_lufs;
        v.whole = section_vector(all, d, ctx);
    }
    tidy(v.audio);
    tidy(v.structure);
    tidy(v.emotion);
    tidy(v.production);
    for (auto& sv : v.sections) tidy(sv);
    tidy(v.whole);
    return v;
}

}  // namespace hitdna::dna
