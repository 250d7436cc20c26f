#!/usr/bin/env bash
# Example: the learning loop. A catalog of 52 tracks (the 13 demo songs and three 60 s excerpts
# of each), engagement events for all of them (here made up: listeners who like faster songs),
# then `learn` (ridge, knn and xgboost judged on held-out tracks; the best kept), `weights`,
# `score` with its interval and reasons, and `match --boost learned`.
# Run from the repository after scripts/build.sh (offline once the songs are fetched).
set -euo pipefail
cd "$(dirname "$0")/.."
hitdna=${HITDNA:-./build/apps/hitdna}
music=$(scripts/fetch-music.sh --demo)
work=$(mktemp -d)
export HITDNA_DB="$work/catalog.db"
n=0
for f in "$music"/singularity-music/usr/share/games/singularity/music/*.ogg; do
  for start in 20 80 140; do
    n=$((n + 1))
    ffmpeg -v error -nostdin -ss "$start" -t 60 -i "$f" "$work/excerpt-$n.flac" || true
  done
done
"$hitdna" ingest "$music/singularity-music" "$work" --genre soundtrack --progress never 2>/dev/null

# Made-up engagement: completion and likes rise with tempo (a real catalog has real events).
"$hitdna" export -f csv | /usr/bin/python3 -c '
import csv, json, math, random, sys
random.seed(4)
for r in csv.DictReader(sys.stdin):
    bpm = float(r["tempo_bpm"] or 100)
    y = 1 / (1 + math.exp(-(bpm - 120) / 15)) + random.gauss(0, 0.05)
    y = min(1, max(0, y))
    print(json.dumps({"id": "ev-" + r["id"], "track": r["id"], "plays": 400, "completion": round(0.3 + 0.6 * y, 3),
                      "likes": int(400 * (0.02 + 0.2 * y)), "shares": int(400 * (0.005 + 0.05 * y)), "skips": int(400 * (0.45 - 0.35 * y))}))
' > "$work/events.jsonl"
"$hitdna" feedback --events "$work/events.jsonl" -f json > /dev/null

"$hitdna" learn                                  # auto: says which kind won and by how much
"$hitdna" weights -k 5
"$hitdna" score "$work/excerpt-1.flac"           # hit score, predicted engagement with its 90 % interval, reasons
"$hitdna" match --track 1 -k 5 --boost learned
rm -rf "$work"
