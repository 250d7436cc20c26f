#include <cmath>

#include "hitdna/analysis/analyze.hpp"
#include "hitdna/validate/validate.hpp"

namespace hitdna::validate {

Report check_file(const std::string& audio_path, const enrich::Target& target) { return compare(analysis::analyze_file(audio_path), target); }

nlohmann::json to_json(const Report& r, double min_score) {
    nlohmann::json j;
    j["overall"] = std::round(r.overall * 1000) / 1000;
    j["min_score"] = min_score;
    j["passed"] = r.overall >= min_score;
    nlohmann::json layers = nlohmann::json::object();
    for (const auto& l : r.layers)
        layers[l.name] = {{"similarity", std::round(l.similarity * 1000) / 1000}, {"weight", l.weight}, {"pass_mark", l.pass_mark}, {"passed", l.similarity >= l.pass_mark}};
    nlohmann::json brief = nlohmann::json::array();
    bool brief_ok = true;
    for (const auto& c : r.brief) {
        brief.push_back({{"item", c.item}, {"text", c.text}, {"found", c.found}, {"ok", c.ok}, {"measured", c.measured}});
        brief_ok = brief_ok && c.ok;
    }
    j["brief"] = brief;
    j["measured"] = {{"bpm", r.bpm > 0 ? nlohmann::json(r.bpm) : nlohmann::json(nullptr)},
                     {"key", r.key},
                     {"mode", r.mode},
                     {"integrated_lufs", r.integrated_lufs},
                     {"duration_s", r.duration_s},
                     {"first_hook_s", r.first_hook_s >= 0 ? nlohmann::json(r.first_hook_s) : nlohmann::json(nullptr)},
                     {"drop_times_s", r.drop_times_s}};
    j["brief_ok"] = brief_ok;
    j["layers"] = layers;
    j["energy_correlation"] = std::round(r.energy_correlation * 1000) / 1000;
    j["energy_arc_lu"] = r.energy_arc;
    nlohmann::json dev = nlohmann::json::array();
    for (const auto& d : r.deviations) dev.push_back({{"layer", d.layer}, {"cost", std::round(d.cost * 1000) / 1000}, {"text", d.text}});
    j["deviations"] = dev;
    return j;
}

}  // namespace hitdna::validate
