#!/usr/bin/python3
"""Conformance against CDC ReportStream's mapping inventory
(../shared/corpus/reportstream/mappinginventory/): one small message per segment or
datatype map of the IG, each with the bundle ReportStream makes. For the folders whose
maps Solent implements, every element of their Patient, Encounter, Observation,
DiagnosticReport, ServiceRequest, Specimen, RelatedPerson and Coverage must be present
in ours. ReportStream's own extensions, ids, references, meta and narrative are ignored;
dateTimes compare as instants, codes as text.

The inventory tests one field at a time and leaves out what Solent requires of an ORU
(PID-3, an OBR with a service and an order number): where missing, the harness supplies
PID-3 = SOLENT-TEST^^^TEST^MR, an OBR, OBR-3 = SOLENT-FILLER and OBR-4 = SOLENT^Test^L,
so the field under test can be compared. Resources Solent makes only because of what the
harness supplied are not counted against either side.
Prints per-folder coverage and the elements not found; exits 0 when the share of their
elements present in ours is at least FLOOR (a regression guard, raised as coverage
grows), 77 when the corpus is absent.
usage: reportstream.py SOLENT CORPUS_DIR"""
import datetime
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

FOLDERS = ["cx", "xpn", "xad", "xtn", "cwe", "ce", "dt", "dtm", "ei", "hd", "pl", "xcn", "nm",
           "pid", "pd1", "nk1", "pv1pv2", "obx", "orcobr", "nte", "spm", "in1", "orur01"]
KINDS = {"Patient", "Encounter", "Observation", "DiagnosticReport", "ServiceRequest", "Specimen",
         "RelatedPerson", "Coverage"}
IGNORED = {"extension", "modifierExtension", "id", "meta", "text", "reference", "fullUrl", "assigner"}
FLOOR = 0.87  # overall share that must be present; raised as coverage grows


def instant(s):
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$", s)
    if not m:
        return s
    dt = datetime.datetime.fromisoformat(m.group(1) + m.group(3).replace("Z", "+00:00"))
    return dt.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def leaves(node, path=""):
    """(path without indices, value as text) for every leaf worth comparing."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k not in IGNORED and not k.startswith("_"):
                yield from leaves(v, f"{path}.{k}" if path else k)
    elif isinstance(node, list):
        for v in node:
            yield from leaves(v, path)
    else:
        yield path, instant(node) if isinstance(node, str) else str(node).lower()


def prepare(path):
    """The message, with PID-3 and OBR-3 supplied where empty."""
    text = open(path, "rb").read().decode("utf-8")
    out = []
    for seg in re.split(r"\r\n|\r|\n", text):
        f = seg.split("|")
        if f[0] == "PID":
            f += [""] * max(0, 4 - len(f))
            f[3] = f[3] or "SOLENT-TEST^^^TEST^MR"
        if f[0] == "OBR" and len(f) > 1:
            f += [""] * max(0, 5 - len(f))
            f[3] = f[3] or ("" if f[2] else "SOLENT-FILLER")
            f[4] = f[4] or "SOLENT^Test^L"
        out.append("|".join(f))
    if "ORU^R01" in text and not any(seg.startswith("OBR|") for seg in out):
        out.append("OBR|1||SOLENT-FILLER|SOLENT^Test^L")
    fd, tmp = tempfile.mkstemp(suffix=".hl7")
    os.write(fd, "\r".join(out).encode())
    os.close(fd)
    return tmp


def main():
    solent, corpus = sys.argv[1], sys.argv[2]
    root = os.path.join(corpus, "reportstream", "mappinginventory", "catchall")
    if not os.path.isdir(root):
        print("reportstream conformance: corpus absent, skipped")
        return 77
    ok = True
    grand_found = grand_total = 0
    for folder in FOLDERS:
        found = total = converted = cases = 0
        missing = {}
        for hl7 in sorted(glob.glob(os.path.join(root, folder, "*.hl7"))):
            fhir = hl7[:-4] + ".fhir"
            if not os.path.exists(fhir):
                continue
            cases += 1
            tmp = prepare(hl7)
            r = subprocess.run([solent, "convert", tmp], capture_output=True, text=True)
            os.unlink(tmp)
            theirs = [e["resource"] for e in json.load(open(fhir)).get("entry", [])
                      if e["resource"]["resourceType"] in KINDS]
            ours = [e["resource"] for e in json.loads(r.stdout)["entry"]] if r.returncode == 0 else []
            converted += r.returncode == 0
            for t in theirs:
                if set(leaves(t)) == {("resourceType", t["resourceType"])}:
                    continue  # a placeholder with nothing but ReportStream's extensions
                mine = set()
                for o in ours:
                    if o["resourceType"] == t["resourceType"]:
                        mine |= set(leaves(o))
                for leaf in set(leaves(t)):
                    total += 1
                    if leaf in mine:
                        found += 1
                    else:
                        missing[f'{t["resourceType"]}.{leaf[0]}'] = os.path.basename(hl7)
        share = found / total if total else 1.0
        grand_found += found
        grand_total += total
        print(f"  {folder:8} {cases:3} cases, {converted:3} converted: {found}/{total} elements ({100 * share:.0f}%)")
        for path in sorted(missing)[:8]:
            print(f"      missing {path} (e.g. {missing[path]})")
    ok = grand_total > 0 and grand_found >= FLOOR * grand_total
    print(f"reportstream conformance: {grand_found}/{grand_total} elements of theirs present in ours "
          f"({100.0 * grand_found / max(grand_total, 1):.1f}%)")
    print(f"{1 if ok else 0} passed, {0 if ok else 1} failed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
