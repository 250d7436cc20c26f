#pragma once
// Pattern weights: which DNA dimensions go with engagement. A ridge regression (Eigen) of the
// engagement score on the standardized track vectors (audio, structure, emotion, production),
// each track weighted by its plays' confidence, plays / (plays + 50); the penalty is chosen by
// 5-fold cross-validation. Stored with a version and the data it was fit on; calibrated into a
// hit score (0..1) by Platt scaling against "engagement >= the promotion score".
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "hitdna/dna/dna.hpp"
#include "hitdna/store/catalog.hpp"

namespace hitdna::learn {

struct Feature {
    std::string name, description;  // "audio.tempo_log2", what the dimension measures
    double mean = 0, sd = 1;        // catalog standardization
    double weight = 0, se = 0;      // engagement per standard deviation, and its standard error
    std::vector<double> success_quantiles;  // 0, 10, ..., 100 % of successful tracks (raw units)
};

struct Model {
    int64_t version = 0;
    std::string fitted_at;
    int64_t n_tracks = 0, n_successful = 0;
    int64_t n_events = 0, catalog_generation = 0;  // the data it was fitted on
    double lambda = 0, intercept = 0;
    double cv_r2 = 0;               // cross-validated R^2 of the engagement prediction
    double platt_a = 1, platt_b = 0;
    bool calibrated = false;
    std::vector<Feature> features;
};

constexpr int64_t k_min_tracks = 30;  // fewer tracks with engagement: no model, no scores

// Fits on every track with engagement; throws Error(usage) naming how many tracks there are
// when fewer than k_min_tracks.
Model fit(store::Catalog& catalog);
// Stores a model (a new version) and returns it with its version.
Model save(store::Catalog& catalog, Model m);
std::optional<Model> latest(store::Catalog& catalog);

// The raw feature row of a DNA (the 76 track-vector dimensions).
std::vector<float> features_of(const dna::Vectors& v);
std::vector<float> features_of_track(store::Catalog& catalog, int64_t track_id);

struct Prediction {
    double engagement = 0;  // predicted engagement score, 0..1
    std::optional<double> hit_score;  // calibrated probability of promotion, 0..1; none without calibration
    std::vector<std::string> reasons;  // the strongest contributions, in words
};
Prediction predict(const Model& m, const std::vector<float>& raw);
// The prediction for an audio file (hitdna score): analyzed, then predicted. Throws
// Error(io|decode) naming the file.
Prediction predict_file(const Model& m, const std::string& path);

// The model in words (hitdna learn, hitdna weights): a heading line, then the `top` dimensions
// with the strongest evidence (|weight| / SE), each "weight ± SE per SD, name, clear/likely/
// uncertain: more X goes with higher/lower engagement".
std::string describe_weights(const Model& m, size_t top);
// Every dimension's weight and SE with the model's provenance (hitdna weights --json).
nlohmann::json weights_json(const Model& m);

// How learned patterns re-weight catalog tracks: 0.5 + hit score (0.5..1.5), used by
// `enrich` when it aggregates hits and by `match --boost learned` (score x (0.75 + 0.25 x hit
// score)). 1 for a track without vectors.
double pattern_factor(const Model& m, store::Catalog& catalog, int64_t track_id);

}  // namespace hitdna::learn
