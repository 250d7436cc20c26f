#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "hitdna/core/error.hpp"
#include "hitdna/core/text.hpp"
#include "hitdna/learn/model.hpp"

namespace hitdna::cli {

Runner register_score(CLI::App& app) {
    struct State {
        std::vector<std::string> files;
        std::string db;
        Format format{{"text", "json", "jsonl", "csv"}, "text", "jsonl"};
    };
    auto st = std::make_shared<State>();
    app.footer("Hit score: the calibrated probability (0..1) that the track reaches the promotion engagement score\n"
               "(0.6), from the latest pattern weights. Exit status: 0 scored, 1 not enough data yet (no model), 3/4 a\n"
               "file could not be read/decoded, 5 database error. See man hitdna-score.");
    app.add_option("files", st->files, "Audio files")->required();
    add_format_option(app, st->format);
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
        const std::string fmt = st->format.resolve();
        if (const std::string stale = learn::stale_reason(*m, cat); !stale.empty()) std::cerr << "hitdna score: warning: " << stale << "\n";
        nlohmann::json all = nlohmann::json::array();
        if (fmt == "csv")
            std::cout << core::csv_record({"file", "hit_score", "predicted_engagement", "engagement_low", "engagement_high", "model_version", "model_kind", "reasons"});
        for (const auto& f : st->files) {
            try {
                auto p = learn::predict_file(*m, f);
                if (!p.hit_score) {
                    std::cerr << "hitdna score: " << f << ": not enough data for a calibrated hit score yet (model v" << m->version
                              << " has fewer than 5 promoted or 5 unpromoted tracks)\n";
                    if (!rc) rc = 1;
                    continue;
                }
                auto r3 = [](double x) { return std::round(x * 1000) / 1000; };
                nlohmann::json j = {{"file", f}, {"hit_score", r3(*p.hit_score)}, {"predicted_engagement", r3(p.engagement)},
                                    {"engagement_interval90", {r3(p.low), r3(p.high)}}, {"model_version", m->version}, {"model_kind", m->kind},
                                    {"reasons", p.reasons}};
                if (fmt == "jsonl") {
                    std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
                } else if (fmt == "json") {
                    all.push_back(j);
                } else if (fmt == "csv") {
                    char hs[16], pe[16], lo[16], hi[16];
                    std::snprintf(hs, sizeof hs, "%.3f", *p.hit_score);
                    std::snprintf(pe, sizeof pe, "%.3f", p.engagement);
                    std::snprintf(lo, sizeof lo, "%.3f", p.low);
                    std::snprintf(hi, sizeof hi, "%.3f", p.high);
                    std::string reasons;
                    for (const auto& r : p.reasons) reasons += (reasons.empty() ? "" : "; ") + r;
                    std::cout << core::csv_record({f, hs, pe, lo, hi, std::to_string(m->version), m->kind, reasons});
                } else {
                    std::printf("%s: hit score %.2f (probability of promotion, 0..1; predicted engagement %.2f of 1, 90 %% interval %.2f-%.2f; "
                                "model v%lld, %s, %lld tracks)\n", f.c_str(), *p.hit_score, p.engagement, p.low, p.high, (long long)m->version,
                                m->kind.c_str(), (long long)m->n_tracks);
                    for (const auto& r : p.reasons) std::printf("  - %s\n", r.c_str());
                }
            } catch (const Error& e) {
                std::cerr << "hitdna score: " << e.what() << "\n";
                if (!rc) rc = exit_code_for(e.kind());
            }
        }
        if (fmt == "json") std::cout << all.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        return rc;
    };
}

}  // namespace hitdna::cli
