// Form renders: pop-form songs composed by data/eval/forms/make_forms.py (truth by
// construction), rendered with fluidsynth through two GM soundfonts, analyzed by hitdna and
// scored per split. Parameters may be chosen by looking at the "tune" split only; the
// "report" split is what the README and the notes quote. aubio runs beside hitdna as its
// users run it (`aubio tempo`'s printed figure, and 60 / median interval of `aubio beat`).
//
// Usage: bench_forms [--work DIR] [--split tune|report|all] [--no-aubio] [-v]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "hitdna/analysis/analyze.hpp"
#include "hitdna/core/subprocess.hpp"
#include "renders.hpp"
#include "scores.hpp"

using namespace hitdna;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::string k_forms_dir = std::string(HITDNA_SOURCE_DIR) + "/data/eval/forms";

struct Options {
    std::string work = "bench-forms";
    std::string split = "all";
    bool aubio = true, verbose = false;
};

// Scores of one split.
struct Scores {
    int songs = 0;
    bench::Tally tempo, aubio_printed, aubio_median;
    int key_n[2] = {0, 0}, key_exact[2] = {0, 0};  // [major, minor]
    double key_weighted[2] = {0, 0};
    int curve_points = 0, curve_within = 0, constant_songs = 0, false_changes = 0;
    int step_songs = 0, steps_found = 0, step_flagged = 0;
    int modulations = 0, modulations_found = 0, false_modulations = 0;
    int meter_n = 0, meter_right = 0;
    bench::Boundary bounds;
    bench::Pairwise labels;
    bench::FrameF1 hook;
    int hook_songs = 0, first_hook_ok = 0;
    bench::BeatScore beats, aubio_beats;
};

std::vector<json> prepare(const Options& o) {
    return bench::render_truth_set({k_forms_dir + "/make_forms.py", k_forms_dir + "/truth.jsonl", "python3", o.work, o.split});
}

void score_tempo(Scores& s, const json& t, const dna::Dna& d) {
    const double truth = t["beat_bpm"];
    s.tempo.add(truth, d.audio.bpm);
    const bool has_step = t["tempo_step"].get<double>() != 0;
    const bool flagged = std::find(d.descriptors.begin(), d.descriptors.end(), "tempo-changes") != d.descriptors.end();
    if (!has_step) {
        ++s.constant_songs;
        s.false_changes += flagged;
        if (d.audio.bpm)
            for (const auto& p : d.audio.tempo_curve) {
                ++s.curve_points;
                s.curve_within += std::abs(p[1] / *d.audio.bpm - 1) <= 0.04;
            }
        return;
    }
    ++s.step_songs;
    s.step_flagged += flagged;
    // The step is found when a reported change lands within 2 bars of the truth's step start.
    const double step_at = t["tempo_segments"][1][0];
    const double bar_s = 60.0 / truth * (t["meter"] == "3/4" ? 3 : t["meter"] == "6/8" ? 2 : 4);
    for (const auto& c : d.audio.tempo_changes)
        if (std::abs(c.time_s - step_at) <= 2 * bar_s) {
            ++s.steps_found;
            break;
        }
}

void score_key(Scores& s, const json& t, const dna::Dna& d, std::vector<std::string>& misses) {
    const std::string ref = t["key"].get<std::string>() + " " + t["mode"].get<std::string>();
    const std::string est = d.audio.key.empty() ? "" : d.audio.key + " " + d.audio.mode;
    const int m = t["mode"] == "minor";
    const double sc = bench::key_score(bench::key_index(ref), bench::key_index(est));
    ++s.key_n[m];
    s.key_exact[m] += sc == 1;
    s.key_weighted[m] += sc;
    if (sc < 1) misses.push_back(t["id"].get<std::string>() + " key " + ref + " -> " + (est.empty() ? "none" : est));
    // Modulations: each truth change found when hitdna reports a change to that key within 4 s.
    std::set<size_t> used;
    for (const auto& kc : t["key_changes"]) {
        ++s.modulations;
        for (size_t i = 0; i < d.audio.key_changes.size(); ++i)
            if (!used.count(i) && std::abs(d.audio.key_changes[i].time_s - kc[0].get<double>()) <= 4 &&
                d.audio.key_changes[i].key + " " + d.audio.key_changes[i].mode == kc[1].get<std::string>()) {
                used.insert(i);
                ++s.modulations_found;
                break;
            }
    }
    s.false_modulations += int(d.audio.key_changes.size() - used.size());
}

void score_structure(Scores& s, const json& t, const dna::Dna& d, std::vector<std::string>& misses) {
    std::vector<double> ref_b, est_b;
    const auto& secs = t["sections"];
    for (size_t i = 1; i < secs.size(); ++i) ref_b.push_back(secs[i]["start_s"]);
    for (size_t i = 1; i < d.structure.sections.size(); ++i) est_b.push_back(d.structure.sections[i].start_s);
    s.bounds.add(ref_b, est_b, 3.0);
    std::vector<int> ref_l, est_l;
    const double end = secs.back()["end_s"];
    for (double x = 0.25; x < end; x += 0.5) {
        int rl = -1, el = -1;
        bool rh = false, eh = false;
        for (const auto& sec : secs)
            if (x >= sec["start_s"].get<double>() && x < sec["end_s"].get<double>()) {
                rl = sec["label"].get<std::string>()[0];
                rh = sec["role"] == "chorus";
            }
        for (const auto& sec : d.structure.sections)
            if (x >= sec.start_s && x < sec.end_s) {
                el = int(std::hash<std::string>{}(sec.label) % 1000003);
                eh = sec.role == "hook";
            }
        ref_l.push_back(rl);
        est_l.push_back(el);
        s.hook.add(rh, eh);
    }
    s.labels.add(ref_l, est_l);
    ++s.hook_songs;
    const double fh = t["first_hook_s"];
    const bool ok = d.structure.first_hook_s && std::abs(*d.structure.first_hook_s - fh) <= 4;
    s.first_hook_ok += ok;
    if (!ok) {
        char b[160];
        std::snprintf(b, sizeof b, "%s first hook %.1f s -> %s", t["id"].get<std::string>().c_str(), fh,
                      d.structure.first_hook_s ? std::to_string(*d.structure.first_hook_s).c_str() : "none");
        misses.push_back(b);
    }
}

void print_split(const std::string& name, const Scores& s, bool aubio) {
    auto pct = [](double a, double b) { return b > 0 ? 100.0 * a / b : 0.0; };
    std::printf("\n== split %s: %d songs ==\n", name.c_str(), s.songs);
    std::printf("  tempo Acc1 / Acc2 (x2/3, x3/2 count as errors)  hitdna %s (ternary %d)", s.tempo.str().c_str(), s.tempo.ternary);
    if (aubio)
        std::printf(" | aubio tempo printed %s, aubio beat median %s", s.aubio_printed.str().c_str(), s.aubio_median.str().c_str());
    std::printf("\n  beats F (+-70 ms)                               hitdna %.3f", s.beats.f());
    if (aubio) std::printf(" | aubio beat %.3f", s.aubio_beats.f());
    std::printf("\n  meter                                           %d / %d right\n", s.meter_right, s.meter_n);
    std::printf("  tempo curve (constant songs, n=%d)              %.1f %% of points within 4 %% of the global tempo; tempo-changes printed on %d\n",
                s.constant_songs, pct(s.curve_within, s.curve_points), s.false_changes);
    std::printf("  tempo steps (n=%d)                               found within 2 bars %d, tempo-changes printed %d\n", s.step_songs,
                s.steps_found, s.step_flagged);
    for (int m : {1, 0})
        std::printf("  key, %s songs (n=%d)                        exact %.1f %%, MIREX weighted %.3f\n", m ? "minor" : "major", s.key_n[m],
                    pct(s.key_exact[m], s.key_n[m]), s.key_n[m] ? s.key_weighted[m] / s.key_n[m] : 0.0);
    std::printf("  modulations (n=%d)                               found within 4 s %d, false changes %d\n", s.modulations,
                s.modulations_found, s.false_modulations);
    std::printf("  boundaries F@3 s %.3f (P %.3f R %.3f); pairwise label F %.3f; chorus-as-hook frame F1 %.3f; first hook within 4 s %d / %d (%.0f %%)\n",
                s.bounds.f(), s.bounds.p(), s.bounds.r(), s.labels.f(), s.hook.f(), s.first_hook_ok, s.hook_songs,
                pct(s.first_hook_ok, s.hook_songs));
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--work" && i + 1 < argc) o.work = argv[++i];
        else if (a == "--split" && i + 1 < argc) o.split = argv[++i];
        else if (a == "--no-aubio") o.aubio = false;
        else if (a == "-v" || a == "--verbose") o.verbose = true;
        else {
            std::fprintf(a == "-h" || a == "--help" ? stdout : stderr,
                         "usage: bench_forms [--work DIR] [--split tune|report|all] [--no-aubio] [-v]\n"
                         "Renders the songs of data/eval/forms (truth by construction) and scores hitdna's tempo, meter,\n"
                         "tempo curve, key, modulations and structure on them, per split, beside aubio.\n");
            return a == "-h" || a == "--help" ? 0 : 2;
        }
    }
    const std::string aubio = o.aubio ? core::find_executable("aubio") : "";
    std::vector<json> songs;
    try {
        songs = prepare(o);
    } catch (const std::exception& e) {
        std::cerr << "bench_forms: " << e.what() << "\n";
        return 1;
    }
    std::map<std::string, Scores> by_split, metal_by_split;  // the metal songs (45-54) again, alone
    std::vector<std::string> misses;
    double seconds = 0;
    for (const auto& t : songs) {
        const std::string split = t["split"];
        if (o.split != "all" && o.split != split) continue;
        auto t0 = std::chrono::steady_clock::now();
        const dna::Dna d = analysis::analyze_file(t["wav"]);
        seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        Scores& s = by_split[split];
        ++s.songs;
        score_tempo(s, t, d);
        score_key(s, t, d, misses);
        if (t["groove"] == "metal") {
            Scores& ms = metal_by_split[split];
            std::vector<std::string> ignored;
            ++ms.songs;
            score_tempo(ms, t, d);
            score_key(ms, t, d, ignored);
        }
        score_structure(s, t, d, misses);
        ++s.meter_n;
        s.meter_right += d.audio.meter == t["meter"].get<std::string>();
        const auto truth_beats = t["beats_s"].get<std::vector<double>>();
        s.beats.add(truth_beats, d.audio.beats_s);
        if (!aubio.empty()) {
            const double truth = t["beat_bpm"];
            s.aubio_printed.add(truth, bench::aubio_tempo_printed(aubio, t["wav"]));
            const auto ab = bench::aubio_beats(aubio, t["wav"]);
            s.aubio_median.add(truth, bench::median_interval_bpm(ab));
            s.aubio_beats.add(truth_beats, ab);
        }
        if (d.audio.bpm && std::abs(*d.audio.bpm / t["beat_bpm"].get<double>() - 1) > 0.04)
            misses.push_back(t["id"].get<std::string>() + " tempo " + std::to_string(t["beat_bpm"].get<double>()) + " (" +
                             t["meter"].get<std::string>() + ") -> " + std::to_string(*d.audio.bpm));
        if (o.verbose) {
            std::printf("%s %-6s %s %s %3.0f bpm -> %5.1f, key %s %s -> %s %s, meter -> %s, sections:", t["id"].get<std::string>().c_str(),
                        split.c_str(), t["meter"].get<std::string>().c_str(), t["groove"].get<std::string>().c_str(),
                        t["beat_bpm"].get<double>(), d.audio.bpm.value_or(0), t["key"].get<std::string>().c_str(),
                        t["mode"].get<std::string>().c_str(), d.audio.key.c_str(), d.audio.mode.c_str(), d.audio.meter.c_str());
            for (const auto& sec : d.structure.sections) std::printf(" %s/%s@%.0f", sec.label.c_str(), sec.role.c_str(), sec.start_s);
            for (const auto& k : d.audio.key_changes) std::printf(" [key %s %s@%.0f]", k.key.c_str(), k.mode.c_str(), k.time_s);
            for (const auto& c : d.audio.tempo_changes) std::printf(" [tempo %.1f@%.0f]", c.bpm, c.time_s);
            std::printf("\n   truth:");
            for (const auto& sec : t["sections"])
                std::printf(" %s/%s@%.0f", sec["label"].get<std::string>().c_str(), sec["role"].get<std::string>().c_str(),
                            sec["start_s"].get<double>());
            for (const auto& k : t["key_changes"]) std::printf(" [key %s@%.0f]", k[1].get<std::string>().c_str(), k[0].get<double>());
            for (const auto& c : t["tempo_segments"]) std::printf(" [tempo %.1f@%.0f]", c[1].get<double>(), c[0].get<double>());
            std::printf("\n");
            std::fflush(stdout);
        }
    }
    std::printf("misses:\n");
    for (const auto& m : misses) std::printf("  %s\n", m.c_str());
    for (const auto& [name, s] : by_split) print_split(name, s, !aubio.empty());
    for (const auto& [name, s] : metal_by_split) {
        auto pct = [](double a, double b) { return b > 0 ? 100.0 * a / b : 0.0; };
        std::printf("\n  of split %s, the %d metal songs: tempo Acc1 / Acc2 %s; curve %.1f %% within 4 %%, tempo-changes on %d of %d constant; "
                    "steps found %d / %d; minor keys exact %.1f %% (n=%d), major %.1f %% (n=%d)\n",
                    name.c_str(), s.songs, s.tempo.str().c_str(), pct(s.curve_within, s.curve_points), s.false_changes, s.constant_songs,
                    s.steps_found, s.step_songs, pct(s.key_exact[1], s.key_n[1]), s.key_n[1], pct(s.key_exact[0], s.key_n[0]), s.key_n[0]);
    }
    std::printf("\nanalysis time %.1f s for %zu songs (hitdna, one core)\n", seconds, songs.size());
    return 0;
}
