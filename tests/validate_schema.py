#!/usr/bin/python3
"""Validates `hitdna analyze` output against data/hitdna-dna.schema.json on generated fixtures:
a stereo groove, silence, a 0.5 s clip, 8 kHz mono and 96 kHz 6-channel audio, with and without
--vectors. Fixtures are made with the standard-library wave module (no external tools)."""
import json, math, os, random, struct, subprocess, sys, tempfile, wave

import jsonschema


def write_wav(path, rate, channels, seconds, fn):
    n = int(rate * seconds)
    with wave.open(path, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        frames = bytearray()
        for i in range(n):
            vals = fn(i / rate)
            for c in range(channels):
                v = max(-1.0, min(1.0, vals[c % len(vals)]))
                frames += struct.pack("<h", int(v * 32000))
        w.writeframes(bytes(frames))


def groove(t):
    rnd = random.Random(int(t * 1000))
    beat = (t * 2.0) % 1.0  # 120 BPM
    click = math.exp(-beat * 40) * rnd.uniform(-1, 1) * 0.6
    chord = sum(math.sin(2 * math.pi * f * t) for f in (220.0, 261.6, 329.6)) * 0.1
    return (click + chord, click * 0.8 + chord)


def main():
    binary, schema_path = sys.argv[1], sys.argv[2]
    schema = json.load(open(schema_path))
    validator_cls = jsonschema.validators.validator_for(schema)
    validator_cls.check_schema(schema)
    validator = validator_cls(schema)
    failures = 0
    with tempfile.TemporaryDirectory() as d:
        fixtures = {
            "groove.wav": (44100, 2, 12, groove),
            "silence.wav": (44100, 2, 6, lambda t: (0.0,)),
            "clip.wav": (44100, 1, 0.5, lambda t: (0.3 * math.sin(2 * math.pi * 440 * t),)),
            "low.wav": (8000, 1, 8, lambda t: (groove(t)[0],)),
            "six.wav": (96000, 6, 3, lambda t: groove(t)),
            # one sample: every ratio over the duration must stay a number
            "one-sample.wav": (8000, 1, 1 / 8000, lambda t: (0.2,)),
            # eight identical channels: the fold-down is louder than any channel
            "eight.wav": (48000, 8, 3, lambda t: (0.5 * math.sin(2 * math.pi * 440 * t),)),
        }
        for name, (rate, ch, secs, fn) in fixtures.items():
            path = os.path.join(d, name)
            write_wav(path, rate, ch, secs, fn)
            for extra in ([], ["--vectors"]):
                out = subprocess.run([binary, "analyze", "-f", "json", *extra, path], capture_output=True, text=True)
                if out.returncode != 0:
                    print(f"FAIL {name} {extra}: exit {out.returncode}: {out.stderr.strip()}")
                    failures += 1
                    continue
                doc = json.loads(out.stdout)
                errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
                for e in errors[:5]:
                    print(f"FAIL {name} {extra}: {'/'.join(map(str, e.path))}: {e.message[:200]}")
                failures += bool(errors)
                if not errors:
                    print(f"ok   {name} {' '.join(extra)}")
    print(f"{2 * len(fixtures) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
