#include "hitdna/qdrant/client.hpp"

#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <random>
#include <thread>

#include "hitdna/core/http.hpp"
#include "hitdna/core/text.hpp"

using json = nlohmann::json;

namespace hitdna::qdrant {

Config config_from_env(const std::string& flag_url) {
    Config c;
    if (const char* u = std::getenv("QDRANT_URL"); u && *u) c.url = u;
    if (!flag_url.empty()) c.url = flag_url;
    while (!c.url.empty() && c.url.back() == '/') c.url.pop_back();
    if (const char* k = std::getenv("QDRANT_API_KEY"); k && *k) c.api_key = k;
    return c;
}

std::string path_segment(const std::string& s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += char(c);
        else out += '%', out += hex[c >> 4], out += hex[c & 15];
    }
    return out;
}

std::string describe_error(int status, const std::string& content_type, const std::string& body) {
    std::string message;
    const json j = json::parse(body, nullptr, false);
    if (!j.is_discarded() && j.is_object() && j.contains("status") && j["status"].is_object() && j["status"].contains("error") &&
        j["status"]["error"].is_string()) {
        message = j["status"]["error"].get<std::string>();
    } else if (!j.is_discarded() && j.is_object() && j.contains("status") && j["status"].is_string()) {
        message = j["status"].get<std::string>();
    } else {
        // The 401 is plain text; a proxy may send HTML: keep its first line of text.
        message = body;
        if (core::ascii_lower(content_type).find("html") != std::string::npos) {
            std::string text;
            bool tag = false;
            for (char c : body) {
                if (c == '<') tag = true;
                else if (c == '>') tag = false, text += ' ';
                else if (!tag) text += c;
            }
            message = text;
        }
    }
    message = core::one_line(message);
    std::string s = std::to_string(status);
    if (status == 401) return s + " unauthorized" + (message.empty() ? "" : " (" + message + ")") + "; set QDRANT_API_KEY to the server's key";
    if (status == 403) return s + " " + (message.empty() ? "forbidden" : message);
    if (message.empty()) message = "no message";
    return s + " " + message;
}

Client::Client(Config config) : m_config(std::move(config)), m_http(std::make_unique<core::HttpClient>("Qdrant", m_config.url)) {}
Client::~Client() = default;

std::optional<json> Client::call_or_404(const std::string& method, const std::string& path, const std::string& body) {
    try {
        return call(method, path, body);
    } catch (const QdrantError& e) {
        if (e.http_status == 404) return std::nullopt;
        throw;
    }
}

json Client::call(const std::string& method, const std::string& path, const std::string& body) {
    std::vector<std::string> headers = {"Accept: application/json"};
    if (!body.empty()) headers.push_back("Content-Type: application/json");
    if (!m_config.api_key.empty()) headers.push_back("api-key: " + m_config.api_key);
    const std::string what = "Qdrant: " + method + " " + path.substr(0, path.find('?'));
    std::mt19937 rng(std::random_device{}());
    std::uniform_real_distribution<double> jitter(-1, 1);
    for (int attempt = 0;; ++attempt) {
        core::HttpResponse r;
        ++m_stats.requests;
        m_stats.bytes_sent += int64_t(body.size());
        try {
            r = m_http->request(method, m_config.url + path, headers, body, m_config.connect_timeout_s, m_config.timeout_s);
        } catch (const Error& e) {
            // Transport trouble: retried once the server has shown it exists.
            if (m_answered && attempt < m_config.max_retries) {
                const double wait = core::retry_delay_s({}, attempt, m_config.max_backoff_s, jitter(rng));
                ++m_stats.retries;
                m_stats.waited_s += wait;
                std::this_thread::sleep_for(std::chrono::duration<double>(wait));
                continue;
            }
            std::string msg = e.what();
            if (!m_answered && e.kind() == ErrorKind::network) msg += " (is Qdrant running there? set --url or QDRANT_URL)";
            else if (attempt > 0) msg += " (after " + std::to_string(attempt + 1) + " attempts)";
            throw Error(e.kind(), msg);
        }
        m_answered = true;
        m_stats.bytes_received += int64_t(r.body.size());
        const int status = int(r.status);
        if (status == 200) {
            json j = json::parse(r.body, nullptr, false);
            if (j.is_discarded() || !j.is_object() || !j.contains("result"))
                throw QdrantError(ErrorKind::remote, what + ": answered 200 without a Qdrant envelope (" + core::one_line(r.body, 120) + ")", status, "");
            return std::move(j["result"]);
        }
        // 502 and 504 come from proxies in front of Qdrant; they pass like 503.
        const bool retryable = status == 408 || status == 429 || status == 502 || status == 503 || status == 504;
        const double wait = retryable ? core::retry_delay_s(r.headers, attempt, 1e9, jitter(rng)) : 0;
        if (retryable && attempt < m_config.max_retries && wait <= m_config.max_backoff_s) {
            ++m_stats.retries;
            m_stats.waited_s += wait;
            std::this_thread::sleep_for(std::chrono::duration<double>(wait));
            continue;
        }
        std::string msg = what + ": " + describe_error(status, r.header("content-type"), r.body);
        if (status == 403 && method != "GET") msg += " (a read-only key cannot write)";
        if (retryable && wait > m_config.max_backoff_s) msg += "; it asks to wait " + std::to_string(int(std::ceil(wait))) + " s, try again later";
        else if (retryable) msg += " (after " + std::to_string(attempt + 1) + " attempts)";
        std::string server = json::parse(r.body, nullptr, false).is_discarded() ? core::one_line(r.body) : describe_error(status, "", r.body);
        throw QdrantError(ErrorKind::remote, msg, status, server);
    }
}

}  // namespace hitdna::qdrant
