#include "hitdna/store/filter.hpp"

#include <cmath>
#include <cstdlib>
#include <regex>

#include "hitdna/core/error.hpp"
#include "hitdna/core/text.hpp"
#include "hitdna/store/catalog.hpp"
#include "hitdna/store/detail/filter_sql.hpp"

namespace hitdna::store {

namespace {

struct Field {
    FilterField public_part;
    const char* sql;  // column expression over `tracks t`, or for sets "table:column"
};

// The one list of filterable fields: name, kind, payload key in a mirror, meaning, SQL.
const Field k_fields[] = {
    {{"year", FieldKind::integer, "year", "release year"}, "t.year"},
    {{"peak_rank", FieldKind::integer, "peak_rank", "best chart position ever recorded (1 = top)"}, "t.peak_rank"},
    {{"bpm", FieldKind::real, "bpm", "tempo, beats per minute"}, "t.bpm"},
    {{"duration", FieldKind::real, "duration_s", "length, seconds"}, "t.duration_s"},
    {{"analysis_version", FieldKind::integer, "analysis_version", "analyzer version that produced the DNA"}, "t.analysis_version"},
    {{"id", FieldKind::integer, "track_id", "catalog track id"}, "t.id"},
    {{"source", FieldKind::text, "source", "chart, user or generated"}, "t.source"},
    {{"key", FieldKind::text, "key", "tonic: C, C#, D, Eb, E, F, F#, G, Ab, A, Bb, B"}, "t.key"},
    {{"mode", FieldKind::text, "mode", "major or minor"}, "t.mode"},
    {{"artist", FieldKind::text, "artist_key", "artist (case and punctuation ignored)"}, "t.norm_artist"},
    {{"title", FieldKind::text, "title_key", "title (case and punctuation ignored)"}, "t.norm_title"},
    {{"genre", FieldKind::set, "genres", "any of the track's genres (lower case)"}, "track_genres:genre"},
    {{"tag", FieldKind::set, "tags", "any of the track's tags (lower case)"}, "track_tags:tag"},
    {{"chart", FieldKind::set, "charts", "name of a chart the track appeared on (case ignored)"}, "chart_entries:chart"},
};

const Field& field_named(const std::string& name) {
    for (const auto& f : k_fields)
        if (name == f.public_part.name) return f;
    throw Error(ErrorKind::internal, "filter field " + name);
}

bool is_number(FieldKind k) { return k == FieldKind::integer || k == FieldKind::real; }

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

Error bad_filter(const std::string& e, const std::string& why) {
    std::string names;
    for (const auto& f : k_fields) names += (names.empty() ? "" : ", ") + std::string(f.public_part.name);
    return Error(ErrorKind::usage, "--filter '" + e + "': " + why + " (fields: " + names + "; operators = != < <= > >=)");
}

// The values of one term: a decimal number, or normalized text as the catalog stores it.
void parse_values(const std::string& e, const FilterField& f, const std::string& value, FilterTerm& t) {
    if (is_number(f.kind)) {
        // Decimal only: SQLite's CAST and Qdrant's JSON must read the same number.
        static const std::regex decimal(R"([+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)");
        char* end = nullptr;
        const double v = std::strtod(value.c_str(), &end);
        if (!std::regex_match(value, decimal) || !end || *end || !std::isfinite(v)) throw bad_filter(e, "'" + value + "' is not a number");
        t.numeric = true;
        t.values = {value};
        return;
    }
    if (t.op != "=" && t.op != "!=") throw bad_filter(e, "text fields take = or !=");
    for (auto v : split_commas(value)) {
        if (f.kind == FieldKind::set || t.field == "source" || t.field == "mode") v = core::ascii_lower(v);
        if (t.field == "artist" || t.field == "title") v = normalize_name(v);
        t.values.push_back(v);
    }
    if (t.values.empty()) throw bad_filter(e, "missing value");
}

}  // namespace

const std::vector<FilterField>& filter_fields() {
    static const std::vector<FilterField> fields = [] {
        std::vector<FilterField> v;
        for (const auto& f : k_fields) v.push_back(f.public_part);
        return v;
    }();
    return fields;
}

const FilterField& filter_field(const std::string& name) { return field_named(name).public_part; }

std::string filter_fields_help() {
    std::string s;
    for (const auto& f : k_fields)
        s += std::string(f.public_part.name) + (is_number(f.public_part.kind) ? " (number)" : " (text)") + ": " + f.public_part.help + "\n";
    return s;
}

Filter parse_filter(const std::vector<std::string>& expressions) {
    Filter out;
    for (const auto& e : expressions) {
        size_t op_at = e.find_first_of("=!<>");
        if (op_at == std::string::npos || op_at == 0) throw bad_filter(e, "expected FIELD OP VALUE");
        FilterTerm t;
        t.field = core::ascii_lower(core::trim(e.substr(0, op_at)));
        size_t v_at = op_at;
        while (v_at < e.size() && std::string("=!<>").find(e[v_at]) != std::string::npos) t.op += e[v_at++];
        const std::string value = core::trim(e.substr(v_at));
        if (t.op != "=" && t.op != "!=" && t.op != "<" && t.op != "<=" && t.op != ">" && t.op != ">=") throw bad_filter(e, "unknown operator '" + t.op + "'");
        if (value.empty()) throw bad_filter(e, "missing value");
        const Field* f = nullptr;
        for (const auto& x : k_fields)
            if (t.field == x.public_part.name) f = &x;
        if (!f) throw bad_filter(e, "unknown field '" + t.field + "'");
        parse_values(e, f->public_part, value, t);
        out.push_back(std::move(t));
    }
    return out;
}

namespace detail {

SqlFilter to_sql(const Filter& terms) {
    SqlFilter out;
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
            if (f.public_part.kind == FieldKind::set) {
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

}  // namespace detail

}  // namespace hitdna::store
