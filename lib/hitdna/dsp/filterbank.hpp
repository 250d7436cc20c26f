#pragma once
// Spectral mappings applied to a power spectrum: mel bands, pitch-class (chroma) and
// fixed-frequency band energies. Each is a sparse weight table built once per rate/size.
#include <array>
#include <vector>

namespace hitdna::dsp {

struct SparseBand {
    int first_bin = 0;
    std::vector<float> weights;  // weights for bins first_bin, first_bin + 1, ...
};

// Triangular mel filters (Slaney mel scale, area-normalized) between min_hz and max_hz.
std::vector<SparseBand> mel_filters(int n_mels, int n_fft, double sample_rate_hz, double min_hz,
                                    double max_hz);

// Applies bands to a power spectrum.
void apply_bands(const std::vector<SparseBand>& bands, const float* power, float* out);

// Pitch-class map: each bin between min_hz and max_hz is spread over the two nearest
// semitones (relative to A4 = 440 Hz * 2^(tuning_cents/1200)); bins below the semitone
// resolution are skipped.
struct ChromaMap {
    std::vector<int> bin;
    std::vector<int> pitch_class;  // 0 = C
    std::vector<float> weight;
};
ChromaMap chroma_map(int n_fft, double sample_rate_hz, double min_hz, double max_hz,
                     double tuning_cents = 0.0);
void apply_chroma(const ChromaMap& map, const float* power, float* chroma12);

// Harmony chroma from a whitened semitone spectrum. The power spectrum is read as amplitude
// per semitone (bins split between the two nearest semitones, as for chroma_map) from
// k_lowest_midi up to max_hz; each semitone keeps only what stands above the mean amplitude of
// the octave around it (the first half of the spectral whitening of Mauch & Dixon 2010,
// "Approximate note transcription for the improved identification of difficult chords"), so
// a broadband floor (kick drums, distortion, noise) no longer adds to every pitch class and
// amplitude, not power, weighs the notes; semitones up to k_highest_midi are folded into pitch
// classes, scaled so that the frame's total amplitude is kept, and squared (power per pitch
// class, like apply_chroma). Also dividing by the octave's standard deviation read 2 points
// more bar chords on bench_forms' tune split but lost a distorted triad test that this keeps.
struct SemitoneMap {
    static constexpr int k_lowest_midi = 36;   // C2, 65.4 Hz
    static constexpr int k_highest_midi = 95;  // B6, 1976 Hz: the highest semitone folded
    int n_rows = 0;                            // semitones k_lowest_midi .. up to max_hz
    std::vector<int> bin, row;
    std::vector<float> weight;
};
SemitoneMap semitone_map(int n_fft, double sample_rate_hz, double max_hz = 4200.0);
void apply_whitened_chroma(const SemitoneMap& map, const float* power, float* chroma12);

// DCT-II (orthonormal) of n inputs to n_out coefficients, as a dense matrix.
std::vector<float> dct_matrix(int n_in, int n_out);

// The fixed bands reported as the spectrum over time (Hz edges, documented in the man page).
constexpr int k_num_bands = 7;
constexpr std::array<double, k_num_bands + 1> k_band_edges_hz = {20, 60, 250, 500, 2000, 4000, 6000, 11000};
constexpr std::array<const char*, k_num_bands> k_band_names = {"sub", "bass", "low_mid", "mid", "high_mid", "presence", "brilliance"};
std::vector<SparseBand> fixed_bands(int n_fft, double sample_rate_hz);

}  // namespace hitdna::dsp
