#include "hitdna/store/export.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <ostream>

#include "hitdna/core/text.hpp"
#include "hitdna/dna/jams.hpp"
#include "hitdna/dna/json.hpp"

namespace hitdna::store {

namespace {

using json = nlohmann::ordered_json;

constexpr const char* k_layers[] = {"audio", "structure", "emotion", "production"};

// Scalars under `j` as (path joined by '_', JSON pointer) pairs, arrays left out.
void scalar_paths(const json& j, const std::string& name, const std::string& pointer, std::vector<std::pair<std::string, std::string>>& out) {
    if (j.is_object()) {
        for (auto it = j.begin(); it != j.end(); ++it) scalar_paths(it.value(), name + "_" + it.key(), pointer + "/" + it.key(), out);
    } else if (!j.is_array()) {
        out.push_back({name, pointer});
    }
}

// The DNA scalars of a track row, from the JSON of a default analysis: every field is there,
// whatever a given track holds.
const std::vector<std::pair<std::string, std::string>>& track_scalars() {
    static const auto paths = [] {
        std::vector<std::pair<std::string, std::string>> out;
        const json d = json::parse(dna::to_json_string(dna::Dna{}, false, -1));
        for (const char* layer : k_layers) scalar_paths(d[layer], layer, std::string("/") + layer, out);
        return out;
    }();
    return paths;
}

const std::vector<std::string> k_track_meta = {"id", "title", "artist", "year", "genres", "tags", "peak_rank", "source", "path",
                                               "duration_s", "tempo_bpm", "key", "mode", "time_signature", "loudness_lufs", "analysis_version"};
const std::vector<std::string> k_spotify_style = {"danceability", "energy", "valence", "acousticness", "instrumentalness", "speechiness", "liveness"};
// Spotify's audio-features fields in its own order, after hitdna's identifying columns.
const std::vector<std::string> k_spotify_columns = {"id", "title", "artist", "path", "danceability", "energy", "key", "loudness", "mode",
                                                    "speechiness", "acousticness", "instrumentalness", "liveness", "valence", "tempo",
                                                    "duration_ms", "time_signature"};
const std::vector<std::string> k_section_fields = {"section_index", "start_s", "end_s", "label", "role", "energy_lufs", "length_ratio", "novelty",
                                                   "section_key", "section_mode"};

std::string joined(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ";") + x;
    return s;
}

json at(const json& d, const std::string& pointer) {
    const json::json_pointer p(pointer);
    return d.contains(p) ? d[p] : json(nullptr);
}

// The metadata cells of a track (JSON values: numbers stay numbers).
json track_meta(const TrackRow& t, const json& d) {
    json m;
    m["id"] = t.id;
    m["title"] = t.title;
    m["artist"] = t.artist;
    m["year"] = t.year ? json(*t.year) : json(nullptr);
    m["genres"] = joined(t.genres);
    m["tags"] = joined(t.tags);
    m["peak_rank"] = t.peak_rank ? json(*t.peak_rank) : json(nullptr);
    m["source"] = t.source;
    m["path"] = t.path;
    m["duration_s"] = t.duration_s;
    m["tempo_bpm"] = t.bpm ? json(*t.bpm) : json(nullptr);
    m["key"] = t.key;
    m["mode"] = t.mode;
    m["time_signature"] = at(d, "/audio/meter");
    m["loudness_lufs"] = at(d, "/production/integrated_lufs");
    m["analysis_version"] = t.analysis_version;
    return m;
}

// A row under Spotify's names and encodings: key as a pitch class (-1 none), mode 1 major /
// 0 minor (empty without a key), loudness in LUFS, duration in ms, time signature as beats per
// bar (3/4 -> 3, 4/4 -> 4, 6/8 -> 6; empty when unknown).
json spotify_row(const TrackRow& t, const json& d) {
    json row;
    row["id"] = t.id;
    row["title"] = t.title;
    row["artist"] = t.artist;
    row["path"] = t.path;
    for (const std::string& k : k_spotify_style) row[k] = at(d, "/spotify_style/" + k);
    const int pc = t.key.empty() ? -1 : dna::pitch_index(t.key);
    row["key"] = pc;
    row["loudness"] = at(d, "/production/integrated_lufs");
    row["mode"] = pc < 0 ? json(nullptr) : json(t.mode == "major" ? 1 : 0);
    row["tempo"] = t.bpm ? json(*t.bpm) : json(nullptr);
    row["duration_ms"] = int64_t(std::llround(t.duration_s * 1000));
    const json meter = at(d, "/audio/meter");
    row["time_signature"] = meter.is_string() ? json(std::atoi(meter.get<std::string>().c_str())) : json(nullptr);
    json ordered;
    for (const auto& c : k_spotify_columns) ordered[c] = row[c];
    return ordered;
}

std::string cell(const json& v) {
    if (v.is_null()) return "";
    if (v.is_string()) return v.get<std::string>();
    if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
    return v.dump();
}

void write_row(const json& row, ExportFormat f, std::ostream& out) {
    if (f == ExportFormat::jsonl) {
        out << row.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
        return;
    }
    std::vector<std::string> cells;
    for (auto it = row.begin(); it != row.end(); ++it) cells.push_back(cell(it.value()));
    out << core::csv_record(cells);
}

}  // namespace

std::vector<std::string> export_columns(const ExportOptions& o) {
    if (o.spotify) return k_spotify_columns;
    std::vector<std::string> cols = k_track_meta;
    if (o.sections) {
        cols.insert(cols.end(), k_section_fields.begin(), k_section_fields.end());
        return cols;
    }
    cols.insert(cols.end(), k_spotify_style.begin(), k_spotify_style.end());
    for (const auto& [name, pointer] : track_scalars()) cols.push_back(name);
    return cols;
}

size_t export_catalog(Catalog& cat, const ExportOptions& o, std::ostream& out) {
    Catalog::ReadSnapshot snapshot(cat);
    if (o.format == ExportFormat::csv) out << core::csv_record(export_columns(o));
    size_t rows = 0;
    for (int64_t id : cat.track_ids(o.filter)) {
        const auto t = cat.track(id);
        if (!t) continue;
        const std::string text = cat.dna_json(id);
        if (o.format == ExportFormat::jams) {
            out << dna::jams_from_dna_json(text, t->title, t->artist) << "\n";
            ++rows;
            continue;
        }
        const json d = json::parse(text, nullptr, false);
        const json meta = track_meta(*t, d.is_object() ? d : json::object());
        if (o.spotify) {
            write_row(spotify_row(*t, d.is_object() ? d : json::object()), o.format, out);
            ++rows;
            continue;
        }
        if (!o.sections) {
            json row = meta;
            for (const std::string& k : k_spotify_style) row[k] = d.is_object() ? at(d, "/spotify_style/" + k) : json(nullptr);
            for (const auto& [name, pointer] : track_scalars()) row[name] = d.is_object() ? at(d, pointer) : json(nullptr);
            write_row(row, o.format, out);
            ++rows;
            continue;
        }
        const json sections = d.is_object() ? at(d, "/structure/sections") : json();
        if (!sections.is_array()) continue;
        for (size_t i = 0; i < sections.size(); ++i) {
            const json& s = sections[i];
            json row = meta;
            row["section_index"] = i;
            for (const char* k : {"start_s", "end_s", "label", "role", "energy_lufs", "length_ratio", "novelty"}) row[k] = s.value(k, json(nullptr));
            row["section_key"] = s.value("key", json(nullptr));
            row["section_mode"] = s.value("mode", json(nullptr));
            write_row(row, o.format, out);
            ++rows;
        }
    }
    return rows;
}

}  // namespace hitdna::store
