#!/usr/bin/python3
"""Durable intake on PostgreSQL beside SQLite and beside PostgreSQL's own commit rate, in the
same run, on a throwaway cluster on this machine (tests/pg/cluster.sh): pgbench with
single-row commits (1 client) and batched commits (16 rows a commit, 16 clients); `solent
send` against one engine on SQLite, one on PostgreSQL, and two on PostgreSQL sharing the
load, with 1 and 16 connections. The messages are the sample ADT^A01 for 512 patients (one
patient's messages are committed one after another, by design: a queue each). Medians of 3
runs. Prints figures; asserts nothing.

usage: bench_store.py SOLENT SOURCE_ROOT"""
import os
import re
import shlex
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import free_port, send_rate, start  # noqa: E402



def engine(solent, d, store, name):
    port = free_port()
    os.makedirs(d)
    conf = os.path.join(d, "solent.conf")
    with open(conf, "w") as f:
        f.write(f"""[engine]
data_dir = {d}/data
log_level = warn
name = {name}
[store]
{store}
[listener bench]
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
    p = start(solent, conf, [port])
    p.conf = conf
    return p, port


def settle(solent, confs, timeout=120):
    """Waits until no engine has bundles left to write: a run's deliveries (a file and an
    fsync each) must not overlap the next run's commits."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        busy = False
        for conf in confs:
            out = subprocess.run([solent, "status", "-c", conf], capture_output=True,
                                 text=True).stdout.splitlines()
            for line in out[1:]:
                f = line.split()
                if len(f) >= 5 and f[0] == "local" and (int(f[2]) or int(f[3]) or int(f[4])):
                    busy = True
        if not busy:
            return
        time.sleep(0.2)


def send(solent, port, sample, count, connections, out=None):
    rate = send_rate(solent, port, sample, count, connections)
    if out is not None:
        out.append(rate)
    return rate


def median(xs):
    return sorted(xs)[len(xs) // 2]


def pgbench(env, script, clients, rows_per_txn, seconds=5):
    binary = sorted(os.listdir("/usr/lib/postgresql"))[-1]
    admin = shlex.split(env["SOLENT_TEST_PG_ADMIN"])
    args = ["/usr/lib/postgresql/%s/bin/pgbench" % binary, *admin, "-n", "-c", str(clients),
            "-j", str(min(clients, 2)), "-T", str(seconds), "-f", script, "solent"]
    if os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--"] + args
    text = subprocess.run(args, capture_output=True, text=True).stdout
    m = re.search(r"tps = ([\d.]+)", text)
    return float(m.group(1)) * rows_per_txn if m else 0.0


def psql(env, sql):
    args = ["psql", *shlex.split(env["SOLENT_TEST_PG_ADMIN"]), "-d", "solent", "-qAtX", "-c", sql]
    subprocess.run(args, check=True, capture_output=True)


def patients(root, d, n=512):
    """A directory of the sample ADT^A01 for n patients (their own MRN, no NHS number)."""
    with open(os.path.join(root, "conf", "samples", "adt_a01.hl7"), "rb") as f:
        text = f.read()
    out = os.path.join(d, "patients")
    os.makedirs(out)
    for i in range(n):
        with open(os.path.join(out, "p%04d.hl7" % i), "wb") as f:
            f.write(text.replace(b"9434765919^^^NHS^NH~RHM1000001", b"RHM%07d" % (2000000 + i)))
    return out


def main():
    solent, root = os.path.abspath(sys.argv[1]), sys.argv[2]
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o755)
        sample = patients(root, d)
        cluster = os.path.join(d, "pg")
        lines = subprocess.run([os.path.join(root, "tests", "pg", "cluster.sh"), "start", cluster],
                               capture_output=True, text=True, check=True).stdout.splitlines()
        env = {k: shlex.split(v)[0] for k, v in (line.split("=", 1) for line in lines)}
        procs = []
        try:
            psql(env, "CREATE TABLE bench_m (id bigserial PRIMARY KEY, raw bytea NOT NULL);"
                      " GRANT ALL ON bench_m TO solent")
            one = os.path.join(d, "one.sql")
            with open(one, "w") as f:
                f.write("INSERT INTO bench_m (raw) VALUES (convert_to(repeat('x', 400), 'UTF8'));\n")
            batch = os.path.join(d, "batch.sql")
            with open(batch, "w") as f:
                f.write("BEGIN;\n" + "INSERT INTO bench_m (raw) VALUES"
                        " (convert_to(repeat('x', 400), 'UTF8'));\n" * 16 + "COMMIT;\n")
            os.chmod(one, 0o644)
            os.chmod(batch, 0o644)
            single_rate = pgbench(env, one, 1, 1)
            batched_rate = pgbench(env, batch, 16, 16)
            print("postgres itself (pgbench, 400-byte rows): single-row commits, 1 client: "
                  "%.0f rows/s; 16-row commits, 16 clients: %.0f rows/s"
                  % (single_rate, batched_rate))
            pg_store = "kind = postgres\ndsn = %s\npassword = file:%s" % (
                env["SOLENT_TEST_PG_DSN"], env["SOLENT_TEST_PG_PASSWORD_FILE"])
            lite, lport = engine(solent, os.path.join(d, "sqlite"),
                                 "path = %s/sqlite/data/solent.db" % d, "lite")
            pg1, pport = engine(solent, os.path.join(d, "pg1"), pg_store, "pg1")
            pg2, pport2 = engine(solent, os.path.join(d, "pg2"), pg_store, "pg2")
            procs = [lite, pg1, pg2]
            results = {}
            for connections, count in ((1, 2000), (16, 10000)):
                a, b, two = [], [], []
                confs = [lite.conf, pg1.conf, pg2.conf]
                for _ in range(3):
                    settle(solent, confs)
                    a.append(send(solent, lport, sample, count, connections))
                    settle(solent, confs)
                    b.append(send(solent, pport, sample, count, connections))
                    settle(solent, confs)
                    if connections == 16:  # the same 16 connections over two engines
                        halves = []
                        ts = [threading.Thread(target=send, args=(solent, p, sample, count // 2, 8,
                                                                  halves))
                              for p in (pport, pport2)]
                        start = time.time()
                        for t in ts:
                            t.start()
                        for t in ts:
                            t.join()
                        two.append(count / (time.time() - start))
                results[connections] = (median(a), median(b), median(two) if two else 0)
            s1, p1, _ = results[1]
            s16, p16, two16 = results[16]
            print("solent ingest, 1 connection: sqlite %.0f msg/s, postgres %.0f msg/s "
                  "(%.0f%% of postgres' single-row commit rate)"
                  % (s1, p1, 100 * p1 / single_rate if single_rate else 0))
            print("solent ingest, 16 connections: sqlite %.0f msg/s, postgres %.0f msg/s "
                  "(%.0f%% of sqlite), two engines on postgres %.0f msg/s in all (%.0f%% of one)"
                  % (s16, p16, 100 * p16 / s16 if s16 else 0, two16,
                     100 * two16 / p16 if p16 else 0))
        finally:
            for p in procs:
                p.terminate()
                p.wait()
            subprocess.run([os.path.join(root, "tests", "pg", "cluster.sh"), "stop", cluster])


if __name__ == "__main__":
    main()
