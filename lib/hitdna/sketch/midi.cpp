#include "hitdna/sketch/midi.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <map>
#include <tuple>

#include "hitdna/core/error.hpp"
#include "hitdna/core/files.hpp"

namespace hitdna::sketch {

namespace {

// An event at a tick; `order` sorts events of one tick: note-offs, then meta and controls,
// then note-ons.
struct Ev {
    int64_t tick;
    int order;
    std::vector<uint8_t> bytes;
};

void vlq(std::vector<uint8_t>& out, uint64_t v) {
    uint8_t buf[10];
    int n = 0;
    buf[n++] = uint8_t(v & 0x7f);
    while (v >>= 7) buf[n++] = uint8_t(0x80 | (v & 0x7f));
    while (n--) out.push_back(buf[n]);
}

void be(std::vector<uint8_t>& out, uint32_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) out.push_back(uint8_t(v >> (8 * i)));
}

Ev meta(int64_t tick, uint8_t type, const std::vector<uint8_t>& data) {
    Ev e{tick, 1, {0xff, type}};
    vlq(e.bytes, data.size());
    e.bytes.insert(e.bytes.end(), data.begin(), data.end());
    return e;
}

Ev text(int64_t tick, uint8_t type, const std::string& s) { return meta(tick, type, std::vector<uint8_t>(s.begin(), s.end())); }

// One MTrk chunk from events (sorted here) and its end-of-track tick.
void chunk(std::vector<uint8_t>& out, std::vector<Ev> evs, int64_t end) {
    std::stable_sort(evs.begin(), evs.end(), [](const Ev& a, const Ev& b) { return std::tie(a.tick, a.order) < std::tie(b.tick, b.order); });
    std::vector<uint8_t> body;
    int64_t at = 0;
    for (const auto& e : evs) {
        vlq(body, uint64_t(e.tick - at));
        at = e.tick;
        body.insert(body.end(), e.bytes.begin(), e.bytes.end());
    }
    vlq(body, uint64_t(std::max(end, at) - at));
    body.insert(body.end(), {0xff, 0x2f, 0x00});
    out.insert(out.end(), {'M', 'T', 'r', 'k'});
    be(out, uint32_t(body.size()), 4);
    out.insert(out.end(), body.begin(), body.end());
}

std::vector<Ev> conductor(const Sketch& s) {
    std::vector<Ev> evs = {text(0, 0x03, "hitdna sketch")};
    for (const auto& t : s.tempo) {
        std::vector<uint8_t> d;
        be(d, t.us_per_quarter, 3);
        evs.push_back(meta(t.tick, 0x51, d));
    }
    for (const auto& m : s.meter) {
        int log2den = 0;
        while ((1 << log2den) < m.denominator) ++log2den;
        evs.push_back(meta(m.tick, 0x58, {uint8_t(m.numerator), uint8_t(log2den), 24, 8}));
    }
    evs.push_back(meta(0, 0x59, {uint8_t(int8_t(s.key_sharps)), uint8_t(s.minor ? 1 : 0)}));
    for (const auto& m : s.markers) evs.push_back(text(m.tick, 0x06, m.text));
    return evs;
}

std::vector<Ev> part(const Track& tr) {
    std::vector<Ev> evs = {text(0, 0x03, tr.name)};
    const uint8_t ch = uint8_t(tr.channel & 0x0f);
    for (const auto& c : tr.controls) {
        if (c.controller < 0) evs.push_back({c.tick, 1, {uint8_t(0xc0 | ch), uint8_t(c.value & 0x7f)}});
        else evs.push_back({c.tick, 1, {uint8_t(0xb0 | ch), uint8_t(c.controller & 0x7f), uint8_t(c.value & 0x7f)}});
    }
    for (const auto& n : tr.notes) {
        evs.push_back({n.tick, 2, {uint8_t(0x90 | ch), uint8_t(n.key & 0x7f), uint8_t(std::clamp(n.velocity, 1, 127))}});
        evs.push_back({n.tick + n.length, 0, {uint8_t(0x80 | ch), uint8_t(n.key & 0x7f), 0}});
    }
    return evs;
}

}  // namespace

std::vector<uint8_t> midi_bytes(const Sketch& s) {
    std::vector<uint8_t> out = {'M', 'T', 'h', 'd', 0, 0, 0, 6, 0, 1};
    be(out, uint32_t(1 + s.tracks.size()), 2);
    be(out, uint32_t(k_ppq), 2);
    chunk(out, conductor(s), s.end_tick);
    for (const auto& tr : s.tracks) chunk(out, part(tr), s.end_tick);
    return out;
}

void write_midi(const std::string& path, const Sketch& s) {
    const auto bytes = midi_bytes(s);
    core::AtomicFile f(path);
    f.stream().write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    f.commit();
}

namespace {

// A cursor over the bytes that throws Error(decode) naming the source on a short read.
struct Reader {
    const std::vector<uint8_t>& b;
    size_t at, end;
    const std::string& source;
    [[noreturn]] void fail(const std::string& why) const { throw Error(ErrorKind::decode, source + ": not a readable MIDI file: " + why); }
    uint8_t u8() {
        if (at >= end) fail("truncated at byte " + std::to_string(at));
        return b[at++];
    }
    uint32_t be(int n) {
        uint32_t v = 0;
        for (int i = 0; i < n; ++i) v = v << 8 | u8();
        return v;
    }
    uint64_t vlq() {
        uint64_t v = 0;
        for (int i = 0; i < 4; ++i) {
            const uint8_t c = u8();
            v = v << 7 | (c & 0x7f);
            if (!(c & 0x80)) return v;
        }
        fail("a variable-length number longer than 4 bytes at byte " + std::to_string(at));
    }
};

void meta_event(MidiFile& f, MidiTrack& tr, int64_t tick, uint8_t type, const std::vector<uint8_t>& d) {
    if (type == 0x51 && d.size() == 3) {
        const uint32_t us = uint32_t(d[0]) << 16 | uint32_t(d[1]) << 8 | d[2];
        if (us) f.tempo.push_back({tick, 60e6 / us, us});
    } else if (type == 0x58 && d.size() >= 2) {
        f.meter.push_back({tick, d[0], 1 << std::min<int>(d[1], 6)});
    } else if (type == 0x59 && d.size() == 2) {
        f.key_sharps = int8_t(d[0]);
        f.minor = d[1] == 1;
        f.has_key = true;
    } else if (type == 0x06) {
        f.markers.push_back({tick, std::string(d.begin(), d.end())});
    } else if (type == 0x03 && tr.name.empty()) {
        tr.name = std::string(d.begin(), d.end());
    }
}

MidiTrack read_track(Reader r, MidiFile& f) {
    MidiTrack tr;
    int64_t tick = 0;
    uint8_t status = 0;
    std::map<std::pair<int, int>, std::vector<MidiNote>> open;  // (channel, key) -> notes sounding
    while (r.at < r.end) {
        tick += int64_t(r.vlq());
        uint8_t c = r.u8();
        if (c == 0xff) {
            const uint8_t type = r.u8();
            const size_t n = r.vlq();
            if (r.end - r.at < n) r.fail("a meta event runs past its track");
            std::vector<uint8_t> d(r.b.begin() + long(r.at), r.b.begin() + long(r.at + n));
            r.at += n;
            if (type == 0x2f) break;
            meta_event(f, tr, tick, type, d);
            continue;
        }
        if (c == 0xf0 || c == 0xf7) {
            const size_t n = r.vlq();
            if (r.end - r.at < n) r.fail("a sysex event runs past its track");
            r.at += n;
            continue;
        }
        uint8_t d1;
        if (c & 0x80) status = c, d1 = r.u8();
        else if (status) d1 = c;
        else r.fail("running status without a status byte");
        const int kind = status >> 4, ch = status & 0x0f;
        const uint8_t d2 = kind == 0xc || kind == 0xd ? 0 : r.u8();
        if (kind == 0x9 && d2 > 0) {
            open[{ch, d1}].push_back({tick, 0, ch, d1, d2});
        } else if (kind == 0x8 || kind == 0x9) {
            auto& v = open[{ch, d1}];
            if (!v.empty()) {
                MidiNote n = v.front();
                v.erase(v.begin());
                n.length = tick - n.tick;
                tr.notes.push_back(n);
            }
        } else if (kind == 0xc) {
            tr.programs.push_back({tick, d1});
        }
    }
    f.end_tick = std::max(f.end_tick, tick);
    std::sort(tr.notes.begin(), tr.notes.end(), [](auto& a, auto& b) { return std::tie(a.tick, a.key) < std::tie(b.tick, b.key); });
    return tr;
}

}  // namespace

MidiFile parse_midi(const std::vector<uint8_t>& bytes, const std::string& source) {
    Reader r{bytes, 0, bytes.size(), source};
    if (r.be(4) != 0x4d546864) r.fail("no MThd header");
    const uint32_t hlen = r.be(4);
    if (hlen < 6) r.fail("a header of " + std::to_string(hlen) + " bytes");
    MidiFile f;
    f.format = int(r.be(2));
    const int ntracks = int(r.be(2));
    const uint32_t div = r.be(2);
    if (div & 0x8000) r.fail("SMPTE time division is not supported");
    if (div == 0) r.fail("a time division of 0 ticks per quarter");
    f.ppq = int(div);
    r.at += hlen - 6;
    for (int i = 0; i < ntracks && r.at < bytes.size(); ++i) {
        const uint32_t id = r.be(4), len = r.be(4);
        if (bytes.size() - r.at < len) r.fail("track " + std::to_string(i + 1) + " is truncated");
        if (id == 0x4d54726b) f.tracks.push_back(read_track(Reader{bytes, r.at, r.at + len, source}, f));
        r.at += len;
    }
    if (f.tracks.empty()) r.fail("no tracks");
    auto by_tick = [](auto& a, auto& b) { return a.tick < b.tick; };
    std::stable_sort(f.tempo.begin(), f.tempo.end(), by_tick);
    std::stable_sort(f.meter.begin(), f.meter.end(), by_tick);
    std::stable_sort(f.markers.begin(), f.markers.end(), by_tick);
    return f;
}

MidiFile read_midi(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(ErrorKind::io, path + ": cannot open");
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return parse_midi(bytes, path);
}

}  // namespace hitdna::sketch
