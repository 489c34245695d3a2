#!/usr/bin/env bash
# Assembles the SsprAdmin module for release: the module's files and the sspr binaries under
# bin/<os>-<arch>/ (mode 0755, so a zip or tarball keeps the execute bit).
#
#   bash powershell/build.sh --binary target/release/sspr --out dist
#   bash powershell/build.sh --binary linux/sspr --rid linux-x64 --binary win/sspr.exe --rid win-x64 --out dist
#
# Without --rid, a binary is taken to be this machine's. Writes <out>/SsprAdmin.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

usage() { echo "usage: $0 --binary PATH [--rid RID] [--binary PATH [--rid RID]]... --out DIR" >&2; exit 2; }

# This machine's runtime identifier, as the module's Get-SsprPlatform names it.
this_rid() {
  local os arch
  case "$(uname -s)" in
    Linux) os=linux ;;
    Darwin) os=osx ;;
    MINGW* | MSYS* | CYGWIN*) os=win ;;
    *) echo "unknown OS $(uname -s): give --rid" >&2; exit 2 ;;
  esac
  case "$(uname -m)" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "unknown architecture $(uname -m): give --rid" >&2; exit 2 ;;
  esac
  echo "$os-$arch"
}

binaries=()
rids=()
out=
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) [ $# -ge 2 ] || usage; binaries+=("$2"); rids+=(""); shift 2 ;;
    --rid) [ $# -ge 2 ] && [ ${#binaries[@]} -gt 0 ] || usage; rids[${#rids[@]}-1]="$2"; shift 2 ;;
    --out) [ $# -ge 2 ] || usage; out="$2"; shift 2 ;;
    *) usage ;;
  esac
done
[ -n "$out" ] && [ ${#binaries[@]} -gt 0 ] || usage

module="$out/SsprAdmin"
rm -rf "$module"
mkdir -p "$module"
cp -R "$here/SsprAdmin/." "$module/"
cp "$here/README.md" "$module/README.md"

for i in "${!binaries[@]}"; do
  binary="${binaries[$i]}"
  rid="${rids[$i]:-$(this_rid)}"
  [ -f "$binary" ] || { echo "no binary at $binary" >&2; exit 1; }
  case "$rid" in
    linux-x64 | linux-arm64 | osx-x64 | osx-arm64 | win-x64 | win-arm64) ;;
    *) echo "unknown runtime identifier $rid" >&2; exit 2 ;;
  esac
  name=sspr
  case "$rid" in win-*) name=sspr.exe ;; esac
  mkdir -p "$module/bin/$rid"
  install -m 0755 "$binary" "$module/bin/$rid/$name"
  echo "bundled $binary as bin/$rid/$name"
done
echo "assembled $module"
