#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "hitdna/core/error.hpp"
#include "hitdna/core/text.hpp"
#include "hitdna/dna/dna.hpp"
#include "hitdna/store/summary.hpp"

namespace hitdna::cli {

namespace {

void print_summary(const store::CatalogSummary& sum) {
    const auto& s = sum.stats;
    std::printf("catalog      %s (schema %d, generation %lld)\n", sum.path.c_str(), s.schema_version, (long long)s.generation);
    std::printf("tracks       %lld  (", (long long)s.tracks);
    bool first = true;
    for (auto& [v, n] : s.by_source) std::printf("%s%s %lld", first ? "" : ", ", v.c_str(), (long long)n), first = false;
    std::printf(")\nsections     %lld\nchart rows   %lld\n", (long long)s.sections, (long long)s.chart_entries);
    std::printf("analysis     analyzer version %d;", sum.analyzer_version);
    for (auto& [v, n] : s.by_analysis_version) std::printf(" v%d: %lld", v, (long long)n);
    std::printf("; %lld need --reanalyze\n", (long long)sum.stale_tracks);
    std::printf("size         catalog %.1f MB + WAL %.1f MB + indexes %.1f MB = %.1f kB per track\n", s.file_bytes / 1e6, s.wal_bytes / 1e6,
                sum.index_bytes / 1e6, s.tracks ? (s.file_bytes + s.wal_bytes + sum.index_bytes) / 1e3 / double(s.tracks) : 0.0);
    for (const auto& e : sum.indexes)
        std::printf("index %-10s %2d dims  %lld vectors  index: %s, %lld not covered (searched exactly)\n", dna::to_string(e.space), int(e.dimensions),
                    (long long)e.catalog_vectors, e.index.c_str(), (long long)e.vectors_not_in_index);
}

}  // namespace

Runner register_db(CLI::App& app) {
    struct State {
        std::string db;
        Format stats_format{{"text", "json", "csv"}, "text", "json"}, verify_format{{"text", "json"}, "text", "json"}, remove_format{{"text", "json"}, "text", "json"};
        std::vector<int64_t> remove_ids;
    };
    auto st = std::make_shared<State>();
    app.require_subcommand(1);
    auto* stats = app.add_subcommand("stats", "Counts, sizes, analysis versions and index staleness of the catalog");
    auto* verify = app.add_subcommand("verify", "Check the catalog: SQLite integrity, every track complete, statistics, text index and index files in step");
    auto* remove = app.add_subcommand("remove", "Delete tracks (by id) with their sections, vectors, charts and engagement; mirrors learn of it at their next sync");
    remove->add_option("ids", st->remove_ids, "Catalog track ids")->required();
    for (auto* sub : {stats, verify, remove})
        sub->add_option("--db", st->db, "Catalog database (default: $HITDNA_DB, else ~/.local/share/hitdna/hitdna.db)");
    add_format_option(*stats, st->stats_format);
    add_format_option(*verify, st->verify_format);
    add_format_option(*remove, st->remove_format);
    stats->footer("csv: one row per vector space (its dimensions, vectors in the catalog, index state, vectors the index\n"
                  "does not cover yet) after the catalog's totals as 'space' = '*'.");
    app.footer("Exit status: 0 ok, 1 'db verify' found problems or 'db remove' met unknown ids, 2 usage, 5 database error.\n"
               "See man hitdna-db.");
    return [st, stats, remove]() -> int {
        const std::string path = store::resolve_db_path(st->db);
        if (remove->parsed()) {
            if (!store::catalog_exists(path)) throw Error(ErrorKind::db, path + ": no database here (pass --db)");
            store::Catalog cat(path, store::Catalog::Mode::read_write);
            int missing = 0, removed = 0;
            for (int64_t id : st->remove_ids) {
                if (!cat.track(id)) {
                    std::cerr << "hitdna: " << path << ": no track " << id << "\n";
                    ++missing;
                    continue;
                }
                cat.remove_track(id);
                ++removed;
            }
            if (st->remove_format.resolve() == "json") std::cout << nlohmann::json{{"db", path}, {"removed", removed}, {"missing", missing}}.dump() << "\n";
            else std::cout << "removed " << removed << " track" << (removed == 1 ? "" : "s") << " from " << path << "\n";
            return missing ? 1 : 0;
        }
        store::Catalog cat(path, store::Catalog::Mode::read_only);
        if (!stats->parsed()) {
            auto problems = cat.verify();
            // The index files, hashed whole (a query checks only their stamp): a damaged one is
            // bypassed by searches, and reported here. A missing index is no problem (a cache).
            store::VectorIndexes idx(cat);
            for (auto sp : dna::k_spaces) {
                const auto s = idx.status(sp, true);
                if (s.present && !s.valid) problems.push_back(std::string("index ") + dna::to_string(sp) + ": " + s.problem + " (searches bypass it; 'hitdna index rebuild')");
            }
            if (st->verify_format.resolve() == "json") {
                nlohmann::ordered_json j;
                j["db"] = path;
                j["ok"] = problems.empty();
                j["problems"] = problems;
                std::cout << j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
            } else {
                for (const auto& p : problems) std::cout << "problem: " << p << "\n";
                std::cout << path << ": " << (problems.empty() ? "ok" : std::to_string(problems.size()) + " problems") << "\n";
            }
            return problems.empty() ? 0 : 1;
        }
        auto sum = store::summarize(cat);
        const std::string fmt = st->stats_format.resolve();
        if (fmt == "json") {
            std::cout << store::to_json(sum).dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
            return 0;
        }
        if (fmt == "csv") {
            const auto& s = sum.stats;
            std::cout << core::csv_record({"space", "dimensions", "vectors", "index", "vectors_not_in_index", "tracks", "sections", "stale_tracks", "bytes"});
            std::cout << core::csv_record({"*", "", "", "", "", std::to_string(s.tracks), std::to_string(s.sections), std::to_string(sum.stale_tracks),
                                           std::to_string(s.file_bytes + s.wal_bytes + sum.index_bytes)});
            for (const auto& e : sum.indexes)
                std::cout << core::csv_record({dna::to_string(e.space), std::to_string(e.dimensions), std::to_string(e.catalog_vectors), e.index,
                                               std::to_string(e.vectors_not_in_index), "", "", "", ""});
            return 0;
        }
        print_summary(sum);
        return 0;
    };
}

}  // namespace hitdna::cli
