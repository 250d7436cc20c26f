#include "hitdna/core/http.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <mutex>

#include "hitdna/core/error.hpp"
#include "hitdna/core/shared_library.hpp"
#include "hitdna/core/text.hpp"

namespace hitdna::core {

namespace {

size_t on_body(char* p, size_t size, size_t n, void* user) {
    static_cast<HttpResponse*>(user)->body.append(p, size * n);
    return size * n;
}

size_t on_header(char* p, size_t size, size_t n, void* user) {
    auto* r = static_cast<HttpResponse*>(user);
    std::string line(p, size * n);
    if (line.rfind("HTTP/", 0) == 0) r->headers.clear();  // a new response (after 100 Continue)
    auto colon = line.find(':');
    if (colon != std::string::npos) r->headers.emplace_back(ascii_lower(trim(line.substr(0, colon))), trim(line.substr(colon + 1)));
    return size * n;
}

// libcurl, loaded (and initialized) when the first client is made.
struct Curl {
    core::SharedLibrary lib{HITDNA_CURL_SONAME, "HTTP (ElevenLabs, Qdrant)", "libcurl4"};
    HITDNA_LIBRARY_FUNCTION_AS(global_init, curl_global_init);
    HITDNA_LIBRARY_FUNCTION_AS(easy_init, curl_easy_init);
    HITDNA_LIBRARY_FUNCTION_AS(easy_cleanup, curl_easy_cleanup);
    HITDNA_LIBRARY_FUNCTION_AS(easy_reset, curl_easy_reset);
    HITDNA_LIBRARY_FUNCTION_AS(easy_setopt, curl_easy_setopt);
    HITDNA_LIBRARY_FUNCTION_AS(easy_perform, curl_easy_perform);
    HITDNA_LIBRARY_FUNCTION_AS(easy_getinfo, curl_easy_getinfo);
    HITDNA_LIBRARY_FUNCTION_AS(easy_strerror, curl_easy_strerror);
    HITDNA_LIBRARY_FUNCTION_AS(slist_append, curl_slist_append);
    HITDNA_LIBRARY_FUNCTION_AS(slist_free_all, curl_slist_free_all);
    HITDNA_LIBRARY_FUNCTION_AS(getdate, curl_getdate);
    Curl() { global_init(CURL_GLOBAL_DEFAULT); }
};

const Curl& curl() {
    static const Curl c;
    return c;
}

}  // namespace

std::string HttpResponse::header(const std::string& name) const {
    for (const auto& [k, v] : headers)
        if (k == name) return v;
    return "";
}

struct HttpClient::Impl {
    std::string service, base_url;
    CURL* curl = nullptr;
    ~Impl() {
        if (curl) hitdna::core::curl().easy_cleanup(curl);
    }
};

HttpClient::HttpClient(std::string service, std::string base_url) : m_impl(std::make_unique<Impl>()) {
    m_impl->service = std::move(service);
    m_impl->base_url = std::move(base_url);
    m_impl->curl = curl().easy_init();
    if (!m_impl->curl) throw Error(ErrorKind::internal, "libcurl could not start");
}

HttpClient::~HttpClient() = default;

HttpResponse HttpClient::request(const std::string& method, const std::string& url, const std::vector<std::string>& header_lines,
                                 const std::string& body, double connect_timeout_s, double timeout_s) {
    CURL* c = m_impl->curl;
    curl().easy_reset(c);  // keeps the connection cache
    curl_slist* hdrs = nullptr;
    for (const auto& h : header_lines) hdrs = curl().slist_append(hdrs, h.c_str());
    hdrs = curl().slist_append(hdrs, "Expect:");
    std::unique_ptr<curl_slist, void (*)(curl_slist*)> hguard(hdrs, curl().slist_free_all);
    HttpResponse resp;
    curl().easy_setopt(c, CURLOPT_URL, url.c_str());
    curl().easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    if (method == "GET") {
        curl().easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else {
        curl().easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
        if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
            curl().easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
            curl().easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.size()));
        }
    }
    curl().easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl().easy_setopt(c, CURLOPT_WRITEDATA, &resp);
    curl().easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl().easy_setopt(c, CURLOPT_HEADERDATA, &resp);
    curl().easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, long(connect_timeout_s * 1000));
    curl().easy_setopt(c, CURLOPT_TIMEOUT_MS, long(timeout_s * 1000));
    curl().easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl().easy_setopt(c, CURLOPT_USERAGENT, "hitdna/" HITDNA_VERSION);
    const CURLcode rc = curl().easy_perform(c);
    const std::string& svc = m_impl->service;
    const std::string& base = m_impl->base_url;
    if (rc == CURLE_OPERATION_TIMEDOUT)
        throw Error(ErrorKind::timeout, svc + ": no complete answer from " + base + " within " + std::to_string(int(std::ceil(timeout_s))) + " s");
    if (rc == CURLE_PARTIAL_FILE)
        throw Error(ErrorKind::network, svc + ": the answer from " + base + " was cut off after " + std::to_string(resp.body.size()) +
                                            " bytes (connection closed early); nothing was saved");
    if (rc != CURLE_OK) throw Error(ErrorKind::network, svc + ": " + base + ": " + curl().easy_strerror(rc));
    curl().easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp.status);
    return resp;
}

std::string one_line(std::string s, size_t max) {
    for (auto& c : s)
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    s = trim(s);
    if (s.size() > max) s = s.substr(0, max) + "...";
    return s;
}

double retry_delay_s(const Headers& headers, int n, double max_backoff_s, double jitter_unit) {
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
        const time_t when = curl().getdate(ra.c_str(), nullptr);  // an HTTP date
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

}  // namespace hitdna::core
