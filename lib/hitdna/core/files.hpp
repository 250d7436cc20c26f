#pragma once
// Writing output files so that readers never see half of one.
#include <string>

namespace hitdna::core {

// Writes `content` to a temporary file in the same directory and renames it over `path`
// (mode 0644). Throws Error(io) naming the path and the system's reason; nothing is left
// behind then.
void write_file_atomically(const std::string& path, const std::string& content);

}  // namespace hitdna::core
