#pragma once
// The catalog as a table: one row per track (or per section), for pandas, R or a spreadsheet.
// Column names are stable snake_case: the metadata columns, the Spotify-style estimates
// (dna/spotify_style.hpp), then every scalar of the four DNA layers named by its JSON path
// (audio.rhythm.groove -> audio_rhythm_groove); the list comes
// from the DNA's JSON shape, not from the rows, so every export of one analysis_version has the
// same columns (export_columns; man hitdna-export lists them).
#include <iosfwd>
#include <string>
#include <vector>

#include "hitdna/store/catalog.hpp"
#include "hitdna/store/filter.hpp"

namespace hitdna::store {

enum class ExportFormat { csv, jsonl, jams };

struct ExportOptions {
    Filter filter;
    bool sections = false;   // one row per section instead of per track
    bool spotify = false;    // Spotify's audio-features names and encodings (key 0..11/-1, mode 1/0, ...)
    ExportFormat format = ExportFormat::csv;
};

// The columns, in order, of the rows `options` asks for.
std::vector<std::string> export_columns(const ExportOptions& options);

// Writes the rows (csv: RFC 4180 with a header row; jsonl: one object per row with the same
// keys, numbers as numbers, empty cells as null; jams: one JAMS document per track). Returns
// the number of rows.
size_t export_catalog(Catalog& catalog, const ExportOptions& options, std::ostream& out);

}  // namespace hitdna::store
