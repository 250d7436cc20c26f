#include "hitdna/generate/run.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <ostream>
#include <vector>

#include "hitdna/analysis/analyze.hpp"
#include "hitdna/core/error.hpp"
#include "hitdna/core/files.hpp"
#include "hitdna/store/generations.hpp"
#include "hitdna/store/hash.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace hitdna::generate {

namespace {

// Attempt files are temporary: whatever happens, none is left behind.
struct TempFiles {
    std::vector<std::string> files;
    ~TempFiles() {
        std::error_code ec;
        for (const auto& f : files) fs::remove(f, ec);
    }
};

struct Best {
    int attempt = 0;
    double score = -1;
    std::string file;
    Take take;
};

// The generation record of the kept attempt (figures only where they were measured).
json make_record(const enrich::Target& t, const Backend& backend, const LoopOptions& o, const json& attempts, const Best& best) {
    json record;
    record["prompt"] = t.prompt;
    record["enriched_prompt"] = enrich::enriched_prompt(t);
    record["backend"] = backend.name();
    backend.describe(record);
    record["target"] = enrich::to_json(t);
    record["attempts"] = attempts;
    record["best_attempt"] = best.attempt;
    if (o.validate) record["score"] = std::round(best.score * 1000) / 1000;
    record["output"] = fs::absolute(o.output).string();
    record["content_hash"] = store::hash_file(o.output);
    if (best.take.measured) {
        record["duration_s"] = std::round(best.take.duration_s * 100) / 100;
        record["integrated_lufs"] = std::round(best.take.integrated_lufs * 10) / 10;
    }
    return record;
}

}  // namespace

Result run(const enrich::Target& t, Backend& backend, const LoopOptions& o, std::ostream& log) {
    json attempts = json::array();
    Best best;
    TempFiles temps;
    const int n = o.validate ? o.max_attempts : 1;
    for (int a = 1; a <= n; ++a) {
        const std::string file = o.output + ".attempt-" + std::to_string(a) + "-" + std::to_string(::getpid()) + fs::path(o.output).extension().string();
        temps.files.push_back(file);
        json rec = {{"attempt", a}};
        try {
            backend.make(t, rec, log);
        } catch (const Error& e) {
            // A failure after a first good attempt ends the loop but keeps that attempt.
            if (best.file.empty()) throw;
            log << "hitdna generate: attempt " << a << " failed (" << e.what() << "); keeping attempt " << best.attempt << "\n";
            break;
        }
        Take take = backend.write(file, t);
        double score = 0;
        if (o.validate) {
            auto d = analysis::analyze_file(file);
            auto rep = validate::compare(d, t);
            score = rep.overall;
            take = {d.production.integrated_lufs, d.duration_s, true};
            rec["validation"] = validate::to_json(rep, o.min_score);
            char line[96];
            std::snprintf(line, sizeof line, "hitdna generate: attempt %d: score %.3f\n", a, score);
            log << line << std::flush;
            backend.adjust(t, d, rep);
        }
        attempts.push_back(rec);
        if (score > best.score || a == 1) {
            if (!best.file.empty()) fs::remove(best.file);
            best = {a, score, file, take};
        } else {
            fs::remove(file);
        }
        if (o.validate && score >= o.min_score) break;
    }
    if (std::rename(best.file.c_str(), o.output.c_str()) != 0) throw Error(ErrorKind::io, o.output + ": cannot write");
    Result r;
    r.record = make_record(t, backend, o, attempts, best);
    if (!o.midi.empty()) {
        const auto bytes = backend.midi(attempts[size_t(best.attempt - 1)], t);
        if (bytes.empty()) throw Error(ErrorKind::usage, "--midi: the " + backend.name() + " backend makes no MIDI file");
        core::AtomicFile f(o.midi);
        f.stream().write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
        f.commit();
        r.record["midi"] = fs::absolute(o.midi).string();
    }
    r.best_attempt = best.attempt;
    r.best_score = best.score;
    r.passed = !o.validate || best.score >= o.min_score;
    if (o.record) {
        store::Catalog cat(store::resolve_db_path(o.db), store::Catalog::Mode::read_write);
        std::optional<double> sc;
        if (o.validate) sc = best.score;
        r.record["generation_id"] = store::record_generation(cat, t.prompt, backend.name(), r.record["output"], r.record["content_hash"], sc,
                                                             r.record.dump(-1, ' ', false, json::error_handler_t::replace));
    }
    return r;
}

Result generate(GenerateOptions o, std::ostream& log) {
    if (o.prompt.empty() == o.target_file.empty()) throw Error(ErrorKind::usage, "give a prompt or --target FILE (one of them)");
    const auto& cfg = o.elevenlabs.config;
    const std::string backend = !o.backend.empty() ? o.backend : (cfg.api_key.empty() ? "local" : "elevenlabs");
    if (backend != "local" && backend != "elevenlabs") throw Error(ErrorKind::usage, "--backend '" + backend + "': local or elevenlabs");
    if (backend == "local" && fs::path(o.loop.output).extension() != ".wav")
        throw Error(ErrorKind::usage, "-o " + o.loop.output + ": the local backend writes WAV; name the file .wav");
    if (backend == "elevenlabs" && cfg.api_key.empty()) throw Error(ErrorKind::usage, "--backend elevenlabs needs ELEVENLABS_API_KEY in the environment");
    if (backend != "local" && !o.loop.midi.empty()) throw Error(ErrorKind::usage, "--midi: only the local backend makes a MIDI sketch");
    o.enrich.prompt = o.prompt;
    const enrich::Target t = o.target_file.empty() ? enrich::target_for_prompt(o.enrich, log) : enrich::read_target(o.target_file);
    o.elevenlabs.seed = o.seed;
    auto b = backend == "local" ? local_backend(t, o.seed, o.soundfont) : elevenlabs_backend(t, o.elevenlabs);
    return run(t, *b, o.loop, log);
}

}  // namespace hitdna::generate
