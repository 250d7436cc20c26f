#include "hitdna/analysis/production.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>

#include "hitdna/analysis/numeric.hpp"

namespace hitdna::analysis {
namespace {

// Shares of the song's power in the sub band, the low end (sub + bass) and the top band.
void fill_spectral_balance(dna::ProductionLayer& p, const FrameFeatures& ff, bool silent) {
    std::array<double, dsp::k_num_bands> band_total{};
    const size_t nf = ff.n_frames();
    for (size_t f = 0; f < nf; ++f)
        for (int b = 0; b < dsp::k_num_bands; ++b) band_total[size_t(b)] += ff.bands[f * dsp::k_num_bands + size_t(b)];
    double tot = std::accumulate(band_total.begin(), band_total.end(), 0.0);
    if (tot > 0 && !silent) {
        p.sub_presence = round_to(band_total[0] / tot, 0.0001);
        p.sub_db = round_to(10 * std::log10(std::max(band_total[0] / tot, 1e-12)), 0.1);
        p.low_end_db = round_to(10 * std::log10(std::max((band_total[0] + band_total[1]) / tot, 1e-12)), 0.1);
        p.sparkle = round_to(band_total[6] / tot, 0.0001);
        p.sparkle_db = round_to(10 * std::log10(std::max(band_total[6] / tot, 1e-12)), 0.1);
    } else {
        p.sub_db = p.low_end_db = p.sparkle_db = -120;
    }
}

// 808 sustain: after each low-band hit (rise >= 6 dB), time until it falls 10 dB; the median
// over hits, unset without hits.
void fill_808_sustain(dna::ProductionLayer& p, const FrameFeatures& ff) {
    const size_t nf = ff.n_frames();
    std::vector<double> low(nf);
    for (size_t f = 0; f < nf; ++f)
        low[f] = 10 * std::log10(std::max(1e-12, double(ff.bands[f * dsp::k_num_bands] + ff.bands[f * dsp::k_num_bands + 1])));
    std::vector<double> sustains;
    double low_ref = 0;
    for (double v : low) low_ref = std::max(low_ref == 0 ? v : low_ref, v);
    const size_t max_f = size_t(2.0 * ff.frames_per_s);
    for (size_t f = 3; f + 1 < nf; ++f) {
        if (!(low[f] >= low[f - 3] + 6 && low[f] >= low[f + 1] && low[f] > low_ref - 25)) continue;
        size_t k = f + 1;
        while (k < nf && k - f < max_f && low[k] > low[f] - 10) ++k;
        sustains.push_back(double(k - f) / ff.frames_per_s);
        f = k;
    }
    if (!sustains.empty()) {
        std::nth_element(sustains.begin(), sustains.begin() + long(sustains.size() / 2), sustains.end());
        p.bass_808_sustain_s = round_to(sustains[sustains.size() / 2], 0.01);
    }
}

// Low-end distortion proxy: harmonics of the sub/bass fundamental (60-250 Hz) relative to the
// fundamental region (20-60 Hz) in frames where the sub is strong; 0..1.
double low_distortion(const FrameFeatures& ff) {
    const size_t nf = ff.n_frames();
    double sub_e = 0, harm_e = 0;
    for (size_t f = 0; f < nf; ++f) {
        const float* b = ff.bands.data() + f * dsp::k_num_bands;
        if (b[0] > 0.15 * (b[0] + b[1] + b[2] + b[3] + b[4] + b[5] + b[6])) {  // sub >= 15 % of the frame
            sub_e += b[0];
            harm_e += b[1] + b[2];
        }
    }
    return sub_e > 0 ? round_to(clamp01(harm_e / (sub_e + harm_e)), 0.001) : 0;
}

// Reverb proxy: mid-band energy 160-400 ms after strong onsets relative to the onset; the
// median over onsets, unset without onsets.
void fill_reverb_proxy(dna::ProductionLayer& p, const FrameFeatures& ff, const std::vector<int>& onset_peaks) {
    const size_t nf = ff.n_frames();
    std::vector<double> ratios;
    for (int of : onset_peaks) {
        size_t f = size_t(of);
        if (f + 18 >= nf) break;
        auto mid = [&](size_t k) { return double(ff.bands[k * dsp::k_num_bands + 3] + ff.bands[k * dsp::k_num_bands + 4]); };
        double peak = mid(f), tail = 0;
        for (size_t k = f + 7; k <= f + 17; ++k) tail += mid(k);
        tail /= 11;
        if (peak > 1e-9) ratios.push_back(tail / peak);
    }
    if (!ratios.empty()) {
        std::nth_element(ratios.begin(), ratios.begin() + long(ratios.size() / 2), ratios.end());
        double r_db = 10 * std::log10(std::max(1e-6, ratios[ratios.size() / 2]));
        p.reverb_proxy = round_to(clamp01((r_db + 12.0) / 12.0), 0.001);
    }
}

// Pitch quantization proxy: how close salient partials sit to the tuned semitone grid; also
// the share of chroma frames with a salient partial (melody coverage).
void fill_pitch_quantization(dna::ProductionLayer& p, const FrameFeatures& ff, double tuning_cents) {
    const size_t nc = ff.n_chroma_frames();
    double dev_sum = 0;
    int salient = 0;
    for (size_t f = 0; f < nc; ++f) {
        if (ff.pitch_hz[f] <= 0 || ff.pitch_salience[f] < 0.25) continue;
        double midi = 69 + 12 * std::log2(ff.pitch_hz[f] / 440.0) - tuning_cents / 100.0;
        dev_sum += std::abs(midi - std::round(midi)) * 100;
        ++salient;
    }
    p.melody_coverage = nc ? round_to(double(salient) / double(nc), 0.001) : 0;
    if (salient >= 20 && p.melody_coverage >= 0.1)
        p.pitch_quantization = round_to(clamp01(1.0 - (dev_sum / salient) / 25.0), 0.001);
}

// The width curve, and width, low width and correlation averaged over hops weighted by energy.
void fill_stereo(dna::ProductionLayer& p, const ProductionRaw& raw) {
    const size_t n_hops = raw.loudness_lufs.size();
    p.width.resize(n_hops);
    double w = 0, lw = 0, corr = 0, energy = 0;
    for (size_t h = 0; h < n_hops; ++h) {
        p.width[h] = float(round_to(raw.width[h], 0.001));
        double e = std::pow(10.0, raw.rms_db[h] / 10.0);
        w += raw.width[h] * e;
        lw += raw.low_width[h] * e;
        corr += raw.correlation[h] * e;
        energy += e;
    }
    if (energy > 0) {
        p.mean_width = round_to(w / energy, 0.001);
        p.low_width = round_to(lw / energy, 0.001);
        p.correlation = round_to(corr / energy, 0.001);
    }
}

// Loudness, peaks, crest factor, PLR and the compression class they suggest.
void fill_dynamics(dna::ProductionLayer& p, const ProductionRaw& raw, double measured_peak_dbfs, bool silent) {
    p.integrated_lufs = round_to(raw.integrated_lufs, 0.1);
    p.loudness_range_lu = round_to(raw.loudness_range_lu, 0.1);
    p.sample_peak_dbfs = round_to(raw.sample_peak_dbfs, 0.1);
    // Crest and PLR compare like with like: the peak of the signal the loudness was measured
    // on (the fold-down), which for multichannel files can exceed every original channel.
    const double measured_peak_db = measured_peak_dbfs;
    p.crest_db = silent ? 0.0 : round_to(std::max(0.0, measured_peak_db - raw.rms_dbfs), 0.1);
    p.plr_db = silent ? 0.0 : round_to(measured_peak_db - raw.integrated_lufs, 0.1);
    p.compression = silent ? "none" : p.plr_db < 8 ? "brickwall" : p.plr_db < 11 ? "heavy" : p.plr_db < 14 ? "moderate" : p.plr_db < 18 ? "light" : "dynamic";
}

}  // namespace

dna::ProductionLayer summarize_production(const FrameFeatures& ff, const ProductionRaw& raw, const std::vector<int>& onset_peaks,
                                          double tuning_cents, double measured_peak_dbfs, bool silent) {
    dna::ProductionLayer p;
    fill_spectral_balance(p, ff, silent);
    fill_808_sustain(p, ff);
    p.low_distortion = low_distortion(ff);
    fill_reverb_proxy(p, ff, onset_peaks);
    fill_pitch_quantization(p, ff, tuning_cents);
    fill_stereo(p, raw);
    fill_dynamics(p, raw, measured_peak_dbfs, silent);
    return p;
}

}  // namespace hitdna::analysis
