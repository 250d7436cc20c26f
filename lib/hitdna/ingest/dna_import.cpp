#include "hitdna/ingest/dna_import.hpp"

#include <chrono>
#include <istream>
#include <nlohmann/json.hpp>
#include <optional>

#include "hitdna/core/error.hpp"
#include "hitdna/core/text.hpp"
#include "hitdna/dna/vectors.hpp"
#include "hitdna/ingest/charts.hpp"
#include "hitdna/store/vector_index.hpp"

namespace hitdna::ingest {

namespace {

using json = nlohmann::ordered_json;

std::vector<float> floats_of(const json& a, const char* space, size_t want) {
    if (!a.is_array() || a.size() != want)
        throw Error(ErrorKind::usage, std::string("its ") + space + " vector has " + (a.is_array() ? std::to_string(a.size()) : std::string("no")) +
                                          " dimensions, this hitdna has " + std::to_string(want));
    std::vector<float> out;
    for (const auto& v : a) {
        if (!v.is_number()) throw Error(ErrorKind::usage, std::string("its ") + space + " vector holds a non-number");
        out.push_back(v.get<float>());
    }
    return out;
}

// What put_track needs of one printed analysis, and the JSON to store (the analysis without
// its vectors, content hash and tags: exactly what an ingest on this machine would store).
struct Parsed {
    dna::Dna dna;
    std::string stored_json, content_hash;
    store::TrackMeta tags;
};

// A string field, "" when missing or not a string (JSON null: no key).
std::string str(const json& j, const char* key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Parsed parse_line(const std::string& line) {
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) throw Error(ErrorKind::usage, "not a JSON object");
    Parsed p;
    auto& d = p.dna;
    const int version = j.value("analysis_version", -1);
    if (version != dna::k_analysis_version)
        throw Error(ErrorKind::usage, "analysis_version " + std::to_string(version) + ", this hitdna stores " + std::to_string(dna::k_analysis_version) +
                                          " (analyze again with this version)");
    if (!j.contains("vectors")) throw Error(ErrorKind::usage, "no vectors (analyze with 'hitdna analyze -f jsonl --vectors')");
    p.content_hash = str(j, "content_hash");
    if (p.content_hash.size() != 32 || p.content_hash.find_first_not_of("0123456789abcdef") != std::string::npos)
        throw Error(ErrorKind::usage, "no content_hash (analyze with 'hitdna analyze -f jsonl --vectors')");
    d.analysis_version = version;
    d.file = str(j, "file");
    d.duration_s = j.value("duration_s", 0.0);
    const json& a = j.value("audio", json::object());
    if (a.contains("bpm") && a["bpm"].is_number()) d.audio.bpm = a["bpm"].get<double>();
    const json& h = a.value("harmony", json::object());
    d.audio.key = str(h, "key");
    d.audio.mode = str(h, "mode");
    for (const auto& s : j.value("structure", json::object()).value("sections", json::array())) {
        dna::Section sec;
        sec.start_s = s.value("start_s", 0.0);
        sec.end_s = s.value("end_s", 0.0);
        sec.label = str(s, "label");
        sec.role = str(s, "role");
        d.structure.sections.push_back(sec);
    }
    const json& v = j["vectors"];
    d.vectors.audio = floats_of(v.value("audio", json()), "audio", dna::dimensions(dna::Space::audio).size());
    d.vectors.structure = floats_of(v.value("structure", json()), "structure", dna::dimensions(dna::Space::structure).size());
    d.vectors.emotion = floats_of(v.value("emotion", json()), "emotion", dna::dimensions(dna::Space::emotion).size());
    d.vectors.production = floats_of(v.value("production", json()), "production", dna::dimensions(dna::Space::production).size());
    for (const auto& s : v.value("sections", json::array())) d.vectors.sections.push_back(floats_of(s, "section", dna::dimensions(dna::Space::sections).size()));
    if (d.vectors.sections.size() != d.structure.sections.size()) throw Error(ErrorKind::usage, "its section vectors do not match its sections");
    const json& t = j.value("tags", json::object());
    p.tags.title = str(t, "title");
    p.tags.artist = str(t, "artist");
    if (t.contains("year") && t["year"].is_number_integer()) p.tags.year = t["year"].get<int>();
    for (const auto& g : t.value("genres", json::array()))
        if (g.is_string()) p.tags.genres.push_back(core::ascii_lower(g.get<std::string>()));
    for (const char* k : {"vectors", "content_hash", "tags"}) j.erase(k);
    p.stored_json = j.dump(-1, ' ', false, json::error_handler_t::replace);
    return p;
}

}  // namespace

IngestResult import_dna(store::Catalog& cat, const IngestOptions& o, std::istream& in, const std::string& name, std::ostream& err) {
    const auto t0 = std::chrono::steady_clock::now();
    IngestResult res;
    std::string line;
    int line_no = 0;
    while (std::getline(in, line)) {
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (core::trim(line).empty()) continue;
        ++res.inputs;
        Parsed p;
        try {
            p = parse_line(line);
        } catch (const std::exception& e) {  // core::Error, or a JSON field of the wrong type
            err << "hitdna ingest: " << name << ":" << line_no << ": " << e.what() << " (line skipped)\n";
            ++res.bad_rows;
            continue;
        }
        store::TrackMeta meta = p.tags;
        meta.source = o.source;
        for (const auto& g : o.genres) meta.genres.push_back(core::ascii_lower(g));
        for (const auto& t : o.tags) meta.tags.push_back(core::ascii_lower(t));
        // Names the tags lack come from the file name, as for files ingested here.
        const store::TrackMeta named = meta_from_name(p.dna.file);
        if (meta.title.empty()) meta.title = named.title;
        if (meta.artist.empty()) meta.artist = named.artist;
        if (auto known = cat.find_by_hash(p.content_hash)) {
            cat.merge_metadata(known->id, meta);
            ++res.known;
            continue;
        }
        cat.put_track(p.content_hash, p.dna.file, meta, p.dna, p.stored_json);
        ++res.added;
    }
    if (o.update_index && (res.added || store::VectorIndexes(cat).behind())) res.index_s = update_indexes(cat, err, o.jobs);
    res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    res.exit_code = res.bad_rows ? 1 : 0;
    return res;
}

}  // namespace hitdna::ingest
