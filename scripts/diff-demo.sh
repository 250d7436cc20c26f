#!/usr/bin/env bash
# Runs the demo pipeline (scripts/demo.sh) with two hitdna binaries and diffs everything both
# print and write: stdout, stderr and every file of the demo folder except the catalog itself.
# For structural changes that must not change behaviour:
#   scripts/diff-demo.sh OLD_BINARY NEW_BINARY
# Values that differ between two runs of one binary are masked first: wall-clock times and
# timestamps, random ids (generations, catalogs, collection epochs), process ids and the
# stand-in Qdrant's port. Ingest runs on one thread (HITDNA_DEMO_JOBS=1): with several, track
# ids follow completion order and the running statistics sum in another order. Exit 0 when
# nothing else differs.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $# -eq 2 ]] || { echo "usage: $0 OLD_BINARY NEW_BINARY" >&2; exit 2; }
old=$(realpath "$1")
new=$(realpath "$2")
out=${HITDNA_DIFF_DIR:-${TMPDIR:-/tmp}/hitdna-diff-demo}
rm -rf "$out"
mkdir -p "$out"
work="$out/work"   # the same path for both runs, so that paths in outputs agree

run() {
  local name=$1 bin=$2
  echo "diff-demo: running the demo with $bin" >&2
  HITDNA_BIN="$bin" HITDNA_DEMO_DIR="$work" HITDNA_DEMO_JOBS=1 scripts/demo.sh >"$out/$name.stdout" 2>"$out/$name.stderr" ||
    { echo "diff-demo: the demo failed with $bin (exit $?); see $out/$name.stderr" >&2; exit 1; }
  rm -f "$work"/demo.db "$work"/demo.db-* "$work"/demo.db.sync.lock
  rm -rf "$work"/demo.db.hnsw
  mv "$work" "$out/$name"
  mv "$out/$name.stdout" "$out/$name/demo.stdout"
  mv "$out/$name.stderr" "$out/$name/demo.stderr"
}
run old "$old"
run new "$new"

mask() {
  sed -E \
    -e 's/gen-[0-9a-f]{16}/gen-ID/g' \
    -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z/TIMESTAMP/g' \
    -e 's/"(catalog_id|epoch|pass|hitdna_pass)": ?"[0-9a-f]+"/"\1": "ID"/g' \
    -e 's/127\.0\.0\.1:[0-9]+/127.0.0.1:PORT/g' \
    -e 's/[0-9]+(\.[0-9]+)? s\b/N s/g' \
    -e 's/[0-9]+(\.[0-9]+)? (files|tracks|events)\/s/N \2\/s/g' \
    -e 's/"(seconds|build_s|analysis_s|store_s|index_s|tracks_per_second)": ?[0-9.e+-]+/"\1": N/g' \
    -e 's/catalog work [0-9.]+%/catalog work N%/g' \
    -e 's/(catalog|WAL|indexes) [0-9.]+ MB/\1 N MB/g; s/= [0-9.]+ kB per track/= N kB per track/' \
    "$1"
}
status=0
while IFS= read -r -d '' f; do
  rel=${f#"$out/old/"}
  g="$out/new/$rel"
  if [[ ! -e "$g" ]]; then echo "only in the old run: $rel"; status=1; continue; fi
  if cmp -s "$f" "$g"; then continue; fi
  if grep -Iq . "$f"; then
    if ! diff -u --label "old/$rel" --label "new/$rel" <(mask "$f") <(mask "$g"); then status=1; fi
  else
    echo "binary files differ: $rel"; status=1
  fi
done < <(find "$out/old" -type f -print0 | sort -z)
while IFS= read -r -d '' g; do
  rel=${g#"$out/new/"}
  [[ -e "$out/old/$rel" ]] || { echo "only in the new run: $rel"; status=1; }
done < <(find "$out/new" -type f -print0 | sort -z)
n=$(find "$out/old" -type f | wc -l)
if [[ $status -eq 0 ]]; then echo "diff-demo: $n files (outputs and written files) agree after masking times and random ids" >&2
else echo "diff-demo: differences above (outputs in $out)" >&2; fi
exit $status
