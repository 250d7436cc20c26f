#!/usr/bin/python3
"""Bar-level chord accuracy of `hitdna analyze` on the bench_forms renders.

The truth is the chord each bar was composed with: data/eval/forms/make_forms.py is re-run in
memory (same seeds, no files written) with its bar player observed, and each bar's chord is
compared with the label hitdna's chord spans cover most of that bar (root + major/minor).
Run bench_forms first so that WORK holds wav/ and truth.jsonl, then:

    /usr/bin/python3 bench/forms_chords.py --work /tmp/bf --split tune [--hitdna build/apps/hitdna]

Prints one line per song (the most frequent confusions) and the accuracy over the split.
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "data", "eval", "forms"))
import make_forms  # noqa: E402

NAMES = "C C# D Eb E F F# G Ab A Bb B".split()


def bar_chords(index):
    """(root pitch class, quality) of every bar, in order, as make_forms composes song index."""
    song = make_forms.Song(index)
    bars = []
    play = make_forms.play_bar

    def observed(song_, ev, chan, t0, part, b, n_bars, chord, tonic, lift, rng):
        bars.append(((tonic + chord[0]) % 12, chord[1]))
        return play(song_, ev, chan, t0, part, b, n_bars, chord, tonic, lift, rng)

    make_forms.play_bar = observed
    try:
        make_forms.compose(song)
    finally:
        make_forms.play_bar = play
    return bars


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", required=True, help="bench_forms --work directory (wav/, truth.jsonl)")
    ap.add_argument("--split", default="report", choices=["tune", "report"])
    ap.add_argument("--hitdna", default=os.path.join(HERE, "..", "build", "apps", "hitdna"))
    a = ap.parse_args()
    right = total = 0
    with open(os.path.join(a.work, "truth.jsonl")) as f:
        truths = [json.loads(line) for line in f]
    for t in truths:
        if t["split"] != a.split:
            continue
        bars = bar_chords(int(t["id"].split("_")[1]))
        edges = t["downbeats_s"] + [t["duration_s"]]
        out = subprocess.run([a.hitdna, "analyze", "-f", "json", os.path.join(a.work, "wav", t["id"] + ".wav")],
                             capture_output=True, text=True, check=True).stdout
        spans = json.loads(out)["audio"]["harmony"]["chords"]
        ok, confusions = 0, {}
        for i, (root, quality) in enumerate(bars):
            cover = {}
            for c in spans:
                o = min(edges[i + 1], c["end_s"]) - max(edges[i], c["start_s"])
                if o > 0:
                    cover[c["chord"]] = cover.get(c["chord"], 0) + o
            got = max(cover, key=cover.get) if cover else "N"
            want = NAMES[root] + ("m" if quality == "m" else "")
            if got == want:
                ok += 1
            else:
                confusions[(want, got)] = confusions.get((want, got), 0) + 1
        right += ok
        total += len(bars)
        top = sorted(confusions.items(), key=lambda kv: -kv[1])[:4]
        print("%s %-9s %-2s %-5s bars %3d/%3d  %s" % (t["id"], t["groove"], t["key"], t["mode"], ok, len(bars),
                                                    " ".join("%s>%s:%d" % (w, g, n) for (w, g), n in top)))
    print("split %s: bar chord accuracy (root + major/minor) %.1f %% of %d bars" % (a.split, 100.0 * right / max(1, total), total))


if __name__ == "__main__":
    main()
