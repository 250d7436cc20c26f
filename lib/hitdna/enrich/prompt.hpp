#pragma once
// The prompt -> target path of `hitdna enrich` and `hitdna generate`: the catalog's closest
// hits for the prompt (match --text), re-weighted by learned pattern weights when a model
// exists, aggregated into a target; the prompt alone when there is no catalog or no hit.
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "hitdna/enrich/target.hpp"
#include "hitdna/match/match.hpp"

namespace hitdna::enrich {

struct PromptOptions {
    std::string prompt;
    std::string db;                      // catalog path; "" = $HITDNA_DB or the default
    std::vector<std::string> filters;    // --filter on the hits
    size_t k = 10;                       // hits to aggregate
    std::optional<double> duration_s;    // target length (default: the hits' weighted median)
    match::MatchOptions search;          // where hits are searched: backend, qdrant, collection, exact
};

// The target for a prompt. What it was made from (no catalog, no hits, pattern weights) is
// said on `log`. Throws Error(usage|db) for a bad filter or catalog trouble, Qdrant errors
// with the Qdrant backend.
Target target_for_prompt(const PromptOptions& options, std::ostream& log);

// One line of `enrich --queries` as options: {"prompt": "..."} with optional "filter" (a
// string or a list, ANDed with the command line's), "k" (1..1000) and "duration_s" (10..600);
// "id" and "model" are the caller's. Everything else comes from `defaults`. Throws
// Error(usage) naming the key.
PromptOptions prompt_line_options(const nlohmann::json& line, const PromptOptions& defaults);

// A target read from a JSON file (hitdna enrich --format json, or a generation record's
// target). Throws Error(io) when unreadable, Error(usage) naming the file and the field when
// it is not a target.
Target read_target(const std::string& path);  // "-": standard input

// What `hitdna enrich --format json` prints: the target, the enriched prompt, the model and
// its composition plan.
nlohmann::json target_document(const Target& target, const std::string& model_id);

}  // namespace hitdna::enrich
