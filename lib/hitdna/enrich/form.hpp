#pragma once
// The section plan of a target: a form (from the closest hit, or the default pop form) fitted
// in whole bars around the events the brief states, with builds and drops marked, and the
// energy arc drawn from the plan so that the two always agree. The rules are listed in
// man/hitdna-enrich.1 (section THE FORM).
#include <optional>
#include <string>
#include <vector>

#include "hitdna/enrich/target.hpp"

namespace hitdna::enrich {

struct FormPart {
    std::string role, label;
    double weight = 1;     // relative length
    double energy_lu = 0;  // LU re integrated loudness
};

struct FormRequest {
    double bpm = 120;
    double duration_s = 180;
    bool duration_exact = false;             // stated: kept to the second, the last section takes the part bar
    std::vector<FormPart> form;              // the template, in order
    std::optional<double> first_hook_s;      // stated first hook
    std::vector<double> drop_times_s;        // stated drops
    int drops = 0, builds = 0;               // how many to mark (at least the stated times)
    std::optional<int> hooks;                // stated number of hook sections
    bool long_build = false, build_into_hook = false;
    std::optional<std::string> intro, outro; // none | short | long
};

// The default pop form with n hook sections: intro, (verse, pre-hook, hook) twice, then
// (bridge, hook), then (pre-hook, hook) for more, and an outro; 8 and 16 bars.
std::vector<FormPart> default_form(int hooks);

// The plan in whole bars (the last section also takes any part bar of a stated length), with
// build and drop flags; throws Error(usage) when a stated event cannot be placed (a drop
// before a stated first hook).
std::vector<PlannedSection> plan_form(const FormRequest& request);

// A build's last two bars before a drop (the breakdown): this far under the build's level, LU.
constexpr double k_breakdown_lu = -15;

// The level of a plan at a time, LU: its section's, rising from 6 to 1 LU under the next part
// through a build, k_breakdown_lu lower in a build's last two bars before a drop.
double plan_level(const std::vector<PlannedSection>& sections, double time_s, double bpm);

// The energy arc of a plan: each sixteenth's mean of the section levels (LU), with a build
// rising from 6 to 1 LU under the part that follows, and its breakdown before a drop
// (k_breakdown_lu); not yet normalized.
std::vector<double> arc_of_plan(const std::vector<PlannedSection>& sections, double duration_s, double bpm);

}  // namespace hitdna::enrich
