#include <unistd.h>

#include <iomanip>
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "hitdna/analysis/batch.hpp"
#include "hitdna/dna/vectors.hpp"
#include "hitdna/ingest/charts.hpp"
#include "hitdna/store/hash.hpp"

namespace hitdna::cli {

Runner register_analyze(CLI::App& app) {
    struct State {
        analysis::BatchOptions options;
        Format format{{"text", "json", "jsonl", "jams"}, "json"};
        bool list_dimensions = false;
    };
    auto st = std::make_shared<State>();
    app.footer(
        "Reads WAV, FLAC, OGG Vorbis/Opus and MP3 with libsndfile; M4A/AAC/WebM and other formats\n"
        "through ffmpeg when it is installed. '-' reads more paths from standard input, one per line.\n"
        "Exit status: 0 all analyzed, 2 usage, 3 a file could not be read, 4 a file could not be\n"
        "decoded, 6 ffmpeg stalled (the first failure's code), 70 internal error.\n"
        "See man hitdna-analyze.");
    app.add_option("files", st->options.paths, "Audio files, or - for a list of paths on stdin");
    add_format_option(app, st->format);
    app.add_flag("--vectors", st->options.vectors,
                 "Add the named vectors (audio, structure, emotion, production, sections), the file's content hash and tags: what 'hitdna ingest --dna' stores");
    app.add_option("-j,--jobs", st->options.jobs, "Files analyzed in parallel (default: all cores)")->check(CLI::Range(1, 256));
    app.add_option("--timeline-hop", st->options.analyze.timeline_hop_s, "Resolution of every curve over time, seconds (default 1)")
        ->check(CLI::Range(0.25, 10.0));
    app.add_option("--min-bpm", st->options.analyze.tempo.min_bpm, "Lowest tempo considered, BPM (default 40)")->check(CLI::Range(20.0, 200.0));
    app.add_option("--max-bpm", st->options.analyze.tempo.max_bpm, "Highest tempo considered, BPM (default 240)")->check(CLI::Range(60.0, 400.0));
    app.add_flag("--no-ffmpeg", [st](int64_t) { st->options.analyze.open.allow_ffmpeg = false; }, "Never fall back to ffmpeg for decoding");
    app.add_flag("--list-dimensions", st->list_dimensions, "Print the name and meaning of every vector dimension and exit");
    return [st]() -> int {
        if (st->list_dimensions) {
            for (auto space : dna::k_spaces) {
                const auto& dims = dna::dimensions(space);
                for (size_t i = 0; i < dims.size(); ++i)
                    std::cout << dna::vector_name(space) << "\t" << i << "\t" << dims[i].name << "\t" << dims[i].description << "\n";
            }
            return 0;
        }
        if (st->options.paths.empty()) {
            std::cerr << "hitdna analyze: no input files (give paths, or - to read paths from stdin)\n";
            return 2;
        }
        if (st->options.analyze.tempo.min_bpm * 2 > st->options.analyze.tempo.max_bpm) {
            std::cerr << "hitdna analyze: --max-bpm must be at least twice --min-bpm\n";
            return 2;
        }
        const std::string fmt = st->format.resolve();
        st->options.format = fmt == "jsonl"  ? analysis::OutputFormat::jsonl
                             : fmt == "text" ? analysis::OutputFormat::text
                             : fmt == "jams" ? analysis::OutputFormat::jams
                                             : analysis::OutputFormat::json;
        if (st->options.vectors)
            st->options.identify = [](const std::string& path, dna::Dna& d) {
                const auto tags = ingest::read_tags(path);
                d.identity = dna::FileIdentity{store::hash_file(path), tags.title, tags.artist, tags.year, tags.genres};
            };
        auto r = analysis::run_batch(st->options, std::cin, std::cout, std::cerr);
        if (r.failed > 0 && r.analyzed + r.failed > 1)
            std::cerr << "hitdna analyze: " << r.failed << " of " << (r.analyzed + r.failed) << " files failed\n";
        return r.exit_code;
    };
}

}  // namespace hitdna::cli
