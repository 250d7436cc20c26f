#!/usr/bin/env bash
# Installs what the tests need, builds with warnings as errors and runs every test: the
# doctest suite and schema check through ctest, then the libFuzzer target for a bounded time.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
cmake -S . -B build-test "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DHITDNA_WERROR=ON >/dev/null
cmake --build build-test -j "$(nproc)"
(cd build-test && ctest --output-on-failure -j "$(nproc)")

# Fuzzing decode + analyze with clang's libFuzzer, corpus in tests/fuzz-corpus.
seconds=${HITDNA_FUZZ_SECONDS:-60}
if [[ "$seconds" -gt 0 ]]; then
  CC=clang CXX=clang++ cmake -S . -B build-fuzz "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DHITDNA_FUZZ=ON -DHITDNA_BUILD_TESTS=OFF -DHITDNA_BUILD_BENCH=OFF >/dev/null
  cmake --build build-fuzz -j "$(nproc)" --target fuzz_analyze fuzz_chart fuzz_readers fuzz_http
  corpus=$(mktemp -d)
  cp tests/fuzz-corpus/* "$corpus"/
  # Seeds of 5-32 s (song-8s.ogg, clicks-12s.flac, song-20s.ogg, two-parts-32s.opus) take
  # inputs through beat tracking, harmony and structure, not only the decoder; the 32 s one
  # has two sections (fuzz/make-two-parts-seed.sh), so section boundaries are reached too.
  echo "fuzz: decode+analyze for ${seconds}s" >&2
  LSAN_OPTIONS=suppressions=$PWD/fuzz/lsan.supp ./build-fuzz/fuzz/fuzz_analyze -max_total_time="$seconds" -max_len=65536 -timeout=20 -rss_limit_mb=2048 \
    -print_final_stats=1 "$corpus" 2> build-fuzz/fuzz.log || { tail -50 build-fuzz/fuzz.log; exit 1; }
  grep -E "stat::number_of_executed_units|Done" build-fuzz/fuzz.log | tail -2 >&2
  rm -rf "$corpus"
  # Chart lists (CSV, JSON Lines): a third of the time.
  corpus=$(mktemp -d)
  cp tests/fuzz-corpus-chart/* "$corpus"/
  echo "fuzz: chart parsing for $((seconds / 3))s" >&2
  ./build-fuzz/fuzz/fuzz_chart -max_total_time=$((seconds / 3)) -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 "$corpus" 2> build-fuzz/fuzz-chart.log || { tail -50 build-fuzz/fuzz-chart.log; exit 1; }
  grep -E "stat::number_of_executed_units|Done" build-fuzz/fuzz-chart.log | tail -2 >&2
  rm -rf "$corpus"
  # DNA/target JSON, feedback events, --filter expressions, error bodies; then raw HTTP
  # answers of the two remote services from a loopback server: a third of the time each.
  for target in readers http; do
    corpus=$(mktemp -d)
    cp tests/fuzz-corpus-$target/* "$corpus"/
    echo "fuzz: $target for $((seconds / 3))s" >&2
    LSAN_OPTIONS=suppressions=$PWD/fuzz/lsan.supp ./build-fuzz/fuzz/fuzz_$target -max_total_time=$((seconds / 3)) -max_len=8192 -timeout=20 \
      -rss_limit_mb=2048 -print_final_stats=1 "$corpus" 2> build-fuzz/fuzz-$target.log || { tail -50 build-fuzz/fuzz-$target.log; exit 1; }
    grep -E "stat::number_of_executed_units|Done" build-fuzz/fuzz-$target.log | tail -2 >&2
    rm -rf "$corpus"
  done
fi
