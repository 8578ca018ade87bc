"""Several engines, one PostgreSQL database: the real `solent run` three times over the
throwaway cluster `./dev test` starts (tests/pg/cluster.sh: SOLENT_TEST_PG_DSN,
SOLENT_TEST_PG_PASSWORD_FILE, SOLENT_TEST_PG_ADMIN), delivering to the FHIR test server.

Checks: messages sprayed over three engines for 200 patients end at the server as one
Patient each with the last name sent, in the order sent, every message stored once and the
deliveries shared; `kill -9` of an engine under load (its leases taken over, nothing lost);
PostgreSQL restarted under load (no positive ACK for what was not committed, everything
ACKed delivered); two engines behind HAProxy (Debian's) on one MLLP address, the one serving
killed mid-stream, the sender reconnecting through HAProxy to the other and resending what
was not ACKed. The database is read with `psql`.

Run by pytest (conftest.py): python3 -m pytest tests/engine/test_cluster.py --solent BIN --root .
"""
import os
import random
import signal
import socket
import subprocess
import threading
import time

import pytest

import harness
from harness import (DeliveryEngine, check, check_final_state, fields, frame, free_port,
                     free_ports, read_frame, traffic)


def psql(sql):
    """Rows of sql, run by the cluster's superuser over its socket."""
    admin = os.environ["SOLENT_TEST_PG_ADMIN"].split()
    r = subprocess.run(["psql", *admin, "-d", "solent", "-qAtX", "-v", "ON_ERROR_STOP=1",
                        "-c", sql], capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, "psql: %s" % r.stderr)
    return [tuple(int(v) if v.lstrip("-").isdigit() else v for v in line.split("|"))
            for line in r.stdout.splitlines() if line]


@pytest.fixture
def database():
    """The cluster's database, emptied (the engines migrate it as they start)."""
    if not os.environ.get("SOLENT_TEST_PG_DSN"):
        pytest.fail("no PostgreSQL: run through ./dev test, or export what "
                    "tests/pg/cluster.sh start prints")
    psql("DROP SCHEMA public CASCADE; CREATE SCHEMA public AUTHORIZATION solent")
    return os.environ["SOLENT_TEST_PG_DSN"]


class ClusterEngine(DeliveryEngine):
    """A DeliveryEngine on the shared PostgreSQL store, named."""

    def __init__(self, solent, root, work, port, fhir_port, name, pool=3):
        self.name, self.pool = name, pool
        super().__init__(solent, root, work, port, fhir_port, timeout="2s")

    def write(self, routes="adt, oru", extra=""):
        super().write(routes, extra)
        with open(self.conf) as f:
            text = f.read()
        text = text.replace("[engine]\n", "[engine]\nname = %s\n" % self.name, 1).replace(
            "[store]\npath = %s/data/solent.db\n" % self.work,
            "[store]\nkind = postgres\ndsn = %s\npassword = file:%s\npool = %d\n"
            % (os.environ["SOLENT_TEST_PG_DSN"], os.environ["SOLENT_TEST_PG_PASSWORD_FILE"],
               self.pool), 1
        ).replace("destinations = phr, copy", "destinations = phr")  # a directory is one host's
        with open(self.conf, "w") as f:
            f.write(text)

    def rows(self, sql, *args):
        check(not args, "psql takes no parameters here")
        return psql(sql)

    def delivered(self):
        return self.metrics().get('solent_delivery_attempts_total{destination="phr",'
                                  'outcome="delivered"}', 0)


def engines(solent, root, tmp_path, fhir, n, pools=None):
    out = []
    for i in range(n):
        work = tmp_path / ("engine-%d" % i)
        work.mkdir()
        e = ClusterEngine(solent, root, str(work), free_ports(), fhir.port, "engine-%d" % i,
                          pool=pools[i] if pools else 3)
        e.start()
        out.append(e)
    return out


class Sender:
    """Sends each patient's messages in order, each to an engine picked at random (or through
    one address), resending a message until it is answered AA: a refused connection, a
    connection cut before the ACK, or an ACK that is not AA (the store could not commit)."""

    def __init__(self, ports, seed):
        self.ports, self.rnd = ports, random.Random(seed)
        self.socks, self.resent = {}, 0

    def send(self, msg, deadline):
        while time.time() < deadline:
            port = self.rnd.choice(self.ports)
            try:
                s = self.socks.get(port)
                if s is None:
                    s = self.socks[port] = socket.create_connection(("127.0.0.1", port), timeout=10)
                s.sendall(frame(msg))
                ack = fields(read_frame(s))
                if ack["MSA"][1] == "AA":
                    return
            except (OSError, ConnectionError, KeyError, IndexError):
                pass
            s = self.socks.pop(port, None)
            if s:
                s.close()
            self.resent += 1
            time.sleep(0.05)
        raise AssertionError("a message was never accepted")

    def close(self):
        for s in self.socks.values():
            s.close()


def spray(ports, plan, threads=4, during=None, seed=15):
    """plan's patients over threads, each patient's messages in order; during(step) runs
    between the steps of the first thread (a kill, a restart). Returns the resend count."""
    mrns = sorted(plan)
    resent, errors = [0], []

    def client(k):
        sender = Sender(ports, seed + k)
        try:
            for step in range(4):
                if k == 0 and during:
                    during(step)
                for mrn in mrns[k::threads]:
                    sender.send(plan[mrn][step], time.time() + 120)
        except Exception as err:  # noqa: BLE001 (reported below)
            errors.append(err)
        finally:
            resent[0] += sender.resent
            sender.close()

    workers = [threading.Thread(target=client, args=(k,)) for k in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    check(not errors, "every message accepted in the end: %r" % errors[:3])
    return resent[0]


def drained(timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if psql("SELECT count(*) FROM outbox WHERE status IN ('pending', 'retry')")[0][0] == 0:
            return True
        time.sleep(0.2)
    return False


def stored_once(plan):
    """Each message of plan accepted exactly once (a resend of a committed one: a duplicate)."""
    cids = {m.split(b"|")[9].decode() for msgs in plan.values() for m in msgs}
    rows = psql("SELECT control_id, count(*) FROM messages WHERE status = 'accepted'"
                " GROUP BY control_id")
    got = {cid: n for cid, n in rows}
    check(set(got) == cids and all(n == 1 for n in got.values()),
          "each message accepted once: %d of %d, %r"
          % (len(got), len(cids), [(c, n) for c, n in got.items() if n != 1][:5]))


def test_three_engines_share_the_work(solent, root, tmp_path, database, fhir):
    """engine-2 holds one connection ([store] pool = 1), the others three (the default):
    pg_stat_activity names each (application_name solent/NAME)."""
    es = engines(solent, root, tmp_path, fhir, 3, pools=[3, 3, 1])
    held = dict(psql("SELECT application_name, count(*) FROM pg_stat_activity"
                     " WHERE application_name LIKE 'solent/%' GROUP BY 1"))
    check(held == {"solent/engine-0": 3, "solent/engine-1": 3, "solent/engine-2": 1},
          "each engine holds its pool: %r" % held)
    plan = traffic("K", 200)
    spray([e.port for e in es], plan)
    check(drained(), "every ACKed message delivered")
    stored_once(plan)
    check_final_state(fhir, plan, "three engines")
    by = dict(psql("SELECT engine, count(*) FROM messages GROUP BY engine"))
    check(len(by) == 3, "each engine stored messages: %r" % by)
    shares = [e.delivered() for e in es]
    check(sum(shares) >= 600 and sum(1 for n in shares if n > 0) >= 2,
          "the deliveries are shared: %r" % shares)
    status = subprocess.run([solent, "status", "-c", es[0].conf], capture_output=True,
                            text=True).stdout
    lines = status.splitlines()
    phr = [line.split() for line in lines if line.startswith("phr ")]
    check(phr and int(phr[0][5]) >= 600 and int(phr[0][2]) == 0,
          "solent status counts the whole cluster's deliveries: %s" % status)
    listed = [line.split()[0] for line in lines[lines.index(next(x for x in lines if
                                                             x.startswith("ENGINE"))) + 1:]]
    check(listed == ["engine-0", "engine-1", "engine-2"], "and lists its engines: %s" % status)
    out = subprocess.run([solent, "messages", "-c", es[1].conf, "--limit", "100000"],
                         capture_output=True, text=True).stdout.splitlines()
    check(out[0].split()[-1] == "ENGINE", "solent messages has an ENGINE column: %s" % out[0])
    listed = {}
    for line in out[1:]:
        listed[line.split()[-1]] = listed.get(line.split()[-1], 0) + 1
    check(listed == by, "solent messages lists the whole cluster, each message with the engine "
          "that received it: %r against %r" % (listed, by))
    for e in es:
        check(e.stop() == 0, "clean stop of %s" % e.name)


def test_kill_an_engine_under_load(solent, root, tmp_path, database, fhir):
    """kill -9 an engine between steps, twice, and start it again: its leases run out and are
    taken over, nothing ACKed is lost, no patient out of order."""
    es = engines(solent, root, tmp_path, fhir, 3)
    plan = traffic("L", 90)

    def kill(step):
        if step in (1, 3):
            es[2].proc.send_signal(signal.SIGKILL)
            es[2].proc.wait()
            time.sleep(0.3)
            es[2].start()

    resent = spray([e.port for e in es], plan, during=kill)
    check(drained(), "every ACKed message delivered after the kills")
    stored_once(plan)
    check_final_state(fhir, plan, "kill -9 under load", allow_repeats=True)
    check(resent >= 0, "resends: %d" % resent)
    for e in es:
        e.stop()


def test_restart_postgres_under_load(solent, root, tmp_path, database, fhir):
    """PostgreSQL restarted between steps: commits fail meanwhile (no AA: the sender resends),
    the engines reconnect, everything ACKed is delivered."""
    es = engines(solent, root, tmp_path, fhir, 2)
    plan = traffic("R", 60)
    pgdir = os.environ["SOLENT_TEST_PG_DIR"]
    binary = sorted(d for d in os.listdir("/usr/lib/postgresql"))[-1]
    ctl = ["/usr/lib/postgresql/%s/bin/pg_ctl" % binary, "-D", pgdir + "/data", "-w", "-m", "fast",
           "restart", "-l", pgdir + "/server.log"]
    if os.geteuid() == 0:
        ctl = ["runuser", "-u", "postgres", "--"] + ctl

    def restart(step):
        if step == 2:
            r = subprocess.run(ctl, capture_output=True, text=True, timeout=60)
            check(r.returncode == 0, "pg_ctl restart: %s" % r.stderr)

    spray([e.port for e in es], plan, during=restart)
    check(drained(), "everything ACKed delivered once PostgreSQL is back")
    stored_once(plan)
    check_final_state(fhir, plan, "PostgreSQL restarted", allow_repeats=True)
    logs = b"".join(open(e.log_path, "rb").read() for e in es)
    check(b"event=store_reconnected" in logs, "the engines reconnected")
    for e in es:
        e.stop()


def test_haproxy_failover(solent, root, tmp_path, database, fhir):
    """Two engines behind HAProxy on one MLLP address; the sender keeps one connection to it;
    the engine serving it is killed mid-stream; the sender reconnects through HAProxy, reaches
    the other, resends what was not ACKed: nothing lost, nothing twice at the FHIR server."""
    es = engines(solent, root, tmp_path, fhir, 2)
    front = free_port()
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(f"""global
    maxconn 200
defaults
    mode tcp
    timeout connect 1s
    timeout client 60s
    timeout server 60s
    retries 3
    option redispatch
frontend mllp
    bind 127.0.0.1:{front}
    default_backend engines
backend engines
    balance first
    default-server inter 200ms fall 1 rise 2
    server a 127.0.0.1:{es[0].port} check
    server b 127.0.0.1:{es[1].port} check
""")
    proxy = subprocess.Popen(["haproxy", "-db", "-f", str(cfg)], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", front), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        plan = traffic("H", 40)

        def kill(step):
            if step == 2:  # balance first: engine a has served everything so far
                es[0].proc.send_signal(signal.SIGKILL)
                es[0].proc.wait()

        resent = spray([front], plan, threads=1, during=kill)
        check(resent >= 1, "the sender had to reconnect and resend: %d" % resent)
        check(drained(), "everything ACKed delivered by the engine left")
        stored_once(plan)
        check_final_state(fhir, plan, "HAProxy fail-over", allow_repeats=True)
        by = dict(psql("SELECT engine, count(*) FROM messages GROUP BY engine"))
        check(by.get("engine-0", 0) > 0 and by.get("engine-1", 0) > 0,
              "both engines took messages through the one address: %r" % by)
    finally:
        proxy.kill()
        proxy.wait()
    es[1].stop()


def test_start_before_the_database(solent, root, tmp_path, database, fhir):
    """An engine started while its database cannot be reached waits for it, saying so
    (event=store_unreachable), not listening for MLLP meanwhile but answering /readyz 503
    (a balancer's check) and /healthz 200; once the database answers (here a forwarder to it,
    socat, started late) it starts, /readyz says 200, and it takes messages. A stop while it
    waits ends it at once, cleanly."""
    relay = free_port()
    e = ClusterEngine(solent, root, str(tmp_path), free_ports(), fhir.port, "late")
    with open(e.conf) as f:
        text = f.read()
    pg_port = int(os.environ["SOLENT_TEST_PG_DSN"].split("port=")[1].split()[0])
    with open(e.conf, "w") as f:
        f.write(text.replace("port=%d" % pg_port, "port=%d" % relay))
    harness.open_to_engine(e.work)
    e.log = open(e.log_path, "ab")
    e.proc = subprocess.Popen([solent, "run", "-c", e.conf] + harness.AS_USER, stderr=e.log)
    forwarder = None
    try:
        check(e.wait_log(b"event=store_unreachable", 2), "the engine waits for its database")
        try:
            socket.create_connection(("127.0.0.1", e.port), timeout=1).close()
            check(False, "it does not listen before it has its store")
        except OSError:
            pass
        check(e.admin("/readyz") == (503, "waiting for the store\n"),
              "not ready while it waits: %r" % (e.admin("/readyz"),))
        check(e.admin("/healthz")[0] == 200, "alive while it waits")
        forwarder = subprocess.Popen(["socat", "TCP-LISTEN:%d,bind=127.0.0.1,fork,reuseaddr" % relay,
                                      "TCP:127.0.0.1:%d" % pg_port])
        check(e.wait_log(b"event=started", 1, timeout=30), "it starts once the database answers")
        check(e.admin("/readyz") == (200, "ready\n"), "ready once started")
        plan = traffic("W", 2)
        spray([e.port], plan, threads=1)
        check(drained(), "and delivers")
        check(e.stop() == 0, "clean stop")
    finally:
        if forwarder:
            forwarder.kill()
            forwarder.wait()


def test_stop_while_waiting_for_the_database(solent, root, tmp_path, database, fhir):
    """SIGTERM to an engine still waiting for its database ends it at once with status 0 and
    event=stopping; a SIGHUP meanwhile is put off (event=reload_ignored), not applied to an
    engine that has not started."""
    e = ClusterEngine(solent, root, str(tmp_path), free_ports(), fhir.port, "never")
    with open(e.conf) as f:
        text = f.read()
    pg_port = int(os.environ["SOLENT_TEST_PG_DSN"].split("port=")[1].split()[0])
    with open(e.conf, "w") as f:
        f.write(text.replace("port=%d" % pg_port, "port=%d" % free_port()))
    harness.open_to_engine(e.work)
    e.log = open(e.log_path, "ab")
    e.proc = subprocess.Popen([solent, "run", "-c", e.conf] + harness.AS_USER, stderr=e.log)
    check(e.wait_log(b"event=store_unreachable", 1), "the engine waits for its database")
    e.proc.send_signal(signal.SIGHUP)
    check(e.wait_log(b"event=reload_ignored", 1), "a reload while starting is put off")
    check(e.admin("/readyz")[0] == 503, "still not ready")
    e.proc.send_signal(signal.SIGTERM)
    check(e.proc.wait(timeout=10) == 0, "a stop while waiting is a clean exit")
    check(e.wait_log(b"event=stopping", 1), "and says it stopped")
