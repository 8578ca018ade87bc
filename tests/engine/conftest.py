"""Fixtures of the engine tests (pytest): the binary and the source tree under test, a
fresh engine per test, the FHIR test server, and after every test — passed or failed —
every engine it started killed and every log it wrote checked: no patient data, and every
line one event that logfmt (heroku's parser) or JSON.parse reads (logcheck.js).

Run one test: python3 -m pytest tests/engine/test_daemon.py -k reload \\
                  --solent build/engine/solent --root .
"""
import os
import subprocess

import pytest

import harness
from harness import pytest_addoption, root, solent  # noqa: F401  (the options, shared)


@pytest.fixture(autouse=True)
def engines_checked():
    """Whatever a test did: its engines are killed, and none of its logs holds patient data."""
    harness.ENGINES.clear()
    harness.EXTRA_LOGS.clear()
    yield
    logs = []
    for e in harness.ENGINES:
        e.close()
    for path in [e.log_path for e in harness.ENGINES] + harness.EXTRA_LOGS:
        if os.path.exists(path):
            with open(path, "rb") as f:
                logs.append((path, f.read()))
    harness.ENGINES.clear()
    for path, text in logs:
        for secret in harness.SENTINELS:
            assert secret not in text, "patient data %r in %s" % (secret, path)
    if logs:  # every line one event, read by parsers that are not ours
        r = subprocess.run(["node", os.path.join(os.path.dirname(__file__), "logcheck.js")]
                           + [p for p, _ in logs], capture_output=True, text=True)
        assert r.returncode == 0, "log lines that do not parse:\n" + r.stdout[-2000:]


@pytest.fixture
def e(solent, root, tmp_path):
    """A fresh engine on its own store: listener pas (port), quiet (port + 1, 1 s idle)."""
    engine = harness.Engine(solent, root, str(tmp_path), harness.free_ports())
    engine.start()
    return engine


@pytest.fixture(scope="session")
def fhir_server(root):
    server = harness.FhirServer(root, harness.free_port())
    server.start()
    yield server
    server.kill()


@pytest.fixture
def fhir(fhir_server):
    """The FHIR test server, running (a test may have killed it) and emptied."""
    if fhir_server.proc.poll() is not None:
        fhir_server.start()
    fhir_server.control("reset")
    return fhir_server
