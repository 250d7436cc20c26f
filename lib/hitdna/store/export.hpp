#pragma once
// The catalog as a table: one row per track (or per section), for pandas, R or a spreadsheet.
// Column names are stable snake_case: the metadata columns, then every scalar of the four DNA
// layers named by its JSON path (audio.rhythm.groove -> audio_rhythm_groove); the list comes
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
    ExportFormat format = ExportFormat::csv;
};

// The columns, in order, of a track or section export.
std::vector<std::string> export_columns(bool sections);

// Writes the rows (csv: RFC 4180 with a header row; jsonl: one object per row with the same
// keys, numbers as numbers, empty cells as null; jams: one JAMS document per track). Returns
// the number of rows.
size_t export_catalog(Catalog& catalog, const ExportOptions& options, std::ostream& out);

}  // namespace hitdna::store
