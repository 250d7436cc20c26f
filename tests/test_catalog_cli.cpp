// End-to-end: ingest, match, index and db through the hitdna binary, including kill -9,
// concurrent writers, a full disk, a bad database path and damaged index files.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "helpers.hpp"
#include "signals.hpp"
#include "synthetic.hpp"

using namespace hitdna;
namespace fs = std::filesystem;

namespace {

// Writes `n` distinct toy songs as "Artist V - Song V.wav" into dir.
void make_songs(const std::string& dir, int first, int n, double seconds) {
    fs::create_directories(dir);
    for (int v = first; v < first + n; ++v)
        test::write_audio(dir + "/Artist " + std::to_string(v) + " - Song " + std::to_string(v) + ".wav", test::toy_song(v, seconds));
}

int64_t tracks_in(const std::string& db) {
    auto r = test::run({"db", "stats", "--json", "--db", db});
    REQUIRE(r.exit_code == 0);
    return nlohmann::json::parse(r.out)["tracks"].get<int64_t>();
}

}  // namespace

TEST_CASE("cli: ingest a folder, match an excerpt to its song, idempotent rerun") {
    test::TempDir dir;
    make_songs(dir.file("music"), 0, 6, 40);
    const std::string db = dir.file("cat/h.db");
    auto r = test::run({"ingest", dir.file("music"), "--db", db, "--genre", "Test", "--json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto j = nlohmann::json::parse(r.out);
    CHECK(j["added"] == 6);
    CHECK(r.err.find("6 added") != std::string::npos);
    // The same files again: nothing analyzed twice.
    r = test::run({"ingest", dir.file("music"), "--db", db, "--json"});
    REQUIRE(r.exit_code == 0);
    j = nlohmann::json::parse(r.out);
    CHECK(j["added"] == 0);
    CHECK(j["known"] == 6);
    CHECK(tracks_in(db) == 6);
    // A 15 s excerpt of song 3 from its middle finds song 3 first, with the matched section.
    auto s = test::toy_song(3, 40);
    test::Signal ex;
    ex.rate = s.rate;
    ex.samples.assign(s.samples.begin() + long(12 * s.rate), s.samples.begin() + long(27 * s.rate));
    test::write_audio(dir.file("excerpt.wav"), ex);
    r = test::run({"match", "--like", dir.file("excerpt.wav"), "--db", db, "-k", "3", "--format", "jsonl"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    std::istringstream lines(r.out);
    std::string first;
    std::getline(lines, first);
    auto top = nlohmann::json::parse(first);
    CHECK(top["title"] == "Song 3");
    CHECK(top["artist"] == "Artist 3");
    CHECK(top["rank"] == 1);
    CHECK(top["score"].get<double>() > 0.5);
    CHECK(top["score"].get<double>() <= 1.0);
    CHECK(top.contains("section"));
    CHECK(top["scores"].contains("sections"));
    // --track by name excludes itself; filters hold.
    r = test::run({"match", "--track", "Artist 2 - Song 2", "--db", db, "-f", "jsonl", "--filter", "genre=test", "-k", "10"});
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("\"Song 2\"") == std::string::npos);
    CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 5);
    r = test::run({"match", "--track", "1", "--db", db, "-f", "jsonl", "--filter", "genre=rock"});
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.empty());
    // Text: words search metadata.
    r = test::run({"match", "--text", "song 4", "--db", db, "-f", "jsonl", "-k", "1"});
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("\"Song 4\"") != std::string::npos);
    // Usage errors.
    CHECK(test::run({"match", "--db", db}).exit_code == 2);
    CHECK(test::run({"match", "--track", "No Such - Song", "--db", db}).exit_code == 2);
    CHECK(test::run({"match", "--track", "1", "--filter", "colour=red", "--db", db}).exit_code == 2);
    CHECK(test::run({"db", "verify", "--db", db}).exit_code == 0);
    CHECK(test::run({"index", "verify", "--db", db}).exit_code == 0);
}

TEST_CASE("cli: chart lists, rows without audio, bad rows by line, fetch command without a shell") {
    test::TempDir dir;
    make_songs(dir.file("audio"), 10, 2, 12);
    const std::string db = dir.file("h.db");
    std::ofstream(dir.file("regional-global-weekly-2024-06-06.csv"))
        << "rank,uri,artist_names,track_name,source,peak_rank,previous_rank,weeks_on_chart,streams\n"
        << "1,spotify:track:a,Artist 10,Song 10,lbl,1,2,3,1000\n"
        << "2,spotify:track:b,\"Artist 11\",\"Song 11\",lbl,2,,1,900\n"
        << "3,spotify:track:c,Nobody,\"Missing\",lbl,3,3\n"
        << "4,spotify:track:d,$(touch " << dir.file("PWNED") << "),x; touch " << dir.file("PWNED2") << ",lbl,4,4,1,1\n";
    auto r = test::run({"ingest", "--chart", dir.file("regional-global-weekly-2024-06-06.csv"), "--audio-dir", dir.file("audio"), "--db", db});
    INFO(r.err);
    CHECK(r.exit_code == 1);  // rows skipped
    CHECK(r.err.find("regional-global-weekly-2024-06-06.csv:4: 7 columns") != std::string::npos);
    CHECK(r.err.find(":5: no audio found for '$(touch") != std::string::npos);
    CHECK(tracks_in(db) == 2);
    // A later chart week adds history to the same tracks.
    std::ofstream(dir.file("hot.csv")) << "date,rank,song,artist,last-week,peak-rank,weeks-on-board\n"
                                       << "2024-06-13,5,Song 10,Artist 10,1,1,4\n";
    r = test::run({"ingest", "--chart", dir.file("hot.csv"), "--audio-dir", dir.file("audio"), "--db", db, "--json"});
    CHECK(r.exit_code == 0);
    CHECK(nlohmann::json::parse(r.out)["known"] == 1);
    r = test::run({"match", "--track", "Artist 11 - Song 11", "--db", db, "-f", "jsonl", "--filter", "source=chart", "--filter", "peak_rank<=1"});
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("\"Song 10\"") != std::string::npos);
    // Fetch: the user's command gets each value as one argument; nothing reaches a shell.
    test::write_audio(dir.file("fetched-source.wav"), test::toy_song(12, 12));
    const std::string script = dir.file("fetch.sh");
    std::ofstream(script) << "#!/bin/sh\nprintf '%s\\n' \"$1\" > \"$3/args.txt\"\nprintf '%s\\n' \"$2\" >> \"$3/args.txt\"\ncp '"
                          << dir.file("fetched-source.wav") << "' \"$3/got.wav\"\n";
    fs::permissions(script, fs::perms::owner_all);
    r = test::run({"ingest", "--chart", dir.file("regional-global-weekly-2024-06-06.csv"), "--audio-dir", dir.file("audio"), "--db", db,
                   "--fetch-cmd", script + " {artist} {title} {out}", "--fetch-dir", dir.file("fetched"), "--json"});
    INFO(r.err);
    CHECK(r.exit_code == 1);  // the malformed row is still reported
    CHECK(nlohmann::json::parse(r.out)["fetched"] == 1);
    CHECK_FALSE(fs::exists(dir.file("PWNED")));
    CHECK_FALSE(fs::exists(dir.file("PWNED2")));
    bool found_literal = false;
    for (auto& e : fs::recursive_directory_iterator(dir.file("fetched")))
        if (e.path().filename() == "args.txt") found_literal |= test::slurp(e.path().string()).find("$(touch " + dir.file("PWNED") + ")") != std::string::npos;
    CHECK(found_literal);
    CHECK(tracks_in(db) == 3);
    // A fetch command that hangs is killed at the timeout and reported.
    r = test::run({"ingest", "--chart", dir.file("regional-global-weekly-2024-06-06.csv"), "--db", db, "--fetch-cmd", "/bin/sleep 30",
                   "--fetch-timeout", "1", "--fetch-dir", dir.file("fetched2")});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("fetch command") != std::string::npos);
    CHECK(test::run({"db", "verify", "--db", db}).exit_code == 0);
}

TEST_CASE("cli: kill -9 during ingest loses nothing, the rerun completes and verifies") {
    test::TempDir dir;
    // 30 songs: about 0.7 s of ingest on an idle 2-core machine (10 took 0.23 s once every
    // start stopped loading libfluidsynth and libcurl, and the kills landed after it).
    make_songs(dir.file("music"), 20, 30, 20);
    const std::string db = dir.file("h.db");
    int partial = 0;
    for (const char* delay : {"0.1", "0.25", "0.45", "0.8"}) {
        auto r = test::sh(std::string(HITDNA_BIN) + " ingest '" + dir.file("music") + "' --db '" + db + "' -j 1 2>/dev/null & pid=$!; sleep " + delay +
                          "; kill -9 $pid; wait $pid; exit 0");
        REQUIRE(r.exit_code == 0);
        auto v = test::run({"db", "verify", "--db", db});
        INFO(v.out);
        CHECK(v.exit_code == 0);
        if (fs::exists(db)) {
            const int64_t n = tracks_in(db);
            partial += n > 0 && n < 30;
        }
    }
    CHECK(partial > 0);  // at least one kill landed in the middle of the ingest
    auto r = test::run({"ingest", dir.file("music"), "--db", db});
    CHECK(r.exit_code == 0);
    CHECK(tracks_in(db) == 30);
    CHECK(test::run({"db", "verify", "--db", db}).exit_code == 0);
    CHECK(test::run({"index", "verify", "--db", db}).exit_code == 0);
}

TEST_CASE("cli: an ingest with nothing new still brings indexes left behind up to date (as a kill before the index update leaves them)") {
    test::TempDir dir;
    make_songs(dir.file("a"), 40, 2, 12);
    make_songs(dir.file("b"), 42, 2, 12);
    const std::string db = dir.file("h.db");
    // Tracks committed, indexes never written: what a kill between the two leaves.
    REQUIRE(test::run({"ingest", dir.file("a"), "--db", db, "--no-index"}).exit_code == 0);
    CHECK(test::run({"index", "verify", "--db", db}).exit_code == 1);
    auto r = test::run({"ingest", dir.file("a"), "--db", db});
    REQUIRE(r.exit_code == 0);
    CHECK(r.err.find("0 added") != std::string::npos);
    CHECK(test::run({"index", "verify", "--db", db}).exit_code == 0);
    // Indexes behind the catalog's rows: the rerun extends them to every row.
    REQUIRE(test::run({"ingest", dir.file("b"), "--db", db, "--no-index"}).exit_code == 0);
    REQUIRE(test::run({"ingest", dir.file("b"), "--db", db}).exit_code == 0);
    const auto v = test::run({"index", "verify", "--db", db});
    CHECK(v.exit_code == 0);
    CHECK(v.out.find("audio      ok: 4 vectors") != std::string::npos);
    CHECK(v.out.find("0 newer rows") != std::string::npos);
    CHECK(v.out.find("newer rows searched exactly") != std::string::npos);
}

TEST_CASE("cli: kill -9 during a parallel index rebuild leaves the previous index in use") {
    test::TempDir dir;
    const std::string db = dir.file("k.db");
    {
        store::Catalog cat(db, store::Catalog::Mode::read_write);
        cat.set_durable_commits(false);  // the fixture only
        const auto base = test::tone_dna();
        for (int i = 0; i < 3000; ++i) test::put_synthetic_track(cat, base, i, 8, 21);
    }
    REQUIRE(test::run({"index", "rebuild", "--db", db, "--jobs", "2"}).exit_code == 0);
    const std::string manifest = db + ".hnsw/sections.json";
    const std::string before = test::slurp(manifest);
    const auto answer = test::run({"match", "--track", "5", "--db", db, "-f", "json"});
    REQUIRE(answer.exit_code == 0);
    {
        // More tracks: a finished rebuild would write another generation.
        store::Catalog cat(db, store::Catalog::Mode::read_write);
        const auto base = test::tone_dna();
        for (int i = 3000; i < 3600; ++i) test::put_synthetic_track(cat, base, i, 8, 21);
    }
    int landed = 0;
    for (const char* delay : {"0.3", "1.0"}) {
        auto r = test::sh(std::string(HITDNA_BIN) + " index rebuild --jobs 2 --space sections --db '" + db + "' >/dev/null 2>&1 & pid=$!; sleep " + delay +
                          "; kill -9 $pid; wait $pid; exit 0");
        REQUIRE(r.exit_code == 0);
        landed += test::slurp(manifest) == before;
        // The index in use is whole: verify passes (stale, completed by an exact scan), and a
        // query answers without bypassing it.
        auto v = test::run({"index", "verify", "--space", "sections", "--db", db});
        INFO(v.out, v.err);
        CHECK(v.exit_code == 0);
        auto m = test::run({"match", "--track", "5", "--db", db, "-f", "json"});
        CHECK(m.exit_code == 0);
        CHECK(m.err.find("bypass") == std::string::npos);
    }
    CHECK(landed > 0);  // at least one kill came before the new index was committed
    REQUIRE(test::run({"index", "rebuild", "--db", db}).exit_code == 0);
    CHECK(test::slurp(manifest) != before);
    auto v = test::run({"index", "verify", "--db", db});
    INFO(v.out, v.err);
    CHECK(v.exit_code == 0);
}

TEST_CASE("cli: two ingests and queries at once, no 'database is locked', no lost rows") {
    test::TempDir dir;
    make_songs(dir.file("a"), 30, 5, 10);
    make_songs(dir.file("b"), 35, 5, 10);
    const std::string db = dir.file("h.db");
    // Seed one track so that queries have a catalog from the start.
    REQUIRE(test::run({"ingest", dir.file("a") + "/Artist 30 - Song 30.wav", "--db", db}).exit_code == 0);
    const std::string bin = HITDNA_BIN;
    auto r = test::sh(bin + " ingest '" + dir.file("a") + "' --db '" + db + "' -j 1 2>" + dir.file("e1") + " & p1=$!; " + bin + " ingest '" + dir.file("b") +
                      "' '" + dir.file("a") + "' --db '" + db + "' -j 1 2>" + dir.file("e2") + " & p2=$!; " + "q=0; fail=0; while kill -0 $p1 2>/dev/null || kill -0 $p2 2>/dev/null; do " +
                      bin + " match --track 1 --db '" + db + "' -f jsonl >/dev/null 2>>" + dir.file("eq") + " || fail=1; q=$((q+1)); done; " +
                      "wait $p1; r1=$?; wait $p2; r2=$?; echo $r1 $r2 $fail $q");
    INFO(r.out, test::slurp(dir.file("e1")), test::slurp(dir.file("e2")), test::slurp(dir.file("eq")));
    std::istringstream in(r.out);
    int r1 = -1, r2 = -1, fail = -1, queries = 0;
    in >> r1 >> r2 >> fail >> queries;
    CHECK(r1 == 0);
    CHECK(r2 == 0);
    CHECK(fail == 0);
    CHECK(queries > 0);
    const std::string errs = test::slurp(dir.file("e1")) + test::slurp(dir.file("e2")) + test::slurp(dir.file("eq"));
    CHECK(errs.find("locked") == std::string::npos);
    CHECK(tracks_in(db) == 10);
    CHECK(test::run({"db", "verify", "--db", db}).exit_code == 0);
}

TEST_CASE("cli: a full disk and a bad database path give clean errors, the database still verifies") {
    test::TempDir dir;
    make_songs(dir.file("m"), 40, 6, 20);
    const std::string db = dir.file("h.db");
    REQUIRE(test::run({"ingest", dir.file("m") + "/Artist 40 - Song 40.wav", "--db", db}).exit_code == 0);
    const auto before = fs::file_size(db);
    // Files may not grow past ~the current size: SQLite's writes fail as on a full disk
    // (SIGXFSZ ignored, so write() returns EFBIG instead of killing the process).
    auto r = test::sh("trap '' XFSZ; ulimit -f " + std::to_string(before / 512 + 8) + "; exec " + HITDNA_BIN + " ingest '" + dir.file("m") + "' --db '" + db + "' -j 1");
    INFO(r.err);
    CHECK(r.exit_code == 5);
    CHECK(r.err.find(db) != std::string::npos);
    CHECK(test::run({"db", "verify", "--db", db}).exit_code == 0);
    r = test::run({"ingest", dir.file("m"), "--db", db});
    CHECK(r.exit_code == 0);
    CHECK(tracks_in(db) == 6);
    CHECK(test::run({"db", "verify", "--db", db}).exit_code == 0);
    // A database path under a regular file cannot be created.
    std::ofstream(dir.file("plain")) << "x";
    r = test::run({"ingest", dir.file("m"), "--db", dir.file("plain/sub/h.db")});
    CHECK(r.exit_code == 5);
    CHECK(r.err.find("plain/sub/h.db") != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    // Not a database at all.
    r = test::run({"db", "stats", "--db", dir.file("plain")});
    CHECK(r.exit_code == 5);
    r = test::run({"match", "--track", "1", "--db", dir.file("none.db")});
    CHECK(r.exit_code == 5);
    CHECK(r.err.find("no database") != std::string::npos);
}

TEST_CASE("cli: damaged or deleted index files are bypassed with a warning, verify fails, rebuild repairs") {
    test::TempDir dir;
    make_songs(dir.file("m"), 50, 4, 16);
    const std::string db = dir.file("h.db");
    REQUIRE(test::run({"ingest", dir.file("m"), "--db", db}).exit_code == 0);
    auto good = test::run({"match", "--track", "2", "--db", db, "-f", "jsonl"});
    REQUIRE(good.exit_code == 0);
    for (auto& e : fs::directory_iterator(db + ".hnsw"))
        if (e.path().extension() == ".hnsw") std::ofstream(e.path(), std::ios::trunc) << "garbage";
    auto r = test::run({"match", "--track", "2", "--db", db, "-f", "jsonl"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == good.out);
    CHECK(r.err.find("warning") != std::string::npos);
    CHECK(test::run({"index", "verify", "--db", db}).exit_code == 1);
    CHECK(test::run({"index", "rebuild", "--db", db}).exit_code == 0);
    CHECK(test::run({"index", "verify", "--db", db}).exit_code == 0);
    fs::remove_all(db + ".hnsw");
    r = test::run({"match", "--track", "2", "--db", db, "-f", "jsonl"});
    CHECK(r.exit_code == 0);
    CHECK(r.out == good.out);
}

TEST_CASE("man pages document every flag of every subcommand's --help") {
    // Every subcommand hitdna --help lists has a page here (analyze's flags are checked in test_cli).
    const auto top = test::run({"--help"});
    std::set<std::string> listed;
    std::regex sub_re("\n  ([a-z]+) {2,}");
    for (auto it = std::sregex_iterator(top.out.begin(), top.out.end(), sub_re); it != std::sregex_iterator(); ++it) listed.insert((*it)[1]);
    CHECK(listed.size() >= 17);
    const std::set<std::string> checked = {"analyze", "ingest", "match", "index", "db", "enrich", "sketch", "generate", "validate", "feedback",
                                           "learn", "weights", "score", "sync", "plot", "report", "export"};
    for (const auto& s : listed) CHECK_MESSAGE(checked.count(s), "hitdna " << s << " has no man page check");
    for (const char* sub : {"ingest", "match", "index", "db", "enrich", "sketch", "generate", "validate", "feedback", "learn", "weights", "score", "sync", "plot", "report", "export"}) {
        const auto man = test::slurp(std::string(HITDNA_SOURCE_DIR) + "/man/hitdna-" + sub + ".1");
        REQUIRE_MESSAGE(!man.empty(), "missing man/hitdna-" << std::string(sub) << ".1");
        std::vector<std::vector<std::string>> helps = {{sub, "--help"}};
        if (std::string(sub) == "index") helps = {{sub, "rebuild", "--help"}, {sub, "verify", "--help"}};
        if (std::string(sub) == "db") helps = {{sub, "stats", "--help"}, {sub, "verify", "--help"}, {sub, "remove", "--help"}};
        if (std::string(sub) == "sync") helps = {{sub, "qdrant", "--help"}};
        for (auto& h : helps) {
            auto help = test::run(h);
            REQUIRE(help.exit_code == 0);
            std::regex flag_re("(^|[ ,])(--[a-z][a-z-]+)");
            std::set<std::string> flags;
            for (auto it = std::sregex_iterator(help.out.begin(), help.out.end(), flag_re); it != std::sregex_iterator(); ++it) flags.insert((*it)[2]);
            CHECK(flags.size() >= 2);
            for (const auto& f : flags) {
                if (f == "--help") continue;
                std::string escaped;
                for (char c : f) escaped += c == '-' ? std::string("\\-") : std::string(1, c);
                CHECK_MESSAGE((man.find(escaped) != std::string::npos || man.find(f) != std::string::npos), "man/hitdna-" << std::string(sub) << ".1 lacks " << f);
            }
        }
    }
}
