#include "hitdna/qdrant/search.hpp"

#include <algorithm>

#include "hitdna/qdrant/sync.hpp"

using json = nlohmann::json;

namespace hitdna::qdrant {

using dna::Space;

namespace {

std::vector<float> floats(const json& a) {
    std::vector<float> v;
    if (!a.is_array()) return v;
    v.reserve(a.size());
    for (const auto& x : a) v.push_back(x.is_number() ? x.get<float>() : 0.0f);
    return v;
}

store::SectionInfo section_of(const json& p) {
    store::SectionInfo s;
    if (!p.is_object() || !p.contains("section") || !p["section"].is_object()) return s;
    const json& j = p["section"];
    s.index = j.value("index", -1);
    s.start_s = j.value("start_s", 0.0);
    s.end_s = j.value("end_s", 0.0);
    s.label = j.value("label", std::string());
    s.role = j.value("role", std::string());
    return s;
}

template <class T>
std::optional<T> opt(const json& p, const char* key) {
    if (p.contains(key) && p[key].is_number()) return p[key].get<T>();
    return std::nullopt;
}

store::TrackRow row_of(int64_t id, const json& p) {
    store::TrackRow r;
    r.id = id;
    if (!p.is_object()) return r;
    r.title = p.value("title", std::string());
    r.artist = p.value("artist", std::string());
    r.source = p.value("source", std::string());
    r.content_hash = p.value("content_hash", std::string());
    r.year = opt<int>(p, "year");
    r.peak_rank = opt<int>(p, "peak_rank");
    r.bpm = opt<double>(p, "bpm");
    r.duration_s = p.value("duration_s", 0.0);
    r.key = p.value("key", std::string());
    r.mode = p.value("mode", std::string());
    r.analysis_version = p.value("analysis_version", 0);
    if (p.contains("genres") && p["genres"].is_array()) r.genres = p["genres"].get<std::vector<std::string>>();
    if (p.contains("tags") && p["tags"].is_array()) r.tags = p["tags"].get<std::vector<std::string>>();
    return r;
}

}  // namespace

CollectionSearch::CollectionSearch(Client& client, const std::string& collection) : m_client(client), m_tracks(collection) {
    auto info = client.call_or_404("GET", collection_path(collection));
    if (!info)
        throw Error(ErrorKind::usage, "Qdrant at " + client.config().url + " has no collection '" + collection + "' (run 'hitdna sync qdrant --collection " +
                                          collection + "' first)");
    const json meta = hitdna_metadata(*info);
    if (!meta.is_object() || !meta.contains("spaces"))
        throw Error(ErrorKind::usage, "collection '" + collection + "' at " + client.config().url + " was not made by hitdna sync (no hitdna metadata)");
    m_catalog_id = meta.value("catalog_id", std::string());
    m_epoch = meta.value("epoch", std::string());
    m_sections = meta.value("sections_collection", sections_collection(collection));
    for (Space s : dna::k_spaces) {
        const char* name = dna::to_string(s);
        const json j = meta["spaces"].value(name, json());
        store::SpaceStats st;
        if (j.is_object() && j.contains("mean") && j.contains("sd")) {
            st.mean = j["mean"].get<std::vector<double>>();
            st.sd = j["sd"].get<std::vector<double>>();
            st.count = j.value("count", int64_t(0));
        }
        if (st.mean.size() != dna::dimensions(s).size() || st.sd.size() != dna::dimensions(s).size())
            throw Error(ErrorKind::usage, "collection '" + collection + "': its " + name + " statistics do not fit this hitdna (rerun hitdna sync qdrant --recreate)");
        m_stats[s] = std::move(st);
    }
}

std::vector<float> CollectionSearch::standardize(Space space, const std::vector<float>& raw) const { return m_stats.at(space).standardize(raw); }

std::vector<PointHit> CollectionSearch::nearest(Space space, const std::vector<float>& z, size_t k, const json& filter, bool exact) {
    const bool sections = space == Space::sections;
    json req = {{"query", z}, {"using", sections ? "section" : dna::to_string(space)}, {"limit", k}};
    if (!filter.is_null()) req["filter"] = filter;
    req["params"] = exact ? json{{"exact", true}} : json{{"hnsw_ef", std::max<size_t>(256, 4 * k)}};
    req["with_payload"] = sections ? json::array({"track_id", "section"}) : json(false);
    json r = m_client.call("POST", collection_path(sections ? m_sections : m_tracks) + "/points/query", req.dump());
    std::vector<PointHit> out;
    if (!r.is_object() || !r.contains("points") || !r["points"].is_array()) return out;
    for (const auto& p : r["points"]) {
        PointHit h;
        const double score = p.value("score", 0.0);  // Euclid: the distance itself
        h.dist2 = score * score;
        if (sections) {
            const json& pl = p.value("payload", json::object());
            if (!pl.contains("track_id") || !pl["track_id"].is_number_integer()) continue;
            h.track_id = pl["track_id"].get<int64_t>();
            h.section = section_of(pl);
        } else {
            if (!p.contains("id") || !p["id"].is_number_integer()) continue;
            h.track_id = p["id"].get<int64_t>();
        }
        out.push_back(std::move(h));
    }
    return out;
}

std::map<int64_t, TrackPoint> CollectionSearch::tracks(const std::vector<int64_t>& ids) {
    std::map<int64_t, TrackPoint> out;
    json names = json::array();
    for (Space s : dna::k_track_spaces) names.push_back(dna::to_string(s));
    for (size_t at = 0; at < ids.size(); at += 500) {
        std::vector<int64_t> chunk(ids.begin() + long(at), ids.begin() + long(std::min(ids.size(), at + 500)));
        json r = m_client.call("POST", collection_path(m_tracks) + "/points", json{{"ids", chunk}, {"with_payload", true}, {"with_vector", names}}.dump());
        if (!r.is_array()) continue;
        for (const auto& p : r) {
            if (!p.contains("id") || !p["id"].is_number_integer()) continue;
            const int64_t id = p["id"].get<int64_t>();
            TrackPoint tp;
            tp.row = row_of(id, p.value("payload", json::object()));
            const json& v = p.value("vector", json::object());
            for (Space s : dna::k_track_spaces)
                if (v.is_object() && v.contains(dna::to_string(s))) tp.vectors[s] = floats(v[dna::to_string(s)]);
            out[id] = std::move(tp);
        }
    }
    return out;
}

std::map<int64_t, std::vector<store::StoredVector>> CollectionSearch::sections(const std::vector<int64_t>& ids) {
    std::map<int64_t, std::vector<store::StoredVector>> out;
    for (size_t at = 0; at < ids.size(); at += 256) {
        std::vector<int64_t> chunk(ids.begin() + long(at), ids.begin() + long(std::min(ids.size(), at + 256)));
        json offset = nullptr;
        for (;;) {
            json req = {{"filter", {{"must", json::array({json{{"key", "track_id"}, {"match", {{"any", chunk}}}}})}}},
                        {"limit", 1000},
                        {"with_payload", json::array({"track_id", "section"})},
                        {"with_vector", json::array({"section"})}};
            if (!offset.is_null()) req["offset"] = offset;
            json r = m_client.call("POST", collection_path(m_sections) + "/points/scroll", req.dump());
            if (!r.is_object()) break;
            for (const auto& p : r.value("points", json::array())) {
                const json& pl = p.value("payload", json::object());
                if (!pl.contains("track_id") || !pl["track_id"].is_number_integer()) continue;
                store::StoredVector v;
                v.track_id = pl["track_id"].get<int64_t>();
                v.section = section_of(pl);
                const json& vec = p.value("vector", json::object());
                if (vec.is_object() && vec.contains("section")) v.data = floats(vec["section"]);
                out[v.track_id].push_back(std::move(v));
            }
            offset = r.value("next_page_offset", json());
            if (offset.is_null()) break;
        }
    }
    for (auto& [id, vs] : out) std::sort(vs.begin(), vs.end(), [](const auto& a, const auto& b) { return a.section.index < b.section.index; });
    return out;
}

}  // namespace hitdna::qdrant
