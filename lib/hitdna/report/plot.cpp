#include "hitdna/report/plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <sstream>
#include <tuple>

#include "hitdna/core/error.hpp"
#include "hitdna/core/text.hpp"
#include "hitdna/enrich/target.hpp"

using json = nlohmann::json;

namespace hitdna::report {

const char* role_fill(const std::string& role) {
    if (role == "intro") return "#cfd8dc";
    if (role == "verse") return "#90caf9";
    if (role == "pre-hook") return "#ffe082";
    if (role == "hook") return "#ef9a9a";
    if (role == "bridge") return "#b39ddb";
    if (role == "outro") return "#b0bec5";
    return "#e0e0e0";
}

namespace {

constexpr const char* k_colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"};

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
    // The energy arc, as enrich and validate compute it (enrich::energy_arc), at the middle of
    // each slice of the loudness timeline.
    if (!lufs.empty()) {
        const auto arc = enrich::energy_arc(lufs, s.integrated.value_or(-23.0));
        const double span = double(lufs.size()) * hop;
        for (size_t k = 0; k < arc.size(); ++k) s.energy.push_back({std::min(s.duration, span * (double(k) + 0.5) / double(arc.size())), arc[k]});
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

std::string mmss(double s) { return core::mmss(std::round(s)); }


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
    double step = 0.25;                          // between y ticks
};

}  // namespace

namespace {

// Invalid UTF-8 (a file name in another encoding) becomes U+FFFD, so the XML stays well-formed.
std::string valid_utf8_or_replaced(const std::string& s) {
    std::string o;
    for (size_t i = 0; i < s.size();) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        bool ok = n > 0 && i + n <= s.size();
        for (size_t k = 1; ok && k < n; ++k) ok = (static_cast<unsigned char>(s[i + k]) >> 6) == 2;
        if (ok && n == 2) ok = c >= 0xc2;
        if (ok && n == 3) {
            const unsigned cp = ((c & 0x0fu) << 12) | ((static_cast<unsigned char>(s[i + 1]) & 0x3fu) << 6) | (static_cast<unsigned char>(s[i + 2]) & 0x3fu);
            ok = cp >= 0x800 && (cp < 0xd800 || cp > 0xdfff);
        }
        if (ok && n == 4) {
            const unsigned cp = ((c & 0x07u) << 18) | ((static_cast<unsigned char>(s[i + 1]) & 0x3fu) << 12);
            ok = cp >= 0x10000 && cp <= 0x10ffff;
        }
        if (ok) o.append(s, i, n), i += n;
        else o += "\xef\xbf\xbd", i += 1;
    }
    return o;
}

}  // namespace

std::string xml_escape(const std::string& raw) {
    const std::string s = valid_utf8_or_replaced(raw);
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

namespace {

// The colour of input i.
const char* color(size_t i) { return k_colors[i % std::size(k_colors)]; }

// The shapes to draw, one per input; throws Error(usage) for an input with neither DNA nor a
// target, or nothing to plot in time.
std::vector<Shape> shapes_of(const std::vector<PlotInput>& inputs) {
    std::vector<Shape> shapes;
    for (const auto& in : inputs) {
        if (!in.dna.is_null()) shapes.push_back(from_dna(in.name, in.dna));
        else if (!in.target.is_null()) shapes.push_back(from_target(in.name, in.target));
        else throw Error(ErrorKind::usage, in.name + ": neither a Hit DNA nor a target");
        if (!(shapes.back().duration > 0)) throw Error(ErrorKind::usage, in.name + ": no duration to plot");
    }
    return shapes;
}

// The value panels, top to bottom, each with a y range and tick step fitted to the data
// (tension and width keep 0..1).
std::vector<Panel> scaled_panels(const std::vector<Shape>& shapes) {
    std::vector<Panel> panels = {
        {"energy", "energy arc (LU re integrated)", &Shape::energy, -12, 6, false, 3},
        {"tension", "tension (0..1, heuristic)", &Shape::tension, 0, 1, true, 0.25},
        {"tempo", "tempo (BPM)", &Shape::tempo, 0, 0, false, 10},
        {"width", "stereo width (0..1)", &Shape::width, 0, 1, true, 0.25},
        {"loudness", "loudness (LUFS)", &Shape::loudness, -30, -6, false, 6},
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
        p.step = nice_step(hi - lo, 4);
        p.lo = std::floor(lo / p.step) * p.step;
        p.hi = std::ceil(hi / p.step) * p.step;
    }
    return panels;
}

// Where everything goes on the page, in px.
struct Layout {
    bool normalized = false;
    double width = 0, left = 78, right = 24, pw = 0;  // of the page; its margins; of the plots
    double tmax = 0;                              // the longest input, s
    double row_h = 22, sections_h = 0, panel_h = 112, gap = 34;
    std::vector<std::tuple<double, double, std::string>> legend;  // x, y and text of each input's entry
    double top = 0, height = 0;                   // of the first panel; of the page

    // x of a time in a shape: seconds on a shared axis, or its share of the song.
    double x(const Shape& s, double t) const { return left + pw * std::clamp(normalized ? t / s.duration : t / tmax, 0.0, 1.0); }
};

// The page's layout for these shapes and panel_count value panels under the sections.
Layout page_layout(const std::vector<Shape>& shapes, size_t panel_count, const PlotOptions& o) {
    Layout page;
    page.normalized = o.normalized;
    page.width = std::max(480, o.width_px);
    page.pw = page.width - page.left - page.right;
    for (const auto& s : shapes) page.tmax = std::max(page.tmax, s.duration);
    page.sections_h = page.row_h * double(shapes.size()) + 14;
    // Legend entries, wrapped to more rows before the x-mode note; extra rows push the panels down.
    double leg_x = page.left, leg_y = 44;
    for (const auto& sh : shapes) {
        const std::string text = sh.name + (sh.target ? " (target)" : "") + " \xe2\x80\x94 " + mmss(sh.duration);
        const double w = 40 + 6.2 * double(text.size());
        if (leg_x > page.left && leg_x + w > page.width - page.right - 170) leg_x = page.left, leg_y += 16;
        page.legend.emplace_back(leg_x, leg_y, text);
        leg_x += w;
    }
    page.top = 70 + (leg_y - 44);
    page.height = page.top + page.sections_h + page.gap + double(panel_count) * (page.panel_h + page.gap) + 30;
    return page;
}

// The <svg> element's opening, the title (given, or the inputs' names) and the background.
void write_head(std::ostream& svg, const std::vector<Shape>& shapes, const Layout& page, const PlotOptions& o) {
    svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << fmt(page.width, 0) << "\" height=\"" << fmt(page.height, 0) << "\" viewBox=\"0 0 " << fmt(page.width, 0) << " "
        << fmt(page.height, 0) << "\" font-family=\"DejaVu Sans, Liberation Sans, Arial, sans-serif\" font-size=\"11\">\n";
    std::string title = o.title;
    if (title.empty())
        for (size_t i = 0; i < shapes.size(); ++i) title += (i ? " vs " : "") + shapes[i].name;
    svg << "<title>" << xml_escape(title) << "</title>\n";
    svg << "<rect class=\"background\" x=\"0\" y=\"0\" width=\"" << fmt(page.width, 0) << "\" height=\"" << fmt(page.height, 0) << "\" fill=\"#ffffff\"/>\n";
    svg << "<text class=\"title\" x=\"" << page.left << "\" y=\"24\" font-size=\"15\" font-weight=\"bold\">" << xml_escape(title) << "</text>\n";
}

// One swatch and name per input (dashed for targets), and what the x axis means.
void write_legend(std::ostream& svg, const std::vector<Shape>& shapes, const Layout& page) {
    svg << "<g id=\"legend\">\n";
    for (size_t i = 0; i < shapes.size(); ++i) {
        const auto& [lx, ly, text] = page.legend[i];
        svg << "<line class=\"legend-swatch\" x1=\"" << fmt(lx) << "\" y1=\"" << fmt(ly) << "\" x2=\"" << fmt(lx + 22) << "\" y2=\"" << fmt(ly)
            << "\" stroke=\"" << color(i) << "\" stroke-width=\"3\"" << (shapes[i].target ? " stroke-dasharray=\"6 3\"" : "") << "/>\n";
        svg << "<text class=\"legend-text\" x=\"" << fmt(lx + 28) << "\" y=\"" << fmt(ly + 4) << "\">" << xml_escape(text) << "</text>\n";
    }
    svg << "<text class=\"x-mode\" x=\"" << fmt(page.width - page.right) << "\" y=\"48\" text-anchor=\"end\" fill=\"#555\">"
        << (page.normalized ? "x: position in each song (%)" : "x: time (m:ss)") << "</text>\n</g>\n";
}

// The time ticks (x, label): every 10 % of the song, or a round step giving at most 12 ticks.
std::vector<std::pair<double, std::string>> time_ticks(const Layout& page) {
    std::vector<std::pair<double, std::string>> xticks;
    if (page.normalized) {
        for (int p = 0; p <= 100; p += 10) xticks.push_back({page.left + page.pw * p / 100.0, std::to_string(p) + " %"});
    } else {
        double step = 1800;
        for (double s : {5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0})
            if (page.tmax / s <= 12) {
                step = s;
                break;
            }
        for (double t = 0; t <= page.tmax + 1e-9; t += step) xticks.push_back({page.left + page.pw * t / page.tmax, mmss(t)});
    }
    return xticks;
}

// The vertical grid lines of the time ticks, behind everything.
void write_time_grid(std::ostream& svg, const std::vector<std::pair<double, std::string>>& xticks, const Layout& page) {
    const double plot_top = page.top, plot_bottom = page.height - 30;
    svg << "<g id=\"time-grid\" stroke=\"#eeeeee\">\n";
    for (const auto& [x, label] : xticks) svg << "<line class=\"tick-x\" x1=\"" << fmt(x) << "\" y1=\"" << fmt(plot_top) << "\" x2=\"" << fmt(x) << "\" y2=\"" << fmt(plot_bottom) << "\"/>\n";
    svg << "</g>\n";
}

// One input's row of the sections panel, at ry: its sections, first hook, builds and drops.
void write_section_row(std::ostream& svg, const Shape& s, size_t i, double ry, const Layout& page) {
    const double row_h = page.row_h;
    for (const auto& sec : s.sections) {
        const double x0 = page.x(s, sec.start), x1 = page.x(s, sec.end);
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
        const double hx = page.x(s, *s.first_hook);
        svg << "<path class=\"hook-marker\" data-input=\"" << i << "\" d=\"M" << fmt(hx) << " " << fmt(ry - 2) << " v" << fmt(row_h) << " M" << fmt(hx) << " " << fmt(ry - 2)
            << " l8 3 l-8 3 z\" stroke=\"" << color(i) << "\" fill=\"" << color(i) << "\"/>\n";
    }
    for (double t : s.builds)
        svg << "<path class=\"build\" data-input=\"" << i << "\" d=\"M" << fmt(page.x(s, t) - 5) << " " << fmt(ry + row_h - 5) << " l5 -9 l5 9 z\" fill=\"#2e7d32\"/>\n";
    for (double t : s.drops)
        svg << "<path class=\"drop\" data-input=\"" << i << "\" d=\"M" << fmt(page.x(s, t) - 5) << " " << fmt(ry + 1) << " l10 0 l-5 9 z\" fill=\"#c62828\"/>\n";
    if (s.sections.empty())
        svg << "<text class=\"no-data\" x=\"" << fmt(page.left + 4) << "\" y=\"" << fmt(ry + 13) << "\" fill=\"#888\">no sections</text>\n";
}

// The sections panel with its top at y: one row per input.
void write_sections_panel(std::ostream& svg, const std::vector<Shape>& shapes, const Layout& page, double y) {
    svg << "<g id=\"panel-sections\">\n<text class=\"axis-label\" x=\"" << page.left << "\" y=\"" << fmt(y - 6) << "\" fill=\"#333\">sections (role, repeat label); "
        << "hook outlined, \xe2\x96\xb2 build, \xe2\x96\xbc drop, \xe2\x9a\x91 first hook</text>\n";
    for (size_t i = 0; i < shapes.size(); ++i) write_section_row(svg, shapes[i], i, y + double(i) * page.row_h, page);
    svg << "</g>\n";
}

// A value panel placed on the page: y of a value on its scale.
struct PanelBox {
    const Panel& p;
    double py0, py1, panel_h;  // top, bottom, height

    double y(double v) const { return py1 - panel_h * std::clamp((v - p.lo) / std::max(1e-9, p.hi - p.lo), 0.0, 1.0); }
};

// The frame, the panel's label and its y ticks with their grid lines.
void write_panel_frame(std::ostream& svg, const PanelBox& box, const Layout& page) {
    const Panel& p = box.p;
    const double left = page.left, pw = page.pw;
    svg << "<rect class=\"panel-frame\" x=\"" << fmt(left) << "\" y=\"" << fmt(box.py0) << "\" width=\"" << fmt(pw) << "\" height=\"" << fmt(box.panel_h)
        << "\" fill=\"none\" stroke=\"#bbbbbb\"/>\n";
    svg << "<text class=\"axis-label\" x=\"" << left << "\" y=\"" << fmt(box.py0 - 6) << "\" fill=\"#333\">" << xml_escape(p.label) << "</text>\n";
    const double step = p.step;
    const int decimals = std::fabs(step - std::round(step)) < 1e-9 ? 0 : std::fabs(step * 10 - std::round(step * 10)) < 1e-9 ? 1 : 2;
    for (int n = 0; p.lo + n * step <= p.hi + 1e-9; ++n) {
        const double v = p.lo + n * step;
        svg << "<line class=\"tick-y\" x1=\"" << fmt(left - 4) << "\" y1=\"" << fmt(box.y(v)) << "\" x2=\"" << fmt(left + pw) << "\" y2=\"" << fmt(box.y(v))
            << "\" stroke=\"#f0f0f0\"/>\n";
        svg << "<text class=\"tick-label\" x=\"" << fmt(left - 7) << "\" y=\"" << fmt(box.y(v) + 4) << "\" text-anchor=\"end\" fill=\"#555\">"
            << fmt(v, decimals) << "</text>\n";
    }
}

// One input's series in a panel: polylines, or a dot for a lone point; returns whether
// anything was drawn.
bool write_series(std::ostream& svg, const PanelBox& box, const Shape& s, size_t i, const Layout& page) {
    const Points& pts = s.*(box.p.series);
    // Silence (below -60 LUFS) breaks the loudness line instead of being bridged.
    std::vector<std::string> segments(1);
    std::vector<size_t> counts(1, 0);
    for (const auto& [t, v] : pts) {
        if (box.p.id == "loudness" && v < -60) {
            if (counts.back() > 0) segments.emplace_back(), counts.push_back(0);
            continue;
        }
        segments.back() += fmt(page.x(s, t)) + "," + fmt(box.y(v)) + " ";
        ++counts.back();
    }
    bool drawn = false;
    for (size_t g = 0; g < segments.size(); ++g) {
        if (counts[g] == 0) continue;
        drawn = true;
        if (counts[g] == 1) {
            std::istringstream one(segments[g]);
            std::string xy;
            one >> xy;
            const auto comma = xy.find(',');
            svg << "<circle class=\"series-point\" data-input=\"" << i << "\" cx=\"" << xy.substr(0, comma) << "\" cy=\"" << xy.substr(comma + 1)
                << "\" r=\"2.5\" fill=\"" << color(i) << "\"/>\n";
            continue;
        }
        svg << "<polyline class=\"series\" data-input=\"" << i << "\" points=\"" << segments[g] << "\" fill=\"none\" stroke=\"" << color(i)
            << "\" stroke-width=\"1.6\" stroke-linejoin=\"round\"" << (s.target ? " stroke-dasharray=\"6 3\"" : "") << "/>\n";
    }
    return drawn;
}

// One input's marks over its series: the integrated loudness line; releases and catharsis on tension.
void write_series_marks(std::ostream& svg, const PanelBox& box, const Shape& s, size_t i, const Layout& page) {
    if (box.p.id == "loudness" && s.integrated)
        svg << "<line class=\"integrated\" data-input=\"" << i << "\" x1=\"" << fmt(page.x(s, 0)) << "\" y1=\"" << fmt(box.y(*s.integrated)) << "\" x2=\""
            << fmt(page.x(s, s.duration)) << "\" y2=\"" << fmt(box.y(*s.integrated)) << "\" stroke=\"" << color(i) << "\" stroke-dasharray=\"2 3\"><title>integrated "
            << fmt(*s.integrated) << " LUFS</title></line>\n";
    if (box.p.id == "tension") {
        for (const auto& [t, v] : s.releases)
            svg << "<circle class=\"release\" data-input=\"" << i << "\" cx=\"" << fmt(page.x(s, t)) << "\" cy=\"" << fmt(box.y(v)) << "\" r=\"3.5\" fill=\"#ffffff\" stroke=\""
                << color(i) << "\" stroke-width=\"1.5\"><title>release " << mmss(t) << "</title></circle>\n";
        for (const auto& [t, v] : s.catharsis)
            svg << "<path class=\"catharsis\" data-input=\"" << i << "\" d=\"M" << fmt(page.x(s, t)) << " " << fmt(box.y(v) - 6) << " l5 6 l-5 6 l-5 -6 z\" fill=\"" << color(i)
                << "\"><title>catharsis " << mmss(t) << "</title></path>\n";
    }
}

// A value panel with its top at y: frame and ticks, then every input's series and marks
// ("no data" when none has a point).
void write_value_panel(std::ostream& svg, const Panel& p, const std::vector<Shape>& shapes, const Layout& page, double y) {
    const PanelBox box{p, y, y + page.panel_h, page.panel_h};
    svg << "<g id=\"panel-" << p.id << "\">\n";
    write_panel_frame(svg, box, page);
    bool drawn = false;
    for (size_t i = 0; i < shapes.size(); ++i) {
        const Shape& s = shapes[i];
        if ((s.*(p.series)).empty()) continue;
        if (write_series(svg, box, s, i, page)) drawn = true;
        write_series_marks(svg, box, s, i, page);
    }
    if (!drawn)
        svg << "<text class=\"no-data\" x=\"" << fmt(page.left + page.pw / 2) << "\" y=\"" << fmt(box.py0 + page.panel_h / 2) << "\" text-anchor=\"middle\" fill=\"#999\">no data</text>\n";
    svg << "</g>\n";
}

// The time axis labels at ly, under the last panel.
void write_time_axis(std::ostream& svg, const std::vector<std::pair<double, std::string>>& xticks, double ly) {
    svg << "<g id=\"time-axis\" fill=\"#555\">\n";
    for (const auto& [x, label] : xticks) svg << "<text class=\"tick-label-x\" x=\"" << fmt(x) << "\" y=\"" << fmt(ly) << "\" text-anchor=\"middle\">" << label << "</text>\n";
    svg << "</g>\n";
}

}  // namespace

std::string render_svg(const std::vector<PlotInput>& inputs, const PlotOptions& o) {
    if (inputs.empty()) throw Error(ErrorKind::usage, "nothing to plot");
    const std::vector<Shape> shapes = shapes_of(inputs);
    const std::vector<Panel> panels = scaled_panels(shapes);
    const Layout page = page_layout(shapes, panels.size(), o);
    std::ostringstream svg;
    write_head(svg, shapes, page, o);
    write_legend(svg, shapes, page);
    const auto xticks = time_ticks(page);
    write_time_grid(svg, xticks, page);
    double y = page.top;
    write_sections_panel(svg, shapes, page, y);
    y += page.sections_h + page.gap;
    for (const auto& p : panels) {
        write_value_panel(svg, p, shapes, page, y);
        y += page.panel_h + page.gap;
    }
    write_time_axis(svg, xticks, y - page.gap + 16);
    svg << "</svg>\n";
    return svg.str();
}

}  // namespace hitdna::report
