#pragma once
// Every bench program answers -h/--help with what it measures and its usage on stdout, exit 0,
// before it runs anything; a bad argument prints the usage on stderr, exit 2.
#include <cstdio>
#include <string>

namespace hitdna::bench {

inline bool wants_help(int argc, char** argv) {
    for (int i = 1; i < argc; ++i)
        if (std::string(argv[i]) == "-h" || std::string(argv[i]) == "--help") return true;
    return false;
}

// Prints `usage` (stdout for --help, else stderr) and returns the exit status to give.
inline int print_usage(const char* usage, bool help) {
    std::fputs(usage, help ? stdout : stderr);
    return help ? 0 : 2;
}

}  // namespace hitdna::bench
