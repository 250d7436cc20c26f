#include "hitdna/dna/spotify_style.hpp"

#include <algorithm>
#include <cmath>

namespace hitdna::dna {
namespace {

double clamp01(double v) { return std::clamp(v, 0.0, 1.0); }
double r3(double v) { return std::round(clamp01(v) * 1000) / 1000; }

double tempo_fit(const std::optional<double>& bpm) {
    if (!bpm) return 0;
    if (*bpm < 95) return clamp01((*bpm - 60) / 35);
    if (*bpm > 135) return clamp01((180 - *bpm) / 45);
    return 1;
}

}  // namespace

SpotifyStyle spotify_style(const Dna& d) {
    const AudioLayer& a = d.audio;
    const ProductionLayer& p = d.production;
    SpotifyStyle s;
    if (d.duration_s <= 0 || std::find(d.flags.begin(), d.flags.end(), "silent") != d.flags.end()) return s;
    s.danceability = r3(0.4 * a.pulse_clarity + 0.2 * a.tempo_stability + 0.2 * tempo_fit(a.bpm) + 0.2 * a.groove);
    s.energy = r3(0.35 * clamp01((p.integrated_lufs + 30) / 22) + 0.25 * d.emotion.mean_intensity + 0.2 * clamp01(a.onset_rate_per_s / 8) +
                  0.2 * clamp01((a.spectral_centroid_hz - 300) / 2700));
    s.valence = r3((d.emotion.valence + 1) / 2);
    // Speech pauses between syllables and has no steady beat; sparse percussive music pauses
    // too, but on a pulse.
    const double speech_cue = 0.5 * clamp01((a.low_energy_share - 0.25) / 0.25) + 0.5 * clamp01((a.attack_drop_db - 5) / 6);
    const double speech = clamp01(speech_cue * (1 - 0.8 * a.pulse_clarity));
    s.speechiness = r3(speech);
    s.acousticness = r3(clamp01((a.decay_share - 0.5) / 0.35) * (1 - 0.5 * clamp01(p.sub_presence / 0.25)));
    const double glide =
        p.pitch_quantization ? clamp01((0.5 - *p.pitch_quantization) / 0.4) * clamp01((p.melody_coverage - 0.2) / 0.3) : 0.0;
    s.instrumentalness = r3(1 - clamp01(1.25 * (0.7 * speech + 0.3 * glide)));
    s.liveness = a.bpm ? r3((0.5 * (1 - a.tempo_stability) + 0.5 * clamp01((p.plr_db - 12) / 8)) * (1 - speech)) : 0.0;
    return s;
}

}  // namespace hitdna::dna
