#!/usr/bin/env bash
# Example: prompt -> target -> audio -> validation, offline, with and without a catalog.
# Run from the repository after scripts/build.sh; fetches singularity-music (CC-BY-SA-3.0).
set -euo pipefail
cd "$(dirname "$0")/.."
hitdna=${HITDNA:-./build/apps/hitdna}
work=$(mktemp -d)
export HITDNA_DB="$work/catalog.db"

# 1. No catalog yet: the target comes from the prompt alone (said on stderr).
"$hitdna" enrich "128 bpm in A minor, dark club track" --duration 60 -f json > "$work/plain.json"
"$hitdna" generate --target "$work/plain.json" -o "$work/plain.wav" --seed 4 --no-record | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["integrated_lufs"], "LUFS")'

# 2. With hits: ingest some music, then a prompt is enriched from the closest songs.
music=$(scripts/fetch-music.sh --demo)
"$hitdna" ingest "$music/singularity-music" --progress never 2>/dev/null
"$hitdna" enrich "dark wide soundtrack" -k 5 --duration 60 --model music_v2 -f json > "$work/target.json"
/usr/bin/python3 -c 'import json,sys; t=json.load(open(sys.argv[1])); print(t["bpm"], "BPM", t["key"], t["mode"], len(t["composition_plan"]["chunks"]), "chunks", [h["title"] for h in t["hits"]])' "$work/target.json"

# 3. A brief: what it states (tempo, key, length, the drop) is used exactly, the hits fill in the
#    rest; each field says where it came from. A brief that contradicts itself exits 2.
"$hitdna" enrich "128 bpm soundtrack in A minor, long build, drop at 0:40, 90 seconds" -k 5 -f json > "$work/brief.json"
/usr/bin/python3 -c 'import json,sys; t=json.load(open(sys.argv[1])); print({f: t["provenance"][f]["from"] for f in ("bpm", "key", "duration_s", "drops", "production.sub_presence")}, "drops at", t["drop_times_s"])' "$work/brief.json"
"$hitdna" enrich "140 bpm, no, 128 bpm" -f json >/dev/null 2>&1 || echo "contradicting brief: exit status $?"
"$hitdna" generate --target "$work/brief.json" -o "$work/brief.wav" --no-record --seed 2 >/dev/null
"$hitdna" validate "$work/brief.wav" --target "$work/brief.json" -f text | sed -n '1,/^overall/p'

# 4. Generate with validation and retries; the record is also in the catalog.
"$hitdna" generate --target "$work/target.json" -o "$work/take.wav" --validate --min-score 0.8 --max-attempts 3 --record "$work/take.json" >/dev/null
"$hitdna" validate "$work/take.wav" --target "$work/target.json" -f text || echo "validate: exit status $? (1: below --min-score)"
rm -rf "$work"
