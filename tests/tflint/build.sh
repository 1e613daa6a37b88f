#!/usr/bin/env bash
# Builds the Go peer of the TFLint tests from a pinned module only:
#   tflint   TFLint v0.64.0 (module tflint/), which bundles the terraform ruleset
#            (tflint-ruleset-terraform v0.15.0) and loads ruleset plugins through go-plugin
#
# It is built once per machine into a cache outside the repository, keyed by the sha256 of the
# module's go.mod and go.sum:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/go-plugin-rs/tflint/<sha256>/tflint
# and reused while present. A cold build took 203 s and 0.84 GB of memory (largest process) on a
# busy 2-core machine at nice 19, filling ~0.7 GB of Go's build cache; with that cache warm it takes
# seconds. Safe to run concurrently (a lock file per cache directory).
#
# Prints on stdout:
#   tflint PATH               the binary
#   plugin-sdk DIR            tflint-plugin-sdk v0.25.0 in Go's module cache (the protocol the
#                             tests check our declarations against:
#                             DIR/plugin/internal/proto/tflint.proto; read there, never copied)
#   ruleset-terraform DIR     tflint-ruleset-terraform v0.15.0 in Go's module cache (the rules
#                             the Rust ruleset must report exactly as)
# Progress and timings go to stderr.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
module=$here/tflint
cache=${XDG_CACHE_HOME:-$HOME/.cache}/go-plugin-rs

step() { printf '==> %s\n' "$*" >&2; }

want=$(awk '$1 == "go" { print $2; exit }' "$module/go.mod")
if ! command -v go >/dev/null; then
  printf 'the TFLint tests need the Go toolchain, which is missing: install Go %s or newer (https://go.dev/dl) and rerun\n' \
    "$want" >&2
  exit 1
fi
have=$(go env GOVERSION)
have=${have#go}
if [[ $(printf '%s\n%s\n' "$want" "$have" | sort -V | head -n1) != "$want" ]]; then
  printf 'tests/tflint/tflint/go.mod needs Go %s or newer, and go is %s: install a newer Go (https://go.dev/dl) and rerun\n' \
    "$want" "$have" >&2
  exit 1
fi

# -mod=readonly makes a go.mod or go.sum that does not cover the build an error instead of a
# silent download of something unpinned; GOTOOLCHAIN=local keeps go from fetching another
# toolchain; -trimpath and CGO_ENABLED=0 as TFLint's release builds (goreleaser) use them.
export GOFLAGS="-mod=readonly -buildvcs=false ${GOFLAGS:-}"
export GOTOOLCHAIN=local
export CGO_ENABLED=0

key=$(cat "$module/go.mod" "$module/go.sum" | sha256sum | cut -d' ' -f1)
dir=$cache/tflint/$key
out=$dir/tflint
mkdir -p "$dir"
started=$(date +%s.%N)
elapsed() { awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'; }
{
  flock 9
  if [[ -x $out ]]; then
    step "tflint: cached, $out ($(elapsed) s)"
  else
    step "tflint: go build github.com/terraform-linters/tflint (a cold build takes minutes)"
    (cd "$module" && go build -trimpath -ldflags "-s -w" -o "$out.tmp" github.com/terraform-linters/tflint)
    mv -f "$out.tmp" "$out"
    step "tflint: built in $(elapsed) s, $out"
  fi
} 9>"$dir/.lock"
printf 'tflint %s\n' "$out"

# module_dir PATH: the module's directory in Go's module cache, downloaded if absent (the
# version is the one go.mod pins; go.sum verifies it).
module_dir() {
  (cd "$module" && go mod download "$1" && go list -m -f '{{.Dir}}' "$1")
}
printf 'plugin-sdk %s\n' "$(module_dir github.com/terraform-linters/tflint-plugin-sdk)"
printf 'ruleset-terraform %s\n' "$(module_dir github.com/terraform-linters/tflint-ruleset-terraform)"
