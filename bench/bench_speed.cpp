// Speed and memory benchmark: hitdna analyze against aubio tempo and against decoding alone,
// on the same files in the same run.
//   - full four-layer analysis of a 3-minute 44.1 kHz stereo OGG vs `aubio tempo` (median of N)
//   - the same vs decoding alone (libsndfile, no analysis)
//   - WAV input: realtime factor on one core
//   - peak memory (max RSS of the hitdna process) for the 3-minute song and a 60-minute file
//   - --jobs 1 vs --jobs 2 on a batch of files
// Usage: bench_speed [--song FILE] [--runs N] [--work DIR] [--hitdna BIN] [--skip-long]
#include <sndfile.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "usage.hpp"
#include "hitdna/analysis/analyze.hpp"
#include "hitdna/audio/source.hpp"
#include "hitdna/core/subprocess.hpp"

using namespace hitdna;
namespace fs = std::filesystem;

namespace {

struct Run {
    double wall_s = 0;
    long max_rss_kb = 0;
    int exit_code = -1;
};

// Runs argv with stderr to /dev/null and stdout captured; wall time and peak RSS of the
// child. fork + exec, not posix_spawn: a vfork-style child inherits the parent's RSS
// high-water mark into ru_maxrss, and the parent here is kept small for the same reason
// (every decode and in-process measurement runs in a child: bench_speed --worker ...).
Run run_child(const std::vector<std::string>& argv, std::string* out = nullptr) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    int fds[2];
    if (pipe(fds) != 0) return {};
    auto t0 = std::chrono::steady_clock::now();
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(fds[1], 1);
        dup2(devnull, 2);
        close(fds[0]);
        execvp(args[0], args.data());
        _exit(127);
    }
    close(fds[1]);
    Run r;
    char buf[4096];
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof buf)) > 0)
        if (out) out->append(buf, size_t(n));
    close(fds[0]);
    int status = 0;
    struct rusage ru{};
    wait4(pid, &status, 0, &ru);
    r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.max_rss_kb = ru.ru_maxrss;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

// Decodes `song`, takes `seconds` from its middle (looping if shorter), resamples to 44.1 kHz
// stereo by linear interpolation and writes it with libsndfile in the format of `out`.
void make_excerpt(const std::string& song, const std::string& out, double seconds, int format) {
    auto src = audio::open(song);
    const int sr = src->info().sample_rate, ch = src->info().channels;
    std::vector<float> all, buf(size_t(sr) * size_t(ch));
    size_t n;
    while ((n = src->read(buf.data(), size_t(sr))) > 0) all.insert(all.end(), buf.begin(), buf.begin() + long(n * size_t(ch)));
    const size_t frames = all.size() / size_t(ch);
    if (frames == 0) throw std::runtime_error(song + ": empty");
    SF_INFO info{};
    info.samplerate = 44100;
    info.channels = 2;
    info.format = format;
    SNDFILE* f = sf_open(out.c_str(), SFM_WRITE, &info);
    if (!f) throw std::runtime_error(out + ": " + sf_strerror(nullptr));
    if ((format & SF_FORMAT_TYPEMASK) == SF_FORMAT_OGG) {
        double q = 0.4;  // ~128 kb/s, what people download
        sf_command(f, SFC_SET_VBR_ENCODING_QUALITY, &q, sizeof q);
    }
    std::vector<float> chunk;
    const size_t total = size_t(seconds * 44100);
    for (size_t i = 0; i < total; ++i) {
        const double pos = std::fmod(double(i) * sr / 44100.0, double(frames - 1));
        const size_t p0 = size_t(pos);
        const double fr = pos - double(p0);
        for (int c = 0; c < 2; ++c) {
            const int sc = std::min(c, ch - 1);
            chunk.push_back(float(all[p0 * size_t(ch) + size_t(sc)] * (1 - fr) + all[(p0 + 1) * size_t(ch) + size_t(sc)] * fr));
        }
        if (chunk.size() >= 2 * 65536 || i + 1 == total) {
            sf_writef_float(f, chunk.data(), sf_count_t(chunk.size() / 2));
            chunk.clear();
        }
    }
    sf_close(f);
}

double decode_only(const std::string& path) {
    auto t0 = std::chrono::steady_clock::now();
    auto src = audio::open(path);
    std::vector<float> buf(16384 * size_t(src->info().channels));
    volatile float sink = 0;
    size_t n;
    while ((n = src->read(buf.data(), 16384)) > 0) sink = sink + buf[0];
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

// Child-side work, so that the measuring parent never holds decoded audio.
int worker(int argc, char** argv) {
    const std::string mode = argv[2];
    try {
        if (mode == "excerpt" && argc == 7) {
            const std::string fmt = argv[6];
            make_excerpt(argv[3], argv[4], std::atof(argv[5]),
                         fmt == "ogg" ? (SF_FORMAT_OGG | SF_FORMAT_VORBIS) : (SF_FORMAT_WAV | SF_FORMAT_PCM_16));
            return 0;
        }
        if (mode == "decode" && argc == 4) {
            std::printf("%.6f\n", decode_only(argv[3]));
            return 0;
        }
        if ((mode == "analyze" || mode == "analyze-one-thread") && argc == 4) {
            analysis::AnalyzeOptions options;
            options.prefetch = mode == "analyze";
            auto t0 = std::chrono::steady_clock::now();
            (void)analysis::analyze_file(argv[3], options);
            std::printf("%.6f\n", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
            return 0;
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_speed worker: %s\n", e.what());
        return 1;
    }
    return 2;
}

constexpr const char* k_usage =
    "bench_speed: analysis wall time and memory per song, beside decoding alone and aubio.\n"
    "usage: bench_speed --song FILE [--runs N] [--work DIR] [--hitdna BIN] [--skip-long]\n";

int main(int argc, char** argv) {
    if (bench::wants_help(argc, argv)) return bench::print_usage(k_usage, true);
    if (argc >= 3 && std::string(argv[1]) == "--worker") return worker(argc, argv);
    const std::string self = fs::canonical("/proc/self/exe").string();
    std::string song, work = "bench-speed", hitdna_bin = HITDNA_BIN;
    int runs = 5;
    bool skip_long = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
        if (a == "--song") song = next();
        else if (a == "--runs") runs = std::max(1, std::atoi(next().c_str()));
        else if (a == "--work") work = next();
        else if (a == "--hitdna") hitdna_bin = next();
        else if (a == "--skip-long") skip_long = true;
        else {
            return bench::print_usage(k_usage, false);
        }
    }
    if (song.empty()) {
        std::cerr << "bench_speed: --song FILE is required (a real recording; scripts/fetch-music.sh --demo)\n";
        return 2;
    }
    fs::create_directories(work);
    const std::string ogg = work + "/song3min.ogg", wav = work + "/song3min.wav", long_wav = work + "/song60min.wav";
    auto in_child = [&](const std::vector<std::string>& args) {
        std::vector<std::string> argv2 = {self, "--worker"};
        argv2.insert(argv2.end(), args.begin(), args.end());
        std::string out;
        auto r = run_child(argv2, &out);
        if (r.exit_code != 0) {
            std::cerr << "bench_speed: worker " << args[0] << " failed\n";
            std::exit(1);
        }
        return std::atof(out.c_str());
    };
    if (!fs::exists(ogg)) in_child({"excerpt", song, ogg, "180", "ogg"});
    if (!fs::exists(wav)) in_child({"excerpt", song, wav, "180", "wav"});
    const std::string aubio = core::find_executable("aubio");

    std::printf("3-minute 44.1 kHz stereo test files from %s\n", song.c_str());
    std::printf("median of %d runs, wall time, one process each (includes process start)\n\n", runs);
    std::vector<double> t_ours_ogg, t_inproc_ogg, t_aubio_ogg, t_dec_ogg, t_ours_wav, t_aubio_wav, t_dec_wav, t_inproc_wav;
    long rss_3min = 0;
    for (int r = 0; r < runs; ++r) {
        auto a = run_child({hitdna_bin, "analyze", "-f", "json", "--jobs", "1", ogg});
        if (a.exit_code != 0) {
            std::cerr << "bench_speed: hitdna analyze failed on " << ogg << "\n";
            return 1;
        }
        t_ours_ogg.push_back(a.wall_s);
        rss_3min = std::max(rss_3min, a.max_rss_kb);
        t_ours_wav.push_back(run_child({hitdna_bin, "analyze", "-f", "json", "--jobs", "1", wav}).wall_s);
        if (!aubio.empty()) {
            t_aubio_ogg.push_back(run_child({aubio, "tempo", ogg}).wall_s);
            t_aubio_wav.push_back(run_child({aubio, "tempo", wav}).wall_s);
        }
        t_dec_ogg.push_back(in_child({"decode", ogg}));
        t_dec_wav.push_back(in_child({"decode", wav}));
        t_inproc_wav.push_back(in_child({"analyze-one-thread", wav}));
        t_inproc_ogg.push_back(in_child({"analyze", ogg}));
    }
    const double ours_ogg = median(t_ours_ogg), dec_ogg = median(t_dec_ogg), aub_ogg = median(t_aubio_ogg);
    std::printf("%-44s %8s %10s\n", "", "seconds", "x realtime");
    auto row = [](const char* what, double s) { std::printf("%-44s %8.3f %10.0f\n", what, s, s > 0 ? 180.0 / s : 0.0); };
    row("OGG: hitdna analyze (all four layers)", ours_ogg);
    row("OGG: hitdna analyze (no process start)", median(t_inproc_ogg));
    row("OGG: aubio tempo (tempo only)", aub_ogg);
    row("OGG: decode only (libsndfile, no process start)", dec_ogg);
    row("WAV: hitdna analyze (process)", median(t_ours_wav));
    row("WAV: hitdna analyze (no process start, one core)", median(t_inproc_wav));
    row("WAV: aubio tempo", median(t_aubio_wav));
    row("WAV: decode only", median(t_dec_wav));
    std::printf("\ngoal: OGG analyze <= aubio tempo: %s (%.3f vs %.3f s)\n", aubio.empty() ? "aubio missing" : ours_ogg <= aub_ogg ? "met" : "NOT met", ours_ogg, aub_ogg);
    // Like with like: both without process start.
    const double inproc_ogg = median(t_inproc_ogg);
    std::printf("goal: OGG analyze <= 2x decode: %s (%.2fx; decoding overlaps analysis on a second thread)\n",
                inproc_ogg <= 2 * dec_ogg ? "met" : "NOT met", inproc_ogg / dec_ogg);
    std::printf("goal: WAV >= 500x realtime on one core: %s (%.0fx in-process, %.0fx with process start)\n",
                180.0 / median(t_inproc_wav) >= 500 ? "met" : "NOT met", 180.0 / median(t_inproc_wav), 180.0 / median(t_ours_wav));
    std::printf("peak memory, 3-minute song: %.1f MB (goal <= 150 MB)\n", rss_3min / 1024.0);

    if (!skip_long) {
        if (!fs::exists(long_wav)) in_child({"excerpt", song, long_wav, "3600", "wav"});
        auto l = run_child({hitdna_bin, "analyze", "-f", "json", "--jobs", "1", long_wav});
        std::printf("peak memory, 60-minute WAV: %.1f MB in %.1f s (goal <= 400 MB)%s\n", l.max_rss_kb / 1024.0, l.wall_s,
                    l.exit_code == 0 ? "" : "  [FAILED]");
    }
    // Parallel scaling: 4 WAV files (decoding is negligible, so one thread per file), --jobs 1
    // vs --jobs 2.
    std::vector<std::string> batch1 = {hitdna_bin, "analyze", "-f", "jsonl", "--jobs", "1"}, batch2 = batch1;
    batch2[5] = "2";
    for (int k = 0; k < 4; ++k) {
        batch1.push_back(wav);
        batch2.push_back(wav);
    }
    const double j1 = run_child(batch1).wall_s, j2 = run_child(batch2).wall_s;
    std::printf("--jobs scaling, 4 files: jobs=1 %.2f s, jobs=2 %.2f s, speed-up %.2fx on %u cores\n", j1, j2, j1 / j2,
                std::thread::hardware_concurrency());
    return 0;
}
