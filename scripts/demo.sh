#!/usr/bin/env bash
# The main job on a demo: install what is needed, build, fetch three freely licensed songs
# from Debian's singularity-music package and print their Hit DNA summaries.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
music=$(scripts/fetch-music.sh --demo)
dir="$music/singularity-music/usr/share/games/singularity/music"
[[ -d "$dir" ]] || dir=$(dirname "$(find "$music/singularity-music" -name '*.ogg' | head -1)")
mapfile -t songs < <(find "$dir" -name '*.ogg' | sort | head -3)
echo "== hitdna analyze: ${#songs[@]} songs from singularity-music (Singularity game soundtrack," >&2
echo "   CC-BY-SA-3.0; credits in $music/singularity-music/usr/share/doc/singularity-music/copyright)" >&2
./build/apps/hitdna analyze --format text "${songs[@]}"
echo "== the same as JSON Lines, piped: tempo, key and first hook per song" >&2
summary=$(cat <<'PY'
import json, sys
for line in sys.stdin:
    d = json.loads(line)
    a, h, s = d["audio"], d["audio"]["harmony"], d["structure"]
    name = d["file"].rsplit("/", 1)[-1]
    print(f"{name:28} {a['bpm']} BPM  {h['key']} {h['mode']}  first hook {s['first_hook_s']} s  {' '.join(d['descriptors'][:6])}")
PY
)
./build/apps/hitdna analyze --format jsonl "${songs[@]}" | /usr/bin/python3 -c "$summary"
