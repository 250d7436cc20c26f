#pragma once
// Small numeric helpers shared by the layer summaries.
#include <algorithm>
#include <cmath>
#include <vector>

namespace hitdna::analysis {

inline double clamp01(double v) { return std::clamp(v, 0.0, 1.0); }

// Rounds to a decimal step so that JSON prints 19.923, not 19.923000000000002.
inline double round_to(double v, double step) {
    const double inv = std::round(1.0 / step);
    return std::round(v * inv) / inv;
}

// Centred moving average over +-half values.
inline std::vector<float> smooth(const std::vector<float>& v, int half) {
    std::vector<float> out(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
        size_t lo = i >= size_t(half) ? i - size_t(half) : 0, hi = std::min(v.size(), i + size_t(half) + 1);
        double s = 0;
        for (size_t k = lo; k < hi; ++k) s += v[k];
        out[i] = float(s / double(hi - lo));
    }
    return out;
}

// The q-quantile (0..1) of v, 0 for an empty vector.
inline double percentile(std::vector<float> v, double q) {
    if (v.empty()) return 0;
    size_t k = size_t(std::clamp(q, 0.0, 1.0) * double(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + long(k), v.end());
    return v[k];
}

}  // namespace hitdna::analysis
