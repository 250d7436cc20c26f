#pragma once
// The DNA's time annotations as a JAMS document (JSON Annotated Music Specification, the
// research community's format; schema and namespaces in data/jams/), so that hitdna can be
// scored with mir_eval next to any other MIR system.
#include <string>

#include "hitdna/dna/dna.hpp"

namespace hitdna::dna {

// One JAMS document on one line. Annotations, each with annotation_metadata naming hitdna and
// its analysis_version: beat (tracked beats, value null: no metrical position), tempo (the
// song's tempo over the song, confidence = bpm_confidence, then each held change to the end of
// its span), key_mode (the song's key; a second key_mode annotation with one observation per
// section, sandbox.scope = "section"), chord (hitdna's triads as C:maj / A:min, N), segment_open
// (section labels A, B, ...) and segment_salami_function (section roles: hook -> chorus,
// pre-hook -> pre-chorus, the others as named). No beat, key or section: that annotation is
// left out.
std::string to_jams_string(const Dna& dna);

// The same from a DNA's JSON as the catalog stores it, with the track's title and artist
// ("" title: the file name); throws std::invalid_argument when it is not a JSON object.
std::string jams_from_dna_json(const std::string& dna_json, const std::string& title, const std::string& artist);

}  // namespace hitdna::dna
