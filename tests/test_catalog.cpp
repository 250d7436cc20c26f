// The catalog: tracks stored, replaced and removed whole, metadata merged with chart history,
// damage reported by verify; content hashes of files.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "hitdna/core/error.hpp"
#include "hitdna/store/catalog.hpp"
#include "hitdna/store/hash.hpp"
#include "helpers.hpp"
#include "synthetic.hpp"

using namespace hitdna;

namespace {

// Vectors of a track over every space.
size_t vectors_of_track(store::Catalog& c, int64_t id) {
    size_t n = 0;
    for (auto sp : dna::k_spaces) n += c.vectors_of(id, sp).size();
    return n;
}

}  // namespace

TEST_CASE("catalog: a track is stored whole, replaced in place, and removed whole") {
    test::TempDir dir;
    store::Catalog cat(dir.file("db/h.db"), store::Catalog::Mode::read_write);
    auto d1 = test::song_dna(1), d2 = test::song_dna(2);
    const int64_t a = cat.put_track("hash-a", "/a.wav", test::meta("Ann", "One"), d1);
    const int64_t b = cat.put_track("hash-b", "/b.wav", test::meta("Bob", "Two"), d2);
    CHECK(a != b);
    CHECK(cat.verify().empty());
    CHECK(cat.catalog_stats().tracks == 2);
    CHECK(cat.stats(dna::Space::audio).count == 2);
    CHECK(cat.stats(dna::Space::sections).count == int64_t(d1.structure.sections.size() + d2.structure.sections.size()));
    // The same content again replaces the analysis, not the track.
    const int64_t g0 = cat.generation();
    CHECK(cat.put_track("hash-a", "/a2.wav", test::meta("", ""), d1) == a);
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
    const int64_t id = cat.put_track("h", "/x.wav", test::meta("Kendrick Lamar", "Not Like Us"), test::song_dna(3));
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
    cat.put_track("h", "/x.wav", test::meta("A", "B"), test::song_dna(4));
    REQUIRE(cat.verify().empty());
    test::tamper_sql(dir.file("h.db"), "DELETE FROM vectors WHERE space = 'emotion'");
    auto p = cat.verify();
    CHECK(p.size() >= 2);  // a track missing a vector, statistics out of step
}

TEST_CASE("hash: XXH3-128 of a file's bytes") {
    test::TempDir dir;
    test::write_file(dir.file("a"), "hello");
    CHECK(store::hash_file(dir.file("a")) == store::hash_bytes("hello", 5));
    CHECK(store::hash_file(dir.file("a")).size() == 32);
    CHECK_THROWS_AS(store::hash_file(dir.file("missing")), Error);
}

TEST_CASE("catalog: kept prepared statements hold no snapshot: a reader sees later writes, a backup and a checkpoint run") {
    // Statements go back to their connection reset, to be reused: one left mid-step would pin
    // the reader to an old snapshot (WAL) and block the checkpoint and VACUUM INTO.
    test::TempDir dir;
    store::Catalog writer(dir.file("k.db"), store::Catalog::Mode::read_write);
    const auto base = test::song_dna(0, 16);
    const int64_t first = test::put_synthetic_track(writer, base, 0, 2, 5);
    store::Catalog reader(dir.file("k.db"), store::Catalog::Mode::read_only);
    for (int i = 0; i < 3; ++i) {
        REQUIRE(reader.track(first));
        CHECK(reader.count_vectors(dna::Space::audio) == 1 + i);
        CHECK(reader.vectors_of(first, dna::Space::sections).size() == 2);
        test::put_synthetic_track(writer, base, i + 1, 2, 5);  // written while the reader's statements are kept
    }
    CHECK(reader.count_vectors(dna::Space::audio) == 4);
    CHECK_NOTHROW(writer.checkpoint());
    CHECK_NOTHROW(reader.backup_to(dir.file("copy.db")));
    store::Catalog copy(dir.file("copy.db"), store::Catalog::Mode::read_only);
    CHECK(copy.count_vectors(dna::Space::audio) == 4);
}

TEST_CASE("catalog: vectors of many tracks read with readers ahead are those read without") {
    test::TempDir dir;
    store::Catalog cat(dir.file("v.db"), store::Catalog::Mode::read_write);
    const auto base = test::song_dna(0, 16);
    std::vector<int64_t> ids;
    for (int i = 0; i < 150; ++i) ids.push_back(test::put_synthetic_track(cat, base, i, 1 + i % 4, 9));
    ids.push_back(987654);  // no such track: no entry
    std::reverse(ids.begin(), ids.end());
    const std::vector<dna::Space> spaces{dna::Space::audio, dna::Space::sections, dna::Space::production};
    const auto plain = cat.vectors_of_tracks(ids, spaces);
    CHECK(cat.vectors_of_tracks(ids, spaces, 3).size() == plain.size());  // readers only when slow: none here
    for (unsigned readers : {1u, 3u, 8u}) {
        const auto ahead = cat.vectors_of_tracks(ids, spaces, readers, false);
        REQUIRE(ahead.size() == plain.size());
        for (const auto& [space, by_track] : plain) {
            const auto& other = ahead.at(space);
            REQUIRE(other.size() == by_track.size());
            CHECK_FALSE(by_track.count(987654));
            for (const auto& [id, vs] : by_track) {
                REQUIRE(other.count(id));
                REQUIRE(other.at(id).size() == vs.size());
                for (size_t i = 0; i < vs.size(); ++i) CHECK((other.at(id)[i].id == vs[i].id && other.at(id)[i].data == vs[i].data));
            }
        }
    }
    CHECK(plain.at(dna::Space::sections).size() == 150);
}
