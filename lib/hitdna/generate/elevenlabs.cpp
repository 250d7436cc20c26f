#include "hitdna/core/text.hpp"
#include "hitdna/generate/elevenlabs.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <random>
#include <thread>

#include "hitdna/core/error.hpp"

using json = nlohmann::json;

namespace hitdna::generate {

namespace {

std::string one_line(std::string s, size_t max = 300) {
    for (auto& c : s)
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    s = core::trim(s);
    if (s.size() > max) s = s.substr(0, max) + "...";
    return s;
}

struct Response {
    long status = 0;
    std::vector<unsigned char> body;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string header(const std::string& name) const {
        for (const auto& [k, v] : headers)
            if (k == name) return v;
        return "";
    }
};

size_t on_body(char* p, size_t size, size_t n, void* user) {
    auto* r = static_cast<Response*>(user);
    r->body.insert(r->body.end(), p, p + size * n);
    return size * n;
}

size_t on_header(char* p, size_t size, size_t n, void* user) {
    auto* r = static_cast<Response*>(user);
    std::string line(p, size * n);
    if (line.rfind("HTTP/", 0) == 0) r->headers.clear();  // a new response (after 100 Continue)
    auto colon = line.find(':');
    if (colon != std::string::npos) r->headers.emplace_back(core::ascii_lower(core::trim(line.substr(0, colon))), core::trim(line.substr(colon + 1)));
    return size * n;
}

void global_init() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

ElevenLabsConfig config_from_env() {
    ElevenLabsConfig c;
    if (const char* k = std::getenv("ELEVENLABS_API_KEY"); k && *k) c.api_key = k;
    if (const char* u = std::getenv("ELEVENLABS_BASE_URL"); u && *u) c.base_url = u;
    return c;
}

double retry_delay_s(const std::vector<std::pair<std::string, std::string>>& headers, int n, double max_backoff_s, double jitter_unit) {
    auto get = [&](const char* name) -> std::string {
        for (const auto& [k, v] : headers)
            if (k == name) return v;
        return "";
    };
    if (auto ms = get("retry-after-ms"); !ms.empty()) {
        char* end = nullptr;
        double v = std::strtod(ms.c_str(), &end);
        if (end && *end == 0 && v >= 0) return std::min(v / 1000.0, max_backoff_s);  // the caller gives up when it is longer than it will wait
    }
    if (auto ra = get("retry-after"); !ra.empty()) {
        char* end = nullptr;
        double v = std::strtod(ra.c_str(), &end);
        if (end && *end == 0 && v >= 0) return std::min(v, max_backoff_s);
        const time_t when = curl_getdate(ra.c_str(), nullptr);  // an HTTP date
        if (when > 0) return std::clamp(double(when - std::time(nullptr)), 0.0, max_backoff_s);
    }
    if (auto reset = get("x-ratelimit-reset"); !reset.empty()) {
        char* end = nullptr;
        double v = std::strtod(reset.c_str(), &end);
        if (end && *end == 0 && v > 0) return std::clamp(v - double(std::time(nullptr)) + 0.1 * std::abs(jitter_unit), 0.0, max_backoff_s);
    }
    const double base = std::pow(2.0, n);
    return std::min(base * (1 + 0.1 * std::clamp(jitter_unit, -1.0, 1.0)), 60.0);  // backoff itself is capped at 60 s
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
    global_init();
    const std::string url = cfg.base_url + "/v1/music?output_format=" + cfg.output_format;
    const std::string payload = body.dump(-1, ' ', false, json::error_handler_t::replace);
    std::mt19937 rng(std::random_device{}());
    ComposeResult out;
    for (int attempt = 0;; ++attempt) {
        std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), &curl_easy_cleanup);
        if (!curl) throw Error(ErrorKind::internal, "libcurl could not start");
        curl_slist* hdrs = nullptr;
        const std::string key_header = "xi-api-key: " + cfg.api_key;
        hdrs = curl_slist_append(hdrs, key_header.c_str());
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
        hdrs = curl_slist_append(hdrs, "Accept: audio/*, application/json");
        hdrs = curl_slist_append(hdrs, "Expect:");
        std::unique_ptr<curl_slist, void (*)(curl_slist*)> hguard(hdrs, &curl_slist_free_all);
        Response resp;
        CURL* c = curl.get();
        curl_easy_setopt(c, CURLOPT_URL, url.c_str());
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload.c_str());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(payload.size()));
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, &resp);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, long(cfg.connect_timeout_s * 1000));
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, long(cfg.timeout_s * 1000));
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_USERAGENT, "hitdna/" HITDNA_VERSION);
        const CURLcode rc = curl_easy_perform(c);
        ++out.attempts;
        if (rc == CURLE_OPERATION_TIMEDOUT)
            throw Error(ErrorKind::timeout, "ElevenLabs: no complete answer from " + cfg.base_url + " within " + std::to_string(int(cfg.timeout_s)) + " s");
        if (rc == CURLE_PARTIAL_FILE)
            throw Error(ErrorKind::network, "ElevenLabs: the answer from " + cfg.base_url + " was cut off after " + std::to_string(resp.body.size()) +
                                                " bytes (connection closed early); nothing was saved");
        if (rc != CURLE_OK) throw Error(ErrorKind::network, "ElevenLabs: " + cfg.base_url + ": " + curl_easy_strerror(rc));
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp.status);
        const int http = int(resp.status);
        if (http == 200) {
            const std::string ct = core::ascii_lower(resp.header("content-type"));
            if (ct.rfind("application/json", 0) == 0 || resp.body.empty())
                throw Error(ErrorKind::remote, "ElevenLabs: answered 200 without audio (content-type '" + ct + "', " + std::to_string(resp.body.size()) + " bytes)");
            out.audio = std::move(resp.body);
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
