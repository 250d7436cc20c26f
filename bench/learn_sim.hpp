#pragma once
// The learning-loop simulator shared by bench_learn and its test-sized version in the tests:
// listeners whose taste follows a hidden rule over a track's DNA (data/eval/learn/rulesets.json,
// fixed before any model was tuned) produce engagement events round by round, with exposure
// bias, per-listener noise, skips and drift. The rule reads raw DNA JSON fields, never the
// model's standardized vector dimensions, and has terms a linear model cannot express.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "hitdna/learn/engagement.hpp"

namespace hitdna::sim {

struct Term {
    std::string kind;        // linear | interaction | hinge | saturation | section
    std::string field, field2, feature;
    std::string note;        // the rule in words, as the rule-set file states it
    double weight = 0, below = 0, above = 0, cap = 0, scale = 1;
    int drift_sign = 0;
};

struct Exposure {
    double plays_per_round = 120, popularity_sd = 0.6, popularity_appeal_corr = 0, exposure_gamma = 0.5, rich_get_richer = 0;
    double completion_report_base = 0.5, completion_report_plays = 400;
};

struct RuleSet {
    std::string name, description;
    std::vector<Term> terms;
    double track_noise_sd = 0.5, drift_per_round = 0, bpm_drift_per_round = 0;
    Exposure exposure;
};

struct Listeners {
    double listener_sd = 1, like_scale = 0.3, share_scale = 0.06, skip_scale = 0.7;
};

struct Config {
    std::vector<uint64_t> seeds;
    int rounds = 4;
    Listeners listeners;
    std::string goal_ruleset;
    std::vector<RuleSet> rulesets;
};

Config load_config(const std::string& path);

// The DNA fields the rules read, from one analysis (hitdna analyze -f json); NaN when absent.
using Fields = std::map<std::string, double>;
Fields fields_of(const nlohmann::json& dna);

// One world: a rule set, the population it is standardized on, a seed.
class World {
public:
    World(const RuleSet& rules, const Listeners& listeners, const std::vector<Fields>& population, uint64_t seed);
    // Appeal of track i in round r (1-based): the rule's terms plus the track's own noise.
    double appeal(size_t i, int round) const;
    // The engagement score hitdna would compute from `plays` plays of track i in round r with
    // no sampling noise beyond the listeners' (the expected rates): the truth a model aims at.
    double expected_score(size_t i, int round) const;
    // The part of it the DNA can tell: the expected score averaged over the track's own noise
    // too (the rule's terms only; the noise and the listeners' spread are both normal and add
    // inside the sigmoid). The best any model of the track's fields can do on average.
    double dna_expected_score(size_t i, int round) const;
    // One round of listening for tracks `which`: (track index, event) pairs, one or two events
    // per track with plays (plays that reported a completion, plays that did not), ids tagged
    // with `tag`; `track_id[i]` names the catalog track.
    std::vector<std::pair<size_t, learn::Event>> listen(const std::vector<size_t>& which, int round, const std::vector<int64_t>& track_id,
                                                        const std::string& tag);
    const RuleSet& rules() const { return m_rules; }

private:
    // The engagement score of expected rates sigmoid(a + u), u ~ N(0, sd).
    double score_of(double a, double sd) const;

public:

private:
    double term_value(const Term& t, const Fields& f, int round) const;
    RuleSet m_rules;
    Listeners m_listeners;
    const std::vector<Fields>& m_pop;
    std::map<std::string, double> m_mean, m_sd, m_p90;
    std::vector<double> m_noise, m_popularity;
    std::vector<learn::Totals> m_seen;  // per track: what listeners did so far
    std::mt19937_64 m_rng;
};

}  // namespace hitdna::sim
