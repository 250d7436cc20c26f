#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.hpp"
#include "hitdna/core/error.hpp"
#include "hitdna/core/query_lines.hpp"
#include "hitdna/core/text.hpp"
#include "hitdna/match/match.hpp"

namespace hitdna::cli {

namespace {

std::map<dna::Space, double> parse_weights(const std::string& s) {
    std::map<dna::Space, double> w;
    std::stringstream ss(s);
    std::string item;
    while (std::getline(ss, item, ',')) {
        auto eq = item.find('=');
        if (eq == std::string::npos) throw Error(ErrorKind::usage, "--weights '" + s + "': expected SPACE=W,... e.g. audio=1,sections=2");
        auto sp = dna::parse_space(item.substr(0, eq));
        if (!sp) throw Error(ErrorKind::usage, "--weights: unknown space '" + item.substr(0, eq) + "' (audio, structure, emotion, production, sections)");
        try {
            double v = std::stod(item.substr(eq + 1));
            if (!(v >= 0) || v > 1000) throw std::out_of_range("w");
            w[*sp] = v;
        } catch (const std::exception&) {
            throw Error(ErrorKind::usage, "--weights: '" + item.substr(eq + 1) + "' is not a weight (0..1000)");
        }
    }
    return w;
}

std::vector<dna::Space> parse_spaces(const std::string& list) {
    try {
        return match::parse_space_list(list);
    } catch (const Error& e) {
        throw Error(ErrorKind::usage, std::string("--space: ") + e.what());
    }
}

// --queries: one JSON line in, one out, in input order. Each of --jobs threads answers whole
// queries (a --like file's analysis, then the search) with a session of its own: its own
// catalog connection, the indexes opened once and kept. Exit 1 when some line failed.
int run_queries(const match::MatchOptions& defaults, const std::string& db, const std::string& source, int jobs) {
    const std::string path = store::resolve_db_path(db);
    const bool local = defaults.backend != "qdrant" || store::catalog_exists(path);
    if (local) store::Catalog check(path, store::Catalog::Mode::read_only);  // a missing catalog fails once, before any line
    struct Worker {
        std::unique_ptr<store::Catalog> cat;
        std::unique_ptr<match::Session> session;
    };
    std::mutex pool_mutex;
    std::vector<std::unique_ptr<Worker>> idle;
    // The catalog's vectors are read once for all lines and workers (store::ResidentVectors).
    auto resident = local ? std::make_shared<store::ResidentVectors>(path) : nullptr;
    auto acquire = [&] {
        {
            std::lock_guard<std::mutex> lock(pool_mutex);
            if (!idle.empty()) {
                auto w = std::move(idle.back());
                idle.pop_back();
                return w;
            }
        }
        auto w = std::make_unique<Worker>();
        if (local) w->cat = std::make_unique<store::Catalog>(path, store::Catalog::Mode::read_only);
        // Many queries per session: the index files are mapped (store::IndexAccess).
        w->session = std::make_unique<match::Session>(w->cat.get(), std::cerr, store::IndexAccess::map, resident);
        return w;
    };
    auto release = [&](std::unique_ptr<Worker> w) {
        std::lock_guard<std::mutex> lock(pool_mutex);
        idle.push_back(std::move(w));
    };
    auto prepare = [&](const nlohmann::json& q) -> std::shared_ptr<void> {
        const auto o = match::query_line_options(q, defaults);
        std::unique_ptr<dna::Dna> like;
        if (!o.like_file.empty()) like = std::make_unique<dna::Dna>(analysis::analyze_file(o.like_file, o.analyze));
        auto w = acquire();
        std::shared_ptr<nlohmann::ordered_json> answer;
        try {
            answer = std::make_shared<nlohmann::ordered_json>(match::to_json(w->session->run(o, like.get())));
        } catch (...) {
            release(std::move(w));
            throw;
        }
        release(std::move(w));
        return answer;
    };
    auto answer = [](const nlohmann::json&, const std::shared_ptr<void>& prepared) { return *static_cast<const nlohmann::ordered_json*>(prepared.get()); };
    return core::answer_query_source(source, jobs, prepare, answer, std::cout, std::cerr).failed ? 1 : 0;
}

// The table on a terminal: rank, score, name, best section and per-space scores.
void print_table(const match::MatchReport& rep) {
    for (const auto& s : rep.resolved) std::cerr << "query " << s << "\n";
    std::printf("%4s  %5s  %-44s  %s\n", "rank", "score", "artist - title", "best section / per-space scores");
    for (const auto& r : rep.results) {
        std::string name = (r.track.artist.empty() ? "" : r.track.artist + " - ") + r.track.title;
        if (name.size() > 44) name = name.substr(0, 41) + "...";
        std::string detail;
        if (r.section) {
            char b[96];
            std::snprintf(b, sizeof b, "%s %d:%02d-%d:%02d  ", r.section->role.c_str(), int(r.section->start_s) / 60, int(r.section->start_s) % 60,
                          int(r.section->end_s) / 60, int(r.section->end_s) % 60);
            detail += b;
        }
        for (auto& [s, v] : r.space_scores) {
            char b[48];
            std::snprintf(b, sizeof b, "%s %.2f ", dna::to_string(s), v);
            detail += b;
        }
        if (r.text_score) {
            char b[32];
            std::snprintf(b, sizeof b, "text %.2f", *r.text_score);
            detail += b;
        }
        std::printf("%4d  %5.3f  %-44s  %s\n", r.rank, r.score, name.c_str(), detail.c_str());
    }
    if (rep.results.empty()) std::printf("(no matches)\n");
}

// One row per result (RFC 4180, header first); a space that was not scored is an empty cell.
void print_csv(const match::MatchReport& rep) {
    auto num = [](double v) {
        char b[32];
        std::snprintf(b, sizeof b, "%.4f", v);
        return std::string(b);
    };
    std::vector<std::string> header = {"rank", "score", "track_id", "artist", "title", "year", "genres", "peak_rank", "source", "path",
                                       "section_role", "section_start_s", "section_end_s"};
    for (auto sp : dna::k_spaces) header.push_back(std::string(dna::to_string(sp)) + "_score");
    header.push_back("text_score");
    header.push_back("hit_score");
    std::cout << core::csv_record(header);
    for (const auto& r : rep.results) {
        std::string genres;
        for (const auto& g : r.track.genres) genres += (genres.empty() ? "" : ";") + g;
        std::vector<std::string> row = {std::to_string(r.rank), num(r.score), std::to_string(r.track.id), r.track.artist, r.track.title,
                                        r.track.year ? std::to_string(*r.track.year) : "", genres,
                                        r.track.peak_rank ? std::to_string(*r.track.peak_rank) : "", r.track.source, r.track.path,
                                        r.section ? r.section->role : "", r.section ? num(r.section->start_s) : "", r.section ? num(r.section->end_s) : ""};
        for (auto sp : dna::k_spaces) {
            auto it = r.space_scores.find(sp);
            row.push_back(it == r.space_scores.end() ? "" : num(it->second));
        }
        row.push_back(r.text_score ? num(*r.text_score) : "");
        row.push_back(r.hit_score ? num(*r.hit_score) : "");
        std::cout << core::csv_record(row);
    }
}

}  // namespace

Runner register_match(CLI::App& app) {
    struct State {
        match::MatchOptions o;
        std::string db, space = "all", weights, boost, qdrant_url, queries;
        int jobs = 0;
        Format format{{"text", "json", "jsonl", "csv"}, "jsonl", "", true};
    };
    auto st = std::make_shared<State>();
    if (const char* c = std::getenv("QDRANT_COLLECTION"); c && *c) st->o.collection = c;
    app.footer(
        "Scores are 0..1: per space exp(-d^2/(2D)) over standardized vectors (1 identical, about 0.37\n"
        "for unrelated tracks); the track score is the weighted mean over spaces (with text: 0.8 x that\n"
        "+ 0.2 x text relevance). Filter fields:\n" + store::filter_fields_help() +
        "--queries FILE|-: one JSON object per line ({\"id\":..., \"like\"|\"track\"|\"text\":..., \"filter\", \"k\",\n"
        "\"space\"}), one JSONL answer per line tagged with its id and line number; the command line's\n"
        "options are every line's defaults. A failing line is answered with its error and the rest go on.\n"
        "Exit status: 0 results printed (possibly none), 1 (--queries) some lines failed, 2 usage, 3/4 the --like file could not be read or\n"
        "decoded, 5 database error, 6 Qdrant unreachable or timed out, 7 Qdrant refused a request.\n"
        "See man hitdna-match.");
    app.add_option("--like", st->o.like_file, "Audio file: find the songs (and sections) that sound like it");
    app.add_option("--track", st->o.track, "A catalog track: its id, or \"Artist - Title\"");
    app.add_option("--text", st->o.text, "Text: quoted song titles pull in their vectors, descriptor words steer, all words search metadata");
    app.add_option("--queries", st->queries, "Many queries: a JSON-lines FILE, or - for standard input (one answer line each)");
    app.add_option("-j,--jobs", st->jobs, "With --queries: queries answered at once, --like files analyzed included (default: all cores)")->check(CLI::Range(1, 256));
    app.add_option("--filter", st->o.filters, "FIELD OP VALUE, e.g. genre=phonk,hip-hop  year>=2020  source=chart  peak_rank<=10 (repeatable, ANDed)");
    app.add_option("--space", st->space, "audio, structure, emotion, production, sections, or all (default; comma lists allowed)");
    app.add_option("--weights", st->weights, "Space weights, e.g. audio=1,sections=2 (defaults in the man page)");
    app.add_option("-k", st->o.k, "Number of results (default 10)")->check(CLI::Range(1, 10000));
    app.add_option("--breadth", st->o.breadth, "Most candidates one search brings to exact scoring; larger is slower and closer to scoring every track (default: 8k, at least 80, per track space; 40k, at least 400, over the query's sections)")
        ->check(CLI::Range(1, 10000000));
    app.add_option("--boost", st->boost, "learned: re-rank by the learned pattern weights, score x (0.75 + 0.25 x hit score)")
        ->check(CLI::IsMember({"learned"}));
    add_format_option(app, st->format);
    app.add_flag("--no-ffmpeg", [st](int64_t) { st->o.analyze.open.allow_ffmpeg = false; }, "Never fall back to ffmpeg for decoding --like audio");
    add_backend_options(app, st->o, st->qdrant_url);
    app.add_option("--db", st->db, "Catalog database (default: $HITDNA_DB, else ~/.local/share/hitdna/hitdna.db)");
    return [st]() -> int {
        auto& o = st->o;
        if (st->space != "all") o.spaces = parse_spaces(st->space);
        if (!st->weights.empty()) o.weights = parse_weights(st->weights);
        o.boost_learned = st->boost == "learned";
        o.qdrant = qdrant::config_from_env(st->qdrant_url);
        if (!st->queries.empty()) {
            if (!o.like_file.empty() || !o.track.empty() || !o.text.empty())
                throw Error(ErrorKind::usage, "--queries takes the queries from its lines: no --like, --track or --text beside it");
            if (!st->format.chosen.empty() && st->format.resolve() != "jsonl")
                throw Error(ErrorKind::usage, "--queries answers in JSON lines only (-f jsonl)");
            store::parse_filter(o.filters);
            return run_queries(o, st->db, st->queries, st->jobs);
        }
        if (st->jobs) throw Error(ErrorKind::usage, "--jobs goes with --queries");
        auto rep = match::run(o, st->db, std::cerr);
        const std::string fmt = st->format.resolve();
        if (fmt == "jsonl") {
            for (const auto& r : rep.results) std::cout << match::to_json(r).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
        } else if (fmt == "json") {
            std::cout << match::to_json(rep).dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
        } else if (fmt == "csv") {
            print_csv(rep);
        } else {
            print_table(rep);
        }
        return 0;
    };
}

}  // namespace hitdna::cli
