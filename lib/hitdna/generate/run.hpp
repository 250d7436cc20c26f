#pragma once
// `hitdna generate` as a library call: a target (from a prompt or a file) -> audio from a
// backend, each attempt validated against the target when asked, adjusted and retried while
// below the minimum score; the best attempt kept, its generation record built and stored in
// the catalog.
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "hitdna/dna/dna.hpp"
#include "hitdna/enrich/prompt.hpp"
#include "hitdna/generate/elevenlabs.hpp"
#include "hitdna/validate/validate.hpp"

namespace hitdna::generate {

// What an attempt measured without validation: the renderer knows its output's loudness and
// length; a service's audio is not measured (0 LUFS, the target's length).
struct Take {
    double integrated_lufs = 0;  // LUFS
    double duration_s = 0;       // s
    bool measured = false;       // the two figures were measured on the audio
};

// A generator behind `generate`: makes one attempt's audio, then prepares the next one from
// how the attempt measured.
class Backend {
public:
    virtual ~Backend() = default;
    // "local" or "elevenlabs": the backend named in records and in the catalog.
    virtual std::string name() const = 0;
    // Makes the audio of one attempt, recording what was asked in `attempt` (a JSON object).
    // Throws Error when the generator fails; a failure after a good attempt keeps that attempt.
    virtual void make(const enrich::Target& target, nlohmann::json& attempt, std::ostream& log) = 0;
    // Writes the audio made last to `path`; throws Error(io) naming it.
    virtual Take write(const std::string& path, const enrich::Target& target) = 0;
    // Adjusts the next attempt after one that measured `measured` and validated as `report`.
    virtual void adjust(const enrich::Target& target, const dna::Dna& measured, const validate::Report& report) = 0;
    // Adds this backend's fields (generator, composition plan, ...) to the generation record.
    virtual void describe(nlohmann::json& record) const = 0;
    // The MIDI file of an attempt (from its record), or nothing when the backend has none.
    virtual std::vector<uint8_t> midi(const nlohmann::json& attempt, const enrich::Target& target) const {
        (void)attempt, (void)target;
        return {};
    }
};

// hitdna's own generator: the target's arrangement sketch played through a General MIDI
// soundfont and mastered (offline, 16-bit stereo WAV, the same file for the same target, seed
// and soundfont; "" = the default soundfont).
std::unique_ptr<Backend> local_backend(const enrich::Target& target, uint32_t seed, const std::string& soundfont = "");

struct ElevenLabsOptions {
    ElevenLabsConfig config;           // key, base URL, output format, timeout
    std::string model = "music_v2";    // music_v1 (sections) or music_v2 (chunks)
    uint32_t seed = 1;
    bool accept_suggestion = false;    // retry once with the service's suggested prompt or plan
};
// The ElevenLabs Music API (POST /v1/music with the target's composition plan).
std::unique_ptr<Backend> elevenlabs_backend(const enrich::Target& target, const ElevenLabsOptions& options);

struct LoopOptions {
    std::string output;                // audio file to write
    bool validate = false;             // validate each attempt; adjust and retry while below min_score
    double min_score = 0.85;           // 0..1
    int max_attempts = 3;              // with validate
    bool record = true;                // store the generation in the catalog
    std::string db;                    // catalog path; "" = $HITDNA_DB or the default
    std::string midi;                  // also write the kept attempt's sketch here (local backend)
};

struct Result {
    nlohmann::json record;             // the generation record (with generation_id when stored)
    int best_attempt = 0;              // 1-based
    double best_score = -1;            // 0..1 when validated
    bool passed = true;                // validated and >= min_score (true without validation)
};

// Runs the attempts with a backend for a target. Attempt files are temporary and never left
// behind; the best one is renamed to the output. Throws the first attempt's Error, Error(io)
// when the output cannot be written, Error(db) when the catalog cannot be.
Result run(const enrich::Target& target, Backend& backend, const LoopOptions& options, std::ostream& log);

struct GenerateOptions {
    std::string prompt;                // enriched from the catalog's hits (enrich::target_for_prompt) ...
    std::string target_file;           // ... or a target file; one of the two
    enrich::PromptOptions enrich;      // filters, k, duration, catalog for the prompt
    std::string backend;               // local | elevenlabs | "" (elevenlabs when the key is set, else local)
    ElevenLabsOptions elevenlabs;      // key and URL default from the environment (config_from_env)
    uint32_t seed = 1;                 // 0..2147483647
    std::string soundfont;             // local backend: "" = the default General MIDI soundfont
    LoopOptions loop;
};

// Checks the options, makes the target and the backend, and runs the attempts (hitdna
// generate). Throws Error(usage) for inconsistent options (no prompt and no target, a local
// output that is not .wav, elevenlabs without a key), then as the steps above.
Result generate(GenerateOptions options, std::ostream& log);

}  // namespace hitdna::generate
