#pragma once
// A loopback fake of the ElevenLabs Music API (POST /v1/music) for the client tests. It checks
// every request against the contract in ../shared/specs/elevenlabs-music.md (answering 401 or
// a FastAPI-style 422 as the real service would) and otherwise plays scripted replies: audio
// with a song-id, errors, Retry-After, a slow answer, a truncated body.
#include <atomic>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace hitdna::test {

struct FakeReply {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    int delay_ms = 0;       // wait before answering
    bool truncate = false;  // announce the full Content-Length, send half, close
};

struct FakeRequest {
    std::string method, target;  // target: path and query
    std::vector<std::pair<std::string, std::string>> headers;  // names in lower case
    std::string body;
    std::string header(const std::string& name) const;
};

class FakeElevenLabs {
public:
    explicit FakeElevenLabs(std::string api_key = "test-key");
    ~FakeElevenLabs();
    std::string url() const;  // http://127.0.0.1:PORT
    void script(FakeReply r);  // replies are used in order; then audio replies
    std::vector<FakeRequest> requests();
    std::string audio = std::string("ID3\x03") + "fake-mp3-bytes";  // the default 200 body

private:
    void serve();
    FakeReply answer(const FakeRequest& req);
    std::string m_key;
    int m_fd = -1, m_port = 0;
    std::atomic<bool> m_stop{false};
    std::mutex m_mu;
    std::deque<FakeReply> m_script;
    std::vector<FakeRequest> m_requests;
    std::thread m_thread;
};

// The contract check alone: "" when the request is valid, else the 422 detail array (JSON).
std::string check_compose_request(const FakeRequest& req);

}  // namespace hitdna::test
