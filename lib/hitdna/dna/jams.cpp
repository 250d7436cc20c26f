#include "hitdna/dna/jams.hpp"

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "hitdna/dna/json.hpp"

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

json annotation(const std::string& ns, int analysis_version, double duration_s, json data) {
    json a;
    a["annotation_metadata"] = {{"corpus", ""},
                                {"version", HITDNA_VERSION},
                                {"annotation_tools", "hitdna analyze, analysis_version " + std::to_string(analysis_version)},
                                {"annotation_rules", "machine estimate; see man hitdna-analyze"},
                                {"data_source", "hitdna " HITDNA_VERSION}};
    a["namespace"] = ns;
    a["data"] = std::move(data);
    a["time"] = 0.0;
    a["duration"] = r3(duration_s);
    a["sandbox"] = json::object();
    return a;
}

// "Am" -> "A:min", "C" -> "C:maj", "N" -> "N".
std::string jams_chord(const std::string& label) {
    if (label.empty() || label == "N") return "N";
    if (label.back() == 'm') return label.substr(0, label.size() - 1) + ":min";
    return label + ":maj";
}

// A string field, "" when missing or not a string (JSON null: no key, no label).
std::string str(const json& j, const char* key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

double num(const json& j, const char* key, double fallback = 0.0) {
    const auto it = j.find(key);
    return it != j.end() && it->is_number() ? it->get<double>() : fallback;
}

std::string salami_function(const std::string& role) {
    if (role == "hook") return "chorus";
    if (role == "pre-hook") return "pre-chorus";
    if (role == "intro" || role == "verse" || role == "bridge" || role == "outro") return role;
    return "no_function";
}

// The document from the DNA's JSON (as analyze prints it and the catalog stores it).
std::string jams_from_json(const json& d, const std::string& title, const std::string& artist) {
    const json none = json::object();
    const json& a = d.contains("audio") ? d["audio"] : none;
    const json& h = a.contains("harmony") ? a["harmony"] : none;
    const json sections = d.contains("structure") ? d["structure"].value("sections", json::array()) : json::array();
    const double duration = num(d, "duration_s");
    const int version = d.value("analysis_version", 0);
    const std::string file = str(d, "file");
    json doc;
    doc["file_metadata"] = {{"title", title.empty() ? std::filesystem::path(file).stem().string() : title},
                            {"artist", artist},
                            {"release", ""},
                            {"duration", r3(duration)},
                            {"identifiers", {{"path", file}}},
                            {"jams_version", "0.3.4"}};
    json anns = json::array();
    if (!a.value("beats_s", json::array()).empty()) {
        json data = json::array();
        for (const auto& t : a["beats_s"]) data.push_back(observation(t.get<double>(), 0, nullptr));
        anns.push_back(annotation("beat", version, duration, std::move(data)));
    }
    if (a.contains("bpm") && a["bpm"].is_number()) {
        json data = json::array();
        const double conf = r3(num(a, "bpm_confidence"));
        double start = 0, bpm = a["bpm"].get<double>();
        for (const auto& c : a.value("tempo_changes", json::array())) {
            const double t = num(c, "time_s");
            data.push_back(observation(start, t - start, r3(bpm), conf));
            start = t;
            bpm = num(c, "bpm", bpm);
        }
        data.push_back(observation(start, duration - start, r3(bpm), conf));
        anns.push_back(annotation("tempo", version, duration, std::move(data)));
    }
    if (!str(h, "key").empty()) {
        const std::string key = h["key"].get<std::string>() + ":" + str(h, "mode");
        anns.push_back(annotation("key_mode", version, duration, json::array({observation(0, duration, key, r3(num(h, "key_strength")))})));
        json data = json::array();
        for (const auto& s : sections)
            if (!str(s, "key").empty())
                data.push_back(observation(num(s, "start_s"), num(s, "end_s") - num(s, "start_s"), s["key"].get<std::string>() + ":" + str(s, "mode")));
        if (!data.empty()) {
            auto per_section = annotation("key_mode", version, duration, std::move(data));
            per_section["sandbox"]["scope"] = "section";
            anns.push_back(std::move(per_section));
        }
    }
    if (!h.value("chords", json::array()).empty()) {
        json data = json::array();
        for (const auto& c : h["chords"])
            data.push_back(observation(num(c, "start_s"), num(c, "end_s") - num(c, "start_s"), jams_chord((str(c, "chord").empty() ? std::string("N") : str(c, "chord")))));
        anns.push_back(annotation("chord", version, duration, std::move(data)));
    }
    if (!sections.empty()) {
        json labels = json::array(), roles = json::array();
        for (const auto& s : sections) {
            const double t = num(s, "start_s"), len = num(s, "end_s") - t;
            labels.push_back(observation(t, len, str(s, "label")));
            roles.push_back(observation(t, len, salami_function(str(s, "role"))));
        }
        anns.push_back(annotation("segment_open", version, duration, std::move(labels)));
        anns.push_back(annotation("segment_salami_function", version, duration, std::move(roles)));
    }
    doc["annotations"] = std::move(anns);
    doc["sandbox"] = {{"hitdna", {{"analysis_version", version}, {"meter", str(a, "meter")}}}};
    return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

std::string to_jams_string(const Dna& d) { return jams_from_json(json::parse(to_json_string(d, false, -1)), "", ""); }

std::string jams_from_dna_json(const std::string& dna_json, const std::string& title, const std::string& artist) {
    const json d = json::parse(dna_json, nullptr, false);
    if (d.is_discarded() || !d.is_object()) throw std::invalid_argument("not a DNA JSON object");
    return jams_from_json(d, title, artist);
}

}  // namespace hitdna::dna
