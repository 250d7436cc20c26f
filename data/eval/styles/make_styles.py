#!/usr/bin/env python3
"""The tempo/meter evaluation set across styles: MIDI with a known tempo, rendered by the bench.
Nothing in this file reads audio or calls hitdna; every truth comes from a MIDI file.

    make_styles.py --midi DIR            write DIR/<id>.mid and truth.jsonl beside this script
    make_styles.py --midi DIR --truth F  write the truth somewhere else (the test compares)

Two kinds of song:
  chart  - chord charts written here for MMA (Debian package mma), one per groove of its
           standard library: rock, shuffles, boogie, swing, Latin, marches in 2/4 and 6/8,
           polka, waltzes, 6/8 and 12/8 blues and swing, 5/4 jazz. MMA turns each chart into
           a MIDI file (drums, bass, chords, arpeggios). The chart fixes tempo and meter.
  midi   - composers' MIDI shipped in Debian: abc2midi (abcmidi) renderings of the folk
           tunes in /usr/share/doc/abcmidi/examples and the MMA author's own example songs in
           /usr/share/doc/mma/examples. (planetblupi-music-midi, the sources of a game's
           recordings, is the MIDI-backed part of bench_accuracy's real set instead.)

The beat (what a listener taps) is the quarter note in simple meters and the dotted quarter
in compound meters (6/8, 12/8). MMA counts its own beats: a groove's notes say whether its
beat is an eighth (68Swing: "Time 6"), a dotted quarter (Blues128, 68March) or half the
2/4 quarter (Polka, BWMarch, Samba: "double the tempo"); GROOVES below carries that factor.
Every tempo is checked against the MIDI written (set_tempo events, and the chart's bar length
against the MIDI's length) before it is written as truth; songs whose MIDI changes tempo are
kept only where one tempo holds >= 90 % of the music, and say so.

Truth per song (one JSON object per line): id, kind, source, split ("tune" or "report": the
analyzer's parameters may be chosen on "tune" only), soundfont, beat_bpm, meter
("4/4", "2/4", "3/4", "6/8", "12/8", "5/4", ... as written), meter_class ("duple" for 2/4,
4/4, 2/2; "triple" for 3/4; "compound" for 6/8, 12/8; "" where none applies), duration_s.
"""
import argparse
import gzip
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

import mido

SOUNDFONTS = ["FluidR3_GM", "TimGM6mb"]  # /usr/share/sounds/sf2/<name>.sf2

# groove: (beats per bar as MMA counts them, MMA beats per heard beat, meter, heard-beat BPM range)
GROOVES = [
    ("50sRock", 4, 1, "4/4", (130, 170)),
    ("BasicRock", 4, 1, "4/4", (100, 140)),
    ("8Beat", 4, 1, "4/4", (90, 130)),
    ("SoftRock", 4, 1, "4/4", (80, 120)),
    ("JazzRock", 4, 1, "4/4", (110, 150)),
    ("ShuffleBoggie", 4, 1, "4/4", (110, 150)),
    ("BoggieWoggie", 4, 1, "4/4", (120, 170)),
    ("CountryBlues", 4, 1, "4/4", (90, 130)),
    ("SlowBlues", 4, 1, "4/4", (60, 80)),
    ("Swing", 4, 1, "4/4", (120, 180)),
    ("Jive", 4, 1, "4/4", (140, 180)),
    ("Foxtrot", 4, 1, "4/4", (100, 130)),
    ("Dixie", 4, 1, "4/4", (150, 200)),
    ("Charleston", 4, 1, "4/4", (180, 220)),
    ("Ragtime", 4, 1, "4/4", (90, 120)),
    ("BossaNova", 4, 1, "4/4", (110, 140)),
    ("Rhumba", 4, 1, "4/4", (100, 130)),
    ("ChaCha", 4, 1, "4/4", (110, 130)),
    ("Ska", 4, 1, "4/4", (140, 180)),
    ("R&B", 4, 1, "4/4", (80, 110)),
    ("Twist", 4, 1, "4/4", (140, 170)),
    ("Zydeco", 4, 1, "4/4", (130, 170)),
    ("March", 4, 1, "4/4", (100, 125)),
    ("DixieMarch", 4, 1, "4/4", (100, 125)),
    ("BWMarch", 4, 2, "2/4", (100, 125)),
    ("Polka", 4, 2, "2/4", (100, 130)),
    ("Samba", 4, 2, "2/4", (90, 110)),
    ("68March", 2, 1, "6/8", (100, 125)),
    ("68Swing", 6, 3, "6/8", (60, 100)),
    ("Blues68", 6, 3, "6/8", (50, 80)),
    ("Arpeggio68", 6, 3, "6/8", (60, 90)),
    ("Blues128", 4, 1, "12/8", (50, 80)),
    ("Ballad128", 4, 1, "12/8", (50, 75)),
    ("Waltz", 3, 1, "3/4", (90, 150)),
    ("JazzWaltz", 3, 1, "3/4", (110, 170)),
    ("CountryWaltz", 3, 1, "3/4", (90, 140)),
    ("RockWaltz", 3, 1, "3/4", (90, 140)),
    ("ModernJazzWaltz", 3, 1, "3/4", (110, 160)),
    ("Jazz54", 5, 1, "5/4", (110, 160)),
]

PROGRESSIONS = [
    ["I", "V", "vi", "IV"], ["I", "IV", "V", "I"], ["vi", "IV", "I", "V"], ["I", "vi", "ii", "V7"],
    ["i", "VI", "III", "VII"], ["i", "iv", "v", "i"], ["I", "I", "IV", "IV", "I", "I", "V7", "IV"],
]
DEGREE = {"I": (0, ""), "ii": (2, "m"), "iii": (4, "m"), "IV": (5, ""), "V": (7, ""), "V7": (7, "7"),
          "vi": (9, "m"), "i": (0, "m"), "iv": (5, "m"), "v": (7, "m"), "VI": (8, ""), "III": (3, ""),
          "VII": (10, "")}
NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]


def split_of(index):
    """The tuning split: every third song (index % 3 == 0). The rest is the report split."""
    return "tune" if index % 3 == 0 else "report"


def meter_class(meter):
    num, den = (int(x) for x in meter.split("/"))
    if den == 8 and num % 3 == 0 and num > 3:
        return "compound"
    if num == 3 and den == 4:
        return "triple"
    if num in (2, 4) and den in (2, 4):
        return "duple"
    return ""


def tempo_profile(path):
    """(dominant quarter-note BPM, its share of the music, time signatures, length in s)."""
    mid = mido.MidiFile(path)
    events = []
    sigs = []
    for track in mid.tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "set_tempo":
                events.append((tick, msg.tempo))
            elif msg.type == "time_signature":
                sigs.append((tick, "%d/%d" % (msg.numerator, msg.denominator)))
    events.sort()
    end_tick = max(sum(m.time for m in tr) for tr in mid.tracks)
    if not events or events[0][0] > 0:
        events.insert(0, (0, 500000))
    held = {}
    for i, (tick, tempo) in enumerate(events):
        nxt = events[i + 1][0] if i + 1 < len(events) else end_tick
        span_s = (nxt - tick) / mid.ticks_per_beat * tempo / 1e6
        held[tempo] = held.get(tempo, 0.0) + max(0.0, span_s)
    tempo, span = max(held.items(), key=lambda kv: kv[1])
    total = sum(held.values())
    return 60e6 / tempo, span / total if total else 0.0, sigs, mid.length


def chart(index, groove, rng):
    name, beats, per_beat, meter, (lo, hi) = groove
    heard = rng.randint(lo, hi)
    tempo = heard * per_beat
    key = rng.randrange(12)
    prog = rng.choice(PROGRESSIONS)
    bar_s = beats * 60.0 / tempo
    bars = max(16, int(round(70.0 / bar_s / len(prog)) * len(prog)))
    lines = ["// hitdna styles set, song %d: groove %s, heard beat %d BPM, %s" % (index, name, heard, meter),
             "RndSeed %d" % (1000 + index), "Tempo %d" % tempo, "Groove %s" % name, "KeySig %s" % NAMES[key]]
    for b in range(bars):
        deg, kind = DEGREE[prog[b % len(prog)]]
        lines.append("%d %s%s" % (b + 1, NAMES[(key + deg) % 12], kind))
    return "\n".join(lines) + "\n", heard, bars * bar_s


def make_charts(out_dir, songs):
    rng = random.Random("hitdna-styles")
    with tempfile.TemporaryDirectory() as tmp:
        for i, groove in enumerate(GROOVES):
            text, heard, length_s = chart(i, groove, rng)
            sid = "chart_%02d_%s" % (i, groove[0].lower().replace("&", "n"))
            src = os.path.join(tmp, sid + ".mma")
            with open(src, "w") as f:
                f.write(text)
            mid = os.path.join(out_dir, sid + ".mid")
            r = subprocess.run(["mma", "-f", mid, src], capture_output=True, text=True)
            if r.returncode != 0 or not os.path.exists(mid):
                sys.exit("make_styles: mma failed on %s: %s" % (sid, r.stdout[-300:] + r.stderr[-300:]))
            qbpm, share, _, length = tempo_profile(mid)
            expect_q = heard * groove[2]
            if abs(qbpm - expect_q) > 0.01 or share < 0.999 or abs(length - length_s) > 0.03 * length_s + 2.0:
                sys.exit("make_styles: %s: MIDI tempo %.2f (share %.2f, %.1f s) disagrees with the chart (%d, %.1f s)"
                         % (sid, qbpm, share, length, expect_q, length_s))
            songs.append({"id": sid, "kind": "chart", "source": "mma groove " + groove[0], "beat_bpm": heard,
                          "meter": groove[3], "duration_s": round(length, 2)})


# Composers' MIDI. The abc files whose tunes may state a tempo (Q:); every tune of them with a
# tempo and a meter of agreed beat is taken.
ABC = ["araber.abc", "baym_rebin.abc", "boys.abc", "coleraine.abc", "daramud.abc", "dergasn.abc", "demo.abc"]
# MMA's example songs whose groove beat is the quarter: (path, meter, groove); those whose tempo
# does not hold for 90 % of the song, or shorter than 20 s, are dropped below.
MMA_EXAMPLES = [("aria/barb.mid", "4/4", "SoftRock"), ("aria/girl.mid", "4/4", "JazzGuitar"),
                ("harmony/harmony.mid", "4/4", "Swing"), ("tutorial/fella1.mid", "4/4", "Rhumba"),
                ("triggers/hits.mid", "4/4", "SlowBolero"), ("riffs/riffs.mid", "4/4", "SlowJazz"),
                ("lyrics/twinkle.mid", "4/4", "Folk"), ("aria/when-or-where.mid", "4/4", "QuickStep"),
                ("simple/marine-hymn.mid", "4/4", "March"), ("rndset/rndchords.mid", "4/4", "BossaNova"),
                ("solo/solo.mid", "4/4", "Folk/Dixie"), ("misc/convert4to5.mid", "4/4", "NiteJazz")]


def abc_tunes(path):
    """Every tune of an abc file: its X: number, meter (M:) and whether it states a tempo (Q:)."""
    tunes, cur = [], None
    for line in open(path, encoding="latin-1"):
        line = line.strip()
        if line.startswith("X:"):
            cur = {"x": int(line[2:].strip().split()[0]), "meter": None, "q": False}
            tunes.append(cur)
        elif cur and line.startswith("M:") and cur["meter"] is None:
            cur["meter"] = line[2:].strip()
        elif cur and line.startswith("Q:"):
            cur["q"] = True
    return tunes


def add_composed(out_dir, songs):
    abc_dir = "/usr/share/doc/abcmidi/examples"
    for name in ABC:
        for tune in abc_tunes(os.path.join(abc_dir, name)):
            meter = {"C": "4/4", "C|": "2/2"}.get(tune["meter"], tune["meter"])
            if not tune["q"] or not meter or "/" not in meter or meter_class(meter) == "":
                continue   # no stated tempo, or a meter without an agreed beat (3/8, 13/8, free)
            sid = "abc_%s_%d" % (name[:-4], tune["x"])
            mid = os.path.join(out_dir, sid + ".mid")
            with tempfile.TemporaryDirectory() as tmp:
                r = subprocess.run(["abc2midi", os.path.join(abc_dir, name), str(tune["x"]), "-o", mid],
                                   capture_output=True, text=True, cwd=tmp)
            if not os.path.exists(mid):
                sys.exit("make_styles: abc2midi failed on %s: %s" % (sid, r.stdout[-300:]))
            qbpm, share, _, length = tempo_profile(mid)
            if share < 0.9 or length < 20:
                continue
            factor = 2.0 / 3.0 if meter_class(meter) == "compound" else (2.0 if meter == "2/2" else 1.0)
            songs.append({"id": sid, "kind": "midi", "source": "abcmidi examples/%s X:%d" % (name, tune["x"]),
                          "beat_bpm": round(qbpm * factor, 3), "meter": meter, "duration_s": round(length, 2)})
    ex_dir = "/usr/share/doc/mma/examples"
    for rel, meter, groove in MMA_EXAMPLES:
        src = os.path.join(ex_dir, rel)
        if not os.path.exists(src) and os.path.exists(src + ".gz"):
            src = src + ".gz"
        sid = "mma_" + os.path.basename(rel)[:-4].replace("-", "_")
        mid = os.path.join(out_dir, sid + ".mid")
        opener = gzip.open if src.endswith(".gz") else open
        with opener(src, "rb") as fin, open(mid, "wb") as fout:
            shutil.copyfileobj(fin, fout)
        qbpm, share, _, length = tempo_profile(mid)
        if share < 0.9 or length < 20:
            os.remove(mid)
            continue
        songs.append({"id": sid, "kind": "midi", "source": "mma examples/%s (%s)" % (rel, groove),
                      "beat_bpm": round(qbpm, 3), "meter": meter, "duration_s": round(length, 2),
                      **({"tempo_share": round(share, 3)} if share < 0.999 else {})})


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--midi", required=True, help="directory for the .mid files")
    ap.add_argument("--truth", default=os.path.join(here, "truth.jsonl"))
    args = ap.parse_args()
    for tool in ("mma", "abc2midi"):
        if not shutil.which(tool):
            sys.exit("make_styles: %s not found (apt-get install mma abcmidi)" % tool)
    # abc2midi runs in a scratch directory (it leaves files behind), so a relative --midi
    # (bench_styles' default work directory) would land there.
    args.midi = os.path.abspath(args.midi)
    os.makedirs(args.midi, exist_ok=True)
    songs = []
    make_charts(args.midi, songs)
    add_composed(args.midi, songs)
    with open(args.truth, "w") as f:
        for i, s in enumerate(songs):
            s["split"] = split_of(i)
            s["soundfont"] = SOUNDFONTS[i % 2]
            s["meter_class"] = meter_class(s["meter"])
            f.write(json.dumps(s, sort_keys=True) + "\n")
    print("make_styles: %d songs (%d charts, %d composers' MIDI) -> %s" % (
        len(songs), sum(s["kind"] == "chart" for s in songs), sum(s["kind"] == "midi" for s in songs), args.truth),
        file=sys.stderr)


if __name__ == "__main__":
    main()
