#!/usr/bin/env bash
# Example: the Hit DNA of a few songs, as text, as JSON Lines for a pipeline, and as vectors.
# Run from the repository after scripts/build.sh; fetches singularity-music (CC-BY-SA-3.0).
set -euo pipefail
cd "$(dirname "$0")/.."
hitdna=${HITDNA:-./build/apps/hitdna}
music=$(scripts/fetch-music.sh --demo)
songs=("$music"/singularity-music/usr/share/games/singularity/music/*.ogg)

# 1. A readable summary of one song.
"$hitdna" analyze -f text "${songs[0]}"

# 2. Every song as one JSON line; pick fields with python (or jq if installed).
"$hitdna" analyze -f jsonl --jobs 2 "${songs[@]:0:4}" |
  /usr/bin/python3 -c 'import json,sys
for line in sys.stdin:
    d = json.loads(line)
    print(d["audio"]["bpm"], d["audio"]["harmony"]["key"], d["audio"]["harmony"]["mode"],
          d["production"]["integrated_lufs"], "LUFS", d["file"].rsplit("/", 1)[-1])'

# 3. Paths from stdin ("-"), vectors included, failures reported per file on stderr.
printf '%s\n' "${songs[1]}" /nonexistent.ogg | "$hitdna" analyze -f jsonl --vectors - > /tmp/hitdna-vectors.jsonl || echo "exit code $? (3: a file could not be read)"
/usr/bin/python3 -c 'import json; d=json.loads(open("/tmp/hitdna-vectors.jsonl").readline()); print({k: len(v) for k, v in d["vectors"].items()})'

# 4. What every vector dimension means.
"$hitdna" analyze --list-dimensions | head -5
