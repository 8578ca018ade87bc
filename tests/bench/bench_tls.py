#!/usr/bin/python3
"""TLS against plain MLLP on one engine, in the same run: ingest throughput with 1 and 16
connections (solent send, plain and --tls with a client certificate), full handshakes per
second (no resumption: every connection pays one), and the engine's memory per idle TLS
connection with 1,000 of them open. Prints figures; asserts nothing (a benchmark, not a
test). usage: bench_tls.py SOLENT SOURCE_ROOT"""
import os
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import free_port, send_rate, start  # noqa: E402



def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, capture_output=True)


def pki(d):
    p = lambda n: os.path.join(d, n)  # noqa: E731
    with open(p("ext.cnf"), "w") as f:
        f.write("[server]\nsubjectAltName = DNS:localhost,IP:127.0.0.1\n"
                "[client]\nsubjectAltName = DNS:bench.example.nhs.uk\n")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", p("ca.key"), "-out", p("ca.pem"), "-days", "2", "-subj", "/CN=bench CA")
    for name in ("server", "client"):
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                p(name + ".key"), "-out", p(name + ".csr"), "-subj", "/CN=" + name)
        openssl("x509", "-req", "-in", p(name + ".csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"),
                "-CAcreateserial", "-out", p(name + ".pem"), "-days", "2", "-extfile", p("ext.cnf"),
                "-extensions", name)
    return p


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def send(solent, port, sample, count, connections, tls=None):
    options = ["--tls", "--ca", tls("ca.pem"), "--cert", tls("client.pem"), "--key",
               tls("client.key"), "--servername", "localhost"] if tls else []
    return send_rate(solent, port, sample, count, connections, options)


def main():
    solent, root = os.path.abspath(sys.argv[1]), sys.argv[2]
    sample = os.path.join(root, "conf", "samples", "adt_a01.hl7")
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o755)  # the engine runs as its user when started as root
        p = pki(d)
        plain, tlsport = free_port(), free_port()
        conf = os.path.join(d, "solent.conf")
        with open(conf, "w") as f:
            f.write(f"""[engine]
data_dir = {d}/data
log_level = warn
[store]
path = {d}/data/solent.db
[listener plain]
port = {plain}
routes = adt
max_connections = 1100
max_per_peer = 1100
[listener tls]
port = {tlsport}
routes = adt
max_connections = 1100
max_per_peer = 1100
tls = on
cert = {p("server.pem")}
key = {p("server.key")}
verify = require
client_ca = {p("ca.pem")}
[route adt]
type = ADT^*
destinations = local
[destination local]
kind = directory
path = {d}/data/outbox
""")
        engine = start(solent, conf, [plain, tlsport])
        try:
            # five alternating rounds each, the median of each: the store's commit time (fsync
            # on this VM) varies from run to run far more than TLS costs
            for connections, count in ((1, 2000), (16, 10000)):
                a, b = [], []
                for _ in range(5):
                    a.append(send(solent, plain, sample, count, connections))
                    b.append(send(solent, tlsport, sample, count, connections, tls=p))
                a, b = sorted(a)[2], sorted(b)[2]
                print("bench tls: %2d connection%s: plain %.0f messages/s, TLS %.0f messages/s "
                      "(%.0f%%), medians of 5 alternating runs" % (
                          connections, "s" if connections > 1 else " ", a, b,
                          100.0 * b / a if a else 0))
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.load_verify_locations(p("ca.pem"))
            ctx.load_cert_chain(p("client.pem"), p("client.key"))
            n, t0 = 0, time.monotonic()
            while time.monotonic() - t0 < 3:
                with ctx.wrap_socket(socket.create_connection(("127.0.0.1", tlsport)),
                                     server_hostname="localhost") as c:
                    c.do_handshake()
                n += 1
            print("bench tls: %.0f full handshakes/s (one client, sequential, TLS 1.3, P-256 "
                  "certificates, mutual)" % (n / (time.monotonic() - t0)))
            time.sleep(0.5)
            for name, port, wrap in (("plain", plain, False), ("TLS", tlsport, True)):
                base = rss_kb(engine.pid)
                conns = []
                for _ in range(1000):
                    c = socket.create_connection(("127.0.0.1", port))
                    if wrap:
                        c = ctx.wrap_socket(c, server_hostname="localhost")
                    conns.append(c)
                time.sleep(1)
                grown = rss_kb(engine.pid) - base
                print("bench tls: 1,000 idle %s connections: %d KB more engine memory, %.1f KB "
                      "each" % (name, grown, grown / 1000.0))
                for c in conns:
                    c.close()
                time.sleep(1)
        finally:
            engine.terminate()
            engine.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
