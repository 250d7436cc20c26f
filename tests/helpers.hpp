#pragma once
// What the tests share besides signals (signals.hpp): running the hitdna binary, reading files,
// and tampering with a catalog from outside, as another program would.
#include <string>
#include <vector>

#include "hitdna/core/subprocess.hpp"

namespace hitdna::test {

// Runs the hitdna binary under test with these arguments (no shell); 300 s at most.
core::ProcessResult run(std::vector<std::string> args);

// The whole content of a file ("" when it cannot be read).
std::string slurp(const std::string& path);

// Runs SQL on a catalog file through another SQLite client (Python's sqlite3 module), the way
// a damaged disk or a careless tool would change it behind hitdna's back. Fails the test when
// the statement fails.
void tamper_sql(const std::string& db_path, const std::string& sql);

}  // namespace hitdna::test
