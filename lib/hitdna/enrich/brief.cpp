#include "hitdna/enrich/brief.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <map>
#include <regex>

#include "hitdna/core/error.hpp"
#include "hitdna/core/text.hpp"
#include "hitdna/dna/dna.hpp"

namespace hitdna::enrich {

const char* to_string(ItemKind k) {
    switch (k) {
        case ItemKind::tempo: return "tempo";
        case ItemKind::half_time: return "half_time";
        case ItemKind::key: return "key";
        case ItemKind::mode: return "mode";
        case ItemKind::length: return "length";
        case ItemKind::event: return "event";
        case ItemKind::count: return "count";
        case ItemKind::feel: return "feel";
        case ItemKind::genre: return "genre";
        case ItemKind::title: return "title";
        case ItemKind::artist: return "artist";
    }
    return "?";
}

double Range::clamp(double x) const {
    if (min && x < *min) x = *min;
    if (max && x > *max) x = *max;
    return x;
}

namespace {

constexpr double k_none = std::numeric_limits<double>::quiet_NaN();
using std::nullopt;

Range at_most(double x) { return {nullopt, x}; }
Range at_least(double x) { return {x, nullopt}; }

}  // namespace

// Each feel word's effect. Ranges are the documented ones of man/hitdna-enrich.1: tempo in
// BPM (met at any of the levels x0.5, x1, x2), sub-bass share 0..1, stereo width 0..1,
// brightness (6-11 kHz share) dB, integrated loudness LUFS, length s.
// Designated initializers leave the other fields at their defaults on purpose.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
const std::vector<FeelEffect>& feel_words() {
    static const std::vector<FeelEffect> table = [] {
        std::vector<FeelEffect> v;
        auto add = [&](std::vector<const char*> words, const char* canonical, FeelEffect e) {
            for (const char* w : words) {
                e.word = w;
                e.canonical = canonical;
                v.push_back(e);
            }
        };
        add({"slow", "slower"}, "slow", {.bpm = {50.0, 95.0}, .contradicts = "uptempo fast", .effect = "tempo 50..95 BPM"});
        add({"ballad"}, "ballad", {.bpm = {50.0, 90.0}, .contradicts = "uptempo fast intense", .effect = "tempo 50..90 BPM"});
        add({"chill", "chilled", "laid-back", "laidback", "relaxed", "mellow"}, "chill",
            {.bpm = {60.0, 105.0}, .contradicts = "fast intense", .effect = "tempo 60..105 BPM"});
        add({"upbeat", "uptempo", "up-tempo", "energetic", "driving"}, "upbeat",
            {.bpm = {110.0, 180.0}, .contradicts = "slow calm", .effect = "tempo 110..180 BPM"});
        add({"fast", "faster", "frantic"}, "fast", {.bpm = {125.0, 200.0}, .contradicts = "slow calm", .effect = "tempo 125..200 BPM"});
        add({"sad", "melancholic", "melancholy", "somber", "sombre", "gloomy", "mournful"}, "sad",
            {.mode = "minor", .contradicts = "happy", .effect = "minor mode"});
        add({"happy", "joyful", "cheerful", "uplifting", "feel-good", "sunny"}, "happy",
            {.mode = "major", .contradicts = "sad", .effect = "major mode"});
        add({"dark", "darker"}, "dark", {.sparkle_db = at_most(-32), .contradicts = "bright sparkly", .effect = "brightness <= -32 dB"});
        add({"bright", "brighter", "shiny", "airy"}, "bright", {.sparkle_db = at_least(-24), .contradicts = "dark", .effect = "brightness >= -24 dB"});
        add({"heavy", "bass-heavy", "bassy", "thick"}, "heavy", {.sub_presence = at_least(0.15), .contradicts = "light-low-end", .effect = "sub-bass share >= 0.15"});
        add({"sparse", "minimal", "minimalist", "stripped-back", "stripped-down"}, "sparse",
            {.sub_presence = at_most(0.08), .integrated_lufs = at_most(-14), .contradicts = "intense heavy-sub", .effect = "sub-bass share <= 0.08, loudness <= -14 LUFS"});
        add({"wide", "wider", "spacious", "expansive"}, "wide", {.mean_width = at_least(0.3), .contradicts = "narrow mono", .effect = "stereo width >= 0.30"});
        add({"mono", "narrow", "centred", "centered"}, "mono", {.mean_width = at_most(0.05), .contradicts = "wide", .effect = "stereo width <= 0.05"});
        add({"loud", "louder", "punchy", "aggressive", "hard-hitting"}, "loud",
            {.integrated_lufs = at_least(-9), .contradicts = "dynamic calm", .effect = "loudness >= -9 LUFS"});
        add({"quiet", "soft", "gentle", "delicate", "dynamic"}, "quiet",
            {.integrated_lufs = at_most(-16), .contradicts = "loud compressed intense", .effect = "loudness <= -16 LUFS"});
        return v;
    }();
    return table;
}
#pragma GCC diagnostic pop

const std::vector<std::string>& genre_words() {
    static const std::vector<std::string> g = {
        "drum and bass", "drum & bass", "deep house", "hip hop", "hip-hop", "r&b", "lo-fi", "k-pop", "pop", "rock", "rap", "trap", "phonk",
        "drill", "grime", "techno", "house", "edm", "electronic", "electronica", "dubstep", "dnb", "jungle", "ambient", "soundtrack",
        "cinematic", "orchestral", "classical", "jazz", "blues", "country", "folk", "metal", "punk", "rnb", "soul", "funk", "disco",
        "reggae", "reggaeton", "dancehall", "afrobeats", "latin", "indie", "lofi", "synthwave", "chiptune", "trance", "garage", "club",
        "dance", "gospel", "score", "idm", "breakbeat", "hardstyle", "emo", "grunge", "shoegaze", "world"};
    return g;
}

// Canonical spellings of genre words.
std::string canonical_genre(const std::string& genre) {
    const std::string g = core::ascii_lower(genre);
    static const std::map<std::string, std::string> same = {{"hip hop", "hip-hop"}, {"drum & bass", "drum and bass"}, {"dnb", "drum and bass"},
                                                            {"rnb", "r&b"}, {"lofi", "lo-fi"}};
    auto it = same.find(g);
    return it == same.end() ? g : it->second;
}

namespace {

int number_word(const std::string& w) {
    static const std::map<std::string, int> n = {{"one", 1}, {"single", 1}, {"a single", 1}, {"two", 2}, {"three", 3}, {"four", 4},
                                                 {"five", 5}, {"six", 6}, {"seven", 7}, {"eight", 8}, {"nine", 9}, {"ten", 10},
                                                 {"eleven", 11}, {"twelve", 12}, {"a", 1}, {"an", 1}, {"half a", 0}};
    if (!w.empty() && std::isdigit(static_cast<unsigned char>(w[0]))) return std::atoi(w.c_str());
    auto it = n.find(w);
    return it == n.end() ? -1 : it->second;
}

const char* const k_num = "(\\d+(?:\\.\\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a|an)";
const char* const k_count = "(\\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a single|single)";

// A time phrase: m:ss, N s / seconds, N minutes. Returns seconds, NaN when not a time.
double time_of(const std::string& t) {
    std::smatch m;
    if (std::regex_match(t, m, std::regex("(\\d+):([0-5]\\d)"))) return std::stod(m[1]) * 60 + std::stod(m[2]);
    if (std::regex_match(t, m, std::regex("(\\d+(?:\\.\\d+)?)\\s*(?:s|sec|secs|seconds?)"))) return std::stod(m[1]);
    if (std::regex_match(t, m, std::regex(std::string(k_num) + "\\s*-?\\s*(?:minutes?|mins?)"))) {
        const std::string x = m[1];
        return (std::isdigit(static_cast<unsigned char>(x[0])) ? std::stod(x) : number_word(x)) * 60;
    }
    return k_none;
}

const std::string k_time = std::string("(\\d+:[0-5]\\d|\\d+(?:\\.\\d+)?\\s*(?:s|sec|secs|seconds?)\\b|") + k_num + "\\s*-?\\s*(?:minutes?|mins?)\\b)";

std::string fmt_time(double s) {
    char b[32];
    const long r = std::lround(s);
    std::snprintf(b, sizeof b, "%ld:%02ld", r / 60, r % 60);
    return b;
}

// The parse in progress: the prompt, a lower-case copy in which consumed phrases are blanked
// (so that no phrase is read twice), and the brief.
struct Parser {
    std::string prompt, low;
    const Vocabulary& vocab;
    Brief b;

    Parser(const std::string& p, const Vocabulary& v) : prompt(p), low(core::ascii_lower(p)), vocab(v) { b.prompt = p; }

    BriefItem& add(ItemKind kind, size_t begin, size_t end, std::string value, std::string what = {}, double number = k_none) {
        BriefItem it;
        it.kind = kind;
        it.span = {begin, end};
        it.text = prompt.substr(begin, end - begin);
        it.value = std::move(value);
        it.what = std::move(what);
        it.number = number;
        std::fill(low.begin() + long(begin), low.begin() + long(end), ' ');
        b.items.push_back(it);
        return b.items.back();
    }

    // Calls fn(match, begin) for each match of re in the blanked text; fn may consume it.
    template <class Fn>
    void each(const std::string& re, Fn fn) {
        const std::regex rx(re);
        // Copy first: fn blanks `low` as it goes.
        const std::string text = low;
        for (auto it = std::sregex_iterator(text.begin(), text.end(), rx); it != std::sregex_iterator(); ++it) {
            const std::smatch& m = *it;
            const size_t at = size_t(m.position(0));
            if (low.compare(at, size_t(m.length(0)), text, at, size_t(m.length(0))) != 0) continue;  // consumed meanwhile
            fn(m, at);
        }
    }

    std::string drop_count_text;  // "two drops at 1:00 and 2:00": the count read with the times
    [[noreturn]] void conflict_texts(const std::string& what, const std::string& a, const std::string& b_text) {
        throw Error(ErrorKind::usage, "the brief states " + what + ": '" + a + "' and '" + b_text + "'; say one");
    }
    [[noreturn]] void conflict(const std::string& what, const BriefItem& a, const std::string& b_text) { conflict_texts(what, a.text, b_text); }
    // The words that stated a count of `what`, wherever they were read.
    std::string count_text(const std::string& what) const {
        if (const auto* it = first_of(ItemKind::count, what)) return it->text;
        if (what == "drop" && !drop_count_text.empty()) return drop_count_text;
        return what + " count";
    }
    std::string event_text(const std::string& what) const {
        const auto* it = first_of(ItemKind::event, what);
        return it ? it->text : what;
    }
    const BriefItem* first_of(ItemKind k, const std::string& what = {}) const {
        for (const auto& it : b.items)
            if (it.kind == k && (what.empty() || it.what == what)) return &it;
        return nullptr;
    }

    void titles();
    void artists();
    void event_times();
    void lengths();
    void tempos();
    void keys();
    void modes();
    void counts();
    void events();
    void feels_and_genres();
    void length_words();
    void check();
    void texts();
};

void Parser::titles() {
    for (size_t i = 0; i < prompt.size();) {
        const bool curly = prompt.compare(i, 3, "\xe2\x80\x9c") == 0;
        if (prompt[i] != '"' && !curly) {
            ++i;
            continue;
        }
        const size_t start = i + (curly ? 3 : 1);
        size_t end = curly ? prompt.find("\xe2\x80\x9d", start) : prompt.find('"', start);
        if (end == std::string::npos) end = prompt.size();
        const size_t stop = std::min(prompt.size(), end + (curly ? 3 : 1));
        const std::string title = core::trim(prompt.substr(start, end - start));
        if (!title.empty()) {
            add(ItemKind::title, i, stop, title);
            b.titles.push_back(title);
        }
        i = stop;
    }
}

// A word that reads as a tonic ("F", "Bb", "F#m", "C#"): never the start of an artist's name.
bool is_tonic_word(const std::string& w) {
    if (w.empty() || w[0] < 'A' || w[0] > 'G') return false;
    size_t i = 1;
    if (i < w.size() && (w[i] == '#' || w[i] == 'b')) ++i;
    if (i < w.size() && w[i] == 'm') ++i;
    return i == w.size();
}

// "like <Artist>": a catalog artist named after "like" (any case), or capitalized words.
// Catalog artists named anywhere else (3 letters or more, whole words) count too.
void Parser::artists() {
    auto is_word_end = [&](size_t p) { return p >= low.size() || !(std::isalnum(static_cast<unsigned char>(low[p])) || low[p] == '\''); };
    auto is_word_start = [&](size_t p) { return p == 0 || !std::isalnum(static_cast<unsigned char>(low[p - 1])); };
    std::vector<std::string> known = vocab.artists;
    std::sort(known.begin(), known.end(), [](const std::string& x, const std::string& y) { return x.size() > y.size(); });
    each("\\blike\\s+", [&](const std::smatch& m, size_t at) {
        const size_t from = at + size_t(m.length(0));
        for (const auto& a : known) {
            const std::string la = core::ascii_lower(a);
            if (!la.empty() && low.compare(from, la.size(), la) == 0 && is_word_end(from + la.size())) {
                add(ItemKind::artist, at, from + la.size(), a);
                b.artists.push_back(a);
                return;
            }
        }
        // Capitalized words, joined by &, and, of, the, 'n'.
        size_t p = from, last_end = from;
        static const std::vector<std::string> joiners = {"&", "and", "of", "the", "n", "'n'", "da", "de", "van", "von"};
        while (p < prompt.size()) {
            size_t q = p;
            while (q < prompt.size() && prompt[q] != ' ' && prompt[q] != ',' && prompt[q] != '.' && prompt[q] != ';' && prompt[q] != '!' && prompt[q] != '?') ++q;
            const std::string word = prompt.substr(p, q - p);
            if (word.empty()) break;
            const bool cap = std::isupper(static_cast<unsigned char>(word[0])) && !(word.size() <= 3 && is_tonic_word(word));
            const bool join = std::find(joiners.begin(), joiners.end(), core::ascii_lower(word)) != joiners.end();
            if (cap) last_end = q;
            else if (!join || last_end == from) break;
            if (q >= prompt.size() || prompt[q] != ' ') break;
            p = q + 1;
        }
        if (last_end > from) {
            add(ItemKind::artist, at, last_end, prompt.substr(from, last_end - from));
            b.artists.push_back(prompt.substr(from, last_end - from));
        }
    });
    for (const auto& a : known) {
        const std::string la = core::ascii_lower(a);
        if (la.size() < 3) continue;
        for (size_t p = low.find(la); p != std::string::npos; p = low.find(la, p + 1))
            if (is_word_start(p) && is_word_end(p + la.size())) {
                add(ItemKind::artist, p, p + la.size(), a);
                if (std::find(b.artists.begin(), b.artists.end(), a) == b.artists.end()) b.artists.push_back(a);
            }
    }
}

// "drop at 1:00 (and 2:30)", "hook lands at 0:30", "chorus at 0:45".
void Parser::event_times() {
    const std::string gap = "((?:\\s+(?!hook|chorus|refrain|drop|build|intro|outro|and)[a-z']+){0,3}?)\\s+(?:at|around|@|by)\\s+";
    const std::string more = "((?:\\s*,?\\s*(?:and|&)\\s*(?:at\\s+|around\\s+)?" + k_time + "|\\s*,\\s*(?:at|around)\\s+" + k_time +
                             "|\\s*,\\s*\\d+:[0-5]\\d(?!\\s*(?:long|in length|total)))*)";
    each(std::string("(?:\\b") + k_count + "\\s+)?\\b(drops?|hooks?|chorus(?:es)?|refrains?)\\b" + gap + k_time + more, [&](const std::smatch& m, size_t at) {
        std::string noun = m[2];
        const std::string what = noun.rfind("drop", 0) == 0 ? "drop" : "hook";
        std::vector<double> times = {time_of(core::trim(m[4]))};
        const std::string tail = m[6];
        if (m[1].matched && what == "drop") {
            const int n = number_word(m[1]);
            if (b.drops && *b.drops != n) conflict_texts("two counts of drops", count_text("drop"), m[0]);
            b.drops = n;
            drop_count_text = m[0];
        }
        const std::regex rx(k_time);
        for (auto it = std::sregex_iterator(tail.begin(), tail.end(), rx); it != std::sregex_iterator(); ++it) times.push_back(time_of(core::trim((*it)[0])));
        const size_t end = at + size_t(m.length(0));
        for (double t : times) {
            if (std::isnan(t)) continue;
            if (what == "drop") {
                add(ItemKind::event, at, end, "drop at " + fmt_time(t), "drop", t);
                b.drop_times_s.push_back(t);
            } else {
                if (b.first_hook_s && std::abs(*b.first_hook_s - t) > 0.5) conflict("two times for the first hook", *first_of(ItemKind::event, "hook"), m[0]);
                add(ItemKind::event, at, end, "hook at " + fmt_time(t), "hook", t);
                if (!b.first_hook_s || t < *b.first_hook_s) b.first_hook_s = t;
            }
        }
    });
    std::sort(b.drop_times_s.begin(), b.drop_times_s.end());
    b.drop_times_s.erase(std::unique(b.drop_times_s.begin(), b.drop_times_s.end()), b.drop_times_s.end());
}

void Parser::lengths() {
    auto set = [&](size_t at, size_t end, double s, const std::string& bound) {
        if (bound.empty()) {
            if (const auto* prev = first_of(ItemKind::length); prev && b.duration_s && std::abs(*b.duration_s - s) > 0.5)
                conflict("two lengths", *prev, prompt.substr(at, end - at));
            add(ItemKind::length, at, end, std::to_string(int(std::lround(s))) + " s", "length", s);
            b.duration_s = s;
        } else {
            auto& it = add(ItemKind::length, at, end, (bound == "max" ? "at most " : "at least ") + std::to_string(int(std::lround(s))) + " s", bound, s);
            (void)it;
            if (bound == "max") b.length_range.max = s;
            else b.length_range.min = s;
        }
    };
    const std::string bound = "(?:(under|less than|at most|max(?:imum)?|no more than|over|more than|at least|min(?:imum)?)\\s+)?";
    auto bound_of = [](const std::string& w) -> std::string {
        if (w.empty()) return "";
        return (w == "over" || w == "more than" || w == "at least" || w.rfind("min", 0) == 0) ? "min" : "max";
    };
    each("\\b" + bound + "(\\d+:[0-5]\\d)\\s+(?:long|in length|total|runtime)\\b", [&](const std::smatch& m, size_t at) {
        set(at, at + size_t(m.length(0)), time_of(m[2]), bound_of(m[1]));
    });
    each("\\b(?:length|lasting|duration|runtime)\\s*(?:of|:|=)?\\s*" + bound + "(\\d+:[0-5]\\d)\\b", [&](const std::smatch& m, size_t at) {
        set(at, at + size_t(m.length(0)), time_of(m[2]), bound_of(m[1]));
    });
    each("\\bhalf\\s+a\\s+minute\\b(?:\\s+long)?", [&](const std::smatch& m, size_t at) { set(at, at + size_t(m.length(0)), 30, ""); });
    each("\\b" + bound + k_num + "\\s*-?\\s*(minutes?|mins?|seconds?|secs?)\\b(?:\\s+long)?", [&](const std::smatch& m, size_t at) {
        const std::string n = m[2], unit = m[3];
        const double x = std::isdigit(static_cast<unsigned char>(n[0])) ? std::stod(n) : number_word(n);
        set(at, at + size_t(m.length(0)), unit[0] == 'm' ? x * 60 : x, bound_of(m[1]));
    });
}

void Parser::tempos() {
    auto set = [&](size_t at, size_t end, double bpm) {
        const std::string text = prompt.substr(at, end - at);
        if (!(bpm >= 40 && bpm <= 250)) throw Error(ErrorKind::usage, "the brief's tempo '" + text + "' is outside 40..250 BPM");
        if (const auto* prev = first_of(ItemKind::tempo); prev && b.bpm && std::abs(*b.bpm - bpm) > 1e-9) conflict("two tempos", *prev, text);
        char v[32];
        std::snprintf(v, sizeof v, "%g BPM", bpm);
        add(ItemKind::tempo, at, end, v, "tempo", bpm);
        b.bpm = bpm;
    };
    each("\\b(\\d+(?:\\.\\d+)?)\\s*-?\\s*(?:bpm|beats per minute|beats a minute)\\b", [&](const std::smatch& m, size_t at) {
        set(at, at + size_t(m.length(0)), std::stod(m[1]));
    });
    each("\\b(?:tempo|bpm)\\s*(?:of|:|=|at|around)?\\s*(\\d+(?:\\.\\d+)?)\\b", [&](const std::smatch& m, size_t at) {
        set(at, at + size_t(m.length(0)), std::stod(m[1]));
    });
    each("\\b(half|double)[- ]?time\\b", [&](const std::smatch& m, size_t at) {
        const bool half = m[1] == "half";
        add(ItemKind::half_time, at, at + size_t(m.length(0)), half ? "half-time feel" : "double-time feel", half ? "half-time" : "double-time");
        (half ? b.half_time : b.double_time) = true;
    });
}

// A tonic in canonical spelling (C C# D Eb E F F# G Ab A Bb B), or "" when not a pitch.
std::string canonical_tonic(char letter, const std::string& accidental) {
    std::string k(1, char(std::toupper(static_cast<unsigned char>(letter))));
    if (accidental == "#" || accidental == "\xe2\x99\xaf") k += "#";
    else if (accidental == "b" || accidental == "\xe2\x99\xad") k += "b";
    if (dna::pitch_index(k) >= 0) return k;
    static const std::map<std::string, std::string> enh = {{"Db", "C#"}, {"D#", "Eb"}, {"Gb", "F#"}, {"G#", "Ab"}, {"A#", "Bb"},
                                                           {"Cb", "B"},  {"B#", "C"},  {"Fb", "E"},  {"E#", "F"}};
    auto it = enh.find(k);
    return it == enh.end() ? "" : it->second;
}

void Parser::keys() {
    // Tonic, accidental, then a mode word or a bare "m"; the prefix "in (the key of)" or "key of".
    const std::string re =
        "(\\bin\\s+(?:the\\s+key\\s+of\\s+)?|\\bkey\\s+of\\s+)?\\b([a-g])(#|b|\xe2\x99\xaf|\xe2\x99\xad)?"
        "(?:\\s*-?\\s*(major|minor|maj|min)\\b(\\s+(?:key|mode|scale|tonality))?|(m)(?![a-z0-9]))?(?![a-z0-9#])";
    each(re, [&](const std::smatch& m, size_t at) {
        const bool prefixed = m[1].matched, has_acc = m[3].matched, has_mode = m[4].matched || m[6].matched;
        const size_t letter_at = size_t(m.position(2));
        const bool upper = std::isupper(static_cast<unsigned char>(prompt[letter_at]));
        if (!has_mode && !prefixed) return;
        if (!has_mode && !upper && !has_acc) return;  // "in a", "key of e" would be guesses
        if (has_mode && !upper && !has_acc && !prefixed) return;
        // "a minor key", "in a minor key": the article, not the tonic A.
        if (m[2] == "a" && !has_acc && m[5].matched && (!upper || !prefixed)) return;
        const std::string tonic = canonical_tonic(m[2].str()[0], m[3]);
        if (tonic.empty()) return;
        std::string mode;
        if (m[6].matched || (m[4].matched && m[4].str().rfind("min", 0) == 0)) mode = "minor";
        else if (m[4].matched) mode = "major";
        const size_t begin = prefixed ? at + size_t(m.length(1)) : at, end = at + size_t(m.length(0));
        const std::string text = prompt.substr(begin, end - begin);
        if (b.key && (*b.key != tonic || (b.mode && !mode.empty() && *b.mode != mode))) conflict("two keys", *first_of(ItemKind::key), text);
        add(ItemKind::key, begin, end, mode.empty() ? tonic : tonic + " " + mode, "key");
        b.key = tonic;
        if (!mode.empty()) b.mode = mode;
    });
}

void Parser::modes() {
    auto set = [&](size_t at, size_t end, const std::string& mode) {
        const std::string text = prompt.substr(at, end - at);
        if (b.mode && *b.mode != mode) conflict("two modes", *(first_of(ItemKind::key) ? first_of(ItemKind::key) : first_of(ItemKind::mode)), text);
        add(ItemKind::mode, at, end, mode, "mode");
        b.mode = mode;
    };
    each("\\b(major|minor)\\s+(?:key|mode|scale|tonality|chords|feel|vibe)\\b", [&](const std::smatch& m, size_t at) {
        set(at, at + size_t(m.length(0)), m[1]);
    });
    each("\\bin\\s+(major|minor)\\b", [&](const std::smatch& m, size_t at) { set(at, at + size_t(m.length(0)), m[1]); });
}

void Parser::counts() {
    auto set = [&](size_t at, size_t end, const std::string& noun, int n) {
        const std::string what = noun.rfind("drop", 0) == 0 ? "drop" : noun.rfind("build", 0) == 0 ? "build" : "hook";
        std::optional<int>& slot = what == "drop" ? b.drops : what == "build" ? b.builds : b.hooks;
        const std::string text = prompt.substr(at, end - at);
        if (n > 12) throw Error(ErrorKind::usage, "the brief's '" + text + "' asks for more than 12 " + what + "s");
        if (slot && *slot != n) conflict_texts("two counts of " + what + "s", count_text(what), text);
        add(ItemKind::count, at, end, what + "s: " + std::to_string(n), what, n);
        slot = n;
    };
    each(std::string("\\b") + k_count + "\\s+(drops?|builds?|build-ups?|buildups?|hooks?|choruses|chorus|refrains?)\\b",
         [&](const std::smatch& m, size_t at) { set(at, at + size_t(m.length(0)), m[2], number_word(m[1])); });
    each(std::string("\\b(drops?|hooks?|chorus|refrain)\\s+(?:comes\\s+|repeats\\s+|appears\\s+|returns\\s+|plays\\s+)?") + k_count + "\\s+times\\b",
         [&](const std::smatch& m, size_t at) { set(at, at + size_t(m.length(0)), m[1], number_word(m[2])); });
    each("\\b(drops?|hooks?|chorus|refrain)\\s+(?:comes\\s+|repeats\\s+|appears\\s+|returns\\s+|plays\\s+)?(once|twice|thrice)\\b", [&](const std::smatch& m, size_t at) {
        const std::string w = m[2];
        set(at, at + size_t(m.length(0)), m[1], w == "once" ? 1 : w == "twice" ? 2 : 3);
    });
    each("\\bno\\s+(drops?|builds?|build-ups?)\\b", [&](const std::smatch& m, size_t at) { set(at, at + size_t(m.length(0)), m[1], 0); });
}

void Parser::events() {
    auto part = [&](size_t at, size_t end, const std::string& what, const std::string& how) {
        std::optional<std::string>& slot = what == "intro" ? b.intro : b.outro;
        const std::string text = prompt.substr(at, end - at);
        if (slot && *slot != how) conflict("two " + what + "s", *first_of(ItemKind::event, what), text);
        add(ItemKind::event, at, end, how == "none" ? "no " + what : how + " " + what, what);
        slot = how;
    };
    each("\\b(?:no|without\\s+(?:an?\\s+)?|skip(?:s|ping)?\\s+the)\\s*(intro|outro)\\b", [&](const std::smatch& m, size_t at) {
        part(at, at + size_t(m.length(0)), m[1], "none");
    });
    each("\\b(long|longer|extended|short|shorter|brief|quick)\\s+(intro|outro)\\b", [&](const std::smatch& m, size_t at) {
        const std::string w = m[1];
        part(at, at + size_t(m.length(0)), m[2], w.rfind("long", 0) == 0 || w == "extended" ? "long" : "short");
    });
    each("\\b(?:(?:straight|right|directly|jump(?:s|ing)?)\\s+into|(?:starts?|opens?|begins?|kicks? off)\\s+(?:on|with))\\s+the\\s+(?:hook|chorus|refrain|drop)\\b",
         [&](const std::smatch& m, size_t at) {
             if (b.first_hook_s && *b.first_hook_s > 0.5) conflict("two times for the first hook", *first_of(ItemKind::event, "hook"), m[0]);
             add(ItemKind::event, at, at + size_t(m.length(0)), "hook at 0:00", "hook", 0.0);
             b.first_hook_s = 0.0;
             if (b.intro && *b.intro != "none") conflict("an intro and a start on the hook", *first_of(ItemKind::event, "intro"), m[0]);
             b.intro = "none";
         });
    each("\\bbuild(?:s|ing)?(?:[- ]?up)?\\s+(?:in)?to\\s+the\\s+(?:first\\s+)?(?:hook|chorus|refrain|drop)\\b", [&](const std::smatch& m, size_t at) {
        add(ItemKind::event, at, at + size_t(m.length(0)), "build into the first hook", "build");
        b.build_into_hook = true;
        b.min_builds = std::max(b.min_builds, 1);
    });
    each("\\b(long|slow|extended|big|huge|massive|tense)\\s+(?:build(?:[- ]?ups?)?|buildups?|builds?|rise|riser)\\b", [&](const std::smatch& m, size_t at) {
        const std::string w = m[1];
        const bool is_long = w == "long" || w == "slow" || w == "extended";
        add(ItemKind::event, at, at + size_t(m.length(0)), is_long ? "long build" : "build", "build");
        b.long_build = b.long_build || is_long;
        b.min_builds = std::max(b.min_builds, 1);
    });
    each("\\b(?:build(?:[- ]?ups?)?|buildups?|builds)\\b", [&](const std::smatch& m, size_t at) {
        add(ItemKind::event, at, at + size_t(m.length(0)), "build", "build");
        b.min_builds = std::max(b.min_builds, 1);
    });
    each("\\b(?:(?:big|huge|massive|hard|heavy|hard-hitting|explosive)\\s+)?drops?\\b", [&](const std::smatch& m, size_t at) {
        add(ItemKind::event, at, at + size_t(m.length(0)), "drop", "drop");
        b.min_drops = std::max(b.min_drops, 1);
    });
}

void Parser::feels_and_genres() {
    // Genres first: multi-word ones ("drum and bass") before their parts; the catalog's too.
    std::vector<std::string> genres = genre_words();
    for (const auto& g : vocab.genres) genres.push_back(core::ascii_lower(g));
    std::sort(genres.begin(), genres.end(), [](const std::string& x, const std::string& y) { return x.size() > y.size(); });
    auto is_boundary = [&](size_t p) { return p >= low.size() || !(std::isalnum(static_cast<unsigned char>(low[p])) || low[p] == '-' || low[p] == '&'); };
    for (const auto& g : genres) {
        if (g.empty()) continue;
        for (size_t p = low.find(g); p != std::string::npos; p = low.find(g, p + 1)) {
            if (!(p == 0 || is_boundary(p - 1)) || !is_boundary(p + g.size())) continue;
            const std::string c = canonical_genre(g);
            add(ItemKind::genre, p, p + g.size(), c, "genre");
            if (std::find(b.genres.begin(), b.genres.end(), c) == b.genres.end()) b.genres.push_back(c);
        }
    }
    each("[a-z][a-z-]*[a-z]", [&](const std::smatch& m, size_t at) {
        const std::string w = m[0];
        for (const auto& f : feel_words()) {
            if (w != f.word) continue;
            add(ItemKind::feel, at, at + w.size(), f.canonical, f.canonical);
            if (std::find(b.feels.begin(), b.feels.end(), f.canonical) == b.feels.end()) b.feels.push_back(f.canonical);
            return;
        }
    });
}

// "short" (a song, not a short intro) and "long song/track/...".
void Parser::length_words() {
    each("\\bshort\\b(?!\\s+(?:intro|outro|build|break|bridge|verse|section|hook|chorus|fade|drop|pause|reverb|notes?|delay|attack|decay|loop))",
         [&](const std::smatch& m, size_t at) {
             add(ItemKind::length, at, at + size_t(m.length(0)), "short: 60..150 s", "short");
             b.length_range.min = std::max(b.length_range.min.value_or(60), 60.0);
             b.length_range.max = std::min(b.length_range.max.value_or(150), 150.0);
         });
    each("\\b(?:long|epic)\\s+(?:song|track|piece|tune|version|mix|jam|cut)\\b", [&](const std::smatch& m, size_t at) {
        add(ItemKind::length, at, at + size_t(m.length(0)), "long: at least 240 s", "long");
        b.length_range.min = std::max(b.length_range.min.value_or(240), 240.0);
    });
}

// Intersects a feel word's range into the brief's; names both words when nothing is left.
void intersect(Range& into, const Range& r, std::vector<std::pair<std::string, Range>>& who, const std::string& word, const std::string& field) {
    if (!r.min && !r.max) return;
    Range next = into;
    if (r.min) next.min = next.min ? std::max(*next.min, *r.min) : *r.min;
    if (r.max) next.max = next.max ? std::min(*next.max, *r.max) : *r.max;
    if (next.empty())
        for (const auto& [other, orange] : who)
            if ((orange.min && r.max && *orange.min > *r.max) || (orange.max && r.min && *orange.max < *r.min))
                throw Error(ErrorKind::usage, "the brief's feel words '" + other + "' and '" + word + "' ask for opposite " + field + "; say one");
    into = next;
    who.push_back({word, r});
}

// Feel ranges and modes, then the checks across items: counts against times, events
// against the length, the stated tempo against its feel.
void Parser::check() {
    std::map<std::string, std::vector<std::pair<std::string, Range>>> who;
    const BriefItem* mode_by = nullptr;
    for (const auto& it : b.items) {
        if (it.kind != ItemKind::feel) continue;
        const FeelEffect* f = nullptr;
        for (const auto& x : feel_words())
            if (it.what == x.canonical) f = &x;
        if (!f) continue;
        intersect(b.bpm_range, f->bpm, who["tempo"], it.text, "tempi");
        intersect(b.sub_range, f->sub_presence, who["sub"], it.text, "low ends");
        intersect(b.width_range, f->mean_width, who["width"], it.text, "stereo widths");
        intersect(b.sparkle_range, f->sparkle_db, who["sparkle"], it.text, "brightness");
        intersect(b.lufs_range, f->integrated_lufs, who["lufs"], it.text, "loudness");
        if (f->mode) {
            if (b.feel_mode && *b.feel_mode != f->mode) conflict("feel words that ask for opposite modes", *mode_by, it.text);
            b.feel_mode = f->mode;
            mode_by = &it;
        }
    }
    // A stated tempo wins over a feel word's tempo range (the range is then not used).
    if (b.bpm) b.bpm_range = {};
    if (b.drops && int(b.drop_times_s.size()) > *b.drops) conflict_texts("more drop times than drops", count_text("drop"), event_text("drop"));
    if (b.drops && *b.drops == 0 && (b.min_drops > 0)) conflict_texts("a drop and no drop", count_text("drop"), event_text("drop"));
    if (b.builds && *b.builds == 0 && b.min_builds > 0) conflict_texts("a build and no build", count_text("build"), event_text("build"));
    if (b.hooks && *b.hooks == 0 && b.first_hook_s) conflict_texts("a hook and no hook", count_text("hook"), event_text("hook"));
    // Every drop needs a build before it (the form's rule): fewer builds than drops is refused.
    if (b.builds && b.drops && *b.builds < *b.drops) conflict_texts("fewer builds than drops (each drop has a build before it)", count_text("build"), count_text("drop"));
    if (b.builds && *b.builds < int(b.drop_times_s.size())) conflict_texts("fewer builds than drops (each drop has a build before it)", count_text("build"), event_text("drop"));
    if (b.hooks && b.drops && *b.hooks < *b.drops) conflict_texts("fewer hooks than drops (a drop starts a hook)", count_text("hook"), count_text("drop"));
    if (b.hooks && *b.hooks < int(b.drop_times_s.size())) conflict_texts("fewer hooks than drops (a drop starts a hook)", count_text("hook"), event_text("drop"));
    if (b.first_hook_s && *b.first_hook_s < 0.5 && b.intro && *b.intro != "none") conflict_texts("an intro and a start on the hook", event_text("intro"), event_text("hook"));
    if (b.length_range.empty()) {
        std::string words;
        for (const auto& it : b.items)
            if (it.kind == ItemKind::length) words += (words.empty() ? "" : "' and '") + it.text;
        throw Error(ErrorKind::usage, "the brief states lengths that exclude each other: '" + words + "'; say one");
    }
    // Events must fit in the song: before a stated bound, and within the 600 s a target may last.
    for (const auto& o : b.items)
        if (o.kind == ItemKind::event && !std::isnan(o.number)) {
            const double limit = std::min(600.0, b.length_range.max.value_or(600.0));
            if (o.number >= limit - 1) throw Error(ErrorKind::usage, "the brief's '" + o.text + "' comes after the end of the song (at most " + fmt_time(limit) + ")");
        }
    if (b.duration_s) {
        if (!(*b.duration_s >= 10 && *b.duration_s <= 600))
            throw Error(ErrorKind::usage, "the brief's length '" + first_of(ItemKind::length)->text + "' is outside 10..600 s");
        if (!b.length_range.contains(*b.duration_s))
            for (const auto& o : b.items)
                if (o.kind == ItemKind::length && o.what != "length") conflict("two lengths", *first_of(ItemKind::length, "length"), o.text);
        for (const auto& o : b.items)
            if (o.kind == ItemKind::event && !std::isnan(o.number) && o.number >= *b.duration_s - 1)
                conflict("an event after the end of the song", o, first_of(ItemKind::length, "length")->text);
    }
}

// free_text: without titles and artists; search_text: without the stated values.
void Parser::texts() {
    std::string free = prompt, search = prompt;
    std::vector<const BriefItem*> sorted;
    for (const auto& it : b.items) sorted.push_back(&it);
    std::sort(sorted.begin(), sorted.end(), [](auto* x, auto* y) { return x->span.begin > y->span.begin; });
    for (const auto* it : sorted) {
        const size_t n = it->span.end - it->span.begin;
        if (it->kind == ItemKind::title || it->kind == ItemKind::artist) free.replace(it->span.begin, n, std::string(n, ' '));
        if (it->kind != ItemKind::feel && it->kind != ItemKind::genre && it->kind != ItemKind::artist)
            search.replace(it->span.begin, n, it->kind == ItemKind::title ? " \"" + it->value + "\" " : std::string(n, ' '));
    }
    // Tidy: single spaces, no space before punctuation, no dangling punctuation at the ends.
    auto tidy = [](const std::string& s) {
        std::string out;
        for (char c : s) {
            if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
            if ((c == ',' || c == '.' || c == ';' || c == ':' || c == '!' || c == '?') && !out.empty() && out.back() == ' ') out.pop_back();
            if ((c == ',' || c == ';') && !out.empty() && (out.back() == ',' || out.back() == ';')) continue;
            out += c;
        }
        out = core::trim(out);
        while (!out.empty() && (out[0] == ',' || out[0] == ';' || out[0] == '.')) out = core::trim(out.substr(1));
        while (!out.empty() && (out.back() == ',' || out.back() == ';')) out.pop_back();
        return out;
    };
    b.free_text = tidy(free);
    // Words that would match anything in the catalog's text index are left out of the search.
    static const std::vector<std::string> stop = {"a", "an", "the", "in", "with", "and", "of", "to", "for", "at", "on", "but", "like",
                                                  "then", "track", "song", "piece", "tune", "music", "that", "is", "it", "some", "into",
                                                  "by", "from", "my", "me", "make", "i", "want", "please", "feel", "vibe", "key"};
    std::string words;
    for (size_t i = 0; i < search.size();) {
        const bool quoted = search[i] == '"';
        size_t j = quoted ? search.find('"', i + 1) : search.find_first_of(" ,.;:!?", i);
        j = j == std::string::npos ? search.size() : j + (quoted ? 1 : 0);
        const std::string w = search.substr(i, j - i);
        if (!w.empty() && (quoted || std::find(stop.begin(), stop.end(), core::ascii_lower(w)) == stop.end())) words += (words.empty() ? "" : " ") + w;
        i = j == i ? i + 1 : j;
    }
    b.search_text = words;
}

}  // namespace

Brief parse_brief(const std::string& prompt, const Vocabulary& vocabulary) {
    if (prompt.size() > k_max_prompt_bytes)
        throw Error(ErrorKind::usage, "the prompt is " + std::to_string(prompt.size()) + " bytes; a brief is at most " + std::to_string(k_max_prompt_bytes));
    if (!core::valid_utf8(prompt)) throw Error(ErrorKind::usage, "the prompt is not valid UTF-8");
    Parser p(prompt, vocabulary);
    p.titles();
    p.artists();
    p.event_times();
    p.lengths();
    p.tempos();
    p.keys();
    p.modes();
    p.counts();
    p.events();
    p.feels_and_genres();
    p.length_words();
    std::sort(p.b.items.begin(), p.b.items.end(), [](const BriefItem& x, const BriefItem& y) { return x.span.begin < y.span.begin; });
    p.check();
    p.texts();
    return p.b;
}

}  // namespace hitdna::enrich
