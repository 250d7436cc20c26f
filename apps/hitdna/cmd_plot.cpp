#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "commands.hpp"
#include "hitdna/analysis/analyze.hpp"
#include "hitdna/core/error.hpp"
#include "hitdna/dna/json.hpp"
#include "hitdna/enrich/target.hpp"
#include "hitdna/match/match.hpp"
#include "hitdna/report/plot.hpp"
#include "hitdna/store/hash.hpp"
#include "hitdna/store/generations.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace hitdna::cli {

namespace {

bool all_digits(const std::string& s) { return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos; }

std::unique_ptr<store::Catalog> open_if_present(const std::string& db_flag) {
    const std::string path = store::resolve_db_path(db_flag);
    struct stat sb{};
    if (::stat(path.c_str(), &sb) != 0) return nullptr;
    return std::make_unique<store::Catalog>(path, store::Catalog::Mode::read_only);
}

json analyze_to_json(const std::string& path, const analysis::AnalyzeOptions& ao) {
    auto d = analysis::analyze_file(path, ao);
    return json::parse(dna::to_json_string(d, false, -1));
}

}  // namespace

void write_file_atomically(const std::string& path, const std::string& content) {
    std::string tmpl = path + ".XXXXXX";
    const int fd = ::mkstemp(tmpl.data());
    if (fd < 0) throw Error(ErrorKind::io, path + ": cannot write: " + std::strerror(errno));
    size_t done = 0;
    while (done < content.size()) {
        const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const int e = errno;
            ::close(fd);
            ::unlink(tmpl.c_str());
            throw Error(ErrorKind::io, path + ": cannot write: " + std::strerror(e));
        }
        done += size_t(n);
    }
    ::fchmod(fd, 0644);
    if (::close(fd) != 0 || std::rename(tmpl.c_str(), path.c_str()) != 0) {
        const int e = errno;
        ::unlink(tmpl.c_str());
        throw Error(ErrorKind::io, path + ": cannot write: " + std::strerror(e));
    }
}

void write_output(const std::string& path, const std::string& content) {
    if (path == "-") {
        std::cout << content;
        return;
    }
    write_file_atomically(path, content);
    std::cerr << "hitdna: wrote " << path << "\n";
}

std::vector<ShowInput> resolve_show_inputs(const std::vector<std::string>& args, const std::string& db_flag, const analysis::AnalyzeOptions& ao) {
    std::vector<ShowInput> out;
    std::unique_ptr<store::Catalog> cat;
    auto catalog = [&]() -> store::Catalog& {
        if (!cat) cat = open_if_present(db_flag);
        if (!cat) throw Error(ErrorKind::db, store::resolve_db_path(db_flag) + ": no catalog here for track and generation ids (pass --db)");
        return *cat;
    };
    for (const auto& a : args) {
        ShowInput in;
        in.arg = a;
        struct stat sb{};
        const bool exists = ::stat(a.c_str(), &sb) == 0;
        if (exists && fs::path(a).extension() == ".json") {
            std::ifstream f(a);
            json j = json::parse(f, nullptr, false);
            if (j.is_discarded() || !j.is_object()) throw Error(ErrorKind::usage, a + ": not a JSON object (a DNA from hitdna analyze, a target from hitdna enrich, or a generation record)");
            if (j.value("format", std::string()) == "hitdna-target-1") {
                enrich::target_from_json(j, a);  // names the bad field when it is not a target
                in.name = "target: " + j.value("prompt", fs::path(a).stem().string());
                in.target = j;
            } else if (j.contains("attempts") && j.contains("target")) {
                in.name = "generation " + j.value("generation_id", fs::path(a).stem().string());
                in.generation = j;
                in.target = j["target"];
                const std::string outp = j.value("output", std::string());
                if (!outp.empty() && ::stat(outp.c_str(), &sb) == 0) in.audio_path = outp, in.dna = analyze_to_json(outp, ao);
                else std::cerr << "hitdna: warning: " << a << ": the generated audio " << outp << " is gone; only the target is drawn\n";
            } else if (j.contains("audio") && j.contains("structure")) {
                in.name = fs::path(j.value("file", a)).stem().string();
                in.dna = j;
            } else {
                throw Error(ErrorKind::usage, a + ": neither a DNA, a target (format hitdna-target-1) nor a generation record");
            }
        } else if (exists) {
            in.name = fs::path(a).stem().string();
            in.audio_path = a;
            in.dna = analyze_to_json(a, ao);
            // The same audio in the catalog: its hits are searched by track, without itself.
            if (!cat) cat = open_if_present(db_flag);
            if (cat)
                if (auto t = cat->find_by_hash(store::hash_file(a))) in.track_id = t->id;
        } else if (all_digits(a)) {
            auto& c = catalog();
            auto t = c.track(std::stoll(a));
            if (!t) throw Error(ErrorKind::usage, a + ": no such file, and no track with that id in " + c.path());
            in.name = (t->artist.empty() ? "" : t->artist + " - ") + t->title;
            in.track_id = t->id;
            in.audio_path = t->path;
            in.dna = json::parse(c.dna_json(t->id), nullptr, false);
        } else if (a.rfind("gen-", 0) == 0) {
            auto& c = catalog();
            auto g = store::find_generation(c, a);
            if (!g) throw Error(ErrorKind::usage, a + ": no such file, and no generation with that id in " + c.path());
            in.name = "generation " + a;
            in.generation = json::parse(g->record_json, nullptr, false);
            if (in.generation.is_object() && in.generation.contains("target")) in.target = in.generation["target"];
            const std::string outp = g->output_path;
            if (::stat(outp.c_str(), &sb) == 0) in.audio_path = outp, in.dna = analyze_to_json(outp, ao);
            else std::cerr << "hitdna: warning: " << a << ": the generated audio " << outp << " is gone; only the target is drawn\n";
        } else {
            throw Error(ErrorKind::io, a + ": no such file (nor a catalog track id or generation id)");
        }
        out.push_back(std::move(in));
    }
    return out;
}

std::vector<report::PlotInput> plot_inputs(const ShowInput& in) {
    std::vector<report::PlotInput> v;
    if (!in.dna.is_null()) v.push_back({in.name, in.dna, nullptr});
    // A generation is drawn over its target.
    if (!in.target.is_null() && (in.dna.is_null() || !in.generation.is_null())) v.push_back({in.dna.is_null() ? in.name : "its target", nullptr, in.target});
    return v;
}

json hits_aggregate(const ShowInput& in, size_t k, const std::string& db_flag, std::ostream& err) {
    const std::string path = store::resolve_db_path(db_flag);
    store::Catalog cat(path, store::Catalog::Mode::read_only);
    match::MatchOptions mo;
    if (in.track_id) mo.track = std::to_string(*in.track_id);
    else if (!in.audio_path.empty()) mo.like_file = in.audio_path;
    else throw Error(ErrorKind::usage, in.arg + ": --hits needs audio or a catalog track");
    mo.k = k;
    auto rep = match::run_match(cat, mo, err);
    std::vector<std::pair<int64_t, double>> scored;
    for (const auto& r : rep.results)
        if (!in.track_id || r.track.id != *in.track_id) scored.emplace_back(r.track.id, r.score);
    if (scored.empty()) throw Error(ErrorKind::usage, in.arg + ": no hits in " + path + " to aggregate");
    auto t = enrich::aggregate(cat, scored, "aggregate of " + std::to_string(scored.size()) + " nearest hits", std::nullopt);
    if (!t.from_hits) throw Error(ErrorKind::db, in.arg + ": the DNA of its hits in " + path + " could not be read");
    return enrich::to_json(t);
}

Runner register_plot(CLI::App& app) {
    struct State {
        std::vector<std::string> inputs;
        std::string out, db, title;
        bool compare = false, normalize = false;
        int width = 1000;
        size_t hits = 0;
        analysis::AnalyzeOptions ao;
    };
    auto st = std::make_shared<State>();
    app.footer(
        "Inputs: audio files (analyzed), DNA JSON (hitdna analyze -f json), targets (hitdna enrich -f json),\n"
        "generation records (hitdna generate --record) and catalog track ids or generation ids.\n"
        "Panels: sections (roles, repeat labels, hook, builds/drops), energy arc (LU re integrated), tension\n"
        "(0..1, heuristic) with releases and catharsis, tempo (BPM), stereo width (0..1), loudness (LUFS).\n"
        "Exit status: 0 written, 2 usage, 3/4 audio unreadable/undecodable, 5 database error. See man hitdna-plot.");
    app.add_option("inputs", st->inputs, "Files, track ids or generation ids")->required();
    app.add_option("-o,--output", st->out, "SVG file (- for stdout); several inputs without --compare: a directory, one SVG each")->required();
    app.add_flag("--compare", st->compare, "Overlay every input in one SVG, one colour each (targets dashed)");
    app.add_flag("--normalize", st->normalize, "x = position in each song (0..100 %) instead of time, so songs of different lengths align");
    app.add_option("--hits", st->hits, "Also draw the aggregate of the first input's K nearest catalog hits, as enrich makes it (the input itself excluded)")
        ->check(CLI::Range(1, 100));
    app.add_option("--width", st->width, "Width in pixels (default 1000)")->check(CLI::Range(480, 4000));
    app.add_option("--title", st->title, "Title (default: the inputs' names)");
    app.add_flag("--no-ffmpeg", [st](int64_t) { st->ao.open.allow_ffmpeg = false; }, "Never fall back to ffmpeg for decoding");
    app.add_option("--db", st->db, "Catalog for track ids, generation ids and --hits (default: $HITDNA_DB, else ~/.local/share/hitdna/hitdna.db)");
    return [st]() -> int {
        auto inputs = resolve_show_inputs(st->inputs, st->db, st->ao);
        report::PlotOptions po;
        po.normalized = st->normalize;
        po.width_px = st->width;
        po.title = st->title;
        json hits;
        if (st->hits > 0) hits = hits_aggregate(inputs.front(), st->hits, st->db, std::cerr);
        if (st->compare || inputs.size() == 1) {
            std::vector<report::PlotInput> all;
            for (const auto& in : inputs)
                for (auto& p : plot_inputs(in)) all.push_back(std::move(p));
            if (!hits.is_null()) all.push_back({"aggregate of its " + std::to_string(hits["hits"].size()) + " nearest hits", nullptr, hits});
            write_output(st->out, report::render_svg(all, po));
            return 0;
        }
        if (st->out == "-") throw Error(ErrorKind::usage, "-o -: several inputs without --compare make several SVGs; give a directory");
        if (fs::path(st->out).extension() == ".svg")
            throw Error(ErrorKind::usage, "-o " + st->out + ": several inputs without --compare make one SVG each; give a directory (or add --compare)");
        std::set<std::string> used;
        std::error_code ec;
        fs::create_directories(st->out, ec);
        if (ec) throw Error(ErrorKind::io, st->out + ": cannot create the directory: " + ec.message());
        for (size_t i = 0; i < inputs.size(); ++i) {
            auto parts = plot_inputs(inputs[i]);
            if (i == 0 && !hits.is_null()) parts.push_back({"aggregate of its " + std::to_string(hits["hits"].size()) + " nearest hits", nullptr, hits});
            std::string stem = fs::path(inputs[i].arg).stem().string();
            if (stem.empty()) stem = "plot";
            // Two inputs with the same name (a/song.wav, b/song.wav, song.json) get song.svg, song-2.svg.
            std::string name = stem;
            for (int n = 2; used.count(name); ++n) name = stem + "-" + std::to_string(n);
            used.insert(name);
            write_output(st->out + "/" + name + ".svg", report::render_svg(parts, po));
        }
        return 0;
    };
}

}  // namespace hitdna::cli
