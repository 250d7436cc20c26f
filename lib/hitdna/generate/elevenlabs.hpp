#pragma once
// A client for the ElevenLabs Music API, POST /v1/music, over core's shared HTTP client
// (core/http.hpp, the only libcurl user): a composition plan or a prompt in, audio bytes and
// the song-id out.
// Retries 429/408/409/5xx with the delay the server asks for (retry-after-ms, Retry-After in
// seconds or as an HTTP date, x-ratelimit-reset), else exponential backoff 1 s x 2^n with
// +-10 % jitter, capped at 60 s; a server asking to wait longer than max_backoff_s (60 s) is
// not retried early: the error says how long it asked for. Content-policy refusals (bad_prompt, bad_composition_plan)
// come back with the suggestion; every other error envelope (detail as an object, an array
// or a string, or plain text) becomes one line. The API key is sent in the xi-api-key header
// and never appears in a message.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "hitdna/core/error.hpp"
#include "hitdna/core/http.hpp"

namespace hitdna::generate {

struct ElevenLabsConfig {
    std::string base_url = "https://api.elevenlabs.io";  // ELEVENLABS_BASE_URL overrides
    std::string api_key;                                 // from ELEVENLABS_API_KEY
    std::string output_format = "mp3_44100_128";
    double connect_timeout_s = 30;
    double timeout_s = 600;                              // generation can take minutes
    int max_retries = 3;
    double max_backoff_s = 60;
};

// Reads ELEVENLABS_API_KEY and ELEVENLABS_BASE_URL.
ElevenLabsConfig config_from_env();

struct ComposeResult {
    std::vector<unsigned char> audio;
    std::string song_id;       // "" when the server sent none
    std::string content_type;
    int attempts = 0;          // HTTP requests made (retries included)
};

// A refusal the caller may act on (bad_prompt / bad_composition_plan).
struct Refusal {
    int http_status = 0;
    std::string status;                          // detail.status or detail.code
    std::string message;
    std::optional<std::string> prompt_suggestion;
    std::optional<nlohmann::json> plan_suggestion;
};

class ElevenLabsError : public Error {
public:
    ElevenLabsError(const std::string& what, Refusal r) : Error(ErrorKind::remote, what), refusal(std::move(r)) {}
    Refusal refusal;
};

// POST /v1/music with `body` (prompt or composition_plan, model_id, seed, ...). Throws
// ElevenLabsError for bad_prompt / bad_composition_plan, Error(remote) for other refusals
// (401, 403, 422, 4xx), Error(network) for transport failures and truncated bodies,
// Error(timeout) when the answer takes longer than the timeout, Error(usage) without a key.
ComposeResult compose(const ElevenLabsConfig& config, const nlohmann::json& body);

// The one-line explanation of an error response (exposed for tests).
std::string describe_error(int http_status, const std::string& body, Refusal* refusal);

// Seconds to wait before a retry: see core/http.hpp.
using core::retry_delay_s;

}  // namespace hitdna::generate
