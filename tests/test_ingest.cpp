// Ingest in the library: re-analysis of tracks from an older analyzer, one analysis per content,
// chart names kept over names from tags or file names.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "hitdna/dna/dna.hpp"
#include "hitdna/ingest/ingest.hpp"
#include "hitdna/store/catalog.hpp"
#include "helpers.hpp"
#include "signals.hpp"

using namespace hitdna;
namespace fs = std::filesystem;

TEST_CASE("ingest: --reanalyze redoes tracks from an older analyzer, otherwise they are only reported") {
    test::TempDir dir;
    test::write_audio(dir.file("Old Artist - Old Song.wav"), test::toy_song(5, 12));
    store::Catalog cat(dir.file("h.db"), store::Catalog::Mode::read_write);
    ingest::IngestOptions o;
    o.inputs = {dir.file("Old Artist - Old Song.wav")};
    std::istringstream in;
    std::ostringstream err;
    auto r = ingest::run_ingest(cat, o, in, err);
    REQUIRE(r.added == 1);
    CHECK(cat.track(1)->title == "Old Song");
    CHECK(cat.track(1)->artist == "Old Artist");
    test::tamper_sql(dir.file("h.db"), "UPDATE tracks SET analysis_version = 1");
    r = ingest::run_ingest(cat, o, in, err);
    CHECK(r.known == 1);
    CHECK(r.stale == 1);
    CHECK(cat.track(1)->analysis_version == 1);
    o.reanalyze = true;
    r = ingest::run_ingest(cat, o, in, err);
    CHECK(r.reanalyzed == 1);
    CHECK(cat.track(1)->analysis_version == dna::k_analysis_version);
    CHECK(cat.verify().empty());
}

TEST_CASE("ingest: the same content twice in one run is analyzed once, names from tags or file names never replace a chart's") {
    test::TempDir dir;
    test::write_audio(dir.file("a.wav"), test::toy_song(6, 10));
    fs::copy_file(dir.file("a.wav"), dir.file("track01.wav"));
    store::Catalog cat(dir.file("h.db"), store::Catalog::Mode::read_write);
    std::ofstream(dir.file("chart.jsonl")) << "{\"path\": \"a.wav\", \"artist\": \"Real Artist\", \"title\": \"Proper Title\", \"year\": 2024}\n";
    ingest::IngestOptions o;
    o.charts = {dir.file("chart.jsonl")};
    std::istringstream in;
    std::ostringstream err;
    auto r = ingest::run_ingest(cat, o, in, err);
    REQUIRE(r.added == 1);
    ingest::IngestOptions plain;
    plain.inputs = {dir.file("a.wav"), dir.file("track01.wav")};
    plain.jobs = 2;
    r = ingest::run_ingest(cat, plain, in, err);
    CHECK(r.added == 0);
    CHECK(r.known == 2);
    auto t = cat.track(1);
    CHECK(t->title == "Proper Title");
    CHECK(t->artist == "Real Artist");
    CHECK(t->year == 2024);
    // A fresh catalog, two names for one content in one run: one analysis.
    store::Catalog cat2(dir.file("h2.db"), store::Catalog::Mode::read_write);
    r = ingest::run_ingest(cat2, plain, in, err);
    CHECK(r.added == 1);
    CHECK(r.known == 1);
    CHECK(cat2.verify().empty());
}

TEST_CASE("ingest: a list's year and genres win over the file's tags; its other keys become tags --text and --filter reach") {
    test::TempDir dir;
    test::write_audio(dir.file("a.wav"), test::toy_song(3, 10));
    // The file's tags say 2012 and Ambient (Vorbis comments written by ffmpeg, read by TagLib).
    auto enc = test::sh("ffmpeg -v error -y -i " + dir.file("a.wav") + " -c:a libvorbis -metadata date=2012 -metadata genre=Ambient " + dir.file("a.ogg"));
    REQUIRE_MESSAGE(enc.exit_code == 0, enc.err);
    const std::string db = dir.file("h.db");
    auto r = test::run({"ingest", dir.file("a.ogg"), "--genre", "soundtrack", "--progress", "never", "--db", db});
    REQUIRE(r.exit_code == 0);
    {
        store::Catalog cat(db, store::Catalog::Mode::read_only);
        REQUIRE(cat.track(1)->year == 2012);
    }
    // The list states 2011 and electronic for the same audio (known: merged, not analyzed again).
    std::ofstream(dir.file("extra.jsonl")) << "{\"path\": \"a.ogg\", \"genres\": [\"electronic\"], \"year\": 2011, \"mood\": \"Tense\", \"energy_level\": 7}\n";
    r = test::run({"ingest", "--chart", dir.file("extra.jsonl"), "--progress", "never", "--db", db, "-f", "json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(nlohmann::json::parse(r.out)["known"] == 1);
    {
        store::Catalog cat(db, store::Catalog::Mode::read_only);
        auto t = cat.track(1);
        CHECK(t->year == 2011);
        CHECK(std::count(t->genres.begin(), t->genres.end(), "electronic") == 1);
        CHECK(std::count(t->genres.begin(), t->genres.end(), "soundtrack") == 1);  // stored before, kept
        CHECK(std::count(t->tags.begin(), t->tags.end(), "mood:tense") == 1);
        CHECK(std::count(t->tags.begin(), t->tags.end(), "energy_level:7") == 1);
        CHECK(cat.verify().empty());
    }
    for (std::vector<std::string> q : {std::vector<std::string>{"--text", "electronic", "--filter", "year=2011"},
                                        std::vector<std::string>{"--text", "tense"},
                                        std::vector<std::string>{"--text", "electronic", "--filter", "tag=mood:tense"}}) {
        std::vector<std::string> args = {"match", "-f", "jsonl", "--db", db};
        args.insert(args.end(), q.begin(), q.end());
        r = test::run(args);
        INFO(q[0] << " " << q[1]);
        REQUIRE(r.exit_code == 0);
        REQUIRE_FALSE(r.out.empty());
        CHECK(nlohmann::json::parse(r.out.substr(0, r.out.find('\n')))["track_id"] == 1);
    }
    // A new track from a list row with genres does not take the file's tag genres.
    test::write_audio(dir.file("b.wav"), test::toy_song(5, 10));
    enc = test::sh("ffmpeg -v error -y -i " + dir.file("b.wav") + " -c:a libvorbis -metadata date=2012 -metadata genre=Ambient " + dir.file("b.ogg"));
    REQUIRE(enc.exit_code == 0);
    std::ofstream(dir.file("new.jsonl")) << "{\"path\": \"b.ogg\", \"genres\": [\"house\"], \"year\": 2019}\n";
    REQUIRE(test::run({"ingest", "--chart", dir.file("new.jsonl"), "--progress", "never", "--db", db}).exit_code == 0);
    store::Catalog cat(db, store::Catalog::Mode::read_only);
    auto t = cat.track(2);
    REQUIRE(t);
    CHECK(t->year == 2019);
    CHECK(t->genres == std::vector<std::string>{"house"});
}

TEST_CASE("ingest --dna: analyses made elsewhere are stored as an ingest here would store them, once per content; wrong versions are refused by line") {
    test::TempDir dir;
    test::write_audio(dir.file("Band - One.wav"), test::toy_song(1, 12));
    test::write_audio(dir.file("Band - Two.wav"), test::toy_song(2, 12));
    // "Elsewhere": analyze with vectors, content hash and tags.
    auto r = test::run({"analyze", "-f", "jsonl", "--vectors", dir.file("Band - One.wav"), dir.file("Band - Two.wav")});
    REQUIRE(r.exit_code == 0);
    std::string lines = r.out;
    {
        std::ofstream(dir.file("dna.jsonl")) << lines;
    }
    // Here: stored without analysis.
    const std::string db = dir.file("h.db");
    r = test::run({"ingest", "--dna", dir.file("dna.jsonl"), "--genre", "demo", "--db", db, "-f", "json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto j = nlohmann::json::parse(r.out);
    CHECK(j["added"] == 2);
    CHECK(j["analysis_s"] == 0.0);
    // The same files ingested the usual way store the same DNA JSON and nearly the same vectors
    // (printed to 4 decimals).
    const std::string db2 = dir.file("local.db");
    REQUIRE(test::run({"ingest", dir.file("Band - One.wav"), "--progress", "never", "--db", db2}).exit_code == 0);
    {
        store::Catalog a(db, store::Catalog::Mode::read_only), b(db2, store::Catalog::Mode::read_only);
        CHECK(a.dna_json(1) == b.dna_json(1));
        // The columns filters and exports read: the same as a local ingest's.
        CHECK(a.track(1)->key == b.track(1)->key);
        CHECK(a.track(1)->mode == b.track(1)->mode);
        CHECK(a.track(1)->bpm == b.track(1)->bpm);
        CHECK(a.track(1)->duration_s == b.track(1)->duration_s);
        CHECK(a.track(1)->title == b.track(1)->title);
        CHECK(a.track(1)->artist == b.track(1)->artist);
        CHECK(a.track(1)->genres == std::vector<std::string>{"demo"});
        for (auto sp : dna::k_spaces) {
            auto va = a.vectors_of(1, sp), vb = b.vectors_of(1, sp);
            REQUIRE(va.size() == vb.size());
            for (size_t i = 0; i < va.size(); ++i)
                for (size_t k = 0; k < va[i].data.size(); ++k) CHECK(std::abs(va[i].data[k] - vb[i].data[k]) <= 6e-5f);
        }
        CHECK(a.verify().empty());
    }
    // Again, from stdin: known by content hash, nothing added.
    auto again = test::sh("cat " + dir.file("dna.jsonl") + " | " + std::string(HITDNA_BIN) + " ingest --dna - --db " + db + " -f json");
    REQUIRE(again.exit_code == 0);
    CHECK(nlohmann::json::parse(again.out)["known"] == 2);
    // Another analysis_version, no vectors, no content hash: each refused with its line number.
    auto first = nlohmann::json::parse(lines.substr(0, lines.find('\n')));
    auto old = first;
    old["analysis_version"] = dna::k_analysis_version - 1;
    old["content_hash"] = std::string(32, 'a');
    auto novec = first;
    novec.erase("vectors");
    novec["content_hash"] = std::string(32, 'b');
    auto nohash = first;
    nohash.erase("content_hash");
    std::ofstream(dir.file("bad.jsonl")) << old.dump() << "\n" << novec.dump() << "\n\n" << nohash.dump() << "\nnot json\n";
    r = test::run({"ingest", "--dna", dir.file("bad.jsonl"), "--db", db});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("bad.jsonl:1: analysis_version " + std::to_string(dna::k_analysis_version - 1)) != std::string::npos);
    CHECK(r.err.find("bad.jsonl:2: no vectors") != std::string::npos);
    CHECK(r.err.find("bad.jsonl:4: no content_hash") != std::string::npos);
    CHECK(r.err.find("bad.jsonl:5: not a JSON object") != std::string::npos);
    // A song without key or tempo (JSON nulls) is stored like any other.
    test::write_audio(dir.file("quiet.wav"), test::silence(12, 22050, 1));
    r = test::run({"analyze", "-f", "jsonl", "--vectors", dir.file("quiet.wav")});
    REQUIRE(r.exit_code == 0);
    std::ofstream(dir.file("quiet.jsonl")) << r.out;
    r = test::run({"ingest", "--dna", dir.file("quiet.jsonl"), "--db", db, "-f", "json"});
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(nlohmann::json::parse(r.out)["added"] == 1);
    CHECK(test::run({"export", "-f", "jams", "--db", db}).exit_code == 0);
    store::Catalog cat(db, store::Catalog::Mode::read_only);
    CHECK(cat.catalog_stats().tracks == 3);
}
