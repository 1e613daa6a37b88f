#!/usr/bin/env bash
# Builds the Go peers of the OpenTofu tests (tests/opentofu.rs) from pinned modules only:
#   tofu                     OpenTofu v1.12.6 (module tofu/: our go.mod repeats OpenTofu's replace
#                            and godebug lines, which only count in the main module)
#   terraform-provider-time  hashicorp/terraform-provider-time v0.14.2 (module time/)
#
# Each is built once per machine into a cache outside the repository, keyed by the sha256 of its
# module's go.mod and go.sum:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/go-plugin-rs/opentofu/<sha256>/tofu
#   ${XDG_CACHE_HOME:-$HOME/.cache}/go-plugin-rs/terraform-provider-time/<sha256>/terraform-provider-time
# and reused while present. A cold tofu build takes about 7 minutes and 1.8 GB of memory on a
# 2-core machine (the module download ~1.4 GB of disk, Go's build cache ~1.6 GB); with Go's build
# cache warm it takes seconds. Safe to run concurrently (one lock file per binary).
#
# Prints one line per binary on stdout, `NAME PATH`, and `plugin-protocol DIR`: OpenTofu's
# protocol definitions (docs/plugin-protocol/tfplugin*.proto) in Go's module cache, which the tests
# check our message declarations against (read there, never copied: they are MPL-2.0). Progress
# and timings go to stderr.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/go-plugin-rs

step() { printf '==> %s\n' "$*" >&2; }

if ! command -v go >/dev/null; then
  printf 'the OpenTofu tests need the Go toolchain, which is missing: install Go 1.26.8 or newer (https://go.dev/dl) and rerun\n' >&2
  exit 1
fi
have=$(go env GOVERSION)
have=${have#go}
for module in tofu time; do
  want=$(awk '$1 == "go" { print $2; exit }' "$here/$module/go.mod")
  if [[ $(printf '%s\n%s\n' "$want" "$have" | sort -V | head -n1) != "$want" ]]; then
    printf 'tests/opentofu/%s/go.mod needs Go %s or newer, and go is %s: install a newer Go (https://go.dev/dl) and rerun\n' \
      "$module" "$want" "$have" >&2
    exit 1
  fi
done

# -mod=readonly makes a go.mod or go.sum that does not cover the build an error instead of a
# silent download of something unpinned; -trimpath and CGO_ENABLED=0 as both projects' release
# builds use them.
export GOFLAGS="-mod=readonly -buildvcs=false ${GOFLAGS:-}"
export CGO_ENABLED=0

# build NAME MODULE_DIR CACHE_NAME PACKAGE [LDFLAGS]: prints `NAME PATH`.
build() {
  local name=$1 module=$2 cache_name=$3 package=$4 ldflags=${5:-}
  local key dir out started elapsed
  key=$(cat "$here/$module/go.mod" "$here/$module/go.sum" | sha256sum | cut -d' ' -f1)
  dir=$cache/$cache_name/$key
  out=$dir/$name
  mkdir -p "$dir"
  started=$(date +%s.%N)
  {
    flock 9
    if [[ -x $out ]]; then
      elapsed=$(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
      step "$name: cached, $out (${elapsed} s)"
    else
      step "$name: go build $package (a cold build of tofu takes minutes)"
      (cd "$here/$module" && go build -trimpath -ldflags "-s -w $ldflags" -o "$out.tmp" "$package")
      mv -f "$out.tmp" "$out"
      elapsed=$(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
      step "$name: built in ${elapsed} s, $out"
    fi
  } 9>"$dir/.lock"
  printf '%s %s\n' "$name" "$out"
}

build tofu tofu opentofu github.com/opentofu/opentofu/cmd/tofu \
  "-X 'github.com/opentofu/opentofu/version.dev=no'"
build terraform-provider-time time terraform-provider-time github.com/hashicorp/terraform-provider-time

protocol=$(cd "$here/tofu" && go mod download github.com/opentofu/opentofu &&
  go list -m -f '{{.Dir}}' github.com/opentofu/opentofu)/docs/plugin-protocol
printf 'plugin-protocol %s\n' "$protocol"
