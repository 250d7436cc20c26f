#include "hitdna/audio/resample.hpp"

#include <soxr.h>

#include <string>
#include <vector>

#include "hitdna/core/error.hpp"

namespace hitdna::audio {

struct Resampler::Impl {
    int in_rate = 0;
    double out_rate = 0;
    int channels = 0;
    soxr_t soxr = nullptr;
    std::vector<float> out;

    ~Impl() {
        if (soxr) soxr_delete(soxr);
    }
};

Resampler::Resampler(int in_rate_hz, double out_rate_hz, int channels) {
    if (in_rate_hz == int(out_rate_hz)) return;
    m_impl = std::make_unique<Impl>();
    m_impl->in_rate = in_rate_hz;
    m_impl->out_rate = out_rate_hz;
    m_impl->channels = channels;
    soxr_error_t err = nullptr;
    soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
    // LQ: 96 dB stop-band, ample for analysis; a third of MQ's cost.
    soxr_quality_spec_t q = soxr_quality_spec(SOXR_LQ, 0);
    m_impl->soxr = soxr_create(in_rate_hz, out_rate_hz, unsigned(channels), &err, &io, &q, nullptr);
    if (err) throw Error(ErrorKind::internal, std::string("libsoxr: ") + err);
}

Resampler::~Resampler() = default;

void Resampler::process(const float* interleaved, size_t frames, const Sink& sink) {
    if (!m_impl) {
        if (frames) sink(interleaved, frames);
        return;
    }
    Impl& s = *m_impl;
    const float* in = interleaved;
    size_t n = frames;
    const size_t cap = size_t(double(n) * s.out_rate / s.in_rate) + 1024;
    s.out.resize(cap * size_t(s.channels));
    for (;;) {
        size_t idone = 0, odone = 0;
        soxr_error_t err = soxr_process(s.soxr, in, n, &idone, s.out.data(), cap, &odone);
        if (err) throw Error(ErrorKind::internal, std::string("libsoxr: ") + err);
        if (odone) sink(s.out.data(), odone);
        if (in) {
            in += idone * size_t(s.channels);
            n -= idone;
            if (n == 0) break;
        } else if (odone < cap) {
            break;  // flushed
        }
    }
}

}  // namespace hitdna::audio
