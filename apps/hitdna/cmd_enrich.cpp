#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "hitdna/core/error.hpp"
#include "hitdna/enrich/prompt.hpp"

namespace hitdna::cli {

Runner register_enrich(CLI::App& app) {
    struct State {
        enrich::PromptOptions o;
        std::string model = "music_v1", qdrant_url;
        Format format{{"text", "json"}, "json"};
        double duration = 0;
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
        "With --backend qdrant the hits are searched in a collection made by 'hitdna sync qdrant'; their\n"
        "DNA still comes from the catalog. Exit status: 0 target printed (from hits or from the prompt\n"
        "alone), 2 usage, 5 database error, 6 Qdrant unreachable or timed out, 7 Qdrant refused a request.\n"
        "See man hitdna-enrich.");
    app.add_option("prompt", st->o.prompt, "What to make, e.g. '\"Not Like Us\" energy with phonk'")->required();
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
