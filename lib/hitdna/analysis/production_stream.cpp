#include "hitdna/analysis/production_stream.hpp"

#include <ebur128.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

#include "hitdna/core/error.hpp"

namespace hitdna::analysis {
namespace {

double to_db(double power) { return 10.0 * std::log10(std::max(power, 1e-12)); }

// RBJ low-pass biquad, direct form I.
struct Biquad {
    double b0 = 1, b1 = 0, b2 = 0, a1 = 0, a2 = 0;
    double x1 = 0, x2 = 0, y1 = 0, y2 = 0;
    static Biquad lowpass(double fc, double fs) {
        Biquad q;
        const double w0 = 2 * std::numbers::pi * fc / fs, alpha = std::sin(w0) / (2 * std::sqrt(0.5));
        const double a0 = 1 + alpha, c = std::cos(w0);
        q.b0 = (1 - c) / 2 / a0;
        q.b1 = (1 - c) / a0;
        q.b2 = (1 - c) / 2 / a0;
        q.a1 = -2 * c / a0;
        q.a2 = (1 - alpha) / a0;
        return q;
    }
    double step(double x) {
        double y = b0 * x + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
        x2 = x1;
        x1 = x;
        y2 = y1;
        y1 = y;
        return y;
    }
};

}  // namespace

struct ProductionStream::Impl {
    int rate, channels;
    double hop_s;
    size_t hop_frames;
    ebur128_state* st = nullptr;
    int k_decimate = 32;  // set per rate: the low-band filter runs near 1.4 kHz
    Biquad lp_l, lp_r;
    float dec_l = 0, dec_r = 0;
    int dec_n = 0;
    // Accumulators for the current hop.
    size_t in_hop = 0;
    double sum_sq = 0, e_mid = 0, e_side = 0, e_ll = 0, e_rr = 0, e_lr = 0, le_mid = 0, le_side = 0;
    long long total_frames = 0;
    double total_sq_acc = 0;
    ProductionRaw out;

    Impl(int r, int c, double h) : rate(r), channels(c), hop_s(h) {
        hop_frames = static_cast<size_t>(std::max(1.0, std::round(h * r)));
        st = ebur128_init(static_cast<unsigned>(c), static_cast<unsigned long>(r),
                          EBUR128_MODE_I | EBUR128_MODE_LRA | EBUR128_MODE_S);
        if (!st) throw Error(ErrorKind::internal, "libebur128: cannot initialise");
        ebur128_set_max_window(st, static_cast<unsigned long>(std::lround(h * 1000)));
        if (c == 1) ebur128_set_channel(st, 0, EBUR128_CENTER);
        k_decimate = std::max(1, r / 1400);
        lp_l = Biquad::lowpass(120.0, double(r) / k_decimate);
        lp_r = Biquad::lowpass(120.0, double(r) / k_decimate);
        out.hop_s = h;
        out.stereo = c >= 2;
    }
    ~Impl() { ebur128_destroy(&st); }

    void close_hop() {
        const double n = static_cast<double>(in_hop) * channels;
        out.rms_db.push_back(static_cast<float>(to_db(sum_sq / std::max(1.0, n))));
        // The loudness of exactly this hop (libebur128 sums its buffer over the window, so a
        // 3 s short-term query per hop would read every sample three more times).
        // Never reach back before the start of the file (a first hop shorter than hop_s).
        const double pushed_ms = 1000.0 * double(total_frames) / rate;
        const auto window_ms = static_cast<unsigned long>(std::max(1.0, std::min(hop_s * 1000, std::floor(pushed_ms))));
        double lufs = -70;
        if (ebur128_loudness_window(st, window_ms, &lufs) != EBUR128_SUCCESS || !std::isfinite(lufs)) lufs = -70;
        out.loudness_lufs.push_back(static_cast<float>(std::max(lufs, -70.0)));
        if (channels >= 2) {
            const double denom = e_mid + e_side;
            out.width.push_back(denom > 1e-12 ? static_cast<float>(e_side / denom) : 0.0f);
            const double cd = std::sqrt(e_ll * e_rr);
            out.correlation.push_back(cd > 1e-12 ? static_cast<float>(e_lr / cd) : 1.0f);
            const double ld = le_mid + le_side;
            out.low_width.push_back(ld > 1e-12 ? static_cast<float>(le_side / ld) : 0.0f);
        } else {
            out.width.push_back(0);
            out.correlation.push_back(1);
            out.low_width.push_back(0);
        }
        in_hop = 0;
        sum_sq = e_mid = e_side = e_ll = e_rr = e_lr = le_mid = le_side = 0;
    }

    void push(const float* x, size_t frames) {
        size_t done = 0;
        while (done < frames) {
            size_t n = std::min(frames - done, hop_frames - in_hop);
            const float* p = x + done * static_cast<size_t>(channels);
            ebur128_add_frames_float(st, p, n);
            // Energies of L, R and L*R (mid and side follow from them), in 8 float lanes so
            // that the compiler vectorizes; double across blocks.
            constexpr int k_lanes = 8;
            float ll_[k_lanes] = {}, rr_[k_lanes] = {}, lr_[k_lanes] = {};
            double ell = 0, err = 0, elr = 0, lem = 0, les = 0;
            if (channels == 1) {
                size_t i = 0;
                for (; i + k_lanes <= n; i += k_lanes)
                    for (int k = 0; k < k_lanes; ++k) ll_[k] += p[i + size_t(k)] * p[i + size_t(k)];
                for (; i < n; ++i) ll_[0] += p[i] * p[i];
                for (int k = 0; k < k_lanes; ++k) ell += ll_[k];
                sum_sq += ell;
            } else {
                size_t i = 0;
                for (; i + k_lanes <= n; i += k_lanes)
                    for (int k = 0; k < k_lanes; ++k) {
                        const float l = p[2 * (i + size_t(k))], r = p[2 * (i + size_t(k)) + 1];
                        ll_[k] += l * l;
                        rr_[k] += r * r;
                        lr_[k] += l * r;
                    }
                for (; i < n; ++i) {
                    const float l = p[2 * i], r = p[2 * i + 1];
                    ll_[0] += l * l;
                    rr_[0] += r * r;
                    lr_[0] += l * r;
                }
                for (int k = 0; k < k_lanes; ++k) {
                    ell += ll_[k];
                    err += rr_[k];
                    elr += lr_[k];
                }
                // Low-band width on a boxcar-decimated signal (~1.4 kHz): the 120 Hz low-pass
                // then runs once per k_decimate samples.
                for (size_t k = 0; k < n; ++k) {
                    dec_l += p[2 * k];
                    dec_r += p[2 * k + 1];
                    if (++dec_n == k_decimate) {
                        const double lo_l = lp_l.step(dec_l / float(k_decimate)), lo_r = lp_r.step(dec_r / float(k_decimate));
                        const double lm = 0.5 * (lo_l + lo_r), ls = 0.5 * (lo_l - lo_r);
                        lem += lm * lm;
                        les += ls * ls;
                        dec_l = dec_r = 0;
                        dec_n = 0;
                    }
                }
                sum_sq += ell + err;
                e_mid += 0.25 * (ell + err + 2 * elr);
                e_side += 0.25 * std::max(0.0, ell + err - 2 * elr);
                e_ll += ell;
                e_rr += err;
                e_lr += elr;
                le_mid += lem;
                le_side += les;
            }
            in_hop += n;
            done += n;
            total_frames += static_cast<long long>(n);
            if (in_hop == hop_frames) {
                total_sq_acc += sum_sq;
                close_hop();
            }
        }
    }
    ProductionRaw finish() {
        if (in_hop > 0) {
            total_sq_acc += sum_sq;
            close_hop();
        }
        double v = -70;
        if (ebur128_loudness_global(st, &v) == EBUR128_SUCCESS && std::isfinite(v)) out.integrated_lufs = std::max(v, -70.0);
        if (ebur128_loudness_range(st, &v) == EBUR128_SUCCESS && std::isfinite(v)) out.loudness_range_lu = v;
        out.rms_dbfs = to_db(total_sq_acc / std::max(1.0, double(total_frames) * channels));
        return std::move(out);
    }
};

ProductionStream::ProductionStream(int sample_rate_hz, int channels, double hop_s) {
    if (sample_rate_hz < 8000 || sample_rate_hz > 192000)
        throw Error(ErrorKind::usage, "ProductionStream: sample_rate_hz " + std::to_string(sample_rate_hz) + " outside 8000..192000");
    if (channels < 1 || channels > 2)
        throw Error(ErrorKind::usage, "ProductionStream: channels " + std::to_string(channels) + " outside 1..2 (fold multichannel down first)");
    if (!(hop_s >= 0.1 && hop_s <= 10))
        throw Error(ErrorKind::usage, "ProductionStream: hop_s outside 0.1..10");
    m_impl = std::make_unique<Impl>(sample_rate_hz, channels, hop_s);
}
ProductionStream::~ProductionStream() = default;
void ProductionStream::push(const float* interleaved, size_t frames) { m_impl->push(interleaved, frames); }
ProductionRaw ProductionStream::finish() { return m_impl->finish(); }

}  // namespace hitdna::analysis
