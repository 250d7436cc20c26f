#!/usr/bin/env bash
# Example: the three kinds of query and the filters. Run from the repository after
# scripts/build.sh; fetches singularity-music (CC-BY-SA-3.0) from Debian's archive.
set -euo pipefail
cd "$(dirname "$0")/.."
hitdna=${HITDNA:-./build/apps/hitdna}
music=$(scripts/fetch-music.sh --demo)
dir="$music/singularity-music/usr/share/games/singularity/music"
work=$(mktemp -d)
export HITDNA_DB="$work/catalog.db"
"$hitdna" ingest "$dir" --genre soundtrack --progress never 2>/dev/null
song=$(find "$dir" -name '*.ogg' | sort | sed -n 5p)

# 1. An excerpt (15 s from 0:40, 3 % slower, MP3 128 kb/s) finds the song it came from and
#    the section it matched.
ffmpeg -v error -y -ss 40 -t 14.55 -i "$song" -af atempo=0.97 -c:a libmp3lame -b:a 128k "$work/clip.mp3"
"$hitdna" match --like "$work/clip.mp3" -k 3 -f text

# 2. Songs like a catalog track, by id, in JSON Lines for a pipeline.
"$hitdna" match --track 1 -k 3 -f jsonl | /usr/bin/python3 -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    print("%d. %-24s score %.3f  sections %.3f" % (r["rank"], r["title"], r["score"], r["scores"].get("sections", 0)))'

# 3. Text: words search title, artist, genres, tags and descriptors; descriptor words steer.
"$hitdna" match --text "dark wide soundtrack" -k 3 -f text

# 4. Filters apply inside the search; one space only; own weights.
"$hitdna" match --track 1 --filter genre=soundtrack --filter "duration>=120" --space production,emotion \
  --weights production=2,emotion=1 -k 3 -f text

# 5. Many queries in one process: one JSON line each (a clip, a track, a text, and a line that
#    fails), answered in order with its id; the clip is analyzed on another core meanwhile.
#    Exit status 1 says some line failed; the others are answered.
printf '%s\n' "{\"id\":\"clip\",\"like\":\"$work/clip.mp3\",\"k\":2}" '{"id":"t1","track":1,"k":2}' \
  '{"id":"dark","text":"dark wide soundtrack","k":2}' '{"id":"oops","track":9999}' > "$work/queries.jsonl"
"$hitdna" match --queries "$work/queries.jsonl" --jobs 2 | /usr/bin/python3 -c '
import json, sys
for line in sys.stdin:
    a = json.loads(line)
    print("%-5s line %d: %s" % (a["id"], a["line"], a["error"] if "error" in a else ", ".join(r["title"] for r in a["results"])))' || true
rm -rf "$work"
