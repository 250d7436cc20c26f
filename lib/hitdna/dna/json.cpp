#include "hitdna/dna/json.hpp"

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "hitdna/dna/vectors.hpp"
#include "hitdna/dsp/filterbank.hpp"

namespace hitdna::dna {
namespace {

// ordered_json keeps keys in the documented order (file, duration_s, ..., vectors).
using json = nlohmann::ordered_json;

// Floats go through a decimal rounding so that 0.1f prints as 0.1, not 0.100000001.
double r(double v, double step) {
    const double inv = std::round(1.0 / step);
    return std::isfinite(v) ? std::round(v * inv) / inv : 0.0;
}

json floats(const std::vector<float>& v, double step) {
    json a = json::array();
    for (float f : v) a.push_back(r(f, step));
    return a;
}

json events(const std::vector<Event>& ev) {
    json a = json::array();
    for (const auto& e : ev) a.push_back({{"time_s", r(e.time_s, 0.01)}, {"strength", r(e.strength, 0.001)}, {"kind", e.kind}});
    return a;
}

json opt(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }


json harmony_json(const AudioLayer& a) {
    json harm;
    harm["key"] = a.key.empty() ? json(nullptr) : json(a.key);
    harm["mode"] = a.mode.empty() ? json(nullptr) : json(a.mode);
    harm["key_strength"] = a.key_strength;
    harm["tuning_cents"] = a.tuning_cents;
    json changes = json::array();
    for (const auto& k : a.key_changes) changes.push_back({{"time_s", r(k.time_s, 0.01)}, {"key", k.key}, {"mode", k.mode}});
    harm["key_changes"] = changes;
    json chords = json::array();
    for (const auto& c : a.chords) chords.push_back({{"start_s", c.start_s}, {"end_s", c.end_s}, {"chord", c.label}});
    harm["chords"] = chords;
    harm["chord_changes_per_min"] = a.chord_changes_per_min;
    harm["distinct_chords"] = a.distinct_chords;
    return harm;
}

json audio_json(const AudioLayer& a) {
    json au;
    au["bpm"] = opt(a.bpm);
    if (!a.bpm) au["bpm_null_reason"] = a.bpm_null_reason;
    au["bpm_confidence"] = a.bpm_confidence;
    json cands = json::array();
    for (const auto& c : a.tempo_candidates) cands.push_back({{"bpm", c.bpm}, {"weight", r(c.weight, 0.001)}});
    au["tempo_candidates"] = cands;
    au["tempo_curve"] = a.tempo_curve;
    au["tempo_stability"] = a.tempo_stability;
    json changes = json::array();
    for (const auto& c : a.tempo_changes) changes.push_back({{"time_s", r(c.time_s, 0.01)}, {"bpm", r(c.bpm, 0.1)}});
    au["tempo_changes"] = changes;
    au["meter"] = a.meter.empty() ? json(nullptr) : json(a.meter);
    au["beats_s"] = a.beats_s;
    au["timeline_hop_s"] = a.timeline_hop_s;
    au["energy_lufs"] = floats(a.energy_lufs, 0.1);
    au["energy_moments"] = events(a.energy_moments);
    au["dynamic_span_lu"] = a.dynamic_span_lu;
    json spec = json::array();
    for (const auto& row : a.spectrum_db) {
        json rr = json::array();
        for (float v : row) rr.push_back(r(v, 0.1));
        spec.push_back(rr);
    }
    au["spectrum_bands"] = json::array();
    for (const char* band : dsp::k_band_names) au["spectrum_bands"].push_back(band);
    au["spectrum_db"] = spec;
    au["harmony"] = harmony_json(a);
    au["rhythm"] = {{"rhythmic_complexity", a.rhythmic_complexity}, {"syncopation", a.syncopation},
                    {"onset_rate_per_s", a.onset_rate_per_s}, {"groove", a.groove},
                    {"pulse_clarity", a.pulse_clarity}, {"swing_ratio", a.swing_ratio}};
    au["timbre"] = {{"mfcc_mean", a.mfcc_mean}, {"mfcc_std", a.mfcc_std}, {"spectral_centroid_hz", a.spectral_centroid_hz},
                    {"low_energy_share", a.low_energy_share}, {"decay_share", a.decay_share}, {"attack_drop_db", a.attack_drop_db}};
    return au;
}

json structure_json(const StructureLayer& s) {
    json secs = json::array();
    for (const auto& x : s.sections)
        secs.push_back({{"start_s", x.start_s}, {"end_s", x.end_s}, {"label", x.label}, {"role", x.role},
                        {"energy_lufs", x.energy_lufs}, {"length_ratio", x.length_ratio}, {"novelty", x.novelty},
                        {"key", x.key.empty() ? json(nullptr) : json(x.key)}, {"mode", x.mode.empty() ? json(nullptr) : json(x.mode)}});
    return {{"sections", secs}, {"first_hook_s", opt(s.first_hook_s)}, {"hook_repeats", s.hook_repeats},
            {"hook_share", s.hook_share}, {"builds", events(s.builds)}, {"drops", events(s.drops)},
            {"repetition", s.repetition}, {"repeats_per_min", s.repeats_per_min},
            {"surprise", s.surprise}, {"earworm", s.earworm}};
}

json emotion_json(const EmotionLayer& e) {
    return {{"tension", floats(e.tension, 0.001)}, {"releases", events(e.releases)}, {"valence", e.valence},
            {"intensity", floats(e.intensity, 0.001)}, {"mean_intensity", e.mean_intensity},
            {"anticipation", e.anticipation}, {"catharsis", events(e.catharsis)}};
}

json production_json(const ProductionLayer& p) {
    return {
        {"sub_presence", p.sub_presence}, {"sub_db", p.sub_db}, {"bass_808_sustain_s", p.bass_808_sustain_s},
        {"low_distortion", p.low_distortion}, {"low_end_db", p.low_end_db}, {"sparkle", p.sparkle},
        {"sparkle_db", p.sparkle_db}, {"reverb_proxy", p.reverb_proxy}, {"pitch_quantization", opt(p.pitch_quantization)},
        {"melody_coverage", p.melody_coverage}, {"width", floats(p.width, 0.001)}, {"mean_width", p.mean_width},
        {"low_width", p.low_width}, {"correlation", p.correlation}, {"integrated_lufs", p.integrated_lufs},
        {"loudness_range_lu", p.loudness_range_lu}, {"sample_peak_dbfs", p.sample_peak_dbfs}, {"crest_db", p.crest_db},
        {"plr_db", p.plr_db}, {"compression", p.compression}};
}

json vectors_json(const Vectors& v) {
    json sv = json::array();
    for (const auto& x : v.sections) sv.push_back(floats(x, 0.0001));
    return {{"audio", floats(v.audio, 0.0001)}, {"structure", floats(v.structure, 0.0001)},
            {"emotion", floats(v.emotion, 0.0001)}, {"production", floats(v.production, 0.0001)},
            {"sections", sv}};
}

}  // namespace

std::string to_json_string(const Dna& d, bool with_vectors, int indent) {
    json j;
    j["file"] = d.file;
    j["duration_s"] = d.duration_s;
    j["sample_rate"] = d.sample_rate;
    j["channels"] = d.channels;
    j["decoder"] = d.decoder;
    j["analysis_version"] = d.analysis_version;
    j["flags"] = d.flags;
    j["warnings"] = d.warnings;
    j["audio"] = audio_json(d.audio);
    j["structure"] = structure_json(d.structure);
    j["emotion"] = emotion_json(d.emotion);
    j["production"] = production_json(d.production);
    const SpotifyStyle& ss = d.spotify_style;
    j["spotify_style"] = {{"danceability", ss.danceability}, {"energy", ss.energy}, {"valence", ss.valence}, {"acousticness", ss.acousticness},
                          {"instrumentalness", ss.instrumentalness}, {"speechiness", ss.speechiness}, {"liveness", ss.liveness}};
    j["descriptors"] = d.descriptors;
    if (with_vectors) j["vectors"] = vectors_json(d.vectors);
    if (d.identity) {
        j["content_hash"] = d.identity->content_hash;
        json tags;
        tags["title"] = d.identity->title;
        tags["artist"] = d.identity->artist;
        tags["year"] = d.identity->year ? json(*d.identity->year) : json(nullptr);
        tags["genres"] = d.identity->genres;
        j["tags"] = tags;
    }
    return j.dump(indent, ' ', false, nlohmann::ordered_json::error_handler_t::replace);  // a non-UTF-8 file name must not abort
}

std::string to_text(const Dna& d) {
    std::ostringstream o;
    char buf[256];
    const auto& a = d.audio;
    const auto& s = d.structure;
    const auto& p = d.production;
    const auto& e = d.emotion;
    auto mmss = [&](double t) {
        std::snprintf(buf, sizeof buf, "%d:%04.1f", int(t) / 60, std::fmod(t, 60.0));
        return std::string(buf);
    };
    o << d.file << "\n";
    o << "  length    " << mmss(d.duration_s) << "  (" << d.sample_rate << " Hz, " << d.channels << " ch, " << d.decoder << ")";
    for (const auto& f : d.flags) o << " [" << f << "]";
    o << "\n";
    for (const auto& w : d.warnings) o << "  warning   " << w << "\n";
    if (a.bpm) {
        std::snprintf(buf, sizeof buf, "  tempo     %.1f BPM (confidence %.2f, stability %.2f), %zu beats, meter %s\n", *a.bpm, a.bpm_confidence,
                      a.tempo_stability, a.beats_s.size(), a.meter.empty() ? "unknown" : a.meter.c_str());
        o << buf;
        for (const auto& c : a.tempo_changes) {
            std::snprintf(buf, sizeof buf, "            from %s: %.1f BPM\n", mmss(c.time_s).c_str(), c.bpm);
            o << buf;
        }
    } else {
        o << "  tempo     none: " << a.bpm_null_reason << "\n";
    }
    if (!a.key.empty()) {
        std::snprintf(buf, sizeof buf, "  key       %s %s (strength %.2f), %d distinct chords, %.1f changes/min\n", a.key.c_str(), a.mode.c_str(), a.key_strength, a.distinct_chords, a.chord_changes_per_min);
        o << buf;
        for (const auto& k : a.key_changes) {
            std::snprintf(buf, sizeof buf, "            from %s: %s %s\n", mmss(k.time_s).c_str(), k.key.c_str(), k.mode.c_str());
            o << buf;
        }
    } else {
        o << "  key       none\n";
    }
    std::snprintf(buf, sizeof buf, "  rhythm    complexity %.2f, syncopation %.2f, groove %.2f (heuristic), swing %.2f\n", a.rhythmic_complexity, a.syncopation, a.groove, a.swing_ratio);
    o << buf;
    o << "  sections ";
    for (const auto& x : s.sections) o << " " << x.label << ":" << x.role << "@" << mmss(x.start_s);
    o << "\n";
    if (s.first_hook_s) {
        std::snprintf(buf, sizeof buf, "  hook      first at %s, %d times; %zu builds, %zu drops; earworm %.2f, surprise %.2f (heuristics)\n",
                      mmss(*s.first_hook_s).c_str(), s.hook_repeats, s.builds.size(), s.drops.size(), s.earworm, s.surprise);
        o << buf;
    }
    std::snprintf(buf, sizeof buf, "  emotion   valence %+.2f, intensity %.2f, anticipation %.2f (heuristics); %zu releases, %zu catharsis moments\n",
                  e.valence, e.mean_intensity, e.anticipation, e.releases.size(), e.catharsis.size());
    o << buf;
    std::snprintf(buf, sizeof buf, "  loudness  %.1f LUFS integrated, LRA %.1f LU, peak %.1f dBFS, PLR %.1f dB (%s)\n",
                  p.integrated_lufs, p.loudness_range_lu, p.sample_peak_dbfs, p.plr_db, p.compression.c_str());
    o << buf;
    std::snprintf(buf, sizeof buf, "  mix       sub %.1f%% of power, low end %.1f dB, sparkle %.1f dB, width %.2f (lows %.2f), reverb proxy %.2f\n",
                  p.sub_presence * 100, p.low_end_db, p.sparkle_db, p.mean_width, p.low_width, p.reverb_proxy);
    o << buf;
    const SpotifyStyle& ss = d.spotify_style;
    std::snprintf(buf, sizeof buf,
                  "  spotify   danceability %.2f, energy %.2f, valence %.2f, acousticness %.2f, instrumentalness %.2f, speechiness %.2f,"
                  " liveness %.2f (0..1 estimates, not Spotify's model)\n",
                  ss.danceability, ss.energy, ss.valence, ss.acousticness, ss.instrumentalness, ss.speechiness, ss.liveness);
    o << buf;
    o << "  words    ";
    for (const auto& w : d.descriptors) o << " " << w;
    o << "\n";
    return o.str();
}

}  // namespace hitdna::dna
