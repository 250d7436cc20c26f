#pragma once
// Truth sets made by a committed script and rendered with fluidsynth: the script writes the
// MIDI and a truth file into the work directory; the truth must equal the committed file (a
// warning says when the script no longer reproduces it); each song is rendered once and kept.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "hitdna/core/subprocess.hpp"

namespace hitdna::bench {

struct RenderSet {
    std::string script;           // the committed script that writes MIDI + truth
    std::string committed_truth;  // the truth file committed beside it
    std::string python = "python3";
    std::string work;             // MIDI in work/mid, WAV in work/wav
    std::string split = "all";    // "tune", "report" or "all"
};

// The soundfont a truth line names: a path, or a bare name under /usr/share/sounds/sf2.
inline std::string soundfont_path(const std::string& sf) {
    return sf.find('/') != std::string::npos ? sf : "/usr/share/sounds/sf2/" + sf + ".sf2";
}

// The committed truth lines of the split, each with "wav" set to its render.
inline std::vector<nlohmann::json> render_truth_set(const RenderSet& o) {
    namespace fs = std::filesystem;
    const std::string mid = o.work + "/mid", wav = o.work + "/wav";
    fs::create_directories(wav);
    auto r = core::run_process({o.python, o.script, "--truth", o.work + "/truth.jsonl", "--midi", mid});
    if (r.exit_code != 0) throw std::runtime_error(fs::path(o.script).filename().string() + " failed: " + r.err);
    std::ifstream committed(o.committed_truth), made(o.work + "/truth.jsonl");
    std::string a((std::istreambuf_iterator<char>(committed)), {}), b((std::istreambuf_iterator<char>(made)), {});
    if (a != b) std::cerr << "bench: WARNING: " << o.script << " no longer reproduces " << o.committed_truth << "\n";
    std::vector<nlohmann::json> songs;
    std::istringstream in(a);
    std::string line;
    const std::string fluidsynth = core::find_executable("fluidsynth");
    while (std::getline(in, line)) {
        nlohmann::json t = nlohmann::json::parse(line);
        if (o.split != "all" && t["split"] != o.split) continue;
        const std::string id = t["id"], out = wav + "/" + id + ".wav";
        if (!fs::exists(out)) {
            const std::string sf = soundfont_path(t["soundfont"]);
            if (fluidsynth.empty() || !fs::exists(sf)) {
                std::cerr << "bench: fluidsynth or " << sf << " missing (apt-get install fluidsynth fluid-soundfont-gm timgm6mb-soundfont)\n";
                continue;
            }
            auto rr = core::run_process({fluidsynth, "-ni", "-q", "-g", "0.6", "-F", out, "-r", "44100", sf, mid + "/" + id + ".mid"});
            if (rr.exit_code != 0) {
                std::cerr << "bench: fluidsynth failed on " << id << ": " << rr.err << "\n";
                fs::remove(out);
                continue;
            }
        }
        t["wav"] = out;
        songs.push_back(t);
    }
    return songs;
}

}  // namespace hitdna::bench
