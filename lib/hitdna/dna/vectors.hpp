#pragma once
// Fixed-length named vectors of the Hit DNA, one per layer plus one per section. Every
// dimension is named and described here; `hitdna analyze --list-dimensions` prints the table
// and man/hitdna-analyze.1 reproduces it (a test checks they agree).
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hitdna/dna/dna.hpp"

namespace hitdna::dna {

// The vector spaces: one vector per track in each of the four layer spaces, and one per
// section in `sections`. Their names are the ones --space, --weights, JSON keys, the catalog
// and the index files use.
enum class Space { audio, structure, emotion, production, sections };
inline constexpr std::array<Space, 5> k_spaces = {Space::audio, Space::structure, Space::emotion, Space::production, Space::sections};
inline constexpr std::array<Space, 4> k_track_spaces = {Space::audio, Space::structure, Space::emotion, Space::production};
inline constexpr bool is_track_space(Space space) { return space != Space::sections; }

struct Dimension {
    const char* name;
    const char* description;
    // The unit a person reads the dimension in, undoing the description's scaling: value =
    // offset + scale x vector value ("BPM" is 120 x 2^value instead; "m:ss" is seconds written
    // as minutes and seconds). "" for dimensions that are already a 0..1 or -1..1 score.
    const char* unit = "";
    double scale = 1, offset = 0;
};

const std::vector<Dimension>& dimensions(Space space);
// One dimension's vector value in its unit ("118 BPM", "0:30", "-8.0 LUFS", "12 %"; "0.42"
// for a score). Clamped values read as their clamp (a tempo_log2 of 1 is "240 BPM").
std::string in_units(const Dimension& dimension, double value);
// "audio", "structure", "emotion", "production", "sections".
const char* to_string(Space space);
// The name of one vector of a space: the space's name, but "section" for a section's vector
// (as --list-dimensions prints it).
const char* vector_name(Space space);
// A space by name ("section" is taken for "sections"), or nullopt.
std::optional<Space> parse_space(std::string_view name);

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
