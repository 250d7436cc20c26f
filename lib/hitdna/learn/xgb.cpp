#include "hitdna/learn/xgb.hpp"

#include <xgboost/c_api.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <string>

#include "hitdna/core/error.hpp"
#include "hitdna/core/shared_library.hpp"

namespace hitdna::learn::xgb {
namespace {

// libxgboost, loaded when a boosted model is first fitted or used.
struct Xgb {
    core::SharedLibrary lib{HITDNA_XGBOOST_SONAME, "boosted models (learn --model xgboost)", "libxgboost0"};
    HITDNA_LIBRARY_FUNCTION(XGBGetLastError);
    HITDNA_LIBRARY_FUNCTION(XGDMatrixCreateFromMat);
    HITDNA_LIBRARY_FUNCTION(XGDMatrixSetFloatInfo);
    HITDNA_LIBRARY_FUNCTION(XGDMatrixFree);
    HITDNA_LIBRARY_FUNCTION(XGBoosterFree);
    HITDNA_LIBRARY_FUNCTION(XGBoosterSetParam);
    HITDNA_LIBRARY_FUNCTION(XGBoosterSaveModelToBuffer);
    HITDNA_LIBRARY_FUNCTION(XGBoosterCreate);
    HITDNA_LIBRARY_FUNCTION(XGBoosterUpdateOneIter);
    HITDNA_LIBRARY_FUNCTION(XGBoosterEvalOneIter);
    HITDNA_LIBRARY_FUNCTION(XGBoosterSlice);
    HITDNA_LIBRARY_FUNCTION(XGBoosterPredictFromDMatrix);
    HITDNA_LIBRARY_FUNCTION(XGBoosterLoadModelFromBuffer);
    HITDNA_LIBRARY_FUNCTION(XGBoosterFeatureScore);
};

const Xgb& xgb() {
    static const Xgb x;
    return x;
}

void check(int rc, const char* what) {
    if (rc != 0) throw Error(ErrorKind::internal, std::string("XGBoost ") + what + ": " + xgb().XGBGetLastError());
}

// Owns a DMatrix.
struct DMatrix {
    DMatrixHandle h = nullptr;
    DMatrix(const float* rows, size_t n, size_t p) {
        check(xgb().XGDMatrixCreateFromMat(rows, bst_ulong(n), bst_ulong(p), std::numeric_limits<float>::quiet_NaN(), &h), "DMatrix");
    }
    explicit DMatrix(const Matrix& m) : DMatrix(m.values.data(), m.n, m.p) {
        if (!m.label.empty()) check(xgb().XGDMatrixSetFloatInfo(h, "label", m.label.data(), bst_ulong(m.n)), "labels");
        if (!m.weight.empty()) check(xgb().XGDMatrixSetFloatInfo(h, "weight", m.weight.data(), bst_ulong(m.n)), "weights");
    }
    ~DMatrix() { xgb().XGDMatrixFree(h); }
    DMatrix(const DMatrix&) = delete;
    DMatrix& operator=(const DMatrix&) = delete;
};

struct Handle {
    BoosterHandle h = nullptr;
    ~Handle() {
        if (h) xgb().XGBoosterFree(h);
    }
};

void set_params(BoosterHandle b, const Params& p) {
    auto set = [&](const char* k, const std::string& v) { check(xgb().XGBoosterSetParam(b, k, v.c_str()), "parameter"); };
    set("objective", "reg:squarederror");
    set("tree_method", "hist");
    set("eval_metric", "rmse");
    set("max_depth", std::to_string(p.max_depth));
    set("eta", std::to_string(p.eta));
    set("subsample", std::to_string(p.subsample));
    set("colsample_bytree", std::to_string(p.colsample));
    set("min_child_weight", std::to_string(p.min_child_weight));
    set("lambda", std::to_string(p.lambda));
    set("nthread", std::to_string(p.threads));
    set("seed", std::to_string(p.seed));
    set("verbosity", "0");
}

// "[12]\tvalid-rmse:0.0523" -> 0.0523
double parse_eval(const char* text) {
    const char* at = std::strstr(text, "rmse:");
    return at ? std::strtod(at + 5, nullptr) : std::numeric_limits<double>::infinity();
}

std::string save_json(BoosterHandle b) {
    bst_ulong len = 0;
    const char* buf = nullptr;
    check(xgb().XGBoosterSaveModelToBuffer(b, R"({"format": "json"})", &len, &buf), "save");
    return std::string(buf, size_t(len));
}

}  // namespace

Trained train(const Matrix& train, const Matrix& valid, const Params& params) {
    if (train.n == 0 || valid.n == 0 || train.p != valid.p) throw Error(ErrorKind::internal, "XGBoost: empty or mismatched training data");
    DMatrix dtrain(train), dvalid(valid);
    DMatrixHandle mats[2] = {dtrain.h, dvalid.h};
    Handle b;
    check(xgb().XGBoosterCreate(mats, 2, &b.h), "booster");
    set_params(b.h, params);
    DMatrixHandle eval_mats[1] = {dvalid.h};
    const char* eval_names[1] = {"valid"};
    double best = std::numeric_limits<double>::infinity();
    int best_round = 0;
    for (int round = 0; round < params.max_rounds && round - best_round <= params.patience; ++round) {
        check(xgb().XGBoosterUpdateOneIter(b.h, round, dtrain.h), "training");
        const char* text = nullptr;
        check(xgb().XGBoosterEvalOneIter(b.h, round, eval_mats, eval_names, 1, &text), "evaluation");
        const double e = parse_eval(text);
        if (e < best) best = e, best_round = round;
    }
    Handle cut;
    check(xgb().XGBoosterSlice(b.h, 0, best_round + 1, 1, &cut.h), "slice");
    Trained t;
    t.model_json = save_json(cut.h);
    t.rounds = best_round + 1;
    t.valid_rmse = best;
    return t;
}

namespace {
std::mutex& predict_mutex() {
    static std::mutex m;  // XGBoost's DMatrix prediction is not documented as thread-safe
    return m;
}

std::vector<float> run_predict(void* handle, const float* rows, size_t n, size_t p, int type) {
    std::lock_guard<std::mutex> lock(predict_mutex());
    DMatrix d(rows, n, p);
    const std::string config = R"({"type": )" + std::to_string(type) + R"(, "training": false, "iteration_begin": 0, "iteration_end": 0, "strict_shape": false})";
    const bst_ulong* shape = nullptr;
    bst_ulong dim = 0;
    const float* out = nullptr;
    check(xgb().XGBoosterPredictFromDMatrix(static_cast<BoosterHandle>(handle), d.h, config.c_str(), &shape, &dim, &out), "prediction");
    size_t total = 1;
    for (bst_ulong i = 0; i < dim; ++i) total *= size_t(shape[i]);
    return std::vector<float>(out, out + total);
}
}  // namespace

Booster::Booster(const std::string& model_json) {
    BoosterHandle h = nullptr;
    check(xgb().XGBoosterCreate(nullptr, 0, &h), "booster");
    if (xgb().XGBoosterLoadModelFromBuffer(h, model_json.data(), bst_ulong(model_json.size())) != 0) {
        const std::string why = xgb().XGBGetLastError();
        xgb().XGBoosterFree(h);
        throw Error(ErrorKind::internal, "XGBoost model: " + why);
    }
    check(xgb().XGBoosterSetParam(h, "nthread", "1"), "parameter");  // one row at a time: no thread pool
    m_handle = h;
}

Booster::~Booster() { xgb().XGBoosterFree(static_cast<BoosterHandle>(m_handle)); }

std::vector<float> Booster::predict(const float* rows, size_t n, size_t p) const { return run_predict(m_handle, rows, n, p, 0); }

std::vector<float> Booster::contributions(const float* rows, size_t n, size_t p) const { return run_predict(m_handle, rows, n, p, 2); }

std::vector<double> Booster::importance(size_t p) const {
    std::lock_guard<std::mutex> lock(predict_mutex());
    bst_ulong n_features = 0, out_dim = 0;
    const char** names = nullptr;
    const bst_ulong* shape = nullptr;
    const float* scores = nullptr;
    check(xgb().XGBoosterFeatureScore(static_cast<BoosterHandle>(m_handle), R"({"importance_type": "total_gain"})", &n_features, &names, &out_dim, &shape,
                                &scores),
          "importance");
    std::vector<double> gain(p, 0.0);
    for (bst_ulong i = 0; i < n_features; ++i) {
        // Features without names are called f0, f1, ...
        const size_t j = names[i][0] == 'f' ? size_t(std::strtoul(names[i] + 1, nullptr, 10)) : p;
        if (j < p) gain[j] = scores[i];
    }
    return gain;
}

}  // namespace hitdna::learn::xgb
