#pragma once
// --filter expressions ("genre=phonk,hip-hop", "year>=2020", "source=chart", "peak_rank<=10").
// Parsed once into terms, then written either as SQL over `tracks t` with bound parameters
// (the embedded backend) or as a Qdrant Filter over the synced payload (the Qdrant backend),
// so that both searches apply them inside the search rather than dropping results afterwards.
// Several filters are ANDed; a comma list after '=' means any of the values.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "hitdna/store/vector_index.hpp"

namespace hitdna::match {

struct FilterTerm {
    std::string field;                 // a name from filter_fields_help()
    std::string op;                    // = != < <= > >=
    std::vector<std::string> values;   // normalized as stored (lower case, normalize_name); one number for numeric fields
    bool numeric = false;
};

// Throws Error(usage) naming the expression and the fields it may use.
std::vector<FilterTerm> parse_filter_terms(const std::vector<std::string>& expressions);

// SQL over `tracks t`, placeholders from ?3.
store::SqlFilter to_sql(const std::vector<FilterTerm>& terms);
inline store::SqlFilter parse_filters(const std::vector<std::string>& expressions) { return to_sql(parse_filter_terms(expressions)); }

// A Qdrant Filter object over the payload written by `hitdna sync` (null when there are no terms).
nlohmann::json to_qdrant(const std::vector<FilterTerm>& terms);

// The fields a filter may name, with their kind, for --help and the man page.
std::string filter_fields_help();

}  // namespace hitdna::match
