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

// A small distinct "song" per variant: its own tempo, key, timbre and chord loop over a
// click-and-noise beat, in alternating 8 s parts of different loudness.
inline Signal toy_song(int variant, double seconds, int rate = 22050) {
    Signal s;
    s.rate = rate;
    s.samples.assign(size_t(seconds * rate), 0.0f);
    const double bpm = 84 + 13 * (variant % 7);
    const int root = 45 + (variant * 5) % 12;
    const std::vector<std::vector<int>> loops[2] = {{{0, 4, 7}, {5, 9, 12}, {7, 11, 14}, {0, 4, 7}}, {{9, 12, 16}, {5, 9, 12}, {2, 5, 9}, {7, 11, 14}}};
    const double bar = 4 * 60.0 / bpm;
    uint32_t st = 99u + uint32_t(variant) * 7919u;
    for (double t = 0; t < seconds; t += bar) {
        const int part = int(t / 8.0) % 2;
        const auto& loop = loops[(part + variant) % 2];
        std::vector<int> chord;
        for (int n : loop[size_t(int(t / bar) % 4)]) chord.push_back(root + n + 12 * (variant % 2));
        add_notes(s.samples, rate, t, std::min(seconds, t + bar), chord, part ? 0.05f : 0.02f);
        for (int b = 0; b < 4; ++b) {
            const size_t start = size_t((t + b * bar / 4) * rate);
            const float gain = (b % 2 ? 0.25f : 0.5f) * (part ? 1.0f : 0.6f);
            for (size_t i = 0; i < size_t(0.05 * rate) && start + i < s.samples.size(); ++i)
                s.samples[start + i] += gain * noise(st) * std::exp(-float(i) / ((0.003f + 0.004f * float(variant % 3)) * float(rate)));
        }
    }
    return s;
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

// Writes a signal with libsndfile (format from the extension: .wav, .flac, .ogg).
void write_audio(const std::string& path, const Signal& s);

}  // namespace hitdna::test
