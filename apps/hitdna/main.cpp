// hitdna: one binary, Unix-style subcommands over the hitdna_core library.
#include <CLI/CLI.hpp>
#include <iostream>
#include <map>

#include "commands.hpp"
#include "hitdna/core/error.hpp"

int main(int argc, char** argv) {
    CLI::App app{"hitdna - learn what makes songs work and steer music generation with it"};
    app.set_version_flag("--version", std::string("hitdna ") + HITDNA_VERSION);
    app.require_subcommand(1);
    std::map<CLI::App*, hitdna::cli::Runner> runners;
    {
        auto* sub = app.add_subcommand("analyze", "Compute the four-layer Hit DNA of audio files");
        runners[sub] = hitdna::cli::register_analyze(*sub);
    }
    {
        auto* sub = app.add_subcommand("ingest", "Analyze files, folders and chart lists into the catalog");
        runners[sub] = hitdna::cli::register_ingest(*sub);
    }
    {
        auto* sub = app.add_subcommand("match", "Find catalog tracks and sections like an audio file, a track or a text");
        runners[sub] = hitdna::cli::register_match(*sub);
    }
    {
        auto* sub = app.add_subcommand("enrich", "Turn a prompt into a target DNA, an enriched prompt and a composition plan from similar hits");
        runners[sub] = hitdna::cli::register_enrich(*sub);
    }
    {
        auto* sub = app.add_subcommand("generate", "Generate audio for a prompt or target (built-in synthesizer), validating and retrying");
        runners[sub] = hitdna::cli::register_generate(*sub);
    }
    {
        auto* sub = app.add_subcommand("validate", "Compare a track with a target DNA layer by layer; pass or fail");
        runners[sub] = hitdna::cli::register_validate(*sub);
    }
    {
        auto* sub = app.add_subcommand("feedback", "Record engagement (plays, completion, likes, shares, skips) for tracks and generations");
        runners[sub] = hitdna::cli::register_feedback(*sub);
    }
    {
        auto* sub = app.add_subcommand("learn", "Fit pattern weights: which DNA features go with engagement");
        runners[sub] = hitdna::cli::register_learn(*sub);
    }
    {
        auto* sub = app.add_subcommand("weights", "Show the learned pattern weights with their uncertainty");
        runners[sub] = hitdna::cli::register_weights(*sub);
    }
    {
        auto* sub = app.add_subcommand("score", "Predict a calibrated hit score for audio files, with the top reasons");
        runners[sub] = hitdna::cli::register_score(*sub);
    }
    {
        auto* sub = app.add_subcommand("plot", "Draw songs' shapes over time as SVG: sections, energy, tension, tempo, width, loudness");
        runners[sub] = hitdna::cli::register_plot(*sub);
    }
    {
        auto* sub = app.add_subcommand("report", "One static HTML page: plots, the four layers with units, nearest hits, generation attempts");
        runners[sub] = hitdna::cli::register_report(*sub);
    }
    {
        auto* sub = app.add_subcommand("sync", "Mirror the catalog into Qdrant (sync qdrant), incrementally and resumably");
        runners[sub] = hitdna::cli::register_sync(*sub);
    }
    {
        auto* sub = app.add_subcommand("index", "Rebuild or verify the HNSW vector indexes");
        runners[sub] = hitdna::cli::register_index(*sub);
    }
    {
        auto* sub = app.add_subcommand("db", "Catalog statistics and verification");
        runners[sub] = hitdna::cli::register_db(*sub);
    }
    // An unknown first word gets a clearer message than CLI11's "A subcommand is required".
    if (argc >= 2 && argv[1][0] != '-') {
        bool known = false;
        std::string names;
        for (auto& [sub, run] : runners) {
            known |= sub->get_name() == argv[1];
            names += (names.empty() ? "" : ", ") + sub->get_name();
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
