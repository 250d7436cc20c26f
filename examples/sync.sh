#!/usr/bin/env bash
# Example: mirror a catalog into Qdrant and search there. Uses $QDRANT_URL (and
# $QDRANT_API_KEY) when set — e.g. after `docker run -p 6333:6333 qdrant/qdrant:v1.19.0` —
# else the loopback stand-in from the test suite. Run after scripts/build.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
hitdna=${HITDNA:-./build/apps/hitdna}
music=$(scripts/fetch-music.sh --demo)
work=$(mktemp -d)
export HITDNA_DB="$work/catalog.db"
fake_pid=
trap '[[ -n "$fake_pid" ]] && kill "$fake_pid" 2>/dev/null; rm -rf "$work"' EXIT
if [[ -z "${QDRANT_URL:-}" ]]; then
  exec {fake_out}< <(exec /usr/bin/python3 tests/fake_qdrant.py --spec data/qdrant-openapi-v1.19.0.json --port 0)
  fake_pid=$!
  read -r port <&"$fake_out"
  export QDRANT_URL="http://127.0.0.1:$port"
fi
"$hitdna" ingest "$music/singularity-music" --genre soundtrack --progress never 2>/dev/null
"$hitdna" sync qdrant --collection example --dry-run | tail -3      # what would be sent
"$hitdna" sync qdrant --collection example                           # creates, upserts
"$hitdna" db remove 1                                                 # a deletion ...
"$hitdna" sync qdrant --collection example -f json | /usr/bin/python3 -c 'import json,sys; r=json.load(sys.stdin); print("changes", r["changes"], "deleted", r["tracks_deleted"])'
# The same query on both backends: same tracks, same scores.
"$hitdna" match --track 2 -k 3 --filter genre=soundtrack -f jsonl | cut -c1-80
"$hitdna" match --track 2 -k 3 --filter genre=soundtrack -f jsonl --backend qdrant --collection example | cut -c1-80
