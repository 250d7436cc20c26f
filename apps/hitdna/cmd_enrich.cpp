#include <unistd.h>

#include <cstdlib>
#include <sstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "hitdna/core/error.hpp"
#include "hitdna/core/query_lines.hpp"
#include "hitdna/enrich/prompt.hpp"

namespace hitdna::cli {

namespace {

// --queries: each line's target built on --jobs threads (each with its own catalog
// connection), answered in line order; what a target was made from goes into its "log".
template <class State>
int run_queries(const State& st) {
    struct Made {
        nlohmann::json document;
        std::string log;
    };
    auto prepare = [&](const nlohmann::json& q) -> std::shared_ptr<void> {
        const auto o = enrich::prompt_line_options(q, st.o);
        std::string model = st.model;
        if (q.contains("model")) {
            if (!q["model"].is_string() || (q["model"] != "music_v1" && q["model"] != "music_v2"))
                throw Error(ErrorKind::usage, "\"model\" must be \"music_v1\" or \"music_v2\"");
            model = q["model"].get<std::string>();
        }
        std::ostringstream log;
        auto made = std::make_shared<Made>();
        made->document = enrich::target_document(enrich::target_for_prompt(o, log), model);
        made->log = log.str();
        return made;
    };
    auto answer = [](const nlohmann::json&, const std::shared_ptr<void>& prepared) {
        const auto& made = *static_cast<const Made*>(prepared.get());
        nlohmann::ordered_json rec;
        for (auto& [key, value] : made.document.items()) rec[key] = value;
        nlohmann::json lines = nlohmann::json::array();
        std::istringstream ls(made.log);
        for (std::string l; std::getline(ls, l);)
            if (!l.empty()) lines.push_back(l);
        rec["log"] = lines;
        return rec;
    };
    return core::answer_query_source(st.queries, st.jobs, prepare, answer, std::cout, std::cerr).failed ? 1 : 0;
}

}  // namespace

Runner register_enrich(CLI::App& app) {
    struct State {
        enrich::PromptOptions o;
        std::string model = "music_v1", qdrant_url;
        Format format{{"text", "json"}, "json"};
        double duration = 0;
        std::string queries;
        int jobs = 0;
    };
    auto st = std::make_shared<State>();
    if (const char* c = std::getenv("QDRANT_COLLECTION"); c && *c) st->o.search.collection = c;
    app.footer(
        "Reads the prompt as a brief (tempo, key, length, drop/hook times, counts, feel and genre words,\n"
        "\"titles\", like <Artist>; grammar in man hitdna-enrich): what it states is used exactly, the\n"
        "hits fill in the rest, every field says where it came from (prompt, hits, default). Finds\n"
        "similar hits like 'hitdna match --text' on the brief's words, re-weighted toward the brief.\n"
        "With no catalog or no match it says so and builds the target from the brief alone.\n"
        "A brief that contradicts itself (two tempos, ...) is refused with one line, exit 2.\n"
        "--queries FILE|-: one JSON object per line ({\"id\":..., \"prompt\":..., \"filter\", \"k\", \"duration_s\",\n"
        "\"model\"}), one JSONL answer per line (id, line, what enrich -f json prints, log); a failing line\n"
        "is answered with its error, the rest go on, and the exit status is 1.\n"
        "With --backend qdrant the hits are searched in a collection made by 'hitdna sync qdrant'; their\n"
        "DNA still comes from the catalog. Exit status: 0 target printed (from hits or from the prompt\n"
        "alone), 1 (--queries) some lines failed, 2 usage, 5 database error, 6 Qdrant unreachable or timed out, 7 Qdrant refused a request.\n"
        "See man hitdna-enrich.");
    app.add_option("prompt", st->o.prompt, "What to make, e.g. '\"Not Like Us\" energy with phonk'");
    app.add_option("--queries", st->queries, "Many prompts: a JSON-lines FILE, or - for standard input (one target line each)");
    app.add_option("-j,--jobs", st->jobs, "With --queries: prompts worked on in parallel (default: all cores)")->check(CLI::Range(1, 256));
    app.add_option("--filter", st->o.filters, "Metadata filter on the hits, as in hitdna match (repeatable)");
    app.add_option("-k", st->o.k, "Hits to aggregate (default 10)")->check(CLI::Range(1, 1000));
    app.add_option("--duration", st->duration, "Target length in seconds, as if the brief stated it (default: the brief's, else the hits' weighted median)")->check(CLI::Range(10.0, 600.0));
    app.add_option("--model", st->model, "Composition plan format: music_v1 (sections) or music_v2 (chunks); default music_v1")
        ->check(CLI::IsMember({"music_v1", "music_v2"}));
    add_format_option(app, st->format);
    add_backend_options(app, st->o.search, st->qdrant_url);
    app.add_option("--db", st->o.db, "Catalog database (default: $HITDNA_DB, else ~/.local/share/hitdna/hitdna.db)");
    return [st]() -> int {
        if (st->duration > 0) st->o.duration_s = st->duration;
        st->o.search.qdrant = qdrant::config_from_env(st->qdrant_url);
        if (!st->queries.empty()) {
            if (!st->o.prompt.empty()) throw Error(ErrorKind::usage, "--queries takes the prompts from its lines: no prompt beside it");
            if (!st->format.chosen.empty() && st->format.resolve() != "json") throw Error(ErrorKind::usage, "--queries answers in JSON lines only");
            return run_queries(*st);
        }
        if (st->o.prompt.empty()) throw Error(ErrorKind::usage, "a prompt is required (or --queries FILE)");
        if (st->jobs) throw Error(ErrorKind::usage, "--jobs goes with --queries");
        auto t = enrich::target_for_prompt(st->o, std::cerr);
        const std::string fmt = st->format.resolve();
        if (fmt == "json") {
            std::cout << enrich::target_document(t, st->model).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        } else {
            std::cout << enrich::enriched_prompt(t) << "\n";
            if (!t.brief.empty()) {
                std::cout << "\nthe brief (what the prompt states; chars are byte offsets):\n";
                for (const auto& it : t.brief)
                    std::printf("  %-9s %-26s '%s' (chars %zu-%zu)\n", enrich::to_string(it.kind), it.value.c_str(), it.text.c_str(), it.span.begin, it.span.end);
            }
            std::cout << "\nthe target (from: prompt = stated, hits = the hits' aggregate, default = no hits):\n";
            for (const auto& f : enrich::target_fields(t))
                std::printf("  %-30s %-22s from %-7s %s\n", f.field.c_str(), f.value.c_str(), f.from.c_str(), f.note.c_str());
            if (t.from_hits) {
                std::cout << "\nfrom " << t.hits.size() << " hits:\n";
                for (const auto& h : t.hits)
                    std::printf("  %5.1f %%  %s - %s (id %lld, score %.3f)%s%s\n", h.weight * 100, h.artist.c_str(), h.title.c_str(), (long long)h.track_id, h.score,
                                h.why.empty() ? "" : "; ", h.why.c_str());
            }
        }
        return 0;
    };
}

}  // namespace hitdna::cli
