#!/usr/bin/env python3
"""Composes the form-render evaluation set: pop-form songs written here, note by note, with
their truth known by construction (nothing in this file reads audio or calls hitdna).

    make_forms.py                      rewrite truth.jsonl beside this script
    make_forms.py --truth FILE         write the truth somewhere else (the test compares)
    make_forms.py --midi DIR           also write DIR/<id>.mid (Standard MIDI File, type 1)

Every song differs in tempo, meter (4/4, 3/4, 6/8), groove (straight, shuffle, four on the
floor, half time, waltz, 6/8), key and mode (about 60 % minor, with pop progressions such as
i-VI-III-VII and VI-III-VII-i), form (some open intro -> chorus or with the chorus itself),
GM instruments and soundfont (FluidR3_GM or TimGM6mb). Repeats are never identical: drum
fills close sections, velocities and melodic ornaments vary, the last chorus is lifted (more
voices, louder, a crash) and in some songs moves up a whole step. Some songs hold a tempo
step (+8..15 %) over an 8-bar bridge. Songs 45-54 are fast metal in 4/4 (160-196 BPM, a
double kick on every sixteenth, distorted guitars) played loosely: every drum hit lands up to
+-8 ms off the grid, as a band without a click would; their tempo map is still one tempo
(or one step), so a steady reading must not see changes in them.

Truth per song (one JSON object per line, times in seconds from the MIDI tempo map):
  id, split ("tune" or "report": parameters may be chosen on "tune" only), soundfont,
  meter, beat_bpm (the beat: quarter note in 4/4 and 3/4, dotted quarter in 6/8),
  tempo_segments [[start_s, beat_bpm], ...], key/mode (global: the key of most bars),
  key_changes [[time_s, "D minor"], ...], sections [{start_s, end_s, label, role, key}],
  first_hook_s (start of the first chorus), downbeats_s, beats_s, duration_s, programs.
The render's audio starts at MIDI time 0; the duration adds 2 s of release after the last bar.
"""
import argparse
import json
import os
import random
import struct

DIVISION = 480
NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
N_SONGS = 55
FIRST_METAL = 45


def split_of(index):
    """The tuning split: 18 of the 45 songs, covering every form, meter, tempo step and key
    change. Everything else (27 songs) is the report split."""
    return "tune" if index % 5 in (0, 3) else "report"


# ---- Standard MIDI File writer -------------------------------------------------------------

def vlq(v):
    out = [v & 0x7F]
    v >>= 7
    while v:
        out.append(0x80 | (v & 0x7F))
        v >>= 7
    return bytes(reversed(out))


def track_bytes(events):
    """events: (tick, order, bytes); note-offs (order 0) sort before note-ons at one tick."""
    data = bytearray()
    last = 0
    for tick, _, ev in sorted(events, key=lambda e: (e[0], e[1])):
        data += vlq(tick - last) + ev
        last = tick
    data += vlq(0) + b"\xff\x2f\x00"
    return b"MTrk" + struct.pack(">I", len(data)) + bytes(data)


def write_midi(path, tracks):
    with open(path, "wb") as f:
        f.write(b"MThd" + struct.pack(">IHHH", 6, 1, len(tracks), DIVISION))
        for t in tracks:
            f.write(track_bytes(t))


# ---- harmony --------------------------------------------------------------------------------

# Chords as (degree in semitones from the tonic, quality): "M", "m", "d" (diminished).
MINOR_PROGS = {
    "verse": [[(0, "m"), (8, "M"), (3, "M"), (10, "M")],      # i VI III VII
              [(0, "m"), (5, "m"), (8, "M"), (10, "M")],      # i iv VI VII
              [(0, "m"), (10, "M"), (8, "M"), (10, "M")]],    # i VII VI VII
    "chorus": [[(8, "M"), (3, "M"), (10, "M"), (0, "m")],     # VI III VII i
               [(8, "M"), (10, "M"), (0, "m"), (0, "m")],     # VI VII i i
               [(5, "m"), (8, "M"), (7, "M"), (0, "m")]],     # iv VI V i
    "pre": [[(5, "m"), (8, "M"), (10, "M"), (10, "M")],
            [(8, "M"), (10, "M"), (7, "M"), (7, "M")]],
    "bridge": [[(5, "m"), (7, "m"), (8, "M"), (10, "M")],
               [(8, "M"), (5, "m"), (10, "M"), (7, "M")]],
}
MAJOR_PROGS = {
    "verse": [[(0, "M"), (7, "M"), (9, "m"), (5, "M")],       # I V vi IV
              [(0, "M"), (9, "m"), (5, "M"), (7, "M")],       # I vi IV V
              [(0, "M"), (5, "M"), (0, "M"), (7, "M")]],      # I IV I V
    "chorus": [[(5, "M"), (7, "M"), (0, "M"), (0, "M")],      # IV V I I
               [(9, "m"), (5, "M"), (0, "M"), (7, "M")],      # vi IV I V
               [(5, "M"), (0, "M"), (7, "M"), (0, "M")]],     # IV I V I
    "pre": [[(2, "m"), (5, "M"), (7, "M"), (7, "M")],
            [(9, "m"), (4, "m"), (5, "M"), (7, "M")]],
    "bridge": [[(9, "m"), (4, "m"), (5, "M"), (7, "M")],
               [(5, "M"), (9, "m"), (2, "m"), (7, "M")]],
}
INTERVALS = {"M": (0, 4, 7), "m": (0, 3, 7), "d": (0, 3, 6)}


def chord_notes(tonic, chord, octave_base):
    deg, q = chord
    root = octave_base + (tonic + deg) % 12
    return [root + i for i in INTERVALS[q]]


def scale(tonic, minor):
    steps = (0, 2, 3, 5, 7, 8, 10) if minor else (0, 2, 4, 5, 7, 9, 11)
    return [(tonic + s) % 12 for s in steps]


# ---- the song plan --------------------------------------------------------------------------

FORMS = [
    # (part, bars); the part names are the truth roles.
    [("intro", 4), ("verse", 8), ("pre", 4), ("chorus", 8), ("verse", 8), ("pre", 4), ("chorus", 8),
     ("bridge", 8), ("chorus", 8), ("outro", 4)],
    [("intro", 4), ("chorus", 8), ("verse", 8), ("chorus", 8), ("verse", 8), ("chorus", 8), ("bridge", 8),
     ("chorus", 8), ("outro", 4)],
    [("chorus", 8), ("verse", 8), ("chorus", 8), ("verse", 8), ("chorus", 8), ("outro", 4)],
    [("intro", 8), ("verse", 16), ("chorus", 8), ("verse", 16), ("chorus", 8), ("bridge", 8), ("chorus", 16),
     ("outro", 4)],
    [("intro", 4), ("verse", 8), ("chorus", 8), ("verse", 8), ("chorus", 8), ("bridge", 8), ("chorus", 8),
     ("outro", 8)],
    [("intro", 4), ("verse", 8), ("pre", 4), ("chorus", 8), ("verse", 8), ("pre", 4), ("chorus", 16),
     ("outro", 4)],
]
LABELS = {"verse": "A", "chorus": "B", "pre": "C", "bridge": "D", "intro": "E", "outro": "F"}
ROLES = {"verse": "verse", "chorus": "chorus", "pre": "pre-chorus", "bridge": "bridge", "intro": "intro",
         "outro": "outro"}

CHORD_PROGRAMS = [0, 1, 4, 5, 16, 18, 24, 25, 26, 46]      # pianos, EP, organs, guitars, harp
PAD_PROGRAMS = [48, 49, 50, 52, 88, 89, 91, 95]            # strings, choir, pads
BASS_PROGRAMS = [32, 33, 34, 35, 36, 38, 39]
LEAD_PROGRAMS = [40, 56, 65, 66, 71, 73, 80, 81, 11, 22]
VERSE_LEAD_PROGRAMS = [68, 69, 70, 72, 74, 75, 13, 12, 8]
GROOVES_44 = ["rock", "four", "half", "shuffle", "rock", "four"]
SOUNDFONTS = ["FluidR3_GM", "TimGM6mb"]


class Song:
    def __init__(self, index):
        rng = random.Random("hitdna-form-%d" % index)  # a string seed is hashed (SHA-512)
        self.rng = rng
        self.id = "form_%02d" % index
        self.split = split_of(index)
        self.soundfont = SOUNDFONTS[index % 2]
        meter_pick = index % 9  # both splits get 3/4 and 6/8 songs
        self.meter = "3/4" if meter_pick in (2, 6) else "6/8" if meter_pick in (3, 8) else "4/4"
        if index >= FIRST_METAL:
            self.meter, self.groove = "4/4", "metal"
            self.beat_bpm = rng.choice(list(range(160, 197, 2)))
            self.beats_per_bar, self.beat_ticks = 4, DIVISION
        elif self.meter == "4/4":
            self.groove = GROOVES_44[(index // 2) % len(GROOVES_44)]
            self.beat_bpm = rng.choice(list(range(72, 165, 2)))
            self.beats_per_bar, self.beat_ticks = 4, DIVISION
        elif self.meter == "3/4":
            self.groove = "waltz"
            self.beat_bpm = rng.choice(list(range(96, 181, 3)))
            self.beats_per_bar, self.beat_ticks = 3, DIVISION
        else:
            self.groove = "six-eight"
            self.beat_bpm = rng.choice(list(range(50, 96, 2)))  # dotted quarters
            self.beats_per_bar, self.beat_ticks = 2, DIVISION * 3 // 2
        self.minor = rng.random() < 0.6
        self.tonic = rng.randrange(12)
        self.form = [list(p) for p in FORMS[index % len(FORMS)]]
        # Short bars (fast 3/4, 6/8) make phrases of twice as many bars, as waltzes and
        # jigs are written, so that no part is much shorter than 8 s.
        bar_s = self.beats_per_bar * 60.0 / self.beat_bpm
        if bar_s < 1.6:
            self.form = [[p, 2 * n] for p, n in self.form]
        self.modulate = index % 4 == 3      # the last chorus a whole step up
        self.step = 0.0
        if index % 4 == 1 and any(p == "bridge" for p, _ in self.form):
            self.step = rng.choice([0.08, 0.1, 0.12, 0.15]) * rng.choice([1, -1])
        progs = MINOR_PROGS if self.minor else MAJOR_PROGS
        self.progs = {part: rng.choice(options) for part, options in progs.items()}
        self.progs["intro"] = self.progs["verse"]
        self.progs["outro"] = self.progs["chorus"]
        self.programs = {
            "chords": rng.choice(CHORD_PROGRAMS), "pad": rng.choice(PAD_PROGRAMS),
            "bass": rng.choice(BASS_PROGRAMS), "lead": rng.choice(LEAD_PROGRAMS),
            "verse_lead": rng.choice(VERSE_LEAD_PROGRAMS),
        }
        if self.groove == "metal":
            self.programs["chords"] = rng.choice([29, 30])   # overdriven / distorted guitar
        self.hook_motif = self.make_motif(rng, 8)
        self.verse_motif = self.make_motif(rng, 6)

    def make_motif(self, rng, notes):
        """(position in eighths within two bars, scale degree offset, length in eighths)."""
        eighths = self.beats_per_bar * (3 if self.meter == "6/8" else 2) * 2
        positions = sorted(rng.sample(range(0, eighths - 1), notes))
        motif = []
        for k, pos in enumerate(positions):
            nxt = positions[k + 1] if k + 1 < len(positions) else eighths
            motif.append((pos, rng.choice([0, 2, 4, 1, 3, 5, 7, 4, 2]), max(1, nxt - pos)))
        return motif


def bar_ticks(song):
    return song.beats_per_bar * song.beat_ticks


def drum_bar(song, ev, t0, part, bar_in_part, bars_in_part, lift, rng):
    """GM channel 10 for one bar."""
    bt, nb = song.beat_ticks, song.beats_per_bar
    full = part in ("chorus", "bridge") or lift
    quiet = part in ("intro", "outro")
    vel = lambda v: max(1, min(127, int(v + rng.randint(-8, 8) + (10 if lift else 0))))
    last_bar = bar_in_part == bars_in_part - 1
    if bar_in_part == 0 and part in ("chorus",):
        note(ev, t0, 240, 9, 49, vel(110))
    if quiet and part == "outro" and bar_in_part >= bars_in_part - 2:
        return
    if song.groove == "metal":
        metal_bar(song, ev, t0, part, last_bar, quiet, full, vel, rng)
        return
    sub = 3 if song.meter == "6/8" else 2
    step = bt // sub
    for k in range(nb * sub):
        t = t0 + k * step
        if last_bar and k >= nb * sub - sub * (2 if nb > 2 else 1) and not quiet:
            # A fill: snare and toms on every subdivision, different per section.
            tom = [38, 45, 47, 48, 50][(k + bar_in_part + len(part)) % 5]
            note(ev, t, 60, 9, tom, vel(80 + 6 * (k % sub)))
            continue
        hat = 46 if full and song.groove != "shuffle" and k % sub == 1 else 42
        if song.groove == "shuffle":
            if k % 2 == 0:
                note(ev, t, 60, 9, 42, vel(70))
            else:
                note(ev, t + step // 3, 60, 9, 42, vel(50))   # late eighth: a 2:1 swing
        elif not (quiet and k % sub):
            note(ev, t, 60, 9, 51 if part == "bridge" else hat, vel(65 if k % sub else 80))
        on_beat = k % sub == 0
        beat = k // sub
        if song.groove in ("rock", "shuffle"):
            if on_beat and beat in (0, 2):
                note(ev, t, 100, 9, 36, vel(105))
            if on_beat and beat in (1, 3) and not quiet:
                note(ev, t, 100, 9, 38, vel(100))
            if full and k == 5:
                note(ev, t, 100, 9, 36, vel(85))
        elif song.groove == "four":
            if on_beat:
                note(ev, t, 100, 9, 36, vel(110))
            if on_beat and beat in (1, 3) and not quiet:
                note(ev, t, 100, 9, 39, vel(90))
        elif song.groove == "half":
            if on_beat and beat == 0:
                note(ev, t, 100, 9, 36, vel(105))
            if k == 5:
                note(ev, t, 100, 9, 36, vel(80))
            if on_beat and beat == 2 and not quiet:
                note(ev, t, 100, 9, 38, vel(105))
        elif song.groove == "waltz":
            if k == 0:
                note(ev, t, 100, 9, 36, vel(105))
            if on_beat and beat in (1, 2) and not quiet:
                note(ev, t, 100, 9, 38 if full else 37, vel(75))
        else:  # six-eight: kick on 1, snare on 4 (of 6 eighths), per dotted quarter
            if k == 0:
                note(ev, t, 100, 9, 36, vel(105))
            if k == 3 and not quiet:
                note(ev, t, 100, 9, 38, vel(100))
            if full and k == 5:
                note(ev, t, 60, 9, 36, vel(70))


def metal_bar(song, ev, t0, part, last_bar, quiet, full, vel, rng):
    """Metal drums for one bar: kick on every sixteenth (quarters only when quiet), snare on
    2 and 4, ride or crash on the beats; each hit up to 8 ms off the grid."""
    bt, nb = song.beat_ticks, song.beats_per_bar
    jitter = int(round(0.008 * song.beat_bpm / 60.0 * DIVISION))
    loose = lambda t: max(t0, t + rng.randint(-jitter, jitter)) if t > t0 else t
    step = bt // 4
    for k in range(nb * 4):
        t = t0 + k * step
        beat, on_beat = k // 4, k % 4 == 0
        if last_bar and beat == nb - 1 and not quiet:
            note(ev, loose(t), 50, 9, [38, 45, 47, 48][k % 4], vel(95))   # a fill on the last beat
            continue
        if on_beat or (not quiet and part != "bridge"):
            note(ev, loose(t), 50, 9, 36, vel(100 if on_beat else 85))
        if on_beat and beat in (1, 3) and not quiet:
            note(ev, loose(t), 80, 9, 38, vel(110))
        if on_beat:
            note(ev, loose(t), 80, 9, 49 if (full and beat == 0) else 51, vel(90))


def note(ev, tick, length, ch, key, vel):
    ev.append((tick, 1, bytes([0x90 | ch, key, vel])))
    ev.append((tick + length, 0, bytes([0x80 | ch, key, 0])))


def compose(song):
    """Returns (tracks, truth) for one song."""
    rng = song.rng
    ev = [[] for _ in range(7)]  # tempo/markers, chords, pad, bass, lead, verse lead, drums
    chan = {"chords": 0, "pad": 1, "bass": 2, "lead": 3, "verse_lead": 4}
    for name, ch in chan.items():
        ev[ch + 1].append((0, 0, bytes([0xC0 | ch, song.programs[name]])))
        ev[ch + 1].append((0, 0, bytes([0xB0 | ch, 7, 100])))
    num, den = (3, 4) if song.meter == "3/4" else (6, 8) if song.meter == "6/8" else (4, 4)
    ev[0].append((0, 0, b"\xff\x58\x04" + bytes([num, {4: 2, 8: 3}[den], 24, 8])))
    bt = bar_ticks(song)
    sections, tempo_segments, key_changes = [], [], []
    tick = 0
    n_chorus = sum(1 for p, _ in song.form if p == "chorus")
    chorus_seen = 0
    bar_keys = []
    for si, (part, bars) in enumerate(song.form):
        if part == "chorus":
            chorus_seen += 1
        lift = part == "chorus" and chorus_seen == n_chorus and n_chorus > 1
        tonic = song.tonic + (2 if (lift and song.modulate) else 0)
        bpm = song.beat_bpm * (1 + song.step) if part == "bridge" and song.step else song.beat_bpm
        if not tempo_segments or tempo_segments[-1][1] != bpm:
            tempo_segments.append([tick, bpm])
            us_per_quarter = int(round(60e6 / bpm * DIVISION / song.beat_ticks))
            ev[0].append((tick, 0, b"\xff\x51\x03" + us_per_quarter.to_bytes(3, "big")))
        sections.append({"tick": tick, "bars": bars, "part": part, "tonic": tonic % 12})
        ev[0].append((tick, 0, b"\xff\x06" + bytes([len(part)]) + part.encode()))
        prog = song.progs[part]
        for b in range(bars):
            t0 = tick + b * bt
            chord = prog[b % len(prog)]
            if part == "outro" and b == bars - 1:
                chord = (0, "m" if song.minor else "M")   # the final chord is the tonic
            bar_keys.append(tonic % 12)
            play_bar(song, ev, chan, t0, part, b, bars, chord, tonic, lift, rng)
            drum_bar(song, ev[6], t0, part, b, bars, lift, rng)
        tick += bars * bt
    end_tick = tick
    return ev, finish_truth(song, sections, tempo_segments, end_tick, bar_keys)


def play_bar(song, ev, chan, t0, part, b, bars, chord, tonic, lift, rng):
    bt, nb = song.beat_ticks, song.beats_per_bar
    bar = nb * bt
    loud = {"intro": 55, "verse": 65, "pre": 72, "chorus": 88, "bridge": 70, "outro": 55}[part] + (12 if lift else 0)
    v = lambda x: max(1, min(127, int(x + rng.randint(-6, 6))))
    notes = chord_notes(tonic, chord, 60)
    # Chords: block chords on beats in verses, sustained in choruses/bridges; voicing per part.
    if part in ("chorus", "bridge", "outro") or lift:
        for n in notes:
            note(ev[chan["chords"] + 1], t0, bar - 20, chan["chords"], n, v(loud - 10))
    else:
        for beat in range(nb):
            for n in notes:
                note(ev[chan["chords"] + 1], t0 + beat * bt, bt - 40, chan["chords"], n - (12 if part == "verse" else 0), v(loud - 15))
    if part in ("chorus", "pre", "bridge") or lift:
        for n in chord_notes(tonic, chord, 72):
            note(ev[chan["pad"] + 1], t0, bar - 10, chan["pad"], n, v(loud - 20))
    # Bass on the root; octave/fifth movement in choruses.
    root = 36 + (tonic + chord[0]) % 12
    if part == "intro" and b < 2:
        pass
    elif song.meter == "4/4" and part in ("chorus", "bridge"):
        for k in range(8):
            n = root + (12 if k % 4 == 3 else 0) + (7 if k == 6 else 0)
            note(ev[chan["bass"] + 1], t0 + k * bt // 2, bt // 2 - 30, chan["bass"], n, v(loud + 10))
    else:
        for beat in range(nb):
            n = root if beat % 2 == 0 or part != "verse" else root + 7
            note(ev[chan["bass"] + 1], t0 + beat * bt, bt - 40, chan["bass"], n, v(loud + 5))
    # Melodies: the hook motif in every chorus (two bars), a verse line elsewhere.
    sc = scale(tonic, song.minor)
    motif = song.hook_motif if part == "chorus" else song.verse_motif if part in ("verse", "pre") else None
    if motif is None:
        return
    eighth = bt // (3 if song.meter == "6/8" else 2)
    base = 72 if part == "chorus" else 60
    chord_root_degree = sc.index((tonic + chord[0]) % 12) if (tonic + chord[0]) % 12 in sc else 0
    ch = chan["lead"] if part == "chorus" else chan["verse_lead"]
    span = nb * (3 if song.meter == "6/8" else 2)
    for pos, deg, length in motif:
        if (pos >= span) != bool(b % 2):
            continue
        if part == "chorus" and b == bars - 1 and lift and pos % 2:
            deg += 1                                     # the last chorus: ornamented
        if part != "chorus" and rng.random() < 0.25:
            deg += rng.choice([-1, 1])                   # verses vary between repeats
        d = chord_root_degree + deg
        n = base + sc[d % 7] + 12 * (d // 7)
        while n < base:
            n += 12
        note(ev[ch + 1], t0 + (pos % span) * eighth, max(60, length * eighth - 30), ch, n + (12 if lift and part == "chorus" else 0), v(loud + 8))


def finish_truth(song, sections, tempo_segments, end_tick, bar_keys):
    def seconds(tick):
        s = 0.0
        for i, (t, bpm) in enumerate(tempo_segments):
            nxt = tempo_segments[i + 1][0] if i + 1 < len(tempo_segments) else None
            upto = min(tick, nxt) if nxt is not None else tick
            if upto > t:
                s += (upto - t) / song.beat_ticks * 60.0 / bpm
            if nxt is None or tick <= nxt:
                break
        return s

    r3 = lambda x: round(x, 3)
    bt = bar_ticks(song)
    mode = "minor" if song.minor else "major"
    out_sections = []
    for i, s in enumerate(sections):
        end = sections[i + 1]["tick"] if i + 1 < len(sections) else end_tick
        out_sections.append({"start_s": r3(seconds(s["tick"])), "end_s": r3(seconds(end)), "label": LABELS[s["part"]],
                             "role": ROLES[s["part"]], "key": NAMES[s["tonic"]] + " " + mode})
    key_changes = []
    for a, b in zip(out_sections, out_sections[1:]):
        if a["key"] != b["key"]:
            key_changes.append([b["start_s"], b["key"]])
    counts = {}
    for k in bar_keys:
        counts[k] = counts.get(k, 0) + 1
    global_tonic = max(counts, key=lambda k: counts[k])
    beats = [r3(seconds(t)) for t in range(0, end_tick, song.beat_ticks)]
    downbeats = [r3(seconds(t)) for t in range(0, end_tick, bt)]
    first_hook = next((s["start_s"] for s in out_sections if s["role"] == "chorus"), None)
    return {
        "id": song.id, "split": song.split, "soundfont": song.soundfont, "meter": song.meter,
        "groove": song.groove, "beat_bpm": song.beat_bpm,
        "tempo_segments": [[r3(seconds(t)), round(b, 4)] for t, b in tempo_segments],
        "tempo_step": song.step, "key": NAMES[global_tonic], "mode": mode, "key_changes": key_changes,
        "sections": out_sections, "first_hook_s": first_hook, "duration_s": r3(seconds(end_tick) + 2.0),
        "programs": song.programs, "downbeats_s": downbeats, "beats_s": beats,
    }


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--truth", default=os.path.join(here, "truth.jsonl"))
    ap.add_argument("--midi", help="directory for the .mid files")
    args = ap.parse_args()
    if args.midi:
        os.makedirs(args.midi, exist_ok=True)
    with open(args.truth, "w") as f:
        for i in range(N_SONGS):
            song = Song(i)
            tracks, truth = compose(song)
            if args.midi:
                write_midi(os.path.join(args.midi, song.id + ".mid"), tracks)
            f.write(json.dumps(truth, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
