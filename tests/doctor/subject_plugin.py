"""A go-plugin KV-less plugin in Python that does everything plugin-doctor checks, except the one
defect named by its argument, so that the doctor's tests can show each defect failing exactly
the checks that describe it.

    python subject_plugin.py [healthy|garbage|padded-cert|wrong-version|no-controller|never-exits|plain-stderr]

Done right (every defect but its own): go-plugin's cookie message and exit 1; version 1 chosen
from PLUGIN_PROTOCOL_VERSIONS (the lowest own version, 1, when not offered); a unix socket in
PLUGIN_UNIX_SOCKET_DIR; with PLUGIN_CLIENT_CERT, TLS requiring exactly that certificate and a
certificate of its own in the handshake (made with the openssl command); health "plugin" =
SERVING; GRPCController, GRPCStdio and GRPCBroker; no receive limit; hclog JSON on stderr;
SIGINT ignored; exits when its parent (the host) dies.

Stubs (grpc_controller_pb2, ...) come from tests/interop/setup.sh, through PYTHONPATH.
"""

import base64
import datetime
import json
import os
import select
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from concurrent import futures

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

import grpc_broker_pb2_grpc
import grpc_controller_pb2
import grpc_controller_pb2_grpc
import grpc_stdio_pb2_grpc

COOKIE_KEY = "BASIC_PLUGIN"
COOKIE_VALUE = "hello"
NOT_A_PLUGIN = (
    "This binary is a plugin. These are not meant to be executed directly.\n"
    "Please execute the program that consumes these plugins, which will\n"
    "load any plugins automatically\n"
)
DEFECTS = ("healthy", "garbage", "padded-cert", "wrong-version", "no-controller", "never-exits", "plain-stderr")
DEFECT = sys.argv[1] if len(sys.argv) > 1 else "healthy"


def log(level, message, **fields):
    if DEFECT == "plain-stderr":
        sys.stderr.write("%s: %s %s\n" % (level.upper(), message, fields))
    else:
        now = datetime.datetime.now(datetime.timezone.utc)
        record = {"@level": level, "@message": message, "@timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
        record.update(fields)
        sys.stderr.write(json.dumps(record) + "\n")
    sys.stderr.flush()


class Controller(grpc_controller_pb2_grpc.GRPCControllerServicer):
    def __init__(self, shutdown):
        self.shutdown = shutdown

    def Shutdown(self, request, context):
        log("debug", "shutdown requested")
        if DEFECT != "never-exits":
            self.shutdown.set()
        return grpc_controller_pb2.Empty()


class Stdio(grpc_stdio_pb2_grpc.GRPCStdioServicer):
    """Nothing is printed after the handshake; the stream stays open until the host leaves."""

    def StreamStdio(self, request, context):
        while context.is_active():
            time.sleep(0.05)
        return
        yield


class Broker(grpc_broker_pb2_grpc.GRPCBrokerServicer):
    """Serves nothing through the broker; reads the host's messages until it closes the stream."""

    def StartStream(self, request_iterator, context):
        for _ in request_iterator:
            pass
        return
        yield


def certificate():
    """A self-signed certificate in go-plugin's template (CA, SAN localhost), as (key, cert, DER);
    for the padded-cert defect, one whose DER length makes standard base64 padded."""
    directory = tempfile.mkdtemp(prefix="subject-cert-")
    key, cert = os.path.join(directory, "key.pem"), os.path.join(directory, "cert.pem")
    while True:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", key, "-out", cert, "-days", "2", "-subj", "/O=HashiCorp/CN=localhost",
             "-addext", "subjectAltName=DNS:localhost", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=digitalSignature,keyEncipherment,keyAgreement,keyCertSign",
             "-addext", "extendedKeyUsage=clientAuth,serverAuth"],
            check=True, capture_output=True)
        der = subprocess.run(["openssl", "x509", "-in", cert, "-outform", "DER"],
                             check=True, capture_output=True).stdout
        if DEFECT != "padded-cert" or len(der) % 3 != 0:
            with open(key, "rb") as k, open(cert, "rb") as c:
                return k.read(), c.read(), der


def serve_tls(public_path, inner_path, key, cert, client_cert):
    """TLS on public_path, in front of the gRPC server on inner_path, with Python's ssl module
    (OpenSSL): grpcio's own TLS (BoringSSL) does not offer ecdsa_secp521r1_sha512 for client
    certificates, so a host with go-plugin's P-521 certificate could not present it."""
    directory = tempfile.mkdtemp(prefix="subject-tls-")
    key_file, cert_file = os.path.join(directory, "key.pem"), os.path.join(directory, "cert.pem")
    with open(key_file, "wb") as k, open(cert_file, "wb") as c:
        k.write(key)
        c.write(cert)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    context.load_verify_locations(cadata=client_cert)
    context.verify_mode = ssl.CERT_REQUIRED
    context.set_alpn_protocols(["h2"])
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(public_path)
    listener.listen(16)

    def relay(connection):
        try:
            tls = context.wrap_socket(connection, server_side=True)
        except (OSError, ssl.SSLError):
            connection.close()
            return
        inner = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            inner.connect(inner_path)
            while True:
                ready = [tls] if tls.pending() else select.select([tls, inner], [], [])[0]
                for side in ready:
                    data = side.recv(65536)
                    if not data:
                        return
                    (inner if side is tls else tls).sendall(data)
        except (OSError, ssl.SSLError):
            pass
        finally:
            tls.close()
            inner.close()

    def accept():
        while True:
            connection, _ = listener.accept()
            threading.Thread(target=relay, args=(connection,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()


def watch_parent():
    """Exit when the host that started us dies (we are handed to another parent)."""
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(0.02)
    os._exit(0)


def main():
    if os.environ.get(COOKIE_KEY) != COOKIE_VALUE:
        sys.stderr.write(NOT_A_PLUGIN)
        return 1
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=watch_parent, daemon=True).start()

    offered = [v for v in os.environ.get("PLUGIN_PROTOCOL_VERSIONS", "").split(",") if v.isdigit()]
    version = 2 if DEFECT == "wrong-version" else 1  # 1 is the only version, offered or not
    shutdown = threading.Event()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=10),
                         options=[("grpc.max_receive_message_length", -1)])
    checker = health.HealthServicer()
    checker.set("plugin", health_pb2.HealthCheckResponse.ServingStatus.Value("SERVING"))
    health_pb2_grpc.add_HealthServicer_to_server(checker, server)
    if DEFECT != "no-controller":
        grpc_controller_pb2_grpc.add_GRPCControllerServicer_to_server(Controller(shutdown), server)
    grpc_stdio_pb2_grpc.add_GRPCStdioServicer_to_server(Stdio(), server)
    grpc_broker_pb2_grpc.add_GRPCBrokerServicer_to_server(Broker(), server)

    directory = os.environ.get("PLUGIN_UNIX_SOCKET_DIR") or tempfile.mkdtemp(prefix="subject-")
    socket_path = os.path.join(directory, "subject-%d.sock" % os.getpid())
    cert_field = ""
    client_cert = os.environ.get("PLUGIN_CLIENT_CERT")
    if client_cert:
        key, cert, der = certificate()
        inner_path = socket_path + ".inner"
        server.add_insecure_port("unix:" + inner_path)
        serve_tls(socket_path, inner_path, key, cert, client_cert)
        cert_field = base64.b64encode(der).decode()
        if DEFECT != "padded-cert":
            cert_field = cert_field.rstrip("=")
    else:
        server.add_insecure_port("unix:" + socket_path)
    server.start()
    log("debug", "plugin address", network="unix", address=socket_path, offered=offered)

    if DEFECT == "garbage":
        print("subject plugin starting")
    print("1|%d|unix|%s|grpc|%s" % (version, socket_path, cert_field), flush=True)
    shutdown.wait()
    server.stop(grace=0.5).wait()
    try:
        os.unlink(socket_path)
    except OSError:
        pass
    log("debug", "plugin exiting")
    return 0


if __name__ == "__main__":
    if DEFECT not in DEFECTS:
        sys.exit("unknown defect %r; one of %s" % (DEFECT, ", ".join(DEFECTS)))
    sys.exit(main())
