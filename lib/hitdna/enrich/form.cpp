#include "hitdna/enrich/form.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "hitdna/core/error.hpp"
#include "hitdna/core/text.hpp"

namespace hitdna::enrich {

std::vector<FormPart> default_form(int hooks) {
    hooks = std::clamp(hooks, 1, 12);
    std::vector<FormPart> f = {{"intro", "A", 8, -6}};
    for (int i = 1; i <= hooks; ++i) {
        if (i <= 2) {
            f.push_back({"verse", "B", 16, -3});
            f.push_back({"pre-hook", "C", 8, -2});
        } else if (i == 3) {
            f.push_back({"bridge", "E", 8, -5});
        } else {
            f.push_back({"pre-hook", "C", 8, -2});
        }
        f.push_back({"hook", "D", 16, 0});
    }
    f.push_back({"outro", "F", 8, -7});
    return f;
}

namespace {

struct Part {
    FormPart p;
    int fixed_bars = 0;  // > 0: this many bars (a short or long intro/outro)
    int bars = 0;
    bool drop = false, build = false;
    bool anchored = false;  // starts on a stated bar: its start never moves
};

size_t count_hooks(const std::vector<Part>& f) {
    return size_t(std::count_if(f.begin(), f.end(), [](const Part& x) { return x.p.role == "hook"; }));
}

std::vector<size_t> hook_indices(const std::vector<Part>& f) {
    std::vector<size_t> h;
    for (size_t i = 0; i < f.size(); ++i)
        if (f[i].p.role == "hook") h.push_back(i);
    return h;
}

// The template with the stated number of hooks (at least `need`), and the intro and outro asked for.
std::vector<Part> shaped_form(const FormRequest& r, int total_bars) {
    std::vector<FormPart> src = r.form.empty() ? default_form(r.hooks.value_or(3)) : r.form;
    if (r.hooks && int(std::count_if(src.begin(), src.end(), [](const FormPart& x) { return x.role == "hook"; })) != *r.hooks)
        src = default_form(*r.hooks);
    std::vector<Part> f;
    for (const auto& p : src) f.push_back({p});
    // Enough hooks for the stated events: one per stated time and the first hook, and one
    // after the opening for each drop (a drop needs something before it).
    const size_t need = std::max<size_t>({r.drop_times_s.size() + (r.first_hook_s ? 1 : 0), size_t(std::max(0, r.drops)), 1});
    auto droppable = [&] {
        size_t n = 0;
        for (size_t i = 1; i < f.size(); ++i) n += f[i].p.role == "hook";
        return n;
    };
    // Added hooks repeat the form's hook (and pre-hook) material: the same labels.
    auto label_of = [&](const char* role, const char* fallback) {
        for (const auto& x : f)
            if (x.p.role == role) return x.p.label;
        return std::string(fallback);
    };
    const std::string hook_label = label_of("hook", "D"), pre_label = label_of("pre-hook", "C");
    while (count_hooks(f) < need || droppable() < size_t(std::max(0, r.drops))) {
        size_t at = f.size();
        if (!f.empty() && f.back().p.role == "outro") --at;
        f.insert(f.begin() + long(at), Part{FormPart{"hook", hook_label, 16, 0}});
        f.insert(f.begin() + long(at), Part{FormPart{"pre-hook", pre_label, 8, -2}});
    }
    const int edge_long = std::max(16, int(std::lround(0.12 * total_bars)));
    auto edge = [&](const std::optional<std::string>& how, bool front, const char* role, const char* label, double energy) {
        if (!how) return;
        const bool has = !f.empty() && (front ? f.front() : f.back()).p.role == role;
        if (*how == "none") {
            if (has) f.erase(front ? f.begin() : f.end() - 1);
            return;
        }
        if (!has) f.insert(front ? f.begin() : f.end(), Part{FormPart{role, label, 8, energy}});
        (front ? f.front() : f.back()).fixed_bars = *how == "long" ? edge_long : 4;
    };
    edge(r.intro, true, "intro", "A", -6);
    edge(r.outro, false, "outro", "F", -7);
    return f;
}

// Splits `bars` among the parts [a, b) in proportion to their weights, whole bars, each at
// least min_bars (4 when there is room, else 2, else 1); while even one bar each does not fit,
// the lightest part that is not the piece's first joins its neighbour.
void fit_piece(std::vector<Part>& f, size_t a, size_t& b, int bars, double bar_s) {
    // At most one part per 12 s and per 4 bars (at least one part).
    const int most = std::max(1, std::min(bars >= 4 ? bars / 4 : bars, int(bars * bar_s / 12)));
    while (b - a > 1 && int(b - a) > most) {
        size_t lightest = a + 1;
        for (size_t i = a + 1; i < b; ++i)
            if (f[i].p.weight < f[lightest].p.weight) lightest = i;
        f[lightest - 1].p.weight += f[lightest].p.weight;
        f.erase(f.begin() + long(lightest));
        --b;
        // Two parts of one label side by side are one part.
        for (size_t i = a + 1; i < b;)
            if (f[i].p.label == f[i - 1].p.label && f[i].p.role == f[i - 1].p.role && !f[i].drop) {
                f[i - 1].p.weight = std::max(f[i - 1].p.weight, f[i].p.weight);  // one part of its usual length
                f.erase(f.begin() + long(i));
                --b;
            } else {
                ++i;
            }
    }
    const int n = int(b - a);
    if (n == 0) return;
    const int min_bars = bars >= 4 * n ? 4 : bars >= 2 * n ? 2 : 1;
    int fixed = 0;
    double wsum = 0;
    for (size_t i = a; i < b; ++i) {
        if (f[i].fixed_bars > 0 && fixed + f[i].fixed_bars + min_bars * (n - 1) <= bars) fixed += f[i].bars = f[i].fixed_bars;
        else f[i].bars = 0, wsum += f[i].p.weight;
    }
    std::vector<std::pair<double, size_t>> rem;
    int used = fixed;
    for (size_t i = a; i < b; ++i) {
        if (f[i].bars > 0) continue;
        const double share = wsum > 0 ? f[i].p.weight / wsum * (bars - fixed) : 0;
        f[i].bars = std::max(min_bars, int(std::floor(share)));
        used += f[i].bars;
        rem.push_back({share - std::floor(share), i});
    }
    std::sort(rem.begin(), rem.end(), [](auto& x, auto& y) { return x.first > y.first; });
    for (size_t k = 0; used < bars && !rem.empty(); k = (k + 1) % rem.size()) ++f[rem[k].second].bars, ++used;
    if (used < bars) f[b - 1].bars += bars - used, used = bars;  // only fixed parts: the last takes the rest
    // A hook of at least 8 bars where other parts can spare them: the part right after it
    // gives one at a time while it keeps 4 (so that no hook moves), else the longest.
    for (size_t i = a; i < b; ++i)
        while (f[i].p.role == "hook" && f[i].bars < 8) {
            auto can_give = [&](size_t k) { return f[k].p.role != "hook" && f[k].fixed_bars == 0 && f[k].bars > 4; };
            size_t donor = b;
            if (i + 1 < b && can_give(i + 1)) donor = i + 1;
            else
                for (size_t k = a; k < b; ++k)
                    if (can_give(k) && (donor == b || f[k].bars > f[donor].bars)) donor = k;
            if (donor == b) break;
            --f[donor].bars, ++f[i].bars;
        }
    // Too many bars (the minimums): the longest free parts give them back.
    while (used > bars) {
        size_t longest = a;
        for (size_t i = a; i < b; ++i)
            if (f[i].bars > f[longest].bars) longest = i;
        if (f[longest].bars <= 1) break;
        --f[longest].bars, --used;
    }
}

// A build of `want` bars before part i: the last bars of part i-1, split off as a pre-hook
// when it is long enough to keep 4 bars of its own, else the whole part.
void mark_build(std::vector<Part>& f, size_t& i, int want) {
    if (i == 0) return;
    Part& prev = f[i - 1];
    if (prev.build) return;
    if (prev.p.role == "hook") {
        // A hook right before (two drops close together): its second half becomes the build,
        // when it has 8 bars or more; else there is no room for one.
        if (prev.bars < 8) return;
        Part b{FormPart{"pre-hook", "C", prev.p.weight, prev.p.energy_lu}};
        b.bars = std::min(want, prev.bars / 2);
        b.build = true;
        prev.bars -= b.bars;
        f.insert(f.begin() + long(i), b);
        ++i;
        return;
    }
    if (prev.bars >= want + 4 && prev.p.role != "hook") {
        // The label of the form's pre-hook when it has one (the part is built whole: GCC 12's
        // -Wrestrict misfires on assigning a literal to a copied string here).
        std::string label;
        for (const auto& x : f)
            if (x.p.role == "pre-hook") label = x.p.label;
        for (char c = 'A'; label.empty() && c <= 'Z'; ++c)  // else a letter no part uses
            if (std::none_of(f.begin(), f.end(), [&](const Part& x) { return x.p.label == std::string(1, c); })) label = std::string(1, c);
        Part b{FormPart{"pre-hook", label, prev.p.weight, prev.p.energy_lu}};
        b.bars = want;
        prev.bars -= want;
        b.build = true;
        f.insert(f.begin() + long(i), b);
        ++i;
    } else {
        prev.build = true;
        // Too short for the build asked for: it starts earlier, taking bars from the part
        // before it while that keeps 4 bars (and a drop keeps 8).
        if (i >= 2 && prev.bars < want && f[i - 2].bars > 4 && !prev.anchored) {
            Part& before = f[i - 2];
            const int take = std::min(want - prev.bars, before.bars - (before.drop ? 8 : 4));
            if (take > 0) before.bars -= take, prev.bars += take;
        }
    }
}

// Drops on the anchored hooks and, for a count, on the next hooks that follow a non-hook
// part; a build before each drop; more builds before the first hooks without one.
void mark_events(std::vector<Part>& f, const FormRequest& r) {
    const int want = r.long_build ? 16 : 8;
    int drops = int(std::count_if(f.begin(), f.end(), [](const Part& x) { return x.drop; }));
    for (int pass = 0; pass < 2; ++pass)  // hooks after a non-hook part first, then any after the opening
        for (size_t i = 1; i < f.size() && drops < r.drops; ++i)
            if (f[i].p.role == "hook" && !f[i].drop && (pass == 1 || f[i - 1].p.role != "hook")) f[i].drop = true, ++drops;
    for (size_t i = 0; i < f.size(); ++i)
        if (f[i].drop) mark_build(f, i, want);
    int builds = int(std::count_if(f.begin(), f.end(), [](const Part& x) { return x.build; }));
    const int need = std::max(r.builds, r.build_into_hook ? 1 : 0);
    for (size_t i = 1; i < f.size(); ++i) {
        if (f[i].p.role != "hook" || f[i - 1].build) continue;
        const bool first_hook = std::none_of(f.begin(), f.begin() + long(i), [](const Part& x) { return x.p.role == "hook"; });
        if (builds >= need && !(r.build_into_hook && first_hook)) continue;
        if (f[i - 1].p.role == "hook") continue;
        mark_build(f, i, want);
        ++builds;
    }
}

// One hook: every hook section takes the first hook's label, and a part of another role that
// had that label takes a letter no part uses.
void unify_hooks(std::vector<PlannedSection>& out) {
    std::string hook;
    for (const auto& s : out)
        if (s.role == "hook" && hook.empty()) hook = s.label;
    if (hook.empty()) return;
    auto unused = [&] {
        for (char c = 'A'; c <= 'Z'; ++c)
            if (std::none_of(out.begin(), out.end(), [&](const PlannedSection& x) { return x.label == std::string(1, c); })) return std::string(1, c);
        return std::string("Z");
    };
    std::string moved;  // one new label for all the parts moved off the hook's
    for (auto& s : out) {
        if (s.role == "hook") s.label = hook;
        else if (s.label == hook) s.label = moved.empty() ? (moved = unused()) : moved;
    }
}

// One hook label, then the levels: every hook at the loudest hook's level and at least 1 LU
// over every other part; a drop the loudest part; a build 3 LU under what follows it.
void set_levels(std::vector<PlannedSection>& out) {
    unify_hooks(out);
    double top = -100, top_other = -100, top_hook = -100;
    for (const auto& s : out) {
        double& m = s.role == "hook" ? top_hook : top_other;
        m = std::max(m, s.energy_lu);
    }
    top_hook = std::max(top_hook, top_other + 1);
    for (auto& s : out)
        if (s.role == "hook") s.energy_lu = top_hook;
    for (const auto& s : out) top = std::max(top, s.energy_lu);
    for (auto& s : out)
        if (s.drop) s.energy_lu = top;
    for (size_t i = 0; i + 1 < out.size(); ++i)
        if (out[i].build) out[i].energy_lu = std::min(out[i].energy_lu, out[i + 1].energy_lu - 3);
}

}  // namespace

std::vector<PlannedSection> plan_form(const FormRequest& r) {
    const double bar = 240.0 / r.bpm;
    // An open length is whole bars, rounded to the nearest but never past 600 s (the longest
    // target a generator is asked for: a 600 s hit's plan would otherwise be refused).
    int whole = int(std::lround(r.duration_s / bar));
    if (whole * bar > 600.0 + 1e-6) whole = int(std::floor(600.0 / bar));
    const int total = std::max(1, r.duration_exact ? int(std::floor(r.duration_s / bar + 1e-6)) : whole);
    const double tail = r.duration_exact ? std::max(0.0, r.duration_s - total * bar) : 0.0;
    std::vector<Part> f = shaped_form(r, total);
    // Anchors: the stated first hook, then each stated drop on the next hook (the same one
    // when they fall on one bar), as (bar, part index).
    std::vector<std::pair<int, size_t>> anchors;
    const auto hooks = hook_indices(f);
    size_t next = 0;
    auto bar_of = [&](double t) { return std::clamp(int(std::lround(t / bar)), 0, std::max(0, total - 1)); };
    if (r.first_hook_s) anchors.push_back({bar_of(*r.first_hook_s), hooks[next++]});
    if (!anchors.empty()) f[anchors.back().second].anchored = true;
    for (double d : r.drop_times_s) {
        const int b = bar_of(d);
        if (!anchors.empty() && b == anchors.back().first) {
            f[anchors.back().second].drop = true;
            continue;
        }
        if (!anchors.empty() && b < anchors.back().first)
            throw Error(ErrorKind::usage, "the drop at " + core::mmss(d) + " comes before the stated first hook at " + core::mmss(*r.first_hook_s) +
                                              "; a drop starts a hook section");
        anchors.push_back({b, hooks[next++]});
        f[anchors.back().second].drop = true;
        f[anchors.back().second].anchored = true;
    }
    // A long last piece with little form (a template whose first hook was its last part):
    // a verse, a hook and an outro follow, as in the default form.
    if (!anchors.empty() && f.size() - anchors.back().second < 3 && total - anchors.back().first >= 24) {
        const bool outro = f.back().p.role == "outro";
        const size_t at = outro ? f.size() - 1 : f.size();
        f.insert(f.begin() + long(at), Part{FormPart{"hook", "D", 16, 0}});
        f.insert(f.begin() + long(at), Part{FormPart{"verse", "B", 16, -3}});
        if (!outro && !(r.outro && *r.outro == "none")) f.push_back({{"outro", "F", 8, -7}});
    }
    // Pieces between anchors, each fitted to its bars; an empty first piece (a hook at 0:00) is dropped.
    std::vector<std::pair<size_t, int>> cuts;  // (part index, bar) where each piece starts
    cuts.push_back({0, 0});
    for (auto& [b, idx] : anchors) cuts.push_back({idx, b});
    cuts.push_back({f.size(), total});
    for (size_t p = cuts.size() - 1; p-- > 0;) {
        size_t a = cuts[p].first, e = cuts[p + 1].first;
        const int bars = cuts[p + 1].second - cuts[p].second;
        if (bars <= 0) {
            f.erase(f.begin() + long(a), f.begin() + long(e));
            continue;
        }
        if (a == e) {  // bars before an anchored hook with nothing of the form before it: a verse
            f.insert(f.begin() + long(a), Part{FormPart{"verse", "B", 16, -3}});
            ++e;
        }
        fit_piece(f, a, e, bars, bar);
    }
    mark_events(f, r);
    std::vector<PlannedSection> out;
    double at = 0;
    for (const auto& x : f) {
        if (x.bars <= 0) continue;
        PlannedSection s{x.p.role, x.p.label, at, x.bars * bar, x.p.energy_lu};
        s.build = x.build;
        s.drop = x.drop;
        out.push_back(s);
        at += s.duration_s;
    }
    if (!out.empty()) out.back().duration_s += tail;
    set_levels(out);
    return out;
}

double plan_level(const std::vector<PlannedSection>& s, double t, double bpm) {
    if (s.empty()) return 0;
    const double bar = 240.0 / bpm;
    size_t i = 0;
    while (i + 1 < s.size() && t >= s[i + 1].start_s) ++i;
    if (!s[i].build) return s[i].energy_lu;
    const double next = i + 1 < s.size() ? s[i + 1].energy_lu : s[i].energy_lu + 3;
    const double f = std::clamp((t - s[i].start_s) / std::max(1e-9, s[i].duration_s), 0.0, 1.0);
    const double ramp = next - 6 + 5 * f;
    const bool breakdown = i + 1 < s.size() && s[i + 1].drop && t >= s[i].start_s + s[i].duration_s - 2 * bar;
    return breakdown ? ramp + k_breakdown_lu : ramp;
}

std::vector<double> arc_of_plan(const std::vector<PlannedSection>& s, double duration_s, double bpm) {
    std::vector<double> arc(k_arc_points, 0.0);
    if (s.empty() || duration_s <= 0) return arc;
    auto level = [&](double t) { return plan_level(s, t, bpm); };
    const int sub = 64;
    // The mean level in LU over each sixteenth, as the analyzer's arc averages LUFS per hop.
    for (int k = 0; k < k_arc_points; ++k) {
        double sum = 0;
        for (int j = 0; j < sub; ++j) sum += level((k + (j + 0.5) / sub) / k_arc_points * duration_s) / sub;
        arc[size_t(k)] = sum;
    }
    return arc;
}

}  // namespace hitdna::enrich
