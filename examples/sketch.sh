#!/usr/bin/env bash
# Example: a brief -> a target -> a MIDI arrangement sketch, offline, then read back with mido.
# Run from the repository after scripts/build.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
hitdna=${HITDNA:-./build/apps/hitdna}
work=$(mktemp -d)
export HITDNA_DB="$work/catalog.db"   # empty: the target comes from the brief alone

"$hitdna" enrich "124 bpm in D minor, long build, drop at 1:00, 3 minutes" -f json > "$work/target.json"
"$hitdna" sketch "$work/target.json" -o "$work/sketch.mid"            # text: bars, sections, choices in words
"$hitdna" sketch "$work/target.json" -o "$work/sketch-7.mid" --seed 7 -f json |
  /usr/bin/python3 -c 'import json,sys; s=json.load(sys.stdin); print([(x["label"], x["role"], "-".join(x["chords"][:4])) for x in s["sections"]])'
# Played through a General MIDI soundfont and mastered to the target's loudness and width
# (as generate --backend local does); ffmpeg's meter checks the loudness and the true peak.
"$hitdna" sketch "$work/target.json" -o "$work/sketch.mid" --render "$work/sketch.wav"
ffmpeg -nostats -hide_banner -i "$work/sketch.wav" -af ebur128=peak=true -f null - 2>&1 | grep -E "^ +(I|Peak):"
# Pipelines: the target on standard input.
"$hitdna" enrich "92 bpm sad ballad in Eb major" -f json | "$hitdna" sketch - -o "$work/ballad.mid"
# Any MIDI reader sees the tempo map and the section markers.
/usr/bin/python3 - "$work/sketch.mid" <<'PY'
import sys, mido
f = mido.MidiFile(sys.argv[1])
at, tempo = 0, 500000
for m in f.tracks[0]:
    at += m.time
    if m.type == "set_tempo":
        tempo = m.tempo
    if m.type in ("set_tempo", "marker", "key_signature"):
        print(f"{mido.tick2second(at, f.ticks_per_beat, tempo):7.2f} s", m)
print(f"{len(f.tracks) - 1} parts, {f.length:.1f} s")
PY
echo "files in $work; play one: fluidsynth -ni /usr/share/sounds/sf2/FluidR3_GM.sf2 $work/sketch.mid"
