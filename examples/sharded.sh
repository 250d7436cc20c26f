#!/usr/bin/env bash
# Example: analysis on many machines, one catalog. The list of files is split into shards; each
# shard is analyzed as another host would (here: two background jobs on this machine; over ssh
# with GNU parallel or as a Slurm array in man hitdna-ingest, ANALYSIS ON MANY MACHINES); the
# analyses are gathered into one catalog with 'ingest --dna', nothing analyzed twice.
# Run after scripts/build.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
hitdna=${HITDNA:-./build/apps/hitdna}
music=$(scripts/fetch-music.sh --demo)
work=$(mktemp -d)
export HITDNA_DB="$work/catalog.db"
find "$music/singularity-music" -name '*.ogg' | sort > "$work/all.txt"
split -n l/2 -d "$work/all.txt" "$work/shard."
for shard in "$work"/shard.0?; do
  "$hitdna" analyze -f jsonl --vectors --jobs 1 - < "$shard" > "$shard.dna" &   # "host" 1 and 2
done
wait
wc -l "$work"/shard.0?.dna
cat "$work"/shard.0?.dna | "$hitdna" ingest --dna - --genre library -f json
"$hitdna" db stats -f csv
"$hitdna" match --track 1 -k 3 -f text
