// bench_sketch: arrangement sketches of targets from real songs, rendered and heard back, in
// one run (issue 17).
//   Targets: every song (30 s or longer: the packages also hold sound effects and jingles) of
//   six Debian packages (ingested once by the hitdna binary) becomes a target as enrich makes it from that one hit: its tempo, key and mode, form,
//   first hook, builds, drops, energy arc and production. Each is sketched (seed 1), rendered
//   through libfluidsynth (FluidR3_GM) and mastered, then analyzed by hitdna and compared with
//   its target. Nothing of the render is fitted to the analyzer: the sketch follows the plan,
//   the master follows BS.1770 loudness and the side/mid energy.
//   Peers in the same run: aubio's beats (60 / median inter-beat interval) for tempo, ffmpeg's
//   EBU R128 meter for loudness and true peak, and fluidsynth's own command line rendering each
//   sketch's MIDI file for the render time (synthesis alone, the same synthesis settings).
//   Split: songs at even positions (by path) are the report split, odd the tune split; the
//   figures are printed for both.
// Goals (issue 17, report split): tempo within 1 %, key exact >= 95 %, section boundaries
// F@3 s >= 0.9, first hook within one bar, energy-arc r >= 0.85, render <= 3 s per 3 minutes.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "hitdna/analysis/analyze.hpp"
#include "hitdna/audio/wav.hpp"
#include "hitdna/core/error.hpp"
#include "hitdna/core/files.hpp"
#include "hitdna/core/subprocess.hpp"
#include "hitdna/dna/dna.hpp"
#include "hitdna/enrich/target.hpp"
#include "hitdna/sketch/master.hpp"
#include "hitdna/sketch/midi.hpp"
#include "hitdna/sketch/render.hpp"
#include "hitdna/sketch/sketch.hpp"
#include "hitdna/store/catalog.hpp"
#include "hitdna/store/filter.hpp"
#include "hitdna/validate/validate.hpp"
#include "../tests/brief_probe.hpp"
#include "debian_songs.hpp"
#include "usage.hpp"

using namespace hitdna;
namespace fs = std::filesystem;

namespace {

constexpr const char* k_usage =
    "bench_sketch: targets from real songs sketched, rendered (libfluidsynth) and heard back by hitdna, aubio and ffmpeg;\n"
    "             the render time beside fluidsynth's command line playing the same MIDI files (synthesis alone).\n"
    "usage: bench_sketch [--db CATALOG] [--music DIR] [--work DIR] [--limit N] [--targets-only] [--retempo BPM,...] [-v]\n"
    "  --db       a catalog of real songs (default: the Debian songs ingested into WORK/debian-songs-6.db: singularity-music, openclonk-data, nexuiz-music, starfighter-data, planetblupi-music-ogg, pushover-data)\n"
    "  --music    where scripts/fetch-music.sh put the packages (default ~/.cache/hitdna/music)\n"
    "  --work     renders and the catalog (default /tmp/hitdna-bench-sketch)\n"
    "  --limit N  at most N targets (default all)\n"
    "  --targets-only  write WORK/sketch-N.target.json for every song and stop (no sketch, render or analysis)\n"
    "  --retempo BPM,...  instead of the run: the tune split's targets of 5 minutes or less moved to each tempo (the same\n"
    "             bars, no tempo changes), sketched, rendered and heard by hitdna: at which tempo octave (the slow-kit check)\n";

// F-measure of boundary times within +-window s: each reference matched at most once
// (greedy by distance), as mir_eval's hit rate counts them.
double boundary_f(const std::vector<double>& ref, const std::vector<double>& est, double window) {
    if (ref.empty() && est.empty()) return 1;
    if (ref.empty() || est.empty()) return 0;
    std::vector<std::tuple<double, size_t, size_t>> pairs;
    for (size_t i = 0; i < ref.size(); ++i)
        for (size_t j = 0; j < est.size(); ++j)
            if (std::abs(ref[i] - est[j]) <= window) pairs.push_back({std::abs(ref[i] - est[j]), i, j});
    std::sort(pairs.begin(), pairs.end());
    std::vector<char> ru(ref.size()), eu(est.size());
    int hits = 0;
    for (auto& [d, i, j] : pairs)
        if (!ru[i] && !eu[j]) ru[i] = eu[j] = 1, ++hits;
    const double p = double(hits) / double(est.size()), r = double(hits) / double(ref.size());
    return p + r > 0 ? 2 * p * r / (p + r) : 0;
}

// ffmpeg's EBU R128 summary: integrated loudness (LUFS) and true peak (dBFS).
std::pair<std::optional<double>, std::optional<double>> ffmpeg_r128(const std::string& wav) {
    auto r = core::run_process({"ffmpeg", "-nostats", "-hide_banner", "-i", wav, "-af", "ebur128=peak=true", "-f", "null", "-"});
    const auto at = r.err.rfind("Integrated loudness:");
    if (at == std::string::npos) return {};
    const std::string tail = r.err.substr(at);
    std::smatch m;
    std::optional<double> i, p;
    if (std::regex_search(tail, m, std::regex("I:\\s+(-?\\d+(?:\\.\\d+)?) LUFS"))) i = std::stod(m[1]);
    if (std::regex_search(tail, m, std::regex("Peak:\\s+(-?\\d+(?:\\.\\d+)?) dBFS"))) p = std::stod(m[1]);
    return {i, p};
}

// A target sketched (seed 1), rendered and mastered to its loudness and width, written to `wav`;
// the sketch, and the seconds the sketch, render and master took (not the write).
std::pair<sketch::Sketch, double> render_to(const enrich::Target& t, const std::string& wav) {
    const auto t0 = std::chrono::steady_clock::now();
    auto s = sketch::make_sketch(t);
    auto audio = sketch::render(s);
    sketch::MasterOptions mo;
    mo.target_lufs = t.production.integrated_lufs;
    mo.target_width = t.production.mean_width;
    sketch::master(audio.samples, audio.sample_rate, mo);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    audio::write_wav(wav, audio.samples, audio.sample_rate, 2);
    return {std::move(s), seconds};
}

// The render-time peer: fluidsynth's command line (fast render) playing the sketch's MIDI file
// through the same soundfont with the synthesis settings render() gives libfluidsynth (44.1 kHz,
// reverb on, chorus off, linear interpolation and none on the drum channel, samples loaded on
// demand, one core), its output discarded. Synthesis alone: no sketch making, no master, no
// file write. Wall seconds, process start included; nullopt when it fails.
std::optional<double> fluidsynth_cli_seconds(const sketch::Sketch& s, const std::string& work) {
    const std::string mid = work + "/peer.mid", cfg = work + "/peer.cfg";
    sketch::write_midi(mid, s);
    core::write_file_atomically(cfg, "interp 1\ninterpc 9 0\n");
    const auto t0 = std::chrono::steady_clock::now();
    core::ProcessResult r;
    try {
        r = core::run_process({"fluidsynth", "-n", "-i", "-q", "-f", cfg, "-r", "44100", "-T", "raw", "-O", "float", "-F", "/dev/null",
                               "-o", "audio.period-size=4096", "-o", "synth.chorus.active=0", "-o", "synth.reverb.active=1",
                               "-o", "synth.dynamic-sample-loading=1", "-o", "synth.cpu-cores=1", "-o", "synth.polyphony=256",
                               "-o", "synth.gain=0.5", sketch::find_soundfont(), mid});
    } catch (const Error&) {
        return std::nullopt;  // not installed: the summary says so
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (r.exit_code != 0) return std::nullopt;
    return seconds;
}

// A target moved to another tempo: the same bars (section times scaled), no tempo changes.
enrich::Target retempo(const enrich::Target& t, double bpm) {
    enrich::Target u = t;
    const double f = t.bpm / bpm;
    u.bpm = bpm;
    u.tempo_changes.clear();
    u.duration_s = 0;
    for (auto& s : u.sections) s.start_s *= f, s.duration_s *= f, u.duration_s += s.duration_s;
    if (u.first_hook_s) *u.first_hook_s *= f;
    for (auto& x : u.build_times_s) x *= f;
    for (auto& x : u.drop_times_s) x *= f;
    return u;
}

// --retempo: per tempo, how many renders hitdna hears at it (within 1 %), at double, at half.
void run_retempo(const std::vector<enrich::Target>& targets, const std::vector<double>& bpms, const std::string& work) {
    std::printf("| tempo | targets | heard at it (1 %%) | at double | at half | other |\n|---|---|---|---|---|---|\n");
    for (double bpm : bpms) {
        int n = 0, at = 0, dbl = 0, half = 0;
        for (const auto& t0 : targets) {
            const auto t = retempo(t0, bpm);
            if (t.duration_s > 600) continue;
            const std::string wav = work + "/retempo.wav";
            render_to(t, wav);
            const double heard = analysis::analyze_file(wav).audio.bpm.value_or(0);
            ++n;
            if (std::abs(heard / bpm - 1) <= 0.01) ++at;
            else if (std::abs(heard / (2 * bpm) - 1) <= 0.01) ++dbl;
            else if (std::abs(heard / (bpm / 2) - 1) <= 0.01) ++half;
        }
        std::printf("| %.0f BPM | %d | %d | %d | %d | %d |\n", bpm, n, at, dbl, half, n - at - dbl - half);
        std::fflush(stdout);
    }
}

struct Row {
    std::string name;
    bool report = false;
    double bpm = 0, heard_bpm = 0, aubio = 0, aubio_mean = 0, seconds = 0, render_s = 0;
    std::optional<double> peer_s;  // fluidsynth's command line, the same MIDI (synthesis alone)
    bool tempo_ok = false, aubio_ok = false, aubio_mean_ok = false, key_ok = false, hook_ok = false, has_hook = false;
    double f3 = 0, arc_r = 0, lufs_err = 99, true_peak = 0;
    std::string key, heard_key;
};

Row run_one(const enrich::Target& t, const std::string& name, const std::string& wav, const std::string& work) {
    Row row;
    row.name = name;
    row.bpm = t.bpm;
    row.seconds = t.duration_s;
    const auto [s, render_s] = render_to(t, wav);
    row.render_s = render_s;
    row.peer_s = fluidsynth_cli_seconds(s, work);
    const auto d = analysis::analyze_file(wav);
    row.heard_bpm = d.audio.bpm.value_or(0);
    row.tempo_ok = d.audio.bpm && std::abs(*d.audio.bpm / t.bpm - 1) <= 0.01;
    const auto ibi = test::aubio_intervals(wav);
    if (auto a = test::aubio_median_bpm(ibi)) row.aubio = *a, row.aubio_ok = std::abs(*a / t.bpm - 1) <= 0.01;
    if (auto a = test::aubio_trimmed_mean_bpm(ibi)) row.aubio_mean = *a, row.aubio_mean_ok = std::abs(*a / t.bpm - 1) <= 0.01;
    row.key = t.key + " " + t.mode;
    row.heard_key = d.audio.key + " " + d.audio.mode;
    row.key_ok = dna::pitch_index(d.audio.key) == s.tonic && d.audio.mode == t.mode;
    std::vector<double> ref, est;
    for (size_t i = 1; i < t.sections.size(); ++i) ref.push_back(t.sections[i].start_s);
    for (size_t i = 1; i < d.structure.sections.size(); ++i) est.push_back(d.structure.sections[i].start_s);
    row.f3 = boundary_f(ref, est, 3.0);
    row.has_hook = t.first_hook_s.has_value();
    row.hook_ok = row.has_hook && d.structure.first_hook_s && std::abs(*d.structure.first_hook_s - *t.first_hook_s) <= 240.0 / t.bpm;
    row.arc_r = validate::compare(d, t).energy_correlation;
    const auto [lufs, peak] = ffmpeg_r128(wav);
    if (lufs) row.lufs_err = std::abs(*lufs - t.production.integrated_lufs);
    row.true_peak = peak.value_or(99);
    return row;
}

void summary(const std::vector<Row>& rows, bool report) {
    int n = 0, tempo = 0, aubio = 0, aubio_mean = 0, key = 0, hooks = 0, hook_ok = 0, lufs = 0, peak = 0, arc = 0;
    double f3 = 0, r = 0, per3 = 0, worst = 0, peer3 = 0, peer_worst = 0;
    int peers = 0;
    for (const auto& x : rows) {
        if (x.report != report) continue;
        ++n;
        tempo += x.tempo_ok, aubio += x.aubio_ok, aubio_mean += x.aubio_mean_ok, key += x.key_ok, hooks += x.has_hook, hook_ok += x.hook_ok;
        lufs += x.lufs_err <= 1.0, peak += x.true_peak <= -1.0, arc += x.arc_r >= 0.85;
        f3 += x.f3, r += x.arc_r;
        per3 += x.render_s / x.seconds * 180, worst = std::max(worst, x.render_s / x.seconds * 180);
        if (x.peer_s) ++peers, peer3 += *x.peer_s / x.seconds * 180, peer_worst = std::max(peer_worst, *x.peer_s / x.seconds * 180);
    }
    if (!n) return;
    std::printf("\n### %s split: %d targets\n| measure | result | goal |\n|---|---|---|\n", report ? "report" : "tune", n);
    std::printf("| tempo within 1 %% (hitdna) | %d / %d | all |\n", tempo, n);
    std::printf("| tempo within 1 %% (aubio, 60 / median beat interval) | %d / %d | all |\n", aubio, n);
    std::printf("| tempo within 1 %% (aubio, 60 / mean of the intervals within 10 %% of the median) | %d / %d | all |\n", aubio_mean, n);
    std::printf("| key and mode exact (hitdna) | %d / %d (%.0f %%) | >= 95 %% |\n", key, n, 100.0 * key / n);
    std::printf("| section boundaries F@3 s, mean | %.3f | >= 0.9 |\n", f3 / n);
    std::printf("| first hook within one bar | %d / %d with a hook | all |\n", hook_ok, hooks);
    std::printf("| energy-arc r, mean; r >= 0.85 | %.3f; %d / %d | >= 0.85 |\n", r / n, arc, n);
    std::printf("| loudness within 1 LU of the target (ffmpeg ebur128) | %d / %d | all |\n", lufs, n);
    std::printf("| true peak <= -1 dBTP (ffmpeg ebur128) | %d / %d | all |\n", peak, n);
    std::printf("| render (sketch + libfluidsynth + master) per 3 minutes, mean / worst | %.2f / %.2f s | <= 3 s |\n", per3 / n, worst);
    if (peers)
        std::printf("| peer: fluidsynth command line, the same MIDI and synthesis settings (synthesis alone, process start included) per 3 minutes, mean / worst | %.2f / %.2f s (%d / %d ran) | - |\n",
                    peer3 / peers, peer_worst, peers, n);
    else std::printf("| peer: fluidsynth command line | did not run (is the fluidsynth package installed?) | - |\n");
}

}  // namespace

int main(int argc, char** argv) {
    if (bench::wants_help(argc, argv)) return bench::print_usage(k_usage, true);
    std::string db, work = "/tmp/hitdna-bench-sketch";
    std::string music = std::string(std::getenv("HOME") ? std::getenv("HOME") : "/root") + "/.cache/hitdna/music";
    size_t limit = 1000;
    bool verbose = false, targets_only = false;
    std::vector<double> retempo_bpms;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--db" && i + 1 < argc) db = argv[++i];
        else if (a == "--music" && i + 1 < argc) music = argv[++i];
        else if (a == "--work" && i + 1 < argc) work = argv[++i];
        else if (a == "--limit" && i + 1 < argc) limit = size_t(std::atoll(argv[++i]));
        else if (a == "-v") verbose = true;
        else if (a == "--targets-only") targets_only = true;
        else if (a == "--retempo" && i + 1 < argc) {
            std::stringstream list(argv[++i]);
            for (std::string x; std::getline(list, x, ',');) retempo_bpms.push_back(std::atof(x.c_str()));
            if (retempo_bpms.empty() || std::any_of(retempo_bpms.begin(), retempo_bpms.end(), [](double b) { return !(b >= 30 && b <= 300); }))
                return bench::print_usage(k_usage, false);
        }
        else return bench::print_usage(k_usage, false);
    }
    try {
        fs::create_directories(work);
        // Six packages: bench_brief's four, and two whose songs no sketch rule was chosen on.
        std::vector<std::string> packages = bench::four_packages();
        packages.insert(packages.end(), {"planetblupi-music-ogg", "pushover-data"});
        const std::string catalog = bench::debian_songs_catalog(HITDNA_BIN, "bench_sketch", db, music, work, packages, "debian-songs-6.db");
        store::Catalog cat(catalog, store::Catalog::Mode::read_only);
        std::vector<store::TrackRow> tracks;
        cat.for_each_vector(dna::Space::audio, 0, store::Filter{}, [&](store::StoredVector&& v) {
            if (auto row = cat.track(v.track_id); row && row->duration_s >= 30) tracks.push_back(*row);
        });
        std::sort(tracks.begin(), tracks.end(), [](auto& a, auto& b) { return a.path < b.path; });
        if (!retempo_bpms.empty()) {
            std::vector<enrich::Target> tune;
            for (size_t i = 1; i < tracks.size(); i += 2)
                if (tracks[i].duration_s <= 300) tune.push_back(enrich::aggregate(cat, {{tracks[i].id, 1.0}}, std::string()));
            std::printf("## bench_sketch --retempo: the tune split's %zu targets of 5 minutes or less at each tempo\n", tune.size());
            run_retempo(tune, retempo_bpms, work);
            return 0;
        }
        std::vector<Row> rows;
        std::printf("## bench_sketch: %zu songs of %s as targets; soundfont %s\n", std::min(limit, tracks.size()), catalog.c_str(),
                    sketch::find_soundfont().c_str());
        if (verbose) std::printf("| song | split | BPM | heard | aubio median | aubio mean | key | heard | F@3 s | hook | arc r | LUFS err | TP | render / 3 min | fluidsynth / 3 min |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (size_t i = 0; i < tracks.size() && (targets_only ? i : rows.size()) < limit; ++i) {
            enrich::Target t;
            try {
                t = enrich::aggregate(cat, {{tracks[i].id, 1.0}}, std::string());
                core::write_file_atomically(work + "/sketch-" + std::to_string(i) + ".target.json", enrich::to_json(t).dump(1));
                if (targets_only) continue;
                Row row = run_one(t, fs::path(tracks[i].path).stem().string(), work + "/sketch-" + std::to_string(i) + ".wav", work);
                row.report = i % 2 == 0;
                if (verbose)
                    std::printf("| %s | %s | %.1f | %.1f | %.1f | %.1f | %s | %s | %.2f | %s | %.2f | %.1f | %.1f | %.2f | %.2f |\n", row.name.c_str(),
                                row.report ? "report" : "tune", row.bpm, row.heard_bpm, row.aubio, row.aubio_mean, row.key.c_str(), row.heard_key.c_str(), row.f3,
                                row.has_hook ? (row.hook_ok ? "ok" : "miss") : "-", row.arc_r, row.lufs_err, row.true_peak,
                                row.render_s / row.seconds * 180, row.peer_s.value_or(0) / row.seconds * 180);
                std::fflush(stdout);
                rows.push_back(row);
            } catch (const Error& e) {
                std::fprintf(stderr, "bench_sketch: %s: %s\n", tracks[i].path.c_str(), e.what());
            }
        }
        if (targets_only) return 0;
        summary(rows, true);
        summary(rows, false);
    } catch (const Error& e) {
        std::fprintf(stderr, "bench_sketch: %s\n", e.what());
        return 1;
    }
    return 0;
}
