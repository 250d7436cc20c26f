// bench_feedback: engagement events at scale. Builds a catalog of N tracks (one analyzed DNA
// reused under N content ids), writes M events as JSON Lines, and times parsing + applying
// them, then a replay of the same file (every event already applied), then verifies.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "usage.hpp"
#include "hitdna/analysis/analyze.hpp"
#include "hitdna/learn/engagement.hpp"
#include "hitdna/store/catalog.hpp"

using namespace hitdna;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr const char* k_usage =
    "bench_feedback: feedback event throughput and engagement totals on a synthetic catalog.\n"
    "usage: bench_feedback [--tracks N] [--events M] [--work DIR]\n";

int main(int argc, char** argv) {
    if (bench::wants_help(argc, argv)) return bench::print_usage(k_usage, true);
    size_t n_tracks = 2000, n_events = 1000000;
    std::string work = "bench-feedback";
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string a = argv[i];
        if (a == "--tracks") n_tracks = size_t(std::atoll(argv[i + 1]));
        else if (a == "--events") n_events = size_t(std::atoll(argv[i + 1]));
        else if (a == "--work") work = argv[i + 1];
        else {
            return bench::print_usage(k_usage, false);
        }
    }
    fs::remove_all(work);
    fs::create_directories(work);
    const std::string db = work + "/feedback.db";
    std::vector<float> tone(22050 * 4);
    for (size_t i = 0; i < tone.size(); ++i) tone[i] = 0.3f * float(std::sin(2 * 3.14159265 * 220 * double(i) / 22050)) * ((i / 5512) % 2 ? 1.0f : 0.3f);
    auto d = analysis::analyze_samples(tone.data(), tone.size(), 22050, 1, "tone");
    store::Catalog cat(db, store::Catalog::Mode::read_write);
    auto t0 = Clock::now();
    for (size_t i = 0; i < n_tracks; ++i) {
        store::TrackMeta m;
        m.title = "t" + std::to_string(i);
        cat.put_track("bench-" + std::to_string(i), "/bench/" + std::to_string(i), m, d);
    }
    const double setup_s = std::chrono::duration<double>(Clock::now() - t0).count();
    const std::string file = work + "/events.jsonl";
    {
        std::ofstream out(file);
        std::mt19937 rng(1);
        for (size_t i = 0; i < n_events; ++i) {
            out << "{\"id\":\"e" << i << "\",\"track\":" << 1 + rng() % n_tracks << ",\"plays\":" << 1 + rng() % 20 << ",\"completion\":" << double(rng() % 101) / 100
                << ",\"likes\":" << rng() % 3 << ",\"shares\":" << rng() % 2 << ",\"skips\":" << rng() % 4 << "}\n";
        }
    }
    auto run = [&](const char* what) {
        auto t = Clock::now();
        std::ifstream in(file);
        std::vector<learn::Problem> problems;
        auto events = learn::parse_events(in, problems);
        const double parse_s = std::chrono::duration<double>(Clock::now() - t).count();
        auto r = learn::apply_events(cat, events, {});
        const double total = std::chrono::duration<double>(Clock::now() - t).count();
        std::printf("| %s | %zu | %lld | %lld | %.1f s (parse %.1f s) | %.0f events/s |\n", what, events.size(), (long long)r.applied, (long long)r.duplicates, total,
                    parse_s, double(events.size()) / total);
    };
    std::printf("## %zu events over %zu tracks (catalog set up in %.1f s)\n", n_events, n_tracks, setup_s);
    std::printf("| run | events | applied | already applied | time | rate |\n|---|---|---|---|---|---|\n");
    run("first ingest (goal: 1 M in <= 60 s)");
    run("replay of the same file (idempotent)");
    auto t = Clock::now();
    auto problems = cat.verify();
    std::printf("db verify: %s (%.1f s)\n", problems.empty() ? "ok" : problems.front().c_str(), std::chrono::duration<double>(Clock::now() - t).count());
    return problems.empty() ? 0 : 1;
}
