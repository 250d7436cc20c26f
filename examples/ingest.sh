#!/usr/bin/env bash
# Example: build a catalog from a folder, a list on stdin and a chart list, the way a nightly
# cron job would. Run from the repository after scripts/build.sh; fetches singularity-music
# (CC-BY-SA-3.0) from Debian's archive.
set -euo pipefail
cd "$(dirname "$0")/.."
hitdna=${HITDNA:-./build/apps/hitdna}
music=$(scripts/fetch-music.sh --demo)
dir="$music/singularity-music/usr/share/games/singularity/music"
work=$(mktemp -d)
export HITDNA_DB="$work/catalog.db"

# 1. A folder (recursive), with a genre for every file; no terminal, so one summary line.
"$hitdna" ingest "$dir" --genre soundtrack --progress never

# 2. Paths on stdin: nothing is analyzed twice (content hash), metadata is merged.
find "$dir" -name '*.ogg' | head -3 | "$hitdna" ingest - --tag favourites -f json

# 3. A Spotify-style chart list. Rows find their audio under --audio-dir by artist and title
#    (file names "Artist - Title.ext" or tags); rows without audio are listed, exit status 1.
mkdir -p "$work/audio"
cp "$dir/Awakening.ogg" "$work/audio/Singularity OST - Awakening.ogg" 2>/dev/null ||
  cp "$(find "$dir" -name '*.ogg' | head -1)" "$work/audio/Singularity OST - Awakening.ogg"
cat > "$work/regional-global-weekly-2026-11-26.csv" <<'CSV'
rank,uri,artist_names,track_name,source,peak_rank,previous_rank,weeks_on_chart,streams
1,spotify:track:demo1,Singularity OST,Awakening,Demo Label,1,2,5,"1,234,567"
2,spotify:track:demo2,Nobody,Not Here,Demo Label,2,,1,999
CSV
"$hitdna" ingest --chart "$work/regional-global-weekly-2026-11-26.csv" --audio-dir "$work/audio" --progress never ||
  echo "exit status $? (1: some chart rows had no audio)"

# 4. What is in the catalog now.
"$hitdna" db stats
rm -rf "$work"
