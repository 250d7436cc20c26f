#pragma once
// Fixed-length named vectors of the Hit DNA, one per layer plus one per section. Every
// dimension is named and described here; `hitdna analyze --list-dimensions` prints the table
// and man/hitdna-analyze.1 reproduces it (a test checks they agree).
#include <string>
#include <vector>

#include "hitdna/dna/dna.hpp"

namespace hitdna::dna {

enum class Space { audio, structure, emotion, production, section };

struct Dimension {
    const char* name;
    const char* description;
};

const std::vector<Dimension>& dimensions(Space space);
const char* to_string(Space space);

struct VectorContext {
    const std::vector<float>& chroma;  // chroma frames x 12, power per pitch class
    double chroma_fps;
    const std::vector<float>& mfcc;    // frames x 13
    const std::vector<float>& bands;   // frames x 7, power per fixed band (dsp::k_band_names)
    double fps;
};

// Builds all vectors from a finished Dna (every layer filled in).
Vectors make_vectors(const Dna& dna, const VectorContext& context);

}  // namespace hitdna::dna
