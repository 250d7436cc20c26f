#pragma once
// Streaming audio decoding: libsndfile first, ffmpeg for what libsndfile cannot read.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace hitdna::audio {

constexpr int k_min_sample_rate = 8000;
constexpr int k_max_sample_rate = 192000;
constexpr int k_max_channels = 8;

// What a channel carries, for the stereo fold-down.
enum class ChannelRole { mono, left, right, centre, lfe, surround_left, surround_right, surround_centre, other };

struct StreamInfo {
    int sample_rate = 0;
    int channels = 0;            // channels delivered by read()
    int file_channels = 0;       // channels in the file (ffmpeg folds more than two itself)
    std::int64_t frames = -1;    // declared length in frames, -1 when unknown
    std::string decoder;         // "libsndfile" or "ffmpeg"
    std::string format;          // container/codec as the decoder names it
    std::vector<ChannelRole> roles;  // one per delivered channel
};

// Stereo fold-down gains (ITU-R BS.775: centre and surrounds at -3 dB, LFE dropped, unknown
// channels at -6 dB to both sides) for each channel role.
void stereo_fold_gains(const std::vector<ChannelRole>& roles, std::vector<float>& left, std::vector<float>& right);

// A decoded stream of interleaved float samples in [-1, 1].
class Source {
public:
    virtual ~Source() = default;
    virtual const StreamInfo& info() const = 0;
    // Reads up to `frames` frames into `interleaved` (frames * channels floats); returns the
    // number read, 0 at the end. Throws Error(decode) when the stream is corrupt before any
    // audio was read; a stream that breaks later ends early and sets truncated().
    virtual size_t read(float* interleaved, size_t frames) = 0;
    virtual bool truncated() const = 0;
    virtual std::string truncation_reason() const = 0;
};

struct OpenOptions {
    bool allow_ffmpeg = true;
    std::string ffmpeg_path;  // empty: $HITDNA_FFMPEG, else "ffmpeg" on PATH
    double stall_s = 120;     // ffprobe/ffmpeg silent this long are stopped (Error timeout)
};

// Opens `path` for decoding. Throws Error(io) for a missing/unreadable path or a directory,
// Error(decode) for data no available decoder understands (naming the decoder that is missing).
std::unique_ptr<Source> open(const std::string& path, const OpenOptions& options = {});

}  // namespace hitdna::audio
