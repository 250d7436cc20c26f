#include "hitdna/generate/elevenlabs.hpp"

#include "hitdna/core/http.hpp"
#include "hitdna/core/text.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <random>
#include <thread>

#include "hitdna/core/error.hpp"

using json = nlohmann::json;

namespace hitdna::generate {

using core::one_line;

ElevenLabsConfig config_from_env() {
    ElevenLabsConfig c;
    if (const char* k = std::getenv("ELEVENLABS_API_KEY"); k && *k) c.api_key = k;
    if (const char* u = std::getenv("ELEVENLABS_BASE_URL"); u && *u) c.base_url = u;
    return c;
}

std::string describe_error(int http, const std::string& body, Refusal* refusal) {
    Refusal r;
    r.http_status = http;
    std::string status, message;
    json j = json::parse(body, nullptr, false);
    if (!j.is_discarded() && j.is_object() && j.contains("detail")) {
        const json& d = j["detail"];
        if (d.is_object()) {
            // Music refusals name themselves in "status" (legacy); newer envelopes use "code".
            if (d.contains("status") && d["status"].is_string()) status = d["status"].get<std::string>();
            else if (d.contains("code") && d["code"].is_string()) status = d["code"].get<std::string>();
            message = d.contains("message") && d["message"].is_string() ? d["message"].get<std::string>() : "";
            if (d.contains("data") && d["data"].is_object()) {
                const json& data = d["data"];
                if (data.contains("prompt_suggestion") && data["prompt_suggestion"].is_string()) r.prompt_suggestion = data["prompt_suggestion"].get<std::string>();
                if (data.contains("composition_plan_suggestion") && data["composition_plan_suggestion"].is_object())
                    r.plan_suggestion = data["composition_plan_suggestion"];
            }
        } else if (d.is_array()) {
            // FastAPI validation errors: [{"loc": [...], "msg": "...", "type": "..."}]
            status = "validation_error";
            for (const auto& e : d) {
                std::string loc;
                if (e.contains("loc") && e["loc"].is_array())
                    for (const auto& p : e["loc"]) loc += (loc.empty() ? "" : ".") + (p.is_string() ? p.get<std::string>() : p.dump());
                const std::string msg = e.contains("msg") && e["msg"].is_string() ? e["msg"].get<std::string>() : e.dump();
                message += (message.empty() ? "" : "; ") + (loc.empty() ? msg : loc + ": " + msg);
            }
        } else if (d.is_string()) {
            message = d.get<std::string>();
        }
    } else {
        message = std::string(body.begin(), body.end());  // plain text
    }
    r.status = status;
    r.message = one_line(message);
    if (refusal) *refusal = r;
    const std::string code = std::to_string(http) + (status.empty() ? "" : " " + status);
    const std::string detail = r.message.empty() ? "" : ": " + r.message;
    if (status == "bad_prompt") {
        std::string s = "ElevenLabs refused the prompt (" + code + detail + ")";
        if (r.prompt_suggestion) s += "; suggested prompt: \"" + one_line(*r.prompt_suggestion, 500) + "\" (rerun with --accept-suggestion to use it)";
        else s += "; no suggestion was offered (harmful content?)";
        return s;
    }
    if (status == "bad_composition_plan") {
        std::string s = "ElevenLabs refused the composition plan (" + code + detail + ")";
        s += r.plan_suggestion ? "; it suggested a revised plan (rerun with --accept-suggestion to use it)" : "; no suggestion was offered";
        return s;
    }
    if (http == 401) return "ElevenLabs rejected the API key (" + code + detail + "); check ELEVENLABS_API_KEY";
    if (http == 403) return "ElevenLabs: not allowed for this account (" + code + detail + "); the Music API needs a paid plan";
    if (http == 422) return "ElevenLabs: invalid request (" + code + detail + ")";
    if (http == 429) return "ElevenLabs: too many requests (" + code + detail + ")";
    if (http >= 500) return "ElevenLabs: server error (" + code + detail + ")";
    return "ElevenLabs: request failed (" + code + detail + ")";
}

ComposeResult compose(const ElevenLabsConfig& cfg, const json& body) {
    if (cfg.api_key.empty()) throw Error(ErrorKind::usage, "ELEVENLABS_API_KEY is not set (or use --backend local)");
    const std::string url = cfg.base_url + "/v1/music?output_format=" + cfg.output_format;
    const std::string payload = body.dump(-1, ' ', false, json::error_handler_t::replace);
    std::mt19937 rng(std::random_device{}());
    ComposeResult out;
    core::HttpClient client("ElevenLabs", cfg.base_url);
    const std::vector<std::string> header_lines = {"xi-api-key: " + cfg.api_key, "Content-Type: application/json",
                                                   "Accept: audio/*, application/json"};
    for (int attempt = 0;; ++attempt) {
        ++out.attempts;
        core::HttpResponse resp = client.request("POST", url, header_lines, payload, cfg.connect_timeout_s, cfg.timeout_s);
        const int http = int(resp.status);
        if (http == 200) {
            const std::string ct = core::ascii_lower(resp.header("content-type"));
            if (ct.rfind("application/json", 0) == 0 || resp.body.empty())
                throw Error(ErrorKind::remote, "ElevenLabs: answered 200 without audio (content-type '" + ct + "', " + std::to_string(resp.body.size()) + " bytes)");
            out.audio.assign(resp.body.begin(), resp.body.end());
            out.song_id = resp.header("song-id");
            out.content_type = ct;
            return out;
        }
        const std::string text(resp.body.begin(), resp.body.end());
        const bool retryable = http == 429 || http == 408 || http == 409 || http >= 500;
        std::uniform_real_distribution<double> u(-1, 1);
        const double wait = retryable ? retry_delay_s(resp.headers, attempt, 1e9, u(rng)) : 0;
        // A server asking for a longer wait than max_backoff_s gets no early retry: we stop.
        if (retryable && attempt < cfg.max_retries && wait <= cfg.max_backoff_s) {
            std::this_thread::sleep_for(std::chrono::duration<double>(wait));
            continue;
        }
        Refusal refusal;
        std::string msg = describe_error(http, text, &refusal);
        if (retryable && wait > cfg.max_backoff_s) msg += "; it asks to wait " + std::to_string(int(std::ceil(wait))) + " s, try again later";
        else if (retryable) msg += " after " + std::to_string(out.attempts) + " attempts";
        if (refusal.status == "bad_prompt" || refusal.status == "bad_composition_plan") throw ElevenLabsError(msg, refusal);
        throw Error(ErrorKind::remote, msg);
    }
}

}  // namespace hitdna::generate
