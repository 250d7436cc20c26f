#!/usr/bin/env bash
# Installs the Debian 12 packages that hitdna needs.
#   scripts/install-deps.sh          build + runtime packages
#   scripts/install-deps.sh --test   also the packages the test suite and benchmarks use
# Works as root or through sudo; does nothing for packages already installed.
set -euo pipefail

build_pkgs=(
  build-essential cmake pkg-config ninja-build
  libcli11-dev libsndfile1-dev libkissfft-dev libeigen3-dev libhnswlib-dev
  libsqlite3-dev libcurl4-openssl-dev nlohmann-json3-dev doctest-dev
  libsoxr-dev libebur128-dev libtag1-dev libxxhash-dev libxgboost-dev liburing-dev
  libfluidsynth-dev fluid-soundfont-gm timgm6mb-soundfont
  ffmpeg python3 python3-jsonschema
)
test_pkgs=(
  python3 python3-jsonschema
  aubio-tools sox fluidsynth timgm6mb-soundfont fluid-soundfont-gm
  mma abcmidi python3-mido libchromaprint-tools python3-mir-eval
  espeak-ng python3-numpy
  clang libclang-rt-14-dev
  chromium universal-ctags
)

want=("${build_pkgs[@]}")
if [[ "${1:-}" == "--test" ]]; then want+=("${test_pkgs[@]}"); fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#want[@]} packages present" >&2
  exit 0
fi

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: not root and no sudo; install: ${missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]}" >&2
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
