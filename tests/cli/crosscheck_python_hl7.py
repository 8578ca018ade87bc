#!/usr/bin/python3
"""Cross-check `solent parse` against python-hl7, a parser that is not ours.

For every corpus .hl7 file holding one message that both read, the raw trees
(segments -> fields -> repetitions -> components -> sub-components, escapes
kept) must be identical. Both parsers get the same text: CR terminators, no
blank lines, no trailing blanks (python-hl7 strips those itself). Skipped:
batches (python-hl7 keeps BHS/BTS as segments), an MSH with nothing after
MSH-2 (python-hl7 then reads the CR as a delimiter), anything either refuses.
Prints the counts; exits 1 on any difference and 77 when the corpus is absent.

usage: crosscheck_python_hl7.py SOLENT_BINARY CORPUS_DIR
"""
import json
import os
import subprocess
import sys

import hl7  # Debian's python3-hl7


def py_leaf(s):
    return None if s == '""' else s


def py_component(comp):
    subs = [py_leaf(s) for s in comp]
    return subs[0] if len(subs) == 1 else subs


def py_tree(text):
    """python-hl7's parse, reshaped like `solent parse --raw`."""
    msg = hl7.parse(text)
    segs = []
    for seg in msg:
        name = str(seg[0])
        fields = {}
        for n in range(1, len(seg)):
            field = seg[n]
            if name == "MSH" and n <= 2:
                fields[str(n)] = [[str(field)]]
                continue
            if str(field) == "":
                continue
            reps = field if isinstance(field[0], list) else [field]
            fields[str(n)] = [[py_component(c if isinstance(c, list) else [c])
                               for c in (rep if isinstance(rep, list) else [rep])]
                              for rep in reps]
        segs.append({"segment": name, "fields": fields})
    return segs


def normalise(raw):
    text = raw.decode("utf-8")
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = [l.rstrip() for l in text.replace("\r\n", "\r").replace("\n", "\r").split("\r")]
    return "\r".join(l for l in lines if l)


def main():
    solent, corpus = sys.argv[1], sys.argv[2]
    if not os.path.isdir(corpus):
        print("crosscheck: corpus absent, skipped")
        return 77
    compared = identical = skipped = 0
    failures = []
    for root, _, files in sorted(os.walk(corpus)):
        for name in sorted(files):
            if not name.endswith(".hl7"):
                continue
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                raw = f.read()
            try:
                text = normalise(raw)
                theirs = py_tree(text) if text.startswith("MSH") else None
            except Exception:  # python-hl7 refuses it, or it is not UTF-8
                theirs = None
            batch = any(h in raw for h in (b"BHS|", b"FHS|", b"BTS|", b"FTS|"))
            if theirs is None or batch or raw.count(b"MSH") != 1 or len(text.split("\r")[0]) <= 8:
                skipped += 1
                continue
            ours = subprocess.run([solent, "parse", "--raw", "--compact", "-"],
                                  input=text.encode(), capture_output=True)
            docs = ours.stdout.decode().splitlines()
            if ours.returncode != 0 or len(docs) != 1:
                skipped += 1
                continue
            compared += 1
            if json.loads(docs[0])["segments"] == theirs:
                identical += 1
            else:
                failures.append(path)
    print(f"crosscheck python-hl7: {compared} messages compared, {identical} identical, "
          f"{skipped} files skipped (not one message both parsers read)")
    for path in failures[:20]:
        print(f"  differs: {path}")
    return 0 if compared > 0 and not failures else 1


if __name__ == "__main__":
    sys.exit(main())
