#include "hitdna/sketch/master.hpp"

#include <ebur128.h>

#include <algorithm>
#include <cmath>
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

// One block of one phase of the interpolator: acc[i] = sum over k of h[k] * w[i + k], taps in
// order. Compiled twice, for AVX2 and the x86-64 baseline, with the same operations in the same
// order per value (no fused multiply-add), so both give the same floats.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("avx2", "default")))
#endif
void fir_block(const float* h, int taps, const float* w, size_t len, float* acc) {
    std::fill(acc, acc + len, 0.0f);
    for (int k = 0; k < taps; ++k) {
        const float hk = h[k];
        const float* wk = w + k;
        for (size_t i = 0; i < len; ++i) acc[i] += hk * wk[i];
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
    // Block by block, tap by tap: the inner loop vectorizes and stays in cache. A block of one
    // channel is copied out with the filter's reach on each side (zeros beyond the signal).
    constexpr size_t block = 2048;
    float ch[block + taps];
    float acc[block];
    for (int c = 0; c < 2; ++c)
        for (size_t b0 = 0; b0 < n; b0 += block) {
            const size_t len = std::min(block, n - b0);
            for (size_t j = 0; j < len + taps; ++j) {
                // ch[j] holds frame b0 + j - (half - 1).
                const long f = long(b0 + j) - (half - 1);
                ch[j] = f >= 0 && size_t(f) < n ? x[2 * size_t(f) + size_t(c)] : 0.0f;
            }
            for (size_t i = 0; i < len; ++i) peak[b0 + i] = std::max(peak[b0 + i], std::abs(ch[i + half - 1]));
            for (int p = 0; p < 3; ++p) {
                fir_block(h[p], taps, ch, len, acc);
                for (size_t i = 0; i < len; ++i) peak[b0 + i] = std::max(peak[b0 + i], std::abs(acc[i]));
            }
        }
    return peak;
}

// A look-ahead limiter's gain, frame by frame: the gain each frame needs (need(i) <= 1), its
// minimum over the next `look` frames, smoothed by a moving average of the same length (so the
// gain is down by the time the peak arrives; before the start the average holds the first
// minimum), released exponentially (`rel` per frame). emit(i, gain) in frame order. Streams:
// memory is O(look), not O(n).
template <class Need, class Emit>
void gain_curve(size_t n, size_t look, double rel, Need need, Emit emit) {
    // A rising sequence of need over the window, in a circular buffer (it never holds more
    // than the window's look + 1 frames and the one just pushed): indices head..tail-1 modulo cap.
    // Indices step with a compare, not `%`: a division per frame was about a tenth of the master's time.
    const size_t cap = look + 3;
    auto prev = [cap](size_t k) { return k == 0 ? cap - 1 : k - 1; };
    auto next = [cap](size_t k) { return k + 1 == cap ? 0 : k + 1; };
    std::vector<size_t> qi(cap);
    std::vector<double> qv(cap);
    size_t head = 0, tail = 0;
    std::vector<double> ring(look, 1.0);  // the last `look` minimums, the oldest at `at`
    size_t at = 0;
    double sum = 0, cur = 1;
    for (size_t j = 0; j < n + look; ++j) {
        if (j < n) {
            const double v = need(j);
            while (tail != head && qv[prev(tail)] >= v) tail = prev(tail);
            qi[tail] = j, qv[tail] = v, tail = next(tail);
        }
        if (j < look) continue;
        const size_t i = j - look;  // the window [i, i + look] is complete
        while (qi[head] < i) head = next(head);
        const double lo = qv[head];
        if (i == 0) std::fill(ring.begin(), ring.end(), lo), sum = lo * double(look), cur = lo;
        // The mean of the minimums over [i - look + 1, i] is at most need(i): each of those
        // windows holds frame i.
        sum += lo - ring[at];
        ring[at] = lo;
        at = at + 1 == look ? 0 : at + 1;
        cur = std::min(sum / double(look), 1 - (1 - cur) * rel);
        emit(i, cur);
    }
}

// A look-ahead limiter on `x` scaled by `gain`, from the unscaled signal's oversampled peaks
// (gain_curve: 5 ms look-ahead, 80 ms release). Returns the share of frames turned down.
double limit(const std::vector<float>& in, std::vector<float>& x, const std::vector<float>& peak, double gain, int rate, double ceiling, double& out_peak) {
    const size_t n = peak.size(), look = std::max<size_t>(1, size_t(0.005 * rate));
    size_t turned = 0;
    gain_curve(
        n, look, std::exp(-1.0 / (0.08 * rate)),
        [&](size_t i) {
            const double p = peak[i] * gain;
            return p > ceiling ? ceiling / p : 1.0;
        },
        [&](size_t i, double g) {
            if (g < 0.9999) ++turned;
            out_peak = std::max(out_peak, double(peak[i]) * gain * g);
            x[2 * i] = float(in[2 * i] * gain * g), x[2 * i + 1] = float(in[2 * i + 1] * gain * g);
        });
    return n ? double(turned) / double(n) : 0;
}

// What the limiter will cost, predicted without running it at full resolution: the signal in
// cells of k_cell frames (their peak and energy), the dry signal's BS.1770 gating blocks
// (400 ms every 100 ms, K-weighted, read from libebur128's momentary loudness), and the
// limiter's gain curve on the cells. A block's K-weighted energy under a slowly varying gain g
// is taken as its dry energy times the cells' energy-weighted mean of g^2.
struct Prediction {
    static constexpr size_t k_cell = 32;
    std::vector<float> cell_peak;
    std::vector<double> cell_energy;
    std::vector<double> block_energy;  // dry K-weighted mean square of each gating block
    size_t block_cells = 0, hop_cells = 0;
    double rate = 0;
    double dry_lufs = -HUGE_VAL;  // the dry signal's integrated loudness (libebur128), LUFS

    Prediction(const std::vector<float>& x, const std::vector<float>& peak, int sample_rate) : rate(sample_rate) {
        const size_t n = peak.size(), cells = (n + k_cell - 1) / k_cell;
        cell_peak.assign(cells, 0.0f);
        cell_energy.assign(cells, 0.0);
        for (size_t i = 0; i < n; ++i) {
            cell_peak[i / k_cell] = std::max(cell_peak[i / k_cell], peak[i]);
            cell_energy[i / k_cell] += double(x[2 * i]) * x[2 * i] + double(x[2 * i + 1]) * x[2 * i + 1];
        }
        const size_t hop = size_t(std::lround(0.1 * sample_rate));
        hop_cells = std::max<size_t>(1, hop / k_cell);
        block_cells = 4 * hop_cells;
        Meter m(ebur128_init(2, unsigned(sample_rate), EBUR128_MODE_M | EBUR128_MODE_I), [](ebur128_state* st) { ebur128_destroy(&st); });
        if (!m) throw Error(ErrorKind::internal, "libebur128 failed");
        size_t at = 0;
        for (size_t k = 0; at + hop <= n; at += hop, ++k) {
            if (ebur128_add_frames_float(m.get(), x.data() + 2 * at, hop) != EBUR128_SUCCESS) throw Error(ErrorKind::internal, "libebur128 failed");
            double l = -HUGE_VAL;
            ebur128_loudness_momentary(m.get(), &l);
            if (k >= 3) block_energy.push_back(std::isfinite(l) ? std::pow(10.0, (l + 0.691) / 10) : 0.0);  // whole 400 ms blocks only
        }
        if (at < n && ebur128_add_frames_float(m.get(), x.data() + 2 * at, n - at) != EBUR128_SUCCESS) throw Error(ErrorKind::internal, "libebur128 failed");
        ebur128_loudness_global(m.get(), &dry_lufs);
    }

    // Integrated loudness (LUFS) after the gain and the limiter (the same look-ahead and release
    // as limit(), on cells), through BS.1770's gates: -70 LUFS absolute, -10 LU relative.
    double lufs(double gain, double ceiling) const {
        const size_t n = cell_peak.size();
        const size_t look = std::max<size_t>(1, size_t(0.005 * rate / k_cell + 0.5));
        std::vector<double> g2(n);
        gain_curve(
            n, look, std::exp(-double(k_cell) / (0.08 * rate)),
            [&](size_t i) {
                const double p = cell_peak[i] * gain;
                return p > ceiling ? ceiling / p : 1.0;
            },
            [&](size_t i, double g) { g2[i] = g * g; });
        std::vector<double> z;
        for (size_t b = 0; b < block_energy.size(); ++b) {
            const size_t from = b * hop_cells, to = std::min(n, from + block_cells);
            double e = 0, eg = 0;
            for (size_t i = from; i < to; ++i) e += cell_energy[i], eg += cell_energy[i] * g2[i];
            z.push_back(block_energy[b] * gain * gain * (e > 0 ? eg / e : 1.0));
        }
        auto gated_mean = [&](double floor) {
            double s = 0;
            size_t k = 0;
            for (double v : z)
                if (v > floor) s += v, ++k;
            return k ? s / double(k) : 0.0;
        };
        const double abs_floor = std::pow(10.0, (-70 + 0.691) / 10);
        const double rel_floor = gated_mean(abs_floor) * 0.1;
        const double mean = gated_mean(std::max(abs_floor, rel_floor));
        return mean > 0 ? -0.691 + 10 * std::log10(mean) : -HUGE_VAL;
    }
};

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
    const double ceiling = std::pow(10.0, (o.ceiling_dbtp - 0.3) / 20);  // 0.3 dB margin for the meter's own interpolation
    const std::vector<float> dry = x;
    const auto peaks = oversampled_peaks(dry, rate);  // peaks scale with the gain: found once
    // The make-up gain that reaches the target once the limiter has taken its share, found on
    // the prediction (cheap) between the gain without limiting and the cap (the limiter takes
    // at most max_limit_db off the loudest peak: beyond that it flattens the energy arc, the
    // sections' loudness differences, it should keep; a target that needs more is left
    // quieter, and the report says so). Then the limiter runs once at full resolution and
    // libebur128 measures; a miss of 0.3 LU or more corrects the gain (two more rounds at most).
    const Prediction pred(dry, peaks, rate);
    r.lufs_before = pred.dry_lufs;
    if (!std::isfinite(r.lufs_before)) return r;  // silence stays silence
    auto db = [](double g) { return std::pow(10.0, g / 20); };
    float top = 0;
    for (float v : peaks) top = std::max(top, v);
    const double most_db = 20 * std::log10(ceiling / std::max(top, 1e-9f)) + o.max_limit_db;
    const double plain = o.target_lufs - r.lufs_before;
    auto err = [&](double g) { return pred.lufs(db(g), ceiling) - o.target_lufs; };
    double gain_db = std::min(plain, most_db);
    r.gain_capped = plain > most_db;
    if (plain < most_db) {
        // Regula falsi (Illinois) on [plain, most_db]: the limiter only takes loudness away, so
        // the error is <= 0 at plain; when it is still < 0 at the cap, the cap it is.
        double a = plain, ea = err(a), b = most_db, eb = err(b);
        if (ea >= -0.02) {
            gain_db = a;
        } else if (eb < 0) {
            gain_db = b, r.gain_capped = true;
        } else {
            for (int i = 0, side = 0; i < 20; ++i) {
                const double c = b - eb * (b - a) / (eb - ea), ec = err(c);
                gain_db = c;
                if (std::abs(ec) <= 0.02) break;
                if (ec < 0) {
                    a = c, ea = ec;
                    if (side == -1) eb /= 2;
                    side = -1;
                } else {
                    b = c, eb = ec;
                    if (side == 1) ea /= 2;
                    side = 1;
                }
            }
        }
    }
    for (int round = 0; round < 3; ++round) {
        double est = 0;
        r.limited_share = limit(dry, x, peaks, db(gain_db), rate, ceiling, est);
        r.true_peak_dbtp = 20 * std::log10(std::max(est, 1e-12));
        r.lufs_after = integrated_lufs(x, rate);
        r.gain_db = gain_db;
        if (std::abs(r.lufs_after - o.target_lufs) < 0.3) break;
        const double next = std::min(gain_db + o.target_lufs - r.lufs_after, most_db);
        if (next < gain_db + o.target_lufs - r.lufs_after) r.gain_capped = true;
        if (std::abs(next - gain_db) < 0.05) break;  // held at the cap
        gain_db = next;
    }
    return r;
}

}  // namespace hitdna::sketch
