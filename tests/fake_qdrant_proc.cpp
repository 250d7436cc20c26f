#include "fake_qdrant_proc.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>

#include "hitdna/core/http.hpp"

namespace hitdna::test {

std::string FakeQdrant::spec_path() {
    // The workplace keeps the specs next to the repository; tests may name another copy.
    if (const char* p = std::getenv("QDRANT_OPENAPI"); p && *p) return p;
    return std::string(HITDNA_SOURCE_DIR) + "/data/qdrant-openapi-v1.19.0.json";
}

FakeQdrant::FakeQdrant(const std::vector<std::string>& extra_args) {
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("pipe");
    std::vector<std::string> args = {"/usr/bin/python3", std::string(HITDNA_SOURCE_DIR) + "/tests/fake_qdrant.py", "--spec", spec_path(), "--port", "0"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    m_pid = fork();
    if (m_pid < 0) throw std::runtime_error("fork");
    if (m_pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        _exit(127);
    }
    close(fds[1]);
    std::string line;
    char c;
    while (read(fds[0], &c, 1) == 1 && c != '\n') line += c;
    close(fds[0]);
    if (line.empty()) throw std::runtime_error("tests/fake_qdrant.py did not start (python3-jsonschema installed?)");
    m_url = "http://127.0.0.1:" + line;
}

FakeQdrant::~FakeQdrant() {
    if (m_pid > 0) {
        kill(m_pid, SIGTERM);
        int st = 0;
        waitpid(m_pid, &st, 0);
    }
}

nlohmann::json FakeQdrant::request(const std::string& method, const std::string& path, const std::string& body, const std::string& api_key) {
    core::HttpClient http("fake qdrant", m_url);
    std::vector<std::string> headers;
    if (!body.empty()) headers.push_back("Content-Type: application/json");
    if (!api_key.empty()) headers.push_back("api-key: " + api_key);
    auto r = http.request(method, m_url + path, headers, body, 5, 60);
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    return {{"status", r.status}, {"body", j.is_discarded() ? nlohmann::json(r.body) : j}, {"content_type", r.header("content-type")}};
}

nlohmann::json FakeQdrant::stats() { return request("GET", "/__fake/stats")["body"]; }
nlohmann::json FakeQdrant::log() { return request("GET", "/__fake/log")["body"]; }
void FakeQdrant::script(const nlohmann::json& replies) {
    if (replies.empty()) request("DELETE", "/__fake/script");  // drop what is still pending
    else request("POST", "/__fake/script", replies.dump());
}
void FakeQdrant::reset() { request("POST", "/__fake/reset", "{}"); }

}  // namespace hitdna::test
