#!/usr/bin/env bash
# The main job on a demo: install what is needed, build, fetch freely licensed songs from
# Debian's singularity-music package, and run the pipeline as far as it exists:
#   analyze one song -> ingest all of them into a catalog -> match an excerpt, a track and a
#   text query against it, then the three as one batch -> enrich a prompt into a target from the hits -> generate audio for
#   it with the built-in synthesizer, validating and retrying -> validate the result ->
#   feedback on the generation -> plot it over its target and write an HTML report -> mirror
#   the catalog into Qdrant and search there -> stats.
# Qdrant: $QDRANT_URL when set (a real server); otherwise the loopback stand-in from the test
# suite (tests/fake_qdrant.py), which speaks the same REST API.
# HITDNA_BIN=path runs an already built binary instead (no install, no build) and
# HITDNA_DEMO_JOBS=N ingests on N threads: scripts/diff-demo.sh uses both to compare two builds.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -n "${HITDNA_BIN:-}" ]]; then
  hitdna=$HITDNA_BIN
else
  scripts/install-deps.sh
  scripts/build.sh
  hitdna=./build/apps/hitdna
fi
music=$(scripts/fetch-music.sh --demo)
dir="$music/singularity-music/usr/share/games/singularity/music"
[[ -d "$dir" ]] || dir=$(dirname "$(find "$music/singularity-music" -name '*.ogg' | head -1)")
mapfile -t songs < <(find "$dir" -name '*.ogg' | sort)
work=${HITDNA_DEMO_DIR:-${TMPDIR:-/tmp}/hitdna-demo}
rm -rf "$work"
mkdir -p "$work"
export HITDNA_DB="$work/demo.db"
echo "== ${#songs[@]} songs from singularity-music (Singularity game soundtrack, CC-BY-SA-3.0;" >&2
echo "   credits in $music/singularity-music/usr/share/doc/singularity-music/copyright)" >&2

echo "== 1. hitdna analyze: the Hit DNA of one song" >&2
$hitdna analyze -f text "${songs[0]}"

echo "== 2. hitdna ingest: every song into the catalog $HITDNA_DB" >&2
$hitdna ingest --genre soundtrack --tag demo --progress never ${HITDNA_DEMO_JOBS:+--jobs "$HITDNA_DEMO_JOBS"} "$dir"
# Metadata from a JSON Lines list: the same audio is not analyzed again, only merged.
printf '{"path": "%s", "genres": ["electronic"], "year": 2011, "mood": "tense"}\n' "${songs[2]}" > "$work/extra.jsonl"
$hitdna ingest --chart "$work/extra.jsonl" --progress never

echo "== 3. hitdna match --like: a 20 s excerpt of '$(basename "${songs[4]}")' from 1:00, 3 % faster, as MP3 128 kb/s" >&2
ffmpeg -v error -y -ss 60 -t 20.6 -i "${songs[4]}" -af atempo=1.03 -c:a libmp3lame -b:a 128k "$work/excerpt.mp3"
$hitdna match --like "$work/excerpt.mp3" -k 5 -f text

echo "== 4. hitdna match --track: songs like '$(basename "${songs[0]}" .ogg)', as JSON Lines" >&2
$hitdna match --track "$(basename "${songs[0]}" .ogg)" -k 3 -f jsonl | /usr/bin/python3 -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    print(r["rank"], r["score"], r["title"], {k: v for k, v in r["scores"].items()})'

echo "== 5. hitdna match --text: a quoted title plus descriptor words, filtered to 2011" >&2
$hitdna match --text "\"$(basename "${songs[0]}" .ogg)\" but dark and wide" -k 3 -f text
$hitdna match --text "electronic" --filter year=2011 -f text

echo "== 5b. hitdna match --queries: many queries in one process, one JSON line each, answered in order" >&2
printf '%s\n' "{\"id\":\"excerpt\",\"like\":\"$work/excerpt.mp3\",\"k\":2}" "{\"id\":\"first\",\"track\":1,\"k\":2}" \
  '{"id":"words","text":"dark wide","k":2}' > "$work/queries.jsonl"
$hitdna match --queries "$work/queries.jsonl" | /usr/bin/python3 -c '
import json, sys
for line in sys.stdin:
    a = json.loads(line)
    print(a["id"], "line", a["line"], [(r["title"], r["score"]) for r in a["results"]])'

echo "== 6. hitdna enrich: a brief becomes a target DNA — what it states (tempo, key, length, the drop)" >&2
echo "   is used exactly, the closest hits fill in the rest, and every field says where it came from" >&2
brief="dark wide soundtrack at 128 bpm in A minor with a long build and a drop at 0:45, 1:40 long"
$hitdna enrich "$brief" -k 5 -f text
$hitdna enrich "$brief" -k 5 -f json > "$work/target.json"

echo "== 7. hitdna sketch: the target as a multi-track MIDI arrangement, $work/demo.mid" >&2
echo "   (open it in any DAW or MuseScore, or play it: fluidsynth -ni /usr/share/sounds/sf2/FluidR3_GM.sf2 $work/demo.mid)" >&2
$hitdna sketch "$work/target.json" -o "$work/demo.mid"

echo "== 8. hitdna generate: the target's sketch played through a General MIDI soundfont and mastered, validated (offline)" >&2
$hitdna generate --target "$work/target.json" -o "$work/generated.wav" --validate --min-score 0.8 --record "$work/generation.json" |
  /usr/bin/python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["generation_id"], "score", r.get("score"), "attempts", len(r["attempts"]), r["output"])'

echo "== 9. hitdna validate: the generated track against its target" >&2
$hitdna validate "$work/generated.wav" --target "$work/target.json" --min-score 0.8 -f text

echo "== 10. hitdna feedback: listeners liked it (idempotent by event id), then a replay" >&2
gen=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["generation_id"])' "$work/generation.json")
$hitdna feedback "$gen" --plays 420 --completion 0.88 --likes 71 --shares 19 --skips 35 --event-id demo-1
$hitdna feedback "$gen" --plays 420 --completion 0.88 --likes 71 --shares 19 --skips 35 --event-id demo-1

echo "== 11. hitdna plot and report: the generation over its target (SVG), and one HTML page about it" >&2
$hitdna plot "$work/generation.json" -o "$work/generation.svg"
$hitdna plot "${songs[4]}" --hits 5 --normalize -o "$work/song-vs-hits.svg"
$hitdna report "$gen" -o "$work/generation.html"
echo "   open $work/generation.svg, $work/song-vs-hits.svg and $work/generation.html in a browser" >&2

echo "== 12. hitdna sync qdrant: mirror the catalog into Qdrant, then the same search there" >&2
fake_pid=
if [[ -z "${QDRANT_URL:-}" ]]; then
  exec {fake_out}< <(exec /usr/bin/python3 tests/fake_qdrant.py --spec data/qdrant-openapi-v1.19.0.json --port 0)
  fake_pid=$!
  trap '[[ -n "$fake_pid" ]] && kill "$fake_pid" 2>/dev/null || true' EXIT
  read -r port <&"$fake_out"
  export QDRANT_URL="http://127.0.0.1:$port"
  echo "   (no QDRANT_URL: using the loopback stand-in at $QDRANT_URL)" >&2
fi
$hitdna sync qdrant --collection demo
$hitdna sync qdrant --collection demo   # again: nothing changed, nothing sent
$hitdna match --backend qdrant --collection demo --like "$work/excerpt.mp3" -k 3 -f text

echo "== 13. hitdna db stats" >&2
$hitdna db stats
$hitdna db verify

echo "== 14. hitdna export: the catalog as a table (CSV), read back with Python's csv module" >&2
$hitdna export -f csv -o "$work/catalog.csv"
/usr/bin/python3 -c 'import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
print(len(rows), "tracks,", len(rows[0]), "columns; slowest:", min(rows, key=lambda r: float(r["tempo_bpm"] or 999))["title"])' "$work/catalog.csv"
# Spotify's audio-features columns, estimated from hitdna's own measurements (not Spotify's model).
$hitdna export --spotify -f csv | /usr/bin/python3 -c 'import csv, sys
for r in csv.DictReader(sys.stdin): print(r["title"][:28].ljust(28), "danceability", r["danceability"], "energy", r["energy"], "acousticness", r["acousticness"], "speechiness", r["speechiness"])'
