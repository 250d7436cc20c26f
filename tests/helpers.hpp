#pragma once
// What the tests share besides signals (signals.hpp) and synthetic tracks (synthetic.hpp):
// temporary directories, running the hitdna binary (directly or through a shell), reading and
// writing files, and tampering with a catalog from outside, as another program would.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "hitdna/core/subprocess.hpp"

namespace hitdna::test {

// A temporary directory removed at scope exit.
struct TempDir {
    std::string path;
    TempDir();
    ~TempDir();
    std::string file(const std::string& name) const { return path + "/" + name; }
};

// For run() and sh(): wait for the child however long it takes.
inline constexpr double no_timeout = 0;

// Runs the hitdna binary under test with these arguments (no shell); the child is killed and
// core::Error(timeout) thrown after timeout_s seconds (no_timeout: no limit).
core::ProcessResult run(std::vector<std::string> args, double timeout_s = 300);

// Runs a command line with /bin/sh -c, for the tests that need the shell itself (environment
// assignments, `&` and kill, ulimit, redirections); timeout_s as for run(). Such a command
// names the binary itself (HITDNA_BIN).
core::ProcessResult sh(const std::string& command, double timeout_s = 300);

// The whole content of a file, byte for byte ("" when it cannot be read).
std::string slurp(const std::string& path);

// Each line of a JSON Lines text, parsed (a line that is not JSON fails the test).
std::vector<nlohmann::json> json_lines(const std::string& text);

// Writes text to a file, byte for byte, replacing what it held.
void write_file(const std::string& path, const std::string& text);

// Runs SQL on a catalog file through another SQLite client (Python's sqlite3 module), the way
// a damaged disk or a careless tool would change it behind hitdna's back. Fails the test when
// the statement fails.
void tamper_sql(const std::string& db_path, const std::string& sql);

}  // namespace hitdna::test
