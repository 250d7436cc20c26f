#include "hitdna/enrich/prompt.hpp"

#include <fstream>
#include <ostream>

#include "hitdna/core/error.hpp"
#include "hitdna/learn/model.hpp"
#include "hitdna/store/catalog.hpp"

namespace hitdna::enrich {

Target target_for_prompt(const PromptOptions& o, std::ostream& log) {
    const std::string path = store::resolve_db_path(o.db);
    if (!store::catalog_exists(path)) {
        log << "hitdna: no catalog at " << path << "; the target comes from the prompt alone\n";
        return from_prompt(o.prompt, o.duration_s);
    }
    store::Catalog cat(path, store::Catalog::Mode::read_only);
    match::MatchOptions mo;
    mo.backend = o.search.backend;
    mo.qdrant = o.search.qdrant;
    mo.collection = o.search.collection;
    mo.exact = o.search.exact;
    mo.text = o.prompt;
    mo.filters = o.filters;
    mo.k = o.k;
    auto rep = match::run_match(cat, mo, log);
    std::vector<std::pair<int64_t, double>> scored;
    // Learned patterns, once they exist, re-weight the hits (0.5 + hit score), so that targets
    // drift toward what worked.
    auto model = learn::latest(cat);
    for (const auto& r : rep.results)
        scored.emplace_back(r.track.id, r.score * (model ? learn::pattern_factor(*model, cat, r.track.id) : 1.0));
    if (model) log << "hitdna: hits weighted by pattern weights v" << model->version << "\n";
    if (scored.empty()) {
        log << "hitdna: no similar hits in the catalog for this prompt; the target comes from the prompt alone\n";
        return from_prompt(o.prompt, o.duration_s);
    }
    return aggregate(cat, scored, o.prompt, o.duration_s);
}

Target read_target(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw Error(ErrorKind::io, path + ": cannot read the target");
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(in);
    } catch (const std::exception& e) {
        std::string msg = e.what();
        if (auto p = msg.find("] "); p != std::string::npos) msg = msg.substr(p + 2);
        throw Error(ErrorKind::usage, path + ": not JSON: " + msg);
    }
    return target_from_json(j, path);
}

nlohmann::json target_document(const Target& t, const std::string& model_id) {
    auto j = to_json(t);
    j["enriched_prompt"] = enriched_prompt(t);
    j["model_id"] = model_id;
    j["composition_plan"] = composition_plan(t, model_id);
    return j;
}

}  // namespace hitdna::enrich
