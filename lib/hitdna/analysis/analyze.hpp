#pragma once
// The analysis pipeline: decode -> streaming features -> the four Hit DNA layers.
#include <string>

#include "hitdna/analysis/rhythm.hpp"
#include "hitdna/analysis/structure.hpp"
#include "hitdna/audio/source.hpp"
#include "hitdna/dna/dna.hpp"

namespace hitdna::analysis {

struct AnalyzeOptions {
    double timeline_hop_s = 1.0;   // resolution of every curve over time
    bool prefetch = true;          // decode on a second thread, overlapping the analysis
    audio::OpenOptions open;
    TempoParams tempo;
    StructureParams structure;
};

// Decodes and analyzes one file. Throws Error(io|decode) naming the file and the cause.
dna::Dna analyze_file(const std::string& path, const AnalyzeOptions& options = {});

// Analyzes an already-open source; `name` is reported as the file.
dna::Dna analyze_source(audio::Source& source, const std::string& name, const AnalyzeOptions& options = {});

// Analyzes interleaved samples in memory (tests, generated signals).
dna::Dna analyze_samples(const float* interleaved, size_t frames, int sample_rate_hz, int channels,
                         const std::string& name, const AnalyzeOptions& options = {});

}  // namespace hitdna::analysis
