#pragma once
// Pattern models (hitdna learn) in the catalog: each fit is a new version, kept as the JSON
// document learn/ writes; the store does not interpret it.
#include <cstdint>
#include <optional>
#include <string>

#include "hitdna/store/catalog.hpp"

namespace hitdna::store {

struct StoredModel {
    int64_t version = 0;
    std::string fitted_at;   // ISO 8601
    std::string model_json;
};

// Stores a model as the next version and returns that version.
int64_t save_model(Catalog& catalog, const std::string& fitted_at, int64_t n_tracks, const std::string& model_json);

// The latest version, or nullopt when none was fitted (also in catalogs made before models existed).
std::optional<StoredModel> latest_model(Catalog& catalog);

}  // namespace hitdna::store
