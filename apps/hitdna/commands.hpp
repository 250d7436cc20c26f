#pragma once
#include <CLI/CLI.hpp>
#include <functional>

namespace hitdna::cli {

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

}  // namespace hitdna::cli
