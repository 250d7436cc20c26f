#include "hitdna/analysis/decode.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "hitdna/audio/read_ahead.hpp"
#include "hitdna/audio/resample.hpp"
#include "hitdna/core/error.hpp"

namespace hitdna::analysis {
namespace {

constexpr size_t k_block_frames = 16384;

// Returns the peak |x| of n_samples samples, repairing them in place first when needed. Peak
// and finiteness come from the bit patterns: |x| orders like its bits, and the loop
// vectorizes. Float files may hold NaN/inf or wild values: zero the former (counted in
// non_finite) and clamp at +-16 (+24 dBFS), on the rare block that needs it.
float repair_and_peak(float* samples, size_t n_samples, long long& non_finite) {
    uint32_t max_bits = 0;
    for (size_t i = 0; i < n_samples; ++i) {
        uint32_t b;
        std::memcpy(&b, &samples[i], 4);
        max_bits = std::max(max_bits, b & 0x7fffffffu);
    }
    float pk;
    std::memcpy(&pk, &max_bits, 4);
    if (max_bits >= 0x7f800000u || pk > 16.0f) {
        pk = 0;
        for (size_t i = 0; i < n_samples; ++i) {
            float& v = samples[i];
            if (!std::isfinite(v)) {
                v = 0;
                ++non_finite;
            } else if (std::abs(v) > 16.0f) {
                v = std::copysign(16.0f, v);
            }
            pk = std::max(pk, std::abs(v));
        }
    }
    return pk;
}

// Folds `frames` frames of `channels` interleaved channels down to stereo (interleaved, in
// `stereo`) with one gain per channel and side.
void fold_to_stereo(const float* in, size_t frames, int channels, const std::vector<float>& gain_l,
                    const std::vector<float>& gain_r, std::vector<float>& stereo) {
    stereo.resize(2 * frames);
    for (size_t i = 0; i < frames; ++i) {
        const float* f = in + i * size_t(channels);
        float l = 0, r = 0;
        for (int c = 0; c < channels; ++c) {
            l += gain_l[size_t(c)] * f[c];
            r += gain_r[size_t(c)] * f[c];
        }
        stereo[2 * i] = l;
        stereo[2 * i + 1] = r;
    }
}

// Multichannel audio is folded down to stereo (ITU-R BS.775: centre and surrounds at -3 dB,
// LFE dropped). Loudness and the stereo image are measured on that signal at the file's own
// rate (at 22.05 kHz, content above 11 kHz would be missing: up to 2 LU on bright mixes); its
// mid channel is resampled to the analysis rate for every other feature. Sample peak is taken
// on the original samples.
class StreamPass {
public:
    StreamPass(const audio::StreamInfo& info, double timeline_hop_s)
        : m_channels(info.channels), m_front(std::min(m_channels, 2)), m_prod(info.sample_rate, m_front, timeline_hop_s),
          m_resampler(info.sample_rate, k_analysis_rate_hz, 1) {
        audio::stereo_fold_gains(info.roles.size() == size_t(m_channels)
                                     ? info.roles
                                     : std::vector<audio::ChannelRole>(size_t(m_channels), audio::ChannelRole::other),
                                 m_fold_l, m_fold_r);
    }

    // Takes one decoded block of `frames` interleaved frames (repaired in place).
    void push(float* block, size_t frames) {
        const int ch = m_channels;
        m_out.frames += (long long)frames;
        const float pk = repair_and_peak(block, frames * size_t(ch), m_out.non_finite_samples);
        m_native_peak = std::max(m_native_peak, pk);
        const float* stereo = block;
        if (ch > 2) {
            fold_to_stereo(block, frames, ch, m_fold_l, m_fold_r, m_folded);
            stereo = m_folded.data();
            for (size_t i = 0; i < 2 * frames; ++i) m_folded_peak = std::max(m_folded_peak, std::abs(m_folded[i]));
        } else {
            m_folded_peak = std::max(m_folded_peak, pk);
        }
        m_prod.push(stereo, frames);
        if (m_front == 1) {
            m_resampler.process(stereo, frames, m_sink);
        } else {
            m_mono.resize(frames);
            for (size_t i = 0; i < frames; ++i) m_mono[i] = 0.5f * (stereo[2 * i] + stereo[2 * i + 1]);
            m_resampler.process(m_mono.data(), frames, m_sink);
        }
    }

    // Flushes the resampler and returns what the pass measured; throws Error(decode) naming
    // `name` when no block came.
    DecodedAudio finish(const std::string& name) {
        if (m_out.frames == 0) throw Error(ErrorKind::decode, name + ": no audio frames decoded");
        m_resampler.process(nullptr, 0, m_sink);
        m_out.features = m_feat.finish();
        m_out.production = m_prod.finish();
        m_out.production.sample_peak_dbfs = 20 * std::log10(std::max(double(m_native_peak), 1e-6));
        m_out.folded_peak_dbfs = 20 * std::log10(std::max(double(m_folded_peak), 1e-6));
        return std::move(m_out);
    }

private:
    const int m_channels;
    const int m_front;  // channels measured for production: 1 or 2
    ProductionStream m_prod;
    FeatureExtractor m_feat;
    audio::Resampler m_resampler;
    audio::Resampler::Sink m_sink = [this](const float* x, size_t n) { m_feat.push(x, n); };
    std::vector<float> m_fold_l, m_fold_r, m_folded, m_mono;
    float m_native_peak = 0, m_folded_peak = 0;
    DecodedAudio m_out;
};

}  // namespace

DecodedAudio decode_and_extract(audio::Source& source, const std::string& name, double timeline_hop_s, bool prefetch) {
    StreamPass pass(source.info(), timeline_hop_s);
    std::vector<float> block;
    audio::ReadAhead reader(source, k_block_frames, prefetch && std::thread::hardware_concurrency() >= 2);
    for (;;) {
        const size_t n = reader.next(block);
        if (n == 0) break;
        pass.push(block.data(), n);
    }
    return pass.finish(name);
}

}  // namespace hitdna::analysis
