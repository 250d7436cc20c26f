#pragma once
// What must be measured on the stereo signal before the mono downmix: loudness (ITU-R
// BS.1770 / EBU R128 through libebur128), stereo image and levels, per timeline hop.
// Takes mono or stereo; multichannel audio is folded down to stereo by the caller.
#include <cstddef>
#include <memory>
#include <vector>

namespace hitdna::analysis {

struct ProductionRaw {
    double hop_s = 1.0;
    bool stereo = false;
    double integrated_lufs = -70;   // LUFS, gated (BS.1770-4); -70 when below the gate
    double loudness_range_lu = 0;   // LU (EBU Tech 3342)
    double sample_peak_dbfs = -120; // dBFS; filled in by the caller from the original samples
    double rms_dbfs = -120;         // dBFS, all channels
    std::vector<float> loudness_lufs;   // per hop: K-weighted loudness of that hop (1 s window), LUFS
    std::vector<float> rms_db;          // per hop, dBFS
    std::vector<float> width;           // per hop: side / (mid + side) energy, 0..1 (0 = mono)
    std::vector<float> correlation;     // per hop: L/R correlation, -1..1
    std::vector<float> low_width;       // per hop: width below 120 Hz, 0..1
};

class ProductionStream {
public:
    // Throws Error(usage) for rates/channels outside what audio::open accepts.
    ProductionStream(int sample_rate_hz, int channels, double hop_s = 1.0);
    ~ProductionStream();
    void push(const float* interleaved, size_t frames);
    ProductionRaw finish();

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

}  // namespace hitdna::analysis
