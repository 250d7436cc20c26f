// match with a text query: quoted titles, descriptor words and genres, filters, unknown titles;
// many queries in one process (--queries).
#include <doctest/doctest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "hitdna/match/match.hpp"
#include "hitdna/store/catalog.hpp"
#include "hitdna/store/vector_index.hpp"
#include "helpers.hpp"
#include "signals.hpp"
#include "synthetic.hpp"

using namespace hitdna;

TEST_CASE("match: a quoted title pulls in its vectors, descriptor words steer, the title itself is left out") {
    test::TempDir dir;
    store::Catalog cat(dir.file("h.db"), store::Catalog::Mode::read_write);
    std::vector<dna::Dna> dnas;
    for (int v = 0; v < 5; ++v) {
        dnas.push_back(test::song_dna(v, 16));
        auto m = test::meta("Band " + std::to_string(v), "Tune " + std::to_string(v));
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

TEST_CASE("match: no evidence, no row: a text that names one track lists that track alone") {
    test::TempDir dir;
    store::Catalog cat(dir.file("h.db"), store::Catalog::Mode::read_write);
    const auto base = test::song_dna(0, 16);
    for (int i = 0; i < 30; ++i) test::put_synthetic_track(cat, base, i, 2, 7);  // "Song i" by "Artist i"
    match::MatchOptions o;
    o.k = 5;
    std::ostringstream warn;
    o.text = "Song 17";
    auto rep = match::run_match(cat, o, warn);
    REQUIRE(rep.results.size() == 1);
    CHECK(rep.results[0].track.title == "Song 17");
    // Words no track carries together: the tracks that carry some of them, each with a text
    // score above 0 (a word of the query), never a row scored on nothing.
    o.text = "Song 17 Artist 18";
    rep = match::run_match(cat, o, warn);
    REQUIRE_FALSE(rep.results.empty());
    for (const auto& r : rep.results) {
        REQUIRE(r.text_score);
        CHECK(*r.text_score > 0);
    }
    o.text = "Song 999";
    rep = match::run_match(cat, o, warn);
    for (const auto& r : rep.results) CHECK(r.track.title.find("Song") == 0);
}

namespace {

std::vector<int64_t> result_ids(const nlohmann::json& answer) {
    std::vector<int64_t> ids;
    for (const auto& r : answer.at("results")) ids.push_back(r.at("track_id").get<int64_t>());
    return ids;
}

// n synthetic tracks of 4 sections made from `base`, every space's index built; their ids.
std::vector<int64_t> indexed_tracks(store::Catalog& cat, const dna::Dna& base, int n) {
    std::vector<int64_t> ids;
    for (int i = 0; i < n; ++i) ids.push_back(test::put_synthetic_track(cat, base, i, 4, 21));
    store::VectorIndexes idx(cat);
    for (auto sp : dna::k_spaces) idx.rebuild(sp);
    return ids;
}

}  // namespace

TEST_CASE("match --queries: one answer line per query, in order, equal to the single query's; a bad line is reported and the rest go on") {
    test::TempDir dir;
    const std::string db = dir.file("q.db");
    {
        store::Catalog cat(db, store::Catalog::Mode::read_write);
        const auto base = test::song_dna(0, 16);
        for (int i = 0; i < 400; ++i) test::put_synthetic_track(cat, base, i, 4, 9);
    }
    REQUIRE(test::run({"index", "rebuild", "--db", db}).exit_code == 0);
    const std::string wav = dir.file("like.wav");
    test::write_audio(wav, test::toy_song(1, 20));
    // line 3 blank, 4 not JSON, 5 two kinds, 7 an unreadable file, 9 an unknown key
    test::write_file(dir.file("q.jsonl"),
                     "{\"id\":\"a\",\"track\":5}\n"
                     "{\"id\":17,\"track\":\"Artist 17 - Song 17\",\"k\":3,\"filter\":\"genre=pop\"}\n"
                     "\n"
                     "{\"id\":\"broken\",\n"
                     "{\"id\":\"two\",\"track\":5,\"text\":\"Song\"}\n"
                     "{\"id\":\"t\",\"text\":\"Song 42\"}\n"
                     "{\"id\":\"missing\",\"like\":\"" + dir.file("nope.wav") + "\"}\n"
                     "{\"id\":\"l\",\"like\":\"" + wav + "\",\"k\":4,\"filter\":[\"year>=2000\",\"genre=pop,house\"]}\n"
                     "{\"id\":\"x\",\"track\":5,\"kk\":3}\n"
                     "{\"track\":8,\"space\":\"audio,sections\",\"k\":2}\n");
    auto r = test::run({"match", "--queries", dir.file("q.jsonl"), "--db", db, "--jobs", "2"});
    CHECK(r.exit_code == 1);  // some lines failed
    const auto lines = test::json_lines(r.out);
    REQUIRE(lines.size() == 9);  // every non-blank line answered
    const std::vector<int> numbers = {1, 2, 4, 5, 6, 7, 8, 9, 10};
    for (size_t i = 0; i < lines.size(); ++i) CHECK(lines[i].at("line") == numbers[i]);
    for (size_t i : {2u, 3u, 5u, 7u}) {
        CHECK(lines[i].contains("error"));
        CHECK_FALSE(lines[i].contains("results"));
    }
    CHECK(lines[5].at("status") == 3);  // as the single query would exit
    CHECK(lines[3].at("id") == "two");
    CHECK(lines[2].at("id").is_null());
    CHECK(r.err.find(dir.file("q.jsonl") + ":4: not JSON") != std::string::npos);
    CHECK(r.err.find(dir.file("q.jsonl") + ":9: unknown key \"kk\"") != std::string::npos);
    // Answers equal the single queries, option for option.
    auto single = [&](std::vector<std::string> args) {
        args.insert(args.begin(), "match");
        for (const char* a : {"--db", "-f", "json"}) args.push_back(a);
        args.insert(args.end() - 2, db);
        auto one = test::run(args);
        REQUIRE(one.exit_code == 0);
        return nlohmann::json::parse(one.out);
    };
    CHECK(lines[0].at("id") == "a");
    CHECK(result_ids(lines[0]) == result_ids(single({"--track", "5"})));
    CHECK(lines[0].at("results").size() == 10);
    CHECK(lines[1].at("id") == 17);
    CHECK(result_ids(lines[1]) == result_ids(single({"--track", "Artist 17 - Song 17", "-k", "3", "--filter", "genre=pop"})));
    CHECK(result_ids(lines[4]) == result_ids(single({"--text", "Song 42"})));
    CHECK(lines[4].at("results").size() == 1);
    CHECK(result_ids(lines[6]) == result_ids(single({"--like", wav, "-k", "4", "--filter", "year>=2000", "--filter", "genre=pop,house"})));
    CHECK(lines[6].at("results").size() == 4);
    CHECK(result_ids(lines[8]) == result_ids(single({"--track", "8", "--space", "audio,sections", "-k", "2"})));
    CHECK(lines[8].at("weights").size() == 2);
    // Standard input, and the command line's options as every line's defaults.
    auto piped = test::sh("printf '{\"id\":1,\"track\":5}\\n' | " HITDNA_BIN " match --queries - -k 2 --filter genre=house --db '" + db + "'");
    CHECK(piped.exit_code == 0);
    const auto one = test::json_lines(piped.out);
    REQUIRE(one.size() == 1);
    CHECK(result_ids(one[0]) == result_ids(single({"--track", "5", "-k", "2", "--filter", "genre=house"})));
    // --queries stands alone.
    CHECK(test::run({"match", "--queries", "-", "--track", "5", "--db", db}).exit_code == 2);
    CHECK(test::run({"match", "--track", "5", "--jobs", "2", "--db", db}).exit_code == 2);
    CHECK(test::run({"match", "--queries", dir.file("absent.jsonl"), "--db", db}).exit_code == 3);
}

TEST_CASE("match: the candidate rounds stop at the threshold with the top k of scoring every track") {
    // No index: every search is exact, so a complete answer must equal scoring every track.
    test::TempDir dir;
    store::Catalog cat(dir.file("ta.db"), store::Catalog::Mode::read_write);
    const auto base = test::song_dna(0, 16);
    for (int i = 0; i < 300; ++i) test::put_synthetic_track(cat, base, i, 4, 13);
    std::ostringstream warn;
    int complete = 0, one_round_differs = 0;
    for (int id = 1; id <= 300; id += 10) {
        match::MatchOptions o;
        o.track = std::to_string(id);
        o.k = 10;
        const auto rounds = match::run_match(cat, o, warn);
        o.breadth = 100000;  // every list exhausted: every track scored
        const auto all = match::run_match(cat, o, warn);
        REQUIRE(all.complete);
        CHECK(*all.complete);
        REQUIRE(all.results.size() == 10);
        o.breadth = 10;  // one round of 10 per search
        const auto one = match::run_match(cat, o, warn);
        REQUIRE(rounds.complete);
        auto ids = [](const match::MatchReport& r) {
            std::vector<int64_t> v;
            for (const auto& x : r.results) v.push_back(x.track.id);
            return v;
        };
        if (*rounds.complete) {
            ++complete;
            CHECK(ids(rounds) == ids(all));
            for (size_t i = 0; i < rounds.results.size(); ++i) CHECK(rounds.results[i].score == doctest::Approx(all.results[i].score).epsilon(1e-9));
        }
        one_round_differs += ids(one) != ids(all);
    }
    CHECK(complete >= 15);          // most queries reach the threshold within the default breadth
    CHECK(one_round_differs >= 5);  // and a single shallow round would not have been enough
}

TEST_CASE("match --queries: a session's kept vectors follow the catalog when it changes between queries") {
    // A session keeps the candidates' vectors for its next queries; after a track is
    // re-ingested with new vectors and another is removed, its answers must equal a fresh
    // run's (no score from the old vectors, the removed track not listed).
    test::TempDir dir;
    store::Catalog cat(dir.file("s.db"), store::Catalog::Mode::read_write);
    const auto base = test::song_dna(0, 16);
    const std::vector<int64_t> ids = indexed_tracks(cat, base, 200);
    std::ostringstream warn;
    std::shared_ptr<store::ResidentVectors> resident;
    SUBCASE("vectors read for each query") {}
    SUBCASE("vectors held resident") { resident = std::make_shared<store::ResidentVectors>(cat.path(), store::ResidentVectors::k_default_budget, false); }
    match::Session session(&cat, warn, store::IndexAccess::read, resident);
    match::MatchOptions o;
    o.track = std::to_string(ids[5]);
    o.k = 10;
    auto names = [](const match::MatchReport& r) {
        std::vector<std::pair<int64_t, double>> v;
        for (const auto& x : r.results) v.emplace_back(x.track.id, x.score);
        return v;
    };
    const auto first = session.run(o);
    REQUIRE(first.results.size() == 10);
    CHECK(names(first) == names(match::run_match(cat, o, warn)));
    if (resident) CHECK(resident->bytes() > 0);
    const int64_t removed = first.results[0].track.id, changed = first.results[1].track.id;
    cat.remove_track(removed);
    const int changed_i = int(std::find(ids.begin(), ids.end(), changed) - ids.begin());
    test::put_synthetic_track(cat, base, changed_i, 4, 21, 1);  // the same song re-ingested: new vectors
    const auto after = session.run(o);
    const auto fresh = match::run_match(cat, o, warn);
    CHECK(names(after) == names(fresh));
    for (const auto& r : after.results) CHECK(r.track.id != removed);
}

TEST_CASE("match --queries: resident vectors answer as the catalog does, past deleted rows, within their budget and while loading") {
    // A batch's sessions read candidates' vectors and index hits from store::ResidentVectors.
    // Two thirds of the tracks are removed after the indexes were built: the indexes still
    // return their vectors (gone from the catalog, so from the resident copy too), and the ids
    // left are too sparse for the dense id table.
    test::TempDir dir;
    store::Catalog cat(dir.file("r.db"), store::Catalog::Mode::read_write);
    const auto base = test::song_dna(0, 16);
    const std::vector<int64_t> ids = indexed_tracks(cat, base, 300);
    std::vector<int64_t> kept;
    for (size_t i = 0; i < ids.size(); ++i) {
        if (i % 6 == 0) kept.push_back(ids[i]);
        else cat.remove_track(ids[i]);
    }
    std::ostringstream warn;
    auto answers = [&](match::Session& session) {
        std::vector<std::pair<int64_t, double>> v;
        for (size_t q = 0; q < kept.size(); q += 5) {
            match::MatchOptions o;
            o.track = std::to_string(kept[q]);
            o.k = 10;
            for (const auto& x : session.run(o).results) v.emplace_back(x.track.id, x.score);
        }
        return v;
    };
    match::Session plain(&cat, warn);
    const auto truth = answers(plain);
    REQUIRE(truth.size() == 10 * ((kept.size() + 4) / 5));
    for (const auto& [id, score] : truth) CHECK(std::find(kept.begin(), kept.end(), id) != kept.end());

    SUBCASE("loaded in the session's first query") {
        auto resident = std::make_shared<store::ResidentVectors>(cat.path(), store::ResidentVectors::k_default_budget, false);
        match::Session session(&cat, warn, store::IndexAccess::map, resident);
        CHECK(answers(session) == truth);
        CHECK(resident->bytes() > 0);
    }
    SUBCASE("a budget too small for any space: the catalog is read") {
        auto resident = std::make_shared<store::ResidentVectors>(cat.path(), 256, false);
        match::Session session(&cat, warn, store::IndexAccess::map, resident);
        CHECK(answers(session) == truth);
        CHECK(resident->bytes() == 0);
    }
    SUBCASE("loaded on the loader's thread while queries go on") {
        auto resident = std::make_shared<store::ResidentVectors>(cat.path());
        match::Session session(&cat, warn, store::IndexAccess::map, resident);
        bool loaded = false;
        for (int round = 0; round < 400 && !loaded; ++round) {
            CHECK(answers(session) == truth);
            loaded = resident->bytes() > 0;
        }
        REQUIRE(loaded);
        CHECK(answers(session) == truth);
    }
    CHECK(warn.str().find("error") == std::string::npos);
}
