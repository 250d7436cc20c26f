// bench_generate: the built-in synthesizer and validation, measured in one run.
//   1. Render a 3-minute target (speed), analyze it and validate it against its own target:
//      BPM within 1 %, sections within 1, energy-arc correlation, overall score.
//   2. The same for N random targets (tempo, key, mode, length, form, energy, production).
//   3. Discrimination: each render validated against a different random target; the gap
//      between its own score and the other's.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "usage.hpp"
#include "hitdna/analysis/analyze.hpp"
#include "hitdna/enrich/target.hpp"
#include "hitdna/generate/synth.hpp"
#include "hitdna/validate/validate.hpp"

using namespace hitdna;
using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

enrich::Target random_target(std::mt19937& rng) {
    static const char* keys[] = {"C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"};
    std::uniform_real_distribution<double> u(0, 1);
    const double bpm = std::round(70 + 100 * u(rng));
    const std::string key = keys[rng() % 12], mode = u(rng) < 0.5 ? "minor" : "major";
    // Sections stay whole bars, as songs have them: the form sets the length.
    auto t = enrich::from_prompt(std::to_string(int(bpm)) + " bpm in " + key + " " + mode);
    // Another form: drop or repeat some parts, then new energies per section.
    std::vector<enrich::PlannedSection> secs;
    for (const auto& s : t.sections) {
        if (u(rng) < 0.15 && s.role != "hook") continue;
        secs.push_back(s);
        if (s.role == "hook" && u(rng) < 0.3) secs.push_back(s);
    }
    double at = 0;
    for (auto& s : secs) {
        if (u(rng) < 0.3 && s.duration_s * 2 <= 40) s.duration_s *= 2;  // some parts twice as long (hitdna splits parts over 45 s)
        s.start_s = at;
        at += s.duration_s;
        s.energy_lu = std::clamp(s.energy_lu + (u(rng) - 0.5) * 4, -12.0, 0.0);
    }
    t.sections = secs;
    t.duration_s = at;
    for (int k = 0; k < enrich::k_arc_points; ++k) {
        const double mid = (k + 0.5) / enrich::k_arc_points * t.duration_s;
        for (auto& s : t.sections)
            if (mid >= s.start_s && mid < s.start_s + s.duration_s) t.energy_arc[size_t(k)] = s.energy_lu;
    }
    enrich::normalize_arc(t);
    t.first_hook_s.reset();
    t.hook_repeats = 0;
    for (auto& s : t.sections)
        if (s.role == "hook") {
            if (!t.first_hook_s) t.first_hook_s = s.start_s;
            ++t.hook_repeats;
        }
    t.production.sub_presence = 0.02 + 0.3 * u(rng);
    t.production.bass_808_sustain_s = 0.1 + 0.8 * u(rng);
    t.production.mean_width = 0.05 + 0.35 * u(rng);
    t.production.sparkle_db = -38 + 20 * u(rng);
    t.production.integrated_lufs = -20 + 12 * u(rng);
    return t;
}

struct Self {
    bool bpm_ok = false, sections_ok = false;
    double corr = 0, overall = 0, render_s = 0;
};

Self check(const enrich::Target& t, uint32_t seed, dna::Dna* out_dna) {
    Self s;
    auto t0 = Clock::now();
    auto r = generate::render(t, {seed});
    s.render_s = since(t0);
    auto d = analysis::analyze_samples(r.samples.data(), r.samples.size() / 2, r.sample_rate, 2, "render");
    auto rep = validate::compare(d, t);
    s.bpm_ok = d.audio.bpm && std::abs(*d.audio.bpm / t.bpm - 1) <= 0.01;
    s.sections_ok = std::abs(int(d.structure.sections.size()) - int(t.sections.size())) <= 1;
    s.corr = rep.energy_correlation;
    s.overall = rep.overall;
    if (out_dna) *out_dna = std::move(d);
    return s;
}

}  // namespace

constexpr const char* k_usage =
    "bench_generate: offline generation from targets, render time and validation against the target.\n"
    "usage: bench_generate [--targets N] [-v]\n";

int main(int argc, char** argv) {
    if (bench::wants_help(argc, argv)) return bench::print_usage(k_usage, true);
    int n = 20;
    bool verbose = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--targets" && i + 1 < argc) n = std::atoi(argv[++i]);
        else if (a == "-v") verbose = true;
        else {
            return bench::print_usage(k_usage, false);
        }
    }
    // 1. A 3-minute target from a prompt.
    auto t3 = enrich::from_prompt("128 bpm in A minor, dark club track", 180);
    dna::Dna d3;
    auto s3 = check(t3, 1, &d3);
    std::printf("## 3-minute render (128 BPM, A minor, %zu sections)\n", t3.sections.size());
    std::printf("render %.2f s (goal <= 2 s); analyzed: %.2f BPM (target 128, %s), %zu sections (target %zu, %s), key %s %s, energy-arc r %.3f (goal >= 0.8), overall %.3f (goal >= 0.85)\n\n",
                s3.render_s, d3.audio.bpm.value_or(0), s3.bpm_ok ? "within 1 %" : "NOT within 1 %", d3.structure.sections.size(), t3.sections.size(),
                s3.sections_ok ? "within 1" : "NOT within 1", d3.audio.key.c_str(), d3.audio.mode.c_str(), s3.corr, s3.overall);
    // 2 + 3. Random targets.
    std::mt19937 rng(2026);
    std::vector<enrich::Target> targets;
    for (int i = 0; i < n; ++i) targets.push_back(random_target(rng));
    int bpm_ok = 0, sec_ok = 0, corr_ok = 0, overall_ok = 0;
    std::vector<double> gaps, own_scores, other_scores, render_s;
    for (int i = 0; i < n; ++i) {
        dna::Dna d;
        auto s = check(targets[size_t(i)], uint32_t(i + 1), &d);
        const auto& other = targets[size_t((i + 1) % n)];
        const double cross = validate::compare(d, other).overall;
        bpm_ok += s.bpm_ok;
        sec_ok += s.sections_ok;
        corr_ok += s.corr >= 0.8;
        overall_ok += s.overall >= 0.85;
        gaps.push_back(s.overall - cross);
        own_scores.push_back(s.overall);
        other_scores.push_back(cross);
        render_s.push_back(s.render_s / targets[size_t(i)].duration_s * 180);
        if (verbose)
            std::printf("  %2d: %5.1f BPM %-2s %-5s %3zu s %2zu sections: bpm %s, sections %zu, r %.2f, own %.3f, other %.3f\n", i, targets[size_t(i)].bpm,
                        targets[size_t(i)].key.c_str(), targets[size_t(i)].mode.c_str(), size_t(targets[size_t(i)].duration_s), targets[size_t(i)].sections.size(),
                        s.bpm_ok ? "ok" : "off", d.structure.sections.size(), s.corr, s.overall, cross);
    }
    auto mean = [](const std::vector<double>& v) {
        double s = 0;
        for (double x : v) s += x;
        return v.empty() ? 0 : s / double(v.size());
    };
    std::sort(gaps.begin(), gaps.end());
    std::printf("## %d random targets (70-170 BPM, every key, both modes, forms of 8-32-bar parts, varied energies and production)\n", n);
    std::printf("| measure | result |\n|---|---|\n");
    std::printf("| BPM within 1 %% | %d / %d |\n| sections within 1 | %d / %d |\n| energy-arc r >= 0.8 | %d / %d |\n| overall >= 0.85 | %d / %d |\n", bpm_ok, n, sec_ok, n,
                corr_ok, n, overall_ok, n);
    std::printf("| render time, scaled to 3 min, mean | %.2f s |\n", mean(render_s));
    std::printf("| own target: mean overall | %.3f |\n| a different target: mean overall | %.3f |\n", mean(own_scores), mean(other_scores));
    std::printf("| gap own - other: min / median / mean | %.3f / %.3f / %.3f |\n", gaps.front(), gaps[gaps.size() / 2], mean(gaps));
    return 0;
}
