#include <chrono>
#include <cmath>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "hitdna/core/error.hpp"
#include "hitdna/enrich/prompt.hpp"
#include "hitdna/audio/wav.hpp"
#include "hitdna/sketch/master.hpp"
#include "hitdna/sketch/midi.hpp"
#include "hitdna/sketch/render.hpp"
#include "hitdna/sketch/sketch.hpp"

namespace hitdna::cli {

namespace {

nlohmann::json sketch_json(const sketch::Sketch& s, const enrich::Target& t, const std::string& midi) {
    nlohmann::json j = {{"format", "hitdna-sketch-1"}, {"midi", midi}, {"seed", s.seed}, {"bpm", s.bpm}, {"key", t.key}, {"mode", t.mode},
                        {"key_signature", s.key_sharps}, {"ppq", sketch::k_ppq}, {"bars", s.bars.size()}, {"end_tick", s.end_tick},
                        {"duration_s", sketch::seconds_at(s, s.end_tick)}, {"summary", s.summary}};
    j["tempo_map"] = nlohmann::json::array();
    for (const auto& tm : s.tempo)
        j["tempo_map"].push_back({{"tick", tm.tick}, {"time_s", sketch::seconds_at(s, tm.tick)}, {"bpm", tm.bpm}, {"us_per_quarter", tm.us_per_quarter}});
    j["sections"] = nlohmann::json::array();
    for (const auto& sec : s.sections) {
        nlohmann::json chords = nlohmann::json::array();
        for (int c : sec.chords) chords.push_back(sketch::roman_numeral(c, s.minor));
        j["sections"].push_back({{"label", sec.label}, {"role", sec.role}, {"start_tick", sec.start_tick}, {"start_s", sketch::seconds_at(s, sec.start_tick)},
                                 {"bars", sec.bars}, {"build", sec.build}, {"drop", sec.drop}, {"energy_lu", sec.energy_lu}, {"pass", sec.pass}, {"chords", chords}});
    }
    j["tracks"] = nlohmann::json::array();
    for (const auto& tr : s.tracks)
        j["tracks"].push_back({{"name", tr.name}, {"channel", tr.channel + 1}, {"program", tr.channel == 9 ? nlohmann::json() : nlohmann::json(tr.program)},
                               {"instrument", tr.channel == 9 ? "GM drum kit" : sketch::program_name(tr.program)}, {"notes", tr.notes.size()}});
    j["hook_motif_bars"] = s.motif_hook_bars;
    return j;
}

double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// Renders and masters the sketch into a WAV file; what was measured, as JSON.
nlohmann::json render_file(const sketch::Sketch& s, const enrich::Target& t, const std::string& path, const std::string& soundfont) {
    if (path.size() < 4 || path.substr(path.size() - 4) != ".wav") throw Error(ErrorKind::usage, path + ": --render writes WAV; name it .wav");
    sketch::RenderOptions ro;
    ro.soundfont = sketch::find_soundfont(soundfont);
    const auto t0 = now_s();
    auto audio = sketch::render(s, ro);
    const double synth_s = now_s() - t0;
    sketch::MasterOptions mo;
    mo.target_lufs = t.production.integrated_lufs;
    mo.target_width = t.production.mean_width;
    const auto m = sketch::master(audio.samples, audio.sample_rate, mo);
    const double total_s = now_s() - t0;
    audio::write_wav(path, audio.samples, audio.sample_rate, 2);
    std::cerr << "hitdna: wrote " << path << "\n";
    return {{"wav", path}, {"soundfont", ro.soundfont}, {"sample_rate", audio.sample_rate}, {"duration_s", audio.duration_s()},
            {"synth_seconds", synth_s}, {"render_seconds", total_s}, {"integrated_lufs", m.lufs_after}, {"true_peak_dbtp", m.true_peak_dbtp},
            {"width", m.width_after}, {"width_before", m.width_before}, {"side_gain", m.side_gain}, {"gain_db", m.gain_db},
            {"limited_share", m.limited_share}, {"gain_capped", m.gain_capped}};
}

}  // namespace

Runner register_sketch(CLI::App& app) {
    struct State {
        std::string target, output, render, soundfont;
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
    app.add_option("--render", st->render, "Also render it to this WAV file: libfluidsynth with a General MIDI soundfont, then mastered to the target's loudness (true peak <= -1 dBTP) and width");
    app.add_option("--soundfont", st->soundfont, "Soundfont for --render (default: FluidR3_GM.sf2, else TimGM6mb.sf2, in /usr/share/sounds/sf2)");
    add_format_option(app, st->format);
    return [st]() -> int {
        const enrich::Target t = enrich::read_target(st->target);
        sketch::SketchOptions o;
        o.seed = st->seed;
        const sketch::Sketch s = sketch::make_sketch(t, o);
        sketch::write_midi(st->output, s);
        std::cerr << "hitdna: wrote " << st->output << "\n";
        nlohmann::json rendered;
        if (!st->render.empty()) rendered = render_file(s, t, st->render, st->soundfont);
        if (st->format.resolve() == "json") {
            auto j = sketch_json(s, t, st->output);
            if (!rendered.is_null()) j["render"] = rendered;
            std::cout << j.dump(2) << "\n";
        } else {
            std::printf("%s: %zu bars, %.1f s, %zu sections, %zu tracks\n%s\n", st->output.c_str(), s.bars.size(), sketch::seconds_at(s, s.end_tick),
                        s.sections.size(), s.tracks.size(), s.summary.c_str());
            if (!rendered.is_null())
                std::printf("%s: %.1f s rendered in %.2f s with %s; %.1f LUFS (target %.1f%s), true peak %.1f dBTP, width %.2f (target %.2f)\n",
                            st->render.c_str(), rendered["duration_s"].get<double>(), rendered["render_seconds"].get<double>(),
                            rendered["soundfont"].get<std::string>().c_str(), rendered["integrated_lufs"].get<double>(), t.production.integrated_lufs,
                            rendered["gain_capped"].get<bool>() ? "; held back: louder needs over 12 dB of limiting" : "", rendered["true_peak_dbtp"].get<double>(), rendered["width"].get<double>(), t.production.mean_width);
        }
        return 0;
    };
}

}  // namespace hitdna::cli
