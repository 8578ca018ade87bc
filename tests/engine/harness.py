"""What the engine tests share: peers, messages, the engine under test and the FHIR
test server, as processes each test starts and the fixtures (conftest.py) stop.

Every check raises at once (check() is assert with a message that survives -O), so a
failing test stops there, its engines are killed by the fixtures, and the next test
starts clean. Frames are read whole: read_frame keeps what arrived after the end of a
frame for the next call, so two ACKs arriving in one read are two ACKs.
"""
import json
import os
import signal
import socket
import sqlite3
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import weakref

import hl7.client
import pytest

SB, EB, CR = b"\x0b", b"\x1c", b"\x0d"
ENGINES = []  # every engine a test started: the fixtures stop them and read their logs
EXTRA_LOGS = []  # log files a test had an engine write besides its stderr (log_file)
MRN = "https://fhir.example.nhs.uk/Id/mrn"
ADMIN_TOKEN = "adm-%d-token" % os.getpid()
os.environ["SOLENT_TEST_ADMIN_TOKEN"] = ADMIN_TOKEN  # read by every engine started here

# Patient data the tests send: none of it may ever reach a log (conftest checks every log).
SENTINELS = (b"Zebedee", b"Quentin", b"9434765919", b"SO16", b"Seq00", b"Test^", b"Potassium",
             b"Testpatient", b"Sentinelname")


def pytest_addoption(parser):
    """The options of every pytest suite here (engine, README): imported by their conftests."""
    parser.addoption("--solent", required=True, help="the solent binary under test")
    parser.addoption("--root", required=True, help="the source tree (fixtures, FHIR server)")


@pytest.fixture(scope="session")
def solent(request):
    return os.path.abspath(request.config.getoption("--solent"))


@pytest.fixture(scope="session")
def root(request):
    return os.path.abspath(request.config.getoption("--root"))


# Started as root (CI), solent run needs a user to become: nobody; and the directories the
# tests give it (under pytest's temporary root, 0700 for root) must let that user through.
AS_USER = ["--user", "nobody"] if os.geteuid() == 0 else []


def open_to_engine(path):
    """Lets the engine's user through path and its parents below /tmp (root's test dirs are
    0700); a no-op unless root."""
    if os.geteuid() != 0:
        return
    path = os.path.abspath(path)
    while path not in ("/", "/tmp") and path.startswith("/tmp/"):
        st = os.stat(path)
        os.chmod(path, st.st_mode | 0o755 if os.path.isdir(path) else st.st_mode | 0o644)
        path = os.path.dirname(path)


def give_to_engine(path):
    """Hands path and what is under it to the engine's user, as an operator would (chown
    solent): the keys and certificates it reads again on a reload, a directory it writes;
    a no-op unless root."""
    if os.geteuid() != 0:
        return
    import pwd
    nobody = pwd.getpwnam("nobody")
    os.chown(path, nobody.pw_uid, nobody.pw_gid)
    for top, dirs, files in os.walk(path):
        for name in [os.path.join(top, f) for f in dirs + files]:
            os.chown(name, nobody.pw_uid, nobody.pw_gid)
    open_to_engine(os.path.dirname(os.path.abspath(path)))


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def port_free(port):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def free_ports():
    """A free port whose next two are free too: an engine's listener, its second listener
    (Engine's "quiet" one, at port + 1) and an admin endpoint (port + 2)."""
    port = free_port()
    while not (port_free(port + 1) and port_free(port + 2)):
        port = free_port()
    return port


def message(control_id, event="A01", extra=b"", mode=b""):
    """The sample A01 with its own control id; mode: MSH-15 and MSH-16 as b"AL|NE" (empty:
    original-mode ACKs)."""
    return (
        b"MSH|^~\\&|PAS|RHM|SOLENT|TRUST|20261129083000+0000||ADT^" + event.encode()
        + b"^ADT_A01|" + control_id.encode() + b"|P|2.5.1" + (b"|||" + mode if mode else b"")
        + b"\r"
        b"EVN|" + event.encode() + b"|20261129083000+0000\r"
        b"PID|1||9434765919^^^NHS^NH~RHM1000001^^^RHM^MR||Zebedee^Quentin^J||19850412|U|||"
        b"2 Example Road^^Southampton^^SO16 6YD^GBR\r"
        b"PV1|1|I|WARD1^BED2^^RHM\r" + extra
    )


def frame(m):
    return SB + m + EB + CR


_unread = weakref.WeakKeyDictionary()  # per socket: bytes received after the last frame


def read_frame(sock, timeout=10):
    """The next whole frame from sock (up to and including <FS><CR>)."""
    sock.settimeout(timeout)
    buf = _unread.get(sock, b"")
    while EB + CR not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed after %r" % buf[:200])
        buf += chunk
    end = buf.index(EB + CR) + 2
    _unread[sock] = buf[end:]
    return buf[:end]


def fields(ack):
    """{segment id: [fields]} of an ACK frame."""
    body = ack.strip(SB).rstrip(CR).rstrip(EB)
    return {s.split(b"|")[0].decode(): s.decode().split("|") for s in body.split(CR) if s}


class Engine:
    def __init__(self, solent, root, work, port):
        self.solent, self.root, self.work, self.port = solent, root, work, port
        self.conf = os.path.join(work, "solent.conf")
        self.write()
        self.log_path = os.path.join(work, "solent.log")
        self.proc = None
        ENGINES.append(self)

    def write(self, routes="adt, oru", extra="", engine=""):
        work, port = self.work, self.port
        with open(self.conf, "w") as f:
            f.write(f"""[engine]
data_dir = {work}/data
{engine}
[store]
path = {work}/data/solent.db
[listener pas]
port = {port}
max_message = 8K
idle_timeout_ms = 60s
max_per_peer = 64
routes = {routes}
[listener quiet]
port = {port + 1}
idle_timeout_ms = 1s
routes = adt, oru
[route adt]
type = ADT^*
destinations = local
[route oru]
type = ORU^R01
destinations = local
[destination local]
kind = directory
path = {work}/data/outbox
{extra}""")

    def wait_log(self, text, count=1, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with open(self.log_path, "rb") as f:
                if f.read().count(text) >= count:
                    return True
            time.sleep(0.05)
        return False

    def start(self, max_file_bytes=None, max_files=None, faults=None):
        """faults: SOLENT_FAULTS for this run (engine/fault.h), e.g. "intake_after_commit=crash"."""
        def limit():
            import resource
            if max_file_bytes:
                resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, max_file_bytes))
            if max_files:
                resource.setrlimit(resource.RLIMIT_NOFILE, (max_files, max_files))

        self.log = open(self.log_path, "ab")
        env = dict(os.environ, SOLENT_FAULTS=faults or "")
        open_to_engine(self.work)
        self.proc = subprocess.Popen([self.solent, "run", "-c", self.conf] + AS_USER,
                                     stderr=self.log, env=env,
                                     preexec_fn=limit if max_file_bytes or max_files else None)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("solent run exited %d" % self.proc.returncode)
                time.sleep(0.05)
        raise RuntimeError("solent run did not listen")

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = "still running 30 s after signal %d" % sig
        self.log.close()
        return rc

    def close(self):
        """After a test, passed or not: no engine is left running."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc and not self.log.closed:
            self.log.close()

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read()

    def rows(self, sql, *args):
        db = sqlite3.connect(os.path.join(self.work, "data", "solent.db"))
        try:
            return db.execute(sql, args).fetchall()
        finally:
            db.close()


def flood(port, prefix, count):
    """A peer with a small receive window sending count messages on a thread without reading
    its ACKs: (socket, thread, indexes sent)."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: small window
    s.connect(("127.0.0.1", port))
    s.settimeout(3)
    sent = []

    def pump():
        try:
            for i in range(count):
                s.sendall(frame(message("%s%05d" % (prefix, i))))
                sent.append(i)
        except OSError:
            pass
    t = threading.Thread(target=pump)
    t.start()
    return s, t, sent


def run(*args, stdin=None):
    p = subprocess.run(list(args), input=stdin, capture_output=True, timeout=120)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def connects(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return True
    except OSError:
        return False


class FhirServer:
    def __init__(self, root, port, args=()):
        self.dir = os.path.join(root, "tests", "fhir")
        self.port, self.args = port, list(args)
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(["node", "fhir_server.js", str(self.port)] + self.args,
                                     cwd=self.dir,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        line = self.proc.stdout.readline()
        if not line.startswith(b"listening"):
            raise RuntimeError("the FHIR test server did not start: %r" % line)

    def kill(self):
        self.proc.kill()
        self.proc.wait()

    TESTER = {"tester": {"secret": "tester-secret"}}  # the test's own client, when auth is on

    ssl = None  # for a TLS server: the context the tests' own calls use

    def call(self, method, path, body=None, token=None):
        scheme = "https" if self.ssl else "http"
        req = urllib.request.Request("%s://127.0.0.1:%d%s" % (scheme, self.port, path),
                                     method=method, data=json.dumps(body).encode() if body else None)
        if token:
            req.add_header("Authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(req, timeout=30, context=self.ssl) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as x:
            if x.code != 401 or token or path.startswith("/$test/"):
                raise
        return self.call(method, path, body, self.tester_token())

    def tester_token(self):
        """A token for the tests' own client from the server's token endpoint."""
        form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": "tester",
                                       "client_secret": "tester-secret"}).encode()
        with urllib.request.urlopen("http://127.0.0.1:%d/token" % self.port, form, timeout=30) as r:
            return json.loads(r.read())["access_token"]

    def control(self, what, **q):
        return self.call("POST", "/$test/%s?%s" % (what, urllib.parse.urlencode(q)))

    def search(self, query):
        return self.call("GET", "/" + query)

    def patient(self, mrn):
        b = self.search("Patient?identifier=%s" % urllib.parse.quote("%s|%s" % (MRN, mrn)))
        return [e["resource"] for e in b.get("entry", [])]

    def requests(self):
        return self.call("GET", "/$test/requests")


class DeliveryEngine(Engine):
    def __init__(self, solent, root, work, port, fhir_port, timeout="5s", phr_extra="",
                 scheme="http"):
        self.fhir_port, self.timeout, self.phr_extra = fhir_port, timeout, phr_extra
        self.scheme = scheme
        self.admin_port = free_port()
        while self.admin_port in (port, fhir_port):  # both unbound yet: could be the same
            self.admin_port = free_port()
        super().__init__(solent, root, work, port)

    def write(self, routes="adt, oru", extra=""):
        with open(self.conf, "w") as f:
            f.write(f"""[engine]
data_dir = {self.work}/data
[store]
path = {self.work}/data/solent.db
[admin]
port = {self.admin_port}
token = env:SOLENT_TEST_ADMIN_TOKEN
[listener pas]
port = {self.port}
routes = {routes}
[route adt]
type = ADT^*
destinations = phr, copy
[route oru]
type = ORU^R01
destinations = phr
[route orm]
type = ORM^O01
destinations = phr
[route siu]
type = SIU^*
destinations = phr
[destination phr]
kind = fhir
url = {self.scheme}://127.0.0.1:{self.fhir_port}/
concurrency = 8
timeout_ms = {self.timeout}
retry_base_ms = 50ms
retry_cap_ms = 500ms
{self.phr_extra}
[destination copy]
kind = directory
path = {self.work}/data/copy
[identifiers]
RHM:MR = {MRN}
{extra}""")

    def status(self):
        out = subprocess.run([self.solent, "status", "-c", self.conf], capture_output=True,
                             check=True).stdout.decode().splitlines()
        rows = {}
        for line in out[1:]:
            f = line.split()
            rows[f[0]] = dict(zip(["kind", "pending", "in_flight", "retrying", "delivered",
                                   "dead", "oldest"], [f[1]] + [int(x) for x in f[2:7]] + [f[7]]))
        return rows

    def admin(self, path, token=ADMIN_TOKEN):
        """(HTTP status, body) of GET path on the admin endpoint."""
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.admin_port, path))
        if token:
            req.add_header("Authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode()

    def metrics(self):
        """{'name{labels}': value} from /metrics."""
        status, body = self.admin("/metrics")
        check(status == 200, "/metrics answers with the token: %d" % status)
        out = {}
        for line in body.splitlines():
            if line and not line.startswith("#"):
                k, v = line.rsplit(" ", 1)
                out[k] = float(v)
        return out

    def wait_metric(self, key, want, timeout=15):
        """Waits until /metrics shows key = want (store gauges are read every 5 s)."""
        deadline = time.time() + timeout
        while True:
            got = self.metrics().get(key)
            if got == want or time.time() > deadline:
                return got
            time.sleep(0.5)

    def drained(self, timeout=60):
        """Waits until no phr row is pending, retrying or in flight."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            left = self.rows("select count(*) from outbox where status in ('pending', 'retry')")[0][0]
            if left == 0:
                return True
            time.sleep(0.1)
        return False


def adt(cid, mrn, seq, event="A01"):
    pv1 = ["PV1", "1", "I", "WARD1^BED2^^RHM"] + [""] * 15 + ["V%s^^^RHM^VN" % mrn]
    return ("MSH|^~\\&|PAS|RHM|SOLENT|TRUST|20261129083000+0000||ADT^%s^ADT_A01|%s|P|2.5.1\r"
            "EVN|%s|20261129083000+0000\r"
            "PID|1||%s^^^RHM^MR||Test^Seq%03d||19850412|U\r%s\r"
            % (event, cid, event, mrn, seq, "|".join(pv1))).encode()


def oru(cid, mrn, seq):
    return ("MSH|^~\\&|LAB|RHM|SOLENT|TRUST|20261129091500+0000||ORU^R01^ORU_R01|%s|P|2.5.1\r"
            "PID|1||%s^^^RHM^MR||Test^Seq%03d||19850412|U\r"
            "ORC|RE|ORD%s^EPR|LAB%s^LAB\r"
            "OBR|1|ORD%s^EPR|LAB%s^LAB|26958-3^Potassium and Sodium panel^LN|||20261129080000+0000"
            "||||||||||||||||CH|F\r"
            "OBX|1|NM|2823-3^Potassium^LN||4.1|mmol/L^mmol/L^UCUM|3.5-5.3|N|||F\r"
            "OBX|2|NM|2951-2^Sodium^LN||139|mmol/L^mmol/L^UCUM|133-146|N|||F\r"
            % (cid, mrn, seq, cid, cid, cid, cid)).encode()


def traffic(prefix, patients):
    """Per patient, in order: A01, A08, ORU, A08 — sequence numbers 1..4 in the given name."""
    plan = {}
    for p in range(patients):
        mrn = "%s%04d" % (prefix, p)
        plan[mrn] = [adt("%s%04dA" % (prefix, p), mrn, 1),
                     adt("%s%04dB" % (prefix, p), mrn, 2, "A08"),
                     oru("%s%04dC" % (prefix, p), mrn, 3),
                     adt("%s%04dD" % (prefix, p), mrn, 4, "A08")]
    return plan


def parallel(n, fn):
    """fn(k) for k in 0..n-1, each on a thread of its own; what they raised, as (k, repr)."""
    errors = []

    def run_one(k):
        try:
            fn(k)
        except Exception as x:  # noqa: BLE001 - returned to the caller
            errors.append((k, repr(x)))

    threads = [threading.Thread(target=run_one, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def send(port, plan, connections=4):
    """Sends each patient's messages in order on one connection; patients interleave."""
    mrns = sorted(plan)

    def client(k):
        with hl7.client.MLLPClient("127.0.0.1", port) as c:
            for step in range(4):
                for mrn in mrns[k::connections]:
                    a = fields(c.send_message(plan[mrn][step]))
                    check(a["MSA"][1] == "AA", "%s step %d: %r" % (mrn, step, a["MSA"]))

    errors = parallel(connections, client)
    check(not errors, "every message ACKed AA: %r" % errors[:3])


def check_final_state(fhir, plan, what, allow_repeats=False):
    """One Patient per identifier with the last name sent, one Encounter, two Observations;
    the transactions the server accepted per patient in the order sent."""
    bad = []
    for mrn in sorted(plan):
        pats = fhir.patient(mrn)
        if len(pats) != 1:
            bad.append((mrn, "patients", len(pats)))
            continue
        pid = pats[0]["id"]
        if pats[0]["name"][0]["given"][0] != "Seq004":
            bad.append((mrn, "name", pats[0]["name"][0]["given"][0]))
        enc = fhir.search("Encounter?subject=Patient/%s" % pid).get("entry", [])
        obs = fhir.search("Observation?subject=Patient/%s" % pid).get("entry", [])
        if len(enc) != 1 or len(obs) != 2:
            bad.append((mrn, "encounters", len(enc), "observations", len(obs)))
    check(not bad, "%s: one Patient per identifier, last name, 1 Encounter, 2 Observations: %r"
          % (what, bad[:5]))
    order = {}
    for r in fhir.requests():
        if r["applied"] and r["entries"] and r["entries"][0].startswith("Patient?identifier=" + MRN):
            mrn = r["entries"][0].rsplit("|", 1)[1]
            if mrn in plan:
                order.setdefault(mrn, []).append(r["tag"])
    wrong = {}
    for mrn in plan:
        seen = order.get(mrn, [])
        expect = ["Seq001", "Seq002", "Seq003", "Seq004"]
        if allow_repeats:  # a bundle resent after a crash: the same one again, never an older one
            ok = seen == sorted(seen) and sorted(set(seen)) == expect
        else:
            ok = seen == expect
        if not ok:
            wrong[mrn] = seen
    check(not wrong, "%s: per patient, the server accepted the bundles in the order sent: %r"
          % (what, list(wrong.items())[:3]))


def log_of(e):
    with open(e.log_path, "rb") as f:
        return f.read()


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, capture_output=True)
