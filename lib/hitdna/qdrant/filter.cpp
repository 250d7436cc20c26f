#include "hitdna/qdrant/filter.hpp"

#include <cstdlib>

namespace hitdna::qdrant {

using json = nlohmann::json;

json to_filter(const store::Filter& terms) {
    if (terms.empty()) return nullptr;
    json must = json::array(), must_not = json::array();
    for (const auto& t : terms) {
        const std::string key = store::filter_field(t.field).payload;
        if (t.numeric) {
            const double v = std::strtod(t.values.front().c_str(), nullptr);
            // SQL comparisons with a missing value are false; so is a Qdrant range on a missing key.
            if (t.op == "=") must.push_back({{"key", key}, {"range", {{"gte", v}, {"lte", v}}}});
            else if (t.op == "!=")
                must.push_back({{"should", json::array({json{{"key", key}, {"range", {{"lt", v}}}}, json{{"key", key}, {"range", {{"gt", v}}}}})}});
            else {
                const char* r = t.op == "<" ? "lt" : t.op == "<=" ? "lte" : t.op == ">" ? "gt" : "gte";
                must.push_back({{"key", key}, {"range", {{r, v}}}});
            }
        } else {
            json cond = {{"key", key}, {"match", {{"any", t.values}}}};
            (t.op == "=" ? must : must_not).push_back(cond);
        }
    }
    json f = json::object();
    if (!must.empty()) f["must"] = must;
    if (!must_not.empty()) f["must_not"] = must_not;
    return f;
}

const char* payload_index_type(store::FieldKind kind) {
    switch (kind) {
        case store::FieldKind::integer: return "integer";
        case store::FieldKind::real: return "float";
        case store::FieldKind::text:
        case store::FieldKind::set: return "keyword";
    }
    return "keyword";
}

}  // namespace hitdna::qdrant
