#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "hitdna/core/error.hpp"
#include "hitdna/dna/dna.hpp"
#include "hitdna/store/vector_index.hpp"

namespace hitdna::cli {

Runner register_db(CLI::App& app) {
    struct State {
        std::string db;
        bool json = false;
        std::vector<int64_t> remove_ids;
    };
    auto st = std::make_shared<State>();
    app.require_subcommand(1);
    auto* stats = app.add_subcommand("stats", "Counts, sizes, analysis versions and index staleness of the catalog");
    auto* verify = app.add_subcommand("verify", "Check the catalog: SQLite integrity, every track complete, statistics and text index in step");
    auto* remove = app.add_subcommand("remove", "Delete tracks (by id) with their sections, vectors, charts and engagement; mirrors learn of it at their next sync");
    remove->add_option("ids", st->remove_ids, "Catalog track ids")->required();
    for (auto* sub : {stats, verify, remove}) {
        sub->add_option("--db", st->db, "Catalog database (default: $HITDNA_DB, else ~/.local/share/hitdna/hitdna.db)");
        sub->add_flag("--json", st->json, "JSON on stdout");
    }
    app.footer("Exit status: 0 ok, 1 'db verify' found problems or 'db remove' met unknown ids, 2 usage, 5 database error.\n"
               "See man hitdna-db.");
    return [st, stats, remove]() -> int {
        const std::string path = store::resolve_db_path(st->db);
        if (remove->parsed()) {
            struct stat sb{};
            if (::stat(path.c_str(), &sb) != 0) throw Error(ErrorKind::db, path + ": no database here (pass --db)");
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
            if (st->json) std::cout << nlohmann::json{{"db", path}, {"removed", removed}, {"missing", missing}}.dump() << "\n";
            else std::cout << "removed " << removed << " track" << (removed == 1 ? "" : "s") << " from " << path << "\n";
            return missing ? 1 : 0;
        }
        store::Catalog cat(path, store::Catalog::Mode::read_only);
        if (!stats->parsed()) {
            auto problems = cat.verify();
            if (st->json) {
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
        auto s = cat.catalog_stats();
        store::VectorIndexes idx(cat);
        nlohmann::ordered_json j;
        j["db"] = path;
        j["schema_version"] = s.schema_version;
        j["analyzer_version"] = dna::k_analysis_version;
        j["generation"] = s.generation;
        j["tracks"] = s.tracks;
        j["sections"] = s.sections;
        j["vectors"] = s.vectors;
        j["chart_entries"] = s.chart_entries;
        nlohmann::ordered_json av = nlohmann::ordered_json::object(), src = nlohmann::ordered_json::object();
        int64_t stale_tracks = 0;
        for (auto& [v, n] : s.by_analysis_version) {
            av[std::to_string(v)] = n;
            if (v < dna::k_analysis_version) stale_tracks += n;
        }
        for (auto& [v, n] : s.by_source) src[v] = n;
        j["tracks_by_analysis_version"] = av;
        j["tracks_needing_reanalysis"] = stale_tracks;
        j["tracks_by_source"] = src;
        j["catalog_bytes"] = s.file_bytes;
        j["wal_bytes"] = s.wal_bytes;
        int64_t index_bytes = 0;
        nlohmann::ordered_json ix = nlohmann::ordered_json::array();
        for (auto sp : dna::k_spaces) {
            auto is = idx.status(sp, false);
            nlohmann::ordered_json e;
            e["space"] = dna::to_string(sp);
            e["dimensions"] = dna::dimensions(sp).size();
            e["catalog_vectors"] = is.catalog_vectors;
            e["index"] = is.valid ? "ok" : (is.catalog_vectors == 0 ? "empty" : is.problem);
            e["index_vectors"] = is.valid ? is.manifest.count : 0;
            e["index_generation"] = is.valid ? is.manifest.generation : 0;
            e["vectors_not_in_index"] = is.newer_vectors;
            e["index_bytes"] = is.valid ? is.manifest.bytes : 0;
            index_bytes += is.valid ? is.manifest.bytes : 0;
            ix.push_back(e);
        }
        j["indexes"] = ix;
        j["index_bytes"] = index_bytes;
        j["bytes_per_track"] = s.tracks ? (s.file_bytes + s.wal_bytes + index_bytes) / s.tracks : 0;
        if (st->json) {
            std::cout << j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
            return 0;
        }
        std::printf("catalog      %s (schema %d, generation %lld)\n", path.c_str(), s.schema_version, (long long)s.generation);
        std::printf("tracks       %lld  (", (long long)s.tracks);
        bool first = true;
        for (auto& [v, n] : s.by_source) std::printf("%s%s %lld", first ? "" : ", ", v.c_str(), (long long)n), first = false;
        std::printf(")\nsections     %lld\nchart rows   %lld\n", (long long)s.sections, (long long)s.chart_entries);
        std::printf("analysis     analyzer version %d;", dna::k_analysis_version);
        for (auto& [v, n] : s.by_analysis_version) std::printf(" v%d: %lld", v, (long long)n);
        std::printf("; %lld need --reanalyze\n", (long long)stale_tracks);
        std::printf("size         catalog %.1f MB + WAL %.1f MB + indexes %.1f MB = %.1f kB per track\n", s.file_bytes / 1e6, s.wal_bytes / 1e6,
                    index_bytes / 1e6, s.tracks ? (s.file_bytes + s.wal_bytes + index_bytes) / 1e3 / double(s.tracks) : 0.0);
        for (auto& e : ix)
            std::printf("index %-10s %2d dims  %lld vectors  index: %s, %lld not covered (searched exactly)\n", e["space"].get<std::string>().c_str(),
                        e["dimensions"].get<int>(), (long long)e["catalog_vectors"].get<int64_t>(), e["index"].get<std::string>().c_str(),
                        (long long)e["vectors_not_in_index"].get<int64_t>());
        return 0;
    };
}

}  // namespace hitdna::cli
