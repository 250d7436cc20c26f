// The brief against the hits: stated values win, the hits fill the rest with provenance, the
// enriched prompt and plan never contradict the brief nor name a hit, the form is playable.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "hitdna/core/error.hpp"
#include "hitdna/core/text.hpp"
#include "hitdna/enrich/prompt.hpp"
#include "hitdna/enrich/target.hpp"
#include "brief_probe.hpp"
#include "helpers.hpp"
#include "synthetic.hpp"

using namespace hitdna;
namespace fs = std::filesystem;

namespace {

using test::generated_part;
using test::sent_texts;
using test::whole_word_count;

// Six toy songs with known tempo, key and genre (their DNA otherwise as analyzed); titles
// that are English words of the prompts below, and one artist named in them.
struct HitCatalog {
    test::TempDir dir;
    std::string db = dir.file("hits.db");
    HitCatalog() {
        store::Catalog cat(db, store::Catalog::Mode::read_write);
        struct Spec {
            const char *artist, *title, *genre;
            double bpm;
            const char *key, *mode;
        } specs[] = {{"Night Owls", "Dark", "club", 130, "A", "major"},      {"Daft Punk", "Club Night", "club", 124, "A", "major"},
                     {"Band Two", "Happy", "techno", 70, "C", "major"},        {"Band Three", "Wide Open", "techno", 100, "D", "minor"},
                     {"Band Four", "Tune Four", "ambient", 180, "E", "minor"}, {"Band Five", "Tune Five", "ambient", 139, "G", "major"}};
        int v = 0;
        for (const auto& s : specs) {
            auto d = test::song_dna(v % 5, 20);
            d.audio.bpm = s.bpm;
            d.audio.key = s.key;
            d.audio.mode = s.mode;
            auto m = test::meta(s.artist, s.title);
            m.genres = {s.genre};
            cat.put_track("hit" + std::to_string(v), "/hit" + std::to_string(v), m, d);
            ++v;
        }
    }
    enrich::Target target(const std::string& prompt, size_t k = 4) {
        enrich::PromptOptions o;
        o.prompt = prompt;
        o.db = db;
        o.k = k;
        std::ostringstream log;
        return enrich::target_for_prompt(o, log);
    }
};

std::string from(const enrich::Target& t, const std::string& field) {
    auto it = t.provenance.find(field);
    return it == t.provenance.end() ? "(none)" : it->second.from;
}

// Tempi, keys and lengths mentioned in a text, read by this test's own patterns.
struct Mentions {
    std::vector<double> bpms;
    std::vector<std::string> keys;  // "F minor"
    std::vector<double> lengths;    // from "m:ss long"
};
Mentions mentions(const std::string& text) {
    Mentions m;
    const std::regex bpm("(\\d+(?:\\.\\d+)?)\\s*bpm", std::regex::icase), key("\\b([A-G](?:#|b)?) (major|minor)\\b"),
        len("(\\d+):(\\d\\d) long");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), bpm); it != std::sregex_iterator(); ++it) m.bpms.push_back(std::stod((*it)[1]));
    for (auto it = std::sregex_iterator(text.begin(), text.end(), key); it != std::sregex_iterator(); ++it) m.keys.push_back((*it)[1].str() + " " + (*it)[2].str());
    for (auto it = std::sregex_iterator(text.begin(), text.end(), len); it != std::sregex_iterator(); ++it)
        m.lengths.push_back(std::stod((*it)[1]) * 60 + std::stod((*it)[2]));
    return m;
}

// One section of a hit's form.
struct FormPart {
    double start, end;
    const char *label, *role;
};

// The target enrich makes from one 120 BPM hit of `duration_s` whose form is `form` (sections
// at -14 LUFS with flat section vectors), with its first hook and hook count.
enrich::Target target_of_form(double duration_s, std::initializer_list<FormPart> form, double first_hook_s, int hook_repeats) {
    test::TempDir dir;
    store::Catalog cat(dir.file("hits.db"), store::Catalog::Mode::read_write);
    auto d = test::song_dna(0, 20);
    d.audio.bpm = 120;
    d.duration_s = duration_s;
    d.structure.sections.clear();
    d.vectors.sections.clear();
    const size_t dims = dna::dimensions(dna::Space::sections).size();
    for (const auto& p : form) {
        dna::Section s;
        s.start_s = p.start, s.end_s = p.end, s.label = p.label, s.role = p.role, s.energy_lufs = -14;
        d.structure.sections.push_back(s);
        d.vectors.sections.push_back(std::vector<float>(dims, 0.5f));
    }
    d.structure.first_hook_s = first_hook_s;
    d.structure.hook_repeats = hook_repeats;
    const int64_t id = cat.put_track("h", "/h", test::meta("Band", "Song"), d);
    return enrich::aggregate(cat, {{id, 1.0}}, std::string(""));
}

std::vector<double> hook_starts(const enrich::Target& t) {
    std::vector<double> hooks;
    for (const auto& s : t.sections)
        if (s.role == "hook") hooks.push_back(s.start_s);
    return hooks;
}

}  // namespace

TEST_CASE("enrich: what the brief states wins over the hits, the hits fill the rest, each field says where it came from") {
    HitCatalog c;
    auto t = c.target("upbeat 140 bpm club track in F minor with a long build and a big drop at 1:00, 2 minutes");
    CHECK(t.from_hits);
    CHECK(t.bpm == 140);
    CHECK(t.key == "F");
    CHECK(t.mode == "minor");
    CHECK(std::abs(t.duration_s - 120) <= 1);
    for (const char* f : {"bpm", "key", "mode", "duration_s", "drops", "builds", "sections"}) CHECK_MESSAGE(from(t, f) == "prompt", f);
    for (const char* f : {"production.sub_presence", "production.mean_width", "production.integrated_lufs"}) CHECK_MESSAGE(from(t, f) == "hits", f);
    // The drop on the bar nearest 1:00, a build right before it, nothing loud at 0:00.
    const double bar = 240.0 / 140;
    REQUIRE(t.drop_times_s.size() == 1);
    CHECK(std::abs(t.drop_times_s[0] - 60) <= bar / 2);
    CHECK(std::abs(t.drop_times_s[0] / bar - std::round(t.drop_times_s[0] / bar)) < 1e-3);
    REQUIRE(t.build_times_s.size() == 1);
    CHECK(t.build_times_s[0] < t.drop_times_s[0]);
    CHECK(t.drop_times_s[0] - t.build_times_s[0] >= 15 * bar);  // a long build: 16 bars
    CHECK(t.sections.front().role != "hook");
    // The arc agrees: the drop section is the loudest, the bars before it are the quietest of the build.
    double top = -100;
    for (const auto& s : t.sections) top = std::max(top, s.energy_lu);
    for (const auto& s : t.sections)
        if (s.drop) CHECK(s.energy_lu == doctest::Approx(top));
    // Club hits are preferred (a genre of the brief the catalog holds), and say so.
    bool club_boost = false;
    for (const auto& h : t.hits) club_boost |= h.why.find("genre club: x2") != std::string::npos;
    CHECK(club_boost);
}

TEST_CASE("enrich: a 140 BPM brief prefers hits near 140 at some metrical level") {
    HitCatalog c;
    enrich::Brief b = enrich::parse_brief("140 bpm");
    store::Catalog cat(c.db, store::Catalog::Mode::read_only);
    std::map<std::string, double> f;
    for (int64_t id : cat.track_ids({})) {
        auto row = cat.track(id);
        f[row->title] = enrich::brief_affinity(b, *row);
    }
    CHECK(f["Tune Five"] > 0.95);  // 139 BPM
    CHECK(f["Happy"] > 0.95);      // 70 BPM: half of 140
    CHECK(f["Dark"] < 0.7);        // 130 BPM: 7 % off
    CHECK(f["Wide Open"] < 0.3);   // 100 BPM (x1.5 = 150, 7 % off at a ternary level)
    CHECK(f["Dark"] > f["Wide Open"]);
    // Through enrich: the brief has no words to search with, so every track is a candidate
    // and the two at a 140 level carry the most weight.
    auto t = c.target("140 bpm", 2);
    REQUIRE(t.hits.size() == 2);
    std::set<std::string> top = {t.hits[0].title, t.hits[1].title};
    CHECK(top == std::set<std::string>{"Tune Five", "Happy"});
}

TEST_CASE("enrich: feel words move unstated fields into their ranges and drop the hits' words that contradict them") {
    HitCatalog c;
    auto t = c.target("slow sad piano ballad");
    CHECK(t.bpm <= 90);
    CHECK(t.mode == "minor");
    CHECK(from(t, "bpm") == "prompt");
    CHECK(from(t, "mode") == "prompt");
    for (const auto& d : t.descriptors) CHECK_MESSAGE((d != "uptempo" && d != "fast" && d != "happy"), d);
    const std::string gen = generated_part(t);
    CHECK(gen.find("uptempo") == std::string::npos);
    auto w = c.target("wide loud dark techno");
    CHECK(w.production.mean_width >= 0.3);
    CHECK(w.production.integrated_lufs >= -9);
    CHECK(w.production.sparkle_db <= -32);
    CHECK(w.genres.front() == "techno");
}

TEST_CASE("enrich: the enriched prompt and the plans never contradict the brief") {
    HitCatalog c;
    const std::vector<std::string> briefs = {
        "upbeat 140 bpm club track in F minor with a long build and a big drop at 1:00, 2 minutes",
        "92 bpm in Bb major, hook lands at 0:30, 2:30 long",
        "128bpm techno in A minor, drops at 1:00 and 2:00, 3 minutes",
        "a sad song in a minor key, 90 seconds",
        "100 bpm in D major, straight into the hook, 3:00 long",
        "dark wide soundtrack with a long build",
        "happy 120 bpm pop in G, no intro, hook three times, 2 minutes",
        "175 bpm drum and bass, drop at 0:45, 2:30 long, long outro",
        "half-time trap at 140 bpm in C# minor, two drops",
        "chill 85 BPM lo-fi in Eb major, short",
        // Edge cases of the form: a short intro before a stated hook, drops close together
        // after a long build, no intro before a drop, a hook at 0:00 and a later drop.
        "120 bpm, short intro, hook at 0:16, 2 minutes",
        "120 bpm, long build, drops at 1:00 and 1:16, 2:30 long",
        "128 bpm, no intro, drop at 0:30, 1:30 long",
        "110 bpm, straight into the hook, drop at 1:00, 2 minutes",
        "140 bpm, drops at 0:40, 1:20 and 2:00, 3 minutes",
    };
    for (bool with_hits : {false, true}) {
        for (const auto& prompt : briefs) {
            INFO(prompt, " (hits: ", with_hits, ")");
            const auto b = enrich::parse_brief(prompt);
            const auto t = with_hits ? c.target(prompt) : enrich::from_prompt(prompt);
            for (const auto& text : sent_texts(t)) {
                INFO(text);
                const auto m = mentions(text);
                for (double x : m.bpms) CHECK(x == doctest::Approx(t.bpm));
                if (b.bpm) CHECK(t.bpm == *b.bpm);
                for (const auto& k : m.keys) {
                    if (b.key) CHECK(k.substr(0, k.find(' ')) == *b.key);
                    if (b.mode) CHECK(k.substr(k.find(' ') + 1) == *b.mode);
                }
                for (double x : m.lengths)
                    if (b.duration_s) CHECK(std::abs(x - *b.duration_s) <= 1);
            }
            if (b.duration_s) CHECK(std::abs(t.duration_s - *b.duration_s) <= 1);
            // Whole bars: every section but the last (which takes a stated length's part bar).
            const double bar = 240.0 / t.bpm;
            for (size_t i = 0; i + 1 < t.sections.size(); ++i)
                CHECK(std::abs(t.sections[i].duration_s / bar - std::round(t.sections[i].duration_s / bar)) < 1e-3);
            // Every stated drop on the bar nearest its time.
            for (double d : b.drop_times_s) {
                INFO("drop at ", d);
                CHECK(std::any_of(t.drop_times_s.begin(), t.drop_times_s.end(), [&](double x) { return std::abs(x - d) <= bar / 2 + 1e-6; }));
            }
            if (b.first_hook_s) {
                REQUIRE(t.first_hook_s);
                CHECK(std::abs(*t.first_hook_s - *b.first_hook_s) <= 240.0 / t.bpm / 2 + 1e-6);
            } else if (!with_hits) {
                CHECK(t.sections.front().role != "hook");  // never a hook at 0:00 unasked
            }
            if (b.intro && *b.intro == "none") CHECK(t.sections.front().role != "intro");
            if (b.hooks) CHECK(t.hook_repeats == *b.hooks);
            if (b.drops) CHECK(t.drops == *b.drops);
            CHECK(t.builds >= int(t.drop_times_s.size()));
        }
    }
}

TEST_CASE("enrich: no hit's artist or title is sent, even when a title is an English word of the prompt") {
    HitCatalog c;
    // "Dark" and "Happy" are hits' titles and feel words here; "Daft Punk" is named with "like".
    const std::string prompt = "\"Club Night\" but dark and happy, like Daft Punk, 124 bpm, wide";
    auto t = c.target(prompt, 6);
    REQUIRE(t.hits.size() >= 4);
    CHECK(t.free_text.find("Daft Punk") == std::string::npos);
    CHECK(t.free_text.find("Club Night") == std::string::npos);
    store::Catalog cat(c.db, store::Catalog::Mode::read_only);
    std::vector<std::string> names;
    for (int64_t id : cat.track_ids({})) {
        auto row = cat.track(id);
        names.push_back(row->title);
        names.push_back(row->artist);
    }
    for (const auto& text : sent_texts(t)) {
        INFO(text);
        for (const auto& n : names) {
            INFO(n);
            // A name may appear only as the user's own word ("dark"); never otherwise.
            if (whole_word_count(text, n) > 0) CHECK(whole_word_count(t.free_text, n) > 0);
        }
        CHECK(whole_word_count(text, "Daft Punk") == 0);
        CHECK(whole_word_count(text, "Club Night") == 0);
    }
    // The hitdna-written part names no hit at all.
    const std::string gen = generated_part(t);
    for (const auto& n : names)
        if (n != "Dark" && n != "Happy") CHECK_MESSAGE(whole_word_count(gen, n) == 0, n);
}

TEST_CASE("cli: enrich lists the brief with spans and provenance; a brief that contradicts itself exits 2 with one line") {
    test::TempDir dir;
    auto r = test::run({"enrich", "upbeat 140 bpm club track in F minor, drop at 1:00, 2 minutes", "--db", dir.file("none.db"), "-f", "text"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("'140 bpm' (chars 7-14)") != std::string::npos);
    CHECK(r.out.find("'drop at 1:00'") != std::string::npos);
    CHECK(std::regex_search(r.out, std::regex("bpm +140 BPM +from prompt")));
    CHECK(std::regex_search(r.out, std::regex("production.integrated_lufs .* from default")));
    r = test::run({"enrich", "upbeat 140 bpm club track, then 128 bpm", "--db", dir.file("none.db")});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("'140 bpm'") != std::string::npos);
    CHECK(r.err.find("'128 bpm'") != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    r = test::run({"enrich", "2 minutes", "--duration", "150", "--db", dir.file("none.db")});
    CHECK(r.exit_code == 2);
    r = test::run({"enrich", "drop at 1:00 and a hook at 1:30", "--db", dir.file("none.db"), "-f", "json"});
    CHECK(r.exit_code == 2);  // the drop would come before the stated first hook
    CHECK(r.err.find("before the stated first hook") != std::string::npos);
}

TEST_CASE("cli: a brief through generate, validate and report: the brief first, provenance shown") {
    test::TempDir dir;
    const std::string none = dir.file("none.db");
    auto r = test::run({"enrich", "128 bpm techno in A minor, long build, drop at 0:40, 75 seconds", "--db", none, "-f", "json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    test::write_file(dir.file("t.json"), r.out);
    r = test::run({"generate", "--target", dir.file("t.json"), "-o", dir.file("g.wav"), "--validate", "--min-score", "0.7", "--record", dir.file("gen.json"),
                   "--db", dir.file("cat.db"), "--seed", "2", "--midi", dir.file("g.mid")});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    {
        // The kept attempt's sketch: the file hitdna sketch writes for that attempt's seed.
        const auto rec = nlohmann::json::parse(r.out);
        CHECK(rec["generator"] == "hitdna-sketch-1");
        CHECK(rec["midi"] == fs::absolute(dir.file("g.mid")).string());
        const auto& kept = rec["attempts"][rec["best_attempt"].get<int>() - 1];
        if (kept["energy_contrast"] == 1.0) {
            auto s = test::run({"sketch", dir.file("t.json"), "-o", dir.file("s.mid"), "--seed", std::to_string(kept["seed"].get<int>())});
            REQUIRE(s.exit_code == 0);
            CHECK(test::slurp(dir.file("s.mid")) == test::slurp(dir.file("g.mid")));
        }
    }
    r = test::run({"validate", dir.file("g.wav"), "--target", dir.file("t.json"), "-f", "text"});
    INFO(r.out);
    // The brief comes first, each item checked; the drop is heard on its bar.
    CHECK(r.out.rfind("the brief:\n", 0) == 0);
    CHECK(std::regex_search(r.out, std::regex("ok   drop at 0:40: found at 0:(39|40|41)")));
    CHECK(r.out.find("ok   128 BPM: measured") != std::string::npos);
    CHECK(r.out.find("ok   A minor: found A minor") != std::string::npos);
    CHECK(r.out.find("--   techno: not measurable from audio") != std::string::npos);
    CHECK(r.out.find("pass mark") != std::string::npos);
    r = test::run({"report", dir.file("gen.json"), "-o", dir.file("gen.html"), "--db", none});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const std::string page = test::slurp(dir.file("gen.html"));
    CHECK(page.find("The brief (what the prompt states)") != std::string::npos);
    CHECK(page.find("<td>drop at 0:40</td>") != std::string::npos);
    CHECK(page.find("Where each target field came from") != std::string::npos);
    CHECK(page.find("<tr><td>bpm</td><td>128 BPM</td><td>prompt</td>") != std::string::npos);
    CHECK(page.find("<tr><td>production.integrated_lufs</td>") != std::string::npos);
    CHECK(page.find("The brief, heard in the kept attempt") != std::string::npos);
    // The sketch's piano roll under its section timeline, one lane per track.
    CHECK(page.find("The arrangement sketch (hitdna sketch --seed ") != std::string::npos);
    for (const char* lane : {">sections</text>", ">drums</text>", ">bass</text>", ">chords</text>", ">lead</text>"}) CHECK(page.find(lane) != std::string::npos);
}

TEST_CASE("enrich: a hit's short hooks survive the form template, each where the hit has it") {
    // A hit whose hooks are 8 s each (four bars at 120 BPM), shorter than the template's
    // shortest part (12 s): they must stay hooks at their own starts, not melt into verses.
    const auto t = target_of_form(240,
                                  {{0, 40, "A", "intro"},
                                   {40, 62, "B", "verse"},
                                   {62, 70, "C", "hook"},
                                   {70, 96, "D", "verse"},
                                   {96, 118, "E", "bridge"},
                                   {118, 126, "C", "hook"},
                                   {126, 164, "D", "verse"},
                                   {164, 172, "C", "hook"},
                                   {172, 240, "F", "outro"}},
                                  62, 3);
    const auto hooks = hook_starts(t);
    INFO(enrich::to_json(t).dump());
    REQUIRE(hooks.size() == 3);
    const double bar = 2.0;  // 4 beats at 120 BPM
    CHECK(std::abs(hooks[0] - 62) <= bar);
    CHECK(std::abs(hooks[1] - 118) <= bar);
    CHECK(std::abs(hooks[2] - 164) <= bar);
    REQUIRE(t.first_hook_s);
    CHECK(std::abs(*t.first_hook_s - 62) <= bar);
    for (const auto& s : t.sections) CHECK(s.duration_s >= 12 * 0.75);
}

TEST_CASE("enrich: a hit's repeated parts side by side stay parts when together they outlast the analyzer's longest section") {
    // Two 32 s hooks in a row are two parts (one 64 s part would lose the boundary the hit
    // has); a 16 s and a 20 s hook in a row are one part of 36 s.
    const auto t = target_of_form(180,
                                  {{0, 16, "A", "intro"},
                                   {16, 40, "B", "verse"},
                                   {40, 72, "C", "hook"},
                                   {72, 104, "C", "hook"},
                                   {104, 124, "B", "verse"},
                                   {124, 140, "C", "hook"},
                                   {140, 160, "C", "hook"},
                                   {160, 180, "D", "outro"}},
                                  40, 4);
    INFO(enrich::to_json(t).dump());
    REQUIRE(t.duration_s == doctest::Approx(180).epsilon(0.02));
    const auto hooks = hook_starts(t);
    REQUIRE(hooks.size() == 3);
    const double bar = 2.0;  // 4 beats at 120 BPM
    CHECK(std::abs(hooks[0] - 40) <= bar);
    CHECK(std::abs(hooks[1] - 72) <= bar);
    CHECK(std::abs(hooks[2] - 124) <= bar);
    CHECK(t.hook_repeats == 3);
}

TEST_CASE("enrich: the template hit's held tempo changes carry over scaled, unless the brief states the tempo") {
    test::TempDir dir;
    store::Catalog cat(dir.file("hits.db"), store::Catalog::Mode::read_write);
    auto d = test::song_dna(1, 20);
    d.audio.bpm = 100;
    d.audio.tempo_changes = {{60.0, 120.0}, {150.0, 100.0}};
    d.duration_s = 200;
    d.structure.sections.clear();
    d.vectors.sections.clear();
    const size_t dims = dna::dimensions(dna::Space::sections).size();
    for (int i = 0; i < 5; ++i) {
        dna::Section s;
        s.start_s = 40.0 * i, s.end_s = 40.0 * (i + 1), s.label = i % 2 ? "B" : "A", s.role = i % 2 ? "hook" : "verse";
        d.structure.sections.push_back(s);
        d.vectors.sections.push_back(std::vector<float>(dims, 0.5f));
    }
    const int64_t id = cat.put_track("h", "/h", test::meta("Band", "Song"), d);
    // Open tempo, 300 s asked for: the changes at the same share of the song, same ratios.
    const auto t = enrich::aggregate(cat, {{id, 1.0}}, std::string(""), 300.0);
    REQUIRE(t.tempo_changes.size() == 2);
    CHECK(t.tempo_changes[0].time_s == doctest::Approx(90.0));
    CHECK(t.tempo_changes[0].bpm == doctest::Approx(t.bpm * 1.2).epsilon(0.01));
    CHECK(t.tempo_changes[1].time_s == doctest::Approx(225.0));
    CHECK(t.tempo_changes[1].bpm == doctest::Approx(t.bpm).epsilon(0.01));
    CHECK(t.provenance.at("tempo_changes").from == "hits");
    CHECK(enrich::enriched_prompt(t).find("The tempo moves to") != std::string::npos);
    // The JSON keeps them; a change outside the song is refused, naming the field.
    auto j = enrich::to_json(t);
    CHECK(enrich::target_from_json(j, "t.json").tempo_changes.size() == 2);
    j["tempo_changes"][1]["time_s"] = 400.0;
    CHECK_THROWS_WITH(enrich::target_from_json(j, "t.json"), doctest::Contains("tempo_changes[1]"));
    // A stated tempo is the tempo throughout.
    const auto stated = enrich::aggregate(cat, {{id, 1.0}}, enrich::parse_brief("100 bpm"), 300.0);
    CHECK(stated.bpm == 100);
    CHECK(stated.tempo_changes.empty());
    CHECK(stated.provenance.at("tempo_changes").from == "prompt");
}

TEST_CASE("enrich: a form with too many parts for a short target is merged down, the opening included") {
    // Scaled to the 86 s target the opening is the shortest part but not short (12 s, the
    // minimum), a 24 s hook follows it, and 86 s allow 5 parts of the 6: merging must end (the
    // opening's borrowing from the hook once repeated forever with nothing to borrow).
    test::TempDir dir;
    store::Catalog cat(dir.file("hits.db"), store::Catalog::Mode::read_write);
    auto d = test::song_dna(2, 20);
    d.audio.bpm = 120;
    d.duration_s = 172;
    d.structure.sections.clear();
    d.vectors.sections.clear();
    const size_t dims = dna::dimensions(dna::Space::sections).size();
    const double starts[] = {0, 24, 72, 97, 122, 147, 172};
    const char* roles[] = {"intro", "hook", "verse", "bridge", "verse", "outro"};
    for (int i = 0; i < 6; ++i) {
        dna::Section s;
        s.start_s = starts[i], s.end_s = starts[i + 1], s.label = std::string(1, char('A' + i)), s.role = roles[i], s.energy_lufs = -14;
        d.structure.sections.push_back(s);
        d.vectors.sections.push_back(std::vector<float>(dims, 0.5f));
    }
    const int64_t id = cat.put_track("h", "/h", test::meta("Band", "Song"), d);
    const auto t = enrich::aggregate(cat, {{id, 1.0}}, std::string(""), 86.0);
    REQUIRE_FALSE(t.sections.empty());
    double sum = 0;
    for (const auto& s : t.sections) {
        CHECK(s.duration_s > 0);
        sum += s.duration_s;
    }
    CHECK(sum == doctest::Approx(t.duration_s).epsilon(0.02));
}

TEST_CASE("enrich: a 10-minute hit gives a target of whole bars within 600 s that sketch and generate accept") {
    // 600 s at 129 BPM is 322.5 bars: rounding to the nearest bar made a 600.93 s plan, which
    // the target reader (and so hitdna sketch) refused.
    test::TempDir dir;
    store::Catalog cat(dir.file("hits.db"), store::Catalog::Mode::read_write);
    auto d = test::song_dna(3, 20);
    d.audio.bpm = 129;
    d.duration_s = 601;
    const int64_t id = cat.put_track("h", "/h", test::meta("Band", "Long"), d);
    const auto t = enrich::aggregate(cat, {{id, 1.0}}, std::string(""));
    CHECK(t.duration_s <= 600.0);
    CHECK(t.duration_s > 600.0 - 240.0 / 129);
    CHECK_NOTHROW(enrich::target_from_json(enrich::to_json(t), "t.json"));
}

TEST_CASE("cli: enrich --queries answers each prompt line as enrich -f json would, in order, on two threads") {
    test::TempDir dir;
    const std::string db = dir.file("e.db");
    {
        store::Catalog cat(db, store::Catalog::Mode::read_write);
        const auto base = test::song_dna(0, 16);
        for (int i = 0; i < 60; ++i) test::put_synthetic_track(cat, base, i, 4, 5);
    }
    const std::vector<std::string> prompts = {"upbeat 140 bpm club track in F minor, drop at 1:00, 2 minutes", "something like \\\"Song 7\\\"",
                                              "dark and slow, 3 minutes", "pop in A major"};
    std::string text;
    for (size_t i = 0; i < prompts.size(); ++i) text += "{\"id\":" + std::to_string(i) + ",\"prompt\":\"" + prompts[i] + "\",\"k\":5}\n";
    text += "{\"id\":\"bad\",\"prompt\":\"140 bpm, then 128 bpm\"}\n{\"id\":\"v2\",\"prompt\":\"pop in A major\",\"k\":5,\"model\":\"music_v2\"}\n";
    test::write_file(dir.file("p.jsonl"), text);
    auto r = test::run({"enrich", "--queries", dir.file("p.jsonl"), "--jobs", "2", "--db", db});
    CHECK(r.exit_code == 1);
    const auto lines = test::json_lines(r.out);
    REQUIRE(lines.size() == 6);
    for (size_t i = 0; i < prompts.size(); ++i) {
        CHECK(lines[i].at("id") == i);
        CHECK(lines[i].at("line") == i + 1);
        // The single run's document, field for field (the prompt unescaped as the shell gives it).
        auto one = test::run({"enrich", nlohmann::json::parse("\"" + prompts[i] + "\"").get<std::string>(), "-k", "5", "--db", db, "-f", "json"});
        REQUIRE(one.exit_code == 0);
        auto doc = lines[i];
        for (const char* k : {"id", "line", "log"}) doc.erase(k);
        CHECK(doc == nlohmann::json::parse(one.out));
    }
    CHECK(lines[4].at("id") == "bad");
    CHECK(lines[4].at("status") == 2);
    CHECK(r.err.find(":5: the brief states two tempos") != std::string::npos);
    CHECK(lines[5].at("model_id") == "music_v2");
    CHECK(test::run({"enrich", "pop", "--queries", dir.file("p.jsonl"), "--db", db}).exit_code == 2);
}
