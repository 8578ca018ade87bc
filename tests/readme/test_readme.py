"""The README is tested: every fenced block in README.md follows a marker
<!-- test: KIND [ARG] --> that says how it is checked here, and a block without one fails
the test — so nothing the README shows can drift from what the program does.

KIND:
  dev            ./dev commands: each named subcommand exists; `./dev run ARGS` runs solent
  session        the engine on the shipped configuration, then each command, exit 0
  usage CMD      the synopsis is what `solent CMD --help` says (whitespace aside)
  conf           the ini snippet loads (with a minimal route and destination around it)
  run            a transcript: each `$ command` run in a scratch copy of conf/, its output
                 compared exactly
  runs           each `$ command` runs and exits 0 (the README shows no output)
  output FILE    what `solent parse FILE` says of a fixture built here, exactly
  shape NAME     a sample whose numbers, times and column widths vary: each line matches a
                 line the scenario NAME really prints, with any number in a number's place
  metrics        the admin endpoint transcript, against a running engine
  json-subset    every field of the sample tree is in `solent parse`'s tree
  haproxy        an HAProxy configuration fragment that `haproxy -c` (Debian's) accepts

Run one: python3 -m pytest tests/readme/test_readme.py -k demo --solent BIN --root .
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "engine"))
import harness  # noqa: E402


def blocks(root):
    """(marker, body, line) of every fenced block of the README; marker None when missing."""
    text = open(os.path.join(root, "README.md")).read()
    out = []
    for m in re.finditer(r"(?:<!-- test: ([^>]*?) -->\n)?```[a-z]*\n(.*?)```\n", text, re.S):
        out.append((m.group(1), m.group(2), text[:m.start()].count("\n") + 1))
    return out


def pytest_generate_tests(metafunc):
    if "block" in metafunc.fixturenames:
        root = metafunc.config.getoption("--root")
        found = blocks(os.path.abspath(root))
        metafunc.parametrize("block", found, ids=["line%d-%s" % (b[2], (b[0] or "none").split()[0])
                                                  for b in found])


@pytest.fixture
def scratch(tmp_path, root, solent):
    """A working directory with the shipped conf/ and solent on PATH, as a user has them."""
    shutil.copytree(os.path.join(root, "conf"), str(tmp_path / "conf"))
    bindir = tmp_path / "bin"
    bindir.mkdir()
    os.symlink(solent, str(bindir / "solent"))
    os.environ["PATH"] = str(bindir) + os.pathsep + os.environ["PATH"]
    return tmp_path


def sh(cmd, cwd, env=None, timeout=120):
    p = subprocess.run(["bash", "-c", cmd], cwd=str(cwd), capture_output=True, text=True,
                       timeout=timeout, env=env)
    return p.returncode, p.stdout + p.stderr


def shape(line):
    """A sample line as a pattern: any number where it has one, any run of spaces for one."""
    out = ""
    for tok in re.split(r"(\d+(?:\.\d+)?|\s+)", line.strip()):
        if not tok:
            continue
        out += (r"\d+(?:\.\d+)?" if re.fullmatch(r"\d+(?:\.\d+)?", tok)
                else r"\s+" if tok.isspace() else re.escape(tok))
    return re.compile(out)


def shapes_match(sample, actual, what):
    lines = [l.strip() for l in actual.splitlines()]
    for want in sample.splitlines():
        if want.strip() in ("", "..."):
            continue
        pat = shape(want)
        assert any(pat.fullmatch(l) for l in lines), \
            "%s: no line like %r in:\n%s" % (what, want, actual[-3000:])


def start_engine(solent, root, work, extra="", env=None):
    port = harness.free_ports()
    conf = os.path.join(work, "engine.conf")
    with open(os.path.join(root, "conf", "solent.conf")) as f:
        text = f.read()
    text = text.replace("port = 2575", "port = %d" % port)
    text = text.replace("data_dir = data", "data_dir = %s/data" % work)
    text = text.replace("path = data/solent.db", "path = %s/data/solent.db" % work)
    text = text.replace("path = data/outbox", "path = %s/data/outbox" % work)
    with open(conf, "w") as f:
        f.write(text + extra)
    log = open(os.path.join(work, "engine.log"), "wb")
    harness.open_to_engine(work)
    proc = subprocess.Popen([solent, "run", "-c", conf] + harness.AS_USER, stderr=log, env=env)
    for _ in range(200):
        if harness.connects(port):
            break
        time.sleep(0.05)
    return proc, port, conf, log


def stop_engine(proc, log):
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    log.close()


def bad_hl7(path):
    """A message declared UTF-8 whose PID-5 holds a Latin-1 é, at byte 67."""
    msg = b"MSH|^~\\&|PAS|RHM|S|T|20261129||ADT^A01|C1|P|2.5.1\rPID|1||12345||Ren\xe9^Jo\r"
    assert msg.index(b"\xe9") == 67
    with open(path, "wb") as f:
        f.write(msg)


SETUPS = {  # files the transcripts name, made in the scratch directory
    "broken.conf": "[engine]\nsite_tz = UTC\n\n[route r]\ntype = ADT^*\ndestinations = phr\n",
    "secret.conf": "[destination phr]\nkind = fhir\nurl = https://phr.example/fhir\n"
                   "auth = bearer\ntoken = env:PHR_TOKEN\n[route r]\ndestinations = phr\n",
}


def check_run(body, scratch):
    for name, text in SETUPS.items():
        (scratch / name).write_text(text)
    bad_hl7(str(scratch / "bad.hl7"))
    env = {k: v for k, v in os.environ.items() if k != "PHR_TOKEN"}
    steps = re.split(r"^\$ ", body, flags=re.M)[1:]
    assert steps, "a transcript has $ commands"
    for step in steps:
        cmd, _, want = step.partition("\n")
        rc, out = sh(cmd, scratch, env=env)
        assert out.rstrip() == want.rstrip(), "%s\n--- README:\n%s--- got:\n%s" % (cmd, want, out)


def check_usage(cmd, body, solent):
    out = subprocess.run([solent, cmd, "--help"], capture_output=True, text=True).stdout
    norm = lambda t: " ".join(t.replace("usage:", " ").split())  # noqa: E731
    for synopsis in body.strip().split("\n" + "solent " + cmd)[0:]:
        assert norm(body) in norm(out) or all(norm(l) in norm(out)
                                              for l in body.strip().splitlines()), \
            "README synopsis not in `solent %s --help`:\n%s\n---\n%s" % (cmd, body, out)
        break


def check_conf(body, scratch, solent):
    text = body
    if "[route" not in text:
        text += "\n[route r]\ndestinations = %s\n" % (
            "phr" if "[destination phr]" in body else "d")
        if "[destination" not in body:
            text += "[destination d]\n"
    (scratch / "snippet.conf").write_text(text)
    rc, out = sh("solent convert -c snippet.conf conf/samples/adt_a01.hl7 >/dev/null", scratch)
    assert rc == 0, "the README's configuration snippet does not load:\n%s\n%s" % (body, out)


def scenario(name, solent, root, work):
    """What the scenario prints, for the shape comparison."""
    if name == "unmapped":  # a figure over ../shared/corpus: nothing to compare without it
        if not os.path.isdir(os.path.join(root, "..", "shared", "corpus")):
            pytest.skip("../shared/corpus is absent")
        rc, out = sh("/usr/bin/python3 tests/conformance/unmapped.py %s ../shared/corpus" % solent,
                     root)
        assert rc == 0, out
        return out
    if name == "demo":
        rc, out = sh("DEMO_FHIR_PORT=%d DEMO_MLLP_PORT=%d ./dev demo --once 2>/dev/null"
                     % (harness.free_port(), harness.free_port()), root, timeout=300)
        assert rc == 0, out
        return out
    if name == "status-cluster":
        return cluster_status(solent, root, work)
    proc, port, conf, log = start_engine(solent, root, work, extra=(
        "[destination phr]\nkind = fhir\nurl = http://127.0.0.1:%d/\n" % harness.free_port()
        if name in ("status", "log") else ""))
    try:
        if name in ("status", "log"):  # a directory destination and a FHIR one that is down
            text = open(conf).read().replace("destinations = local", "destinations = local, phr")
            open(conf, "w").write(text)
            proc.send_signal(signal.SIGHUP)
            time.sleep(0.5)
        samples = os.path.join(root, "conf", "samples")
        if name == "send":
            return sh("solent send --quiet --count 2000 --connections 16 127.0.0.1:%d %s"
                      % (port, os.path.join(samples, "adt_a01.hl7")), work)[1]
        sh("solent send 127.0.0.1:%d %s" % (port, os.path.join(samples, "adt_a01.hl7")), work)
        z99 = open(os.path.join(samples, "adt_a01.hl7"), "rb").read() \
            .replace(b"ADT^A01^ADT_A01", b"ADT^Z99^ADT_A01")
        with open(os.path.join(work, "z99.hl7"), "wb") as f:
            f.write(z99)
        sh("solent send 127.0.0.1:%d z99.hl7" % port, work)
        if name == "messages":  # the list, then the ledger of the accepted A01
            listing = sh("solent messages -c %s" % conf, work)[1]
            first = re.search(r"^(\d+) .* accepted ", listing, re.M).group(1)
            return listing + "$ solent messages --explain 1\n" + \
                sh("solent messages -c %s --explain %s" % (conf, first), work)[1]
        if name == "audit":  # two content reads from the command line, then the audit
            for cmd in ("show --content 1", "replay --dry-run --diff 1"):
                rc, out = sh("solent %s -c %s" % (cmd, conf), work)
                assert rc == 0, out
            return sh("solent audit -c %s" % conf, work)[1]
        if name == "status":  # once the directory has its file and the FHIR one is failing
            out = ""
            for _ in range(150):
                out = sh("solent status -c %s" % conf, work)[1]
                if re.search(r"^local .* 0 -$", out, re.M) and re.search(r"^phr .*\ds$", out, re.M):
                    break
                time.sleep(0.1)
            return "$ solent status\n" + out
        if name == "log":  # once the FHIR destination is down
            for _ in range(150):
                if b"destination_down" in open(os.path.join(work, "engine.log"), "rb").read():
                    break
                time.sleep(0.1)
            stop_engine(proc, log)
            return open(os.path.join(work, "engine.log")).read()
    finally:
        if proc.poll() is None:
            stop_engine(proc, log)
    raise AssertionError("no scenario " + name)


def cluster_status(solent, root, work):
    """Two engines of the shipped configuration on the PostgreSQL cluster ./dev test starts,
    a message through each, then solent status."""
    if not os.environ.get("SOLENT_TEST_PG_DSN"):
        pytest.fail("no PostgreSQL: run through ./dev test (tests/pg/cluster.sh)")
    admin = os.environ["SOLENT_TEST_PG_ADMIN"].split()
    subprocess.run(["psql", *admin, "-d", "solent", "-qX", "-c",
                    "DROP SCHEMA public CASCADE; CREATE SCHEMA public AUTHORIZATION solent"],
                   check=True, capture_output=True)
    store = "[store]\nkind = postgres\ndsn = %s\npassword = file:%s\n" % (
        os.environ["SOLENT_TEST_PG_DSN"], os.environ["SOLENT_TEST_PG_PASSWORD_FILE"])
    engines = []
    try:
        for name in ("solent-a", "solent-b"):
            w = os.path.join(work, name)
            os.makedirs(w)
            engines.append(start_engine(solent, root, w, extra=store + "[engine]\nname = %s\n"
                                        % name))
        for _, port, _, _ in engines:
            sh("solent send 127.0.0.1:%d %s" % (port, os.path.join(root, "conf", "samples")), work)
        out = ""
        for _ in range(150):
            out = sh("solent status -c %s" % engines[0][2], work)[1]
            if re.search(r"^local +directory +0 +0 +0 +\d+ +0 -$", out, re.M):
                break
            time.sleep(0.1)
        return "$ solent status\n" + out
    finally:
        for proc, _, _, log in engines:
            stop_engine(proc, log)


def check_metrics(body, solent, root, work):
    env = dict(os.environ, SOLENT_ADMIN_TOKEN="readme-token")
    admin = harness.free_port()
    proc, port, conf, log = start_engine(
        solent, root, work, env=env,
        extra="[admin]\nbind = 127.0.0.1\nport = %d\ntoken = env:SOLENT_ADMIN_TOKEN\n" % admin)
    try:
        sh("solent send 127.0.0.1:%d %s" % (port, os.path.join(root, "conf", "samples")), work)
        for step in re.split(r"^\$ ", body, flags=re.M)[1:]:
            cmd, _, want = step.partition("\n")
            rc, out = sh(cmd.replace("localhost:9575", "127.0.0.1:%d" % admin), work, env=env)
            assert rc == 0, out
            # the sample's destination is phr, the shipped file's local: the names, not the shape
            shapes_match(want.replace('"phr"', '"local"'), out, cmd)
    finally:
        stop_engine(proc, log)


def check_json_subset(body, solent, root):
    sample = json.loads(body)
    out = subprocess.run([solent, "parse", os.path.join(root, "conf", "samples", "adt_a01.hl7")],
                         capture_output=True, text=True).stdout
    tree = json.loads(out)
    for seg in sample["segments"]:
        real = [s for s in tree["segments"] if s["segment"] == seg["segment"]][0]
        for k, v in seg["fields"].items():
            assert real["fields"][k] == v, "%s-%s: %r, README %r" % (seg["segment"], k,
                                                                  real["fields"][k], v)


def check_dev(body, root):
    usage = subprocess.run([os.path.join(root, "dev"), "help"], capture_output=True,
                           text=True).stdout
    for line in body.strip().splitlines():
        sub = line.split()[1]
        assert "./dev %s" % sub in usage, "./dev has no %s: %s" % (sub, usage)
    rc, out = sh("./dev run --version", root, timeout=600)
    assert rc == 0 and out.strip().endswith("solent 0.1.0"), out
    assert "./dev test" in open(os.path.join(root, ".ci", "run")).read()


def check_session(body, solent, root, work):
    proc, port, conf, log = start_engine(solent, root, work)
    try:
        for line in body.strip().splitlines()[1:]:
            cmd = line.split("#")[0].strip().replace("build/engine/solent", "solent")
            cmd = cmd.replace("127.0.0.1:2575", "127.0.0.1:%d" % port)
            cmd = cmd.replace("conf/samples", os.path.join(root, "conf", "samples"))
            if cmd.startswith("solent messages"):
                cmd += " -c " + conf
            rc, out = sh(cmd, work)
            assert rc == 0, "%s: %s" % (cmd, out)
    finally:
        stop_engine(proc, log)
    assert body.strip().splitlines()[0].startswith("./dev run")


def test_block(block, solent, root, scratch):
    marker, body, line = block
    assert marker, "README.md line %d: a block with no <!-- test: ... --> marker" % line
    kind, _, arg = marker.partition(" ")
    if kind == "dev":
        check_dev(body, root)
    elif kind == "session":
        check_session(body, solent, root, str(scratch))
    elif kind == "usage":
        check_usage(arg, body, solent)
    elif kind == "haproxy":
        cfg = scratch / "haproxy.cfg"
        cfg.write_text("defaults\n    timeout connect 1s\n    timeout client 60s\n"
                       "    timeout server 60s\n" + body)
        r = subprocess.run(["haproxy", "-c", "-f", str(cfg)], capture_output=True, text=True)
        assert r.returncode == 0, "README.md line %d: haproxy -c: %s" % (line, r.stdout + r.stderr)
    elif kind == "conf":
        check_conf(body, scratch, solent)
    elif kind == "run":
        check_run(body, scratch)
    elif kind == "runs":  # "runs root": from the checkout's top, else a scratch directory
        for step in re.split(r"^\$ ", body, flags=re.M)[1:]:
            rc, out = sh(step.partition("\n")[0], root if arg == "root" else scratch)
            assert rc == 0, "%s: %s" % (step, out[-2000:])
    elif kind == "output":
        check_run("$ solent parse %s\n%s" % (arg, body), scratch)
    elif kind == "shape":
        shapes_match(body, scenario(arg, solent, root, str(scratch)), "line %d" % line)
    elif kind == "metrics":
        check_metrics(body, solent, root, str(scratch))
    elif kind == "json-subset":
        check_json_subset(body, solent, root)
    else:
        raise AssertionError("README.md line %d: unknown test kind %s" % (line, kind))
