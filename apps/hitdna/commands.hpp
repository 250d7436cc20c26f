#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <utility>
#include <vector>

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
Runner register_sketch(CLI::App& app);
Runner register_generate(CLI::App& app);
Runner register_validate(CLI::App& app);
Runner register_feedback(CLI::App& app);
Runner register_learn(CLI::App& app);
Runner register_weights(CLI::App& app);
Runner register_score(CLI::App& app);
Runner register_sync(CLI::App& app);
Runner register_plot(CLI::App& app);
Runner register_report(CLI::App& app);
Runner register_export(CLI::App& app);

// The output convention of every subcommand that prints results: -f/--format with "text"
// (default on a terminal: lines or a table) and the machine formats it offers (json: one
// document; jsonl: one object per line where results are a stream; csv: RFC 4180 with a header
// row where results are rows). When standard output is not a terminal the default is `piped`.
// Where a subcommand had a --json flag, it stays, hidden, for one release and means
// `json_alias`. Logs and progress go to standard error only.
struct Format {
    Format(std::vector<std::string> offered_formats, std::string piped_default = "text", std::string json_alias_format = "", bool accept_table = false)
        : offered(std::move(offered_formats)), piped(std::move(piped_default)), json_alias(std::move(json_alias_format)), table_alias(accept_table) {}
    std::vector<std::string> offered;  // "text" first
    std::string piped;
    std::string json_alias;            // what the old --json flag meant; "" = the subcommand never had one
    bool table_alias;                  // match: "table", the old name of text, still accepted
    std::string on_terminal = "text";  // export: csv everywhere
    std::string chosen;
    bool json_flag = false;
    std::string resolve() const;
};
void add_format_option(CLI::App& app, Format& format);

// "-": standard output; else written atomically, with "hitdna: wrote PATH" on stderr.
void write_output(const std::string& path, const std::string& content);

}  // namespace hitdna::cli
