#include "hitdna/core/subprocess.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "hitdna/core/error.hpp"

extern char** environ;

namespace hitdna::core {
namespace {

std::vector<char*> make_argv(const std::vector<std::string>& argv) {
    std::vector<char*> out;
    out.reserve(argv.size() + 1);
    for (const auto& a : argv) out.push_back(const_cast<char*>(a.c_str()));
    out.push_back(nullptr);
    return out;
}

int decode_status(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return -1;
}

}  // namespace

std::string find_executable(const std::string& name) {
    if (name.find('/') != std::string::npos) return access(name.c_str(), X_OK) == 0 ? name : "";
    const char* path = std::getenv("PATH");
    std::stringstream ss(path ? path : "/usr/bin:/bin");
    std::string dir;
    while (std::getline(ss, dir, ':')) {
        if (dir.empty()) continue;
        std::string candidate = dir + "/" + name;
        struct stat st{};
        if (stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
            access(candidate.c_str(), X_OK) == 0)
            return candidate;
    }
    return "";
}

ProcessResult run_process(const std::vector<std::string>& argv, double timeout_s) {
    int out_pipe[2], err_pipe[2];
    if (pipe2(out_pipe, O_CLOEXEC) != 0) throw Error(ErrorKind::io, "pipe: " + std::string(std::strerror(errno)));
    if (pipe2(err_pipe, O_CLOEXEC) != 0) {
        close(out_pipe[0]);
        close(out_pipe[1]);
        throw Error(ErrorKind::io, "pipe: " + std::string(std::strerror(errno)));
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
    auto args = make_argv(argv);
    pid_t pid = -1;
    int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out_pipe[1]);
    close(err_pipe[1]);
    if (rc != 0) {
        close(out_pipe[0]);
        close(err_pipe[0]);
        throw Error(ErrorKind::io, argv[0] + ": cannot start: " + std::strerror(rc));
    }
    ProcessResult result;
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    std::string* sinks[2] = {&result.out, &result.err};
    int open_count = 2;
    char buf[65536];
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(long(timeout_s * 1000));
    bool timed_out = false;
    while (open_count > 0) {
        int wait_ms = -1;
        if (timeout_s > 0) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
            if (left <= 0) {
                timed_out = true;
                kill(pid, SIGKILL);
                for (auto& p : fds)
                    if (p.fd >= 0) close(p.fd);
                break;
            }
            wait_ms = int(std::min<long long>(left, 1000));
        }
        int ready = poll(fds, 2, wait_ms);
        if (ready == 0) continue;
        if (ready < 0) {
            if (errno == EINTR) continue;
            for (auto& p : fds)
                if (p.fd >= 0) close(p.fd);
            break;
        }
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
            if (n > 0) {
                sinks[i]->append(buf, static_cast<size_t>(n));
            } else if (n == 0 || errno != EINTR) {
                close(fds[i].fd);
                fds[i].fd = -1;
                --open_count;
            }
        }
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (timed_out)
        throw Error(ErrorKind::timeout, argv[0] + ": no result after " + std::to_string(int(timeout_s)) + " s, stopped");
    result.exit_code = decode_status(status);
    return result;
}

ReadPipe::ReadPipe(const std::vector<std::string>& argv, double stall_s) : m_stall_s(stall_s) {
    char tmpl[] = "/tmp/hitdna-stderr-XXXXXX";
    int err_fd = mkostemp(tmpl, O_CLOEXEC);
    if (err_fd < 0) throw Error(ErrorKind::io, "mkstemp: " + std::string(std::strerror(errno)));
    m_err_path = tmpl;
    int out_pipe[2];
    if (pipe2(out_pipe, O_CLOEXEC) != 0) {
        close(err_fd);
        throw Error(ErrorKind::io, "pipe: " + std::string(std::strerror(errno)));
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
    auto args = make_argv(argv);
    pid_t pid = -1;
    int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out_pipe[1]);
    close(err_fd);
    if (rc != 0) {
        close(out_pipe[0]);
        unlink(m_err_path.c_str());
        throw Error(ErrorKind::io, argv[0] + ": cannot start: " + std::strerror(rc));
    }
    m_fd = out_pipe[0];
    m_pid = pid;
}

ReadPipe::~ReadPipe() {
    if (m_fd >= 0) close(m_fd);
    if (!m_waited && m_pid > 0) {
        kill(m_pid, SIGTERM);
        int status = 0;
        waitpid(m_pid, &status, 0);
    }
    if (!m_err_path.empty()) unlink(m_err_path.c_str());
}

size_t ReadPipe::read(void* buffer, size_t n) {
    auto* p = static_cast<char*>(buffer);
    size_t got = 0;
    while (got < n) {
        if (m_stall_s > 0) {
            pollfd pfd{m_fd, POLLIN, 0};
            int ready = poll(&pfd, 1, int(m_stall_s * 1000));
            if (ready == 0) {
                kill(m_pid, SIGKILL);
                throw Error(ErrorKind::timeout, "child produced no output for " + std::to_string(int(m_stall_s)) + " s, stopped");
            }
            if (ready < 0 && errno == EINTR) continue;
        }
        ssize_t r = ::read(m_fd, p + got, n - got);
        if (r > 0) {
            got += static_cast<size_t>(r);
        } else if (r == 0) {
            break;
        } else if (errno != EINTR) {
            throw Error(ErrorKind::io, "read from child: " + std::string(std::strerror(errno)));
        }
    }
    return got;
}

int ReadPipe::wait() {
    if (!m_waited) {
        if (m_fd >= 0) {
            close(m_fd);
            m_fd = -1;
        }
        int status = 0;
        while (waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
        }
        m_status = decode_status(status);
        m_waited = true;
    }
    return m_status;
}

std::string ReadPipe::err_text() const {
    std::ifstream in(m_err_path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace hitdna::core
