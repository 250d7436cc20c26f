#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "hitdna/core/error.hpp"
#include "hitdna/core/text.hpp"
#include "hitdna/learn/model.hpp"

namespace hitdna::cli {

Runner register_weights(CLI::App& app) {
    struct State {
        std::string db;
        size_t top = 15;
        Format format{{"text", "json", "csv"}, "text", "json"};
    };
    auto st = std::make_shared<State>();
    app.footer("Ridge weights are engagement-score change (0..1 scale) per standard deviation of a dimension, with\n"
               "their standard error ('clear' = at least 3 SE from 0, 'likely' = 2); xgboost shows each dimension's share\n"
               "of the trees' gain; knn has no weights. A stale model (the catalog moved on since it was fitted) is said\n"
               "so. Exit status: 0 shown, 1 no model yet (run hitdna learn), 5 database error. See man hitdna-weights.");
    app.add_option("-k,--top", st->top, "Dimensions shown, strongest evidence first (default 15)")->check(CLI::Range(1, 1000));
    add_format_option(app, st->format);
    app.add_option("--db", st->db, "Catalog database (default: $HITDNA_DB, else ~/.local/share/hitdna/hitdna.db)");
    return [st]() -> int {
        store::Catalog cat(store::resolve_db_path(st->db), store::Catalog::Mode::read_only);
        auto m = learn::latest(cat);
        if (!m) {
            std::cerr << "hitdna weights: no pattern weights yet; give feedback on at least " << learn::k_min_tracks << " tracks and run hitdna learn\n";
            return 1;
        }
        const std::string fmt = st->format.resolve();
        const std::string stale = learn::stale_reason(*m, cat);
        if (!stale.empty()) std::cerr << "hitdna weights: warning: " << stale << "\n";
        if (fmt == "json") {
            auto j = learn::weights_json(*m);
            j["stale"] = !stale.empty();
            std::cout << j.dump(2) << "\n";
        } else if (fmt == "csv") {
            // Every dimension, in the model's order: its weight and standard error (ridge), or
            // its gain (xgboost); knn has neither.
            std::cout << core::csv_record({"dimension", "weight", "se", "gain", "model_version", "model_kind"});
            const auto gain = learn::importance(*m);
            for (size_t i = 0; i < m->features.size(); ++i) {
                const auto& f = m->features[i];
                char w[32] = "", se[32] = "", g[32] = "";
                if (m->kind == "ridge" || m->kind == "ols") std::snprintf(w, sizeof w, "%.6g", f.weight), std::snprintf(se, sizeof se, "%.6g", f.se);
                if (!gain.empty()) std::snprintf(g, sizeof g, "%.6g", gain[i]);
                std::cout << core::csv_record({f.name, w, se, g, std::to_string(m->version), m->kind});
            }
        } else {
            std::cout << learn::describe_weights(*m, st->top);
            if (!stale.empty()) std::cout << "  " << stale << "\n";
        }
        return 0;
    };
}

}  // namespace hitdna::cli
