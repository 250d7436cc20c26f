#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include "commands.hpp"
#include "hitdna/core/error.hpp"
#include "hitdna/enrich/target.hpp"
#include "hitdna/learn/model.hpp"
#include "hitdna/match/match.hpp"

namespace hitdna::cli {

// Shared with generate: a target for a prompt, from the catalog's hits when there are any.
enrich::Target target_for_prompt(const std::string& db_flag, const std::string& prompt, const std::vector<std::string>& filters, size_t k,
                                 std::optional<double> duration_s, std::ostream& err, const match::MatchOptions* backend) {
    const std::string path = store::resolve_db_path(db_flag);
    struct stat sb{};
    if (::stat(path.c_str(), &sb) != 0) {
        err << "hitdna: no catalog at " << path << "; the target comes from the prompt alone\n";
        return enrich::from_prompt(prompt, duration_s);
    }
    store::Catalog cat(path, store::Catalog::Mode::read_only);
    match::MatchOptions mo;
    if (backend) {
        mo.backend = backend->backend;
        mo.qdrant = backend->qdrant;
        mo.collection = backend->collection;
        mo.exact = backend->exact;
    }
    mo.text = prompt;
    mo.filters = filters;
    mo.k = k;
    auto rep = match::run_match(cat, mo, err);
    std::vector<std::pair<int64_t, double>> scored;
    // Learned patterns, once they exist, re-weight the hits (0.5 + hit score), so that targets
    // drift toward what worked.
    auto model = learn::latest(cat);
    for (const auto& r : rep.results)
        scored.emplace_back(r.track.id, r.score * (model ? learn::pattern_factor(*model, cat, r.track.id) : 1.0));
    if (model) err << "hitdna: hits weighted by pattern weights v" << model->version << "\n";
    if (scored.empty()) {
        err << "hitdna: no similar hits in the catalog for this prompt; the target comes from the prompt alone\n";
        return enrich::from_prompt(prompt, duration_s);
    }
    return enrich::aggregate(cat, scored, prompt, duration_s);
}

Runner register_enrich(CLI::App& app) {
    struct State {
        std::string prompt, db, format, model = "music_v1", qdrant_url;
        match::MatchOptions backend;
        std::vector<std::string> filters;
        size_t k = 10;
        double duration = 0;
    };
    auto st = std::make_shared<State>();
    if (const char* c = std::getenv("QDRANT_COLLECTION"); c && *c) st->backend.collection = c;
    app.footer(
        "Finds similar hits like 'hitdna match --text' and aggregates their DNA into a target. With no\n"
        "catalog or no match it says so and builds the target from the prompt alone (from_hits false).\n"
        "With --backend qdrant the hits are searched in a collection made by 'hitdna sync qdrant'; their\n"
        "DNA still comes from the catalog. Exit status: 0 target printed (from hits or from the prompt\n"
        "alone), 2 usage, 5 database error, 6 Qdrant unreachable or timed out, 7 Qdrant refused a request.\n"
        "See man hitdna-enrich.");
    app.add_option("prompt", st->prompt, "What to make, e.g. '\"Not Like Us\" energy with phonk'")->required();
    app.add_option("--filter", st->filters, "Metadata filter on the hits, as in hitdna match (repeatable)");
    app.add_option("-k", st->k, "Hits to aggregate (default 10)")->check(CLI::Range(1, 1000));
    app.add_option("--duration", st->duration, "Target length in seconds (default: the hits' weighted median)")->check(CLI::Range(10.0, 600.0));
    app.add_option("--model", st->model, "Composition plan format: music_v1 (sections) or music_v2 (chunks); default music_v1")
        ->check(CLI::IsMember({"music_v1", "music_v2"}));
    app.add_option("-f,--format", st->format, "text (default on a terminal) or json")->check(CLI::IsMember({"text", "json"}));
    add_backend_options(app, st->backend, st->qdrant_url);
    app.add_option("--db", st->db, "Catalog database (default: $HITDNA_DB, else ~/.local/share/hitdna/hitdna.db)");
    return [st]() -> int {
        std::optional<double> dur;
        if (st->duration > 0) dur = st->duration;
        st->backend.qdrant = qdrant::config_from_env(st->qdrant_url);
        auto t = target_for_prompt(st->db, st->prompt, st->filters, st->k, dur, std::cerr, &st->backend);
        const std::string text = enrich::enriched_prompt(t);
        const std::string fmt = st->format.empty() ? (isatty(STDOUT_FILENO) ? "text" : "json") : st->format;
        if (fmt == "json") {
            auto j = enrich::to_json(t);
            j["enriched_prompt"] = text;
            j["model_id"] = st->model;
            j["composition_plan"] = enrich::composition_plan(t, st->model);
            std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        } else {
            std::cout << text << "\n";
            if (t.from_hits) {
                std::cout << "\nfrom " << t.hits.size() << " hits:\n";
                for (const auto& h : t.hits)
                    std::printf("  %5.1f %%  %s - %s (id %lld, score %.3f)\n", h.weight * 100, h.artist.c_str(), h.title.c_str(), (long long)h.track_id, h.score);
            }
        }
        return 0;
    };
}

}  // namespace hitdna::cli
