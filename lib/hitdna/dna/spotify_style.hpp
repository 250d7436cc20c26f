#pragma once
// Spotify-style features: estimates under the names of the audio-features fields that
// researchers know (danceability, energy, valence, acousticness, instrumentalness,
// speechiness, liveness; 0..1), each a documented formula over hitdna's own measurements.
// They are NOT Spotify's model and do not reproduce its values; Spotify's endpoint has been
// closed to new apps since November 2024. The formulas (also in man hitdna-export):
//
//   tempo_fit        = 1 for 95..135 BPM, falling linearly to 0 at 60 and 180 BPM; 0 without a beat
//   danceability     = 0.4 pulse_clarity + 0.2 tempo_stability + 0.2 tempo_fit + 0.2 groove
//   energy           = 0.35 clamp((integrated_lufs + 30) / 22) + 0.25 mean_intensity
//                      + 0.2 clamp(onset_rate_per_s / 8) + 0.2 clamp((spectral_centroid_hz - 300) / 2700)
//   valence          = (emotion valence + 1) / 2
//   speechiness      = (0.5 clamp((low_energy_share - 0.25) / 0.25) + 0.5 clamp((attack_drop_db - 5) / 6))
//                      * (1 - 0.8 pulse_clarity)
//   acousticness     = clamp((decay_share - 0.5) / 0.35) * (1 - 0.5 clamp(sub_presence / 0.25))
//   glide            = clamp((0.5 - pitch_quantization) / 0.4) * clamp((melody_coverage - 0.2) / 0.3)
//                      (0 when there is no clear melody)
//   instrumentalness = 1 - clamp(1.25 (0.7 speechiness + 0.3 glide))
//   liveness         = (0.5 (1 - tempo_stability) + 0.5 clamp((plr_db - 12) / 8)) * (1 - speechiness)
//                      (0 for a recording without a beat)
//
// clamp() limits to 0..1. Speechiness and acousticness are checked on constructed audio in
// the tests (tests/test_spotify_style.cpp); the other five are heuristics with no truth behind
// their weights.
#include "hitdna/dna/dna.hpp"

namespace hitdna::dna {

SpotifyStyle spotify_style(const Dna& d);

}  // namespace hitdna::dna
