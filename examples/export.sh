#!/usr/bin/env bash
# Example: the catalog out as a table. One row per track (every scalar of the four layers) or
# per section, as CSV or JSON Lines, and JAMS documents for mir_eval. Run after scripts/build.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
hitdna=${HITDNA:-./build/apps/hitdna}
music=$(scripts/fetch-music.sh --demo)
work=$(mktemp -d)
export HITDNA_DB="$work/catalog.db"
"$hitdna" ingest "$music/singularity-music" --genre soundtrack --progress never 2>/dev/null
"$hitdna" export --list-columns | head -20
"$hitdna" export -o "$work/tracks.csv"
/usr/bin/python3 -c 'import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
print(len(rows), "tracks;", "fastest:", max(rows, key=lambda r: float(r["tempo_bpm"] or 0))["title"])
for r in rows[:3]: print(r["title"], r["tempo_bpm"], "BPM", r["key"], r["mode"], "groove", r["audio_rhythm_groove"])' "$work/tracks.csv"
"$hitdna" export --sections --filter 'bpm>100' -f jsonl | head -2
# Spotify-style estimates under Spotify's audio-features names (hitdna's formulas: man hitdna-export).
"$hitdna" export --spotify -f csv | head -4
"$hitdna" export -f jams -o "$work/catalog.jamsl"
