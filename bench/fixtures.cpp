#include "fixtures.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <numbers>

#include "hitdna/audio/wav.hpp"
#include "hitdna/audio/source.hpp"
#include "hitdna/core/subprocess.hpp"
#include "hitdna/dna/dna.hpp"

namespace hitdna::bench {
namespace {

bool exists(const std::string& p) {
    struct stat st{};
    return stat(p.c_str(), &st) == 0 && st.st_size > 0;
}

// ---- a minimal Standard MIDI File writer (format 0) ----
struct Midi {
    struct Ev {
        uint32_t tick;
        std::vector<uint8_t> bytes;
    };
    std::vector<Ev> events;
    static constexpr int k_division = 480;
    void note(uint32_t tick, uint32_t len, int ch, int key, int vel) {
        events.push_back({tick, {uint8_t(0x90 | ch), uint8_t(key), uint8_t(vel)}});
        events.push_back({tick + len, {uint8_t(0x80 | ch), uint8_t(key), 0}});
    }
    void program(int ch, int prog) { events.push_back({0, {uint8_t(0xC0 | ch), uint8_t(prog)}}); }
    void tempo(double bpm) {
        uint32_t us = uint32_t(std::lround(60e6 / bpm));
        events.push_back({0, {0xFF, 0x51, 0x03, uint8_t(us >> 16), uint8_t(us >> 8), uint8_t(us)}});
    }
    void save(const std::string& path) {
        std::stable_sort(events.begin(), events.end(), [](const Ev& a, const Ev& b) {
            if (a.tick != b.tick) return a.tick < b.tick;
            // note-offs before note-ons at the same tick
            return (a.bytes[0] & 0xF0) == 0x80 && (b.bytes[0] & 0xF0) != 0x80;
        });
        std::vector<uint8_t> trk;
        uint32_t last = 0;
        auto vlq = [&](uint32_t v) {
            uint8_t buf[5];
            int n = 0;
            buf[n++] = v & 0x7F;
            while (v >>= 7) buf[n++] = uint8_t(0x80 | (v & 0x7F));
            while (n) trk.push_back(buf[--n]);
        };
        for (const auto& e : events) {
            vlq(e.tick - last);
            last = e.tick;
            trk.insert(trk.end(), e.bytes.begin(), e.bytes.end());
        }
        vlq(0);
        trk.insert(trk.end(), {0xFF, 0x2F, 0x00});
        std::ofstream f(path, std::ios::binary);
        auto be32 = [&](uint32_t v) { f.put(char(v >> 24)).put(char(v >> 16)).put(char(v >> 8)).put(char(v)); };
        f.write("MThd", 4);
        be32(6);
        f.put(0).put(0).put(0).put(1).put(char(k_division >> 8)).put(char(k_division & 0xFF));
        f.write("MTrk", 4);
        be32(uint32_t(trk.size()));
        f.write(reinterpret_cast<const char*>(trk.data()), std::streamsize(trk.size()));
    }
};

}  // namespace

std::vector<Fixture> make_click_tracks(const std::string& dir) {
    std::vector<Fixture> out;
    for (double bpm : {60.0, 72.0, 85.0, 96.0, 110.0, 124.0, 136.0, 150.0, 165.0, 180.0, 200.0}) {
        char name[64];
        std::snprintf(name, sizeof name, "/click_%03d.wav", int(bpm));
        const std::string path = dir + name;
        if (!exists(path)) {
            const int rate = 44100;
            std::vector<float> x(size_t(45 * rate), 0.0f);
            uint32_t st = 2463534242u;
            int beat = 0;
            for (double t = 0.3; t < 45; t += 60.0 / bpm, ++beat) {
                // Pitched click: 1.5 kHz on the downbeat, 1 kHz otherwise, 30 ms decay.
                const double f = beat % 4 == 0 ? 1500 : 1000;
                for (size_t i = 0; i < size_t(0.03 * rate); ++i) {
                    st ^= st << 13;
                    st ^= st >> 17;
                    st ^= st << 5;
                    const size_t k = size_t(t * rate) + i;
                    if (k >= x.size()) break;
                    x[k] += float(0.5 * std::exp(-double(i) / (0.006 * rate)) * (std::sin(2 * std::numbers::pi * f * double(i) / rate) + 0.2 * (double(st) / 4294967296.0 - 0.5)));
                }
            }
            audio::write_wav(path, x, rate, 1);
        }
        Fixture fx{path, "click", bpm, "", 45, "generated click track", {}, {}};
        for (double t = 0.3; t < 45; t += 60.0 / bpm) fx.beats.push_back(t);
        out.push_back(fx);
    }
    return out;
}

std::vector<Fixture> make_renders(const std::string& dir, const std::string& soundfont) {
    std::vector<Fixture> out;
    const std::string fluidsynth = core::find_executable("fluidsynth");
    if (fluidsynth.empty() || !exists(soundfont)) {
        std::cerr << "bench: fluidsynth or " << soundfont << " missing: no rendered fixtures\n";
        return out;
    }
    // 24 songs: every tonic once in major and once in minor, tempi spread over 70..190 BPM,
    // three drum grooves (rock backbeat, four-on-the-floor, half-time).
    for (int i = 0; i < 24; ++i) {
        const int tonic = (i * 7) % 12;
        const bool minor = i % 2 == 1;
        const double bpm = 70 + (i * 37) % 121;
        const int groove = i % 3;
        char name[96];
        std::snprintf(name, sizeof name, "/render_%02d_%s_%s_%03d", i, dna::k_pitch_names[tonic], minor ? "minor" : "major", int(bpm));
        const std::string mid = dir + name + ".mid", wav = dir + name + ".wav";
        if (!exists(wav)) {
            Midi m;
            m.tempo(bpm);
            m.program(0, minor ? 48 : 0);  // strings / piano
            m.program(1, 33);              // fingered bass
            m.program(2, 73);              // flute melody
            const int q = Midi::k_division;
            // Progressions: major I-IV-V-I, vi-IV-V-I; minor i-iv-V-i, i-VI-iv-V (harmonic minor V).
            const int maj_prog[8][3] = {{0, 4, 7}, {5, 9, 12}, {7, 11, 14}, {0, 4, 7}, {9, 12, 16}, {5, 9, 12}, {7, 11, 14}, {0, 4, 7}};
            const int min_prog[8][3] = {{0, 3, 7}, {5, 8, 12}, {7, 11, 14}, {0, 3, 7}, {0, 3, 7}, {8, 12, 15}, {5, 8, 12}, {7, 11, 14}};
            const int scale_maj[7] = {0, 2, 4, 5, 7, 9, 11}, scale_min[7] = {0, 2, 3, 5, 7, 8, 11};
            const int base = 48 + tonic;
            uint32_t seed = uint32_t(i * 7919 + 17);
            for (int bar = 0; bar < 24; ++bar) {
                const uint32_t t0 = uint32_t(bar * 4 * q);
                const auto& ch = minor ? min_prog[bar % 8] : maj_prog[bar % 8];
                for (int k = 0; k < 3; ++k) m.note(t0, uint32_t(4 * q - 20), 0, base + 12 + ch[k], 70);
                for (int beat = 0; beat < 4; ++beat) m.note(t0 + uint32_t(beat * q), uint32_t(q - 30), 1, base - 12 + ch[beat == 2 ? 2 : 0], 95);
                for (int e = 0; e < 8; ++e) {  // melody: eighths walking the scale around chord tones
                    seed = seed * 1103515245 + 12345;
                    int deg = int((seed >> 16) % 7);
                    if (e % 2 == 0) {
                        int tone = ch[(seed >> 8) % 3];
                        m.note(t0 + uint32_t(e * q / 2), uint32_t(q / 2 - 10), 2, base + 24 + tone, 80);
                    } else {
                        m.note(t0 + uint32_t(e * q / 2), uint32_t(q / 2 - 10), 2, base + 24 + (minor ? scale_min : scale_maj)[deg], 60);
                    }
                }
                for (int e = 0; e < 8; ++e) {  // drums on channel 10
                    const uint32_t t = t0 + uint32_t(e * q / 2);
                    m.note(t, 60, 9, 42, e % 2 ? 50 : 70);  // closed hi-hat on eighths
                    const int beat = e / 2;
                    const bool on = e % 2 == 0;
                    if (groove == 0) {  // rock: kick 1 & 3, snare 2 & 4
                        if (on && (beat == 0 || beat == 2)) m.note(t, 100, 9, 36, 110);
                        if (on && (beat == 1 || beat == 3)) m.note(t, 100, 9, 38, 105);
                    } else if (groove == 1) {  // four on the floor, clap on 2 & 4
                        if (on) m.note(t, 100, 9, 36, 115);
                        if (on && (beat == 1 || beat == 3)) m.note(t, 100, 9, 39, 90);
                    } else {  // half-time: kick 1, snare 3
                        if (on && beat == 0) m.note(t, 100, 9, 36, 110);
                        if (e == 5) m.note(t, 100, 9, 36, 80);
                        if (on && beat == 2) m.note(t, 100, 9, 38, 110);
                    }
                }
            }
            m.save(mid);
            auto r = core::run_process({fluidsynth, "-ni", "-q", "-g", "0.6", "-F", wav, "-r", "44100", soundfont, mid});
            if (r.exit_code != 0 || !exists(wav)) {
                std::cerr << "bench: fluidsynth failed for " << mid << ": " << r.err << "\n";
                continue;
            }
        }
        Fixture fx{wav, "render", bpm, std::string(dna::k_pitch_names[tonic]) + (minor ? " minor" : " major"), 0,
                   groove == 0 ? "GM render, rock backbeat" : groove == 1 ? "GM render, four-on-the-floor" : "GM render, half-time", {}, {}};
        const double spb = 60.0 / bpm;
        for (int b = 0; b < 24 * 4; ++b) fx.beats.push_back(b * spb);
        // The progressions above, as labels: root and third decide major/minor.
        const int maj_prog[8][2] = {{0, 4}, {5, 9}, {7, 11}, {0, 4}, {9, 12}, {5, 9}, {7, 11}, {0, 4}};
        const int min_prog[8][2] = {{0, 3}, {5, 8}, {7, 11}, {0, 3}, {0, 3}, {8, 12}, {5, 8}, {7, 11}};
        for (int bar = 0; bar < 24; ++bar) {
            const auto& c = minor ? min_prog[bar % 8] : maj_prog[bar % 8];
            fx.chords.push_back({bar * 4 * spb, std::string(dna::k_pitch_names[(tonic + c[0]) % 12]) + (c[1] - c[0] == 3 ? "m" : "")});
        }
        fx.duration_s = 24 * 4 * spb;
        out.push_back(fx);
    }
    return out;
}

}  // namespace hitdna::bench
