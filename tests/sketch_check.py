#!/usr/bin/env python3
"""Checks `hitdna sketch` files with an independent reader (mido, Debian python3-mido).

Targets come from `hitdna enrich` briefs on an empty catalog (one edited for a long 808, one
for tempo changes);
every expectation is computed here from the target JSON and the General MIDI / SMF
definitions, never from hitdna's own reading of its file:
  - format 1, 480 ticks per quarter, the tempo map: round(60e6 / bpm) us per quarter at 0,
    and each of the target's tempo_changes on the beat nearest its time;
  - a key signature naming the target's key and mode;
  - one marker per target section, on the tick of the section's start (mido's second2tick),
    naming its label and role; the end of the song on the tick of its duration;
  - meters: 4/4, and a short bar's meter where a stated length ends mid-bar;
  - drums on channel 10 with a crash at every hook, a fill before sections, a snare roll and
    a reverse cymbal before builds; bass roots inside the bass range (808: Synth Bass, notes
    at least the target's sustain); chords of three voices;
  - the lead plays the same motif at each hook; the last hook's last statement varies it;
  - loudness follows the plan: expression ordered as the sections' energy, the breakdown
    before a drop at least 9 LU down;
  - the same seed gives the same bytes, another seed a different sketch.
usage: sketch_check.py HITDNA WORKDIR
"""
import json
import os
import subprocess
import sys

import mido

hitdna, work = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)
env = dict(os.environ, HITDNA_DB=os.path.join(work, "empty.db"))
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print("FAIL:", what)


def run(args, **kw):
    return subprocess.run([hitdna] + args, env=env, check=True, capture_output=True, **kw)


def target(brief, duration, name, edit=None):
    t = json.loads(run(["enrich", brief, "--duration", str(duration), "-f", "json"]).stdout)
    if edit:
        edit(t)
    path = os.path.join(work, name + ".json")
    with open(path, "w") as f:
        json.dump(t, f)
    return t, path


def sketch(path, name, seed=1):
    mid = os.path.join(work, f"{name}-{seed}.mid")
    run(["sketch", path, "-o", mid, "--seed", str(seed)])
    return mid


KEYS = {0: "C", 1: "Db", 2: "D", 3: "Eb", 4: "E", 5: "F", 6: "F#", 7: "G", 8: "Ab", 9: "A", 10: "Bb", 11: "B"}
PC = {"C": 0, "C#": 1, "Db": 1, "D": 2, "D#": 3, "Eb": 3, "E": 4, "F": 5, "F#": 6, "Gb": 6, "G": 7, "G#": 8, "Ab": 8, "A": 9, "A#": 10,
      "Bb": 10, "B": 11}


def events(mf):
    """Per track: (absolute tick, message) lists."""
    out = []
    for tr in mf.tracks:
        at, evs = 0, []
        for m in tr:
            at += m.time
            evs.append((at, m))
        out.append(evs)
    return out


def notes(evs, channel=None):
    """(tick, length, key, velocity) of every note in a track's events."""
    open_, out = {}, []
    for at, m in evs:
        if m.type == "note_on" and m.velocity > 0:
            open_.setdefault((m.channel, m.note), []).append((at, m.velocity))
        elif m.type in ("note_off", "note_on") and (m.channel, m.note) in open_ and open_[(m.channel, m.note)]:
            t0, v = open_[(m.channel, m.note)].pop(0)
            if channel is None or m.channel == channel:
                out.append((t0, at - t0, m.note, v))
    return sorted(out)


def named(mf_events, name):
    for evs in mf_events:
        for _, m in evs:
            if m.type == "track_name" and m.name == name:
                return evs
    return None


def sec2tick(sec, tmap):
    """Ticks (a float) at a time through a tempo map [(tick, us per quarter)], from the SMF definition."""
    at_s = 0.0
    for i, (tick, us) in enumerate(tmap):
        if i + 1 < len(tmap):
            span_s = (tmap[i + 1][0] - tick) * us / 480 / 1e6
            if sec > at_s + span_s:
                at_s += span_s
                continue
        return tick + (sec - at_s) * 1e6 / us * 480
    return 0.0


def expected_map(t):
    """The target's tempo from tick 0, then each of its tempo_changes on the nearest beat."""
    tmap = [(0, round(60e6 / t["bpm"]))]
    for c in t.get("tempo_changes", []):
        tick = 480 * round(sec2tick(c["time_s"], tmap) / 480)
        if tick > tmap[-1][0]:
            tmap.append((tick, round(60e6 / c["bpm"])))
    return tmap


def marker_seconds(mf):
    """(seconds, text) of every marker as mido plays the file (its own tempo handling)."""
    out, now = [], 0.0
    for m in mf:
        now += m.time
        if m.type == "marker":
            out.append((now, m.text))
    return out


def check_file(t, mid, label):
    mf = mido.MidiFile(mid)
    check(mf.type == 1, f"{label}: format 1")
    check(mf.ticks_per_beat == 480, f"{label}: 480 ticks per quarter")
    evs = events(mf)
    conductor = evs[0]
    tempos = [(at, m.tempo) for at, m in conductor if m.type == "set_tempo"]
    tmap = expected_map(t)
    uspq = tmap[0][1]
    check(tempos == tmap, f"{label}: tempo map {tempos} is {tmap}")
    keys = [m.key for _, m in conductor if m.type == "key_signature"]
    want_key = KEYS[PC[t["key"]]] + ("m" if t["mode"] == "minor" else "")
    # mido names minor keys by their tonic; enharmonic spellings are equal keys.
    same = keys and (keys[0] == want_key or PC.get(keys[0].rstrip("m")) == PC[t["key"]] and keys[0].endswith("m") == want_key.endswith("m"))
    check(bool(same), f"{label}: key signature {keys} names {want_key}")
    markers = [(at, m.text) for at, m in conductor if m.type == "marker"]
    check(len(markers) == len(t["sections"]), f"{label}: {len(markers)} markers for {len(t['sections'])} sections")
    played = marker_seconds(mf)
    for (at, text), (sec, _), s in zip(markers, played, t["sections"]):
        # The section's start snapped to the nearest beat through the tempo map (the sketch's
        # rule); the JSON keeps 0.01 s, so the seconds agree within half a beat and the tick exactly.
        want = 480 * round(sec2tick(s["start_s"], tmap) / 480)
        check(at == want, f"{label}: marker '{text}' at tick {at}, section {s['label']} {s['role']} starts on the beat at tick {want}")
        # (After a change of tempo the plan's bar lines are off the new beat: half a beat.)
        tol = 0.05 if len(tmap) == 1 else 0.01 + max(us for _, us in tmap) / 2e6
        check(abs(sec - s["start_s"]) <= tol + 1e-9, f"{label}: marker '{text}' played at {sec:.3f} s, within {tol:.3f} s of {s['start_s']} s")
        check(text.startswith(s["label"] + " " + s["role"]), f"{label}: marker '{text}' names {s['label']} {s['role']}")
    end = max(evs[i][-1][0] for i in range(len(evs)))
    want_end = round(sec2tick(t["duration_s"], tmap))
    check(end == want_end, f"{label}: song ends at tick {end}, its duration is tick {want_end}")
    check(abs(mf.length - t["duration_s"]) < 0.01, f"{label}: mido reads {mf.length:.3f} s, the target is {t['duration_s']} s")
    return mf, evs, markers, uspq


def check_parts(t, mf, evs, markers, label):
    drums = named(evs, "drums")
    check(drums is not None, f"{label}: a drums track")
    dn = notes(drums)
    check(all(m.channel == 9 for _, m in drums if m.type in ("note_on", "note_off")), f"{label}: drums on channel 10")
    starts = [at for at, _ in markers]
    for (at, text), s in zip(markers, t["sections"]):
        if s["role"] == "hook":
            check(any(n[0] == at and n[2] == 49 for n in dn), f"{label}: a crash on the downbeat of {text}")
    for i, (at, text) in enumerate(markers[1:], 1):
        prev = t["sections"][i - 1]
        if prev.get("build"):
            continue
        fill = [n for n in dn if at - 480 <= n[0] < at and n[2] in (38, 45, 47, 50)]
        check(len(fill) >= 4, f"{label}: a fill in the beat before {text} ({len(fill)} hits)")
    for i, s in enumerate(t["sections"]):
        if s.get("build"):
            end = starts[i + 1] if i + 1 < len(starts) else None
            roll = [n for n in dn if n[2] == 38 and end - 1920 <= n[0] < end]
            check(len(roll) >= 12, f"{label}: a snare roll in the last bar of the build ending at {end} ({len(roll)} hits)")
            vs = [n[3] for n in roll]
            check(vs == sorted(vs), f"{label}: the roll rises")
            fx = named(evs, "fx")
            # The build's last bar: 4/4 bars from its start; after a tempo change it may be short.
            # The swell takes its last two beats (all of a shorter bar) and ends into the next section.
            last_bar = starts[i] + 1920 * ((end - starts[i] - 1) // 1920)
            swell = max(last_bar, end - 960)
            check(fx is not None and any(n[0] == swell and end - 20 <= n[0] + n[1] <= end for n in notes(fx)),
                  f"{label}: a reverse cymbal through the build's last two beats (ticks {swell}..{end})")
            check(any(m.type == "program_change" and m.program == 119 for _, m in (fx or [])), f"{label}: the riser is GM Reverse Cymbal")
    # The chords change instrument only where a section starts, and a repeat label plays its
    # label's instrument (man hitdna-sketch: chords).
    chord_evs = named(evs, "chords")
    changes = [(at, m.program) for at, m in chord_evs if m.type == "program_change"]
    check(all(at in starts for at, _ in changes), f"{label}: chord program changes fall on section starts ({[a for a, _ in changes if a not in starts][:3]})")
    by_label = {}
    for at, s in zip(starts, t["sections"]):
        prog = [p for a, p in changes if a <= at][-1]
        by_label.setdefault(s["label"] + " " + s["role"], set()).add(prog)
    check(all(len(v) == 1 for v in by_label.values()), f"{label}: each repeat label keeps one chord instrument ({by_label})")
    bass = notes(named(evs, "bass"))
    check(bass and all(28 <= n[2] <= 55 for n in bass), f"{label}: bass notes in E1..G3")
    chords = notes(named(evs, "chords"))
    by_tick = {}
    for n in chords:
        by_tick.setdefault(n[0], []).append(n[2])
    check(by_tick and all(len(v) in (3, 4) for v in by_tick.values()), f"{label}: chords of three voices (plus a bass octave)")
    return dn, bass


def motif_at(lead, start, bars=2):
    """The lead's (offset, length, key) within `bars` bars from `start`."""
    return [(n[0] - start, n[1], n[2]) for n in lead if start <= n[0] < start + bars * 1920]


def check_motif(t, evs, markers, label):
    lead = notes(named(evs, "lead"))
    hooks = [at for (at, _), s in zip(markers, t["sections"]) if s["role"] == "hook"]
    check(len(hooks) >= 2, f"{label}: at least two hooks to compare")
    first = motif_at(lead, hooks[0])
    check(len(first) >= 5, f"{label}: the hook has a motif ({len(first)} notes)")
    for h in hooks[1:-1]:
        check(motif_at(lead, h) == first, f"{label}: the hook at tick {h} repeats the first hook's motif")
    # The last hook's last whole statement (statements every two bars from its start) varies
    # the motif; its earlier statements repeat it.
    i_last = max(i for i, s in enumerate(t["sections"]) if s["role"] == "hook")
    end = markers[i_last + 1][0] if i_last + 1 < len(markers) else max(n[0] + n[1] for n in lead)
    bars = -(-(end - hooks[-1]) // 1920)
    tag = hooks[-1] + 1920 * 2 * (max(0, bars - 2) // 2)
    last = motif_at(lead, tag)
    check([n[:2] for n in last] == [n[:2] for n in first], f"{label}: the last hook's last statement keeps the motif's rhythm")
    check(last != first, f"{label}: the last hook's last statement varies the motif")
    if tag > hooks[-1]:
        check(motif_at(lead, hooks[-1]) == first, f"{label}: the last hook opens with the motif itself")
    return lead


def check_dynamics(t, evs, markers, label):
    """Expression (CC 11) per man hitdna-sketch: the section's energy outside builds, the
    breakdown 15 LU down in a build's last two bars before a drop (40 log10 curve)."""
    chords = named(evs, "chords")
    cc = sorted((at, m.value) for at, m in chords if m.type == "control_change" and m.control == 11)

    def at_tick(tick):
        v = [val for at, val in cc if at <= tick]
        return v[-1] if v else 127

    starts = [at for at, _ in markers] + [10**12]
    level = []
    for i, s in enumerate(t["sections"]):
        if not s.get("build"):
            mid = (starts[i] + min(starts[i + 1], starts[i] + 4 * 1920)) // 2
            level.append((s["energy_lu"], at_tick(mid), s["label"] + " " + s["role"]))
    bad = [(a, b) for a in level for b in level if a[0] > b[0] + 0.5 and a[1] < b[1]]
    check(not bad, f"{label}: expression ordered as the sections' energy ({bad[:2]})")
    for i, s in enumerate(t["sections"]):
        if s.get("build") and i + 1 < len(t["sections"]) and t["sections"][i + 1].get("drop"):
            breakdown, drop = at_tick(starts[i + 1] - 960), at_tick(starts[i + 1] + 960)
            # At least 15 - 6 LU under the drop (the ramp ends 1 LU under it): 10^(-9/40) = 0.6.
            check(breakdown <= 0.6 * drop, f"{label}: the breakdown before the drop is quiet (expression {breakdown} against {drop})")


def main():
    t1, p1 = target("128 bpm in A minor, dark club track, long build, drop at 1:00", 180, "club")
    t2, p2 = target("92 bpm ballad in Eb major, first hook at 0:45, 4 hooks", 200, "ballad")
    t3, p3 = target("140 bpm in F# minor, trap, long 808", 150, "trap",
                    edit=lambda t: t["production"].update({"bass_808_sustain_s": 0.9}))
    # A hand-edited target with held tempo changes (a speed-up, then back).
    t4, p4 = target("120 bpm in G major, drop at 1:00", 180, "tempo",
                    edit=lambda t: t.update({"tempo_changes": [{"time_s": 50.3, "bpm": 132.0}, {"time_s": 130.0, "bpm": 120.0}]}))
    for t, p, name in ((t1, p1, "club"), (t2, p2, "ballad"), (t3, p3, "trap"), (t4, p4, "tempo")):
        mid = sketch(p, name)
        mf, evs, markers, uspq = check_file(t, mid, name)
        dn, bass = check_parts(t, mf, evs, markers, name)
        check_motif(t, evs, markers, name)
        check_dynamics(t, evs, markers, name)
        if name == "club":
            progs = {m.program for _, m in named(evs, "chords") if m.type == "program_change"}
            check(len(progs) >= 2, f"club: its intro, hook and verse labels do not all play one chord instrument ({progs})")
        if name == "trap":
            prog = [m.program for _, m in named(evs, "bass") if m.type == "program_change"]
            check(prog == [38], f"trap: an 808 (Synth Bass 1) for a 0.9 s sustain, got {prog}")
            sustain = round(mido.second2tick(0.9, 480, uspq))
            long_ = [n for n in bass if n[1] >= sustain - 20]
            check(len(long_) >= len(bass) // 3, f"trap: 808 notes hold the target's sustain ({len(long_)} of {len(bass)})")
        if name == "ballad":
            meters = [(at, m.numerator) for at, m in evs[0] if m.type == "time_signature"]
            beats = mido.second2tick(t["duration_s"], 480, uspq) / 480
            print(f"ballad: {beats:.2f} beats, meters {meters}")
            if abs(beats / 4 - round(beats / 4)) > 0.01:
                check(len(meters) >= 2, f"ballad: a short last bar has its own meter ({meters})")
    # Below 96 BPM the kit halves its subdivision (man hitdna-sketch): hats only on the beat
    # outside pre-hooks, no open hats (at 72 BPM, and at 92, the ballad); at 96 BPM hats play
    # off the beat too.
    t5, p5 = target("72 bpm in D minor, slow groove", 150, "slow")
    mid = sketch(p5, "slow")
    mf, evs, markers, _ = check_file(t5, mid, "slow")
    dn, _ = check_parts(t5, mf, evs, markers, "slow")
    pre = [(at, (markers + [(10**12, "")])[i + 1][0]) for i, ((at, _), s) in enumerate(zip(markers, t5["sections"])) if s["role"] == "pre-hook"]
    hats = [n for n in dn if n[2] == 42 and not any(a <= n[0] < b for a, b in pre)]
    check(hats and all(n[0] % 480 == 0 for n in hats), f"slow: closed hats on the beat at 72 BPM ({sum(n[0] % 480 != 0 for n in hats)} off it)")
    check(not any(n[2] == 46 for n in dn), "slow: no open hats at 72 BPM")
    ballad = notes(named(events(mido.MidiFile(sketch(p2, "ballad"))), "drums"))
    check(not any(n[2] == 46 for n in ballad), "ballad: no open hats at 92 BPM")
    t8, p8 = target("96 bpm in A minor, steady groove", 120, "steady")
    steady = notes(named(events(mido.MidiFile(sketch(p8, "steady"))), "drums"))
    check(any(n[2] in (42, 51) and n[0] % 480 == 240 for n in steady), "steady: hats (or ride) on the off-beat at 96 BPM")
    # Six different verses: no two labels play the same progression on the same chord
    # instrument (man hitdna-sketch: chords; three progressions and two held instruments
    # make six pairs), for seeds on the pianos and on strings and pad.
    def verses(t):
        parts = ["A", "B", "C", "D", "H", "E", "F", "H"]
        t["sections"] = [{"start_s": 16.0 * i, "duration_s": 16.0, "label": x, "role": "hook" if x == "H" else "verse", "energy_lu": 0.0,
                          "build": False, "drop": False} for i, x in enumerate(parts)]
        t["duration_s"] = 16.0 * len(parts)
    t6, p6 = target("120 bpm in C major", 128, "verses", edit=verses)
    groups = set()
    for seed in range(1, 7):
        mid = os.path.join(work, f"verses-{seed}.mid")
        plan = json.loads(run(["sketch", p6, "-o", mid, "--seed", str(seed), "-f", "json"]).stdout)
        evs = events(mido.MidiFile(mid))
        changes = [(at, m.program) for at, m in named(evs, "chords") if m.type == "program_change"]
        seen = {}
        for sec in plan["sections"]:
            if sec["role"] != "verse":
                continue
            prog = [p for a, p in changes if a <= sec["start_tick"]][-1]
            groups.add("pianos" if prog in (0, 4, 5) else "held")
            seen.setdefault((tuple(sec["chords"][:4]), prog), set()).add(sec["label"])
        shared = [v for v in seen.values() if len(v) > 1]
        check(not shared, f"verses seed {seed}: six verse labels, no two with one progression and instrument ({shared})")
    check(groups == {"pianos", "held"}, f"verses: seeds 1..6 cover both chord instrument groups ({groups})")
    # A part played again right after itself is lifted (man hitdna-sketch: Parts): the
    # second pass keeps time on the ride and moves its chords to the other half of the range,
    # the third is the first again, so that each join is heard.
    def passes(t):
        parts = [("A", "verse"), ("H", "hook"), ("H", "hook"), ("H", "hook"), ("B", "verse")]
        t["sections"] = [{"start_s": 16.0 * i, "duration_s": 16.0, "label": x, "role": r, "energy_lu": 0.0, "build": False, "drop": False}
                         for i, (x, r) in enumerate(parts)]
        t["duration_s"] = 16.0 * len(parts)
    t7, p7 = target("120 bpm in C major", 80, "passes", edit=passes)
    evs = events(mido.MidiFile(sketch(p7, "passes")))
    plan = json.loads(run(["sketch", p7, "-o", os.path.join(work, "passes-json.mid"), "-f", "json"]).stdout)
    check([s["pass"] for s in plan["sections"]] == [0, 0, 1, 2, 0], f"passes: the json names each section's pass ({[s.get('pass') for s in plan['sections']]})")
    dn, ch = notes(named(evs, "drums")), notes(named(evs, "chords"))
    span = [(16 * i * 960, 16 * (i + 1) * 960) for i in range(5)]  # 16 s = 8 bars of 1920 ticks
    def keys_in(ns, i):
        return [n[2] for n in ns if span[i][0] <= n[0] < span[i][1]]
    for i, lifted in ((1, False), (2, True), (3, False)):
        d = keys_in(dn, i)
        hat, ride = d.count(42), d.count(51)
        check((ride > 0 and hat == 0) if lifted else (hat > 0 and ride == 0), f"passes: hook pass {i - 1} keeps time on the {'ride' if lifted else 'closed hats'} ({hat} hats, {ride} rides)")
    mean = [sum(keys_in(ch, i)) / max(1, len(keys_in(ch, i))) for i in (1, 2, 3)]
    check(abs(mean[1] - mean[0]) >= 6 and abs(mean[2] - mean[0]) < 3, f"passes: the second pass's chords sit in the other half of the range, the third's where the first's did ({mean})")
    # Harmonic rhythm (man hitdna-sketch: Harmony): at 140 BPM and above a chord lasts two
    # bars, except in a pre-hook, which changes chord every bar (its V at the end held for four
    # bars was heard as the hook arriving early).
    def fast_form(t):
        parts = [("A", "verse"), ("P", "pre-hook"), ("H", "hook")]
        t["sections"] = [{"start_s": 11.294 * i, "duration_s": 11.294, "label": x, "role": r, "energy_lu": 0.0, "build": r == "pre-hook",
                          "drop": False} for i, (x, r) in enumerate(parts)]
        t["duration_s"] = 11.294 * len(parts)
    t9, p9 = target("170 bpm in C minor", 34, "fast", edit=fast_form)
    for seed in (1, 2, 3):
        plan = json.loads(run(["sketch", p9, "-o", os.path.join(work, f"fast-{seed}.mid"), "--seed", str(seed), "-f", "json"]).stdout)
        by_role = {sec["role"]: sec["chords"] for sec in plan["sections"]}
        pre, hook = by_role["pre-hook"], by_role["hook"]
        held_v = next((k for k in range(len(pre)) if pre[len(pre) - 1 - k] != "V"), len(pre))  # V chords at its end
        check(len(pre) == 8 and all(pre[i] != pre[i + 1] for i in (0, 4)) and held_v <= 2,
              f"fast seed {seed}: the pre-hook changes chord every bar and holds V at most two bars at 170 BPM ({pre})")
        check(all(hook[i] == hook[i + 1] for i in range(0, len(hook) - 2, 2)), f"fast seed {seed}: the hook holds each chord two bars at 170 BPM ({hook})")
    # Into a drop the build's last chord holds for its last three bars, from the bar before
    # its breakdown (man hitdna-sketch: Harmony).
    plan = json.loads(run(["sketch", p1, "-o", os.path.join(work, "club-json.mid"), "-f", "json"]).stdout)
    into_drop = [(a, b) for a, b in zip(plan["sections"], plan["sections"][1:]) if a["build"] and b["drop"]]
    check(into_drop, "club: the plan has a build into a drop")
    for a, b in into_drop:
        check(len(a["chords"]) >= 4 and len(set(a["chords"][-3:])) == 1,
              f"club: the build {a['label']} holds its last chord from the bar before its breakdown ({a['chords']})")
    # Determinism and seeds.
    a, b = sketch(p1, "club", 1), sketch(p1, "club-again", 1)
    check(open(a, "rb").read() == open(b, "rb").read(), "the same seed gives the same file")
    c = sketch(p1, "club", 7)
    check(open(a, "rb").read() != open(c, "rb").read(), "another seed gives another file")
    ea, ec = events(mido.MidiFile(a)), events(mido.MidiFile(c))
    diffs = 0
    for name in ("chords", "lead", "bass", "drums"):
        na, nc = notes(named(ea, name)), notes(named(ec, name))
        pa = [m.program for _, m in named(ea, name) if m.type == "program_change"]
        pc = [m.program for _, m in named(ec, name) if m.type == "program_change"]
        diffs += (na != nc) + (pa != pc)
    check(diffs >= 3, f"seeds 1 and 7 differ in at least three of the parts' notes and instruments ({diffs})")
    print(f"sketch_check: {len(failures)} failures")
    return 1 if failures else 0


sys.exit(main())
