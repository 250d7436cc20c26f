#pragma once
// Small text helpers shared by the parsers (charts, events, filters, prompts, HTTP headers).
#include <cctype>
#include <cstdio>
#include <string>
#include <vector>

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

// One CSV record (RFC 4180): fields with a comma, double quote, CR or LF are quoted, quotes
// doubled; ends with CRLF as the RFC says.
inline std::string csv_record(const std::vector<std::string>& fields) {
    std::string out;
    for (size_t i = 0; i < fields.size(); ++i) {
        if (i) out += ',';
        const std::string& f = fields[i];
        if (f.find_first_of(",\"\r\n") == std::string::npos) {
            out += f;
            continue;
        }
        out += '"';
        for (char c : f) {
            if (c == '"') out += '"';
            out += c;
        }
        out += '"';
    }
    return out + "\r\n";
}

}  // namespace hitdna::core
