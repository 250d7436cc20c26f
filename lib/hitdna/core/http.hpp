#pragma once
// One libcurl HTTP exchange at a time over a kept-alive connection, shared by the ElevenLabs and
// Qdrant clients: transport failures become Error(network) or Error(timeout) naming the service
// and its base URL; status codes and bodies are the caller's to judge.
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace hitdna::core {

using Headers = std::vector<std::pair<std::string, std::string>>;  // names lower case

struct HttpResponse {
    long status = 0;
    std::string body;
    Headers headers;
    std::string header(const std::string& lower_name) const;
};

class HttpClient {
public:
    // `service` and `base_url` only name the peer in error messages.
    HttpClient(std::string service, std::string base_url);
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    // METHOD url with the given "Name: value" header lines and body (sent when non-empty or
    // when the method is POST/PUT/PATCH). Throws Error(timeout) when no complete answer arrives
    // within timeout_s, Error(network) for refused/reset connections and bodies cut short.
    HttpResponse request(const std::string& method, const std::string& url, const std::vector<std::string>& header_lines,
                         const std::string& body, double connect_timeout_s, double timeout_s);

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

// Newlines and tabs to spaces, trimmed, at most `max` bytes (then "...").
std::string one_line(std::string s, size_t max = 300);

// Seconds to wait before retry n (0-based) given the response headers (lower-case names):
// what the server asks for (retry-after-ms, Retry-After in seconds or as an HTTP date,
// x-ratelimit-reset; up to max_backoff_s), else 1 s x 2^n +-10 % (jitter_unit in -1..1) capped at 60 s.
double retry_delay_s(const Headers& headers, int n, double max_backoff_s, double jitter_unit);

}  // namespace hitdna::core
