#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "hitdna/core/error.hpp"
#include "hitdna/store/summary.hpp"

namespace hitdna::cli {

namespace {

std::vector<dna::Space> spaces_of(const std::string& s) {
    if (s == "all") return {dna::k_spaces.begin(), dna::k_spaces.end()};
    auto sp = dna::parse_space(s);
    if (!sp) throw Error(ErrorKind::usage, "--space: unknown space '" + s + "' (audio, structure, emotion, production, sections, all)");
    return {*sp};
}

}  // namespace

Runner register_index(CLI::App& app) {
    struct State {
        std::string db, space = "all";
        int threads = 0;
        Format format{{"text", "json", "jsonl"}, "text", "jsonl"};
    };
    auto st = std::make_shared<State>();
    app.require_subcommand(1);
    app.footer("Indexes live in DB.hnsw/ and are caches: deleting them loses nothing. See man hitdna-index.");
    auto* rebuild = app.add_subcommand("rebuild", "Build fresh HNSW indexes from the catalog (atomic: searches keep working meanwhile)");
    auto* verify = app.add_subcommand("verify", "Check each index: present, checksum, same catalog, coverage, and that stored vectors find themselves");
    for (auto* sub : {rebuild, verify}) {
        sub->add_option("--space", st->space, "audio, structure, emotion, production, sections or all (default)");
        sub->add_option("--db", st->db, "Catalog database (default: $HITDNA_DB, else ~/.local/share/hitdna/hitdna.db)");
    }
    add_format_option(*rebuild, st->format);
    add_format_option(*verify, st->format);
    rebuild->add_option("-j,--jobs", st->threads, "Threads for building (default: all cores)")->check(CLI::Range(1, 256));
    verify->footer("Exit status: 0 every index usable (stale ones are completed by exact search), 1 an index is missing or\n"
                   "damaged (searches bypass it; 'hitdna index rebuild' repairs), 2 usage, 5 database error.");
    return [st, rebuild]() -> int {
        const bool is_rebuild = rebuild->parsed();
        store::Catalog cat(store::resolve_db_path(st->db), is_rebuild ? store::Catalog::Mode::read_write : store::Catalog::Mode::read_only);
        store::VectorIndexes idx(cat);
        int rc = 0;
        const std::string fmt = st->format.resolve();
        nlohmann::ordered_json all = nlohmann::ordered_json::array();
        for (auto sp : spaces_of(st->space)) {
            nlohmann::ordered_json j;
            j["space"] = dna::to_string(sp);
            if (is_rebuild) {
                auto m = idx.rebuild(sp, st->threads);
                j["vectors"] = m.count;
                j["generation"] = m.generation;
                j["bytes"] = m.bytes;
                j["ef_search"] = m.ef_search;
                j["tuned_recall_at_10"] = m.tuned_recall;
                j["build_s"] = m.build_s;
                if (fmt == "text")
                    std::printf("%-10s rebuilt: %lld vectors, %lld bytes, generation %lld, ef %d (recall@10 %.3f), %.2f s\n", dna::to_string(sp),
                                (long long)m.count, (long long)m.bytes, (long long)m.generation, m.ef_search, m.tuned_recall, m.build_s);
            } else {
                auto c = store::check_index(idx, cat, sp);
                const auto& s = c.status;
                j["valid"] = s.valid;
                j["catalog_vectors"] = s.catalog_vectors;
                std::string state;
                if (!s.valid) {
                    state = s.catalog_vectors == 0 && !s.present ? "empty" : "BAD: " + s.problem;
                    if (s.catalog_vectors > 0) rc = 1;
                    j["problem"] = s.problem;
                } else {
                    j["index_vectors"] = s.manifest.count;
                    j["generation"] = s.manifest.generation;
                    j["newer_vectors"] = s.newer_vectors;
                    j["self_found"] = c.self_found;
                    j["self_tried"] = c.self_tried;
                    char b[200];
                    std::snprintf(b, sizeof b, "ok: %lld vectors, generation %lld, %lld newer rows searched exactly; %d/%d stored vectors find themselves",
                                  (long long)s.manifest.count, (long long)s.manifest.generation, (long long)s.newer_vectors, c.self_found, c.self_tried);
                    state = b;
                    if (!c.ok) rc = 1;
                }
                if (fmt == "text") std::printf("%-10s %s\n", dna::to_string(sp), state.c_str());
            }
            if (fmt == "jsonl") std::cout << j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
            if (fmt == "json") all.push_back(j);
        }
        if (fmt == "json") std::cout << nlohmann::ordered_json{{"spaces", all}}.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
        return rc;
    };
}

}  // namespace hitdna::cli
