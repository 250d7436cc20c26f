#include "hitdna/report/inputs.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <ostream>
#include <set>

#include "hitdna/core/error.hpp"
#include "hitdna/dna/json.hpp"
#include "hitdna/enrich/target.hpp"
#include "hitdna/match/match.hpp"
#include "hitdna/store/catalog.hpp"
#include "hitdna/store/generations.hpp"
#include "hitdna/store/hash.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace hitdna::report {

namespace {

bool all_digits(const std::string& s) { return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos; }
bool file_exists(const std::string& path) {
    struct stat sb{};
    return ::stat(path.c_str(), &sb) == 0;
}

json analyze_to_json(const std::string& path, const analysis::AnalyzeOptions& ao) {
    auto d = analysis::analyze_file(path, ao);
    return json::parse(dna::to_json_string(d, false, -1));
}

// The catalog, opened on first need; null when there is none.
class LazyCatalog {
public:
    explicit LazyCatalog(const std::string& db) : m_db(db) {}
    store::Catalog* get() {
        if (!m_cat && store::catalog_exists(store::resolve_db_path(m_db)))
            m_cat = std::make_unique<store::Catalog>(store::resolve_db_path(m_db), store::Catalog::Mode::read_only);
        return m_cat.get();
    }
    // The catalog an id needs: Error(db) when there is none.
    store::Catalog& required() {
        if (!get()) throw Error(ErrorKind::db, store::resolve_db_path(m_db) + ": no catalog here for track and generation ids (pass --db)");
        return *m_cat;
    }

private:
    std::string m_db;
    std::unique_ptr<store::Catalog> m_cat;
};

// A generation's audio, analyzed when it is still there.
void add_generation_audio(ShowInput& in, const std::string& outp, const analysis::AnalyzeOptions& ao, std::ostream& log) {
    if (!outp.empty() && file_exists(outp)) in.audio_path = outp, in.dna = analyze_to_json(outp, ao);
    else log << "hitdna: warning: " << in.arg << ": the generated audio " << outp << " is gone; only the target is drawn\n";
}

// A DNA, a target or a generation record.
void from_json_file(ShowInput& in, const analysis::AnalyzeOptions& ao, std::ostream& log) {
    const std::string& a = in.arg;
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
        add_generation_audio(in, j.value("output", std::string()), ao, log);
    } else if (j.contains("audio") && j.contains("structure")) {
        in.name = fs::path(j.value("file", a)).stem().string();
        in.dna = j;
    } else {
        throw Error(ErrorKind::usage, a + ": neither a DNA, a target (format hitdna-target-1) nor a generation record");
    }
}

void from_track_id(ShowInput& in, store::Catalog& c) {
    auto t = c.track(std::stoll(in.arg));
    if (!t) throw Error(ErrorKind::usage, in.arg + ": no such file, and no track with that id in " + c.path());
    in.name = (t->artist.empty() ? "" : t->artist + " - ") + t->title;
    in.track_id = t->id;
    in.audio_path = t->path;
    in.dna = json::parse(c.dna_json(t->id), nullptr, false);
}

void from_generation_id(ShowInput& in, store::Catalog& c, const analysis::AnalyzeOptions& ao, std::ostream& log) {
    auto g = store::find_generation(c, in.arg);
    if (!g) throw Error(ErrorKind::usage, in.arg + ": no such file, and no generation with that id in " + c.path());
    in.name = "generation " + in.arg;
    in.generation = json::parse(g->record_json, nullptr, false);
    if (in.generation.is_object() && in.generation.contains("target")) in.target = in.generation["target"];
    add_generation_audio(in, g->output_path, ao, log);
}

}  // namespace

std::vector<ShowInput> resolve_inputs(const std::vector<std::string>& args, const std::string& db, const analysis::AnalyzeOptions& ao, std::ostream& log) {
    std::vector<ShowInput> out;
    LazyCatalog cat(db);
    for (const auto& a : args) {
        ShowInput in;
        in.arg = a;
        const bool exists = file_exists(a);
        if (exists && fs::path(a).extension() == ".json") {
            from_json_file(in, ao, log);
        } else if (exists) {
            in.name = fs::path(a).stem().string();
            in.audio_path = a;
            in.dna = analyze_to_json(a, ao);
            // The same audio in the catalog: its hits are searched by track, without itself.
            if (auto* c = cat.get())
                if (auto t = c->find_by_hash(store::hash_file(a))) in.track_id = t->id;
        } else if (all_digits(a)) {
            from_track_id(in, cat.required());
        } else if (a.rfind("gen-", 0) == 0) {
            from_generation_id(in, cat.required(), ao, log);
        } else {
            throw Error(ErrorKind::io, a + ": no such file (nor a catalog track id or generation id)");
        }
        out.push_back(std::move(in));
    }
    return out;
}

std::vector<PlotInput> plot_inputs(const ShowInput& in) {
    std::vector<PlotInput> v;
    if (!in.dna.is_null()) v.push_back({in.name, in.dna, nullptr});
    // A generation is drawn over its target.
    if (!in.target.is_null() && (in.dna.is_null() || !in.generation.is_null())) v.push_back({in.dna.is_null() ? in.name : "its target", nullptr, in.target});
    return v;
}

json hits_aggregate(const ShowInput& in, size_t k, const std::string& db, std::ostream& log) {
    const std::string path = store::resolve_db_path(db);
    store::Catalog cat(path, store::Catalog::Mode::read_only);
    match::MatchOptions mo;
    if (in.track_id) mo.track = std::to_string(*in.track_id);
    else if (!in.audio_path.empty()) mo.like_file = in.audio_path;
    else throw Error(ErrorKind::usage, in.arg + ": --hits needs audio or a catalog track");
    mo.k = k;
    auto rep = match::run_match(cat, mo, log);
    std::vector<std::pair<int64_t, double>> scored;
    for (const auto& r : rep.results)
        if (!in.track_id || r.track.id != *in.track_id) scored.emplace_back(r.track.id, r.score);
    if (scored.empty()) throw Error(ErrorKind::usage, in.arg + ": no hits in " + path + " to aggregate");
    auto t = enrich::aggregate(cat, scored, "aggregate of " + std::to_string(scored.size()) + " nearest hits", std::nullopt);
    if (!t.from_hits) throw Error(ErrorKind::db, in.arg + ": the DNA of its hits in " + path + " could not be read");
    return enrich::to_json(t);
}

void plot(const PlotRequest& r, const std::function<void(const PlotFile&)>& emit, std::ostream& log) {
    auto inputs = resolve_inputs(r.inputs, r.db, r.analyze, log);
    json hits;
    if (r.hits > 0) hits = hits_aggregate(inputs.front(), r.hits, r.db, log);
    auto hits_input = [&] { return PlotInput{"aggregate of its " + std::to_string(hits["hits"].size()) + " nearest hits", nullptr, hits}; };
    if (r.compare || inputs.size() == 1) {
        std::vector<PlotInput> all;
        for (const auto& in : inputs)
            for (auto& p : plot_inputs(in)) all.push_back(std::move(p));
        if (!hits.is_null()) all.push_back(hits_input());
        emit({r.output, render_svg(all, r.plot)});
        return;
    }
    if (r.output == "-") throw Error(ErrorKind::usage, "-o -: several inputs without --compare make several SVGs; give a directory");
    if (fs::path(r.output).extension() == ".svg")
        throw Error(ErrorKind::usage, "-o " + r.output + ": several inputs without --compare make one SVG each; give a directory (or add --compare)");
    std::error_code ec;
    fs::create_directories(r.output, ec);
    if (ec) throw Error(ErrorKind::io, r.output + ": cannot create the directory: " + ec.message());
    std::set<std::string> used;
    for (size_t i = 0; i < inputs.size(); ++i) {
        auto parts = plot_inputs(inputs[i]);
        if (i == 0 && !hits.is_null()) parts.push_back(hits_input());
        std::string stem = fs::path(inputs[i].arg).stem().string();
        if (stem.empty()) stem = "plot";
        // Two inputs with the same name (a/song.wav, b/song.wav, song.json) get song.svg, song-2.svg.
        std::string name = stem;
        for (int n = 2; used.count(name); ++n) name = stem + "-" + std::to_string(n);
        used.insert(name);
        emit({r.output + "/" + name + ".svg", render_svg(parts, r.plot)});
    }
}

}  // namespace hitdna::report
