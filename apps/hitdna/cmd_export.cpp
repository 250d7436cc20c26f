#include <iostream>
#include <memory>

#include "commands.hpp"
#include "hitdna/core/error.hpp"
#include "hitdna/core/files.hpp"
#include "hitdna/store/export.hpp"

namespace hitdna::cli {

Runner register_export(CLI::App& app) {
    struct State {
        std::string db, output = "-";
        std::vector<std::string> filters;
        bool sections = false, spotify = false, list_columns = false;
        Format format{{"csv", "jsonl", "jams"}, "csv"};
    };
    auto st = std::make_shared<State>();
    st->format.on_terminal = "csv";
    app.footer("Columns: the track's metadata, the Spotify-style estimates (0..1, hitdna's own formulas, not Spotify's\n"
               "model), then every scalar of the four DNA layers named by its JSON path (audio.rhythm.groove ->\n"
               "audio_rhythm_groove); --list-columns prints them. Filter fields:\n" +
               store::filter_fields_help() + "Exit status: 0 written (possibly no rows), 2 usage, 5 database error. See man hitdna-export.");
    app.add_option("--filter", st->filters, "FIELD OP VALUE as in match, e.g. genre=phonk year>=2020 (repeatable, ANDed)");
    app.add_flag("--sections", st->sections, "One row per section (its times, label, role, loudness, key) instead of per track");
    app.add_flag("--spotify", st->spotify,
                 "Spotify's audio-features columns: danceability, energy, key (0..11, -1 none), loudness, mode (1/0), ...; "
                 "estimates from hitdna's measurements, not Spotify's model");
    add_format_option(app, st->format);
    app.add_option("-o,--output", st->output, "File to write (atomically), or - for stdout (default)");
    app.add_flag("--list-columns", st->list_columns, "Print the columns of the chosen rows, one per line, and exit");
    app.add_option("--db", st->db, "Catalog database (default: $HITDNA_DB, else ~/.local/share/hitdna/hitdna.db)");
    return [st]() -> int {
        const std::string fmt = st->format.resolve();
        if (st->spotify && st->sections) throw Error(ErrorKind::usage, "--spotify with --sections: Spotify's fields describe whole tracks");
        if (st->spotify && fmt == "jams") throw Error(ErrorKind::usage, "--spotify with -f jams: JAMS documents have annotations, not columns");
        store::ExportOptions o;
        o.sections = st->sections;
        o.spotify = st->spotify;
        if (st->list_columns) {
            if (fmt == "jams") throw Error(ErrorKind::usage, "--list-columns: JAMS documents have annotations, not columns");
            for (const auto& c : store::export_columns(o)) std::cout << c << "\n";
            return 0;
        }
        if (fmt == "jams" && st->sections) throw Error(ErrorKind::usage, "--sections with -f jams: a JAMS document already holds every section");
        o.filter = store::parse_filter(st->filters);
        o.format = fmt == "jsonl" ? store::ExportFormat::jsonl : fmt == "jams" ? store::ExportFormat::jams : store::ExportFormat::csv;
        store::Catalog cat(store::resolve_db_path(st->db), store::Catalog::Mode::read_only);
        // Rows stream out as they are read: a million-track export never sits in memory.
        size_t rows = 0;
        if (st->output == "-") {
            rows = store::export_catalog(cat, o, std::cout);
            std::cout.flush();
        } else {
            core::AtomicFile file(st->output);
            rows = store::export_catalog(cat, o, file.stream());
            file.commit();
            std::cerr << "hitdna: wrote " << st->output << "\n";
        }
        std::cerr << "hitdna export: " << rows << (st->sections ? " sections" : fmt == "jams" ? " documents" : " tracks") << "\n";
        return 0;
    };
}

}  // namespace hitdna::cli
