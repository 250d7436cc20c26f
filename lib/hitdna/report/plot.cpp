#include "hitdna/report/plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <sstream>

#include "hitdna/core/error.hpp"

using json = nlohmann::json;

namespace hitdna::report {

namespace {

constexpr const char* k_colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"};
constexpr int k_arc_parts = 16;

using Points = std::vector<std::pair<double, double>>;  // (time s, value)

struct Section {
    double start = 0, end = 0;
    std::string label, role;
};

// What one input contributes to the panels.
struct Shape {
    std::string name;
    bool target = false;
    double duration = 0;
    std::vector<Section> sections;
    std::optional<double> first_hook;
    std::vector<double> builds, drops;
    Points energy, tension, tempo, width, loudness;
    Points releases, catharsis;  // (time, tension there)
    std::optional<double> integrated;
};

double num(const json& j, const char* key, double fallback = 0) {
    return j.is_object() && j.contains(key) && j[key].is_number() ? j[key].get<double>() : fallback;
}

std::string str(const json& j, const char* key) { return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string(); }

const json& obj(const json& j, const char* key) {
    static const json empty = json::object();
    return j.is_object() && j.contains(key) && j[key].is_object() ? j[key] : empty;
}

std::vector<double> numbers(const json& j, const char* key) {
    std::vector<double> v;
    if (j.is_object() && j.contains(key) && j[key].is_array())
        for (const auto& x : j[key]) v.push_back(x.is_number() ? x.get<double>() : 0.0);
    return v;
}

std::vector<double> event_times(const json& j, const char* key) {
    std::vector<double> v;
    if (j.is_object() && j.contains(key) && j[key].is_array())
        for (const auto& e : j[key]) v.push_back(num(e, "time_s"));
    return v;
}

double value_at(const Points& p, double t) {
    if (p.empty()) return 0;
    auto it = std::lower_bound(p.begin(), p.end(), std::make_pair(t, -1e300));
    if (it == p.end()) return p.back().second;
    return it->second;
}

Shape from_dna(const std::string& name, const json& d) {
    Shape s;
    s.name = name;
    s.duration = num(d, "duration_s");
    const json& au = obj(d, "audio");
    const json& st = obj(d, "structure");
    const json& em = obj(d, "emotion");
    const json& pr = obj(d, "production");
    if (st.contains("sections") && st["sections"].is_array())
        for (const auto& x : st["sections"]) s.sections.push_back({num(x, "start_s"), num(x, "end_s"), str(x, "label"), str(x, "role")});
    if (st.contains("first_hook_s") && st["first_hook_s"].is_number()) s.first_hook = st["first_hook_s"].get<double>();
    s.builds = event_times(st, "builds");
    s.drops = event_times(st, "drops");
    const double hop = std::max(0.05, num(au, "timeline_hop_s", 1.0));
    const auto lufs = numbers(au, "energy_lufs");
    if (pr.contains("integrated_lufs") && pr["integrated_lufs"].is_number()) s.integrated = pr["integrated_lufs"].get<double>();
    for (size_t i = 0; i < lufs.size(); ++i) s.loudness.push_back({(double(i) + 0.5) * hop, lufs[i]});
    // The energy arc: the power mean of each sixteenth of the song, relative to integrated.
    if (!lufs.empty() && s.duration > 0) {
        for (int k = 0; k < k_arc_parts; ++k) {
            const double a = s.duration * k / k_arc_parts, b = s.duration * (k + 1) / k_arc_parts;
            double sum = 0;
            int n = 0;
            for (size_t i = 0; i < lufs.size(); ++i) {
                const double t = (double(i) + 0.5) * hop;
                if (t >= a && t < b) sum += std::pow(10.0, lufs[i] / 10.0), ++n;
            }
            if (n == 0) continue;
            s.energy.push_back({(a + b) / 2, 10 * std::log10(std::max(sum / n, 1e-12)) - s.integrated.value_or(-23.0)});
        }
    }
    const auto tension = numbers(em, "tension");
    for (size_t i = 0; i < tension.size(); ++i) s.tension.push_back({(double(i) + 0.5) * hop, tension[i]});
    for (double t : event_times(em, "releases")) s.releases.push_back({t, value_at(s.tension, t)});
    for (double t : event_times(em, "catharsis")) s.catharsis.push_back({t, value_at(s.tension, t)});
    if (au.contains("tempo_curve") && au["tempo_curve"].is_array())
        for (const auto& p : au["tempo_curve"])
            if (p.is_array() && p.size() == 2 && p[0].is_number() && p[1].is_number()) s.tempo.push_back({p[0].get<double>(), p[1].get<double>()});
    if (s.tempo.empty() && au.contains("bpm") && au["bpm"].is_number()) s.tempo = {{0, au["bpm"].get<double>()}, {s.duration, au["bpm"].get<double>()}};
    const auto width = numbers(pr, "width");
    for (size_t i = 0; i < width.size(); ++i) s.width.push_back({(double(i) + 0.5) * hop, width[i]});
    return s;
}

Shape from_target(const std::string& name, const json& t) {
    Shape s;
    s.name = name;
    s.target = true;
    s.duration = num(t, "duration_s");
    if (t.contains("sections") && t["sections"].is_array())
        for (const auto& x : t["sections"]) {
            const double a = num(x, "start_s");
            s.sections.push_back({a, a + num(x, "duration_s"), str(x, "label"), str(x, "role")});
        }
    if (t.contains("first_hook_s") && t["first_hook_s"].is_number()) s.first_hook = t["first_hook_s"].get<double>();
    const auto arc = numbers(t, "energy_arc_lu");
    for (size_t k = 0; k < arc.size(); ++k) s.energy.push_back({s.duration * (double(k) + 0.5) / double(arc.size()), arc[k]});
    if (t.contains("bpm") && t["bpm"].is_number()) s.tempo = {{0, t["bpm"].get<double>()}, {s.duration, t["bpm"].get<double>()}};
    const json& pr = obj(t, "production");
    if (pr.contains("integrated_lufs") && pr["integrated_lufs"].is_number()) s.integrated = pr["integrated_lufs"].get<double>();
    if (pr.contains("mean_width") && pr["mean_width"].is_number()) s.width = {{0, pr["mean_width"].get<double>()}, {s.duration, pr["mean_width"].get<double>()}};
    // Loudness of a target: its arc around its integrated loudness.
    if (s.integrated)
        for (const auto& [x, lu] : s.energy) s.loudness.push_back({x, *s.integrated + lu});
    return s;
}

std::string fmt(double v, int decimals = 1) {
    char b[32];
    std::snprintf(b, sizeof b, "%.*f", decimals, v);
    return b;
}

std::string mmss(double s) {
    char b[16];
    const int t = int(std::lround(s));
    std::snprintf(b, sizeof b, "%d:%02d", t / 60, t % 60);
    return b;
}

const char* role_fill(const std::string& role) {
    if (role == "intro") return "#cfd8dc";
    if (role == "verse") return "#90caf9";
    if (role == "pre-hook") return "#ffe082";
    if (role == "hook") return "#ef9a9a";
    if (role == "bridge") return "#b39ddb";
    if (role == "outro") return "#b0bec5";
    return "#e0e0e0";
}

// A "nice" tick step for a range.
double nice_step(double span, int max_ticks) {
    const double raw = span / std::max(1, max_ticks);
    const double p = std::pow(10.0, std::floor(std::log10(std::max(raw, 1e-9))));
    for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
        if (m * p >= raw) return m * p;
    return 10 * p;
}

struct Panel {
    std::string id, label;                       // label carries the unit
    Points Shape::*series = nullptr;
    double lo = 0, hi = 1;
    bool fixed = false;                          // lo/hi given, not from the data
    int decimals = 1;
};

}  // namespace

std::string xml_escape(const std::string& s) {
    std::string o;
    for (char c : s) {
        switch (c) {
            case '&': o += "&amp;"; break;
            case '<': o += "&lt;"; break;
            case '>': o += "&gt;"; break;
            case '"': o += "&quot;"; break;
            case '\'': o += "&#39;"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n') o += ' ';
                else o += c;
        }
    }
    return o;
}

std::string render_svg(const std::vector<PlotInput>& inputs, const PlotOptions& o) {
    if (inputs.empty()) throw Error(ErrorKind::usage, "nothing to plot");
    std::vector<Shape> shapes;
    for (const auto& in : inputs) {
        if (!in.dna.is_null()) shapes.push_back(from_dna(in.name, in.dna));
        else if (!in.target.is_null()) shapes.push_back(from_target(in.name, in.target));
        else throw Error(ErrorKind::usage, in.name + ": neither a Hit DNA nor a target");
        if (!(shapes.back().duration > 0)) throw Error(ErrorKind::usage, in.name + ": no duration to plot");
    }
    const double W = std::max(480, o.width_px), left = 78, right = 24, pw = W - left - right;
    double tmax = 0;
    for (const auto& s : shapes) tmax = std::max(tmax, s.duration);
    // x of a time in a shape: seconds on a shared axis, or its share of the song.
    auto X = [&](const Shape& s, double t) { return left + pw * std::clamp(o.normalized ? t / s.duration : t / tmax, 0.0, 1.0); };
    auto color = [](size_t i) { return k_colors[i % std::size(k_colors)]; };

    std::vector<Panel> panels = {
        {"energy", "energy arc (LU re integrated)", &Shape::energy, -12, 6, false, 0},
        {"tension", "tension (0..1, heuristic)", &Shape::tension, 0, 1, true, 1},
        {"tempo", "tempo (BPM)", &Shape::tempo, 0, 0, false, 0},
        {"width", "stereo width (0..1)", &Shape::width, 0, 1, true, 1},
        {"loudness", "loudness (LUFS)", &Shape::loudness, -30, -6, false, 0},
    };
    for (auto& p : panels) {
        if (p.fixed) continue;
        bool any = false;
        double lo = 1e300, hi = -1e300;
        for (const auto& s : shapes)
            for (const auto& [t, v] : s.*(p.series)) {
                if (p.id == "loudness" && v < -60) continue;  // silence
                lo = std::min(lo, v), hi = std::max(hi, v), any = true;
            }
        if (p.id == "energy") lo = std::min(lo, -12.0), hi = std::max(hi, 3.0);
        if (p.id == "loudness")
            for (const auto& s : shapes)
                if (s.integrated) lo = std::min(lo, *s.integrated), hi = std::max(hi, *s.integrated);
        if (!any && p.id == "tempo") lo = 100, hi = 140;
        if (!any && p.id == "loudness") lo = -30, hi = -6;
        if (hi - lo < 4) lo -= 2, hi += 2;
        const double step = nice_step(hi - lo, 4);
        p.lo = std::floor(lo / step) * step;
        p.hi = std::ceil(hi / step) * step;
    }

    const double row_h = 22, sections_h = row_h * double(shapes.size()) + 14, panel_h = 112, gap = 34;
    const double top = 70;
    const double height = top + sections_h + gap + double(panels.size()) * (panel_h + gap) + 30;
    std::ostringstream svg;
    svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << fmt(W, 0) << "\" height=\"" << fmt(height, 0) << "\" viewBox=\"0 0 " << fmt(W, 0) << " "
        << fmt(height, 0) << "\" font-family=\"DejaVu Sans, Liberation Sans, Arial, sans-serif\" font-size=\"11\">\n";
    std::string title = o.title;
    if (title.empty())
        for (size_t i = 0; i < shapes.size(); ++i) title += (i ? " vs " : "") + shapes[i].name;
    svg << "<title>" << xml_escape(title) << "</title>\n";
    svg << "<rect class=\"background\" x=\"0\" y=\"0\" width=\"" << fmt(W, 0) << "\" height=\"" << fmt(height, 0) << "\" fill=\"#ffffff\"/>\n";
    svg << "<text class=\"title\" x=\"" << left << "\" y=\"24\" font-size=\"15\" font-weight=\"bold\">" << xml_escape(title) << "</text>\n";
    // Legend.
    svg << "<g id=\"legend\">\n";
    double lx = left;
    for (size_t i = 0; i < shapes.size(); ++i) {
        svg << "<line class=\"legend-swatch\" x1=\"" << fmt(lx) << "\" y1=\"44\" x2=\"" << fmt(lx + 22) << "\" y2=\"44\" stroke=\"" << color(i) << "\" stroke-width=\"3\""
            << (shapes[i].target ? " stroke-dasharray=\"6 3\"" : "") << "/>\n";
        const std::string text = shapes[i].name + (shapes[i].target ? " (target)" : "") + " — " + mmss(shapes[i].duration);
        svg << "<text class=\"legend-text\" x=\"" << fmt(lx + 28) << "\" y=\"48\">" << xml_escape(text) << "</text>\n";
        lx += 40 + 6.5 * double(text.size());
    }
    svg << "<text class=\"x-mode\" x=\"" << fmt(W - right) << "\" y=\"48\" text-anchor=\"end\" fill=\"#555\">"
        << (o.normalized ? "x: position in each song (%)" : "x: time (m:ss)") << "</text>\n</g>\n";

    // Vertical grid (time ticks) behind everything.
    const double plot_top = top, plot_bottom = height - 30;
    std::vector<std::pair<double, std::string>> xticks;
    if (o.normalized) {
        for (int p = 0; p <= 100; p += 10) xticks.push_back({left + pw * p / 100.0, std::to_string(p) + " %"});
    } else {
        double step = 5;
        for (double s : {5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0})
            if (tmax / s <= 12) {
                step = s;
                break;
            }
        for (double t = 0; t <= tmax + 1e-9; t += step) xticks.push_back({left + pw * t / tmax, mmss(t)});
    }
    svg << "<g id=\"time-grid\" stroke=\"#eeeeee\">\n";
    for (const auto& [x, label] : xticks) svg << "<line class=\"tick-x\" x1=\"" << fmt(x) << "\" y1=\"" << fmt(plot_top) << "\" x2=\"" << fmt(x) << "\" y2=\"" << fmt(plot_bottom) << "\"/>\n";
    svg << "</g>\n";

    // Sections: one row per input.
    double y = top;
    svg << "<g id=\"panel-sections\">\n<text class=\"axis-label\" x=\"" << left << "\" y=\"" << fmt(y - 6) << "\" fill=\"#333\">sections (role, repeat label); "
        << "hook outlined, \xe2\x96\xb2 build, \xe2\x96\xbc drop, \xe2\x9a\x91 first hook</text>\n";
    for (size_t i = 0; i < shapes.size(); ++i) {
        const Shape& s = shapes[i];
        const double ry = y + double(i) * row_h;
        for (const auto& sec : s.sections) {
            const double x0 = X(s, sec.start), x1 = X(s, sec.end);
            const bool hook = sec.role == "hook";
            svg << "<rect class=\"section\" data-role=\"" << xml_escape(sec.role) << "\" data-input=\"" << i << "\" x=\"" << fmt(x0) << "\" y=\"" << fmt(ry)
                << "\" width=\"" << fmt(std::max(0.5, x1 - x0)) << "\" height=\"" << fmt(row_h - 4) << "\" fill=\"" << role_fill(sec.role) << "\" stroke=\""
                << (hook ? color(i) : "#ffffff") << "\" stroke-width=\"" << (hook ? 2 : 1) << "\"><title>" << xml_escape(sec.role + " " + sec.label + " " + mmss(sec.start) + "-" + mmss(sec.end))
                << "</title></rect>\n";
            const std::string text = x1 - x0 > 46 ? sec.label + " " + sec.role : x1 - x0 > 12 ? sec.label : "";
            if (!text.empty())
                svg << "<text class=\"section-label\" x=\"" << fmt(x0 + 3) << "\" y=\"" << fmt(ry + row_h - 9) << "\" font-size=\"10\">" << xml_escape(text) << "</text>\n";
        }
        if (s.first_hook) {
            const double hx = X(s, *s.first_hook);
            svg << "<path class=\"hook-marker\" data-input=\"" << i << "\" d=\"M" << fmt(hx) << " " << fmt(ry - 2) << " v" << fmt(row_h) << " M" << fmt(hx) << " " << fmt(ry - 2)
                << " l8 3 l-8 3 z\" stroke=\"" << color(i) << "\" fill=\"" << color(i) << "\"/>\n";
        }
        for (double t : s.builds)
            svg << "<path class=\"build\" data-input=\"" << i << "\" d=\"M" << fmt(X(s, t) - 5) << " " << fmt(ry + row_h - 5) << " l5 -9 l5 9 z\" fill=\"#2e7d32\"/>\n";
        for (double t : s.drops)
            svg << "<path class=\"drop\" data-input=\"" << i << "\" d=\"M" << fmt(X(s, t) - 5) << " " << fmt(ry + 1) << " l10 0 l-5 9 z\" fill=\"#c62828\"/>\n";
        if (s.sections.empty())
            svg << "<text class=\"no-data\" x=\"" << fmt(left + 4) << "\" y=\"" << fmt(ry + 13) << "\" fill=\"#888\">no sections</text>\n";
    }
    svg << "</g>\n";
    y += sections_h + gap;

    for (const auto& p : panels) {
        const double py0 = y, py1 = y + panel_h;
        auto Y = [&](double v) { return py1 - panel_h * std::clamp((v - p.lo) / std::max(1e-9, p.hi - p.lo), 0.0, 1.0); };
        svg << "<g id=\"panel-" << p.id << "\">\n";
        svg << "<rect class=\"panel-frame\" x=\"" << fmt(left) << "\" y=\"" << fmt(py0) << "\" width=\"" << fmt(pw) << "\" height=\"" << fmt(panel_h)
            << "\" fill=\"none\" stroke=\"#bbbbbb\"/>\n";
        svg << "<text class=\"axis-label\" x=\"" << left << "\" y=\"" << fmt(py0 - 6) << "\" fill=\"#333\">" << xml_escape(p.label) << "</text>\n";
        const double step = nice_step(p.hi - p.lo, 4);
        for (double v = p.lo; v <= p.hi + 1e-9; v += step) {
            svg << "<line class=\"tick-y\" x1=\"" << fmt(left - 4) << "\" y1=\"" << fmt(Y(v)) << "\" x2=\"" << fmt(left + pw) << "\" y2=\"" << fmt(Y(v))
                << "\" stroke=\"#f0f0f0\"/>\n";
            svg << "<text class=\"tick-label\" x=\"" << fmt(left - 7) << "\" y=\"" << fmt(Y(v) + 4) << "\" text-anchor=\"end\" fill=\"#555\">"
                << fmt(v, step < 0.1 ? 2 : step < 1 ? (std::fmod(step * 10, 1.0) > 1e-6 ? 2 : 1) : 0) << "</text>\n";
        }
        bool drawn = false;
        for (size_t i = 0; i < shapes.size(); ++i) {
            const Shape& s = shapes[i];
            const Points& pts = s.*(p.series);
            if (pts.empty()) continue;
            std::string coords;
            for (const auto& [t, v] : pts) {
                if (p.id == "loudness" && v < -60) continue;
                coords += fmt(X(s, t)) + "," + fmt(Y(v)) + " ";
            }
            if (coords.empty()) continue;
            drawn = true;
            svg << "<polyline class=\"series\" data-input=\"" << i << "\" points=\"" << coords << "\" fill=\"none\" stroke=\"" << color(i)
                << "\" stroke-width=\"1.6\" stroke-linejoin=\"round\"" << (s.target ? " stroke-dasharray=\"6 3\"" : "") << "/>\n";
            if (p.id == "loudness" && s.integrated)
                svg << "<line class=\"integrated\" data-input=\"" << i << "\" x1=\"" << fmt(X(s, 0)) << "\" y1=\"" << fmt(Y(*s.integrated)) << "\" x2=\""
                    << fmt(X(s, s.duration)) << "\" y2=\"" << fmt(Y(*s.integrated)) << "\" stroke=\"" << color(i) << "\" stroke-dasharray=\"2 3\"><title>integrated "
                    << fmt(*s.integrated) << " LUFS</title></line>\n";
            if (p.id == "tension") {
                for (const auto& [t, v] : s.releases)
                    svg << "<circle class=\"release\" data-input=\"" << i << "\" cx=\"" << fmt(X(s, t)) << "\" cy=\"" << fmt(Y(v)) << "\" r=\"3.5\" fill=\"#ffffff\" stroke=\""
                        << color(i) << "\" stroke-width=\"1.5\"><title>release " << mmss(t) << "</title></circle>\n";
                for (const auto& [t, v] : s.catharsis)
                    svg << "<path class=\"catharsis\" data-input=\"" << i << "\" d=\"M" << fmt(X(s, t)) << " " << fmt(Y(v) - 6) << " l5 6 l-5 6 l-5 -6 z\" fill=\"" << color(i)
                        << "\"><title>catharsis " << mmss(t) << "</title></path>\n";
            }
        }
        if (!drawn)
            svg << "<text class=\"no-data\" x=\"" << fmt(left + pw / 2) << "\" y=\"" << fmt(py0 + panel_h / 2) << "\" text-anchor=\"middle\" fill=\"#999\">no data</text>\n";
        svg << "</g>\n";
        y += panel_h + gap;
    }
    // Time axis labels under the last panel.
    svg << "<g id=\"time-axis\" fill=\"#555\">\n";
    const double ly = y - gap + 16;
    for (const auto& [x, label] : xticks) svg << "<text class=\"tick-label-x\" x=\"" << fmt(x) << "\" y=\"" << fmt(ly) << "\" text-anchor=\"middle\">" << label << "</text>\n";
    svg << "</g>\n</svg>\n";
    return svg.str();
}

}  // namespace hitdna::report
