#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <string>

namespace hitdna::match {
struct MatchOptions;
}

namespace hitdna::cli {

// --backend, --qdrant-url, --collection, --exact (match and enrich).
void add_backend_options(CLI::App& app, match::MatchOptions& options, std::string& qdrant_url);

// Each subcommand registers its flags and returns the function that runs it (exit code).
using Runner = std::function<int()>;
Runner register_analyze(CLI::App& app);
Runner register_ingest(CLI::App& app);
Runner register_match(CLI::App& app);
Runner register_index(CLI::App& app);
Runner register_db(CLI::App& app);
Runner register_enrich(CLI::App& app);
Runner register_generate(CLI::App& app);
Runner register_validate(CLI::App& app);
Runner register_feedback(CLI::App& app);
Runner register_learn(CLI::App& app);
Runner register_weights(CLI::App& app);
Runner register_score(CLI::App& app);
Runner register_sync(CLI::App& app);
Runner register_plot(CLI::App& app);
Runner register_report(CLI::App& app);

// "-": standard output; else written atomically, with "hitdna: wrote PATH" on stderr.
void write_output(const std::string& path, const std::string& content);

}  // namespace hitdna::cli
