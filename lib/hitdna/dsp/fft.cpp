#include "hitdna/dsp/fft.hpp"

#include <kiss_fftr.h>

#include <cmath>
#include <numbers>
#include <string>

#include "hitdna/core/error.hpp"

namespace hitdna::dsp {

struct RealFft::Impl {
    kiss_fftr_cfg cfg = nullptr;
    std::vector<kiss_fft_cpx> out;
    ~Impl() { kiss_fftr_free(cfg); }
};

RealFft::RealFft(int n_fft) : m_n(n_fft), m_impl(std::make_unique<Impl>()) {
    if (n_fft < 16 || n_fft % 2 != 0)
        throw Error(ErrorKind::usage, "RealFft: n_fft " + std::to_string(n_fft) + " must be even and >= 16");
    m_impl->cfg = kiss_fftr_alloc(n_fft, 0, nullptr, nullptr);
    if (!m_impl->cfg) throw Error(ErrorKind::internal, "RealFft: kiss_fftr_alloc failed");
    m_impl->out.resize(static_cast<size_t>(n_fft / 2 + 1));
}

RealFft::~RealFft() = default;
RealFft::RealFft(RealFft&&) noexcept = default;
RealFft& RealFft::operator=(RealFft&&) noexcept = default;

void RealFft::power(const float* input, float* power_out) {
    kiss_fftr(m_impl->cfg, input, m_impl->out.data());
    const int bins = m_n / 2 + 1;
    for (int k = 0; k < bins; ++k) {
        const auto& c = m_impl->out[static_cast<size_t>(k)];
        power_out[k] = c.r * c.r + c.i * c.i;
    }
}

std::vector<float> hann(int n) {
    std::vector<float> w(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i)
        w[static_cast<size_t>(i)] = 0.5f - 0.5f * std::cos(2.0f * std::numbers::pi_v<float> * static_cast<float>(i) / static_cast<float>(n));
    return w;
}

}  // namespace hitdna::dsp
