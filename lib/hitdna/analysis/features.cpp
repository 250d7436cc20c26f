#include "hitdna/analysis/features.hpp"

#include <algorithm>
#include <cmath>

#include "hitdna/dsp/fft.hpp"

namespace hitdna::analysis {

struct FeatureExtractor::Impl {
    dsp::RealFft fft{k_n_fft};
    dsp::RealFft chroma_fft{k_chroma_n_fft};
    std::vector<float> window = dsp::hann(k_n_fft);
    std::vector<float> chroma_window = dsp::hann(k_chroma_n_fft);
    std::vector<dsp::SparseBand> mels = dsp::mel_filters(k_n_mels, k_n_fft, k_analysis_rate_hz, 30.0, 11000.0);
    std::vector<dsp::SparseBand> bands = dsp::fixed_bands(k_n_fft, k_analysis_rate_hz);
    dsp::ChromaMap chroma_map = dsp::chroma_map(k_chroma_n_fft, k_analysis_rate_hz, 65.0, 2100.0);
    dsp::ChromaMap bass_map = dsp::chroma_map(k_chroma_n_fft, k_analysis_rate_hz, k_bass_chroma_min_hz, k_bass_chroma_max_hz);
    dsp::SemitoneMap semitones = dsp::semitone_map(k_chroma_n_fft, k_analysis_rate_hz);
    std::vector<float> dct = dsp::dct_matrix(k_n_mels, k_n_mfcc);
    float power_scale = 0;
    float chroma_power_scale = 0;

    // Sliding sample buffer; buf[0] is absolute sample index buf_start (may be negative: padding).
    std::vector<float> buf;
    long long buf_start = -k_chroma_n_fft / 2;
    long long total = 0;  // samples pushed
    long long next_frame = 0, next_chroma = 0;

    std::vector<float> frame, spec, mel, prev_mel_db, mel_db;
    std::vector<float> cframe, cspec;
    bool have_prev = false;
    FrameFeatures out;

    Impl() {
        buf.assign(static_cast<size_t>(k_chroma_n_fft / 2), 0.0f);
        frame.resize(k_n_fft);
        spec.resize(k_n_fft / 2 + 1);
        mel.resize(k_n_mels);
        mel_db.resize(k_n_mels);
        prev_mel_db.resize(k_n_mels);
        cframe.resize(k_chroma_n_fft);
        cspec.resize(k_chroma_n_fft / 2 + 1);
        // Scale so that a full-scale sine has power 0.25 in its peak bin (-6 dB).
        double s = 0, cs = 0;
        for (float w : window) s += w;
        for (float w : chroma_window) cs += w;
        power_scale = static_cast<float>(1.0 / (s * s));
        chroma_power_scale = static_cast<float>(1.0 / (cs * cs));
    }

    // Copies samples [start, start + n) times the window; zero outside what was pushed.
    void gather(long long start, int n, const std::vector<float>& win, std::vector<float>& dst) const {
        const long long lo = std::max(start, std::max(buf_start, 0LL));
        const long long hi = std::max(lo, std::min(start + n, total));
        // Zero only what lies outside the pushed samples (the edges of the file).
        std::fill(dst.begin(), dst.begin() + long(lo - start), 0.0f);
        std::fill(dst.begin() + long(hi - start), dst.end(), 0.0f);
        const float* src = buf.data() + (lo - buf_start);
        for (long long t = lo; t < hi; ++t, ++src) {
            const size_t i = size_t(t - start);
            dst[i] = *src * win[i];
        }
    }

    void main_frame(long long centre) {
        gather(centre - k_n_fft / 2, k_n_fft, window, frame);
        fft.power(frame.data(), spec.data());
        // Frame RMS from the spectrum (Parseval), relative to the Hann-windowed full scale.
        double energy = 0;
        for (auto& p : spec) {
            p *= power_scale;
            energy += p;
        }
        out.rms.push_back(static_cast<float>(std::sqrt(2.0 * energy)));

        dsp::apply_bands(mels, spec.data(), mel.data());
        float flux = 0;
        for (int m = 0; m < k_n_mels; ++m) {
            mel_db[size_t(m)] = 10.0f * std::log10(std::max(mel[size_t(m)], 1e-10f));
            // Floor at -80 dB: flux from near-silence noise does not count.
            mel_db[size_t(m)] = std::max(mel_db[size_t(m)], -80.0f);
            if (have_prev) flux += std::max(0.0f, mel_db[size_t(m)] - prev_mel_db[size_t(m)]);
        }
        out.onset.push_back(flux / k_n_mels);
        std::swap(mel_db, prev_mel_db);
        have_prev = true;

        for (int k = 0; k < k_n_mfcc; ++k) {
            float acc = 0;
            const float* row = dct.data() + k * k_n_mels;
            for (int m = 0; m < k_n_mels; ++m) acc += row[m] * prev_mel_db[size_t(m)];
            out.mfcc.push_back(acc);
        }
        float b[dsp::k_num_bands];
        dsp::apply_bands(bands, spec.data(), b);
        out.bands.insert(out.bands.end(), b, b + dsp::k_num_bands);

        double num = 0, den = 0;
        const double bin_hz = k_analysis_rate_hz / k_n_fft;
        for (size_t k = 1; k < spec.size(); ++k) {
            num += k * bin_hz * spec[k];
            den += spec[k];
        }
        out.centroid_hz.push_back(den > 1e-12 ? static_cast<float>(num / den) : 0.0f);
    }

    void chroma_frame(long long centre) {
        gather(centre - k_chroma_n_fft / 2, k_chroma_n_fft, chroma_window, cframe);
        chroma_fft.power(cframe.data(), cspec.data());
        for (auto& p : cspec) p *= chroma_power_scale;
        float c[12];
        dsp::apply_chroma(chroma_map, cspec.data(), c);
        out.chroma.insert(out.chroma.end(), c, c + 12);
        dsp::apply_chroma(bass_map, cspec.data(), c);
        out.bass_chroma.insert(out.bass_chroma.end(), c, c + 12);
        dsp::apply_whitened_chroma(semitones, cspec.data(), c);
        out.harmony_chroma.insert(out.harmony_chroma.end(), c, c + 12);

        // Strongest partial between 100 and 1000 Hz, refined by parabolic interpolation.
        const double bin_hz = k_analysis_rate_hz / k_chroma_n_fft;
        const int k_lo = int(100 / bin_hz), k_hi = int(1000 / bin_hz), k_top = int(2000 / bin_hz);
        int best = -1;
        float best_p = 0;
        double total_p = 0;
        for (int k = k_lo; k <= k_top; ++k) {
            total_p += cspec[size_t(k)];
            if (k <= k_hi && cspec[size_t(k)] > best_p && cspec[size_t(k)] >= cspec[size_t(k - 1)] && cspec[size_t(k)] >= cspec[size_t(k + 1)]) {
                best_p = cspec[size_t(k)];
                best = k;
            }
        }
        if (best > 0 && total_p > 1e-9) {
            double a = std::log(cspec[size_t(best - 1)] + 1e-20), bb = std::log(cspec[size_t(best)] + 1e-20),
                   cc = std::log(cspec[size_t(best + 1)] + 1e-20);
            double denom = a - 2 * bb + cc;
            double delta = std::abs(denom) > 1e-12 ? 0.5 * (a - cc) / denom : 0.0;
            delta = std::clamp(delta, -0.5, 0.5);
            out.pitch_hz.push_back(static_cast<float>((best + delta) * bin_hz));
            double peak_p = cspec[size_t(best - 1)] + cspec[size_t(best)] + cspec[size_t(best + 1)];
            out.pitch_salience.push_back(static_cast<float>(std::min(1.0, peak_p / total_p)));
        } else {
            out.pitch_hz.push_back(0);
            out.pitch_salience.push_back(0);
        }
    }

    void process(bool final_flush) {
        // Frame i is centred at i * hop and needs samples up to centre + n_fft / 2.
        auto ready = [&](long long centre, int n) { return centre + n / 2 <= total || (final_flush && centre < total); };
        while (ready(next_frame * k_hop, k_n_fft)) main_frame(next_frame++ * k_hop);
        while (ready(next_chroma * k_chroma_hop, k_chroma_n_fft)) chroma_frame(next_chroma++ * k_chroma_hop);
        // Drop samples no pending frame needs.
        long long keep_from = std::min(next_frame * k_hop - k_n_fft / 2, next_chroma * k_chroma_hop - k_chroma_n_fft / 2);
        long long drop = keep_from - buf_start;
        if (drop > 65536) {
            buf.erase(buf.begin(), buf.begin() + static_cast<long>(drop));
            buf_start += drop;
        }
    }
};

FeatureExtractor::FeatureExtractor() : m_impl(std::make_unique<Impl>()) {}
FeatureExtractor::~FeatureExtractor() = default;

void FeatureExtractor::push(const float* mono, size_t n) {
    m_impl->buf.insert(m_impl->buf.end(), mono, mono + n);
    m_impl->total += static_cast<long long>(n);
    m_impl->process(false);
}

FrameFeatures FeatureExtractor::finish() {
    m_impl->process(true);
    return std::move(m_impl->out);
}

}  // namespace hitdna::analysis
