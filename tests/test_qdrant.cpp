// hitdna sync qdrant and match/enrich --backend qdrant against tests/fake_qdrant.py, a loopback
// Qdrant that validates every request against Qdrant's OpenAPI document (data/qdrant-openapi-
// v1.19.0.json) and the behaviours of ../shared/specs/qdrant-rest.md, and searches exactly.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "fake_qdrant_proc.hpp"
#include "hitdna/qdrant/filter.hpp"
#include "hitdna/qdrant/sync.hpp"
#include "helpers.hpp"
#include "signals.hpp"
#include "synthetic.hpp"

using namespace hitdna;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::vector<json> jsonl(const std::string& out) {
    std::vector<json> v;
    std::istringstream in(out);
    std::string line;
    while (std::getline(in, line))
        if (!line.empty()) v.push_back(json::parse(line));
    return v;
}

void no_violations(test::FakeQdrant& q) {
    auto st = q.stats();
    INFO(st["violations"].dump(1));
    CHECK(st["violations"].empty());
    CHECK(st["unsupported"].empty());
}

int64_t count_points(test::FakeQdrant& q, const std::string& coll, const json& filter = nullptr) {
    json body = {{"exact", true}};
    if (!filter.is_null()) body["filter"] = filter;
    auto r = q.request("POST", "/collections/" + coll + "/points/count", body.dump());
    REQUIRE(r["status"] == 200);
    return r["body"]["result"]["count"].get<int64_t>();
}

json get_point(test::FakeQdrant& q, const std::string& coll, int64_t id) {
    auto r = q.request("POST", "/collections/" + coll + "/points", json{{"ids", {id}}, {"with_payload", true}}.dump());
    REQUIRE(r["status"] == 200);
    return r["body"]["result"].empty() ? json() : r["body"]["result"][0];
}

int64_t sections_in(store::Catalog& cat) { return cat.count_vectors(dna::Space::sections); }

}  // namespace

TEST_CASE("qdrant: filters translate to Qdrant conditions on the synced payload") {
    auto f = qdrant::to_filter(store::parse_filter({"genre=Phonk,hip-hop", "year>=2020", "peak_rank!=3", "artist=The Weeknd", "tag!=live"}));
    INFO(f.dump());
    CHECK(f["must"][0] == json{{"key", "genres"}, {"match", {{"any", {"phonk", "hip-hop"}}}}});
    CHECK(f["must"][1] == json{{"key", "year"}, {"range", {{"gte", 2020.0}}}});
    CHECK(f["must"][2]["should"][0] == json{{"key", "peak_rank"}, {"range", {{"lt", 3.0}}}});
    CHECK(f["must"][2]["should"][1] == json{{"key", "peak_rank"}, {"range", {{"gt", 3.0}}}});
    CHECK(f["must"][3] == json{{"key", "artist_key"}, {"match", {{"any", {"the weeknd"}}}}});
    CHECK(f["must_not"][0] == json{{"key", "tags"}, {"match", {{"any", {"live"}}}}});
    CHECK(qdrant::to_filter({}).is_null());
}

TEST_CASE("qdrant: every error envelope becomes one line with the server's message") {
    using qdrant::describe_error;
    auto env = [](const std::string& m) { return json{{"status", {{"error", m}}}, {"time", 0.001}}.dump(); };
    CHECK(describe_error(400, "application/json", env("Wrong input: Not existing vector name error: foo")) == "400 Wrong input: Not existing vector name error: foo");
    CHECK(describe_error(401, "text/plain; charset=utf-8", "Must provide an API key or an Authorization bearer token") ==
          "401 unauthorized (Must provide an API key or an Authorization bearer token); set QDRANT_API_KEY to the server's key");
    CHECK(describe_error(403, "application/json", env("Forbidden: Write access to collection x is required")) ==
          "403 Forbidden: Write access to collection x is required");
    CHECK(describe_error(404, "application/json", env("Not found: Collection `x` doesn't exist!")) == "404 Not found: Collection `x` doesn't exist!");
    CHECK(describe_error(409, "application/json", env("Wrong input: Collection `x` already exists!")) == "409 Wrong input: Collection `x` already exists!");
    CHECK(describe_error(422, "application/json", env("Validation error in JSON body: [limit: value 0 invalid, must be 1 or larger]")) ==
          "422 Validation error in JSON body: [limit: value 0 invalid, must be 1 or larger]");
    CHECK(describe_error(429, "application/json", env("Rate limiting exceeded: Write rate limit exceeded, retry later")).find("429 Rate limiting") == 0);
    CHECK(describe_error(507, "", "") == "507 no message");
    CHECK(describe_error(400, "application/json", env("line one\nline two")) == "400 line one line two");
    auto html = describe_error(502, "text/html", "<html><head><title>502</title></head><body><h1>Bad Gateway</h1></body></html>");
    CHECK(html.find('<') == std::string::npos);
    CHECK(html.find("Bad Gateway") != std::string::npos);
}

TEST_CASE("qdrant: section point ids are stable version-8 UUIDs") {
    auto a = qdrant::section_point_id("abc", 7, 2);
    CHECK(a == qdrant::section_point_id("abc", 7, 2));
    CHECK(a != qdrant::section_point_id("abc", 7, 3));
    CHECK(a != qdrant::section_point_id("abd", 7, 2));
    REQUIRE(a.size() == 36);
    CHECK(a[14] == '8');
    CHECK(std::string("89ab").find(a[19]) != std::string::npos);
}

TEST_CASE("qdrant: sync creates both collections, then match --backend qdrant returns the embedded top-k") {
    test::FakeQdrant q;
    test::TempDir dir;
    fs::create_directories(dir.file("music"));
    for (int v = 0; v < 10; ++v)
        test::write_audio(dir.file("music/Artist " + std::to_string(v) + " - Song " + std::to_string(v) + ".wav"), test::toy_song(v, 30));
    const std::string db = dir.file("h.db");
    auto r = test::run({"ingest", dir.file("music"), "--db", db, "--genre", "pop", "-j", "2"});
    REQUIRE(r.exit_code == 0);
    r = test::run({"ingest", dir.file("music/Artist 3 - Song 3.wav"), dir.file("music/Artist 7 - Song 7.wav"), "--db", db, "--genre", "phonk"});
    REQUIRE(r.exit_code == 0);
    r = test::run({"sync", "qdrant", "--url", q.url(), "--collection", "hits", "--db", db, "-f", "json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto rep = json::parse(r.out);
    CHECK(rep["created"] == true);
    CHECK(rep["full"] == true);
    CHECK(rep["tracks_upserted"] == 10);
    store::Catalog cat(db, store::Catalog::Mode::read_only);
    CHECK(rep["sections_upserted"] == sections_in(cat));
    CHECK(count_points(q, "hits") == 10);
    CHECK(count_points(q, "hits_sections") == sections_in(cat));
    // Collection layout: named vectors with the catalog's sizes, Euclid; metadata; payload indexes.
    auto info = q.request("GET", "/collections/hits")["body"]["result"];
    CHECK(info["config"]["params"]["vectors"]["audio"]["size"] == dna::dimensions(dna::Space::audio).size());
    CHECK(info["config"]["params"]["vectors"]["production"]["distance"] == "Euclid");
    CHECK(info["config"]["metadata"]["hitdna"]["catalog_id"] == cat.catalog_id());
    for (const char* f : {"genres", "artist_key", "year", "source", "peak_rank", "track_id"}) CHECK_MESSAGE(info["payload_schema"].contains(f), f);
    auto p = get_point(q, "hits", cat.find_by_name("Artist 4 - Song 4").front().id);
    CHECK(p["payload"]["title"] == "Song 4");
    CHECK(p["payload"]["genres"] == json::array({"pop"}));
    CHECK(p["payload"]["sections"].size() >= 1);
    // Every request (and the fake's own answers) matched the OpenAPI document.
    no_violations(q);
    auto log = q.log();
    for (const auto& e : log)
        if (e["method"] == "PUT" && e["path"].get<std::string>().find("/points") != std::string::npos)
            CHECK_MESSAGE(e["query"].dump().find("wait") != std::string::npos, e.dump());

    // The same queries on both backends: same tracks in the same order, same scores.
    auto s = test::toy_song(5, 30);
    test::Signal ex;
    ex.rate = s.rate;
    ex.samples.assign(s.samples.begin() + long(8 * s.rate), s.samples.begin() + long(22 * s.rate));
    test::write_audio(dir.file("excerpt.wav"), ex);
    const std::vector<std::vector<std::string>> queries = {
        {"--track", "1"}, {"--track", "6", "--filter", "genre=phonk"}, {"--like", dir.file("excerpt.wav")},
        {"--like", dir.file("excerpt.wav"), "--filter", "id!=6", "--space", "sections"}, {"--track", "Artist 2 - Song 2", "--filter", "genre!=phonk"},
        {"--text", "\"Song 4\" loud"}};
    for (const auto& qv : queries) {
        std::vector<std::string> base = {"match", "--db", db, "-f", "jsonl", "-k", "5"};
        base.insert(base.end(), qv.begin(), qv.end());
        auto e = test::run(base);
        auto qargs = base;
        for (const std::string& x : std::vector<std::string>{"--backend", "qdrant", "--qdrant-url", q.url(), "--collection", "hits"}) qargs.push_back(x);
        auto d = test::run(qargs);
        INFO(qv.front() << " " << qv.back() << "\n" << e.err << d.err);
        REQUIRE(e.exit_code == 0);
        REQUIRE(d.exit_code == 0);
        auto a = jsonl(e.out), b = jsonl(d.out);
        REQUIRE(!a.empty());
        REQUIRE(a.size() == b.size());
        for (size_t i = 0; i < a.size(); ++i) {
            CHECK(a[i]["track_id"] == b[i]["track_id"]);
            CHECK(a[i]["score"].get<double>() == doctest::Approx(b[i]["score"].get<double>()).epsilon(1e-3));
        }
        // --exact asks Qdrant for exact search: the same again.
        qargs.push_back("--exact");
        auto x = test::run(qargs);
        REQUIRE(x.exit_code == 0);
        CHECK(jsonl(x.out).size() == a.size());
    }
    // --like without a local catalog: results from the payload alone.
    auto d = test::run({"match", "--backend", "qdrant", "--qdrant-url", q.url(), "--collection", "hits", "--like", dir.file("excerpt.wav"), "--db",
                        dir.file("none.db"), "-f", "jsonl", "-k", "3"});
    INFO(d.err);
    REQUIRE(d.exit_code == 0);
    auto top = jsonl(d.out);
    REQUIRE(top.size() == 3);
    CHECK(top[0]["title"] == "Song 5");
    // enrich through Qdrant finds the same hits.
    auto en = test::run({"enrich", "\"Song 4\" loud", "--db", db, "-f", "json"});
    auto eq = test::run({"enrich", "\"Song 4\" loud", "--db", db, "-f", "json", "--backend", "qdrant", "--qdrant-url", q.url(), "--collection", "hits"});
    REQUIRE(en.exit_code == 0);
    REQUIRE(eq.exit_code == 0);
    CHECK(json::parse(en.out)["hits"] == json::parse(eq.out)["hits"]);
    no_violations(q);
}

TEST_CASE("qdrant: incremental sync sends only changes; metadata, re-analysis and removal propagate; dry run writes nothing") {
    test::FakeQdrant q;
    test::TempDir dir;
    const std::string db = dir.file("s.db");
    const auto base = test::tone_dna();
    {
        store::Catalog cat(db, store::Catalog::Mode::read_write);
        for (int i = 0; i < 60; ++i) test::put_synthetic_track(cat, base, i, 6, 1);
    }
    store::Catalog cat(db, store::Catalog::Mode::read_write);
    qdrant::Config cfg;
    cfg.url = q.url();
    qdrant::SyncOptions o;
    o.collection = "inc";
    o.batch_points = 50;
    o.tracks_per_step = 25;
    {
        qdrant::Client c(cfg);
        auto rep = qdrant::run_sync(cat, c, o);
        CHECK(rep.tracks_upserted == 60);
        CHECK(rep.sections_upserted == 360);
    }
    CHECK(count_points(q, "inc_sections") == 360);
    const int64_t upserted_before = q.stats()["upserted_points"].get<int64_t>();
    {
        qdrant::Client c(cfg);
        auto rep = qdrant::run_sync(cat, c, o);  // nothing changed
        CHECK(rep.changes == 0);
        CHECK(rep.tracks_upserted == 0);
        CHECK(q.stats()["upserted_points"].get<int64_t>() == upserted_before);
    }
    // Metadata of one track, a re-analysis of another (3 sections instead of 6), one removed.
    store::TrackMeta m;
    m.genres = {"drill"};
    cat.merge_metadata(5, m);  // "Artist 4 - Song 4"
    test::put_synthetic_track(cat, base, 9, 3, 1, 1);  // id 10, re-analyzed
    cat.remove_track(12);
    {
        qdrant::SyncOptions dry = o;
        dry.dry_run = true;
        std::ostringstream plan;
        dry.plan = &plan;
        const size_t log_before = q.log().size();
        qdrant::Client c(cfg);
        auto rep = qdrant::run_sync(cat, c, dry);
        CHECK(rep.tracks_upserted == 2);
        CHECK(rep.tracks_deleted == 1);
        INFO(plan.str());
        CHECK(plan.str().find("upsert track 5 Artist 4 - Song 4") != std::string::npos);
        CHECK(plan.str().find("delete track 12") != std::string::npos);
        auto log = q.log();
        for (size_t i = log_before; i < log.size(); ++i) CHECK_MESSAGE(log[i]["method"] == "GET", log[i].dump());
    }
    {
        qdrant::Client c(cfg);
        auto rep = qdrant::run_sync(cat, c, o);
        CHECK(rep.changes == 3);
        CHECK(rep.tracks_upserted == 2);
        CHECK(rep.sections_upserted == 6 + 3);
        CHECK(rep.tracks_deleted == 1);
    }
    CHECK(get_point(q, "inc", 5)["payload"]["genres"] == json::array({"drill", "pop"}));  // id 5 is track i=4
    CHECK(count_points(q, "inc_sections", json{{"must", {{{"key", "track_id"}, {"match", {{"value", 10}}}}}}}) == 3);
    CHECK(get_point(q, "inc", 12).is_null());
    CHECK(count_points(q, "inc_sections", json{{"must", {{{"key", "track_id"}, {"match", {{"value", 12}}}}}}}) == 0);
    CHECK(count_points(q, "inc") == 59);
    CHECK(count_points(q, "inc_sections") == sections_in(cat));
    // A point the catalog does not have (written behind hitdna's back) goes at the next full pass.
    auto stray = q.request("PUT", "/collections/inc/points?wait=true",
                           json{{"points", {{{"id", 9999}, {"vector", json::object()}, {"payload", {{"track_id", 9999}}}}}}}.dump());
    REQUIRE(stray["status"] == 200);
    auto stray_section = q.request("PUT", "/collections/inc_sections/points?wait=true",
                                   json{{"points", {{{"id", "0f8fad5b-d9cb-469f-a165-70867728950e"},
                                                     {"vector", {{"section", std::vector<float>(dna::dimensions(dna::Space::sections).size(), 0.5f)}}},
                                                     {"payload", {{"track_id", 9999}}}}}}}.dump());
    REQUIRE(stray_section["status"] == 200);
    {
        qdrant::SyncOptions full = o;
        full.full = true;
        qdrant::Client c(cfg);
        auto rep = qdrant::run_sync(cat, c, full);
        CHECK(rep.tracks_upserted == 59);
        CHECK(rep.stale_deleted == 1);
    }
    CHECK(count_points(q, "inc") == 59);
    CHECK(count_points(q, "inc_sections") == sections_in(cat));  // the stray section went too
    no_violations(q);
    // Another catalog may not write into this collection.
    store::Catalog other(dir.file("other.db"), store::Catalog::Mode::read_write);
    test::put_synthetic_track(other, base, 0, 2, 9);
    qdrant::Client c(cfg);
    CHECK_THROWS_WITH_AS(qdrant::run_sync(other, c, o), doctest::Contains("mirrors another catalog"), Error);
}

TEST_CASE("qdrant: a sync killed half-way resumes without re-sending what landed") {
    test::FakeQdrant q;
    test::TempDir dir;
    const std::string db = dir.file("k.db");
    {
        store::Catalog cat(db, store::Catalog::Mode::read_write);
        cat.set_durable_commits(false);  // fixture speed only
        const auto base = test::tone_dna();
        for (int i = 0; i < 2000; ++i) test::put_synthetic_track(cat, base, i, 4, 2);
    }
    // Each upsert answers after 20 ms, so that the kill lands in the middle.
    q.script(json::array({{{"method", "PUT"}, {"path_regex", "/points$"}, {"delay_s", 0.02}, {"times", 100000}, {"passthrough", true}}}));
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        execl(HITDNA_BIN, HITDNA_BIN, "sync", "qdrant", "--url", q.url().c_str(), "--collection", "kill", "--db", db.c_str(), "--batch-points", "64",
              "--progress", "never", (char*)nullptr);
        _exit(127);
    }
    // Kill -9 once about half of the track points have landed.
    for (int i = 0; i < 600; ++i) {
        auto st = q.stats();
        if (st["collections"].contains("kill") && st["collections"]["kill"]["points"].get<int64_t>() >= 1000) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    REQUIRE(WIFSIGNALED(status));
    const int64_t landed = q.stats()["collections"]["kill"]["points"].get<int64_t>();
    INFO("track points before the kill: " << landed);
    CHECK(landed >= 1000);
    CHECK(landed < 2000);
    q.script(json::array());
    auto r = test::run({"sync", "qdrant", "--url", q.url(), "--collection", "kill", "--db", db, "--batch-points", "64", "-f", "json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto rep = json::parse(r.out);
    // It starts after the last step that landed (resumed = that step was in flight).
    CHECK(rep["changes"].get<int64_t>() <= 2000 - landed + 256);
    // Only the rest is sent: track points that landed before the kill are not sent again.
    CHECK(rep["tracks_upserted"].get<int64_t>() + rep["already_landed"].get<int64_t>() <= 2000 - landed + 256);
    CHECK(rep["tracks_upserted"].get<int64_t>() <= 2000 - landed);
    auto st = q.stats();
    CHECK(st["collections"]["kill"]["points"] == 2000);
    CHECK(st["collections"]["kill_sections"]["points"] == 8000);
    CHECK(st["upserts_per_id_max"].get<int64_t>() <= 2);
    no_violations(q);
    // The catalog is intact and a further sync has nothing to do.
    CHECK(test::run({"db", "verify", "--db", db}).exit_code == 0);
    r = test::run({"sync", "qdrant", "--url", q.url(), "--collection", "kill", "--db", db, "-f", "json"});
    REQUIRE(r.exit_code == 0);
    CHECK(json::parse(r.out)["changes"] == 0);
}

TEST_CASE("qdrant: retries on 429/503/408 honouring Retry-After, one-line errors for every envelope, api-key, byte-capped batches") {
    test::TempDir dir;
    const std::string db = dir.file("e.db");
    {
        store::Catalog cat(db, store::Catalog::Mode::read_write);
        const auto base = test::tone_dna();
        for (int i = 0; i < 40; ++i) test::put_synthetic_track(cat, base, i, 5, 3);
    }
    SUBCASE("api key: plain-text 401 without it, the key never printed, accepted in the api-key header") {
        test::FakeQdrant q({"--api-key", "s3cret-key"});
        auto r = test::sh("QDRANT_API_KEY= '" + std::string(HITDNA_BIN) + "' sync qdrant --url " + q.url() + " --db '" + db + "'");
        CHECK(r.exit_code == 7);
        CHECK(r.err.find("401 unauthorized") != std::string::npos);
        CHECK(r.err.find("QDRANT_API_KEY") != std::string::npos);
        CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
        r = test::sh("QDRANT_API_KEY=wrong '" + std::string(HITDNA_BIN) + "' sync qdrant --url " + q.url() + " --db '" + db + "'");
        CHECK(r.exit_code == 7);
        CHECK(r.err.find("Invalid API key") != std::string::npos);
        CHECK(r.err.find("wrong") == std::string::npos);
        r = test::sh("QDRANT_API_KEY=s3cret-key '" + std::string(HITDNA_BIN) + "' sync qdrant --url " + q.url() + " --db '" + db + "'");
        INFO(r.err);
        CHECK(r.exit_code == 0);
        CHECK(r.err.find("s3cret") == std::string::npos);
        no_violations(q);
    }
    SUBCASE("429 with Retry-After, then 503 and 408: waits and succeeds") {
        test::FakeQdrant q;
        q.script(json::array({{{"method", "PUT"}, {"path_regex", "/points$"}, {"status", 429}, {"headers", {{"Retry-After", "1"}}},
                               {"body", R"({"status":{"error":"Rate limiting exceeded: Write rate limit exceeded"},"time":0.0})"}},
                              {{"method", "PUT"}, {"path_regex", "/points$"}, {"status", 503}, {"body", R"({"status":{"error":"Shard temporarily unavailable: x"},"time":0.0})"}},
                              {{"method", "PUT"}, {"path_regex", "/points$"}, {"status", 408}, {"body", R"({"status":{"error":"Timeout: y"},"time":0.0})"}}}));
        const auto t0 = std::chrono::steady_clock::now();
        auto r = test::run({"sync", "qdrant", "--url", q.url(), "--db", db, "-f", "json"});
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        CHECK(json::parse(r.out)["retries"] == 3);
        CHECK(s >= 1.0);
        CHECK(count_points(q, "hitdna") == 40);
        no_violations(q);
    }
    SUBCASE("error envelopes: 400 JSON, 500 not retried, HTML 502 from a proxy; exit 7 with one line") {
        test::FakeQdrant q;
        q.script(json::array({{{"method", "PUT"}, {"path_regex", "/points$"}, {"status", 400},
                               {"body", R"({"status":{"error":"Wrong input: Vector dimension error: expected dim: 28, got 3"},"time":0.001})"}}}));
        auto r = test::run({"sync", "qdrant", "--url", q.url(), "--db", db});
        CHECK(r.exit_code == 7);
        CHECK(r.err.find("Qdrant: PUT /collections/hitdna_sections/points: 400 Wrong input: Vector dimension error") != std::string::npos);
        CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
        q.script(json::array({{{"method", "PUT"}, {"path_regex", "/points$"}, {"status", 500}, {"body", R"({"status":{"error":"Service internal error: boom"},"time":0.0})"}}}));
        r = test::run({"sync", "qdrant", "--url", q.url(), "--db", db, "-f", "json"});
        CHECK(r.exit_code == 7);
        CHECK(r.err.find("500 Service internal error: boom") != std::string::npos);
        q.script(json::array({{{"method", "PUT"}, {"path_regex", "/points$"}, {"status", 502}, {"content_type", "text/html"}, {"times", 10},
                               {"body", "<html><body><h1>502 Bad Gateway</h1>\n<p>nginx</p></body></html>"}}}));
        r = test::run({"sync", "qdrant", "--url", q.url(), "--db", db});
        CHECK(r.exit_code == 7);
        CHECK(r.err.find("502 502 Bad Gateway") != std::string::npos);
        CHECK(r.err.find("<h1>") == std::string::npos);
        CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
        // After the failures, a clean run completes the mirror.
        q.script(json::array());
        r = test::run({"sync", "qdrant", "--url", q.url(), "--db", db});
        CHECK(r.exit_code == 0);
        CHECK(count_points(q, "hitdna") == 40);
        no_violations(q);
    }
    SUBCASE("no server: exit 6 at once; a server that stops answering: timeout after retries, exit 6") {
        auto r = test::run({"sync", "qdrant", "--url", "http://127.0.0.1:9", "--db", db});
        CHECK(r.exit_code == 6);
        CHECK(r.err.find("is Qdrant running there?") != std::string::npos);
        test::FakeQdrant q;
        q.script(json::array({{{"method", "PUT"}, {"path_regex", "/points$"}, {"delay_s", 3}, {"times", 10}, {"passthrough", true}}}));
        r = test::run({"sync", "qdrant", "--url", q.url(), "--db", db, "--timeout", "1", "--retries", "1"});
        CHECK(r.exit_code == 6);
        CHECK(r.err.find("no complete answer") != std::string::npos);
    }
    SUBCASE("batches stay under --batch-bytes and --batch-points") {
        test::FakeQdrant q;
        auto r = test::run({"sync", "qdrant", "--url", q.url(), "--db", db, "--batch-bytes", "20000", "--batch-points", "7", "-f", "json"});
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        auto st = q.stats();
        CHECK(st["max_body_bytes"].get<int64_t>() <= 20000);
        for (const auto& e : q.log())
            if (e["method"] == "PUT" && e["path"].get<std::string>().find("/points") != std::string::npos) CHECK(e["points"].get<int>() <= 7);
        CHECK(count_points(q, "hitdna_sections") == 200);
        no_violations(q);
    }
}

TEST_CASE("qdrant: tracks that landed in an interrupted step are not sent again") {
    test::FakeQdrant q;
    test::TempDir dir;
    store::Catalog cat(dir.file("r.db"), store::Catalog::Mode::read_write);
    const auto base = test::tone_dna();
    for (int i = 0; i < 20; ++i) test::put_synthetic_track(cat, base, i, 3, 4);
    qdrant::Config cfg;
    cfg.url = q.url();
    qdrant::SyncOptions o;
    o.collection = "step";
    {
        qdrant::Client c(cfg);
        qdrant::run_sync(cat, c, o);
    }
    store::TrackMeta m;
    m.tags = {"remastered"};
    for (int64_t id : {2, 4, 6, 8, 10}) cat.merge_metadata(id, m);
    cat.remove_track(15);
    // The step's last request (deleting the removed track) is refused: section and track
    // points of the five changed tracks have landed, the cursor has not moved.
    q.script(json::array({{{"method", "POST"}, {"path_regex", "^/collections/step/points/delete$"}, {"status", 400},
                           {"body", R"({"status":{"error":"Bad request: scripted"},"time":0.0})"}}}));
    {
        qdrant::Client c(cfg);
        CHECK_THROWS_WITH_AS(qdrant::run_sync(cat, c, o), doctest::Contains("400 Bad request: scripted"), qdrant::QdrantError);
    }
    const int64_t upserted = q.stats()["upserted_points"].get<int64_t>();
    qdrant::Client c(cfg);
    auto rep = qdrant::run_sync(cat, c, o);
    CHECK(rep.resumed);
    CHECK(rep.already_landed == 5);
    CHECK(rep.tracks_upserted == 0);
    CHECK(rep.sections_upserted == 0);
    CHECK(rep.tracks_deleted == 1);
    CHECK(q.stats()["upserted_points"].get<int64_t>() == upserted);
    CHECK(get_point(q, "step", 4)["payload"]["tags"] == json::array({"remastered"}));
    CHECK(get_point(q, "step", 15).is_null());
    CHECK(count_points(q, "step") == 19);
    // A --full pass that stops after deleting a step's old sections (their upsert refused):
    // the tracks' points still carry their generation, but not this pass's id, so the next
    // run sends them again rather than taking them for landed.
    q.script(json::array({{{"method", "PUT"}, {"path_regex", "^/collections/step_sections/points$"}, {"status", 400},
                           {"body", R"({"status":{"error":"Bad request: scripted"},"time":0.0})"}}}));
    {
        qdrant::SyncOptions full = o;
        full.full = true;
        qdrant::Client c2(cfg);
        CHECK_THROWS_AS(qdrant::run_sync(cat, c2, full), qdrant::QdrantError);
    }
    CHECK(count_points(q, "step_sections") == 0);
    {
        qdrant::Client c2(cfg);
        auto again = qdrant::run_sync(cat, c2, o);
        CHECK(again.resumed);
        CHECK(again.already_landed == 0);
        CHECK(again.tracks_upserted == 19);
    }
    CHECK(count_points(q, "step_sections") == sections_in(cat));
    no_violations(q);
}

TEST_CASE("qdrant: a catalog restored from an older backup makes the next sync a full pass that removes what it never had") {
    test::FakeQdrant q;
    test::TempDir dir;
    const std::string db = dir.file("b.db"), backup = dir.file("backup.db");
    const auto base = test::tone_dna();
    qdrant::Config cfg;
    cfg.url = q.url();
    qdrant::SyncOptions o;
    o.collection = "bak";
    {
        store::Catalog cat(db, store::Catalog::Mode::read_write);
        for (int i = 0; i < 10; ++i) test::put_synthetic_track(cat, base, i, 2, 5);
        qdrant::Client c(cfg);
        qdrant::run_sync(cat, c, o);
    }
    fs::copy_file(db, backup);  // closed: the WAL is checkpointed
    {
        store::Catalog cat(db, store::Catalog::Mode::read_write);
        for (int i = 10; i < 15; ++i) test::put_synthetic_track(cat, base, i, 2, 5);
        qdrant::Client c(cfg);
        qdrant::run_sync(cat, c, o);
    }
    CHECK(count_points(q, "bak") == 15);
    store::Catalog restored(backup, store::Catalog::Mode::read_write);
    qdrant::Client c(cfg);
    auto rep = qdrant::run_sync(restored, c, o);
    CHECK(rep.full);
    CHECK(rep.stale_deleted == 5);
    CHECK(count_points(q, "bak") == 10);
    CHECK(count_points(q, "bak_sections") == 20);
    no_violations(q);
}
