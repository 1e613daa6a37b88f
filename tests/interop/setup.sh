#!/usr/bin/env bash
# Builds what the interop tests (tests/interop.rs) run against, from pinned
# versions only: go-plugin's example programs and our Go peers at go-plugin
# v1.8.0 and v1.4.10, the protoc plugins for Go, a Python virtualenv with
# grpcio, and Python stubs for our protos. The tests call this once per run;
# it is also fine to run by hand. Idempotent (Go's build cache, a marker file
# for the virtualenv) and safe to run concurrently (a lock file).
#
# The Go programs and the virtualenv are built once per machine, into a cache outside the
# repository keyed by everything they are built from (this script, the Go modules and sources
# under tests/interop, requirements.txt, the go and python3 versions):
#   ${XDG_CACHE_HOME:-$HOME/.cache}/go-plugin-rs/interop/<sha256>/{bin,venv}
# and the target directory links to them, so a fresh clone reuses them. The Python stubs are made
# from this checkout's protos every time.
#
# Layout, under the cargo target directory:
#   interop-bin/go18/  grpc plugin-go-grpc plugin-go-netrpc negotiated plugin-go host plugin loadhost
#   interop-bin/go18/bidirectional/  bidirectional plugin-go-grpc counterhost
#   interop-bin/go18/streaming/  streaming plugin/streamer
#   interop-bin/go14/  grpc plugin-go-grpc plugin-go-netrpc negotiated host plugin
#   interop-bin/go14/bidirectional/  bidirectional plugin-go-grpc
#   interop-bin/otel/  otelhost otelplugin (gootel: go-plugin v1.8.0 with otelgrpc)
#   interop-bin/tools/ protoc-gen-go protoc-gen-go-grpc grpcurl
#   interop-venv/      python with requirements.txt installed
#   interop-gen/python/ grpc_controller_pb2*.py grpc_stdio_pb2*.py grpc_broker_pb2*.py kv_pb2*.py
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
target=${CARGO_TARGET_DIR:-$repo/target}
case $target in /*) ;; *) target=$repo/$target ;; esac

missing=()
command -v go >/dev/null || missing+=("go (the Go toolchain, 1.24 or newer: https://go.dev/dl)")
if ! command -v python3 >/dev/null; then
  missing+=("python3 (3.9 or newer, with the venv module; Debian: apt-get install python3 python3-venv)")
elif ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
  missing+=("python3's venv module (Debian: apt-get install python3-venv)")
fi
if ((${#missing[@]})); then
  printf 'the interop tests need these tools, which are missing: install them and rerun\n' >&2
  printf '  - %s\n' "${missing[@]}" >&2
  exit 1
fi

mkdir -p "$target"
exec 9>"$target/interop-setup.lock"
flock 9

key=$( {
  go env GOVERSION
  python3 --version
  cd "$here" && find setup.sh python/requirements.txt go18 go14 goprogs gootel grpcurl gotools \
    -type f ! -path '*/bin/*' -print0 | sort -z | xargs -0 sha256sum
} | sha256sum | cut -d' ' -f1)
cached=${XDG_CACHE_HOME:-$HOME/.cache}/go-plugin-rs/interop/$key
mkdir -p "$cached"
exec 8>"$cached/.lock"
flock 8
bin=$cached/bin
venv=$cached/venv
gen=$target/interop-gen
# The target directory's names for them (a directory there from before the cache goes).
for link in interop-bin:"$bin" interop-venv:"$venv"; do
  name=$target/${link%%:*}
  if [[ -e $name && ! -L $name ]]; then rm -rf "$name"; fi
  ln -sfn "${link#*:}" "$name"
done

step() { printf '==> %s\n' "$*" >&2; }

# Go: -mod=readonly makes a go.mod or go.sum that does not cover a build an
# error instead of a silent download of something unpinned.
export GOFLAGS="-mod=readonly -buildvcs=false ${GOFLAGS:-}"
examples=(
  github.com/hashicorp/go-plugin/examples/grpc
  github.com/hashicorp/go-plugin/examples/grpc/plugin-go-grpc
  github.com/hashicorp/go-plugin/examples/grpc/plugin-go-netrpc
  github.com/hashicorp/go-plugin/examples/negotiated
)
ours=(interop/goprogs/cmd/host interop/goprogs/cmd/plugin)

go_programs() {
  step "go build: go-plugin v1.8.0 examples and our Go peers"
  (cd "$here/go18" && go build -o "$bin/go18/" "${examples[@]}" \
    github.com/hashicorp/go-plugin/examples/negotiated/plugin-go "${ours[@]}" \
    interop/goprogs/cmd/loadhost)
  # examples/bidirectional's plugin has the same name as examples/grpc's: a directory of its own.
  bidirectional=(
    github.com/hashicorp/go-plugin/examples/bidirectional
    github.com/hashicorp/go-plugin/examples/bidirectional/plugin-go-grpc
  )
  (cd "$here/go18" && go build -o "$bin/go18/bidirectional/" "${bidirectional[@]}" \
    interop/goprogs/cmd/counterhost)
  # examples/streaming (since v1.6): its host runs ./plugin/streamer from its working directory.
  (cd "$here/go18" && go build -o "$bin/go18/streaming/" \
    github.com/hashicorp/go-plugin/examples/streaming \
    && go build -o "$bin/go18/streaming/plugin/streamer" \
      github.com/hashicorp/go-plugin/examples/streaming/plugin)
  step "go build: go-plugin v1.4.10 examples and our Go peers"
  (cd "$here/go14" && go build -o "$bin/go14/" "${examples[@]}" "${ours[@]}")
  (cd "$here/go14" && go build -o "$bin/go14/bidirectional/" "${bidirectional[@]}")
  step "go build: OpenTelemetry trace-context host and plugin (go-plugin v1.8.0, otelgrpc)"
  (cd "$here/gootel" && go build -o "$bin/otel/" ./cmd/otelhost ./cmd/otelplugin)
  step "go build: grpcurl"
  (cd "$here/grpcurl" && go build -o "$bin/tools/" github.com/fullstorydev/grpcurl/cmd/grpcurl)
  step "go build: protoc-gen-go, protoc-gen-go-grpc"
  (cd "$here/gotools" && go build -o "$bin/tools/" \
    google.golang.org/protobuf/cmd/protoc-gen-go google.golang.org/grpc/cmd/protoc-gen-go-grpc)
}
# Marked complete only once every program is built: a build cut short is redone.
if [[ -f $bin/.complete ]]; then
  step "go programs: cached, $bin"
else
  rm -rf "$bin"
  go_programs
  touch "$bin/.complete"
fi

# The marker records what the venv was made from: this python3 and requirements.txt.
marker=$venv/.interop-requirements
wanted=$(python3 --version; cat "$here/python/requirements.txt")
if [[ ! -x $venv/bin/python || "$(cat "$marker" 2>/dev/null)" != "$wanted" ]]; then
  step "python venv: $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    --no-input -r "$here/python/requirements.txt" >&2
  printf '%s\n' "$wanted" >"$marker"
fi

step "python stubs: $gen/python"
rm -rf "$gen/python.tmp"
mkdir -p "$gen/python.tmp"
wkt=$("$venv/bin/python" -c 'import grpc_tools, os; print(os.path.join(os.path.dirname(grpc_tools.__file__), "_proto"))')
(cd "$repo/proto/plugin" && "$venv/bin/python" -m grpc_tools.protoc -I. -I"$wkt" \
  --python_out="$gen/python.tmp" --grpc_python_out="$gen/python.tmp" \
  grpc_broker.proto grpc_controller.proto grpc_stdio.proto)
(cd "$repo/proto/examples" && "$venv/bin/python" -m grpc_tools.protoc -I. \
  --python_out="$gen/python.tmp" --grpc_python_out="$gen/python.tmp" kv.proto)
rm -rf "$gen/python"
mv "$gen/python.tmp" "$gen/python"
step "interop set-up done"
