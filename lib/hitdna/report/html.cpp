#include "hitdna/report/html.hpp"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "hitdna/core/clock.hpp"
#include "hitdna/core/text.hpp"
#include "hitdna/enrich/target.hpp"
#include "hitdna/match/match.hpp"
#include "hitdna/report/inputs.hpp"
#include "hitdna/report/pianoroll.hpp"
#include "hitdna/report/plot.hpp"
#include "hitdna/sketch/sketch.hpp"
#include "hitdna/store/catalog.hpp"

using json = nlohmann::json;

namespace hitdna::report {

namespace {

// Unit or range of a DNA field (man/hitdna-analyze.1 has the definitions); "heuristic" marks
// hitdna's own proxies.
std::string unit_of(const std::string& key) {
    static const std::map<std::string, std::string> k = {
        {"bpm", "BPM"}, {"bpm_confidence", "0..1"}, {"tempo_stability", "0..1"}, {"key_strength", "-1..1 (correlation)"},
        {"tuning_cents", "cents re A440"}, {"chord_changes_per_min", "per minute"}, {"distinct_chords", "count"},
        {"rhythmic_complexity", "0..1, heuristic"}, {"syncopation", "0..1"}, {"onset_rate_per_s", "per second"}, {"groove", "0..1, heuristic"},
        {"pulse_clarity", "0..1"}, {"swing_ratio", "long/short eighths (1 = straight)"}, {"spectral_centroid_hz", "Hz"}, {"dynamic_span_lu", "LU"},
        {"first_hook_s", "s"}, {"hook_repeats", "count"}, {"hook_share", "0..1 of the song"}, {"repetition", "0..1 of the song"},
        {"repeats_per_min", "per minute"}, {"surprise", "0..1, heuristic"}, {"earworm", "0..1, heuristic"}, {"valence", "-1..1, heuristic"},
        {"mean_intensity", "0..1"}, {"anticipation", "0..1, heuristic"}, {"sub_presence", "0..1 of power"}, {"sub_db", "dB re band power"},
        {"bass_808_sustain_s", "s"}, {"low_distortion", "0..1, proxy"}, {"low_end_db", "dB re total"}, {"sparkle", "0..1 of power (6-11 kHz)"},
        {"sparkle_db", "dB re total"}, {"reverb_proxy", "0..1, proxy"}, {"pitch_quantization", "0..1, proxy"}, {"melody_coverage", "0..1 of frames"},
        {"mean_width", "0..1 (side / (mid + side))"}, {"low_width", "0..1, below 120 Hz"}, {"correlation", "-1..1 (L/R)"},
        {"integrated_lufs", "LUFS (BS.1770)"}, {"loudness_range_lu", "LU (EBU R128)"}, {"sample_peak_dbfs", "dBFS"}, {"crest_db", "dB"},
        {"plr_db", "dB"}, {"timeline_hop_s", "s"}, {"compression", "style"}, {"key", "tonic"}, {"mode", "major/minor"},
        {"low_energy_share", "0..1 of frames"}, {"decay_share", "0..1 of steady frames"}, {"attack_drop_db", "dB"}};
    auto it = k.find(key);
    return it == k.end() ? "" : it->second;
}

std::string cell(const json& v) {
    if (v.is_null()) return "—";
    if (v.is_string()) return v.get<std::string>().empty() ? "—" : v.get<std::string>();
    if (v.is_number_float()) {
        // Up to 4 significant digits without exponents: 2345 Hz, 123.5 BPM, 0.0021.
        const double x = v.get<double>();
        char b[48];
        if (std::fabs(x) >= 1000) std::snprintf(b, sizeof b, "%.0f", x);
        else std::snprintf(b, sizeof b, "%.4g", x);
        if (std::strchr(b, 'e')) std::snprintf(b, sizeof b, "%.6f", x);
        return b;
    }
    return v.dump();
}

// Scalars of one layer as table rows; lists of events are counted, curves are in the plot.
void layer_rows(const json& o, const std::string& prefix, std::ostringstream& h) {
    for (auto& [k, v] : o.items()) {
        const std::string name = prefix.empty() ? k : prefix + "." + k;
        if (v.is_object()) {
            layer_rows(v, name, h);
        } else if (v.is_array()) {
            if (k == "builds" || k == "drops" || k == "releases" || k == "catharsis" || k == "energy_moments" || k == "chords")
                h << "<tr><td>" << xml_escape(name) << "</td><td class=\"num\">" << v.size() << "</td><td>count (times in the plot)</td></tr>\n";
        } else {
            h << "<tr><td>" << xml_escape(name) << "</td><td class=\"num\">" << xml_escape(cell(v)) << "</td><td>" << xml_escape(unit_of(k)) << "</td></tr>\n";
        }
    }
}

std::string mmss(double s) { return core::mmss(std::round(s)); }

const char* k_css = R"CSS(
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; margin: 24px auto; max-width: 1060px; color: #222; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ddd; }
.meta { color: #555; } table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
td, th { border: 1px solid #ddd; padding: 3px 8px; text-align: left; } th { background: #f4f4f4; }
td.num { text-align: right; font-variant-numeric: tabular-nums; } .layers { display: flex; flex-wrap: wrap; gap: 18px; }
.layers > div { flex: 1 1 480px; } .plot svg { max-width: 100%; height: auto; border: 1px solid #eee; }
.pass { color: #2e7d32; font-weight: bold; } .fail { color: #c62828; font-weight: bold; }
)CSS";


// Title, the line of key figures, descriptors and the shape over time.
void write_head(const ShowInput& in, std::ostringstream& h) {
    h << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>hitdna report: " << xml_escape(in.name) << "</title>\n<style>" << k_css
      << "</style></head>\n<body>\n";
    h << "<h1>" << xml_escape(in.name) << "</h1>\n<p class=\"meta\">";
    if (!in.dna.is_null()) {
        const json& au = in.dna["audio"];
        h << mmss(in.dna.value("duration_s", 0.0)) << " · ";
        if (au.contains("bpm") && au["bpm"].is_number()) h << cell(au["bpm"]) << " BPM · ";
        if (au.contains("harmony") && au["harmony"].is_object() && au["harmony"].contains("key") && au["harmony"]["key"].is_string()) {
            const json& hm = au["harmony"];
            h << xml_escape(hm["key"].get<std::string>() + (hm.contains("mode") && hm["mode"].is_string() ? " " + hm["mode"].get<std::string>() : "")) << " · ";
        }
        if (in.dna.contains("production")) h << cell(in.dna["production"]["integrated_lufs"]) << " LUFS · ";
    }
    h << "hitdna " << HITDNA_VERSION << " · " << xml_escape(core::utc_timestamp()) << "</p>\n";
    if (!in.dna.is_null() && in.dna.contains("descriptors") && in.dna["descriptors"].is_array()) {
        std::string words;
        for (const auto& w : in.dna["descriptors"]) words += (words.empty() ? "" : ", ") + w.get<std::string>();
        h << "<p>Descriptors: " << xml_escape(words) << "</p>\n";
    }
    h << "<h2>Shape over time</h2>\n<div class=\"plot\">\n" << render_svg(plot_inputs(in), {}) << "</div>\n";
}

// The sections table and the four layers, every scalar with its unit or range.
void write_layers(const json& dna, std::ostringstream& h) {
    h << "<h2>Sections</h2>\n<table><tr><th>#</th><th>start</th><th>end</th><th>label</th><th>role</th><th>loudness (LUFS)</th><th>share of song</th></tr>\n";
    int i = 0;
    for (const auto& s : dna["structure"].value("sections", json::array()))
        h << "<tr><td class=\"num\">" << ++i << "</td><td class=\"num\">" << mmss(s.value("start_s", 0.0)) << "</td><td class=\"num\">" << mmss(s.value("end_s", 0.0))
          << "</td><td>" << xml_escape(s.value("label", std::string())) << "</td><td>" << xml_escape(s.value("role", std::string())) << "</td><td class=\"num\">"
          << cell(s.value("energy_lufs", json())) << "</td><td class=\"num\">" << cell(s.value("length_ratio", json())) << "</td></tr>\n";
    h << "</table>\n<h2>The four layers</h2>\n<div class=\"layers\">\n";
    for (const char* layer : {"audio", "structure", "emotion", "production"}) {
        h << "<div><h3>" << layer << "</h3>\n<table><tr><th>field</th><th>value</th><th>unit / range</th></tr>\n";
        json l = dna.value(layer, json::object());
        if (std::string(layer) == "structure") l.erase("sections");
        layer_rows(l, "", h);
        h << "</table></div>\n";
    }
    if (dna.contains("spotify_style")) {
        h << "<div><h3>Spotify-style estimates</h3>\n<table><tr><th>field</th><th>value</th><th>unit / range</th></tr>\n";
        for (auto& [k, v] : dna["spotify_style"].items())
            h << "<tr><td>" << xml_escape(k) << "</td><td class=\"num\">" << cell(v) << "</td><td>0..1, estimate (hitdna's formula, not Spotify's model)</td></tr>\n";
        h << "</table></div>\n";
    }
    h << "</div>\n";
}

void write_hits_table(const match::MatchReport& rep, const std::string& path, std::ostringstream& h) {
    h << "<h2>Nearest hits in the catalog</h2>\n<p class=\"meta\">" << xml_escape(path)
      << "; scores 0..1 as in hitdna match (1 = identical, about 0.37 for unrelated tracks).</p>\n"
      << "<table><tr><th>rank</th><th>artist - title</th><th>score</th><th>best section</th><th>per-space scores</th></tr>\n";
    for (const auto& r : rep.results) {
        std::string spaces;
        for (auto& [s, v] : r.space_scores) spaces += std::string(dna::to_string(s)) + " " + cell(json(std::round(v * 1000) / 1000)) + "  ";
        h << "<tr><td class=\"num\">" << r.rank << "</td><td>" << xml_escape((r.track.artist.empty() ? "" : r.track.artist + " - ") + r.track.title)
          << "</td><td class=\"num\">" << cell(json(std::round(r.score * 1000) / 1000)) << "</td><td>"
          << (r.section ? xml_escape(r.section->role + " " + mmss(r.section->start_s) + "-" + mmss(r.section->end_s)) : "") << "</td><td>"
          << xml_escape(spaces) << "</td></tr>\n";
    }
    if (rep.results.empty()) h << "<tr><td colspan=\"5\">no other tracks in the catalog</td></tr>\n";
    h << "</table>\n";
}

// The nearest catalog hits, and the song over what they have in common (their aggregate, as
// enrich makes it). Nothing without a catalog.
void write_hits(const ShowInput& in, const ReportRequest& r, std::ostream& log, std::ostringstream& h) {
    const std::string path = store::resolve_db_path(r.db);
    if (!store::catalog_exists(path)) return;
    store::Catalog cat(path, store::Catalog::Mode::read_only);
    match::MatchOptions mo;
    if (in.track_id) mo.track = std::to_string(*in.track_id);
    else mo.like_file = in.audio_path;
    mo.k = r.k;
    auto rep = match::run_match(cat, mo, log);
    write_hits_table(rep, path, h);
    std::vector<std::pair<int64_t, double>> scored;
    for (const auto& x : rep.results) scored.emplace_back(x.track.id, x.score);
    if (scored.empty() || in.dna.is_null()) return;
    auto agg = enrich::aggregate(cat, scored, "aggregate of its " + std::to_string(scored.size()) + " nearest hits", std::nullopt);
    if (!agg.from_hits) return;
    PlotOptions po;
    po.normalized = true;
    po.title = in.name + " over the aggregate of its " + std::to_string(scored.size()) + " nearest hits";
    h << "<h3>Against its nearest hits</h3>\n<div class=\"plot\">\n"
      << render_svg({{in.name, in.dna, nullptr}, {"aggregate of its nearest hits", nullptr, enrich::to_json(agg)}}, po) << "</div>\n";
}

void write_target(const json& t, std::ostringstream& h) {
    h << "<h3>Target</h3>\n<table><tr><th>bpm (BPM)</th><th>key</th><th>duration (s)</th><th>first hook (s)</th><th>sections</th><th>integrated (LUFS)</th></tr>\n<tr><td class=\"num\">"
      << cell(t.value("bpm", json())) << "</td><td>" << xml_escape(t.value("key", std::string()) + " " + t.value("mode", std::string())) << "</td><td class=\"num\">"
      << cell(t.value("duration_s", json())) << "</td><td class=\"num\">" << cell(t.value("first_hook_s", json())) << "</td><td class=\"num\">"
      << t.value("sections", json::array()).size() << "</td><td class=\"num\">" << cell(t.value("production", json::object()).value("integrated_lufs", json()))
      << "</td></tr></table>\n";
    enrich::Target target;
    try {
        target = enrich::target_from_json(t, "the generation's target");
    } catch (const std::exception&) {
        return;  // an older or edited target: the summary above is all
    }
    if (!target.brief.empty()) {
        h << "<h3>The brief (what the prompt states)</h3>\n<table><tr><th>kind</th><th>value</th><th>the prompt's words</th><th>bytes</th></tr>\n";
        for (const auto& it : target.brief)
            h << "<tr><td>" << enrich::to_string(it.kind) << "</td><td>" << xml_escape(it.value) << "</td><td>" << xml_escape(it.text) << "</td><td class=\"num\">"
              << it.span.begin << "\u2013" << it.span.end << "</td></tr>\n";
        h << "</table>\n";
    }
    h << "<h3>Where each target field came from</h3>\n<table><tr><th>field</th><th>value</th><th>from</th><th>note</th></tr>\n";
    for (const auto& f : enrich::target_fields(target))
        h << "<tr><td>" << xml_escape(f.field) << "</td><td>" << xml_escape(f.value) << "</td><td>" << xml_escape(f.from) << "</td><td>" << xml_escape(f.note)
          << "</td></tr>\n";
    h << "</table>\n";
}

// The kept attempt's check of the brief's items.
void write_brief_checks(const json& g, std::ostringstream& h) {
    const int best = g.value("best_attempt", -1);
    const json attempts = g.value("attempts", json::array());
    if (best < 1 || size_t(best) > attempts.size()) return;
    const json v = attempts[size_t(best - 1)].value("validation", json::object());
    const json brief = v.value("brief", json::array());
    if (brief.empty()) return;
    h << "<h3>The brief, heard in the kept attempt</h3>\n<table><tr><th>item</th><th>found</th><th>result</th></tr>\n";
    for (const auto& c : brief) {
        const bool measured = c.value("measured", true), ok = c.value("ok", false);
        h << "<tr><td>" << xml_escape(c.value("item", std::string())) << "</td><td>" << xml_escape(c.value("found", std::string())) << "</td><td class=\""
          << (measured ? (ok ? "pass" : "fail") : "") << "\">" << (measured ? (ok ? "ok" : "missed") : "not measurable") << "</td></tr>\n";
    }
    h << "</table>\n";
}

void write_attempts(const json& g, std::ostringstream& h) {
    h << "<h3>Attempts</h3>\n<table><tr><th>#</th><th>overall</th><th>tempo</th><th>key</th><th>structure</th><th>energy</th><th>production</th><th>result</th><th>main deviation</th></tr>\n";
    int i = 0;
    const int best = g.value("best_attempt", -1);
    for (const auto& a : g.value("attempts", json::array())) {
        const json& v = a.value("validation", json::object());
        const json& l = v.value("layers", json::object());
        auto layer = [&](const char* n) { return l.contains(n) ? cell(l[n].value("similarity", json())) : std::string("—"); };
        const bool passed = v.value("passed", false);
        std::string dev;
        if (v.contains("deviations") && v["deviations"].is_array() && !v["deviations"].empty()) dev = v["deviations"][0].value("text", std::string());
        ++i;
        h << "<tr><td class=\"num\">" << i << (i == best ? " (kept)" : "") << "</td><td class=\"num\">" << cell(v.value("overall", json())) << "</td><td class=\"num\">"
          << layer("tempo") << "</td><td class=\"num\">" << layer("key") << "</td><td class=\"num\">" << layer("structure") << "</td><td class=\"num\">" << layer("energy")
          << "</td><td class=\"num\">" << layer("production") << "</td><td class=\"" << (v.empty() ? "" : passed ? "pass" : "fail") << "\">"
          << (v.empty() ? "not validated" : passed ? "passes" : "below") << "</td><td>" << xml_escape(dev) << "</td></tr>\n";
    }
    h << "</table>\n";
}

// The kept attempt's arrangement sketch (local backend), remade from the target and the
// attempt's seed and energy contrast: its piano roll under the section timeline.
void write_sketch(const json& g, std::ostringstream& h) {
    const int best = g.value("best_attempt", -1);
    const json attempts = g.value("attempts", json::array());
    if (g.value("generator", std::string()) != "hitdna-sketch-1" || best < 1 || size_t(best) > attempts.size() || !g.contains("target")) return;
    const json& a = attempts[size_t(best - 1)];
    try {
        sketch::SketchOptions so;
        so.seed = a.at("seed").get<uint32_t>();
        so.energy_contrast = a.value("energy_contrast", 1.0);
        const auto s = sketch::make_sketch(enrich::target_from_json(g["target"], "the generation's target"), so);
        h << "<h3>The arrangement sketch (hitdna sketch --seed " << so.seed << ")</h3>\n<p>" << xml_escape(s.summary) << "</p>\n<div class=\"plot\">\n"
          << piano_roll_svg(s) << "</div>\n";
    } catch (const std::exception&) {
        // an older or edited record: no sketch to show
    }
}

// A generation: what was asked, the target and every attempt with its validation.
void write_generation(const json& g, std::ostringstream& h) {
    h << "<h2>Generation</h2>\n<table>\n";
    for (const char* k : {"generation_id", "prompt", "enriched_prompt", "backend", "generator", "score", "output", "midi", "duration_s", "integrated_lufs"})
        if (g.contains(k)) h << "<tr><th>" << k << "</th><td>" << xml_escape(cell(g[k])) << "</td></tr>\n";
    h << "</table>\n";
    if (g.contains("target") && g["target"].is_object()) write_target(g["target"], h);
    write_sketch(g, h);
    write_attempts(g, h);
    write_brief_checks(g, h);
}

}  // namespace

std::string html_report(const ReportRequest& r, std::ostream& log) {
    auto inputs = resolve_inputs({r.input}, r.db, r.analyze, log);
    const ShowInput& in = inputs.front();
    std::ostringstream h;
    write_head(in, h);
    if (!in.dna.is_null()) write_layers(in.dna, h);
    if (r.k > 0 && (in.track_id || !in.audio_path.empty())) write_hits(in, r, log, h);
    if (!in.generation.is_null()) write_generation(in.generation, h);
    h << "</body></html>\n";
    return h.str();
}

}  // namespace hitdna::report
