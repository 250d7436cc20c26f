#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "hitdna/analysis/analyze.hpp"
#include "hitdna/core/error.hpp"
#include "hitdna/generate/elevenlabs.hpp"
#include "hitdna/generate/synth.hpp"
#include "hitdna/store/generations.hpp"
#include "hitdna/store/hash.hpp"
#include "hitdna/validate/validate.hpp"

namespace fs = std::filesystem;

namespace hitdna::cli {

enrich::Target target_for_prompt(const std::string& db_flag, const std::string& prompt, const std::vector<std::string>& filters, size_t k,
                                 std::optional<double> duration_s, std::ostream& err, const match::MatchOptions* backend = nullptr);
enrich::Target read_target(const std::string& path);
nlohmann::json report_json(const validate::Report& r, double min_score);

Runner register_generate(CLI::App& app) {
    struct State {
        std::string prompt, target, out, db, backend, record, model = "music_v2", output_format = "mp3_44100_128", url;
        std::vector<std::string> filters;
        size_t k = 10;
        double duration = 0, min_score = 0.85, timeout = 600;
        unsigned seed = 1;
        int max_attempts = 3;
        bool validate = false, no_record = false, accept_suggestion = false;
    };
    auto st = std::make_shared<State>();
    app.footer(
        "Backends: elevenlabs (POST /v1/music with the target's composition plan; key from\n"
        "ELEVENLABS_API_KEY, base URL from --elevenlabs-url or ELEVENLABS_BASE_URL) and local (hitdna's\n"
        "own synthesizer, offline, 16-bit stereo WAV, the same file for the same target and --seed).\n"
        "The default is elevenlabs when ELEVENLABS_API_KEY is set, else local. The JSON record of the\n"
        "generation goes to stdout and into the catalog (table generations). Exit status: 0 written\n"
        "(and, with --validate, passed), 1 written but the best attempt is below --min-score, 2 usage,\n"
        "3 the target cannot be read or the output cannot be written, 4 --validate cannot decode the\n"
        "output, 5 the catalog cannot be written, 6 network error or timeout,\n"
        "7 the service refused (the reason in one line). See man hitdna-generate.");
    app.add_option("prompt", st->prompt, "What to make; enriched from the catalog's hits as in hitdna enrich");
    app.add_option("--target", st->target, "Target JSON from 'hitdna enrich --format json' instead of a prompt");
    app.add_option("-o,--output", st->out, "Audio file to write (.wav for local; .mp3/.opus/... as --output-format for elevenlabs)")->required();
    app.add_option("--backend", st->backend, "Generator: elevenlabs or local (default: elevenlabs when ELEVENLABS_API_KEY is set, else local)")
        ->check(CLI::IsMember({"local", "elevenlabs"}));
    app.add_option("--seed", st->seed, "Seed, 0..2147483647: local renders are identical for a seed; sent to ElevenLabs with the plan (default 1)")
        ->check(CLI::Range(0u, 2147483647u));
    app.add_option("--duration", st->duration, "Length in seconds when enriching a prompt")->check(CLI::Range(10.0, 600.0));
    app.add_option("--filter", st->filters, "Metadata filter on the hits when enriching a prompt (repeatable)");
    app.add_option("-k", st->k, "Hits to aggregate when enriching a prompt (default 10)")->check(CLI::Range(1, 1000));
    app.add_flag("--validate", st->validate, "Validate each attempt against the target; adjust and retry while below --min-score");
    app.add_option("--min-score", st->min_score, "Overall validation score to reach, 0..1 (default 0.85)")->check(CLI::Range(0.0, 1.0));
    app.add_option("--max-attempts", st->max_attempts, "Attempts with --validate (default 3)")->check(CLI::Range(1, 20));
    app.add_option("--model", st->model, "ElevenLabs model and plan format: music_v2 (chunks, default) or music_v1 (sections)")
        ->check(CLI::IsMember({"music_v1", "music_v2"}));
    app.add_option("--output-format", st->output_format, "ElevenLabs output_format, e.g. mp3_44100_128 (default), mp3_48000_192, opus_48000_128");
    app.add_option("--elevenlabs-url", st->url, "ElevenLabs base URL (default $ELEVENLABS_BASE_URL, else https://api.elevenlabs.io)");
    app.add_option("--timeout", st->timeout, "Seconds to wait for ElevenLabs to answer one request (default 600)")->check(CLI::Range(1.0, 3600.0));
    app.add_flag("--accept-suggestion", st->accept_suggestion, "When ElevenLabs refuses the prompt or plan with a suggestion, retry once with it");
    app.add_option("--record", st->record, "Also write the generation record (JSON) to this file");
    app.add_flag("--no-record", st->no_record, "Do not record the generation in the catalog");
    app.add_option("--db", st->db, "Catalog database (default: $HITDNA_DB, else ~/.local/share/hitdna/hitdna.db)");
    return [st]() -> int {
        if (st->prompt.empty() == st->target.empty()) throw Error(ErrorKind::usage, "give a prompt or --target FILE (one of them)");
        auto cfg = generate::config_from_env();
        if (!st->url.empty()) cfg.base_url = st->url;
        cfg.output_format = st->output_format;
        cfg.timeout_s = st->timeout;
        const std::string backend = !st->backend.empty() ? st->backend : (cfg.api_key.empty() ? "local" : "elevenlabs");
        if (backend == "local" && fs::path(st->out).extension() != ".wav")
            throw Error(ErrorKind::usage, "-o " + st->out + ": the local backend writes WAV; name the file .wav");
        if (backend == "elevenlabs" && cfg.api_key.empty()) throw Error(ErrorKind::usage, "--backend elevenlabs needs ELEVENLABS_API_KEY in the environment");
        std::optional<double> dur;
        if (st->duration > 0) dur = st->duration;
        enrich::Target t = st->target.empty() ? target_for_prompt(st->db, st->prompt, st->filters, st->k, dur, std::cerr) : read_target(st->target);
        nlohmann::json plan = enrich::composition_plan(t, backend == "local" ? "music_v1" : st->model);
        nlohmann::json attempts = nlohmann::json::array();
        generate::SynthOptions so;
        so.seed = st->seed;
        double tempo_nudge = 1.0;  // elevenlabs: the BPM written into the styles is scaled by this
        bool suggestion_used = false;
        std::optional<nlohmann::json> suggested_prompt_body;  // an accepted prompt suggestion, for every later attempt
        std::string song_id;
        double best_score = -1, best_lufs = 0, best_duration = 0;
        int best_attempt = 0;
        std::string best_file;
        const int n = st->validate ? st->max_attempts : 1;
        // Attempt files are temporary: whatever happens, none is left behind.
        struct Temps {
            std::vector<std::string> files;
            ~Temps() {
                std::error_code ec;
                for (const auto& f : files) fs::remove(f, ec);
            }
        } temps;
        for (int a = 1; a <= n; ++a) {
            const std::string file = st->out + ".attempt-" + std::to_string(a) + "-" + std::to_string(::getpid()) + fs::path(st->out).extension().string();
            temps.files.push_back(file);
            nlohmann::json rec = {{"attempt", a}, {"seed", so.seed}};
            double lufs = 0, seconds = t.duration_s;
            if (backend == "local") {
                auto r = generate::render(t, so);
                rec["tempo_scale"] = so.tempo_scale;
                rec["energy_contrast"] = so.energy_contrast;
                generate::write_wav(file, r);
                lufs = r.integrated_lufs;
                seconds = r.duration_s;
            } else {
                nlohmann::json body = {{"composition_plan", plan}, {"model_id", st->model}, {"seed", so.seed}};
                if (st->model == "music_v1") body["respect_sections_durations"] = true;
                if (suggested_prompt_body) body = *suggested_prompt_body;
                generate::ComposeResult res;
                try {
                    try {
                        res = generate::compose(cfg, body);
                    } catch (const generate::ElevenLabsError& e) {
                        if (!st->accept_suggestion || suggestion_used || (!e.refusal.plan_suggestion && !e.refusal.prompt_suggestion)) throw;
                        suggestion_used = true;
                        if (e.refusal.plan_suggestion) {
                            // The suggestion must be a plan for the model asked for.
                            const bool v1 = e.refusal.plan_suggestion->contains("sections"), v2 = e.refusal.plan_suggestion->contains("chunks");
                            if ((st->model == "music_v1" && !v1) || (st->model == "music_v2" && !v2))
                                throw Error(ErrorKind::remote, std::string(e.what()) + "; the suggested plan is not a " + st->model + " plan, not used");
                            plan = *e.refusal.plan_suggestion;
                            body["composition_plan"] = plan;
                        } else {
                            body = {{"prompt", *e.refusal.prompt_suggestion}, {"model_id", st->model},
                                    {"music_length_ms", std::clamp(int(t.duration_s * 1000), 3000, 600000)}};
                            suggested_prompt_body = body;
                        }
                        std::cerr << "hitdna generate: " << e.what() << "; retrying once with the suggestion\n";
                        rec["suggestion_used"] = true;
                        res = generate::compose(cfg, body);
                    }
                } catch (const Error& e) {
                    // A failure after a first good attempt ends the loop but keeps that attempt.
                    if (best_file.empty()) throw;
                    std::cerr << "hitdna generate: attempt " << a << " failed (" << e.what() << "); keeping attempt " << best_attempt << "\n";
                    break;
                }
                rec["request"] = body;
                rec["http_requests"] = res.attempts;
                rec["song_id"] = res.song_id;
                song_id = res.song_id;
                std::ofstream f(file, std::ios::binary);
                f.write(reinterpret_cast<const char*>(res.audio.data()), std::streamsize(res.audio.size()));
                f.close();
                if (!f) throw Error(ErrorKind::io, file + ": cannot write (disk full?)");
            }
            double score = 0;
            if (st->validate) {
                auto d = analysis::analyze_file(file);
                auto rep = validate::compare(d, t);
                score = rep.overall;
                lufs = d.production.integrated_lufs;
                seconds = d.duration_s;
                rec["validation"] = report_json(rep, st->min_score);
                std::fprintf(stderr, "hitdna generate: attempt %d: score %.3f\n", a, score);
                // Adjust for the next attempt: tempo by the measured ratio, energy contrast when
                // the arc is flat, else another seed.
                const bool tempo_off = d.audio.bpm && std::abs(*d.audio.bpm / t.bpm - 1) > 0.01 && std::abs(*d.audio.bpm / t.bpm - 1) < 0.2;
                if (backend == "local") {
                    if (tempo_off) so.tempo_scale *= t.bpm / *d.audio.bpm;
                    else if (rep.energy_correlation < 0.8) so.energy_contrast *= 1.3;
                    else so.seed = so.seed >= 2147483647u ? 0 : so.seed + 1;
                } else {
                    so.seed = so.seed >= 2147483647u ? 0 : so.seed + 1;
                    if (tempo_off && !suggestion_used) {
                        tempo_nudge *= t.bpm / *d.audio.bpm;
                        enrich::Target nudged = t;
                        nudged.bpm = std::round(t.bpm * tempo_nudge);
                        plan = enrich::composition_plan(nudged, st->model);
                    }
                }
            }
            attempts.push_back(rec);
            if (score > best_score || a == 1) {
                if (!best_file.empty()) fs::remove(best_file);
                best_score = score;
                best_attempt = a;
                best_file = file;
                best_lufs = lufs;
                best_duration = seconds;
            } else {
                fs::remove(file);
            }
            if (st->validate && score >= st->min_score) break;
        }
        if (std::rename(best_file.c_str(), st->out.c_str()) != 0) throw Error(ErrorKind::io, st->out + ": cannot write");
        nlohmann::json record;
        record["prompt"] = t.prompt;
        record["enriched_prompt"] = enrich::enriched_prompt(t);
        record["backend"] = backend;
        record["generator"] = backend == "local" ? "hitdna-synth-1" : st->model;
        if (backend == "elevenlabs") {
            record["output_format"] = st->output_format;
            record["song_id"] = song_id;
        }
        record["target"] = enrich::to_json(t);
        record["composition_plan"] = plan;
        record["attempts"] = attempts;
        record["best_attempt"] = best_attempt;
        if (st->validate) record["score"] = std::round(best_score * 1000) / 1000;
        record["output"] = fs::absolute(st->out).string();
        record["content_hash"] = store::hash_file(st->out);
        // Measured figures only: the local renderer measures its output; service audio is
        // measured when --validate analyzed it.
        if (backend == "local" || st->validate) {
            record["duration_s"] = std::round(best_duration * 100) / 100;
            record["integrated_lufs"] = std::round(best_lufs * 10) / 10;
        }
        if (!st->no_record) {
            store::Catalog cat(store::resolve_db_path(st->db), store::Catalog::Mode::read_write);
            std::optional<double> sc;
            if (st->validate) sc = best_score;
            record["generation_id"] = store::record_generation(cat, t.prompt, backend, record["output"], record["content_hash"], sc,
                                                            record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
        }
        const std::string text = record.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
        if (!st->record.empty()) {
            std::ofstream f(st->record);
            f << text << "\n";
            if (!f) throw Error(ErrorKind::io, st->record + ": cannot write the record");
        }
        std::cout << text << "\n";
        return st->validate && best_score < st->min_score ? 1 : 0;
    };
}

}  // namespace hitdna::cli
