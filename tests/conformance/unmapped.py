#!/usr/bin/python3
"""Unmapped fields across the corpus, each with its reason. Runs the real
`solent convert --explain` over ../shared/corpus and sorts every populated field no mapping
used (of the messages converted) by what the HL7 V2-to-FHIR IG says of it where it stands.
The IG's message maps (mappings/messages/*.csv) say which segment maps apply to a segment in
each position of a message structure (an NTE after an OBX is an Observation's note, one after
the PID of an ORU maps to nothing); its segment maps (mappings/segments/*.csv) say which
fields those maps give a FHIR element. Classes:
  - "IG maps it": a map that applies here gives the field an element — Solent's gap;
  - "IG maps it only when a field this message fills is empty": the IG's condition (ORC-14
    only without OBR-17, OBR-16 only without ORC-12...) leaves it out here;
  - "Solent leaves it, for the reason in DECISIONS": a choice, with its reason below;
  - "IG maps it only to an extension it has not defined": the only targets are the IG's
    placeholders (extension??-...) or "local implementation" (PID-10 race): no element
    a FHIR server or the validator would know;
  - "IG's message map gives the segment here no target": the segment, where it stands in
    this structure, maps to nothing (ORU PATIENT.NTE, SIU GENERAL_RESOURCE.NTE, ADT
    PROCEDURE.ROL);
  - "IG does not map it": the maps that apply leave the field out;
  - "IG has no map for the segment": Z segments, IN2, ARV, DB1... .
A message type without an IG message map (ADT A21, A40...) is classed by segment alone.
Prints the shares and, per class, the fields by count; --all prints every field, --markdown
a table of every remaining field with its reason. Exits 77 when the corpus is absent.
usage: unmapped.py SOLENT CORPUS_DIR [--all] [--markdown]"""
import collections
import csv
import glob
import os
import re
import subprocess
import sys

MAPS = "IG maps it"
CONDITION = "IG maps it only when a field this message fills is empty"
DECIDED = "Solent leaves it, for the reason in DECISIONS"
UNDEFINED = "IG maps it only to an extension it has not defined"
POSITION = "IG's message map gives the segment here no target"
FIELD = "IG does not map it"
SEGMENT = "IG has no map for the segment"
CLASSES = (MAPS, CONDITION, DECIDED, UNDEFINED, POSITION, FIELD, SEGMENT)

# The IG's conditions: the field maps only when another of the order is empty (ORC-14 only
# without OBR-17...). (segment, field) -> (segment, field) that must be empty.
CONDITIONS = {("ORC", 14): ("OBR", 17), ("OBR", 16): ("ORC", 12), ("OBR", 27): ("ORC", 7),
              ("OBR", 2): ("ORC", 2), ("OBR", 3): ("ORC", 3)}

# What Solent leaves out on purpose, and why: (structure or None, segment, field or None).
DECISIONS = {
    (None, "PV1", 20): "a Coverage from the financial class alone would have no payor, which "
                       "FHIR requires (Coverage.payor 1..*); IN1 makes the Coverage",
    ("VXU_V04", "ORC", None): "the IG makes a ServiceRequest of a vaccination's ORC; Solent "
                              "makes the Immunization (with ORC-2/3/12) and no order",
    (None, "SCH", 6): "the IG's SCH[ServiceRequest] (the appointment's order) is not made: the "
                      "order is the order system's to send; the Appointment names it (SCH-26/27)",
    (None, "AIS", 11): "as SCH-6: the IG's AIS[ServiceRequest] is not made",
    (None, "AIS", 12): "as SCH-6: the IG's AIS[ServiceRequest] is not made",
    (None, "TQ1", 5): "the IG's repeat.offset needs a repeat.when (FHIR tim-9: 'if there's an "
                      "offset, there must be a when'), which TQ1 gives no code for",
    (None, "OBX", 30): "the IG's own comment on OBX-30: 'we will keep the thought of needing an "
                       "extension, but not create it yet' — no extension exists to carry it",
}


def decided(structure, seg, field):
    return next((why for (st, sg, f), why in DECISIONS.items()
                 if sg == seg and (f is None or f == field) and (st is None or st == structure)), None)


def other_filled(msg, nth_index, seg, field):
    """Whether the field CONDITIONS names for seg-field is valued in the same order: the ORC
    before an OBR, the OBR after an ORC."""
    want = CONDITIONS.get((seg, field))
    if not want:
        return False
    other, f = want
    step = -1 if seg == "OBR" else 1
    i = nth_index + step
    while 0 <= i < len(msg) and msg[i][0] not in (other, seg, "PID"):
        i += step
    if not (0 <= i < len(msg)) or msg[i][0] != other:
        return False
    raw = msg[i][1]
    parts = raw.split(raw[3]) if len(raw) > 3 else []
    return len(parts) > f and parts[f].strip() != ""

# message type -> the IG message map of its structure (HL7 v2.5 chapter 3's structures)
STRUCTURES = {"ADT": {"A01": "ADT_A01", "A04": "ADT_A01", "A08": "ADT_A01", "A13": "ADT_A01",
                      "A02": "ADT_A02", "A05": "ADT_A05", "A14": "ADT_A05", "A28": "ADT_A05",
                      "A31": "ADT_A05", "A06": "ADT_A06", "A07": "ADT_A06", "A09": "ADT_A09",
                      "A10": "ADT_A09", "A12": "ADT_A09", "A11": "ADT_A11", "A17": "ADT_A17"},
              "MDM": "MDM_T02", "OML": "OML_O21", "ORM": "ORM_O01", "ORU": "ORU_R01",
              "SIU": "SIU_S12", "VXU": "VXU_V04"}


def segment_maps(corpus):
    """'SEG[Target]' -> {field: 'element' or 'undefined'}; and the segments with any map."""
    maps, segments = {}, set()
    for path in glob.glob(os.path.join(corpus, "hl7-v2-to-fhir", "mappings", "segments", "*.csv")):
        m = re.search(r"FHIR R4_ (([A-Z0-9]{3})\[[^\]]*\])", os.path.basename(path))
        if not m:
            continue
        segments.add(m.group(2))
        fields = maps.setdefault(m.group(1), {})
        with open(path, newline="") as f:
            for row in csv.reader(f):
                n = re.fullmatch(r"([A-Z0-9]{3})-(\d+)", row[1].strip()) if len(row) > 11 else None
                if not n:
                    continue
                element, extra = row[9].strip(), row[10].strip() + row[11].strip()
                field = int(n.group(2))
                if element and not element.startswith("extension?"):
                    fields[field] = "element"
                elif extra and fields.get(field) != "element":
                    fields[field] = "undefined"
    return maps, segments


def message_maps(corpus):
    """structure -> [(group path, segment, [segment map names])] in the sheet's order."""
    out = {}
    for path in glob.glob(os.path.join(corpus, "hl7-v2-to-fhir", "mappings", "messages", "*.csv")):
        m = re.search(r"FHIR R4_ ([A-Z]{3}_[A-Z0-9]{3})", os.path.basename(path))
        if not m:
            continue
        rows = []
        with open(path, newline="") as f:
            for row in csv.reader(f):
                if len(row) < 11 or row[1].startswith("/"):
                    continue
                p = re.fullmatch(r"[A-Z]{3}_[A-Z0-9]{3}(?::follow:([A-Z0-9]{3}))?((?:\.[A-Z_0-9]+)*)\.([A-Z0-9]{3})",
                                 row[1].strip())
                if not p:
                    continue
                group = (p.group(1) and ":" + p.group(1)) or p.group(2)
                name = row[10].strip()
                if not re.fullmatch(r"[A-Z0-9]{3}\[.*\]", name):  # ORM's "ServiceRequest[1]"
                    target = (name or row[9].strip()).split("[")[0]
                    name = "%s[%s]" % (p.group(3), target) if target else ""
                if rows and rows[-1][0] == group and rows[-1][1] == p.group(3):
                    if name:
                        rows[-1][2].append(name)
                else:
                    rows.append((group, p.group(3), [name] if name else []))
        out[m.group(1)] = rows
    return out


def candidates(rows, i):
    """The segments that may stand just before row i's segment: those before it in its group
    (or what it follows), the group's own predecessors when it opens the group."""
    group, seg, _ = rows[i]
    if group.startswith(":"):
        return {group[1:]}
    before = {s for g, s, _ in rows[:i] if g == group and s != seg}
    if before:
        return before
    parent = group.rsplit(".", 1)[0] if "." in group else ""
    return {s for g, s, _ in rows[:i] if g == parent} or {None}


def row_for(rows, seg, before):
    """The rows of the message map for seg standing after the segment before."""
    mine = [i for i, (_, s, _) in enumerate(rows) if s == seg]
    fit = [i for i in mine if before in candidates(rows, i)]
    return fit or mine


def classify(seg, field, structure, before, maps, segments, sheets):
    fields_of = lambda names: [maps.get(n, {}).get(field) for n in names]
    rows = sheets.get(structure)
    if seg not in segments:
        return SEGMENT
    if rows is None:  # no message map for the structure: by segment alone
        found = [maps[n].get(field) for n in maps if n.startswith(seg + "[")]
    elif not any(s == seg for _, s, _ in rows):  # a segment the structure's map leaves out
        return POSITION
    else:
        names = [n for i in row_for(rows, seg, before) for n in rows[i][2]]
        if not names:
            return POSITION
        found = fields_of(names)
    return MAPS if "element" in found else UNDEFINED if "undefined" in found else FIELD


def messages(path):
    """The messages of a file as lists of segment names, as solent numbers them."""
    data = open(path, "rb").read().decode("latin-1").replace("\r\n", "\r").replace("\n", "\r")
    out = []
    for s in (s for s in data.split("\r") if s.strip()):
        name = s[:3]
        if name in ("FHS", "BHS", "BTS", "FTS"):
            continue
        if name == "MSH" or not out:
            out.append([])
        out[-1].append((name, s))
    return out


def structure_of(msh):
    sep = msh[3] if len(msh) > 3 else "|"
    parts = msh.split(sep)
    kind = parts[8].split(msh[4] if len(msh) > 4 else "^") if len(parts) > 8 else []
    code, event = (kind + ["", ""])[:2]
    table = STRUCTURES.get(code)
    return table.get(event) if isinstance(table, dict) else table


def main():
    solent, corpus = sys.argv[1], sys.argv[2]
    if not os.path.isdir(corpus):
        print("unmapped: corpus absent, skipped")
        return 77
    r = subprocess.run([solent, "convert", "--explain", corpus], capture_output=True, text=True)
    total = re.search(r"explain: (\d+) of (\d+) populated fields", r.stderr)
    maps, segments = segment_maps(corpus)
    sheets = message_maps(corpus)
    classes = collections.defaultdict(collections.Counter)
    parsed = {}
    for line in r.stderr.splitlines():
        m = re.match(r"(.*?): message (\d+): unmapped ([A-Z0-9]{3})(?:\[(\d+)\])?-(\d+)$", line)
        if not m:
            continue
        path, index, seg, nth, field = m.group(1), int(m.group(2)), m.group(3), int(m.group(4) or 1), int(m.group(5))
        if path not in parsed:
            parsed[path] = messages(path)
        msgs = parsed[path]
        msg = msgs[index - 1] if index <= len(msgs) else []
        structure = structure_of(msg[0][1]) if msg and msg[0][0] == "MSH" else None
        before, seen, at = None, 0, 0
        for at, (name, _) in enumerate(msg):
            if name == seg:
                seen += 1
                if seen == nth:
                    break
            else:
                before = name
        cls = classify(seg, field, structure, before, maps, segments, sheets)
        if cls == MAPS and other_filled(msg, at, seg, field):
            cls = CONDITION
        elif cls == MAPS and decided(structure, seg, field):
            cls = DECIDED
        classes[cls]["%s-%s" % (seg, field)] += 1
    unmapped, populated = int(total.group(1)), int(total.group(2))
    if "--markdown" in sys.argv:
        print("| class | field | count |\n|---|---|---|")
        for cls in CLASSES:
            for name, n in sorted(classes[cls].items(), key=lambda kv: (-kv[1], kv[0])):
                print("| %s | %s | %d |" % (cls, name, n))
        print("\n| decision | why |\n|---|---|")
        for (st, sg, f), why in DECISIONS.items():
            print("| %s%s%s | %s |" % (st + " " if st else "", sg, "-%d" % f if f else "", why))
        return 0
    print("unmapped: %d of %d populated fields (%.1f%%)" % (unmapped, populated,
                                                              100.0 * unmapped / populated))
    for cls in CLASSES:
        n = sum(classes[cls].values())
        top = classes[cls].most_common(None if "--all" in sys.argv else 25)
        print("  %-52s %5d (%.1f%%): %s" % (
            cls, n, 100.0 * n / populated, ", ".join("%s %d" % kv for kv in top)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
