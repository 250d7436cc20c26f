#include <iostream>
#include <memory>

#include "commands.hpp"
#include "hitdna/report/html.hpp"

namespace hitdna::cli {

Runner register_report(CLI::App& app) {
    struct State {
        report::ReportRequest r;
        std::string out;
    };
    auto st = std::make_shared<State>();
    app.footer(
        "One static HTML page (no scripts, no network): the plot of hitdna plot, the four layers as tables with\n"
        "units, the nearest hits from the catalog (when there is one), and for a generation its target, every\n"
        "attempt and its validation scores. Exit status: 0 written, 2 usage, 3/4 audio unreadable/undecodable,\n"
        "5 database error. See man hitdna-report.");
    app.add_option("input", st->r.input, "Audio file, DNA JSON, generation record, catalog track id or generation id")->required();
    app.add_option("-o,--output", st->out, "HTML file (- for stdout)")->required();
    app.add_option("-k", st->r.k, "Nearest hits to list (default 5; 0 = none)")->check(CLI::Range(0, 100));
    app.add_flag("--no-ffmpeg", [st](int64_t) { st->r.analyze.open.allow_ffmpeg = false; }, "Never fall back to ffmpeg for decoding");
    app.add_option("--db", st->r.db, "Catalog for ids and nearest hits (default: $HITDNA_DB, else ~/.local/share/hitdna/hitdna.db)");
    return [st]() -> int {
        write_output(st->out, report::html_report(st->r, std::cerr));
        return 0;
    };
}

}  // namespace hitdna::cli
