#include <cmath>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "hitdna/core/error.hpp"
#include "hitdna/enrich/prompt.hpp"
#include "hitdna/sketch/midi.hpp"
#include "hitdna/sketch/sketch.hpp"

namespace hitdna::cli {

namespace {

const char* roman(int degree, bool minor) {
    static const char* maj[7] = {"I", "ii", "iii", "IV", "V", "vi", "vii"};
    static const char* min[7] = {"i", "ii", "III", "iv", "V", "VI", "VII"};
    return (minor ? min : maj)[((degree % 7) + 7) % 7];
}

nlohmann::json sketch_json(const sketch::Sketch& s, const enrich::Target& t, const std::string& midi) {
    nlohmann::json j = {{"format", "hitdna-sketch-1"}, {"midi", midi}, {"seed", s.seed}, {"bpm", s.bpm}, {"key", t.key}, {"mode", t.mode},
                        {"key_signature", s.key_sharps}, {"ppq", sketch::k_ppq}, {"bars", s.bars.size()}, {"end_tick", s.end_tick},
                        {"duration_s", sketch::seconds_at(s, s.end_tick)}, {"summary", s.summary}};
    j["sections"] = nlohmann::json::array();
    for (const auto& sec : s.sections) {
        nlohmann::json chords = nlohmann::json::array();
        for (int c : sec.chords) chords.push_back(roman(c, s.minor));
        j["sections"].push_back({{"label", sec.label}, {"role", sec.role}, {"start_tick", sec.start_tick}, {"start_s", sketch::seconds_at(s, sec.start_tick)},
                                 {"bars", sec.bars}, {"build", sec.build}, {"drop", sec.drop}, {"energy_lu", sec.energy_lu}, {"chords", chords}});
    }
    j["tracks"] = nlohmann::json::array();
    for (const auto& tr : s.tracks)
        j["tracks"].push_back({{"name", tr.name}, {"channel", tr.channel + 1}, {"program", tr.channel == 9 ? nlohmann::json() : nlohmann::json(tr.program)},
                               {"instrument", tr.channel == 9 ? "GM drum kit" : sketch::program_name(tr.program)}, {"notes", tr.notes.size()}});
    j["hook_motif_bars"] = s.motif_hook_bars;
    return j;
}

}  // namespace

Runner register_sketch(CLI::App& app) {
    struct State {
        std::string target, output;
        uint32_t seed = 1;
        Format format{{"text", "json"}, "text"};
    };
    auto st = std::make_shared<State>();
    app.footer(
        "Writes the target (hitdna enrich -f json, or - for standard input) as a Standard MIDI File, type 1: tempo map,\n"
        "time and key signatures, a marker per section, and tracks for drums (GM channel 10), bass, chords, the hook's\n"
        "lead motif and effects, with dynamics following the energy arc. The same target and seed give the same file.\n"
        "Exit status: 0 written, 2 usage (a target that is not one), 3 unreadable or unwritable file. See man hitdna-sketch.");
    app.add_option("target", st->target, "Target JSON (hitdna enrich -f json), or - for standard input")->required();
    app.add_option("-o,--output", st->output, "MIDI file to write (.mid)")->required();
    app.add_option("--seed", st->seed, "Seed of the musical choices: progressions, groove, instruments, motif (default 1)")->check(CLI::Range(0u, 2147483647u));
    add_format_option(app, st->format);
    return [st]() -> int {
        const enrich::Target t = enrich::read_target(st->target);
        sketch::SketchOptions o;
        o.seed = st->seed;
        const sketch::Sketch s = sketch::make_sketch(t, o);
        sketch::write_midi(st->output, s);
        std::cerr << "hitdna: wrote " << st->output << "\n";
        if (st->format.resolve() == "json") {
            std::cout << sketch_json(s, t, st->output).dump(2) << "\n";
        } else {
            std::printf("%s: %zu bars, %.1f s, %zu sections, %zu tracks\n%s\n", st->output.c_str(), s.bars.size(), sketch::seconds_at(s, s.end_tick),
                        s.sections.size(), s.tracks.size(), s.summary.c_str());
        }
        return 0;
    };
}

}  // namespace hitdna::cli
