#pragma once
// Writing output files so that readers never see half of one.
#include <fstream>
#include <string>

namespace hitdna::core {

// Writes `content` to a temporary file in the same directory and renames it over `path`
// (mode 0644). Throws Error(io) naming the path and the system's reason; nothing is left
// behind then.
void write_file_atomically(const std::string& path, const std::string& content);

// The same for output too large to hold in memory: write to stream(), then commit() renames
// the finished file over `path`. Without commit() (an exception, a return), the temporary file
// is removed and `path` is untouched.
class AtomicFile {
public:
    explicit AtomicFile(std::string path);
    ~AtomicFile();
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;
    std::ostream& stream() { return m_out; }
    void commit();  // throws Error(io) naming the path when the data did not reach the disk

private:
    std::string m_path, m_tmp;
    std::ofstream m_out;
    bool m_done = false;
};

}  // namespace hitdna::core
