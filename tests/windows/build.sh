#!/usr/bin/env bash
# Builds what tests/windows.rs runs under Wine, and prints where it is, one `NAME=value` a line:
#   WINE, WINEPREFIX, WINEDEBUG, WINEDLLOVERRIDES   from setup.sh (Wine and its prefix)
#   WINDOWS_BIN   our programs for x86_64-pc-windows-gnu: win-host.exe, win-plugin.exe (this
#                 folder's package), kv.exe, kv-plugin.exe (the examples)
#   WINDOWS_GO    Go programs for Windows, at go-plugin v1.8.0: host.exe (tests/interop/goprogs's
#                 KV host) and plugin-go-grpc.exe (go-plugin's examples/grpc plugin)
# Progress goes to stderr. Rust for Windows is built with Debian's Rust and its std sources
# (-Zbuild-std), in a target directory per machine and toolchain beside scripts/check-targets'
# (~/.cache/go-plugin-rs/cross-<rustc version>/windows-build): the first build takes about 5
# minutes (std, aws-lc with MinGW), later ones only what changed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo"
step() { printf '==> %s\n' "$*" >&2; }

wine_env=$("$here/setup.sh")
eval "$wine_env"

need_mingw=1
# shellcheck source=../../scripts/cross/toolchain.sh
source scripts/cross/toolchain.sh

# A target directory beside scripts/check-targets' one, not that one: its checks and these builds
# each rebuild much of what the other left there (the same std and dependencies, built for
# `check` and for `build`).
target_dir=$(dirname "$target_dir")/windows-build
# One build at a time (scripts/test-all starts one beside the tests, which start their own).
mkdir -p "$target_dir"
exec 8>"$target_dir/.windows-build.lock"
flock 8

triple=x86_64-pc-windows-gnu
step "cargo build --target $triple (Debian's rustc, std from source): win-host, win-plugin, kv, kv-plugin"
# Not linted here (scripts/check-targets lints), and not with the workspace's wrapper, which
# scripts/test-all sets for rustup's toolchain. The dev profile as scripts/check-targets uses it:
# std and the dependencies built with another profile would be rebuilt for each in turn.
env -u RUSTC_WORKSPACE_WRAPPER -u CLIPPY_ARGS -u CARGO_INCREMENTAL \
  RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$target_dir" \
  CC_x86_64_pc_windows_gnu=x86_64-w64-mingw32-gcc AR_x86_64_pc_windows_gnu=x86_64-w64-mingw32-ar \
  AWS_LC_SYS_PREBUILT_NASM=1 \
  /usr/bin/cargo build -q -Zbuild-std=std,panic_abort --target "$triple" \
  -p windows-tests -p examples --bin win-host --bin win-plugin --bin kv --bin kv-plugin >&2

command -v go >/dev/null || { echo "missing go (the Go toolchain, https://go.dev/dl)" >&2; exit 1; }
go_bin=$target_dir/windows-go
mkdir -p "$go_bin"
step "go build (GOOS=windows): tests/interop's KV host, go-plugin v1.8.0's examples/grpc plugin"
(cd tests/interop/go18 && GOOS=windows GOARCH=amd64 CGO_ENABLED=0 \
  GOFLAGS="-mod=readonly -buildvcs=false" go build -o "$go_bin/" interop/goprogs/cmd/host \
  github.com/hashicorp/go-plugin/examples/grpc/plugin-go-grpc) >&2

for name in WINE WINEPREFIX WINEDEBUG WINEDLLOVERRIDES; do
  printf '%s=%s\n' "$name" "${!name}"
done
printf 'WINDOWS_BIN=%s\n' "$target_dir/$triple/debug"
printf 'WINDOWS_GO=%s\n' "$go_bin"
