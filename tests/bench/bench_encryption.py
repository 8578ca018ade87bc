#!/usr/bin/python3
"""Encryption at rest against none, on two engines side by side (each its own fresh store):
ingest throughput with 16 connections, medians of alternating runs. Prints figures; asserts
nothing. usage: bench_encryption.py SOLENT SOURCE_ROOT"""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import free_port, send_rate, start  # noqa: E402



def engine(solent, d, key):
    port = free_port()
    os.makedirs(d)
    extra = ""
    if key:
        with open(os.path.join(d, "store.key"), "wb") as f:
            f.write(os.urandom(32))
        extra = "encryption_key = file:%s/store.key\n" % d
    conf = os.path.join(d, "solent.conf")
    with open(conf, "w") as f:
        f.write(f"""[engine]
data_dir = {d}/data
log_level = warn
[store]
path = {d}/data/solent.db
{extra}[listener bench]
port = {port}
routes = adt
max_per_peer = 64
[route adt]
type = ADT^*
destinations = local
[destination local]
kind = directory
path = {d}/data/outbox
""")
    return start(solent, conf, [port]), port


def main():
    solent, root = os.path.abspath(sys.argv[1]), sys.argv[2]
    sample = os.path.join(root, "conf", "samples", "adt_a01.hl7")
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o755)  # the engine runs as its user when started as root
        plain, pport = engine(solent, os.path.join(d, "plain"), False)
        sealed, sport = engine(solent, os.path.join(d, "sealed"), True)
        try:
            for connections, count in ((1, 2000), (16, 10000)):
                a, b = [], []
                for _ in range(5):
                    a.append(send_rate(solent, pport, sample, count, connections))
                    b.append(send_rate(solent, sport, sample, count, connections))
                a, b = sorted(a)[2], sorted(b)[2]
                print("bench encryption: %2d connection%s: no key %.0f messages/s, key %.0f "
                      "messages/s (%.0f%%), medians of 5 alternating runs" % (
                          connections, "s" if connections > 1 else " ", a, b,
                          100.0 * b / a if a else 0))
        finally:
            for p in (plain, sealed):
                p.terminate()
                p.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
