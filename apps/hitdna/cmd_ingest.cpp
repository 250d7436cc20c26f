#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "hitdna/core/error.hpp"
#include "hitdna/ingest/dna_import.hpp"
#include "hitdna/ingest/ingest.hpp"

namespace hitdna::cli {

Runner register_ingest(CLI::App& app) {
    struct State {
        ingest::IngestOptions o;
        std::string db;
        std::string progress = "auto";
        std::string dna;
        Format format{{"text", "json"}, "text", "json"};
        bool no_ffmpeg = false;
    };
    auto st = std::make_shared<State>();
    app.footer(
        "Every track is committed with its metadata, sections and vectors in one transaction; the\n"
        "same audio (content hash) is never analyzed twice. Rerun after an interruption to finish.\n"
        "Exit status: 0 all ingested, 1 some chart rows were skipped (malformed, or no audio found),\n"
        "2 usage, 3 a file could not be read, 4 a file could not be decoded, 5 database error,\n"
        "6 a decoder stalled (the first failure's code), 70 internal error. A fetch command that fails\n"
        "or times out leaves its row without audio (exit 1).\n"
        "See man hitdna-ingest.");
    app.add_option("inputs", st->o.inputs, "Audio files, folders (searched recursively), or - for paths on stdin");
    app.add_option("--dna", st->dna,
                   "JSON Lines from 'hitdna analyze -f jsonl --vectors' (analyses made elsewhere), or - for stdin: stored without analyzing again");
    app.add_option("--chart", st->o.charts, "Chart list: Spotify Charts CSV, Billboard-style CSV or JSON Lines (repeatable)");
    app.add_option("--audio-dir", st->o.audio_dirs, "Folder where chart rows' audio is looked for by artist and title (repeatable)");
    app.add_option("--chart-date", st->o.chart_date, "Date (YYYY-MM-DD) for chart rows without one; default: a date in the chart's file name");
    app.add_option("--fetch-cmd", st->o.fetch_cmd,
                   "Command run for chart rows without local audio, e.g. 'yt-dlp -x -o {out}/%(title)s.%(ext)s \"ytsearch1:{artist} {title}\"'; "
                   "{artist} {title} {uri} {rank} {out} are filled in as separate arguments, never through a shell");
    app.add_option("--fetch-timeout", st->o.fetch_timeout_s, "Seconds before a fetch command is killed (default 600)")->check(CLI::Range(1.0, 86400.0));
    app.add_option("--fetch-dir", st->o.fetch_dir, "Where fetched audio is kept (default: DB.fetched next to the database)");
    app.add_option("--source", st->o.source, "Source recorded for files and folders: user (default), chart or generated")
        ->check(CLI::IsMember({"user", "chart", "generated"}));
    app.add_option("--genre", st->o.genres, "Genre added to every input (repeatable)");
    app.add_option("--tag", st->o.tags, "Tag added to every input (repeatable)");
    app.add_flag("--reanalyze", st->o.reanalyze, "Analyze again the known tracks whose analysis_version is older than this hitdna's");
    app.add_flag("--no-index", [st](int64_t) { st->o.update_index = false; }, "Do not update the vector indexes afterwards (searches stay correct, slower)");
    app.add_option("-j,--jobs", st->o.jobs, "Files analyzed in parallel, and threads inserting into the indexes at the end (default: all cores)")->check(CLI::Range(1, 256));
    app.add_option("--progress", st->progress, "Progress bar: auto (on a terminal), always, never")->check(CLI::IsMember({"auto", "always", "never"}));
    add_format_option(app, st->format);
    app.add_flag("--no-ffmpeg", st->no_ffmpeg, "Never fall back to ffmpeg for decoding");
    app.add_option("--db", st->db, "Catalog database (default: $HITDNA_DB, else ~/.local/share/hitdna/hitdna.db)");
    return [st]() -> int {
        auto& o = st->o;
        if (!st->dna.empty() && (!o.inputs.empty() || !o.charts.empty())) {
            std::cerr << "hitdna ingest: --dna takes no files or --chart in the same run\n";
            return 2;
        }
        if (o.inputs.empty() && o.charts.empty() && st->dna.empty()) {
            std::cerr << "hitdna ingest: nothing to ingest (give files, folders, -, or --chart FILE)\n";
            return 2;
        }
        o.analyze.open.allow_ffmpeg = !st->no_ffmpeg;
        o.progress = st->progress == "always" || (st->progress == "auto" && isatty(STDERR_FILENO));
        const std::string path = store::resolve_db_path(st->db);
        store::Catalog cat(path, store::Catalog::Mode::read_write);
        ingest::IngestResult r;
        if (!st->dna.empty()) {
            std::ifstream file;
            if (st->dna != "-") {
                file.open(st->dna);
                if (!file) throw Error(ErrorKind::io, st->dna + ": cannot read the analyses");
            }
            r = ingest::import_dna(cat, o, st->dna == "-" ? std::cin : file, st->dna == "-" ? "stdin" : st->dna, std::cerr);
        } else {
            r = ingest::run_ingest(cat, o, std::cin, std::cerr);
        }
        char line[512];
        std::snprintf(line, sizeof line,
                      "hitdna ingest: %d inputs: %d added, %d reanalyzed, %d already known, %d failed; %d chart rows skipped, %d without audio, "
                      "%d fetched; %.1f s (%.2f files/s)",
                      r.inputs, r.added, r.reanalyzed, r.known, r.failed, r.bad_rows, r.unmatched_rows, r.fetched, r.seconds,
                      r.seconds > 0 ? r.inputs / r.seconds : 0.0);
        std::cerr << line;
        if (r.analysis_s > 0) {
            std::snprintf(line, sizeof line, "; catalog work %.1f%% of analysis time", 100.0 * (r.store_s + r.index_s) / r.analysis_s);
            std::cerr << line;
        }
        std::cerr << "\n";
        if (r.stale) std::cerr << "hitdna ingest: " << r.stale << " known tracks were analyzed by an older analyzer; --reanalyze redoes them\n";
        if (st->format.resolve() == "json") {
            std::cout << ingest::to_json(r, path).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
        }
        return r.exit_code;
    };
}

}  // namespace hitdna::cli
