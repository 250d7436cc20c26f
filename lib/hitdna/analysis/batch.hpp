#pragma once
// `hitdna analyze` as a library call: many files, in parallel, output in input order.
#include <iosfwd>
#include <functional>
#include <string>
#include <vector>

#include "hitdna/analysis/analyze.hpp"

namespace hitdna::analysis {

enum class OutputFormat { json, jsonl, text, jams };

struct BatchOptions {
    std::vector<std::string> paths;  // "-" reads more paths from stdin, one per line
    OutputFormat format = OutputFormat::json;
    bool vectors = false;
    int jobs = 0;                    // 0 = all cores
    AnalyzeOptions analyze;
    // Called on each analysis before it is printed (the app fills dna.identity: content hash and
    // tags, which need the catalog's hash and the tag reader); may throw core::Error.
    std::function<void(const std::string& path, dna::Dna& dna)> identify;
};

struct BatchResult {
    int analyzed = 0;
    int failed = 0;
    int exit_code = 0;  // 0, or the code of the first failure's kind (man/hitdna-analyze.1)
};

// Analyzes every path, writes one record per success to out and one line per failure to err
// ("hitdna analyze: FILE: cause"); never stops at a bad file.
BatchResult run_batch(const BatchOptions& options, std::istream& in, std::ostream& out, std::ostream& err);

}  // namespace hitdna::analysis
