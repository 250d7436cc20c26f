#pragma once
// A client for the part of Qdrant's REST API that hitdna uses (data/qdrant-openapi-v1.19.0.json),
// over core's shared HTTP client (core/http.hpp, the only libcurl user): JSON in, the `result`
// of the success envelope out. The key from
// QDRANT_API_KEY goes in the `api-key` header and never into a message. 408, 429, 503 (and
// 502/504 from proxies), refused/reset connections and timeouts are retried with the delay the
// server asks for (Retry-After, whole seconds or an HTTP date; up to 300 s) or 1 s x 2^n +-10 %
// (at most 60 s); a server that has never answered is not retried (most likely not running). Every error envelope
// ({"status":{"error":"..."}}, the plain-text 401, HTML from a proxy) becomes one line naming the
// request: "Qdrant: PUT /collections/x/points: 400 Wrong input: Vector dimension error: ...".
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "hitdna/core/error.hpp"

namespace hitdna::core {
class HttpClient;
}

namespace hitdna::qdrant {

struct Config {
    std::string url = "http://localhost:6333";  // --url / QDRANT_URL
    std::string api_key;                         // QDRANT_API_KEY
    double connect_timeout_s = 10;
    double timeout_s = 120;                      // per request; big upserts with wait=true take a while
    int max_retries = 5;
    double max_backoff_s = 300;                  // a server asking for longer is not waited for
};

// QDRANT_URL and QDRANT_API_KEY over the defaults; `flag_url` (when non-empty) wins.
Config config_from_env(const std::string& flag_url = "");

// An HTTP error answer: status and the server's message.
class QdrantError : public Error {
public:
    QdrantError(ErrorKind kind, const std::string& what, int status, std::string server_message)
        : Error(kind, what), http_status(status), message(std::move(server_message)) {}
    int http_status;
    std::string message;
};

struct ClientStats {
    int64_t requests = 0, retries = 0, bytes_sent = 0, bytes_received = 0;
    double waited_s = 0;  // sleeping before retries
};

class Client {
public:
    explicit Client(Config config);
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // METHOD path (with its query string) and a JSON body ("" for none) -> `result`.
    // Throws QdrantError(remote) for error answers, Error(network|timeout) for transport.
    nlohmann::json call(const std::string& method, const std::string& path, const std::string& body = "");
    // The same, but a 404 answer gives nullopt.
    std::optional<nlohmann::json> call_or_404(const std::string& method, const std::string& path, const std::string& body = "");

    const Config& config() const { return m_config; }
    const ClientStats& stats() const { return m_stats; }

private:
    Config m_config;
    ClientStats m_stats;
    bool m_answered = false;  // the server has answered at least once
    std::unique_ptr<core::HttpClient> m_http;
};

// The one-line description of an error answer (exposed for tests).
std::string describe_error(int status, const std::string& content_type, const std::string& body);

// Percent-encodes a path segment (collection names may hold spaces and such).
std::string path_segment(const std::string& s);
// "/collections/NAME", NAME encoded.
inline std::string collection_path(const std::string& name) { return "/collections/" + path_segment(name); }

}  // namespace hitdna::qdrant
