#include "hitdna/ingest/ingest.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include "hitdna/core/error.hpp"
#include "hitdna/core/text.hpp"
#include "hitdna/core/subprocess.hpp"
#include "hitdna/ingest/charts.hpp"
#include "hitdna/store/hash.hpp"
#include "hitdna/store/vector_index.hpp"

namespace fs = std::filesystem;

namespace hitdna::ingest {

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct Item {
    std::string path;
    store::TrackMeta meta;
    bool from_chart = false;
};

void merge_into(store::TrackMeta& m, const store::TrackMeta& tags) {
    if (m.title.empty()) m.title = tags.title;
    if (m.artist.empty()) m.artist = tags.artist;
    if (!m.year) m.year = tags.year;
    for (const auto& g : tags.genres)
        if (std::find(m.genres.begin(), m.genres.end(), g) == m.genres.end()) m.genres.push_back(g);
}

std::string safe_dir_name(const std::string& s) {
    std::string o;
    for (unsigned char c : s) o += (std::isalnum(c) || c == '-' || c == '.' || c >= 0x80) ? char(c) : '_';
    if (o.size() > 120) o.resize(120);
    if (o.empty() || o[0] == '.') o = "_" + o;
    return o;
}

class Progress {
public:
    Progress(std::ostream& err, bool live, int total) : m_err(err), m_live(live), m_total(total), m_t0(Clock::now()) {}
    void step(const std::string& name) {
        std::lock_guard<std::mutex> lock(m_mu);
        ++m_done;
        if (!m_live) return;
        const double el = since(m_t0), rate = el > 0 ? m_done / el : 0;
        const double eta = rate > 0 ? (m_total - m_done) / rate : 0;
        const int width = 24, fill = m_total ? int(width * m_done / m_total) : width;
        std::string bar(size_t(fill), '=');
        bar.resize(size_t(width), ' ');
        std::string shown = fs::path(name).filename().string();
        if (shown.size() > 32) shown = shown.substr(0, 29) + "...";
        char buf[256];
        std::snprintf(buf, sizeof buf, "\r[%s] %d/%d  %.2f files/s  ETA %d:%02d  %-32s", bar.c_str(), m_done, m_total, rate, int(eta) / 60,
                      int(eta) % 60, shown.c_str());
        m_err << buf << std::flush;
    }
    void finish() {
        if (m_live && m_done) m_err << "\r" << std::string(110, ' ') << "\r" << std::flush;
    }
    // Messages printed during a live bar start on their own line.
    std::mutex& mutex() { return m_mu; }
    void message(const std::string& s) {
        std::lock_guard<std::mutex> lock(m_mu);
        if (m_live) m_err << "\r" << std::string(110, ' ') << "\r";
        m_err << s << "\n" << std::flush;
    }

private:
    std::ostream& m_err;
    bool m_live;
    int m_total, m_done = 0;
    Clock::time_point m_t0;
    std::mutex m_mu;
};

}  // namespace

std::vector<std::string> expand_fetch_command(const std::string& tmpl, const std::string& artist, const std::string& title,
                                              const std::string& uri, const std::string& rank, const std::string& out_dir) {
    // Split the template (the user's own text) into words; quotes group, backslash escapes.
    std::vector<std::string> words;
    std::string w;
    bool in_word = false;
    char quote = 0;
    for (size_t i = 0; i < tmpl.size(); ++i) {
        char c = tmpl[i];
        if (quote) {
            if (c == quote) quote = 0;
            else if (c == '\\' && quote == '"' && i + 1 < tmpl.size()) w += tmpl[++i];
            else w += c;
        } else if (c == '\'' || c == '"') {
            quote = c;
            in_word = true;
        } else if (c == '\\' && i + 1 < tmpl.size()) {
            w += tmpl[++i];
            in_word = true;
        } else if (std::isspace(static_cast<unsigned char>(c))) {
            if (in_word) words.push_back(w), w.clear(), in_word = false;
        } else {
            w += c;
            in_word = true;
        }
    }
    if (quote) throw Error(ErrorKind::usage, "--fetch-cmd: unterminated quote in the template");
    if (in_word) words.push_back(w);
    if (words.empty()) throw Error(ErrorKind::usage, "--fetch-cmd: empty template");
    const std::pair<const char*, const std::string*> vars[] = {{"{artist}", &artist}, {"{title}", &title}, {"{uri}", &uri}, {"{rank}", &rank}, {"{out}", &out_dir}};
    for (auto& word : words) {
        std::string o;
        for (size_t i = 0; i < word.size();) {
            bool hit = false;
            for (const auto& [name, val] : vars) {
                size_t n = std::char_traits<char>::length(name);
                if (word.compare(i, n, name) == 0) {
                    o += *val;  // substituted text is data: never re-split, never interpreted
                    i += n;
                    hit = true;
                    break;
                }
            }
            if (!hit) o += word[i++];
        }
        word = o;
    }
    return words;
}

namespace {

// The metadata of plain inputs (files, folders, stdin): the source, and the genres and tags
// given (lowercase), which chart rows get too.
store::TrackMeta plain_meta(const IngestOptions& o) {
    store::TrackMeta plain;
    plain.source = o.source;
    plain.genres = o.genres;
    plain.tags = o.tags;
    for (auto* list : {&plain.genres, &plain.tags})
        for (auto& g : *list) g = core::ascii_lower(g);
    return plain;
}

// A chart row whose audio was not found: where it is, what names it, and its metadata.
struct Missing {
    std::string where, artist, title, uri, rank;
    store::TrackMeta meta;
};

// The run's inputs as they are resolved: the items to analyze, and chart rows without audio.
struct Inputs {
    std::vector<Item> items;
    std::vector<Missing> missing;
};

// Files, the audio of folders, and the paths listed on stdin for "-", as items in that order.
void collect_inputs(const IngestOptions& o, const store::TrackMeta& plain, std::istream& in, std::vector<Item>& items) {
    auto add_path = [&](const std::string& p, const store::TrackMeta& base, bool chart) {
        std::error_code ec;
        if (fs::is_directory(p, ec)) {
            for (auto& f : list_audio(p)) items.push_back({f, base, chart});
        } else {
            items.push_back({p, base, chart});
        }
    };
    for (const auto& p : o.inputs) {
        if (p == "-") {
            std::string line;
            while (std::getline(in, line)) {
                if (!line.empty() && line.back() == '\r') line.pop_back();
                if (!line.empty()) add_path(line, plain, false);
            }
        } else {
            add_path(p, plain, false);
        }
    }
}

// The chart lists' rows: each becomes an item when its audio is found (the path it names, or
// by artist and title in --audio-dir), else a missing row. Bad rows are reported and counted.
void resolve_chart_rows(const IngestOptions& o, const store::TrackMeta& plain, Inputs& inputs, IngestResult& res, std::ostream& err) {
    std::vector<std::string> dirs = o.audio_dirs;
    AudioFinder finder(dirs);
    for (const auto& cf : o.charts) {
        Chart chart = read_chart(cf, o.chart_date);
        for (const auto& pr : chart.problems) {
            err << "hitdna ingest: " << cf << ":" << pr.line << ": " << pr.message << " (row skipped)\n";
            ++res.bad_rows;
        }
        for (auto& row : chart.rows) {
            store::TrackMeta m = row.meta;
            for (const auto& g : plain.genres) m.genres.push_back(g);
            for (const auto& t : plain.tags) m.tags.push_back(t);
            std::string path = row.path;
            std::error_code ec;
            if (!path.empty() && !fs::exists(path, ec)) {
                err << "hitdna ingest: " << cf << ":" << row.line << ": " << path << " does not exist; looking by artist and title\n";
                path.clear();
            }
            if (path.empty() && !row.title.empty()) path = finder.find(row.artist, row.title);
            if (path.empty()) {
                std::string rank = row.meta.charts.empty() || !row.meta.charts.front().rank ? "" : std::to_string(*row.meta.charts.front().rank);
                inputs.missing.push_back({cf + ":" + std::to_string(row.line), row.artist, row.title, row.uri, rank, m});
                continue;
            }
            inputs.items.push_back({path, m, true});
        }
    }
}

// The audio of a missing row, fetched with the user's command (or kept from an earlier run)
// into its own folder under fetch_root; nullopt after reporting and counting a failed fetch.
// Throws Error(io) when the folders cannot be made, Error(usage) for a bad template.
std::optional<std::string> fetch_row(const Missing& m, const std::string& fetch_root, const IngestOptions& o, IngestResult& res, std::ostream& err) {
    // One folder per row identity; the command writes into a temporary folder that is
    // renamed into place only after it succeeded, so a killed or failed fetch never
    // leaves a partial file that a later run would take for the song.
    const std::string key = m.artist + '\x1f' + m.title + '\x1f' + m.uri;
    const std::string id = store::hash_bytes(key.data(), key.size());
    const std::string dir = fetch_root + "/" + safe_dir_name(m.artist + " - " + m.title) + "-" + id.substr(0, 12);
    std::error_code ec;
    fs::create_directories(fetch_root, ec);
    if (ec) throw Error(ErrorKind::io, fetch_root + ": cannot create the fetch folder: " + ec.message());
    auto have = fs::is_directory(dir, ec) ? list_audio(dir) : std::vector<std::string>{};
    if (!have.empty()) return have.front();
    std::string tmpl = fetch_root + "/.partial-XXXXXX";
    if (!::mkdtemp(tmpl.data())) throw Error(ErrorKind::io, fetch_root + ": cannot create a temporary folder: " + std::strerror(errno));
    const std::string tmp = tmpl;
    auto fail = [&](const std::string& why) {
        err << "hitdna ingest: " << m.where << ": fetch command for '" << m.artist << " - " << m.title << "' " << why << "\n";
        ++res.unmatched_rows;
        fs::remove_all(tmp, ec);
        return std::nullopt;
    };
    auto argv = expand_fetch_command(o.fetch_cmd, m.artist, m.title, m.uri, m.rank, tmp);
    try {
        auto pr = core::run_process(argv, o.fetch_timeout_s);
        if (pr.exit_code != 0) {
            std::string e = pr.err;
            while (!e.empty() && (e.back() == '\n' || e.back() == '\r')) e.pop_back();
            if (auto p = e.rfind('\n'); p != std::string::npos) e = e.substr(p + 1);
            return fail("exited with " + std::to_string(pr.exit_code) + (e.empty() ? "" : ": " + e));
        }
    } catch (const Error& e) {
        return fail(std::string("failed: ") + e.what());
    }
    if (list_audio(tmp).empty()) return fail("wrote no audio into {out}");
    fs::remove_all(dir, ec);
    if (::rename(tmp.c_str(), dir.c_str()) != 0) return fail(std::string("succeeded but its folder could not be kept: ") + std::strerror(errno));
    have = list_audio(dir);
    ++res.fetched;
    return have.front();
}

// Rows without audio: listed as unmatched, or fetched with the user's command and added as items.
void fetch_missing(const store::Catalog& cat, const IngestOptions& o, Inputs& inputs, IngestResult& res, std::ostream& err) {
    const std::string fetch_root = !o.fetch_dir.empty() ? o.fetch_dir : cat.path() + ".fetched";
    for (auto& m : inputs.missing) {
        if (o.fetch_cmd.empty()) {
            err << "hitdna ingest: " << m.where << ": no audio found for '" << m.artist << " - " << m.title << "'"
                << (o.audio_dirs.empty() ? " (no --audio-dir given)" : "") << "\n";
            ++res.unmatched_rows;
            continue;
        }
        if (auto path = fetch_row(m, fetch_root, o, res, err)) inputs.items.push_back({*path, m.meta, true});
    }
}

// The analysis workers and what they share: they take items in turn, analyze those new to the
// catalog and commit one transaction per track; the catalog connection is used under one lock,
// the result's counts under another.
class Workers {
public:
    Workers(store::Catalog& cat, const IngestOptions& o, const std::vector<Item>& items, IngestResult& res, std::ostream& err)
        : m_cat(cat), m_o(o), m_items(items), m_res(res), m_progress(err, o.progress, res.inputs), m_order(items.size()) {
        for (size_t i = 0; i < m_order.size(); ++i) m_order[i] = i;
    }

    // Runs the pool over every item, then the items deferred as another's content; sets the
    // result's counts and times and returns the exit code of the first failure (0: none).
    int run() {
        const int jobs = m_o.jobs > 0 ? m_o.jobs : std::max(1, int(std::thread::hardware_concurrency()));
        std::vector<std::thread> pool;
        for (int t = 1; t < jobs && size_t(t) < m_items.size(); ++t) pool.emplace_back([this] { work(); });
        work();
        for (auto& t : pool) t.join();
        if (!m_deferred.empty() && !m_stopped) {
            m_order = m_deferred;
            m_deferred.clear();
            m_second_pass = true;
            m_next = 0;
            work();  // now known: metadata is merged, nothing is analyzed again
        }
        m_progress.finish();
        m_res.analysis_s = double(m_analysis_us.load()) / 1e6;
        m_res.store_s = double(m_store_us.load()) / 1e6;
        return m_first_failure;
    }

private:
    // One worker: items until none is left; a catalog failure ends the run for all.
    void work() {
        for (size_t oi; (oi = m_next.fetch_add(1)) < m_order.size();) {
            const size_t i = m_order[oi];
            const Item& it = m_items[i];
            try {
                if (!process(i)) continue;  // deferred: counted in the second pass
            } catch (const Error& e) {
                if (e.kind() == ErrorKind::db) {
                    // A catalog failure (disk full, read-only) stops the run: later tracks would fail too.
                    report(std::string(e.what()) + " (while storing " + it.path + "; stopping, everything committed before is kept)", exit_code_for(e.kind()));
                    m_next = m_order.size();
                    m_stopped = true;
                } else {
                    report(e.what(), exit_code_for(e.kind()));
                }
            } catch (const std::exception& e) {
                report(it.path + ": internal error: " + e.what(), 70);
            }
            m_progress.step(it.path);
        }
    }

    // Item i merged into its known track or analyzed and stored; false when it was deferred
    // because another item claimed the same content. Throws Error on failure.
    bool process(size_t i) {
        const Item& it = m_items[i];
        auto ts = Clock::now();
        std::error_code ec;
        if (!fs::exists(it.path, ec)) throw Error(ErrorKind::io, it.path + ": no such file");
        if (fs::is_directory(it.path, ec)) throw Error(ErrorKind::io, it.path + ": is a directory with no audio files");
        const std::string hash = store::hash_file(it.path);
        store::TrackMeta meta = it.meta;
        // A row's own title makes its names authoritative; names from tags or the file
        // name only fill what the catalog lacks.
        meta.names_authoritative = it.meta.names_authoritative && !it.meta.title.empty();
        // A list's year and genres win over the file's tags (as its names do).
        meta.year_authoritative = it.from_chart && it.meta.year.has_value();
        store::TrackMeta tags = read_tags(it.path);
        if (it.from_chart && !it.meta.genres.empty()) tags.genres.clear();
        merge_into(meta, tags);
        merge_into(meta, meta_from_name(it.path));
        std::optional<store::TrackRow> known;
        {
            std::lock_guard<std::mutex> lock(m_db_mu);
            // The same content under two names in one run: the second waits for the
            // first (it is handled after the workers finish, as a known track).
            if (!m_second_pass) {
                auto [pos, fresh] = m_claimed.emplace(hash, i);
                if (!fresh && pos->second != i) {
                    m_deferred.push_back(i);
                    return false;
                }
            }
            known = m_cat.find_by_hash(hash);
        }
        m_store_us += int64_t(since(ts) * 1e6);
        const bool redo = known && m_o.reanalyze && known->analysis_version < dna::k_analysis_version;
        if (known && !redo) merge_known(*known, meta);
        else analyze_and_store(it.path, hash, meta, redo);
        return true;
    }

    // A known track gets the item's metadata; counted as known (and stale on an older analyzer).
    void merge_known(const store::TrackRow& known, const store::TrackMeta& meta) {
        auto tm = Clock::now();
        {
            std::lock_guard<std::mutex> lock(m_db_mu);
            m_cat.merge_metadata(known.id, meta);
        }
        m_store_us += int64_t(since(tm) * 1e6);
        std::lock_guard<std::mutex> lock(m_res_mu);
        ++m_res.known;
        if (known.analysis_version < dna::k_analysis_version) ++m_res.stale;
    }

    // The file analyzed (its warnings printed) and stored; counted as added or reanalyzed.
    void analyze_and_store(const std::string& path, const std::string& hash, const store::TrackMeta& meta, bool redo) {
        auto ta = Clock::now();
        analysis::AnalyzeOptions ao = m_o.analyze;
        ao.prefetch = m_o.jobs == 1;  // with several workers the cores are busy already
        dna::Dna d = analysis::analyze_file(path, ao);
        m_analysis_us += int64_t(since(ta) * 1e6);
        for (const auto& w : d.warnings) m_progress.message("hitdna ingest: warning: " + path + ": " + w);
        auto tw = Clock::now();
        {
            std::lock_guard<std::mutex> lock(m_db_mu);
            m_cat.put_track(hash, fs::absolute(path).lexically_normal().string(), meta, d);
        }
        m_store_us += int64_t(since(tw) * 1e6);
        std::lock_guard<std::mutex> lock(m_res_mu);
        ++(redo ? m_res.reanalyzed : m_res.added);
    }

    // A failed item: its message printed, counted, and its exit code kept when it is the first.
    void report(const std::string& msg, int code) {
        m_progress.message("hitdna ingest: " + msg);
        std::lock_guard<std::mutex> lock(m_res_mu);
        ++m_res.failed;
        if (!m_first_failure) m_first_failure = code;
    }

    store::Catalog& m_cat;
    const IngestOptions& m_o;
    const std::vector<Item>& m_items;
    IngestResult& m_res;
    std::mutex m_db_mu;                       // the catalog connection is used by one thread at a time
    std::map<std::string, size_t> m_claimed;  // content hash -> the item analyzing it (under m_db_mu)
    std::vector<size_t> m_deferred;           // items whose content another item had claimed
    bool m_second_pass = false;
    std::atomic<bool> m_stopped{false};       // a catalog failure ends the run
    std::atomic<size_t> m_next{0};
    std::atomic<int64_t> m_analysis_us{0}, m_store_us{0};
    Progress m_progress;
    std::mutex m_res_mu;
    std::vector<size_t> m_order;              // the items to take, by index
    int m_first_failure = 0;                  // under m_res_mu
};

}  // namespace

double update_indexes(store::Catalog& cat, std::ostream& err, int threads) {
    auto ti = Clock::now();
    store::VectorIndexes(cat).update_all(err, "hitdna ingest", threads);
    return since(ti);
}

IngestResult run_ingest(store::Catalog& cat, const IngestOptions& o, std::istream& in, std::ostream& err) {
    const auto t0 = Clock::now();
    IngestResult res;
    if (o.source != "user" && o.source != "chart" && o.source != "generated")
        throw Error(ErrorKind::usage, "--source must be user, chart or generated");
    const store::TrackMeta plain = plain_meta(o);
    Inputs inputs;
    collect_inputs(o, plain, in, inputs.items);
    if (!o.charts.empty()) resolve_chart_rows(o, plain, inputs, res, err);
    if (!inputs.missing.empty()) fetch_missing(cat, o, inputs, res, err);
    res.inputs = int(inputs.items.size());
    // Analyze in parallel, commit one transaction per track.
    const int first_failure = Workers(cat, o, inputs.items, res, err).run();
    // Also when nothing was added: a run killed before its index update leaves them behind.
    if (o.update_index && (res.added || res.reanalyzed || store::VectorIndexes(cat).behind())) res.index_s = update_indexes(cat, err, o.jobs);
    res.seconds = since(t0);
    if (first_failure) res.exit_code = first_failure;
    else if (res.bad_rows || res.unmatched_rows) res.exit_code = 1;
    return res;
}

nlohmann::ordered_json to_json(const IngestResult& r, const std::string& db_path) {
    nlohmann::ordered_json j;
    j["db"] = db_path;
    j["inputs"] = r.inputs;
    j["added"] = r.added;
    j["reanalyzed"] = r.reanalyzed;
    j["known"] = r.known;
    j["stale"] = r.stale;
    j["failed"] = r.failed;
    j["bad_rows"] = r.bad_rows;
    j["unmatched_rows"] = r.unmatched_rows;
    j["fetched"] = r.fetched;
    j["seconds"] = r.seconds;
    j["analysis_s"] = r.analysis_s;
    j["store_s"] = r.store_s;
    j["index_s"] = r.index_s;
    j["exit_code"] = r.exit_code;
    return j;
}

}  // namespace hitdna::ingest
