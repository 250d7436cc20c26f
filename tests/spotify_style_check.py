#!/usr/bin/python3
"""The Spotify-style estimates react the right way on audio made for the test:

- speechiness: speech synthesized by espeak-ng (three voices, two rates) reads as speech
  (>= 0.66, Spotify's documented "probably made entirely of spoken words" band) and music
  rendered by fluidsynth reads as music (<= 0.33, its "music and other non-speech" band);
- acousticness: the same score played by General MIDI acoustic grand piano and nylon guitar
  reads higher than on saw-wave synthesizers (GM "Lead 2 (sawtooth)" and a sawtooth synth
  written here sample by sample), acoustic >= 0.6, saw <= 0.3;
- every estimate is in 0..1, and `hitdna export` carries them under Spotify's names.

The audio shares nothing with what the formulas were designed on (other score, tempo,
soundfont, sentences and voices). The bands come from Spotify's own documentation of its
fields, not from hitdna's output. Needs espeak-ng, fluidsynth, timgm6mb-soundfont, mido and numpy
(scripts/install-deps.sh --test); fails rather than skips without them.

usage: spotify_style_check.py HITDNA WORKDIR
"""
import csv, json, os, shutil, subprocess, sys, wave

import mido
import numpy as np

SOUNDFONT = "/usr/share/sounds/sf2/TimGM6mb.sf2"
BPM = 96
# A minor: i - VI - III - VII, a quarter-note chord on every beat, a melody of quarters and halves.
PROGRESSION = [(57, [57, 60, 64]), (53, [53, 57, 60]), (48, [55, 60, 64]), (55, [55, 59, 62])]
MELODY = [(76, 1), (74, 1), (72, 2), (72, 1), (71, 1), (69, 2), (67, 2), (71, 1), (72, 1), (74, 2), (72, 2)]
SENTENCES = (
    "Bring the red folder to the second floor, and ask the clerk at the desk for a copy of the contract. "
    "If nobody answers, leave it in the tray by the window and call me this afternoon. "
    "We still need the signed pages before Friday, otherwise the shipment waits another week. "
    "Thank you for your patience; the new schedule will be posted on the board tomorrow morning."
)


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def score(path, program):
    mid = mido.MidiFile(type=1, ticks_per_beat=480)
    meta = mido.MidiTrack()
    meta.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(BPM)))
    mid.tracks.append(meta)
    chords, melody = mido.MidiTrack(), mido.MidiTrack()
    chords.append(mido.Message("program_change", channel=0, program=program))
    melody.append(mido.Message("program_change", channel=1, program=program))
    for _ in range(4):
        for bass, notes in PROGRESSION:
            for beat in range(4):
                on = [bass - 12] + notes if beat == 0 else notes
                for n in on:
                    chords.append(mido.Message("note_on", channel=0, note=n, velocity=72, time=0))
                for i, n in enumerate(on):
                    chords.append(mido.Message("note_off", channel=0, note=n, velocity=0, time=480 if i == 0 else 0))
        for note, beats in MELODY:  # 16 beats, one pass of the progression
            melody.append(mido.Message("note_on", channel=1, note=note, velocity=88, time=0))
            melody.append(mido.Message("note_off", channel=1, note=note, velocity=0, time=480 * beats))
    mid.tracks += [chords, melody]
    mid.save(path)


def render(mid, wav):
    subprocess.run(["fluidsynth", "-ni", "-q", "-F", wav, "-r", "44100", SOUNDFONT, mid], check=True, capture_output=True)


def saw_synth(path):
    """The same chords as sustained band-limited sawtooth voices (10 ms attack and release)."""
    rate, beat = 22050, 60.0 / BPM
    n = int(rate * 4 * beat)
    t = np.arange(n) / rate
    env = np.minimum(1.0, np.minimum(t / 0.01, (n - np.arange(n)) / rate / 0.01))
    bars = []
    for bass, notes in PROGRESSION * 4:
        v = np.zeros(n)
        for note in [bass - 12] + notes:
            f = 440.0 * 2 ** ((note - 69) / 12)
            for h in range(1, int(8000 / f) + 1):
                v += np.sin(2 * np.pi * f * h * t) / h
        bars.append(np.clip(0.08 * env * v, -1, 1))
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.concatenate(bars) * 32000).astype("<i2").tobytes())


def main():
    if len(sys.argv) != 3:
        fail("usage: spotify_style_check.py HITDNA WORKDIR")
    hitdna, work = sys.argv[1], sys.argv[2]
    for tool in ("espeak-ng", "fluidsynth"):
        if not shutil.which(tool):
            fail(tool + " is not installed (scripts/install-deps.sh --test)")
    if not os.path.exists(SOUNDFONT):
        fail(SOUNDFONT + " is missing (timgm6mb-soundfont)")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    files = {}
    for name, program in (("piano", 0), ("nylon", 24), ("sawlead", 81)):
        score(f"{work}/{name}.mid", program)
        render(f"{work}/{name}.mid", f"{work}/{name}.wav")
        files[name] = "music"
    saw_synth(f"{work}/sawsynth.wav")
    files["sawsynth"] = "music"
    for voice, speed in (("en-gb", 160), ("en-us", 200), ("en-gb-x-rp", 140)):
        name = f"speech-{voice}-{speed}"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", f"{work}/{name}.wav", SENTENCES], check=True)
        files[name] = "speech"

    paths = [f"{work}/{n}.wav" for n in files]
    out = subprocess.run([hitdna, "analyze", "-f", "jsonl", *paths], check=True, capture_output=True, text=True).stdout
    est, dna = {}, {}
    for line in out.splitlines():
        d = json.loads(line)
        est[os.path.basename(d["file"])[:-4]] = d["spotify_style"]
        dna[os.path.basename(d["file"])[:-4]] = d
    errors = []
    for name, kind in files.items():
        s = est[name]
        print(f"{name:24s} " + " ".join(f"{k} {v:.3f}" for k, v in s.items()))
        for k, v in s.items():
            if not 0 <= v <= 1:
                errors.append(f"{name}: {k} {v} outside 0..1")
        if kind == "speech" and s["speechiness"] < 0.66:
            errors.append(f"{name}: speechiness {s['speechiness']} < 0.66 for speech")
        if kind == "music" and s["speechiness"] > 0.33:
            errors.append(f"{name}: speechiness {s['speechiness']} > 0.33 for music")
    acoustic = {n: est[n]["acousticness"] for n in ("piano", "nylon")}
    synthetic = {n: est[n]["acousticness"] for n in ("sawlead", "sawsynth")}
    for n, v in acoustic.items():
        if v < 0.6:
            errors.append(f"{n}: acousticness {v} < 0.6")
    for n, v in synthetic.items():
        if v > 0.3:
            errors.append(f"{n}: acousticness {v} > 0.3")
    if min(acoustic.values()) <= max(synthetic.values()):
        errors.append(f"acoustic instruments {acoustic} not above saw synthesizers {synthetic}")

    # The export carries the same numbers under Spotify's names.
    db = f"{work}/catalog"
    subprocess.run([hitdna, "ingest", "--db", db, *paths], check=True, capture_output=True)
    text = subprocess.run([hitdna, "export", "--db", db, "--spotify", "-f", "csv"], check=True, capture_output=True, text=True).stdout
    rows = list(csv.DictReader(text.splitlines()))
    if len(rows) != len(files):
        errors.append(f"export --spotify: {len(rows)} rows for {len(files)} files")
    for r in rows:
        name = os.path.basename(r["path"])[:-4]
        for k, v in est[name].items():
            if abs(float(r[k]) - v) > 1e-9:
                errors.append(f"export {name}: {k} {r[k]} != analyze {v}")
        # Spotify's encodings: key as a pitch class (-1 none), mode 1/0, tempo, ms, beats per bar.
        a = dna[name]["audio"]
        names = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
        key = a["harmony"]["key"]
        want = {"key": str(names.index(key)) if key else "-1", "mode": ("1" if a["harmony"]["mode"] == "major" else "0") if key else "",
                "tempo": "" if a["bpm"] is None else a["bpm"], "duration_ms": str(round(dna[name]["duration_s"] * 1000)),
                "time_signature": a["meter"].split("/")[0] if a["meter"] else "",
                "loudness": dna[name]["production"]["integrated_lufs"]}
        for k, v in want.items():
            same = abs(float(r[k]) - float(v)) < 1e-9 if isinstance(v, float) else r[k] == v
            if not same:
                errors.append(f"export --spotify {name}: {k} {r[k]!r}, expected {v!r}")
    if errors:
        fail("\n".join(errors))
    print(f"ok: {len(files)} files")


if __name__ == "__main__":
    main()
