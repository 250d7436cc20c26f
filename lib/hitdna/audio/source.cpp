#include "hitdna/audio/source.hpp"

#include <sndfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <vector>

#include "hitdna/core/error.hpp"
#include "hitdna/core/subprocess.hpp"

namespace hitdna::audio {
namespace {

std::string lower_ext(const std::string& path) {
    auto dot = path.find_last_of('.');
    auto slash = path.find_last_of('/');
    if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
    std::string ext = path.substr(dot + 1);
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    return ext;
}

void check_shape(const std::string& path, int rate, int channels) {
    if (rate < k_min_sample_rate || rate > k_max_sample_rate)
        throw Error(ErrorKind::decode, path + ": sample rate " + std::to_string(rate) +
                                           " Hz is outside 8000..192000 Hz");
    if (channels < 1 || channels > k_max_channels)
        throw Error(ErrorKind::decode,
                    path + ": " + std::to_string(channels) + " channels is outside 1..8");
}

ChannelRole role_of(int sf_map) {
    switch (sf_map) {
        case SF_CHANNEL_MAP_MONO: return ChannelRole::mono;
        case SF_CHANNEL_MAP_LEFT:
        case SF_CHANNEL_MAP_FRONT_LEFT:
        case SF_CHANNEL_MAP_FRONT_LEFT_OF_CENTER: return ChannelRole::left;
        case SF_CHANNEL_MAP_RIGHT:
        case SF_CHANNEL_MAP_FRONT_RIGHT:
        case SF_CHANNEL_MAP_FRONT_RIGHT_OF_CENTER: return ChannelRole::right;
        case SF_CHANNEL_MAP_CENTER:
        case SF_CHANNEL_MAP_FRONT_CENTER: return ChannelRole::centre;
        case SF_CHANNEL_MAP_LFE: return ChannelRole::lfe;
        case SF_CHANNEL_MAP_REAR_LEFT:
        case SF_CHANNEL_MAP_SIDE_LEFT: return ChannelRole::surround_left;
        case SF_CHANNEL_MAP_REAR_RIGHT:
        case SF_CHANNEL_MAP_SIDE_RIGHT: return ChannelRole::surround_right;
        case SF_CHANNEL_MAP_REAR_CENTER: return ChannelRole::surround_centre;
        default: return ChannelRole::other;
    }
}

// The WAVE defaults when a file carries no channel mask (Microsoft's KSAUDIO_SPEAKER_*).
std::vector<ChannelRole> default_roles(int channels) {
    using R = ChannelRole;
    switch (channels) {
        case 1: return {R::mono};
        case 2: return {R::left, R::right};
        case 3: return {R::left, R::right, R::centre};
        case 4: return {R::left, R::right, R::surround_left, R::surround_right};
        case 5: return {R::left, R::right, R::centre, R::surround_left, R::surround_right};
        case 6: return {R::left, R::right, R::centre, R::lfe, R::surround_left, R::surround_right};
        case 7: return {R::left, R::right, R::centre, R::lfe, R::surround_left, R::surround_right, R::surround_centre};
        default: {
            std::vector<R> r = {R::left, R::right, R::centre, R::lfe, R::surround_left, R::surround_right, R::surround_left, R::surround_right};
            r.resize(size_t(channels), R::other);
            return r;
        }
    }
}

// A WAVE file cut short: its data chunk declares more bytes than the file holds (libsndfile
// quietly shortens the stream to what is there). Returns the reason, or "".
std::string riff_shortfall(const std::string& path, std::int64_t file_size) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return "";
    unsigned char hdr[12];
    std::string out;
    if (std::fread(hdr, 1, 12, f) == 12 && std::memcmp(hdr, "RIFF", 4) == 0 && std::memcmp(hdr + 8, "WAVE", 4) == 0) {
        std::int64_t pos = 12;
        unsigned char ch[8];
        for (int guard = 0; guard < 64 && std::fread(ch, 1, 8, f) == 8; ++guard) {
            const std::uint32_t size = std::uint32_t(ch[4]) | std::uint32_t(ch[5]) << 8 | std::uint32_t(ch[6]) << 16 | std::uint32_t(ch[7]) << 24;
            if (std::memcmp(ch, "data", 4) == 0) {
                const std::int64_t available = file_size - (pos + 8);
                // 0 and 0xFFFFFFFF mark streamed files whose length was never written.
                if (size != 0 && size != 0xFFFFFFFFu && std::int64_t(size) > available + 1)
                    out = "data chunk declares " + std::to_string(size) + " bytes, the file holds " + std::to_string(available);
                break;
            }
            pos += 8 + std::int64_t(size) + (size & 1);
            if (std::fseek(f, long(pos), SEEK_SET) != 0) break;
        }
    }
    std::fclose(f);
    return out;
}

class SndfileSource final : public Source {
public:
    SndfileSource(SNDFILE* file, const SF_INFO& sfinfo, const std::string& path, std::string header_shortfall)
        : m_file(file), m_path(path), m_header_shortfall(std::move(header_shortfall)) {
        m_info.sample_rate = sfinfo.samplerate;
        m_info.channels = m_info.file_channels = sfinfo.channels;
        // libsndfile reports SF_COUNT_MAX when a stream's length is unknown (cut Ogg files).
        m_info.frames = sfinfo.frames > 0 && sfinfo.frames < SF_COUNT_MAX / 2 ? sfinfo.frames : -1;
        m_info.decoder = "libsndfile";
        m_info.roles = default_roles(sfinfo.channels);
        if (sfinfo.channels > 2) {
            std::vector<int> map(size_t(sfinfo.channels), 0);
            if (sf_command(m_file, SFC_GET_CHANNEL_MAP_INFO, map.data(), int(map.size() * sizeof(int))) == SF_TRUE)
                for (size_t c = 0; c < map.size(); ++c) m_info.roles[c] = role_of(map[c]);
        }
        SF_FORMAT_INFO fi{};
        fi.format = sfinfo.format & SF_FORMAT_TYPEMASK;
        if (sf_command(nullptr, SFC_GET_FORMAT_INFO, &fi, sizeof fi) == 0 && fi.name)
            m_info.format = fi.name;
        SF_FORMAT_INFO sub{};
        sub.format = sfinfo.format & SF_FORMAT_SUBMASK;
        if (sf_command(nullptr, SFC_GET_FORMAT_INFO, &sub, sizeof sub) == 0 && sub.name)
            m_info.format += std::string(" / ") + sub.name;
        // MP3 lengths are estimates from the bit rate (no exact count without a Xing/LAME
        // header): only a shortfall over 1 s and 2 % means a cut file. Other formats declare
        // exact lengths.
        const bool mpeg = (sfinfo.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_MPEG;
        m_tolerance_frames = mpeg ? std::max<std::int64_t>(sfinfo.samplerate, m_info.frames / 50) : sfinfo.samplerate / 10;
        // Integer formats are scaled to [-1, 1); floats are passed through unclipped.
        sf_command(m_file, SFC_SET_NORM_FLOAT, nullptr, SF_TRUE);
    }
    ~SndfileSource() override { sf_close(m_file); }

    const StreamInfo& info() const override { return m_info; }

    size_t read(float* interleaved, size_t frames) override {
        if (m_done) return 0;
        sf_count_t got = sf_readf_float(m_file, interleaved, static_cast<sf_count_t>(frames));
        if (got < 0) got = 0;
        m_read += got;
        if (static_cast<size_t>(got) < frames) {
            m_done = true;
            int err = sf_error(m_file);
            if (err != SF_ERR_NO_ERROR) {
                if (m_read == 0)
                    throw Error(ErrorKind::decode, m_path + ": " + sf_strerror(m_file));
                m_truncated = true;
                m_reason = sf_strerror(m_file);
            } else if (!m_header_shortfall.empty()) {
                m_truncated = true;
                m_reason = m_header_shortfall;
            } else if (m_info.frames > 0 && m_info.frames - m_read > m_tolerance_frames) {
                // The header promised more than the stream holds: a cut-off download.
                m_truncated = true;
                m_reason = "stream ends at " + std::to_string(m_read) + " of " +
                           std::to_string(m_info.frames) + " declared frames";
            }
        }
        return static_cast<size_t>(got);
    }
    bool truncated() const override { return m_truncated; }
    std::string truncation_reason() const override { return m_reason; }

private:
    SNDFILE* m_file;
    std::string m_path;
    std::string m_header_shortfall;
    StreamInfo m_info;
    std::int64_t m_read = 0;
    std::int64_t m_tolerance_frames = 0;
    bool m_done = false;
    bool m_truncated = false;
    std::string m_reason;
};

class FfmpegSource final : public Source {
public:
    FfmpegSource(const std::string& ffmpeg, const std::string& path, int rate, int channels,
                 double duration_s, const std::string& codec, double stall_s)
        // "file:" keeps a name like "Live: Song.m4a" from being read as a protocol; more than
        // two channels are folded to stereo by ffmpeg, which knows the layout.
        : m_path(path),
          m_pipe({ffmpeg, "-nostdin", "-v", "error", "-protocol_whitelist", "file", "-i", "file:" + path, "-map", "0:a:0",
                  "-vn", "-f", "f32le", "-acodec", "pcm_f32le", "-ar", std::to_string(rate), "-ac",
                  std::to_string(std::min(channels, 2)), "-"},
                 stall_s) {
        m_info.sample_rate = rate;
        m_info.file_channels = channels;
        m_info.channels = std::min(channels, 2);
        m_info.roles = default_roles(m_info.channels);
        m_info.frames = duration_s > 0 ? static_cast<std::int64_t>(duration_s * rate) : -1;
        m_info.decoder = "ffmpeg";
        m_info.format = codec;
    }
    const StreamInfo& info() const override { return m_info; }

    size_t read(float* interleaved, size_t frames) override {
        if (m_done) return 0;
        const size_t frame_bytes = sizeof(float) * static_cast<size_t>(m_info.channels);
        size_t got = 0;
        try {
            got = m_pipe.read(interleaved, frames * frame_bytes) / frame_bytes;
        } catch (const Error& e) {
            throw Error(e.kind(), m_path + ": ffmpeg: " + e.what());
        }
        m_read += static_cast<std::int64_t>(got);
        if (got < frames) {
            m_done = true;
            int rc = m_pipe.wait();
            std::string err = m_pipe.err_text();
            while (!err.empty() && (err.back() == '\n' || err.back() == '\r')) err.pop_back();
            if (auto nl = err.rfind('\n'); nl != std::string::npos) err = err.substr(nl + 1);
            if (rc != 0 || !err.empty()) {
                if (m_read == 0)
                    throw Error(ErrorKind::decode,
                                m_path + ": ffmpeg: " + (err.empty() ? "decoding failed" : err));
                m_truncated = true;
                m_reason = err.empty() ? "ffmpeg exited with " + std::to_string(rc) : err;
            }
        }
        return got;
    }
    bool truncated() const override { return m_truncated; }
    std::string truncation_reason() const override { return m_reason; }

private:
    std::string m_path;
    core::ReadPipe m_pipe;
    StreamInfo m_info;
    std::int64_t m_read = 0;
    bool m_done = false;
    bool m_truncated = false;
    std::string m_reason;
};

std::string ffmpeg_binary(const OpenOptions& options) {
    if (!options.ffmpeg_path.empty()) return core::find_executable(options.ffmpeg_path);
    if (const char* env = std::getenv("HITDNA_FFMPEG"); env && *env) return core::find_executable(env);
    return core::find_executable("ffmpeg");
}

std::unique_ptr<Source> open_ffmpeg(const std::string& ffmpeg, const std::string& path,
                                    const std::string& sndfile_reason, double stall_s) {
    // ffprobe sits next to ffmpeg in every distribution of it.
    std::string ffprobe = ffmpeg.substr(0, ffmpeg.find_last_of('/') + 1) + "ffprobe";
    if (access(ffprobe.c_str(), X_OK) != 0) ffprobe = core::find_executable("ffprobe");
    if (ffprobe.empty())
        throw Error(ErrorKind::decode, path + ": cannot decode (libsndfile: " + sndfile_reason +
                                           "); ffprobe is missing next to " + ffmpeg);
    core::ProcessResult probe;
    try {
        probe = core::run_process({ffprobe, "-v", "error", "-select_streams", "a:0",
                                    "-show_entries", "stream=sample_rate,channels,codec_name:format=duration",
                                    "-of", "default=noprint_wrappers=1", "file:" + path}, stall_s);
    } catch (const Error& e) {
        throw Error(e.kind(), path + ": ffprobe: " + e.what());
    }
    int rate = 0, channels = 0;
    double duration = -1;
    std::string codec;
    size_t pos = 0;
    while (pos < probe.out.size()) {
        size_t nl = probe.out.find('\n', pos);
        std::string line = probe.out.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
        pos = nl == std::string::npos ? probe.out.size() : nl + 1;
        auto eq = line.find('=');
        if (eq == std::string::npos) continue;
        std::string key = line.substr(0, eq), value = line.substr(eq + 1);
        if (key == "sample_rate") rate = std::atoi(value.c_str());
        else if (key == "channels") channels = std::atoi(value.c_str());
        else if (key == "codec_name") codec = value;
        else if (key == "duration" && value != "N/A") duration = std::atof(value.c_str());
    }
    if (probe.exit_code != 0 || rate == 0 || channels == 0) {
        std::string err = probe.err;
        while (!err.empty() && (err.back() == '\n' || err.back() == '\r')) err.pop_back();
        if (auto nl = err.rfind('\n'); nl != std::string::npos) err = err.substr(nl + 1);
        if (err.empty()) err = "no audio stream";
        throw Error(ErrorKind::decode, path + ": not a decodable audio file (libsndfile: " +
                                           sndfile_reason + "; ffmpeg: " + err + ")");
    }
    check_shape(path, rate, channels);
    return std::make_unique<FfmpegSource>(ffmpeg, path, rate, channels, duration, codec, stall_s);
}

// True when the first bytes are plain text: no audio container starts that way, and
// probing such a file with every decoder only produces noise on stderr.
bool looks_like_text(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return false;
    unsigned char buf[512];
    size_t n = std::fread(buf, 1, sizeof buf, f);
    std::fclose(f);
    if (n == 0) return false;
    for (size_t i = 0; i < n; ++i) {
        unsigned char c = buf[i];
        if (c == '\n' || c == '\r' || c == '\t' || (c >= 0x20 && c < 0x7f) || c >= 0x80) continue;
        return false;
    }
    // Audio headers carry binary bytes within 512 bytes; UTF-8 text has no NUL or control bytes.
    return true;
}

}  // namespace

void stereo_fold_gains(const std::vector<ChannelRole>& roles, std::vector<float>& left, std::vector<float>& right) {
    constexpr float g = 0.70710678f;
    left.assign(roles.size(), 0.0f);
    right.assign(roles.size(), 0.0f);
    for (size_t c = 0; c < roles.size(); ++c) {
        switch (roles[c]) {
            case ChannelRole::mono: left[c] = right[c] = 1.0f; break;
            case ChannelRole::left: left[c] = 1.0f; break;
            case ChannelRole::right: right[c] = 1.0f; break;
            case ChannelRole::centre:
            case ChannelRole::surround_centre: left[c] = right[c] = g; break;
            case ChannelRole::surround_left: left[c] = g; break;
            case ChannelRole::surround_right: right[c] = g; break;
            case ChannelRole::lfe: break;
            case ChannelRole::other: left[c] = right[c] = 0.5f; break;
        }
    }
}

std::unique_ptr<Source> open(const std::string& path, const OpenOptions& options) {
    struct stat st{};
    if (stat(path.c_str(), &st) != 0)
        throw Error(ErrorKind::io, path + ": " + std::strerror(errno));
    if (S_ISDIR(st.st_mode)) throw Error(ErrorKind::io, path + ": is a directory, not an audio file");
    if (access(path.c_str(), R_OK) != 0)
        throw Error(ErrorKind::io, path + ": " + std::strerror(errno));
    if (st.st_size == 0) throw Error(ErrorKind::decode, path + ": empty file (0 bytes)");
    if (looks_like_text(path)) throw Error(ErrorKind::decode, path + ": not an audio file (its content is plain text)");

    SF_INFO sfinfo{};
    SNDFILE* file = sf_open(path.c_str(), SFM_READ, &sfinfo);
    std::string reason;
    if (file) {
        if (sfinfo.channels >= 1 && sfinfo.samplerate > 0) {
            try {
                check_shape(path, sfinfo.samplerate, sfinfo.channels);
            } catch (...) {
                sf_close(file);
                throw;
            }
            const int type = sfinfo.format & SF_FORMAT_TYPEMASK;
            std::string shortfall = (type == SF_FORMAT_WAV || type == SF_FORMAT_WAVEX) ? riff_shortfall(path, std::int64_t(st.st_size)) : "";
            // A whole Ogg file ends with a page carrying the final sample position; libsndfile
            // reports an unknown length (SF_COUNT_MAX) when that page is missing.
            if (type == SF_FORMAT_OGG && sfinfo.frames >= SF_COUNT_MAX / 2)
                shortfall = "the Ogg stream has no final page (the file was cut short)";
            return std::make_unique<SndfileSource>(file, sfinfo, path, std::move(shortfall));
        }
        sf_close(file);
        reason = "no audio frames";
    } else {
        reason = sf_strerror(nullptr);
    }
    std::string ffmpeg = options.allow_ffmpeg ? ffmpeg_binary(options) : "";
    if (ffmpeg.empty()) {
        std::string ext = lower_ext(path);
        std::string hint = (ext == "m4a" || ext == "aac" || ext == "mp4" || ext == "webm" ||
                            ext == "wma" || ext == "alac")
                               ? "; ." + ext + " needs ffmpeg, which is not installed (apt-get install ffmpeg)"
                               : (options.allow_ffmpeg ? "; ffmpeg is not installed as a fallback" : "");
        if (!options.allow_ffmpeg && !hint.empty() && hint.find("needs ffmpeg") != std::string::npos)
            hint = "; ." + ext + " needs ffmpeg, which --no-ffmpeg disabled";
        throw Error(ErrorKind::decode, path + ": cannot decode (libsndfile: " + reason + ")" + hint);
    }
    return open_ffmpeg(ffmpeg, path, reason, options.stall_s);
}

}  // namespace hitdna::audio
