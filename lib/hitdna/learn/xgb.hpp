#pragma once
// Gradient-boosted trees through XGBoost's C API (Debian libxgboost-dev): training with early
// stopping on a validation split, prediction, and per-row feature contributions (TreeSHAP,
// XGBoost's pred_contribs). Matrices are row-major float, n rows x p columns. XGBoost errors
// become Error(internal) with XGBoost's own message.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace hitdna::learn::xgb {

struct Matrix {
    std::vector<float> values;  // n x p, row-major
    size_t n = 0, p = 0;
    std::vector<float> label, weight;  // n each (weight empty = 1)
};

struct Params {
    int max_depth = 4;
    double eta = 0.05;
    double subsample = 0.8, colsample = 0.8;
    double min_child_weight = 5;
    double lambda = 1;             // L2 penalty on leaf values
    int max_rounds = 2000;
    int patience = 50;             // rounds without a better validation error before stopping
    int threads = 0;               // 0 = all cores
    uint64_t seed = 7;
};

struct Trained {
    std::string model_json;        // the booster, cut to its best round (XGBoost's JSON format)
    int rounds = 0;                // trees kept
    double valid_rmse = 0;         // weighted RMSE on the validation rows at that round
};

// Squared-error regression of label on the rows of `train`, stopped when `valid` stops improving.
Trained train(const Matrix& train, const Matrix& valid, const Params& params);

class Booster {
public:
    explicit Booster(const std::string& model_json);
    ~Booster();
    Booster(const Booster&) = delete;
    Booster& operator=(const Booster&) = delete;
    // Predictions for n rows of p values.
    std::vector<float> predict(const float* rows, size_t n, size_t p) const;
    // Contributions: n x (p + 1), each row's p feature contributions then the bias; a row sums
    // to its prediction.
    std::vector<float> contributions(const float* rows, size_t n, size_t p) const;
    // Total gain of the splits on each of the p features (0 for a feature never split on).
    std::vector<double> importance(size_t p) const;

private:
    void* m_handle = nullptr;
};

}  // namespace hitdna::learn::xgb
