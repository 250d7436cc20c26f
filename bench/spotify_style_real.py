#!/usr/bin/python3
"""How the Spotify-style estimates spread over real recordings: the Debian game and demo music
that scripts/fetch-music.sh downloads (instrumental music, a few voice clips). There is no
truth per song here; the figure that matters is how often music reads as speech
(speechiness > 0.33, Spotify's "may contain both" band) and how the seven values spread.

usage: bench/spotify_style_real.py [--hitdna BIN] [--music DIR] [--jobs N]
"""
import argparse, json, os, statistics, subprocess, sys

FIELDS = ("danceability", "energy", "valence", "acousticness", "instrumentalness", "speechiness", "liveness")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hitdna", default="build/apps/hitdna")
    ap.add_argument("--music", default=os.path.expanduser("~/.cache/hitdna/music"), help="folder of fetched packages (scripts/fetch-music.sh)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--min-bytes", type=int, default=500_000, help="leave out short sound effects")
    a = ap.parse_args()
    files = sorted(os.path.join(d, f) for d, _, fs in os.walk(a.music) for f in fs
                   if f.endswith((".ogg", ".opus", ".mp3", ".flac")) and os.path.getsize(os.path.join(d, f)) >= a.min_bytes)
    if not files:
        sys.exit(f"no recordings under {a.music}: run scripts/fetch-music.sh first")
    p = subprocess.run([a.hitdna, "analyze", "-f", "jsonl", "--jobs", str(a.jobs), "-"], input="\n".join(files) + "\n",
                       capture_output=True, text=True)
    rows = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
    print(f"{len(rows)} recordings analyzed ({len(files) - len(rows)} refused) under {a.music}")
    print(f"{'field':18s} {'min':>6s} {'p10':>6s} {'median':>6s} {'p90':>6s} {'max':>6s}")
    for k in FIELDS:
        v = sorted(r["spotify_style"][k] for r in rows)
        q = lambda x: v[min(len(v) - 1, int(x * (len(v) - 1)))]
        print(f"{k:18s} {v[0]:6.3f} {q(0.1):6.3f} {statistics.median(v):6.3f} {q(0.9):6.3f} {v[-1]:6.3f}")
    speech = sorted(((r["spotify_style"]["speechiness"], r["file"]) for r in rows), reverse=True)
    n33 = sum(1 for s, _ in speech if s > 0.33)
    n66 = sum(1 for s, _ in speech if s > 0.66)
    print(f"speechiness > 0.33: {n33} of {len(rows)} ({100.0 * n33 / len(rows):.1f} %); > 0.66: {n66}")
    for s, f in speech[:8]:
        print(f"  {s:.3f}  {os.path.relpath(f, a.music)}")


if __name__ == "__main__":
    main()
