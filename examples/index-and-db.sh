#!/usr/bin/env bash
# Example: looking after a catalog. Indexes are caches: damage one and searches still answer
# (exactly, with a warning); verify notices, rebuild repairs. Run after scripts/build.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
hitdna=${HITDNA:-./build/apps/hitdna}
music=$(scripts/fetch-music.sh --demo)
work=$(mktemp -d)
export HITDNA_DB="$work/catalog.db"
"$hitdna" ingest "$music/singularity-music" --progress never 2>/dev/null
"$hitdna" db verify
"$hitdna" index verify
echo "garbage" > "$(ls "$work"/catalog.db.hnsw/audio.g*.hnsw | head -1)"
"$hitdna" match --track 1 -k 2 -f jsonl >/dev/null   # warns, answers exactly
"$hitdna" index verify || echo "index verify: exit status $? (1: an index is damaged)"
"$hitdna" index rebuild --space audio
"$hitdna" index verify -f jsonl
"$hitdna" db stats -f json | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["tracks"], "tracks,", d["bytes_per_track"], "bytes per track")'
rm -rf "$work"
