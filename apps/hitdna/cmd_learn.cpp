#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "hitdna/core/error.hpp"
#include "hitdna/learn/model.hpp"

namespace hitdna::cli {

namespace {

void print_weights(const learn::Model& m, size_t top, std::ostream& out) {
    char b[512];
    std::snprintf(b, sizeof b, "pattern weights v%lld, fitted %s on %lld tracks with engagement (%lld at or above the promotion score; %lld events; "
                  "catalog generation %lld); penalty %.1f; cross-validated R^2 %.2f\n", (long long)m.version, m.fitted_at.c_str(), (long long)m.n_tracks,
                  (long long)m.n_successful, (long long)m.n_events, (long long)m.catalog_generation, m.lambda, m.cv_r2);
    out << b;
    std::vector<const learn::Feature*> fs;
    for (const auto& f : m.features) fs.push_back(&f);
    std::sort(fs.begin(), fs.end(), [](auto* a, auto* c) { return std::abs(a->weight) / (a->se + 1e-9) > std::abs(c->weight) / (c->se + 1e-9); });
    for (size_t i = 0; i < std::min(top, fs.size()); ++i) {
        const auto& f = *fs[i];
        const double z = f.weight / (f.se + 1e-12);
        const char* sure = std::abs(z) >= 3 ? "clear" : std::abs(z) >= 2 ? "likely" : "uncertain";
        std::snprintf(b, sizeof b, "  %+.4f ± %.4f per SD  %-32s %s: more %s goes with %s engagement\n", f.weight, f.se, f.name.c_str(), sure,
                      f.description.c_str(), f.weight >= 0 ? "higher" : "lower");
        out << b;
    }
}

}  // namespace

Runner register_learn(CLI::App& app) {
    auto db = std::make_shared<std::string>();
    app.footer("Fits pattern weights on every track with engagement (see man hitdna-learn) and stores them as a new\n"
               "version. Exit status: 0 fitted, 1 not enough data (fewer than 30 tracks with engagement), 5 database error.");
    app.add_option("--db", *db, "Catalog database (default: $HITDNA_DB, else ~/.local/share/hitdna/hitdna.db)");
    return [db]() -> int {
        store::Catalog cat(store::resolve_db_path(*db), store::Catalog::Mode::read_write);
        learn::Model m;
        try {
            m = learn::fit(cat);
        } catch (const Error& e) {
            if (e.kind() != ErrorKind::usage) throw;
            std::cerr << "hitdna learn: " << e.what() << "\n";
            return 1;
        }
        m = learn::save(cat, m);
        print_weights(m, 10, std::cout);
        return 0;
    };
}

Runner register_weights(CLI::App& app) {
    struct State {
        std::string db;
        size_t top = 15;
        bool json = false;
    };
    auto st = std::make_shared<State>();
    app.footer("Weights are engagement-score change (0..1 scale) per standard deviation of a dimension, with their\n"
               "standard error; 'clear' = at least 3 SE from 0, 'likely' = 2. Exit status: 0 shown, 1 no model yet\n"
               "(run hitdna learn), 5 database error. See man hitdna-weights.");
    app.add_option("-k,--top", st->top, "Dimensions shown, strongest evidence first (default 15)")->check(CLI::Range(1, 1000));
    app.add_flag("--json", st->json, "Every dimension as JSON on stdout");
    app.add_option("--db", st->db, "Catalog database (default: $HITDNA_DB, else ~/.local/share/hitdna/hitdna.db)");
    return [st]() -> int {
        store::Catalog cat(store::resolve_db_path(st->db), store::Catalog::Mode::read_only);
        auto m = learn::latest(cat);
        if (!m) {
            std::cerr << "hitdna weights: no pattern weights yet; give feedback on at least " << learn::k_min_tracks << " tracks and run hitdna learn\n";
            return 1;
        }
        if (st->json) {
            nlohmann::json j;
            j["version"] = m->version;
            j["fitted_at"] = m->fitted_at;
            j["n_tracks"] = m->n_tracks;
            j["n_events"] = m->n_events;
            j["catalog_generation"] = m->catalog_generation;
            j["cv_r2"] = m->cv_r2;
            j["lambda"] = m->lambda;
            for (const auto& f : m->features) j["weights"].push_back({{"dimension", f.name}, {"weight", f.weight}, {"se", f.se}});
            std::cout << j.dump(2) << "\n";
        } else {
            print_weights(*m, st->top, std::cout);
        }
        return 0;
    };
}

Runner register_score(CLI::App& app) {
    struct State {
        std::vector<std::string> files;
        std::string db;
        bool json = false;
    };
    auto st = std::make_shared<State>();
    app.footer("Hit score: the calibrated probability (0..1) that the track reaches the promotion engagement score\n"
               "(0.6), from the latest pattern weights. Exit status: 0 scored, 1 not enough data yet (no model), 3/4 a\n"
               "file could not be read/decoded, 5 database error. See man hitdna-score.");
    app.add_option("files", st->files, "Audio files")->required();
    app.add_flag("--json", st->json, "One JSON object per file on stdout");
    app.add_option("--db", st->db, "Catalog database (default: $HITDNA_DB, else ~/.local/share/hitdna/hitdna.db)");
    return [st]() -> int {
        store::Catalog cat(store::resolve_db_path(st->db), store::Catalog::Mode::read_only);
        auto m = learn::latest(cat);
        if (!m) {
            std::cerr << "hitdna score: not enough data for a hit score yet: no pattern weights (give feedback on at least " << learn::k_min_tracks
                      << " tracks, then run hitdna learn)\n";
            return 1;
        }
        int rc = 0;
        for (const auto& f : st->files) {
            try {
                auto p = learn::predict_file(*m, f);
                if (!p.hit_score) {
                    std::cerr << "hitdna score: " << f << ": not enough data for a calibrated hit score yet (model v" << m->version
                              << " has fewer than 5 promoted or 5 unpromoted tracks)\n";
                    if (!rc) rc = 1;
                    continue;
                }
                if (st->json) {
                    nlohmann::json j = {{"file", f}, {"hit_score", std::round(*p.hit_score * 1000) / 1000},
                                        {"predicted_engagement", std::round(p.engagement * 1000) / 1000}, {"model_version", m->version}, {"reasons", p.reasons}};
                    std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
                } else {
                    std::printf("%s: hit score %.2f (probability of promotion, 0..1; predicted engagement %.2f of 1; model v%lld, %lld tracks)\n", f.c_str(),
                                *p.hit_score, p.engagement, (long long)m->version, (long long)m->n_tracks);
                    for (const auto& r : p.reasons) std::printf("  - %s\n", r.c_str());
                }
            } catch (const Error& e) {
                std::cerr << "hitdna score: " << e.what() << "\n";
                if (!rc) rc = exit_code_for(e.kind());
            }
        }
        return rc;
    };
}

}  // namespace hitdna::cli
