#include "hitdna/validate/validate.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "hitdna/core/text.hpp"

namespace hitdna::validate {

namespace {

using core::mmss;

// Pass marks per layer: tempo 0.85 (within about 2 %), key 0.9 (the key itself), structure
// 0.6, energy 0.6, production 0.5; chosen on the rendered briefs of tests/test_brief_render.cpp's
// training half, see man/hitdna-validate.1.
constexpr double k_tempo_pass = 0.85, k_key_pass = 0.9, k_structure_pass = 0.6, k_energy_pass = 0.6, k_production_pass = 0.5;

// Position of a key on the circle of fifths, relative minors sharing their major's place.
int fifths(const std::string& key, const std::string& mode) {
    int t = dna::pitch_index(key);
    if (t < 0) return -1;
    if (mode == "minor") t = (t + 3) % 12;
    return (t * 7) % 12;
}

double pearson(const std::vector<double>& a, const std::vector<double>& b) {
    const size_t n = std::min(a.size(), b.size());
    if (n < 2) return 0;
    double ma = 0, mb = 0;
    for (size_t i = 0; i < n; ++i) ma += a[i], mb += b[i];
    ma /= double(n), mb /= double(n);
    double sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < n; ++i) sab += (a[i] - ma) * (b[i] - mb), saa += (a[i] - ma) * (a[i] - ma), sbb += (b[i] - mb) * (b[i] - mb);
    if (saa < 1e-9 || sbb < 1e-9) return saa < 1e-9 && sbb < 1e-9 ? 1.0 : 0.0;
    return sab / std::sqrt(saa * sbb);
}

// Share of target boundaries with a track boundary within tol seconds, and vice versa (F1).
double boundary_f(const std::vector<double>& target, const std::vector<double>& track, double tol) {
    if (target.empty() && track.empty()) return 1;
    if (target.empty() || track.empty()) return 0;
    auto hits = [&](const std::vector<double>& a, const std::vector<double>& b) {
        int n = 0;
        for (double x : a)
            for (double y : b)
                if (std::abs(x - y) <= tol) {
                    ++n;
                    break;
                }
        return n;
    };
    const double p = double(hits(track, target)) / double(track.size()), r = double(hits(target, track)) / double(target.size());
    return p + r > 0 ? 2 * p * r / (p + r) : 0;
}

}  // namespace

std::vector<double> energy_arc(const dna::Dna& d) {
    return enrich::energy_arc(std::vector<double>(d.audio.energy_lufs.begin(), d.audio.energy_lufs.end()), d.production.integrated_lufs);
}

namespace {

// Records an aspect that falls short of the target (similarity below 0.999), at the cost
// weight x (1 - similarity); compare ranks them at the end.
void add_deviation(Report& r, const std::string& layer, double weight, double sim, const std::string& text) {
    if (sim < 0.999) r.deviations.push_back({layer, weight * (1 - sim), text});
}

// Tempo: exp(-(ln ratio / 0.05)^2): 1 % off 0.96, 5 % off 0.37; half or double tempo counts as 5 % off.
void score_tempo(const dna::Dna& d, const enrich::Target& t, Report& r) {
    char b[200];
    double sim = 0;
    std::string text = "no steady beat found, target " + std::to_string(int(std::lround(t.bpm))) + " BPM";
    if (d.audio.bpm) {
        double e = std::abs(std::log(*d.audio.bpm / t.bpm));
        const double octave = std::abs(e - std::log(2.0));
        e = std::min(e, std::max(octave, 0.05));
        sim = std::exp(-(e / 0.05) * (e / 0.05));
        std::snprintf(b, sizeof b, "tempo %.1f BPM, target %.1f BPM", *d.audio.bpm, t.bpm);
        text = b;
    }
    r.layers.push_back({"tempo", sim, 0.2, k_tempo_pass});
    add_deviation(r, "tempo", 0.2, sim, text);
}

// Key: same 1; relative major/minor 0.8; a fifth apart 0.6; same tonic other mode 0.5;
// further on the circle of fifths 0.4 down to 0.
void score_key(const dna::Dna& d, const enrich::Target& t, Report& r) {
    double sim = 0;
    const int a = fifths(d.audio.key, d.audio.mode), g = fifths(t.key, t.mode);
    if (a >= 0 && g >= 0) {
        const int dist = std::min((a - g + 12) % 12, (g - a + 12) % 12);
        if (d.audio.key == t.key && d.audio.mode == t.mode) sim = 1;
        else if (dist == 0) sim = 0.8;
        else if (d.audio.key == t.key) sim = 0.5;
        else if (dist == 1) sim = 0.6;
        else sim = std::max(0.0, 0.4 - 0.1 * (dist - 2));
    }
    r.layers.push_back({"key", sim, 0.15, k_key_pass});
    add_deviation(r, "key", 0.15, sim, "key " + (d.audio.key.empty() ? std::string("none") : d.audio.key + " " + d.audio.mode) + ", target " + t.key + " " + t.mode);
}

// Drops: each target drop against the nearest drop found, exp(-max(0, |dt| - 1 bar) / 1 bar);
// the mean, and the words for the worst.
std::pair<double, std::string> drop_similarity(const dna::Dna& d, const enrich::Target& t) {
    const double bar = 240.0 / t.bpm;
    double sum = 0, worst = 2;
    std::string text;
    for (double want : t.drop_times_s) {
        double best = 1e9;
        for (const auto& e : d.structure.drops)
            if (std::abs(e.time_s - want) < std::abs(best - want)) best = e.time_s;
        const double sim = best > 1e8 ? 0 : std::exp(-std::max(0.0, std::abs(best - want) - bar) / bar);
        sum += sim;
        if (sim < worst) worst = sim, text = best > 1e8 ? "no drop found, target drop at " + mmss(want) : "drop at " + mmss(best) + ", target " + mmss(want);
    }
    return {t.drop_times_s.empty() ? 1.0 : sum / double(t.drop_times_s.size()), text};
}

// Structure: section count exp(-|n - n_t| / max(2, n_t / 4)), boundaries F1 within 3 s, and
// first hook exp(-max(0, |dt| - 1 bar) / 20 s); their mean. With drops in the target, the
// drop times (drop_similarity) count as much as the other three together.
void score_structure(const dna::Dna& d, const enrich::Target& t, Report& r) {
    char b[200];
    // A section followed by a repeat of itself sounds like one section: the target's
    // adjacent repeats are merged before counting.
    std::vector<double> tb;
    for (size_t i = 1; i < t.sections.size(); ++i)
        if (t.sections[i].label != t.sections[i - 1].label || t.sections[i].role != t.sections[i - 1].role) tb.push_back(t.sections[i].start_s);
    const double n = double(d.structure.sections.size()), nt = double(tb.size() + 1);
    const double count_sim = std::exp(-std::abs(n - nt) / std::max(2.0, nt / 4));
    std::vector<double> ab;
    for (size_t i = 1; i < d.structure.sections.size(); ++i) ab.push_back(d.structure.sections[i].start_s);
    const double bf = boundary_f(tb, ab, 3.0);
    double hook_sim = 1;
    std::string hook_text;
    if (t.first_hook_s && d.structure.first_hook_s) {
        hook_sim = std::exp(-std::max(0.0, std::abs(*d.structure.first_hook_s - *t.first_hook_s) - 240.0 / t.bpm) / 20.0);
        hook_text = "hook arrives at " + mmss(*d.structure.first_hook_s) + ", target " + mmss(*t.first_hook_s);
    } else if (t.first_hook_s) {
        hook_sim = 0;
        hook_text = "no hook found, target hook at " + mmss(*t.first_hook_s);
    }
    const auto [drop_sim, drop_text] = drop_similarity(d, t);
    const double sim = t.drop_times_s.empty() ? (count_sim + bf + hook_sim) / 3 : (count_sim + bf + hook_sim) / 6 + drop_sim / 2;
    r.layers.push_back({"structure", sim, 0.25, k_structure_pass});
    if (!drop_text.empty()) add_deviation(r, "structure", 0.25 / 2, drop_sim, drop_text);
    std::snprintf(b, sizeof b, "%d sections, target %d", int(n), int(nt));
    add_deviation(r, "structure", 0.25 / 3, count_sim, b);
    std::snprintf(b, sizeof b, "%.0f %% of section boundaries within 3 s of the target's", bf * 100);
    add_deviation(r, "structure", 0.25 / 3, bf, b);
    if (!hook_text.empty()) add_deviation(r, "structure", 0.25 / 3, hook_sim, hook_text);
}

// Energy arc: shape by correlation (max(0, r)), level by the mean absolute gap in LU
// (exp(-gap / 6 LU)); 0.7 and 0.3 of the layer. Also fills the report's arc and correlation.
void score_energy(const dna::Dna& d, const enrich::Target& t, Report& r) {
    char b[200];
    r.energy_arc = energy_arc(d);
    r.energy_correlation = pearson(r.energy_arc, t.energy_arc);
    double gap = 0;
    for (int k = 0; k < enrich::k_arc_points; ++k) gap += std::abs(r.energy_arc[size_t(k)] - t.energy_arc[size_t(k)]) / enrich::k_arc_points;
    const double sim = 0.7 * std::max(0.0, r.energy_correlation) + 0.3 * std::exp(-gap / 6.0);
    r.layers.push_back({"energy", sim, 0.25, k_energy_pass});
    std::snprintf(b, sizeof b, "energy arc correlates %.2f with the target's, %.1f LU apart on average", r.energy_correlation, gap);
    add_deviation(r, "energy", 0.25, sim, b);
    // The single worst point, in words.
    int worst = 0;
    for (int k = 1; k < enrich::k_arc_points; ++k)
        if (std::abs(r.energy_arc[size_t(k)] - t.energy_arc[size_t(k)]) > std::abs(r.energy_arc[size_t(worst)] - t.energy_arc[size_t(worst)])) worst = k;
    const double dl = r.energy_arc[size_t(worst)] - t.energy_arc[size_t(worst)];
    if (std::abs(dl) >= 3) {
        std::snprintf(b, sizeof b, "around %s the track is %.1f LU %s than targeted", mmss((worst + 0.5) / enrich::k_arc_points * d.duration_s).c_str(),
                      std::abs(dl), dl > 0 ? "louder" : "quieter");
        add_deviation(r, "energy", 0.25 * std::min(1.0, std::abs(dl) / 12), 0, b);
    }
}

// Production: sub presence (0.1 scale), width (0.15), brightness (sparkle, 6 dB) and
// loudness (4 LU), each exp(-|diff| / scale); the mean.
void score_production(const dna::Dna& d, const enrich::Target& t, Report& r) {
    char b[200];
    const auto& p = d.production;
    const auto& q = t.production;
    struct Part {
        const char* what;
        double a, g, scale;
        const char* unit;
    } parts[] = {{"sub-bass share", p.sub_presence, q.sub_presence, 0.1, ""},
                 {"stereo width", p.mean_width, q.mean_width, 0.15, ""},
                 {"brightness (6-11 kHz share)", p.sparkle_db, q.sparkle_db, 6.0, " dB"},
                 {"loudness", p.integrated_lufs, q.integrated_lufs, 4.0, " LUFS"}};
    double sum = 0;
    for (const auto& x : parts) {
        const double sim = std::exp(-std::abs(x.a - x.g) / x.scale);
        sum += sim;
        std::snprintf(b, sizeof b, "%s %.2f%s, target %.2f%s", x.what, x.a, x.unit, x.g, x.unit);
        add_deviation(r, "production", 0.15 / 4, sim, b);
    }
    r.layers.push_back({"production", sum / 4, 0.15, k_production_pass});
}

}  // namespace

// The five layers scored in turn, their weighted mean, and the deviations ranked by cost.
Report compare(const dna::Dna& d, const enrich::Target& t) {
    Report r;
    score_tempo(d, t, r);
    score_key(d, t, r);
    score_structure(d, t, r);
    score_energy(d, t, r);
    score_production(d, t, r);
    double wsum = 0;
    for (const auto& l : r.layers) r.overall += l.weight * l.similarity, wsum += l.weight;
    r.overall /= wsum;
    std::sort(r.deviations.begin(), r.deviations.end(), [](const Deviation& x, const Deviation& y) { return x.cost > y.cost; });
    r.brief = check_brief(d, t);
    r.bpm = d.audio.bpm.value_or(0);
    r.key = d.audio.key;
    r.mode = d.audio.mode;
    r.integrated_lufs = d.production.integrated_lufs;
    r.duration_s = d.duration_s;
    r.first_hook_s = d.structure.first_hook_s.value_or(-1);
    for (const auto& e : d.structure.drops) r.drop_times_s.push_back(e.time_s);
    return r;
}

}  // namespace hitdna::validate
