// The learning simulator (bench/learn_sim, bench_learn's world) at test size: its mechanics
// (determinism, exposure bias, completion reported more often for tracks with more plays,
// the expected score) and the loop end to end on analyzed audio: events through the feedback
// path, a model fitted as hitdna learn does, judged on songs it never saw.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "hitdna/analysis/analyze.hpp"
#include "hitdna/dna/json.hpp"
#include "hitdna/learn/model.hpp"
#include "hitdna/store/catalog.hpp"
#include "helpers.hpp"
#include "learn_sim.hpp"
#include "signals.hpp"

using namespace hitdna;

namespace {

const sim::Config& config() {
    static const sim::Config c = sim::load_config(std::string(HITDNA_SOURCE_DIR) + "/data/eval/learn/rulesets.json");
    return c;
}

const sim::RuleSet& ruleset(const std::string& name) {
    for (const auto& r : config().rulesets)
        if (r.name == name) return r;
    throw std::runtime_error("no rule set " + name);
}

// Analyzed toy songs (seven tempos, twelve roots, two progressions): DNA and its fields.
struct Population {
    std::vector<dna::Dna> dnas;
    std::vector<sim::Fields> fields;
};

const Population& population() {
    static const Population pop = [] {
        Population p;
        for (int v = 0; v < 80; ++v) {
            auto s = test::toy_song(v, 16);
            p.dnas.push_back(analysis::analyze_samples(s.samples.data(), s.frames(), s.rate, s.channels, "toy" + std::to_string(v)));
            p.fields.push_back(sim::fields_of(nlohmann::json::parse(dna::to_json_string(p.dnas.back(), false, -1))));
        }
        return p;
    }();
    return pop;
}

}  // namespace

TEST_CASE("learning simulator: deterministic per seed, exposure bias, completion reported more as plays grow") {
    const auto& pop = population();
    std::vector<size_t> all(pop.fields.size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = i;
    std::vector<int64_t> ids(all.size());
    for (size_t i = 0; i < ids.size(); ++i) ids[i] = int64_t(i + 1);
    // Same seed, same events; another seed, others.
    sim::World a(ruleset("hardest"), config().listeners, pop.fields, 1601), b(ruleset("hardest"), config().listeners, pop.fields, 1601),
        c(ruleset("hardest"), config().listeners, pop.fields, 1602);
    const auto ea = a.listen(all, 1, ids, "x"), eb = b.listen(all, 1, ids, "x"), ec = c.listen(all, 1, ids, "x");
    REQUIRE(ea.size() == eb.size());
    for (size_t i = 0; i < ea.size(); ++i) CHECK(ea[i].second.plays == eb[i].second.plays);
    bool differs = ea.size() != ec.size();
    for (size_t i = 0; i < std::min(ea.size(), ec.size()) && !differs; ++i) differs = ea[i].second.plays != ec[i].second.plays;
    CHECK(differs);
    // Exposure: the biased world concentrates plays (rich get richer); the mild one less.
    auto spread = [&](const std::string& name) {
        sim::World w(ruleset(name), config().listeners, pop.fields, 1601);
        std::map<size_t, double> plays, reported;
        for (int r = 1; r <= 4; ++r)
            for (const auto& [i, e] : w.listen(all, r, ids, "s")) plays[i] += double(e.plays), reported[i] += e.completion ? double(e.plays) : 0.0;
        std::vector<double> p;
        for (auto& [i, n] : plays) p.push_back(n);
        std::sort(p.begin(), p.end());
        // Completion is reported for a larger share of the plays of the most played tracks.
        std::vector<std::pair<double, double>> share;
        for (auto& [i, n] : plays) share.push_back({n, reported[i] / n});
        std::sort(share.begin(), share.end());
        double low = 0, high = 0;
        const size_t q = share.size() / 4;
        for (size_t k = 0; k < q; ++k) low += share[k].second / double(q), high += share[share.size() - 1 - k].second / double(q);
        return std::make_tuple(p[p.size() * 9 / 10] / std::max(1.0, p[p.size() / 10]), low, high);
    };
    const auto [mild_ratio, mild_low, mild_high] = spread("linear");
    const auto [biased_ratio, biased_low, biased_high] = spread("hardest");
    MESSAGE("p90/p10 plays: mild " << mild_ratio << ", biased " << biased_ratio << "; completion reported, least/most played quarter: mild "
            << mild_low << "/" << mild_high << ", biased " << biased_low << "/" << biased_high);
    CHECK(biased_ratio > 2 * mild_ratio);
    CHECK(biased_high > biased_low + 0.1);
    CHECK(mild_high >= mild_low);
    // The expected score rises with appeal and stays in 0..1.
    sim::World w(ruleset("linear"), config().listeners, pop.fields, 1601);
    std::vector<std::pair<double, double>> ae;
    for (size_t i : all) ae.push_back({w.appeal(i, 1), w.expected_score(i, 1)});
    std::sort(ae.begin(), ae.end());
    for (size_t i = 1; i < ae.size(); ++i) CHECK(ae[i].second >= ae[i - 1].second - 1e-12);
    CHECK(ae.front().second >= 0);
    CHECK(ae.back().second <= 1);
}

TEST_CASE("learning simulator: events through the feedback path, a model, judged on songs it never saw") {
    const auto& pop = population();
    test::TempDir dir;
    store::Catalog cat(dir.file("sim.db"), store::Catalog::Mode::read_write);
    std::vector<int64_t> ids;
    for (size_t i = 0; i < pop.dnas.size(); ++i) ids.push_back(cat.put_track("toy" + std::to_string(i), "/toy" + std::to_string(i), store::TrackMeta{}, pop.dnas[i]));
    std::vector<size_t> train, held;
    for (size_t i = 0; i < ids.size(); ++i) (i % 4 == 3 ? held : train).push_back(i);
    sim::World w(ruleset("linear"), config().listeners, pop.fields, 1601);
    for (int r = 1; r <= 4; ++r) {
        std::vector<learn::Event> events;
        for (auto& [i, e] : w.listen(train, r, ids, "t")) events.push_back(e);
        learn::apply_events(cat, events, {});
    }
    std::vector<double> expected;
    for (size_t i : held) expected.push_back(w.expected_score(i, 4));
    for (const char* kind : {"ridge", "xgboost", "knn"}) {
        learn::FitOptions o;
        o.kind = kind;
        const auto m = learn::fit(cat, o);
        std::vector<double> pred;
        for (size_t i : held) pred.push_back(learn::predict(m, learn::features_of_track(cat, ids[i])).engagement);
        // Rank agreement with the world's expected engagement on the 20 unseen songs.
        double agree = 0, pairs = 0;
        for (size_t x = 0; x < pred.size(); ++x)
            for (size_t y = x + 1; y < pred.size(); ++y)
                if (expected[x] != expected[y]) agree += ((pred[x] - pred[y]) * (expected[x] - expected[y]) > 0), ++pairs;
        MESSAGE(std::string(kind) << ": concordant pairs " << agree << " of " << pairs);
        CHECK(agree / pairs > 0.6);  // 0.5 is chance
    }
}
