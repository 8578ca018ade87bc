"""What the integration team alerts on and looks at: the shipped Prometheus rules
(conf/prometheus/solent.rules.yml) under Debian's promtool, the Grafana dashboard
(conf/grafana/solent-dashboard.json) against Grafana's dashboard model with every query
checked by promtool's PromQL parser, and both against the metrics a real engine exports after
real traffic — so a renamed metric breaks a test, not a night's paging.

Run by pytest (conftest.py): python3 -m pytest tests/engine/test_monitoring.py --solent BIN --root .
"""
import json
import os
import re
import subprocess
import time

import pytest

from harness import DeliveryEngine, check, free_port, send, traffic


def shipped(root, *parts):
    return os.path.join(root, "conf", *parts)


def metric_names(text):
    """solent_* metric names a rule or query reads (a histogram's by its family name)."""
    return {re.sub(r"_(bucket|sum|count)$", "", m)
            for m in re.findall(r"\bsolent_[a-z_]+", text)}


def test_rules_pass_promtool(root, tmp_path):
    """promtool checks the rules and runs their unit tests (each alert shown firing when it
    should, silent when it should not: out of hours, a listener with no threshold, a
    replayed dead letter)."""
    rules = shipped(root, "prometheus", "solent.rules.yml")
    r = subprocess.run(["promtool", "check", "rules", rules], capture_output=True, text=True)
    check(r.returncode == 0 and "SUCCESS: 8 rules found" in r.stdout,
          "promtool check rules: %s%s" % (r.stdout, r.stderr))
    tests = os.path.join(root, "tests", "prometheus", "solent.rules.test.yml")
    r = subprocess.run(["promtool", "test", "rules", os.path.basename(tests)],
                       capture_output=True, text=True, cwd=os.path.dirname(tests))
    check(r.returncode == 0 and "SUCCESS" in r.stdout,
          "promtool test rules: %s%s" % (r.stdout, r.stderr))
    # the tests can fail: the same tests against the rules without the working-hours filter
    loose = tmp_path / "loose.rules.yml"
    loose.write_text(open(rules).read().replace("and on () (day_of_week() >= 1 <= 5)", ""))
    copy = tmp_path / "loose.test.yml"
    copy.write_text(open(tests).read().replace("../../conf/prometheus/solent.rules.yml",
                                               str(loose)))
    r = subprocess.run(["promtool", "test", "rules", str(copy)], capture_output=True, text=True)
    check(r.returncode != 0 and "alertname: SolentInterfaceQuiet, time: 2d10h" in r.stderr,
          "without the weekday filter the Saturday case fails: %s%s" % (r.stdout, r.stderr))


def test_dashboard_is_a_grafana_dashboard(root, tmp_path):
    """The dashboard JSON has what Grafana's dashboard model needs (title, uid, schemaVersion,
    panels with unique ids laid out on the 24-column grid, targets with unique refIds and a
    Prometheus datasource from the template variable), and each query parses as PromQL
    (promtool, through a recording rule per query); the provisioning file names a file
    provider."""
    with open(shipped(root, "grafana", "solent-dashboard.json")) as f:
        dash = json.load(f)
    check(dash.get("title") == "Solent" and re.fullmatch(r"[a-z0-9-]{1,40}", dash.get("uid", ""))
          and isinstance(dash.get("schemaVersion"), int) and dash["schemaVersion"] >= 30,
          "title, uid and schemaVersion: %r" % {k: dash.get(k) for k in
                                                ("title", "uid", "schemaVersion")})
    variables = {v["name"]: v for v in dash["templating"]["list"]}
    check(variables.get("datasource", {}).get("type") == "datasource"
          and variables["datasource"].get("query") == "prometheus",
          "a Prometheus datasource variable: %r" % variables)
    ids, exprs, cells = set(), [], set()
    for p in dash["panels"]:
        check(p["id"] not in ids, "panel ids are unique: %r" % p["id"])
        ids.add(p["id"])
        g = p["gridPos"]
        check(0 <= g["x"] and g["x"] + g["w"] <= 24 and g["h"] > 0,
              "panel %r within the grid: %r" % (p["title"], g))
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                check((x, y) not in cells, "panel %r overlaps another" % p["title"])
                cells.add((x, y))
        check(p["type"] in ("timeseries", "stat", "bargauge", "table", "gauge"),
              "a panel type Grafana ships: %r" % p["type"])
        check(p["datasource"] == {"type": "prometheus", "uid": "${datasource}"},
              "panel %r reads the chosen Prometheus" % p["title"])
        refs = [t["refId"] for t in p["targets"]]
        check(p["targets"] and len(set(refs)) == len(refs),
              "panel %r: targets with unique refIds" % p["title"])
        exprs += [t["expr"] for t in p["targets"]]
    rules = tmp_path / "queries.rules.yml"
    rules.write_text("groups:\n  - name: dashboard\n    rules:\n" + "".join(
        "      - record: solent:dashboard_%d\n        expr: %s\n" % (i, json.dumps(e))
        for i, e in enumerate(exprs)))
    r = subprocess.run(["promtool", "check", "rules", str(rules)], capture_output=True, text=True)
    check(r.returncode == 0 and "SUCCESS: %d rules found" % len(exprs) in r.stdout,
          "every dashboard query parses: %s%s" % (r.stdout, r.stderr))
    rules.write_text(rules.read_text().replace("rate(", "rate((", 1))
    r = subprocess.run(["promtool", "check", "rules", str(rules)], capture_output=True, text=True)
    check(r.returncode != 0, "and a broken query would not")
    with open(shipped(root, "grafana", "provisioning.yml")) as f:
        prov = f.read()
    check("apiVersion: 1" in prov and "type: file" in prov and "path:" in prov,
          "the provisioning file: %s" % prov)


@pytest.fixture
def e(solent, root, tmp_path, fhir):
    engine = DeliveryEngine(solent, root, str(tmp_path), free_port(), fhir.port)
    with open(engine.conf) as f:
        text = f.read()
    with open(engine.conf, "w") as f:
        f.write(text.replace("[listener pas]\n", "[listener pas]\nquiet_after_ms = 30m\n", 1))
    engine.start()
    return engine


def test_metrics_the_rules_and_dashboard_read(e, root):
    """After real traffic the engine exports every metric the rules and the dashboard read;
    the quiet-interface figures say when each listener and each sender (MSH-3|MSH-4) was last
    heard and the threshold set in the configuration."""
    started = time.time()
    m = e.metrics()
    quiet = m['solent_listener_quiet_after_seconds{listener="pas"}']
    first = m['solent_last_message_timestamp_seconds{listener="pas"}']
    check(quiet == 1800, "quiet_after_ms = 30m is exported as 1800 s: %r" % quiet)
    check(started - 60 < first <= started,
          "before any message: the engine's start (%r, now %r)" % (first, started))
    check(not any(k.startswith("solent_sender_") for k in m), "no sender heard yet")
    time.sleep(1.1)
    before = time.time()
    plan = traffic("MON", 3)
    send(e.port, plan, connections=1)
    check(e.drained(), "the traffic is delivered")
    m = e.metrics()
    last = m['solent_last_message_timestamp_seconds{listener="pas"}']
    check(before - 0.5 <= last <= time.time(), "the last message's time: %r" % last)
    pas = 'sending_app="PAS",sending_facility="RHM"'
    lab = 'sending_app="LAB",sending_facility="RHM"'
    check(m["solent_sender_messages_total{%s}" % pas] == 9
          and m["solent_sender_messages_total{%s}" % lab] == 3,
          "messages by sender: %r" % {k: v for k, v in m.items() if "sender" in k})
    check(before - 0.5 <= m["solent_sender_last_message_timestamp_seconds{%s}" % lab] <= last,
          "each sender's last message")
    exported = {k.split("{")[0] for k in m}
    exported |= {re.sub(r"_(bucket|sum|count)$", "", k) for k in exported}
    wanted = set()
    for path in (shipped(root, "prometheus", "solent.rules.yml"),
                 shipped(root, "grafana", "solent-dashboard.json")):
        with open(path) as f:
            wanted |= metric_names(f.read())
    check(len(wanted) >= 14, "the rules and the dashboard read the metrics: %r" % wanted)
    missing = wanted - exported
    check(not missing, "metrics the rules or the dashboard read that the engine does not "
          "export: %r" % sorted(missing))
