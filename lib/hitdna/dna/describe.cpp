#include "hitdna/dna/describe.hpp"

#include <algorithm>
#include <cctype>

namespace hitdna::dna {

std::vector<std::string> describe(const Dna& d) {
    std::vector<std::string> w;
    const auto& a = d.audio;
    const auto& p = d.production;
    const auto& s = d.structure;
    const auto& e = d.emotion;
    auto has = [&](const char* flag) { return std::find(d.flags.begin(), d.flags.end(), flag) != d.flags.end(); };
    if (has("silent")) return {"silent"};
    if (a.bpm) {
        const double b = *a.bpm;
        w.push_back(b < 90 ? "slow" : b < 115 ? "midtempo" : b < 140 ? "uptempo" : "fast");
        if (!a.tempo_changes.empty()) w.push_back("tempo-changes");  // a held change (>= 4 bars)
    } else {
        w.push_back("beatless");
    }
    if (!a.mode.empty()) {
        w.push_back(a.mode);
        std::string k = a.key;
        std::transform(k.begin(), k.end(), k.begin(), [](unsigned char c) { return std::tolower(c); });
        w.push_back("key-" + k + "-" + a.mode);
    }
    if (p.sub_presence >= 0.12) w.push_back("heavy-sub");
    else if (p.low_end_db < -12) w.push_back("light-low-end");
    if (p.bass_808_sustain_s >= 0.4 && p.sub_presence >= 0.08) w.push_back("long-808");
    if (p.mean_width >= 0.25) w.push_back("wide");
    else if (p.mean_width < 0.02) w.push_back(d.channels == 1 ? "mono" : "narrow");
    if (p.loudness_range_lu >= 10 || p.plr_db >= 16) w.push_back("dynamic");
    if (p.integrated_lufs >= -10) w.push_back("loud");
    if (p.compression == "brickwall" || p.compression == "heavy") w.push_back("compressed");
    if (a.spectral_centroid_hz >= 2500) w.push_back("bright");
    else if (a.spectral_centroid_hz > 0 && a.spectral_centroid_hz < 1200) w.push_back("dark");
    if (p.sparkle >= 0.05) w.push_back("sparkly");
    if (p.reverb_proxy >= 0.6) w.push_back("wet");
    else if (p.reverb_proxy > 0 && p.reverb_proxy < 0.2) w.push_back("dry");
    if (a.syncopation >= 0.45) w.push_back("syncopated");
    if (a.swing_ratio >= 1.4) w.push_back("swung");
    if (a.groove >= 0.6) w.push_back("groovy");
    if (a.rhythmic_complexity >= 0.55) w.push_back("complex-rhythm");
    if (e.valence >= 0.3) w.push_back("happy");
    else if (e.valence <= -0.3) w.push_back("sad");
    if (e.mean_intensity >= 0.65) w.push_back("intense");
    else if (e.mean_intensity > 0 && e.mean_intensity < 0.35) w.push_back("calm");
    if (!s.builds.empty()) w.push_back("builds");
    if (!s.drops.empty()) w.push_back("drops");
    if (s.repetition >= 0.6) w.push_back("repetitive");
    if (s.earworm >= 0.6) w.push_back("catchy");
    if (s.first_hook_s && *s.first_hook_s <= 30) w.push_back("early-hook");
    if (p.pitch_quantization && *p.pitch_quantization >= 0.75 && p.melody_coverage >= 0.3) w.push_back("pitch-locked");
    return w;
}

}  // namespace hitdna::dna
