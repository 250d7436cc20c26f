#include "hitdna/learn/model.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <random>

#include "hitdna/analysis/analyze.hpp"
#include "hitdna/core/clock.hpp"
#include "hitdna/core/error.hpp"
#include "hitdna/dna/vectors.hpp"
#include "hitdna/learn/engagement.hpp"
#include "hitdna/store/engagement.hpp"
#include "hitdna/store/models.hpp"

using json = nlohmann::json;

namespace hitdna::learn {

namespace {



// Weighted ridge: beta for centred X, y; returns beta.
Eigen::VectorXd ridge(const Eigen::MatrixXd& X, const Eigen::VectorXd& y, const Eigen::VectorXd& w, double lambda) {
    const Eigen::MatrixXd Xw = X.array().colwise() * w.array();
    Eigen::MatrixXd A = X.transpose() * Xw;
    A.diagonal().array() += lambda;
    return A.ldlt().solve(Xw.transpose() * y);
}

double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

}  // namespace

std::vector<float> features_of(const dna::Vectors& v) {
    std::vector<float> f;
    for (const auto* x : {&v.audio, &v.structure, &v.emotion, &v.production}) f.insert(f.end(), x->begin(), x->end());
    return f;
}

std::vector<float> features_of_track(store::Catalog& cat, int64_t id) {
    std::vector<float> f;
    for (auto sp : dna::k_track_spaces) {
        auto vs = cat.vectors_of(id, sp);
        if (vs.empty()) return {};
        f.insert(f.end(), vs.front().data.begin(), vs.front().data.end());
    }
    return f;
}

namespace {

// Every track with plays: its raw feature row, engagement score, weight and promotion.
struct TrainingData {
    std::vector<std::vector<float>> rows;
    std::vector<double> ys, ws;
    std::vector<char> promoted;
};

TrainingData read_training_data(store::Catalog& cat) {
    TrainingData d;
    for (const auto& t : store::engaged_tracks(cat)) {
        auto f = features_of_track(cat, t.track_id);
        if (f.empty()) continue;
        d.rows.push_back(std::move(f));
        d.ws.push_back(double(t.plays) / (double(t.plays) + 50.0));
        d.ys.push_back(t.score);
        d.promoted.push_back(t.promoted);
    }
    return d;
}

// The model's features: names, meanings and the catalog's standardization.
void describe_features(store::Catalog& cat, Model& m) {
    std::vector<std::string> names, descs;
    for (auto sp : dna::k_track_spaces) {
        for (const auto& d : dna::dimensions(sp)) {
            names.push_back(std::string(dna::to_string(sp)) + "." + d.name);
            descs.push_back(d.description);
        }
        auto st = cat.stats(sp);
        for (size_t i = 0; i < st.mean.size(); ++i) {
            Feature f;
            f.mean = st.mean[i];
            f.sd = st.sd[i];
            m.features.push_back(f);
        }
    }
    for (size_t j = 0; j < m.features.size(); ++j) m.features[j].name = names[j], m.features[j].description = descs[j];
}

// The standardized design, centred on the weighted means.
struct Design {
    long n = 0, p = 0;
    Eigen::MatrixXd X, Xc;
    Eigen::VectorXd y, w, yc;
    Eigen::RowVectorXd xbar;
    double ybar = 0;
};

Design make_design(const TrainingData& d, const Model& m) {
    Design g;
    g.n = long(d.rows.size()), g.p = long(m.features.size());
    const long n = g.n, p = g.p;
    g.X.resize(n, p);
    g.y.resize(n), g.w.resize(n);
    for (long i = 0; i < n; ++i) {
        for (long j = 0; j < p; ++j) g.X(i, j) = (d.rows[size_t(i)][size_t(j)] - m.features[size_t(j)].mean) / m.features[size_t(j)].sd;
        g.y(i) = d.ys[size_t(i)];
        g.w(i) = d.ws[size_t(i)];
    }
    g.w *= double(n) / g.w.sum();  // weights average 1, so residual degrees of freedom are n - df
    g.ybar = (g.w.array() * g.y.array()).sum() / g.w.sum();
    g.yc = g.y.array() - g.ybar;
    g.xbar = (g.X.array().colwise() * g.w.array()).colwise().sum() / g.w.sum();
    g.Xc = g.X.rowwise() - g.xbar;
    return g;
}

// The penalty by 5-fold cross-validation (weighted squared error): (lambda, its error).
std::pair<double, double> choose_lambda(const Design& g) {
    const long n = g.n, p = g.p;
    std::vector<long> fold(static_cast<size_t>(n));
    for (long i = 0; i < n; ++i) fold[size_t(i)] = i % 5;
    std::shuffle(fold.begin(), fold.end(), std::mt19937(11));
    double best_lambda = 1, best_err = 1e300;
    for (double lambda : {0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0}) {
        double err = 0;
        for (int k = 0; k < 5; ++k) {
            std::vector<long> tr, te;
            for (long i = 0; i < n; ++i) (fold[size_t(i)] == k ? te : tr).push_back(i);
            Eigen::MatrixXd Xt(long(tr.size()), p);
            Eigen::VectorXd yt(long(tr.size())), wt(long(tr.size()));
            for (size_t r = 0; r < tr.size(); ++r) Xt.row(long(r)) = g.Xc.row(tr[r]), yt(long(r)) = g.yc(tr[r]), wt(long(r)) = g.w(tr[r]);
            Eigen::VectorXd b = ridge(Xt, yt, wt, lambda);
            for (long i : te) err += g.w(i) * std::pow(g.yc(i) - g.Xc.row(i).dot(b), 2);
        }
        if (err < best_err) best_err = err, best_lambda = lambda;
    }
    return {best_lambda, best_err};
}

// Weights and their standard errors (sandwich of the ridge estimator with the residual
// variance); returns beta.
Eigen::VectorXd fit_weights(const Design& g, double lambda, Model& m) {
    Eigen::VectorXd beta = ridge(g.Xc, g.yc, g.w, lambda);
    m.intercept = g.ybar - g.xbar.dot(beta);
    const Eigen::MatrixXd Xw = g.Xc.array().colwise() * g.w.array();
    Eigen::MatrixXd G = g.Xc.transpose() * Xw;
    Eigen::MatrixXd A = G;
    A.diagonal().array() += lambda;
    Eigen::MatrixXd Ainv = A.inverse();
    const double df = (Ainv * G).trace();
    Eigen::VectorXd res = g.yc - g.Xc * beta;
    const double sigma2 = (g.w.array() * res.array().square()).sum() / std::max(1.0, double(g.n) - df);
    Eigen::MatrixXd cov = sigma2 * Ainv * G * Ainv;
    for (long j = 0; j < g.p; ++j) {
        m.features[size_t(j)].weight = beta(j);
        m.features[size_t(j)].se = std::sqrt(std::max(0.0, cov(j, j)));
    }
    return beta;
}

// Where successful (promoted) tracks lie on each dimension: deciles in raw units.
void success_quantiles(const TrainingData& d, const std::vector<long>& ok, Model& m) {
    for (size_t j = 0; j < m.features.size() && !ok.empty(); ++j) {
        std::vector<double> v;
        for (long i : ok) v.push_back(d.rows[size_t(i)][j]);
        std::sort(v.begin(), v.end());
        for (int q = 0; q <= 10; ++q) m.features[j].success_quantiles.push_back(v[size_t(std::lround(q / 10.0 * double(v.size() - 1)))]);
    }
}

// Platt scaling: P(engagement >= promotion score) from the prediction (Newton's method), with
// Platt's smoothed targets that keep the fit finite when the classes separate.
void calibrate(const Eigen::VectorXd& pred, const std::vector<char>& promoted, size_t n_pos_tracks, Model& m) {
    const long n = long(pred.size());
    const double n_pos = double(n_pos_tracks), n_neg = double(n) - n_pos;
    const double t_pos = (n_pos + 1) / (n_pos + 2), t_neg = 1 / (n_neg + 2);
    double a = 10, b = -10 * k_promote_score;
    for (int it = 0; it < 50; ++it) {
        double ga = 0, gb = 0, haa = 0, hab = 0, hbb = 0;
        for (long i = 0; i < n; ++i) {
            const double t = promoted[size_t(i)] ? t_pos : t_neg, s = sigmoid(a * pred(i) + b);
            ga += (s - t) * pred(i), gb += s - t;
            const double v = std::max(1e-9, s * (1 - s));
            haa += v * pred(i) * pred(i), hab += v * pred(i), hbb += v;
        }
        haa += 1e-6, hbb += 1e-6;
        const double det = haa * hbb - hab * hab;
        if (std::abs(det) < 1e-12) break;
        const double da = (hbb * ga - hab * gb) / det, db = (haa * gb - hab * ga) / det;
        a -= da, b -= db;
        if (std::abs(da) + std::abs(db) < 1e-9) break;
    }
    m.platt_a = a, m.platt_b = b, m.calibrated = true;
}

bool finite_model(const Model& m) {
    auto finite = [](double x) { return std::isfinite(x); };
    bool ok = finite(m.intercept) && finite(m.platt_a) && finite(m.platt_b) && finite(m.cv_r2);
    for (const auto& f : m.features) ok = ok && finite(f.weight) && finite(f.se);
    return ok;
}

}  // namespace

Model fit(store::Catalog& cat) {
    store::Catalog::ReadSnapshot snapshot(cat);  // every read below sees one state of the catalog
    const TrainingData data = read_training_data(cat);
    if (int64_t(data.rows.size()) < k_min_tracks)
        throw Error(ErrorKind::usage, "not enough data to learn from: " + std::to_string(data.rows.size()) + " tracks with plays, " +
                                          std::to_string(k_min_tracks) + " needed (hitdna feedback adds them)");
    Model m;
    describe_features(cat, m);
    const Design g = make_design(data, m);
    const double tss = (g.w.array() * g.yc.array().square()).sum();
    const auto [lambda, cv_err] = choose_lambda(g);
    m.lambda = lambda;
    m.cv_r2 = tss > 0 ? 1 - cv_err / tss : 0;
    const Eigen::VectorXd beta = fit_weights(g, lambda, m);
    // Successful = promoted (engagement >= 0.6 with >= 100 plays).
    std::vector<long> ok;
    for (long i = 0; i < g.n; ++i)
        if (data.promoted[size_t(i)]) ok.push_back(i);
    m.n_tracks = g.n;
    m.n_successful = int64_t(ok.size());
    success_quantiles(data, ok, m);
    const Eigen::VectorXd pred = (g.X * beta).array() + m.intercept;
    if (ok.size() >= 5 && size_t(g.n) - ok.size() >= 5) calibrate(pred, data.promoted, ok.size(), m);
    if (!finite_model(m)) throw Error(ErrorKind::internal, "the fitted model is not finite; nothing was stored");
    m.n_events = store::engagement_event_count(cat);
    m.catalog_generation = cat.generation();
    m.fitted_at = core::utc_timestamp();
    return m;
}

Model save(store::Catalog& cat, Model m) {
    json j;
    j["n_tracks"] = m.n_tracks;
    j["n_successful"] = m.n_successful;
    j["n_events"] = m.n_events;
    j["catalog_generation"] = m.catalog_generation;
    j["lambda"] = m.lambda;
    j["intercept"] = m.intercept;
    j["cv_r2"] = m.cv_r2;
    j["platt"] = {m.platt_a, m.platt_b};
    j["calibrated"] = m.calibrated;
    json fs = json::array();
    for (const auto& f : m.features)
        fs.push_back({{"name", f.name}, {"description", f.description}, {"mean", f.mean}, {"sd", f.sd}, {"weight", f.weight}, {"se", f.se}, {"success_quantiles", f.success_quantiles}});
    j["features"] = fs;
    m.version = store::save_model(cat, m.fitted_at, m.n_tracks, j.dump());
    return m;
}

std::optional<Model> latest(store::Catalog& cat) {
    auto stored = store::latest_model(cat);
    if (!stored) return std::nullopt;
    Model m;
    m.version = stored->version;
    m.fitted_at = stored->fitted_at;
    const json j = json::parse(stored->model_json);
    m.n_tracks = j.at("n_tracks");
    m.n_successful = j.at("n_successful");
    m.n_events = j.value("n_events", int64_t(0));
    m.catalog_generation = j.value("catalog_generation", int64_t(0));
    m.lambda = j.at("lambda");
    m.intercept = j.at("intercept");
    m.cv_r2 = j.at("cv_r2");
    m.platt_a = j.at("platt")[0];
    m.platt_b = j.at("platt")[1];
    m.calibrated = j.at("calibrated");
    for (const auto& f : j.at("features"))
        m.features.push_back({f.at("name"), f.at("description"), f.at("mean"), f.at("sd"), f.at("weight"), f.at("se"), f.at("success_quantiles").get<std::vector<double>>()});
    return m;
}

Prediction predict(const Model& m, const std::vector<float>& raw) {
    Prediction p;
    double s = m.intercept;
    std::vector<std::pair<double, size_t>> contrib;
    for (size_t j = 0; j < m.features.size() && j < raw.size(); ++j) {
        const auto& f = m.features[j];
        const double z = (raw[j] - f.mean) / f.sd;
        // The centred contribution: how far this track's value moves it from the average track.
        contrib.push_back({f.weight * z, j});
        s += f.weight * z;
    }
    p.engagement = std::clamp(s, 0.0, 1.0);
    if (m.calibrated) p.hit_score = sigmoid(m.platt_a * s + m.platt_b);
    std::sort(contrib.begin(), contrib.end(), [](auto& a, auto& b) { return std::abs(a.first) > std::abs(b.first); });
    for (size_t k = 0; k < contrib.size() && p.reasons.size() < 3; ++k) {
        const auto& [c, j] = contrib[k];
        const auto& f = m.features[j];
        if (!(f.se > 0) || std::abs(f.weight) < 2 * f.se || std::abs(c) < 0.0005) continue;  // only weights the data supports (|w| >= 2 SE)
        std::string where;
        if (!f.success_quantiles.empty()) {
            int below = 0;
            for (double q : f.success_quantiles) below += raw[j] > q;
            char b[96];
            std::snprintf(b, sizeof b, "; higher than %d %% of successful tracks", std::clamp((below - 1) * 10, 0, 100));
            where = b;
        }
        char b[400];
        std::snprintf(b, sizeof b, "%s = %.3f (%s)%s: %s the predicted engagement (0..1) by %.3f", f.name.c_str(), raw[j], f.description.c_str(), where.c_str(),
                      c >= 0 ? "raises" : "lowers", std::abs(c));
        p.reasons.push_back(b);
    }
    return p;
}

Prediction predict_file(const Model& m, const std::string& path) { return predict(m, features_of(analysis::analyze_file(path).vectors)); }

std::string describe_weights(const Model& m, size_t top) {
    std::string out;
    char b[512];
    std::snprintf(b, sizeof b, "pattern weights v%lld, fitted %s on %lld tracks with engagement (%lld at or above the promotion score; %lld events; "
                  "catalog generation %lld); penalty %.1f; cross-validated R^2 %.2f\n", (long long)m.version, m.fitted_at.c_str(), (long long)m.n_tracks,
                  (long long)m.n_successful, (long long)m.n_events, (long long)m.catalog_generation, m.lambda, m.cv_r2);
    out += b;
    std::vector<const Feature*> fs;
    for (const auto& f : m.features) fs.push_back(&f);
    std::sort(fs.begin(), fs.end(), [](auto* a, auto* c) { return std::abs(a->weight) / (a->se + 1e-9) > std::abs(c->weight) / (c->se + 1e-9); });
    for (size_t i = 0; i < std::min(top, fs.size()); ++i) {
        const auto& f = *fs[i];
        const double z = f.weight / (f.se + 1e-12);
        const char* sure = std::abs(z) >= 3 ? "clear" : std::abs(z) >= 2 ? "likely" : "uncertain";
        std::snprintf(b, sizeof b, "  %+.4f ± %.4f per SD  %-32s %s: more %s goes with %s engagement\n", f.weight, f.se, f.name.c_str(), sure,
                      f.description.c_str(), f.weight >= 0 ? "higher" : "lower");
        out += b;
    }
    return out;
}

nlohmann::json weights_json(const Model& m) {
    nlohmann::json j;
    j["version"] = m.version;
    j["fitted_at"] = m.fitted_at;
    j["n_tracks"] = m.n_tracks;
    j["n_events"] = m.n_events;
    j["catalog_generation"] = m.catalog_generation;
    j["cv_r2"] = m.cv_r2;
    j["lambda"] = m.lambda;
    for (const auto& f : m.features) j["weights"].push_back({{"dimension", f.name}, {"weight", f.weight}, {"se", f.se}});
    return j;
}

double pattern_factor(const Model& m, store::Catalog& cat, int64_t track_id) {
    auto f = features_of_track(cat, track_id);
    if (f.empty()) return 1.0;
    auto p = predict(m, f);
    return p.hit_score ? 0.5 + *p.hit_score : 1.0;
}

}  // namespace hitdna::learn
