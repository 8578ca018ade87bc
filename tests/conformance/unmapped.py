#!/usr/bin/python3
"""Unmapped fields across the corpus, each with its reason. Runs the real
`solent convert --explain` over ../shared/corpus and sorts every populated field no mapping
used (of the messages converted) by what the HL7 V2-to-FHIR IG says of it, read from the IG's
own segment maps (mappings/segments/*.csv):
  - "IG maps it": some map of the segment gives the field a FHIR target — Solent's gap;
  - "IG does not map it": the segment has maps but none targets the field;
  - "IG has no map for the segment": Z segments, SFT, ... .
The classes go by segment, not by where the segment stands in the message: an NTE after a
PID or an AIL, which the IG's message maps leave out, counts as "IG maps it" because the
IG maps NTE-3 where an NTE follows an OBX. Prints the shares and, per class, the fields by
count. A report, not a pass/fail test (the
issue's ≤ 10% bar is not met yet); exits 77 when the corpus is absent.
usage: unmapped.py SOLENT CORPUS_DIR [--all]"""
import collections
import csv
import glob
import os
import re
import subprocess
import sys


def ig_targets(corpus):
    """segment -> set of field numbers some IG segment map gives a FHIR target."""
    targets = collections.defaultdict(set)
    for path in glob.glob(os.path.join(corpus, "hl7-v2-to-fhir", "mappings", "segments", "*.csv")):
        seg = re.search(r"FHIR R4_ ([A-Z0-9]{3})\[", os.path.basename(path))
        if not seg:
            continue
        targets[seg.group(1)]  # a segment with maps, even if none targets a field
        with open(path, newline="") as f:
            for row in csv.reader(f):
                m = re.fullmatch(r"([A-Z0-9]{3})-(\d+)", row[1].strip()) if len(row) > 9 else None
                if m and any(c.strip() for c in row[9:12]):
                    targets[seg.group(1)].add(int(m.group(2)))
    return targets


def main():
    solent, corpus = sys.argv[1], sys.argv[2]
    if not os.path.isdir(corpus):
        print("unmapped: corpus absent, skipped")
        return 77
    r = subprocess.run([solent, "convert", "--explain", corpus], capture_output=True, text=True)
    total = re.search(r"explain: (\d+) of (\d+) populated fields", r.stderr)
    fields = collections.Counter(re.findall(r": unmapped ([A-Z0-9]{3})(?:\[\d+\])?-(\d+)", r.stderr))
    targets = ig_targets(corpus)
    classes = collections.defaultdict(collections.Counter)
    for (seg, n), count in fields.items():
        cls = ("IG maps it" if int(n) in targets.get(seg, ()) else
               "IG does not map it" if seg in targets else "IG has no map for the segment")
        classes[cls]["%s-%s" % (seg, n)] += count
    unmapped, populated = int(total.group(1)), int(total.group(2))
    print("unmapped: %d of %d populated fields (%.1f%%)" % (unmapped, populated,
                                                              100.0 * unmapped / populated))
    for cls in ("IG maps it", "IG does not map it", "IG has no map for the segment"):
        n = sum(classes[cls].values())
        top = classes[cls].most_common(None if "--all" in sys.argv else 25)
        print("  %-30s %6d (%.1f%% of populated): %s" % (
            cls, n, 100.0 * n / populated, ", ".join("%s %d" % kv for kv in top)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
