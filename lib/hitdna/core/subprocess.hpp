#pragma once
// Child processes without a shell: argv is passed as-is, so no text from a file name or a
// chart row is ever interpreted by /bin/sh.
#include <string>
#include <vector>

namespace hitdna::core {

// Absolute path of an executable found on PATH, or "" when there is none.
std::string find_executable(const std::string& name);

struct ProcessResult {
    int exit_code = -1;  // -1 when killed by a signal
    std::string out;
    std::string err;
};

// Runs argv to completion and captures stdout and stderr. Throws Error(io) if it cannot start
// and Error(timeout) after killing a child that ran longer than timeout_s (0 = no limit).
ProcessResult run_process(const std::vector<std::string>& argv, double timeout_s = 0);

// A running child whose stdout is read as a stream; stderr goes to a temporary file that
// err_text() returns after the child ended.
class ReadPipe {
public:
    // A child that writes nothing for stall_s seconds is killed and read() throws
    // Error(timeout); 0 = wait for ever.
    explicit ReadPipe(const std::vector<std::string>& argv, double stall_s = 0);
    ~ReadPipe();
    ReadPipe(const ReadPipe&) = delete;
    ReadPipe& operator=(const ReadPipe&) = delete;

    // Reads up to n bytes; returns 0 at end of stream.
    size_t read(void* buffer, size_t n);
    // Waits for the child and returns its exit code (-1 when killed by a signal).
    int wait();
    std::string err_text() const;

private:
    int m_fd = -1;
    int m_pid = -1;
    int m_status = -1;
    double m_stall_s = 0;
    bool m_waited = false;
    std::string m_err_path;
};

}  // namespace hitdna::core
