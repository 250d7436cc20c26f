#pragma once
// Runs tests/fake_qdrant.py (a loopback Qdrant that validates every request against
// ../shared/specs/qdrant-openapi-v1.19.0.json) for the length of a test, and talks to its
// control endpoints (/__fake/stats, /__fake/log, /__fake/script, /__fake/reset).
#include <nlohmann/json.hpp>
#include <string>
#include <sys/types.h>
#include <vector>

namespace hitdna::test {

class FakeQdrant {
public:
    explicit FakeQdrant(const std::vector<std::string>& extra_args = {});
    ~FakeQdrant();
    FakeQdrant(const FakeQdrant&) = delete;
    FakeQdrant& operator=(const FakeQdrant&) = delete;

    const std::string& url() const { return m_url; }
    pid_t pid() const { return m_pid; }
    nlohmann::json stats();
    nlohmann::json log();
    // Appends scripted replies (see tests/fake_qdrant.py); an empty list drops the pending ones.
    void script(const nlohmann::json& replies);
    void reset();
    // A raw request: {status, body (parsed when JSON)}.
    nlohmann::json request(const std::string& method, const std::string& path, const std::string& body = "", const std::string& api_key = "");

    static std::string spec_path();

private:
    pid_t m_pid = -1;
    std::string m_url;
};

}  // namespace hitdna::test
