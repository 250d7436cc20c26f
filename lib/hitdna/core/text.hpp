#pragma once
// Small text helpers shared by the parsers (charts, events, filters, prompts, HTTP headers).
#include <cctype>
#include <cstdio>
#include <string>

namespace hitdna::core {

inline std::string ascii_lower(std::string s) {
    for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// Without leading and trailing white space.
inline std::string trim(const std::string& s) {
    size_t a = 0, b = s.size();
    while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
    while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
    return s.substr(a, b - a);
}

// True when `s` is strict UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
bool valid_utf8(const std::string& s);

// Seconds as m:ss, truncated (round first for the nearest second).
inline std::string mmss(double seconds) {
    char b[24];
    const int s = int(seconds);
    std::snprintf(b, sizeof b, "%d:%02d", s / 60, s % 60);
    return b;
}

}  // namespace hitdna::core
