#include "learn_sim.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <stdexcept>

namespace hitdna::sim {
namespace {

using json = nlohmann::json;
constexpr double k_nan = std::numeric_limits<double>::quiet_NaN();

double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

void flatten(const json& j, const std::string& prefix, Fields& out) {
    for (auto it = j.begin(); it != j.end(); ++it) {
        const std::string name = prefix.empty() ? it.key() : prefix + "." + it.key();
        if (it->is_object()) flatten(*it, name, out);
        else if (it->is_number()) out[name] = it->get<double>();
        else if (it->is_null()) out[name] = k_nan;
    }
}

double get(const Fields& f, const std::string& k) {
    auto it = f.find(k);
    return it == f.end() ? k_nan : it->second;
}

}  // namespace

Config load_config(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error(path + ": cannot read");
    const json j = json::parse(in);
    Config c;
    c.seeds = j.at("seeds").get<std::vector<uint64_t>>();
    c.rounds = j.at("rounds");
    const json& l = j.at("listeners");
    c.listeners = {l.at("listener_sd"), l.at("like_scale"), l.at("share_scale"), l.at("skip_scale")};
    c.goal_ruleset = j.at("goal_ruleset");
    for (const auto& r : j.at("rulesets")) {
        RuleSet rs;
        rs.name = r.at("name");
        rs.description = r.at("description");
        rs.track_noise_sd = r.at("track_noise_sd");
        rs.drift_per_round = r.at("drift_per_round");
        rs.bpm_drift_per_round = r.at("bpm_drift_per_round");
        const json& e = r.at("exposure");
        rs.exposure = {e.at("plays_per_round"), e.at("popularity_sd"), e.at("popularity_appeal_corr"), e.at("exposure_gamma"),
                       e.at("rich_get_richer"), e.at("completion_report_base"), e.at("completion_report_plays")};
        for (const auto& t : r.at("terms")) {
            Term term;
            term.kind = t.at("kind");
            term.field = t.value("field", "");
            term.field2 = t.value("field2", "");
            term.feature = t.value("feature", "");
            term.weight = t.at("weight");
            term.below = t.value("below", 0.0);
            term.above = t.value("above", 0.0);
            term.cap = t.value("cap", 0.0);
            term.scale = t.value("scale", 1.0);
            term.drift_sign = t.value("drift_sign", 0);
            term.note = t.value("note", "");
            rs.terms.push_back(term);
        }
        c.rulesets.push_back(rs);
    }
    return c;
}

Fields fields_of(const json& dna) {
    Fields f;
    for (const char* layer : {"audio", "structure", "emotion", "production"})
        if (dna.contains(layer)) flatten(dna[layer], layer, f);
    // Section-level features: how much louder the hook sections are than the rest (LU), and
    // how long a first section labelled intro lasts (s).
    double hook = 0, other = 0;
    int n_hook = 0, n_other = 0;
    const json sections = dna.contains("structure") ? dna["structure"].value("sections", json::array()) : json::array();
    for (const auto& s : sections) {
        const double e = s.value("energy_lufs", -70.0);
        if (s.value("role", "") == "hook") hook += e, ++n_hook;
        else other += e, ++n_other;
    }
    f["hook_lift_lu"] = n_hook && n_other ? hook / n_hook - other / n_other : 0.0;
    f["intro_s"] = !sections.empty() && sections[0].value("role", "") == "intro" ? sections[0].value("end_s", 0.0) - sections[0].value("start_s", 0.0) : 0.0;
    return f;
}

World::World(const RuleSet& rules, const Listeners& listeners, const std::vector<Fields>& population, uint64_t seed)
    : m_rules(rules), m_listeners(listeners), m_pop(population), m_seen(population.size()), m_rng(seed) {
    // Population statistics of every field a term reads (hinges: of the capped value).
    for (const auto& t : m_rules.terms) {
        for (const std::string& k : {t.field, t.field2}) {
            if (k.empty()) continue;
            std::vector<double> v;
            for (const auto& f : m_pop) {
                double x = get(f, k);
                if (!std::isfinite(x)) continue;
                v.push_back(t.kind == "hinge" && k == t.field ? std::min(x, t.cap) : x);
            }
            if (v.empty()) continue;
            double mean = 0, var = 0;
            for (double x : v) mean += x;
            mean /= double(v.size());
            for (double x : v) var += (x - mean) * (x - mean);
            const std::string key = (t.kind == "hinge" && k == t.field ? "cap:" : "") + k;
            m_mean[key] = mean;
            m_sd[key] = std::sqrt(var / double(v.size())) + 1e-12;
            std::sort(v.begin(), v.end());
            m_p90[key] = v[size_t(0.9 * double(v.size() - 1))];
        }
    }
    std::normal_distribution<double> g(0, 1);
    for (size_t i = 0; i < m_pop.size(); ++i) m_noise.push_back(m_rules.track_noise_sd * g(m_rng));
    // Popularity at release: lognormal, partly following the track's appeal.
    std::vector<double> a0;
    for (size_t i = 0; i < m_pop.size(); ++i) a0.push_back(appeal(i, 1));
    double mean = 0, var = 0;
    for (double x : a0) mean += x;
    mean /= double(a0.size());
    for (double x : a0) var += (x - mean) * (x - mean);
    const double sd = std::sqrt(var / double(a0.size())) + 1e-12, rho = m_rules.exposure.popularity_appeal_corr;
    for (size_t i = 0; i < m_pop.size(); ++i)
        m_popularity.push_back(std::exp(m_rules.exposure.popularity_sd * (rho * (a0[i] - mean) / sd + std::sqrt(1 - rho * rho) * g(m_rng))));
}

double World::term_value(const Term& t, const Fields& f, int round) const {
    const double w = t.weight * (1 + m_rules.drift_per_round * double(round - 1) * t.drift_sign);
    const double x = t.field.empty() ? k_nan : get(f, t.field);
    if (t.kind == "linear") return std::isfinite(x) ? w * (x - m_mean.at(t.field)) / m_sd.at(t.field) : 0.0;
    if (t.kind == "interaction") {
        const double y = get(f, t.field2);
        const double above = t.above + (t.field2 == "audio.bpm" ? m_rules.bpm_drift_per_round * double(round - 1) : 0.0);
        return std::isfinite(x) && std::isfinite(y) && x < t.below && y > above ? w : 0.0;
    }
    if (t.kind == "hinge") return std::isfinite(x) ? w * (std::min(x, t.cap) - m_mean.at("cap:" + t.field)) / m_sd.at("cap:" + t.field) : 0.0;
    if (t.kind == "saturation") {
        const double top = 1 - std::exp(-std::max(m_p90.at(t.field), 1e-9) / t.scale);
        return std::isfinite(x) ? w * (1 - std::exp(-std::max(0.0, x) / t.scale)) / top : 0.0;
    }
    if (t.kind == "section") return w * std::clamp(get(f, t.feature) / t.scale, -1.0, 1.0);
    throw std::runtime_error("unknown term kind " + t.kind);
}

double World::appeal(size_t i, int round) const {
    double a = m_noise.empty() ? 0.0 : m_noise[i];
    for (const auto& t : m_rules.terms) a += term_value(t, m_pop[i], round);
    return a;
}

double World::expected_score(size_t i, int round) const { return score_of(appeal(i, round), m_listeners.listener_sd); }

double World::dna_expected_score(size_t i, int round) const {
    const double noise = m_noise.empty() ? 0.0 : m_noise[i];
    return score_of(appeal(i, round) - noise, std::hypot(m_listeners.listener_sd, m_rules.track_noise_sd));
}

double World::score_of(double a, double sd) const {
    // E[sigmoid(a + u)], u ~ N(0, sd): the normal density on a fine grid over +-6 SD.
    double q = 0, wsum = 0;
    for (int k = -600; k <= 600; ++k) {
        const double z = k / 100.0, w = std::exp(-0.5 * z * z);
        q += w * sigmoid(a + sd * z), wsum += w;
    }
    q /= wsum;
    learn::Totals t;
    const int64_t n = 100000000;
    t.plays = t.completion_plays = n;
    t.completed = q * double(n);
    t.likes = int64_t(m_listeners.like_scale * q * double(n));
    t.shares = int64_t(m_listeners.share_scale * q * double(n));
    t.skips = int64_t(m_listeners.skip_scale * (1 - q) * double(n));
    return learn::score(t).score;
}

std::vector<std::pair<size_t, learn::Event>> World::listen(const std::vector<size_t>& which, int round, const std::vector<int64_t>& track_id,
                                                           const std::string& tag) {
    std::vector<std::pair<size_t, learn::Event>> events;
    std::normal_distribution<double> g(0, 1);
    std::uniform_real_distribution<double> u01(0, 1);
    const Exposure& x = m_rules.exposure;
    for (size_t i : which) {
        learn::Totals& seen = m_seen[i];
        const double like_rate = seen.plays ? double(seen.likes) / double(seen.plays) : 0.0;
        const double mean_plays = x.plays_per_round * std::pow(m_popularity[i], x.exposure_gamma) * (1 + x.rich_get_richer * like_rate);
        const int64_t plays = std::poisson_distribution<int64_t>(std::max(1e-9, mean_plays))(m_rng);
        if (plays == 0) continue;
        const double a = appeal(i, round);
        const double report = std::min(1.0, x.completion_report_base + double(seen.plays) / x.completion_report_plays);
        int64_t likes = 0, shares = 0, skips = 0, reported = 0;
        double completed = 0;
        for (int64_t p = 0; p < plays; ++p) {
            const double q = sigmoid(a + m_listeners.listener_sd * g(m_rng));  // this listener's chance to stay
            likes += u01(m_rng) < m_listeners.like_scale * q;
            shares += u01(m_rng) < m_listeners.share_scale * q;
            skips += u01(m_rng) < m_listeners.skip_scale * (1 - q);
            if (u01(m_rng) < report) ++reported, completed += std::clamp(q + 0.05 * g(m_rng), 0.0, 1.0);
        }
        const std::string id = tag + "-r" + std::to_string(round) + "-" + std::to_string(i);
        learn::Event e;
        e.id = id;
        e.track = std::to_string(track_id[i]);
        e.plays = reported, e.likes = likes, e.shares = shares, e.skips = skips;
        if (reported) e.completion = completed / double(reported);
        if (reported) events.push_back({i, e});
        if (plays > reported) {  // the plays that reported no completion
            learn::Event rest = e;
            rest.id = id + "-nc";
            rest.plays = plays - reported, rest.likes = rest.shares = rest.skips = 0;
            rest.completion.reset();
            if (!reported) rest.likes = likes, rest.shares = shares, rest.skips = skips;
            events.push_back({i, rest});
        }
        seen.plays += plays, seen.likes += likes, seen.shares += shares, seen.skips += skips;
    }
    return events;
}

}  // namespace hitdna::sim
