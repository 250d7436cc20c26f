#pragma once
// Analyses made elsewhere into the catalog: the JSON Lines of 'hitdna analyze -f jsonl
// --vectors' (one analysis per line, with its content hash and tags) stored without analyzing
// again. Lines of another analysis_version, without vectors or content hash, or with vectors of
// the wrong size are reported as NAME:LINE: cause and skipped; a content hash the catalog knows
// only merges metadata.
#include <iosfwd>
#include <string>

#include "hitdna/ingest/ingest.hpp"

namespace hitdna::ingest {

// Reads `in` (named `name` in messages); source, genres, tags and update_index of `options`
// apply. Counts: inputs (lines), added, known, bad_rows (skipped lines); exit_code 1 when a
// line was skipped.
IngestResult import_dna(store::Catalog& catalog, const IngestOptions& options, std::istream& in, const std::string& name, std::ostream& err);

}  // namespace hitdna::ingest
