// bench_sync: `hitdna sync qdrant` at scale against the loopback fake Qdrant (tests/
// fake_qdrant.py). Builds a catalog of N synthetic tracks with S sections each, then
//   1. a full sync of a catalog of N/10 tracks and of N tracks: wall time, tracks and points
//      per second, bytes sent, hitdna's CPU time and peak RSS (wait4), the fake's CPU time;
//      the peak RSS of both runs side by side shows whether memory grows with the catalog, and
//      the JSON sent is what a sync that loaded the catalog at once would have to hold;
//   2. a sync killed (SIGKILL) once half of the track points have landed, then resumed:
//      how many track points had landed, how many the resumed run sent, how many it found
//      already landed, and how many points the fake received twice with identical content.
// The fake validates 1 request body in --validate-every against the OpenAPI document (the
// test suite validates every one); its semantic checks run on every request.
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "usage.hpp"
#include "../tests/fake_qdrant_proc.hpp"
#include "../tests/synthetic.hpp"

using namespace hitdna;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

struct Run {
    int status = -1;
    double wall_s = 0, cpu_s = 0;
    long max_rss_kb = 0;
    json report;
};

pid_t spawn_sync(const std::string& url, const std::string& collection, const std::string& db, const std::string& out_file) {
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        execl(HITDNA_BIN, HITDNA_BIN, "sync", "qdrant", "--url", url.c_str(), "--collection", collection.c_str(), "--db", db.c_str(), "-f", "json",
              "--progress", "never", (char*)nullptr);
        _exit(127);
    }
    return pid;
}

Run finish(pid_t pid, Clock::time_point t0, const std::string& out_file) {
    Run r;
    int st = 0;
    struct rusage ru{};
    wait4(pid, &st, 0, &ru);
    r.wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
    r.cpu_s = double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    r.max_rss_kb = ru.ru_maxrss;
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
    std::ifstream in(out_file);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    r.report = json::parse(text, nullptr, false);
    return r;
}

// CPU seconds used so far by a process (utime + stime from /proc).
double cpu_of(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto p = s.rfind(')');
    if (p == std::string::npos) return 0;
    std::istringstream f(s.substr(p + 2));
    std::string x;
    double ut = 0, st = 0;
    for (int i = 3; i <= 15 && f >> x; ++i) {
        if (i == 14) ut = std::atof(x.c_str());
        if (i == 15) st = std::atof(x.c_str());
    }
    return (ut + st) / double(sysconf(_SC_CLK_TCK));
}

void build(const std::string& db, int n, int sections) {
    auto t0 = Clock::now();
    store::Catalog cat(db, store::Catalog::Mode::read_write);
    cat.set_durable_commits(false);  // building the fixture only
    const auto base = test::tone_dna();
    for (int i = 0; i < n; ++i) test::put_synthetic_track(cat, base, i, sections, 11);
    std::printf("catalog      %d tracks x %d sections built in %.1f s (%s)\n", n, sections, std::chrono::duration<double>(Clock::now() - t0).count(), db.c_str());
}

}  // namespace

constexpr const char* k_usage =
    "bench_sync: syncing a large synthetic catalog to the Qdrant stand-in (throughput, batches, resume).\n"
    "usage: bench_sync [--tracks N] [--sections S] [--validate-every K] [--work DIR]\n";

int main(int argc, char** argv) {
    if (bench::wants_help(argc, argv)) return bench::print_usage(k_usage, true);
    int n = 100000, sections = 8, validate_every = 50;
    std::string work = "bench-sync";
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string a = argv[i];
        if (a == "--tracks") n = std::atoi(argv[i + 1]);
        else if (a == "--sections") sections = std::atoi(argv[i + 1]);
        else if (a == "--validate-every") validate_every = std::atoi(argv[i + 1]);
        else if (a == "--work") work = argv[i + 1];
        else {
            return bench::print_usage(k_usage, false);
        }
    }
    fs::remove_all(work);
    fs::create_directories(work);
    const std::string small_db = work + "/small.db", big_db = work + "/big.db";
    build(small_db, std::max(1, n / 10), sections);
    build(big_db, n, sections);
    test::FakeQdrant q({"--validate-every", std::to_string(validate_every)});
    const pid_t fake_pid = q.pid();
    std::printf("fake         %s, validating 1 request body in %d against the OpenAPI document\n", q.url().c_str(), validate_every);

    auto full_sync = [&](const std::string& db, const std::string& coll, int tracks) {
        const double fake_cpu0 = fake_pid ? cpu_of(fake_pid) : 0;
        auto t0 = Clock::now();
        Run r = finish(spawn_sync(q.url(), coll, db, work + "/" + coll + ".json"), t0, work + "/" + coll + ".json");
        const double fake_cpu = fake_pid ? cpu_of(fake_pid) - fake_cpu0 : 0;
        if (r.status != 0 || r.report.is_discarded()) {
            std::printf("sync %s failed (status %d)\n", coll.c_str(), r.status);
            std::exit(1);
        }
        const double points = r.report["tracks_upserted"].get<double>() + r.report["sections_upserted"].get<double>();
        std::printf("sync %-7s %d tracks + %.0f section points in %.1f s: %.0f tracks/s, %.0f points/s, %.1f MB/s (%lld requests, %.0f MB JSON)\n",
                    coll.c_str(), tracks, r.report["sections_upserted"].get<double>(), r.wall_s, tracks / r.wall_s, points / r.wall_s,
                    r.report["bytes_sent"].get<double>() / 1e6 / r.wall_s, (long long)r.report["requests"].get<int64_t>(), r.report["bytes_sent"].get<double>() / 1e6);
        std::printf("             hitdna CPU %.1f s (%.0f tracks per CPU second), peak RSS %.1f MB; fake CPU %.1f s\n", r.cpu_s, tracks / std::max(1e-9, r.cpu_s),
                    r.max_rss_kb / 1024.0, fake_cpu);
        return r;
    };
    Run small = full_sync(small_db, "small", std::max(1, n / 10));
    Run big = full_sync(big_db, "big", n);
    std::printf("memory       peak RSS %.1f MB at %d tracks vs %.1f MB at %d tracks (x%.2f for x%.0f the tracks); the JSON sent was %.0f MB\n",
                small.max_rss_kb / 1024.0, std::max(1, n / 10), big.max_rss_kb / 1024.0, n, double(big.max_rss_kb) / std::max(1L, small.max_rss_kb),
                double(n) / std::max(1, n / 10), big.report["bytes_sent"].get<double>() / 1e6);

    // Killed half-way, then resumed.
    const std::string coll = "resume";
    auto t0 = Clock::now();
    pid_t pid = spawn_sync(q.url(), coll, big_db, work + "/killed.json");
    int64_t landed = 0;
    for (;;) {
        auto st = q.stats();
        if (st["collections"].contains(coll)) landed = st["collections"][coll]["points"].get<int64_t>();
        if (landed >= n / 2) break;
        int status = 0;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            std::printf("the sync ended before it could be killed\n");
            return 1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill(pid, SIGKILL);
    finish(pid, t0, work + "/killed.json");
    const auto before = q.stats();
    landed = before["collections"][coll]["points"].get<int64_t>();
    const int64_t sections_landed = before["collections"].contains(coll + "_sections") ? before["collections"][coll + "_sections"]["points"].get<int64_t>() : 0;
    t0 = Clock::now();
    Run resumed = finish(spawn_sync(q.url(), coll, big_db, work + "/resumed.json"), t0, work + "/resumed.json");
    const auto after = q.stats();
    if (resumed.status != 0) {
        std::printf("resumed sync failed (status %d)\n", resumed.status);
        return 1;
    }
    const int64_t sent = resumed.report["tracks_upserted"].get<int64_t>();
    std::printf("kill -9      after %lld of %d track points (%lld section points) had landed\n", (long long)landed, n, (long long)sections_landed);
    std::printf("resume       sent %lld tracks (%lld were missing), found %lld in flight already landed, in %.1f s; track points sent twice: %lld\n",
                (long long)sent, (long long)(n - landed), (long long)resumed.report["already_landed"].get<int64_t>(), resumed.wall_s,
                (long long)std::max<int64_t>(0, sent - (n - landed)));
    std::printf("             points received twice with identical content (all collections, whole run): %lld; final: %lld track points, %lld section points\n",
                (long long)(after["resent_points"].get<int64_t>() - before["resent_points"].get<int64_t>()),
                (long long)after["collections"][coll]["points"].get<int64_t>(), (long long)after["collections"][coll + "_sections"]["points"].get<int64_t>());
    std::printf("violations   %zu\n", after["violations"].size());
    return after["violations"].empty() && after["collections"][coll]["points"].get<int64_t>() == n ? 0 : 1;
}
