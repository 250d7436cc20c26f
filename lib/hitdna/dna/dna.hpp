#pragma once
// The Hit DNA of one recording: four layers computed from the audio, plus descriptors and
// vectors. Units and ranges of every field are documented in man/hitdna-analyze.1 and in
// data/hitdna-dna.schema.json; "heuristic" there marks fields that are hitdna's own proxies.
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hitdna::dna {

// Pitch-class names as printed in keys and chord labels (0 = C).
inline constexpr std::array<const char*, 12> k_pitch_names = {"C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"};

// Index 0..11 of a pitch-class name from k_pitch_names, or -1.
inline int pitch_index(std::string_view name) {
    for (int i = 0; i < 12; ++i)
        if (name == k_pitch_names[size_t(i)]) return i;
    return -1;
}

// Bumped whenever a change to the analyzer changes its output; stored with every track.
// 2: content-based section vectors; 3: drops on the frame the low end returns; 4: key per
// section and key changes, tonic evidence from the bass and cadences, meter, held tempo changes;
// 5: pulse clarity normalized, 6/8 read at the dotted quarter, the local tempo (curve,
// stability, held changes) from the tracked beats, labels that survive a step's transposition;
// 6: chords from whitened chroma, a key and its relative scored with the pair's profile fit.
constexpr int k_analysis_version = 7;

struct Event {
    double time_s = 0;
    double strength = 0;  // 0..1
    std::string kind;
};

struct TempoCandidate {
    double bpm = 0;
    double weight = 0;  // 0..1, candidates sum to <= 1
};

// A held change of tempo: from time_s on, the local tempo is bpm (BPM).
struct TempoChange {
    double time_s = 0;
    double bpm = 0;
};

// A change of key: from time_s on, the key is tonic + mode.
struct KeyChange {
    double time_s = 0;
    std::string key;   // "C", "C#", ...
    std::string mode;  // "major" / "minor"
};

struct Chord {
    double start_s = 0, end_s = 0;
    std::string label;  // "C", "Am", ... or "N" (no chord)
};

struct AudioLayer {
    std::optional<double> bpm;          // beats per minute
    std::string bpm_null_reason;        // when bpm is empty
    double bpm_confidence = 0;          // 0..1
    std::vector<TempoCandidate> tempo_candidates;
    std::vector<std::array<double, 2>> tempo_curve;  // [time_s, bpm]
    double tempo_stability = 0;         // share of the song within 4 % of bpm, 0..1
    std::vector<TempoChange> tempo_changes;  // held changes (>= 4 bars), empty = one tempo
    std::string meter;                  // "4/4", "3/4", "6/8" or "" (no beat)
    std::vector<double> beats_s;
    double timeline_hop_s = 1.0;
    std::vector<float> energy_lufs;     // per timeline hop
    std::vector<Event> energy_moments;  // "peak" (loud) or "dip" (quiet), with prominence
    double dynamic_span_lu = 0;         // p95 - p10 of energy_lufs
    std::vector<std::array<float, 7>> spectrum_db;  // per hop, per band (dB, power re full scale)
    std::string key;                    // "C", "C#", ... or "" when atonal/silent
    std::string mode;                   // "major" / "minor" / ""
    double key_strength = 0;            // correlation with the key profile, -1..1
    double tuning_cents = 0;            // deviation of the reference A from 440 Hz
    std::vector<KeyChange> key_changes; // modulations, in time order
    std::vector<Chord> chords;
    double chord_changes_per_min = 0;
    int distinct_chords = 0;
    double rhythmic_complexity = 0;     // 0..1 heuristic
    double syncopation = 0;             // 0..1
    double onset_rate_per_s = 0;
    double groove = 0;                  // bounce, 0..1 heuristic
    double pulse_clarity = 0;           // 0..1
    double swing_ratio = 1;             // long/short eighth ratio, 1 = straight
    std::array<double, 13> mfcc_mean{}, mfcc_std{};
    double spectral_centroid_hz = 0;
    // Texture of the 250 Hz - 6 kHz envelope (analysis/texture.cpp): inputs of the
    // Spotify-style speechiness and acousticness estimates.
    double low_energy_share = 0;        // frames under half their 1 s neighbourhood's mean power, 0..1
    double decay_share = 0;             // steady frames whose level falls (struck/plucked notes), 0..1
    double attack_drop_db = 0;          // median level drop 0.2-0.4 s after an attack, dB (about -10..30)
};

struct Section {
    double start_s = 0, end_s = 0;
    std::string label;   // "A", "B", ... shared by repeats
    std::string role;    // intro, verse, pre-hook, hook, bridge, outro
    double energy_lufs = -70;
    double length_ratio = 0;  // share of the song, 0..1
    double novelty = 0;       // strength of the boundary that starts it, 0..1
    std::string key, mode;    // the section's own key ("" when it has none)
};

struct StructureLayer {
    std::vector<Section> sections;
    std::optional<double> first_hook_s;
    int hook_repeats = 0;
    double hook_share = 0;            // share of the song labelled hook, 0..1
    std::vector<Event> builds;        // kind "build": time_s = start, strength 0..1
    std::vector<Event> drops;
    double repetition = 0;            // share of the song in repeated labels, 0..1
    double repeats_per_min = 0;
    double surprise = 0;              // 0..1 heuristic
    double earworm = 0;               // 0..1 heuristic
};

struct EmotionLayer {
    std::vector<float> tension;        // per hop, 0..1 heuristic
    std::vector<Event> releases;
    double valence = 0;                // -1..1 heuristic
    std::vector<float> intensity;      // per hop, 0..1
    double mean_intensity = 0;
    double anticipation = 0;           // 0..1 heuristic
    std::vector<Event> catharsis;
};

struct ProductionLayer {
    double sub_presence = 0;          // sub-bass (20-60 Hz) share of power, 0..1
    double sub_db = -120;             // sub-bass level re full-scale band power, dB
    double bass_808_sustain_s = 0;    // median low-band decay time after hits, s
    double low_distortion = 0;        // 0..1 proxy
    double low_end_db = 0;            // power below 250 Hz relative to total, dB
    double sparkle = 0;               // power share 6-11 kHz, 0..1
    double sparkle_db = 0;            // same relative to total, dB
    double reverb_proxy = 0;          // 0..1 proxy
    std::optional<double> pitch_quantization;  // 0..1 proxy, empty when no clear melody
    double melody_coverage = 0;       // share of frames with a salient melodic partial, 0..1
    std::vector<float> width;         // per hop, side/(mid+side), 0..1
    double mean_width = 0;
    double low_width = 0;             // width below 120 Hz, 0..1
    double correlation = 1;           // mean L/R correlation, -1..1
    double integrated_lufs = -70;
    double loudness_range_lu = 0;
    double sample_peak_dbfs = -120;
    double crest_db = 0;              // peak to RMS, dB
    double plr_db = 0;                // peak to loudness ratio, dB
    std::string compression;          // "brickwall", "heavy", "moderate", "light", "dynamic", "none" (silence)
};

// Estimates under the names of Spotify's (closed) audio-features fields, each defined from
// hitdna's own measurements (dna/spotify_style.cpp has the formulas); not Spotify's model.
struct SpotifyStyle {
    double danceability = 0, energy = 0, valence = 0, acousticness = 0, instrumentalness = 0, speechiness = 0, liveness = 0;  // 0..1
};

struct Vectors {
    std::vector<float> audio, structure, emotion, production;
    std::vector<std::vector<float>> sections;
    std::vector<float> whole;  // the section vector of the whole recording (queries; not in JSON)
};

// What identifies the analyzed file where it was analyzed, so that another machine can store
// the analysis without the audio (hitdna analyze --vectors; hitdna ingest --dna).
struct FileIdentity {
    std::string content_hash;            // XXH3-128 of the file's bytes, as the catalog keys tracks
    std::string title, artist;           // from the file's tags ("" = none)
    std::optional<int> year;
    std::vector<std::string> genres;
};

struct Dna {
    std::string file;
    double duration_s = 0;
    int sample_rate = 0;
    int channels = 0;
    std::string decoder;
    int analysis_version = k_analysis_version;
    std::vector<std::string> flags;     // "silent", "short", "truncated", "no-beat", "mono"
    std::vector<std::string> warnings;
    AudioLayer audio;
    StructureLayer structure;
    EmotionLayer emotion;
    ProductionLayer production;
    SpotifyStyle spotify_style;
    std::vector<std::string> descriptors;
    Vectors vectors;
    std::optional<FileIdentity> identity;  // only with analyze --vectors (JSON: content_hash, tags)
};

}  // namespace hitdna::dna
