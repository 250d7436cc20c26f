// The brief: a prompt read into typed items (tempo, key, length, events, counts, feel, genre,
// title, artist), each with the span of the prompt it came from, and contradictions refused.
#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "hitdna/core/error.hpp"
#include "hitdna/enrich/brief.hpp"

using namespace hitdna;

namespace {

using enrich::Brief;
using enrich::BriefItem;
using enrich::ItemKind;
using enrich::Vocabulary;

// Every item's span lies inside the prompt, its text is the prompt's own words at that span,
// and the items come in prompt order.
void check_spans(const Brief& b) {
    INFO("prompt: ", b.prompt);
    size_t last_begin = 0;
    for (const auto& item : b.items) {
        INFO("item: '", item.text, "' (", enrich::to_string(item.kind), ")");
        CHECK_FALSE(item.text.empty());
        CHECK(item.span.begin <= item.span.end);
        CHECK(item.span.end <= b.prompt.size());
        if (item.span.begin <= item.span.end && item.span.end <= b.prompt.size()) {
            CHECK(b.prompt.substr(item.span.begin, item.span.end - item.span.begin) == item.text);
        }
        CHECK(item.span.begin >= last_begin);
        last_begin = item.span.begin;
    }
}

// Parses a prompt that must not be refused, and checks the spans of all its items.
Brief parse(const std::string& prompt, const Vocabulary& vocabulary = {}) {
    INFO("prompt: ", prompt);
    Brief b = enrich::parse_brief(prompt, vocabulary);
    CHECK(b.prompt == prompt);
    check_spans(b);
    return b;
}

// A prompt that contradicts itself: Error(usage) whose one-line message names these words.
void check_conflict(const std::string& prompt, std::initializer_list<const char*> mentioned = {}) {
    INFO("prompt: ", prompt);
    bool thrown = false;
    try {
        enrich::parse_brief(prompt);
    } catch (const Error& e) {
        thrown = true;
        std::string message = e.what();
        INFO("message: ", message);
        CHECK(e.kind() == ErrorKind::usage);
        CHECK(message.find('\n') == std::string::npos);
        for (const char* word : mentioned) CHECK(message.find(word) != std::string::npos);
    }
    CHECK(thrown);
}

// Optionals as plain values, so that an unset one fails a CHECK instead of being dereferenced.
double num(const std::optional<double>& x) { return x ? *x : std::nan(""); }
int count(const std::optional<int>& x) { return x ? *x : -1; }
std::string str(const std::optional<std::string>& x) { return x ? *x : "(unset)"; }

bool contains(const std::vector<std::string>& list, const std::string& word) {
    return std::find(list.begin(), list.end(), word) != list.end();
}
bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// Drop times, in order, compared with a tolerance.
void check_times(const std::vector<double>& got, std::initializer_list<double> want) {
    CHECK(got.size() == want.size());
    if (got.size() != want.size()) return;
    size_t i = 0;
    for (double t : want) CHECK(got[i++] == doctest::Approx(t));
}

// The first item of a kind (and of that `what`, when given); nullptr when there is none.
const BriefItem* find_item(const Brief& b, ItemKind kind, const std::string& what = "") {
    for (const auto& item : b.items)
        if (item.kind == kind && (what.empty() || item.what == what)) return &item;
    return nullptr;
}

// The item of a kind is there, its text is exactly `text` and is the prompt at its span.
void check_item_text(const Brief& b, ItemKind kind, const std::string& text) {
    INFO("prompt: ", b.prompt, "; kind: ", enrich::to_string(kind));
    const BriefItem* item = find_item(b, kind);
    CHECK(item != nullptr);
    if (!item) return;
    CHECK(item->text == text);
    CHECK(b.prompt.substr(item->span.begin, item->span.end - item->span.begin) == item->text);
}

// The canonical word feel_words() gives a feel word ("" when the table lacks the word).
std::string canonical_feel(const std::string& word) {
    for (const auto& f : enrich::feel_words())
        if (f.word && word == f.word) return f.canonical ? f.canonical : "";
    return "";
}

// A feel word alone: it is in the table, and the brief records its canonical word as an item.
Brief feel(const std::string& word) {
    INFO("feel word: ", word);
    Brief b = parse(word);
    std::string canonical = canonical_feel(word);
    CHECK_FALSE(canonical.empty());
    CHECK(contains(b.feels, canonical));
    CHECK_FALSE(b.bpm.has_value());  // a feel word states no tempo
    const BriefItem* item = find_item(b, ItemKind::feel);
    CHECK(item != nullptr);
    if (item) {
        CHECK(item->text == word);
        CHECK(item->value == canonical);
    }
    return b;
}

}  // namespace

// Tempo: every phrasing of a stated BPM, and half-/double-time as a feel without a number.
TEST_CASE("brief: tempo") {
    auto b = parse("140 bpm");
    CHECK(num(b.bpm) == doctest::Approx(140));
    CHECK_FALSE(b.half_time);
    check_item_text(b, ItemKind::tempo, "140 bpm");
    if (auto* item = find_item(b, ItemKind::tempo)) {
        CHECK(item->value == "140 BPM");
        CHECK(item->number == doctest::Approx(140));
    }
    CHECK(num(parse("140bpm").bpm) == doctest::Approx(140));
    CHECK(num(parse("a groove at 92 BPM").bpm) == doctest::Approx(92));
    CHECK(num(parse("92.5 bpm").bpm) == doctest::Approx(92.5));
    CHECK(num(parse("128 beats per minute").bpm) == doctest::Approx(128));
    CHECK(num(parse("tempo of 100").bpm) == doctest::Approx(100));
    CHECK(num(parse("Tempo 120").bpm) == doctest::Approx(120));  // case-insensitive, "of" optional
    CHECK(num(parse("house at 124 Bpm").bpm) == doctest::Approx(124));

    // Half-time and double-time are feels: no tempo stated.
    for (const char* p : {"half-time", "halftime trap", "half time groove"}) {
        INFO("prompt: ", p);
        auto h = parse(p);
        CHECK(h.half_time);
        CHECK_FALSE(h.double_time);
        CHECK_FALSE(h.bpm.has_value());
    }
    auto d = parse("double-time");
    CHECK(d.double_time);
    CHECK_FALSE(d.half_time);
    CHECK_FALSE(d.bpm.has_value());

    auto both = parse("140 bpm half-time");
    CHECK(num(both.bpm) == doctest::Approx(140));
    CHECK(both.half_time);
}

// Key and mode: tonics are canonical (C C# D Eb E F F# G Ab A Bb B); a mode alone sets no key.
TEST_CASE("brief: key and mode") {
    auto f = parse("F minor");
    CHECK(str(f.key) == "F");
    CHECK(str(f.mode) == "minor");

    auto fs = parse("in F#m");
    CHECK(str(fs.key) == "F#");
    CHECK(str(fs.mode) == "minor");
    if (auto* item = find_item(fs, ItemKind::key)) {
        CHECK(has(item->text, "F#m"));
        CHECK(item->value == "F# minor");
    } else {
        FAIL_CHECK("no key item for 'in F#m'");
    }

    auto bb = parse("Bb major");
    CHECK(str(bb.key) == "Bb");
    CHECK(str(bb.mode) == "major");

    auto d = parse("in the key of D");
    CHECK(str(d.key) == "D");
    CHECK_FALSE(d.mode.has_value());

    auto cs = parse("C# maj");
    CHECK(str(cs.key) == "C#");
    CHECK(str(cs.mode) == "major");

    auto am = parse("in Am");
    CHECK(str(am.key) == "A");
    CHECK(str(am.mode) == "minor");

    auto a = parse("in A minor");
    CHECK(str(a.key) == "A");
    CHECK(str(a.mode) == "minor");

    auto e = parse("key of e minor");  // lower case after "key of"
    CHECK(str(e.key) == "E");
    CHECK(str(e.mode) == "minor");

    // Enharmonics map into the canonical set; ♯ and ♭ are # and b.
    struct Case { const char* prompt; const char* key; const char* mode; };
    for (const Case& c : {Case{"Db major", "C#", "major"}, Case{"D# minor", "Eb", "minor"},
                          Case{"Gb major", "F#", "major"}, Case{"A# min", "Bb", "minor"},
                          Case{"G# minor", "Ab", "minor"}, Case{"in E♭ major", "Eb", "major"},
                          Case{"F♯ minor", "F#", "minor"}}) {
        INFO("prompt: ", c.prompt);
        auto k = parse(c.prompt);
        CHECK(str(k.key) == c.key);
        CHECK(str(k.mode) == c.mode);
    }

    // The mode alone.
    auto mk = parse("minor key");
    CHECK(str(mk.mode) == "minor");
    CHECK_FALSE(mk.key.has_value());
    if (auto* item = find_item(mk, ItemKind::mode)) {
        CHECK(item->value == "minor");
    } else {
        FAIL_CHECK("no mode item for 'minor key'");
    }

    auto im = parse("in major");
    CHECK(str(im.mode) == "major");
    CHECK_FALSE(im.key.has_value());

    // "a" is the article here, not the tonic A.
    auto sad = parse("a sad song in a minor key");
    CHECK(str(sad.mode) == "minor");
    CHECK_FALSE(sad.key.has_value());

    // A capital letter alone is not a key.
    auto none = parse("A song about love");
    CHECK_FALSE(none.key.has_value());
    CHECK_FALSE(none.mode.has_value());
}

// Length: minutes, seconds, M:SS; "short"/"long track" as ranges; a decade is no length.
TEST_CASE("brief: length") {
    auto two = parse("2 minutes");
    CHECK(num(two.duration_s) == doctest::Approx(120));
    check_item_text(two, ItemKind::length, "2 minutes");
    if (auto* item = find_item(two, ItemKind::length)) {
        CHECK(item->value == "120 s");
        CHECK(item->number == doctest::Approx(120));
    }

    auto mss = parse("3:30 long");
    CHECK(num(mss.duration_s) == doctest::Approx(210));
    CHECK_FALSE(mss.length_range.min.has_value());  // "long" here belongs to "3:30 long"

    CHECK(num(parse("90 seconds").duration_s) == doctest::Approx(90));
    CHECK(num(parse("2.5 minutes").duration_s) == doctest::Approx(150));
    CHECK(num(parse("a 3-minute track").duration_s) == doctest::Approx(180));
    CHECK(num(parse("4 min").duration_s) == doctest::Approx(240));
    CHECK(num(parse("a 45 sec sting").duration_s) == doctest::Approx(45));
    CHECK(num(parse("a 30-second ad").duration_s) == doctest::Approx(30));
    CHECK(num(parse("length of 2:45").duration_s) == doctest::Approx(165));
    CHECK(num(parse("lasting 3:15").duration_s) == doctest::Approx(195));
    CHECK(num(parse("3 minutes long").duration_s) == doctest::Approx(180));

    // Words give a range, not a length.
    auto s = parse("short");
    CHECK_FALSE(s.duration_s.has_value());
    CHECK(s.length_range.max.has_value());

    auto l = parse("a long track");
    CHECK_FALSE(l.duration_s.has_value());
    CHECK(l.length_range.min.has_value());

    // "90s" is a decade: no length, no event.
    auto decade = parse("90s hip hop");
    CHECK_FALSE(decade.duration_s.has_value());
    CHECK(find_item(decade, ItemKind::length) == nullptr);
    CHECK(decade.drop_times_s.empty());
}

// Events: drop and hook times, builds, intro and outro.
TEST_CASE("brief: events") {
    auto drop = parse("drop at 1:00");
    check_times(drop.drop_times_s, {60});
    if (auto* item = find_item(drop, ItemKind::event)) {
        CHECK(item->what == "drop");
        CHECK(item->number == doctest::Approx(60));
        CHECK(item->value == "drop at 1:00");
        CHECK(has(item->text, "1:00"));
    } else {
        FAIL_CHECK("no event item for 'drop at 1:00'");
    }

    check_times(parse("the drop hits at 0:45").drop_times_s, {45});
    auto two = parse("drops at 1:00 and 2:30");
    check_times(two.drop_times_s, {60, 150});
    CHECK_FALSE(two.duration_s.has_value());  // times of events are not the length
    check_times(parse("drops at 2:30 and 1:00").drop_times_s, {60, 150});  // ascending

    auto secs = parse("drop comes in at 90 seconds");
    check_times(secs.drop_times_s, {90});
    CHECK_FALSE(secs.duration_s.has_value());
    check_times(parse("drop at 75 s").drop_times_s, {75});
    auto minute = parse("drop at 1 minute");
    check_times(minute.drop_times_s, {60});
    CHECK_FALSE(minute.duration_s.has_value());

    // Hooks (chorus is a hook).
    CHECK(num(parse("hook lands at 0:30").first_hook_s) == doctest::Approx(30));
    CHECK(num(parse("chorus at 0:45").first_hook_s) == doctest::Approx(45));
    CHECK(num(parse("straight into the hook").first_hook_s) == doctest::Approx(0));
    CHECK(num(parse("starts on the hook").first_hook_s) == doctest::Approx(0));
    CHECK(parse("build into the first chorus").build_into_hook);

    // Intro and outro.
    CHECK(str(parse("no intro").intro) == "none");
    auto si = parse("short intro");
    CHECK(str(si.intro) == "short");
    CHECK_FALSE(si.length_range.max.has_value());  // a short intro, not a short track
    auto lo = parse("long outro");
    CHECK(str(lo.outro) == "long");
    CHECK_FALSE(lo.length_range.min.has_value());  // a long outro, not a long track
    CHECK(str(parse("no outro").outro) == "none");

    // Builds and drops without a time.
    CHECK(parse("long build").long_build);
    CHECK(parse("a build-up").min_builds >= 1);
    auto big = parse("a big drop");
    CHECK(big.min_drops >= 1);
    CHECK(big.drop_times_s.empty());
    CHECK_FALSE(big.drops.has_value());  // "a" is no count
    CHECK(count(parse("no drop").drops) == 0);
    CHECK(count(parse("no build").builds) == 0);
}

// Counts: digits and number words, hooks as "N hooks/choruses" or "hook N times".
TEST_CASE("brief: counts") {
    auto drops = parse("two drops");
    CHECK(count(drops.drops) == 2);
    if (auto* item = find_item(drops, ItemKind::count)) {
        CHECK(item->what == "drop");
        CHECK(item->number == doctest::Approx(2));
        CHECK(item->value == "drops: 2");
    } else {
        FAIL_CHECK("no count item for 'two drops'");
    }
    CHECK(count(parse("hook three times").hooks) == 3);
    auto choruses = parse("3 choruses");
    CHECK(count(choruses.hooks) == 3);
    CHECK(find_item(choruses, ItemKind::count, "hook") != nullptr);
    CHECK(count(parse("hook twice").hooks) == 2);
    CHECK(count(parse("chorus four times").hooks) == 4);
    CHECK(count(parse("twelve hooks").hooks) == 12);
    CHECK(count(parse("one build").builds) == 1);
    CHECK(count(parse("2 builds").builds) == 2);
}

// Feel words: each sets the ranges (or mode) its table row says; feels holds canonical words.
TEST_CASE("brief: feel words") {
    auto slow = feel("slow");
    CHECK(slow.bpm_range.max.has_value());
    CHECK(num(slow.bpm_range.max) <= 100);
    auto fast = feel("fast");
    CHECK(fast.bpm_range.min.has_value());
    CHECK(num(fast.bpm_range.min) >= 110);
    CHECK(str(feel("sad").feel_mode) == "minor");
    CHECK(str(feel("happy").feel_mode) == "major");
    auto dark = feel("dark");
    CHECK_FALSE(dark.feel_mode.has_value());  // dark is about the top end, not the mode ("dark and happy" is major)
    CHECK(dark.sparkle_range.max.has_value());
    CHECK_FALSE(dark.mode.has_value());  // a feel's mode is not a stated mode
    CHECK(feel("bright").sparkle_range.min.has_value());
    CHECK(feel("heavy").sub_range.min.has_value());
    CHECK(feel("wide").width_range.min.has_value());
    CHECK(feel("mono").width_range.max.has_value());
    CHECK(feel("loud").lufs_range.min.has_value());
    CHECK(feel("quiet").lufs_range.max.has_value());

    // Several feel words, in prompt order.
    auto two = parse("dark and heavy");
    const std::vector<std::string> in_order{canonical_feel("dark"), canonical_feel("heavy")};
    CHECK(two.feels == in_order);
}

// Genres: the built-in genre words, and a catalog genre only when the vocabulary holds it.
TEST_CASE("brief: genres") {
    auto techno = parse("techno");
    CHECK(contains(techno.genres, "techno"));
    check_item_text(techno, ItemKind::genre, "techno");
    if (auto* item = find_item(techno, ItemKind::genre)) {
        CHECK(item->value == "techno");
    }

    CHECK(contains(parse("hip-hop").genres, "hip-hop"));

    CHECK_FALSE(contains(enrich::genre_words(), "vaporwave"));  // the test needs a catalog-only genre
    CHECK_FALSE(contains(parse("vaporwave edit").genres, "vaporwave"));
    CHECK(contains(parse("vaporwave edit", Vocabulary{{"vaporwave"}, {}}).genres, "vaporwave"));
}

// Titles: quoted (straight or curly), kept out of free_text, quoted in search_text.
TEST_CASE("brief: titles") {
    const std::string prompt = R"("Not Like Us" energy with phonk)";
    auto b = parse(prompt);
    CHECK(b.titles == std::vector<std::string>{"Not Like Us"});
    CHECK(b.artists.empty());  // "Like Us" inside the quotes names no artist
    CHECK_FALSE(has(b.free_text, "Not Like Us"));
    CHECK(has(b.free_text, "energy"));
    CHECK(has(b.free_text, "phonk"));
    CHECK(has(b.search_text, "\"Not Like Us\""));
    if (auto* item = find_item(b, ItemKind::title)) {
        CHECK(item->value == "Not Like Us");
        CHECK(has(item->text, "Not Like Us"));
    } else {
        FAIL_CHECK("no title item");
    }

    auto curly = parse("“Espresso” vibes");
    CHECK(curly.titles == std::vector<std::string>{"Espresso"});
    CHECK_FALSE(has(curly.free_text, "Espresso"));
}

// Artists: capitalized words after "like", or a catalog artist in any case; never plain words.
TEST_CASE("brief: artists") {
    auto b = parse("like Daft Punk but darker");
    CHECK(b.artists == std::vector<std::string>{"Daft Punk"});
    CHECK_FALSE(has(b.free_text, "Daft Punk"));
    CHECK(has(b.search_text, "Daft Punk"));
    if (auto* item = find_item(b, ItemKind::artist)) {
        CHECK(item->value == "Daft Punk");
        CHECK(has(item->text, "Daft Punk"));
    } else {
        FAIL_CHECK("no artist item");
    }

    CHECK(parse("like daft punk").artists.empty());
    CHECK(parse("like daft punk", Vocabulary{{}, {"Daft Punk"}}).artists ==
          std::vector<std::string>{"Daft Punk"});  // the name as the catalog stores it
    CHECK(parse("sounds like summer").artists.empty());
}

// Spans and search words: items carry the prompt's own words; search_text drops the numbers.
TEST_CASE("brief: spans and search text") {
    auto b = parse("upbeat 140 bpm club track");
    check_item_text(b, ItemKind::tempo, "140 bpm");
    check_item_text(b, ItemKind::feel, "upbeat");
    check_item_text(b, ItemKind::genre, "club");

    auto s = parse("dark 140 bpm techno");
    std::string search = lower(s.search_text);
    CHECK_FALSE(has(search, "140"));
    CHECK_FALSE(has(search, "bpm"));
    CHECK(has(search, "dark"));
    CHECK(has(search, "techno"));
}

// The brief from the issue, every part read.
TEST_CASE("brief: review cases: like before numbers, comma-separated times") {
    // "like" before a number or a key is not an artist; the number is still read.
    auto a = parse("I'd like 140 bpm techno");
    CHECK(a.artists.empty());
    CHECK(num(a.bpm) == doctest::Approx(140));
    auto b = parse("something like Daft Punk 124 bpm");
    REQUIRE(b.artists.size() == 1);
    CHECK(b.artists[0] == "Daft Punk");
    CHECK(num(b.bpm) == doctest::Approx(124));
    auto c = parse("I'd like F minor, 3 minutes");
    CHECK(c.artists.empty());
    CHECK(str(c.key) == "F");
    CHECK(num(c.duration_s) == doctest::Approx(180));
    auto d = parse("drops at 1:00, 1:30 and 2:00, 3 minutes");
    REQUIRE(d.drop_times_s.size() == 3);
    CHECK(d.drop_times_s[1] == doctest::Approx(90));
    auto e = parse("drop at 1:00, 2:30 long");  // a length after a comma is not a drop time
    CHECK(e.drop_times_s.size() == 1);
    CHECK(num(e.duration_s) == doctest::Approx(150));
}

TEST_CASE("brief: the full brief") {
    auto b = parse("upbeat 140 bpm club track in F minor with a long build and a big drop at 1:00, 2 minutes");
    CHECK(b.states_anything());
    CHECK(num(b.bpm) == doctest::Approx(140));
    CHECK(str(b.key) == "F");
    CHECK(str(b.mode) == "minor");
    CHECK(num(b.duration_s) == doctest::Approx(120));
    check_times(b.drop_times_s, {60});
    CHECK(b.long_build);
    CHECK(contains(b.genres, "club"));
    CHECK(contains(b.feels, "upbeat"));
    CHECK_FALSE(b.length_range.min.has_value());  // "long build" is not a long track
    check_item_text(b, ItemKind::tempo, "140 bpm");
    check_item_text(b, ItemKind::length, "2 minutes");
    if (auto* item = find_item(b, ItemKind::key)) {
        CHECK(has(item->text, "F minor"));
    } else {
        FAIL_CHECK("no key item");
    }
}

// Contradictions are refused with Error(usage) naming both phrases; restating is not one.
TEST_CASE("brief: conflicts") {
    check_conflict("140 bpm techno or maybe 128 bpm", {"140", "128"});
    check_conflict("in F minor and in G major");
    check_conflict("no intro with a long intro");
    check_conflict("2 minutes long, make it 3 minutes");
    check_conflict("drop at 3:00, 2 minutes long");           // an event after the end
    check_conflict("one drop, drops at 1:00 and 2:00");       // a count below the times listed
    check_conflict("slow and fast");
    check_conflict("mono and wide");
    // Counts read together with times, and counts against each other.
    check_conflict("two drops at 1:00 and 2:00, then three drops");
    check_conflict("one drop at 1:00 and 2:00");
    check_conflict("no build, drop at 1:00");
    check_conflict("one hook, two drops");
    check_conflict("100000 drops");
    check_conflict("short, at least 4 minutes");
    check_conflict("under 2 minutes, drop at 2:30");
    check_conflict("hook at 0:00, long intro");
    check_conflict(std::string(3000, 'a'));      // too long for a brief
    check_conflict("caf\xe9 music");             // not UTF-8
    CHECK(num(parse("half a minute of noise").duration_s) == doctest::Approx(30));

    auto same = parse("140 bpm techno at 140 BPM");
    CHECK(num(same.bpm) == doctest::Approx(140));

    // The stated mode wins over the feel's.
    auto sad = parse("sad song in F major");
    CHECK(str(sad.key) == "F");
    CHECK(str(sad.mode) == "major");
    CHECK(str(sad.feel_mode) == "minor");
}
