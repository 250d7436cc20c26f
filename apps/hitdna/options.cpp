// Flags and outputs that several subcommands share.
#include <unistd.h>

#include <algorithm>
#include <iostream>

#include "commands.hpp"
#include "hitdna/core/files.hpp"
#include "hitdna/match/match.hpp"

namespace hitdna::cli {

void add_backend_options(CLI::App& app, match::MatchOptions& o, std::string& qdrant_url) {
    app.add_option("--backend", o.backend, "embedded (default: the catalog's HNSW indexes) or qdrant (a collection made by 'hitdna sync qdrant')")
        ->check(CLI::IsMember({"embedded", "qdrant"}));
    app.add_option("--qdrant-url", qdrant_url, "Qdrant REST endpoint (default: $QDRANT_URL, else http://localhost:6333; key from $QDRANT_API_KEY)");
    app.add_option("--collection", o.collection, "Qdrant collection (default: $QDRANT_COLLECTION, else hitdna)");
    app.add_flag("--exact", o.exact, "With --backend qdrant: exact search in Qdrant (params.exact) instead of its HNSW index");
}

std::string Format::resolve() const {
    if (!chosen.empty()) return chosen == "table" ? std::string("text") : chosen;
    if (json_flag && !json_alias.empty()) return json_alias;
    return isatty(STDOUT_FILENO) ? on_terminal : piped;
}

void add_format_option(CLI::App& app, Format& f) {
    std::string list;
    for (const auto& o : f.offered) list += (list.empty() ? "" : ", ") + o;
    const std::string help = "Output: " + list + " (default: " +
                             (f.on_terminal == f.piped ? f.piped : f.on_terminal + " on a terminal, " + f.piped + " otherwise") + ")";
    const std::vector<std::string> offered = f.offered;
    const bool table = f.table_alias;
    app.add_option("-f,--format", f.chosen, help)
        ->check(CLI::Validator(
            [offered, table](std::string& v) -> std::string {
                if (table && v == "table") return "";
                if (std::find(offered.begin(), offered.end(), v) != offered.end()) return "";
                std::string l;
                for (const auto& o : offered) l += (l.empty() ? "" : ", ") + o;
                return "'" + v + "' is not an output format here (" + l + ")";
            },
            "FORMAT"));
    if (!f.json_alias.empty()) app.add_flag("--json", f.json_flag, "Same as -f " + f.json_alias + " (kept for one release)")->group("");
}

void write_output(const std::string& path, const std::string& content) {
    if (path == "-") {
        std::cout << content;
        return;
    }
    core::write_file_atomically(path, content);
    std::cerr << "hitdna: wrote " << path << "\n";
}

}  // namespace hitdna::cli
