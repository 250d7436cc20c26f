#pragma once
#include <vector>
#include <string>

#include "hitdna/dna/dna.hpp"

namespace hitdna::dna {

// Words derived from the numbers, for text search; thresholds in man/hitdna-analyze.1.
std::vector<std::string> describe(const Dna& dna);

}  // namespace hitdna::dna
