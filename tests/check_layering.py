#!/usr/bin/env python3
"""The library's layering, checked on every file.

usage: check_layering.py SOURCE_DIR LAYERS_FILE

LAYERS_FILE (written by lib/CMakeLists.txt) has one line per folder of lib/hitdna: "name: deps".
A file in lib/hitdna/X may include headers of X and of the folders X depends on, directly or
through them. Besides:
  - a folder's detail/ headers are private to that folder (.cpp files and other detail/ headers),
    and hitdna headers are included by their path from lib/, never relatively;
  - only store/ includes SQLite (sqlite3.h) or hnswlib and only core/ includes curl, anywhere in
    the tree; inside lib/, every wrapped library is included by its own folder only, and never
    in a public header;
  - apps/ and everything else may include any public header, never a detail/ one.
Before checking the tree, the checker runs on made-up violations and must catch each one
(negative controls), so that a silent checker cannot pass.
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.M)
# Wrapped third-party headers: (pattern, folders of lib/hitdna allowed to include them in .cpp
# files or detail/ headers, sealed: also refused outside lib/ (tests and benchmarks may use the
# others, e.g. libsndfile to write fixtures)).
WRAPPED = [
    (re.compile(r"^sqlite3\.h$"), {"store"}, True),
    (re.compile(r"^hnswlib/"), {"store"}, True),
    (re.compile(r"^curl/"), {"core"}, True),
    (re.compile(r"^sndfile\.h$"), {"audio"}, False),
    (re.compile(r"^soxr\.h$"), {"audio"}, False),
    (re.compile(r"^kiss_fft"), {"dsp"}, False),
    (re.compile(r"^taglib/"), {"ingest"}, False),
    (re.compile(r"^xxhash\.h$"), {"store"}, False),
    (re.compile(r"^ebur128\.h$"), {"analysis", "sketch"}, False),
    (re.compile(r"^fluidsynth"), {"sketch"}, True),
    (re.compile(r"^Eigen/"), {"learn"}, False),
    (re.compile(r"^xgboost/"), {"learn"}, True),
]


def read_layers(path):
    deps = {}
    with open(path) as f:
        for line in f:
            if ":" not in line:
                continue
            name, rest = line.split(":", 1)
            deps[name.strip()] = rest.split()
    closure = {}

    def reach(name, seen=()):
        if name in closure:
            return closure[name]
        if name in seen:
            raise SystemExit(f"layering: dependency cycle through {name}")
        out = set()
        for d in deps.get(name, []):
            if d not in deps:
                raise SystemExit(f"layering: {name} depends on unknown folder {d}")
            out |= {d} | reach(d, seen + (name,))
        closure[name] = out
        return out

    for n in deps:
        reach(n)
    return closure


def problems_of(rel_path, text, closure):
    """Problems of one file, given its path relative to the source root."""
    out = []
    parts = rel_path.split("/")
    in_lib = len(parts) >= 4 and parts[0] == "lib" and parts[1] == "hitdna"
    folder = parts[2] if in_lib else None
    header = rel_path.endswith(".hpp")
    public_header = in_lib and header and "/detail/" not in rel_path
    for inc in INCLUDE.findall(text):
        names_lib_folder = any(f"{d}/" in inc for d in closure)
        if ("../" in inc and (in_lib or names_lib_folder)) or (in_lib and inc.startswith("detail/")):
            out.append(f"{rel_path}: includes {inc}: include hitdna headers by their path from lib/ (hitdna/FOLDER/...)")
            continue
        m = re.match(r"hitdna/([a-z_]+)/(.*)$", inc)
        if m:
            target, rest = m.group(1), m.group(2)
            if target not in closure:
                out.append(f"{rel_path}: includes {inc}: no folder lib/hitdna/{target}")
                continue
            if rest.startswith("detail/") and target != folder:
                out.append(f"{rel_path}: includes {inc}: detail/ headers are private to {target}/")
            elif rest.startswith("detail/") and public_header:
                out.append(f"{rel_path}: includes {inc}: a public header must not pass a detail/ header on")
            if in_lib and target != folder and target not in closure.get(folder, set()):
                out.append(f"{rel_path}: includes {inc}: {folder}/ does not depend on {target}/ (see lib/CMakeLists.txt)")
            continue
        for pattern, allowed, sealed in WRAPPED:
            if pattern.search(inc) and (in_lib or sealed):
                if not in_lib or folder not in allowed or public_header:
                    where = "a public header" if public_header else (f"{folder}/" if in_lib else parts[0] + "/")
                    out.append(f"{rel_path}: includes <{inc}> in {where}; only {', '.join(sorted(allowed))}/ may, in .cpp files or detail/")
    return out


def negative_controls(closure):
    cases = [
        ("lib/hitdna/core/x.cpp", '#include "hitdna/store/catalog.hpp"\n'),     # upward
        ("lib/hitdna/store/x.cpp", '#include "hitdna/match/match.hpp"\n'),      # upward
        ("lib/hitdna/qdrant/x.cpp", '#include "hitdna/analysis/analyze.hpp"\n'),  # sideways
        ("lib/hitdna/match/x.cpp", '#include "hitdna/store/detail/sqlite.hpp"\n'),  # private
        ("apps/hitdna/x.cpp", '#include "hitdna/store/detail/access.hpp"\n'),
        ("lib/hitdna/learn/x.cpp", "#include <sqlite3.h>\n"),
        ("apps/hitdna/x.cpp", "#include <hnswlib/hnswlib.h>\n"),
        ("lib/hitdna/store/catalog.hpp", "#include <sqlite3.h>\n"),             # public header
        ("lib/hitdna/generate/x.cpp", "#include <curl/curl.h>\n"),
        ("lib/hitdna/match/x.cpp", '#include "../store/detail/sqlite.hpp"\n'),  # relative path
        ("lib/hitdna/store/catalog.hpp", '#include "hitdna/store/detail/sqlite.hpp"\n'),  # passed on
    ]
    for path, text in cases:
        if not problems_of(path, text, closure):
            raise SystemExit(f"layering: negative control not caught: {path} with {text.strip()}")
    # And allowed includes pass.
    for path, text in [("lib/hitdna/match/x.cpp", '#include "hitdna/dna/dna.hpp"\n'),
                       ("lib/hitdna/store/x.cpp", '#include "hitdna/store/detail/sqlite.hpp"\n#include <sqlite3.h>\n'),
                       ("apps/hitdna/x.cpp", '#include "hitdna/report/html.hpp"\n')]:
        if problems_of(path, text, closure):
            raise SystemExit(f"layering: an allowed include was refused: {path}: {problems_of(path, text, closure)}")
    return len(cases)


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    root, layers = sys.argv[1], sys.argv[2]
    closure = read_layers(layers)
    expected = {d for d in os.listdir(os.path.join(root, "lib", "hitdna")) if os.path.isdir(os.path.join(root, "lib", "hitdna", d))}
    if expected != set(closure):
        raise SystemExit(f"layering: folders {sorted(expected)} but lib/CMakeLists.txt declares {sorted(closure)}")
    controls = negative_controls(closure)
    problems, files = [], 0
    for top in ("lib", "apps", "tests", "bench", "fuzz", "examples"):
        for dirpath, _, names in os.walk(os.path.join(root, top)):
            for n in sorted(names):
                if not n.endswith((".cpp", ".hpp")):
                    continue
                p = os.path.join(dirpath, n)
                rel = os.path.relpath(p, root)
                with open(p, encoding="utf-8", errors="replace") as f:
                    problems += problems_of(rel, f.read(), closure)
                files += 1
    for p in problems:
        print(p)
    print(f"layering: {files} files, {len(problems)} problems ({controls} negative controls caught)")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
