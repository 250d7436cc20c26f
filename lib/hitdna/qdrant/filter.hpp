#pragma once
// A metadata filter (store/filter.hpp) as a Qdrant Filter over the payload written by
// `hitdna sync qdrant`, so that --backend qdrant applies it inside the search as the embedded
// backend does: numbers become ranges, text and sets `match any` under must or must_not.
#include <nlohmann/json.hpp>

#include "hitdna/store/filter.hpp"

namespace hitdna::qdrant {

// The Filter object, or null when there are no terms.
nlohmann::json to_filter(const store::Filter& terms);

// The payload index type of a filterable field: integer, float or keyword.
const char* payload_index_type(store::FieldKind kind);

}  // namespace hitdna::qdrant
