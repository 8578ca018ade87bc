#!/usr/bin/env python3
"""Delivery, end to end: solent run → a real FHIR R4 server on loopback.

The server is tests/fhir/fhir_server.js (@medplum/fhir-router with validation on
write, transactions that roll back, test controls). Senders are python-hl7's MLLP
client. Checks, against what the server holds and what it saw:

- ADT and ORU for many patients end as one Patient per identifier whose name is
  the last one sent, one Encounter per visit, the Observations linked; every
  transaction the server accepted for a patient arrived in the order sent.
- An outage under load (the server killed, then back on the same port), 503s
  flapping, 429 with Retry-After, connections dropped mid-response, a 2xx with a
  nonsense body, a transaction-response with a failed entry, a server slower
  than the timeout: everything delivered, in order, no duplicate resources.
- A 400 with an OperationOutcome: a dead letter with the status and the outcome
  kept in the store (not in the log); the patient's later bundles still go;
  `solent replay --dead` sends it after the fault is gone; `solent status`.
- kill -9 of the engine during delivery: after the restart every bundle is
  delivered, once in effect.
- directory destinations: each bundle a file, written atomically.
- The admin endpoint: /healthz; /metrics only with its bearer token, counting the
  messages, the delivery attempts by outcome, token failures, and the store's
  dead letters and waiting queues.

Run by pytest (conftest.py): python3 -m pytest tests/engine/test_delivery.py --solent BIN --root .
"""
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import hl7.client
import pytest

import harness  # noqa: E402
from harness import (ADMIN_TOKEN, AS_USER, MRN, DeliveryEngine, FhirServer, check,  # noqa: F401
                     check_final_state, fields, free_port, log_of, openssl, run, send, traffic)


@pytest.fixture
def e(solent, root, tmp_path, fhir):
    """An engine delivering to the FHIR test server (phr) and a directory (copy)."""
    engine = DeliveryEngine(solent, root, str(tmp_path), free_port(), fhir.port)
    engine.start()
    return engine


def test_end_to_end(e, fhir):
    plan = traffic("E", 30)
    send(e.port, plan)
    check(e.drained(), "end to end: the queue drains")
    check_final_state(fhir, plan, "end to end")
    rows = e.rows("select status, count(*), min(last_http_status), max(last_http_status),"
                  " sum(locations like '%Patient/%') from outbox where destination = 'phr'"
                  " group by status")
    check(rows == [("delivered", 120, 200, 200, 120)],
          "end to end: 120 bundles delivered with HTTP 200 and the server's Locations: %r" % rows)
    st = e.status()
    check(st["phr"]["delivered"] == 120 and st["phr"]["dead"] == 0 and st["phr"]["pending"] == 0,
          "solent status counts the delivered bundles: %r" % st.get("phr"))
    files = sorted(glob.glob(os.path.join(e.work, "data", "copy", "*.json")))
    check(len(files) == 90, "the directory destination has one file per ADT bundle: %d" % len(files))
    if files:
        b = json.load(open(files[0]))
        check(b["resourceType"] == "Bundle" and oct(os.stat(files[0]).st_mode & 0o777) == "0o600",
              "each file is a whole bundle, readable by its owner only")
    check(not glob.glob(os.path.join(e.work, "data", "copy", ".*.tmp")), "no temp files left")
    check(e.admin("/healthz", token=None) == (200, "ok\n"), "/healthz answers without a token")
    check(e.admin("/readyz", token=None) == (200, "ready\n"), "/readyz: ready while running")
    check(e.admin("/metrics", token=None)[0] == 401 and e.admin("/metrics", token="nope")[0] == 401
          and e.admin("/metrics", token=ADMIN_TOKEN + "x")[0] == 401,
          "/metrics refuses a request without the token, or with another")
    check(e.admin("/nothing")[0] == 404, "an unknown admin path is a 404")
    with hl7.client.MLLPClient("127.0.0.1", e.port) as c:  # the same message again
        again = fields(c.send_message(plan[sorted(plan)[0]][0]))
    check(again["MSA"][1] == "AA", "a duplicate is answered with the first ACK")
    m = e.metrics()
    want = {'solent_messages_total{listener="pas",status="accepted"}': 120,
            'solent_messages_total{listener="pas",status="error"}': 0,
            'solent_messages_total{listener="pas",status="duplicate"}': 1,
            'solent_delivery_attempts_total{destination="phr",outcome="delivered"}': 120,
            'solent_delivery_attempts_total{destination="phr",outcome="dead"}': 0,
            'solent_delivery_attempts_total{destination="copy",outcome="delivered"}': 90,
            'solent_delivery_in_flight{destination="phr"}': 0,
            'solent_connections{listener="pas"}': 0,
            'solent_ack_seconds_count{listener="pas"}': 121,
            'solent_ack_seconds_bucket{listener="pas",le="+Inf"}': 121,
            'solent_delivery_seconds_count{destination="phr"}': 120,
            'solent_delivery_seconds_count{destination="copy"}': 90}
    got = {k: m.get(k) for k in want}
    check(got == want, "/metrics counts the messages and the deliveries: %r" % got)
    for name, label in (("solent_ack_seconds", 'listener="pas"'),
                        ("solent_delivery_seconds", 'destination="phr"')):
        buckets = [(float(k.split('le="')[1].rstrip('"}')), v) for k, v in m.items()
                   if k.startswith("%s_bucket{%s," % (name, label))]
        counts = [v for _, v in sorted(buckets)]
        check(len(counts) == 21 and counts == sorted(counts)
              and counts[-1] == m.get("%s_count{%s}" % (name, label))
              and m.get("%s_sum{%s}" % (name, label), 0) > 0,
              "%s: 21 cumulative buckets, a sum of seconds: %r" % (name, counts))
    check(e.wait_metric('solent_outbox_queues{destination="phr"}', 0) == 0 and
          m.get('solent_dead_letters{destination="phr"}') == 0,
          "/metrics: no queue waiting, no dead letter once drained")
    old = e.admin_port  # a reload moves the endpoint; the counters stay
    e.admin_port = free_port()
    e.write()
    e.proc.send_signal(signal.SIGHUP)
    check(e.wait_log(b"event=admin_listening", 2), "a reload moves the admin endpoint")
    moved = e.metrics().get('solent_messages_total{listener="pas",status="accepted"}')
    new, e.admin_port = e.admin_port, old
    try:
        gone = e.admin("/healthz", token=None)
    except OSError:
        gone = "refused"
    e.admin_port = new
    check(moved == 120 and gone == "refused",
          "after the reload the new port serves the same counters, the old one is closed: %r %r"
          % (moved, gone))


def test_directory_fault(solent, root, fhir):
    """A directory destination that cannot be written (its path is a file): rows are retried,
    none lost or dead; once the directory is there every bundle is written."""
    with tempfile.TemporaryDirectory() as work:
        os.makedirs(os.path.join(work, "data"), mode=0o700)
        copy = os.path.join(work, "data", "copy")
        with open(copy, "w") as f:
            f.write("not a directory")
        e = DeliveryEngine(solent, root, work, free_port(), fhir.port)
        e.start()
        plan = traffic("Y", 3)
        send(e.port, plan, connections=1)
        check(e.wait_log(b"cannot open the directory", 1), "an unwritable directory is logged")
        rows = e.rows("select status, count(*) from outbox where destination = 'copy'"
                      " group by status")
        check(("delivered", 9) not in rows and not any(r[0] == "dead" for r in rows),
              "unwritable directory: nothing counted written, nothing dead: %r" % rows)
        os.unlink(copy)
        os.mkdir(copy, 0o700)
        harness.give_to_engine(copy)  # as an operator would make it: the engine's
        check(e.drained(), "the directory's rows are written once it exists")
        files = glob.glob(os.path.join(copy, "*.json"))
        check(len(files) == 9, "one file per ADT bundle after the fault: %d" % len(files))
        check(e.stop() == 0, "clean stop after the directory fault")


def test_faults(e, fhir):
    """503 flapping, 429 with Retry-After, dropped connections, nonsense 2xx, a failed entry,
    then a server slower than the timeout."""
    fhir.control("fail", count=6, status=503)
    fhir.control("fail", count=1, status=429, retry_after=1)
    fhir.control("drop", count=3)
    fhir.control("fail", count=2, status=200, body="garbage")
    fhir.control("entry_fail", count=2, status=503)
    plan = traffic("F", 12)
    send(e.port, plan)
    check(e.drained(), "faults: the queue drains after 503s, a 429, drops and nonsense")
    check_final_state(fhir, plan, "faults")
    log = log_of(e)
    check(b'reason="HTTP 503"' in log, "a 503 is logged as a retry")
    waits = [int(w) for w in re.findall(rb'reason="HTTP 429" next_in_ms=(\d+)', log)]
    check(waits and all(w >= 1000 for w in waits), "a 429's Retry-After: 1 s is honoured: %r"
          % waits)
    check(b'not a transaction-response' in log, "a 2xx with a nonsense body is a failure")
    check(b'entry 1 has status 503' in log, "a failed entry in a transaction-response is retried")
    check(b'reason="no answer' in log, "a connection dropped mid-response is retried")
    dead = e.rows("select count(*) from outbox where status = 'dead'")[0][0]
    check(dead == 0, "faults: no dead letters from transient faults: %d" % dead)
    retries = e.metrics().get('solent_delivery_attempts_total{destination="phr",outcome="retry"}')
    check(retries is not None and retries >= 14, "/metrics counts the retries: %r" % retries)


def slow(e, fhir):
    """Slower than the engine's timeout (2 s): retried; the server applied some of the timed-out
    ones anyway, which the conditional updates make harmless."""
    fhir.control("delay", ms=2500)
    plan = traffic("S", 3)
    send(e.port, plan, connections=1)
    check(e.wait_log(b"timed out", 1, timeout=20),
          "a request slower than timeout_ms is abandoned and retried")
    fhir.control("delay", ms=0)
    check(e.drained(), "slow: the queue drains once the server is fast again")
    check_final_state(fhir, plan, "slow server", allow_repeats=True)


def test_dead_letter_and_replay(e, fhir):
    fhir.control("fail", count=1, status=400)
    plan = traffic("D", 1)
    send(e.port, plan, connections=1)
    check(e.drained(), "dead letter: the rest of the queue drains")
    dead = e.rows("select last_http_status, cast(response as text), last_error from outbox"
                  " where status = 'dead'")
    check(len(dead) == 1 and dead[0][0] == 400 and "OperationOutcome" in dead[0][1],
          "a 400 is a dead letter with its status and OperationOutcome kept: %r" % dead)
    check(b"failure requested by the test" not in log_of(e), "the OperationOutcome is not logged")
    check(e.wait_log(b"event=dead_letter", 1), "the dead letter is logged")
    mrn = sorted(plan)[0]
    pats = fhir.patient(mrn)
    check(len(pats) == 1 and pats[0]["name"][0]["given"][0] == "Seq004",
          "a dead head does not block the patient's later bundles: %r" % pats)
    st = e.status()
    check(st["phr"]["dead"] == 1, "solent status shows the dead letter: %r" % st["phr"])
    check(e.wait_metric('solent_dead_letters{destination="phr"}', 1) == 1 and
          e.metrics().get('solent_delivery_attempts_total{destination="phr",outcome="dead"}') == 1,
          "/metrics shows the dead letter")
    dry = subprocess.run([e.solent, "replay", "-c", e.conf, "--dead", "--dry-run"],
                         capture_output=True)
    check(dry.returncode == 0 and json.loads(dry.stdout)["resourceType"] == "Bundle",
          "replay --dry-run prints the bundle: %r" % dry.stderr)
    check(e.status()["phr"]["dead"] == 1, "a dry run changes nothing")
    r = subprocess.run([e.solent, "replay", "-c", e.conf, "--dead", "--destination", "phr"],
                       capture_output=True)
    check(r.returncode == 0 and b"queued for phr" in r.stdout, "replay --dead queues: %r" % r.stderr)
    check(e.drained(), "the replayed bundle is delivered")
    st = e.status()
    check(st["phr"]["dead"] == 0, "after replay no dead letter is left: %r" % st["phr"])
    check(e.wait_metric('solent_dead_letters{destination="phr"}', 0) == 0,
          "/metrics: no dead letter after the replay")
    r = subprocess.run([e.solent, "replay", "-c", e.conf, "99999"], capture_output=True)
    check(r.returncode == 1 and b"no such message" in r.stderr, "replay of an unknown id fails clearly")


def test_outage(e, fhir):
    """The server dies under load and comes back (empty: it keeps nothing): everything is
    delivered, in order per patient."""
    fhir.kill()
    plan = traffic("O", 20)
    send(e.port, plan)
    time.sleep(1.5)
    check(e.rows("select count(*) from outbox where status = 'retry'")[0][0] > 0,
          "while the server is down bundles wait for retry")
    fhir.start()
    check(e.drained(timeout=90), "outage: the queue drains once the server is back")
    check_final_state(fhir, plan, "outage")


def test_stop_during_delivery(e, fhir):
    """SIGTERM with bundles in flight: the engine starts nothing new, waits for the answers
    and records them before it exits, so after a restart nothing is sent twice."""
    fhir.control("delay", ms=300)
    plan = traffic("T", 8)
    send(e.port, plan)
    time.sleep(0.6)  # a request takes 300 ms at the server: some are in flight now
    check(e.rows("select count(*) from outbox where lease_until is not null"
                 " and status in ('pending', 'retry')")[0][0] > 0, "bundles are in flight")
    check(e.stop() == 0, "SIGTERM during delivery: exit 0")
    check(b"event=stop_grace_over" not in log_of(e), "the attempts in flight ended within the grace")
    fhir.control("delay", ms=0)
    e.start()
    check(e.drained(), "after the restart the queue drains")
    check_final_state(fhir, plan, "SIGTERM during delivery")  # no bundle accepted twice


def test_kill_during_delivery(e, fhir):
    fhir.control("delay", ms=150)
    plan = traffic("K", 12)
    send(e.port, plan)
    time.sleep(0.5)
    e.stop(signal.SIGKILL)
    fhir.control("delay", ms=0)
    e.start()
    check(e.drained(), "after kill -9 the queue drains")
    check_final_state(fhir, plan, "kill -9 during delivery", allow_repeats=True)


def test_auth(solent, root, fhir):
    """OAuth2 client credentials (basic and post) and SMART Backend Services (RS384, ES384)
    against the test server's token endpoint: tokens fetched once and reused, refreshed when
    they expire mid-load and after a 401; a wrong key is a clear error and rows wait."""
    with tempfile.TemporaryDirectory() as keys:
        def key(name, *algo):
            openssl("genpkey", *algo, "-out", os.path.join(keys, name + ".pem"))
            openssl("pkey", "-in", os.path.join(keys, name + ".pem"), "-pubout", "-out",
                    os.path.join(keys, name + ".pub"))
            return os.path.join(keys, name + ".pem"), open(os.path.join(keys, name + ".pub")).read()

        rsa, rsa_pub = key("rsa", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048")
        ec, ec_pub = key("ec", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384")
        _, wrong_pub = key("wrong", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048")
        harness.give_to_engine(keys)  # read again by a reload, as the engine's user
        os.environ["SOLENT_TEST_CLIENT_SECRET"] = "s3cret-for-tests"
        token_url = "http://127.0.0.1:%d/token" % fhir.port
        clients = {**FhirServer.TESTER, "solent-basic": {"secret": "s3cret-for-tests"},
                   "solent-rsa": {"public_key": rsa_pub, "kid": "k-rsa"},
                   "solent-ec": {"public_key": ec_pub, "kid": "k-ec"}}
        modes = [
            ("client_secret_basic", "auth = oauth2_client_credentials\nclient_id = solent-basic\n"
             "client_secret = env:SOLENT_TEST_CLIENT_SECRET\nclient_auth = basic\n"),
            ("client_secret_post", "auth = oauth2_client_credentials\nclient_id = solent-basic\n"
             "client_secret = env:SOLENT_TEST_CLIENT_SECRET\nclient_auth = post\n"),
            ("private_key_jwt_RS384", "auth = smart_backend\nclient_id = solent-rsa\n"
             "private_key = %s\nkid = k-rsa\nalg = RS384\n" % rsa),
            ("private_key_jwt_ES384", "auth = smart_backend\nclient_id = solent-ec\n"
             "private_key = %s\nkid = k-ec\nalg = ES384\n" % ec),
        ]
        for n, (method, settings) in enumerate(modes):
            fhir.control("reset")
            fhir.call("POST", "/$test/auth", {"clients": clients, "expires_in": 3600})
            with tempfile.TemporaryDirectory() as work:
                e = DeliveryEngine(solent, root, work, free_port(), fhir.port,
                                   phr_extra="token_url = %s\nscope = system/*.write\n%s"
                                   % (token_url, settings))
                e.start()
                plan = traffic("A%d" % n, 5)
                send(e.port, plan)
                check(e.drained(), "%s: the queue drains" % method)
                check_final_state(fhir, plan, method)
                stats = fhir.call("GET", "/$test/auth_stats")
                used = "%s/%s" % (method, settings.split("client_id = ")[1].split("\n")[0])
                check(stats["methods"].get(used) == 1,
                      "%s: one token for 20 bundles: %r" % (method, stats))
                if method == "private_key_jwt_RS384":
                    fhir.control("revoke")  # the server forgets it: 401, one refresh, resent
                    more = traffic("R", 1)
                    send(e.port, more, connections=1)
                    check(e.drained(), "after a 401 the queue drains")
                    check(e.wait_log(b"event=token_rejected", 1), "a 401 condemns the token")
                    stats = fhir.call("GET", "/$test/auth_stats")
                    check(stats["methods"].get(used) == 2, "a 401 costs one new token: %r" % stats)
                    check_final_state(fhir, more, "after a 401")
                if method == "private_key_jwt_ES384":  # short-lived tokens, expiring mid-load
                    fhir.call("POST", "/$test/auth", {"clients": clients, "expires_in": 1})
                    fhir.control("delay", ms=40)
                    more = traffic("X", 10)
                    send(e.port, more)
                    check(e.drained(), "tokens expiring mid-load: the queue drains")
                    fhir.control("delay", ms=0)
                    stats = fhir.call("GET", "/$test/auth_stats")
                    check(stats["methods"].get(used, 0) >= 2 and not stats["rejected"],
                          "tokens renewed as they expire, every assertion accepted: %r" % stats)
                    check_final_state(fhir, more, "tokens expiring mid-load")
                check(e.stop() == 0, "%s: clean stop" % method)
                check(b"s3cret-for-tests" not in log_of(e), "the client secret is not logged")
        # static credentials: basic with the password in a file, bearer with a token from env
        fhir.control("reset")
        fhir.call("POST", "/$test/auth", {"clients": clients, "expires_in": 3600,
                                          "basic": {"user": "solent", "password": "pw-in-a-file"}})
        os.environ["SOLENT_TEST_BEARER"] = fhir.tester_token()
        pw = os.path.join(keys, "password")
        with open(pw, "w") as f:
            f.write("pw-in-a-file\n")
        os.chmod(pw, 0o600)
        harness.give_to_engine(pw)
        for n, settings in enumerate(["auth = basic\nusername = solent\npassword = file:%s\n" % pw,
                                      "auth = bearer\ntoken = env:SOLENT_TEST_BEARER\n"]):
            with tempfile.TemporaryDirectory() as work:
                e = DeliveryEngine(solent, root, work, free_port(), fhir.port, phr_extra=settings)
                e.start()
                plan = traffic("Z%d" % n, 2)
                send(e.port, plan, connections=1)
                what = settings.split("\n")[0]
                check(e.drained(), "%s: the queue drains" % what)
                check_final_state(fhir, plan, what)
                check(e.stop() == 0, "%s: clean stop" % what)
                check(b"pw-in-a-file" not in log_of(e) and
                      os.environ["SOLENT_TEST_BEARER"].encode() not in log_of(e),
                      "%s: the secret is not logged" % what)
        # the server knows another key: the token endpoint says no, rows wait, nothing dies
        fhir.control("reset")
        bad = dict(clients, **{"solent-rsa": {"public_key": wrong_pub, "kid": "k-rsa"}})
        fhir.call("POST", "/$test/auth", {"clients": bad, "expires_in": 3600})
        with tempfile.TemporaryDirectory() as work:
            e = DeliveryEngine(solent, root, work, free_port(), fhir.port,
                               phr_extra="token_url = %s\n%s" % (token_url, modes[2][1]))
            e.start()
            plan = traffic("W", 2)
            send(e.port, plan, connections=1)
            check(e.wait_log(b"event=token_failed", 2), "a rejected assertion is logged, and retried")
            log = log_of(e)
            check(b"http_status=401" in log and b"invalid_client" in log,
                  "the token failure says what the endpoint said")
            rows = e.rows("select status, count(*) from outbox where destination = 'phr'"
                          " group by status")
            check(rows == [("pending", 8)], "with no token rows wait, none dead: %r" % rows)
            fails = e.metrics().get('solent_token_failures_total{destination="phr"}')
            check(fails is not None and fails >= 2, "/metrics counts the token failures: %r" % fails)
            check(e.wait_metric('solent_outbox_queues{destination="phr"}', 2) == 2,
                  "/metrics: two patient queues wait for a token")
            fhir.call("POST", "/$test/auth", {"clients": clients, "expires_in": 3600})
            check(e.drained(), "once the key is right the queue drains")
            check_final_state(fhir, plan, "after fixing the key")
            check(e.stop() == 0, "clean stop after the wrong key")


def test_tls(solent, root):
    """HTTPS with certificates verified against ca_file; a server the engine cannot verify is
    retried, not dead-lettered, until a reload trusts its CA; mutual TLS needs client_cert."""
    import ssl
    with tempfile.TemporaryDirectory() as d:
        def p(name):
            return os.path.join(d, name)

        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", p("ca.key"), "-out",
                p("ca.pem"), "-days", "1", "-subj", "/CN=Solent Test CA")
        for name, ext in (("server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth"),
                          ("client", "extendedKeyUsage=clientAuth")):
            with open(p(name + ".ext"), "w") as f:
                f.write(ext + "\n")
            openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", p(name + ".key"), "-out",
                    p(name + ".csr"), "-subj", "/CN=" + name)
            openssl("x509", "-req", "-in", p(name + ".csr"), "-CA", p("ca.pem"), "-CAkey",
                    p("ca.key"), "-CAcreateserial", "-out", p(name + ".pem"), "-days", "1",
                    "-extfile", p(name + ".ext"))
        harness.give_to_engine(d)  # read again by a reload, as the engine's user
        ctx = ssl.create_default_context(cafile=p("ca.pem"))
        ctx.load_cert_chain(p("client.pem"), p("client.key"))
        for mtls in (False, True):
            args = ["--tls", p("server.pem"), p("server.key")] + (
                ["--client-ca", p("ca.pem")] if mtls else [])
            server = FhirServer(root, free_port(), args)
            server.ssl = ctx
            server.start()
            try:
                with tempfile.TemporaryDirectory() as work:
                    what = "mutual TLS" if mtls else "TLS"
                    # first without what it needs: the CA (TLS), the client certificate (mTLS)
                    first = "ca_file = %s\n" % p("ca.pem") if mtls else ""
                    e = DeliveryEngine(solent, root, work, free_port(), server.port,
                                       phr_extra=first, scheme="https")
                    e.start()
                    plan = traffic("T%d" % mtls, 2)
                    send(e.port, plan, connections=1)
                    check(e.wait_log(b"event=delivery_retry", 2), "%s: refused, retried" % what)
                    rows = e.rows("select status, count(*) from outbox where destination = 'phr'"
                                  " group by status")
                    check(("dead", 1) not in rows and not any(r[0] == "delivered" for r in rows),
                          "%s: nothing delivered, nothing dead while it cannot connect: %r"
                          % (what, rows))
                    if not mtls:
                        check(b"certificate" in log_of(e), "the log names the certificate problem")
                    e.phr_extra = "ca_file = %s\n" % p("ca.pem") + (
                        "client_cert = %s\nclient_key = %s\n" % (p("client.pem"), p("client.key"))
                        if mtls else "")
                    e.write()
                    e.proc.send_signal(signal.SIGHUP)
                    check(e.drained(), "%s: delivered once the configuration is right" % what)
                    check_final_state(server, plan, what)
                    versions = {r.get("http") for r in server.requests() if r["applied"]}
                    check(versions == {"2.0"}, "%s: HTTP/2, which the server offers: %r"
                          % (what, versions))
                    check(e.stop() == 0, "%s: clean stop" % what)
            finally:
                server.kill()


def test_second_engine_refused(e):
    second = subprocess.run([e.solent, "run", "-c", e.conf] + AS_USER, capture_output=True,
                            timeout=10)
    check(second.returncode != 0 and b"another solent run is using the store" in second.stderr,
          "a second engine on the same store refuses to start: %r" % second.stderr)


def test_admin_token_not_logged(e):
    plan = traffic("MX", 3)
    send(e.port, plan)
    check(e.drained(), "the traffic is delivered")
    status, body = e.admin("/metrics")
    leaks = [v for v in [s.decode() for s in harness.SENTINELS] + list(plan) + [ADMIN_TOKEN]
             if v in body]
    check(status == 200 and "solent_messages_total" in body and not leaks,
          "/metrics after patients' traffic: no patient value, no token: %r" % leaks)
    check(e.admin("/metrics", token="wrong")[0] == 401, "a wrong token is refused")
    check(e.admin("/metrics", token=ADMIN_TOKEN[:-1])[0] == 401, "a token's prefix is refused")
    check(e.metrics().get("solent_admin_unauthorized_total") == 2,
          "refused admin requests counted in /metrics")
    check(e.stop() == 0, "clean stop")
    log = log_of(e)
    check(ADMIN_TOKEN.encode() not in log and b"event=admin_unauthorized" in log,
          "refused admin requests are logged, the admin token never")


def test_slow_server(solent, root, tmp_path, fhir):
    e = DeliveryEngine(solent, root, str(tmp_path), free_port(), fhir.port, timeout="2s")
    e.start()
    slow(e, fhir)
    check(e.stop() == 0, "clean stop after the slow server")



def pid_msg(cid, event, pid3, given, extra=""):
    """An ADT with PID-3 as given (repetitions joined by ~) and the first name `given`."""
    structure = "ADT_A39" if event == "A40" else "ADT_A01"
    return ("MSH|^~\\&|PAS|RHM|SOLENT|TRUST|20261129083000+0000||ADT^%s^%s|%s|P|2.5.1\r"
            "EVN|%s|20261129083000+0000\rPID|1||%s||Test^%s||19850412|U\r%s"
            % (event, structure, cid, event, pid3, given, extra)).encode()


def test_nhs_number_arrives_later(e, fhir):
    """A PAS registers a patient by MRN alone, sends the NHS number once PDS has traced it,
    goes on with MRN-only messages, then merges a duplicate registration into the record:
    one active Patient at the server throughout, every bundle accepted (none dead), in the
    order sent — the key is the sender's MRN, the NHS number a further identifier."""
    mrn, dup, nhs = "KEY0001^^^RHM^MR", "KEY0002^^^RHM^MR", "9434765919^^^NHS^NH"
    sequence = [pid_msg("NL1", "A04", mrn, "Seq001"),
                pid_msg("NL2", "A08", nhs + "~" + mrn, "Seq002"),
                pid_msg("NL3", "A08", mrn, "Seq003"),
                pid_msg("NL4", "A04", dup, "Dupl001"),
                pid_msg("NL5", "A40", nhs + "~" + mrn, "Seq004",
                        "MRG|%s||||||Test^Dupl001\r" % dup)]
    with hl7.client.MLLPClient("127.0.0.1", e.port) as c:
        for m in sequence:
            a = fields(c.send_message(m))
            check(a["MSA"][1] == "AA", "accepted: %r" % a["MSA"])
    check(e.drained(), "the queue drains")
    dead = e.rows("select count(*) from outbox where status = 'dead'")[0][0]
    check(dead == 0, "no bundle refused (no 'matched multiple resources'): %d dead" % dead)
    pats = fhir.patient("KEY0001")
    check(len(pats) == 1, "one Patient for the MRN: %d" % len(pats))
    p = pats[0]
    nhs_ids = [i for i in p["identifier"] if i.get("system") == "https://fhir.nhs.uk/Id/nhs-number"]
    check(nhs_ids and nhs_ids[0]["value"] == "9434765919", "it carries the NHS number: %r"
          % p["identifier"])
    check(p["name"][0]["given"][0] == "Seq004" and p.get("active", True),
          "the last name sent, active: %r" % p["name"])
    by_nhs = fhir.search("Patient?identifier=%s" % urllib.parse.quote(
        "https://fhir.nhs.uk/Id/nhs-number|9434765919")).get("entry", [])
    check(len(by_nhs) == 1, "one Patient holds the NHS number: %d" % len(by_nhs))
    retired = fhir.patient("KEY0002")
    check(len(retired) == 1 and retired[0]["active"] is False
          and retired[0]["link"][0]["type"] == "replaced-by",
          "the merged-away registration is inactive and replaced-by the record: %r" % retired)
    tags = [r["tag"] for r in fhir.requests() if r["applied"] and r["tag"]
            and r["tag"].startswith("Seq")]
    check(tags == ["Seq001", "Seq002", "Seq003", "Seq004"],
          "the record's bundles accepted in the order sent: %r" % tags)
    keys = {k for (k,) in e.rows("select distinct ordering_key from outbox"
                                 " where destination = 'phr' and message_id in"
                                 " (select id from messages where control_id in"
                                 " ('NL1', 'NL2', 'NL3', 'NL5'))")}
    check(keys == {"phr|%s|KEY0001" % MRN}, "one ordering key for the record: %r" % keys)


def corpus_messages(root):
    corpus = os.path.join(root, "..", "shared", "corpus")
    if not os.path.isdir(corpus):
        pytest.skip("no corpus beside the checkout")
    return sorted(f for f in glob.glob(os.path.join(corpus, "**", "*"), recursive=True)
                  if os.path.isfile(f) and f.lower().endswith((".hl7", ".hl7v2", ".txt")))


def test_every_corpus_bundle_accepted(solent, root, fhir):
    """Every corpus message that converts makes a transaction the FHIR server accepts: no
    request.url twice (the same resource from two segments is one merged entry), no control
    character in a string (replaced, with a warning by position), nothing the server's
    validation refuses."""
    refused, posted = [], 0
    for path in corpus_messages(root):
        r = subprocess.run([solent, "convert", path], capture_output=True, text=True)
        for n, line in enumerate(l for l in r.stdout.splitlines() if l.strip()):
            bundle = json.loads(line)
            urls = [e["request"]["url"] for e in bundle["entry"]]
            if len(urls) != len(set(urls)):
                refused.append((path, n, "the same request.url twice"))
                continue
            try:
                answer = fhir.call("POST", "/", bundle)
                posted += 1
                bad = [e["response"]["status"] for e in answer["entry"]
                       if not e["response"]["status"].startswith("2")]
                if bad:
                    refused.append((path, n, bad[:3]))
            except urllib.error.HTTPError as x:
                refused.append((path, n, x.code, x.read()[:300]))
    check(posted > 250 and not refused, "%d posted; refused: %d, first %r"
          % (posted, len(refused), refused[:3]))


def test_order_then_results_one_service_request(solent, root, tmp_path, fhir):
    """An order (ORM^O01 NW), then its results (ORU^R01) and a later cancel of another order,
    through the engine to the real server: the results update the ServiceRequest the order
    made — one per placer number, its report basedOn it — and the status follows the
    messages in the order sent."""
    e = DeliveryEngine(solent, root, str(tmp_path), free_port(), fhir.port)
    e.write(routes="adt, oru, orm")
    e.start()
    pid = "PID|1||ORD9001^^^RHM^MR||Test^Order||19850412|U\r"
    msgs = [
        ("MSH|^~\\&|EPR|RHM|LAB|RHM|20261129074500+0000||ORM^O01^ORM_O01|ORM9001|P|2.5.1\r" + pid +
         "ORC|NW|ORDX9001^EPR||||||||20261129074000+0000\r"
         "OBR|1|ORDX9001^EPR||26958-3^Potassium and Sodium panel^LN\r"
         "ORC|NW|ORDX9002^EPR||||||||20261129074000+0000\r"
         "OBR|2|ORDX9002^EPR||24725-4^CT Head^LN\r").encode(),
        ("MSH|^~\\&|LAB|RHM|SOLENT|TRUST|20261129091500+0000||ORU^R01^ORU_R01|ORU9001|P|2.5.1\r" + pid +
         "ORC|RE|ORDX9001^EPR|LABX9001^LAB||CM\r"
         "OBR|1|ORDX9001^EPR|LABX9001^LAB|26958-3^Potassium and Sodium panel^LN|||20261129080000+0000"
         "||||||||||||||||CH|F\r"
         "OBX|1|NM|2823-3^Potassium^LN||4.1|mmol/L^mmol/L^UCUM|3.5-5.3|N|||F\r").encode(),
        ("MSH|^~\\&|EPR|RHM|LAB|RHM|20261129093000+0000||ORM^O01^ORM_O01|ORM9002|P|2.5.1\r" + pid +
         "ORC|CA|ORDX9002^EPR|||CA\r"
         "OBR|1|ORDX9002^EPR||24725-4^CT Head^LN\r").encode(),
    ]
    with hl7.client.MLLPClient("127.0.0.1", e.port) as c:
        for m in msgs:
            check(fields(c.send_message(m))["MSA"][1] == "AA", "ACKed AA")
    check(e.drained(), "delivered")
    patients = fhir.patient("ORD9001")
    check(len(patients) == 1, "one Patient: %d" % len(patients))

    def of_patient(kind):
        b = fhir.search("%s?subject=Patient/%s" % (kind, patients[0]["id"]))
        return [x["resource"] for x in b.get("entry", [])]

    requests = of_patient("ServiceRequest")
    by_placer = {}
    for r in requests:
        by_placer.setdefault(r["identifier"][0]["value"], []).append(r)
    check(sorted(by_placer) == ["ORDX9001", "ORDX9002"] and all(len(v) == 1 for v in by_placer.values()),
          "one ServiceRequest per order: %r" % {k: len(v) for k, v in by_placer.items()})
    done, cancelled = by_placer["ORDX9001"][0], by_placer["ORDX9002"][0]
    check(done["status"] == "completed" and cancelled["status"] == "revoked",
          "statuses follow the messages: %s, %s" % (done["status"], cancelled["status"]))
    reports = of_patient("DiagnosticReport")
    check(len(reports) == 1 and reports[0]["basedOn"][0]["reference"] == "ServiceRequest/" + done["id"],
          "the report is basedOn the order's ServiceRequest: %r" % [r.get("basedOn") for r in reports])


def test_appointment_booked_then_rescheduled_then_cancelled(solent, root, tmp_path, fhir):
    """A booking, a reschedule and a cancel of one appointment (SIU S12, S13, S15) through the
    engine to the real server: one Appointment, at the new time, cancelled."""
    e = DeliveryEngine(solent, root, str(tmp_path), free_port(), fhir.port)
    e.write(routes="adt, siu")
    e.start()
    pid = "PID|1||APT9001^^^RHM^MR||Test^Appointment||19850412|U\r"

    def siu(trigger, cid, tail):
        return ("MSH|^~\\&|PAS|RHM|SOLENT|TRUST|20261129091500+0000||SIU^%s^SIU_S12|%s|P|2.5.1\r"
                "SCH|APTX9001^EPR|APTX9001^PAS^2.16.840.1.113883.19.7^ISO%s\r%s"
                % (trigger, cid, tail, pid)).encode()
    msgs = [siu("S12", "SIU9001", "|||||||30|min|^^^20261215103000+0000"),
            siu("S13", "SIU9002", "|||||||30|min|^^^20261222140000+0000"),
            siu("S15", "SIU9003", "|||||||30|min|^^^20261222140000+0000")]
    with hl7.client.MLLPClient("127.0.0.1", e.port) as c:
        for m in msgs:
            check(fields(c.send_message(m))["MSA"][1] == "AA", "ACKed AA")
    check(e.drained(), "delivered")
    b = fhir.search("Appointment?identifier=%s" % urllib.parse.quote(
        "urn:oid:2.16.840.1.113883.19.7|APTX9001"))
    appts = [x["resource"] for x in b.get("entry", [])]
    check(len(appts) == 1, "one Appointment: %d" % len(appts))
    check(appts[0]["status"] == "cancelled" and appts[0]["start"].startswith("2026-12-22T14:00:00"),
          "rescheduled, then cancelled: %s at %s" % (appts[0]["status"], appts[0].get("start")))
    patient = fhir.patient("APT9001")
    check(appts[0]["participant"][0]["actor"]["reference"] == "Patient/" + patient[0]["id"],
          "the patient is its participant")


def test_ledger_metrics(e, root):
    """/metrics adds up the transforms' ledgers by route: the warnings and the unmapped fields
    of every message stored, as `solent convert --explain` counts them for the same messages
    under the same configuration."""
    data = os.path.join(root, "tests", "data", "transforms")
    files = {"adt": ["adt_escapes_and_z.hl7", "adt_a01_local_codes.hl7", "adt_a01_admit.hl7"],
             "oru": ["oru_r01_values.hl7", "oru_r01_repeated_values.hl7"]}
    for names in files.values():
        for name in names:
            rc, out, _ = run(e.solent, "send", "127.0.0.1:%d" % e.port, os.path.join(data, name))
            check(rc == 0, "sent %s: %s" % (name, out))
    m = e.metrics()
    for route, names in files.items():
        _, _, out = run(e.solent, "convert", "-c", e.conf, "--explain",
                        *[os.path.join(data, n) for n in names])
        want = (out.count(": warning "), out.count(": unmapped "))
        got = (m.get('solent_transform_warnings_total{route="%s"}' % route),
               m.get('solent_unmapped_fields_total{route="%s"}' % route))
        check(got == want and want[0] > 0,
              "/metrics: route %s's warnings and unmapped fields as convert --explain counts "
              "them: %r, %r" % (route, got, want))


def test_document_as_binary_accepted(solent, root, tmp_path, fhir):
    """A route with documents = binary: the letter's content travels as a Binary entry the
    DocumentReference points at; the real server takes the transaction, resolves the
    reference to the Binary it stored, and serves the content back."""
    conf = tmp_path / "binary.conf"
    conf.write_text("[listener pas]\nroutes = mdm\n[route mdm]\ntype = MDM^*\ndocuments = binary\n"
                    "destinations = local\n[destination local]\nkind = directory\n"
                    "path = %s\n" % (tmp_path / "out"))
    letter = os.path.join(root, "tests", "data", "transforms", "mdm_t02_pdf_letter.hl7")
    r = subprocess.run([solent, "convert", "-c", str(conf), letter], capture_output=True, text=True)
    answer = fhir.call("POST", "/", json.loads(r.stdout))
    statuses = [e["response"]["status"] for e in answer["entry"]]
    check(all(st.startswith("2") for st in statuses), "the transaction is accepted: %r" % statuses)
    docs = fhir.search("DocumentReference?identifier=%s" % urllib.parse.quote(
        "urn:oid:2.16.840.1.113883.19.5|DOC80001"))["entry"]
    url = docs[0]["resource"]["content"][0]["attachment"]["url"]
    check(url.startswith("Binary/"), "the attachment points at the stored Binary: %r" % url)
    binary = fhir.call("GET", "/" + url)
    check(binary.get("data", "").startswith("JVBERi0xLjQ"),
          "the server serves the PDF back from the Binary: %r" % str(binary)[:200])


def test_outage_recovery(solent, root, tmp_path, fhir):
    """The server down under load, with a 5-minute retry cap: after three attempts in a row
    fail as a whole the destination is down and only probed, one attempt at a time, instead
    of every queue retrying on its own; the first probe answered brings it up and every
    waiting queue is due at once, so the backlog goes as soon as the server is back."""
    e = DeliveryEngine(solent, root, str(tmp_path), free_port(), fhir.port,
                       phr_extra="retry_base_ms = 1s\nretry_cap_ms = 5m\n")
    e.start()
    fhir.kill()
    plan = traffic("V", 20)
    send(e.port, plan)
    check(e.wait_log(b"event=destination_down destination=phr failures=3"),
          "three failures in a row: the destination is down")
    down_at = time.time()
    time.sleep(4)  # an outage: probes only
    log = log_of(e)
    during = log.split(b"event=destination_down")[1].count(b"event=delivery_retry destination=phr")
    elapsed = time.time() - down_at
    check(during <= 8 + elapsed / 1.0 + 1,  # what was in flight when it went down, then probes
          "while down, one probe at a time at most every second: %d retries in %.1f s"
          % (during, elapsed))
    check(e.metrics().get('solent_destination_up{destination="phr"}') == 0,
          "/metrics: the destination is down")
    fhir.start()
    check(e.wait_log(b"event=destination_up destination=phr"), "a probe answered: up again")
    check(e.wait_log(b"event=retries_released destination=phr"), "the waiting queues released")
    later = e.rows("select count(*) from outbox o join outbox_heads h on h.outbox_id = o.id"
                   " where o.destination = 'phr' and o.status = 'retry'"
                   " and o.next_attempt_at > (strftime('%s', 'now') + 2) * 1000")[0][0]
    check(later == 0, "no queue still waits for its own retry time: %d" % later)
    check(e.drained(), "the backlog drains")
    check_final_state(fhir, plan, "after the outage")
    check(e.metrics().get('solent_destination_up{destination="phr"}') == 1,
          "/metrics: the destination is up")


def test_replay_after_duplicate(e, fhir):
    """`solent replay` from another process while the engine runs, after a duplicate was
    answered from the store: the replayed rows are delivered with no new message arriving
    (the duplicate check once left a statement open, and every claim after it failed with
    "database is locked" until the next message)."""
    samples = os.path.join(e.root, "conf", "samples")
    r = subprocess.run([e.solent, "send", "127.0.0.1:%d" % e.port, samples], capture_output=True)
    check(r.returncode == 0, "both samples accepted: %r" % r.stdout)
    again = subprocess.run([e.solent, "send", "127.0.0.1:%d" % e.port,
                            os.path.join(samples, "adt_a01.hl7")], capture_output=True)
    check(again.returncode == 0, "the resend answered")
    check(e.rows("select count(*) from messages where status = 'duplicate'") == [(1,)],
          "the resend stored as a duplicate")
    check(e.drained(), "the first deliveries done")
    done = e.rows("select count(*) from outbox where status = 'delivered'")[0][0]
    r = subprocess.run([e.solent, "replay", "-c", e.conf, "1", "2"], capture_output=True)
    check(r.returncode == 0, "replay queues: %r" % r.stderr)
    deadline = time.time() + 30
    while time.time() < deadline and e.rows(
            "select count(*) from outbox where status = 'delivered'")[0][0] < done + 3:
        time.sleep(0.1)
    delivered = e.rows("select count(*) from outbox where status = 'delivered'")[0][0]
    check(delivered == done + 3, "the replayed rows delivered (ADT to phr and copy, ORU to phr):"
          " %d of %d" % (delivered, done + 3))
    check(b"delivery_claim_failed" not in log_of(e), "no claim failed")


def test_hostile_token_endpoint_cannot_forge_a_line(solent, root, tmp_path, fhir):
    """A token endpoint answering an error whose text holds a quote, a newline and a line of
    its own: the engine's log has its token_failed line, quoted, and no other line."""
    import http.server
    import threading as th

    class Hostile(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            body = json.dumps({"error": 'invalid_client"\nts=2026-01-01T00:00:00.000Z level=error'
                                        ' event=forged_line x="'}).encode()
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    srv = http.server.HTTPServer(("127.0.0.1", 0), Hostile)
    t = th.Thread(target=srv.serve_forever)
    t.start()
    try:
        os.environ["SOLENT_TEST_CLIENT_SECRET"] = "s3cret-for-tests"
        e = DeliveryEngine(solent, root, str(tmp_path), free_port(), fhir.port,
                           phr_extra="auth = oauth2_client_credentials\nclient_id = c\n"
                                     "client_secret = env:SOLENT_TEST_CLIENT_SECRET\n"
                                     "token_url = http://127.0.0.1:%d/token\n" % srv.server_port)
        e.start()
        send(e.port, traffic("H", 1), connections=1)
        check(e.wait_log(b"event=token_failed"), "the failure is logged")
        check(e.stop() == 0, "clean stop")
    finally:
        srv.shutdown()
        t.join()
    lines = log_of(e).decode().splitlines()
    forged = [l for l in lines if "forged_line" in l and "event=token_failed" not in l]
    check(not forged, "no line of the endpoint's making: %r" % forged)
    failed = [l for l in lines if "event=token_failed" in l][0]
    check('\\"' in failed and "\\n" in failed, "the quote and the newline are escaped: %r" % failed)


def test_crash_after_send(e, fhir):
    """The engine dies after the server applied a bundle and before the outcome was recorded
    (SOLENT_FAULTS delivery_after_send=crash): after the restart the bundle goes again, and
    the server ends as if it had gone once (every entry an idempotent update)."""
    e.stop()
    e.start(faults="delivery_after_send=crash")
    plan = traffic("C", 1)
    with hl7.client.MLLPClient("127.0.0.1", e.port) as c:
        check(fields(c.send_message(plan[sorted(plan)[0]][0]))["MSA"][1] == "AA", "accepted")
    check(e.proc.wait(timeout=30) == 86, "the engine stopped after the send (exit 86)")
    e.log.close()
    applied = [r for r in fhir.requests() if r["applied"]]
    check(len(applied) == 1, "the server applied the bundle once before the crash")
    e.start()
    send(e.port, {k: v[1:] + [v[0]] for k, v in plan.items()}, connections=1)
    check(e.drained(), "after the restart the queue drains")
    tags = [r["tag"] for r in fhir.requests() if r["applied"] and r["tag"]]
    check(tags[:2] == ["Seq001", "Seq001"], "the unrecorded bundle went again, first: %r" % tags)
    check(len(fhir.patient(sorted(plan)[0])) == 1, "one Patient all the same")


def test_directory_writes_by_rename(solent, root, tmp_path, fhir):
    """A directory destination's bundle appears only by a rename of a finished temporary file
    (inotify: no *.json created or written under its final name); a failing write, rename or
    directory fsync (SOLENT_FAULTS) leaves the row to be retried, never lost or counted."""
    e = DeliveryEngine(solent, root, str(tmp_path), free_port(), fhir.port)
    copy = os.path.join(str(tmp_path), "data", "copy")
    os.makedirs(copy, mode=0o700)
    events_path = os.path.join(str(tmp_path), "inotify.txt")
    watch = subprocess.Popen(["inotifywait", "-m", "-q", "-e", "create,close_write,moved_to",
                              "--format", "%e %f", "-o", events_path, copy])
    time.sleep(0.5)  # inotifywait watching before the first file
    try:
        e.start(faults="dir_write=fail:1,dir_rename=fail:2,dir_fsync=fail:1")
        plan = traffic("I", 3)
        send(e.port, plan, connections=1)
        check(e.drained(), "every row written in the end")
        time.sleep(0.3)
    finally:
        watch.terminate()
        watch.wait()
    files = sorted(f for f in os.listdir(copy) if f.endswith(".json"))
    check(len(files) == 9 and not [f for f in os.listdir(copy) if f.startswith(".")],
          "one file per ADT bundle, no temporary left: %r" % os.listdir(copy))
    events = [l.split() for l in open(events_path).read().splitlines()]
    final = [ev for ev in events if ev[-1].endswith(".json") and not ev[-1].startswith(".")]
    check(final and all(ev[0] == "MOVED_TO" for ev in final),
          "every bundle file appeared by a rename: %r" % [ev for ev in final if ev[0] != "MOVED_TO"])
    check(sorted(set(ev[-1] for ev in final)) == files,
          "each file renamed into place (again, the same bytes, after a failed fsync): %r"
          % final)
    log = log_of(e)
    for reason in (b"cannot create a file", b"cannot rename a file into place",
                   b"cannot fsync the directory"):
        check(reason in log, "the injected failure is logged as a retry: %r" % reason)
    check(e.rows("select count(*) from outbox where destination = 'copy' and status = 'dead'")
          == [(0,)], "nothing dead for a failing disk step")


def test_backup_under_load_and_restore(solent, root, tmp_path, fhir):
    """solent backup while the engine takes a stream of messages, its FHIR server down (every
    bundle waiting); the backup restored into a fresh data directory by copying it into place
    (the README's procedure), an engine started on it with the server up: every message ACKed
    before the backup began is there, and its bundles are delivered, in order."""
    live = tmp_path / "live"
    live.mkdir()
    e = DeliveryEngine(solent, root, str(live), free_port(), free_port(), timeout="1s")
    e.start()  # nothing listens at its FHIR port: every bundle waits, retried
    plan = traffic("BK", 30)
    send(e.port, plan)
    more, stop = traffic("BL", 200), threading.Event()

    def load():  # the engine keeps committing while the backup reads
        with hl7.client.MLLPClient("127.0.0.1", e.port) as c:
            for mrn in sorted(more):
                for msg in more[mrn]:
                    if stop.is_set():
                        return
                    c.send_message(msg)

    t = threading.Thread(target=load)
    t.start()
    time.sleep(0.2)
    backup = tmp_path / "backup" / "solent.db"
    backup.parent.mkdir()
    r = subprocess.run([solent, "backup", "-c", e.conf, str(backup)], capture_output=True,
                       text=True, timeout=120)
    stop.set()
    t.join()
    check(r.returncode == 0 and "one consistent snapshot" in r.stdout,
          "solent backup under load: %s %s" % (r.stdout, r.stderr))
    check(os.stat(backup).st_mode & 0o777 == 0o600, "the backup is private (0600)")
    again = subprocess.run([solent, "backup", "-c", e.conf, str(backup)], capture_output=True,
                           text=True)
    check(again.returncode == 1 and "never overwrites" in again.stderr, "nor overwritten")
    check(e.stop() == 0, "clean stop")
    fresh = tmp_path / "fresh"
    (fresh / "data").mkdir(parents=True)
    shutil.copy(backup, fresh / "data" / "solent.db")  # the restore: a copy into place
    e2 = DeliveryEngine(solent, root, str(fresh), free_port(), fhir.port)
    e2.start()
    stored = {row[0] for row in e2.rows("select control_id from messages where status = 'accepted'")}
    sent = {m.split(b"|")[9].decode() for msgs in plan.values() for m in msgs}
    check(sent <= stored, "every message ACKed before the backup is in it: %d missing"
          % len(sent - stored))
    check(e2.drained(), "its bundles, undelivered when it was taken, are delivered")
    check_final_state(fhir, plan, "restored from a backup")
    check(e2.stop() == 0, "clean stop after the restore")
