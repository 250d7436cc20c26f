// bench_brief: briefs against a catalog of real songs, in one run.
//   1. Every brief of data/briefs/briefs.jsonl (written by hand with the fields each states;
//      this program is the script that checks them) is enriched against a catalog of the
//      Debian songs: the share of stated items the target honours (goal 100 %), the share of
//      enriched prompts and plans that contradict their brief (goal 0) or name a hit (goal 0),
//      and briefs that contradict themselves refused.
//   2. Each target is rendered by the built-in synthesizer and heard back by the analyzer:
//      tempo within 2 %, key and mode, length within 1 s, stated drops and first hook within one
//      bar. Peers in the same run: aubio's beats (median interval, any of x0.5, x1, x2 within
//      2 %) and ffmpeg's EBU R128 meter against hitdna's loudness (within 0.5 LU).
// Usage: bench_brief [--briefs FILE] [--db CATALOG] [--music DIR] [--work DIR] [--no-render] [-v] [--check]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "hitdna/analysis/analyze.hpp"
#include "hitdna/audio/wav.hpp"
#include "hitdna/core/error.hpp"
#include "hitdna/core/subprocess.hpp"
#include "hitdna/core/text.hpp"
#include "hitdna/enrich/prompt.hpp"
#include "hitdna/enrich/target.hpp"
#include "hitdna/generate/synth.hpp"
#include "hitdna/validate/validate.hpp"
#include "../tests/brief_probe.hpp"
#include "debian_songs.hpp"

using namespace hitdna;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

using test::aubio_bpm;
using test::ffmpeg_lufs;
using test::sent_texts;
using test::whole_word_count;

struct Tally {
    int items = 0, honoured = 0;
    std::vector<std::string> misses;
    void check(bool ok, const std::string& what) {
        ++items;
        honoured += ok;
        if (!ok) misses.push_back(what);
    }
};

// The stated items of one brief's "expect" object, checked on its target.
void check_expect(const json& e, const enrich::Target& t, Tally& tally) {
    const double bar = 240.0 / t.bpm;
    auto near = [&](const std::vector<double>& v, double want, double tol) {
        return std::any_of(v.begin(), v.end(), [&](double x) { return std::abs(x - want) <= tol; });
    };
    if (e.contains("bpm")) tally.check(t.bpm == e["bpm"].get<double>(), "bpm");
    if (e.contains("key")) tally.check(t.key == e["key"].get<std::string>(), "key");
    if (e.contains("mode")) tally.check(t.mode == e["mode"].get<std::string>(), "mode");
    if (e.contains("duration_s")) tally.check(std::abs(t.duration_s - e["duration_s"].get<double>()) <= 1, "duration_s");
    if (e.contains("duration_range")) tally.check(t.duration_s >= e["duration_range"][0].get<double>() && t.duration_s <= e["duration_range"][1].get<double>(), "duration_range");
    for (const auto& d : e.value("drops_at", json::array())) tally.check(near(t.drop_times_s, d.get<double>(), bar / 2 + 1e-6), "drop at " + std::to_string(d.get<int>()));
    if (e.contains("first_hook_s")) tally.check(t.first_hook_s && std::abs(*t.first_hook_s - e["first_hook_s"].get<double>()) <= bar / 2 + 1e-6, "first_hook_s");
    if (e.value("no_intro", false)) tally.check(!t.sections.empty() && t.sections.front().role != "intro", "no intro");
    if (e.contains("hooks")) tally.check(t.hook_repeats == e["hooks"].get<int>(), "hooks");
    if (e.contains("drops")) tally.check(t.drops == e["drops"].get<int>(), "drops");
    if (e.contains("builds_min")) tally.check(t.builds >= e["builds_min"].get<int>(), "builds");
    if (e.contains("bpm_range")) {
        const double lo = e["bpm_range"][0], hi = e["bpm_range"][1];
        bool ok = false;
        for (double level : {0.5, 1.0, 2.0}) ok = ok || (t.bpm * level >= lo && t.bpm * level <= hi);
        tally.check(ok, "bpm_range");
    }
    const auto& p = t.production;
    if (e.contains("width_min")) tally.check(p.mean_width >= e["width_min"].get<double>() - 1e-9, "width_min");
    if (e.contains("width_max")) tally.check(p.mean_width <= e["width_max"].get<double>() + 1e-9, "width_max");
    if (e.contains("lufs_min")) tally.check(p.integrated_lufs >= e["lufs_min"].get<double>() - 1e-9, "lufs_min");
    if (e.contains("lufs_max")) tally.check(p.integrated_lufs <= e["lufs_max"].get<double>() + 1e-9, "lufs_max");
    if (e.contains("sparkle_max")) tally.check(p.sparkle_db <= e["sparkle_max"].get<double>() + 1e-9, "sparkle_max");
    if (e.contains("sparkle_min")) tally.check(p.sparkle_db >= e["sparkle_min"].get<double>() - 1e-9, "sparkle_min");
    if (e.contains("sub_min")) tally.check(p.sub_presence >= e["sub_min"].get<double>() - 1e-9, "sub_min");
    if (e.contains("sub_max")) tally.check(p.sub_presence <= e["sub_max"].get<double>() + 1e-9, "sub_max");
    if (e.contains("genre")) tally.check(std::find(t.genres.begin(), t.genres.end(), e["genre"].get<std::string>()) != t.genres.end(), "genre");
}

// Pitch class of a tonic spelled with # or b (Db and C# are one key).
int pitch_class(const std::string& k) {
    static const int base[7] = {9, 11, 0, 2, 4, 5, 7};  // A B C D E F G
    if (k.empty() || k[0] < 'A' || k[0] > 'G') return -1;
    int p = base[k[0] - 'A'];
    if (k.size() > 1) p += k[1] == '#' ? 1 : k[1] == 'b' ? -1 : 0;
    return (p + 12) % 12;
}

// A contradiction: a tempo, key or length in what is sent that differs from the target's
// stated value, or a tempo or mood word that its feel words rule out. With the tempo open, the
// target's tempo changes (the template hit's, carried over) are its tempi too; with a stated
// tempo there are none.
std::string contradiction(const enrich::Target& t, const json& e) {
    const std::regex bpm("(\\d+(?:\\.\\d+)?)\\s*bpm", std::regex::icase), key("\\b([A-G](?:#|b)?) (major|minor)\\b"), len("(\\d+):(\\d\\d) long");
    for (const auto& text : sent_texts(t)) {
        std::smatch m;
        for (auto it = std::sregex_iterator(text.begin(), text.end(), bpm); it != std::sregex_iterator(); ++it) {
            const double said = std::stod((*it)[1]);
            const bool change = !e.contains("bpm") && std::any_of(t.tempo_changes.begin(), t.tempo_changes.end(),
                                                                  [&](const dna::TempoChange& c) { return std::abs(c.bpm - said) <= 1e-6; });
            if (std::abs(said - (e.contains("bpm") ? e["bpm"].get<double>() : t.bpm)) > 1e-6 && !change) return "tempo " + (*it)[0].str();
        }
        for (auto it = std::sregex_iterator(text.begin(), text.end(), key); it != std::sregex_iterator(); ++it) {
            if (e.contains("key") && pitch_class((*it)[1].str()) != pitch_class(e["key"].get<std::string>())) return "key " + (*it)[0].str();
            if (e.contains("mode") && (*it)[2].str() != e["mode"].get<std::string>()) return "mode " + (*it)[0].str();
        }
        for (auto it = std::sregex_iterator(text.begin(), text.end(), len); it != std::sregex_iterator(); ++it)
            if (e.contains("duration_s") && std::abs(std::stod((*it)[1]) * 60 + std::stod((*it)[2]) - e["duration_s"].get<double>()) > 1) return "length " + (*it)[0].str();
    }
    // Words hitdna wrote after the user's own.
    const std::string gen = test::generated_part(t);
    if (e.contains("bpm_range")) {
        const double hi = e["bpm_range"][1];
        if (hi <= 105 && (whole_word_count(gen, "uptempo") || whole_word_count(gen, "fast"))) return "a fast word in a slow brief";
    }
    if (e.contains("mode") && e["mode"] == "minor" && whole_word_count(gen, "happy") && whole_word_count(t.free_text, "happy") == 0) return "happy in a minor/sad brief";
    if (e.contains("mode") && e["mode"] == "major" && whole_word_count(gen, "sad") && whole_word_count(t.free_text, "sad") == 0) return "sad in a major/happy brief";
    return "";
}

struct Heard {
    int n = 0, tempo = 0, key = 0, length = 0, drops = 0, drops_n = 0, hooks = 0, hooks_n = 0, aubio = 0, aubio_n = 0, lufs = 0, lufs_n = 0;
    double render_s = 0, audio_s = 0;
};

// Renders a target, analyzes it, and checks what the brief stated; peers on the same file.
void hear(const enrich::Target& t, const enrich::Brief& b, const std::string& wav, Heard& h, std::string& line) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = generate::render(t, {1});
    h.render_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    h.audio_s += t.duration_s;
    audio::write_wav(wav, r.samples, r.sample_rate, 2);
    const auto d = analysis::analyze_file(wav);
    const auto rep = validate::compare(d, t);
    const double bar = 240.0 / t.bpm;
    ++h.n;
    const bool tempo = d.audio.bpm && std::abs(*d.audio.bpm / t.bpm - 1) <= 0.02;
    const bool key = d.audio.key == t.key && d.audio.mode == t.mode;
    h.tempo += tempo, h.key += key, h.length += std::abs(d.duration_s - t.duration_s) <= 1;
    char buf[160];
    std::snprintf(buf, sizeof buf, " | heard %.1f BPM%s %s %s%s", d.audio.bpm.value_or(0), tempo ? "" : " (TEMPO OFF)", d.audio.key.c_str(), d.audio.mode.c_str(),
                  key ? "" : (" (KEY OFF: " + t.key + " " + t.mode + ")").c_str());
    line += buf;
    for (double want : t.drop_times_s) {
        if (b.drop_times_s.empty() && !b.drops) break;  // only drops the brief asked for
        ++h.drops_n;
        const bool ok = std::any_of(d.structure.drops.begin(), d.structure.drops.end(), [&](const dna::Event& e) { return std::abs(e.time_s - want) <= bar; });
        h.drops += ok;
        line += std::string(", drop ") + core::mmss(want) + (ok ? " ok" : " MISSED");
    }
    if (b.first_hook_s && t.first_hook_s) {
        ++h.hooks_n;
        const bool ok = d.structure.first_hook_s && std::abs(*d.structure.first_hook_s - *t.first_hook_s) <= bar;
        h.hooks += ok;
        line += std::string(", hook ") + (ok ? "ok" : "MISSED (" + (d.structure.first_hook_s ? core::mmss(*d.structure.first_hook_s) : std::string("none")) + ")");
    }
    if (auto a = aubio_bpm(wav)) {
        ++h.aubio_n;
        for (double level : {0.5, 1.0, 2.0})
            if (std::abs(*a * level / t.bpm - 1) <= 0.02) {
                ++h.aubio;
                break;
            }
    }
    if (auto l = ffmpeg_lufs(wav)) {
        ++h.lufs_n;
        h.lufs += std::abs(*l - rep.integrated_lufs) <= 0.5;
    }
}

}  // namespace

int main(int argc, char** argv) {
    std::string briefs = std::string(HITDNA_SOURCE_DIR) + "/data/briefs/briefs.jsonl", db, work = "/tmp/hitdna-bench-brief";
    std::string music = std::string(std::getenv("HOME") ? std::getenv("HOME") : "/root") + "/.cache/hitdna/music";
    bool render = true, verbose = false, check = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--briefs" && i + 1 < argc) briefs = argv[++i];
        else if (a == "--db" && i + 1 < argc) db = argv[++i];
        else if (a == "--music" && i + 1 < argc) music = argv[++i];
        else if (a == "--work" && i + 1 < argc) work = argv[++i];
        else if (a == "--no-render") render = false;
        else if (a == "-v") verbose = true;
        else if (a == "--check") check = true;
        else {
            std::fprintf(a == "--help" || a == "-h" ? stdout : stderr,
                         "usage: bench_brief [--briefs FILE] [--db CATALOG] [--music DIR] [--work DIR] [--no-render] [-v] [--check]\n"
                         "Enriches every brief of FILE (default data/briefs/briefs.jsonl) against CATALOG (default: the Debian\n"
                         "songs under DIR, ingested once into WORK) and checks the fields each brief states, contradictions and\n"
                         "hit names in what would be sent; then renders each target with the built-in synthesizer and checks\n"
                         "what the analyzer, aubio and ffmpeg hear. --check: exit 1 unless every stated item is honoured and\n"
                         "no prompt contradicts its brief or names a hit.\n");
            return a == "--help" || a == "-h" ? 0 : 2;
        }
    }
    try {
        fs::create_directories(work);
        const std::string catalog = bench::debian_songs_catalog(HITDNA_BIN, "bench_brief", db, music, work);
        std::ifstream in(briefs);
        if (!in) throw Error(ErrorKind::io, briefs + ": cannot read");
        Tally tally;
        Heard heard;
        int n = 0, refused_ok = 0, conflicts = 0, contradicting = 0, naming = 0, line_no = 0;
        std::vector<std::string> report;
        for (std::string text; std::getline(in, text);) {
            ++line_no;
            if (core::trim(text).empty()) continue;
            const json row = json::parse(text);
            const std::string prompt = row.at("prompt");
            const json e = row.at("expect");
            enrich::PromptOptions o;
            o.prompt = prompt;
            o.db = catalog;
            o.k = 5;
            std::ostringstream log;
            if (e.value("conflict", false)) {
                ++conflicts;
                try {
                    enrich::target_for_prompt(o, log);
                    report.push_back("  NOT REFUSED: " + prompt);
                } catch (const Error& err) {
                    refused_ok += err.kind() == ErrorKind::usage;
                }
                continue;
            }
            ++n;
            const auto t = enrich::target_for_prompt(o, log);
            const auto b = enrich::parse_brief(prompt);
            const int before = int(tally.misses.size());
            check_expect(e, t, tally);
            std::string line = "  " + prompt + ": " + std::to_string(t.hits.size()) + " hits";
            for (size_t k = size_t(before); k < tally.misses.size(); ++k) line += ", MISSED " + tally.misses[k];
            if (const auto c = contradiction(t, e); !c.empty()) ++contradicting, line += ", CONTRADICTS: " + c;
            bool names = false;
            for (const auto& h : t.hits)
                for (const auto& s : sent_texts(t))
                    for (const auto& name : {h.title, h.artist})
                        if (name.size() >= 3 && whole_word_count(s, name) > 0 && whole_word_count(t.free_text, name) == 0) names = true;
            naming += names;
            if (names) line += ", NAMES A HIT";
            if (render) hear(t, b, work + "/brief-" + std::to_string(line_no) + ".wav", heard, line);
            report.push_back(line);
        }
        if (verbose)
            for (const auto& l : report) std::printf("%s\n", l.c_str());
        std::printf("## %d briefs against %s (+ %d that contradict themselves)\n", n, catalog.c_str(), conflicts);
        std::printf("| measure | result | goal |\n|---|---|---|\n");
        std::printf("| stated items honoured by the target | %d / %d (%.1f %%) | 100 %% |\n", tally.honoured, tally.items, 100.0 * tally.honoured / std::max(1, tally.items));
        std::printf("| enriched prompts or plans contradicting the brief | %d / %d | 0 |\n", contradicting, n);
        std::printf("| enriched prompts or plans naming a hit | %d / %d | 0 |\n", naming, n);
        std::printf("| self-contradicting briefs refused (exit 2) | %d / %d | all |\n", refused_ok, conflicts);
        if (render && heard.n > 0) {
            std::printf("| rendered, heard at the stated tempo (2 %%) | %d / %d | all |\n", heard.tempo, heard.n);
            std::printf("| key and mode heard | %d / %d | all |\n", heard.key, heard.n);
            std::printf("| length within 1 s | %d / %d | all |\n", heard.length, heard.n);
            std::printf("| stated drops found within one bar | %d / %d | all |\n", heard.drops, heard.drops_n);
            std::printf("| stated first hook found within one bar | %d / %d | all |\n", heard.hooks, heard.hooks_n);
            std::printf("| peer: aubio median beat interval at a metrical level (2 %%) | %d / %d | all |\n", heard.aubio, heard.aubio_n);
            std::printf("| peer: ffmpeg ebur128 within 0.5 LU of hitdna | %d / %d | all |\n", heard.lufs, heard.lufs_n);
            std::printf("| render time per 3 minutes of audio | %.2f s | |\n", heard.render_s / heard.audio_s * 180);
        }
        const bool ok = tally.honoured == tally.items && contradicting == 0 && naming == 0 && refused_ok == conflicts;
        return check && !ok ? 1 : 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_brief: %s\n", e.what());
        return 1;
    }
}
