#pragma once
// --filter expressions ("genre=phonk,hip-hop", "year>=2020", "source=chart", "peak_rank<=10")
// turned into SQL over `tracks t` with bound parameters, so that searches apply them inside
// the search rather than dropping results afterwards. Several filters are ANDed; a comma list
// after '=' means any of the values.
#include <string>
#include <vector>

#include "hitdna/store/vector_index.hpp"

namespace hitdna::match {

// Throws Error(usage) naming the expression and the fields it may use.
store::SqlFilter parse_filters(const std::vector<std::string>& expressions);

// The fields a filter may name, with their kind, for --help and the man page.
std::string filter_fields_help();

}  // namespace hitdna::match
