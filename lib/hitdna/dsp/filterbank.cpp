#include "hitdna/dsp/filterbank.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace hitdna::dsp {
namespace {

// Slaney's mel scale: linear below 1 kHz, logarithmic above.
double hz_to_mel(double hz) {
    constexpr double f_sp = 200.0 / 3.0, min_log_hz = 1000.0, min_log_mel = min_log_hz / f_sp;
    const double logstep = std::log(6.4) / 27.0;
    return hz < min_log_hz ? hz / f_sp : min_log_mel + std::log(hz / min_log_hz) / logstep;
}
double mel_to_hz(double mel) {
    constexpr double f_sp = 200.0 / 3.0, min_log_hz = 1000.0, min_log_mel = min_log_hz / f_sp;
    const double logstep = std::log(6.4) / 27.0;
    return mel < min_log_mel ? mel * f_sp : min_log_hz * std::exp(logstep * (mel - min_log_mel));
}

}  // namespace

std::vector<SparseBand> mel_filters(int n_mels, int n_fft, double sr, double min_hz, double max_hz) {
    std::vector<double> edges(static_cast<size_t>(n_mels + 2));
    const double lo = hz_to_mel(min_hz), hi = hz_to_mel(std::min(max_hz, sr / 2));
    for (int i = 0; i < n_mels + 2; ++i)
        edges[static_cast<size_t>(i)] = mel_to_hz(lo + (hi - lo) * i / (n_mels + 1));
    const int bins = n_fft / 2 + 1;
    const double bin_hz = sr / n_fft;
    std::vector<SparseBand> out(static_cast<size_t>(n_mels));
    for (int m = 0; m < n_mels; ++m) {
        const double f0 = edges[static_cast<size_t>(m)], f1 = edges[static_cast<size_t>(m + 1)],
                     f2 = edges[static_cast<size_t>(m + 2)];
        const double norm = 2.0 / (f2 - f0);
        auto& band = out[static_cast<size_t>(m)];
        int first = -1;
        for (int k = 0; k < bins; ++k) {
            const double f = k * bin_hz;
            double w = 0;
            if (f > f0 && f < f2) w = (f <= f1 ? (f - f0) / (f1 - f0) : (f2 - f) / (f2 - f1));
            if (w <= 0) {
                if (first >= 0) break;
                continue;
            }
            if (first < 0) first = k;
            band.weights.push_back(static_cast<float>(w * norm));
        }
        if (first < 0) {  // narrower than a bin: take the nearest bin
            first = std::clamp(static_cast<int>(std::lround(f1 / bin_hz)), 0, bins - 1);
            band.weights.push_back(static_cast<float>(norm * bin_hz));
        }
        band.first_bin = first;
    }
    return out;
}

void apply_bands(const std::vector<SparseBand>& bands, const float* power, float* out) {
    for (size_t b = 0; b < bands.size(); ++b) {
        const auto& band = bands[b];
        const float* p = power + band.first_bin;
        float acc = 0;
        for (size_t i = 0; i < band.weights.size(); ++i) acc += band.weights[i] * p[i];
        out[b] = acc;
    }
}

ChromaMap chroma_map(int n_fft, double sr, double min_hz, double max_hz, double tuning_cents) {
    ChromaMap map;
    const double a4 = 440.0 * std::pow(2.0, tuning_cents / 1200.0);
    const double bin_hz = sr / n_fft;
    const int bins = n_fft / 2 + 1;
    for (int k = 1; k < bins; ++k) {
        const double f = k * bin_hz;
        if (f < min_hz || f > max_hz) continue;
        // Skip bins wider than a semitone: they smear across pitch classes.
        const double semitone_hz = f * (std::pow(2.0, 1.0 / 12.0) - 1.0);
        if (bin_hz > 1.5 * semitone_hz) continue;
        const double midi = 69.0 + 12.0 * std::log2(f / a4);
        const double lower = std::floor(midi);
        const double frac = midi - lower;
        const int pc_lo = ((static_cast<int>(lower) % 12) + 12) % 12;
        const int pc_hi = (pc_lo + 1) % 12;
        // Cosine-shaped split between the two nearest semitones.
        const double w_lo = std::cos(frac * std::numbers::pi / 2.0);
        const double w_hi = std::sin(frac * std::numbers::pi / 2.0);
        map.bin.push_back(k);
        map.pitch_class.push_back(pc_lo);
        map.weight.push_back(static_cast<float>(w_lo * w_lo));
        map.bin.push_back(k);
        map.pitch_class.push_back(pc_hi);
        map.weight.push_back(static_cast<float>(w_hi * w_hi));
    }
    return map;
}

void apply_chroma(const ChromaMap& map, const float* power, float* chroma12) {
    std::fill(chroma12, chroma12 + 12, 0.0f);
    for (size_t i = 0; i < map.bin.size(); ++i)
        chroma12[map.pitch_class[i]] += map.weight[i] * power[map.bin[i]];
}

SemitoneMap semitone_map(int n_fft, double sr, double max_hz) {
    SemitoneMap map;
    auto midi_of = [](double hz) { return 69.0 + 12.0 * std::log2(hz / 440.0); };
    map.n_rows = int(std::floor(midi_of(std::min(max_hz, 0.45 * sr)))) - SemitoneMap::k_lowest_midi + 1;
    const double bin_hz = sr / n_fft;
    for (int k = 1; k <= n_fft / 2; ++k) {
        const double m = midi_of(k * bin_hz) - SemitoneMap::k_lowest_midi;
        if (m < -0.5 || m > map.n_rows - 0.5) continue;
        const double lower = std::floor(m), frac = m - lower;
        const double w_lo = std::cos(frac * std::numbers::pi / 2.0), w_hi = std::sin(frac * std::numbers::pi / 2.0);
        if (lower >= 0) {
            map.bin.push_back(k);
            map.row.push_back(int(lower));
            map.weight.push_back(static_cast<float>(w_lo * w_lo));
        }
        if (lower + 1 < map.n_rows) {
            map.bin.push_back(k);
            map.row.push_back(int(lower) + 1);
            map.weight.push_back(static_cast<float>(w_hi * w_hi));
        }
    }
    return map;
}

void apply_whitened_chroma(const SemitoneMap& map, const float* power, float* chroma12) {
    std::fill(chroma12, chroma12 + 12, 0.0f);
    std::vector<double> amp(size_t(map.n_rows), 0.0);
    for (size_t i = 0; i < map.bin.size(); ++i) amp[size_t(map.row[i])] += double(map.weight[i]) * power[map.bin[i]];
    double total = 0;
    for (auto& v : amp) total += (v = std::sqrt(v));
    std::array<double, 12> pc{};
    double white_total = 0;
    const int top = std::min(map.n_rows, SemitoneMap::k_highest_midi - SemitoneMap::k_lowest_midi + 1);
    for (int r = 0; r < top; ++r) {
        const int a = std::max(0, r - 6), b = std::min(map.n_rows - 1, r + 6);
        double mean = 0;
        for (int q = a; q <= b; ++q) mean += amp[size_t(q)];
        mean /= (b - a + 1);
        if (amp[size_t(r)] <= mean) continue;
        const double w = amp[size_t(r)] - mean;
        pc[size_t((SemitoneMap::k_lowest_midi + r) % 12)] += w;
        white_total += w;
    }
    if (white_total <= 0) return;
    for (int k = 0; k < 12; ++k) {
        const double v = pc[size_t(k)] * total / white_total;
        chroma12[k] = static_cast<float>(v * v);
    }
}

std::vector<float> dct_matrix(int n_in, int n_out) {
    std::vector<float> m(static_cast<size_t>(n_in * n_out));
    for (int k = 0; k < n_out; ++k) {
        const double scale = k == 0 ? std::sqrt(1.0 / n_in) : std::sqrt(2.0 / n_in);
        for (int n = 0; n < n_in; ++n)
            m[static_cast<size_t>(k * n_in + n)] =
                static_cast<float>(scale * std::cos(std::numbers::pi * k * (2 * n + 1) / (2.0 * n_in)));
    }
    return m;
}

std::vector<SparseBand> fixed_bands(int n_fft, double sr) {
    std::vector<SparseBand> out(k_num_bands);
    const double bin_hz = sr / n_fft;
    const int bins = n_fft / 2 + 1;
    for (int b = 0; b < k_num_bands; ++b) {
        const double lo = k_band_edges_hz[static_cast<size_t>(b)], hi = k_band_edges_hz[static_cast<size_t>(b + 1)];
        int k0 = std::max(1, static_cast<int>(std::ceil(lo / bin_hz)));
        int k1 = std::min(bins - 1, static_cast<int>(std::floor(hi / bin_hz)));
        if (k1 < k0) k1 = k0;
        out[static_cast<size_t>(b)].first_bin = k0;
        out[static_cast<size_t>(b)].weights.assign(static_cast<size_t>(k1 - k0 + 1), 1.0f);
    }
    return out;
}

}  // namespace hitdna::dsp
