"""The smallest go-plugin KV plugin: what go-plugin's guide for plugins written without Go
(docs/guide-plugin-write-non-go.md) asks for, and nothing more.

It serves the KV service and the gRPC health service ("plugin" = SERVING) on TCP, prints the
guide's five-field handshake line `1|1|tcp|ADDRESS|grpc` and waits. It has no GRPCController
(so a host can only end it by killing it) and no GRPCStdio; it checks no magic cookie and
ignores the offered versions. Hosts must cope with all of that.

The port is chosen by the OS instead of the guide's fixed 1234, so tests can run in parallel.
"""

import time
from concurrent import futures

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

import kv_pb2
import kv_pb2_grpc


class KVServicer(kv_pb2_grpc.KVServicer):
    def Get(self, request, context):
        with open("kv_" + request.key, "rb") as f:
            return kv_pb2.GetResponse(value=f.read())

    def Put(self, request, context):
        with open("kv_" + request.key, "wb") as f:
            f.write(request.value + b"\n\nWritten from plugin-python-minimal")
        return kv_pb2.Empty()


def main():
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=10))
    kv_pb2_grpc.add_KVServicer_to_server(KVServicer(), server)
    health_servicer = health.HealthServicer()
    health_servicer.set("plugin", health_pb2.HealthCheckResponse.ServingStatus.Value("SERVING"))
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()

    print("1|1|tcp|127.0.0.1:%d|grpc" % port, flush=True)
    while True:
        time.sleep(60)


if __name__ == "__main__":
    main()
