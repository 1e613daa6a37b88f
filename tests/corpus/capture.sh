#!/usr/bin/env bash
# Captures what real go-plugin v1.8.0 and v1.4.10 plugins print, as seeds for the hostile-input
# tests (tests/hostile.rs). Run it after tests/interop/setup.sh has built the Go programs:
#
#   CARGO_TARGET_DIR=… bash tests/interop/setup.sh && CARGO_TARGET_DIR=… bash tests/corpus/capture.sh
#
# For each version it writes, into tests/corpus/go18/ and tests/corpus/go14/:
#   handshake-*.txt   the plugin's stdout (the handshake line, or the reattach JSON in debug mode)
#   stderr-*.log      the plugin's stderr (hclog JSON lines, or go-plugin's plain text)
# Socket paths, ports, pids, timestamps and certificates differ from run to run; nothing else does.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
target=${CARGO_TARGET_DIR:-$repo/target}
bin=$target/interop-bin
grpcurl=$bin/tools/grpcurl
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A PEM for PLUGIN_CLIENT_CERT, as a go-plugin host makes one for AutoMTLS (ECDSA P-521).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-521 -nodes -subj /CN=localhost \
  -days 1 -keyout "$work/host.key" -out "$work/host.pem" 2>/dev/null

# run NAME PROGRAM [ENV…]: starts PROGRAM with the examples' cookie and ENV, waits for its first
# stdout line, lets CALL (a function, optional) talk to it, then ends it with SIGTERM after CALL
# or at once, and keeps stdout and stderr.
run() {
  local out=$1 name=$2 program=$3
  shift 3
  rm -f "$work/stdout" "$work/stderr"
  (cd "$work" && exec env BASIC_PLUGIN=hello PLUGIN_PROTOCOL_VERSIONS=1 "$@" "$program" \
    >"$work/stdout" 2>"$work/stderr" </dev/null) &
  local pid=$!
  for _ in $(seq 100); do
    [[ -s $work/stdout ]] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  if [[ ${CALL:-} ]]; then "$CALL" "$(head -n1 "$work/stdout")"; fi
  sleep 0.2
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  cp "$work/stdout" "$out/handshake-$name.txt"
  cp "$work/stderr" "$out/stderr-$name.log"
}

# One Put through grpcurl, so our Go plugin logs a record at each level (handshake address field 4).
put() {
  local socket
  socket=$(cut -d'|' -f4 <<<"$1")
  "$grpcurl" -plaintext -unix -import-path "$repo/proto/examples" -proto kv.proto \
    -d '{"key":"hello","value":"d29ybGQ="}' "$socket" proto.KV/Put >/dev/null
}

for version in go18 go14; do
  out=$here/$version
  mkdir -p "$out"
  run "$out" grpc "$bin/$version/plugin-go-grpc"
  run "$out" netrpc "$bin/$version/plugin-go-netrpc"
  run "$out" automtls "$bin/$version/plugin-go-grpc" PLUGIN_CLIENT_CERT="$(cat "$work/host.pem")"
  run "$out" no-cookie "$bin/$version/plugin-go-grpc" BASIC_PLUGIN=
  run "$out" versions-2-3 "$bin/$version/plugin-go-grpc" PLUGIN_PROTOCOL_VERSIONS=2,x,3
  CALL=put run "$out" put "$bin/$version/plugin"
  run "$out" debug "$bin/$version/plugin" GOPLUGIN_DEBUG=1
done
run "$here/go18" multiplex "$bin/go18/plugin-go-grpc" PLUGIN_MULTIPLEX_GRPC=1
# go-plugin v1.4.10 predates multiplexing: it ignores the variable.
run "$here/go14" multiplex "$bin/go14/plugin-go-grpc" PLUGIN_MULTIPLEX_GRPC=1
