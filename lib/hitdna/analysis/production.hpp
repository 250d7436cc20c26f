#pragma once
// The production layer, from the frame features and the stereo measurements.
#include <vector>

#include "hitdna/analysis/features.hpp"
#include "hitdna/analysis/production_stream.hpp"
#include "hitdna/dna/dna.hpp"

namespace hitdna::analysis {

// measured_peak_dbfs: the peak of the signal the loudness was measured on (the stereo
// fold-down), for crest factor and PLR; raw.sample_peak_dbfs is the original samples' peak.
dna::ProductionLayer summarize_production(const FrameFeatures& ff, const ProductionRaw& raw, const std::vector<int>& onset_peaks,
                                          double tuning_cents, double measured_peak_dbfs, bool silent);

}  // namespace hitdna::analysis
