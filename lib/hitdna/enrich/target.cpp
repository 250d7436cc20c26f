#include "hitdna/core/text.hpp"
#include "hitdna/enrich/target.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>

#include "hitdna/core/error.hpp"
#include "hitdna/dna/dna.hpp"

using json = nlohmann::json;

namespace hitdna::enrich {

namespace {

struct HitDna {
    double weight = 0;
    double duration_s = 0;
    std::optional<double> bpm;
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

double role_energy(const std::string& role) {
    if (role == "intro") return -6;
    if (role == "verse") return -3;
    if (role == "pre-hook") return -2;
    if (role == "hook") return 0;
    if (role == "bridge") return -5;
    if (role == "outro") return -7;
    return -3;
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
    char b[64];
    std::snprintf(b, sizeof b, "%.0f BPM", t.bpm);
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

Target from_prompt(const std::string& prompt, std::optional<double> duration_s) {
    Target t;
    t.prompt = prompt;
    const std::string p = core::ascii_lower(prompt);
    std::smatch m;
    if (std::regex_search(p, m, std::regex("(\\d{2,3})\\s*bpm"))) t.bpm = std::clamp(std::stod(m[1]), 50.0, 220.0);
    if (std::regex_search(p, m, std::regex("\\b([a-g])(#|b)?\\s*(major|minor|maj|min)\\b"))) {
        std::string k(1, char(std::toupper(static_cast<unsigned char>(m[1].str()[0]))));
        k += m[2].str();
        if (dna::pitch_index(k) < 0) {
            static const std::map<std::string, std::string> enh = {{"Db", "C#"}, {"D#", "Eb"}, {"Gb", "F#"}, {"G#", "Ab"}, {"A#", "Bb"}};
            if (auto it = enh.find(k); it != enh.end()) k = it->second;
        }
        if (dna::pitch_index(k) >= 0) t.key = k;
        t.mode = m[3].str().rfind("min", 0) == 0 ? "minor" : "major";
    } else if (p.find("minor") != std::string::npos || p.find("dark") != std::string::npos || p.find("sad") != std::string::npos) {
        t.mode = "minor";
        t.key = "A";
    }
    const double bar = 4 * 60.0 / t.bpm;
    const std::vector<std::pair<const char*, int>> form = {{"intro", 8}, {"verse", 16}, {"pre-hook", 8}, {"hook", 16}, {"verse", 16},
                                                           {"pre-hook", 8}, {"hook", 16}, {"bridge", 8}, {"hook", 16}, {"outro", 8}};
    const std::map<std::string, std::string> labels = {{"intro", "A"}, {"verse", "B"}, {"pre-hook", "C"}, {"hook", "D"}, {"bridge", "E"}, {"outro", "F"}};
    double total = 0;
    for (auto& [r, bars] : form) total += bars * bar;
    const double scale = duration_s ? *duration_s / total : 1.0;
    for (auto& [r, bars] : form) t.sections.push_back({r, labels.at(r), 0, bars * bar * scale, role_energy(r)});
    tidy_sections(t.sections);
    t.duration_s = 0;
    for (auto& s : t.sections) t.duration_s += s.duration_s;
    t.energy_arc.assign(k_arc_points, 0.0);
    for (int k = 0; k < k_arc_points; ++k) {
        const double at = (k + 0.5) / k_arc_points * t.duration_s;
        for (auto& s : t.sections)
            if (at >= s.start_s && at < s.start_s + s.duration_s) t.energy_arc[size_t(k)] = s.energy_lu;
    }
    normalize_arc(t);
    set_hook_fields(t);
    t.builds = 2;
    t.drops = 1;
    return t;
}

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
        t.hits.push_back({id, row->title, row->artist, score, 0});
        for (const auto& g : row->genres)
            if (std::find(t.genres.begin(), t.genres.end(), g) == t.genres.end() && t.genres.size() < 5) t.genres.push_back(g);
    }
    return v;
}

// Tempo, duration, builds and drops as weighted medians (the duration given wins), and the
// key with the most weight.
void vote_tempo_key_and_length(const Votes& v, std::optional<double> duration_s, Target& t) {
    std::vector<std::pair<double, double>> bpms, durs, builds, drops;
    std::map<std::string, double> keys;
    for (const auto& h : v.hits) {
        const double w = h.weight / v.wsum;
        if (h.bpm) bpms.push_back({*h.bpm, w});
        durs.push_back({h.duration_s, w});
        builds.push_back({double(h.builds), w});
        drops.push_back({double(h.drops), w});
        if (!h.key.empty()) keys[h.key + " " + h.mode] += w;
    }
    t.bpm = bpms.empty() ? 120.0 : std::round(weighted_median(bpms) * 10) / 10;
    if (!keys.empty()) {
        auto best = std::max_element(keys.begin(), keys.end(), [](auto& a, auto& b) { return a.second < b.second; });
        auto sp = best->first.find(' ');
        t.key = best->first.substr(0, sp);
        t.mode = best->first.substr(sp + 1);
    }
    // 10..600 s: what the API can make and the synthesizer renders in bounded memory.
    t.duration_s = std::clamp(duration_s ? *duration_s : std::round(weighted_median(durs)), 10.0, 600.0);
    t.builds = int(std::lround(weighted_median(builds)));
    t.drops = int(std::lround(weighted_median(drops)));
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
// it joins its shorter neighbour, which keeps its role (the role of the longer part).
void merge_short_sections(std::vector<PlannedSection>& sections, double min_len_s, size_t max_sections) {
    for (bool merged = true; merged && sections.size() > 1;) {
        merged = false;
        size_t shortest = 0;
        for (size_t i = 1; i < sections.size(); ++i)
            if (sections[i].duration_s < sections[shortest].duration_s) shortest = i;
        if (sections[shortest].duration_s < min_len_s * 0.75 || sections.size() > max_sections) {
            size_t into = shortest == 0 ? 1
                          : shortest + 1 >= sections.size() ? shortest - 1
                          : (sections[shortest - 1].duration_s <= sections[shortest + 1].duration_s ? shortest - 1 : shortest + 1);
            sections[into].duration_s += sections[shortest].duration_s;
            sections.erase(sections.begin() + long(shortest));
            merged = true;
        }
    }
}

// Adjacent repeats of one part become one part.
void merge_adjacent_repeats(std::vector<PlannedSection>& sections) {
    for (size_t i = 1; i < sections.size();)
        if (sections[i].label == sections[i - 1].label && sections[i].role == sections[i - 1].role) {
            sections[i - 1].duration_s += sections[i].duration_s;
            sections.erase(sections.begin() + long(i));
        } else {
            ++i;
        }
}

// The template's form scaled to the target's duration, in whole bars; the duration becomes
// the sum of the bars, and each section's energy the arc's at its middle.
void form_from_template(const HitDna& tpl, Target& t) {
    const double scale = t.duration_s / tpl.duration_s;
    for (auto s : tpl.sections) {
        s.duration_s *= scale;
        t.sections.push_back(s);
    }
    // Whole bars, at least four per section: a form scaled down from a long song would
    // otherwise have parts too short to play. Short parts join their neighbour first.
    const double bar = 4 * 60.0 / t.bpm;
    const double min_len = std::max(4 * bar, 12.0);
    const size_t max_sections = std::max<size_t>(1, size_t(t.duration_s / 15));
    merge_short_sections(t.sections, min_len, max_sections);
    merge_adjacent_repeats(t.sections);
    double total = 0;
    for (auto& s : t.sections) {
        s.duration_s = std::max(4.0, std::round(s.duration_s / bar)) * bar;
        total += s.duration_s;
    }
    t.duration_s = std::round(total * 100) / 100;
    tidy_sections(t.sections);
    for (auto& s : t.sections) s.energy_lu = std::round(arc_at(t, s.start_s + s.duration_s / 2) * 10) / 10;
}

// The descriptors of at least half the weight, the most shared first (ties by word), at most 12.
std::vector<std::string> shared_descriptors(const Votes& v) {
    std::map<std::string, double> words;
    for (const auto& h : v.hits)
        for (const auto& d : h.descriptors) words[d] += h.weight / v.wsum;
    std::vector<std::pair<double, std::string>> ranked;
    for (auto& [w, s] : words) ranked.push_back({s, w});
    std::sort(ranked.begin(), ranked.end(), [](auto& a, auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
    std::vector<std::string> out;
    for (auto& [share, w] : ranked)
        if (share >= 0.5 && out.size() < 12) out.push_back(w);
    return out;
}

}  // namespace

Target aggregate(store::Catalog& cat, const std::vector<std::pair<int64_t, double>>& scored, const std::string& prompt,
                 std::optional<double> duration_s) {
    Target t;
    t.prompt = prompt;
    const Votes votes = read_hits(cat, scored, t);
    if (votes.hits.empty()) return from_prompt(prompt, duration_s);
    t.from_hits = true;
    for (size_t i = 0; i < votes.hits.size(); ++i) t.hits[i].weight = votes.hits[i].weight / votes.wsum;
    vote_tempo_key_and_length(votes, duration_s, t);
    average_production_and_arc(votes, t);
    // Structure: the closest hit with a real form is the template, scaled to the duration.
    if (const HitDna* tpl = form_template(votes.hits)) {
        form_from_template(*tpl, t);
    } else {
        Target d = from_prompt(prompt, t.duration_s);
        t.sections = d.sections;
    }
    set_hook_fields(t);
    t.descriptors = shared_descriptors(votes);
    return t;
}

std::string enriched_prompt(const Target& t) {
    std::string s = t.prompt;
    while (!s.empty() && (s.back() == '.' || s.back() == ' ')) s.pop_back();
    if (!s.empty()) s += ". ";
    char b[160];
    std::snprintf(b, sizeof b, "Instrumental, %.0f BPM, %s %s, about %s long.", t.bpm, t.key.c_str(), t.mode.c_str(), mmss(t.duration_s).c_str());
    s += b;
    if (!t.genres.empty()) {
        s += " Genre: ";
        for (size_t i = 0; i < t.genres.size(); ++i) s += (i ? ", " : "") + t.genres[i];
        s += ".";
    }
    s += " Structure:";
    for (size_t i = 0; i < t.sections.size(); ++i) {
        const auto& x = t.sections[i];
        s += std::string(i ? "," : "") + " " + x.role + " " + mmss(x.start_s) + "-" + mmss(x.start_s + x.duration_s);
    }
    s += ".";
    if (t.first_hook_s) {
        std::snprintf(b, sizeof b, " The hook arrives at %s and comes %d time%s.", mmss(*t.first_hook_s).c_str(), t.hook_repeats, t.hook_repeats == 1 ? "" : "s");
        s += b;
    }
    // Energy in words: where the arc is lowest and highest.
    if (!t.energy_arc.empty()) {
        auto lo = std::min_element(t.energy_arc.begin(), t.energy_arc.end()) - t.energy_arc.begin();
        auto hi = std::max_element(t.energy_arc.begin(), t.energy_arc.end()) - t.energy_arc.begin();
        std::snprintf(b, sizeof b, " Energy: quietest around %s, peak around %s", mmss((double(lo) + 0.5) / k_arc_points * t.duration_s).c_str(),
                      mmss((double(hi) + 0.5) / k_arc_points * t.duration_s).c_str());
        s += b;
        std::snprintf(b, sizeof b, ", %d build%s and %d drop%s.", t.builds, t.builds == 1 ? "" : "s", t.drops, t.drops == 1 ? "" : "s");
        s += b;
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
    for (const auto& d : t.descriptors)
        if (d.rfind("key-", 0) != 0) feel += (feel.empty() ? "" : ", ") + d;
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

json to_json(const Target& t) {
    json j;
    j["format"] = "hitdna-target-1";
    j["prompt"] = t.prompt;
    j["from_hits"] = t.from_hits;
    j["bpm"] = t.bpm;
    j["key"] = t.key;
    j["mode"] = t.mode;
    j["duration_s"] = t.duration_s;
    json secs = json::array();
    for (const auto& s : t.sections)
        secs.push_back({{"role", s.role}, {"label", s.label}, {"start_s", std::round(s.start_s * 100) / 100},
                        {"duration_s", std::round(s.duration_s * 100) / 100}, {"energy_lu", s.energy_lu}});
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
        hits.push_back({{"track_id", h.track_id}, {"title", h.title}, {"artist", h.artist}, {"score", h.score}, {"weight", std::round(h.weight * 10000) / 10000}});
    j["hits"] = hits;
    return j;
}

Target target_from_json(const json& j, const std::string& source) {
    Target t;
    try {
        if (j.value("format", "") != "hitdna-target-1") throw std::runtime_error("\"format\" is not \"hitdna-target-1\"");
        t.prompt = j.value("prompt", "");
        t.from_hits = j.value("from_hits", false);
        t.bpm = j.at("bpm").get<double>();
        t.key = j.at("key").get<std::string>();
        t.mode = j.at("mode").get<std::string>();
        t.duration_s = j.at("duration_s").get<double>();
        for (const auto& s : j.at("sections"))
            t.sections.push_back({s.at("role").get<std::string>(), s.value("label", "A"), s.at("start_s").get<double>(), s.at("duration_s").get<double>(),
                                  s.value("energy_lu", 0.0)});
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
