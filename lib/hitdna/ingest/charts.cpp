#include "hitdna/core/text.hpp"
#include "hitdna/ingest/charts.hpp"

#include <taglib/fileref.h>
#include <taglib/tag.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "hitdna/core/error.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace hitdna::ingest {

namespace {

std::optional<int64_t> parse_int(const std::string& s) {
    std::string t;
    for (char c : core::trim(s))
        if (c != ',' && c != '_') t += c;  // "1,234,567" streams
    if (t.empty() || t == "-" || t == "NA" || t == "null") return std::nullopt;
    try {
        size_t used = 0;
        long long v = std::stoll(t, &used);
        if (used != t.size()) return std::nullopt;
        return v;
    } catch (...) {
        return std::nullopt;
    }
}

std::optional<int> parse_small(const std::string& s) {
    auto v = parse_int(s);
    if (!v || *v < 0 || *v > 1000000) return std::nullopt;
    return int(*v);
}

std::vector<std::string> split_list(const std::string& s) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : s) {
        if (c == ',' || c == ';' || c == '/') {
            if (auto t = core::trim(cur); !t.empty()) out.push_back(core::ascii_lower(t));
            cur.clear();
        } else {
            cur += c;
        }
    }
    if (auto t = core::trim(cur); !t.empty()) out.push_back(core::ascii_lower(t));
    return out;
}

std::string date_in_name(const std::string& path) {
    static const std::regex re("(\\d{4}-\\d{2}-\\d{2})");
    std::smatch m;
    std::string name = fs::path(path).filename().string();
    if (std::regex_search(name, m, re)) return m[1];
    return "";
}

}  // namespace

std::vector<CsvRecord> parse_csv(const std::string& text, std::vector<ChartProblem>& problems) {
    std::vector<CsvRecord> out;
    size_t i = 0;
    int line = 1;
    if (text.compare(0, 3, "\xef\xbb\xbf") == 0) i = 3;  // UTF-8 byte-order mark
    while (i < text.size()) {
        CsvRecord rec;
        rec.line = line;
        std::string field;
        bool broken = false;
        for (;;) {
            if (i < text.size() && text[i] == '"') {
                ++i;
                bool closed = false;
                while (i < text.size()) {
                    char c = text[i++];
                    if (c == '"') {
                        if (i < text.size() && text[i] == '"') { field += '"'; ++i; continue; }
                        closed = true;
                        break;
                    }
                    if (c == '\n') ++line;
                    field += c;
                }
                if (!closed) {
                    problems.push_back({rec.line, "unterminated quoted field"});
                    return out;  // the rest of the file is inside the quote
                }
                // Text after a closing quote, before the separator, is broken quoting.
                if (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
                    broken = true;
                    while (i < text.size() && text[i] != ',' && text[i] != '\n') field += text[i++];
                }
            } else {
                while (i < text.size() && text[i] != ',' && text[i] != '\n') {
                    if (text[i] == '"') broken = true;
                    field += text[i++];
                }
                if (!field.empty() && field.back() == '\r') field.pop_back();
            }
            rec.fields.push_back(std::move(field));
            field.clear();
            if (i < text.size() && text[i] == ',') { ++i; continue; }
            if (i < text.size() && text[i] == '\r') ++i;
            if (i < text.size() && text[i] == '\n') ++i;
            break;
        }
        ++line;
        if (rec.fields.size() == 1 && core::trim(rec.fields[0]).empty()) continue;  // blank line
        if (broken) { problems.push_back({rec.line, "broken quoting (a quote inside an unquoted field or after a closing quote)"}); continue; }
        bool utf8 = true;
        for (const auto& f : rec.fields) utf8 &= core::valid_utf8(f);
        if (!utf8) { problems.push_back({rec.line, "not valid UTF-8 (convert the file, e.g. iconv -f latin1 -t utf-8)"}); continue; }
        out.push_back(std::move(rec));
    }
    return out;
}

namespace {

// What a chart's rows share: its folder (for relative audio paths), its name and its date.
struct ChartSource {
    std::string base_dir, chart_name, date;

    // A row's audio path, a relative one taken against the chart's folder.
    std::string resolve(const std::string& p) const {
        if (p.empty() || fs::path(p).is_absolute() || base_dir.empty()) return p;
        return (fs::path(base_dir) / p).string();
    }
    // An entry in this chart on its date, to be filled from the row.
    store::ChartEntry entry() const {
        store::ChartEntry ce;
        ce.chart = chart_name;
        ce.date = date;
        return ce;
    }
};

// The whole file; throws Error(io) when it cannot be read.
std::string read_chart_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(ErrorKind::io, path + ": cannot read the chart file");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// ---- JSON Lines ----

// A JSON value as text: a string as it is, anything else as JSON.
std::string as_text(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

// A JSON integer as it is; anything else read as text.
std::optional<int64_t> int_field(const json& v) { return v.is_number_integer() ? std::optional<int64_t>(v.get<int64_t>()) : parse_int(as_text(v)); }
std::optional<int> small_field(const json& v) { return v.is_number_integer() ? std::optional<int>(v.get<int>()) : parse_small(as_text(v)); }

// Appends lowercase words: the strings of a JSON array, or a ",;/" list given as text.
void add_words(const json& v, std::vector<std::string>& out) {
    if (v.is_array()) {
        for (auto& g : v)
            if (g.is_string()) out.push_back(core::ascii_lower(g.get<std::string>()));
    } else {
        for (auto& g : split_list(as_text(v))) out.push_back(g);
    }
}

// A JSON Lines row while its fields are read.
struct JsonlRow {
    ChartRow row;
    store::ChartEntry entry;
    json extra = json::object();       // fields of no known meaning, kept
    std::optional<std::string> bad;    // why the row is skipped
    bool has_chart = false;            // a chart field was given: the row is a chart entry
};

// Takes one field of a row's object (keys are case-insensitive) into the row.
void read_jsonl_field(JsonlRow& x, const std::string& k, const json& v, const ChartSource& src) {
    ChartRow& r = x.row;
    store::ChartEntry& ce = x.entry;
    const std::string key = core::ascii_lower(k);
    if (key == "path" || key == "file") r.path = src.resolve(as_text(v));
    else if (key == "title" || key == "song" || key == "track_name") r.title = as_text(v);
    else if (key == "artist" || key == "artist_names") r.artist = as_text(v);
    else if (key == "uri" || key == "url") r.uri = ce.uri = as_text(v);
    else if (key == "genres" || key == "genre") add_words(v, r.meta.genres);
    else if (key == "tags") add_words(v, r.meta.tags);
    else if (key == "year") {
        auto y = int_field(v);
        if (!y || *y < 1000 || *y > 3000) x.bad = "year '" + as_text(v) + "' is not a year";
        else r.meta.year = int(*y);
    } else if (key == "source") {
        std::string s = core::ascii_lower(as_text(v));
        if (s != "chart" && s != "user" && s != "generated") x.bad = "source must be chart, user or generated";
        else r.meta.source = s;
    } else if (key == "rank") { ce.rank = small_field(v); x.has_chart = true; }
    else if (key == "peak_rank" || key == "peak-rank") { ce.peak_rank = small_field(v); x.has_chart = true; }
    else if (key == "previous_rank" || key == "last-week") ce.previous_rank = small_field(v);
    else if (key == "weeks_on_chart" || key == "weeks-on-board") ce.weeks_on_chart = small_field(v);
    else if (key == "streams") ce.streams = int_field(v);
    else if (key == "chart") { ce.chart = as_text(v); x.has_chart = true; }
    else if (key == "date" || key == "chart_date") { ce.date = as_text(v); x.has_chart = true; }
    else {
        // Anything else is kept, and its text values also become tags "key:value" (lower
        // case), which --text and --filter tag= reach: {"mood": "tense"} -> mood:tense.
        x.extra[k] = v;
        for (const auto& item : v.is_array() ? v : json::array({v})) {
            if (!(item.is_string() || item.is_number() || item.is_boolean())) continue;
            const std::string value = core::ascii_lower(core::trim(as_text(item)));
            if (!value.empty() && value.size() <= 100) r.meta.tags.push_back(key + ":" + value);
        }
    }
}

// The row on line n, or nullopt for a blank line or a bad row (then listed in problems).
std::optional<ChartRow> jsonl_row(const std::string& l, int n, const ChartSource& src, std::vector<ChartProblem>& problems) {
    if (core::trim(l).empty()) return std::nullopt;
    if (!core::valid_utf8(l)) { problems.push_back({n, "not valid UTF-8"}); return std::nullopt; }
    json j;
    try {
        j = json::parse(l);
    } catch (const std::exception& e) {
        std::string msg = e.what();
        if (auto p = msg.find("] "); p != std::string::npos) msg = msg.substr(p + 2);
        problems.push_back({n, "malformed JSON: " + msg});
        return std::nullopt;
    }
    if (!j.is_object()) { problems.push_back({n, "not a JSON object"}); return std::nullopt; }
    JsonlRow x;
    x.row.line = n;
    x.entry = src.entry();
    for (auto& [k, v] : j.items()) read_jsonl_field(x, k, v, src);
    ChartRow& r = x.row;
    if (x.bad) { problems.push_back({n, *x.bad}); return std::nullopt; }
    if (r.path.empty() && (r.title.empty() || r.artist.empty())) {
        problems.push_back({n, "needs \"path\", or \"artist\" and \"title\""});
        return std::nullopt;
    }
    r.meta.title = r.title;
    r.meta.artist = r.artist;
    if (x.has_chart) {
        r.meta.charts.push_back(x.entry);
        if (r.meta.source.empty()) r.meta.source = "chart";
    }
    r.meta.names_authoritative = true;
    r.meta.extra_json = x.extra.dump();
    return std::move(r);
}

// The rows of a JSON Lines chart, one object per line.
void read_jsonl(const std::string& text, const ChartSource& src, Chart& chart) {
    std::istringstream ls(text);
    std::string l;
    int n = 0;
    while (std::getline(ls, l)) {
        ++n;
        if (auto row = jsonl_row(l, n, src, chart.problems)) chart.rows.push_back(std::move(*row));
    }
}

// ---- CSV ----

// A CSV chart's header row: the index of each column by its lowercase, trimmed name.
struct CsvHeader {
    std::map<std::string, size_t> col;

    bool has(const char* c) const { return col.count(c) > 0; }
    // A record's field in that column, trimmed; "" when the chart has no such column.
    std::string get(const CsvRecord& rec, const char* c) const { return has(c) ? core::trim(rec.fields[col.at(c)]) : std::string(); }
};

// The format the header names; throws Error(usage) when it matches neither.
ChartFormat csv_format(const CsvHeader& h, const std::string& path, int line) {
    if (h.has("uri") && h.has("track_name") && h.has("artist_names")) return ChartFormat::spotify;
    if (h.has("song") && h.has("artist") && h.has("rank")) return ChartFormat::billboard;
    throw Error(ErrorKind::usage, path + ": line " + std::to_string(line) +
                                      ": header matches neither Spotify Charts (rank, uri, artist_names, track_name, ...) nor Billboard (date, rank, song, artist, ...)");
}

// Artist, title, uri and chart figures of a Spotify Charts row; its label goes to extra.
void read_spotify_row(const CsvHeader& h, const CsvRecord& rec, ChartRow& row, store::ChartEntry& ce, json& extra) {
    auto get = [&](const char* c) { return h.get(rec, c); };
    row.artist = get("artist_names");
    row.title = get("track_name");
    row.uri = ce.uri = get("uri");
    ce.rank = parse_small(get("rank"));
    ce.peak_rank = parse_small(get("peak_rank"));
    ce.previous_rank = parse_small(get("previous_rank"));
    ce.weeks_on_chart = parse_small(get("weeks_on_chart"));
    ce.streams = parse_int(get("streams"));
    if (h.has("source") && !get("source").empty()) extra["label"] = get("source");
}

// Artist, title, date and chart figures of a Billboard row (dashed or underscored names).
void read_billboard_row(const CsvHeader& h, const CsvRecord& rec, ChartRow& row, store::ChartEntry& ce) {
    auto get = [&](const char* c) { return h.get(rec, c); };
    row.artist = get("artist");
    row.title = get("song");
    if (!get("date").empty()) ce.date = get("date");
    ce.rank = parse_small(get("rank"));
    ce.peak_rank = parse_small(get("peak-rank").empty() ? get("peak_rank") : get("peak-rank"));
    ce.previous_rank = parse_small(get("last-week").empty() ? get("last_week") : get("last-week"));
    ce.weeks_on_chart = parse_small(get("weeks-on-board").empty() ? get("weeks_on_board") : get("weeks-on-board"));
}

// The row of one record, or nullopt when it has no artist, title or rank (then listed in problems).
std::optional<ChartRow> csv_row(const CsvRecord& rec, const CsvHeader& h, ChartFormat format, const ChartSource& src,
                                std::vector<ChartProblem>& problems) {
    auto get = [&](const char* c) { return h.get(rec, c); };
    ChartRow row;
    row.line = rec.line;
    store::ChartEntry ce = src.entry();
    json extra = json::object();
    if (format == ChartFormat::spotify) read_spotify_row(h, rec, row, ce, extra);
    else read_billboard_row(h, rec, row, ce);
    if (h.has("path")) row.path = src.resolve(get("path"));
    if (row.title.empty() || row.artist.empty()) {
        problems.push_back({rec.line, "missing artist or title"});
        return std::nullopt;
    }
    if (!ce.rank) {
        problems.push_back({rec.line, "rank '" + get("rank") + "' is not a number"});
        return std::nullopt;
    }
    if (h.has("genre") || h.has("genres")) row.meta.genres = split_list(get(h.has("genres") ? "genres" : "genre"));
    if (h.has("year")) row.meta.year = parse_small(get("year"));
    row.meta.title = row.title;
    row.meta.artist = row.artist;
    row.meta.source = "chart";
    row.meta.names_authoritative = true;
    row.meta.charts.push_back(ce);
    row.meta.extra_json = extra.dump();
    return row;
}

// The format and rows of a CSV chart; throws Error(usage) when it is empty or its header
// matches no known format.
void read_csv_chart(const std::string& text, const std::string& path, const ChartSource& src, Chart& chart) {
    auto records = parse_csv(text, chart.problems);
    if (records.empty()) throw Error(ErrorKind::usage, path + ": empty chart file");
    CsvHeader h;
    for (size_t i = 0; i < records[0].fields.size(); ++i) h.col[core::ascii_lower(core::trim(records[0].fields[i]))] = i;
    chart.format = csv_format(h, path, records[0].line);
    for (size_t r = 1; r < records.size(); ++r) {
        const auto& rec = records[r];
        if (rec.fields.size() != records[0].fields.size()) {
            chart.problems.push_back({rec.line, std::to_string(rec.fields.size()) + " columns, the header has " + std::to_string(records[0].fields.size())});
            continue;
        }
        if (auto row = csv_row(rec, h, chart.format, src, chart.problems)) chart.rows.push_back(std::move(*row));
    }
}

}  // namespace

Chart read_chart(const std::string& path, const std::string& chart_date) {
    const std::string text = read_chart_file(path);
    Chart chart;
    chart.file = path;
    const ChartSource src{fs::path(path).parent_path().string(), fs::path(path).stem().string(), !chart_date.empty() ? chart_date : date_in_name(path)};
    const std::string ext = core::ascii_lower(fs::path(path).extension().string());
    if (ext == ".jsonl" || ext == ".ndjson") {
        chart.format = ChartFormat::jsonl;
        read_jsonl(text, src, chart);
    } else {
        read_csv_chart(text, path, src, chart);
    }
    return chart;
}

bool has_audio_extension(const std::string& path) {
    static const char* exts[] = {".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".m4a", ".aac", ".aif", ".aiff", ".aifc", ".wma", ".mka", ".webm", ".caf", ".w64"};
    const std::string e = core::ascii_lower(fs::path(path).extension().string());
    return std::find(std::begin(exts), std::end(exts), e) != std::end(exts);
}

std::vector<std::string> list_audio(const std::string& path) {
    std::vector<std::string> out;
    std::error_code ec;
    if (!fs::is_directory(path, ec)) return {path};
    for (auto it = fs::recursive_directory_iterator(path, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_regular_file(ec) && has_audio_extension(it->path().string())) out.push_back(it->path().string());
    }
    std::sort(out.begin(), out.end());
    return out;
}

store::TrackMeta meta_from_name(const std::string& path) {
    store::TrackMeta m;
    std::string stem = fs::path(path).stem().string();
    for (auto& c : stem)
        if (c == '_') c = ' ';
    if (auto p = stem.find(" - "); p != std::string::npos) {
        m.artist = stem.substr(0, p);
        m.title = stem.substr(p + 3);
    } else {
        m.title = stem;
    }
    return m;
}

store::TrackMeta read_tags(const std::string& path) {
    store::TrackMeta m;
    TagLib::FileRef f(path.c_str(), false);
    if (f.isNull() || !f.tag()) return m;
    const TagLib::Tag* t = f.tag();
    m.title = core::trim(t->title().to8Bit(true));
    m.artist = core::trim(t->artist().to8Bit(true));
    m.genres = split_list(t->genre().to8Bit(true));
    if (t->year() >= 1000 && t->year() <= 3000) m.year = int(t->year());
    return m;
}

AudioFinder::AudioFinder(const std::vector<std::string>& dirs) {
    for (const auto& d : dirs)
        for (const auto& p : list_audio(d)) {
            auto tags = read_tags(p);
            if (!tags.title.empty()) m_entries.push_back({p, store::normalize_name(tags.artist), store::normalize_name(tags.title)});
            std::string stem = fs::path(p).stem().string();
            if (auto dash = stem.find(" - "); dash != std::string::npos)
                m_entries.push_back({p, store::normalize_name(stem.substr(0, dash)), store::normalize_name(stem.substr(dash + 3))});
            m_entries.push_back({p, "", store::normalize_name(stem)});
        }
}

std::string AudioFinder::find(const std::string& artist, const std::string& title) const {
    const std::string t = store::normalize_name(title);
    if (t.empty()) return "";
    // The row's artist, and its first name when several are credited ("A, B", "A & B", "A x B").
    std::vector<std::string> artists = {store::normalize_name(artist)};
    std::string first = artist;
    for (const char* sep : {",", " & ", " x ", " X ", " and ", ";"})
        if (auto p = first.find(sep); p != std::string::npos) first = first.substr(0, p);
    artists.push_back(store::normalize_name(first));
    for (const auto& e : m_entries)
        if (e.title == t && !e.artist.empty() && std::find(artists.begin(), artists.end(), e.artist) != artists.end()) return e.path;
    // "Artist - Title" as the whole file name, normalized.
    for (const auto& a : artists)
        for (const auto& e : m_entries)
            if (e.artist.empty() && (e.title == a + " " + t)) return e.path;
    // A file named by the title alone, when exactly one file has that name.
    std::string only;
    int n = 0;
    for (const auto& e : m_entries)
        if (e.artist.empty() && e.title == t && e.path != only) only = e.path, ++n;
    return n == 1 ? only : "";
}

}  // namespace hitdna::ingest
