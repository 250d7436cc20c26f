#pragma once
// The brief: what a prompt states, read into typed items, each with the span of the prompt it
// came from. What the brief states is used exactly by the target (see target.hpp); the hits
// fill in only what it leaves open. The grammar, with examples, is in man/hitdna-enrich.1
// (section THE BRIEF); in short, case-insensitive unless said otherwise:
//
//   tempo    N bpm | Nbpm | at N BPM | N beats per minute | tempo (of) N     N in 40..250
//            half-time | halftime | half time | double-time                   (a feel)
//   key      [in] T [mode] | in Tm | key of T [mode]      T = A..G (upper case unless followed by
//            #, b, a mode word or preceded by "in"/"key of") with #, b, ♯ or ♭;
//            mode = major | minor | maj | min | m
//            major key | minor key | in major | in minor                      (mode only)
//   length   N minutes | N min | N-minute | N seconds | N sec | N-second | M:SS long |
//            length (of) M:SS | lasting M:SS | N minutes long | short | long song/track/...
//   events   drop(s) [lands|hits|comes in|...] at TIME [and TIME]... | hook/chorus [...] at TIME
//            | build into the (first) hook/chorus/drop | long build | big build | (a) build-up
//            | no intro | straight into the hook | starts on the hook | long/short/no intro
//            | long/short/no outro | no drop | no build
//            TIME = M:SS | N s | N seconds | N minute(s)
//   counts   NUM drops | NUM builds | NUM hooks/choruses | hook/chorus NUM times | hook twice
//            NUM = a digit or one..twelve
//   feel     slow fast upbeat uptempo chill sad happy dark bright heavy sparse wide mono loud
//            punchy quiet soft dynamic ... (table feel_words(): each word's effect on fields)
//   genre    words of genre_words(), or a genre the catalog holds (Vocabulary::genres)
//   title    "quoted title" or “curly quoted”
//   artist   like <Artist>: capitalized words after "like", or a catalog artist's name
#include <optional>
#include <string>
#include <vector>

namespace hitdna::enrich {

struct Span {
    size_t begin = 0, end = 0;  // byte offsets [begin, end) in the prompt
};

enum class ItemKind { tempo, half_time, key, mode, length, event, count, feel, genre, title, artist };
const char* to_string(ItemKind kind);

struct BriefItem {
    ItemKind kind = ItemKind::tempo;
    Span span;
    std::string text;    // the prompt's own words: prompt.substr(span)
    std::string value;   // canonical: "140 BPM", "F# minor", "minor", "120 s", "drop at 1:00",
                         // "drops: 2", "no intro", "dark", "techno", the title, the artist
    std::string what;    // event or count: drop, build, hook, intro, outro; feel: the word
    double number = 0;   // BPM, seconds (length, event time), count; NaN when none
};

// A closed range on one target field; an open side is nullopt.
struct Range {
    std::optional<double> min, max;
    bool contains(double x) const { return (!min || x >= *min) && (!max || x <= *max); }
    double clamp(double x) const;
    bool empty() const { return min && max && *min > *max; }
};

// What a feel word asks of the target: a range per field and/or a mode.
struct FeelEffect {
    const char* word = nullptr;
    const char* canonical = nullptr;  // synonyms share one canonical word
    Range bpm, sub_presence, mean_width, sparkle_db, integrated_lufs;
    const char* mode = nullptr;       // "major", "minor" or nullptr
    const char* contradicts = "";     // hits' descriptor words this feel rules out (space separated)
    const char* effect = "";          // in words, for the man page and the output
};
const std::vector<FeelEffect>& feel_words();
const std::vector<std::string>& genre_words();
// A genre as the brief writes it: lower case, "hip hop" -> "hip-hop", "dnb" -> "drum and bass", ...
std::string canonical_genre(const std::string& genre);

// What the catalog knows, so that its genres and artists are recognised.
struct Vocabulary {
    std::vector<std::string> genres;   // lower case
    std::vector<std::string> artists;  // as stored
};

struct Brief {
    std::string prompt;
    std::vector<BriefItem> items;          // in prompt order

    std::optional<double> bpm;             // stated tempo, BPM
    bool half_time = false, double_time = false;
    std::optional<std::string> key;        // tonic C C# D Eb E F F# G Ab A Bb B
    std::optional<std::string> mode;       // major / minor, stated (or from a key such as F#m)
    std::optional<double> duration_s;      // stated length, s

    std::vector<double> drop_times_s;      // stated drop times, s, ascending
    std::optional<double> first_hook_s;    // "hook at 0:30"; 0 for "straight into the hook"
    bool build_into_hook = false;          // "build into the first chorus"
    bool long_build = false;
    std::optional<std::string> intro, outro;  // "none", "short" or "long"
    std::optional<int> drops, builds, hooks;  // stated counts
    int min_drops = 0, min_builds = 0;        // "a big drop", "a build" without a count

    std::vector<std::string> feels;        // canonical feel words, in order
    Range bpm_range, sub_range, width_range, sparkle_range, lufs_range, length_range;  // from feel words
    std::optional<std::string> feel_mode;  // from feel words (a stated mode wins)
    std::vector<std::string> genres, titles, artists;

    // The prompt without quoted titles and "like <Artist>" (what may be sent to a generator,
    // which refuses prompts naming artists or songs), spaces and punctuation tidied.
    std::string free_text;
    // Words to search the catalog with: quoted titles (quoted), artists, genres, feel words and
    // the other words, without the tempo, key, length, event and count phrases.
    std::string search_text;

    bool states_anything() const { return !items.empty(); }
};

// Longer prompts are refused (the ElevenLabs prompt limit is 4100 characters, and an enriched
// prompt adds to the user's words).
constexpr size_t k_max_prompt_bytes = 2000;

// Reads a prompt (valid UTF-8, at most k_max_prompt_bytes). Throws Error(usage) with one line naming both phrases when the brief
// contradicts itself (two tempos, two keys, "no intro" and "long intro", a count below the
// times listed, an event after the stated end, feel words that exclude each other). A stated
// value wins over a feel word's range for the same field ("uptempo 112 bpm" is 112 BPM).
Brief parse_brief(const std::string& prompt, const Vocabulary& vocabulary = {});

}  // namespace hitdna::enrich
