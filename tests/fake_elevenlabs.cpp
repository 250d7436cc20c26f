#include "fake_elevenlabs.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>

using json = nlohmann::json;

namespace hitdna::test {

std::string FakeRequest::header(const std::string& name) const {
    for (const auto& [k, v] : headers)
        if (k == name) return v;
    return "";
}

namespace {

const std::set<std::string> k_formats = {"auto", "mp3_48000_128", "mp3_48000_192", "mp3_48000_240", "mp3_48000_320", "mp3_22050_32", "mp3_24000_48",
                                         "mp3_44100_32", "mp3_44100_64", "mp3_44100_96", "mp3_44100_128", "mp3_44100_192", "pcm_8000", "pcm_16000",
                                         "pcm_22050", "pcm_24000", "pcm_32000", "pcm_44100", "pcm_48000", "ulaw_8000", "alaw_8000", "opus_48000_32",
                                         "opus_48000_64", "opus_48000_96", "opus_48000_128", "opus_48000_192"};

void err(json& d, std::vector<std::string> loc, const std::string& msg) {
    json l = json::array({"body"});
    for (auto& x : loc) l.push_back(x);
    d.push_back({{"loc", l}, {"msg", msg}, {"type", "value_error"}});
}

void check_styles(json& d, const json& v, const std::string& where) {
    if (!v.is_array()) return err(d, {where}, "Input should be a valid list");
    if (v.size() > 50) err(d, {where}, "List should have at most 50 items");
    for (const auto& s : v)
        if (!s.is_string()) err(d, {where}, "Input should be a valid string");
}

void check_duration(json& d, const json& v, const std::string& where) {
    if (!v.is_number_integer()) return err(d, {where}, "Input should be a valid integer");
    const auto ms = v.get<int64_t>();
    if (ms < 3000 || ms > 120000) err(d, {where}, "Input should be between 3000 and 120000");
}

}  // namespace

std::string check_compose_request(const FakeRequest& req) {
    json d = json::array();
    const auto q = req.target.find('?');
    const std::string query = q == std::string::npos ? "" : req.target.substr(q + 1);
    if (query.rfind("output_format=", 0) == 0 && !k_formats.count(query.substr(14))) {
        d.push_back({{"loc", {"query", "output_format"}}, {"msg", "Input should be a valid output format"}, {"type", "enum"}});
    }
    json b = json::parse(req.body, nullptr, false);
    if (b.is_discarded() || !b.is_object()) {
        err(d, {}, "JSON decode error");
        return d.dump();
    }
    const bool has_prompt = b.contains("prompt") && !b["prompt"].is_null(), has_plan = b.contains("composition_plan") && !b["composition_plan"].is_null();
    if (has_prompt && has_plan) err(d, {"prompt"}, "Only one of prompt or composition_plan may be provided");
    if (!has_prompt && !has_plan) err(d, {"prompt"}, "One of prompt or composition_plan is required");
    if (has_prompt && (!b["prompt"].is_string() || b["prompt"].get<std::string>().size() > 4100)) err(d, {"prompt"}, "String should have at most 4100 characters");
    const std::string model = !b.contains("model_id") ? "music_v1" : b["model_id"].is_string() ? b["model_id"].get<std::string>() : "?";
    if (model != "music_v1" && model != "music_v2") err(d, {"model_id"}, "Input should be 'music_v1' or 'music_v2'");
    if (b.contains("music_length_ms") && !b["music_length_ms"].is_null()) {
        if (has_plan) err(d, {"music_length_ms"}, "music_length_ms can only be used with prompt");
        if (!b["music_length_ms"].is_number_integer() || b["music_length_ms"].get<int64_t>() < 3000 || b["music_length_ms"].get<int64_t>() > 600000)
            err(d, {"music_length_ms"}, "Input should be between 3000 and 600000");
    }
    if (b.contains("seed") && !b["seed"].is_null()) {
        if (has_prompt) err(d, {"seed"}, "seed cannot be used with prompt");
        if (!b["seed"].is_number_integer() || b["seed"].get<int64_t>() < 0 || b["seed"].get<int64_t>() > 2147483647) err(d, {"seed"}, "Input should be 0..2147483647");
    }
    if (has_plan) {
        const json& p = b["composition_plan"];
        if (p.contains("sections")) {
            if (model != "music_v1") err(d, {"composition_plan"}, "A sections plan needs model_id music_v1");
            for (const char* k : {"positive_global_styles", "negative_global_styles"})
                if (!p.contains(k)) err(d, {"composition_plan", k}, "Field required");
                else check_styles(d, p[k], k);
            int64_t total = 0;
            if (!p["sections"].is_array() || p["sections"].size() > 30 || p["sections"].empty()) err(d, {"composition_plan", "sections"}, "List should have 1..30 items");
            else
                for (const auto& s : p["sections"]) {
                    if (s.contains("duration_ms") && s["duration_ms"].is_number_integer()) total += s["duration_ms"].get<int64_t>();
                    if (s.contains("lines") && s["lines"].is_array())
                        for (const auto& l : s["lines"])
                            if (!l.is_string() || l.get<std::string>().size() > 200) err(d, {"composition_plan", "sections", "lines"}, "String should have at most 200 characters");
                    const std::string name = s.value("section_name", "");
                    if (name.empty() || name.size() > 100) err(d, {"composition_plan", "sections", "section_name"}, "String should have 1..100 characters");
                    for (const char* k : {"positive_local_styles", "negative_local_styles"})
                        if (!s.contains(k)) err(d, {"composition_plan", "sections", k}, "Field required");
                        else check_styles(d, s[k], k);
                    if (!s.contains("duration_ms")) err(d, {"composition_plan", "sections", "duration_ms"}, "Field required");
                    else check_duration(d, s["duration_ms"], "duration_ms");
                    if (!s.contains("lines") || !s["lines"].is_array() || s["lines"].size() > 30) err(d, {"composition_plan", "sections", "lines"}, "Field required, at most 30 lines");
                }
            if (total > 600000) err(d, {"composition_plan"}, "The plan is longer than 600000 ms");
        } else if (p.contains("chunks")) {
            if (model != "music_v2") err(d, {"composition_plan"}, "A chunks plan needs model_id music_v2");
            int64_t total = 0;
            if (!p["chunks"].is_array() || p["chunks"].size() > 30 || p["chunks"].empty()) err(d, {"composition_plan", "chunks"}, "List should have 1..30 items");
            else
                for (const auto& c : p["chunks"]) {
                    if (c.contains("duration_ms") && c["duration_ms"].is_number_integer()) total += c["duration_ms"].get<int64_t>();
                    if (!c.contains("text") || !c["text"].is_string() || c["text"].get<std::string>().size() > 6000)
                        err(d, {"composition_plan", "chunks", "text"}, "String should have at most 6000 characters");
                    if (!c.contains("duration_ms")) err(d, {"composition_plan", "chunks", "duration_ms"}, "Field required");
                    else check_duration(d, c["duration_ms"], "duration_ms");
                    if (!c.contains("positive_styles")) err(d, {"composition_plan", "chunks", "positive_styles"}, "Field required");
                    else check_styles(d, c["positive_styles"], "positive_styles");
                }
            if (total > 600000) err(d, {"composition_plan"}, "The plan is longer than 600000 ms");
        } else {
            err(d, {"composition_plan"}, "Input should be a MusicPrompt or a CompositionPlan");
        }
    }
    return d.empty() ? "" : d.dump();
}

FakeElevenLabs::FakeElevenLabs(std::string api_key) : m_key(std::move(api_key)) {
    m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (m_fd < 0) throw std::runtime_error("socket");
    int one = 1;
    ::setsockopt(m_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    if (::bind(m_fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(m_fd, 16) != 0) throw std::runtime_error("bind/listen");
    socklen_t len = sizeof a;
    ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&a), &len);
    m_port = ntohs(a.sin_port);
    m_thread = std::thread([this] { serve(); });
}

FakeElevenLabs::~FakeElevenLabs() {
    m_stop = true;
    ::shutdown(m_fd, SHUT_RDWR);
    ::close(m_fd);
    if (m_thread.joinable()) m_thread.join();
}

std::string FakeElevenLabs::url() const { return "http://127.0.0.1:" + std::to_string(m_port); }

void FakeElevenLabs::script(FakeReply r) {
    std::lock_guard<std::mutex> lock(m_mu);
    m_script.push_back(std::move(r));
}

std::vector<FakeRequest> FakeElevenLabs::requests() {
    std::lock_guard<std::mutex> lock(m_mu);
    return m_requests;
}

FakeReply FakeElevenLabs::answer(const FakeRequest& req) {
    auto path = req.target.substr(0, req.target.find('?'));
    if (req.method != "POST" || path != "/v1/music") return {404, {{"Content-Type", "application/json"}}, R"({"detail":"Not Found"})"};
    if (req.header("xi-api-key") != m_key)
        return {401, {{"Content-Type", "application/json"}}, R"({"detail":{"status":"invalid_api_key","message":"Invalid API key"}})"};
    if (auto bad = check_compose_request(req); !bad.empty()) return {422, {{"Content-Type", "application/json"}}, "{\"detail\":" + bad + "}"};
    std::lock_guard<std::mutex> lock(m_mu);
    if (!m_script.empty()) {
        auto r = m_script.front();
        m_script.pop_front();
        return r;
    }
    return {200, {{"Content-Type", "audio/mpeg"}, {"song-id", "song-" + std::to_string(m_requests.size())}}, audio};
}

void FakeElevenLabs::serve() {
    while (!m_stop) {
        pollfd p{m_fd, POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        int c = ::accept4(m_fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) continue;
        // Read the head, then Content-Length bytes of body.
        std::string data;
        char buf[65536];
        size_t head_end = std::string::npos;
        size_t want = 0;
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (std::chrono::steady_clock::now() < deadline) {
            pollfd q{c, POLLIN, 0};
            if (::poll(&q, 1, 100) <= 0) {
                if (m_stop) break;
                continue;
            }
            ssize_t n = ::recv(c, buf, sizeof buf, 0);
            if (n <= 0) break;
            data.append(buf, size_t(n));
            if (head_end == std::string::npos && (head_end = data.find("\r\n\r\n")) != std::string::npos) {
                std::string lower_head = data.substr(0, head_end);
                std::transform(lower_head.begin(), lower_head.end(), lower_head.begin(), [](unsigned char ch) { return char(std::tolower(ch)); });
                auto cl = lower_head.find("content-length:");
                want = cl == std::string::npos ? 0 : size_t(std::stoul(lower_head.substr(cl + 15)));
            }
            if (head_end != std::string::npos && data.size() >= head_end + 4 + want) break;
        }
        FakeRequest req;
        if (head_end != std::string::npos) {
            std::string head = data.substr(0, head_end);
            size_t line_end = head.find("\r\n");
            std::string first = head.substr(0, line_end);
            auto sp1 = first.find(' '), sp2 = first.rfind(' ');
            req.method = first.substr(0, sp1);
            req.target = first.substr(sp1 + 1, sp2 - sp1 - 1);
            size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
            while (pos < head.size()) {
                size_t e = head.find("\r\n", pos);
                if (e == std::string::npos) e = head.size();
                std::string h = head.substr(pos, e - pos);
                auto colon = h.find(':');
                if (colon != std::string::npos) {
                    std::string k = h.substr(0, colon), v = h.substr(colon + 1);
                    std::transform(k.begin(), k.end(), k.begin(), [](unsigned char ch) { return char(std::tolower(ch)); });
                    while (!v.empty() && v.front() == ' ') v.erase(v.begin());
                    req.headers.emplace_back(k, v);
                }
                pos = e + 2;
            }
            req.body = data.substr(head_end + 4, want);
        }
        FakeReply r = answer(req);
        {
            std::lock_guard<std::mutex> lock(m_mu);
            m_requests.push_back(req);
        }
        for (int waited = 0; waited < r.delay_ms && !m_stop; waited += 20) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        std::string out = "HTTP/1.1 " + std::to_string(r.status) + (r.status == 200 ? " OK" : " Error") + "\r\n";
        for (const auto& [k, v] : r.headers) out += k + ": " + v + "\r\n";
        out += "Content-Length: " + std::to_string(r.body.size()) + "\r\nConnection: close\r\n\r\n";
        out += r.truncate ? r.body.substr(0, r.body.size() / 2) : r.body;
        size_t sent = 0;
        while (sent < out.size()) {
            ssize_t n = ::send(c, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
            if (n <= 0) break;
            sent += size_t(n);
        }
        ::close(c);
    }
}

}  // namespace hitdna::test
