// Chart lists and their text: CSV quoting and the three chart formats, rows finding their audio by
// normalized names, the fetch-command template, strict UTF-8.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "hitdna/core/error.hpp"
#include "hitdna/core/text.hpp"
#include "hitdna/ingest/charts.hpp"
#include "hitdna/ingest/ingest.hpp"
#include "hitdna/store/catalog.hpp"
#include "helpers.hpp"
#include "signals.hpp"

using namespace hitdna;
namespace fs = std::filesystem;

TEST_CASE("charts: CSV quoting, bad rows by line number, the three formats") {
    std::vector<ingest::ChartProblem> probs;
    auto recs = ingest::parse_csv("a,b,c\n\"x, y\",\"say \"\"hi\"\"\",\"multi\nline\"\n1,2\"3,4\n5,6,7\n", probs);
    REQUIRE(recs.size() == 3);
    CHECK(recs[1].fields == std::vector<std::string>{"x, y", "say \"hi\"", "multi\nline"});
    CHECK(recs[2].line == 5);
    REQUIRE(probs.size() == 1);
    CHECK(probs[0].line == 4);
    probs.clear();
    ingest::parse_csv("a,b\n\"open,2\n3,4\n", probs);
    REQUIRE(probs.size() == 1);
    CHECK(probs[0].message.find("unterminated") != std::string::npos);

    test::TempDir dir;
    test::write_file(dir.file("regional-global-weekly-2024-06-06.csv"),
               "rank,uri,artist_names,track_name,source,peak_rank,previous_rank,weeks_on_chart,streams\n"
               "1,spotify:track:1,Kendrick Lamar,Not Like Us,pgLang,1,1,5,\"12,345,678\"\n"
               "2,spotify:track:2,Artist \xff,Bad Bytes,x,2,2,1,100\n"
               "3,spotify:track:3,Sabrina Carpenter,Espresso,Island,1,2,8\n"
               "x,spotify:track:4,Someone,No Rank,x,1,1,1,1\n"
               "5,spotify:track:5,\"Billie Eilish, Khalid\",\"lovely\",x,5,,20,999\n");
    auto c = ingest::read_chart(dir.file("regional-global-weekly-2024-06-06.csv"));
    CHECK(c.format == ingest::ChartFormat::spotify);
    REQUIRE(c.rows.size() == 2);
    CHECK(c.rows[0].meta.charts[0].streams == 12345678);
    CHECK(c.rows[0].meta.charts[0].date == "2024-06-06");
    CHECK(c.rows[0].meta.charts[0].chart == "regional-global-weekly-2024-06-06");
    CHECK(c.rows[1].artist == "Billie Eilish, Khalid");
    CHECK_FALSE(c.rows[1].meta.charts[0].previous_rank);
    REQUIRE(c.problems.size() == 3);
    CHECK(c.problems[0].line == 3);  // not UTF-8
    CHECK(c.problems[1].line == 4);  // 8 columns
    CHECK(c.problems[2].line == 5);  // rank not a number

    test::write_file(dir.file("hot100.csv"), "date,rank,song,artist,last-week,peak-rank,weeks-on-board\n2024-05-18,1,Not Like Us,Kendrick Lamar,,1,1\n");
    auto b = ingest::read_chart(dir.file("hot100.csv"));
    CHECK(b.format == ingest::ChartFormat::billboard);
    REQUIRE(b.rows.size() == 1);
    CHECK(b.rows[0].meta.charts[0].date == "2024-05-18");

    test::write_file(dir.file("list.jsonl"), "{\"path\": \"a.wav\", \"genres\": [\"Phonk\"], \"year\": 2023, \"mood\": \"dark\"}\n{broken\n\n{\"title\": \"only title\"}\n");
    auto j = ingest::read_chart(dir.file("list.jsonl"));
    REQUIRE(j.rows.size() == 1);
    CHECK(j.rows[0].path == dir.file("a.wav"));
    CHECK(j.rows[0].meta.genres == std::vector<std::string>{"phonk"});
    CHECK(j.rows[0].meta.extra_json.find("mood") != std::string::npos);
    REQUIRE(j.problems.size() == 2);
    CHECK(j.problems[0].line == 2);
    CHECK(j.problems[1].line == 4);

    test::write_file(dir.file("weird.csv"), "foo,bar\n1,2\n");
    CHECK_THROWS_AS(ingest::read_chart(dir.file("weird.csv")), Error);
}

TEST_CASE("charts: rows find their audio by normalized artist and title") {
    test::TempDir dir;
    fs::create_directories(dir.file("music/sub"));
    auto s = test::toy_song(1, 2);
    test::write_audio(dir.file("music/Kendrick Lamar - Not Like Us.wav"), s);
    test::write_audio(dir.file("music/sub/Espresso.flac"), s);
    test::write_audio(dir.file("music/Beyonc\xc3\xa9 - CUFF IT (feat. Someone).wav"), s);
    ingest::AudioFinder f({dir.file("music")});
    CHECK(f.find("Kendrick Lamar", "Not Like Us") == dir.file("music/Kendrick Lamar - Not Like Us.wav"));
    CHECK(f.find("kendrick lamar", "NOT LIKE US") != "");
    CHECK(f.find("Sabrina Carpenter", "Espresso") == dir.file("music/sub/Espresso.flac"));
    CHECK(f.find("Beyonce", "Cuff It") != "");
    CHECK(f.find("Kendrick Lamar, Someone", "Not Like Us") != "");
    CHECK(f.find("Nobody", "Missing Song") == "");
}

TEST_CASE("fetch command: chart text is data, never shell code") {
    auto argv = ingest::expand_fetch_command("fetch --artist {artist} --title={title} 'out dir/{out}'", "$(rm -rf ~)", "a; b `c` \"d\"", "", "", "/o");
    REQUIRE(argv.size() == 5);
    CHECK(argv[0] == "fetch");
    CHECK(argv[2] == "$(rm -rf ~)");
    CHECK(argv[3] == "--title=a; b `c` \"d\"");
    CHECK(argv[4] == "out dir//o");
    CHECK_THROWS_AS(ingest::expand_fetch_command("x 'open", "", "", "", "", ""), Error);
}

TEST_CASE("utf-8: strict validation") {
    CHECK(core::valid_utf8("plain"));
    CHECK(core::valid_utf8("Beyonc\xc3\xa9 \xe2\x80\x93 \xf0\x9f\x8e\xb5"));
    CHECK_FALSE(core::valid_utf8("\xc0\xaf"));          // overlong '/'
    CHECK_FALSE(core::valid_utf8("\xe0\x80\xaf"));      // overlong
    CHECK_FALSE(core::valid_utf8("\xed\xa0\x80"));      // surrogate
    CHECK_FALSE(core::valid_utf8("\xf5\x80\x80\x80"));  // above U+10FFFF
    CHECK_FALSE(core::valid_utf8("caf\xe9"));           // Latin-1
    CHECK_FALSE(core::valid_utf8("\xe2\x80"));          // cut short
    CHECK(store::normalize_name("\xd0\x9c\xd0\xbe\xd1\x82") != store::normalize_name("\xd0\x9c\xd0\xbe\xd1\x85"));
}
