#include "hitdna/analysis/analyze.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "hitdna/analysis/decode.hpp"
#include "hitdna/analysis/emotion.hpp"
#include "hitdna/analysis/features.hpp"
#include "hitdna/analysis/harmony.hpp"
#include "hitdna/analysis/meter.hpp"
#include "hitdna/analysis/numeric.hpp"
#include "hitdna/analysis/production.hpp"
#include "hitdna/analysis/texture.hpp"
#include "hitdna/core/error.hpp"
#include "hitdna/dna/describe.hpp"
#include "hitdna/dna/spotify_style.hpp"
#include "hitdna/dsp/filterbank.hpp"
#include "hitdna/dna/vectors.hpp"

namespace hitdna::analysis {
namespace {

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

// ---- the stream: what was opened, what decoding found ----

// The Dna with the stream's identity filled in (file, rate, channels, decoder).
dna::Dna describe_stream(const audio::StreamInfo& info, const std::string& name) {
    dna::Dna d;
    d.file = name;
    d.sample_rate = info.sample_rate;
    d.channels = info.file_channels > 0 ? info.file_channels : info.channels;
    d.decoder = info.decoder;
    return d;
}

// Records the duration, warnings and flags of the decoded signal; returns whether it is silent.
bool note_signal(dna::Dna& d, const DecodedAudio& dec, const audio::Source& src) {
    const auto& info = src.info();
    if (dec.non_finite_samples > 0)
        d.warnings.push_back(std::to_string(dec.non_finite_samples) + " non-finite samples (NaN/inf) replaced by silence");
    if (src.truncated()) {
        d.flags.push_back("truncated");
        d.warnings.push_back("truncated stream: " + src.truncation_reason());
    }
    d.duration_s = round_to(double(dec.frames) / info.sample_rate, 0.001);
    const bool silent = dec.production.sample_peak_dbfs < -60.0;
    if (silent) d.flags.push_back("silent");
    if (d.duration_s < 10.0) d.flags.push_back("short");
    if (info.channels == 1) d.flags.push_back("mono");
    return silent;
}

// ---- rhythm ----

// Copies the rhythm result into the audio layer, rounded as the Dna reports it.
void fill_rhythm(dna::Dna& d, const RhythmResult& rh) {
    auto& a = d.audio;
    a.bpm = rh.bpm;
    a.bpm_null_reason = rh.null_reason;
    a.bpm_confidence = round_to(rh.confidence, 0.001);
    a.tempo_candidates = rh.candidates;
    for (double b : rh.beats_s) a.beats_s.push_back(round_to(b, 0.001));
    a.rhythmic_complexity = round_to(rh.rhythmic_complexity, 0.001);
    a.syncopation = round_to(rh.syncopation, 0.001);
    a.onset_rate_per_s = round_to(rh.onset_rate_per_s, 0.01);
    a.groove = round_to(rh.groove, 0.001);
    a.pulse_clarity = round_to(rh.pulse_clarity, 0.001);
    a.swing_ratio = round_to(rh.swing_ratio, 0.01);
    if (!a.bpm) d.flags.push_back("no-beat");
}

// Fills the meter, the local tempo read from the beats (the tempo curve and stability) and the
// held tempo changes, which are counted in bars.
void fill_meter(dna::AudioLayer& a, const RhythmResult& rh, const FrameFeatures& ff) {
    if (!a.bpm) return;
    std::vector<float> low(ff.n_frames());
    for (size_t f = 0; f < ff.n_frames(); ++f) low[f] = ff.bands[f * dsp::k_num_bands] + ff.bands[f * dsp::k_num_bands + 1];
    const MeterResult m = detect_meter(rh.beats_s, ff.onset, ff.frames_per_s, ff.chroma, ff.chroma_frames_per_s, low);
    a.meter = m.meter;
    std::vector<double> local_bpm = rh.local_bpm;
    if (!m.beats_s.empty()) {
        // A 6/8 bar was tracked as three quarter notes: the beat is the dotted quarter.
        constexpr double k = 2.0 / 3.0;
        a.bpm = round_to(*a.bpm * k, 0.01);
        a.beats_s.clear();
        for (double b : m.beats_s) a.beats_s.push_back(round_to(b, 0.001));
        for (auto& v : local_bpm) v *= k;
    }
    const double bar_s = (m.beats_per_bar > 0 ? m.beats_per_bar : 4) * 60.0 / *a.bpm;
    // The local tempo is the tracked beats' rate over two bars either side: the beats are what
    // a listener taps, and the periodicity that guided them can wander where they do not.
    local_bpm = beat_local_bpm(local_bpm, rh.local_step_s, a.beats_s, bar_s);
    // Before the first tracked beat and after the last (an intro without pulse, a release or a
    // fade) the local tempo measures nothing: it is taken as the song's there.
    if (!a.beats_s.empty())
        for (size_t i = 0; i < local_bpm.size(); ++i) {
            const double t = double(i) * rh.local_step_s;
            if (t < a.beats_s.front() || t > a.beats_s.back()) local_bpm[i] = *a.bpm;
        }
    // The curve (every second point of the local tempo) and the stability (the share within
    // k_tempo_tolerance of bpm) are read from this local tempo, as the changes are.
    size_t near = 0;
    for (size_t i = 0; i < local_bpm.size(); ++i) {
        near += std::abs(local_bpm[i] / *a.bpm - 1) <= k_tempo_tolerance;
        if (i % 2 == 0) a.tempo_curve.push_back({round_to(double(i) * rh.local_step_s, 0.01), round_to(local_bpm[i], 0.1)});
    }
    if (!local_bpm.empty()) a.tempo_stability = round_to(double(near) / double(local_bpm.size()), 0.001);
    a.tempo_changes = held_tempo_changes(local_bpm, rh.local_step_s, *a.bpm, bar_s, a.beats_s);
}

// ---- timeline ----

// Per-hop curves that later stages read besides the loudness.
struct Timeline {
    std::vector<float> low_db;        // power below 250 Hz (sub + bass bands), dB
    std::vector<float> onset_hop;     // mean onset strength
    std::vector<float> centroid_hop;  // mean spectral centroid, Hz
};

// Fills a.spectrum_db (band levels per hop); returns the low end per hop, dB.
std::vector<float> fill_spectrum(dna::AudioLayer& a, const FrameFeatures& ff, double hop_s, size_t n_hops) {
    std::vector<std::vector<float>> band_hops;
    for (int b = 0; b < dsp::k_num_bands; ++b)
        band_hops.push_back(per_hop(ff.bands, dsp::k_num_bands, size_t(b), ff.frames_per_s, hop_s, n_hops));
    a.spectrum_db.resize(n_hops);
    std::vector<float> low_db(n_hops);
    for (size_t h = 0; h < n_hops; ++h) {
        for (int b = 0; b < dsp::k_num_bands; ++b) {
            double p = band_hops[size_t(b)][h];
            a.spectrum_db[h][size_t(b)] = float(round_to(10 * std::log10(std::max(p, 1e-12)), 0.1));
        }
        low_db[h] = float(10 * std::log10(std::max(double(band_hops[0][h] + band_hops[1][h]), 1e-12)));
    }
    return low_db;
}

// Fills the audio layer's curves over time (loudness, spectrum, energy moments, dynamic span).
Timeline fill_timeline(dna::AudioLayer& a, const FrameFeatures& ff, const std::vector<float>& loudness_lufs, double hop_s) {
    const size_t n_hops = loudness_lufs.size();
    Timeline tl;
    a.timeline_hop_s = hop_s;
    a.energy_lufs.resize(n_hops);
    for (size_t h = 0; h < n_hops; ++h) a.energy_lufs[h] = float(round_to(loudness_lufs[h], 0.1));
    tl.low_db = fill_spectrum(a, ff, hop_s, n_hops);
    tl.onset_hop = per_hop(ff.onset, 1, 0, ff.frames_per_s, hop_s, n_hops);
    tl.centroid_hop = per_hop(ff.centroid_hz, 1, 0, ff.frames_per_s, hop_s, n_hops);
    auto sm = smooth(a.energy_lufs, std::max(1, int(std::round(2.5 / hop_s))));
    a.energy_moments = extrema(sm, hop_s, 3.0, 12.0);
    std::vector<float> audible;
    for (float v : a.energy_lufs)
        if (v > -69) audible.push_back(v);
    a.dynamic_span_lu = round_to(percentile(audible, 0.95) - percentile(audible, 0.10), 0.1);
    return tl;
}

// ---- harmony ----

// What the harmony stage hands on: the key, and the grid that chords and sections sit on.
struct Harmony {
    KeyResult key;
    std::vector<double> grid;  // unit boundaries (s), from 0 to the duration
};

// The pitch-class distribution of chroma frames [f0, f1): the sum of sqrt(share of the frame's
// chroma power), frames below 1e-4 of the song's strongest one left out.
std::array<double, 12> span_chroma(const FrameFeatures& ff, size_t f0, size_t f1, double max_e) {
    std::array<double, 12> out{};
    for (size_t f = f0; f < std::min(f1, ff.n_chroma_frames()); ++f) {
        double e = 0;
        for (int k = 0; k < 12; ++k) e += ff.chroma[f * 12 + size_t(k)];
        if (e < 1e-4 * max_e || e <= 0) continue;
        for (int k = 0; k < 12; ++k) out[size_t(k)] += std::sqrt(ff.chroma[f * 12 + size_t(k)] / e);
    }
    return out;
}

double max_chroma_energy(const FrameFeatures& ff) {
    double max_e = 0;
    for (size_t f = 0; f < ff.n_chroma_frames(); ++f) {
        double e = 0;
        for (int k = 0; k < 12; ++k) e += ff.chroma[f * 12 + size_t(k)];
        max_e = std::max(max_e, e);
    }
    return max_e;
}

// The song's pitch-class distribution (span_chroma over every frame).
std::array<double, 12> global_chroma(const FrameFeatures& ff) { return span_chroma(ff, 0, ff.n_chroma_frames(), max_chroma_energy(ff)); }

// The bass line's pitch-class distribution: sqrt power per pitch class over 60..160 Hz, summed
// over the song (louder bass counts more).
std::array<double, 12> bass_distribution(const FrameFeatures& ff) {
    std::array<double, 12> out{};
    for (size_t f = 0; f < ff.bass_chroma.size() / 12; ++f)
        for (int k = 0; k < 12; ++k) out[size_t(k)] += std::sqrt(ff.bass_chroma[f * 12 + size_t(k)]);
    return out;
}

// Segment grid: beats, with gaps (intro, breaks) filled at the beat period; a 0.5 s grid
// without a beat.
std::vector<double> beat_grid(const std::vector<double>& beats_s, const std::optional<double>& bpm, double duration_s) {
    std::vector<double> grid;
    const double period = beats_s.size() >= 8 && bpm ? 60.0 / *bpm : 0.5;
    grid.push_back(0.0);
    auto fill_to = [&](double t) {
        while (t - grid.back() > 1.5 * period) grid.push_back(grid.back() + period);
        if (t - grid.back() > 0.3 * period) grid.push_back(t);
    };
    if (period != 0.5)
        for (double b : beats_s) fill_to(b);
    fill_to(duration_s);
    if (grid.back() < duration_s - 1e-6) grid.push_back(duration_s);
    if (grid.size() < 2) grid = {0.0, std::max(duration_s, 1e-3)};
    return grid;
}

// Fills a.distinct_chords and a.chord_changes_per_min from a.chords.
void count_chords(dna::AudioLayer& a, double duration_s) {
    std::vector<std::string> seen;
    int changes = 0;
    for (size_t i = 0; i < a.chords.size(); ++i) {
        if (a.chords[i].label == "N") continue;
        if (std::find(seen.begin(), seen.end(), a.chords[i].label) == seen.end()) seen.push_back(a.chords[i].label);
        if (i > 0) ++changes;
    }
    a.distinct_chords = int(seen.size());
    a.chord_changes_per_min = duration_s > 0 ? round_to(changes / (duration_s / 60.0), 0.1) : 0;
}

// Fills the harmony fields of the audio layer: tuning, key, chords on the beat grid.
Harmony fill_harmony(dna::AudioLayer& a, const FrameFeatures& ff, const RhythmResult& rh, double duration_s, bool silent) {
    Harmony h;
    a.tuning_cents = round_to(estimate_tuning_cents(ff.pitch_hz, ff.pitch_salience), 0.1);
    const std::array<double, 12> global = global_chroma(ff);
    h.key = silent ? KeyResult{} : estimate_key(global);
    if (h.key.tonic >= 0 && h.key.strength > 0.2) {
        a.key = k_pitch_names[size_t(h.key.tonic)];
        a.mode = h.key.minor ? "minor" : "major";
    }
    a.key_strength = round_to(h.key.strength, 0.001);
    h.grid = beat_grid(rh.beats_s, a.bpm, duration_s);
    if (!silent) a.chords = estimate_chords(ff.chroma, ff.harmony_chroma, ff.chroma_frames_per_s, h.grid);
    count_chords(a, duration_s);
    return h;
}

// ---- timbre ----

// Fills MFCC means and spreads and the RMS-weighted spectral centroid.
void fill_timbre(dna::AudioLayer& a, const FrameFeatures& ff) {
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

// ---- structure ----

constexpr int k_unit_dim = 12 + 12;  // chroma, MFCC 1..12

// Per unit of the grid: its unit-norm sqrt-chroma, then its mean MFCCs 1..12.
std::vector<float> unit_features(const FrameFeatures& ff, const std::vector<double>& grid) {
    const size_t nc = ff.n_chroma_frames();
    const size_t n_units = grid.size() - 1;
    std::vector<float> out(n_units * size_t(k_unit_dim), 0.0f);
    for (size_t u = 0; u < n_units; ++u) {
        float* row = out.data() + u * size_t(k_unit_dim);
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
    return out;
}

// z-scores every dimension of n_units rows of `dim` features over the song, so that what
// changes between sections counts.
void zscore_units(std::vector<float>& features, size_t n_units, int dim, std::vector<double>& mean, std::vector<double>& sd_out) {
    mean.assign(size_t(dim), 0.0);
    sd_out.assign(size_t(dim), 1.0);
    for (int k = 0; k < dim; ++k) {
        double s = 0, s2 = 0;
        for (size_t u = 0; u < n_units; ++u) {
            double v = features[u * size_t(dim) + size_t(k)];
            s += v;
            s2 += v * v;
        }
        // A floor on the spread (0.02 for unit-norm chroma, 0.5 dB for MFCCs) keeps dimensions
        // that barely change from amplifying noise into fake contrast.
        const double floor_sd = k < 12 ? 0.02 : 0.5;
        double m = s / double(n_units), sd = std::max(floor_sd, std::sqrt(std::max(0.0, s2 / double(n_units) - m * m)));
        mean[size_t(k)] = m;
        sd_out[size_t(k)] = sd;
        for (size_t u = 0; u < n_units; ++u) {
            auto& v = features[u * size_t(dim) + size_t(k)];
            v = float((v - m) / sd);
        }
    }
}

// What segmentation, builds/drops and surprise read: the grid's units and the per-hop curves.
StructureInput structure_input(const FrameFeatures& ff, const std::vector<double>& grid, const std::vector<float>& loudness_lufs,
                               const std::vector<float>& intensity, const std::vector<float>& low_db, double duration_s, double hop_s) {
    StructureInput si;
    si.unit_times = grid;
    si.duration_s = duration_s;
    si.hop_s = hop_s;
    si.loudness_lufs = loudness_lufs;
    si.intensity = intensity;
    si.low_db = low_db;
    si.fine_hop_s = 1.0 / ff.frames_per_s;
    si.low_fine.resize(ff.n_frames());
    for (size_t f = 0; f < ff.n_frames(); ++f) si.low_fine[f] = ff.bands[f * dsp::k_num_bands] + ff.bands[f * dsp::k_num_bands + 1];
    si.dim = k_unit_dim;
    si.chroma_dims = 12;
    si.unit_features = unit_features(ff, grid);
    zscore_units(si.unit_features, grid.size() - 1, si.dim, si.feature_mean, si.feature_sd);
    return si;
}

// Rounds the sections as the Dna reports them; section ends stop at the duration.
void round_sections(std::vector<dna::Section>& sections, double duration_s) {
    for (auto& s : sections) {
        s.start_s = round_to(s.start_s, 0.01);
        s.end_s = std::min(round_to(s.end_s, 0.01), duration_s);
        s.length_ratio = std::clamp((s.end_s - s.start_s) / std::max(duration_s, 1e-9), 0.0, 1.0);
        s.energy_lufs = round_to(s.energy_lufs, 0.1);
        s.length_ratio = round_to(s.length_ratio, 0.001);
        s.novelty = round_to(s.novelty, 0.001);
    }
}

// Fills the hook's first time, repeats and share, and how much of the song repeats.
void measure_repetition(dna::StructureLayer& st, const std::string& hook, double duration_s) {
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
    const double dur = std::max(duration_s, 1e-3);
    st.hook_share = round_to(hook_len / dur, 0.001);
    st.repetition = round_to(repeated / dur, 0.001);
    st.repeats_per_min = round_to(double(st.sections.size() - count.size()) / (dur / 60.0), 0.01);
}

// Earworm (heuristic): a hook that returns often, repeats itself, sits on few chords and
// carries a clear melodic line. `hook` is a label of st.sections.
double earworm(const dna::StructureLayer& st, const Segmentation& seg, const std::string& hook,
               const std::vector<dna::Chord>& chords, const FrameFeatures& ff) {
    const size_t nc = ff.n_chroma_frames();
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
        for (const auto& c : chords)
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
    return round_to(0.35 * clamp01(st.hook_repeats / 4.0) + 0.25 * consistency + 0.2 * simplicity + 0.2 * melody, 0.001);
}

// Decides the key with the tonic evidence (bass, chords at the song's and sections' edges,
// cadences) now that the sections are known, then gives every section its key (a
// transposition of the song's key when its pitch classes say so) and lists the changes.
void fill_section_keys(dna::Dna& d, const FrameFeatures& ff) {
    auto& a = d.audio;
    TonicEvidence ev;
    ev.bass = bass_distribution(ff);
    ev.chords = a.chords;
    for (const auto& s : d.structure.sections) {
        ev.section_starts_s.push_back(s.start_s);
        ev.section_ends_s.push_back(s.end_s);
    }
    KeyResult key = estimate_key(global_chroma(ff), ev);
    if (key.tonic < 0 || key.strength <= 0.2) {
        // Too little evidence to tell sections apart: each is in the song's key (if it has one).
        for (auto& s : d.structure.sections) {
            s.key = a.key;
            s.mode = a.mode;
        }
        return;
    }
    std::vector<std::array<double, 12>> spans;
    std::vector<double> lengths;
    const double max_e = max_chroma_energy(ff);
    for (const auto& s : d.structure.sections) {
        spans.push_back(span_chroma(ff, size_t(s.start_s * ff.chroma_frames_per_s), size_t(s.end_s * ff.chroma_frames_per_s), max_e));
        lengths.push_back(s.end_s - s.start_s);
    }
    std::vector<int> tonics = span_tonics(spans, lengths, key);
    // Sections in another key pull the song's pitch classes toward it: decide the song's key
    // again from the sections that stayed, then their keys against it.
    if (std::any_of(tonics.begin(), tonics.end(), [&](int t) { return t != key.tonic; })) {
        std::array<double, 12> home{};
        for (size_t i = 0; i < spans.size(); ++i)
            if (tonics[i] == key.tonic)
                for (size_t k = 0; k < 12; ++k) home[k] += spans[i][k];
        const KeyResult again = estimate_key(home, ev);
        if (again.tonic >= 0 && again.strength > 0.2) {
            key = again;
            tonics = span_tonics(spans, lengths, key);
        }
    }
    a.key = k_pitch_names[size_t(key.tonic)];
    a.mode = key.minor ? "minor" : "major";
    a.key_strength = round_to(key.strength, 0.001);
    for (size_t i = 0; i < tonics.size(); ++i) {
        auto& s = d.structure.sections[i];
        s.key = k_pitch_names[size_t(tonics[i])];
        s.mode = a.mode;
        if (i > 0 && tonics[i] != tonics[i - 1]) a.key_changes.push_back({s.start_s, s.key, s.mode});
    }
}

// Fills the structure layer: sections and their roles, repetition, builds and drops,
// surprise and earworm.
void fill_structure(dna::Dna& d, const FrameFeatures& ff, const StructureInput& si, const StructureParams& params, bool silent) {
    auto& st = d.structure;
    Segmentation seg = segment(si, params);
    st.sections = seg.sections;
    const std::string hook = assign_roles(st.sections, std::max(d.duration_s, 1e-3));
    round_sections(st.sections, d.duration_s);
    if (!silent) fill_section_keys(d, ff);
    measure_repetition(st, hook, d.duration_s);
    if (!silent) detect_builds_drops(si, st.builds, st.drops);
    for (auto& e : st.builds) e.strength = round_to(e.strength, 0.001);
    for (auto& e : st.drops) e.strength = round_to(e.strength, 0.001);
    st.surprise = silent ? 0.0 : round_to(surprise_factor(si), 0.001);
    if (!hook.empty()) st.earworm = earworm(st, seg, hook, d.audio.chords, ff);
}

}  // namespace

// The pipeline: decode -> features (one streaming pass) -> rhythm -> harmony -> structure ->
// emotion -> production -> descriptors and vectors.
dna::Dna analyze_source(audio::Source& src, const std::string& name, const AnalyzeOptions& opt) {
    dna::Dna d = describe_stream(src.info(), name);
    const DecodedAudio dec = decode_and_extract(src, name, opt.timeline_hop_s, opt.prefetch);
    const bool silent = note_signal(d, dec, src);
    const FrameFeatures& ff = dec.features;
    const ProductionRaw& pr = dec.production;
    const double hop = opt.timeline_hop_s;

    const RhythmResult rh = analyze_rhythm(ff.onset, ff.frames_per_s, silent, opt.tempo);
    fill_rhythm(d, rh);
    fill_meter(d.audio, rh, ff);
    const Timeline tl = fill_timeline(d.audio, ff, pr.loudness_lufs, hop);
    const Harmony harmony = fill_harmony(d.audio, ff, rh, d.duration_s, silent);
    fill_timbre(d.audio, ff);
    fill_texture(d.audio, ff, silent);
    // Intensity and tension curves: the structure reads intensity, the emotion layer both.
    EmotionCurves curves = emotion_curves(ff, pr.loudness_lufs, tl.onset_hop, tl.centroid_hop, harmony.key, hop, silent);
    const StructureInput si = structure_input(ff, harmony.grid, pr.loudness_lufs, curves.intensity, tl.low_db, d.duration_s, hop);
    fill_structure(d, ff, si, opt.structure, silent);
    // The sections may have changed the key (fill_section_keys); tension follows the final key.
    KeyResult key = harmony.key;
    if (!d.audio.key.empty()) {
        key.tonic = dna::pitch_index(d.audio.key);
        key.minor = d.audio.mode == "minor";
        key.strength = d.audio.key_strength;
    }
    if (key.tonic != harmony.key.tonic || key.minor != harmony.key.minor)
        curves = emotion_curves(ff, pr.loudness_lufs, tl.onset_hop, tl.centroid_hop, key, hop, silent);
    d.emotion = summarize_emotion(curves, key, d.audio, d.structure, hop, silent);
    d.production = summarize_production(ff, pr, rh.onset_peaks, d.audio.tuning_cents, dec.folded_peak_dbfs, silent);

    d.spotify_style = dna::spotify_style(d);
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
