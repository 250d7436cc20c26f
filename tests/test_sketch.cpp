#include <doctest/doctest.h>
#include <ebur128.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "hitdna/core/error.hpp"
#include "hitdna/enrich/target.hpp"
#include "hitdna/sketch/master.hpp"
#include "hitdna/sketch/midi.hpp"
#include "hitdna/sketch/sketch.hpp"

using namespace hitdna;

TEST_CASE("a sketch survives the trip through its MIDI file: tempo, meters, key, markers, every note") {
    const auto t = enrich::from_prompt("124 bpm in D major, long build, drop at 0:50", 150.0);
    const auto s = sketch::make_sketch(t);
    const auto f = sketch::parse_midi(sketch::midi_bytes(s), "memory");
    CHECK(f.format == 1);
    CHECK(f.ppq == sketch::k_ppq);
    REQUIRE(f.tempo.size() == 1);
    CHECK(f.tempo[0].us_per_quarter == s.tempo[0].us_per_quarter);
    CHECK(f.has_key);
    CHECK(f.key_sharps == 2);  // D major
    CHECK_FALSE(f.minor);
    REQUIRE(f.markers.size() == s.sections.size());
    for (size_t i = 0; i < s.sections.size(); ++i) CHECK(f.markers[i].tick == s.sections[i].start_tick);
    CHECK(f.end_tick == s.end_tick);
    REQUIRE(f.tracks.size() == s.tracks.size() + 1);
    for (size_t i = 0; i < s.tracks.size(); ++i) {
        const auto& a = s.tracks[i];
        const auto& b = f.tracks[i + 1];
        CHECK(b.name == a.name);
        REQUIRE(b.notes.size() == a.notes.size());
        for (size_t k = 0; k < a.notes.size(); ++k) {
            CHECK(b.notes[k].tick == a.notes[k].tick);
            CHECK(b.notes[k].length == a.notes[k].length);
            CHECK(b.notes[k].key == a.notes[k].key);
            CHECK(b.notes[k].channel == a.channel);
        }
    }
    // The drop is where the brief put it, on the nearest bar line (enrich's plan is in bars).
    const double bar = 240.0 / 124;
    bool found = false;
    for (const auto& sec : s.sections)
        if (sec.drop) {
            found = true;
            CHECK(std::abs(sketch::seconds_at(s, sec.start_tick) - std::round(50 / bar) * bar) < 0.002);
        }
    CHECK(found);
}

TEST_CASE("seconds and ticks convert both ways through the tempo map") {
    const auto s = sketch::make_sketch(enrich::from_prompt("97 bpm in F minor", 100.0));
    for (int64_t tick : {0, 480, 12345, 96000}) CHECK(sketch::tick_at(s, sketch::seconds_at(s, tick)) == tick);
    CHECK(sketch::seconds_at(s, 480) == doctest::Approx(s.tempo[0].us_per_quarter / 1e6));
}

TEST_CASE("the sketch refuses a target it cannot play, naming the field") {
    auto t = enrich::from_prompt("120 bpm in C major", 60.0);
    t.key = "H";
    CHECK_THROWS_WITH_AS(sketch::make_sketch(t), doctest::Contains("target key 'H'"), Error);
    t.key = "Db";
    CHECK(sketch::make_sketch(t).key_sharps == -5);
    t.bpm = 500;
    CHECK_THROWS_WITH_AS(sketch::make_sketch(t), doctest::Contains("target bpm"), Error);
}

TEST_CASE("the MIDI reader names the source and the cause of a bad file") {
    const auto s = sketch::make_sketch(enrich::from_prompt("120 bpm in C major", 30.0));
    auto bytes = sketch::midi_bytes(s);
    auto fails = [](const std::vector<uint8_t>& b, const char* why) {
        try {
            sketch::parse_midi(b, "x.mid");
            FAIL("parsed");
        } catch (const Error& e) {
            CHECK(e.kind() == ErrorKind::decode);
            CHECK(std::string(e.what()).find("x.mid") != std::string::npos);
            CHECK(std::string(e.what()).find(why) != std::string::npos);
        }
    };
    fails({'R', 'I', 'F', 'F', 0, 0, 0, 0}, "no MThd header");
    fails(std::vector<uint8_t>(bytes.begin(), bytes.begin() + 40), "truncated");
    auto smpte = bytes;
    smpte[12] = 0xe7;  // -25 fps
    fails(smpte, "SMPTE");
    // Running status: a note-on without its status byte repeats the last one.
    std::vector<uint8_t> rs = {'M', 'T', 'h', 'd', 0, 0, 0, 6, 0, 0, 0, 1, 0, 96, 'M', 'T', 'r', 'k', 0, 0, 0, 16,
                               0, 0x90, 60, 100, 0, 64, 100, 96, 60, 0, 0, 64, 0, 0, 0xff, 0x2f, 0};
    rs[21] = uint8_t(rs.size() - 22);
    const auto f = sketch::parse_midi(rs, "rs.mid");
    REQUIRE(f.tracks.size() == 1);
    REQUIRE(f.tracks[0].notes.size() == 2);
    CHECK(f.tracks[0].notes[0].length == 96);
    CHECK(f.tracks[0].notes[1].key == 64);
}

namespace {

// 30 s of stereo at 44.1 kHz: a quiet, a loud and a middle section (a chord of sines, one
// channel delayed for width), with a full-scale click every half second in the loud one.
std::vector<float> three_sections() {
    const int rate = 44100;
    std::vector<float> x(size_t(30 * rate) * 2);
    const double levels[3] = {0.02, 0.3, 0.1};
    for (size_t i = 0; i < x.size() / 2; ++i) {
        const double t = double(i) / rate, a = levels[std::min<size_t>(2, i / size_t(10 * rate))];
        auto tone = [&](double tt) { return a * (std::sin(2 * M_PI * 220 * tt) + 0.5 * std::sin(2 * M_PI * 330 * tt) + 0.3 * std::sin(2 * M_PI * 1760 * tt)) / 1.8; };
        double l = tone(t), r = tone(t - 0.0007);
        if (i / size_t(10 * rate) == 1 && i % size_t(rate / 2) < 40) l = r = (i % 2 ? 1.0 : -1.0);
        x[2 * i] = float(l), x[2 * i + 1] = float(r);
    }
    return x;
}

// True peak (dBTP) by libebur128's own true-peak meter, not hitdna's interpolator.
double true_peak_dbtp(const std::vector<float>& x) {
    ebur128_state* st = ebur128_init(2, 44100, EBUR128_MODE_TRUE_PEAK);
    ebur128_add_frames_float(st, x.data(), x.size() / 2);
    double p0 = 0, p1 = 0;
    ebur128_true_peak(st, 0, &p0);
    ebur128_true_peak(st, 1, &p1);
    ebur128_destroy(&st);
    return 20 * std::log10(std::max(p0, p1));
}

// Loudness of one 10 s section, LUFS.
double section_lufs(const std::vector<float>& x, int k) {
    const size_t n = size_t(10 * 44100) * 2;
    return sketch::integrated_lufs(std::vector<float>(x.begin() + long(k * n), x.begin() + long((k + 1) * n)), 44100);
}

}  // namespace

TEST_CASE("mastering reaches the target loudness and width under a -1 dBTP ceiling, and keeps the sections' order") {
    auto x = three_sections();
    sketch::MasterOptions o;
    o.target_lufs = -14;
    o.target_width = 0.3;
    const auto r = sketch::master(x, 44100, o);
    CHECK_FALSE(r.gain_capped);
    CHECK(std::abs(sketch::integrated_lufs(x, 44100) + 14) < 0.3);
    CHECK(true_peak_dbtp(x) <= -1.0);
    CHECK(std::abs(r.width_after - 0.3) < 0.02);
    CHECK(r.limited_share > 0);  // the clicks were held
    const double q = section_lufs(x, 0), l = section_lufs(x, 1), m = section_lufs(x, 2);
    CHECK(q < m);
    CHECK(m < l);
    CHECK(l - q > 15);  // 23.5 dB apart before; limiting the clicks must not flatten that
}

TEST_CASE("mastering a target louder than 12 dB of limiting allows stops at that limit and says so") {
    auto x = three_sections();
    sketch::MasterOptions o;
    o.target_lufs = -3;
    const auto r = sketch::master(x, 44100, o);
    CHECK(r.gain_capped);
    CHECK(sketch::integrated_lufs(x, 44100) < -3.5);
    CHECK(true_peak_dbtp(x) <= -1.0);
    CHECK(section_lufs(x, 1) - section_lufs(x, 0) > 10);
}
