// libFuzzer target over the HTTP answers of both remote services: a loopback server answers
// every request with the fuzzer's bytes verbatim (status line, headers, body: anything), and
// the Qdrant client and the ElevenLabs client each make one call against it (no retries).
// Every answer must give a result or a hitdna::Error: never a crash, hang or sanitizer report.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "hitdna/core/error.hpp"
#include "hitdna/generate/elevenlabs.hpp"
#include "hitdna/qdrant/client.hpp"

namespace {

struct Server {
    int fd = -1;
    int port = 0;
    std::mutex m;
    std::string answer;

    Server() {
        fd = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
        listen(fd, 16);
        socklen_t len = sizeof a;
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        port = ntohs(a.sin_port);
        std::thread([this] { serve(); }).detach();
    }

    // Reads the request head and its Content-Length of body, then sends the answer.
    void serve() {
        for (;;) {
            int c = accept(fd, nullptr, nullptr);
            if (c < 0) continue;
            char buf[65536];
            std::string req;
            pollfd p{c, POLLIN, 0};
            while (req.find("\r\n\r\n") == std::string::npos && poll(&p, 1, 1000) > 0) {
                ssize_t n = read(c, buf, sizeof buf);
                if (n <= 0) break;
                req.append(buf, size_t(n));
            }
            const size_t head = req.find("\r\n\r\n");
            size_t want = 0;
            for (const char* name : {"Content-Length:", "content-length:"})
                if (auto at = req.find(name); at != std::string::npos && at < head) want = std::strtoul(req.c_str() + at + 15, nullptr, 10);
            size_t have = head == std::string::npos ? 0 : req.size() - head - 4;
            while (have < want && poll(&p, 1, 1000) > 0) {
                ssize_t n = read(c, buf, sizeof buf);
                if (n <= 0) break;
                have += size_t(n);
            }
            std::string out;
            {
                std::lock_guard<std::mutex> lock(m);
                out = answer;
            }
            for (size_t off = 0; off < out.size();) {
                ssize_t n = send(c, out.data() + off, out.size() - off, MSG_NOSIGNAL);
                if (n <= 0) break;
                off += size_t(n);
            }
            shutdown(c, SHUT_RDWR);
            close(c);
        }
    }
};

Server& server() {
    static Server* s = new Server();  // lives for the process, its thread with it
    return *s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    Server& s = server();
    {
        std::lock_guard<std::mutex> lock(s.m);
        s.answer.assign(reinterpret_cast<const char*>(data), size);
    }
    const std::string base = "http://127.0.0.1:" + std::to_string(s.port);
    try {
        hitdna::qdrant::Config qc;
        qc.url = base;
        qc.max_retries = 0;
        qc.connect_timeout_s = 2;
        qc.timeout_s = 2;
        hitdna::qdrant::Client client(qc);
        (void)client.call("POST", "/collections/hitdna_audio/points/query", R"({"query":[0.1,0.2],"limit":3})");
    } catch (const hitdna::Error&) {
    }
    try {
        hitdna::generate::ElevenLabsConfig ec;
        ec.base_url = base;
        ec.api_key = "fuzz";
        ec.max_retries = 0;
        ec.connect_timeout_s = 2;
        ec.timeout_s = 2;
        (void)hitdna::generate::compose(ec, {{"prompt", "fuzz"}, {"music_length_ms", 10000}, {"model_id", "music_v1"}});
    } catch (const hitdna::Error&) {
    }
    return 0;
}
