// The output convention: every subcommand's --help offers -f/--format, and every machine format
// it offers comes out parseable (json: one document; jsonl: one object per line; csv: RFC 4180
// records, all as long as the header).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "hitdna/analysis/analyze.hpp"
#include "hitdna/core/error.hpp"
#include "hitdna/core/files.hpp"
#include "hitdna/learn/engagement.hpp"
#include "hitdna/learn/model.hpp"
#include "hitdna/store/catalog.hpp"
#include "hitdna/store/engagement.hpp"
#include "helpers.hpp"
#include "population.hpp"
#include "signals.hpp"

using namespace hitdna;

namespace {

// RFC 4180 records of `text`; fails the test on a malformed record (a bare quote inside an
// unquoted field, an unterminated quote, a record that does not end in CRLF).
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> row;
    std::string field;
    size_t i = 0;
    while (i < text.size()) {
        if (text[i] == '"') {
            ++i;
            for (;;) {
                REQUIRE_MESSAGE(i < text.size(), "unterminated quoted field");
                if (text[i] == '"') {
                    if (i + 1 < text.size() && text[i + 1] == '"') {
                        field += '"';
                        i += 2;
                        continue;
                    }
                    ++i;
                    break;
                }
                field += text[i++];
            }
        } else {
            while (i < text.size() && text[i] != ',' && text[i] != '\r' && text[i] != '\n') {
                REQUIRE_MESSAGE(text[i] != '"', "a quote inside an unquoted field");
                field += text[i++];
            }
        }
        REQUIRE_MESSAGE(i < text.size(), "the last record lacks its CRLF");
        row.push_back(field);
        field.clear();
        if (text[i] == ',') {
            ++i;
            continue;
        }
        REQUIRE_MESSAGE(text.compare(i, 2, "\r\n") == 0, "a record ends without CRLF");
        i += 2;
        rows.push_back(row);
        row.clear();
    }
    return rows;
}

// Runs `args` with each machine format and checks that stdout parses as that format; returns
// the outputs by format.
std::map<std::string, std::string> check_formats(std::vector<std::string> args, const std::vector<std::string>& formats, std::vector<int> rcs = {0}) {
    std::map<std::string, std::string> out;
    for (const auto& f : formats) {
        auto a = args;
        a.push_back("-f");
        a.push_back(f);
        auto r = test::run(a);
        std::string cmd;
        for (const auto& x : a) cmd += x + " ";
        INFO(cmd << "\nstderr: " << r.err);
        REQUIRE(std::find(rcs.begin(), rcs.end(), r.exit_code) != rcs.end());
        REQUIRE_FALSE(r.out.empty());
        if (f == "json") {
            CHECK(nlohmann::json::accept(r.out));
        } else if (f == "jsonl") {
            std::istringstream lines(r.out);
            std::string line;
            int n = 0;
            while (std::getline(lines, line)) {
                CHECK(nlohmann::json::accept(line));
                ++n;
            }
            CHECK(n >= 1);
        } else if (f == "csv") {
            auto rows = parse_csv(r.out);
            REQUIRE(rows.size() >= 2);
            for (const auto& row : rows) CHECK(row.size() == rows[0].size());
        }
        out[f] = r.out;
    }
    return out;
}

}  // namespace

TEST_CASE("output convention: every subcommand's --help offers -f/--format") {
    const std::vector<std::vector<std::string>> helps = {
        {"analyze"}, {"ingest"}, {"match"}, {"enrich"}, {"generate"}, {"validate"}, {"feedback"}, {"learn"}, {"weights"}, {"score"},
        {"db", "stats"}, {"db", "verify"}, {"db", "remove"}, {"index", "rebuild"}, {"index", "verify"}, {"sync", "qdrant"}, {"export"}};
    for (auto h : helps) {
        h.push_back("--help");
        auto r = test::run(h);
        INFO(h[0] << " " << h[1]);
        CHECK(r.exit_code == 0);
        CHECK(r.out.find("-f,--format") != std::string::npos);
        CHECK(r.out.find(h[0] == "export" ? "(default: csv)" : "(default: text") != std::string::npos);
        CHECK(r.out.find("--json") == std::string::npos);  // the old flag is hidden
    }
    // plot and report write files, not results: no format.
    for (const char* sub : {"plot", "report"}) CHECK(test::run({sub, "--help"}).exit_code == 0);
    // A format a subcommand does not offer is a usage error that names it.
    auto r = test::run({"db", "stats", "-f", "jsonl"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("jsonl") != std::string::npos);
}

TEST_CASE("output convention: every machine format of every subcommand parses") {
    test::TempDir dir;
    const std::string db = dir.file("h.db");
    // 40 catalog tracks with engagement, so that learn, weights and score have a model.
    {
        store::Catalog cat(db, store::Catalog::Mode::read_write);
        auto s = test::toy_song(2, 10);
        const auto base = analysis::analyze_samples(s.samples.data(), s.frames(), s.rate, s.channels, "s");
        uint32_t st = 5;
        std::vector<learn::Event> events;
        for (int i = 0; i < 40; ++i) {
            dna::Dna d = base;
            const double y = test::draw_engaged_vectors(d, st);
            store::TrackMeta m;
            m.title = "Song, \"" + std::to_string(i) + "\"";  // a comma and quotes for the CSV writers
            m.artist = "Band";
            m.genres = {"rock", "pop"};
            const int64_t id = cat.put_track("h" + std::to_string(i), "/s" + std::to_string(i), m, d);
            events.push_back(test::engagement_event("e" + std::to_string(i), id, y));
        }
        learn::apply_events(cat, events, {});
    }
    const std::string wav = dir.file("x.wav");
    test::write_audio(wav, test::toy_song(4, 12));

    check_formats({"analyze", wav}, {"json", "jsonl"});
    check_formats({"learn", "--db", db}, {"json"});
    check_formats({"weights", "--db", db}, {"json", "csv"});
    auto score = check_formats({"score", wav, "--db", db}, {"json", "jsonl", "csv"});
    CHECK(nlohmann::json::parse(score["json"]).is_array());
    auto match = check_formats({"match", "--track", "1", "-k", "3", "--db", db}, {"json", "jsonl", "csv"});
    const auto rows = parse_csv(match["csv"]);
    REQUIRE(rows.size() == 4);
    CHECK(rows[0][0] == "rank");
    CHECK(rows[1][4].find("Song, \"") == 0);  // the title with its comma and quotes, read back whole
    check_formats({"db", "stats", "--db", db}, {"json", "csv"});
    check_formats({"db", "verify", "--db", db}, {"json"});
    check_formats({"index", "rebuild", "--db", db}, {"json", "jsonl"});
    check_formats({"index", "verify", "--db", db}, {"json", "jsonl"});
    check_formats({"feedback", "1", "--plays", "10", "--db", db}, {"json"});
    auto target = check_formats({"enrich", "dark club track, 2 minutes", "--db", db}, {"json"});
    {
        std::ofstream(dir.file("target.json")) << target["json"];
    }
    // validate and generate exit 1 when the audio misses the target: the output is still a result.
    check_formats({"validate", wav, "--target", dir.file("target.json")}, {"json"}, {0, 1});
    check_formats({"ingest", wav, "--db", db}, {"json"});
    check_formats({"generate", "--target", dir.file("target.json"), "--backend", "local", "-o", dir.file("g.wav"), "--no-record", "--db", db}, {"json"}, {0, 1});
    auto exported = check_formats({"export", "--db", db}, {"csv", "jsonl"});
    check_formats({"export", "--sections", "--db", db}, {"csv", "jsonl"});
    check_formats({"export", "--db", db}, {"jams"});  // one JAMS document per line: JSON Lines
    {
        // Every track once, the header first, every row as wide as the header; the jsonl rows
        // carry the same values (numbers as numbers).
        const auto table = parse_csv(exported["csv"]);
        REQUIRE(table.size() == 42);  // 41 tracks (40 + the ingested file) + header
        const auto& h = table[0];
        const auto col = [&](const std::string& name) { return size_t(std::find(h.begin(), h.end(), name) - h.begin()); };
        REQUIRE(col("audio_rhythm_groove") < h.size());
        REQUIRE(col("title") < h.size());
        std::istringstream lines(exported["jsonl"]);
        std::string line;
        std::getline(lines, line);
        const auto first = nlohmann::json::parse(line);
        CHECK(table[1][col("title")] == first["title"].get<std::string>());
        CHECK(std::stod(table[1][col("audio_rhythm_groove")]) == doctest::Approx(first["audio_rhythm_groove"].get<double>()));
        CHECK(first["title"].get<std::string>().find("Song, \"") == 0);
    }
    check_formats({"db", "remove", "2", "--db", db}, {"json"});
    // The old flag still works for one release, as its old meaning.
    auto r = test::run({"score", wav, "--db", db, "--json"});
    REQUIRE(r.exit_code == 0);
    CHECK(nlohmann::json::parse(r.out)["file"] == wav);
}

TEST_CASE("analyze -f jams: valid against the JAMS schema and namespaces; mir_eval scores its beats and boundaries against a built truth") {
    // 40 s at 120 BPM: clicks on every beat from 0.1 s; A minor in a low register for 20 s,
    // then F major an octave up and louder. The truth is the construction: beats every 0.5 s,
    // one boundary at 20 s.
    test::TempDir dir;
    auto s = test::click_track(120, 40, 22050);
    for (int bar = 0; bar < 20; ++bar) {
        const double t0 = bar * 2.0 + 0.1;
        if (t0 < 20) test::add_notes(s.samples, s.rate, t0, std::min(20.0, t0 + 1.9), {45, 57, 60, 64}, 0.04f);
        else test::add_notes(s.samples, s.rate, t0, std::min(40.0, t0 + 1.9), {65, 69, 72, 77}, 0.08f);
    }
    const std::string wav = dir.file("two-parts.wav");
    test::write_audio(wav, s);
    nlohmann::json truth;
    for (double t = 0.1; t < 40; t += 0.5) truth["beats_s"].push_back(t);
    truth["boundaries_s"] = {0.0, 20.0, 40.0};
    std::ofstream(dir.file("truth.json")) << truth.dump();
    auto r = test::run({"analyze", "-f", "jams", wav});
    REQUIRE(r.exit_code == 0);
    std::ofstream(dir.file("out.jams")) << r.out;
    const auto doc = nlohmann::json::parse(r.out);
    std::set<std::string> namespaces;
    for (const auto& a : doc["annotations"]) namespaces.insert(a["namespace"].get<std::string>());
    for (const char* ns : {"beat", "tempo", "key_mode", "chord", "segment_open", "segment_salami_function"}) CHECK(namespaces.count(ns) == 1);
    auto check = test::sh("/usr/bin/python3 " + std::string(HITDNA_SOURCE_DIR) + "/tests/jams_check.py " + std::string(HITDNA_SOURCE_DIR) + "/data/jams " +
                          dir.file("out.jams") + " " + dir.file("truth.json"));
    INFO(check.out << check.err);
    REQUIRE(check.exit_code == 0);
    const auto score = nlohmann::json::parse(check.out);
    CHECK(score["valid"] == true);
    MESSAGE("mir_eval: " << check.out);
    CHECK(score["beat_f"].get<double>() >= 0.95);
    CHECK(score["boundary_recall"].get<double>() == 1.0);  // the boundary at 20 s, within 3 s
    CHECK(score["boundary_f"].get<double>() >= 0.66);
    // A document that breaks a namespace fails the check (the validator is not a no-op).
    auto bad = doc;
    bad["annotations"][0]["namespace"] = "key_mode";
    bad["annotations"][0]["data"][0]["value"] = "H:minor";
    std::ofstream(dir.file("bad.jams")) << bad.dump();
    auto rejected = test::sh("/usr/bin/python3 " + std::string(HITDNA_SOURCE_DIR) + "/tests/jams_check.py " + std::string(HITDNA_SOURCE_DIR) + "/data/jams " +
                             dir.file("bad.jams"));
    CHECK(rejected.exit_code == 1);
}

TEST_CASE("export: filtered track and section rows with the DNA's scalars, and JAMS documents that validate") {
    test::TempDir dir;
    const std::string db = dir.file("h.db");
    for (int v : {1, 2, 3}) test::write_audio(dir.file("Band - Song " + std::to_string(v) + ".wav"), test::toy_song(v, 24));
    REQUIRE(test::run({"ingest", dir.file("Band - Song 1.wav"), dir.file("Band - Song 2.wav"), "--genre", "rock", "--progress", "never", "--db", db}).exit_code == 0);
    REQUIRE(test::run({"ingest", dir.file("Band - Song 3.wav"), "--genre", "jazz", "--progress", "never", "--db", db}).exit_code == 0);
    auto r = test::run({"export", "--filter", "genre=rock", "--db", db});
    REQUIRE(r.exit_code == 0);
    CHECK(r.err.find("2 tracks") != std::string::npos);
    const auto rows = parse_csv(r.out);
    REQUIRE(rows.size() == 3);
    // The header is the documented column list.
    auto cols = test::run({"export", "--list-columns"});
    std::vector<std::string> listed;
    std::istringstream ls(cols.out);
    for (std::string c; std::getline(ls, c);) listed.push_back(c);
    CHECK(rows[0] == listed);
    // ... and every column is documented in the man page.
    const auto man = test::slurp(std::string(HITDNA_SOURCE_DIR) + "/man/hitdna-export.1");
    for (const auto& c : listed) {
        std::string escaped;
        for (char ch : c) escaped += ch == '-' ? std::string("\\-") : std::string(1, ch);
        CHECK_MESSAGE(man.find(escaped) != std::string::npos, "man/hitdna-export.1 lacks " << c);
    }
    // Values are the catalog's: tempo and key as stored, a DNA scalar as in the stored DNA JSON.
    store::Catalog cat(db, store::Catalog::Mode::read_only);
    const auto col = [&](const std::string& name) { return size_t(std::find(rows[0].begin(), rows[0].end(), name) - rows[0].begin()); };
    for (size_t i = 1; i < rows.size(); ++i) {
        const auto t = cat.track(std::stoll(rows[i][col("id")]));
        REQUIRE(t);
        CHECK(rows[i][col("genres")] == "rock");
        CHECK(rows[i][col("key")] == t->key);
        if (t->bpm) CHECK(std::stod(rows[i][col("tempo_bpm")]) == doctest::Approx(*t->bpm));
        const auto d = nlohmann::json::parse(cat.dna_json(t->id));
        CHECK(std::stod(rows[i][col("emotion_valence")]) == doctest::Approx(d["emotion"]["valence"].get<double>()));
        CHECK(rows[i][col("production_compression")] == d["production"]["compression"].get<std::string>());
    }
    // One row per section, as many as the catalog holds.
    r = test::run({"export", "--sections", "--db", db});
    REQUIRE(r.exit_code == 0);
    CHECK(parse_csv(r.out).size() == size_t(cat.catalog_stats().sections) + 1);
    // JAMS: one document per track, each valid against the schema and namespaces.
    r = test::run({"export", "-f", "jams", "-o", dir.file("all.jamsl"), "--db", db});
    REQUIRE(r.exit_code == 0);
    std::ifstream in(dir.file("all.jamsl"));
    int docs = 0;
    for (std::string line; std::getline(in, line); ++docs) {
        std::ofstream(dir.file("one.jams")) << line;
        auto check = test::sh("/usr/bin/python3 " + std::string(HITDNA_SOURCE_DIR) + "/tests/jams_check.py " + std::string(HITDNA_SOURCE_DIR) + "/data/jams " + dir.file("one.jams"));
        INFO(check.out << check.err);
        CHECK(check.exit_code == 0);
    }
    CHECK(docs == 3);
    CHECK(test::run({"export", "--sections", "-f", "jams", "--db", db}).exit_code == 2);
    CHECK(test::run({"export", "--spotify", "--sections", "--db", db}).exit_code == 2);
    // -o streams into a temporary file renamed at the end: a failed export leaves what was there.
    std::ofstream(dir.file("keep.csv")) << "old";
    r = test::run({"export", "--filter", "nosuchfield=1", "-o", dir.file("keep.csv"), "--db", db});
    CHECK(r.exit_code == 2);
    CHECK(test::slurp(dir.file("keep.csv")) == "old");
    r = test::run({"export", "-o", dir.file("no/such/dir.csv"), "--db", db});
    CHECK(r.exit_code == 3);
    CHECK(r.err.find(dir.file("no/such/dir.csv") + ": cannot write") != std::string::npos);
}

TEST_CASE("AtomicFile: the target changes only on commit, and no temporary file is left either way") {
    test::TempDir dir;
    const std::string path = dir.file("out.txt");
    std::ofstream(path) << "old";
    {
        core::AtomicFile f(path);
        f.stream() << "half";
    }  // no commit: an exception or an early return
    CHECK(test::slurp(path) == "old");
    {
        core::AtomicFile f(path);
        f.stream() << "new";
        CHECK(test::slurp(path) == "old");
        f.commit();
    }
    CHECK(test::slurp(path) == "new");
    CHECK(test::sh("ls " + dir.file("") + " | grep -c 'out.txt.'").out.substr(0, 1) == "0");
    CHECK_THROWS_AS(core::AtomicFile(dir.file("missing/out.txt")), Error);
}
