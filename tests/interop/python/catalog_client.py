"""Calls a plugin serving catalog.Catalog with nothing but the Python stubs grpcio-tools generates
from the .proto text `catalog-plugin proto` prints (catalog_pb2, catalog_pb2_grpc, found through
PYTHONPATH), speaking the go-plugin handshake itself: nested messages, enums, maps, optional
fields and a server stream. (The Total callback needs go-plugin's broker, which a plain grpcio
client does not serve; the Go host covers it.)

Usage: python catalog_client.py PLUGIN — prints one line per call, in the form of the Go host.
"""

import os
import subprocess
import sys
import threading

import grpc

import catalog_pb2
import catalog_pb2_grpc


def shade(value):
    return catalog_pb2.Shade.Name(value)


def sorted_map(values, show=str):
    return "{" + ",".join("%s=%s" % (key, show(values[key])) for key in sorted(values)) + "}"


def item(it):
    parts = ",".join("%d:%s" % (part.id, shade(part.shade)) for part in it.parts)
    main = "%d:%s" % (it.main.id, shade(it.main.shade)) if it.HasField("main") else "none"
    return "%s parts=[%s] counts=%s main=%s labels=%s" % (
        it.name,
        parts,
        sorted_map(it.counts),
        main,
        sorted_map(it.labels, shade),
    )


def main(plugin):
    env = dict(os.environ, BASIC_PLUGIN="hello", PLUGIN_PROTOCOL_VERSIONS="1")
    process = subprocess.Popen([plugin], env=env, stdout=subprocess.PIPE)
    try:
        handshake = process.stdout.readline().decode().strip()
        threading.Thread(target=process.stdout.read, daemon=True).start()
        parts = handshake.split("|")
        if len(parts) < 5 or parts[0] != "1" or parts[1] != "1" or parts[4] != "grpc":
            sys.exit("unexpected handshake line %r" % handshake)
        target = "unix:" + parts[3] if parts[2] == "unix" else parts[3]

        with grpc.insecure_channel(target) as channel:
            catalog = catalog_pb2_grpc.CatalogStub(channel)
            described = catalog.Describe(
                catalog_pb2.DescribeRequest(
                    item=catalog_pb2.Item(
                        name="box",
                        parts=[
                            catalog_pb2.Part(id=1, shade=catalog_pb2.SHADE_DARK),
                            catalog_pb2.Part(id=2, shade=catalog_pb2.SHADE_LIGHT),
                        ],
                        counts={"a": 1},
                        main=catalog_pb2.Part(id=9, shade=catalog_pb2.SHADE_LIGHT),
                        labels={"old": catalog_pb2.SHADE_LIGHT},
                    ),
                    shade=catalog_pb2.SHADE_DARK,
                    tags={"x": catalog_pb2.SHADE_LIGHT, "y": catalog_pb2.SHADE_DARK},
                    also=[catalog_pb2.SHADE_DARK, catalog_pb2.SHADE_LIGHT, catalog_pb2.SHADE_DARK],
                    maybe=catalog_pb2.SHADE_UNSPECIFIED,
                ),
                timeout=10,
            )
            print("describe:", item(described.value))
            listed = catalog.List(catalog_pb2.ListRequest(prefix="it", count=3), timeout=10)
            print("list:", " | ".join(item(response.value) for response in listed))
    finally:
        process.kill()
        process.wait()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: catalog_client.py PLUGIN")
    main(sys.argv[1])
