#include "hitdna/core/text.hpp"
#include "hitdna/match/filter.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "hitdna/core/error.hpp"
#include "hitdna/store/catalog.hpp"

namespace hitdna::match {

namespace {

enum class Kind { number, text, set };

struct Field {
    const char* name;
    Kind kind;
    const char* sql;  // column expression, or for sets the table and column
    const char* help;
};

const Field k_fields[] = {
    {"year", Kind::number, "t.year", "release year"},
    {"peak_rank", Kind::number, "t.peak_rank", "best chart position ever recorded (1 = top)"},
    {"bpm", Kind::number, "t.bpm", "tempo, beats per minute"},
    {"duration", Kind::number, "t.duration_s", "length, seconds"},
    {"analysis_version", Kind::number, "t.analysis_version", "analyzer version that produced the DNA"},
    {"id", Kind::number, "t.id", "catalog track id"},
    {"source", Kind::text, "t.source", "chart, user or generated"},
    {"key", Kind::text, "t.key", "tonic: C, C#, D, Eb, E, F, F#, G, Ab, A, Bb, B"},
    {"mode", Kind::text, "t.mode", "major or minor"},
    {"artist", Kind::text, "t.norm_artist", "artist (case and punctuation ignored)"},
    {"title", Kind::text, "t.norm_title", "title (case and punctuation ignored)"},
    {"genre", Kind::set, "track_genres:genre", "any of the track's genres (lower case)"},
    {"tag", Kind::set, "track_tags:tag", "any of the track's tags (lower case)"},
    {"chart", Kind::set, "chart_entries:chart", "name of a chart the track appeared on"},
};

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

store::SqlFilter parse_filters(const std::vector<std::string>& expressions) {
    store::SqlFilter out;
    int param = 3;
    auto bad = [](const std::string& e, const std::string& why) {
        std::string names;
        for (const auto& f : k_fields) names += (names.empty() ? "" : ", ") + std::string(f.name);
        return Error(ErrorKind::usage, "--filter '" + e + "': " + why + " (fields: " + names + "; operators = != < <= > >=)");
    };
    for (const auto& e : expressions) {
        size_t op_at = e.find_first_of("=!<>");
        if (op_at == std::string::npos || op_at == 0) throw bad(e, "expected FIELD OP VALUE");
        std::string name = core::ascii_lower(core::trim(e.substr(0, op_at)));
        std::string op;
        size_t v_at = op_at;
        while (v_at < e.size() && std::string("=!<>").find(e[v_at]) != std::string::npos) op += e[v_at++];
        std::string value = core::trim(e.substr(v_at));
        if (op != "=" && op != "!=" && op != "<" && op != "<=" && op != ">" && op != ">=") throw bad(e, "unknown operator '" + op + "'");
        if (value.empty()) throw bad(e, "missing value");
        const Field* f = nullptr;
        for (const auto& x : k_fields)
            if (name == x.name) f = &x;
        if (!f) throw bad(e, "unknown field '" + name + "'");
        std::string clause;
        if (f->kind == Kind::number) {
            char* end = nullptr;
            std::strtod(value.c_str(), &end);
            if (!end || *end) throw bad(e, "'" + value + "' is not a number");
            clause = std::string(f->sql) + " " + op + " CAST(?" + std::to_string(param++) + " AS REAL)";
            out.args.push_back(value);
        } else {
            if (op != "=" && op != "!=") throw bad(e, "text fields take = or !=");
            auto values = split_commas(value);
            std::string list;
            for (auto& v : values) {
                list += (list.empty() ? "?" : ", ?") + std::to_string(param++);
                if (f->kind == Kind::set || name == "source" || name == "mode") v = core::ascii_lower(v);
                if (name == "artist" || name == "title") v = store::normalize_name(v);
                out.args.push_back(v);
            }
            if (f->kind == Kind::set) {
                std::string spec = f->sql;
                auto colon = spec.find(':');
                std::string table = spec.substr(0, colon), col = spec.substr(colon + 1);
                std::string col_expr = table == "chart_entries" ? "core::ascii_lower(x." + col + ")" : "x." + col;
                clause = std::string(op == "=" ? "" : "NOT ") + "EXISTS (SELECT 1 FROM " + table + " x WHERE x.track_id = t.id AND " + col_expr + " IN (" + list + "))";
            } else {
                clause = std::string(f->sql) + (op == "=" ? " IN (" : " NOT IN (") + list + ")";
            }
        }
        out.where += (out.where.empty() ? "" : " AND ") + clause;
    }
    return out;
}

}  // namespace hitdna::match
