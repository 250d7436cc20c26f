// bench_learn: pattern weights on a simulated population. N catalog tracks get random DNA
// vectors; a hidden rule over five dimensions (plus noise) decides how listeners engage;
// engagement arrives as events through hitdna's feedback path; the model is fitted as
// `hitdna learn` does and judged on fresh tracks it has never seen: Spearman correlation of
// the predicted engagement with the hidden rule. Peer: the observed engagement score itself
// (available only for catalog tracks).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <numeric>
#include <optional>
#include <sstream>
#include <random>
#include <string>

#include "usage.hpp"
#include "hitdna/analysis/analyze.hpp"
#include "hitdna/learn/engagement.hpp"
#include "hitdna/learn/model.hpp"
#include "hitdna/match/match.hpp"

using namespace hitdna;
namespace fs = std::filesystem;

namespace {

double spearman(const std::vector<double>& a, const std::vector<double>& b) {
    auto ranks = [](const std::vector<double>& v) {
        std::vector<size_t> idx(v.size());
        std::iota(idx.begin(), idx.end(), 0);
        std::sort(idx.begin(), idx.end(), [&](size_t x, size_t y) { return v[x] < v[y]; });
        std::vector<double> r(v.size());
        for (size_t i = 0; i < idx.size();) {  // ties share their average rank
            size_t j = i;
            while (j + 1 < idx.size() && v[idx[j + 1]] == v[idx[i]]) ++j;
            for (size_t k = i; k <= j; ++k) r[idx[k]] = (double(i) + double(j)) / 2;
            i = j + 1;
        }
        return r;
    };
    auto ra = ranks(a), rb = ranks(b);
    const double n = double(a.size());
    double ma = (n - 1) / 2, sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < a.size(); ++i) sab += (ra[i] - ma) * (rb[i] - ma), saa += (ra[i] - ma) * (ra[i] - ma), sbb += (rb[i] - ma) * (rb[i] - ma);
    return sab / std::sqrt(saa * sbb);
}

}  // namespace

constexpr const char* k_usage =
    "bench_learn: the learning loop on a simulated population (fit, rank correlation on fresh tracks).\n"
    "usage: bench_learn [--tracks N] [--work DIR]\n";

int main(int argc, char** argv) {
    if (bench::wants_help(argc, argv)) return bench::print_usage(k_usage, true);
    size_t n = 400, fresh = 200;
    std::string work = "bench-learn";
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string a = argv[i];
        if (a == "--tracks") n = size_t(std::atoll(argv[i + 1]));
        else if (a == "--work") work = argv[i + 1];
        else {
            return bench::print_usage(k_usage, false);
        }
    }
    fs::remove_all(work);
    fs::create_directories(work);
    std::vector<float> tone(22050 * 4);
    for (size_t i = 0; i < tone.size(); ++i) tone[i] = 0.3f * float(std::sin(2 * 3.14159265 * 220 * double(i) / 22050));
    const auto base = analysis::analyze_samples(tone.data(), tone.size(), 22050, 1, "tone");
    std::mt19937 rng(5);
    std::normal_distribution<double> g(0, 1);
    // Vectors: each dimension around a plausible centre, 0.2 spread.
    auto random_vectors = [&](dna::Vectors v) {
        for (auto* x : {&v.audio, &v.structure, &v.emotion, &v.production})
            for (auto& e : *x) e = float(0.5 + 0.2 * g(rng));
        return v;
    };
    // The hidden rule: faster, earlier hook, more intense, more sub, more groove.
    auto hidden = [](const dna::Vectors& v) {
        const double q = 1.2 * (v.audio[0] - 0.5) / 0.2 - 1.0 * (v.structure[2] - 0.5) / 0.2 + 0.8 * (v.emotion[3] - 0.5) / 0.2 +
                         0.6 * (v.production[0] - 0.5) / 0.2 + 0.7 * (v.audio[11] - 0.5) / 0.2;
        return 1 / (1 + std::exp(-q / 1.5));
    };
    store::Catalog cat(work + "/learn.db", store::Catalog::Mode::read_write);
    std::vector<learn::Event> events;
    std::vector<double> truth, observed;
    std::vector<int64_t> ids;
    for (size_t i = 0; i < n; ++i) {
        dna::Dna d = base;
        d.vectors = random_vectors(base.vectors);
        const double y = hidden(d.vectors);
        store::TrackMeta m;
        m.title = "sim " + std::to_string(i);
        const int64_t id = cat.put_track("sim-" + std::to_string(i), "/sim/" + std::to_string(i), m, d);
        ids.push_back(id);
        truth.push_back(y);
        // Listeners: noisy rates that follow the rule.
        const int64_t plays = 200 + int64_t(rng() % 1800);
        auto noisy = [&](double p) { return std::clamp(p * std::exp(0.25 * g(rng)), 0.0, 1.0); };
        learn::Event e;
        e.id = "sim-" + std::to_string(i);
        e.track = std::to_string(id);
        e.plays = plays;
        e.completion = std::clamp(0.35 + 0.5 * y + 0.08 * g(rng), 0.0, 1.0);
        e.likes = int64_t(double(plays) * noisy(0.03 + 0.25 * y));
        e.shares = int64_t(double(plays) * noisy(0.005 + 0.06 * y));
        e.skips = int64_t(double(plays) * noisy(0.45 - 0.35 * y));
        events.push_back(e);
    }
    // Drift: enrich's hit weights for 10 queries (each a track's 20 nearest by --track), as
    // feedback arrives in rounds of a quarter of the population and the model is refitted.
    // Alignment = the weight-averaged hidden-rule engagement of the hits minus their plain
    // average: how far the aggregate moves toward what listeners reward (0..1 scale).
    auto alignment = [&](const std::optional<learn::Model>& model) {
        double total = 0;
        for (int q = 0; q < 10; ++q) {
            match::MatchOptions mo;
            mo.track = std::to_string(ids[size_t(q * 37) % ids.size()]);
            mo.k = 20;
            std::ostringstream warn;
            auto rep = match::run_match(cat, mo, warn);
            double wsum = 0, wy = 0, plain = 0;
            for (const auto& res : rep.results) {
                const double w = res.score * (model ? learn::pattern_factor(*model, cat, res.track.id) : 1.0);
                const double y = truth[size_t(res.track.id - ids.front())];
                wsum += w, wy += w * y, plain += y;
            }
            if (!rep.results.empty()) total += wy / wsum - plain / double(rep.results.size());
        }
        return total / 10;
    };
    std::vector<std::pair<int, double>> drift = {{0, alignment(std::nullopt)}};
    auto t0 = std::chrono::steady_clock::now();
    learn::ApplyResult r;
    for (int round = 1; round <= 4; ++round) {
        std::vector<learn::Event> part(events.begin() + long(events.size() * size_t(round - 1) / 4), events.begin() + long(events.size() * size_t(round) / 4));
        r.applied += learn::apply_events(cat, part, {}).applied;
        if (int64_t(events.size() * size_t(round) / 4) >= learn::k_min_tracks) drift.push_back({round, alignment(learn::save(cat, learn::fit(cat)))});
    }
    const double apply_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (int64_t id : ids) observed.push_back(learn::engagement_of(cat, id)->engagement.score);
    t0 = std::chrono::steady_clock::now();
    auto model = learn::save(cat, learn::fit(cat));
    const double fit_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    // Fresh tracks the model never saw.
    std::vector<double> fresh_truth, fresh_pred, fresh_hit;
    for (size_t i = 0; i < fresh; ++i) {
        auto v = random_vectors(base.vectors);
        fresh_truth.push_back(hidden(v));
        auto p = learn::predict(model, learn::features_of(v));
        fresh_pred.push_back(p.engagement);
        fresh_hit.push_back(p.hit_score.value_or(p.engagement));
    }
    // Calibration: among fresh tracks, how often the hidden rule's expected engagement reaches
    // the promotion score, by hit-score band.
    std::printf("## Simulated population: %zu tracks, hidden rule over 5 of 76 dimensions, one noisy event per track, in 4 rounds with a refit after each (%lld applied, refits and drift queries %.2f s)\n", n,
                (long long)r.applied, apply_s);
    std::printf("model v%lld: fitted in %.2f s, penalty %.1f, cross-validated R^2 %.2f, %lld tracks at or above the promotion score\n", (long long)model.version,
                fit_s, model.lambda, model.cv_r2, (long long)model.n_successful);
    std::printf("| measure | Spearman vs the hidden rule | goal |\n|---|---|---|\n");
    std::printf("| learned prediction, %zu fresh tracks never seen | **%.3f** | >= 0.7 |\n", fresh, spearman(fresh_pred, fresh_truth));
    std::printf("| hit score (calibrated), same fresh tracks | %.3f | — |\n", spearman(fresh_hit, fresh_truth));
    std::printf("| peer: observed engagement score, catalog tracks | %.3f | — |\n", spearman(observed, truth));
    // The rule's dimensions should carry the largest weights.
    std::vector<const learn::Feature*> fs;
    for (const auto& f : model.features) fs.push_back(&f);
    std::sort(fs.begin(), fs.end(), [](auto* a, auto* b) { return std::abs(a->weight) / (a->se + 1e-12) > std::abs(b->weight) / (b->se + 1e-12); });
    std::printf("strongest weights (weight ± SE per SD):");
    for (size_t i = 0; i < 6; ++i) std::printf(" %s %+.3f±%.3f;", fs[i]->name.c_str(), fs[i]->weight, fs[i]->se);
    std::printf("\n(hidden rule: +audio.tempo_log2, -structure.first_hook_rel, +emotion.intensity_mean, +production.sub_presence, +audio.groove)\n");
    std::printf("enrich drift over feedback rounds (hit-weighted minus plain mean hidden-rule engagement of each query's 20 hits, 10 queries):");
    for (auto& [round, a] : drift) std::printf(" round %d %+.4f;", round, a);
    std::printf("\n");
    return 0;
}
