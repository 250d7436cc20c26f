#include "hitdna/core/text.hpp"
#include "hitdna/enrich/target.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>

#include "hitdna/analysis/structure.hpp"
#include "hitdna/core/error.hpp"
#include "hitdna/dna/dna.hpp"
#include "hitdna/enrich/form.hpp"

using json = nlohmann::json;

namespace hitdna::enrich {

namespace {

struct HitDna {
    double weight = 0;
    double duration_s = 0;
    std::optional<double> bpm;
    std::vector<dna::TempoChange> tempo_changes;
    std::string key, mode;
    std::vector<PlannedSection> sections;
    std::vector<double> arc;  // k_arc_points, LU re integrated
    std::optional<double> first_hook_rel;
    int builds = 0, drops = 0;
    TargetProduction production;
    std::vector<std::string> descriptors;
};

double num(const json& j, const char* key, double fallback) {
    auto it = j.find(key);
    return it != j.end() && it->is_number() ? it->get<double>() : fallback;
}

HitDna parse_hit(const json& d) {
    HitDna h;
    h.duration_s = num(d, "duration_s", 0);
    const json& a = d.at("audio");
    if (a.contains("bpm") && a["bpm"].is_number()) h.bpm = a["bpm"].get<double>();
    for (const auto& c : a.value("tempo_changes", json::array()))
        if (c.is_object() && c.value("bpm", 0.0) > 0) h.tempo_changes.push_back({num(c, "time_s", 0), num(c, "bpm", 0)});
    h.key = a.at("harmony").value("key", "");
    h.mode = a.at("harmony").value("mode", "");
    const json& p = d.at("production");
    h.production.sub_presence = num(p, "sub_presence", 0);
    h.production.bass_808_sustain_s = num(p, "bass_808_sustain_s", 0);
    h.production.mean_width = num(p, "mean_width", 0);
    h.production.sparkle_db = num(p, "sparkle_db", -40);
    h.production.integrated_lufs = num(p, "integrated_lufs", -20);
    std::vector<double> lufs;
    for (const auto& x : a.at("energy_lufs")) lufs.push_back(x.get<double>());
    h.arc = energy_arc(lufs, h.production.integrated_lufs);
    const json& s = d.at("structure");
    for (const auto& sec : s.at("sections")) {
        PlannedSection ps;
        ps.role = sec.value("role", "verse");
        ps.label = sec.value("label", "A");
        ps.start_s = num(sec, "start_s", 0);
        ps.duration_s = num(sec, "end_s", 0) - ps.start_s;
        ps.energy_lu = num(sec, "energy_lufs", -70) - h.production.integrated_lufs;
        h.sections.push_back(ps);
    }
    if (s.contains("first_hook_s") && s["first_hook_s"].is_number() && h.duration_s > 0)
        h.first_hook_rel = s["first_hook_s"].get<double>() / h.duration_s;
    h.builds = int(s.at("builds").size());
    h.drops = int(s.at("drops").size());
    for (const auto& w : d.at("descriptors")) h.descriptors.push_back(w.get<std::string>());
    return h;
}

// Weighted median of (value, weight) pairs.
double weighted_median(std::vector<std::pair<double, double>> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    double total = 0;
    for (auto& x : v) total += x.second;
    double acc = 0;
    for (auto& x : v) {
        acc += x.second;
        if (acc >= total / 2) return x.first;
    }
    return v.back().first;
}

// Sections shorter than 3 s join a neighbour; at most 30 sections (the API's limit).
// Sections shorter than 3 s join their shorter neighbour; so does the shortest while there are
// more than 30 (the API's limit). Then starts are recomputed.
void tidy_sections(std::vector<PlannedSection>& s) {
    while (s.size() > 1) {
        size_t shortest = 0;
        for (size_t i = 1; i < s.size(); ++i)
            if (s[i].duration_s < s[shortest].duration_s) shortest = i;
        if (!(s[shortest].duration_s < 3.01 || s.size() > 30)) break;  // 3.01: rounding to ms stays >= 3000
        size_t into = shortest == 0 ? 1
                      : shortest + 1 >= s.size() ? shortest - 1
                      : (s[shortest - 1].duration_s <= s[shortest + 1].duration_s ? shortest - 1 : shortest + 1);
        s[into].duration_s += s[shortest].duration_s;
        s.erase(s.begin() + long(shortest));
    }
    double t = 0;
    for (auto& x : s) x.start_s = t, t += x.duration_s;
}

// Sections over 120 s split into equal parts (the API's limit per section).
std::vector<PlannedSection> split_long(const std::vector<PlannedSection>& in) {
    std::vector<PlannedSection> out;
    for (const auto& s : in) {
        const int parts = std::max(1, int(std::ceil(s.duration_s / 120.0)));
        for (int i = 0; i < parts; ++i) {
            PlannedSection p = s;
            p.duration_s = s.duration_s / parts;
            out.push_back(p);
        }
    }
    return out;
}

void set_hook_fields(Target& t) {
    t.first_hook_s.reset();
    t.hook_repeats = 0;
    for (const auto& s : t.sections)
        if (s.role == "hook") {
            if (!t.first_hook_s) t.first_hook_s = s.start_s;
            ++t.hook_repeats;
        }
}

using core::mmss;

std::string section_name(const std::string& role, int n) {
    std::string r = role == "pre-hook" ? "Pre-Hook" : role;
    if (!r.empty()) r[0] = char(std::toupper(static_cast<unsigned char>(r[0])));
    return n > 1 || role == "verse" || role == "hook" ? r + " " + std::to_string(n) : r;
}

std::string energy_words(double lu) {
    if (lu >= -1) return "full energy";
    if (lu >= -3) return "high energy";
    if (lu >= -6) return "medium energy";
    return "low energy";
}

// At most `bytes` bytes, never ending inside a UTF-8 character.
std::string utf8_prefix(const std::string& s, size_t bytes) {
    if (s.size() <= bytes) return s;
    size_t n = bytes;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xc0) == 0x80) --n;
    return s.substr(0, n);
}

std::vector<std::string> global_styles(const Target& t) {
    std::vector<std::string> s;
    for (const auto& g : t.genres) s.push_back(g);
    for (const auto& w : t.stated_styles) s.push_back(w);
    char b[64];
    std::snprintf(b, sizeof b, "%g BPM", std::round(t.bpm * 10) / 10);  // as the enriched prompt writes it
    s.push_back(b);
    s.push_back(t.key + " " + t.mode);
    s.push_back("instrumental");
    const auto& p = t.production;
    if (p.sub_presence >= 0.12) s.push_back(p.bass_808_sustain_s >= 0.4 ? "long 808 bass" : "heavy sub bass");
    if (p.mean_width >= 0.3) s.push_back("wide stereo");
    else if (p.mean_width < 0.1) s.push_back("narrow, centred mix");
    if (p.sparkle_db >= -22) s.push_back("bright top end");
    else if (p.sparkle_db < -34) s.push_back("dark, warm top end");
    if (p.integrated_lufs >= -10) s.push_back("loud, punchy master");
    else if (p.integrated_lufs < -18) s.push_back("dynamic, quiet master");
    for (const auto& d : t.descriptors) {
        if (d.rfind("key-", 0) == 0) continue;
        s.push_back(d);
    }
    // The API allows 50 styles of reasonable length.
    std::vector<std::string> out;
    for (auto& x : s)
        if (out.size() < 50 && std::find(out.begin(), out.end(), x) == out.end()) out.push_back(utf8_prefix(x, 100));
    return out;
}

}  // namespace

void normalize_arc(Target& t) {
    if (t.energy_arc.empty()) return;
    double pm = 0;
    for (double x : t.energy_arc) pm += std::pow(10.0, x / 10) / double(t.energy_arc.size());
    const double off = 10 * std::log10(pm);
    for (auto& x : t.energy_arc) x = std::round((x - off) * 10) / 10;
    for (auto& s : t.sections) s.energy_lu = std::round((s.energy_lu - off) * 10) / 10;
}

double arc_at(const Target& t, double time_s) {
    if (t.energy_arc.empty() || t.duration_s <= 0) return 0;
    double x = std::clamp(time_s / t.duration_s * k_arc_points - 0.5, 0.0, double(k_arc_points - 1));
    size_t i = size_t(x);
    double f = x - double(i);
    size_t j = std::min(i + 1, t.energy_arc.size() - 1);
    return t.energy_arc[i] * (1 - f) + t.energy_arc[j] * f;
}

namespace {

void prov(Target& t, const std::string& field, const std::string& from, const std::string& note = "") { t.provenance[field] = {from, note}; }

// The text of the first item of a kind (and `what`), for provenance notes.
std::string item_text(const Brief& b, ItemKind kind, const std::string& what = "") {
    for (const auto& it : b.items)
        if (it.kind == kind && (what.empty() || it.what == what)) return "'" + it.text + "'";
    return "";
}

// The feel words of the brief that set a range on a field, quoted, for notes.
std::string feel_note(const Brief& b, Range FeelEffect::*field) {
    std::string out;
    for (const auto& it : b.items) {
        if (it.kind != ItemKind::feel) continue;
        for (const auto& f : feel_words())
            if (it.what == f.canonical && ((f.*field).min || (f.*field).max) && out.find("'" + it.text + "'") == std::string::npos) {
                out += (out.empty() ? "'" : ", '") + it.text + "': " + f.effect;
                break;
            }
    }
    return out;
}

// A tempo moved into a feel range at the nearest metrical level (x2, x0.5), else clamped.
double tempo_into(const Range& r, double bpm) {
    if (r.contains(bpm)) return bpm;
    for (double level : {2.0, 0.5})
        if (r.contains(bpm * level)) return bpm * level;
    return r.clamp(bpm);
}

// The relative key of the other mode: A major <-> F# minor.
std::pair<std::string, std::string> relative_key(const std::string& key, const std::string& mode) {
    static const char* names[12] = {"C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"};
    const int k = std::max(0, dna::pitch_index(key));
    return mode == "major" ? std::pair<std::string, std::string>{names[(k + 9) % 12], "minor"} : std::pair<std::string, std::string>{names[(k + 3) % 12], "major"};
}

// Tempo, key, mode and length: what the brief states wins; feel words move the rest into range.
void apply_tempo_key_length(const Brief& b, std::optional<double> duration_opt, Target& t) {
    if (b.bpm) {
        t.bpm = *b.bpm;
        prov(t, "bpm", "prompt", item_text(b, ItemKind::tempo));
    } else if (const double moved = tempo_into(b.bpm_range, t.bpm); moved != t.bpm) {
        t.bpm = std::round(moved);
        prov(t, "bpm", "prompt", feel_note(b, &FeelEffect::bpm));
    }
    if (b.key) {
        t.key = *b.key;
        prov(t, "key", "prompt", item_text(b, ItemKind::key));
    }
    const std::optional<std::string> mode = b.mode ? b.mode : b.feel_mode;
    if (mode && *mode != t.mode) {
        if (!b.key) {
            const auto [k, m] = relative_key(t.key, t.mode);
            prov(t, "key", t.from_hits ? "hits" : "default", "the relative " + m + " of " + t.key + " " + t.mode);
            t.key = k;
        }
        t.mode = *mode;
    }
    // The note: the words that stated the mode (a mode phrase, else the key), or the last feel
    // word that asked for it.
    if (b.mode) {
        const std::string said = item_text(b, ItemKind::mode);
        prov(t, "mode", "prompt", said.empty() ? item_text(b, ItemKind::key) : said);
    } else if (mode) {
        for (const auto& it : b.items)
            for (const auto& f : feel_words())
                if (it.kind == ItemKind::feel && it.what == f.canonical && f.mode && *mode == f.mode) prov(t, "mode", "prompt", "'" + it.text + "': " + f.effect);
    }
    std::optional<double> stated = b.duration_s;
    if (duration_opt && stated && std::abs(*duration_opt - *stated) > 1)
        throw Error(ErrorKind::usage, "--duration " + std::to_string(int(*duration_opt)) + " and the brief's " + item_text(b, ItemKind::length, "length") + " disagree; say one");
    t.duration_stated = stated || duration_opt;
    if (stated) {
        t.duration_s = *stated;
        prov(t, "duration_s", "prompt", item_text(b, ItemKind::length, "length"));
    } else if (duration_opt) {
        for (const auto& it : b.items)
            if (it.kind == ItemKind::event && !std::isnan(it.number) && it.number >= *duration_opt - 1)
                throw Error(ErrorKind::usage, "--duration " + std::to_string(int(*duration_opt)) + " ends before the brief's '" + it.text + "'; say one");
        if (!b.length_range.contains(*duration_opt))
            throw Error(ErrorKind::usage, "--duration " + std::to_string(int(*duration_opt)) + " is outside the brief's " + item_text(b, ItemKind::length) + "; say one");
        t.duration_s = *duration_opt;
        prov(t, "duration_s", "prompt", "--duration");
    } else if (!b.length_range.contains(t.duration_s)) {
        // Half a bar inside the bound, so that rounding the form to whole bars stays within it.
        const double half_bar = 120.0 / t.bpm;
        Range inside = b.length_range;
        if (inside.min) *inside.min += half_bar;
        if (inside.max) *inside.max -= half_bar;
        t.duration_s = (inside.empty() ? b.length_range : inside).clamp(t.duration_s);
        std::string note;
        for (const auto& it : b.items)
            if (it.kind == ItemKind::length) note += (note.empty() ? "'" : ", '") + it.text + "': " + it.value;
        prov(t, "duration_s", "prompt", note);
    }
}

// Production figures moved into the ranges of the brief's feel words.
void apply_production(const Brief& b, Target& t) {
    struct F {
        const char* name;
        double* value;
        const Range& range;
        Range FeelEffect::*field;
    } fields[] = {{"production.sub_presence", &t.production.sub_presence, b.sub_range, &FeelEffect::sub_presence},
                  {"production.mean_width", &t.production.mean_width, b.width_range, &FeelEffect::mean_width},
                  {"production.sparkle_db", &t.production.sparkle_db, b.sparkle_range, &FeelEffect::sparkle_db},
                  {"production.integrated_lufs", &t.production.integrated_lufs, b.lufs_range, &FeelEffect::integrated_lufs}};
    for (auto& f : fields) {
        if (f.range.contains(*f.value)) continue;
        *f.value = f.range.clamp(*f.value);
        prov(t, f.name, "prompt", feel_note(b, f.field));
    }
}

// The brief's genres, feel words and half-time, for the styles of the plan and the prompt.
void apply_styles(const Brief& b, Target& t) {
    t.brief = b.items;
    t.free_text = b.free_text;
    t.stated_styles.clear();
    for (const auto& g : b.genres) t.stated_styles.push_back(g);
    for (const auto& f : b.feels) t.stated_styles.push_back(f);
    if (b.half_time) t.stated_styles.push_back("half-time feel");
    if (b.double_time) t.stated_styles.push_back("double-time feel");
    std::vector<std::string> genres = b.genres;
    for (const auto& g : t.genres)
        if (std::find(genres.begin(), genres.end(), g) == genres.end() && genres.size() < 5) genres.push_back(g);
    if (!b.genres.empty()) prov(t, "genres", "prompt", item_text(b, ItemKind::genre) + (t.genres.empty() ? "" : ", then the hits'"));
    t.genres = genres;
}

// The template's parts for plan_form: roles, labels, lengths as weights, levels from the arc.
std::vector<FormPart> parts_of(const std::vector<PlannedSection>& tpl, double tpl_duration, const std::vector<double>& arc) {
    std::vector<FormPart> out;
    Target probe;
    probe.energy_arc = arc;
    probe.duration_s = tpl_duration;
    for (const auto& s : tpl) out.push_back({s.role, s.label, s.duration_s, std::round(arc_at(probe, s.start_s + s.duration_s / 2) * 10) / 10});
    return out;
}

// The section plan around the brief's events, then the arc, hooks, builds and drops from it.
void plan_target(const Brief& b, std::vector<FormPart> form, int hit_builds, int hit_drops, Target& t) {
    FormRequest r;
    r.bpm = t.bpm;
    // An unstated length long enough for the stated events: 16 bars after the last stated
    // time, and intro + (build + drop) per drop or hook asked for + outro.
    if (!t.duration_stated) {
        const double bar = 240.0 / t.bpm;
        double need = 0;
        for (double d : b.drop_times_s) need = std::max(need, d + 16 * bar);
        if (b.first_hook_s) need = std::max(need, *b.first_hook_s + 16 * bar);
        const int events = std::max({b.drops.value_or(0), b.min_drops, b.hooks.value_or(0), b.builds.value_or(0)});
        need = std::max(need, (16.0 + 16.0 * events) * bar);
        if (events > 0 || need > 0)
            if (t.duration_s < need) {
                t.duration_s = std::min(b.length_range.max.value_or(600.0), std::ceil(need));
                prov(t, "duration_s", t.provenance["duration_s"].from, "lengthened to hold the brief's events");
            }
    }
    r.duration_s = t.duration_s;
    r.duration_exact = t.duration_stated;
    r.form = std::move(form);
    r.first_hook_s = b.first_hook_s;
    r.drop_times_s = b.drop_times_s;
    r.drops = b.drops ? *b.drops : std::max({b.min_drops, int(b.drop_times_s.size()), hit_drops});
    r.builds = b.builds ? *b.builds : std::max(b.min_builds, hit_builds);
    r.hooks = b.hooks;
    r.long_build = b.long_build;
    r.build_into_hook = b.build_into_hook;
    r.intro = b.intro;
    r.outro = b.outro;
    t.sections = plan_form(r);
    t.duration_s = 0;
    for (const auto& s : t.sections) t.duration_s += s.duration_s;
    t.duration_s = std::round(t.duration_s * 100) / 100;
    t.energy_arc = arc_of_plan(t.sections, t.duration_s, t.bpm);
    normalize_arc(t);
    set_hook_fields(t);
    t.build_times_s.clear();
    t.drop_times_s.clear();
    for (const auto& s : t.sections) {
        if (s.build) t.build_times_s.push_back(std::round(s.start_s * 100) / 100);
        if (s.drop) t.drop_times_s.push_back(std::round(s.start_s * 100) / 100);
    }
    t.builds = int(t.build_times_s.size());
    t.drops = int(t.drop_times_s.size());
    std::string events;
    for (const auto& it : b.items)
        if (it.kind == ItemKind::event || it.kind == ItemKind::count) events += (events.empty() ? "'" : ", '") + it.text + "'";
    const std::string base = t.from_hits ? "hits" : "default";
    prov(t, "sections", events.empty() ? base : "prompt", events.empty() ? (t.from_hits ? "the closest hit's form" : "the default pop form") : "around " + events);
    prov(t, "energy_arc_lu", t.provenance["sections"].from, "from the section plan");
    prov(t, "first_hook_s", b.first_hook_s ? "prompt" : t.provenance["sections"].from, b.first_hook_s ? item_text(b, ItemKind::event, "hook") : "");
    prov(t, "hook_repeats", b.hooks ? "prompt" : t.provenance["sections"].from, b.hooks ? item_text(b, ItemKind::count, "hook") : "");
    const bool drops_stated = b.drops || b.min_drops > 0 || !b.drop_times_s.empty();
    const bool builds_stated = b.builds || b.min_builds > 0;
    prov(t, "drops", drops_stated ? "prompt" : base, drops_stated ? (item_text(b, ItemKind::event, "drop") + item_text(b, ItemKind::count, "drop")) : "");
    prov(t, "builds", builds_stated ? "prompt" : base, builds_stated ? (item_text(b, ItemKind::event, "build") + item_text(b, ItemKind::count, "build")) : "");
}

// Every field not yet given a provenance comes from `from`.
void default_provenance(Target& t, const std::string& from) {
    for (const char* f : {"bpm", "key", "mode", "duration_s", "genres", "descriptors", "production.sub_presence", "production.bass_808_sustain_s",
                          "production.mean_width", "production.sparkle_db", "production.integrated_lufs"})
        if (!t.provenance.count(f)) t.provenance[f] = {from, ""};
}

}  // namespace

Target from_brief(const Brief& b, std::optional<double> duration_s) {
    Target t;
    t.prompt = b.prompt;
    t.duration_s = 180;
    apply_tempo_key_length(b, duration_s, t);
    apply_production(b, t);
    apply_styles(b, t);
    default_provenance(t, "default");
    plan_target(b, {}, 0, 0, t);
    return t;
}

Target from_prompt(const std::string& prompt, std::optional<double> duration_s) { return from_brief(parse_brief(prompt), duration_s); }

namespace {

// The hits that vote, with the sum of their weights.
struct Votes {
    std::vector<HitDna> hits;
    double wsum = 0;
};

// The scored tracks whose stored DNA is readable, weighted by score (at least 1e-6); each is
// also listed in the target's hits, and the first five genres met become the target's.
Votes read_hits(store::Catalog& cat, const std::vector<std::pair<int64_t, double>>& scored, Target& t) {
    Votes v;
    for (auto& [id, score] : scored) {
        auto row = cat.track(id);
        const std::string text = cat.dna_json(id);
        if (!row || text.empty()) continue;
        HitDna h;
        try {
            h = parse_hit(json::parse(text));
        } catch (const std::exception&) {
            continue;  // a track whose stored DNA is unreadable does not vote
        }
        h.weight = std::max(score, 1e-6);
        v.wsum += h.weight;
        v.hits.push_back(std::move(h));
        t.hits.push_back({id, row->title, row->artist, score, 0, ""});
        for (const auto& g : row->genres)
            if (std::find(t.genres.begin(), t.genres.end(), g) == t.genres.end() && t.genres.size() < 5) t.genres.push_back(g);
    }
    return v;
}

// Tempo, duration, builds and drops as weighted medians, and the key with the most weight.
void vote_tempo_key_and_length(const Votes& v, Target& t, int& builds, int& drops) {
    std::vector<std::pair<double, double>> bpms, durs, bs, ds;
    std::map<std::string, double> keys;
    for (const auto& h : v.hits) {
        const double w = h.weight / v.wsum;
        if (h.bpm) bpms.push_back({*h.bpm, w});
        durs.push_back({h.duration_s, w});
        bs.push_back({double(h.builds), w});
        ds.push_back({double(h.drops), w});
        if (!h.key.empty()) keys[h.key + " " + h.mode] += w;
    }
    t.bpm = bpms.empty() ? 120.0 : std::round(weighted_median(bpms));  // whole BPM, as a plan states it
    if (!keys.empty()) {
        auto best = std::max_element(keys.begin(), keys.end(), [](auto& a, auto& b) { return a.second < b.second; });
        auto sp = best->first.find(' ');
        t.key = best->first.substr(0, sp);
        t.mode = best->first.substr(sp + 1);
    }
    // 10..600 s: what the API can make and the synthesizer renders in bounded memory.
    t.duration_s = std::clamp(std::round(weighted_median(durs)), 10.0, 600.0);
    builds = int(std::lround(weighted_median(bs)));
    drops = int(std::lround(weighted_median(ds)));
}

// The production figures and the energy arc as weighted means (the arc to 0.1 LU).
void average_production_and_arc(const Votes& v, Target& t) {
    TargetProduction pr{0, 0, 0, 0, 0};
    t.energy_arc.assign(k_arc_points, 0.0);
    for (const auto& h : v.hits) {
        const double w = h.weight / v.wsum;
        pr.sub_presence += w * h.production.sub_presence;
        pr.bass_808_sustain_s += w * h.production.bass_808_sustain_s;
        pr.mean_width += w * h.production.mean_width;
        pr.sparkle_db += w * h.production.sparkle_db;
        pr.integrated_lufs += w * h.production.integrated_lufs;
        for (int k = 0; k < k_arc_points; ++k) t.energy_arc[size_t(k)] += w * h.arc[size_t(k)];
    }
    t.production = pr;
    for (auto& x : t.energy_arc) x = std::round(x * 10) / 10;
}

// The closest hit with a real form (two sections or more, a duration); nullptr when none has one.
const HitDna* form_template(const std::vector<HitDna>& hits) {
    const HitDna* tpl = nullptr;
    for (const auto& h : hits)
        if (h.sections.size() >= 2 && h.duration_s > 0 && (!tpl || h.weight > tpl->weight)) tpl = &h;
    return tpl;
}

// While the shortest section is under 3/4 of min_len_s or there are more than max_sections,
// it joins its shorter neighbour, which keeps its role (the role of the longer part); an
// opening shorter than that borrows from a hook after it instead, so that merging never puts
// a hook at 0:00. A hook is never merged away, and keeps its start: a short hook borrows up to
// min_len_s from the part after it (while that part stays long enough), else takes that part
// in; a short part before a hook joins the part before it rather than moving the hook earlier.
void merge_short_sections(std::vector<PlannedSection>& sections, double min_len_s, size_t max_sections) {
    auto hook = [&](size_t i) { return sections[i].role == "hook"; };
    for (bool merged = true; merged && sections.size() > 1;) {
        merged = false;
        size_t shortest = 0;
        for (size_t i = 1; i < sections.size(); ++i)
            if (sections[i].duration_s < sections[shortest].duration_s) shortest = i;
        const bool is_short = sections[shortest].duration_s < min_len_s * 0.75;
        if (!(is_short || sections.size() > max_sections)) break;
        merged = true;
        if (is_short && shortest == 0 && hook(1) && !hook(0) && sections[1].duration_s >= 2 * min_len_s) {
            const double take = min_len_s - sections[0].duration_s;
            sections[0].duration_s += take;
            sections[1].duration_s -= take;
            continue;
        }
        if (hook(shortest)) {
            // The part after (before, for a last hook) lends or is taken in; the hook keeps
            // its label and, unless it is last, its start.
            const bool last = shortest + 1 >= sections.size();
            const size_t other = last ? shortest - 1 : shortest + 1;
            const double take = min_len_s - sections[shortest].duration_s;
            if (is_short && sections[other].duration_s - take >= min_len_s * 0.75) {
                sections[shortest].duration_s += take;
                sections[other].duration_s -= take;
                continue;
            }
            sections[shortest].duration_s += sections[other].duration_s;
            sections.erase(sections.begin() + long(other));
            continue;
        }
        size_t into = shortest == 0 ? 1
                      : shortest + 1 >= sections.size() ? shortest - 1
                      : (sections[shortest - 1].duration_s <= sections[shortest + 1].duration_s ? shortest - 1 : shortest + 1);
        if (into == shortest + 1 && shortest > 0 && hook(into)) into = shortest - 1;
        if (into == 1 && shortest == 0 && hook(1) && !hook(0)) sections[1].role = sections[0].role, sections[1].label = sections[0].label;
        sections[into].duration_s += sections[shortest].duration_s;
        sections.erase(sections.begin() + long(shortest));
    }
    double at = 0;
    for (auto& s : sections) s.start_s = at, at += s.duration_s;
}

// Adjacent repeats of one part become one part while together they last no longer than the
// analyzer's longest section (it joins repeated neighbours by the same rule): a longer run
// stays the parts the hit had, so that the plan keeps the hit's boundaries (one 214 s hook
// where the hit had four of about 55 s lost three of them).
void merge_adjacent_repeats(std::vector<PlannedSection>& sections) {
    const double longest = analysis::StructureParams{}.max_section_s;
    for (size_t i = 1; i < sections.size();)
        if (sections[i].label == sections[i - 1].label && sections[i].role == sections[i - 1].role &&
            sections[i].duration_s + sections[i - 1].duration_s <= longest) {
            sections[i - 1].duration_s += sections[i].duration_s;
            sections.erase(sections.begin() + long(i));
        } else {
            ++i;
        }
    double at = 0;
    for (auto& s : sections) s.start_s = at, at += s.duration_s;
}

// The template's form scaled to the target's duration with parts of at least max(4 bars, 12 s)
// and at most one per 15 s, as parts for plan_form with levels from the hits' mean arc.
std::vector<FormPart> template_parts(const HitDna& tpl, const Target& t) {
    std::vector<PlannedSection> secs;
    const double scale = t.duration_s / tpl.duration_s;
    for (auto s : tpl.sections) {
        s.start_s *= scale;
        s.duration_s *= scale;
        secs.push_back(s);
    }
    const double bar = 4 * 60.0 / t.bpm;
    merge_short_sections(secs, std::max(4 * bar, 12.0), std::max<size_t>(1, size_t(t.duration_s / 15)));
    merge_adjacent_repeats(secs);
    return parts_of(secs, t.duration_s, t.energy_arc);
}

// The template hit's held tempo changes, at the same share of the song and the same ratio to
// its tempo, when the target's tempo came from the hits (a stated or feel-moved tempo is the
// tempo throughout: the brief is honoured exactly). Changes of under 2 % after rounding or
// within 4 bars of the song's edges are left out.
void carry_tempo_changes(const HitDna* tpl, Target& t) {
    t.tempo_changes.clear();
    const bool open = t.provenance["bpm"].from == "hits";
    if (!tpl || !tpl->bpm || *tpl->bpm <= 0 || tpl->duration_s <= 0 || tpl->tempo_changes.empty()) {
        prov(t, "tempo_changes", open ? "hits" : t.provenance["bpm"].from, open ? "none in the closest hit's form" : "one tempo: the brief's");
        return;
    }
    if (!open) {
        prov(t, "tempo_changes", t.provenance["bpm"].from, "one tempo: the brief's (the closest hit changes tempo)");
        return;
    }
    const double bar = 240.0 / t.bpm;
    double last = t.bpm;
    for (const auto& c : tpl->tempo_changes) {
        const double at = std::round(c.time_s * t.duration_s / tpl->duration_s * 100) / 100;
        const double bpm = std::round(c.bpm * t.bpm / *tpl->bpm * 10) / 10;
        if (at < 4 * bar || at > t.duration_s - 4 * bar || !(bpm >= 30 && bpm <= 300) || std::abs(bpm / last - 1) < 0.02) continue;
        t.tempo_changes.push_back({at, bpm});
        last = bpm;
    }
    prov(t, "tempo_changes", "hits", "the closest hit's, scaled to the target's tempo and length");
}

// Descriptor words that describe a field the target sets itself (tempo, key, mode, width,
// loudness, brightness, low end, builds, drops, hook time): the target's own values speak.
bool describes_target_field(const std::string& d) {
    static const std::vector<std::string> words = {"slow", "midtempo", "uptempo", "fast", "tempo-changes", "beatless", "major", "minor",
                                                   "heavy-sub", "light-low-end", "long-808", "wide", "narrow", "mono", "dynamic", "loud",
                                                   "bright", "dark", "builds", "drops", "early-hook"};
    return d.rfind("key-", 0) == 0 || std::find(words.begin(), words.end(), d) != words.end();
}

// The descriptors of at least half the weight, the most shared first (ties by word), at most
// 12; none that describes a field the target sets, or that a feel word of the brief rules out.
std::vector<std::string> shared_descriptors(const Votes& v, const Brief& b) {
    std::map<std::string, double> words;
    for (const auto& h : v.hits)
        for (const auto& d : h.descriptors) words[d] += h.weight / v.wsum;
    std::vector<std::pair<double, std::string>> ranked;
    for (auto& [w, s] : words) ranked.push_back({s, w});
    std::sort(ranked.begin(), ranked.end(), [](auto& x, auto& y) { return x.first != y.first ? x.first > y.first : x.second < y.second; });
    std::string ruled_out = " ";
    for (const auto& f : feel_words())
        if (std::find(b.feels.begin(), b.feels.end(), f.canonical) != b.feels.end()) ruled_out += std::string(f.contradicts) + " ";
    if (b.mode || b.feel_mode) ruled_out += (b.mode ? *b.mode : *b.feel_mode) == "major" ? "sad " : "happy ";
    std::vector<std::string> out;
    for (auto& [share, w] : ranked)
        if (share >= 0.5 && out.size() < 12 && !describes_target_field(w) && ruled_out.find(" " + w + " ") == std::string::npos) out.push_back(w);
    return out;
}

}  // namespace

Target aggregate(store::Catalog& cat, const std::vector<std::pair<int64_t, double>>& scored, const Brief& b, std::optional<double> duration_s) {
    Target t;
    t.prompt = b.prompt;
    const Votes votes = read_hits(cat, scored, t);
    if (votes.hits.empty()) return from_brief(b, duration_s);
    t.from_hits = true;
    for (size_t i = 0; i < votes.hits.size(); ++i) t.hits[i].weight = votes.hits[i].weight / votes.wsum;
    int builds = 0, drops = 0;
    vote_tempo_key_and_length(votes, t, builds, drops);
    average_production_and_arc(votes, t);
    apply_tempo_key_length(b, duration_s, t);
    apply_production(b, t);
    apply_styles(b, t);
    default_provenance(t, "hits");
    // Structure: the closest hit with a real form is the template, fitted around the brief.
    const HitDna* tpl = form_template(votes.hits);
    plan_target(b, tpl ? template_parts(*tpl, t) : std::vector<FormPart>{}, builds, drops, t);
    carry_tempo_changes(tpl, t);
    t.descriptors = shared_descriptors(votes, b);
    return t;
}

Target aggregate(store::Catalog& cat, const std::vector<std::pair<int64_t, double>>& scored, const std::string& prompt, std::optional<double> duration_s) {
    Brief b;
    b.prompt = prompt;
    b.free_text = prompt;
    return aggregate(cat, scored, b, duration_s);
}

double brief_affinity(const Brief& b, const store::TrackRow& h, std::string* why) {
    double f = 1;
    std::string text;
    char buf[160];
    auto note = [&](const std::string& s) { text += (text.empty() ? "" : ", ") + s; };
    if (h.bpm && *h.bpm > 0 && (b.bpm || b.bpm_range.min || b.bpm_range.max)) {
        double x;
        if (b.bpm) {
            // Distance at the nearest metrical level; ternary levels cost a little more.
            double d = 1e9;
            for (auto [level, extra] : {std::pair{1.0, 0.0}, {2.0, 0.0}, {0.5, 0.0}, {1.5, 0.03}, {2.0 / 3, 0.03}})
                d = std::min(d, std::abs(std::log(*h.bpm * level / *b.bpm)) + extra);
            x = std::max(0.05, std::exp(-(d / 0.08) * (d / 0.08)));
            std::snprintf(buf, sizeof buf, "tempo %.0f BPM vs %.0f: x%.2f", *h.bpm, *b.bpm, x);
        } else {
            const bool in = b.bpm_range.contains(*h.bpm) || b.bpm_range.contains(*h.bpm * 2) || b.bpm_range.contains(*h.bpm / 2);
            x = in ? 1.0 : 0.4;
            std::snprintf(buf, sizeof buf, "tempo %.0f BPM %s the feel's range: x%.2f", *h.bpm, x == 1.0 ? "in" : "outside", x);
        }
        f *= x;
        note(buf);
    }
    if (const auto mode = b.mode ? b.mode : b.feel_mode; mode && !h.mode.empty()) {
        const double x = h.mode == *mode ? 1.0 : 0.5;
        f *= x;
        std::snprintf(buf, sizeof buf, "%s mode: x%.2f", h.mode.c_str(), x);
        note(buf);
    }
    if (b.duration_s && h.duration_s > 0) {
        const double x = std::max(0.5, std::exp(-std::abs(std::log(h.duration_s / *b.duration_s)) / 0.8));
        f *= x;
        std::snprintf(buf, sizeof buf, "length %s vs %s: x%.2f", mmss(h.duration_s).c_str(), mmss(*b.duration_s).c_str(), x);
        note(buf);
    }
    for (const auto& g : b.genres)
        if (std::any_of(h.genres.begin(), h.genres.end(), [&](const std::string& x) { return canonical_genre(x) == g; })) {
            f *= 2;
            note("genre " + g + ": x2");
            break;
        }
    for (const auto& a : b.artists)
        if (store::normalize_name(a) == store::normalize_name(h.artist)) {
            f *= 3;
            note("artist named in the brief: x3");
            break;
        }
    if (why) *why = text;
    return f;
}

std::string enriched_prompt(const Target& t) {
    std::string s = t.brief.empty() && t.free_text.empty() ? t.prompt : t.free_text;
    while (!s.empty() && (s.back() == '.' || s.back() == ' ' || s.back() == ',')) s.pop_back();
    if (!s.empty()) s += ". ";
    char b[200];
    const bool exact_length = t.duration_stated;
    std::string feel_time;
    for (const auto& w : t.stated_styles)
        if (w == "half-time feel" || w == "double-time feel") feel_time = " with a " + w;
    std::snprintf(b, sizeof b, "Instrumental, %g BPM%s, %s %s, %s%s long.", std::round(t.bpm * 10) / 10, feel_time.c_str(), t.key.c_str(), t.mode.c_str(),
                  exact_length ? "" : "about ", mmss(std::round(t.duration_s)).c_str());
    s += b;
    for (const auto& c : t.tempo_changes) {
        std::snprintf(b, sizeof b, " The tempo moves to %g BPM at %s.", c.bpm, mmss(c.time_s).c_str());
        s += b;
    }
    if (!t.genres.empty()) {
        s += " Genre: ";
        for (size_t i = 0; i < t.genres.size(); ++i) s += (i ? ", " : "") + t.genres[i];
        s += ".";
    }
    s += " Structure:";
    for (size_t i = 0; i < t.sections.size(); ++i) {
        const auto& x = t.sections[i];
        const std::string role = x.build ? x.role + " (build)" : x.drop ? x.role + " (drop)" : x.role;
        s += std::string(i ? "," : "") + " " + role + " " + mmss(x.start_s) + "-" + mmss(x.start_s + x.duration_s);
    }
    s += ".";
    if (t.first_hook_s) {
        std::snprintf(b, sizeof b, " The hook arrives at %s and comes %d time%s.", mmss(*t.first_hook_s).c_str(), t.hook_repeats, t.hook_repeats == 1 ? "" : "s");
        s += b;
    }
    auto times = [](const std::vector<double>& v) {
        std::string out;
        for (size_t i = 0; i < v.size(); ++i) out += (i ? (i + 1 == v.size() ? " and " : ", ") : "") + mmss(v[i]);
        return out;
    };
    // Energy in words: where the arc is lowest and highest, then the builds and drops.
    if (!t.energy_arc.empty()) {
        auto lo = std::min_element(t.energy_arc.begin(), t.energy_arc.end()) - t.energy_arc.begin();
        auto hi = std::max_element(t.energy_arc.begin(), t.energy_arc.end()) - t.energy_arc.begin();
        std::snprintf(b, sizeof b, " Energy: quietest around %s, peak around %s", mmss((double(lo) + 0.5) / k_arc_points * t.duration_s).c_str(),
                      mmss((double(hi) + 0.5) / k_arc_points * t.duration_s).c_str());
        s += b;
        std::snprintf(b, sizeof b, ", %d build%s", t.builds, t.builds == 1 ? "" : "s");
        s += b + (t.build_times_s.empty() ? std::string() : " (from " + times(t.build_times_s) + ")");
        std::snprintf(b, sizeof b, " and %d drop%s", t.drops, t.drops == 1 ? "" : "s");
        s += b + (t.drop_times_s.empty() ? std::string() : " (at " + times(t.drop_times_s) + ")") + ".";
    }
    auto styles = global_styles(t);
    std::string prod;
    for (const auto& x : styles)
        if (x.find("bass") != std::string::npos || x.find("stereo") != std::string::npos || x.find("top end") != std::string::npos ||
            x.find("master") != std::string::npos || x.find("mix") != std::string::npos)
            prod += (prod.empty() ? "" : ", ") + x;
    std::snprintf(b, sizeof b, " Production: %s%sabout %.0f LUFS.", prod.c_str(), prod.empty() ? "" : ", ", t.production.integrated_lufs);
    s += b;
    std::string feel;
    for (const auto& w : t.stated_styles)
        if (w.find("time feel") == std::string::npos && std::find(t.genres.begin(), t.genres.end(), w) == t.genres.end()) feel += (feel.empty() ? "" : ", ") + w;
    for (const auto& d : t.descriptors)
        if (d.rfind("key-", 0) != 0 && std::find(t.stated_styles.begin(), t.stated_styles.end(), d) == t.stated_styles.end())
            feel += (feel.empty() ? "" : ", ") + d;
    if (!feel.empty()) s += " Feel: " + feel + ".";
    if (s.size() > 4100) s = utf8_prefix(s, 4100);  // the API's prompt limit
    return s;
}

json composition_plan(const Target& t, const std::string& model_id) {
    // Within the API's limits: at most 600 s in total (targets are at most 600 s; longer
    // ones are scaled), 30 parts, each 3..120 s. Durations are whole milliseconds taken from
    // rounded boundaries, so they add up to the total exactly.
    std::vector<PlannedSection> secs;
    double total = 0;
    for (const auto& s : t.sections) total += std::max(0.0, s.duration_s);
    const double scale = total > 600 ? 600 / total : 1.0;
    for (auto s : t.sections) {
        s.duration_s = std::max(0.0, s.duration_s) * scale;
        secs.push_back(s);
    }
    for (int round = 0; round < 4; ++round) {
        secs = split_long(secs);
        tidy_sections(secs);
    }
    if (secs.empty()) secs.push_back({"verse", "A", 0, std::max(3.0, t.duration_s), 0});
    std::vector<int> dms;
    {
        double at = 0;
        long prev = 0;
        for (size_t i = 0; i < secs.size(); ++i) {
            at += secs[i].duration_s;
            const long edge = std::lround(at * 1000);
            dms.push_back(int(std::clamp(edge - prev, 3000L, 120000L)));
            prev = edge;
        }
    }
    size_t di = 0;
    std::map<std::string, int> counts;
    const auto styles = global_styles(t);
    auto ms = [&](double) { return dms[di++]; };
    if (model_id == "music_v2") {
        json chunks = json::array();
        for (const auto& s : secs) {
            const std::string name = section_name(s.role, ++counts[s.role]);
            json c;
            c["text"] = "[" + name + "]\n{instrumental, " + energy_words(s.energy_lu) + "}";
            c["duration_ms"] = ms(s.duration_s);
            std::vector<std::string> pos = {s.role, energy_words(s.energy_lu)};
            for (const auto& g : styles)
                if (pos.size() < 50) pos.push_back(g);
            c["positive_styles"] = pos;
            c["negative_styles"] = json::array({"vocals"});
            chunks.push_back(c);
        }
        return json{{"chunks", chunks}};
    }
    json sections = json::array();
    for (const auto& s : secs) {
        json x;
        x["section_name"] = section_name(s.role, ++counts[s.role]);
        std::vector<std::string> local = {s.role, energy_words(s.energy_lu)};
        if (s.role == "pre-hook") local.push_back("building tension");
        if (s.role == "hook") local.push_back("catchy main motif");
        x["positive_local_styles"] = local;
        x["negative_local_styles"] = json::array();
        x["duration_ms"] = ms(s.duration_s);
        x["lines"] = json::array();
        sections.push_back(x);
    }
    return json{{"positive_global_styles", styles}, {"negative_global_styles", json::array({"vocals"})}, {"sections", sections}};
}

std::vector<FieldLine> target_fields(const Target& t) {
    auto from = [&](const std::string& f) {
        auto it = t.provenance.find(f);
        return it == t.provenance.end() ? std::pair<std::string, std::string>{t.from_hits ? "hits" : "default", ""}
                                        : std::pair<std::string, std::string>{it->second.from, it->second.note};
    };
    auto times = [](const std::vector<double>& v) {
        std::string out;
        for (double x : v) {
            if (!out.empty()) out += ' ';
            out += mmss(x);
        }
        return out;
    };
    char b[96];
    std::vector<FieldLine> out;
    auto add = [&](const std::string& field, const std::string& value) {
        auto [f, n] = from(field);
        out.push_back({field, value, f, n});
    };
    std::snprintf(b, sizeof b, "%g BPM", std::round(t.bpm * 10) / 10);
    add("bpm", b);
    std::string changes;
    for (const auto& c : t.tempo_changes) {
        std::snprintf(b, sizeof b, "%s%g BPM at %s", changes.empty() ? "" : ", ", c.bpm, mmss(c.time_s).c_str());
        changes += b;
    }
    add("tempo_changes", changes.empty() ? "none" : changes);
    add("key", t.key);
    add("mode", t.mode);
    std::snprintf(b, sizeof b, "%s (%.1f s)", mmss(std::round(t.duration_s)).c_str(), t.duration_s);
    add("duration_s", b);
    std::string form;
    for (const auto& s : t.sections) form += (form.empty() ? "" : " ") + s.label;
    add("sections", std::to_string(t.sections.size()) + " (" + form + ")");
    add("first_hook_s", t.first_hook_s ? mmss(*t.first_hook_s) : "none");
    add("hook_repeats", std::to_string(t.hook_repeats));
    add("builds", std::to_string(t.builds) + (t.build_times_s.empty() ? "" : " (" + times(t.build_times_s) + ")"));
    add("drops", std::to_string(t.drops) + (t.drop_times_s.empty() ? "" : " (" + times(t.drop_times_s) + ")"));
    std::snprintf(b, sizeof b, "%.2f", t.production.sub_presence);
    add("production.sub_presence", b);
    std::snprintf(b, sizeof b, "%.2f s", t.production.bass_808_sustain_s);
    add("production.bass_808_sustain_s", b);
    std::snprintf(b, sizeof b, "%.2f", t.production.mean_width);
    add("production.mean_width", b);
    std::snprintf(b, sizeof b, "%.1f dB", t.production.sparkle_db);
    add("production.sparkle_db", b);
    std::snprintf(b, sizeof b, "%.1f LUFS", t.production.integrated_lufs);
    add("production.integrated_lufs", b);
    std::string g;
    for (const auto& x : t.genres) g += (g.empty() ? "" : ", ") + x;
    add("genres", g.empty() ? "none" : g);
    return out;
}

json to_json(const Target& t) {
    json j;
    j["format"] = "hitdna-target-1";
    j["prompt"] = t.prompt;
    j["from_hits"] = t.from_hits;
    j["bpm"] = t.bpm;
    json changes = json::array();
    for (const auto& c : t.tempo_changes) changes.push_back({{"time_s", c.time_s}, {"bpm", c.bpm}});
    j["tempo_changes"] = changes;
    j["key"] = t.key;
    j["mode"] = t.mode;
    j["duration_s"] = t.duration_s;
    j["duration_stated"] = t.duration_stated;
    json secs = json::array();
    for (const auto& s : t.sections)
        secs.push_back({{"role", s.role}, {"label", s.label}, {"start_s", std::round(s.start_s * 100) / 100},
                        {"duration_s", std::round(s.duration_s * 100) / 100}, {"energy_lu", s.energy_lu}, {"build", s.build}, {"drop", s.drop}});
    j["sections"] = secs;
    j["energy_arc_lu"] = t.energy_arc;
    j["first_hook_s"] = t.first_hook_s ? json(std::round(*t.first_hook_s * 100) / 100) : json(nullptr);
    j["hook_repeats"] = t.hook_repeats;
    j["builds"] = t.builds;
    j["drops"] = t.drops;
    j["production"] = {{"sub_presence", t.production.sub_presence},
                       {"bass_808_sustain_s", t.production.bass_808_sustain_s},
                       {"mean_width", t.production.mean_width},
                       {"sparkle_db", t.production.sparkle_db},
                       {"integrated_lufs", t.production.integrated_lufs}};
    j["descriptors"] = t.descriptors;
    j["genres"] = t.genres;
    json hits = json::array();
    for (const auto& h : t.hits)
        hits.push_back({{"track_id", h.track_id}, {"title", h.title}, {"artist", h.artist}, {"score", h.score}, {"weight", std::round(h.weight * 10000) / 10000}, {"why", h.why}});
    j["hits"] = hits;
    j["build_times_s"] = t.build_times_s;
    j["drop_times_s"] = t.drop_times_s;
    json brief = json::array();
    for (const auto& it : t.brief) {
        json x = {{"kind", to_string(it.kind)}, {"text", it.text}, {"span", {it.span.begin, it.span.end}}, {"value", it.value}};
        if (!it.what.empty()) x["what"] = it.what;
        if (!std::isnan(it.number)) x["number"] = it.number;
        brief.push_back(x);
    }
    j["brief"] = brief;
    j["free_text"] = t.free_text;
    j["stated_styles"] = t.stated_styles;
    json pv = json::object();
    for (const auto& [field, p] : t.provenance) {
        pv[field] = {{"from", p.from}};
        if (!p.note.empty()) pv[field]["note"] = p.note;
    }
    j["provenance"] = pv;
    return j;
}

namespace {

// The brief, its provenance and the event times of a target file (absent in older files).
void read_brief_fields(const json& j, Target& t) {
    t.build_times_s = j.value("build_times_s", std::vector<double>{});
    t.drop_times_s = j.value("drop_times_s", std::vector<double>{});
    t.free_text = j.value("free_text", std::string());
    t.stated_styles = j.value("stated_styles", std::vector<std::string>{});
    const json brief = j.value("brief", json::array());
    for (const auto& x : brief) {
        BriefItem it;
        const std::string kind = x.at("kind").get<std::string>();
        bool known = false;
        for (ItemKind k : {ItemKind::tempo, ItemKind::half_time, ItemKind::key, ItemKind::mode, ItemKind::length, ItemKind::event, ItemKind::count,
                           ItemKind::feel, ItemKind::genre, ItemKind::title, ItemKind::artist})
            if (kind == to_string(k)) it.kind = k, known = true;
        if (!known) throw std::runtime_error("brief item of unknown kind '" + kind + "'");
        it.text = x.at("text").get<std::string>();
        it.value = x.at("value").get<std::string>();
        it.what = x.value("what", std::string());
        it.number = x.contains("number") ? x["number"].get<double>() : std::nan("");
        const auto span = x.value("span", std::vector<size_t>{0, 0});
        if (span.size() == 2) it.span = {span[0], span[1]};
        t.brief.push_back(it);
    }
    const json provenance = j.value("provenance", json::object());  // items() must not outlive it
    for (const auto& [field, p] : provenance.items()) t.provenance[field] = {p.value("from", ""), p.value("note", "")};
}

}  // namespace

Target target_from_json(const json& j, const std::string& source) {
    Target t;
    try {
        if (j.value("format", "") != "hitdna-target-1") throw std::runtime_error("\"format\" is not \"hitdna-target-1\"");
        t.prompt = j.value("prompt", "");
        t.from_hits = j.value("from_hits", false);
        t.bpm = j.at("bpm").get<double>();
        for (const auto& c : j.value("tempo_changes", json::array())) t.tempo_changes.push_back({c.at("time_s").get<double>(), c.at("bpm").get<double>()});
        t.key = j.at("key").get<std::string>();
        t.mode = j.at("mode").get<std::string>();
        t.duration_s = j.at("duration_s").get<double>();
        t.duration_stated = j.value("duration_stated", false);
        for (const auto& s : j.at("sections")) {
            t.sections.push_back({s.at("role").get<std::string>(), s.value("label", "A"), s.at("start_s").get<double>(), s.at("duration_s").get<double>(),
                                  s.value("energy_lu", 0.0)});
            t.sections.back().build = s.value("build", false);
            t.sections.back().drop = s.value("drop", false);
        }
        read_brief_fields(j, t);
        t.energy_arc = j.at("energy_arc_lu").get<std::vector<double>>();
        if (j.contains("first_hook_s") && j["first_hook_s"].is_number()) t.first_hook_s = j["first_hook_s"].get<double>();
        t.hook_repeats = j.value("hook_repeats", 0);
        t.builds = j.value("builds", 0);
        t.drops = j.value("drops", 0);
        const json& p = j.at("production");
        t.production = {p.at("sub_presence").get<double>(), p.at("bass_808_sustain_s").get<double>(), p.at("mean_width").get<double>(),
                        p.at("sparkle_db").get<double>(), p.at("integrated_lufs").get<double>()};
        t.descriptors = j.value("descriptors", std::vector<std::string>{});
        t.genres = j.value("genres", std::vector<std::string>{});
    } catch (const std::exception& e) {
        std::string msg = e.what();
        if (auto p = msg.find("] "); p != std::string::npos) msg = msg.substr(p + 2);
        throw Error(ErrorKind::usage, source + ": not a hitdna target: " + msg);
    }
    if (!(t.bpm >= 30 && t.bpm <= 300)) throw Error(ErrorKind::usage, source + ": bpm " + std::to_string(t.bpm) + " out of range 30..300");
    for (size_t i = 0; i < t.tempo_changes.size(); ++i) {
        const auto& c = t.tempo_changes[i];
        if (!(c.bpm >= 30 && c.bpm <= 300) || !(c.time_s > 0 && c.time_s < t.duration_s) || (i > 0 && c.time_s <= t.tempo_changes[i - 1].time_s))
            throw Error(ErrorKind::usage, source + ": tempo_changes[" + std::to_string(i) + "] needs bpm in 30..300 and a time_s inside the song, after the one before");
    }
    if (dna::pitch_index(t.key) < 0 || (t.mode != "major" && t.mode != "minor"))
        throw Error(ErrorKind::usage, source + ": key must be one of C C# D Eb E F F# G Ab A Bb B and mode major or minor");
    if (t.sections.empty() || !(t.duration_s >= 3 && t.duration_s <= 600)) throw Error(ErrorKind::usage, source + ": needs sections and a duration of 3..600 s");
    double sum = 0;
    for (const auto& x : t.sections) {
        if (!(x.duration_s > 0 && x.duration_s <= t.duration_s + 1e-6))
            throw Error(ErrorKind::usage, source + ": section '" + x.role + "' has duration " + std::to_string(x.duration_s) + " s, outside (0, duration_s]");
        sum += x.duration_s;
    }
    if (std::abs(sum - t.duration_s) > std::max(1.0, 0.01 * t.duration_s))
        throw Error(ErrorKind::usage, source + ": section durations add up to " + std::to_string(sum) + " s, duration_s is " + std::to_string(t.duration_s));
    {
        double at = 0;
        for (auto& x : t.sections) x.start_s = at, at += x.duration_s;
    }
    if (int(t.energy_arc.size()) != k_arc_points) throw Error(ErrorKind::usage, source + ": energy_arc_lu needs " + std::to_string(k_arc_points) + " values");
    return t;
}

std::vector<double> energy_arc(const std::vector<double>& lufs, double integrated_lufs) {
    std::vector<double> arc(k_arc_points, 0.0);
    if (lufs.empty()) return arc;
    for (int k = 0; k < k_arc_points; ++k) {
        size_t a = size_t(double(k) / k_arc_points * double(lufs.size()));
        size_t b = std::max(a + 1, size_t(double(k + 1) / k_arc_points * double(lufs.size())));
        double s = 0;
        size_t n = 0;
        for (size_t i = a; i < b && i < lufs.size(); ++i) s += lufs[i], ++n;
        arc[size_t(k)] = n ? std::clamp(s / double(n) - integrated_lufs, -30.0, 10.0) : 0.0;
    }
    return arc;
}

}  // namespace hitdna::enrich
