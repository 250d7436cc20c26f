#pragma once
// Private to store/: a Filter as SQL over `tracks t`, with bound parameters from ?3 on (?1 and
// ?2 are the statements' own).
#include <string>
#include <vector>

#include "hitdna/store/filter.hpp"

namespace hitdna::store::detail {

struct SqlFilter {
    std::string where;              // "" when there are no terms
    std::vector<std::string> args;  // bound to ?3, ?4, ...
    bool empty() const { return where.empty(); }
};

SqlFilter to_sql(const Filter& terms);

}  // namespace hitdna::store::detail
