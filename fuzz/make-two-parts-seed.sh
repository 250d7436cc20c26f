#!/bin/bash
# Writes tests/fuzz-corpus/two-parts-32s.opus: 16 s of plucked A minor triads on the beat,
# then 16 s of quieter square-wave F major triads on the eighth, at 120 BPM, mono, Opus at
# 10 kb/s (under fuzz_analyze's -max_len of 64 KiB). At 32 s the analyzer cuts it into two
# sections (a 20 s seed gets one: at most one section per 15 s), so fuzzed inputs reach
# section boundaries, section keys and section vectors. Needs sox and ffmpeg (libopus).
set -euo pipefail
out=${1:-"$(dirname "$0")/../tests/fuzz-corpus/two-parts-32s.opus"}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sox -n -r 22050 -c 3 "$tmp/a3.wav" synth 0.5 pluck A3 pluck C4 pluck E4 repeat 31
sox "$tmp/a3.wav" "$tmp/a.wav" remix - gain -3
sox -n -r 22050 -c 3 "$tmp/b3.wav" synth 0.25 square F3 square A3 square C4 fade 0 0.25 0.2 repeat 63
sox "$tmp/b3.wav" "$tmp/b.wav" remix - gain -12
sox "$tmp/a.wav" "$tmp/b.wav" "$tmp/two.wav"
ffmpeg -loglevel error -y -i "$tmp/two.wav" -c:a libopus -b:a 10k "$out"
