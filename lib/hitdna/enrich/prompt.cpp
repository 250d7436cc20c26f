#include "hitdna/enrich/prompt.hpp"

#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <ostream>

#include "hitdna/core/error.hpp"
#include "hitdna/learn/model.hpp"
#include "hitdna/store/catalog.hpp"
#include "hitdna/store/filter.hpp"

namespace hitdna::enrich {

namespace {

// Candidate hits for a brief: a text search on its words (quoted titles, artists, genres, feel
// and other words; not its tempo, key, length or events), or, when it has no such words or
// they find nothing, every track inside the filters (at most 5000), each scored 0.5.
std::vector<std::pair<int64_t, double>> candidates(store::Catalog& cat, const PromptOptions& o, const Brief& b, std::ostream& log) {
    std::vector<std::pair<int64_t, double>> out;
    if (!b.search_text.empty()) {
        match::MatchOptions mo;
        mo.backend = o.search.backend;
        mo.qdrant = o.search.qdrant;
        mo.collection = o.search.collection;
        mo.exact = o.search.exact;
        mo.text = b.search_text;
        mo.filters = o.filters;
        mo.k = std::max<size_t>(4 * o.k, 40);
        for (const auto& r : match::run_match(cat, mo, log).results) out.emplace_back(r.track.id, r.score);
    }
    // Fewer matches than hits wanted: the rest of the catalog joins at a low score (0.5 when
    // nothing matched, else 0.1), for the brief to choose among.
    if (out.size() < o.k && b.states_anything()) {
        const double base = out.empty() ? 0.5 : 0.1;
        std::set<int64_t> have;
        for (auto& [id, s] : out) have.insert(id);
        auto ids = cat.track_ids(store::parse_filter(o.filters));
        if (ids.size() > 5000) ids.resize(5000);
        size_t added = 0;
        for (int64_t id : ids)
            if (!have.count(id)) out.emplace_back(id, base), ++added;
        if (added) log << "hitdna: " << (b.search_text.empty() ? "the brief has no words to search with" : out.size() == added ? "no text match" : "few text matches")
                       << "; choosing among " << added << " more catalog tracks by the brief\n";
    }
    return out;
}

}  // namespace

Target target_for_prompt(const PromptOptions& o, std::ostream& log) {
    const std::string path = store::resolve_db_path(o.db);
    if (!store::catalog_exists(path)) {
        const Brief b = parse_brief(o.prompt);
        log << "hitdna: no catalog at " << path << "; the target comes from the prompt alone\n";
        return from_brief(b, o.duration_s);
    }
    store::Catalog cat(path, store::Catalog::Mode::read_only);
    const auto genres = cat.genres();
    const Brief b = parse_brief(o.prompt, {genres, cat.artists()});
    std::vector<std::string> known;
    for (const auto& g : genres) known.push_back(canonical_genre(g));
    for (const auto& g : b.genres)
        if (std::find(known.begin(), known.end(), g) == known.end())
            log << "hitdna: genre '" << g << "' is not in the catalog; it is passed on as a style only\n";
    auto scored = candidates(cat, o, b, log);
    // Learned patterns, once they exist, re-weight the hits (0.5 + hit score), so that targets
    // drift toward what worked; the brief re-weights them toward what it states.
    auto model = learn::latest(cat);
    if (model) log << "hitdna: hits weighted by pattern weights v" << model->version << " (" << model->kind << ")\n";
    if (model)
        if (const std::string stale = learn::stale_reason(*model, cat); !stale.empty()) log << "hitdna: warning: " << stale << "\n";
    std::map<int64_t, std::string> why;
    for (auto& [id, score] : scored) {
        if (model) score *= learn::pattern_factor(*model, cat, id);
        if (auto row = cat.track(id)) score *= brief_affinity(b, *row, &why[id]);
    }
    std::stable_sort(scored.begin(), scored.end(), [](auto& x, auto& y) { return x.second > y.second; });
    if (scored.size() > o.k) scored.resize(o.k);
    if (scored.empty()) {
        log << "hitdna: no similar hits in the catalog for this prompt; the target comes from the prompt alone\n";
        return from_brief(b, o.duration_s);
    }
    auto t = aggregate(cat, scored, b, o.duration_s);
    for (auto& h : t.hits) h.why = why[h.track_id];
    return t;
}

PromptOptions prompt_line_options(const nlohmann::json& line, const PromptOptions& defaults) {
    PromptOptions o = defaults;
    o.prompt.clear();
    for (const auto& [key, v] : line.items()) {
        if (key == "id" || key == "model") continue;
        if (key == "prompt") {
            if (!v.is_string() || v.get<std::string>().empty()) throw Error(ErrorKind::usage, "\"prompt\" must be a non-empty string");
            o.prompt = v.get<std::string>();
        } else if (key == "k") {
            if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > 1000) throw Error(ErrorKind::usage, "\"k\" must be an integer in 1..1000");
            o.k = size_t(v.get<int64_t>());
        } else if (key == "duration_s") {
            if (!v.is_number() || !(v.get<double>() >= 10) || v.get<double>() > 600) throw Error(ErrorKind::usage, "\"duration_s\" must be a number of seconds in 10..600");
            o.duration_s = v.get<double>();
        } else if (key == "filter") {
            const bool list = v.is_array() && std::all_of(v.begin(), v.end(), [](const nlohmann::json& f) { return f.is_string(); });
            if (!v.is_string() && !list) throw Error(ErrorKind::usage, "\"filter\" must be a string or a list of strings");
            if (v.is_string()) o.filters.push_back(v.get<std::string>());
            else
                for (const auto& f : v) o.filters.push_back(f.get<std::string>());
        } else {
            throw Error(ErrorKind::usage, "unknown key \"" + key + "\" (id, prompt, filter, k, duration_s, model)");
        }
    }
    if (o.prompt.empty()) throw Error(ErrorKind::usage, "no \"prompt\"");
    store::parse_filter(o.filters);
    return o;
}

Target read_target(const std::string& path) {
    std::ifstream file;
    if (path != "-") {
        file.open(path);
        if (!file) throw Error(ErrorKind::io, path + ": cannot read the target");
    }
    std::istream& in = path == "-" ? std::cin : file;
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
