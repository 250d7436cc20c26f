#pragma once
#include <string>

#include "hitdna/dna/dna.hpp"

namespace hitdna::dna {

// The DNA as JSON text (schema: data/hitdna-dna.schema.json); indent < 0 gives one line.
std::string to_json_string(const Dna& dna, bool with_vectors, int indent);

// A short readable summary for terminals.
std::string to_text(const Dna& dna);

}  // namespace hitdna::dna
