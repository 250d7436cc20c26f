#include <iostream>
#include <memory>

#include "commands.hpp"
#include "hitdna/core/error.hpp"
#include "hitdna/learn/model.hpp"

namespace hitdna::cli {

Runner register_learn(CLI::App& app) {
    struct State {
        std::string db;
        Format format{{"text", "json"}};
        learn::FitOptions fit;
    };
    auto st = std::make_shared<State>();
    st->fit.kind = "auto";
    app.footer("Fits a pattern model on every track with engagement (see man hitdna-learn) and stores it as a new\n"
               "version: each model kind is judged on the same held-out fifth of those tracks. Exit status: 0 fitted,\n"
               "1 not enough data (fewer than 30 tracks with engagement), 2 usage, 5 database error.");
    app.add_option("--model", st->fit.kind, "ridge, knn, xgboost, or auto: the best held-out R^2 (below 300 engaged tracks, ridge unless another kind beats it clearly)")
        ->check(CLI::IsMember({"ridge", "knn", "xgboost", "auto"}))
        ->default_str("auto");
    app.add_option("--promote-threshold", st->fit.promote_threshold, "A track is promoted (a success the hit score predicts) at this engagement score, 0..1")
        ->check(CLI::Range(0.0, 1.0))
        ->default_str("0.6");
    app.add_option("--min-plays", st->fit.promote_min_plays, "... and with at least this many plays")->check(CLI::NonNegativeNumber)->default_str("100");
    app.add_option("--seed", st->fit.seed, "Seed of the held-out split and of the trees' sampling")->default_str("11");
    app.add_option("--db", st->db, "Catalog database (default: $HITDNA_DB, else ~/.local/share/hitdna/hitdna.db)");
    add_format_option(app, st->format);
    return [st]() -> int {
        store::Catalog cat(store::resolve_db_path(st->db), store::Catalog::Mode::read_write);
        learn::Model m;
        try {
            m = learn::fit(cat, st->fit);
        } catch (const Error& e) {
            if (e.kind() != ErrorKind::usage) throw;
            std::cerr << "hitdna learn: " << e.what() << "\n";
            return 1;
        }
        m = learn::save(cat, m);
        if (st->format.resolve() == "json") std::cout << learn::weights_json(m).dump(2) << "\n";
        else std::cout << learn::describe_weights(m, 10);
        return 0;
    };
}

}  // namespace hitdna::cli
