// match with a text query: quoted titles, descriptor words and genres, filters, unknown titles.
#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

#include "hitdna/match/match.hpp"
#include "hitdna/store/catalog.hpp"
#include "helpers.hpp"
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
