#include "hitdna/learn/model.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <numeric>
#include <map>
#include <random>
#include <string_view>
#include <unordered_map>
#include <tuple>

#include "hitdna/analysis/analyze.hpp"
#include "hitdna/core/clock.hpp"
#include "hitdna/core/error.hpp"
#include "hitdna/dna/vectors.hpp"
#include "hitdna/learn/detail/kinds.hpp"
#include "hitdna/learn/engagement.hpp"
#include "hitdna/learn/xgb.hpp"
#include "hitdna/store/engagement.hpp"
#include "hitdna/store/models.hpp"

using json = nlohmann::json;

namespace hitdna::learn {

namespace {

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

// Feature rows of many tracks: one scan per space instead of four queries per track. Tracks
// missing a space's vector are left out.
std::map<int64_t, std::vector<float>> features_of_tracks(store::Catalog& cat, const std::vector<int64_t>& ids) {
    std::unordered_map<int64_t, size_t> slot;
    for (size_t i = 0; i < ids.size(); ++i) slot[ids[i]] = i;
    std::vector<std::vector<float>> rows(ids.size());
    std::vector<int> spaces_seen(ids.size(), 0);
    for (size_t si = 0; si < dna::k_track_spaces.size(); ++si) {
        cat.for_each_vector(dna::k_track_spaces[si], 0, store::Filter{}, [&](store::StoredVector&& v) {
            auto it = slot.find(v.track_id);
            if (it == slot.end() || spaces_seen[it->second] != int(si)) return;  // in space order, one vector per space
            rows[it->second].insert(rows[it->second].end(), v.data.begin(), v.data.end());
            ++spaces_seen[it->second];
        });
    }
    std::map<int64_t, std::vector<float>> out;
    for (size_t i = 0; i < ids.size(); ++i)
        if (spaces_seen[i] == int(dna::k_track_spaces.size())) out[ids[i]] = std::move(rows[i]);
    return out;
}

TrainingData read_training_data(store::Catalog& cat) {
    TrainingData d;
    const auto engaged = store::engaged_tracks(cat);
    std::vector<int64_t> ids;
    for (const auto& t : engaged) ids.push_back(t.track_id);
    auto rows = features_of_tracks(cat, ids);
    for (const auto& t : engaged) {
        auto it = rows.find(t.track_id);
        if (it == rows.end()) continue;
        d.ids.push_back(t.track_id);
        d.rows.push_back(std::move(it->second));
        d.ws.push_back(double(t.plays) / (double(t.plays) + 50.0));
        d.ys.push_back(t.score);
        d.plays.push_back(t.plays);
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

// Where successful (promoted) tracks lie on each dimension: deciles in raw units.
void success_quantiles(const TrainingData& d, const std::vector<size_t>& ok, Model& m) {
    for (size_t j = 0; j < m.features.size() && !ok.empty(); ++j) {
        std::vector<double> v;
        for (size_t i : ok) v.push_back(d.rows[i][j]);
        std::sort(v.begin(), v.end());
        for (int q = 0; q <= 10; ++q) m.features[j].success_quantiles.push_back(v[size_t(std::lround(q / 10.0 * double(v.size() - 1)))]);
    }
}

// Platt scaling: P(engagement >= promotion score) from the prediction (Newton's method), with
// Platt's smoothed targets that keep the fit finite when the classes separate.
void calibrate(const Eigen::VectorXd& pred, const std::vector<char>& promoted, Model& m) {
    const long n = long(pred.size());
    const double n_pos = double(std::count(promoted.begin(), promoted.end(), 1)), n_neg = double(n) - n_pos;
    const double t_pos = (n_pos + 1) / (n_pos + 2), t_neg = 1 / (n_neg + 2);
    double a = 10, b = -10 * m.promote_threshold;
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

namespace {

Model fit_kind(const std::string& kind, const TrainingData& d, const std::vector<size_t>& idx, const Model& base, uint64_t seed) {
    if (kind == "ridge" || kind == "ols") return fit_ridge(d, idx, base, kind == "ols");
    if (kind == "knn") return fit_knn(d, idx, base);
    if (kind == "xgboost") return fit_xgboost(d, idx, base, seed);
    throw Error(ErrorKind::usage, "unknown model '" + kind + "' (ridge, knn, xgboost or auto)");
}

// A fitted model on held-out rows: weighted R^2, Spearman and the 90 % residual half-width.
Holdout judge(const Model& m, const TrainingData& d, const std::vector<size_t>& held, Eigen::VectorXd& pred) {
    pred = predict_standardized(m, standardized(d, held, m));
    Holdout h;
    h.kind = m.kind;
    h.n = int64_t(held.size());
    double sw = 0, swy = 0;
    for (size_t r = 0; r < held.size(); ++r) sw += d.ws[held[r]], swy += d.ws[held[r]] * d.ys[held[r]];
    double sse = 0, sst = 0;
    std::vector<double> ys, ps, res;
    for (size_t r = 0; r < held.size(); ++r) {
        const double y = d.ys[held[r]], p = std::clamp(pred(long(r)), 0.0, 1.0), w = d.ws[held[r]];
        sse += w * (y - p) * (y - p), sst += w * (y - swy / sw) * (y - swy / sw);
        ys.push_back(y), ps.push_back(p), res.push_back(std::abs(y - p));
    }
    h.r2 = sst > 0 ? 1 - sse / sst : 0;
    h.spearman = spearman(ps, ys);
    std::sort(res.begin(), res.end());
    h.interval90 = res.empty() ? 0 : res[std::min(res.size() - 1, size_t(std::ceil(0.9 * double(res.size() + 1))) - 1)];
    return h;
}

// The paired bootstrap 90 % interval of R^2(a) - R^2(b) on the held-out rows (weighted as judge
// weighs them; 500 resamples, a fixed seed).
std::pair<double, double> paired_r2_interval(const TrainingData& d, const std::vector<size_t>& held, const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
    const size_t n = held.size();
    std::mt19937_64 rng(17);
    std::uniform_int_distribution<size_t> pick(0, n - 1);
    std::vector<double> diffs;
    for (int r = 0; r < 500; ++r) {
        std::vector<size_t> s(n);
        for (auto& x : s) x = pick(rng);
        double sw = 0, swy = 0;
        for (size_t i : s) sw += d.ws[held[i]], swy += d.ws[held[i]] * d.ys[held[i]];
        double sst = 0, sa = 0, sb = 0;
        for (size_t i : s) {
            const double y = d.ys[held[i]], w = d.ws[held[i]];
            const double pa = std::clamp(a(long(i)), 0.0, 1.0), pb = std::clamp(b(long(i)), 0.0, 1.0);
            sst += w * (y - swy / sw) * (y - swy / sw), sa += w * (y - pa) * (y - pa), sb += w * (y - pb) * (y - pb);
        }
        if (sst > 0) diffs.push_back((sb - sa) / sst);
    }
    if (diffs.empty()) return {0, 0};
    std::sort(diffs.begin(), diffs.end());
    return {diffs[size_t(0.05 * double(diffs.size() - 1))], diffs[size_t(0.95 * double(diffs.size() - 1))]};
}

// Held-out fifth (at most 5 000 tracks) and the rest, in a shuffled order fixed by the seed.
std::pair<std::vector<size_t>, std::vector<size_t>> split(size_t n, uint64_t seed) {
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), std::mt19937(uint32_t(seed)));
    const size_t n_held = std::clamp<size_t>(n / 5, 1, 5000);
    return {std::vector<size_t>(order.begin(), order.begin() + long(n_held)), std::vector<size_t>(order.begin() + long(n_held), order.end())};
}

// The mean prediction over `rows` (standardized) with dimension j set to each of `grid`.
std::vector<double> partial_dependence(const Model& m, Eigen::MatrixXd rows, long j, const std::vector<double>& grid) {
    std::vector<double> pd;
    for (double g : grid) {
        rows.col(j).setConstant(g);
        pd.push_back(predict_standardized(m, rows).mean());
    }
    return pd;
}

// The catalog dimension behind a feature name ("audio.tempo_log2"), for its unit.
const dna::Dimension* dimension_of(const std::string& name) {
    const size_t dot = name.find('.');
    const auto sp = dna::parse_space(name.substr(0, dot));
    if (!sp || dot == std::string::npos) return nullptr;
    for (const auto& d : dna::dimensions(*sp))
        if (name.compare(dot + 1, std::string::npos, d.name) == 0) return &d;
    return nullptr;
}

// A feature's raw (vector) value in the unit a person reads.
std::string in_units(const Feature& f, double raw) {
    const auto* d = dimension_of(f.name);
    if (d) return dna::in_units(*d, raw);
    char b[32];
    std::snprintf(b, sizeof b, "%.3f", raw);
    return b;
}

// "earlier"/"later" for times in the song, "lower"/"higher" otherwise.
const char* direction(const Feature& f, bool up) {
    const auto* d = dimension_of(f.name);
    const bool time = d && std::string_view(d->unit) == "m:ss" && f.name != "structure.duration";
    return time ? (up ? "a later" : "an earlier") : (up ? "a higher" : "a lower");
}

// The q-quantile (0..1) of column j of Z.
double column_quantile(const Eigen::MatrixXd& Z, long j, double q) {
    std::vector<double> v(Z.col(j).data(), Z.col(j).data() + Z.rows());
    std::sort(v.begin(), v.end());
    return v[size_t(q * double(v.size() - 1))];
}

// A feature's standardized value in its unit.
std::string at_z(const Feature& f, double z) { return in_units(f, f.mean + z * f.sd); }

// One dimension's partial dependence (at its 10th..90th percentiles `grid`) in words.
std::string describe_effect(const Feature& f, const std::vector<double>& grid, const std::vector<double>& pd) {
    const size_t n = pd.size(), hi = size_t(std::max_element(pd.begin(), pd.end()) - pd.begin()),
                 lo = size_t(std::min_element(pd.begin(), pd.end()) - pd.begin());
    const double spread = pd[hi] - pd[lo];
    std::string s = f.name + " (" + f.description + "): ";
    char b[400];
    // Monotone when both ends are within 5 % of the spread of the extremes.
    const double tol = 0.05 * spread;
    const bool rises = pd.back() >= pd[hi] - tol && pd.front() <= pd[lo] + tol, falls = pd.front() >= pd[hi] - tol && pd.back() <= pd[lo] + tol;
    if (!rises && !falls) {
        const bool peak = hi > 0 && hi < n - 1;
        const size_t e = peak ? hi : lo;
        std::snprintf(b, sizeof b, "predicted engagement (0..1) %s at %s (%.3f), against %.3f at %s and %.3f at %s (its 10th and 90th percentiles)",
                      peak ? "peaks" : "is lowest", at_z(f, grid[e]).c_str(), pd[e], pd.front(), at_z(f, grid.front()).c_str(), pd.back(),
                      at_z(f, grid.back()).c_str());
        return s + b;
    }
    std::snprintf(b, sizeof b, "%s value helps; predicted engagement (0..1) %s from %.3f at %s to %.3f at %s (its 10th to 90th percentiles)",
                  direction(f, rises), rises ? "rises" : "falls", pd.front(), at_z(f, grid.front()).c_str(), pd.back(), at_z(f, grid.back()).c_str());
    s += b;
    // Where 90 % of the change happens, when that is a narrower stretch: a threshold or a
    // saturation.
    size_t k10 = 0, k90 = n - 1;
    for (size_t q = 0; q < n; ++q)
        if (std::abs(pd[q] - pd.front()) <= 0.1 * spread) k10 = q;
    for (size_t q = n; q-- > 0;)
        if (std::abs(pd[q] - pd.front()) >= 0.9 * spread) k90 = q;
    if (k10 < k90 && (k10 >= 2 || k90 <= n - 3)) {
        std::snprintf(b, sizeof b, "; 90 %% of the change happens between %s and %s", at_z(f, grid[k10]).c_str(), at_z(f, grid[k90]).c_str());
        s += b;
    }
    return s;
}

// Does dimension j (its partial dependence over `grid`) act mainly on one side of a value (the
// 30th, 50th or 70th percentile) of one of `others`? The largest such difference, in words, or "".
std::string describe_interaction(const Model& m, const Eigen::MatrixXd& Z, long j, const std::vector<double>& grid, const std::vector<long>& others) {
    struct Split {
        long k = -1;
        double value = 0, strong = 0, weak = 0;
        bool above = true, up = true;
    } best;
    auto span = [](const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()) - *std::min_element(v.begin(), v.end()); };
    for (long k : others) {
        if (k == j) continue;
        for (double q : {0.3, 0.5, 0.7}) {
            const double cut = column_quantile(Z, k, q);
            std::vector<long> above, below;
            for (long i = 0; i < Z.rows(); ++i) (Z(i, k) > cut ? above : below).push_back(i);
            if (above.size() < 20 || below.size() < 20) continue;
            auto effect = [&](const std::vector<long>& rows) {
                Eigen::MatrixXd sub(long(rows.size()), Z.cols());
                for (size_t i = 0; i < rows.size(); ++i) sub.row(long(i)) = Z.row(rows[i]);
                return partial_dependence(m, sub, j, grid);
            };
            const auto pa = effect(above), pb = effect(below);
            const double ea = span(pa), eb = span(pb);
            if (std::max(ea, eb) > 2 * std::min(ea, eb) && std::abs(ea - eb) > best.strong - best.weak) {
                const auto& pd = ea > eb ? pa : pb;
                best = {k, cut, std::max(ea, eb), std::min(ea, eb), ea > eb, pd.back() > pd.front()};
            }
        }
    }
    if (best.k < 0) return "";
    const auto& f = m.features[size_t(j)];
    const auto& g = m.features[size_t(best.k)];
    char b[600];
    std::snprintf(b, sizeof b, "%s %s helps mainly when %s is %s %s: predicted engagement spans %.3f over its 10th to 90th percentiles there, "
                  "%.3f on the other side (an interaction)", direction(f, best.up), f.name.c_str(), g.name.c_str(), best.above ? "above" : "at or below",
                  at_z(g, best.value).c_str(), best.strong, best.weak);
    return b;
}

// Partial dependence in words, in the dimensions' units, for the dimensions a nonlinear model
// leans on most (the four with the largest spread of partial dependence over their 10th..90th
// percentiles), and whether the strongest acts mainly on one side of a value of another
// dimension (an interaction; the others tried: the next nine by spread, four for knn, and for
// trees the ten they gain most from). Computed on a sample of the training tracks; a heuristic
// summary of the fitted model, not a test.
std::vector<std::string> describe_effects(const Model& full, const TrainingData& d) {
    std::vector<size_t> idx(d.n());
    std::iota(idx.begin(), idx.end(), 0);
    std::shuffle(idx.begin(), idx.end(), std::mt19937(5));
    // knn searches every engaged track per row: its partial dependence reads 80 rows against a
    // sample of at most 5 000 of them.
    Model m = full;
    if (m.kind == "knn" && m.knn_ids.size() > 5000) {
        std::vector<size_t> keep(idx.begin(), idx.begin() + 5000);
        m = fit_knn(d, keep, full);
        m.knn_k = full.knn_k;
    }
    idx.resize(std::min<size_t>(idx.size(), m.kind == "knn" ? 80 : 300));
    const Eigen::MatrixXd Z = standardized(d, idx, m);
    const long p = Z.cols();
    struct Ranked {
        double spread;
        long j;
        std::vector<double> grid, pd;
    };
    std::vector<Ranked> ranked;
    for (long j = 0; j < p; ++j) {
        std::vector<double> grid;
        for (int q = 1; q <= 9; ++q) grid.push_back(column_quantile(Z, j, q / 10.0));
        if (grid.front() == grid.back()) continue;
        auto pd = partial_dependence(m, Z, j, grid);
        const double spread = *std::max_element(pd.begin(), pd.end()) - *std::min_element(pd.begin(), pd.end());
        ranked.push_back({spread, j, std::move(grid), std::move(pd)});
    }
    std::sort(ranked.begin(), ranked.end(), [](auto& a, auto& b) { return a.spread > b.spread; });
    std::vector<std::string> out;
    for (size_t r = 0; r < std::min<size_t>(4, ranked.size()); ++r) out.push_back(describe_effect(m.features[size_t(ranked[r].j)], ranked[r].grid, ranked[r].pd));
    if (ranked.size() < 2) return out;
    std::vector<long> others;
    for (size_t r = 1; r < std::min<size_t>(ranked.size(), m.kind == "knn" ? 5 : 10); ++r) others.push_back(ranked[r].j);
    if (m.kind == "xgboost") {
        const auto gain = m.booster->importance(static_cast<size_t>(p));
        std::vector<long> order(static_cast<size_t>(p));
        std::iota(order.begin(), order.end(), 0);
        std::sort(order.begin(), order.end(), [&](long a, long c) { return gain[size_t(a)] > gain[size_t(c)]; });
        for (size_t r = 0; r < std::min<size_t>(10, order.size()); ++r)
            if (gain[size_t(order[r])] > 0 && std::find(others.begin(), others.end(), order[r]) == others.end()) others.push_back(order[r]);
    }
    if (auto s = describe_interaction(m, Z, ranked[0].j, ranked[0].grid, others); !s.empty()) out.push_back(s);
    return out;
}

}  // namespace

Model fit(store::Catalog& cat, const FitOptions& o) {
    store::Catalog::ReadSnapshot snapshot(cat);  // every read below sees one state of the catalog
    const TrainingData data = read_training_data(cat);
    if (int64_t(data.n()) < k_min_tracks)
        throw Error(ErrorKind::usage, "not enough data to learn from: " + std::to_string(data.n()) + " tracks with plays, " +
                                          std::to_string(k_min_tracks) + " needed (hitdna feedback adds them)");
    const std::vector<std::string> kinds = o.kind == "auto" ? std::vector<std::string>{"ridge", "knn", "xgboost"} : std::vector<std::string>{o.kind};
    Model base;
    describe_features(cat, base);
    base.promote_threshold = o.promote_threshold;
    base.promote_min_plays = o.promote_min_plays;
    const auto [held, train] = split(data.n(), o.seed);
    std::vector<Holdout> judged;
    std::vector<Eigen::VectorXd> held_pred;
    for (const auto& kind : kinds) {
        held_pred.emplace_back();
        judged.push_back(judge(fit_kind(kind, data, train, base, o.seed), data, held, held_pred.back()));
    }
    const bool small = int64_t(data.n()) < k_auto_small;
    size_t best = 0;  // ridge, or the only kind asked for
    for (size_t k = 1; k < kinds.size(); ++k) {
        judged[k].r2_minus_ridge = paired_r2_interval(data, held, held_pred[k], held_pred[0]);
        if ((!small || judged[k].r2_minus_ridge->first > 0) && judged[k].r2 > judged[best].r2) best = k;
    }
    std::vector<size_t> all(data.n());
    std::iota(all.begin(), all.end(), 0);
    Model m = fit_kind(kinds[best], data, all, base, o.seed);
    m.holdout = judged[best];
    if (kinds.size() > 1) {
        m.candidates = judged;
        std::sort(m.candidates.begin(), m.candidates.end(), [](auto& a, auto& b) { return a.r2 > b.r2; });
    }
    if (m.kind != "ridge") m.cv_r2 = m.holdout.r2;
    if (m.kind == "xgboost" || m.kind == "knn") m.effects = describe_effects(m, data);
    std::vector<char> promoted(data.n());
    std::vector<size_t> ok;
    for (size_t i = 0; i < data.n(); ++i) {
        promoted[i] = data.ys[i] >= o.promote_threshold && data.plays[i] >= o.promote_min_plays;
        if (promoted[i]) ok.push_back(i);
    }
    m.n_tracks = int64_t(data.n());
    m.n_successful = int64_t(ok.size());
    success_quantiles(data, ok, m);
    // Calibrated on the held-out predictions when they hold both outcomes, else in sample.
    std::vector<char> held_promoted;
    for (size_t i : held) held_promoted.push_back(promoted[i]);
    const auto pos = std::count(held_promoted.begin(), held_promoted.end(), 1);
    if (pos >= 5 && long(held.size()) - pos >= 5) calibrate(held_pred[best], held_promoted, m);
    else if (ok.size() >= 5 && data.n() - ok.size() >= 5) calibrate(predict_standardized(m, standardized(data, all, m)), promoted, m);
    if (!finite_model(m)) throw Error(ErrorKind::internal, "the fitted model is not finite; nothing was stored");
    m.n_events = store::engagement_event_count(cat);
    m.catalog_generation = cat.generation();
    m.fitted_at = core::utc_timestamp();
    return m;
}

namespace {

json holdout_json(const Holdout& h) {
    json j = {{"kind", h.kind}, {"n", h.n}, {"r2", h.r2}, {"spearman", h.spearman}, {"interval90", h.interval90}};
    if (h.r2_minus_ridge) j["r2_minus_ridge_90"] = {h.r2_minus_ridge->first, h.r2_minus_ridge->second};
    return j;
}

Holdout holdout_of(const json& j) {
    Holdout h;
    h.kind = j.value("kind", std::string());
    h.n = j.value("n", int64_t(0));
    h.r2 = j.value("r2", 0.0);
    h.spearman = j.value("spearman", 0.0);
    h.interval90 = j.value("interval90", 0.0);
    if (j.contains("r2_minus_ridge_90")) h.r2_minus_ridge = {j["r2_minus_ridge_90"][0].get<double>(), j["r2_minus_ridge_90"][1].get<double>()};
    return h;
}

// A knn model's rows, read back from the catalog (tracks gone since are left out).
void load_knn_rows(store::Catalog& cat, Model& m) {
    auto rows = features_of_tracks(cat, m.knn_ids);
    TrainingData d;
    std::vector<double> ys, ws;
    for (size_t i = 0; i < m.knn_ids.size(); ++i) {
        auto it = rows.find(m.knn_ids[i]);
        if (it == rows.end() || it->second.size() != m.features.size()) continue;
        d.ids.push_back(m.knn_ids[i]), d.rows.push_back(std::move(it->second)), ys.push_back(m.knn_y[i]), ws.push_back(m.knn_w[i]);
    }
    m.knn_ids = d.ids, m.knn_y = ys, m.knn_w = ws;
    std::vector<size_t> all(d.n());
    std::iota(all.begin(), all.end(), 0);
    m.knn = make_knn_data(standardized(d, all, m));
}

}  // namespace

Model save(store::Catalog& cat, Model m) {
    json j;
    j["kind"] = m.kind;
    j["n_tracks"] = m.n_tracks;
    j["n_successful"] = m.n_successful;
    j["n_events"] = m.n_events;
    j["catalog_generation"] = m.catalog_generation;
    j["lambda"] = m.lambda;
    j["intercept"] = m.intercept;
    j["cv_r2"] = m.cv_r2;
    j["platt"] = {m.platt_a, m.platt_b};
    j["calibrated"] = m.calibrated;
    j["promotion"] = {{"threshold", m.promote_threshold}, {"min_plays", m.promote_min_plays}};
    j["holdout"] = holdout_json(m.holdout);
    j["candidates"] = json::array();
    for (const auto& c : m.candidates) j["candidates"].push_back(holdout_json(c));
    json fs = json::array();
    for (const auto& f : m.features)
        fs.push_back({{"name", f.name}, {"description", f.description}, {"mean", f.mean}, {"sd", f.sd}, {"weight", f.weight}, {"se", f.se}, {"success_quantiles", f.success_quantiles}});
    j["features"] = fs;
    if (m.kind == "knn") j["knn"] = {{"k", m.knn_k}, {"ids", m.knn_ids}, {"engagement", m.knn_y}, {"weights", m.knn_w}};
    if (m.kind == "xgboost") j["xgboost"] = {{"rounds", m.boost_rounds}, {"booster", m.booster_json}};
    j["effects"] = m.effects;
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
    m.kind = j.value("kind", std::string("ridge"));  // models stored before kinds existed are ridge
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
    if (j.contains("promotion")) m.promote_threshold = j["promotion"].at("threshold"), m.promote_min_plays = j["promotion"].at("min_plays");
    if (j.contains("holdout")) m.holdout = holdout_of(j["holdout"]);
    for (const auto& c : j.value("candidates", json::array())) m.candidates.push_back(holdout_of(c));
    m.effects = j.value("effects", std::vector<std::string>{});
    for (const auto& f : j.at("features"))
        m.features.push_back({f.at("name"), f.at("description"), f.at("mean"), f.at("sd"), f.at("weight"), f.at("se"), f.at("success_quantiles").get<std::vector<double>>()});
    if (m.kind == "knn") {
        const json& k = j.at("knn");
        m.knn_k = k.at("k"), m.knn_ids = k.at("ids").get<std::vector<int64_t>>();
        m.knn_y = k.at("engagement").get<std::vector<double>>(), m.knn_w = k.at("weights").get<std::vector<double>>();
        load_knn_rows(cat, m);
    }
    if (m.kind == "xgboost") {
        m.boost_rounds = j.at("xgboost").at("rounds");
        m.booster_json = j.at("xgboost").at("booster");
        m.booster = std::make_shared<const xgb::Booster>(m.booster_json);
    }
    return m;
}

namespace {

// The strongest reasons of a ridge prediction: contributions the data supports (|w| >= 2 SE).
void linear_reasons(const Model& m, const std::vector<float>& raw, Prediction& p) {
    std::vector<std::pair<double, size_t>> contrib;
    for (size_t j = 0; j < m.features.size() && j < raw.size(); ++j)
        contrib.push_back({m.features[j].weight * (raw[j] - m.features[j].mean) / m.features[j].sd, j});
    std::sort(contrib.begin(), contrib.end(), [](auto& a, auto& b) { return std::abs(a.first) > std::abs(b.first); });
    for (size_t k = 0; k < contrib.size() && p.reasons.size() < 3; ++k) {
        const auto& [c, j] = contrib[k];
        const auto& f = m.features[j];
        if (!(f.se > 0) || std::abs(f.weight) < 2 * f.se || std::abs(c) < 0.0005) continue;
        std::string where;
        if (!f.success_quantiles.empty()) {
            int below = 0;
            for (double q : f.success_quantiles) below += raw[j] > q;
            char b[96];
            std::snprintf(b, sizeof b, "; higher than %d %% of successful tracks", std::clamp((below - 1) * 10, 0, 100));
            where = b;
        }
        char b[400];
        std::snprintf(b, sizeof b, "%s = %s (%s)%s: %s the predicted engagement (0..1) by %.3f", f.name.c_str(), in_units(f, raw[j]).c_str(),
                      f.description.c_str(), where.c_str(), c >= 0 ? "raises" : "lowers", std::abs(c));
        p.reasons.push_back(b);
    }
}

// Tree contributions (TreeSHAP): the three largest, in the same words.
void tree_reasons(const Model& m, const std::vector<float>& raw, const std::vector<float>& z, Prediction& p) {
    const auto c = m.booster->contributions(z.data(), 1, z.size());
    std::vector<size_t> order(z.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return std::abs(c[a]) > std::abs(c[b]); });
    for (size_t k = 0; k < order.size() && p.reasons.size() < 3; ++k) {
        const size_t j = order[k];
        if (std::abs(c[j]) < 0.0005) break;
        char b[400];
        std::snprintf(b, sizeof b, "%s = %s (%s): %s the predicted engagement (0..1) by %.3f (tree contribution)", m.features[j].name.c_str(),
                      in_units(m.features[j], raw[j]).c_str(), m.features[j].description.c_str(), c[j] >= 0 ? "raises" : "lowers", std::abs(double(c[j])));
        p.reasons.push_back(b);
    }
}

// The nearest engaged tracks and how they did.
void neighbour_reasons(const Model& m, const std::vector<float>& z, Prediction& p) {
    Eigen::VectorXf q(long(z.size()));
    for (size_t j = 0; j < z.size(); ++j) q(long(j)) = z[j];
    std::string s = "scored like its nearest engaged tracks:";
    for (size_t i : nearest(*m.knn, q, std::min(3, m.knn_k))) {
        char b[80];
        std::snprintf(b, sizeof b, " #%lld (engagement %.3f)", (long long)m.knn_ids[i], m.knn_y[i]);
        s += b;
    }
    p.reasons.push_back(s);
}

}  // namespace

std::vector<double> predict_engagement(const Model& m, const std::vector<float>& rows, size_t n) {
    const size_t p = m.features.size();
    Eigen::MatrixXd Z(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(p));
    for (size_t i = 0; i < n; ++i)
        for (size_t j = 0; j < p; ++j) Z(long(i), long(j)) = (rows[i * p + j] - m.features[j].mean) / m.features[j].sd;
    const Eigen::VectorXd s = predict_standardized(m, Z);
    std::vector<double> out(n);
    for (size_t i = 0; i < n; ++i) out[i] = std::clamp(s(long(i)), 0.0, 1.0);
    return out;
}

Prediction predict(const Model& m, const std::vector<float>& raw, bool with_reasons) {
    Prediction p;
    const size_t n = m.features.size();
    if (raw.size() < n) throw Error(ErrorKind::internal, "a feature row of " + std::to_string(raw.size()) + " values for a model of " + std::to_string(n));
    std::vector<float> z(n);
    Eigen::MatrixXd Z(1, static_cast<Eigen::Index>(n));
    for (size_t j = 0; j < n; ++j) z[j] = float((raw[j] - m.features[j].mean) / m.features[j].sd), Z(0, long(j)) = z[j];
    const double s = predict_standardized(m, Z)(0);
    p.engagement = std::clamp(s, 0.0, 1.0);
    p.low = std::clamp(s - m.holdout.interval90, 0.0, 1.0);
    p.high = std::clamp(s + m.holdout.interval90, 0.0, 1.0);
    if (m.calibrated) p.hit_score = sigmoid(m.platt_a * s + m.platt_b);
    if (!with_reasons) return p;
    if (m.kind == "xgboost") tree_reasons(m, raw, z, p);
    else if (m.kind == "knn") neighbour_reasons(m, z, p);
    else linear_reasons(m, raw, p);
    return p;
}

Prediction predict_file(const Model& m, const std::string& path) { return predict(m, features_of(analysis::analyze_file(path).vectors)); }

namespace {

// How the model did on the held-out tracks, and with auto the kinds it was chosen from.
std::string describe_holdout(const Model& m) {
    std::string out;
    char b[400];
    if (m.holdout.n > 0) {
        std::snprintf(b, sizeof b, "  held-out %lld tracks: R^2 %.3f, Spearman %.3f; 90 %% of their engagement scores within +-%.3f of the prediction\n",
                      (long long)m.holdout.n, m.holdout.r2, m.holdout.spearman, m.holdout.interval90);
        out += b;
    }
    if (m.candidates.size() > 1) {
        out += "  --model auto, held-out R^2:";
        for (const auto& c : m.candidates) {
            std::snprintf(b, sizeof b, " %s %.3f", c.kind.c_str(), c.r2);
            out += b;
            if (c.r2_minus_ridge) {
                std::snprintf(b, sizeof b, " (minus ridge's: %+.3f..%+.3f, paired 90 %% interval)", c.r2_minus_ridge->first, c.r2_minus_ridge->second);
                out += b;
            }
            out += &c == &m.candidates.back() ? "\n" : ",";
        }
        const Holdout* ridge = nullptr;
        for (const auto& c : m.candidates)
            if (c.kind == "ridge") ridge = &c;
        const bool small = m.n_tracks < k_auto_small;
        if (m.kind != "ridge" || !ridge) {
            std::snprintf(b, sizeof b, "  %s kept: the best held-out R^2, %.3f above ridge's%s\n", m.kind.c_str(), ridge ? m.holdout.r2 - ridge->r2 : 0.0,
                          small ? " (with fewer than 300 engaged tracks it had to beat ridge clearly: interval above 0)" : "");
        } else if (m.candidates[0].kind != "ridge") {
            std::snprintf(b, sizeof b, "  ridge kept: with fewer than 300 engaged tracks another kind must beat it clearly (interval above 0); %s is ahead "
                          "by %.3f R^2, within noise\n", m.candidates[0].kind.c_str(), m.candidates[0].r2 - ridge->r2);
        } else {
            std::snprintf(b, sizeof b, "  ridge kept: the best held-out R^2, %.3f above %s's\n", ridge->r2 - m.candidates[1].r2, m.candidates[1].kind.c_str());
        }
        out += b;
    }
    return out;
}

}  // namespace

std::string describe_weights(const Model& m, size_t top) {
    std::string out;
    char b[512];
    std::snprintf(b, sizeof b, "pattern model v%lld (%s), fitted %s on %lld tracks with engagement (%lld promoted: engagement >= %.2f with >= %lld plays; "
                  "%lld events; catalog generation %lld)\n", (long long)m.version, m.kind.c_str(), m.fitted_at.c_str(), (long long)m.n_tracks,
                  (long long)m.n_successful, m.promote_threshold, (long long)m.promote_min_plays, (long long)m.n_events, (long long)m.catalog_generation);
    out += b;
    out += describe_holdout(m);
    if (m.kind == "knn") {
        std::snprintf(b, sizeof b, "  k nearest neighbours (k = %d) among %zu engaged tracks: no weight per dimension; a track scores as its most similar "
                      "engaged tracks did\n", m.knn_k, m.knn_ids.size());
        out += b;
        for (const auto& e : m.effects) out += "  partial dependence: " + e + "\n";
        return out;
    }
    if (m.kind == "xgboost") {
        std::snprintf(b, sizeof b, "  %d boosted trees (depth 4); dimensions by importance (total gain), not signed weights:\n", m.boost_rounds);
        out += b;
        const auto gain = m.booster->importance(m.features.size());
        std::vector<size_t> order(gain.size());
        std::iota(order.begin(), order.end(), 0);
        std::sort(order.begin(), order.end(), [&](size_t a, size_t c) { return gain[a] > gain[c]; });
        double total = 0;
        for (double g : gain) total += g;
        for (size_t i = 0; i < std::min(top, order.size()) && gain[order[i]] > 0; ++i) {
            std::snprintf(b, sizeof b, "  %5.1f %% of the gain  %-32s %s\n", 100 * gain[order[i]] / std::max(total, 1e-12), m.features[order[i]].name.c_str(),
                          m.features[order[i]].description.c_str());
            out += b;
        }
        for (const auto& e : m.effects) out += "  partial dependence: " + e + "\n";
        return out;
    }
    std::snprintf(b, sizeof b, "  penalty %.1f; cross-validated R^2 %.2f\n", m.lambda, m.cv_r2);
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
    j["kind"] = m.kind;
    j["fitted_at"] = m.fitted_at;
    j["n_tracks"] = m.n_tracks;
    j["n_events"] = m.n_events;
    j["catalog_generation"] = m.catalog_generation;
    j["cv_r2"] = m.cv_r2;
    j["lambda"] = m.lambda;
    j["promotion"] = {{"threshold", m.promote_threshold}, {"min_plays", m.promote_min_plays}};
    j["holdout"] = holdout_json(m.holdout);
    j["candidates"] = nlohmann::json::array();
    for (const auto& c : m.candidates) j["candidates"].push_back(holdout_json(c));
    j["effects"] = m.effects;
    std::vector<double> gain;
    if (m.kind == "xgboost") gain = m.booster->importance(m.features.size());
    for (size_t i = 0; i < m.features.size(); ++i) {
        const auto& f = m.features[i];
        if (m.kind == "xgboost") j["weights"].push_back({{"dimension", f.name}, {"weight", nullptr}, {"se", nullptr}, {"gain", gain[i]}});
        else if (m.kind == "knn") j["weights"].push_back({{"dimension", f.name}, {"weight", nullptr}, {"se", nullptr}});
        else j["weights"].push_back({{"dimension", f.name}, {"weight", f.weight}, {"se", f.se}});
    }
    return j;
}

std::string stale_reason(const Model& m, store::Catalog& cat) {
    const int64_t events = store::engagement_event_count(cat);
    const int64_t tracks = store::engaged_track_count(cat);
    if (double(events) < 1.5 * double(m.n_events) && double(tracks) < 1.25 * double(m.n_tracks)) return "";
    char b[300];
    std::snprintf(b, sizeof b, "pattern model v%lld is stale: fitted on %lld events of %lld tracks, the catalog now has %lld events of %lld tracks "
                  "(run hitdna learn)", (long long)m.version, (long long)m.n_events, (long long)m.n_tracks, (long long)events, (long long)tracks);
    return b;
}

std::vector<double> importance(const Model& m) { return m.kind == "xgboost" && m.booster ? m.booster->importance(m.features.size()) : std::vector<double>{}; }

double pattern_factor(const Model& m, store::Catalog& cat, int64_t track_id) {
    auto f = features_of_track(cat, track_id);
    if (f.empty()) return 1.0;
    auto p = predict(m, f, false);
    return p.hit_score ? 0.5 + *p.hit_score : 1.0;
}

}  // namespace hitdna::learn
