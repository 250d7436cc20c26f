// bench_learn: the learning loop against simulated listeners whose taste is not the model's
// formula. The catalog is real DNA (bench/learn_corpus.sh: Debian recordings and variants of
// them); listeners follow the hidden rule sets of data/eval/learn/rulesets.json (interactions,
// thresholds, saturation, a section-level feature, exposure bias, drift), fixed before any
// model was tuned. Events go through hitdna's feedback path round by round; then every model
// kind is fitted as `hitdna learn --model K` does and judged on held-out songs (every variant
// of a song on one side of the split), next to a mean baseline and ordinary least squares:
// Spearman against the world's expected engagement, R^2 against the engagement the held-out
// tracks then earn, Brier score and expected calibration error of the hit score against their
// promotion, each with a bootstrap 95 % interval. Per round it also reports how many truly
// engaging tracks were promoted (recall) and how many promoted tracks do not truly engage.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <sstream>
#include <string>

#include "../tests/synthetic.hpp"
#include "learn_sim.hpp"
#include "usage.hpp"
#include "hitdna/ingest/dna_import.hpp"
#include "hitdna/learn/engagement.hpp"
#include "hitdna/learn/model.hpp"
#include "hitdna/store/catalog.hpp"

using namespace hitdna;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr const char* k_usage =
    "bench_learn: learning-loop models against simulated listeners on real DNA (held-out songs, bootstrap intervals).\n"
    "usage: bench_learn [--work DIR] [--corpus FILE.jsonl] [--rulesets FILE] [--only RULESET] [--seeds N] [--bootstrap B]\n"
    "  --work DIR        catalogs and the corpus (default bench-learn); the corpus is made by bench/learn_corpus.sh\n"
    "                    when DIR/corpus.jsonl is missing (about 30 minutes on 2 cores, once)\n"
    "  --corpus FILE     analyses to use instead (hitdna analyze -f jsonl --vectors)\n"
    "  --rulesets FILE   hidden rules (default data/eval/learn/rulesets.json)\n"
    "  --only NAME       one rule set;  --seeds N  the first N seeds (default all);  --bootstrap B  resamples (default 1000)\n"
    "  --curve yes       also a learning curve on the goal rule set: how many engaged tracks a model needs\n"
    "  --scale N         instead: time learn on N synthetic tracks with --events M events (default 10 000 000) in DIR/scale.db\n";

struct Corpus {
    std::vector<std::string> lines;      // one analysis each, deduplicated by content hash
    std::vector<sim::Fields> fields;
    std::vector<std::string> song;       // the recording a variant comes from
};

Corpus read_corpus(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error(path + ": cannot read (run bench/learn_corpus.sh)");
    Corpus c;
    std::set<std::string> hashes;
    for (std::string line; std::getline(in, line);) {
        const json d = json::parse(line, nullptr, false);
        if (!d.is_object() || !d.contains("vectors") || !d.contains("content_hash")) continue;
        if (!hashes.insert(d["content_hash"].get<std::string>()).second) continue;
        const std::string base = fs::path(d.value("file", "")).filename().string();
        c.lines.push_back(line);
        c.fields.push_back(sim::fields_of(d));
        c.song.push_back(base.substr(0, base.find('-')));
    }
    return c;
}

struct Metrics {
    double spearman = 0, r2 = 0, brier = 0, ece = 0;
};

double r_squared(const std::vector<double>& pred, const std::vector<double>& y) {
    double mean = 0, sse = 0, sst = 0;
    for (double v : y) mean += v;
    mean /= double(y.size());
    for (size_t i = 0; i < y.size(); ++i) sse += (y[i] - pred[i]) * (y[i] - pred[i]), sst += (y[i] - mean) * (y[i] - mean);
    return sst > 0 ? 1 - sse / sst : 0.0;
}

// Expected calibration error over 10 equal-width bins of the hit score.
double ece(const std::vector<double>& p, const std::vector<double>& y) {
    double bins_p[10] = {}, bins_y[10] = {}, bins_n[10] = {};
    for (size_t i = 0; i < p.size(); ++i) {
        const int b = std::clamp(int(p[i] * 10), 0, 9);
        bins_p[b] += p[i], bins_y[b] += y[i], bins_n[b] += 1;
    }
    double e = 0;
    for (int b = 0; b < 10; ++b)
        if (bins_n[b] > 0) e += bins_n[b] / double(p.size()) * std::abs(bins_p[b] / bins_n[b] - bins_y[b] / bins_n[b]);
    return e;
}

struct Outcome {  // held-out truth
    std::vector<double> expected, observed, promoted;
};

Metrics measure(const std::vector<double>& pred, const std::vector<double>& hit, const Outcome& o, const std::vector<size_t>& rows) {
    std::vector<double> p, h, e, y, z;
    for (size_t r : rows) p.push_back(pred[r]), h.push_back(hit[r]), e.push_back(o.expected[r]), y.push_back(o.observed[r]), z.push_back(o.promoted[r]);
    Metrics m;
    m.spearman = learn::spearman(p, e);
    m.r2 = r_squared(p, y);
    for (size_t i = 0; i < h.size(); ++i) m.brier += (h[i] - z[i]) * (h[i] - z[i]);
    m.brier /= double(h.size());
    m.ece = ece(h, z);
    return m;
}

struct Interval {
    double value, lo, hi;
    std::vector<double> draws;  // per resample, in resample order (paired across models)
};

// Point value and bootstrap 95 % percentile interval of each metric, the same resamples for
// every model (paired).
std::map<std::string, std::map<std::string, Interval>> bootstrap(const std::map<std::string, std::pair<std::vector<double>, std::vector<double>>>& preds,
                                                                   const Outcome& o, int B, uint64_t seed) {
    const size_t n = o.expected.size();
    std::vector<size_t> all(n);
    std::iota(all.begin(), all.end(), 0);
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<size_t> pick(0, n - 1);
    std::vector<std::vector<size_t>> samples(static_cast<size_t>(B), std::vector<size_t>(n));
    for (auto& s : samples)
        for (auto& r : s) r = pick(rng);
    std::map<std::string, std::map<std::string, Interval>> out;
    for (const auto& [name, pr] : preds) {
        const Metrics point = measure(pr.first, pr.second, o, all);
        std::map<std::string, std::vector<double>> draws;
        for (const auto& s : samples) {
            const Metrics m = measure(pr.first, pr.second, o, s);
            draws["spearman"].push_back(m.spearman), draws["r2"].push_back(m.r2), draws["brier"].push_back(m.brier), draws["ece"].push_back(m.ece);
        }
        const std::map<std::string, double> pv = {{"spearman", point.spearman}, {"r2", point.r2}, {"brier", point.brier}, {"ece", point.ece}};
        for (auto& [k, v] : draws) {
            std::vector<double> sorted = v;
            std::sort(sorted.begin(), sorted.end());
            out[name][k] = {pv.at(k), sorted[size_t(0.025 * double(B - 1))], sorted[size_t(0.975 * double(B - 1))], v};
        }
    }
    return out;
}

// The paired bootstrap 95 % interval of a - b (the same resamples for both).
std::pair<double, double> paired(const Interval& a, const Interval& b) {
    std::vector<double> d;
    for (size_t i = 0; i < a.draws.size(); ++i) d.push_back(a.draws[i] - b.draws[i]);
    std::sort(d.begin(), d.end());
    return {d[size_t(0.025 * double(d.size() - 1))], d[size_t(0.975 * double(d.size() - 1))]};
}

std::string fmt(const Interval& i) {
    char b[64];
    std::snprintf(b, sizeof b, "%.3f [%.3f, %.3f]", i.value, i.lo, i.hi);
    return b;
}

struct RunResult {
    std::map<std::string, std::map<std::string, Interval>> metrics;
    std::string auto_choice;
};

// One world: events for the catalog's training songs round by round, models fitted at the end,
// held-out songs judged.
// How many engaged tracks a model needs: the same world's events for the first n training
// tracks only (a fixed random order), fitted as hitdna learn does, judged on the same held-out
// songs. N is the smallest n whose bootstrap 95 % interval of Spearman lies above 0 (the mean
// baseline's), for every size from there on.
void learning_curve(const std::vector<int64_t>& ids, const std::string& base_db, const std::string& work, std::vector<size_t> train,
                    const std::vector<std::pair<size_t, learn::Event>>& events, const std::vector<size_t>& judged, const Outcome& o, uint64_t seed, int B) {
    std::shuffle(train.begin(), train.end(), std::mt19937_64(seed + 7));
    std::printf("\nLearning curve (engaged tracks -> held-out Spearman of ridge and xgboost, bootstrap 95 %%):\n");
    std::printf("| engaged tracks | ridge | xgboost |\n|---|---|---|\n");
    std::map<std::string, int> first_ok;
    for (size_t n : {30, 50, 75, 100, 150, 200, 300, 500, 1000}) {
        if (n > train.size()) break;
        const std::set<size_t> keep(train.begin(), train.begin() + long(n));
        const std::string db = work + "/curve.db";
        for (const char* ext : {"", "-wal", "-shm"}) fs::remove(db + ext);
        fs::copy_file(base_db, db);
        store::Catalog cat(db, store::Catalog::Mode::read_write);
        std::vector<learn::Event> ev;
        for (const auto& [i, e] : events)
            if (keep.count(i)) ev.push_back(e);
        learn::apply_events(cat, ev, {});
        std::map<std::string, std::pair<std::vector<double>, std::vector<double>>> preds;
        for (const char* kind : {"ridge", "xgboost"}) {
            learn::FitOptions fo;
            fo.kind = kind;
            fo.seed = seed;
            const auto m = learn::fit(cat, fo);
            std::vector<double> p, h;
            for (size_t i : judged) {
                const auto pr = learn::predict(m, learn::features_of_track(cat, ids[i]), false);
                p.push_back(pr.engagement), h.push_back(pr.hit_score.value_or(0.5));
            }
            preds[kind] = {p, h};
        }
        const auto met = bootstrap(preds, o, B, seed + 5);
        std::printf("| %zu | %s | %s |\n", n, fmt(met.at("ridge").at("spearman")).c_str(), fmt(met.at("xgboost").at("spearman")).c_str());
        for (const char* kind : {"ridge", "xgboost"}) {
            if (met.at(kind).at("spearman").lo > 0) first_ok.emplace(kind, int(n));
            else first_ok.erase(kind);  // must hold from there on
        }
        std::fflush(stdout);
    }
    for (const auto& [kind, n] : first_ok) std::printf("N (%s): %d engaged tracks give a held-out Spearman above 0 with 95 %% confidence\n", kind.c_str(), n);
}

RunResult run_world(const Corpus& c, const std::vector<int64_t>& ids, const std::string& base_db, const std::string& work, const sim::Config& cfg,
                    const sim::RuleSet& rs, uint64_t seed, int B, bool curve) {
    const std::string db = work + "/run.db";
    for (const char* ext : {"", "-wal", "-shm"}) fs::remove(db + ext);
    fs::copy_file(base_db, db);
    store::Catalog cat(db, store::Catalog::Mode::read_write);
    // Songs split 75 / 25 (every variant of a song on the same side).
    std::vector<std::string> songs(c.song.begin(), c.song.end());
    std::sort(songs.begin(), songs.end());
    songs.erase(std::unique(songs.begin(), songs.end()), songs.end());
    std::shuffle(songs.begin(), songs.end(), std::mt19937_64(seed));
    const std::set<std::string> held_songs(songs.begin(), songs.begin() + long(songs.size() / 4));
    std::vector<size_t> train, held;
    for (size_t i = 0; i < c.lines.size(); ++i) (held_songs.count(c.song[i]) ? held : train).push_back(i);

    sim::World world(rs, cfg.listeners, c.fields, seed);
    const double threshold = learn::k_promote_score;
    std::printf("\n### %s, seed %llu: %zu catalog tracks (%zu songs), %zu held-out tracks (%zu songs)\n", rs.name.c_str(), (unsigned long long)seed,
                train.size(), songs.size() - held_songs.size(), held.size(), held_songs.size());
    std::printf("| round | events | tracks with plays | truly engaging | promoted | recall | promoted that do not truly engage |\n|---|---|---|---|---|---|---|\n");
    int64_t events_total = 0;
    std::vector<std::pair<size_t, learn::Event>> all_events;  // kept for the learning curve
    for (int r = 1; r <= cfg.rounds; ++r) {
        std::vector<learn::Event> events;
        for (auto& [i, e] : world.listen(train, r, ids, "s" + std::to_string(seed))) events.push_back(e), all_events.push_back({i, e});
        events_total += learn::apply_events(cat, events, {}).applied;
        int truly = 0, promoted = 0, hit = 0, false_promoted = 0, with_plays = 0;
        for (size_t i : train) {
            const bool t = world.expected_score(i, r) >= threshold;
            const auto e = learn::engagement_of(cat, ids[i]);
            const bool p = e && e->engagement.promoted;
            with_plays += e.has_value();
            truly += t, promoted += p, hit += t && p, false_promoted += p && !t;
        }
        std::printf("| %d | %lld | %d | %d | %d | %.3f | %d (%.1f %% of promoted) |\n", r, (long long)events_total, with_plays, truly, promoted,
                    truly ? double(hit) / truly : 0.0, false_promoted, promoted ? 100.0 * false_promoted / promoted : 0.0);
    }
    // Held-out songs: released into the same world for the same rounds.
    Outcome o;
    std::map<size_t, learn::Totals> held_totals;
    for (int r = 1; r <= cfg.rounds; ++r)
        for (const auto& [i, e] : world.listen(held, r, ids, "held")) {
            auto& t = held_totals[i];
            t.plays += e.plays, t.likes += e.likes, t.shares += e.shares, t.skips += e.skips;
            if (e.completion) t.completed += *e.completion * double(e.plays), t.completion_plays += e.plays;
        }
    std::vector<size_t> judged;
    for (size_t i : held) {
        const auto s = learn::score(held_totals[i]);
        o.expected.push_back(world.expected_score(i, cfg.rounds));
        o.observed.push_back(s.score);
        o.promoted.push_back(s.promoted ? 1.0 : 0.0);
        judged.push_back(i);
    }
    // Models, fitted as hitdna learn does, and the mean baseline.
    std::map<std::string, std::pair<std::vector<double>, std::vector<double>>> preds;
    double mean = 0, rate = 0;
    int n_train = 0;
    for (size_t i : train)
        if (auto e = learn::engagement_of(cat, ids[i])) mean += e->engagement.score, rate += e->engagement.promoted, ++n_train;
    preds["mean"] = {std::vector<double>(judged.size(), mean / n_train), std::vector<double>(judged.size(), rate / n_train)};
    RunResult res;
    std::vector<std::string> xgb_effects;
    for (const char* kind : {"ols", "ridge", "knn", "xgboost", "auto"}) {
        learn::FitOptions fo;
        fo.kind = kind;
        fo.seed = seed;
        const auto t0 = std::chrono::steady_clock::now();
        const learn::Model m = learn::fit(cat, fo);
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::vector<double> p, h;
        for (size_t i : judged) {
            const auto pr = learn::predict(m, learn::features_of_track(cat, ids[i]), false);
            p.push_back(pr.engagement), h.push_back(pr.hit_score.value_or(rate / n_train));
        }
        const std::string name = std::string(kind) == "auto" ? "auto (" + m.kind + ")" : kind;
        if (std::string(kind) == "auto") res.auto_choice = m.kind;
        if (std::string(kind) == "xgboost") xgb_effects = m.effects;
        for (const auto& cand : m.candidates)
            if (cand.r2_minus_ridge)
                std::fprintf(stderr, "bench_learn: %s seed %llu auto: %s held-out R^2 %.3f, minus ridge's %+.3f..%+.3f (90 %%)\n", rs.name.c_str(),
                             (unsigned long long)seed, cand.kind.c_str(), cand.r2, cand.r2_minus_ridge->first, cand.r2_minus_ridge->second);
        preds[name] = {p, h};
        std::fprintf(stderr, "bench_learn: %s %s seed %llu fitted in %.1f s\n", rs.name.c_str(), kind, (unsigned long long)seed, secs);
    }
    res.metrics = bootstrap(preds, o, B, seed + 99);
    if (curve) learning_curve(ids, base_db, work, train, all_events, judged, o, seed, B);
    std::printf("\n| model | Spearman vs expected engagement | R^2 vs earned engagement | Brier (hit score) | ECE (hit score) |\n|---|---|---|---|---|\n");
    for (const auto& [name, m] : res.metrics)
        std::printf("| %s | %s | %s | %s | %s |\n", name.c_str(), fmt(m.at("spearman")).c_str(), fmt(m.at("r2")).c_str(), fmt(m.at("brier")).c_str(),
                    fmt(m.at("ece")).c_str());
    // Ceilings: the world's own expected engagement as the prediction, and the part of it the
    // DNA can tell (Brier and ECE do not apply: neither is a probability of promotion).
    {
        std::vector<double> dna_part;
        for (size_t i : judged) dna_part.push_back(world.dna_expected_score(i, cfg.rounds));
        const std::vector<double> flat(o.expected.size(), rate / n_train);
        const auto ceil = bootstrap({{"all", {o.expected, flat}}, {"dna", {dna_part, flat}}}, o, B, seed + 99);
        std::printf("\nCeilings, R^2 against the engagement the held-out tracks earned: the world's expected engagement %s (all it knows but the "
                    "listeners' draws); its part the DNA can tell (without each track's own noise, sd %.2f) %s: the best a model of the DNA can do.\n",
                    fmt(ceil.at("all").at("r2")).c_str(), rs.track_noise_sd, fmt(ceil.at("dna").at("r2")).c_str());
    }
    // What the xgboost model says about itself (hitdna weights), beside the hidden rules.
    std::printf("\nHidden rules:");
    for (const auto& t : rs.terms) std::printf(" %s (weight %.2f);", t.note.c_str(), t.weight);
    std::printf("\nxgboost's partial dependence (hitdna weights):\n");
    for (const auto& e : xgb_effects) std::printf("- %s\n", e.c_str());
    return res;
}

// The speed goal: learn on N tracks with M events (built once in DIR/scale.db), each kind in
// process, then `hitdna learn` as a user runs it (wall time and peak memory).
int run_scale(const std::string& work, int n, int64_t m_events) {
    using Clock = std::chrono::steady_clock;
    const std::string db = work + "/scale.db";
    if (!fs::exists(db)) {
        const auto t0 = Clock::now();
        store::Catalog cat(db, store::Catalog::Mode::read_write);
        cat.set_durable_commits(false);  // building the fixture only
        const auto base = test::tone_dna();
        std::vector<int64_t> ids;
        for (int i = 0; i < n; ++i) ids.push_back(test::put_synthetic_track(cat, base, i, 1, 23));
        std::printf("catalog: %d synthetic tracks in %.1f s\n", n, std::chrono::duration<double>(Clock::now() - t0).count());
        // Engagement follows an interaction of two dimensions; M events spread over the tracks.
        const auto t1 = Clock::now();
        std::mt19937_64 rng(3);
        std::normal_distribution<double> g(0, 1);
        const int64_t per_track = std::max<int64_t>(1, m_events / n);
        int64_t applied = 0;
        std::vector<learn::Event> batch;
        for (int i = 0; i < n; ++i) {
            const auto f = learn::features_of_track(cat, ids[size_t(i)]);
            const double y = 1 / (1 + std::exp(-(2.0 * (f[0] > 0.5 && f[20] < 0.45) + 0.8 * (f[40] - 0.5) / 0.2 - 0.5 + 0.5 * g(rng))));
            for (int64_t e = 0; e < per_track; ++e) {
                learn::Event ev;
                ev.id = "x" + std::to_string(i) + "-" + std::to_string(e);
                ev.track = std::to_string(ids[size_t(i)]);
                ev.plays = 5;
                ev.completion = std::clamp(0.3 + 0.6 * y + 0.1 * g(rng), 0.0, 1.0);
                ev.likes = int64_t(std::lround(5 * std::clamp(0.02 + 0.2 * y + 0.05 * g(rng), 0.0, 1.0)));
                ev.skips = int64_t(std::lround(5 * std::clamp(0.45 - 0.35 * y + 0.05 * g(rng), 0.0, 1.0)));
                batch.push_back(ev);
            }
            if (batch.size() >= 200000 || i + 1 == n) {
                applied += learn::apply_events(cat, batch, {}).applied;
                batch.clear();
            }
        }
        std::printf("events: %lld applied in %.1f s\n", (long long)applied, std::chrono::duration<double>(Clock::now() - t1).count());
    }
    store::Catalog cat(db, store::Catalog::Mode::read_write);
    std::printf("| kind | fit (in process) | held-out R^2 | held-out Spearman |\n|---|---|---|---|\n");
    for (const char* kind : {"ridge", "knn", "xgboost", "auto"}) {
        learn::FitOptions fo;
        fo.kind = kind;
        const auto t0 = Clock::now();
        const auto m = learn::fit(cat, fo);
        std::printf("| %s | %.1f s | %.3f | %.3f |\n", kind, std::chrono::duration<double>(Clock::now() - t0).count(), m.holdout.r2, m.holdout.spearman);
        std::fflush(stdout);
    }
    const std::string cmd = std::string("/usr/bin/time -f '%e s wall, %M kB peak' ") + HITDNA_BIN + " learn --db " + db + " -f json > /dev/null";
    std::printf("hitdna learn (auto, as a user runs it): ");
    std::fflush(stdout);
    return std::system(cmd.c_str()) == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    if (bench::wants_help(argc, argv)) return bench::print_usage(k_usage, true);
    std::string work = "bench-learn", corpus, rulesets = std::string(HITDNA_SOURCE_DIR) + "/data/eval/learn/rulesets.json", only;
    size_t n_seeds = 99;
    int B = 1000, scale = 0;
    bool with_curve = false;
    int64_t events = 10000000;
    for (int i = 1; i < argc; i += 2) {
        const std::string a = argv[i];
        if (i + 1 >= argc) return bench::print_usage(k_usage, false);
        if (a == "--work") work = argv[i + 1];
        else if (a == "--corpus") corpus = argv[i + 1];
        else if (a == "--rulesets") rulesets = argv[i + 1];
        else if (a == "--only") only = argv[i + 1];
        else if (a == "--seeds") n_seeds = size_t(std::atoll(argv[i + 1]));
        else if (a == "--bootstrap") B = std::atoi(argv[i + 1]);
        else if (a == "--scale") scale = std::atoi(argv[i + 1]);
        else if (a == "--curve") with_curve = std::string(argv[i + 1]) == "yes";
        else if (a == "--events") events = std::atoll(argv[i + 1]);
        else return bench::print_usage(k_usage, false);
    }
    fs::create_directories(work);
    if (scale > 0) return run_scale(work, scale, events);
    if (corpus.empty()) {
        corpus = work + "/corpus.jsonl";
        if (!fs::exists(corpus)) {
            const std::string cmd = std::string(HITDNA_SOURCE_DIR) + "/bench/learn_corpus.sh " + HITDNA_BIN + " " + work;
            if (std::system(cmd.c_str()) != 0) return 1;
        }
    }
    const Corpus c = read_corpus(corpus);
    const sim::Config cfg = sim::load_config(rulesets);
    // The catalog, once: every analysis stored without analyzing again (ingest --dna).
    const std::string base_db = work + "/base.db";
    for (const char* ext : {"", "-wal", "-shm"}) fs::remove(base_db + ext);
    std::vector<int64_t> ids(c.lines.size(), 0);
    {
        store::Catalog cat(base_db, store::Catalog::Mode::read_write);
        std::string all;
        for (const auto& l : c.lines) all += l + "\n";
        std::istringstream in(all);
        std::ostringstream err;
        ingest::IngestOptions io;
        io.update_index = false;
        ingest::import_dna(cat, io, in, corpus, err);
        std::map<std::string, int64_t> by_path;
        for (int64_t id : cat.track_ids({})) by_path[cat.track(id)->path] = id;
        for (size_t i = 0; i < c.lines.size(); ++i) ids[i] = by_path[json::parse(c.lines[i]).value("file", "")];
    }
    std::printf("## bench_learn: %zu tracks of real DNA from %s; rule sets %s (fixed before tuning); %d rounds\n", c.lines.size(), corpus.c_str(),
                rulesets.c_str(), cfg.rounds);
    std::map<std::string, std::vector<RunResult>> results;
    for (const auto& rs : cfg.rulesets) {
        if (!only.empty() && rs.name != only) continue;
        std::printf("\n## Rule set %s: %s\n", rs.name.c_str(), rs.description.c_str());
        for (size_t s = 0; s < std::min(n_seeds, cfg.seeds.size()); ++s) results[rs.name].push_back(run_world(c, ids, base_db, work, cfg, rs, cfg.seeds[s], B, with_curve && rs.name == cfg.goal_ruleset));
    }
    // The goals, stated before tuning, on the hardest rule set (and the interaction rules).
    std::printf("\n## Goals\n");
    for (const auto& [name, runs] : results) {
        for (size_t s = 0; s < runs.size(); ++s) {
            const auto& m = runs[s].metrics;
            std::string best;
            for (const auto& [model, v] : m)
                if (model != "mean" && model != "ols" && (best.empty() || v.at("spearman").value > m.at(best).at("spearman").value)) best = model;
            const bool beats_mean = m.at(best).at("r2").lo > m.at("mean").at("r2").hi;
            const bool beats_ols = m.at(best).at("r2").lo > m.at("ols").at("r2").hi;
            const double nonlinear = std::max(m.at("knn").at("spearman").value, m.at("xgboost").at("spearman").value);
            const auto d_ols = paired(m.at(best).at("r2"), m.at("ols").at("r2"));
            const auto d_ridge = paired(m.at("xgboost").at("spearman"), m.at("ridge").at("spearman"));
            std::printf("- %s seed %zu: best by Spearman %s; R^2 interval above the mean's: %s, above OLS's: %s (paired R^2 difference with OLS "
                        "[%+.3f, %+.3f]); knn/xgboost %s ridge (%.3f vs %.3f; paired Spearman difference xgboost - ridge [%+.3f, %+.3f]); "
                        "ECE of %s %.3f (goal <= 0.05); auto chose %s\n", name.c_str(), s + 1, best.c_str(), beats_mean ? "yes" : "no",
                        beats_ols ? "yes" : "no", d_ols.first, d_ols.second, nonlinear > m.at("ridge").at("spearman").value ? "beat" : "do not beat",
                        nonlinear, m.at("ridge").at("spearman").value, d_ridge.first, d_ridge.second, best.c_str(), m.at(best).at("ece").value,
                        runs[s].auto_choice.c_str());
        }
    }
    return 0;
}
