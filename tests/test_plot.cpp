// hitdna plot / report: golden-structure checks of the SVG (elements present, coordinates in
// range) and of the HTML, plus the CLI's inputs and errors. Rendering in a real browser is
// tests/browser_check.py.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "hitdna/core/error.hpp"
#include "hitdna/core/subprocess.hpp"
#include "hitdna/report/plot.hpp"
#include "signals.hpp"

using namespace hitdna;
using json = nlohmann::json;

namespace {

// A DNA JSON with known sections, events and curves (120 s, hop 1 s).
json toy_dna(double duration = 120, double bpm = 124) {
    json d;
    d["duration_s"] = duration;
    json lufs = json::array(), tension = json::array(), width = json::array();
    for (int i = 0; i < int(duration); ++i) {
        lufs.push_back(i < 30 ? -20.0 : -12.0);
        tension.push_back(0.2 + 0.6 * i / duration);
        width.push_back(0.3);
    }
    d["audio"] = {{"bpm", bpm}, {"timeline_hop_s", 1.0}, {"energy_lufs", lufs}, {"tempo_curve", {{0, bpm}, {60, bpm + 2}, {duration, bpm}}}};
    d["structure"] = {{"sections",
                       {{{"start_s", 0}, {"end_s", 30}, {"label", "A"}, {"role", "intro"}},
                        {{"start_s", 30}, {"end_s", 60}, {"label", "B"}, {"role", "hook"}},
                        {{"start_s", 60}, {"end_s", 90}, {"label", "C"}, {"role", "verse"}},
                        {{"start_s", 90}, {"end_s", duration}, {"label", "B"}, {"role", "hook"}}}},
                      {"first_hook_s", 30},
                      {"builds", {{{"time_s", 25}, {"strength", 0.5}, {"kind", "build"}}}},
                      {"drops", {{{"time_s", 30}, {"strength", 0.7}, {"kind", "drop"}}}}};
    d["emotion"] = {{"tension", tension},
                    {"releases", {{{"time_s", 59}, {"strength", 0.4}, {"kind", "release"}}}},
                    {"catharsis", {{{"time_s", 95}, {"strength", 0.8}, {"kind", "catharsis"}}}}};
    d["production"] = {{"width", width}, {"integrated_lufs", -13.5}};
    return d;
}

size_t count(const std::string& s, const std::string& what) {
    size_t n = 0;
    for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
    return n;
}

std::string group(const std::string& svg, const std::string& id) {
    auto a = svg.find("<g id=\"" + id + "\"");
    REQUIRE_MESSAGE(a != std::string::npos, id);
    return svg.substr(a, svg.find("</g>", a) - a);
}

double attr(const std::string& el, const std::string& name) {
    std::smatch m;
    REQUIRE(std::regex_search(el, m, std::regex(" " + name + "=\"([-0-9.]+)\"")));
    return std::stod(m[1]);
}

// Every polyline point of a panel lies inside its frame.
void points_inside(const std::string& panel) {
    const auto frame = panel.substr(panel.find("<rect class=\"panel-frame\""));
    const double x0 = attr(frame, "x"), y0 = attr(frame, "y"), w = attr(frame, "width"), h = attr(frame, "height");
    std::regex pts_re("points=\"([^\"]*)\"");
    size_t lines = 0;
    for (auto it = std::sregex_iterator(panel.begin(), panel.end(), pts_re); it != std::sregex_iterator(); ++it, ++lines) {
        std::istringstream in((*it)[1].str());
        std::string pair;
        size_t n = 0;
        while (in >> pair) {
            const auto comma = pair.find(',');
            const double x = std::stod(pair.substr(0, comma)), y = std::stod(pair.substr(comma + 1));
            CHECK(x >= x0 - 0.01);
            CHECK(x <= x0 + w + 0.01);
            CHECK(y >= y0 - 0.01);
            CHECK(y <= y0 + h + 0.01);
            ++n;
        }
        CHECK(n >= 2);
    }
    CHECK(lines >= 1);
}

core::ProcessResult hitdna_run(std::vector<std::string> args) {
    args.insert(args.begin(), HITDNA_BIN);
    return core::run_process(args, 300);
}

}  // namespace

TEST_CASE("plot: one track has every panel, its sections, markers and axes with units") {
    const std::string svg = report::render_svg({{"Song <1> & co", toy_dna(), nullptr}}, {});
    CHECK(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1000\"", 0) == 0);
    CHECK(svg.find("<script") == std::string::npos);
    CHECK(count(svg, "http") == 1);  // the namespace only: no fonts, images or scripts from the network
    CHECK(svg.find("Song &lt;1&gt; &amp; co") != std::string::npos);
    for (const char* p : {"panel-sections", "panel-energy", "panel-tension", "panel-tempo", "panel-width", "panel-loudness"}) CHECK(svg.find(p) != std::string::npos);
    const auto sections = group(svg, "panel-sections");
    CHECK(count(sections, "<rect class=\"section\"") == 4);
    CHECK(count(sections, "data-role=\"hook\"") == 2);
    CHECK(count(sections, "class=\"hook-marker\"") == 1);
    CHECK(count(sections, "class=\"build\"") == 1);
    CHECK(count(sections, "class=\"drop\"") == 1);
    // Section rectangles tile the time axis: intro from the left edge, the last to the right edge.
    std::regex rect_re("<rect class=\"section\"[^>]* x=\"([-0-9.]+)\"[^>]* width=\"([-0-9.]+)\"");
    std::vector<std::pair<double, double>> xs;
    for (auto it = std::sregex_iterator(sections.begin(), sections.end(), rect_re); it != std::sregex_iterator(); ++it)
        xs.push_back({std::stod((*it)[1]), std::stod((*it)[2])});
    REQUIRE(xs.size() == 4);
    CHECK(xs.front().first == doctest::Approx(78));
    CHECK(xs.back().first + xs.back().second == doctest::Approx(1000 - 24).epsilon(0.001));
    CHECK(xs[1].first == doctest::Approx(78 + (1000 - 78 - 24) * 30.0 / 120).epsilon(0.001));
    const auto tension = group(svg, "panel-tension");
    CHECK(count(tension, "class=\"release\"") == 1);
    CHECK(count(tension, "class=\"catharsis\"") == 1);
    CHECK(group(svg, "panel-loudness").find("class=\"integrated\"") != std::string::npos);
    for (const char* p : {"panel-energy", "panel-tension", "panel-tempo", "panel-width", "panel-loudness"}) points_inside(group(svg, p));
    // Units on every axis; time ticks in m:ss up to 2:00.
    for (const char* u : {"(LU re integrated)", "(0..1, heuristic)", "(BPM)", "(0..1)", "(LUFS)"}) CHECK(svg.find(u) != std::string::npos);
    const auto axis = group(svg, "time-axis");
    CHECK(axis.find(">0:00<") != std::string::npos);
    CHECK(axis.find(">2:00<") != std::string::npos);
    // The energy arc: 16 parts; the quiet first quarter sits below 0 LU, the rest above.
    const auto energy = group(svg, "panel-energy");
    std::smatch m;
    REQUIRE(std::regex_search(energy, m, std::regex("points=\"([^\"]*)\"")));
    std::istringstream in(m[1].str());
    std::vector<double> ys;
    std::string pair;
    while (in >> pair) ys.push_back(std::stod(pair.substr(pair.find(',') + 1)));
    REQUIRE(ys.size() == 16);
    CHECK(ys[0] > ys[8]);  // SVG y grows downwards: quieter is lower on the page
}

TEST_CASE("plot: --compare overlays inputs in time or normalized to length; targets are dashed") {
    json target = {{"format", "hitdna-target-1"}, {"duration_s", 60}, {"bpm", 100},
                   {"sections", {{{"role", "verse"}, {"label", "A"}, {"start_s", 0}, {"duration_s", 30}}, {{"role", "hook"}, {"label", "B"}, {"start_s", 30}, {"duration_s", 30}}}},
                   {"energy_arc_lu", std::vector<double>(16, -1.0)}, {"first_hook_s", 30}, {"production", {{"integrated_lufs", -14}, {"mean_width", 0.25}}}};
    const std::vector<report::PlotInput> in = {{"song", toy_dna(), nullptr}, {"target", nullptr, target}};
    const std::string timed = report::render_svg(in, {});
    report::PlotOptions norm;
    norm.normalized = true;
    const std::string scaled = report::render_svg(in, norm);
    for (const auto* svg : {&timed, &scaled}) {
        CHECK(count(*svg, "data-input=\"1\"") > 3);
        CHECK(count(group(*svg, "legend"), "legend-swatch") == 2);
        CHECK(group(*svg, "panel-energy").find("stroke-dasharray=\"6 3\"") != std::string::npos);
        for (const char* p : {"panel-energy", "panel-tempo", "panel-width", "panel-loudness"}) points_inside(group(*svg, p));
        CHECK(group(*svg, "panel-tension").find("data-input=\"1\"") == std::string::npos);  // a target has no tension
    }
    // The 60 s target's hook section ends at half the axis in time, at its right edge normalized.
    auto last_hook_end = [](const std::string& svg) {
        const auto sec = group(svg, "panel-sections");
        std::regex re("<rect class=\"section\" data-role=\"hook\" data-input=\"1\" x=\"([-0-9.]+)\" y=\"[-0-9.]+\" width=\"([-0-9.]+)\"");
        std::smatch m;
        REQUIRE(std::regex_search(sec, m, re));
        return std::stod(m[1]) + std::stod(m[2]);
    };
    CHECK(last_hook_end(timed) == doctest::Approx(78 + 898 * 0.5).epsilon(0.001));
    CHECK(last_hook_end(scaled) == doctest::Approx(976).epsilon(0.001));
    CHECK(scaled.find("position in each song (%)") != std::string::npos);
    CHECK_THROWS_AS(report::render_svg({{"empty", nullptr, nullptr}}, {}), Error);
}

TEST_CASE("plot and report: inputs from audio, DNA JSON and targets; clear errors") {
    test::TempDir dir;
    test::write_audio(dir.file("song.wav"), test::toy_song(2, 30));
    auto r = hitdna_run({"analyze", "-f", "json", dir.file("song.wav")});
    REQUIRE(r.exit_code == 0);
    {
        std::ofstream(dir.file("song.json")) << r.out;
    }
    r = hitdna_run({"plot", dir.file("song.wav"), dir.file("song.json"), "--compare", "-o", dir.file("both.svg"), "--db", dir.file("none.db")});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    std::ifstream in(dir.file("both.svg"));
    std::string svg((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(count(svg, "legend-swatch") == 2);
    // Several inputs without --compare: a directory with one SVG each.
    r = hitdna_run({"plot", dir.file("song.wav"), dir.file("song.json"), "-o", dir.file("plots"), "--db", dir.file("none.db")});
    REQUIRE(r.exit_code == 0);
    CHECK(std::filesystem::exists(dir.file("plots/song.svg")));
    r = hitdna_run({"report", dir.file("song.wav"), "-o", dir.file("r.html"), "--db", dir.file("none.db")});
    REQUIRE(r.exit_code == 0);
    std::ifstream hin(dir.file("r.html"));
    std::string html((std::istreambuf_iterator<char>(hin)), std::istreambuf_iterator<char>());
    CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
    CHECK(html.find("<svg") != std::string::npos);
    for (const char* s : {">audio<", ">structure<", ">emotion<", ">production<", "BPM", "LUFS (BS.1770)", "0..1, heuristic"}) CHECK_MESSAGE(html.find(s) != std::string::npos, s);
    CHECK(html.find("<script") == std::string::npos);
    // Errors: one line naming the input and the cause.
    r = hitdna_run({"plot", dir.file("missing.wav"), "-o", dir.file("x.svg"), "--db", dir.file("none.db")});
    CHECK(r.exit_code == 3);
    CHECK(r.err.find("missing.wav: no such file") != std::string::npos);
    {
        std::ofstream(dir.file("bad.json")) << "{\"hello\": 1}";
    }
    r = hitdna_run({"plot", dir.file("bad.json"), "-o", dir.file("x.svg")});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("bad.json: neither a DNA") != std::string::npos);
    r = hitdna_run({"plot", "42", "-o", dir.file("x.svg"), "--db", dir.file("none.db")});
    CHECK(r.exit_code == 5);
    CHECK(r.err.find("no catalog") != std::string::npos);
}
