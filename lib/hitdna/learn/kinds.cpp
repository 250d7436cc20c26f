#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "hitdna/core/error.hpp"
#include "hitdna/learn/detail/kinds.hpp"
#include "hitdna/learn/xgb.hpp"

namespace hitdna::learn {

Eigen::MatrixXd standardized(const TrainingData& d, const std::vector<size_t>& idx, const Model& m) {
    const long p = long(m.features.size());
    Eigen::MatrixXd Z(long(idx.size()), p);
    for (size_t r = 0; r < idx.size(); ++r)
        for (long j = 0; j < p; ++j) Z(long(r), j) = (d.rows[idx[r]][size_t(j)] - m.features[size_t(j)].mean) / m.features[size_t(j)].sd;
    return Z;
}

double spearman(const std::vector<double>& a, const std::vector<double>& b) {
    auto ranks = [](const std::vector<double>& v) {
        std::vector<size_t> o(v.size());
        std::iota(o.begin(), o.end(), 0);
        std::sort(o.begin(), o.end(), [&](size_t x, size_t y) { return v[x] < v[y]; });
        std::vector<double> r(v.size());
        for (size_t i = 0; i < o.size();) {
            size_t j = i;
            while (j + 1 < o.size() && v[o[j + 1]] == v[o[i]]) ++j;
            for (size_t k = i; k <= j; ++k) r[o[k]] = (double(i) + double(j)) / 2;
            i = j + 1;
        }
        return r;
    };
    const auto ra = ranks(a), rb = ranks(b);
    const double mean = (double(a.size()) - 1) / 2;
    double sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < a.size(); ++i) sab += (ra[i] - mean) * (rb[i] - mean), saa += (ra[i] - mean) * (ra[i] - mean), sbb += (rb[i] - mean) * (rb[i] - mean);
    return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : 0.0;
}

// ---- ridge and ols ----

namespace {

// Weighted ridge: beta for centred X, y.
Eigen::VectorXd ridge(const Eigen::MatrixXd& X, const Eigen::VectorXd& y, const Eigen::VectorXd& w, double lambda) {
    const Eigen::MatrixXd Xw = X.array().colwise() * w.array();
    Eigen::MatrixXd A = X.transpose() * Xw;
    A.diagonal().array() += lambda;
    return A.ldlt().solve(Xw.transpose() * y);
}

// The standardized design of some rows, centred on their weighted means.
struct Design {
    long n = 0, p = 0;
    Eigen::MatrixXd Xc;
    Eigen::VectorXd w, yc;
    Eigen::RowVectorXd xbar;
    double ybar = 0;
};

Design make_design(const TrainingData& d, const std::vector<size_t>& idx, const Model& m) {
    Design g;
    const Eigen::MatrixXd X = standardized(d, idx, m);
    g.n = X.rows(), g.p = X.cols();
    Eigen::VectorXd y(g.n);
    g.w.resize(g.n);
    for (long i = 0; i < g.n; ++i) y(i) = d.ys[idx[size_t(i)]], g.w(i) = d.ws[idx[size_t(i)]];
    g.w *= double(g.n) / g.w.sum();  // weights average 1, so residual degrees of freedom are n - df
    g.ybar = (g.w.array() * y.array()).sum() / g.w.sum();
    g.yc = y.array() - g.ybar;
    g.xbar = (X.array().colwise() * g.w.array()).colwise().sum() / g.w.sum();
    g.Xc = X.rowwise() - g.xbar;
    return g;
}

// The penalty by 5-fold cross-validation (weighted squared error): (lambda, its error). Each
// fold's Gram matrix is formed once; a fold's training system is the total minus its own.
std::pair<double, double> choose_lambda(const Design& g) {
    std::vector<long> fold(static_cast<size_t>(g.n));
    for (long i = 0; i < g.n; ++i) fold[size_t(i)] = i % 5;
    std::shuffle(fold.begin(), fold.end(), std::mt19937(11));
    std::vector<Eigen::MatrixXd> G(5, Eigen::MatrixXd::Zero(g.p, g.p));
    std::vector<Eigen::VectorXd> b(5, Eigen::VectorXd::Zero(g.p));
    std::vector<std::vector<long>> rows(5);
    for (long i = 0; i < g.n; ++i) rows[size_t(fold[size_t(i)])].push_back(i);
    for (int k = 0; k < 5; ++k) {
        Eigen::MatrixXd Xk(long(rows[size_t(k)].size()), g.p);
        Eigen::VectorXd wy(Xk.rows()), w(Xk.rows());
        for (size_t r = 0; r < rows[size_t(k)].size(); ++r) {
            const long i = rows[size_t(k)][r];
            Xk.row(long(r)) = g.Xc.row(i), w(long(r)) = g.w(i), wy(long(r)) = g.w(i) * g.yc(i);
        }
        G[size_t(k)] = Xk.transpose() * (Xk.array().colwise() * w.array()).matrix();
        b[size_t(k)] = Xk.transpose() * wy;
    }
    Eigen::MatrixXd G_all = Eigen::MatrixXd::Zero(g.p, g.p);
    Eigen::VectorXd b_all = Eigen::VectorXd::Zero(g.p);
    for (int k = 0; k < 5; ++k) G_all += G[size_t(k)], b_all += b[size_t(k)];
    double best_lambda = 1, best_err = 1e300;
    for (double lambda : {0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0}) {
        double err = 0;
        for (int k = 0; k < 5; ++k) {
            Eigen::MatrixXd A = G_all - G[size_t(k)];
            A.diagonal().array() += lambda;
            const Eigen::VectorXd beta = A.ldlt().solve(b_all - b[size_t(k)]);
            for (long i : rows[size_t(k)]) err += g.w(i) * std::pow(g.yc(i) - g.Xc.row(i).dot(beta), 2);
        }
        if (err < best_err) best_err = err, best_lambda = lambda;
    }
    return {best_lambda, best_err};
}

// Weights and their standard errors (sandwich of the ridge estimator with the residual variance).
void fit_weights(const Design& g, double lambda, Model& m) {
    const Eigen::VectorXd beta = ridge(g.Xc, g.yc, g.w, lambda);
    m.intercept = g.ybar - g.xbar.dot(beta);
    const Eigen::MatrixXd Xw = g.Xc.array().colwise() * g.w.array();
    const Eigen::MatrixXd G = g.Xc.transpose() * Xw;
    Eigen::MatrixXd A = G;
    A.diagonal().array() += lambda;
    const Eigen::MatrixXd Ainv = A.inverse();
    const double df = (Ainv * G).trace();
    const Eigen::VectorXd res = g.yc - g.Xc * beta;
    const double sigma2 = (g.w.array() * res.array().square()).sum() / std::max(1.0, double(g.n) - df);
    const Eigen::MatrixXd cov = sigma2 * Ainv * G * Ainv;
    for (long j = 0; j < g.p; ++j) {
        m.features[size_t(j)].weight = beta(j);
        m.features[size_t(j)].se = std::sqrt(std::max(0.0, cov(j, j)));
    }
}

}  // namespace

Model fit_ridge(const TrainingData& d, const std::vector<size_t>& idx, Model m, bool ols) {
    m.kind = ols ? "ols" : "ridge";
    const Design g = make_design(d, idx, m);
    const double tss = (g.w.array() * g.yc.array().square()).sum();
    if (ols) {
        m.lambda = 1e-6 * double(g.n);  // only keeps a singular design solvable
    } else {
        const auto [lambda, cv_err] = choose_lambda(g);
        m.lambda = lambda;
        m.cv_r2 = tss > 0 ? 1 - cv_err / tss : 0;
    }
    fit_weights(g, m.lambda, m);
    return m;
}

// ---- knn ----

std::shared_ptr<const KnnData> make_knn_data(const Eigen::MatrixXd& Z) {
    auto k = std::make_shared<KnnData>();
    k->rows = Z.cast<float>();
    k->sqnorm = k->rows.rowwise().squaredNorm();
    return k;
}

std::vector<size_t> nearest(const KnnData& knn, const Eigen::VectorXf& z, int k, long skip) {
    const Eigen::VectorXf d2 = knn.sqnorm - 2.0f * (knn.rows * z);  // + |z|^2, the same for every row
    std::vector<size_t> o(size_t(knn.rows.rows()));
    std::iota(o.begin(), o.end(), 0);
    if (skip >= 0) o.erase(o.begin() + skip);
    const size_t kk = std::min(o.size(), size_t(std::max(1, k)));
    std::partial_sort(o.begin(), o.begin() + long(kk), o.end(), [&](size_t a, size_t b) { return d2(long(a)) < d2(long(b)); });
    o.resize(kk);
    return o;
}

namespace {

double knn_mean(const Model& m, const std::vector<size_t>& nb) {
    double s = 0, w = 0;
    for (size_t i : nb) s += m.knn_w[i] * m.knn_y[i], w += m.knn_w[i];
    return w > 0 ? s / w : 0.0;
}

}  // namespace

Model fit_knn(const TrainingData& d, const std::vector<size_t>& idx, Model m) {
    m.kind = "knn";
    const Eigen::MatrixXd Z = standardized(d, idx, m);
    m.knn = make_knn_data(Z);
    m.knn_ids.clear(), m.knn_y.clear(), m.knn_w.clear();
    for (size_t i : idx) m.knn_ids.push_back(d.ids[i]), m.knn_y.push_back(d.ys[i]), m.knn_w.push_back(d.ws[i]);
    // k by leave-one-out error on up to 500 of the rows: their 80 nearest others, found with
    // one matrix product per block, serve every k.
    std::vector<size_t> probe(idx.size());
    std::iota(probe.begin(), probe.end(), 0);
    std::shuffle(probe.begin(), probe.end(), std::mt19937(13));
    probe.resize(std::min<size_t>(probe.size(), 500));
    const int k_max = 80;
    std::vector<std::vector<size_t>> near(probe.size());
    std::vector<size_t> order(idx.size());
    for (size_t b0 = 0; b0 < probe.size(); b0 += 256) {
        const size_t nb = std::min<size_t>(256, probe.size() - b0);
        Eigen::MatrixXf Q(long(nb), m.knn->rows.cols());
        for (size_t q = 0; q < nb; ++q) Q.row(long(q)) = m.knn->rows.row(long(probe[b0 + q]));
        const Eigen::MatrixXf D = (-2.0f * (m.knn->rows * Q.transpose())).colwise() + m.knn->sqnorm;
        for (size_t q = 0; q < nb; ++q) {
            std::iota(order.begin(), order.end(), 0);
            order.erase(order.begin() + long(probe[b0 + q]));  // leave the row itself out
            const size_t kk = std::min<size_t>(order.size(), k_max);
            std::partial_sort(order.begin(), order.begin() + long(kk), order.end(), [&](size_t a, size_t c) { return D(long(a), long(q)) < D(long(c), long(q)); });
            near[b0 + q].assign(order.begin(), order.begin() + long(kk));
            order.resize(idx.size());
        }
    }
    double best = 1e300;
    m.knn_k = 5;
    for (int k : {5, 10, 20, 40, 80}) {
        if (size_t(k) >= idx.size()) break;
        double err = 0;
        for (size_t r = 0; r < probe.size(); ++r) {
            const std::vector<size_t> nb(near[r].begin(), near[r].begin() + std::min<long>(k, long(near[r].size())));
            err += m.knn_w[probe[r]] * std::pow(m.knn_y[probe[r]] - knn_mean(m, nb), 2);
        }
        if (err < best) best = err, m.knn_k = k;
    }
    return m;
}

// ---- xgboost ----

namespace {

xgb::Matrix xgb_matrix(const TrainingData& d, const std::vector<size_t>& idx, const Model& m) {
    const Eigen::MatrixXd Z = standardized(d, idx, m);
    xgb::Matrix x;
    x.n = size_t(Z.rows()), x.p = size_t(Z.cols());
    x.values.resize(x.n * x.p);
    for (size_t r = 0; r < x.n; ++r)
        for (size_t j = 0; j < x.p; ++j) x.values[r * x.p + j] = float(Z(long(r), long(j)));
    for (size_t i : idx) x.label.push_back(float(d.ys[i])), x.weight.push_back(float(d.ws[i]));
    return x;
}

}  // namespace

Model fit_xgboost(const TrainingData& d, const std::vector<size_t>& idx, Model m, uint64_t seed) {
    m.kind = "xgboost";
    // Early stopping on a fifth of the rows, then the same number of trees on all of them.
    std::vector<size_t> order = idx;
    std::shuffle(order.begin(), order.end(), std::mt19937(uint32_t(seed)));
    const size_t n_valid = std::max<size_t>(1, order.size() / 5);
    const std::vector<size_t> valid(order.begin(), order.begin() + long(n_valid)), train(order.begin() + long(n_valid), order.end());
    xgb::Params params;
    params.seed = seed;
    const xgb::Trained stopped = xgb::train(xgb_matrix(d, train, m), xgb_matrix(d, valid, m), params);
    params.max_rounds = stopped.rounds;
    params.patience = stopped.rounds;
    const xgb::Matrix all = xgb_matrix(d, idx, m);
    const xgb::Trained full = xgb::train(all, all, params);
    m.booster_json = full.model_json;
    m.boost_rounds = stopped.rounds;
    m.booster = std::make_shared<const xgb::Booster>(m.booster_json);
    return m;
}

// ---- predictions ----

Eigen::VectorXd predict_standardized(const Model& m, const Eigen::MatrixXd& Z) {
    const long n = Z.rows(), p = Z.cols();
    Eigen::VectorXd out(n);
    if (m.kind == "knn") {
        if (!m.knn) throw Error(ErrorKind::internal, "knn model without its tracks");
        // Distances for blocks of queries at once (a matrix product), then the k smallest each.
        const Eigen::MatrixXf Q = Z.cast<float>();
        const long block = 256, nr = m.knn->rows.rows();
        std::vector<size_t> order(static_cast<size_t>(nr));
        for (long b0 = 0; b0 < n; b0 += block) {
            const long nb = std::min(block, n - b0);
            const Eigen::MatrixXf D = (-2.0f * (m.knn->rows * Q.middleRows(b0, nb).transpose())).colwise() + m.knn->sqnorm;
            for (long q = 0; q < nb; ++q) {
                std::iota(order.begin(), order.end(), 0);
                const size_t kk = std::min(order.size(), size_t(std::max(1, m.knn_k)));
                std::partial_sort(order.begin(), order.begin() + long(kk), order.end(), [&](size_t a, size_t c) { return D(long(a), q) < D(long(c), q); });
                out(b0 + q) = knn_mean(m, std::vector<size_t>(order.begin(), order.begin() + long(kk)));
            }
        }
    } else if (m.kind == "xgboost") {
        if (!m.booster) throw Error(ErrorKind::internal, "xgboost model without its booster");
        std::vector<float> rows(size_t(n * p));
        for (long i = 0; i < n; ++i)
            for (long j = 0; j < p; ++j) rows[size_t(i * p + j)] = float(Z(i, j));
        const auto pred = m.booster->predict(rows.data(), size_t(n), size_t(p));
        for (long i = 0; i < n; ++i) out(i) = pred[size_t(i)];
    } else {
        Eigen::VectorXd beta(p);
        for (long j = 0; j < p; ++j) beta(j) = m.features[size_t(j)].weight;
        out = (Z * beta).array() + m.intercept;
    }
    return out;
}

}  // namespace hitdna::learn
