// Flags and outputs that several subcommands share.
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

void write_output(const std::string& path, const std::string& content) {
    if (path == "-") {
        std::cout << content;
        return;
    }
    core::write_file_atomically(path, content);
    std::cerr << "hitdna: wrote " << path << "\n";
}

}  // namespace hitdna::cli
