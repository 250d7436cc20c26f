#include "signals.hpp"

#include <sndfile.h>

#include <stdexcept>

namespace hitdna::test {

void write_audio(const std::string& path, const Signal& s) {
    SF_INFO info{};
    info.samplerate = s.rate;
    info.channels = s.channels;
    const std::string ext = path.substr(path.find_last_of('.') + 1);
    if (ext == "flac") info.format = SF_FORMAT_FLAC | SF_FORMAT_PCM_16;
    else if (ext == "ogg") info.format = SF_FORMAT_OGG | SF_FORMAT_VORBIS;
    else info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
    if (!f) throw std::runtime_error(path + ": " + sf_strerror(nullptr));
    sf_writef_float(f, s.samples.data(), sf_count_t(s.frames()));
    sf_close(f);
}

}  // namespace hitdna::test
