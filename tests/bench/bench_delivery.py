#!/usr/bin/env python3
"""Delivery throughput: figures, not a test (nothing here passes or fails on speed).

For each target — the minimal HTTP sink (solent-sink, libevent evhttp) and the FHIR
test server (tests/fhir/fhir_server.js) — and for 1, 8 and 32 requests in flight:

1. the target's own ceiling: wrk POSTing the sample A01 bundle with that many
   connections for a few seconds;
2. libcurl's own ceiling against the target: solent-curl-ceiling (built beside the
   sink) POSTing the same bundle from one thread through libcurl's multi socket API on
   a libevent loop, as Solent does, with nothing else to do;
3. Solent: a store pre-filled with COUNT outbox rows (the same bundle, each its own
   patient so all may go in parallel), then `solent run` with `concurrency = K`;
   bundles/s from the first to the last delivered_at in the store, and the engine's
   CPU time (user + system, /proc) per bundle;
4. Solent's ratio to each ceiling.

Then recovery after an outage: COUNT/4 bundles queued (each its own patient) while the
sink is down for OUTAGE seconds, with retry_base_ms = 1s and retry_cap_ms = 5m; the
sink comes back on the same port; printed: how long after its return the last bundle
was delivered.

usage: bench_delivery.py SOLENT SINK REPO_ROOT [COUNT]
"""
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "engine"))
from harness import free_port  # noqa: E402  (shared with the engine tests)

# Started as root, solent run needs a user to become; its directories must let it through.
AS_USER = ["--user", "nobody"] if os.geteuid() == 0 else []


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(url, bundle_path, connections, seconds=4):
    script = bundle_path + ".lua"
    with open(script, "w") as f:
        f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/fhir+json"\n'
                'local f = io.open("%s", "rb")\nwrk.body = f:read("*a")\nf:close()\n' % bundle_path)
    out = subprocess.run(["wrk", "-t", str(min(connections, 2)), "-c", str(connections), "-d",
                          "%ds" % seconds, "-s", script, url], capture_output=True, text=True).stdout
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    return float(m.group(1)) if m else 0.0


def curl_ceiling(tool, url, bundle_path, inflight, seconds=4):
    out = subprocess.run([tool, url, bundle_path, str(inflight), str(seconds)],
                         capture_output=True, text=True).stdout
    m = re.search(r"requests/s (\d+)", out)
    return float(m.group(1)) if m else 0.0


def write_conf(work, url, inflight, extra=""):
    conf = os.path.join(work, "solent.conf")
    with open(conf, "w") as f:
        f.write(f"""[engine]
data_dir = {work}/data
log_level = warn
[store]
path = {work}/data/solent.db
[listener bench]
port = {free_port()}
routes = adt
[route adt]
type = ADT^*
destinations = phr
[destination phr]
kind = fhir
url = {url}
concurrency = {inflight}
{extra}""")
    return conf


def prefill(solent, work, conf, bundle, count, entries):
    """A store with COUNT outbox rows, each its own patient; returns its path."""
    subprocess.run([solent, "check-config", "-c", conf], check=True, capture_output=True)
    os.makedirs(os.path.join(work, "data"), mode=0o700, exist_ok=True)
    p = subprocess.Popen([solent, "run", "-c", conf] + AS_USER, stderr=subprocess.DEVNULL)
    db_path = os.path.join(work, "data", "solent.db")
    while not os.path.exists(db_path):
        time.sleep(0.05)
    time.sleep(0.3)
    p.terminate()
    p.wait()
    db = sqlite3.connect(db_path)
    now = int(time.time() * 1000)
    with db:
        for i in range(count):
            cur = db.execute(
                "insert into messages (received_at, listener, sending_app, sending_facility,"
                " control_id, message_type, content_hash, status, raw) values"
                " (?, 'bench', 'PAS', 'RHM', ?, 'ADT^A01', ?, 'accepted', 'MSH|')",
                (now, "B%07d" % i, os.urandom(32)))
            row = db.execute("insert into outbox (message_id, destination, ordering_key,"
                             " bundle, created_at, entries) values (?, 'phr', ?, x'', ?, ?)",
                             (cur.lastrowid, "phr|P%07d" % i, now, entries)).lastrowid
            db.execute("insert into outbox_bundles (outbox_id, bundle) values (?, ?)",
                       (row, bundle))
            db.execute("insert into outbox_heads (ordering_key, outbox_id, destination)"
                       " values (?, ?, 'phr')", ("phr|P%07d" % i, row))
    db.close()
    return db_path


def wait_delivered(db, timeout=600):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if db.execute("select count(*) from outbox where status != 'delivered'").fetchone()[0] == 0:
            return True
        time.sleep(0.1)
    return False


def run_solent(solent, url, bundle, count, inflight, entries):
    with tempfile.TemporaryDirectory() as work:
        os.chmod(work, 0o755)  # the engine runs as its user when started as root
        conf = write_conf(work, url, inflight)
        db = sqlite3.connect(prefill(solent, work, conf, bundle, count, entries))
        p = subprocess.Popen([solent, "run", "-c", conf] + AS_USER, stderr=subprocess.DEVNULL)
        cpu0 = cpu_seconds(p.pid)
        wait_delivered(db)
        cpu = cpu_seconds(p.pid) - cpu0
        p.terminate()
        p.wait()
        first, last, n = db.execute("select min(delivered_at), max(delivered_at), count(*) from"
                                    " outbox where status = 'delivered'").fetchone()
        db.close()
        secs = max((last - first) / 1000.0, 0.001) if n else 0
        return (n / secs if n else 0.0), (cpu / n * 1e6 if n else 0.0), n


def outage_recovery(solent, sink, bundle, count, entries, outage=20):
    """COUNT bundles wait through an outage of the sink; seconds from its return to the last
    bundle delivered."""
    port = free_port()
    with tempfile.TemporaryDirectory() as work:
        os.chmod(work, 0o755)  # the engine runs as its user when started as root
        conf = write_conf(work, "http://127.0.0.1:%d/" % port, 8,
                          "retry_base_ms = 1s\nretry_cap_ms = 5m\n")
        db = sqlite3.connect(prefill(solent, work, conf, bundle, count, entries))
        p = subprocess.Popen([solent, "run", "-c", conf] + AS_USER, stderr=subprocess.DEVNULL)
        time.sleep(outage)
        srv = subprocess.Popen([sink, str(port), str(entries)], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL)
        srv.stdout.readline()
        back = time.time()
        done = wait_delivered(db)
        drained = time.time() - back
        p.terminate()
        p.wait()
        srv.terminate()
        srv.wait()
        db.close()
    print("bench outage: %d bundles waiting through a %d s outage (retry cap 5 min): %s %.1f s"
          " after the server came back" % (count, outage, "drained" if done else "NOT drained",
                                           drained), flush=True)


def main():
    solent, sink, root = (os.path.abspath(a) for a in sys.argv[1:4])
    curl_tool = os.path.join(os.path.dirname(sink), "solent-curl-ceiling")
    count = int(sys.argv[4]) if len(sys.argv) > 4 else 20000
    bundle = subprocess.run([solent, "convert", os.path.join(root, "conf", "samples", "adt_a01.hl7")],
                            check=True, capture_output=True).stdout.strip()
    entries = len(json.loads(bundle)["entry"])
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)  # the engine runs as its user when started as root
        bundle_path = os.path.join(tmp, "bundle.json")
        with open(bundle_path, "wb") as f:
            f.write(bundle)
        targets = [("sink (evhttp)", [sink], str(entries), count),
                   ("FHIR test server", ["node", os.path.join(root, "tests", "fhir", "fhir_server.js")],
                    None, max(count // 10, 500))]
        print("bench delivery: sample A01 bundle, %d bytes, %d entries" % (len(bundle), entries))
        print("%-18s %9s %10s %10s %10s %7s %7s %11s" % (
            "target", "in flight", "wrk req/s", "curl req/s", "solent b/s", "/ wrk", "/ curl",
            "CPU/bundle"))
        for name, cmd, extra, n in targets:
            port = free_port()
            srv = subprocess.Popen(cmd + [str(port)] + ([extra] if extra else []),
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                   cwd=os.path.join(root, "tests", "fhir"))
            srv.stdout.readline()
            url = "http://127.0.0.1:%d/" % port
            try:
                for k in (1, 8, 32):
                    ceiling = wrk(url, bundle_path, k)
                    alone = curl_ceiling(curl_tool, url, bundle_path, k)
                    rate, cpu_us, done = run_solent(solent, url, bundle, n, k, entries)
                    print("%-18s %9d %10.0f %10.0f %10.0f %6.0f%% %6.0f%% %8.0f µs  (%d bundles)"
                          % (name, k, ceiling, alone, rate, 100 * rate / ceiling if ceiling else 0,
                             100 * rate / alone if alone else 0, cpu_us, done), flush=True)
            finally:
                srv.terminate()
                srv.wait()
        outage_recovery(solent, sink, bundle, max(count // 4, 500), entries)


if __name__ == "__main__":
    main()
