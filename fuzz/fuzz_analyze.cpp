// libFuzzer target over decode + analyze: any bytes must give a DNA or a hitdna::Error,
// never a crash, a hang or a sanitizer report.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "hitdna/analysis/analyze.hpp"
#include "hitdna/core/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    int fd = memfd_create("hitdna-fuzz", 0);
    if (fd < 0) return 0;
    size_t off = 0;
    while (off < size) {
        ssize_t n = write(fd, data + off, size - off);
        if (n <= 0) break;
        off += size_t(n);
    }
    const std::string path = "/proc/self/fd/" + std::to_string(fd);
    hitdna::analysis::AnalyzeOptions options;
    options.open.allow_ffmpeg = false;  // no child processes inside the fuzzer
    try {
        auto src = hitdna::audio::open(path, options.open);
        // Bound the work per input: a tiny header may declare hours of audio.
        if (src->info().frames < 0 || src->info().frames <= 30LL * src->info().sample_rate)
            (void)hitdna::analysis::analyze_source(*src, path, options);
    } catch (const hitdna::Error&) {
    }
    close(fd);
    return 0;
}
