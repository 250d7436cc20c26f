#pragma once
// Frame-level features, computed in one streaming pass so that memory does not grow with
// the raw signal: only the per-frame features are kept (about 110 bytes per 23 ms frame).
#include <cstddef>
#include <memory>
#include <vector>

#include "hitdna/dsp/filterbank.hpp"

namespace hitdna::analysis {

constexpr double k_analysis_rate_hz = 22050.0;
constexpr int k_n_fft = 1024;          // main STFT: 46.4 ms window, 21.5 Hz bins
constexpr int k_hop = 512;             // 23.2 ms hop, 43.07 frames/s
constexpr int k_chroma_n_fft = 4096;   // harmony STFT: 5.4 Hz bins, chroma down to 65 Hz
constexpr int k_chroma_hop = 4096;     // 185.8 ms hop (no overlap: chroma is a statistic)
constexpr double k_bass_chroma_min_hz = 60.0;   // bass chroma: where the bass line's fundamentals
constexpr double k_bass_chroma_max_hz = 160.0;  // sit (bins below 60 Hz are wider than a semitone)
constexpr int k_n_mels = 40;
constexpr int k_n_mfcc = 13;

struct FrameFeatures {
    double frames_per_s = k_analysis_rate_hz / k_hop;
    double chroma_frames_per_s = k_analysis_rate_hz / k_chroma_hop;
    std::vector<float> onset;        // log-mel spectral flux per frame, dB (>= 0)
    std::vector<float> rms;          // frame RMS, linear full scale
    std::vector<float> centroid_hz;  // spectral centroid per frame
    std::vector<float> mfcc;         // frames x k_n_mfcc
    std::vector<float> bands;        // frames x dsp::k_num_bands, power (linear)
    std::vector<float> chroma;       // chroma frames x 12, power per pitch class (C = 0)
    std::vector<float> bass_chroma;  // the same over 60..160 Hz only: the bass line
    std::vector<float> harmony_chroma;  // chroma frames x 12, whitened (dsp::apply_whitened_chroma): chords
    std::vector<float> pitch_hz;     // chroma frames: strongest partial 100..1000 Hz, 0 = none
    std::vector<float> pitch_salience;  // its share of 100..2000 Hz power, 0..1
    size_t n_frames() const { return onset.size(); }
    size_t n_chroma_frames() const { return chroma.size() / 12; }
};

// Consumes mono samples at k_analysis_rate_hz; frames are centred (frame i at i * hop).
class FeatureExtractor {
public:
    FeatureExtractor();
    ~FeatureExtractor();
    void push(const float* mono, size_t n);
    // Flushes the tail and returns the features; the extractor is then spent.
    FrameFeatures finish();

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

}  // namespace hitdna::analysis
