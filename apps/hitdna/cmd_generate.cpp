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
#include "hitdna/generate/synth.hpp"
#include "hitdna/store/hash.hpp"
#include "hitdna/validate/validate.hpp"

namespace fs = std::filesystem;

namespace hitdna::cli {

enrich::Target target_for_prompt(const std::string& db_flag, const std::string& prompt, const std::vector<std::string>& filters, size_t k,
                                 std::optional<double> duration_s, std::ostream& err);
enrich::Target read_target(const std::string& path);
nlohmann::json report_json(const validate::Report& r, double min_score);

Runner register_generate(CLI::App& app) {
    struct State {
        std::string prompt, target, out, db, backend = "local", record;
        std::vector<std::string> filters;
        size_t k = 10;
        double duration = 0, min_score = 0.85;
        unsigned seed = 1;
        int max_attempts = 3;
        bool validate = false, no_record = false;
    };
    auto st = std::make_shared<State>();
    app.footer(
        "Backend local: hitdna's own synthesizer renders the target (tempo, key and chords, sections,\n"
        "energy arc, hooks, drums, bass/808, width, brightness, loudness) to 16-bit stereo WAV, the same\n"
        "file for the same target and --seed. The JSON record of the generation goes to stdout and into\n"
        "the catalog (table generations). Exit status: 0 written (and, with --validate, passed), 1 written\n"
        "but the best attempt is below --min-score, 2 usage, 3 the output cannot be written, 5 the\n"
        "catalog cannot be written. See man hitdna-generate.");
    app.add_option("prompt", st->prompt, "What to make; enriched from the catalog's hits as in hitdna enrich");
    app.add_option("--target", st->target, "Target JSON from 'hitdna enrich --format json' instead of a prompt");
    app.add_option("-o,--output", st->out, "Audio file to write (.wav)")->required();
    app.add_option("--backend", st->backend, "Generator: local (built-in synthesizer, offline)")->check(CLI::IsMember({"local"}));
    app.add_option("--seed", st->seed, "Seed: the same target and seed give the same audio (default 1)");
    app.add_option("--duration", st->duration, "Length in seconds when enriching a prompt")->check(CLI::Range(10.0, 600.0));
    app.add_option("--filter", st->filters, "Metadata filter on the hits when enriching a prompt (repeatable)");
    app.add_option("-k", st->k, "Hits to aggregate when enriching a prompt (default 10)")->check(CLI::Range(1, 1000));
    app.add_flag("--validate", st->validate, "Validate each attempt against the target; adjust and retry while below --min-score");
    app.add_option("--min-score", st->min_score, "Overall validation score to reach, 0..1 (default 0.85)")->check(CLI::Range(0.0, 1.0));
    app.add_option("--max-attempts", st->max_attempts, "Attempts with --validate (default 3)")->check(CLI::Range(1, 20));
    app.add_option("--record", st->record, "Also write the generation record (JSON) to this file");
    app.add_flag("--no-record", st->no_record, "Do not record the generation in the catalog");
    app.add_option("--db", st->db, "Catalog database (default: $HITDNA_DB, else ~/.local/share/hitdna/hitdna.db)");
    return [st]() -> int {
        if (st->prompt.empty() == st->target.empty()) throw Error(ErrorKind::usage, "give a prompt or --target FILE (one of them)");
        if (fs::path(st->out).extension() != ".wav") throw Error(ErrorKind::usage, "-o " + st->out + ": the local backend writes WAV; name the file .wav");
        std::optional<double> dur;
        if (st->duration > 0) dur = st->duration;
        enrich::Target t = st->target.empty() ? target_for_prompt(st->db, st->prompt, st->filters, st->k, dur, std::cerr) : read_target(st->target);
        nlohmann::json attempts = nlohmann::json::array();
        generate::SynthOptions so;
        so.seed = st->seed;
        generate::Rendered best;
        double best_score = -1;
        int best_attempt = 0;
        const int n = st->validate ? st->max_attempts : 1;
        for (int a = 1; a <= n; ++a) {
            auto r = generate::render(t, so);
            nlohmann::json rec = {{"attempt", a}, {"seed", so.seed}, {"tempo_scale", so.tempo_scale}, {"energy_contrast", so.energy_contrast}};
            double score = 0;
            if (st->validate) {
                auto d = analysis::analyze_samples(r.samples.data(), r.samples.size() / 2, r.sample_rate, 2, st->out);
                auto rep = validate::compare(d, t);
                score = rep.overall;
                rec["validation"] = report_json(rep, st->min_score);
                std::fprintf(stderr, "hitdna generate: attempt %d: score %.3f\n", a, score);
                // Adjust for the next attempt: tempo by the measured ratio, energy contrast when
                // the arc is flat, else another seed.
                if (d.audio.bpm && std::abs(*d.audio.bpm / t.bpm - 1) > 0.01 && std::abs(*d.audio.bpm / t.bpm - 1) < 0.2)
                    so.tempo_scale *= t.bpm / *d.audio.bpm;
                else if (rep.energy_correlation < 0.8)
                    so.energy_contrast *= 1.3;
                else
                    so.seed += 1;
            }
            attempts.push_back(rec);
            if (score > best_score || a == 1) {
                best_score = score;
                best_attempt = a;
                best = std::move(r);
            }
            if (st->validate && score >= st->min_score) break;
        }
        // Write atomically: a temporary file next to the output, then a rename.
        const std::string tmp = st->out + ".tmp-" + std::to_string(::getpid());
        try {
            generate::write_wav(tmp, best);
        } catch (...) {
            std::error_code ec;
            fs::remove(tmp, ec);
            throw;
        }
        if (std::rename(tmp.c_str(), st->out.c_str()) != 0) throw Error(ErrorKind::io, st->out + ": cannot write");
        nlohmann::json record;
        record["prompt"] = t.prompt;
        record["enriched_prompt"] = enrich::enriched_prompt(t);
        record["backend"] = st->backend;
        record["generator"] = "hitdna-synth-1";
        record["target"] = enrich::to_json(t);
        record["composition_plan"] = enrich::composition_plan(t, "music_v1");
        record["attempts"] = attempts;
        record["best_attempt"] = best_attempt;
        if (st->validate) record["score"] = std::round(best_score * 1000) / 1000;
        record["output"] = fs::absolute(st->out).string();
        record["content_hash"] = store::hash_file(st->out);
        record["duration_s"] = best.duration_s;
        record["integrated_lufs"] = std::round(best.integrated_lufs * 10) / 10;
        if (!st->no_record) {
            store::Catalog cat(store::resolve_db_path(st->db), store::Catalog::Mode::read_write);
            std::optional<double> sc;
            if (st->validate) sc = best_score;
            record["generation_id"] = cat.record_generation(t.prompt, st->backend, record["output"], record["content_hash"], sc,
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
