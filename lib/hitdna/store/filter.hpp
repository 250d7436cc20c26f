#pragma once
// Metadata filters ("genre=phonk,hip-hop", "year>=2020", "source=chart", "peak_rank<=10"),
// parsed once into typed terms. The store turns terms into SQL inside its searches (so that a
// filter applies within the search instead of dropping results afterwards); qdrant/ turns the
// same terms into a Qdrant filter over the payload `hitdna sync` writes. The filterable fields
// are listed once, in filter.cpp, each with its kind and the payload key a mirror gives it.
// Several terms are ANDed; a comma list after '=' means any of the values.
#include <string>
#include <vector>

namespace hitdna::store {

enum class FieldKind { integer, real, text, set };

struct FilterField {
    const char* name;     // as written in --filter
    FieldKind kind;       // integer/real: compared as numbers; text: one value; set: any of many
    const char* payload;  // the key of this field in a Qdrant point's payload
    const char* help;
};

// Every field a filter may name, in the order --help lists them.
const std::vector<FilterField>& filter_fields();

struct FilterTerm {
    std::string field;                 // a FilterField name
    std::string op;                    // = != < <= > >=
    std::vector<std::string> values;   // normalized as stored (lower case, normalize_name); one decimal number for numeric fields
    bool numeric = false;
};
using Filter = std::vector<FilterTerm>;

// Parses --filter expressions; throws Error(usage) naming the expression and the fields and
// operators it may use.
Filter parse_filter(const std::vector<std::string>& expressions);

// The field of a term; throws Error(internal) for a name that is not in filter_fields().
const FilterField& filter_field(const std::string& name);

// One line per field, "name (number|text): meaning", for --help and the man page.
std::string filter_fields_help();

}  // namespace hitdna::store
