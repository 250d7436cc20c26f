#include <iostream>
#include <memory>

#include "commands.hpp"
#include "hitdna/report/inputs.hpp"

namespace hitdna::cli {

Runner register_plot(CLI::App& app) {
    struct State {
        report::PlotRequest r;
    };
    auto st = std::make_shared<State>();
    app.footer(
        "Inputs: audio files (analyzed), DNA JSON (hitdna analyze -f json), targets (hitdna enrich -f json),\n"
        "generation records (hitdna generate --record) and catalog track ids or generation ids.\n"
        "Panels: sections (roles, repeat labels, hook, builds/drops), energy arc (LU re integrated), tension\n"
        "(0..1, heuristic) with releases and catharsis, tempo (BPM), stereo width (0..1), loudness (LUFS).\n"
        "Exit status: 0 written, 2 usage, 3/4 audio unreadable/undecodable, 5 database error. See man hitdna-plot.");
    app.add_option("inputs", st->r.inputs, "Files, track ids or generation ids")->required();
    app.add_option("-o,--output", st->r.output, "SVG file (- for stdout); several inputs without --compare: a directory, one SVG each")->required();
    app.add_flag("--compare", st->r.compare, "Overlay every input in one SVG, one colour each (targets dashed)");
    app.add_flag("--normalize", st->r.plot.normalized, "x = position in each song (0..100 %) instead of time, so songs of different lengths align");
    app.add_option("--hits", st->r.hits, "Also draw the aggregate of the first input's K nearest catalog hits, as enrich makes it (the input itself excluded)")
        ->check(CLI::Range(1, 100));
    app.add_option("--width", st->r.plot.width_px, "Width in pixels (default 1000)")->check(CLI::Range(480, 4000));
    app.add_option("--title", st->r.plot.title, "Title (default: the inputs' names)");
    app.add_flag("--no-ffmpeg", [st](int64_t) { st->r.analyze.open.allow_ffmpeg = false; }, "Never fall back to ffmpeg for decoding");
    app.add_option("--db", st->r.db, "Catalog for track ids, generation ids and --hits (default: $HITDNA_DB, else ~/.local/share/hitdna/hitdna.db)");
    return [st]() -> int {
        report::plot(st->r, [](const report::PlotFile& f) { write_output(f.path, f.svg); }, std::cerr);
        return 0;
    };
}

}  // namespace hitdna::cli
