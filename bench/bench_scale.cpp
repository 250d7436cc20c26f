// bench_scale: what one query costs as the catalog grows (issue 18). For each size it builds
// a synthetic catalog (bench_sync's tracks: random vectors, S sections each), runs
// `hitdna index rebuild` on it, then starts `hitdna match --track ID -k 10` and `hitdna db
// stats` as a user would (a fresh process each, page cache warm after the first) and prints
// wall time (median of the runs) and peak RSS (wait4) per size, with how they grow.
// Not yet here (issue 18, later parts): vectors with the real catalog's covariance, batch
// throughput, recall@10 against exact search on held-out rows, the Qdrant stand-in beside it.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "usage.hpp"
#include "../tests/synthetic.hpp"

using namespace hitdna;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

struct Run {
    int status = -1;
    double wall_s = 0;
    long max_rss_kb = 0;
};

// Runs HITDNA_BIN with `args` (stdout and stderr to /dev/null): exit status, wall, peak RSS.
Run run_hitdna(const std::vector<std::string>& args) {
    std::vector<char*> argv;
    std::string bin = HITDNA_BIN;
    argv.push_back(bin.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    const auto t0 = Clock::now();
    const pid_t pid = fork();
    if (pid == 0) {
        const int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        execv(HITDNA_BIN, argv.data());
        _exit(127);
    }
    Run r;
    int status = 0;
    struct rusage ru {};
    wait4(pid, &status, 0, &ru);
    r.wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.max_rss_kb = ru.ru_maxrss;
    return r;
}

void build(const std::string& db, int n, int sections) {
    const auto t0 = Clock::now();
    store::Catalog cat(db, store::Catalog::Mode::read_write);
    cat.set_durable_commits(false);  // building the fixture only
    const auto base = test::tone_dna();
    for (int i = 0; i < n; ++i) test::put_synthetic_track(cat, base, i, sections, 11);
    std::printf("catalog     %7d tracks x %d sections built in %.1f s\n", n, sections, std::chrono::duration<double>(Clock::now() - t0).count());
}

// Median wall and largest RSS of `runs` runs (the first warms the page cache and is dropped).
Run median_of(const std::vector<std::string>& args, int runs) {
    run_hitdna(args);
    std::vector<double> walls;
    Run out;
    for (int i = 0; i < runs; ++i) {
        Run r = run_hitdna(args);
        if (r.status != 0) return r;
        walls.push_back(r.wall_s);
        out.max_rss_kb = std::max(out.max_rss_kb, r.max_rss_kb);
        out.status = 0;
    }
    std::sort(walls.begin(), walls.end());
    out.wall_s = walls[walls.size() / 2];
    return out;
}

}  // namespace

constexpr const char* k_usage =
    "bench_scale: one query's cost as the catalog grows (hitdna match --track, db stats, index rebuild).\n"
    "usage: bench_scale [--sizes N,N,...] [--sections S] [--runs R] [--work DIR]\n"
    "  --sizes     catalog sizes in tracks (default 10000,100000)\n"
    "  --sections  sections per track (default 8)\n"
    "  --runs      runs per measurement, median reported (default 5)\n"
    "  --work      catalogs (default /tmp/hitdna-bench-scale; kept between runs, rebuilt when missing)\n";

int main(int argc, char** argv) {
    if (bench::wants_help(argc, argv)) return bench::print_usage(k_usage, true);
    std::vector<int> sizes = {10000, 100000};
    int sections = 8, runs = 5;
    std::string work = "/tmp/hitdna-bench-scale";
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--sizes") {
            sizes.clear();
            std::stringstream ss(argv[i + 1]);
            for (std::string x; std::getline(ss, x, ',');) sizes.push_back(std::atoi(x.c_str()));
        } else if (a == "--sections") {
            sections = std::atoi(argv[i + 1]);
        } else if (a == "--runs") {
            runs = std::max(1, std::atoi(argv[i + 1]));
        } else if (a == "--work") {
            work = argv[i + 1];
        } else {
            return bench::print_usage(k_usage, false);
        }
    }
    fs::create_directories(work);
    std::printf("| tracks | index rebuild | match --track 5 -k 10: wall p50, peak RSS | db stats: wall p50, peak RSS |\n|---|---|---|---|\n");
    for (int n : sizes) {
        const std::string db = work + "/catalog-" + std::to_string(n) + "x" + std::to_string(sections) + ".db";
        double rebuild_s = 0;
        if (!fs::exists(db)) {
            build(db, n, sections);
            const Run r = run_hitdna({"index", "rebuild", "--db", db});
            if (r.status != 0) {
                std::printf("index rebuild failed (status %d)\n", r.status);
                return 1;
            }
            rebuild_s = r.wall_s;
        }
        const Run m = median_of({"match", "--track", "5", "-k", "10", "--db", db, "-f", "json"}, runs);
        const Run s = median_of({"db", "stats", "--db", db, "-f", "json"}, runs);
        if (m.status != 0 || s.status != 0) {
            std::printf("a query failed (match %d, stats %d)\n", m.status, s.status);
            return 1;
        }
        std::printf("| %d | %s | %.0f ms, %.0f MB | %.0f ms, %.0f MB |\n", n, rebuild_s > 0 ? (std::to_string(int(rebuild_s)) + " s").c_str() : "(kept)",
                    m.wall_s * 1e3, m.max_rss_kb / 1024.0, s.wall_s * 1e3, s.max_rss_kb / 1024.0);
        std::fflush(stdout);
    }
    return 0;
}
