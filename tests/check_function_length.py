#!/usr/bin/env python3
"""No function in lib/ longer than the limit (80 lines): the library reads as named stages.

usage: check_function_length.py SOURCE_DIR [LIMIT]

Function extents come from universal-ctags (start and end line of every function definition;
a lambda counts toward the function that holds it). Before checking lib/, the checker measures
a made-up file whose function is one line over the limit and must refuse it (negative control).
"""
import os
import shutil
import subprocess
import sys
import tempfile


def lengths(paths):
    ctags = shutil.which("ctags-universal") or "ctags"
    out = subprocess.run([ctags, "-x", "--_xformat=%{end} %n %N %F", "--kinds-c++=f", "--fields=+ne", "--languages=C++", *paths],
                         capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        end, start, name, path = line.split(" ", 3)
        yield int(end) - int(start) + 1, name, f"{path}:{start}"


def main():
    if len(sys.argv) not in (2, 3):
        raise SystemExit(__doc__)
    root = sys.argv[1]
    limit = int(sys.argv[2]) if len(sys.argv) == 3 else 80
    with tempfile.TemporaryDirectory() as tmp:
        probe = os.path.join(tmp, "probe.cpp")
        with open(probe, "w") as f:
            f.write("int probe() {\n" + "    int x = 0;\n" * (limit - 2) + "    return 0;\n}\n")
        found = [n for n, name, _ in lengths([probe]) if name == "probe"]
        if found != [limit + 1]:
            raise SystemExit(f"function-length: the probe of {limit + 1} lines measured {found}; is universal-ctags installed?")
    files = []
    for dirpath, _, names in os.walk(os.path.join(root, "lib")):
        files += [os.path.join(dirpath, n) for n in sorted(names) if n.endswith((".cpp", ".hpp"))]
    measured = sorted(lengths(files), reverse=True)
    long = [m for m in measured if m[0] > limit]
    for n, name, where in long:
        print(f"{os.path.relpath(where, root)}: {name} is {n} lines (limit {limit}): split it into named stages")
    top = measured[0] if measured else (0, "-", "-")
    print(f"function-length: {len(measured)} functions in {len(files)} files, longest {top[1]} {top[0]} lines; {len(long)} over {limit}")
    sys.exit(1 if long else 0)


if __name__ == "__main__":
    main()
