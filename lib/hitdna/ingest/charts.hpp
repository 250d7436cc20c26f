#pragma once
// Chart lists: Spotify Charts CSV, Billboard-style CSV and JSON Lines, parsed into rows that
// name songs; and the search for those songs' audio among local files (names and tags).
#include <iosfwd>
#include <string>
#include <vector>

#include "hitdna/store/catalog.hpp"

namespace hitdna::ingest {

enum class ChartFormat { spotify, billboard, jsonl };

struct ChartRow {
    int line = 0;              // 1-based line in the chart file where the row starts
    std::string artist, title, uri;
    std::string path;          // audio path named by the row (resolved against the chart's folder)
    store::TrackMeta meta;     // title, artist, genres, year, chart entry, extra
};

struct ChartProblem {
    int line = 0;
    std::string message;
};

struct Chart {
    std::string file;
    ChartFormat format = ChartFormat::spotify;
    std::vector<ChartRow> rows;
    std::vector<ChartProblem> problems;  // rows skipped, by line
};

// Reads a chart file; the format comes from the extension (.jsonl/.ndjson) or the CSV header.
// `chart_date` (YYYY-MM-DD) applies to rows without a date; when empty, a date in the file
// name is used. Bad rows are listed in problems and skipped. Throws Error(io) when the file
// cannot be read and Error(usage) when its header matches no known format.
Chart read_chart(const std::string& path, const std::string& chart_date = "");

// RFC 4180 CSV: records of fields; broken quoting and invalid UTF-8 reported by line.
struct CsvRecord {
    int line = 0;
    std::vector<std::string> fields;
};
std::vector<CsvRecord> parse_csv(const std::string& text, std::vector<ChartProblem>& problems);

// File extensions read as audio when walking folders.
bool has_audio_extension(const std::string& path);
// Audio files under a folder (recursive, sorted), or the path itself when it is a file.
std::vector<std::string> list_audio(const std::string& path);

// Finds chart rows' audio among local files by normalized artist + title taken from tags
// (TagLib) and from file names ("Artist - Title.ext", or the title alone).
class AudioFinder {
public:
    explicit AudioFinder(const std::vector<std::string>& audio_dirs);
    // The file for a row, or "" when none matches.
    std::string find(const std::string& artist, const std::string& title) const;
    size_t files() const { return m_entries.size(); }

private:
    struct Entry {
        std::string path, artist, title;  // normalized
    };
    std::vector<Entry> m_entries;
};

// Title, artist, genre and year from a file's tags (TagLib); empty fields when absent.
store::TrackMeta read_tags(const std::string& path);

// Title and artist from "Artist - Title.ext" (underscores read as spaces) or the bare file name.
store::TrackMeta meta_from_name(const std::string& path);

}  // namespace hitdna::ingest
