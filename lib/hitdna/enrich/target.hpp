#pragma once
// Target DNA: what a generated track should have, aggregated from the Hit DNA of matched hits
// (weighted by how close each hit is), plus the enriched prompt and an ElevenLabs composition
// plan built from it. JSON format "hitdna-target-1", documented in man/hitdna-enrich.1.
#include <iosfwd>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "hitdna/enrich/brief.hpp"
#include "hitdna/store/catalog.hpp"

namespace hitdna::enrich {

constexpr int k_arc_points = 16;  // energy arc resolution: 16 equal parts of the song

struct PlannedSection {
    std::string role;      // intro, verse, pre-hook, hook, bridge, outro
    std::string label;     // A, B, ...: repeats share a label (same material)
    double start_s = 0, duration_s = 0;
    double energy_lu = 0;  // loudness relative to the song's integrated loudness, LU
    bool build = false;    // energy rises through it into what follows
    bool drop = false;     // starts with a drop: beat and bass return at full energy
};

struct SourceHit {
    int64_t track_id = 0;
    std::string title, artist;
    double score = 0;      // match score, 0..1
    double weight = 0;     // share in the aggregate, 0..1 (weights sum to 1)
    std::string why;       // how the brief re-weighted it ("tempo 138 BPM near 140: x0.94")
};

// Where a target field came from: "prompt" (stated, or moved into a feel word's range),
// "hits" (the hits' aggregate) or "default" (no hits); `note` says which words or how.
struct Provenance {
    std::string from, note;
};

struct TargetProduction {
    double sub_presence = 0.05;        // sub-bass share of power, 0..1
    double bass_808_sustain_s = 0.3;   // s
    double mean_width = 0.2;           // side/(mid+side), 0..1
    double sparkle_db = -30;           // 6-11 kHz relative to total, dB
    double integrated_lufs = -14;      // LUFS
};

struct Target {
    std::string prompt;                // the user's words
    double bpm = 120;                  // from 0:00 on
    // Held changes of tempo: from time_s on, bpm (in time order, inside the song). From the
    // form's template hit when the brief leaves the tempo open; empty: one tempo throughout.
    std::vector<dna::TempoChange> tempo_changes;
    std::string key = "C", mode = "major";
    double duration_s = 180;
    bool duration_stated = false;      // stated by the brief or --duration: kept to the second
    std::vector<PlannedSection> sections;
    std::vector<double> energy_arc;    // k_arc_points values, LU relative to integrated loudness
    std::optional<double> first_hook_s;
    int hook_repeats = 0;
    int builds = 0, drops = 0;
    TargetProduction production;
    std::vector<std::string> descriptors;  // words shared by the hits, most common first
    std::vector<std::string> genres;
    std::vector<SourceHit> hits;
    bool from_hits = false;            // false: no hits, the prompt alone
    std::vector<double> build_times_s, drop_times_s;  // starts of the build and drop sections, s
    std::vector<BriefItem> brief;      // what the prompt states, in prompt order
    std::string free_text;             // the prompt without quoted titles and "like <Artist>"
    std::vector<std::string> stated_styles;  // the brief's genres, feel words and half-time
    std::map<std::string, Provenance> provenance;  // per field: bpm, key, mode, duration_s, ...
};

// Aggregates the DNA of catalog tracks (ids with match scores) into a target. Weights are the
// scores normalized to sum 1. With a brief, what it states is used exactly and the hits fill
// in the rest (man/hitdna-enrich.1); throws Error(usage) when a stated event cannot be placed.
Target aggregate(store::Catalog& catalog, const std::vector<std::pair<int64_t, double>>& scored_tracks, const Brief& brief,
                 std::optional<double> duration_s = std::nullopt);
// The same without a brief: the hits' aggregate alone, the prompt kept as its text.
Target aggregate(store::Catalog& catalog, const std::vector<std::pair<int64_t, double>>& scored_tracks, const std::string& prompt,
                 std::optional<double> duration_s = std::nullopt);

// A target from the brief alone (no hits): what it states, defaults for the rest.
Target from_brief(const Brief& brief, std::optional<double> duration_s = std::nullopt);
// from_brief(parse_brief(prompt)).
Target from_prompt(const std::string& prompt, std::optional<double> duration_s = std::nullopt);

// The factor by which a hit's weight is multiplied for a brief (1 when the brief states
// nothing the hit can be compared on), and why in words; documented in man/hitdna-enrich.1.
double brief_affinity(const Brief& brief, const store::TrackRow& hit, std::string* why = nullptr);

// A readable prompt for a text-to-music model: the user's words first, then tempo, key,
// structure, energy and production in words. Never names the hits' artists or titles.
std::string enriched_prompt(const Target& t);

// ElevenLabs composition plans within the API limits (sections/chunks <= 30, each 3..120 s,
// styles <= 50 of <= 100 chars, total <= 600 s): "music_v1" (MusicPrompt) or "music_v2"
// (CompositionPlan). Instrumental (no lyrics).
nlohmann::json composition_plan(const Target& t, const std::string& model_id);

// The target's fields in words with their provenance, for --format text and the report:
// bpm, key, mode, duration_s, sections, first_hook_s, hook_repeats, builds, drops,
// production.*, genres.
struct FieldLine {
    std::string field, value, from, note;
};
std::vector<FieldLine> target_fields(const Target& t);

nlohmann::json to_json(const Target& t);
// Throws Error(usage) naming `source` and the field when the JSON is not a target.
Target target_from_json(const nlohmann::json& j, const std::string& source);

// Shifts the arc and the section energies so that their power mean is 0 LU, as in an arc
// measured relative to integrated loudness.
void normalize_arc(Target& t);

// Loudness (LU re integrated) of the target's energy arc at time t.
double arc_at(const Target& t, double time_s);

// The energy arc of a measured track: for each of k_arc_points equal slices of its loudness
// timeline (LUFS per hop), the mean LUFS minus the integrated loudness, clamped to -30..+10 LU.
// The one definition used by enrich (hits), validate (tracks) and plot.
std::vector<double> energy_arc(const std::vector<double>& lufs_per_hop, double integrated_lufs);

}  // namespace hitdna::enrich
