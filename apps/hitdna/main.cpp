// hitdna: one binary, Unix-style subcommands over the hitdna libraries (lib/hitdna/*). Each
// cmd_*.cpp registers its flags into an options struct, calls one library function and formats
// the result; errors are mapped to exit codes here, once.
#include <CLI/CLI.hpp>
#include <iostream>
#include <map>

#include "commands.hpp"
#include "hitdna/core/error.hpp"

namespace {

struct Subcommand {
    const char* name;
    const char* summary;
    hitdna::cli::Runner (*registrar)(CLI::App&);
};

// In the order `hitdna --help` lists them.
const Subcommand k_subcommands[] = {
    {"analyze", "Compute the four-layer Hit DNA of audio files", hitdna::cli::register_analyze},
    {"ingest", "Analyze files, folders and chart lists into the catalog", hitdna::cli::register_ingest},
    {"match", "Find catalog tracks and sections like an audio file, a track or a text", hitdna::cli::register_match},
    {"enrich", "Turn a prompt into a target DNA, an enriched prompt and a composition plan from similar hits", hitdna::cli::register_enrich},
    {"sketch", "Write a target as a multi-track MIDI arrangement sketch (drums, bass, chords, hook motif)", hitdna::cli::register_sketch},
    {"generate", "Generate audio for a prompt or target (built-in synthesizer), validating and retrying", hitdna::cli::register_generate},
    {"validate", "Compare a track with a target DNA layer by layer; pass or fail", hitdna::cli::register_validate},
    {"feedback", "Record engagement (plays, completion, likes, shares, skips) for tracks and generations", hitdna::cli::register_feedback},
    {"learn", "Fit a pattern model: which DNA features go with engagement", hitdna::cli::register_learn},
    {"weights", "Show the learned pattern weights with their uncertainty", hitdna::cli::register_weights},
    {"score", "Predict a calibrated hit score for audio files, with the top reasons", hitdna::cli::register_score},
    {"plot", "Draw songs' shapes over time as SVG: sections, energy, tension, tempo, width, loudness", hitdna::cli::register_plot},
    {"export", "The catalog as a table: one row per track or section (CSV, JSON Lines) or JAMS documents", hitdna::cli::register_export},
    {"report", "One static HTML page: plots, the four layers with units, nearest hits, generation attempts", hitdna::cli::register_report},
    {"sync", "Mirror the catalog into Qdrant (sync qdrant), incrementally and resumably", hitdna::cli::register_sync},
    {"index", "Rebuild or verify the HNSW vector indexes", hitdna::cli::register_index},
    {"db", "Catalog statistics and verification", hitdna::cli::register_db},
};

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"hitdna - learn what makes songs work and steer music generation with it"};
    app.set_version_flag("--version", std::string("hitdna ") + HITDNA_VERSION);
    app.require_subcommand(1);
    std::map<CLI::App*, hitdna::cli::Runner> runners;
    for (const auto& c : k_subcommands) {
        auto* sub = app.add_subcommand(c.name, c.summary);
        runners[sub] = c.registrar(*sub);
    }
    // An unknown first word gets a clearer message than CLI11's "A subcommand is required".
    if (argc >= 2 && argv[1][0] != '-') {
        bool known = false;
        std::string names;
        for (const auto& c : k_subcommands) {
            known |= std::string(c.name) == argv[1];
            names += (names.empty() ? "" : ", ") + std::string(c.name);
        }
        if (!known) {
            std::cerr << "hitdna: '" << argv[1] << "' is not a hitdna subcommand (available: " << names << ")\n";
            return 2;
        }
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::cerr << "hitdna: " << e.what() << "\n";
        std::cerr << "Run 'hitdna --help' or 'hitdna SUBCOMMAND --help' for usage.\n";
        return 2;
    }
    try {
        for (auto& [sub, run] : runners)
            if (sub->parsed()) return run();
        return 2;
    } catch (const hitdna::Error& e) {
        std::cerr << "hitdna: " << e.what() << "\n";
        return hitdna::exit_code_for(e.kind());
    } catch (const std::exception& e) {
        std::cerr << "hitdna: internal error: " << e.what() << "\n";
        return 70;
    }
}
