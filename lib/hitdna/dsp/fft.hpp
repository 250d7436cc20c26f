#pragma once
// Real FFT behind one class; KissFFT stays in the .cpp, so no header of hitdna includes it.
#include <memory>
#include <vector>

namespace hitdna::dsp {

class RealFft {
public:
    // n_fft must be even and >= 16; throws Error(usage) otherwise.
    explicit RealFft(int n_fft);
    ~RealFft();
    RealFft(RealFft&&) noexcept;
    RealFft& operator=(RealFft&&) noexcept;

    int size() const { return m_n; }
    // Power spectrum |X[k]|^2 for k = 0..n/2 of n real samples.
    void power(const float* input, float* power_out);

private:
    struct Impl;
    int m_n;
    std::unique_ptr<Impl> m_impl;
};

// Periodic Hann window of n samples.
std::vector<float> hann(int n);

}  // namespace hitdna::dsp
