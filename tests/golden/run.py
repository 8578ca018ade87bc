#!/usr/bin/python3
"""Golden tests: every fixture in tests/data/transforms (plus tests/data and
conf/samples) converted by the real `solent convert`, compared structurally with
tests/expected/NAME.json. A fixture Solent rejects has {"error": "..."} there: the
error line, by position. With --update, the expected files are rewritten (review the
diff before committing: they are the contract).
usage: run.py SOLENT SOURCE_ROOT [--update]"""
import glob
import json
import os
import subprocess
import sys

OPTIONS = ["--ident", "RHM:MR=https://fhir.rhm.example.nhs.uk/Id/mrn", "--tz", "Europe/London"]


def convert(solent, path):
    r = subprocess.run([solent, "convert", *OPTIONS, path], capture_output=True)
    if r.returncode == 0:
        return json.loads(r.stdout)
    errors = [l.split(": message 1: ", 1)[-1] for l in r.stderr.decode().splitlines() if " error " in l]
    return {"error": errors[0] if errors else r.stderr.decode().strip()}


def first_difference(a, b, path="$"):
    if type(a) is not type(b):
        return f"{path}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return f"{path}.{k}: {'missing' if k not in a else 'unexpected'}"
            d = first_difference(a[k], b[k], f"{path}.{k}")
            if d:
                return d
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {len(b)} items, expected {len(a)}"
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_difference(x, y, f"{path}[{i}]")
            if d:
                return d
        return None
    return None if a == b else f"{path}: {b!r}, expected {a!r}"


def main():
    solent, root = sys.argv[1], sys.argv[2]
    update = "--update" in sys.argv
    fixtures = sorted(glob.glob(f"{root}/tests/data/transforms/*.hl7") + glob.glob(f"{root}/tests/data/*.hl7")
                      + glob.glob(f"{root}/conf/samples/*.hl7"))
    passed = failed = 0
    for path in fixtures:
        name = os.path.splitext(os.path.basename(path))[0]
        got = convert(solent, path)
        expected_path = f"{root}/tests/expected/{name}.json"
        if update:
            with open(expected_path, "w") as f:
                json.dump(got, f, indent=1, ensure_ascii=False)
                f.write("\n")
        if not os.path.exists(expected_path):
            print(f"FAIL {name}: no tests/expected/{name}.json")
            failed += 1
            continue
        want = json.load(open(expected_path))
        diff = first_difference(want, got)
        if diff:
            print(f"FAIL {name}: {diff}")
            failed += 1
        else:
            passed += 1
    print(f"golden: {len(fixtures)} fixtures")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not fixtures else 0


if __name__ == "__main__":
    sys.exit(main())
