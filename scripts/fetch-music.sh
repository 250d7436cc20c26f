#!/usr/bin/env bash
# Fetches freely licensed recordings shipped in Debian packages (apt-get download, no root
# needed) and extracts them under $HITDNA_MUSIC_DIR (default ~/.cache/hitdna/music/<package>/).
#   scripts/fetch-music.sh --demo   singularity-music (13 songs, CC-BY-SA-3.0)
#   scripts/fetch-music.sh --eval   every package named in data/eval/tempo_real.tsv
#   scripts/fetch-music.sh PKG...   the named packages
# Prints the music directory on stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
music=${HITDNA_MUSIC_DIR:-$HOME/.cache/hitdna/music}
mkdir -p "$music"

pkgs=()
case "${1:-}" in
  --demo) pkgs=(singularity-music) ;;
  --eval) mapfile -t pkgs < <(grep -v '^#' "$here/data/eval/tempo_real.tsv" | tail -n +2 | cut -f1 | sort -u) ;;
  "") echo "usage: $0 --demo | --eval | PACKAGE..." >&2; exit 2 ;;
  *) pkgs=("$@") ;;
esac

sudo_cmd=()
[[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null && sudo_cmd=(sudo)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for p in "${pkgs[@]}"; do
  [[ -f "$music/$p/.complete" ]] && continue
  echo "fetch-music: $p" >&2
  if ! (cd "$tmp" && apt-get download -qq "$p" >/dev/null 2>&1); then
    # A fresh machine may have no package lists yet.
    "${sudo_cmd[@]}" apt-get update -qq >/dev/null
    (cd "$tmp" && apt-get download -qq "$p" >/dev/null)
  fi
  rm -rf "$music/$p"
  mkdir -p "$music/$p"
  dpkg-deb -x "$tmp"/"$p"_*.deb "$music/$p"
  # Game archives (.pk3 = zip) hold music too: unpack X.pk3 into X.pk3.d/.
  while IFS= read -r -d '' z; do
    /usr/bin/python3 -m zipfile -e "$z" "$z.d" 2>/dev/null || true
  done < <(find "$music/$p" -name '*.pk3' -print0)
  # Keep audio and licence texts only.
  find "$music/$p" -type f ! \( -iname '*.ogg' -o -iname '*.opus' -o -iname '*.mp3' -o -iname '*.flac' -o -iname '*.wav' -o -iname '*.mid' -o -name copyright \) -delete
  find "$music/$p" -type d -empty -delete
  mkdir -p "$music/$p"
  touch "$music/$p/.complete"
  rm -f "$tmp"/*.deb
done
echo "$music"
