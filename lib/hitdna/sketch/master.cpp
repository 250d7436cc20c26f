#include "hitdna/sketch/master.hpp"

#include <ebur128.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <memory>
#include <numbers>

#include "hitdna/core/error.hpp"

namespace hitdna::sketch {

namespace {

using Meter = std::unique_ptr<ebur128_state, void (*)(ebur128_state*)>;

Meter meter(const std::vector<float>& x, int rate, int mode) {
    Meter m(ebur128_init(2, unsigned(rate), mode), [](ebur128_state* s) { ebur128_destroy(&s); });
    if (!m || ebur128_add_frames_float(m.get(), x.data(), x.size() / 2) != EBUR128_SUCCESS) throw Error(ErrorKind::internal, "libebur128 failed");
    return m;
}

double width_of(const std::vector<float>& x) {
    double m2 = 0, s2 = 0;
    for (size_t i = 0; i + 1 < x.size(); i += 2) {
        const double m = 0.5 * (x[i] + x[i + 1]), s = 0.5 * (x[i] - x[i + 1]);
        m2 += m * m, s2 += s * s;
    }
    return m2 + s2 > 0 ? s2 / (m2 + s2) : 0;
}

void scale_side(std::vector<float>& x, double k) {
    for (size_t i = 0; i + 1 < x.size(); i += 2) {
        const double m = 0.5 * (x[i] + x[i + 1]), s = 0.5 * (x[i] - x[i + 1]) * k;
        x[i] = float(m + s), x[i + 1] = float(m - s);
    }
}

// The largest absolute value per frame of the signal interpolated at 4x (both channels,
// the frame itself and the three points after it): the inter-sample peaks a plain sample peak
// misses. The interpolator is a windowed sinc (16 taps per phase, Kaiser window, beta 6).
std::vector<float> oversampled_peaks(const std::vector<float>& x, int) {
    constexpr int taps = 16, half = taps / 2;
    float h[3][taps];
    for (int p = 1; p <= 3; ++p)
        for (int k = 0; k < taps; ++k) {
            const double t = double(k - half + 1) - p / 4.0;  // distance from the point p/4 after frame i
            const double sinc = std::sin(std::numbers::pi * t) / (std::numbers::pi * t);
            const double r = t / (half + 0.5), beta = 6.0;
            const double w = std::cyl_bessel_i(0.0, beta * std::sqrt(std::max(0.0, 1 - r * r))) / std::cyl_bessel_i(0.0, beta);
            h[p - 1][k] = float(sinc * w);
        }
    const size_t n = x.size() / 2;
    std::vector<float> peak(n, 0.0f);
    std::vector<float> ch(n + taps, 0.0f);  // one channel, padded by half the filter each side
    constexpr size_t block = 2048;
    float acc[block];
    for (int c = 0; c < 2; ++c) {
        for (size_t i = 0; i < n; ++i) ch[i + half - 1] = x[2 * i + size_t(c)];
        for (size_t i = 0; i < n; ++i) peak[i] = std::max(peak[i], std::abs(ch[i + half - 1]));
        // Block by block, tap by tap: the inner loop vectorizes and stays in cache.
        for (size_t b0 = 0; b0 < n; b0 += block) {
            const size_t len = std::min(block, n - b0);
            for (int p = 0; p < 3; ++p) {
                std::fill(acc, acc + len, 0.0f);
                for (int k = 0; k < taps; ++k) {
                    const float hk = h[p][k];
                    const float* w = ch.data() + b0 + size_t(k);
                    for (size_t i = 0; i < len; ++i) acc[i] += hk * w[i];
                }
                for (size_t i = 0; i < len; ++i) peak[b0 + i] = std::max(peak[b0 + i], std::abs(acc[i]));
            }
        }
    }
    return peak;
}

// A look-ahead limiter on `x` scaled by `gain`, from the unscaled signal's oversampled peaks:
// the gain each frame needs (ceiling / peak), its minimum over the next `look` frames,
// smoothed by a moving average of the same length (so the gain is down by the time the peak
// arrives), released exponentially (80 ms). Returns the share of frames turned down.
double limit(const std::vector<float>& in, std::vector<float>& x, const std::vector<float>& peak, double gain, int rate, double ceiling, double& out_peak) {
    const size_t n = peak.size(), look = std::max<size_t>(1, size_t(0.005 * rate));
    std::vector<double> need(n), lo(n);
    for (size_t i = 0; i < n; ++i) need[i] = peak[i] * gain > ceiling ? ceiling / (peak[i] * gain) : 1.0;
    std::deque<size_t> q;  // indices of a rising sequence of need over [i, i + look]
    for (size_t i = n; i-- > 0;) {
        while (!q.empty() && need[q.back()] >= need[i]) q.pop_back();
        q.push_back(i);
        while (q.front() > i + look) q.pop_front();
        lo[i] = need[q.front()];
    }
    // The mean of lo over [i - look + 1, i] (1 before the start) is at most need[i]: each of
    // those windows holds frame i.
    const double rel = std::exp(-1.0 / (0.08 * rate));
    double sum = double(look), cur = 1;
    size_t turned = 0;
    for (size_t i = 0; i < n; ++i) {
        sum += lo[i] - (i >= look ? lo[i - look] : 1.0);
        cur = std::min(sum / double(look), 1 - (1 - cur) * rel);
        if (cur < 0.9999) ++turned;
        out_peak = std::max(out_peak, double(peak[i]) * gain * cur);
        x[2 * i] = float(in[2 * i] * gain * cur), x[2 * i + 1] = float(in[2 * i + 1] * gain * cur);
    }
    return n ? double(turned) / double(n) : 0;
}

}  // namespace

double integrated_lufs(const std::vector<float>& x, int rate) {
    auto m = meter(x, rate, EBUR128_MODE_I);
    double l = -HUGE_VAL;
    ebur128_loudness_global(m.get(), &l);
    return l;
}

MasterReport master(std::vector<float>& x, int rate, const MasterOptions& o) {
    MasterReport r;
    r.width_before = width_of(x);
    if (o.target_width >= 0 && r.width_before > 0 && r.width_before < 1) {
        const double w = std::clamp(o.target_width, 0.0, 0.9);
        // k^2 S / (M + k^2 S) = w with side and mid energies S / M = wb / (1 - wb).
        r.side_gain = std::clamp(std::sqrt(w * (1 - r.width_before) / ((1 - w) * r.width_before)), 0.0, 4.0);
        scale_side(x, r.side_gain);
    }
    r.width_after = width_of(x);
    r.lufs_before = integrated_lufs(x, rate);
    if (!std::isfinite(r.lufs_before)) return r;  // silence stays silence
    const double ceiling = std::pow(10.0, (o.ceiling_dbtp - 0.3) / 20);  // 0.3 dB margin for the meter's own interpolation
    // Gain, limit, measure; the limiter costs loudness, so the make-up gain is raised by what
    // it cost (three rounds at most), each round on the unlimited signal.
    const std::vector<float> dry = x;
    const auto peaks = oversampled_peaks(dry, rate);  // peaks scale with the gain: found once
    double gain_db = o.target_lufs - r.lufs_before;
    for (int round = 0; round < 3; ++round) {
        double est = 0;
        r.limited_share = limit(dry, x, peaks, std::pow(10.0, gain_db / 20), rate, ceiling, est);
        r.true_peak_dbtp = 20 * std::log10(std::max(est, 1e-12));
        r.lufs_after = integrated_lufs(x, rate);
        r.gain_db = gain_db;
        if (std::abs(r.lufs_after - o.target_lufs) < 0.3) break;
        gain_db += o.target_lufs - r.lufs_after;
    }
    return r;
}

}  // namespace hitdna::sketch
