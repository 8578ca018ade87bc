"""The integration team's console: the message API with its tokens, scopes and audit, and the
status page in a real headless Chromium (Debian's chromium, driven through chromium-driver's
WebDriver HTTP API with nothing but urllib), against the real engine delivering to the FHIR
test server.

Screenshots go to $SOLENT_ARTIFACTS (default: build/artifacts under the checkout).

Run by pytest (conftest.py): python3 -m pytest tests/engine/test_console.py --solent BIN --root .
"""
import base64
import json
import os
import pwd
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

import harness
from harness import DeliveryEngine, check, free_port, send, traffic

TOKENS = {"viewer": ("viewer-token-0123456789", "read"),
          "ops": ("ops-token-0123456789abcdef", "read, content, replay, reload"),
          "replayer": ("replayer-token-0123456789", "read, replay")}


class ConsoleEngine(DeliveryEngine):
    """A DeliveryEngine whose admin endpoint has named tokens with scopes."""

    def write(self, routes="adt, oru", extra=""):
        super().write(routes, extra)
        sections = ""
        for name, (secret, scopes) in TOKENS.items():
            path = os.path.join(self.work, "%s.token" % name)
            with open(path, "w") as f:
                f.write(secret + "\n")
            os.chmod(path, 0o644)  # the engine runs as another user in the tests
            sections += "[admin token %s]\nsecret = file:%s\nscopes = %s\n" % (name, path, scopes)
        with open(self.conf, "a") as f:
            f.write(sections)

    def api(self, path, token="viewer", method="GET"):
        """(status, JSON or text) of path on the admin endpoint with the named token."""
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.admin_port, path),
                                     method=method, data=b"" if method == "POST" else None)
        if token:
            req.add_header("Authorization", "Bearer " + TOKENS[token][0]
                           if token in TOKENS else "Bearer " + token)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                status, body = r.status, r.read().decode()
        except urllib.error.HTTPError as err:
            status, body = err.code, err.read().decode()
        try:
            return status, json.loads(body)
        except ValueError:
            return status, body


@pytest.fixture
def e(solent, root, tmp_path, fhir):
    engine = ConsoleEngine(solent, root, str(tmp_path), free_port(), fhir.port)
    engine.start()
    return engine


def wait(cond, what, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = cond()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError("timed out: " + what)


def test_tokens_and_scopes(e):
    """No token or an unknown one: 401. A token without the scope a request needs: 403, logged
    with the token's name (never its secret) and counted."""
    check(e.api("/api/messages", token=None)[0] == 401, "no token: 401")
    check(e.api("/api/messages", token="not-a-token")[0] == 401, "an unknown token: 401")
    check(e.api("/api/messages")[0] == 200, "read may list")
    check(e.admin("/metrics", token=TOKENS["viewer"][0])[0] == 200, "read may scrape /metrics")
    send(e.port, traffic("SC", 1), connections=1)
    mid = e.api("/api/messages")[1]["messages"][0]["id"]
    for path, method, scope in (("/api/messages/%d?include=content" % mid, "GET", "content"),
                                ("/api/messages/%d/replay" % mid, "POST", "replay"),
                                ("/api/deadletters/replay", "POST", "replay"),
                                ("/api/reload", "POST", "reload")):
        status, body = e.api(path, method=method)
        check(status == 403 and "lacks the scope %s" % scope in str(body),
              "viewer %s %s: 403 for want of %s: %r" % (method, path, scope, body))
    status, body = e.api("/api/messages/%d/replay?dry_run=1" % mid, token="replayer",
                         method="POST")
    check(status == 403 and "content" in str(body),
          "a dry run shows bundles: replay alone is not enough: %r" % body)
    check(e.api("/api/messages", method="POST")[0] == 405, "the wrong method: 405")
    check(e.api("/api/nothing")[0] == 404, "no such path: 404")
    m = e.metrics()
    check(m["solent_admin_forbidden_total"] == 5 and m["solent_admin_unauthorized_total"] == 2,
          "refusals counted: %r" % {k: v for k, v in m.items() if "admin_" in k})
    broken = e.conf + ".broken"
    with open(e.conf) as f, open(broken, "w") as out:
        out.write(f.read().replace("viewer.token", "missing.token"))
    r = subprocess.run([e.solent, "check-config", "-c", broken], capture_output=True, text=True)
    check(r.returncode == 1 and "[admin token viewer]" in r.stdout + r.stderr,
          "check-config reads every token's secret: %s" % (r.stdout + r.stderr))
    log = harness.log_of(e)
    check(b"event=admin_forbidden token=viewer scope=content" in log,
          "a refusal is logged with the token's name and the scope")
    check(not any(secret.encode() in log for secret, _ in TOKENS.values()),
          "no token's secret in the log")


def test_messages_api(e, fhir):
    """The listing's filters and cursor pages; one message with its ACK, route, ledger and every
    delivery attempt with the server's ids; content only with the content scope, each read in
    the audit (the API's and `solent show --content`'s), listed by GET /api/audit and
    `solent audit`."""
    plan = traffic("API", 5)
    send(e.port, plan, connections=1)
    check(e.drained(), "delivered")
    status, page = e.api("/api/messages?limit=7")
    check(status == 200 and len(page["messages"]) == 7 and page["next_cursor"],
          "a first page of 7 and a cursor: %r" % page.get("next_cursor"))
    ids = [m["id"] for m in page["messages"]]
    rest = e.api("/api/messages?limit=1000&cursor=%d" % page["next_cursor"])[1]
    check(ids == sorted(ids, reverse=True) and len(rest["messages"]) == 13
          and rest["next_cursor"] is None and max(m["id"] for m in rest["messages"]) < min(ids),
          "the next page goes on below the first, to the end: %r" % rest["next_cursor"])
    labs = e.api("/api/messages?sender=LAB%7CRHM")[1]["messages"]
    check(len(labs) == 5 and all(m["message_type"] == "ORU^R01" for m in labs),
          "sender=LAB|RHM: the five results")
    check(e.api("/api/messages?listener=nowhere")[1]["messages"] == [], "listener=nowhere: none")
    cid = plan["API0002"][2].split(b"|")[9].decode()
    found = e.api("/api/messages?control_id=" + cid)[1]["messages"]
    check(len(found) == 1 and found[0]["control_id"] == cid and found[0]["route"] == "oru",
          "control_id finds the one message, with its route: %r" % found)
    check(e.api("/api/messages?status=lost")[0] == 400 and e.api("/api/messages?limit=0")[0] == 400
          and e.api("/api/messages?since=yesterday")[0] == 400, "bad filters: 400")
    mid = found[0]["id"]
    status, m = e.api("/api/messages/%d" % mid)
    phr = [d for d in m["deliveries"] if d["destination"] == "phr"]
    check(status == 200 and m["ack"].startswith("MSH|") and "MSA|AA|" + cid in m["ack"]
          and phr and phr[0]["status"] == "delivered" and phr[0]["history"]
          and phr[0]["history"][-1]["outcome"] == "delivered"
          and phr[0]["history"][-1]["http_status"] == 200
          and any(i.startswith("Observation/") for i in phr[0]["history"][-1]["server_ids"]),
          "one message: ACK, the delivery and its attempt with the server's ids: %r" % m)
    check("raw" not in m and "bundle" not in phr[0], "no content without asking")
    secret_name = "Seq003"  # in this message's PID-5: patient data
    check(secret_name not in json.dumps(m), "metadata only: no patient name")
    check(e.api("/api/messages/999999")[0] == 404, "no such message: 404")
    status, full = e.api("/api/messages/%d?include=content" % mid, token="ops")
    check(status == 200 and secret_name in full["raw"]
          and full["deliveries"][0]["bundle"]["resourceType"] == "Bundle",
          "content with the content scope: the raw message and the bundle")
    show = subprocess.run([e.solent, "show", "-c", e.conf, "--content", str(mid)],
                          capture_output=True, text=True)
    check(show.returncode == 0 and json.loads(show.stdout)["id"] == mid
          and secret_name in json.loads(show.stdout)["raw"], "solent show --content: %s"
          % show.stderr)
    plain = subprocess.run([e.solent, "show", "-c", e.conf, str(mid)], capture_output=True,
                           text=True)
    check(plain.returncode == 0 and "raw" not in json.loads(plain.stdout),
          "solent show without --content: metadata only")
    audit = e.api("/api/audit")[1]["audit"]
    check([(a["who"], a["via"], a["message_id"], a["what"]) for a in audit][:2]
          == [(pwd.getpwuid(os.getuid()).pw_name, "cli", mid, "raw,bundles,responses"),
              ("ops", "api", mid, "raw,bundles,responses")],
          "each content read audited, newest first: %r" % audit)
    out = subprocess.run([e.solent, "audit", "-c", e.conf], capture_output=True, text=True)
    lines = out.stdout.splitlines()
    check(out.returncode == 0 and lines[0].split() == ["AT", "WHO", "VIA", "MESSAGE", "WHAT"]
          and lines[2].split()[1:] == ["ops", "api", str(mid), "raw,bundles,responses"],
          "solent audit lists them: %s" % out.stdout)
    routes = e.api("/api/routes")[1]["routes"]
    oru = [r for r in routes if r["name"] == "oru"][0]
    check(oru["match"]["type"] == "ORU^R01" and oru["destinations"] == ["phr"]
          and oru["since_start"]["messages"] == 5, "the routing table with counts: %r" % oru)


def test_replay_dry_run_diff_and_dead_letters(e, fhir):
    """A dry run shows the bundles a replay would send and how each differs from the last one
    sent (nothing, until the configuration changes; after a reload through the API, the
    changed identifier system); a bundle the server refuses becomes a dead letter that
    POST /api/deadletters/replay sends again."""
    plan = traffic("RP", 1)
    send(e.port, plan, connections=1)
    check(e.drained(), "delivered")
    mid = e.api("/api/messages?type=ADT%5EA01")[1]["messages"][0]["id"]
    status, dry = e.api("/api/messages/%d/replay?dry_run=1" % mid, token="ops", method="POST")
    sends = dry["replays"][0]["would_send"]
    check(status == 200 and dry["dry_run"] and {s["destination"] for s in sends} == {"phr", "copy"}
          and all(s["diff"] == [] for s in sends), "unchanged configuration: no difference: %r"
          % [s["diff"] for s in sends])
    cli = subprocess.run([e.solent, "replay", "-c", e.conf, "--dry-run", "--diff", str(mid)],
                         capture_output=True, text=True)
    check(cli.returncode == 0 and "phr: 0 changes from the last bundle sent" in cli.stdout,
          "solent replay --dry-run --diff before the change: %s%s" % (cli.stdout, cli.stderr))
    with open(e.conf) as f:
        text = f.read()
    with open(e.conf, "w") as f:
        f.write(text.replace("RHM:MR = %s" % harness.MRN, "RHM:MR = https://example.nhs.uk/mrn"))
    status, body = e.api("/api/reload", token="ops", method="POST")
    check(status == 202, "reload accepted: %r" % body)
    wait(lambda: e.api("/api/status")[1]["reload"]["at"], "the reload to be applied")
    check(e.api("/api/status")[1]["reload"]["ok"], "and it took")
    dry = e.api("/api/messages/%d/replay?dry_run=1" % mid, token="ops", method="POST")[1]
    changes = [c for s in dry["replays"][0]["would_send"] if s["destination"] == "phr"
               for c in s["diff"]]
    check(any(c["change"] == "changed" and c["path"].endswith("/system")
              and c["after"] == "https://example.nhs.uk/mrn" for c in changes),
          "after the reload the diff shows the new identifier system: %r" % changes[:5])
    cli = subprocess.run([e.solent, "replay", "-c", e.conf, "--dry-run", "--diff", str(mid)],
                         capture_output=True, text=True)
    check(cli.returncode == 0 and "changed /entry/" in cli.stdout
          and '-> "https://example.nhs.uk/mrn"' in cli.stdout,
          "and after it, the changed system: %s%s" % (cli.stdout, cli.stderr))
    check([a["what"] for a in e.api("/api/audit")[1]["audit"]].count("dry-run,diff") == 4,
          "each dry run audited (two by the API, two by the command)")
    before = len(fhir.requests())
    status, done = e.api("/api/messages/%d/replay" % mid, token="replayer", method="POST")
    check(status == 200 and sorted(q["destination"] for q in done["replays"][0]["queued"])
          == ["copy", "phr"], "replayed: %r" % done)
    wait(lambda: len(fhir.requests()) > before, "the replay to reach the server")
    fhir.control("fail", count=1, status=400)
    send(e.port, traffic("DL", 1), connections=1)
    dead = wait(lambda: e.api("/api/status")[1]["dead_letters"], "a dead letter")
    check(dead[0]["http_status"] == 400 and dead[0]["destination"] == "phr",
          "the dead letter with its status: %r" % dead)
    status, done = e.api("/api/deadletters/replay?destination=phr", token="ops", method="POST")
    check(status == 200 and done["replays"][0]["queued"][0]["destination"] == "phr",
          "dead letters replayed: %r" % done)
    wait(lambda: not e.api("/api/status")[1]["dead_letters"], "no dead letter left")
    check(e.drained(), "and delivered")


# ---- the page, in Chromium ----

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"


class Browser:
    """Headless Chromium through chromium-driver's WebDriver HTTP API."""

    def __init__(self, artifacts, profile):
        self.artifacts = artifacts
        self.port = free_port()
        self.proc = subprocess.Popen(["chromedriver", "--port=%d" % self.port],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait(self.alive, "chromedriver to answer", timeout=20)
        except AssertionError:
            self.proc.kill()
            raise
        caps = {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": shutil.which("chromium"),
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1400,1100", "--user-data-dir=" + profile]}}}}
        try:
            self.session = self.call("POST", "/session", caps)["sessionId"]
        except Exception:
            self.proc.kill()
            self.proc.wait()
            raise

    def alive(self):
        try:
            urllib.request.urlopen("http://127.0.0.1:%d/status" % self.port, timeout=2).close()
            return True
        except OSError:
            return False

    def call(self, method, path, body=None):
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, path), method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return json.loads(r.read())["value"]
        except urllib.error.HTTPError as err:
            raise AssertionError("webdriver %s %s: %s" % (method, path, err.read()[:500]))

    def s(self, path):
        return "/session/%s%s" % (self.session, path)

    def go(self, url):
        self.call("POST", self.s("/url"), {"url": url})

    def find(self, css):
        return self.call("POST", self.s("/element"), {"using": "css selector", "value": css})[ELEMENT]

    def text(self, css):
        return self.js("const e = document.querySelector(arguments[0]); return e ? e.innerText : null",
                       css)

    def type(self, css, keys):
        self.call("POST", self.s("/element/%s/value" % self.find(css)), {"text": keys})

    def click(self, css):
        self.call("POST", self.s("/element/%s/click" % self.find(css)), {})

    def js(self, script, *args):
        return self.call("POST", self.s("/execute/sync"), {"script": script, "args": list(args)})

    def shot(self, name):
        png = base64.b64decode(self.call("GET", self.s("/screenshot")))
        path = os.path.join(self.artifacts, name)
        with open(path, "wb") as f:
            f.write(png)
        return path

    def close(self):
        try:
            self.call("DELETE", self.s(""))
        finally:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def browser(root, tmp_path):
    if not shutil.which("chromedriver") or not shutil.which("chromium"):
        pytest.fail("no chromium/chromium-driver: run through ./dev test (it installs them)")
    artifacts = os.environ.get("SOLENT_ARTIFACTS") or os.path.join(root, "build", "artifacts")
    os.makedirs(artifacts, exist_ok=True)
    b = Browser(artifacts, str(tmp_path / "chromium-profile"))
    yield b
    b.close()


def test_status_page_in_chromium(e, fhir, browser):
    """The page asks for a token and refuses a wrong one; with a read token it shows the
    listeners, counters that move after messages are sent, a dead letter after the server
    refuses a bundle; replaying it from the page (an ops token) delivers it. Every control
    has a label or accessible text; the token goes in with the keyboard (Enter submits);
    states are words, not colours alone."""
    url = "http://127.0.0.1:%d/" % e.admin_port
    browser.go(url)
    check(browser.js("return !document.getElementById('login').classList.contains('hidden')"),
          "the page asks for a token first")
    check(browser.text("#console") == "" or browser.js(
        "return document.getElementById('console').classList.contains('hidden')"),
        "nothing shown without one")
    browser.type("#token", "wrong-token\ue007")  # Enter submits the form
    wait(lambda: "not accepted" in (browser.text("#login-error") or ""), "the refusal")
    browser.shot("console-refused.png")
    unlabelled = browser.js("""
        const bad = [];
        for (const i of document.querySelectorAll('input'))
          if (!document.querySelector('label[for="' + i.id + '"]')) bad.push(i.id);
        for (const b of document.querySelectorAll('button'))
          if (!(b.getAttribute('aria-label') || b.textContent.trim())) bad.push(b.outerHTML);
        return bad;""")
    check(unlabelled == [], "every input labelled, every button named: %r" % unlabelled)
    browser.js("document.getElementById('token').value = ''")
    browser.type("#token", TOKENS["ops"][0] + "\ue007")
    wait(lambda: "pas" in (browser.text("#listeners") or ""), "the listeners table")
    check("phr" in browser.text("#destinations") and "UP" in browser.text("#destinations"),
          "destinations with their state in words: %s" % browser.text("#destinations"))
    with socket.create_connection(("127.0.0.1", e.port)):  # a sender connected: shown
        wait(lambda: "127.0.0.1" in (browser.text("#listeners") or ""), "the connected peer")
    send(e.port, traffic("PG", 3), connections=1)
    check(e.drained(), "delivered")
    wait(lambda: "AA" in (browser.text("#listeners") or ""), "a per-minute rate after traffic",
         timeout=20)
    wait(lambda: "12" in browser.text("#destinations"), "delivered counts moving")
    fhir.control("fail", count=1, status=400)
    send(e.port, traffic("PD", 1), connections=1)
    wait(lambda: "Replay" in (browser.text("#dead") or ""), "the dead letter on the page",
         timeout=30)
    check("400" in browser.text("#dead"), "with its HTTP status: %s" % browser.text("#dead"))
    browser.shot("console-dead-letter.png")
    browser.click("#dead tbody button[aria-label^='Replay']")
    wait(lambda: "queued again" in (browser.text("#note") or ""), "the page says it replayed")
    wait(lambda: "No dead letters" in (browser.text("#dead-note") or ""), "the dead letter gone",
         timeout=30)
    check(e.drained(), "and delivered")
    browser.type("#control-id", "PD0000A\ue007")
    wait(lambda: "PD0000A" in (browser.text("#found") or "") or "ADT" in (browser.text("#found") or ""),
         "the search finds the message")
    browser.click("#found tbody button")
    wait(lambda: "attempt" in (browser.text("#message") or ""), "the message view")
    view = browser.text("#message")
    check("dead" in view and "delivered" in view and "400" in view,
          "the message view lists every attempt: %s" % view)
    browser.shot("console-message.png")
    browser.js("window.scrollTo(0, 0)")
    browser.shot("console.png")


def test_no_audit_no_content(solent, root, tmp_path, fhir):
    """When the audit cannot be written (a fault point makes the write fail), the content is
    not handed out: 503 and no raw message in the answer, logged; the next read, audited, is."""
    e = ConsoleEngine(solent, root, str(tmp_path), free_port(), fhir.port)
    e.start(faults="audit_write=fail:2")
    send(e.port, traffic("NA", 1), connections=1)
    check(e.drained(), "delivered")
    mid = e.api("/api/messages?type=ADT%5EA01")[1]["messages"][0]["id"]
    status, body = e.api("/api/messages/%d?include=content" % mid, token="ops")
    check(status == 503 and "audit" in body["error"] and "raw" not in body,
          "no audit, no content: %r" % body)
    status, body = e.api("/api/messages/%d/replay?dry_run=1" % mid, token="ops", method="POST")
    check(status == 503 and "would_send" not in json.dumps(body),
          "nor a dry run's bundles: %r" % body)
    check(b"event=audit_failed" in harness.log_of(e), "the failure is logged")
    check(e.api("/api/audit")[1]["audit"] == [], "nothing was audited")
    status, body = e.api("/api/messages/%d?include=content" % mid, token="ops")
    check(status == 200 and "raw" in body, "the next read is audited and answered")
    check(len(e.api("/api/audit")[1]["audit"]) == 1, "and written down")
