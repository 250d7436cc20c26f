#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "hitdna/analysis/analyze.hpp"
#include "hitdna/core/error.hpp"
#include "hitdna/validate/validate.hpp"

namespace hitdna::cli {

enrich::Target read_target(const std::string& path) {
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
    return enrich::target_from_json(j, path);
}

nlohmann::json report_json(const validate::Report& r, double min_score) {
    nlohmann::json j;
    j["overall"] = std::round(r.overall * 1000) / 1000;
    j["min_score"] = min_score;
    j["passed"] = r.overall >= min_score;
    nlohmann::json layers = nlohmann::json::object();
    for (const auto& l : r.layers) layers[l.name] = {{"similarity", std::round(l.similarity * 1000) / 1000}, {"weight", l.weight}};
    j["layers"] = layers;
    j["energy_correlation"] = std::round(r.energy_correlation * 1000) / 1000;
    j["energy_arc_lu"] = r.energy_arc;
    nlohmann::json dev = nlohmann::json::array();
    for (const auto& d : r.deviations) dev.push_back({{"layer", d.layer}, {"cost", std::round(d.cost * 1000) / 1000}, {"text", d.text}});
    j["deviations"] = dev;
    return j;
}

void print_report(const validate::Report& r, double min_score, std::ostream& out) {
    char b[160];
    std::snprintf(b, sizeof b, "overall %.3f (%s %.2f)\n", r.overall, r.overall >= min_score ? "passes" : "below", min_score);
    out << b;
    for (const auto& l : r.layers) {
        std::snprintf(b, sizeof b, "  %-10s %.3f  (weight %.2f)\n", l.name.c_str(), l.similarity, l.weight);
        out << b;
    }
    size_t shown = 0;
    for (const auto& d : r.deviations) {
        if (shown++ == 5 || d.cost < 0.005) break;
        out << "  - " << d.text << "\n";
    }
}

Runner register_validate(CLI::App& app) {
    struct State {
        std::string track, target, format;
        double min_score = 0.8;
    };
    auto st = std::make_shared<State>();
    app.footer(
        "Similarities are 0..1 per layer (tempo, key, structure, energy, production); overall is their\n"
        "weighted mean (0.2, 0.15, 0.25, 0.25, 0.15). Exit status: 0 overall >= --min-score, 1 below it,\n"
        "2 usage (bad target), 3/4 the track could not be read/decoded. See man hitdna-validate.");
    app.add_option("track", st->track, "Audio file to check")->required();
    app.add_option("--target", st->target, "Target JSON from 'hitdna enrich --format json' (or a generation record's target)")->required();
    app.add_option("--min-score", st->min_score, "Overall score needed to pass, 0..1 (default 0.8)")->check(CLI::Range(0.0, 1.0));
    app.add_option("-f,--format", st->format, "text (default on a terminal) or json")->check(CLI::IsMember({"text", "json"}));
    return [st]() -> int {
        auto t = read_target(st->target);
        auto d = analysis::analyze_file(st->track);
        auto r = validate::compare(d, t);
        const std::string fmt = st->format.empty() ? (isatty(STDOUT_FILENO) ? "text" : "json") : st->format;
        if (fmt == "json") {
            auto j = report_json(r, st->min_score);
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
