#pragma once
// Writing audio: 16-bit PCM WAV through libsndfile.
#include <string>
#include <vector>

namespace hitdna::audio {

// Writes interleaved float samples (-1..1; beyond is clipped by libsndfile) as 16-bit PCM WAV.
// Throws Error(io) naming the file when it cannot be written in full.
void write_wav(const std::string& path, const std::vector<float>& interleaved, int sample_rate_hz, int channels);

}  // namespace hitdna::audio
