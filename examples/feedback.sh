#!/usr/bin/env bash
# Example: engagement for a generation and for catalog tracks, one event and a batch, replayed.
# Run from the repository after scripts/build.sh (offline).
set -euo pipefail
cd "$(dirname "$0")/.."
hitdna=${HITDNA:-./build/apps/hitdna}
work=$(mktemp -d)
export HITDNA_DB="$work/catalog.db"

# A generation to give feedback on (the local synthesizer, 30 s).
gen=$("$hitdna" generate "96 bpm in E minor" --duration 30 -o "$work/take.wav" --backend local |
  /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["generation_id"])')

# One event: the generation becomes a catalog track (source generated) with its engagement.
"$hitdna" feedback "$gen" --plays 250 --completion 0.9 --likes 60 --shares 14 --skips 20 --event-id day-1

# A batch as JSON Lines; one bad line is reported by number, the rest applied.
cat > "$work/events.jsonl" <<JSONL
{"id": "day-2", "track": "$gen", "plays": 400, "completion": 0.85, "likes": 70, "shares": 9, "skips": 60}
{"id": "day-3", "track": "$gen", "plays": -5}
{"id": "day-4", "track": "$work/take.wav", "plays": 50, "completion": 0.7}
JSONL
"$hitdna" feedback --events "$work/events.jsonl" || echo "exit status $? (1: some events were rejected)"
# Replaying the file changes nothing.
"$hitdna" feedback --events "$work/events.jsonl" -f json 2>/dev/null || true
"$hitdna" db verify
rm -rf "$work"
