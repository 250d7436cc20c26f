#include "hitdna/report/pianoroll.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "hitdna/core/text.hpp"
#include "hitdna/report/plot.hpp"

namespace hitdna::report {

namespace {

constexpr double k_left = 90, k_right = 16, k_top = 34, k_strip = 26, k_gap = 8;

// Drum kit pieces as rows, top to bottom.
int drum_row(int key) {
    if (key == 49 || key == 51 || key == 57) return 0;  // cymbals
    if (key == 42 || key == 44 || key == 46) return 1;  // hats
    if (key >= 45 && key <= 50 && key != 46) return 2;  // toms
    if (key == 38 || key == 39 || key == 40) return 3;  // snare, clap
    return 4;                                           // kick and the rest
}

double lane_height(const sketch::Track& t) { return t.channel == 9 ? 60 : t.name == "fx" ? 22 : 64; }

void write_lane(std::ostringstream& o, const sketch::Track& t, double y, double x_of_tick_scale, double pw) {
    const double h = lane_height(t);
    o << "<rect x=\"" << k_left << "\" y=\"" << y << "\" width=\"" << pw << "\" height=\"" << h << "\" fill=\"#fafafa\" stroke=\"#ddd\"/>\n";
    o << "<text x=\"" << k_left - 6 << "\" y=\"" << y + h / 2 + 4 << "\" text-anchor=\"end\" font-size=\"11\">" << xml_escape(t.name) << "</text>\n";
    int lo = 127, hi = 0;
    for (const auto& n : t.notes) lo = std::min(lo, n.key), hi = std::max(hi, n.key);
    const int rows = t.channel == 9 ? 5 : std::max(1, hi - lo + 1);
    const double rh = h / rows;
    o << "<g fill=\"" << (t.channel == 9 ? "#555" : t.name == "bass" ? "#1f77b4" : t.name == "lead" ? "#d62728" : t.name == "chords" ? "#2ca02c" : "#9467bd")
      << "\"><title>" << xml_escape(t.name + " (" + std::to_string(t.notes.size()) + " notes)") << "</title>\n";
    for (const auto& n : t.notes) {
        const int row = t.channel == 9 ? drum_row(n.key) : hi - n.key;
        const double x = k_left + double(n.tick) * x_of_tick_scale, w = std::max(1.0, double(n.length) * x_of_tick_scale);
        char b[160];
        std::snprintf(b, sizeof b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" opacity=\"%.2f\"/>\n", x, y + row * rh, t.channel == 9 ? 1.2 : w,
                      std::max(1.0, rh - 0.3), 0.35 + 0.65 * n.velocity / 127.0);
        o << b;
    }
    o << "</g>\n";
}

}  // namespace

std::string piano_roll_svg(const sketch::Sketch& s, int width_px) {
    const double pw = width_px - k_left - k_right;
    const double scale = pw / double(std::max<int64_t>(1, s.end_tick));
    double height = k_top + k_strip + k_gap;
    for (const auto& t : s.tracks) height += lane_height(t) + k_gap;
    height += 22;
    std::ostringstream o;
    o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width_px << "\" height=\"" << height << "\" viewBox=\"0 0 " << width_px << " " << height
      << "\" font-family=\"sans-serif\">\n<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n";
    o << "<text x=\"" << k_left << "\" y=\"20\" font-size=\"13\">" << xml_escape("The sketch, seed " + std::to_string(s.seed) + ": " +
                                                                                  std::to_string(s.bars.size()) + " bars at " +
                                                                                  std::to_string(int(std::lround(s.bpm))) + " BPM, tracks by pitch")
      << "</text>\n";
    // The section timeline, and each section's start through every lane.
    const double lanes_bottom = height - 22;
    for (const auto& sec : s.sections) {
        const double x0 = k_left + double(sec.start_tick) * scale, x1 = k_left + double(sec.end_tick) * scale;
        o << "<rect x=\"" << x0 << "\" y=\"" << k_top << "\" width=\"" << std::max(0.5, x1 - x0) << "\" height=\"" << k_strip << "\" fill=\"" << role_fill(sec.role)
          << "\" stroke=\"#fff\"><title>" << xml_escape(sec.label + " " + sec.role + " " + core::mmss(std::round(sketch::seconds_at(s, sec.start_tick))))
          << "</title></rect>\n<text x=\"" << x0 + 3 << "\" y=\"" << k_top + 17 << "\" font-size=\"11\">" << xml_escape(sec.label + " " + sec.role)
          << "</text>\n<line x1=\"" << x0 << "\" x2=\"" << x0 << "\" y1=\"" << k_top << "\" y2=\"" << lanes_bottom << "\" stroke=\"#bbb\" stroke-dasharray=\"3,3\"/>\n";
    }
    o << "<text x=\"" << k_left - 6 << "\" y=\"" << k_top + 17 << "\" text-anchor=\"end\" font-size=\"11\">sections</text>\n";
    double y = k_top + k_strip + k_gap;
    for (const auto& t : s.tracks) {
        write_lane(o, t, y, scale, pw);
        y += lane_height(t) + k_gap;
    }
    // Time axis, m:ss.
    const double dur = sketch::seconds_at(s, s.end_tick);
    const double step = dur > 240 ? 60 : dur > 90 ? 30 : dur > 40 ? 10 : 5;
    for (double t = 0; t <= dur + 1e-9; t += step) {
        const double x = k_left + double(sketch::tick_at(s, t)) * scale;
        o << "<text x=\"" << x << "\" y=\"" << lanes_bottom + 14 << "\" text-anchor=\"middle\" font-size=\"10\">" << core::mmss(t) << "</text>\n";
    }
    o << "</svg>\n";
    return o.str();
}

}  // namespace hitdna::report
