// End-to-end: the hitdna binary on generated fixtures, compared with a golden output.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "helpers.hpp"
#include "hitdna/core/error.hpp"
#include "hitdna/core/shared_library.hpp"
#include "signals.hpp"

using namespace hitdna;

TEST_CASE("cli: analyze a fixture and match the golden JSON") {
    test::TempDir dir;
    const auto wav = dir.file("click120.wav");
    test::write_audio(wav, test::to_stereo(test::click_track(120, 20), 0.3f));
    auto r = test::run({"analyze", "-f", "json", "--vectors", wav}, test::no_timeout);
    REQUIRE(r.exit_code == 0);
    CHECK(r.err.empty());
    auto got = nlohmann::json::parse(r.out);
    got["file"] = "click120.wav";  // the temporary directory differs per run
    // The golden file is a regression record, never rewritten by a test: when the output
    // changes on purpose, copy the output kept below over it by hand and give the reason in
    // the commit message.
    const std::string golden_path = std::string(HITDNA_SOURCE_DIR) + "/tests/golden/click120.json";
    auto want = nlohmann::json::parse(test::slurp(golden_path));
    if (got != want) {
        const std::string kept = std::string(HITDNA_BINARY_DIR) + "/click120.got.json";
        std::ofstream(kept) << got.dump(2) << "\n";
        auto patch = nlohmann::json::diff(want, got);
        FAIL_CHECK("output differs from tests/golden/click120.json (this run's output: " << kept << "): " << patch.dump().substr(0, 2000));
    }
}

TEST_CASE("cli: a batch continues past bad files and exits with the documented code") {
    test::TempDir dir;
    const auto good = dir.file("good.wav");
    test::write_audio(good, test::click_track(100, 8));
    {
        std::ofstream f(dir.file("bad.mp3"));
        f << "plain text, not audio\n";
    }
    auto r = test::run({"analyze", "-f", "jsonl", dir.file("missing.ogg"), good, dir.file("bad.mp3")}, test::no_timeout);
    CHECK(r.exit_code == 3);  // the first failure is an I/O error (missing file)
    std::istringstream lines(r.out);
    std::string line;
    int n = 0;
    while (std::getline(lines, line)) {
        auto j = nlohmann::json::parse(line);
        CHECK(j["file"].get<std::string>() == good);
        ++n;
    }
    CHECK(n == 1);
    CHECK(r.err.find(dir.file("missing.ogg")) != std::string::npos);
    CHECK(r.err.find(dir.file("bad.mp3")) != std::string::npos);
    CHECK(r.err.find("2 of 3 files failed") != std::string::npos);
}

TEST_CASE("cli: paths from stdin with -, usage errors exit 2") {
    auto usage = test::run({"analyze", "--format", "yaml", "x.wav"}, test::no_timeout);
    CHECK(usage.exit_code == 2);
    auto none = test::run({"analyze"}, test::no_timeout);
    CHECK(none.exit_code == 2);
    auto dims = test::run({"analyze", "--list-dimensions"}, test::no_timeout);
    CHECK(dims.exit_code == 0);
    CHECK(dims.out.find("audio\t0\ttempo_log2") != std::string::npos);
}

TEST_CASE("man page documents every vector dimension and every flag of --help") {
    const auto man = test::slurp(std::string(HITDNA_SOURCE_DIR) + "/man/hitdna-analyze.1");
    REQUIRE_FALSE(man.empty());
    auto dims = test::run({"analyze", "--list-dimensions"}, test::no_timeout);
    std::istringstream in(dims.out);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream f(line);
        std::string space, idx, name;
        std::getline(f, space, '\t');
        std::getline(f, idx, '\t');
        std::getline(f, name, '\t');
        // roff escapes '-' and may not escape '_'; compare on the bare name.
        CHECK_MESSAGE(man.find(name) != std::string::npos, "man page lacks dimension " << name);
    }
    auto help = test::run({"analyze", "--help"}, test::no_timeout);
    for (const char* flag : {"--format", "--vectors", "--jobs", "--timeline-hop", "--min-bpm", "--max-bpm", "--no-ffmpeg", "--list-dimensions"}) {
        CHECK(help.out.find(flag) != std::string::npos);
        std::string roff = std::string(flag);
        std::string escaped;
        for (char c : roff) escaped += c == '-' ? std::string("\\-") : std::string(1, c);
        const bool documented = man.find(escaped) != std::string::npos || man.find(roff) != std::string::npos;
        CHECK_MESSAGE(documented, "man page lacks " << flag);
    }
}

TEST_CASE("libfluidsynth, libcurl and libxgboost are opened when first needed, not loaded by every start") {
    // The binary does not ask the loader for them ...
    const auto needed = test::sh("readelf -d '" HITDNA_BIN "'");
    REQUIRE(needed.exit_code == 0);
    CHECK(needed.out.find("(NEEDED)") != std::string::npos);
    for (const char* lib : {"libfluidsynth", "libcurl", "libxgboost"}) CHECK(needed.out.find(lib) == std::string::npos);
    // ... and a library or function that is not there is one error naming it, its use and package.
    try {
        core::SharedLibrary missing("libhitdna-no-such.so.9", "testing", "hitdna-none");
        FAIL("a library that does not exist was opened");
    } catch (const Error& e) {
        CHECK(std::string(e.what()).find("cannot load libhitdna-no-such.so.9, needed for testing (Debian package hitdna-none): ") == 0);
    }
    core::SharedLibrary libc("libc.so.6", "testing", "libc6");
    CHECK(libc.function<size_t(const char*)>("strlen")("four") == 4);
    CHECK_THROWS_WITH_AS(libc.function<void()>("hitdna_no_such_function"), "libc.so.6 has no function hitdna_no_such_function (another version than hitdna was built with?)",
                         Error);
}
