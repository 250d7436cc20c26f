#pragma once
// Mastering of a rendered sketch: stereo width toward the target (mid/side), loudness to the
// target (BS.1770 integrated loudness, libebur128) and a true-peak limiter (peaks found on the
// signal interpolated at 4x, as BS.1770's true-peak meter does).
#include <vector>

namespace hitdna::sketch {

struct MasterOptions {
    double target_lufs = -14;      // LUFS
    double ceiling_dbtp = -1;      // dBTP
    double target_width = -1;      // side / (mid + side) energy, 0..1 (as hitdna analyze defines it); < 0 leaves it alone
    double max_limit_db = 12;      // the most the limiter may take off the loudest peak, dB (heuristic: more flattens the arc)
};

struct MasterReport {
    double width_before = 0, width_after = 0;   // side / (mid + side) energy over the song, 0..1
    double side_gain = 1;                       // the side signal's factor
    double lufs_before = 0, lufs_after = 0;     // LUFS
    double gain_db = 0;                         // make-up gain, dB
    double true_peak_dbtp = 0;                  // after limiting, dBTP (the limiter's 4x interpolation)
    double limited_share = 0;                   // share of samples the limiter turned down, 0..1
    bool gain_capped = false;                   // the target loudness needed more than max_limit_db of limiting
};

// Masters interleaved stereo in place. Throws Error(internal) when libebur128 fails.
MasterReport master(std::vector<float>& stereo, int sample_rate, const MasterOptions& options);

// Integrated loudness (LUFS) of interleaved stereo, by libebur128.
double integrated_lufs(const std::vector<float>& stereo, int sample_rate);

}  // namespace hitdna::sketch
