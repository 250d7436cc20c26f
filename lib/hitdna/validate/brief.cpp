// The brief's items checked on a track: what the user stated, first, in words.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "hitdna/core/text.hpp"
#include "hitdna/validate/validate.hpp"

namespace hitdna::validate {

namespace {

using core::mmss;
using enrich::ItemKind;

std::string fmt(const char* f, double x) {
    char b[64];
    std::snprintf(b, sizeof b, f, x);
    return b;
}

// The nearest time in `v` to `want`, or NaN.
double nearest(const std::vector<double>& v, double want) {
    double best = std::nan("");
    for (double x : v)
        if (std::isnan(best) || std::abs(x - want) < std::abs(best - want)) best = x;
    return best;
}

std::vector<double> times_of(const std::vector<dna::Event>& events) {
    std::vector<double> v;
    for (const auto& e : events) v.push_back(e.time_s);
    return v;
}

// An event item: drops and the first hook within one bar of the target's (snapped) time,
// the intro as stated.
void check_event(const dna::Dna& d, const enrich::Target& t, const enrich::BriefItem& it, BriefCheck& c) {
    const double bar = 240.0 / t.bpm;
    if (it.what == "drop" && !std::isnan(it.number)) {
        const double want = nearest(t.drop_times_s, it.number), got = nearest(times_of(d.structure.drops), std::isnan(want) ? it.number : want);
        c.found = std::isnan(got) ? "no drop found" : "found at " + mmss(got);
        c.ok = !std::isnan(got) && !std::isnan(want) && std::abs(got - want) <= bar;
    } else if (it.what == "drop") {
        c.found = std::to_string(d.structure.drops.size()) + " drop(s) found";
        c.ok = !d.structure.drops.empty();
    } else if (it.what == "hook") {
        const double want = t.first_hook_s.value_or(it.number);
        c.found = d.structure.first_hook_s ? "first hook at " + mmss(*d.structure.first_hook_s) : "no hook found";
        c.ok = d.structure.first_hook_s && std::abs(*d.structure.first_hook_s - want) <= bar;
    } else if (it.what == "intro" || it.what == "outro") {
        const auto& secs = d.structure.sections;
        const bool front = it.what == "intro";
        const std::string role = secs.empty() ? "" : (front ? secs.front() : secs.back()).role;
        c.found = secs.empty() ? "no sections" : std::string(front ? "first" : "last") + " section: " + role;
        c.ok = it.value.rfind("no ", 0) == 0 ? role != it.what : role == it.what;
    } else {
        c.found = d.structure.builds.empty() ? "no build found (heuristic detector of 6 s rises)" : "builds from " + mmss(d.structure.builds.front().time_s);
        c.ok = !d.structure.builds.empty();
    }
}

bool states(const enrich::Target& t, ItemKind kind) {
    return std::any_of(t.brief.begin(), t.brief.end(), [&](const enrich::BriefItem& x) { return x.kind == kind; });
}

// A feel word: the measured field inside the word's range (tempo at any of x0.5, x1, x2); a
// field the brief also states (a tempo, a mode) is not checked against the word: the stated
// value wins.
void check_feel(const dna::Dna& d, const enrich::Target& t, const enrich::BriefItem& it, BriefCheck& c) {
    const bool tempo_stated = states(t, ItemKind::tempo);
    const bool mode_stated = states(t, ItemKind::mode) ||
                             std::any_of(t.brief.begin(), t.brief.end(), [](const enrich::BriefItem& x) { return x.kind == ItemKind::key && x.value.find(' ') != std::string::npos; });
    for (auto f : enrich::feel_words()) {
        if (it.what != f.canonical) continue;
        if (tempo_stated) f.bpm = {};
        if (mode_stated) f.mode = nullptr;
        if (!f.bpm.min && !f.bpm.max && !f.mode && !f.sub_presence.min && !f.sub_presence.max && !f.mean_width.min && !f.mean_width.max &&
            !f.sparkle_db.min && !f.sparkle_db.max && !f.integrated_lufs.min && !f.integrated_lufs.max) {
            c.found = "not checked: a stated value wins over the word";
            c.ok = true;
            c.measured = false;
            return;
        }
        std::string found;
        bool ok = true;
        auto in = [&](const enrich::Range& r, double x, const std::string& what) {
            if (!r.min && !r.max) return;
            found += (found.empty() ? "" : ", ") + what;
            ok = ok && r.contains(x);
        };
        if (d.audio.bpm) {
            const double b = *d.audio.bpm;
            const bool any = f.bpm.contains(b) || f.bpm.contains(b / 2) || f.bpm.contains(b * 2);
            if (f.bpm.min || f.bpm.max) found += fmt("%.0f BPM", b), ok = ok && any;
        }
        in(f.sub_presence, d.production.sub_presence, fmt("sub-bass share %.2f", d.production.sub_presence));
        in(f.mean_width, d.production.mean_width, fmt("width %.2f", d.production.mean_width));
        in(f.sparkle_db, d.production.sparkle_db, fmt("brightness %.1f dB", d.production.sparkle_db));
        in(f.integrated_lufs, d.production.integrated_lufs, fmt("loudness %.1f LUFS", d.production.integrated_lufs));
        if (f.mode) found += (found.empty() ? "" : ", ") + d.audio.mode, ok = ok && d.audio.mode == f.mode;
        c.found = found + " (wanted " + f.effect + ")";
        c.ok = ok;
        return;
    }
}

}  // namespace

std::vector<BriefCheck> check_brief(const dna::Dna& d, const enrich::Target& t) {
    std::vector<BriefCheck> out;
    for (const auto& it : t.brief) {
        BriefCheck c{it.value, it.text, "", false, true};
        switch (it.kind) {
            case ItemKind::tempo:
                c.found = d.audio.bpm ? fmt("measured %.1f BPM", *d.audio.bpm) : "no steady beat";
                c.ok = d.audio.bpm && std::abs(*d.audio.bpm / t.bpm - 1) <= 0.02;
                break;
            case ItemKind::key:
            case ItemKind::mode: {
                // A key without a mode ("in Bb") is checked on the tonic only, a mode on the mode only.
                const bool with_mode = it.kind == ItemKind::mode || it.value.find(' ') != std::string::npos;
                c.found = "found " + d.audio.key + " " + d.audio.mode;
                c.ok = (!with_mode || d.audio.mode == t.mode) && (it.kind == ItemKind::mode || d.audio.key == t.key);
                break;
            }
            case ItemKind::length:
                c.found = fmt("%.1f s", d.duration_s);
                if (it.what == "max") c.ok = d.duration_s <= it.number + 1;
                else if (it.what == "min") c.ok = d.duration_s >= it.number - 1;
                else if (it.what == "short") c.ok = d.duration_s >= 59 && d.duration_s <= 151;
                else if (it.what == "long") c.ok = d.duration_s >= 239;
                else c.ok = std::abs(d.duration_s - t.duration_s) <= 1;
                break;
            case ItemKind::event: check_event(d, t, it, c); break;
            case ItemKind::count: {
                const int got = it.what == "drop" ? int(d.structure.drops.size()) : it.what == "build" ? int(d.structure.builds.size()) : d.structure.hook_repeats;
                c.found = "found " + std::to_string(got);
                c.ok = got == int(it.number);
                break;
            }
            case ItemKind::feel: check_feel(d, t, it, c); break;
            default:
                c.found = "not measurable from audio";
                c.measured = false;
                c.ok = true;
        }
        out.push_back(c);
    }
    return out;
}

}  // namespace hitdna::validate
