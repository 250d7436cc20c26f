#!/usr/bin/python3
"""Writes data/eval/learn/rulesets.json: the hidden worlds the learning-loop simulator
(bench/bench_learn, tests/test_learn_sim.cpp) draws listeners from. Committed before any model
was tuned on them (issue 16), so that no rule was chosen because a model does well on it.

Each rule set says how appealing a track is from its DNA (raw JSON fields, never the model's
standardized vector dimensions), how listeners turn appeal into events, how exposure is biased
and how the rule drifts between feedback rounds. The simulator reads:

  appeal(track, round) = sum of terms + track_noise_sd * N(0, 1)   (one draw per track)
  term kinds (x = a DNA field, z(x) = (x - population mean) / population sd):
    linear       weight * z(x)
    interaction  weight * [x < below] * [y > above]           "early hook only helps above 115 BPM"
    hinge        weight * z(min(x, cap))                      "loud helps, until -8 LUFS"
    saturation   weight * (1 - exp(-x / scale)) / (1 - exp(-p90 / scale))   (p90 over the population)
    section      weight * clamp(section_feature / scale, -1, 1)            a section-level feature
  A listener's chance to stay with a play is sigmoid(appeal + listener_sd * N(0, 1)).
  Drift: each round, every term's weight moves by drift_per_round * sign (signs in the term),
  and interaction thresholds on bpm move by bpm_drift_per_round BPM.
  Exposure: a track's plays per round ~ Poisson(plays_per_round * popularity^exposure_gamma
  * (1 + rich_get_richer * its like rate so far)); popularity ~ lognormal(0, popularity_sd),
  correlated with appeal by popularity_appeal_corr. Completion is reported for a play with
  probability min(1, completion_report_base + plays so far / completion_report_plays).

usage: make_rulesets.py [OUT]   (default: the rulesets.json beside this script)
"""
import json, os, sys

SEEDS = [1601, 1602, 1603]

LISTENERS = {"listener_sd": 1.0, "like_scale": 0.30, "share_scale": 0.06, "skip_scale": 0.70}

EXPOSURE_MILD = {"plays_per_round": 120, "popularity_sd": 0.6, "popularity_appeal_corr": 0.0, "exposure_gamma": 0.5,
                 "rich_get_richer": 0.0, "completion_report_base": 0.5, "completion_report_plays": 400}
EXPOSURE_BIASED = {"plays_per_round": 120, "popularity_sd": 1.0, "popularity_appeal_corr": 0.3, "exposure_gamma": 1.0,
                   "rich_get_richer": 4.0, "completion_report_base": 0.1, "completion_report_plays": 300}

HOOK_FAST = {"kind": "interaction", "field": "structure.first_hook_s", "below": 30.0, "field2": "audio.bpm", "above": 115.0,
             "weight": 1.2, "drift_sign": 0, "note": "a hook before 0:30 helps only above 115 BPM"}
LOUD_CAP = {"kind": "hinge", "field": "production.integrated_lufs", "cap": -8.0, "weight": 0.6, "drift_sign": -1,
            "note": "louder helps until -8 LUFS, then stops"}
SUB_SAT = {"kind": "saturation", "field": "production.sub_presence", "scale": 0.05, "weight": 0.7, "drift_sign": 1,
           "note": "sub-bass helps with diminishing returns"}
HOOK_LIFT = {"kind": "section", "feature": "hook_lift_lu", "scale": 4.0, "weight": 0.8, "drift_sign": 0,
             "note": "the hook sections louder than the rest of the song (LU), a section-level feature"}
GROOVE = {"kind": "linear", "field": "audio.rhythm.groove", "weight": 0.5, "drift_sign": 0, "note": "more groove"}
VALENCE = {"kind": "linear", "field": "emotion.valence", "weight": -0.3, "drift_sign": 1, "note": "darker songs do a little better"}
INTRO = {"kind": "section", "feature": "intro_s", "scale": 20.0, "weight": -0.5, "drift_sign": 0,
         "note": "a long first section (intro) hurts"}

RULESETS = [
    {"name": "linear", "description": "control: a linear rule of four fields, mild exposure bias, no drift",
     "terms": [GROOVE, VALENCE, {"kind": "linear", "field": "audio.bpm", "weight": 0.5, "drift_sign": 0, "note": "faster"},
               {"kind": "linear", "field": "production.sub_presence", "weight": 0.4, "drift_sign": 0, "note": "more sub"}],
     "track_noise_sd": 0.5, "exposure": EXPOSURE_MILD, "drift_per_round": 0.0, "bpm_drift_per_round": 0.0},
    {"name": "interaction", "description": "the hook-and-tempo interaction dominates, mild exposure bias, no drift",
     "terms": [HOOK_FAST, GROOVE], "track_noise_sd": 0.5, "exposure": EXPOSURE_MILD, "drift_per_round": 0.0, "bpm_drift_per_round": 0.0},
    {"name": "shapes", "description": "a threshold, a saturation and a section-level feature, mild exposure bias, no drift",
     "terms": [LOUD_CAP, SUB_SAT, HOOK_LIFT, INTRO], "track_noise_sd": 0.5, "exposure": EXPOSURE_MILD, "drift_per_round": 0.0,
     "bpm_drift_per_round": 0.0},
    {"name": "hardest", "description": "every nonlinear term at once, strong exposure bias (popular tracks get the plays and the measured completions), drift between rounds",
     "terms": [HOOK_FAST, LOUD_CAP, SUB_SAT, HOOK_LIFT, INTRO, VALENCE], "track_noise_sd": 0.7, "exposure": EXPOSURE_BIASED,
     "drift_per_round": 0.08, "bpm_drift_per_round": 3.0},
]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "rulesets.json")
    doc = {"about": "Hidden engagement rules of the learning-loop simulator; written by make_rulesets.py, committed before any model was tuned (issue 16).",
           "seeds": SEEDS, "rounds": 4, "listeners": LISTENERS, "goal_ruleset": "hardest", "rulesets": RULESETS}
    with open(out, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
