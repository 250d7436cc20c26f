// The offline backend renders the brief: the analyzer hears the stated tempo, key and events;
// tools outside hitdna agree (ffmpeg's EBU R128 loudness, aubio's beats); near-miss targets
// (tempo +8 %, key a fifth away, drop 16 s later) fall below the pass mark of their layer.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "hitdna/analysis/analyze.hpp"
#include "hitdna/audio/wav.hpp"
#include "hitdna/enrich/target.hpp"
#include "hitdna/generate/synth.hpp"
#include "hitdna/validate/validate.hpp"
#include "brief_probe.hpp"
#include "helpers.hpp"

using namespace hitdna;

namespace {

// Within 2 % of `want` at one of the metrical levels x0.5, x1, x2.
bool tempo_at_some_level(double got, double want) {
    for (double level : {0.5, 1.0, 2.0})
        if (std::abs(got * level / want - 1) <= 0.02) return true;
    return false;
}

const validate::Layer& layer(const validate::Report& r, const std::string& name) {
    for (const auto& l : r.layers)
        if (l.name == name) return l;
    FAIL("no layer " << name);
    return r.layers.front();
}

}  // namespace

TEST_CASE("brief render: the local backend plays the stated tempo, key and events; ffmpeg and aubio agree; near misses fail their layer") {
    test::TempDir dir;
    struct Case {
        const char* prompt;
        const char* near_drop;  // the same brief with its drop 16 s later ("" when none stated)
        const char* fifth;      // its key a fifth up
    } cases[] = {{"128 bpm techno in A minor, long build, drop at 0:45, 90 seconds", "128 bpm techno in A minor, long build, drop at 1:01, 90 seconds", "E"},
                 {"92 bpm in Bb major, hook lands at 0:30, 80 seconds", "", "F"},
                 {"150 bpm in E minor, drops at 0:32 and 1:04, 100 seconds", "150 bpm in E minor, drops at 0:48 and 1:20, 100 seconds", "B"}};
    int n = 0;
    for (const auto& c : cases) {
        INFO(std::string(c.prompt));
        const auto t = enrich::from_prompt(c.prompt);
        const auto b = enrich::parse_brief(c.prompt);
        const auto r = generate::render(t, {3});
        const std::string wav = dir.file("brief" + std::to_string(n++) + ".wav");
        audio::write_wav(wav, r.samples, r.sample_rate, 2);
        const auto d = analysis::analyze_file(wav);
        // Heard back by the analyzer.
        REQUIRE(d.audio.bpm);
        CHECK(std::abs(*d.audio.bpm / *b.bpm - 1) <= 0.02);
        CHECK(d.audio.key == *b.key);
        CHECK(d.audio.mode == t.mode);
        CHECK(std::abs(d.duration_s - *b.duration_s) <= 1);
        const double bar = 240.0 / t.bpm;
        for (double want : t.drop_times_s) {
            double best = 1e9;
            for (const auto& e : d.structure.drops) best = std::min(best, std::abs(e.time_s - want));
            CHECK_MESSAGE(best <= bar, "drop at ", want, " s");
        }
        if (b.first_hook_s) {
            REQUIRE(d.structure.first_hook_s);
            CHECK(std::abs(*d.structure.first_hook_s - *t.first_hook_s) <= bar);
        }
        // validate: the brief first, every item found; every layer at or above its pass mark.
        const auto rep = validate::compare(d, t);
        REQUIRE(rep.brief.size() == t.brief.size());
        for (const auto& x : rep.brief) CHECK_MESSAGE(x.ok, x.item, ": ", x.found);
        for (const auto& l : rep.layers) CHECK_MESSAGE(l.similarity >= l.pass_mark, l.name, " ", l.similarity);
        const auto j = validate::to_json(rep, 0.8);
        CHECK(j["brief"].size() == t.brief.size());
        CHECK(j["brief_ok"] == true);
        // Outside hitdna: loudness by ffmpeg's EBU R128 meter, tempo from aubio's beats.
        const auto lufs = test::ffmpeg_lufs(wav);
        REQUIRE(lufs);
        CHECK(std::abs(*lufs - rep.integrated_lufs) <= 0.5);
        const auto beat_bpm = test::aubio_bpm(wav);
        REQUIRE(beat_bpm);
        CHECK(tempo_at_some_level(*beat_bpm, *b.bpm));
        // Near misses, one field off: that layer falls below its pass mark.
        auto faster = t;
        faster.bpm = t.bpm * 1.08;
        CHECK(layer(validate::compare(d, faster), "tempo").similarity < layer(rep, "tempo").pass_mark);
        auto other_key = t;
        other_key.key = c.fifth;
        CHECK(layer(validate::compare(d, other_key), "key").similarity < layer(rep, "key").pass_mark);
        if (*c.near_drop) {
            const auto later = enrich::from_prompt(c.near_drop);
            REQUIRE(later.drop_times_s.size() == t.drop_times_s.size());
            const auto s = layer(validate::compare(d, later), "structure").similarity;
            CHECK_MESSAGE(s < layer(rep, "structure").pass_mark, "structure ", s, " vs own ", layer(rep, "structure").similarity);
        }
    }
}
