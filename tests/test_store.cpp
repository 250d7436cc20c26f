// The catalog, the vector indexes, filters, chart parsing and the fetch-command template.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "hitdna/analysis/analyze.hpp"
#include "hitdna/core/error.hpp"
#include "hitdna/ingest/charts.hpp"
#include "hitdna/ingest/ingest.hpp"
#include "hitdna/store/filter.hpp"
#include "hitdna/match/match.hpp"
#include "hitdna/store/hash.hpp"
#include "hitdna/store/hnsw_build.hpp"
#include "hitdna/core/text.hpp"
#include "hitdna/store/vector_index.hpp"
#include "helpers.hpp"
#include "signals.hpp"

using namespace hitdna;
namespace fs = std::filesystem;

namespace {

dna::Dna song_dna(int variant, double seconds = 24) {
    auto s = test::toy_song(variant, seconds);
    return analysis::analyze_samples(s.samples.data(), s.frames(), s.rate, s.channels, "song" + std::to_string(variant));
}

store::TrackMeta meta(const std::string& artist, const std::string& title) {
    store::TrackMeta m;
    m.artist = artist;
    m.title = title;
    return m;
}

// Vectors of a track over every space.
size_t vectors_of_track(store::Catalog& c, int64_t id) {
    size_t n = 0;
    for (auto sp : dna::k_spaces) n += c.vectors_of(id, sp).size();
    return n;
}

void write_file(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
}

}  // namespace

TEST_CASE("catalog: a track is stored whole, replaced in place, and removed whole") {
    test::TempDir dir;
    store::Catalog cat(dir.file("db/h.db"), store::Catalog::Mode::read_write);
    auto d1 = song_dna(1), d2 = song_dna(2);
    const int64_t a = cat.put_track("hash-a", "/a.wav", meta("Ann", "One"), d1);
    const int64_t b = cat.put_track("hash-b", "/b.wav", meta("Bob", "Two"), d2);
    CHECK(a != b);
    CHECK(cat.verify().empty());
    CHECK(cat.catalog_stats().tracks == 2);
    CHECK(cat.stats(dna::Space::audio).count == 2);
    CHECK(cat.stats(dna::Space::sections).count == int64_t(d1.structure.sections.size() + d2.structure.sections.size()));
    // The same content again replaces the analysis, not the track.
    const int64_t g0 = cat.generation();
    CHECK(cat.put_track("hash-a", "/a2.wav", meta("", ""), d1) == a);
    CHECK(cat.generation() > g0);
    CHECK(cat.catalog_stats().tracks == 2);
    CHECK(cat.stats(dna::Space::audio).count == 2);
    CHECK(cat.track(a)->title == "One");  // empty metadata does not erase
    CHECK(cat.verify().empty());
    cat.remove_track(b);
    CHECK(vectors_of_track(cat, b) == 0);
    CHECK(cat.stats(dna::Space::audio).count == 1);
    CHECK(cat.verify().empty());
    // Standardization uses the stored statistics.
    auto st = cat.stats(dna::Space::audio);
    auto z = st.standardize(d1.vectors.audio);
    for (size_t i = 0; i < z.size(); ++i) CHECK(std::abs(z[i]) < 1e-3);
}

TEST_CASE("catalog: metadata merges and chart history is kept") {
    test::TempDir dir;
    store::Catalog cat(dir.file("h.db"), store::Catalog::Mode::read_write);
    const int64_t id = cat.put_track("h", "/x.wav", meta("Kendrick Lamar", "Not Like Us"), song_dna(3));
    store::TrackMeta m;
    m.genres = {"hip-hop"};
    m.source = "chart";
    store::ChartEntry e1{"hot-100", "2024-05-18", 1, 1, std::nullopt, 1, std::nullopt, ""};
    store::ChartEntry e2{"hot-100", "2024-05-25", 3, 1, 1, 2, std::nullopt, ""};
    m.charts = {e1};
    cat.merge_metadata(id, m);
    m.charts = {e2};
    m.genres = {"west coast"};
    cat.merge_metadata(id, m);
    m.charts = {e2};  // the same week again changes nothing
    cat.merge_metadata(id, m);
    auto t = cat.track(id);
    REQUIRE(t);
    CHECK(t->source == "chart");
    CHECK(t->peak_rank == 1);
    CHECK(t->genres == std::vector<std::string>{"hip-hop", "west coast"});
    CHECK(cat.catalog_stats().chart_entries == 2);
    CHECK(cat.extras(id)->charts.size() == 2);
    CHECK(cat.find_by_name("kendrick lamar - not like us").size() == 1);
    CHECK(cat.find_by_name("NOT LIKE US!").size() == 1);
    CHECK(cat.text_search("\"hip-hop\"", 10).size() == 1);
    CHECK(cat.verify().empty());
}

TEST_CASE("catalog: a corrupted statistic or a missing vector is reported by verify") {
    test::TempDir dir;
    store::Catalog cat(dir.file("h.db"), store::Catalog::Mode::read_write);
    cat.put_track("h", "/x.wav", meta("A", "B"), song_dna(4));
    REQUIRE(cat.verify().empty());
    test::tamper_sql(dir.file("h.db"), "DELETE FROM vectors WHERE space = 'emotion'");
    auto p = cat.verify();
    CHECK(p.size() >= 2);  // a track missing a vector, statistics out of step
}

TEST_CASE("filters: parsed into SQL, applied inside the search") {
    CHECK_THROWS_AS(store::parse_filter({"colour=red"}), Error);
    CHECK_THROWS_AS(store::parse_filter({"year>=twenty"}), Error);
    CHECK_THROWS_AS(store::parse_filter({"genre<rock"}), Error);
    CHECK_THROWS_AS(store::parse_filter({"year"}), Error);
    test::TempDir dir;
    store::Catalog cat(dir.file("h.db"), store::Catalog::Mode::read_write);
    for (int v = 0; v < 6; ++v) {
        auto m = meta("Artist " + std::to_string(v), "Song " + std::to_string(v));
        m.year = 2015 + v;
        m.genres = {v % 2 ? "phonk" : "pop"};
        m.source = v < 3 ? "chart" : "user";
        if (v < 3) m.charts = {store::ChartEntry{"c", "2024-01-01", v * 10 + 1, v * 10 + 1, std::nullopt, 1, std::nullopt, ""}};
        cat.put_track("h" + std::to_string(v), "/" + std::to_string(v), m, song_dna(v, 16));
    }
    auto ids = [&](const std::vector<std::string>& f) {
        return cat.track_ids(store::parse_filter(f));
    };
    CHECK(ids({"genre=phonk"}).size() == 3);
    CHECK(ids({"genre=phonk,pop"}).size() == 6);
    CHECK(ids({"year>=2018"}).size() == 3);
    CHECK(ids({"year>=2018", "genre=phonk"}).size() == 2);
    CHECK(ids({"source=chart"}).size() == 3);
    CHECK(ids({"peak_rank<=11"}).size() == 2);
    CHECK(ids({"genre!=phonk"}).size() == 3);
    CHECK(ids({"artist=artist 2"}).size() == 1);
    CHECK(ids({"chart=C"}).size() == 3);  // chart names compare without case
    CHECK(ids({"chart!=c"}).size() == 3);
    // Through the index and through exact search the filtered results are the same and all pass.
    store::VectorIndexes idx(cat);
    for (auto sp : dna::k_spaces) idx.rebuild(sp);
    store::SpaceSearcher se(idx, dna::Space::audio, nullptr);
    REQUIRE(se.using_index());
    auto sf = store::parse_filter({"genre=phonk"});
    auto q = cat.vectors_of(1, dna::Space::audio).front().data;
    auto hits = se.search(q, 10, sf);
    CHECK(hits.size() == 3);
    for (auto& h : hits) CHECK(cat.track(h.track_id)->genres == std::vector<std::string>{"phonk"});
}

TEST_CASE("index: rebuilt, stale part searched exactly, damaged file bypassed") {
    test::TempDir dir;
    store::Catalog cat(dir.file("h.db"), store::Catalog::Mode::read_write);
    for (int v = 0; v < 5; ++v) cat.put_track("h" + std::to_string(v), "/" + std::to_string(v), meta("A", std::to_string(v)), song_dna(v, 16));
    store::VectorIndexes idx(cat);
    for (auto sp : dna::k_spaces) idx.rebuild(sp);
    auto s = idx.status(dna::Space::sections);
    CHECK(s.valid);
    CHECK(s.newer_vectors == 0);
    // A track added after the build is found through the exact scan of newer rows.
    auto d = song_dna(9, 16);
    const int64_t late = cat.put_track("late", "/late", meta("L", "Late"), d);
    CHECK(idx.status(dna::Space::audio).newer_vectors == 1);
    {
        store::SpaceSearcher se(idx, dna::Space::audio, nullptr);
        CHECK(se.using_index());
        auto hits = se.search(d.vectors.audio, 1);
        REQUIRE(hits.size() == 1);
        CHECK(hits[0].track_id == late);
    }
    // Garbage in the graph file: detected by its checksum, the search still answers exactly.
    std::string graph;
    for (auto& e : fs::directory_iterator(idx.dir()))
        if (e.path().filename().string().rfind("audio.g", 0) == 0) graph = e.path().string();
    REQUIRE_FALSE(graph.empty());
    {
        std::fstream f(graph, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(200);
        f.write("garbage!", 8);
    }
    CHECK_FALSE(idx.status(dna::Space::audio).valid);
    std::ostringstream warn;
    store::SpaceSearcher se(idx, dna::Space::audio, &warn);
    CHECK_FALSE(se.using_index());
    CHECK(warn.str().find("checksum") != std::string::npos);
    auto hits = se.search(d.vectors.audio, 3);
    REQUIRE(hits.size() == 3);
    CHECK(hits[0].track_id == late);
    // Deleted files: bypassed, then rebuilt.
    fs::remove_all(idx.dir());
    CHECK_FALSE(idx.status(dna::Space::audio).valid);
    idx.rebuild(dna::Space::audio);
    CHECK(idx.status(dna::Space::audio).valid);
}

TEST_CASE("index: HNSW recall against exact search on a few thousand vectors") {
    const size_t dim = 16, n = 3000;
    std::vector<float> data(n * dim);
    uint32_t st = 5;
    for (auto& x : data) x = test::noise(st);
    std::vector<int64_t> labels(n);
    for (size_t i = 0; i < n; ++i) labels[i] = int64_t(i) + 100;
    store::HnswGraph g(dim, n);
    auto [ef, recall] = g.build(data, labels, 2);
    CHECK(g.size() == n);
    CHECK(recall >= 0.99);
    CHECK(ef >= 16);
    g.set_ef(size_t(ef));
    auto r = g.search(data.data() + 17 * dim, 1);
    REQUIRE(r.size() == 1);
    CHECK(r[0].second == 117);
}

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
    write_file(dir.file("regional-global-weekly-2024-06-06.csv"),
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

    write_file(dir.file("hot100.csv"), "date,rank,song,artist,last-week,peak-rank,weeks-on-board\n2024-05-18,1,Not Like Us,Kendrick Lamar,,1,1\n");
    auto b = ingest::read_chart(dir.file("hot100.csv"));
    CHECK(b.format == ingest::ChartFormat::billboard);
    REQUIRE(b.rows.size() == 1);
    CHECK(b.rows[0].meta.charts[0].date == "2024-05-18");

    write_file(dir.file("list.jsonl"), "{\"path\": \"a.wav\", \"genres\": [\"Phonk\"], \"year\": 2023, \"mood\": \"dark\"}\n{broken\n\n{\"title\": \"only title\"}\n");
    auto j = ingest::read_chart(dir.file("list.jsonl"));
    REQUIRE(j.rows.size() == 1);
    CHECK(j.rows[0].path == dir.file("a.wav"));
    CHECK(j.rows[0].meta.genres == std::vector<std::string>{"phonk"});
    CHECK(j.rows[0].meta.extra_json.find("mood") != std::string::npos);
    REQUIRE(j.problems.size() == 2);
    CHECK(j.problems[0].line == 2);
    CHECK(j.problems[1].line == 4);

    write_file(dir.file("weird.csv"), "foo,bar\n1,2\n");
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

TEST_CASE("hash: XXH3-128 of a file's bytes") {
    test::TempDir dir;
    write_file(dir.file("a"), "hello");
    CHECK(store::hash_file(dir.file("a")) == store::hash_bytes("hello", 5));
    CHECK(store::hash_file(dir.file("a")).size() == 32);
    CHECK_THROWS_AS(store::hash_file(dir.file("missing")), Error);
}

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

TEST_CASE("match: a quoted title pulls in its vectors, descriptor words steer, the title itself is left out") {
    test::TempDir dir;
    store::Catalog cat(dir.file("h.db"), store::Catalog::Mode::read_write);
    std::vector<dna::Dna> dnas;
    for (int v = 0; v < 5; ++v) {
        dnas.push_back(song_dna(v, 16));
        auto m = meta("Band " + std::to_string(v), "Tune " + std::to_string(v));
        if (v == 3) m.genres = {"phonk"};
        cat.put_track("h" + std::to_string(v), "/" + std::to_string(v), m, dnas.back());
    }
    REQUIRE_FALSE(dnas[1].descriptors.empty());
    const std::string word = dnas[1].descriptors.front();
    match::MatchOptions o;
    o.text = "\"Tune 2\" " + word + " with phonk";
    o.k = 10;
    std::ostringstream warn;
    auto rep = match::run_match(cat, o, warn);
    CHECK(rep.query_kind == "text");
    bool title = false, desc = false;
    for (auto& r : rep.resolved) {
        title |= r.find("title: Band 2 - Tune 2") != std::string::npos;
        desc |= r.find("descriptor: " + word) != std::string::npos;
    }
    CHECK(title);
    CHECK(desc);
    REQUIRE(rep.results.size() == 4);
    for (auto& r : rep.results) {
        CHECK(r.track.title != "Tune 2");
        CHECK(r.score >= 0.0);
        CHECK(r.score <= 1.0);
        REQUIRE(r.text_score);
    }
    // "phonk" names a genre: that track's text score is the best.
    double best_text = 0;
    std::string best;
    for (auto& r : rep.results)
        if (*r.text_score > best_text) best_text = *r.text_score, best = r.track.title;
    CHECK(best == "Tune 3");
    // A filter applies to the text search too.
    o.text = "tune";
    o.filters = {"genre=phonk"};
    rep = match::run_match(cat, o, warn);
    REQUIRE(rep.results.size() == 1);
    CHECK(rep.results[0].track.title == "Tune 3");
    o.filters.clear();
    // An unknown quoted title is searched as words, with a warning.
    o.text = "\"No Such Song\"";
    rep = match::run_match(cat, o, warn);
    CHECK(warn.str().find("No Such Song") != std::string::npos);
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

TEST_CASE("index: an index newer than its catalog (a restored backup) is not used") {
    test::TempDir dir;
    const std::string db = dir.file("h.db");
    {
        store::Catalog cat(db, store::Catalog::Mode::read_write);
        for (int v = 0; v < 3; ++v) cat.put_track("h" + std::to_string(v), "/" + std::to_string(v), meta("A", std::to_string(v)), song_dna(v, 12));
        cat.backup_to(dir.file("backup.db"));
        for (int v = 3; v < 5; ++v) cat.put_track("h" + std::to_string(v), "/" + std::to_string(v), meta("A", std::to_string(v)), song_dna(v, 12));
        store::VectorIndexes idx(cat);
        idx.rebuild(dna::Space::audio);
        CHECK(idx.status(dna::Space::audio).valid);
    }
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(db + suffix);
    fs::copy_file(dir.file("backup.db"), db);
    store::Catalog cat(db, store::Catalog::Mode::read_write);
    store::VectorIndexes idx(cat);
    auto s = idx.status(dna::Space::audio);
    CHECK_FALSE(s.valid);
    CHECK(s.problem.find("newer than the catalog") != std::string::npos);
    // New rows after the restore are found (exact search), and the next update rebuilds.
    auto d = song_dna(8, 12);
    const int64_t id = cat.put_track("new", "/new", meta("N", "New"), d);
    store::SpaceSearcher se(idx, dna::Space::audio, nullptr);
    auto hits = se.search(d.vectors.audio, 1);
    REQUIRE(hits.size() == 1);
    CHECK(hits[0].track_id == id);
    idx.update(dna::Space::audio);
    CHECK(idx.status(dna::Space::audio).valid);
}

TEST_CASE("index: update extends a large index in place, and falls back to a rebuild when the file was damaged") {
    test::TempDir dir;
    store::Catalog cat(dir.file("h.db"), store::Catalog::Mode::read_write);
    for (int v = 0; v < 6; ++v) cat.put_track("h" + std::to_string(v), "/" + std::to_string(v), meta("A", std::to_string(v)), song_dna(v, 12));
    store::VectorIndexes idx(cat);
    idx.set_incremental_minimum(1);
    auto first = idx.rebuild(dna::Space::sections);
    auto d = song_dna(11, 12);
    const int64_t late = cat.put_track("late", "/late", meta("L", "Late"), d);
    auto m = idx.update(dna::Space::sections);
    CHECK(m.generation > first.generation);
    CHECK(m.mean == first.mean);  // extended with the statistics it was built with
    CHECK(m.count == first.count + int64_t(d.vectors.sections.size()));
    auto s = idx.status(dna::Space::sections);
    CHECK(s.valid);
    CHECK(s.newer_vectors == 0);
    store::SpaceSearcher se(idx, dna::Space::sections, nullptr);
    auto hits = se.search(d.vectors.sections.front(), 1);
    REQUIRE(hits.size() == 1);
    CHECK(hits[0].track_id == late);
    // Same-size damage to the current graph, then another update: it rebuilds (and returns).
    const std::string graph = idx.dir() + "/" + m.file;
    {
        std::fstream f(graph, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(120);
        f.write("\x7f\x7f\x7f\x7f", 4);
    }
    cat.put_track("later", "/later", meta("L", "Later"), song_dna(12, 12));
    auto m2 = idx.update(dna::Space::sections);
    CHECK(idx.status(dna::Space::sections).valid);
    CHECK(m2.count == cat.stats(dna::Space::sections).count);
    // Superseded graphs go: at most the current one and the one it replaced remain.
    int graphs = 0;
    for (auto& e : fs::directory_iterator(idx.dir())) graphs += e.path().extension() == ".hnsw";
    CHECK(graphs <= 2);
}
