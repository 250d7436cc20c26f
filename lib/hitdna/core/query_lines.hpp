#pragma once
// Many queries per process (`match --queries`, `enrich --queries`): JSON lines in, one JSON
// line out per query, in input order, each tagged with the query's "id" and line number.
// Per-line work that is independent (analysing a --like file, building a target) runs on
// several threads; what must see one state (a query session) runs on the calling thread.
// A line that fails is answered with an error record and the rest go on.
#include <cstddef>
#include <functional>
#include <iosfwd>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

namespace hitdna::core {

struct QueryLinesOptions {
    std::string source;      // how messages name the input: a path, or "stdin"
    int jobs = 0;            // threads for `prepare`; 0 = all cores
    size_t chunk = 0;        // lines read ahead (0: 32 per thread, 1 for one thread); answers stream per chunk
};

struct QueryLinesResult {
    size_t answered = 0;     // queries answered (possibly with no results)
    size_t failed = 0;       // lines answered with an error record
    int first_status = 0;    // the exit status of the first failure's kind (0: none)
};

// Work on one query that needs no shared state; runs on any thread. Returns what `answer`
// needs later (may be null). Throws hitdna::Error (or anything std::exception) to fail the line.
using PrepareQuery = std::function<std::shared_ptr<void>(const nlohmann::json& query)>;
// The answer's fields (after "id" and "line"); runs on the calling thread, in line order.
using AnswerQuery = std::function<nlohmann::ordered_json(const nlohmann::json& query, const std::shared_ptr<void>& prepared)>;

// Reads `in` to its end. Each non-blank line must be a JSON object; its "id" (any JSON value,
// null when absent) is echoed. An answer is {"id": .., "line": N, ...answer}; a failure is
// {"id": .., "line": N, "error": "cause", "status": S} on `out` plus
// "hitdna: SOURCE:N: cause" on `err` (S: the exit status the single query would have had).
QueryLinesResult answer_query_lines(std::istream& in, const QueryLinesOptions& options, const PrepareQuery& prepare, const AnswerQuery& answer,
                                    std::ostream& out, std::ostream& err);

// The same on `source`: a file's path, or "-" for standard input (named "stdin"). Throws
// Error(io) when the file cannot be opened or fails while read.
QueryLinesResult answer_query_source(const std::string& source, int jobs, const PrepareQuery& prepare, const AnswerQuery& answer, std::ostream& out,
                                     std::ostream& err);

}  // namespace hitdna::core
