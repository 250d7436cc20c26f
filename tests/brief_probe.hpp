#pragma once
// What the brief tests and bench_brief both read off a target and a render: every text a
// generator would receive, whole-word counts in them, and two measurements by tools outside
// hitdna (ffmpeg's EBU R128 meter, aubio's beats). Header-only so that tests and benchmarks
// share it.
#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <cmath>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "hitdna/core/subprocess.hpp"
#include "hitdna/core/text.hpp"
#include "hitdna/enrich/target.hpp"

namespace hitdna::test {

// The enriched prompt, then every style and section name of both plan formats.
inline std::vector<std::string> sent_texts(const enrich::Target& t) {
    using json = nlohmann::json;
    std::vector<std::string> out = {enrich::enriched_prompt(t)};
    for (const char* model : {"music_v1", "music_v2"}) {
        const auto plan = enrich::composition_plan(t, model);
        for (const auto& s : plan.value("positive_global_styles", json::array())) out.push_back(s.get<std::string>());
        for (const auto& s : plan.value("sections", json::array())) {
            out.push_back(s.at("section_name").get<std::string>());
            for (const auto& x : s.at("positive_local_styles")) out.push_back(x.get<std::string>());
        }
        for (const auto& c : plan.value("chunks", json::array())) {
            out.push_back(c.at("text").get<std::string>());
            for (const auto& x : c.at("positive_styles")) out.push_back(x.get<std::string>());
        }
    }
    return out;
}

// The part of the enriched prompt hitdna wrote (after the user's own words).
inline std::string generated_part(const enrich::Target& t) {
    const std::string p = enrich::enriched_prompt(t);
    return t.free_text.empty() ? p : p.substr(std::min(p.size(), t.free_text.size()));
}

// How often `word` occurs in `text` as whole words, case ignored.
inline int whole_word_count(const std::string& text, const std::string& word) {
    const std::string lt = core::ascii_lower(text), lw = core::ascii_lower(word);
    int n = 0;
    if (lw.empty()) return 0;
    for (size_t p = lt.find(lw); p != std::string::npos; p = lt.find(lw, p + 1)) {
        const bool start = p == 0 || !std::isalnum(static_cast<unsigned char>(lt[p - 1]));
        const bool end = p + lw.size() >= lt.size() || !std::isalnum(static_cast<unsigned char>(lt[p + lw.size()]));
        n += start && end;
    }
    return n;
}

// Integrated loudness as ffmpeg's ebur128 filter prints it in its summary, LUFS.
inline std::optional<double> ffmpeg_lufs(const std::string& wav) {
    auto r = core::run_process({"ffmpeg", "-nostats", "-hide_banner", "-i", wav, "-af", "ebur128", "-f", "null", "-"});
    const auto at = r.err.rfind("Integrated loudness:");
    if (at == std::string::npos) return std::nullopt;
    const std::string tail = r.err.substr(at);
    std::smatch m;
    if (!std::regex_search(tail, m, std::regex("I:\\s+(-?\\d+(?:\\.\\d+)?) LUFS"))) return std::nullopt;
    return std::stod(m[1]);
}

// aubio's inter-beat intervals (s), from one run of `aubio beat`.
inline std::vector<double> aubio_intervals(const std::string& wav) {
    auto r = core::run_process({"aubio", "beat", wav});
    std::istringstream in(r.out);
    std::vector<double> beats, ibi;
    for (double x; in >> x;) beats.push_back(x);
    for (size_t i = 1; i < beats.size(); ++i) ibi.push_back(beats[i] - beats[i - 1]);
    return ibi;
}

// Tempo from aubio's beat intervals: 60 / the median interval, BPM (nullopt under 9 beats).
inline std::optional<double> aubio_median_bpm(std::vector<double> ibi) {
    if (ibi.size() < 8) return std::nullopt;
    std::nth_element(ibi.begin(), ibi.begin() + long(ibi.size() / 2), ibi.end());
    return 60.0 / ibi[ibi.size() / 2];
}

// The same read more finely: aubio's beat times fall on 512-sample hops (11.6 ms at 44.1 kHz),
// so one interval is quantized by up to 2.7 % at 140 BPM and the median inherits it. The mean
// of the intervals within 10 % of the median averages the quantization out over the song while
// ignoring missed and extra beats.
inline std::optional<double> aubio_trimmed_mean_bpm(const std::vector<double>& ibi) {
    const auto median = aubio_median_bpm(ibi);
    if (!median) return std::nullopt;
    const double med = 60.0 / *median;
    double sum = 0;
    int n = 0;
    for (double x : ibi)
        if (std::abs(x / med - 1) <= 0.1) sum += x, ++n;
    return n ? std::optional<double>(60.0 * n / sum) : std::nullopt;
}

inline std::optional<double> aubio_bpm(const std::string& wav) { return aubio_median_bpm(aubio_intervals(wav)); }

}  // namespace hitdna::test
