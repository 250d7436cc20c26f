// hitdna plot / report: golden-structure checks of the SVG (elements present, coordinates in
// range) and of the HTML, plus the CLI's inputs and errors. Rendering in a real browser is
// tests/browser_check.py.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <tuple>

#include "hitdna/core/error.hpp"
#include "hitdna/report/plot.hpp"
#include "helpers.hpp"
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
    // Exact coordinates where the scale is fixed: tension 0..1 and width 0..1 over 0..120 s.
    auto first_point = [&](const std::string& id) {
        const auto g = group(svg, id);
        const auto frame = g.substr(g.find("<rect class=\"panel-frame\""));
        std::smatch pm;
        REQUIRE(std::regex_search(g, pm, std::regex("points=\"([-0-9.]+),([-0-9.]+) ")));
        return std::make_tuple(std::stod(pm[1]), std::stod(pm[2]), attr(frame, "y"), attr(frame, "height"));
    };
    auto [tx, ty, tf, th] = first_point("panel-tension");
    CHECK(tx == doctest::Approx(78 + 898 * 0.5 / 120).epsilon(0.001));
    CHECK(ty == doctest::Approx(tf + th * (1 - 0.2)).epsilon(0.001));
    auto [wx, wy, wf, wh] = first_point("panel-width");
    CHECK(wx == doctest::Approx(78 + 898 * 0.5 / 120).epsilon(0.001));
    CHECK(wy == doctest::Approx(wf + wh * (1 - 0.3)).epsilon(0.001));
}

TEST_CASE("plot: tick labels sit at their values; silence breaks the loudness line; lone points; invalid UTF-8 names") {
    json d = toy_dna(120, 123);
    d["audio"]["tempo_curve"] = {{0, 118.0}, {60, 128.0}};
    for (int i = 40; i < 50; ++i) d["audio"]["energy_lufs"][size_t(i)] = -70.0;  // 10 s of silence
    const std::string svg = report::render_svg({{"bad \xff name", d, nullptr}}, {});
    CHECK(svg.find("bad \xef\xbf\xbd name") != std::string::npos);
    CHECK(svg.find("\xff") == std::string::npos);
    CHECK(count(group(svg, "panel-loudness"), "<polyline class=\"series\"") == 2);
    // The tempo ticks: labels equally spaced in value and in y, in step with the data points.
    const auto tempo = group(svg, "panel-tempo");
    std::regex tick_re("<text class=\"tick-label\" x=\"[-0-9.]+\" y=\"([-0-9.]+)\"[^>]*>([-0-9.]+)</text>");
    std::vector<std::pair<double, double>> ticks;  // (value, y)
    for (auto it = std::sregex_iterator(tempo.begin(), tempo.end(), tick_re); it != std::sregex_iterator(); ++it)
        ticks.push_back({std::stod((*it)[2]), std::stod((*it)[1]) - 4});
    REQUIRE(ticks.size() >= 3);
    const double per_unit = (ticks[0].second - ticks[1].second) / (ticks[1].first - ticks[0].first);
    for (size_t i = 1; i < ticks.size(); ++i)
        CHECK((ticks[i - 1].second - ticks[i].second) / (ticks[i].first - ticks[i - 1].first) == doctest::Approx(per_unit).epsilon(0.01));
    std::smatch m;
    REQUIRE(std::regex_search(tempo, m, std::regex("points=\"[-0-9.]+,([-0-9.]+) ")));
    CHECK(std::stod(m[1]) == doctest::Approx(ticks[0].second - (118 - ticks[0].first) * per_unit).epsilon(0.002));
    // A curve of one point is a dot, not an invisible line.
    d["audio"]["tempo_curve"] = {{30, 120.0}};
    const std::string lone = report::render_svg({{"x", d, nullptr}}, {});
    CHECK(count(group(lone, "panel-tempo"), "class=\"series-point\"") == 1);
    // A ten-hour file keeps a readable number of time ticks.
    const std::string longest = report::render_svg({{"long", toy_dna(36000), nullptr}}, {});
    CHECK(count(group(longest, "time-axis"), "tick-label-x") <= 21);
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

TEST_CASE("report: a catalog track lists its nearest hits and is drawn over their aggregate; plot --hits excludes the song") {
    test::TempDir dir;
    std::filesystem::create_directories(dir.file("music"));
    for (int v = 0; v < 4; ++v) test::write_audio(dir.file("music/Artist " + std::to_string(v) + " - Song " + std::to_string(v) + ".wav"), test::toy_song(v, 24));
    const std::string db = dir.file("c.db");
    auto r = test::run({"ingest", dir.file("music"), "--db", db, "--progress", "never"});
    REQUIRE(r.exit_code == 0);
    r = test::run({"report", dir.file("music/Artist 1 - Song 1.wav"), "-o", dir.file("r.html"), "--db", db, "-k", "3"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const std::string html = test::slurp(dir.file("r.html"));
    CHECK(html.find("Nearest hits in the catalog") != std::string::npos);
    CHECK(count(html, "<svg") == 2);
    CHECK(html.find("aggregate of its 3 nearest hits") != std::string::npos);
    // The song is in the catalog: its own row is not among its hits.
    const auto hits = html.substr(html.find("Nearest hits in the catalog"));
    CHECK(hits.substr(0, hits.find("</table>")).find("Song 1<") == std::string::npos);
    r = test::run({"plot", dir.file("music/Artist 2 - Song 2.wav"), "--hits", "3", "--normalize", "-o", dir.file("h.svg"), "--db", db});
    REQUIRE(r.exit_code == 0);
    CHECK(test::slurp(dir.file("h.svg")).find("aggregate of its 3 nearest hits") != std::string::npos);
}

TEST_CASE("plot and report: inputs from audio, DNA JSON and targets; clear errors") {
    test::TempDir dir;
    test::write_audio(dir.file("song.wav"), test::toy_song(2, 30));
    auto r = test::run({"analyze", "-f", "json", dir.file("song.wav")});
    REQUIRE(r.exit_code == 0);
    {
        std::ofstream(dir.file("song.json")) << r.out;
    }
    r = test::run({"plot", dir.file("song.wav"), dir.file("song.json"), "--compare", "-o", dir.file("both.svg"), "--db", dir.file("none.db")});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    std::ifstream in(dir.file("both.svg"));
    std::string svg((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(count(svg, "legend-swatch") == 2);
    // Several inputs without --compare: a directory with one SVG each.
    r = test::run({"plot", dir.file("song.wav"), dir.file("song.json"), "-o", dir.file("plots"), "--db", dir.file("none.db")});
    REQUIRE(r.exit_code == 0);
    CHECK(std::filesystem::exists(dir.file("plots/song.svg")));
    CHECK(std::filesystem::exists(dir.file("plots/song-2.svg")));  // same name, not overwritten
    r = test::run({"plot", dir.file("song.wav"), dir.file("song.json"), "-o", dir.file("two.svg"), "--db", dir.file("none.db")});
    CHECK(r.exit_code == 2);
    r = test::run({"report", dir.file("song.wav"), "-o", dir.file("r.html"), "--db", dir.file("none.db")});
    REQUIRE(r.exit_code == 0);
    std::ifstream hin(dir.file("r.html"));
    std::string html((std::istreambuf_iterator<char>(hin)), std::istreambuf_iterator<char>());
    CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
    CHECK(html.find("<svg") != std::string::npos);
    for (const char* s : {">audio<", ">structure<", ">emotion<", ">production<", "BPM", "LUFS (BS.1770)", "0..1, heuristic"}) CHECK_MESSAGE(html.find(s) != std::string::npos, s);
    CHECK(html.find("<script") == std::string::npos);
    // Errors: one line naming the input and the cause.
    r = test::run({"plot", dir.file("missing.wav"), "-o", dir.file("x.svg"), "--db", dir.file("none.db")});
    CHECK(r.exit_code == 3);
    CHECK(r.err.find("missing.wav: no such file") != std::string::npos);
    {
        std::ofstream(dir.file("bad.json")) << "{\"hello\": 1}";
    }
    r = test::run({"plot", dir.file("bad.json"), "-o", dir.file("x.svg")});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("bad.json: neither a DNA") != std::string::npos);
    r = test::run({"plot", "42", "-o", dir.file("x.svg"), "--db", dir.file("none.db")});
    CHECK(r.exit_code == 5);
    CHECK(r.err.find("no catalog") != std::string::npos);
    // A DNA without a key (atonal) and a generation record: the page says which attempt was kept.
    json dna = json::parse(test::slurp(dir.file("song.json")));
    dna["audio"]["harmony"]["key"] = nullptr;
    dna["audio"]["harmony"]["mode"] = nullptr;
    {
        std::ofstream(dir.file("atonal.json")) << dna.dump();
    }
    r = test::run({"report", dir.file("atonal.json"), "-o", dir.file("atonal.html")});
    INFO(r.err);
    CHECK(r.exit_code == 0);
    json target = {{"format", "hitdna-target-1"}, {"prompt", "p"}, {"bpm", 120}, {"key", "A"}, {"mode", "minor"}, {"duration_s", 30},
                   {"sections", {{{"role", "verse"}, {"label", "A"}, {"start_s", 0}, {"duration_s", 30}, {"energy_lu", 0}}}},
                   {"energy_arc_lu", std::vector<double>(16, 0.0)}, {"production", {{"integrated_lufs", -14}, {"mean_width", 0.2}}}};
    auto attempt = [](int n, double overall, bool passed) {
        json v = {{"overall", overall}, {"passed", passed}, {"layers", {{"tempo", {{"similarity", overall}}}}}};
        return json{{"attempt", n}, {"validation", v}};
    };
    json rec = {{"generation_id", "gen-test"}, {"prompt", "p"}, {"backend", "local"}, {"target", target}, {"best_attempt", 2}, {"score", 0.9},
                {"output", dir.file("song.wav")}, {"attempts", json::array({attempt(1, 0.7, false), attempt(2, 0.9, true)})}};
    {
        std::ofstream(dir.file("gen.json")) << rec.dump();
    }
    r = test::run({"report", dir.file("gen.json"), "-o", dir.file("gen.html"), "--db", dir.file("none.db")});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const std::string page = test::slurp(dir.file("gen.html"));
    CHECK(page.find(">2 (kept)<") != std::string::npos);
    CHECK(page.find(">1 (kept)<") == std::string::npos);
    CHECK(page.find("class=\"pass\">passes<") != std::string::npos);
    CHECK(page.find("class=\"fail\">below<") != std::string::npos);
}
