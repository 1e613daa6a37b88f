"""Talks to a go-plugin KV plugin with nothing but the Python stubs that grpcio-tools generates
from the .proto text `kv proto` prints (kv_pb2, kv_pb2_grpc, found through PYTHONPATH), speaking
the go-plugin handshake itself.

Usage: python kv_client.py PLUGIN KEY VALUE — starts PLUGIN in the current directory, puts VALUE
under KEY, gets it back and writes it to stdout exactly (no newline added).
"""

import os
import subprocess
import sys
import threading

import grpc

import kv_pb2
import kv_pb2_grpc


def main(plugin, key, value):
    env = dict(os.environ, BASIC_PLUGIN="hello", PLUGIN_PROTOCOL_VERSIONS="1")
    process = subprocess.Popen([plugin], env=env, stdout=subprocess.PIPE)
    try:
        handshake = process.stdout.readline().decode().strip()
        # Whatever the plugin writes to stdout later is drained, so it never blocks.
        threading.Thread(target=process.stdout.read, daemon=True).start()
        parts = handshake.split("|")
        if len(parts) < 5 or parts[0] != "1" or parts[1] != "1" or parts[4] != "grpc":
            sys.exit("unexpected handshake line %r" % handshake)
        if parts[2] == "unix":
            target = "unix:" + parts[3]
        elif parts[2] == "tcp":
            target = parts[3]
        else:
            sys.exit("unknown network %r in %r" % (parts[2], handshake))

        # grpcio's default options, as a user's host has them: on a unix socket grpcio (since
        # 1.57) sends the percent-encoded socket path as :authority (grpc/grpc#38142), which h2
        # servers reject (hyperium/h2#487) and ours accepts, as grpc-go does.
        with grpc.insecure_channel(target) as channel:
            kv = kv_pb2_grpc.KVStub(channel)
            kv.Put(kv_pb2.PutRequest(key=key, value=value.encode()), timeout=10)
            response = kv.Get(kv_pb2.GetRequest(key=key), timeout=10)
        sys.stdout.buffer.write(response.value)
        sys.stdout.flush()
    finally:
        process.kill()
        process.wait()


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: kv_client.py PLUGIN KEY VALUE")
    main(*sys.argv[1:])
