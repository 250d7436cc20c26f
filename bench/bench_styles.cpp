// Tempo and meter across styles: the songs of data/eval/styles/make_styles.py (chord charts
// written there for MMA's grooves, and composers' MIDI shipped in Debian: abcmidi's folk tunes
// and MMA's example songs), truth from the MIDI, rendered with fluidsynth through two GM
// soundfonts, scored per split (parameters may be chosen on "tune" only) and per kind. aubio
// runs beside hitdna as its users run it: `aubio tempo`'s printed figure and 60 / the median
// interval of `aubio beat`.
//
// Usage: bench_styles [--work DIR] [--split tune|report|all] [--no-aubio] [-v]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>

#include "hitdna/analysis/analyze.hpp"
#include "renders.hpp"
#include "scores.hpp"

using namespace hitdna;
using nlohmann::json;

namespace {

const std::string k_dir = std::string(HITDNA_SOURCE_DIR) + "/data/eval/styles";

struct Scores {
    bench::Tally tempo, aubio_printed, aubio_median;
    int meter_n = 0, meter_right = 0;
};

// hitdna's meter word for a meter class of the truth.
std::string meter_word(const std::string& cls) { return cls == "duple" ? "4/4" : cls == "triple" ? "3/4" : cls == "compound" ? "6/8" : ""; }

void print_scores(const std::string& name, const Scores& s, bool aubio) {
    std::printf("  %-16s n=%-3d hitdna %-22s ternary %-3d", name.c_str(), s.tempo.n, s.tempo.str().c_str(), s.tempo.ternary);
    if (aubio) std::printf("| aubio printed %-22s | aubio beat median %-22s", s.aubio_printed.str().c_str(), s.aubio_median.str().c_str());
    std::printf("| meter %d / %d\n", s.meter_right, s.meter_n);
}

}  // namespace

int main(int argc, char** argv) {
    bench::RenderSet set{k_dir + "/make_styles.py", k_dir + "/truth.jsonl", "/usr/bin/python3", "bench-styles", "all"};
    bool use_aubio = true, verbose = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--work" && i + 1 < argc) set.work = argv[++i];
        else if (a == "--split" && i + 1 < argc) set.split = argv[++i];
        else if (a == "--no-aubio") use_aubio = false;
        else if (a == "-v" || a == "--verbose") verbose = true;
        else {
            std::fprintf(a == "-h" || a == "--help" ? stdout : stderr,
                         "usage: bench_styles [--work DIR] [--split tune|report|all] [--no-aubio] [-v]\n"
                         "Renders the songs of data/eval/styles (truth from MIDI) and scores hitdna's tempo and meter\n"
                         "on them, per split and kind, beside aubio.\n");
            return a == "-h" || a == "--help" ? 0 : 2;
        }
    }
    const std::string aubio = use_aubio ? core::find_executable("aubio") : "";
    std::vector<json> songs;
    try {
        songs = bench::render_truth_set(set);
    } catch (const std::exception& e) {
        std::cerr << "bench_styles: " << e.what() << "\n";
        return 1;
    }
    std::map<std::string, Scores> by_split, by_kind;
    std::vector<std::string> misses;
    double seconds = 0;
    for (const auto& t : songs) {
        auto t0 = std::chrono::steady_clock::now();
        const dna::Dna d = analysis::analyze_file(t["wav"]);
        seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const double truth = t["beat_bpm"];
        const std::string split = t["split"], kind = t["split"].get<std::string>() + " " + t["kind"].get<std::string>(),
                          meter = t["meter"], want = meter_word(t["meter_class"]);
        std::optional<double> printed, median;
        if (!aubio.empty()) {
            printed = bench::aubio_tempo_printed(aubio, t["wav"]);
            median = bench::median_interval_bpm(bench::aubio_beats(aubio, t["wav"]));
        }
        for (Scores* s : {&by_split[split], &by_kind[kind], &by_kind[split + " " + meter]}) {
            s->tempo.add(truth, d.audio.bpm);
            if (!aubio.empty()) {
                s->aubio_printed.add(truth, printed);
                s->aubio_median.add(truth, median);
            }
            if (!want.empty()) {
                ++s->meter_n;
                s->meter_right += d.audio.meter == want;
            }
        }
        char line[320];
        std::snprintf(line, sizeof line, "%-28s %-6s %-5s truth %7.2f  hitdna %7.2f (x%.3f)  meter %s -> %s  aubio %7.2f / %7.2f  [%s]",
                      t["id"].get<std::string>().c_str(), split.c_str(), meter.c_str(), truth, d.audio.bpm.value_or(0),
                      d.audio.bpm.value_or(0) / truth, want.empty() ? "-" : want.c_str(), d.audio.meter.c_str(), printed.value_or(0),
                      median.value_or(0), t["source"].get<std::string>().c_str());
        const bool ok = d.audio.bpm && std::abs(*d.audio.bpm / truth - 1) <= 0.04;
        if (!ok || (!want.empty() && d.audio.meter != want)) misses.push_back(line);
        if (verbose) {
            std::printf("%s\n", line);
            std::fflush(stdout);
        }
    }
    std::printf("\nmisses (tempo outside 4 %% or meter wrong):\n");
    for (const auto& m : misses) std::printf("  %s\n", m.c_str());
    std::printf("\ntempo Acc1 / Acc2 (x2/3, x3/2 count as errors; 'ternary' = how many were x2/3, x3/2, x4/3, x3/4) and meter\n");
    for (const auto& [name, s] : by_split) print_scores("split " + name, s, !aubio.empty());
    for (const auto& [name, s] : by_kind) print_scores(name, s, !aubio.empty());
    std::printf("\nanalysis time %.1f s for %zu songs (hitdna, one core)\n", seconds, songs.size());
    return 0;
}
