#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "hitdna/enrich/prompt.hpp"
#include "hitdna/core/error.hpp"
#include "hitdna/validate/validate.hpp"

namespace hitdna::cli {

namespace {

void print_report(const validate::Report& r, double min_score, std::ostream& out) {
    char b[400];
    if (!r.brief.empty()) {
        out << "the brief:\n";
        for (const auto& c : r.brief) {
            std::snprintf(b, sizeof b, "  %s %s: %s\n", c.measured ? (c.ok ? "ok  " : "MISS") : "--  ", c.item.c_str(), c.found.c_str());
            out << b;
        }
    }
    std::snprintf(b, sizeof b, "overall %.3f (%s %.2f)\n", r.overall, r.overall >= min_score ? "passes" : "below", min_score);
    out << b;
    for (const auto& l : r.layers) {
        std::snprintf(b, sizeof b, "  %-10s %.3f  (weight %.2f, pass mark %.2f: %s)\n", l.name.c_str(), l.similarity, l.weight, l.pass_mark,
                      l.similarity >= l.pass_mark ? "as targeted" : "off target");
        out << b;
    }
    size_t shown = 0;
    for (const auto& d : r.deviations) {
        if (shown++ == 5 || d.cost < 0.005) break;
        out << "  - " << d.text << "\n";
    }
}

}  // namespace

Runner register_validate(CLI::App& app) {
    struct State {
        std::string track, target;
        Format format{{"text", "json"}, "json"};
        double min_score = 0.8;
    };
    auto st = std::make_shared<State>();
    app.footer(
        "The target's brief comes first: each stated item (tempo, key, length, drop and hook times,\n"
        "counts, feel words) checked on the track (\"drop at 1:00: found at 1:01\"). Similarities are 0..1\n"
        "per layer (tempo, key, structure, energy, production), each with a pass mark; overall is their\n"
        "weighted mean (0.2, 0.15, 0.25, 0.25, 0.15). Exit status: 0 overall >= --min-score, 1 below it,\n"
        "2 usage (bad target), 3/4 the track could not be read/decoded. See man hitdna-validate.");
    app.add_option("track", st->track, "Audio file to check")->required();
    app.add_option("--target", st->target, "Target JSON from 'hitdna enrich --format json' (or a generation record's target)")->required();
    app.add_option("--min-score", st->min_score, "Overall score needed to pass, 0..1 (default 0.8)")->check(CLI::Range(0.0, 1.0));
    add_format_option(app, st->format);
    return [st]() -> int {
        auto r = validate::check_file(st->track, enrich::read_target(st->target));
        const std::string fmt = st->format.resolve();
        if (fmt == "json") {
            auto j = validate::to_json(r, st->min_score);
            j["track"] = st->track;
            j["target"] = st->target;
            std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        } else {
            print_report(r, st->min_score, std::cout);
        }
        return r.overall >= st->min_score ? 0 : 1;
    };
}

}  // namespace hitdna::cli
