#pragma once
// Generations (hitdna generate) in the catalog: what was asked, which backend made it, where
// the audio went, its content hash, its validation score and the whole generation record.
#include <optional>
#include <string>

#include "hitdna/store/catalog.hpp"

namespace hitdna::store {

struct Generation {
    std::string id;            // "gen-" and 16 hex digits
    std::string created_at;    // ISO 8601
    std::string prompt, backend, output_path, content_hash;
    std::optional<double> score;  // overall validation score, 0..1, when validated
    std::string record_json;   // the generation record as `hitdna generate` prints it
};

// Records a generation; returns its new id.
std::string record_generation(Catalog& catalog, const std::string& prompt, const std::string& backend, const std::string& output_path,
                              const std::string& content_hash, std::optional<double> score, const std::string& record_json);

// A generation by id, or nullopt.
std::optional<Generation> find_generation(Catalog& catalog, const std::string& id);

}  // namespace hitdna::store
