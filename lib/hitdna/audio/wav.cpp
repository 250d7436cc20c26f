#include "hitdna/audio/wav.hpp"

#include <sndfile.h>

#include "hitdna/core/error.hpp"

namespace hitdna::audio {

void write_wav(const std::string& path, const std::vector<float>& samples, int sample_rate_hz, int channels) {
    SF_INFO info{};
    info.samplerate = sample_rate_hz;
    info.channels = channels;
    info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
    if (!f) throw Error(ErrorKind::io, path + ": cannot write: " + sf_strerror(nullptr));
    const sf_count_t frames = sf_count_t(samples.size() / size_t(channels));
    const sf_count_t wrote = sf_writef_float(f, samples.data(), frames);
    const int rc = sf_close(f);
    if (wrote != frames || rc != 0) throw Error(ErrorKind::io, path + ": short write (disk full?)");
}

}  // namespace hitdna::audio
