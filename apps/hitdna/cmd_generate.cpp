#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "hitdna/core/error.hpp"
#include "hitdna/generate/run.hpp"

namespace hitdna::cli {

Runner register_generate(CLI::App& app) {
    struct State {
        generate::GenerateOptions o;
        std::string db, record, output_format = "mp3_44100_128", url;
        double duration = 0, timeout = 600;
        bool no_record = false;
        Format format{{"text", "json"}, "json"};
    };
    auto st = std::make_shared<State>();
    app.footer(
        "Backends: elevenlabs (POST /v1/music with the target's composition plan; key from\n"
        "ELEVENLABS_API_KEY, base URL from --elevenlabs-url or ELEVENLABS_BASE_URL) and local (the target's\n"
        "arrangement sketch, as hitdna sketch writes it, played through a General MIDI soundfont by\n"
        "libfluidsynth and mastered; offline, 16-bit stereo WAV, the same file for the same target and --seed).\n"
        "The default is elevenlabs when ELEVENLABS_API_KEY is set, else local. The JSON record of the\n"
        "generation goes to stdout and into the catalog (table generations). Exit status: 0 written\n"
        "(and, with --validate, passed), 1 written but the best attempt is below --min-score, 2 usage,\n"
        "3 the target cannot be read or the output cannot be written, 4 --validate cannot decode the\n"
        "output, 5 the catalog cannot be written, 6 network error or timeout,\n"
        "7 the service refused (the reason in one line). See man hitdna-generate.");
    app.add_option("prompt", st->o.prompt, "What to make; enriched from the catalog's hits as in hitdna enrich");
    app.add_option("--target", st->o.target_file, "Target JSON from 'hitdna enrich --format json' instead of a prompt");
    app.add_option("-o,--output", st->o.loop.output, "Audio file to write (.wav for local; .mp3/.opus/... as --output-format for elevenlabs)")->required();
    app.add_option("--backend", st->o.backend, "Generator: elevenlabs or local (default: elevenlabs when ELEVENLABS_API_KEY is set, else local)")
        ->check(CLI::IsMember({"local", "elevenlabs"}));
    app.add_option("--seed", st->o.seed, "Seed, 0..2147483647: local renders are identical for a seed; sent to ElevenLabs with the plan (default 1)")
        ->check(CLI::Range(0u, 2147483647u));
    app.add_option("--duration", st->duration, "Length in seconds when enriching a prompt")->check(CLI::Range(10.0, 600.0));
    app.add_option("--filter", st->o.enrich.filters, "Metadata filter on the hits when enriching a prompt (repeatable)");
    app.add_option("-k", st->o.enrich.k, "Hits to aggregate when enriching a prompt (default 10)")->check(CLI::Range(1, 1000));
    app.add_flag("--validate", st->o.loop.validate, "Validate each attempt against the target; adjust and retry while below --min-score");
    app.add_option("--min-score", st->o.loop.min_score, "Overall validation score to reach, 0..1 (default 0.85)")->check(CLI::Range(0.0, 1.0));
    app.add_option("--max-attempts", st->o.loop.max_attempts, "Attempts with --validate (default 3)")->check(CLI::Range(1, 20));
    app.add_option("--model", st->o.elevenlabs.model, "ElevenLabs model and plan format: music_v2 (chunks, default) or music_v1 (sections)")
        ->check(CLI::IsMember({"music_v1", "music_v2"}));
    app.add_option("--output-format", st->output_format, "ElevenLabs output_format, e.g. mp3_44100_128 (default), mp3_48000_192, opus_48000_128");
    app.add_option("--elevenlabs-url", st->url, "ElevenLabs base URL (default $ELEVENLABS_BASE_URL, else https://api.elevenlabs.io)");
    app.add_option("--timeout", st->timeout, "Seconds to wait for ElevenLabs to answer one request (default 600)")->check(CLI::Range(1.0, 3600.0));
    app.add_flag("--accept-suggestion", st->o.elevenlabs.accept_suggestion, "When ElevenLabs refuses the prompt or plan with a suggestion, retry once with it");
    app.add_option("--soundfont", st->o.soundfont, "local: General MIDI soundfont (default: FluidR3_GM.sf2, else TimGM6mb.sf2, in /usr/share/sounds/sf2)");
    app.add_option("--midi", st->o.loop.midi, "local: also write the kept attempt's arrangement sketch as a MIDI file (as hitdna sketch writes it)");
    app.add_option("--record", st->record, "Also write the generation record (JSON) to this file");
    app.add_flag("--no-record", st->no_record, "Do not record the generation in the catalog");
    app.add_option("--db", st->db, "Catalog database (default: $HITDNA_DB, else ~/.local/share/hitdna/hitdna.db)");
    add_format_option(app, st->format);
    return [st]() -> int {
        auto& o = st->o;
        auto& cfg = o.elevenlabs.config;
        cfg = generate::config_from_env();
        if (!st->url.empty()) cfg.base_url = st->url;
        cfg.output_format = st->output_format;
        cfg.timeout_s = st->timeout;
        if (st->duration > 0) o.enrich.duration_s = st->duration;
        o.enrich.db = o.loop.db = st->db;
        o.loop.record = !st->no_record;
        auto r = generate::generate(o, std::cerr);
        const std::string text = r.record.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
        if (!st->record.empty()) {
            std::ofstream f(st->record);
            f << text << "\n";
            if (!f) throw Error(ErrorKind::io, st->record + ": cannot write the record");
        }
        if (st->format.resolve() == "json") {
            std::cout << text << "\n";
        } else {
            const auto& rec = r.record;
            std::cout << "wrote " << rec.value("output", std::string()) << " (" << rec.value("backend", std::string()) << ", attempt "
                      << rec.value("best_attempt", 0) << " of " << rec.value("attempts", nlohmann::json::array()).size() << ")\n";
            if (rec.contains("duration_s")) std::cout << "length " << rec["duration_s"].get<double>() << " s, loudness " << rec.value("integrated_lufs", 0.0) << " LUFS\n";
            if (rec.contains("score")) std::cout << "validation score " << rec["score"].get<double>() << " (0..1), " << (r.passed ? "passed" : "failed") << "\n";
            if (rec.contains("generation_id")) std::cout << "generation " << (rec["generation_id"].is_string() ? rec["generation_id"].get<std::string>() : rec["generation_id"].dump()) << "\n";
        }
        return r.passed ? 0 : 1;
    };
}

}  // namespace hitdna::cli
