// Ingest in the library: re-analysis of tracks from an older analyzer, one analysis per content,
// chart names kept over names from tags or file names.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
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
