#!/usr/bin/python3
"""UK Core shape: Solent's Patient against UK Core's own definitions and examples
(../shared/ukcore, FHIR XML from NHS England's repository; no UK Core validator installs
here). Converts the UK Core fixtures with the real `solent convert` and checks that every
extension URL, code system and identifier system Solent writes is the one UK Core's
StructureDefinitions and example resources use, that every code is in its CodeSystem with
its display, that the profile claimed is UKCore-Patient's canonical URL, and that numeric
administrative sex follows ConceptMap-UKCore-AdministrativeGender.
Exits 77 when ../shared/ukcore is absent. usage: ukcore.py SOLENT DATA_DIR UKCORE_DIR"""
import glob
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

NS = {"f": "http://hl7.org/fhir"}
passed = failed = 0


def check(name, cond):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {name}")


def xml(path):
    return ET.parse(path).getroot()


def values(root, path):
    return [e.get("value") for e in root.iterfind(path, NS)]


def concepts(root):
    """code -> display of a CodeSystem."""
    return {c.find("f:code", NS).get("value"): c.find("f:display", NS).get("value")
            for c in root.iterfind(".//f:concept", NS)}


def patient(solent, path):
    r = subprocess.run([solent, "convert", "--ident", "RHM:MR=https://fhir.rhm.example.nhs.uk/Id/mrn",
                        path], capture_output=True, text=True)
    bundle = json.loads(r.stdout)
    return next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")


def main():
    solent, data, uk = sys.argv[1], sys.argv[2], sys.argv[3]
    if not os.path.isdir(uk):
        print("ukcore: ../shared/ukcore absent, skipped")
        return 77
    sd = lambda name: xml(f"{uk}/structuredefinitions/{name}.xml")  # noqa: E731
    cs = lambda name: xml(f"{uk}/codesystems/CodeSystem-{name}.xml")  # noqa: E731
    example = xml(f"{uk}/examples/UKCore-Patient-RichardSmith-Example.xml")
    ex_urls = set(values(example, ".//f:extension[@url]")) | {
        e.get("url") for e in example.iterfind(".//f:extension", NS)}
    p = patient(solent, f"{data}/adt_a28_uk_core.hl7")

    profile = sd("UKCore-Patient").find("f:url", NS).get("value")
    check("the profile claimed is UKCore-Patient's canonical URL", p["meta"]["profile"] == [profile])

    nhs = next(i for i in p["identifier"] if i.get("system") == "https://fhir.nhs.uk/Id/nhs-number")
    ex_nhs = example.find("f:identifier", NS)
    check("the NHS number's system is UK Core's (the example's, the slice's fixed URI)",
          nhs["system"] == ex_nhs.find("f:system", NS).get("value"))
    ver = nhs["extension"][0]
    ex_ver = ex_nhs.find("f:extension", NS)
    check("verification status: the example's extension URL and code system",
          ver["url"] == ex_ver.get("url")
          and ver["valueCodeableConcept"]["coding"][0]["system"]
          == ex_ver.find(".//f:system", NS).get("value"))
    statuses = concepts(cs("UKCore-NHSNumberVerificationStatusEngland"))
    coding = ver["valueCodeableConcept"]["coding"][0]
    check("verification status: a code of the CodeSystem, with its display",
          statuses.get(coding["code"]) == coding["display"])

    ext = {e["url"]: e["valueCodeableConcept"] for e in p.get("extension", [])}
    eth_url = sd("Extension-UKCore-EthnicCategory").find("f:url", NS).get("value")
    check("ethnic category: UK Core's extension URL, as the example uses it",
          eth_url in ext and eth_url in ex_urls)
    eth = ext[eth_url]["coding"][0]
    ex_eth = example.find("f:extension[@url='%s']//f:system" % eth_url, NS).get("value")
    ethnic = concepts(cs("UKCore-EthnicCategoryEngland"))
    check("ethnic category: the example's code system, a code of it with its display",
          eth["system"] == ex_eth and ethnic.get(eth["code"]) == eth["display"])
    rel_url = sd("Extension-UKCore-ReligiousAffiliation").find("f:url", NS).get("value")
    check("religious affiliation: UK Core's extension URL, a SNOMED CT code as its value set says",
          rel_url in ext and ext[rel_url]["coding"][0]["system"] == "http://snomed.info/sct")

    gp = {g["type"]: g for g in p["generalPractitioner"]}
    ods = set()
    for f in glob.glob(f"{uk}/examples/UKCore-Organization-*.xml"):
        ods |= set(values(xml(f), "f:identifier/f:system"))
    check("GP practice: by ODS code, the system UK Core's Organization examples use",
          gp["Organization"]["identifier"]["system"] in ods
          and gp["Organization"]["identifier"]["value"] == "B81001")
    prac = xml(f"{uk}/examples/UKCore-Practitioner-DoctorPaulRastall-Example.xml")
    check("GP: a G code as a GMP number, the system UK Core's Practitioner example uses",
          gp["Practitioner"]["identifier"]["system"] in values(prac, "f:identifier/f:system"))

    gender_map = {}
    cm = xml(f"{uk}/conceptmaps/ConceptMap-UKCore-AdministrativeGender.xml")
    for el in cm.iterfind(".//f:element", NS):
        for t in el.iterfind("f:target", NS):
            gender_map[t.find("f:code", NS).get("value")] = el.find("f:code", NS).get("value")
    check("numeric sex 2 is female, as the ConceptMap maps it", p["gender"] == gender_map.get("2"))
    other = patient(solent, f"{data}/adt_a31_uk_core_local.hl7")
    check("numeric sex 9 is other, as the ConceptMap maps it", other["gender"] == gender_map.get("9"))
    check("no PID-32 and no configured default: no verification status claimed",
          all("extension" not in i for i in other["identifier"]))
    ogp = {g["type"]: g for g in other["generalPractitioner"]}
    check("a C code as a GMC number; the practice by XON-3 before v2.5",
          ogp["Practitioner"]["identifier"]["system"] == "https://fhir.hl7.org.uk/Id/gmc-number"
          and ogp["Organization"]["identifier"]["value"] == "B82002")
    print(f"ukcore: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
