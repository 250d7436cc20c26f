#!/usr/bin/python3
# Regenerates man/hitdna-analyze.1 from man/hitdna-analyze.1.in and the vector tables that
# `hitdna analyze --list-dimensions` prints:  scripts/gen-man-analyze.py BIN IN OUT
import subprocess, collections
import sys
B = sys.argv[1]
TMPL = sys.argv[2]
OUT = sys.argv[3]
dims = collections.OrderedDict()
for line in subprocess.run([B, "analyze", "--list-dimensions"], capture_output=True, text=True, check=True).stdout.splitlines():
    space, idx, name, desc = line.split("\t")
    dims.setdefault(space, []).append((int(idx), name, desc))

def esc(t):
    t = t.replace("\\", "\\e").replace("-", "\\-")
    if t[:1] in (".", "'"): t = "\\&" + t
    return t

out = []
out.append(""".SH VECTORS
With
.BR \\-\\-vectors ,
the key
.B vectors
holds one fixed\\-length array of numbers per layer,
.BR audio " (%d), " structure " (%d), " emotion " (%d) and " production " (%d),"
and
.BR sections :
one %d\\-number
.B section
vector per entry of
.BR structure.sections ,
in the same order.
Every dimension is scaled to about 0..1, or \\-1..1 where it is signed
(the MFCC dimensions are unbounded, the energy arcs are clamped to \\-3..3), so that
vectors of different songs can be compared with Euclidean or cosine distance;
values are rounded to 0.0001.
Dimensions built from heuristic or proxy fields inherit that status.
The tables list every dimension in order, with the name and meaning printed by
.BR "hitdna analyze \\-\\-list\\-dimensions" .""" % (len(dims["audio"]), len(dims["structure"]), len(dims["emotion"]), len(dims["production"]), len(dims["section"])))
for space, rows in dims.items():
    if space == "section":
        out.append(".SS section (each entry of vectors.sections, %d dimensions)" % len(rows))
    else:
        out.append(".SS %s (vectors.%s, %d dimensions)" % (space, space, len(rows)))
    out.append(".TS\ntab(@) nokeep;\nr l lx.\n\\fIi\\fR@\\fIname\\fR@\\fImeaning\\fR\n_")
    for i, name, desc in rows:
        out.append("%d@%s@T{\n%s\nT}" % (i, name, esc(desc)))
    out.append(".TE")
vec = "\n".join(out)
tmpl = open(TMPL).read()
assert "@VECTORS@" in tmpl
open(OUT, "w").write(tmpl.replace("@VECTORS@", vec))

