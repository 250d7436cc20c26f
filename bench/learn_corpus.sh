#!/usr/bin/env bash
# The real DNA the learning simulator (bench_learn) draws its catalog from: every recording
# (over 500 kB) of the Debian packages below, plus five variants of
# each made with ffmpeg (90 s excerpts slowed 8 %, sped up 8 %, lowered two semitones, brighter,
# heavier and quieter), analyzed by hitdna as a user would: `hitdna analyze -f jsonl --vectors`.
# Variants keep real correlations between dimensions (they are real audio) and bring the
# catalog past 2 000 tracks. Each variant file is deleted once analyzed; the analyses stay.
#   bench/learn_corpus.sh HITDNA WORKDIR      writes WORKDIR/corpus.jsonl (resumable)
# Song of a line: the number before the first '-' of its file name (songs/NNNN-vK.flac).
set -euo pipefail
[[ $# -eq 2 ]] || { echo "usage: $0 HITDNA WORKDIR" >&2; exit 2; }
hitdna=$(realpath "$1")
work=$2
here=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$work/songs" "$work/parts"
# Game and demo music with free licences (../shared/DATA.md); never the three packages reserved
# for independent evaluation (openttd-openmsx, pingus-data, tecnoballz-data).
packages=(asc-music extremetuxracer-data freedroidrpg-data fretsonfire-songs-muldjord fretsonfire-songs-sectoid frozen-bubble-data
  hedgewars-data hyperrogue-music lincity-ng-data megaglest-data mu-cade-data nexuiz-music openclonk-data planetblupi-music-ogg
  pushover-data singularity-music starfighter-data supertux-data supertuxkart-data torus-trooper-data warzone2100-music
  wesnoth-1.16-music widelands-data xmoto-data)
music=$("$here/scripts/fetch-music.sh" "${packages[@]}")
list="$work/recordings.txt"
[[ -f "$list" ]] || for p in "${packages[@]}"; do find "$music/$p" -type f \( -name '*.ogg' -o -name '*.opus' -o -name '*.mp3' -o -name '*.flac' \) -size +500k | sort; done > "$list"
echo "learn_corpus: $(wc -l < "$list") recordings, 6 analyses each" >&2

one() {  # one recording: itself and five variants, into parts/NNNN.jsonl
  local n=$1 src=$2 out="$work/parts/$1.jsonl"
  [[ -s "$out" ]] && return 0
  local filters=("" "atempo=0.92" "atempo=1.08" "asetrate=44100*0.8909,aresample=44100" "treble=g=6,bass=g=-3" "bass=g=8,volume=-5dB")
  local starts=(0 0 20 10 30 40)
  local tmp="$work/parts/$n.tmp"
  : > "$tmp"
  for k in 0 1 2 3 4 5; do
    local f="$work/songs/$n-v$k.flac"
    if [[ $k -eq 0 ]]; then
      ffmpeg -v error -nostdin -y -i "$src" -map 0:a:0 -c:a flac "$f" || continue
    else
      ffmpeg -v error -nostdin -y -ss "${starts[$k]}" -t 90 -i "$src" -map 0:a:0 -af "${filters[$k]}" -ar 44100 -c:a flac "$f" || continue
    fi
    "$hitdna" analyze -f jsonl --vectors --jobs 1 "$f" >> "$tmp" 2>/dev/null || true
    rm -f "$f"
  done
  mv "$tmp" "$out"
}
export -f one
export work hitdna
nl -n rz -w 4 -s $'\t' "$list" | tr '\t' '\n' | xargs -d '\n' -n 2 -P "${JOBS:-2}" bash -c 'one "$0" "$1"'
cat "$work"/parts/*.jsonl > "$work/corpus.jsonl"
echo "learn_corpus: $(wc -l < "$work/corpus.jsonl") analyses in $work/corpus.jsonl" >&2
