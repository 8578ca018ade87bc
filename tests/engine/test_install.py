"""Solent as a product a trust installs: the example configurations pass check-config (with
the files they name made for real: TLS certificates and a CRL by openssl, an ES384 signing key,
secrets, a store key, a code map), the systemd unit passes `systemd-analyze verify`, the manual
pages document every command and every key the loader knows and render without a warning,
`cmake --install` lays the files out, and the Debian package built by CPack installs with
`dpkg -i`, its solent checks its installed configuration, and `dpkg -r` / `--purge` take it
away (the system user stays, as Debian's packages leave theirs).

The package is $SOLENT_DEB when set (./dev test builds it: ./dev package), else built here
from the build directory (cpack).

Run by pytest (conftest.py): python3 -m pytest tests/engine/test_install.py --solent BIN --root .
"""
import glob
import os
import re
import shutil
import subprocess

import pytest

from harness import check

EXAMPLES = ["pas-feed", "lab-feed", "neighbour-tls", "fhir-smart"]


def run(*cmd, **kw):
    return subprocess.run(list(cmd), capture_output=True, text=True, **kw)


def make_pki(d):
    """A CA, a server certificate and its key, an empty CRL: what a TLS listener names."""
    os.makedirs(d, exist_ok=True)
    ossl = lambda *a: check(run("openssl", *a, cwd=d).returncode == 0, "openssl %s" % (a,))  # noqa
    ossl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", "ca.key", "-out", "partners-ca.pem", "-days", "30", "-subj", "/CN=Test CA")
    ossl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", "mllp.key", "-out", "mllp.csr", "-subj", "/CN=solent.example.nhs.uk")
    ossl("x509", "-req", "-in", "mllp.csr", "-CA", "partners-ca.pem", "-CAkey", "ca.key",
         "-CAcreateserial", "-out", "mllp.pem", "-days", "30")
    with open(os.path.join(d, "ca.cnf"), "w") as f:
        f.write("[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\ndefault_md = sha256\n"
                "default_crl_days = 30\n")
    open(os.path.join(d, "index.txt"), "w").close()
    ossl("ca", "-config", "ca.cnf", "-gencrl", "-keyfile", "ca.key", "-cert", "partners-ca.pem",
         "-out", "partners.crl")
    shutil.copy(os.path.join(d, "partners-ca.pem"), os.path.join(d, "phr-ca.pem"))
    for name in os.listdir(d):
        os.chmod(os.path.join(d, name), 0o600)


def test_examples_pass_check_config(solent, root, tmp_path):
    """Each of conf/examples with what it names under a scratch /etc/solent."""
    etc = str(tmp_path / "etc" / "solent")
    make_pki(os.path.join(etc, "tls"))
    for rel, text in (("tokens/oncall", "oncall-token-0123456789\n"),
                      ("secrets/phr-client-secret", "client-secret-0123456789\n"),
                      ("secrets/phr-token", "bearer-token-0123456789\n"),
                      ("codes/winpath-loinc.csv",
                       "local_code,system,code,display\nK,http://loinc.org,2823-3,Potassium\n"),
                      ("keys/store.keys", "1 " + "ab" * 32 + "\n")):
        path = os.path.join(etc, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o600)
    key = os.path.join(etc, "keys", "phr-signing-key.pem")
    check(run("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384",
              "-out", key).returncode == 0, "an ES384 signing key")
    os.chmod(key, 0o600)
    for name in EXAMPLES:
        with open(os.path.join(root, "conf", "examples", name + ".conf")) as f:
            text = f.read()
        conf = tmp_path / (name + ".conf")
        conf.write_text(text.replace("/etc/solent/", etc + "/")
                        .replace("/var/lib/solent", str(tmp_path / "var")))
        os.chmod(conf, 0o600)
        r = run(solent, "check-config", "-c", str(conf),
                env=dict(os.environ, SOLENT_PHR_TOKEN="env-token-0123456789"))
        check(r.returncode == 0 and ": ok:" in r.stdout,
              "conf/examples/%s.conf passes check-config: %s%s" % (name, r.stdout, r.stderr))
    # and check-config is not a rubber stamp: the same example without its CRL fails
    os.remove(os.path.join(etc, "tls", "partners.crl"))
    r = run(solent, "check-config", "-c", str(tmp_path / "neighbour-tls.conf"),
            env=dict(os.environ, SOLENT_PHR_TOKEN="env-token-0123456789"))
    check(r.returncode == 1 and "crl" in r.stdout + r.stderr, "a missing CRL is found: %s"
          % (r.stdout + r.stderr))


def test_systemd_unit_verifies(root, tmp_path):
    """systemd-analyze verify: the unit's keys, its sandboxing and its ExecStart binary."""
    unit = os.path.join(root, "conf", "systemd", "solent.service")
    with open(unit) as f:
        text = f.read()
    for need in ("NoNewPrivileges=yes", "ProtectSystem=strict", "ReadWritePaths=/var/lib/solent",
                 "PrivateTmp=yes", "User=solent", "ExecReload=/bin/kill -HUP $MAINPID"):
        check(need in text, "the unit has %s" % need)
    # verify resolves ExecStart: point it at a binary that exists on this machine
    local = tmp_path / "solent.service"
    local.write_text(text.replace("/usr/bin/solent", shutil.which("true")))
    r = run("systemd-analyze", "verify", "--man=no", str(local))  # the pages: below
    problems = [l for l in (r.stdout + r.stderr).splitlines()
                if "solent.service" in l and "Failed to" not in l or "Unknown" in l]
    check(r.returncode == 0 and not problems, "systemd-analyze verify: %s" % (r.stdout + r.stderr))
    bad = tmp_path / "bad.service"
    bad.write_text(text.replace("ProtectSystem=strict", "ProtectSystem=sometimes"))
    r = run("systemd-analyze", "verify", "--man=no", str(bad))
    check("Failed to parse protect system value" in r.stdout + r.stderr,
          "and it would say so of a bad value: %s" % (r.stdout + r.stderr))


def test_manual_pages(solent, root, tmp_path):
    """solent.1 has a section for every command; solent.conf.5 documents every key the loader
    knows (check-config --keys), under its section; both render with no groff warning."""
    out = str(tmp_path / "man")
    r = run("sh", os.path.join(root, "engine", "man.sh"), solent,
            os.path.join(root, "conf", "solent.conf"), out)
    check(r.returncode == 0, "man.sh: %s" % r.stderr)
    with open(os.path.join(out, "solent.1")) as f:
        page1 = f.read()
    commands = re.findall(r"^  ([a-z-]+)  ", run(solent, "--help").stdout, re.M)
    check(len(commands) >= 14 and all(".SS %s\n" % c in page1 for c in commands),
          "solent(1) has every command: %r" % commands)
    with open(os.path.join(out, "solent.conf.5")) as f:
        page5 = f.read()
    sections = {}
    for line in run(solent, "check-config", "--keys").stdout.splitlines():
        section, key, _ = line.split("\t")
        sections.setdefault(section, []).append(key)
    check(len(sections) >= 8 and sum(map(len, sections.values())) >= 90,
          "the loader's keys: %r" % {s: len(k) for s, k in sections.items()})
    for section, keys in sections.items():
        head = ".SH [%s%s]\n" % (section, " NAME" if section not in ("engine", "store", "admin")
                                 else "")
        check(head in page5, "solent.conf(5) has %s" % head.strip())
        body = page5.split(head, 1)[1].split("\n.SH ", 1)[0]
        missing = [k for k in keys if ".TP\n\\fB%s\\fR = " % k not in body]
        check(not missing, "solent.conf(5) [%s] documents every key: missing %r" % (section, missing))
    described = len(re.findall(r"\\fR = [^\n]*\n[^.]", page5))
    check(described >= 60, "most keys have their description: %d" % described)
    for page in ("solent.1", "solent.conf.5"):
        r = run("groff", "-k", "-man", "-Tutf8", "-ww", "-z", os.path.join(out, page))
        check(r.returncode == 0 and not r.stderr.strip(), "%s renders cleanly: %s" % (page, r.stderr))


def test_cmake_install_layout(root, tmp_path):
    """cmake --install into a staging root: bin/solent, /etc/solent/solent.conf (its data
    under /var/lib/solent, not readable by others), /var/lib/solent, the unit, the pages."""
    build = os.path.join(root, "build")
    dest = str(tmp_path / "stage")
    r = run("cmake", "--install", build, "--prefix", "/usr", env=dict(os.environ, DESTDIR=dest))
    check(r.returncode == 0, "cmake --install: %s" % (r.stdout + r.stderr))
    for path in ("usr/bin/solent", "etc/solent/solent.conf", "var/lib/solent",
                 "usr/lib/systemd/system/solent.service", "usr/share/man/man1/solent.1",
                 "usr/share/man/man5/solent.conf.5", "usr/share/solent/prometheus/solent.rules.yml",
                 "usr/share/solent/grafana/solent-dashboard.json",
                 "usr/share/doc/solent/examples/pas-feed.conf", "usr/share/doc/solent/LICENSE"):
        check(os.path.exists(os.path.join(dest, path)), "installed: /%s" % path)
    conf = os.path.join(dest, "etc/solent/solent.conf")
    with open(conf) as f:
        text = f.read()
    check("\ndata_dir = /var/lib/solent\n" in text and "\npath = /var/lib/solent/solent.db\n" in text,
          "the installed configuration keeps its data in /var/lib/solent")
    check(os.stat(conf).st_mode & 0o007 == 0, "and others cannot read it")


def build_deb(root, tmp_path):
    deb = os.environ.get("SOLENT_DEB")
    if deb:
        return deb
    out = str(tmp_path / "pkg")
    r = run("cpack", "-G", "DEB", "-B", out, "--config", os.path.join(root, "build",
                                                                      "CPackConfig.cmake"))
    check(r.returncode == 0, "cpack: %s" % (r.stdout + r.stderr)[-3000:])
    debs = glob.glob(os.path.join(out, "*.deb"))
    check(len(debs) == 1, "one package: %r" % debs)
    return debs[0]


def test_debian_package(root, tmp_path):
    """dpkg -i; the installed solent checks the installed configuration (as the unit's
    ExecStartPre does) and the solent user owns /var/lib/solent; dpkg -r takes the program
    and keeps the configuration; --purge takes the rest."""
    if os.geteuid() != 0:
        pytest.fail("installing a package needs root (CI runs as root)")
    if run("dpkg-query", "-W", "solent").returncode == 0:
        run("dpkg", "--purge", "solent")
    deb = build_deb(root, tmp_path)
    info = run("dpkg-deb", "--info", deb).stdout
    check("Package: solent" in info and "libevent" in info and "libpq5" in info
          and "adduser" in info, "the control file names its dependencies: %s" % info)
    files = run("dpkg-deb", "--contents", deb).stdout
    check("./usr/bin/solent" in files and "./etc/solent/solent.conf" in files,
          "the files: %s" % files[:2000])
    try:
        r = run("dpkg", "-i", deb)
        check(r.returncode == 0, "dpkg -i: %s" % (r.stdout + r.stderr))
        r = run("/usr/bin/solent", "check-config", cwd="/")  # no -c: the installed file
        check(r.returncode == 0 and "/etc/solent/solent.conf: ok:" in r.stdout,
              "the installed solent checks /etc/solent/solent.conf by default: %s%s"
              % (r.stdout, r.stderr))
        st = os.stat("/var/lib/solent")
        import pwd
        check(pwd.getpwuid(st.st_uid).pw_name == "solent" and st.st_mode & 0o077 == 0,
              "/var/lib/solent is the solent user's alone")
        check(run("man", "-w", "solent.conf").returncode == 0, "man solent.conf finds the page")
        r = run("dpkg", "-r", "solent")
        check(r.returncode == 0 and not os.path.exists("/usr/bin/solent")
              and os.path.exists("/etc/solent/solent.conf"),
              "dpkg -r: the program goes, the configuration stays: %s" % (r.stdout + r.stderr))
    finally:
        r = run("dpkg", "--purge", "solent")
    check(r.returncode == 0 and not os.path.exists("/etc/solent/solent.conf")
          and not os.path.exists("/var/lib/solent"),
          "dpkg --purge: configuration and data gone: %s" % (r.stdout + r.stderr))
