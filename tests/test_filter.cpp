// Filters: parsed into SQL and applied inside the search, through the index and exactly.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "hitdna/core/error.hpp"
#include "hitdna/store/catalog.hpp"
#include "hitdna/store/filter.hpp"
#include "hitdna/store/vector_index.hpp"
#include "helpers.hpp"
#include "synthetic.hpp"

using namespace hitdna;

TEST_CASE("filters: parsed into SQL, applied inside the search") {
    CHECK_THROWS_AS(store::parse_filter({"colour=red"}), Error);
    CHECK_THROWS_AS(store::parse_filter({"year>=twenty"}), Error);
    CHECK_THROWS_AS(store::parse_filter({"genre<rock"}), Error);
    CHECK_THROWS_AS(store::parse_filter({"year"}), Error);
    test::TempDir dir;
    store::Catalog cat(dir.file("h.db"), store::Catalog::Mode::read_write);
    for (int v = 0; v < 6; ++v) {
        auto m = test::meta("Artist " + std::to_string(v), "Song " + std::to_string(v));
        m.year = 2015 + v;
        m.genres = {v % 2 ? "phonk" : "pop"};
        m.source = v < 3 ? "chart" : "user";
        if (v < 3) m.charts = {store::ChartEntry{"c", "2024-01-01", v * 10 + 1, v * 10 + 1, std::nullopt, 1, std::nullopt, ""}};
        cat.put_track("h" + std::to_string(v), "/" + std::to_string(v), m, test::song_dna(v, 16));
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
