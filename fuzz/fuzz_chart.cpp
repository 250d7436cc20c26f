// libFuzzer target: chart lists (CSV and JSON Lines) from arbitrary bytes. Every input must
// parse to rows and per-line problems without crashing; the first byte picks the format.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "hitdna/core/error.hpp"
#include "hitdna/ingest/charts.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
    std::vector<hitdna::ingest::ChartProblem> problems;
    auto recs = hitdna::ingest::parse_csv(text, problems);
    for (const auto& r : recs)
        if (r.line <= 0) __builtin_trap();
    static const std::string dir = [] {
        char tmpl[] = "/tmp/hitdna-fuzz-chart-XXXXXX";
        return std::string(mkdtemp(tmpl) ? tmpl : "/tmp");
    }();
    const std::string path = dir + ((data[0] & 1) ? "/chart.jsonl" : "/chart-2024-01-01.csv");
    if (FILE* f = std::fopen(path.c_str(), "wb")) {
        std::fwrite(text.data(), 1, text.size(), f);
        std::fclose(f);
    }
    try {
        auto chart = hitdna::ingest::read_chart(path);
        for (const auto& row : chart.rows)
            if (row.title.empty() && row.path.empty()) __builtin_trap();
    } catch (const hitdna::Error&) {
        // A file whose header matches no chart format is a usage error, reported cleanly.
    }
    return 0;
}
