#pragma once
// Streaming sample-rate conversion of interleaved float audio (libsoxr, low quality: 96 dB
// stop-band, ample for analysis).
#include <cstddef>
#include <functional>
#include <memory>

namespace hitdna::audio {

class Resampler {
public:
    // Receives converted frames: interleaved, `frames` frames of the resampler's channels.
    using Sink = std::function<void(const float* interleaved, size_t frames)>;

    // A resampler from in_rate_hz to out_rate_hz; when the two are equal it passes frames
    // through untouched. Throws Error(internal) when libsoxr refuses the conversion.
    Resampler(int in_rate_hz, double out_rate_hz, int channels);
    ~Resampler();
    Resampler(const Resampler&) = delete;
    Resampler& operator=(const Resampler&) = delete;

    // Feeds `frames` frames (nullptr/0 to flush at the end) and hands the converted frames to
    // `sink`, possibly in several calls. Throws Error(internal) on a libsoxr failure.
    void process(const float* interleaved, size_t frames, const Sink& sink);

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;  // null when passing through
};

}  // namespace hitdna::audio
