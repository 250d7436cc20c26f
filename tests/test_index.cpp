// The vector indexes: rebuilt and updated in place, newer rows searched exactly, damaged or
// restored-backup index files bypassed; HNSW recall against exact search.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "hitdna/store/catalog.hpp"
#include "hitdna/store/hnsw_build.hpp"
#include "hitdna/store/vector_index.hpp"
#include "helpers.hpp"
#include "signals.hpp"
#include "synthetic.hpp"

using namespace hitdna;
namespace fs = std::filesystem;

namespace {

// The audio space's graph file in the index directory (the test fails without one).
std::string audio_graph(const store::VectorIndexes& idx) {
    std::string graph;
    for (auto& e : fs::directory_iterator(idx.dir()))
        if (e.path().filename().string().rfind("audio.g", 0) == 0) graph = e.path().string();
    REQUIRE_FALSE(graph.empty());
    return graph;
}

}  // namespace

TEST_CASE("index: rebuilt, stale part searched exactly, damaged file bypassed") {
    test::TempDir dir;
    store::Catalog cat(dir.file("h.db"), store::Catalog::Mode::read_write);
    for (int v = 0; v < 5; ++v) cat.put_track("h" + std::to_string(v), "/" + std::to_string(v), test::meta("A", std::to_string(v)), test::song_dna(v, 16));
    store::VectorIndexes idx(cat);
    for (auto sp : dna::k_spaces) idx.rebuild(sp);
    auto s = idx.status(dna::Space::sections);
    CHECK(s.valid);
    CHECK(s.newer_vectors == 0);
    // A track added after the build is found through the exact scan of newer rows.
    auto d = test::song_dna(9, 16);
    const int64_t late = cat.put_track("late", "/late", test::meta("L", "Late"), d);
    CHECK(idx.status(dna::Space::audio).newer_vectors == 1);
    {
        store::SpaceSearcher se(idx, dna::Space::audio, nullptr);
        CHECK(se.using_index());
        auto hits = se.search(d.vectors.audio, 1);
        REQUIRE(hits.size() == 1);
        CHECK(hits[0].track_id == late);
    }
    // Garbage in the graph file's head: detected by the stamp checked on every open, the
    // search still answers exactly.
    const std::string graph = audio_graph(idx);
    {
        std::fstream f(graph, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(200);
        f.write("garbage!", 8);
    }
    CHECK_FALSE(idx.status(dna::Space::audio).valid);
    std::ostringstream warn;
    store::SpaceSearcher se(idx, dna::Space::audio, &warn);
    CHECK_FALSE(se.using_index());
    CHECK(warn.str().find("fails its stamp") != std::string::npos);
    CHECK(idx.status(dna::Space::audio, true).problem.find("checksum") != std::string::npos);
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
    // Saved and read back whole by hnswlib's own loader (bench_scale's peer): every stored
    // row is one of the inserted vectors, found again at distance 0 under its own label.
    test::TempDir dir;
    g.save(dir.file("g.hnsw"));
    const auto loaded = store::HnswGraph::load(dir.file("g.hnsw"), dim);
    REQUIRE(loaded->size() == n);
    loaded->set_ef(size_t(ef));
    for (size_t i : {size_t(0), size_t(17), n / 2, n - 1}) {
        const auto row = loaded->row(i);
        REQUIRE(row.size() == dim);
        const auto hit = loaded->search(row.data(), 1);
        REQUIRE(hit.size() == 1);
        CHECK(hit[0].first == 0.0f);
        const size_t at = size_t(hit[0].second - 100) * dim;
        CHECK(std::equal(row.begin(), row.end(), data.begin() + long(at)));
    }
    CHECK_THROWS_AS(store::HnswGraph::load(dir.file("missing.hnsw"), dim), std::runtime_error);
}

TEST_CASE("index: an index newer than its catalog (a restored backup) is not used") {
    test::TempDir dir;
    const std::string db = dir.file("h.db");
    {
        store::Catalog cat(db, store::Catalog::Mode::read_write);
        for (int v = 0; v < 3; ++v) cat.put_track("h" + std::to_string(v), "/" + std::to_string(v), test::meta("A", std::to_string(v)), test::song_dna(v, 12));
        cat.backup_to(dir.file("backup.db"));
        for (int v = 3; v < 5; ++v) cat.put_track("h" + std::to_string(v), "/" + std::to_string(v), test::meta("A", std::to_string(v)), test::song_dna(v, 12));
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
    auto d = test::song_dna(8, 12);
    const int64_t id = cat.put_track("new", "/new", test::meta("N", "New"), d);
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
    for (int v = 0; v < 6; ++v) cat.put_track("h" + std::to_string(v), "/" + std::to_string(v), test::meta("A", std::to_string(v)), test::song_dna(v, 12));
    store::VectorIndexes idx(cat);
    idx.set_incremental_minimum(1);
    auto first = idx.rebuild(dna::Space::sections);
    auto d = test::song_dna(11, 12);
    const int64_t late = cat.put_track("late", "/late", test::meta("L", "Late"), d);
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
    cat.put_track("later", "/later", test::meta("L", "Later"), test::song_dna(12, 12));
    auto m2 = idx.update(dna::Space::sections);
    CHECK(idx.status(dna::Space::sections).valid);
    CHECK(m2.count == cat.stats(dna::Space::sections).count);
    // Superseded graphs go: at most the current one and the one it replaced remain.
    int graphs = 0;
    for (auto& e : fs::directory_iterator(idx.dir())) graphs += e.path().extension() == ".hnsw";
    CHECK(graphs <= 2);
}

TEST_CASE("index: records read by a pread each (no io_uring) give the same neighbours as the io_uring and the mapping") {
    test::TempDir dir;
    store::Catalog cat(dir.file("h.db"), store::Catalog::Mode::read_write);
    const auto base = test::song_dna(0, 16);
    for (int i = 0; i < 400; ++i) test::put_synthetic_track(cat, base, i, 1, 3);
    store::VectorIndexes idx(cat);
    idx.rebuild(dna::Space::sections);
    store::SpaceSearcher ring(idx, dna::Space::sections, nullptr);
    ::setenv("HITDNA_NO_IO_URING", "1", 1);
    store::SpaceSearcher pread(idx, dna::Space::sections, nullptr);
    ::unsetenv("HITDNA_NO_IO_URING");
    store::VectorIndexes mapped_indexes(cat);
    mapped_indexes.set_access(store::IndexAccess::map);
    store::SpaceSearcher mapped(mapped_indexes, dna::Space::sections, nullptr);
    REQUIRE((ring.using_index() && pread.using_index() && mapped.using_index()));
    for (int t = 1; t <= 40; ++t) {
        auto v = cat.vectors_of(t * 9, dna::Space::sections);
        REQUIRE_FALSE(v.empty());
        const auto a = ring.search(v.front().data, 10), b = pread.search(v.front().data, 10), c = mapped.search(v.front().data, 10);
        REQUIRE(a.size() == 10);
        REQUIRE((b.size() == 10 && c.size() == 10));
        CHECK(a.front().track_id == t * 9);
        for (size_t i = 0; i < 10; ++i) CHECK((a[i].vector_id == b[i].vector_id && a[i].vector_id == c[i].vector_id));
    }
}

TEST_CASE("index: a graph file cut short under an open searcher: a warning, and the catalog searched exactly") {
    test::TempDir dir;
    store::Catalog cat(dir.file("h.db"), store::Catalog::Mode::read_write);
    const auto base = test::song_dna(0, 16);
    for (int i = 0; i < 300; ++i) test::put_synthetic_track(cat, base, i, 1, 3);
    store::VectorIndexes idx(cat);
    idx.rebuild(dna::Space::audio);
    const std::string graph = audio_graph(idx);
    std::ostringstream warn;
    store::SpaceSearcher se(idx, dna::Space::audio, &warn);  // IndexAccess::read, the default
    REQUIRE(se.using_index());
    fs::resize_file(graph, 200);  // past the header: every record read now fails
    auto v = cat.vectors_of(7, dna::Space::audio);
    REQUIRE_FALSE(v.empty());
    const auto hits = se.search(v.front().data, 5);
    CHECK_FALSE(se.using_index());
    CHECK(warn.str().find("audio index") != std::string::npos);
    CHECK(warn.str().find("file ends early") != std::string::npos);
    REQUIRE(hits.size() == 5);
    CHECK(hits[0].track_id == 7);  // the exact scan finds the track itself
    CHECK(hits[0].dist2 == doctest::Approx(0.0));
    CHECK(se.search(v.front().data, 5).size() == 5);  // and goes on without the index
}

TEST_CASE("index: damage the open-time stamp does not see never crashes a search; the full check finds it") {
    test::TempDir dir;
    store::Catalog cat(dir.file("h.db"), store::Catalog::Mode::read_write);
    const auto base = test::song_dna(0, 16);
    for (int i = 0; i < 600; ++i) test::put_synthetic_track(cat, base, i, 1, 3);
    store::VectorIndexes idx(cat);
    idx.rebuild(dna::Space::audio);
    const std::string graph = audio_graph(idx);
    const auto bytes = fs::file_size(graph);
    REQUIRE(bytes > 3 * 64 * 1024);  // a middle that neither 64 KiB end covers
    {
        // The graph searched in place, its records read or the file mapped, finds what an
        // exact scan finds (recall@10 over 60 perturbed catalog vectors), and both ways find
        // the same; each query is asked twice, for 10 then 20 (the second from the kept list).
        store::SpaceSearcher se(idx, dna::Space::audio, nullptr);
        store::VectorIndexes mapped_indexes(cat);
        mapped_indexes.set_access(store::IndexAccess::map);
        store::SpaceSearcher mapped(mapped_indexes, dna::Space::audio, nullptr);
        REQUIRE(se.using_index());
        REQUIRE(mapped.using_index());
        std::vector<store::StoredVector> all;
        cat.for_each_vector(dna::Space::audio, 0, {}, [&](store::StoredVector&& v) { all.push_back(std::move(v)); });
        uint32_t st = 11;
        size_t found = 0, same = 0, found20 = 0;
        for (int q = 0; q < 60; ++q) {
            auto x = all[size_t(q * 9) % all.size()].data;
            for (auto& e : x) e += 0.05f * test::noise(st);
            std::vector<std::pair<float, int64_t>> exact;
            for (const auto& v : all) exact.push_back({se.distance2(x, v.data), v.id});
            std::sort(exact.begin(), exact.end());
            std::set<int64_t> truth, truth20;
            for (size_t i = 0; i < 20; ++i) (i < 10 ? truth : truth20).insert(exact[i].second);
            truth20.insert(truth.begin(), truth.end());
            const auto hits = se.search(x, 10), hits_mapped = mapped.search(x, 10);
            for (const auto& h : hits) found += truth.count(h.vector_id);
            for (size_t i = 0; i < hits.size() && i < hits_mapped.size(); ++i) same += hits[i].vector_id == hits_mapped[i].vector_id;
            const auto more = se.search(x, 20);
            REQUIRE(more.size() == 20);
            for (size_t i = 0; i < 10; ++i) CHECK(more[i].vector_id == hits[i].vector_id);
            for (const auto& h : more) found20 += truth20.count(h.vector_id);
        }
        CHECK(double(found) / 600 >= 0.97);
        CHECK(double(found20) / 1200 >= 0.97);
        CHECK(same == 600);
    }
    auto probe = cat.vectors_of(17, dna::Space::audio);
    REQUIRE_FALSE(probe.empty());
    // Link counts and neighbour ids of a whole stretch overwritten with 0xff: out of range.
    {
        std::fstream f(graph, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(std::streamoff(bytes / 2 - 4096));
        const std::string junk(8192, char(0xff));
        f.write(junk.data(), std::streamsize(junk.size()));
    }
    CHECK(idx.status(dna::Space::audio, false).valid);  // the cheap check passes ...
    CHECK_FALSE(idx.status(dna::Space::audio, true).valid);  // ... the full hash does not
    // db verify hashes index files whole: it names the damaged one (exit 1).
    const auto verify = test::run({"db", "verify", "--db", dir.file("h.db"), "-f", "json"});
    CHECK(verify.exit_code == 1);
    CHECK(verify.out.find("index audio") != std::string::npos);
    store::SpaceSearcher se(idx, dna::Space::audio, nullptr);
    CHECK(se.using_index());
    for (int i = 0; i < 50; ++i) {
        auto v = cat.vectors_of(1 + i * 11, dna::Space::audio);
        REQUIRE_FALSE(v.empty());
        auto hits = se.search(v.front().data, 10);
        CHECK(hits.size() == 10);
    }
}

TEST_CASE("index: one search for several queries finds the vectors nearest to any of them, at the nearest one's distance") {
    test::TempDir dir;
    store::Catalog cat(dir.file("m.db"), store::Catalog::Mode::read_write);
    const auto base = test::song_dna(0, 16);
    for (int i = 0; i < 300; ++i) test::put_synthetic_track(cat, base, i, 8, 33);
    store::VectorIndexes idx(cat);
    const dna::Space s = dna::Space::sections;
    std::vector<store::StoredVector> rows;
    cat.for_each_vector(s, 0, {}, [&](store::StoredVector&& v) { rows.push_back(std::move(v)); });
    REQUIRE(rows.size() == 2400);
    // The queries: a track's eight section vectors, as a track query asks (these are
    // independent draws, so far apart), for five tracks.
    std::vector<std::vector<std::vector<float>>> query_sets;
    for (size_t t : {size_t(3), size_t(800), size_t(1201), size_t(1999), size_t(2390)}) {
        auto& raws = query_sets.emplace_back();
        for (const auto& v : rows)
            if (v.track_id == rows[t].track_id) raws.push_back(v.data);
        REQUIRE(raws.size() == 8);
    }
    const size_t k = 40;
    // Each hit at its distance to the nearest query, nearest first; recall as the bench
    // measures it (the 10 nearest, computed here by scanning every row, among the k hits),
    // over the five sets: an index's recall at its very breadth varies with the graph, which
    // parallel builds vary.
    auto check = [&](store::SpaceSearcher& se, double min_recall) {
        size_t found = 0;
        for (const auto& raws : query_sets) {
            std::map<int64_t, float> at;
            std::vector<std::pair<float, int64_t>> nearest;
            for (const auto& v : rows) {
                float best = 3.4e38f;
                for (const auto& q : raws) best = std::min(best, se.distance2(q, v.data));
                at[v.id] = best;
                nearest.emplace_back(best, v.id);
            }
            std::sort(nearest.begin(), nearest.end());
            std::set<int64_t> want;
            for (size_t i = 0; i < 10; ++i) want.insert(nearest[i].second);
            const auto got = se.search(raws, k);
            REQUIRE(got.size() == k);
            for (size_t i = 0; i < got.size(); ++i) {
                CHECK(got[i].dist2 == doctest::Approx(at.at(got[i].vector_id)).epsilon(1e-4));
                if (i > 0) CHECK(got[i - 1].dist2 <= got[i].dist2);
                found += want.count(got[i].vector_id);
            }
        }
        CHECK(double(found) / double(10 * query_sets.size()) >= min_recall);
        // One query alone is the single search.
        const auto one = se.search(std::vector<std::vector<float>>{query_sets[0][3]}, 10);
        const auto single = se.search(query_sets[0][3], 10);
        REQUIRE(one.size() == single.size());
        for (size_t i = 0; i < one.size(); ++i) CHECK(one[i].vector_id == single[i].vector_id);
    };
    SUBCASE("exact (no index)") {
        store::SpaceSearcher se(idx, s, nullptr);
        REQUIRE_FALSE(se.using_index());
        check(se, 1.0);
    }
    SUBCASE("index, records read") {
        idx.rebuild(s);
        store::SpaceSearcher se(idx, s, nullptr);
        REQUIRE(se.using_index());
        check(se, 0.9);
    }
    SUBCASE("index, file mapped") {
        idx.rebuild(s);
        idx.set_access(store::IndexAccess::map);
        store::SpaceSearcher se(idx, s, nullptr);
        REQUIRE(se.using_index());
        check(se, 0.9);
    }
}

TEST_CASE("index: searchers opened at once and warmed on a thread per query answer as searchers opened alone; a damaged index still warns") {
    test::TempDir dir;
    store::Catalog cat(dir.file("h.db"), store::Catalog::Mode::read_write);
    const auto base = test::song_dna(0, 16);
    for (int i = 0; i < 400; ++i) test::put_synthetic_track(cat, base, i, 3, 5);
    store::VectorIndexes idx(cat);
    const std::vector<dna::Space> spaces(dna::k_spaces.begin(), dna::k_spaces.end());
    for (auto s : spaces) idx.rebuild(s);
    // The production index damaged behind its manifest: its open fails its stamp.
    for (auto& e : fs::directory_iterator(idx.dir()))
        if (e.path().filename().string().rfind("production.g", 0) == 0) fs::resize_file(e.path(), fs::file_size(e.path()) - 1);
    std::ostringstream warn_together, warn_alone;
    auto together = store::SpaceSearcher::open(idx, spaces, &warn_together);
    REQUIRE(together.size() == spaces.size());
    std::map<dna::Space, std::unique_ptr<store::SpaceSearcher>> alone;
    for (auto s : spaces) alone[s] = std::make_unique<store::SpaceSearcher>(idx, s, &warn_alone);
    CHECK(warn_together.str() == warn_alone.str());
    CHECK(warn_together.str().find("production index not used") != std::string::npos);
    for (auto s : spaces) CHECK(together[s]->using_index() == (s != dna::Space::production));
    for (int t = 1; t <= 30; ++t) {
        const int64_t track = 1 + (t * 13) % 400;
        std::map<dna::Space, std::vector<std::vector<float>>> queries;
        for (auto s : spaces)
            for (const auto& v : cat.vectors_of(track, s)) queries[s].push_back(v.data);
        std::vector<std::thread> threads;
        for (auto s : spaces)
            for (const auto& q : queries[s]) threads.emplace_back([&, s] { together[s]->warm(q, 12); });
        for (auto& th : threads) th.join();
        for (auto s : spaces)
            for (const auto& q : queries[s]) {
                const auto a = together[s]->search(q, 12), b = alone[s]->search(q, 12);
                REQUIRE(a.size() == b.size());
                for (size_t i = 0; i < a.size(); ++i) CHECK((a[i].vector_id == b[i].vector_id && a[i].dist2 == b[i].dist2));
            }
    }
}
