#!/usr/bin/python3
"""Conformance against Microsoft FHIR-Converter's expected bundles for the ADT, ORU, VXU, MDM,
ORM, OML and SIU pairs in ../shared/corpus/fhir-converter/PAIRS.csv whose events Solent transforms.

Compares content, not JSON: Patient (identifiers, names, birth date, gender, address,
telecom), Encounter (class, status, period), Observation (code, value, status,
effective), DiagnosticReport (code, status, result count), Immunization (vaccine,
status, occurrence, lot, expiry, dose), DocumentReference (type, status, docStatus,
number, title), MedicationRequest (drug, status, intent, when, dispense) and ServiceRequest (code, status, intent, placer, filler, authored, specimen
count) and Appointment (status, start, end, duration, ids, services); dateTimes as instants;
ids ignored. Prints a per-field agreement table. Passes when agreement is at least 90%
and every field that disagrees is explained in KNOWN-DIFFERENCES.md beside this file.
Exits 77 when the corpus is absent. usage: fhir_converter.py SOLENT CORPUS_DIR"""
import csv

import hl7  # Debian's python3-hl7: reads which values come from PID and OBX
import datetime
import json
import os
import re
import subprocess
import sys
from collections import defaultdict

SUPPORTED = {"ADT": {"A01", "A02", "A03", "A04", "A05", "A06", "A07", "A08", "A09", "A10", "A11", "A12", "A14", "A27", "A45", "A47",
                     "A13", "A28", "A31", "A40"},
             "ORU": {"R01"}, "VXU": {"V04"},
             "MDM": {"T01", "T02", "T03", "T04", "T05", "T06", "T07", "T08", "T09", "T10", "T11"},
             "ORM": {"O01"}, "OML": {"O21"},
             "SIU": {"S12", "S13", "S14", "S15", "S16", "S17", "S26"}}


def instant(s):
    """A FHIR date/dateTime as a comparable value: UTC instant, or the date text."""
    if not s or "T" not in s:
        return s
    s = s.replace("Z", "+00:00")
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?)(\.\d+)?([+-]\d\d:\d\d)?$", s)
    if not m:
        return s
    base = m.group(1) + ("" if m.group(2) else ":00")
    dt = datetime.datetime.fromisoformat(base + (m.group(4) or "+00:00"))
    return dt.astimezone(datetime.timezone.utc).isoformat()


def first(resources, kind):
    found = [r for r in resources if r["resourceType"] == kind]
    return found[0] if found else None


def code_of(cc):
    codings = (cc or {}).get("coding") or []
    return codings[0].get("code") if codings else (cc or {}).get("text")


def text(s):
    """Strings as content: surrounding whitespace is not part of the value."""
    return s.strip() if isinstance(s, str) else s


def patient_fields(p):
    return {
        "Patient.identifier": sorted({i.get("value") for i in p.get("identifier", []) if i.get("value")}),
        # the names the sender gave (XPN-15 "called by", a second name Solent adds as the IG's
        # XPN[HumanName] says, FHIR-Converter does not map: KNOWN-DIFFERENCES)
        "Patient.name": sorted({(n.get("family"), tuple(n.get("given", [])[:1])) for n in p.get("name", [])
                                if n.get("use") != "usual"}),
        "Patient.birthDate": p.get("birthDate"),
        "Patient.gender": p.get("gender"),
        "Patient.address": sorted({(tuple(text(l) for l in a.get("line", [])[:1]), text(a.get("city")),
                                    text(a.get("postalCode"))) for a in p.get("address", [])}),
        "Patient.telecom": sorted({t.get("value") for t in p.get("telecom", []) if t.get("value")}),
    }


def encounter_fields(e):
    period = e.get("period", {})
    return {
        "Encounter.class": (e.get("class") or {}).get("code"),
        "Encounter.status": e.get("status"),
        "Encounter.period.start": instant(period.get("start")),
        "Encounter.period.end": instant(period.get("end")),
    }


def value_of(o):
    if "valueQuantity" in o:
        return float(o["valueQuantity"].get("value", 0))
    for k in ("valueString", "valueDateTime", "valueTime"):
        if k in o:
            return instant(o[k]) if k == "valueDateTime" else o[k]
    if "valueCodeableConcept" in o:
        return code_of(o["valueCodeableConcept"])
    return None


def observation_fields(o):
    return {
        "Observation.value": value_of(o),
        "Observation.status": o.get("status"),
        "Observation.effective": instant(o.get("effectiveDateTime")),
    }


def compare(expected, ours, tally, diffs, name):
    """Counts agreement for every field the expected resource has."""
    for field, want in expected.items():
        if want in (None, [], ""):
            continue
        got = ours.get(field) if ours else None
        tally[field][0] += 1
        if got == want:
            tally[field][1] += 1
        else:
            diffs[field].append(name)


def segment_values(path):
    """What the segments Solent maps carry, read with python-hl7 (not our parser):
    the identifiers and family names in PID, and the OBX-3 codes."""
    text = open(path, "rb").read().decode("utf-8-sig", "replace").replace("\r\n", "\r").replace("\n", "\r")
    msg = hl7.parse("\r".join(l for l in text.split("\r") if l.strip()))
    ids, families, codes = set(), set(), set()
    for seg in msg:
        name = str(seg[0])
        if name == "PID":
            for f in (2, 3, 4, 19, 20):
                for rep in (seg[f] if len(seg) > f else []):
                    ids.add(str(rep[0]).split("^")[0] if isinstance(rep, list) else str(rep))
            for f in (5, 9):
                for rep in (seg[f] if len(seg) > f else []):
                    first = rep[0] if isinstance(rep, list) else rep
                    families.add(str(first[0] if isinstance(first, list) else first).split("&")[0])
        elif name == "OBX" and len(seg) > 3:
            first = seg[3][0] if isinstance(seg[3], list) else seg[3]
            codes.add(str(first[0] if isinstance(first, list) else first).split("^")[0])
    return ids, families, codes


def scope(theirs, path):
    """Their resources and fields that come from segments Solent maps (PID, PV1, OBX...):
    identifiers and names from PID, observations from OBX. DB1, IN1, PDA, ACC and the
    like feed FHIR-Converter's Patient and Observations too but are outside this map."""
    ids, families, codes = segment_values(path)
    kept = []
    for r in theirs:
        if r["resourceType"] == "Observation" and code_of(r.get("code")) not in codes:
            continue
        if r["resourceType"] == "Patient":
            r = dict(r)
            r["identifier"] = [i for i in r.get("identifier", []) if i.get("value") in ids]
            r["name"] = [n for n in r.get("name", []) if (n.get("family") or "") in families]
        kept.append(r)
    return kept


def immunization_fields(i):
    return {
        "Immunization.vaccineCode": code_of(i.get("vaccineCode")),
        "Immunization.status": i.get("status"),
        "Immunization.occurrence": instant(i.get("occurrenceDateTime")),
        "Immunization.lotNumber": i.get("lotNumber"),
        "Immunization.expirationDate": i.get("expirationDate"),
        "Immunization.doseQuantity": float((i.get("doseQuantity") or {}).get("value", 0)) or None,
    }


def document_fields(d):
    return {
        "DocumentReference.type": code_of(d.get("type")),
        "DocumentReference.status": d.get("status"),
        "DocumentReference.docStatus": d.get("docStatus"),
        "DocumentReference.masterIdentifier": (d.get("masterIdentifier") or {}).get("value"),
        "DocumentReference.description": d.get("description"),
    }


def request_fields(r):
    ids = {(i.get("type") or {}).get("coding", [{}])[0].get("code"): i.get("value")
           for i in r.get("identifier", [])}
    return {
        "ServiceRequest.code": code_of(r.get("code")),
        "ServiceRequest.status": r.get("status"),
        "ServiceRequest.intent": r.get("intent"),
        "ServiceRequest.placer": ids.get("PLAC"),
        "ServiceRequest.filler": ids.get("FILL"),
        "ServiceRequest.authoredOn": instant(r.get("authoredOn")),
        "ServiceRequest.specimen": len(r.get("specimen", [])),
    }


def appointment_fields(a):
    ids = {(i.get("type") or {}).get("coding", [{}])[0].get("code"): i.get("value")
           for i in a.get("identifier", [])}
    return {
        "Appointment.status": a.get("status"),
        "Appointment.start": instant(a.get("start")),
        "Appointment.end": instant(a.get("end")),
        "Appointment.minutesDuration": a.get("minutesDuration"),
        "Appointment.placer": ids.get("PLAC"),
        "Appointment.filler": ids.get("FILL"),
        "Appointment.serviceType": sorted(code_of(c) or "" for c in a.get("serviceType", [])),
    }


def compare_requests(ours, theirs, tally, diffs, name):
    """The orders of an order message: each of theirs against the first of ours with its
    placer number, else the first left with its code."""
    left = [r for r in ours if r["resourceType"] == "ServiceRequest"]
    parents = {b["reference"] for r in theirs if r["resourceType"] == "ServiceRequest"
               for b in r.get("basedOn", []) if "reference" in b}
    for t in (r for r in theirs if r["resourceType"] == "ServiceRequest"):
        want = request_fields(t)
        if f"ServiceRequest/{t.get('id')}" in parents or not want["ServiceRequest.code"]:
            continue  # an order's parent (ORC-8), or made from another segment
        o = next((r for r in left if want["ServiceRequest.placer"]
                  and request_fields(r)["ServiceRequest.placer"] == want["ServiceRequest.placer"]),
                 None) or next((r for r in left if request_fields(r)["ServiceRequest.code"]
                                == want["ServiceRequest.code"]), None)
        if o:
            left.remove(o)
        if os.environ.get("CONFORMANCE_DEBUG"):
            print(name, json.dumps(want), json.dumps(request_fields(o) if o else None))
        compare(want, request_fields(o) if o else None, tally, diffs, name)


def medication_fields(r, resources):
    """A pharmacy order: its drug's code (a contained or referenced Medication's), status,
    intent, when, the amount to dispense and the refills."""
    code = code_of(r.get("medicationCodeableConcept"))
    ref = (r.get("medicationReference") or {}).get("reference", "")
    for m in r.get("contained", []) + resources:
        if m.get("resourceType") == "Medication" and (ref == "#" + m.get("id", "")
                                                       or ref.endswith("/" + m.get("id", ""))):
            code = code_of(m.get("code"))
    dispense = r.get("dispenseRequest", {})
    return {
        "MedicationRequest.medication": code,
        "MedicationRequest.status": r.get("status"),
        "MedicationRequest.intent": r.get("intent"),
        "MedicationRequest.authoredOn": instant(r.get("authoredOn")),
        "MedicationRequest.dispenseRequest": ((dispense.get("quantity") or {}).get("value"),
                                              dispense.get("numberOfRepeatsAllowed")),
    }


def compare_pair(ours, theirs, tally, diffs, name):
    t, o = first(theirs, "Appointment"), first(ours, "Appointment")
    if t:
        compare(appointment_fields(t), appointment_fields(o) if o else None, tally, diffs, name)
    t, o = first(theirs, "DocumentReference"), first(ours, "DocumentReference")
    if t:
        compare(document_fields(t), document_fields(o) if o else None, tally, diffs, name)
    our_mr = [r for r in ours if r["resourceType"] == "MedicationRequest"]
    for n, t in enumerate(r for r in theirs if r["resourceType"] == "MedicationRequest"):
        o = our_mr[n] if n < len(our_mr) else None
        compare(medication_fields(t, theirs), medication_fields(o, ours) if o else None, tally, diffs, name)
    our_imm = [r for r in ours if r["resourceType"] == "Immunization"]
    for n, t in enumerate(r for r in theirs if r["resourceType"] == "Immunization"):
        o = our_imm[n] if n < len(our_imm) else None
        compare(immunization_fields(t), immunization_fields(o) if o else None, tally, diffs, name)
    for kind, fields in (("Patient", patient_fields), ("Encounter", encounter_fields)):
        t, o = first(theirs, kind), first(ours, kind)
        if t:
            compare(fields(t), fields(o) if o else None, tally, diffs, name)
    our_obs = defaultdict(list)  # by code, in order: the n-th of a code against the n-th
    for o in ours:
        if o["resourceType"] == "Observation":
            our_obs[code_of(o.get("code"))].append(o)
    for t in (r for r in theirs if r["resourceType"] == "Observation"):
        same = our_obs.get(code_of(t.get("code")))
        o = same.pop(0) if same else None
        tally["Observation.code"][0] += 1
        tally["Observation.code"][1] += o is not None
        if o is None:
            diffs["Observation.code"].append(name)
        compare(observation_fields(t), observation_fields(o) if o else None, tally, diffs, name)
    our_dr = [r for r in ours if r["resourceType"] == "DiagnosticReport"]
    for i, t in enumerate(r for r in theirs if r["resourceType"] == "DiagnosticReport"):
        o = our_dr[i] if i < len(our_dr) else None
        want = {"DiagnosticReport.code": code_of(t.get("code")), "DiagnosticReport.status": t.get("status"),
                "DiagnosticReport.result": len(t.get("result", []))}
        got = {"DiagnosticReport.code": code_of(o.get("code")), "DiagnosticReport.status": o.get("status"),
               "DiagnosticReport.result": len(o.get("result", []))} if o else None
        compare(want, got, tally, diffs, name)


def main():
    solent, corpus = sys.argv[1], sys.argv[2]
    root = os.path.join(corpus, "fhir-converter")
    if not os.path.isdir(root):
        print("fhir-converter conformance: corpus absent, skipped")
        return 77
    tally, diffs, pairs = defaultdict(lambda: [0, 0]), defaultdict(list), 0
    by_type = defaultdict(lambda: [0, 0])  # message code: fields compared, agreeing
    with open(os.path.join(root, "PAIRS.csv")) as f:
        for row in csv.DictReader(f):
            kind = row["root_template"]
            if kind[4:] not in SUPPORTED.get(kind[:3], ()):
                continue
            r = subprocess.run([solent, "convert", os.path.join(root, row["input"])],
                               capture_output=True, text=True)
            if r.returncode != 0:
                tally["converted"][0] += 1
                diffs["converted"].append(os.path.basename(row["input"]))
                continue
            tally["converted"][0] += 1
            tally["converted"][1] += 1
            ours = [e["resource"] for e in json.loads(r.stdout)["entry"]]
            theirs = [e["resource"] for e in json.load(open(os.path.join(root, row["expected"])))["entry"]]
            theirs = scope(theirs, os.path.join(root, row["input"]))
            if kind.startswith("MDM_"):  # a document's OBX are its content (KNOWN-DIFFERENCES)
                theirs = [t for t in theirs
                          if t["resourceType"] not in ("Observation", "DiagnosticReport")]
            if kind[:3] in ("ORM", "OML"):  # an order has no report yet (KNOWN-DIFFERENCES)
                theirs = [t for t in theirs if t["resourceType"] != "DiagnosticReport"]
            before = (sum(c for c, _ in tally.values()), sum(a for _, a in tally.values()))
            compare_pair(ours, theirs, tally, diffs, os.path.basename(row["input"]))
            if kind[:3] in ("ORM", "OML"):
                compare_requests(ours, theirs, tally, diffs, os.path.basename(row["input"]))
            by_type[kind[:3]][0] += sum(c for c, _ in tally.values()) - before[0]
            by_type[kind[:3]][1] += sum(a for _, a in tally.values()) - before[1]
            pairs += 1
    known = open(os.path.join(os.path.dirname(__file__), "KNOWN-DIFFERENCES.md")).read()
    total = sum(c for c, _ in tally.values())
    agree = sum(a for _, a in tally.values())
    print(f"fhir-converter conformance: {pairs} pairs, {agree}/{total} fields agree "
          f"({100.0 * agree / max(total, 1):.1f}%)")
    for code in sorted(by_type):
        c, a = by_type[code]
        print(f"  {code}: {a}/{c} fields agree ({100.0 * a / max(c, 1):.1f}%)")
    print(f"  {'field':28} {'agree':>7} {'compared':>9}")
    undocumented = []
    for field in sorted(tally):
        compared, agreed = tally[field]
        print(f"  {field:28} {agreed:>7} {compared:>9}")
        if agreed < compared and f"`{field}`" not in known:
            undocumented.append(field)
    for field in sorted(diffs):
        print(f"  differs in {field}: {', '.join(sorted(set(diffs[field]))[:6])}")
    if undocumented:
        print(f"  not explained in KNOWN-DIFFERENCES.md: {', '.join(undocumented)}")
    ok = total > 0 and agree >= 0.9 * total and not undocumented
    print(f"{1 if ok else 0} passed, {0 if ok else 1} failed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
