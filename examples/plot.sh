#!/usr/bin/env bash
# Example: look at songs' shapes. A song alone, two songs overlaid (normalized to length), a
# song over the average of its nearest hits, and an HTML report. Run after scripts/build.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
hitdna=${HITDNA:-./build/apps/hitdna}
music=$(scripts/fetch-music.sh --demo)
mapfile -t songs < <(find "$music/singularity-music" -name '*.ogg' | sort)
out=${1:-$(mktemp -d)}
export HITDNA_DB="$out/catalog.db"
"$hitdna" ingest "$music/singularity-music" --progress never 2>/dev/null
"$hitdna" plot "${songs[0]}" -o "$out/one.svg"
"$hitdna" plot "${songs[0]}" "${songs[1]}" --compare --normalize -o "$out/two.svg"
"$hitdna" plot 3 --hits 5 --normalize -o "$out/vs-hits.svg"          # a catalog track over its hits
"$hitdna" analyze -f json "${songs[2]}" > "$out/dna.json"
"$hitdna" plot "$out/dna.json" "${songs[3]}" -o "$out/each"            # one SVG per input
"$hitdna" report "${songs[0]}" -o "$out/report.html"
ls -l "$out"/*.svg "$out"/each/*.svg "$out/report.html"
