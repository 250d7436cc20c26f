#pragma once
// `hitdna report`: one static HTML page (no scripts, no network) about a track or a
// generation: the plot, the sections, the four layers as tables with units, the nearest
// catalog hits with a plot over their aggregate, and for a generation its target and attempts.
#include <iosfwd>
#include <string>

#include "hitdna/analysis/analyze.hpp"

namespace hitdna::report {

struct ReportRequest {
    std::string input;                 // audio file, DNA JSON, generation record, track id or generation id
    std::string db;                    // catalog for ids and nearest hits; "" = $HITDNA_DB or the default
    size_t k = 5;                      // nearest hits listed (0 = none)
    analysis::AnalyzeOptions analyze;
};

// The page. Throws as resolve_inputs does; Error(db) for catalog trouble.
std::string html_report(const ReportRequest& request, std::ostream& log);

}  // namespace hitdna::report
