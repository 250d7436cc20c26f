#pragma once
// Texture of the level envelope in the 250 Hz - 6 kHz band (the band where voices and the
// bodies of most instruments sit), from the frame features:
//
// - low-energy share: frames whose power is under half the mean power of the second around
//   them (Scheirer & Slaney's speech/music cue: speech pauses between syllables, music mostly
//   does not);
// - decay share: among frames whose level moves by less than 3 dB, the share in which it
//   falls (struck and plucked notes decay freely; synthesizers, organs, bowed and blown
//   notes hold);
// - attack drop: the median fall of the level 0.2-0.4 s after an attack (syllables end within
//   a quarter second, notes of a mix overlap).
#include "hitdna/analysis/features.hpp"
#include "hitdna/dna/dna.hpp"

namespace hitdna::analysis {

void fill_texture(dna::AudioLayer& a, const FrameFeatures& ff, bool silent);

}  // namespace hitdna::analysis
