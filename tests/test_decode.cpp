#include <doctest/doctest.h>

#include <sndfile.h>

#include <cstdlib>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "hitdna/analysis/analyze.hpp"
#include "hitdna/audio/source.hpp"
#include "hitdna/core/error.hpp"
#include "hitdna/core/subprocess.hpp"
#include "helpers.hpp"
#include "signals.hpp"

using namespace hitdna;

namespace {
ErrorKind kind_of(const std::string& path, const audio::OpenOptions& o = {}) {
    try {
        analysis::AnalyzeOptions ao;
        ao.open = o;
        analysis::analyze_file(path, ao);
    } catch (const Error& e) {
        CHECK(std::string(e.what()).find(path) != std::string::npos);  // names the file
        CHECK(std::string(e.what()).find('\n') == std::string::npos);  // one line
        return e.kind();
    }
    FAIL("no error for " << path);
    return ErrorKind::internal;
}
}  // namespace

TEST_CASE("decode: WAV, FLAC and OGG written by libsndfile round-trip") {
    test::TempDir dir;
    auto s = test::to_stereo(test::click_track(120, 12), 0.2f);
    for (const char* ext : {"wav", "flac", "ogg"}) {
        CAPTURE(ext);
        const auto path = dir.file(std::string("clicks.") + ext);
        test::write_audio(path, s);
        auto src = audio::open(path);
        CHECK(src->info().sample_rate == 44100);
        CHECK(src->info().channels == 2);
        std::vector<float> buf(4096 * 2);
        size_t total = 0, n;
        while ((n = src->read(buf.data(), 4096)) > 0) total += n;
        CHECK(double(total) == doctest::Approx(12 * 44100).epsilon(0.01));
        CHECK_FALSE(src->truncated());
    }
}

TEST_CASE("bad input: one clear error naming the file") {
    test::TempDir dir;
    CHECK(kind_of(dir.file("missing.wav")) == ErrorKind::io);
    CHECK(kind_of(dir.path) == ErrorKind::io);
    {
        std::ofstream(dir.file("empty.wav")).flush();
        CHECK(kind_of(dir.file("empty.wav")) == ErrorKind::decode);
    }
    {
        std::ofstream f(dir.file("notes.mp3"));
        f << "These are my shopping notes, not an MP3 file.\n";
    }
    CHECK(kind_of(dir.file("notes.mp3")) == ErrorKind::decode);
    audio::OpenOptions no_ffmpeg;
    no_ffmpeg.allow_ffmpeg = false;
    {
        std::ofstream f(dir.file("song.m4a"), std::ios::binary);
        const char header[] = {0, 0, 0, 0x20, 'f', 't', 'y', 'p', 'M', '4', 'A', ' '};
        f.write(header, sizeof header);
        f << std::string(4096, '\x01');
    }
    CHECK(kind_of(dir.file("song.m4a"), no_ffmpeg) == ErrorKind::decode);
    try {
        audio::open(dir.file("song.m4a"), no_ffmpeg);
    } catch (const Error& e) {
        CHECK(std::string(e.what()).find("cannot decode") != std::string::npos);
    }
}

TEST_CASE("a truncated OGG yields a DNA flagged truncated, or a clean decode error") {
    test::TempDir dir;
    auto s = test::to_stereo(test::click_track(120, 30), 0.2f);
    const auto path = dir.file("cut.ogg");
    test::write_audio(path, s);
    const auto size = std::filesystem::file_size(path);
    std::filesystem::resize_file(path, size / 2);
    try {
        auto d = analysis::analyze_file(path);
        CHECK(d.duration_s < 25);
        CHECK(d.duration_s > 5);
        CHECK(std::find(d.flags.begin(), d.flags.end(), "truncated") != d.flags.end());
        REQUIRE_FALSE(d.warnings.empty());
        CHECK(d.warnings.front().find("truncated") != std::string::npos);
    } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::decode);
        CHECK(std::string(e.what()).find(path) != std::string::npos);
    }
}

TEST_CASE("a WAV cut short is analyzed and flagged truncated") {
    test::TempDir dir;
    const auto path = dir.file("cut.wav");
    test::write_audio(path, test::click_track(120, 20));
    std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
    auto d = analysis::analyze_file(path);
    CHECK(d.duration_s == doctest::Approx(10).epsilon(0.01));
    CHECK(std::find(d.flags.begin(), d.flags.end(), "truncated") != d.flags.end());
    REQUIRE_FALSE(d.warnings.empty());
    CHECK(d.warnings.front().find("data chunk declares") != std::string::npos);
}

TEST_CASE("a 2-hour file analyzes with bounded memory") {
    test::TempDir dir;
    const std::string path = dir.file("two-hours.wav");
    {
        // 8 kHz mono, clicks at 100 BPM, written in chunks.
        SF_INFO info{};
        info.samplerate = 8000;
        info.channels = 1;
        info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
        SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
        REQUIRE(f != nullptr);
        auto minute = test::click_track(100, 60, 8000, 0.0);
        for (int m = 0; m < 120; ++m) sf_writef_float(f, minute.samples.data(), sf_count_t(minute.frames()));
        sf_close(f);
    }
    auto d = analysis::analyze_file(path);
    CHECK(d.duration_s == doctest::Approx(7200).epsilon(1e-4));
    REQUIRE(d.audio.bpm.has_value());
    CHECK(*d.audio.bpm == doctest::Approx(100).epsilon(0.02));
    CHECK(d.audio.energy_lufs.size() == 7200);
    // Peak memory of this whole test process stays far below what the raw signal would need
    // at the analysis rate (7200 s x 22050 Hz x 4 bytes = 635 MB).
    std::ifstream status("/proc/self/status");
    std::string line;
    long hwm_kb = 0;
    while (std::getline(status, line))
        if (line.rfind("VmHWM:", 0) == 0) hwm_kb = std::atol(line.c_str() + 6);
    CHECK(hwm_kb > 0);
    CHECK(hwm_kb < 400 * 1024);
}

TEST_CASE("M4A/AAC and WebM/Opus decode through ffmpeg when it is installed") {
    const std::string ffmpeg = core::find_executable("ffmpeg");
    if (ffmpeg.empty()) {
        MESSAGE("ffmpeg not installed: skipped");
        return;
    }
    test::TempDir dir;
    const auto wav = dir.file("src.wav");
    test::write_audio(wav, test::to_stereo(test::click_track(110, 20), 0.2f));
    // A name with a colon must not be taken for an ffmpeg protocol.
    for (const char* name : {"song.m4a", "song.webm", "Live: Song.m4a"}) {
        CAPTURE(name);
        const auto out = dir.file(name);
        auto r = core::run_process({ffmpeg, "-nostdin", "-v", "error", "-i", wav, out});
        REQUIRE(r.exit_code == 0);
        auto d = analysis::analyze_file(out);
        CHECK(d.decoder == "ffmpeg");
        CHECK(d.channels == 2);
        CHECK(d.duration_s == doctest::Approx(20).epsilon(0.02));
        REQUIRE(d.audio.bpm.has_value());
        CHECK(*d.audio.bpm == doctest::Approx(110).epsilon(0.02));
    }
}

TEST_CASE("a stalled ffmpeg is stopped with a timeout error naming the file") {
    test::TempDir dir;
    // A fake ffprobe that describes a stream, and a fake ffmpeg that never writes.
    {
        std::ofstream probe(dir.file("ffprobe"));
        probe << "#!/bin/sh\necho sample_rate=44100\necho channels=2\necho codec_name=aac\necho duration=10\n";
        std::ofstream ff(dir.file("ffmpeg"));
        ff << "#!/bin/sh\nexec sleep 30\n";
    }
    std::filesystem::permissions(dir.file("ffprobe"), std::filesystem::perms::owner_all);
    std::filesystem::permissions(dir.file("ffmpeg"), std::filesystem::perms::owner_all);
    const auto song = dir.file("song.m4a");
    {
        std::ofstream f(song, std::ios::binary);
        const char header[] = {0, 0, 0, 0x20, 'f', 't', 'y', 'p', 'M', '4', 'A', ' '};
        f.write(header, sizeof header);
        f << std::string(4096, '\x01');
    }
    analysis::AnalyzeOptions options;
    options.open.ffmpeg_path = dir.file("ffmpeg");
    options.open.stall_s = 1;
    const auto t0 = std::chrono::steady_clock::now();
    try {
        analysis::analyze_file(song, options);
        FAIL("no timeout");
    } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::timeout);
        CHECK(std::string(e.what()).find(song) != std::string::npos);
    }
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10));
}
