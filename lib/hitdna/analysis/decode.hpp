#pragma once
// The streaming pass of the analysis: decode, repair, fold down to stereo, measure loudness
// and the stereo image at the file's rate, resample the mid channel and extract the frame
// features, block by block, so that memory does not grow with the raw signal.
#include <string>

#include "hitdna/analysis/features.hpp"
#include "hitdna/analysis/production_stream.hpp"
#include "hitdna/audio/source.hpp"

namespace hitdna::analysis {

struct DecodedAudio {
    FrameFeatures features;         // of the mid channel, at k_analysis_rate_hz
    ProductionRaw production;       // of the stereo fold-down; sample_peak_dbfs of the original samples
    double folded_peak_dbfs = 0;    // peak of the fold-down, the signal the loudness was measured on
    long long frames = 0;           // frames decoded, at the file's rate
    long long non_finite_samples = 0;  // NaN/inf samples, replaced by silence
};

// Decodes all of `source` (on a second thread when `prefetch` and there are two cores) and
// returns its features. Throws Error(decode) naming `name` when no frame decodes, and rethrows
// what the source throws.
DecodedAudio decode_and_extract(audio::Source& source, const std::string& name, double timeline_hop_s, bool prefetch);

}  // namespace hitdna::analysis
