#include "hitdna/dna/jams.hpp"

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

namespace hitdna::dna {

namespace {

using json = nlohmann::ordered_json;

double r3(double v) { return std::round(v * 1000) / 1000; }

json observation(double time_s, double duration_s, json value, json confidence = nullptr) {
    json o;
    o["time"] = r3(std::max(0.0, time_s));
    o["duration"] = r3(std::max(0.0, duration_s));
    o["value"] = std::move(value);
    o["confidence"] = std::move(confidence);
    return o;
}

json annotation(const std::string& ns, const Dna& d, json data) {
    json a;
    a["annotation_metadata"] = {{"corpus", ""},
                                {"version", HITDNA_VERSION},
                                {"annotation_tools", "hitdna analyze, analysis_version " + std::to_string(d.analysis_version)},
                                {"annotation_rules", "machine estimate; see man hitdna-analyze"},
                                {"data_source", "hitdna " HITDNA_VERSION}};
    a["namespace"] = ns;
    a["data"] = std::move(data);
    a["time"] = 0.0;
    a["duration"] = r3(d.duration_s);
    a["sandbox"] = json::object();
    return a;
}

// "Am" -> "A:min", "C" -> "C:maj", "N" -> "N".
std::string jams_chord(const std::string& label) {
    if (label.empty() || label == "N") return "N";
    if (label.back() == 'm') return label.substr(0, label.size() - 1) + ":min";
    return label + ":maj";
}

std::string salami_function(const std::string& role) {
    if (role == "hook") return "chorus";
    if (role == "pre-hook") return "pre-chorus";
    if (role == "intro" || role == "verse" || role == "bridge" || role == "outro") return role;
    return "no_function";
}

}  // namespace

std::string to_jams_string(const Dna& d) {
    const auto& a = d.audio;
    json doc;
    doc["file_metadata"] = {{"title", std::filesystem::path(d.file).stem().string()},
                            {"artist", ""},
                            {"release", ""},
                            {"duration", r3(d.duration_s)},
                            {"identifiers", {{"path", d.file}}},
                            {"jams_version", "0.3.4"}};
    json anns = json::array();
    if (!a.beats_s.empty()) {
        json data = json::array();
        for (double t : a.beats_s) data.push_back(observation(t, 0, nullptr));
        anns.push_back(annotation("beat", d, std::move(data)));
    }
    if (a.bpm) {
        json data = json::array();
        double start = 0, bpm = *a.bpm;
        for (const auto& c : a.tempo_changes) {
            data.push_back(observation(start, c.time_s - start, r3(bpm), r3(a.bpm_confidence)));
            start = c.time_s;
            bpm = c.bpm;
        }
        data.push_back(observation(start, d.duration_s - start, r3(bpm), r3(a.bpm_confidence)));
        anns.push_back(annotation("tempo", d, std::move(data)));
    }
    if (!a.key.empty()) {
        anns.push_back(annotation("key_mode", d, json::array({observation(0, d.duration_s, a.key + ":" + a.mode, r3(a.key_strength))})));
        json data = json::array();
        for (const auto& s : d.structure.sections)
            if (!s.key.empty()) data.push_back(observation(s.start_s, s.end_s - s.start_s, s.key + ":" + s.mode));
        if (!data.empty()) {
            auto per_section = annotation("key_mode", d, std::move(data));
            per_section["sandbox"]["scope"] = "section";
            anns.push_back(std::move(per_section));
        }
    }
    if (!a.chords.empty()) {
        json data = json::array();
        for (const auto& c : a.chords) data.push_back(observation(c.start_s, c.end_s - c.start_s, jams_chord(c.label)));
        anns.push_back(annotation("chord", d, std::move(data)));
    }
    if (!d.structure.sections.empty()) {
        json labels = json::array(), roles = json::array();
        for (const auto& s : d.structure.sections) {
            labels.push_back(observation(s.start_s, s.end_s - s.start_s, s.label));
            roles.push_back(observation(s.start_s, s.end_s - s.start_s, salami_function(s.role)));
        }
        anns.push_back(annotation("segment_open", d, std::move(labels)));
        anns.push_back(annotation("segment_salami_function", d, std::move(roles)));
    }
    doc["annotations"] = std::move(anns);
    doc["sandbox"] = {{"hitdna", {{"analysis_version", d.analysis_version}, {"meter", a.meter}}}};
    return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace hitdna::dna
