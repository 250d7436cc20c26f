#include "hitdna/match/filter.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <regex>

#include "hitdna/core/error.hpp"
#include "hitdna/core/text.hpp"
#include "hitdna/store/catalog.hpp"

namespace hitdna::match {

namespace {

enum class Kind { number, text, set };

struct Field {
    const char* name;
    Kind kind;
    const char* sql;      // column expression, or for sets the table and column
    const char* payload;  // the payload key written by `hitdna sync` (qdrant/sync.cpp)
    const char* help;
};

const Field k_fields[] = {
    {"year", Kind::number, "t.year", "year", "release year"},
    {"peak_rank", Kind::number, "t.peak_rank", "peak_rank", "best chart position ever recorded (1 = top)"},
    {"bpm", Kind::number, "t.bpm", "bpm", "tempo, beats per minute"},
    {"duration", Kind::number, "t.duration_s", "duration_s", "length, seconds"},
    {"analysis_version", Kind::number, "t.analysis_version", "analysis_version", "analyzer version that produced the DNA"},
    {"id", Kind::number, "t.id", "track_id", "catalog track id"},
    {"source", Kind::text, "t.source", "source", "chart, user or generated"},
    {"key", Kind::text, "t.key", "key", "tonic: C, C#, D, Eb, E, F, F#, G, Ab, A, Bb, B"},
    {"mode", Kind::text, "t.mode", "mode", "major or minor"},
    {"artist", Kind::text, "t.norm_artist", "artist_key", "artist (case and punctuation ignored)"},
    {"title", Kind::text, "t.norm_title", "title_key", "title (case and punctuation ignored)"},
    {"genre", Kind::set, "track_genres:genre", "genres", "any of the track's genres (lower case)"},
    {"tag", Kind::set, "track_tags:tag", "tags", "any of the track's tags (lower case)"},
    {"chart", Kind::set, "chart_entries:chart", "charts", "name of a chart the track appeared on (case ignored)"},
};

const Field& field_named(const std::string& name) {
    for (const auto& f : k_fields)
        if (name == f.name) return f;
    throw Error(ErrorKind::internal, "filter field " + name);
}

std::vector<std::string> split_commas(const std::string& s) {
    std::vector<std::string> v;
    size_t p = 0;
    while (p <= s.size()) {
        size_t e = s.find(',', p);
        if (e == std::string::npos) e = s.size();
        auto x = core::trim(s.substr(p, e - p));
        if (!x.empty()) v.push_back(x);
        p = e + 1;
    }
    return v;
}

}  // namespace

std::string filter_fields_help() {
    std::string s;
    for (const auto& f : k_fields)
        s += std::string(f.name) + (f.kind == Kind::number ? " (number)" : " (text)") + ": " + f.help + "\n";
    return s;
}

std::vector<FilterTerm> parse_filter_terms(const std::vector<std::string>& expressions) {
    std::vector<FilterTerm> out;
    auto bad = [](const std::string& e, const std::string& why) {
        std::string names;
        for (const auto& f : k_fields) names += (names.empty() ? "" : ", ") + std::string(f.name);
        return Error(ErrorKind::usage, "--filter '" + e + "': " + why + " (fields: " + names + "; operators = != < <= > >=)");
    };
    for (const auto& e : expressions) {
        size_t op_at = e.find_first_of("=!<>");
        if (op_at == std::string::npos || op_at == 0) throw bad(e, "expected FIELD OP VALUE");
        FilterTerm t;
        t.field = core::ascii_lower(core::trim(e.substr(0, op_at)));
        size_t v_at = op_at;
        while (v_at < e.size() && std::string("=!<>").find(e[v_at]) != std::string::npos) t.op += e[v_at++];
        const std::string value = core::trim(e.substr(v_at));
        if (t.op != "=" && t.op != "!=" && t.op != "<" && t.op != "<=" && t.op != ">" && t.op != ">=") throw bad(e, "unknown operator '" + t.op + "'");
        if (value.empty()) throw bad(e, "missing value");
        const Field* f = nullptr;
        for (const auto& x : k_fields)
            if (t.field == x.name) f = &x;
        if (!f) throw bad(e, "unknown field '" + t.field + "'");
        if (f->kind == Kind::number) {
            // Decimal only: SQLite's CAST and Qdrant's JSON must read the same number.
            static const std::regex decimal(R"([+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)");
            char* end = nullptr;
            const double v = std::strtod(value.c_str(), &end);
            if (!std::regex_match(value, decimal) || !end || *end || !std::isfinite(v)) throw bad(e, "'" + value + "' is not a number");
            t.numeric = true;
            t.values = {value};
        } else {
            if (t.op != "=" && t.op != "!=") throw bad(e, "text fields take = or !=");
            for (auto v : split_commas(value)) {
                if (f->kind == Kind::set || t.field == "source" || t.field == "mode") v = core::ascii_lower(v);
                if (t.field == "artist" || t.field == "title") v = store::normalize_name(v);
                t.values.push_back(v);
            }
            if (t.values.empty()) throw bad(e, "missing value");
        }
        out.push_back(std::move(t));
    }
    return out;
}

store::SqlFilter to_sql(const std::vector<FilterTerm>& terms) {
    store::SqlFilter out;
    int param = 3;
    for (const auto& t : terms) {
        const Field& f = field_named(t.field);
        std::string clause;
        if (t.numeric) {
            clause = std::string(f.sql) + " " + t.op + " CAST(?" + std::to_string(param++) + " AS REAL)";
            out.args.push_back(t.values.front());
        } else {
            std::string list;
            for (const auto& v : t.values) {
                list += (list.empty() ? "?" : ", ?") + std::to_string(param++);
                out.args.push_back(v);
            }
            if (f.kind == Kind::set) {
                const std::string spec = f.sql;
                const auto colon = spec.find(':');
                const std::string table = spec.substr(0, colon), col = spec.substr(colon + 1);
                const std::string col_expr = table == "chart_entries" ? "lower(x." + col + ")" : "x." + col;
                clause = std::string(t.op == "=" ? "" : "NOT ") + "EXISTS (SELECT 1 FROM " + table + " x WHERE x.track_id = t.id AND " + col_expr +
                         " IN (" + list + "))";
            } else {
                clause = std::string(f.sql) + (t.op == "=" ? " IN (" : " NOT IN (") + list + ")";
            }
        }
        out.where += (out.where.empty() ? "" : " AND ") + clause;
    }
    return out;
}

nlohmann::json to_qdrant(const std::vector<FilterTerm>& terms) {
    using json = nlohmann::json;
    if (terms.empty()) return nullptr;
    json must = json::array(), must_not = json::array();
    for (const auto& t : terms) {
        const std::string key = field_named(t.field).payload;
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

}  // namespace hitdna::match
