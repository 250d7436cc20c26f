#pragma once
// The model kinds behind learn::fit (private to learn/): each fits a Model on some rows of the
// training data, and predicts the engagement of standardized rows.
#include <Eigen/Dense>
#include <cstdint>
#include <string>
#include <vector>

#include "hitdna/learn/model.hpp"

namespace hitdna::learn {

// Every track with plays: raw feature rows, engagement score, confidence weight, plays.
struct TrainingData {
    std::vector<int64_t> ids;
    std::vector<std::vector<float>> rows;
    std::vector<double> ys, ws;
    std::vector<int64_t> plays;
    size_t n() const { return rows.size(); }
};

// Standardized rows of `idx` with the model's feature means and spreads.
Eigen::MatrixXd standardized(const TrainingData& d, const std::vector<size_t>& idx, const Model& m);

// The standardized rows of a knn model's tracks and their squared norms.
struct KnnData {
    Eigen::MatrixXf rows;  // n x p
    Eigen::VectorXf sqnorm;
};

// Fit one kind on the rows `idx` of `d`; `base` carries the features (names, standardization).
Model fit_ridge(const TrainingData& d, const std::vector<size_t>& idx, Model base, bool ols);
Model fit_knn(const TrainingData& d, const std::vector<size_t>& idx, Model base);
Model fit_xgboost(const TrainingData& d, const std::vector<size_t>& idx, Model base, uint64_t seed);

// Predictions for standardized rows (n x p).
Eigen::VectorXd predict_standardized(const Model& m, const Eigen::MatrixXd& Z);

// The knn data of a model, from standardized rows.
std::shared_ptr<const KnnData> make_knn_data(const Eigen::MatrixXd& Z);
// The k nearest rows of `knn` to z (indexes, nearest first); `skip` leaves one row out.
std::vector<size_t> nearest(const KnnData& knn, const Eigen::VectorXf& z, int k, long skip = -1);

}  // namespace hitdna::learn
