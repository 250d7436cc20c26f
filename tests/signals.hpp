#pragma once
// Generated test signals with known answers.
#include <cmath>
#include <cstdint>
#include <numbers>
#include <string>
#include <vector>

namespace hitdna::test {

struct Signal {
    std::vector<float> samples;  // interleaved
    int rate = 44100;
    int channels = 1;
    size_t frames() const { return samples.size() / size_t(channels); }
};

// Deterministic xorshift noise in [-1, 1].
inline float noise(uint32_t& state) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return float(state) / 2147483648.0f - 1.0f;
}

// A click track: a 20 ms decaying noise burst on every beat, louder on the downbeat.
inline Signal click_track(double bpm, double seconds, int rate = 44100, double offset_s = 0.1) {
    Signal s;
    s.rate = rate;
    s.samples.assign(size_t(seconds * rate), 0.0f);
    uint32_t st = 12345;
    const double period = 60.0 / bpm;
    int beat = 0;
    for (double t = offset_s; t < seconds; t += period, ++beat) {
        const size_t start = size_t(t * rate);
        const float gain = beat % 4 == 0 ? 0.9f : 0.6f;
        for (size_t i = 0; i < size_t(0.02 * rate) && start + i < s.samples.size(); ++i)
            s.samples[start + i] += gain * noise(st) * std::exp(-float(i) / (0.004f * float(rate)));
    }
    return s;
}

// Sum of sines at MIDI notes with 1/k harmonics, constant amplitude.
inline void add_notes(std::vector<float>& out, int rate, double t0, double t1, const std::vector<int>& midi, float amp) {
    for (int m : midi) {
        const double f = 440.0 * std::pow(2.0, (m - 69) / 12.0);
        for (size_t i = size_t(t0 * rate); i < size_t(t1 * rate) && i < out.size(); ++i) {
            const double t = double(i) / rate;
            double v = 0;
            for (int k = 1; k <= 4; ++k) v += std::sin(2 * std::numbers::pi * f * k * t) / k;
            out[i] += float(amp * v);
        }
    }
}

inline Signal silence(double seconds, int rate = 44100, int channels = 2) {
    Signal s;
    s.rate = rate;
    s.channels = channels;
    s.samples.assign(size_t(seconds * rate) * size_t(channels), 0.0f);
    return s;
}

inline Signal to_stereo(const Signal& mono, float side_gain) {
    Signal s;
    s.rate = mono.rate;
    s.channels = 2;
    s.samples.resize(mono.samples.size() * 2);
    uint32_t st = 777;
    for (size_t i = 0; i < mono.samples.size(); ++i) {
        const float side = side_gain * 0.3f * noise(st);
        s.samples[2 * i] = mono.samples[i] + side;
        s.samples[2 * i + 1] = mono.samples[i] - side;
    }
    return s;
}

// A temporary directory removed at scope exit.
struct TempDir {
    std::string path;
    TempDir();
    ~TempDir();
    std::string file(const std::string& name) const { return path + "/" + name; }
};

// Writes a signal with libsndfile (format from the extension: .wav, .flac, .ogg).
void write_audio(const std::string& path, const Signal& s);

}  // namespace hitdna::test
