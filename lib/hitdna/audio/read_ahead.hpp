#pragma once
// Read-ahead: decodes a Source on a second thread, a few blocks ahead, so that decoding (the
// costly part for Vorbis, Opus and MP3) overlaps with the work done on earlier blocks.
#include <cstddef>
#include <memory>
#include <vector>

#include "hitdna/audio/source.hpp"

namespace hitdna::audio {

class ReadAhead {
public:
    // Reads `source` in blocks of block_frames frames; with threaded = false every block is
    // read on the caller's thread when asked for. `source` must outlive the reader.
    ReadAhead(Source& source, size_t block_frames, bool threaded);
    ~ReadAhead();
    ReadAhead(const ReadAhead&) = delete;
    ReadAhead& operator=(const ReadAhead&) = delete;

    // Fills `out` with the next block (interleaved); returns its frame count, 0 at the end.
    // Rethrows what the decoder threw.
    size_t next(std::vector<float>& out);

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

}  // namespace hitdna::audio
