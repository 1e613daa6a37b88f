#!/usr/bin/env bash
# Sets up Wine to run the workspace's programs built for Windows (x86_64-pc-windows-gnu) in tests
# on this Linux machine: Wine and MinGW (installed when missing, as root), and a Wine prefix with
# the stand-in bcryptprimitives.dll that Rust programs need under Wine 8.0 (bcryptprimitives.c).
#
# The prefix is made once per machine, in a cache outside the repository keyed by Wine's version:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/go-plugin-rs/wine-<version>/prefix
# A cold set-up (`wineboot --init`) takes ~12 s and ~700 MB; warm, it checks and prints. The DLL is
# rebuilt when bcryptprimitives.c changes. Safe to run concurrently (a lock file).
#
# Prints on stdout the environment to run programs with, one `export NAME='VALUE'` a line, for
# `eval "$(tests/windows/setup.sh)"` or for a test to read:
#   WINE              Wine's 64-bit loader: `$WINE program.exe args…`
#   WINEPREFIX        the prefix
#   WINEDEBUG         -all: Wine's own diagnostics would mix with the programs' stderr
#   WINEDLLOVERRIDES  mscoree,mshtml= : no prompts to install Mono and Gecko, which tests never use
#   CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER   MinGW's gcc, to link Rust programs for Windows
# Progress goes to stderr.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
step() { printf '==> %s\n' "$*" >&2; }

# Debian's `wine64` is the loader (/usr/lib/wine/wine64, called directly: the `wine` wrapper
# complains about the missing 32-bit Wine, which 64-bit programs do not need); MinGW builds the
# DLL and links Rust programs for the gnu target.
packages=()
[[ -x /usr/lib/wine/wine64 ]] || packages+=(wine64)
command -v x86_64-w64-mingw32-gcc >/dev/null || packages+=(gcc-mingw-w64-x86-64)
if ((${#packages[@]})); then
  step "installing ${packages[*]} (Wine to run Windows programs, MinGW to build them): ~1 GB"
  sudo=()
  ((EUID == 0)) || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    "${packages[@]}" >/dev/null
fi
wine=/usr/lib/wine/wine64

version=$("$wine" --version)
version=${version%% *}
version=${version#wine-}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/go-plugin-rs/wine-$version
prefix=$cache/prefix
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9

export WINEPREFIX=$prefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
started=$SECONDS

# The marker is written after wineboot succeeds: a prefix left half-made by an interrupted run is
# made again.
if [[ ! -f $prefix/.initialised ]]; then
  step "wine $version: making the prefix $prefix (wineboot --init, ~12 s)"
  rm -rf "$prefix"
  # Its messages (the missing 32-bit Wine, the prefix "updated") are noise unless it fails.
  if ! "$wine" wineboot --init >"$cache/wineboot.log" 2>&1; then
    cat "$cache/wineboot.log" >&2
    exit 1
  fi
  # Wait for the prefix's registry to be written out before it counts as made.
  /usr/lib/wine/wineserver -w
  touch "$prefix/.initialised"
fi

dll=$prefix/drive_c/windows/system32/bcryptprimitives.dll
source_sum=$(sha256sum "$here/bcryptprimitives.c" | cut -d' ' -f1)
if [[ ! -f $dll || $(cat "$prefix/.bcryptprimitives.sha256" 2>/dev/null) != "$source_sum" ]]; then
  step "building the stand-in bcryptprimitives.dll (ProcessPrng) into the prefix"
  x86_64-w64-mingw32-gcc -O2 -Wall -Wextra -Werror -shared -o "$dll.tmp" \
    "$here/bcryptprimitives.c" -ladvapi32
  mv -f "$dll.tmp" "$dll"
  echo "$source_sum" >"$prefix/.bcryptprimitives.sha256"
fi
step "wine $version prefix ready: $prefix ($((SECONDS - started)) s)"

for name in WINE WINEPREFIX WINEDEBUG WINEDLLOVERRIDES CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER; do
  case $name in
    WINE) value=$wine ;;
    CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER) value=$(command -v x86_64-w64-mingw32-gcc) ;;
    *) value=${!name} ;;
  esac
  [[ $value != *"'"* ]] || { echo "$name has a quote: $value" >&2; exit 1; }
  printf "export %s='%s'\n" "$name" "$value"
done
