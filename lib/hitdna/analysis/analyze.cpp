#include "hitdna/analysis/analyze.hpp"

#include <soxr.h>

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <numeric>

#include "hitdna/analysis/features.hpp"
#include "hitdna/analysis/emotion.hpp"
#include "hitdna/analysis/harmony.hpp"
#include "hitdna/analysis/numeric.hpp"
#include "hitdna/analysis/production.hpp"
#include "hitdna/analysis/production_stream.hpp"
#include "hitdna/core/error.hpp"
#include "hitdna/dna/describe.hpp"
#include "hitdna/dna/vectors.hpp"

namespace hitdna::analysis {
namespace {

constexpr size_t k_block_frames = 16384;

// Streaming resampler of 1 or 2 interleaved channels to the analysis rate (libsoxr).
class Resampler {
public:
    Resampler(int in_rate, int channels) : m_in_rate(in_rate), m_channels(channels) {
        if (in_rate == int(k_analysis_rate_hz)) return;
        soxr_error_t err = nullptr;
        soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
        // LQ: 96 dB stop-band, ample for analysis; a third of MQ's cost.
        soxr_quality_spec_t q = soxr_quality_spec(SOXR_LQ, 0);
        m_soxr = soxr_create(in_rate, k_analysis_rate_hz, unsigned(channels), &err, &io, &q, nullptr);
        if (err) throw Error(ErrorKind::internal, std::string("libsoxr: ") + err);
    }
    ~Resampler() {
        if (m_soxr) soxr_delete(m_soxr);
    }
    Resampler(const Resampler&) = delete;
    Resampler& operator=(const Resampler&) = delete;

    // Feeds n frames (nullptr/0 to flush) and hands the output frames to sink.
    template <class Sink>
    void process(const float* in, size_t n, Sink&& sink) {
        if (!m_soxr) {
            if (n) sink(in, n);
            return;
        }
        const size_t cap = size_t(double(n) * k_analysis_rate_hz / m_in_rate) + 1024;
        m_out.resize(cap * size_t(m_channels));
        for (;;) {
            size_t idone = 0, odone = 0;
            soxr_error_t err = soxr_process(m_soxr, in, n, &idone, m_out.data(), cap, &odone);
            if (err) throw Error(ErrorKind::internal, std::string("libsoxr: ") + err);
            if (odone) sink(m_out.data(), odone);
            if (in) {
                in += idone * size_t(m_channels);
                n -= idone;
                if (n == 0) break;
            } else if (odone < cap) {
                break;  // flushed
            }
        }
    }

private:
    int m_in_rate;
    int m_channels;
    soxr_t m_soxr = nullptr;
    std::vector<float> m_out;
};

class MemorySource final : public audio::Source {
public:
    MemorySource(const float* data, size_t frames, int rate, int channels) : m_data(data), m_frames(frames) {
        m_info.sample_rate = rate;
        m_info.channels = channels;
        m_info.frames = std::int64_t(frames);
        m_info.decoder = "memory";
    }
    const audio::StreamInfo& info() const override { return m_info; }
    size_t read(float* out, size_t frames) override {
        size_t n = std::min(frames, m_frames - m_pos);
        std::copy_n(m_data + m_pos * size_t(m_info.channels), n * size_t(m_info.channels), out);
        m_pos += n;
        return n;
    }
    bool truncated() const override { return false; }
    std::string truncation_reason() const override { return ""; }

private:
    const float* m_data;
    size_t m_frames, m_pos = 0;
    audio::StreamInfo m_info;
};

// Averages a per-frame series over timeline hops.
std::vector<float> per_hop(const std::vector<float>& v, size_t stride, size_t offset, double fps, double hop_s, size_t n_hops) {
    std::vector<float> out(n_hops, 0.0f);
    const size_t n = v.size() / stride;
    for (size_t h = 0; h < n_hops; ++h) {
        size_t f0 = size_t(h * hop_s * fps), f1 = std::min(n, size_t((h + 1) * hop_s * fps));
        double s = 0;
        for (size_t f = f0; f < f1; ++f) s += v[f * stride + offset];
        out[h] = f1 > f0 ? float(s / double(f1 - f0)) : (h > 0 ? out[h - 1] : 0.0f);
    }
    return out;
}

// Local extrema of a smoothed curve with a prominence of at least min_prom.
std::vector<dna::Event> extrema(const std::vector<float>& v, double hop_s, double min_prom, double scale) {
    std::vector<dna::Event> out;
    const size_t n = v.size();
    // Windows in seconds, whatever the hop: +-5 s for the extremum, +-15 s for prominence.
    const size_t w = size_t(std::max(1.0, std::round(5.0 / hop_s)));
    const size_t pw = size_t(std::max(1.0, std::round(15.0 / hop_s)));
    for (size_t i = 1; i + 1 < n; ++i) {
        size_t lo = i >= w ? i - w : 0, hi = std::min(n - 1, i + w);
        bool is_max = true, is_min = true;
        for (size_t k = lo; k <= hi; ++k) {
            if (v[k] > v[i]) is_max = false;
            if (v[k] < v[i]) is_min = false;
        }
        if (!is_max && !is_min) continue;
        // Prominence against the extremes 15 s either side.
        size_t plo = i >= pw ? i - pw : 0, phi = std::min(n - 1, i + pw);
        double left = v[i], right = v[i];
        for (size_t k = plo; k < i; ++k) left = is_max ? std::min(left, double(v[k])) : std::max(left, double(v[k]));
        for (size_t k = i + 1; k <= phi; ++k) right = is_max ? std::min(right, double(v[k])) : std::max(right, double(v[k]));
        double prom = is_max ? v[i] - std::max(left, right) : std::min(left, right) - v[i];
        if (prom >= min_prom && (out.empty() || i * hop_s - out.back().time_s > 5))
            out.push_back({round_to(i * hop_s, 0.01), clamp01(prom / scale), is_max ? "peak" : "dip"});
    }
    return out;
}

// Decodes on a second thread, a few blocks ahead, so that decoding (the costly part for
// Vorbis, Opus and MP3) overlaps with the analysis of earlier blocks.
class PrefetchReader {
public:
    PrefetchReader(audio::Source& src, size_t block_frames, bool threaded)
        : m_src(src), m_block(block_frames), m_threaded(threaded) {
        if (m_threaded) m_thread = std::thread([this] { produce(); });
    }
    ~PrefetchReader() {
        if (m_threaded) {
            {
                std::lock_guard<std::mutex> lock(m_mu);
                m_stop = true;
            }
            m_cv.notify_all();
            m_thread.join();
        }
    }
    PrefetchReader(const PrefetchReader&) = delete;
    PrefetchReader& operator=(const PrefetchReader&) = delete;

    // Fills `out` with the next block; returns its frame count, 0 at the end. Rethrows what
    // the decoder threw.
    size_t next(std::vector<float>& out) {
        const size_t ch = size_t(m_src.info().channels);
        if (!m_threaded) {
            out.resize(m_block * ch);
            size_t n = m_src.read(out.data(), m_block);
            return n;
        }
        std::unique_lock<std::mutex> lock(m_mu);
        m_cv.wait(lock, [&] { return !m_queue.empty() || m_done; });
        if (m_queue.empty()) {
            if (m_error) std::rethrow_exception(m_error);
            return 0;
        }
        if (!out.empty()) m_free.push_back(std::move(out));
        out = std::move(m_queue.front().first);
        size_t n = m_queue.front().second;
        m_queue.pop_front();
        lock.unlock();
        m_cv.notify_all();
        return n;
    }

private:
    void produce() {
        const size_t ch = size_t(m_src.info().channels);
        for (;;) {
            std::vector<float> buf;
            {
                std::unique_lock<std::mutex> lock(m_mu);
                m_cv.wait(lock, [&] { return m_stop || m_queue.size() < k_depth; });
                if (m_stop) return;
                if (!m_free.empty()) {
                    buf = std::move(m_free.back());
                    m_free.pop_back();
                }
            }
            size_t n = 0;
            try {
                buf.resize(m_block * ch);
                n = m_src.read(buf.data(), m_block);
                std::lock_guard<std::mutex> lock(m_mu);
                if (n == 0) {
                    m_done = true;
                    m_cv.notify_all();
                    return;
                }
                m_queue.emplace_back(std::move(buf), n);
                m_cv.notify_all();
            } catch (...) {  // decode errors, and bad_alloc: hand them to the consumer
                std::lock_guard<std::mutex> lock(m_mu);
                m_error = std::current_exception();
                m_done = true;
                m_cv.notify_all();
                return;
            }
        }
    }

    static constexpr size_t k_depth = 4;
    audio::Source& m_src;
    size_t m_block;
    bool m_threaded;
    std::thread m_thread;
    std::mutex m_mu;
    std::condition_variable m_cv;
    std::deque<std::pair<std::vector<float>, size_t>> m_queue;
    std::vector<std::vector<float>> m_free;
    bool m_stop = false, m_done = false;
    std::exception_ptr m_error;
};

}  // namespace

dna::Dna analyze_source(audio::Source& src, const std::string& name, const AnalyzeOptions& opt) {
    const auto& info = src.info();
    dna::Dna d;
    d.file = name;
    d.sample_rate = info.sample_rate;
    d.channels = info.file_channels > 0 ? info.file_channels : info.channels;
    d.decoder = info.decoder;

    // Multichannel audio is folded down to stereo (ITU-R BS.775: centre and surrounds at
    // -3 dB, LFE dropped). Loudness and the stereo image are measured on that signal at the
    // file's own rate (at 22.05 kHz, content above 11 kHz would be missing: up to 2 LU on
    // bright mixes); its mid channel is resampled to the analysis rate for every other
    // feature. Sample peak is taken on the original samples.
    const int ch = info.channels;
    const int front = std::min(ch, 2);
    ProductionStream prod(info.sample_rate, front, opt.timeline_hop_s);
    FeatureExtractor feat;
    Resampler rs(info.sample_rate, 1);
    std::vector<float> block, folded, mono;
    PrefetchReader reader(src, k_block_frames, opt.prefetch && std::thread::hardware_concurrency() >= 2);
    long long total_frames = 0, bad_samples = 0;
    float native_peak = 0, folded_peak = 0;
    std::vector<float> fold_l, fold_r;
    audio::stereo_fold_gains(info.roles.size() == size_t(ch) ? info.roles : std::vector<audio::ChannelRole>(size_t(ch), audio::ChannelRole::other), fold_l, fold_r);
    auto sink = [&](const float* x, size_t n) { feat.push(x, n); };
    for (;;) {
        size_t n = reader.next(block);
        if (n == 0) break;
        total_frames += (long long)n;
        // Peak and finiteness from the bit patterns: |x| orders like its bits, and the loop
        // vectorizes. Float files may hold NaN/inf or wild values: zero the former and clamp
        // at +-16 (+24 dBFS), on the rare block that needs it.
        uint32_t max_bits = 0;
        for (size_t i = 0; i < n * size_t(ch); ++i) {
            uint32_t b;
            std::memcpy(&b, &block[i], 4);
            max_bits = std::max(max_bits, b & 0x7fffffffu);
        }
        float pk;
        std::memcpy(&pk, &max_bits, 4);
        if (max_bits >= 0x7f800000u || pk > 16.0f) {
            pk = 0;
            for (size_t i = 0; i < n * size_t(ch); ++i) {
                float& v = block[i];
                if (!std::isfinite(v)) {
                    v = 0;
                    ++bad_samples;
                } else if (std::abs(v) > 16.0f) {
                    v = std::copysign(16.0f, v);
                }
                pk = std::max(pk, std::abs(v));
            }
        }
        native_peak = std::max(native_peak, pk);
        const float* stereo = block.data();
        if (ch > 2) {
            folded.resize(2 * n);
            for (size_t i = 0; i < n; ++i) {
                const float* f = block.data() + i * size_t(ch);
                float l = 0, r = 0;
                for (int c = 0; c < ch; ++c) {
                    l += fold_l[size_t(c)] * f[c];
                    r += fold_r[size_t(c)] * f[c];
                }
                folded[2 * i] = l;
                folded[2 * i + 1] = r;
            }
            stereo = folded.data();
            for (size_t i = 0; i < 2 * n; ++i) folded_peak = std::max(folded_peak, std::abs(folded[i]));
        } else {
            folded_peak = std::max(folded_peak, pk);
        }
        prod.push(stereo, n);
        if (front == 1) {
            rs.process(stereo, n, sink);
        } else {
            mono.resize(n);
            for (size_t i = 0; i < n; ++i) mono[i] = 0.5f * (stereo[2 * i] + stereo[2 * i + 1]);
            rs.process(mono.data(), n, sink);
        }
    }
    if (total_frames == 0) throw Error(ErrorKind::decode, name + ": no audio frames decoded");
    rs.process(nullptr, 0, sink);
    if (bad_samples > 0) d.warnings.push_back(std::to_string(bad_samples) + " non-finite samples (NaN/inf) replaced by silence");
    if (src.truncated()) {
        d.flags.push_back("truncated");
        d.warnings.push_back("truncated stream: " + src.truncation_reason());
    }
    const FrameFeatures ff = feat.finish();
    ProductionRaw pr = prod.finish();
    pr.sample_peak_dbfs = 20 * std::log10(std::max(double(native_peak), 1e-6));
    d.duration_s = round_to(double(total_frames) / info.sample_rate, 0.001);
    const double hop = opt.timeline_hop_s;
    const size_t n_hops = pr.loudness_lufs.size();
    const bool silent = pr.sample_peak_dbfs < -60.0;
    if (silent) d.flags.push_back("silent");
    if (d.duration_s < 10.0) d.flags.push_back("short");
    if (info.channels == 1) d.flags.push_back("mono");

    // ---- audio layer: rhythm ----
    auto& a = d.audio;
    RhythmResult rh = analyze_rhythm(ff.onset, ff.frames_per_s, silent, opt.tempo);
    a.bpm = rh.bpm;
    a.bpm_null_reason = rh.null_reason;
    a.bpm_confidence = round_to(rh.confidence, 0.001);
    a.tempo_candidates = rh.candidates;
    a.tempo_curve = rh.tempo_curve;
    a.tempo_stability = round_to(rh.stability, 0.001);
    for (double b : rh.beats_s) a.beats_s.push_back(round_to(b, 0.001));
    a.rhythmic_complexity = round_to(rh.rhythmic_complexity, 0.001);
    a.syncopation = round_to(rh.syncopation, 0.001);
    a.onset_rate_per_s = round_to(rh.onset_rate_per_s, 0.01);
    a.groove = round_to(rh.groove, 0.001);
    a.pulse_clarity = round_to(rh.pulse_clarity, 0.001);
    a.swing_ratio = round_to(rh.swing_ratio, 0.01);
    if (!a.bpm) d.flags.push_back("no-beat");

    // ---- timeline ----
    a.timeline_hop_s = hop;
    a.energy_lufs.resize(n_hops);
    for (size_t h = 0; h < n_hops; ++h) a.energy_lufs[h] = float(round_to(pr.loudness_lufs[h], 0.1));
    std::vector<std::vector<float>> band_hops;
    for (int b = 0; b < dsp::k_num_bands; ++b)
        band_hops.push_back(per_hop(ff.bands, dsp::k_num_bands, size_t(b), ff.frames_per_s, hop, n_hops));
    a.spectrum_db.resize(n_hops);
    std::vector<float> low_db(n_hops), total_db(n_hops);
    for (size_t h = 0; h < n_hops; ++h) {
        double tot = 0;
        for (int b = 0; b < dsp::k_num_bands; ++b) {
            double p = band_hops[size_t(b)][h];
            tot += p;
            a.spectrum_db[h][size_t(b)] = float(round_to(10 * std::log10(std::max(p, 1e-12)), 0.1));
        }
        low_db[h] = float(10 * std::log10(std::max(double(band_hops[0][h] + band_hops[1][h]), 1e-12)));
        total_db[h] = float(10 * std::log10(std::max(tot, 1e-12)));
    }
    auto onset_hop = per_hop(ff.onset, 1, 0, ff.frames_per_s, hop, n_hops);
    auto centroid_hop = per_hop(ff.centroid_hz, 1, 0, ff.frames_per_s, hop, n_hops);
    {
        auto sm = smooth(a.energy_lufs, std::max(1, int(std::round(2.5 / hop))));
        a.energy_moments = extrema(sm, hop, 3.0, 12.0);
        std::vector<float> audible;
        for (float v : a.energy_lufs)
            if (v > -69) audible.push_back(v);
        a.dynamic_span_lu = round_to(percentile(audible, 0.95) - percentile(audible, 0.10), 0.1);
    }

    // ---- harmony ----
    const size_t nc = ff.n_chroma_frames();
    a.tuning_cents = round_to(estimate_tuning_cents(ff.pitch_hz, ff.pitch_salience), 0.1);
    std::array<double, 12> global{};
    {
        double max_e = 0;
        std::vector<double> e(nc, 0.0);
        for (size_t f = 0; f < nc; ++f) {
            for (int k = 0; k < 12; ++k) e[f] += ff.chroma[f * 12 + size_t(k)];
            max_e = std::max(max_e, e[f]);
        }
        for (size_t f = 0; f < nc; ++f) {
            if (e[f] < 1e-4 * max_e || e[f] <= 0) continue;
            for (int k = 0; k < 12; ++k) global[size_t(k)] += std::sqrt(ff.chroma[f * 12 + size_t(k)] / e[f]);
        }
    }
    KeyResult key = silent ? KeyResult{} : estimate_key(global);
    if (key.tonic >= 0 && key.strength > 0.2) {
        a.key = k_pitch_names[size_t(key.tonic)];
        a.mode = key.minor ? "minor" : "major";
    }
    a.key_strength = round_to(key.strength, 0.001);

    // Segment grid: beats, with gaps (intro, breaks) filled at the beat period.
    std::vector<double> grid;
    {
        const double period = rh.beats_s.size() >= 8 && a.bpm ? 60.0 / *a.bpm : 0.5;
        grid.push_back(0.0);
        auto fill_to = [&](double t) {
            while (t - grid.back() > 1.5 * period) grid.push_back(grid.back() + period);
            if (t - grid.back() > 0.3 * period) grid.push_back(t);
        };
        if (period != 0.5)
            for (double b : rh.beats_s) fill_to(b);
        fill_to(d.duration_s);
        if (grid.back() < d.duration_s - 1e-6) grid.push_back(d.duration_s);
        if (grid.size() < 2) grid = {0.0, std::max(d.duration_s, 1e-3)};
    }
    if (!silent) a.chords = estimate_chords(ff.chroma, ff.chroma_frames_per_s, grid);
    {
        std::vector<std::string> seen;
        int changes = 0;
        for (size_t i = 0; i < a.chords.size(); ++i) {
            if (a.chords[i].label == "N") continue;
            if (std::find(seen.begin(), seen.end(), a.chords[i].label) == seen.end()) seen.push_back(a.chords[i].label);
            if (i > 0) ++changes;
        }
        a.distinct_chords = int(seen.size());
        a.chord_changes_per_min = d.duration_s > 0 ? round_to(changes / (d.duration_s / 60.0), 0.1) : 0;
    }

    // ---- timbre ----
    {
        const size_t nf = ff.n_frames();
        for (int k = 0; k < k_n_mfcc; ++k) {
            double s = 0, s2 = 0;
            for (size_t f = 0; f < nf; ++f) {
                double v = ff.mfcc[f * k_n_mfcc + size_t(k)];
                s += v;
                s2 += v * v;
            }
            double m = nf ? s / double(nf) : 0;
            a.mfcc_mean[size_t(k)] = round_to(m, 0.01);
            a.mfcc_std[size_t(k)] = round_to(nf ? std::sqrt(std::max(0.0, s2 / double(nf) - m * m)) : 0, 0.01);
        }
        double num = 0, den = 0;
        for (size_t f = 0; f < nf; ++f) {
            num += double(ff.centroid_hz[f]) * ff.rms[f];
            den += ff.rms[f];
        }
        a.spectral_centroid_hz = den > 0 ? round_to(num / den, 1) : 0;
    }

    // ---- intensity and tension curves ----
    const EmotionCurves curves = emotion_curves(ff, pr.loudness_lufs, onset_hop, centroid_hop, key, hop, silent);
    const auto& intensity = curves.intensity;

    // ---- structure ----
    auto& st = d.structure;
    StructureInput si;
    si.unit_times = grid;
    si.duration_s = d.duration_s;
    si.hop_s = hop;
    si.loudness_lufs = pr.loudness_lufs;
    si.intensity = intensity;
    si.low_db = low_db;
    si.dim = 12 + 12;
    const size_t n_units = grid.size() - 1;
    si.unit_features.assign(n_units * size_t(si.dim), 0.0f);
    for (size_t u = 0; u < n_units; ++u) {
        float* row = si.unit_features.data() + u * size_t(si.dim);
        size_t c0 = size_t(grid[u] * ff.chroma_frames_per_s), c1 = std::max(c0 + 1, size_t(std::ceil(grid[u + 1] * ff.chroma_frames_per_s)));
        c1 = std::min(c1, nc);
        double norm = 0;
        for (size_t f = c0; f < c1; ++f)
            for (int k = 0; k < 12; ++k) row[k] += std::sqrt(ff.chroma[f * 12 + size_t(k)]);
        for (int k = 0; k < 12; ++k) norm += double(row[k]) * row[k];
        norm = std::sqrt(norm);
        for (int k = 0; k < 12; ++k) row[k] = norm > 0 ? float(row[k] / norm) : 0.0f;
        size_t m0 = size_t(grid[u] * ff.frames_per_s), m1 = std::min(ff.n_frames(), std::max(m0 + 1, size_t(std::ceil(grid[u + 1] * ff.frames_per_s))));
        for (size_t f = m0; f < m1; ++f)
            for (int k = 1; k <= 12; ++k) row[11 + k] += ff.mfcc[f * k_n_mfcc + size_t(k)] / float(std::max<size_t>(1, m1 - m0));
    }
    // z-score every dimension over the song so that what changes between sections counts.
    for (int k = 0; k < si.dim; ++k) {
        double s = 0, s2 = 0;
        for (size_t u = 0; u < n_units; ++u) {
            double v = si.unit_features[u * size_t(si.dim) + size_t(k)];
            s += v;
            s2 += v * v;
        }
        // A floor on the spread (0.02 for unit-norm chroma, 0.5 dB for MFCCs) keeps dimensions
        // that barely change from amplifying noise into fake contrast.
        const double floor_sd = k < 12 ? 0.02 : 0.5;
        double m = s / double(n_units), sd = std::max(floor_sd, std::sqrt(std::max(0.0, s2 / double(n_units) - m * m)));
        for (size_t u = 0; u < n_units; ++u) {
            auto& v = si.unit_features[u * size_t(si.dim) + size_t(k)];
            v = float((v - m) / sd);
        }
    }
    Segmentation seg = segment(si, opt.structure);
    st.sections = seg.sections;
    const std::string hook = assign_roles(st.sections, std::max(d.duration_s, 1e-3));
    for (auto& s : st.sections) {
        s.start_s = round_to(s.start_s, 0.01);
        s.end_s = std::min(round_to(s.end_s, 0.01), d.duration_s);
        s.length_ratio = std::clamp((s.end_s - s.start_s) / std::max(d.duration_s, 1e-9), 0.0, 1.0);
        s.energy_lufs = round_to(s.energy_lufs, 0.1);
        s.length_ratio = round_to(s.length_ratio, 0.001);
        s.novelty = round_to(s.novelty, 0.001);
    }
    {
        std::map<std::string, int> count;
        for (const auto& s : st.sections) ++count[s.label];
        double repeated = 0, hook_len = 0;
        for (const auto& s : st.sections) {
            if (count[s.label] >= 2) repeated += s.end_s - s.start_s;
            if (!hook.empty() && s.label == hook) {
                if (!st.first_hook_s) st.first_hook_s = s.start_s;
                ++st.hook_repeats;
                hook_len += s.end_s - s.start_s;
            }
        }
        // Ratios over at least 1 ms: a file of a few samples rounds to a duration of 0.
        const double dur = std::max(d.duration_s, 1e-3);
        st.hook_share = round_to(hook_len / dur, 0.001);
        st.repetition = round_to(repeated / dur, 0.001);
        st.repeats_per_min = round_to(double(st.sections.size() - count.size()) / (dur / 60.0), 0.01);
    }
    if (!silent) detect_builds_drops(si, st.builds, st.drops);
    for (auto& e : st.builds) e.strength = round_to(e.strength, 0.001);
    for (auto& e : st.drops) e.strength = round_to(e.strength, 0.001);
    st.surprise = silent ? 0.0 : round_to(surprise_factor(si), 0.001);

    // Earworm (heuristic): a hook that returns often, repeats itself, sits on few chords and
    // carries a clear melodic line.
    if (!hook.empty()) {
        std::vector<const std::vector<double>*> occ;
        for (size_t i = 0; i < st.sections.size(); ++i)
            if (st.sections[i].label == hook) occ.push_back(&seg.section_means[i]);
        double consistency = 0;
        int pairs = 0;
        for (size_t i = 0; i < occ.size(); ++i)
            for (size_t j = i + 1; j < occ.size(); ++j) {
                double c = 0;
                for (size_t k = 0; k < occ[i]->size(); ++k) c += (*occ[i])[k] * (*occ[j])[k];
                consistency += c;
                ++pairs;
            }
        consistency = pairs ? clamp01(consistency / pairs) : 0;
        std::vector<std::string> hook_chords;
        double sal = 0;
        int sal_n = 0;
        for (const auto& s : st.sections) {
            if (s.label != hook) continue;
            for (const auto& c : a.chords)
                if (c.end_s > s.start_s && c.start_s < s.end_s && c.label != "N" &&
                    std::find(hook_chords.begin(), hook_chords.end(), c.label) == hook_chords.end())
                    hook_chords.push_back(c.label);
            for (size_t f = size_t(s.start_s * ff.chroma_frames_per_s); f < std::min(nc, size_t(s.end_s * ff.chroma_frames_per_s)); ++f) {
                sal += ff.pitch_salience[f];
                ++sal_n;
            }
        }
        const double simplicity = clamp01(1.0 - (double(hook_chords.size()) - 2.0) / 8.0);
        const double melody = sal_n ? clamp01(sal / sal_n * 2.5) : 0;
        st.earworm = round_to(0.35 * clamp01(st.hook_repeats / 4.0) + 0.25 * consistency + 0.2 * simplicity + 0.2 * melody, 0.001);
    }

    // ---- emotion ----
    d.emotion = summarize_emotion(curves, key, a, st, hop, silent);

    // ---- production ----
    d.production = summarize_production(ff, pr, rh.onset_peaks, a.tuning_cents, 20 * std::log10(std::max(double(folded_peak), 1e-6)), silent);

    d.descriptors = dna::describe(d);
    d.vectors = dna::make_vectors(d, {ff.chroma, ff.chroma_frames_per_s, ff.mfcc, ff.bands, ff.frames_per_s});
    return d;
}

dna::Dna analyze_file(const std::string& path, const AnalyzeOptions& options) {
    auto src = audio::open(path, options.open);
    return analyze_source(*src, path, options);
}

dna::Dna analyze_samples(const float* interleaved, size_t frames, int sample_rate_hz, int channels,
                         const std::string& name, const AnalyzeOptions& options) {
    if (sample_rate_hz < audio::k_min_sample_rate || sample_rate_hz > audio::k_max_sample_rate || channels < 1 || channels > audio::k_max_channels)
        throw Error(ErrorKind::usage, name + ": sample rate or channel count out of range");
    MemorySource src(interleaved, frames, sample_rate_hz, channels);
    return analyze_source(src, name, options);
}

}  // namespace hitdna::analysis
