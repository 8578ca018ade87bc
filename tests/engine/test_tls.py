"""TLS and mutual TLS on MLLP listeners, against peers that are not ours: the `openssl`
command (certificates made here, `s_client`), python's `ssl` module driving python3-hl7's
MLLP client, and `solent send --tls`. Every refused certificate is refused with its reason
in the log; plain text, TLS 1.0/1.1 and non-AEAD suites are refused; a renewed certificate
is picked up on SIGHUP while a connection open on the old one keeps sending; a broken key
keeps the old one."""
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import time

import hl7.client
import pytest

from harness import (ADMIN_TOKEN, Engine, check, free_port, free_ports, log_of, message,
                     open_to_engine, openssl)

CA_CONF = """[ca]
default_ca = ca
[ca]
dir = {dir}
database = {dir}/index.txt
new_certs_dir = {dir}
serial = {dir}/serial
default_md = sha256
policy = any
copy_extensions = copy
default_crl_days = 30
unique_subject = no
[any]
commonName = supplied
[v3_ca]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
[server]
basicConstraints = CA:false
subjectAltName = DNS:localhost,IP:127.0.0.1
extendedKeyUsage = serverAuth
[client]
basicConstraints = CA:false
subjectAltName = DNS:dorset.example.nhs.uk
extendedKeyUsage = clientAuth
"""


class Pki:
    """A test CA and its certificates, made with the openssl command: a server certificate,
    a good client certificate, an expired one, a not-yet-valid one, a revoked one (with the
    CRL), and a client certificate of another CA."""

    def __init__(self, d):
        self.d = d
        for ca in ("ca", "other"):
            os.makedirs(os.path.join(d, ca))
            with open(os.path.join(d, ca, "ca.cnf"), "w") as f:
                f.write(CA_CONF.format(dir=os.path.join(d, ca)))
            open(os.path.join(d, ca, "index.txt"), "w").close()
            with open(os.path.join(d, ca, "serial"), "w") as f:
                f.write("1000\n")
            openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", self.p(ca + "/ca.key"), "-out", self.p(ca + "/ca.pem"), "-days", "30",
                    "-subj", "/CN=Solent test %s" % ca, "-extensions", "v3_ca",
                    "-config", self.p(ca + "/ca.cnf"))
        self.issue("server", "localhost", "server")
        self.issue("client", "dorset_trust", "client")
        self.issue("expired", "expired_trust", "client", dates=("20200101000000Z", "20200201000000Z"))
        self.issue("future", "future_trust", "client", dates=("20991231000000Z", "21000101000000Z"))
        self.issue("revoked", "revoked_trust", "client")
        self.issue("stranger", "stranger_trust", "client", ca="other")
        self.ca_run("ca", "-revoke", self.p("revoked.pem"))
        self.ca_run("ca", "-gencrl", "-out", self.p("crl.pem"))
        self.open()

    def open(self):
        """Test keys readable by the engine's user too, which rereads them on SIGHUP."""
        for d, _, files in os.walk(self.d):
            for f in files:
                os.chmod(os.path.join(d, f), 0o644)
        open_to_engine(self.d)

    def p(self, name):
        return os.path.join(self.d, name)

    def ca_run(self, ca, *args):
        openssl("ca", "-batch", "-config", self.p(ca + "/ca.cnf"), "-cert", self.p(ca + "/ca.pem"),
                "-keyfile", self.p(ca + "/ca.key"), *args)

    def issue(self, name, cn, kind, dates=None, ca="ca"):
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                self.p(name + ".key"), "-out", self.p(name + ".csr"), "-subj", "/CN=" + cn)
        when = ["-startdate", dates[0], "-enddate", dates[1]] if dates else ["-days", "30"]
        self.ca_run(ca, "-in", self.p(name + ".csr"), "-out", self.p(name + ".pem"), "-extensions",
                    kind, "-notext", *when)
        if hasattr(self, "d"):
            self.open()


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return Pki(str(tmp_path_factory.mktemp("pki")))


class TlsEngine(Engine):
    """An engine whose listener pas speaks TLS (verify as given) and whose listener quiet is
    plain, on the next port."""

    def __init__(self, solent, root, work, port, pki, verify="require", cert=None, key=None):
        self.pki, self.verify = pki, verify
        self.cert, self.key = cert or pki.p("server.pem"), key or pki.p("server.key")
        Engine.__init__(self, solent, root, work, port)

    def write(self, routes="adt, oru", extra="", engine=""):
        Engine.write(self, routes, extra, engine)
        p = self.pki.p
        with open(self.conf) as f:
            text = f.read()
        tls = "tls = on\ncert = %s\nkey = %s\nhandshake_timeout_ms = 2s\n" % (self.cert, self.key)
        if self.verify != "none":
            tls += "verify = %s\nclient_ca = %s\ncrl = %s\n" % (self.verify, p("ca/ca.pem"),
                                                                  p("crl.pem"))
        text = text.replace("routes = %s\n[listener quiet]" % routes,
                            "routes = %s\n%s[listener quiet]" % (routes, tls), 1)
        with open(self.conf, "w") as f:
            f.write(text)


def client_context(pki, cert=None, minimum=ssl.TLSVersion.TLSv1_2, maximum=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(pki.p("ca/ca.pem"))
    ctx.minimum_version = minimum
    if maximum:
        ctx.maximum_version = maximum
    if cert:
        ctx.load_cert_chain(pki.p(cert + ".pem"), pki.p(cert + ".key"))
    return ctx


def hl7_client(ctx, port):
    """python3-hl7's MLLP client, its socket a TLS one (the client takes any socket)."""
    c = hl7.client.MLLPClient.__new__(hl7.client.MLLPClient)
    c.socket = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10),
                               server_hostname="localhost")
    c.encoding = "utf-8"
    return c


def ack_code(ack):
    """The MSA-1 of an ACK (AA: original mode, as message() asks), b"" without one."""
    return ack.split(b"\rMSA|")[1][:2] if b"\rMSA|" in ack else b""


def exchange(client, control_id):
    """One message through python3-hl7's client, the whole ACK frame read."""
    ack = client.send_message(message(control_id))
    while ack and b"\x1c" not in ack:
        ack += client.socket.recv(4096)
    return ack_code(ack)


def send_tls(solent, pki, port, cert, sample):
    args = [solent, "send", "--tls", "--ca", pki.p("ca/ca.pem"), "--servername", "localhost",
            "--timeout", "5"]
    if cert:
        args += ["--cert", pki.p(cert + ".pem"), "--key", pki.p(cert + ".key")]
    return subprocess.run(args + ["127.0.0.1:%d" % port, sample], capture_output=True, text=True)


def test_mutual_tls_peers(solent, root, tmp_path, pki):
    port = free_ports()
    e = TlsEngine(solent, root, str(tmp_path), port, pki)
    e.start()
    sample = os.path.join(root, "conf", "samples", "adt_a01.hl7")
    r = send_tls(solent, pki, port, "client", sample)
    check(r.returncode == 0 and "CA" in r.stdout, "a good client certificate: accepted: %s" % r)
    check(e.wait_log(b"event=tls_ok listener=pas") and
          b"identity=dorset_trust,dorset.example.nhs.uk" in log_of(e),
          "the verified identity (CN, SAN) logged")
    for cert, reason in (("expired", b"certificate has expired"),
                         ("future", b"certificate is not yet valid"),
                         ("revoked", b"certificate revoked"),
                         ("stranger", b"unable to get local issuer certificate"),
                         (None, b"peer did not return a certificate")):
        r = send_tls(solent, pki, port, cert, sample)
        check(r.returncode != 0, "%s: refused" % cert)
        check(e.wait_log(b'reason="' + reason + b'"'), "%s: refused with %r in the log" % (cert, reason))
    # python's ssl module driving python3-hl7's MLLP client
    c = hl7_client(client_context(pki, "client"), port)
    check(exchange(c, "TLSPY1") == b"AA", "python3-hl7 over TLS: accepted")
    check(c.socket.version() in ("TLSv1.2", "TLSv1.3"), "TLS 1.2 or 1.3")
    c.close()
    # TLS 1.2 only as AEAD and forward secret suites
    c = hl7_client(client_context(pki, "client", maximum=ssl.TLSVersion.TLSv1_2), port)
    name, version, _ = c.socket.cipher()
    check(version == "TLSv1.2" and "ECDHE" in name and ("GCM" in name or "CHACHA20" in name),
          "TLS 1.2 negotiates ECDHE with an AEAD: %s" % name)
    c.close()
    for flag, reason in (("-tls1", b"unsupported protocol"), ("-tls1_1", b"unsupported protocol")):
        s = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, flag,
                            "-cert", pki.p("client.pem"), "-key", pki.p("client.key"),
                            "-CAfile", pki.p("ca/ca.pem")],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=20)
        check("Cipher is (NONE)" in s.stdout or s.returncode != 0, "%s refused" % flag)
    check(e.wait_log(b'reason="unsupported protocol"', count=2), "TLS 1.0/1.1: reason logged")
    s = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-tls1_2",
                        "-cipher", "AES128-SHA", "-cert", pki.p("client.pem"), "-key",
                        pki.p("client.key"), "-CAfile", pki.p("ca/ca.pem")],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=20)
    check("Cipher is (NONE)" in s.stdout or s.returncode != 0, "a CBC, non-ECDHE suite refused")
    s = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-cert",
                        pki.p("client.pem"), "-key", pki.p("client.key"), "-CAfile",
                        pki.p("ca/ca.pem"), "-verify_return_error", "-servername", "localhost"],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=20)
    check("Verify return code: 0 (ok)" in s.stdout and "TLSv1.3" in s.stdout,
          "openssl s_client: a verified TLS 1.3 session")
    # plain MLLP to the TLS port: refused cleanly, the engine serves on
    with socket.create_connection(("127.0.0.1", port), timeout=5) as plain:
        plain.sendall(b"\x0b" + message("PLAIN1") + b"\x1c\r")
        plain.settimeout(5)
        try:
            got = plain.recv(4096)
        except (ConnectionResetError, socket.timeout):
            got = b""
        check(b"MSA" not in got, "no ACK in plain text on a TLS port")
    check(e.wait_log(b'reason="wrong version number"') or e.wait_log(b'reason="packet length too long"'),
          "plain text on a TLS port: the reason logged")
    r = send_tls(solent, pki, port, "client", sample)
    check(r.returncode == 0, "the engine serves on after all that")
    # a handshake that never comes: closed after handshake_timeout_ms
    with socket.create_connection(("127.0.0.1", port), timeout=5) as silent:
        check(e.wait_log(b'reason="handshake timeout"', timeout=10), "a silent peer timed out")
    check(b"TLSPY1" not in log_of(e), "no message data in the log")


def test_certificate_reload(solent, root, tmp_path, pki):
    port = free_ports()
    cert, key = str(tmp_path / "server.pem"), str(tmp_path / "server.key")
    shutil.copy(pki.p("server.pem"), cert)  # this test's own copies: it renews and breaks them
    shutil.copy(pki.p("server.key"), key)
    open_to_engine(cert), open_to_engine(key)
    e = TlsEngine(solent, root, str(tmp_path), port, pki, verify="optional", cert=cert, key=key)
    e.start()
    old_serial = subprocess.run(["openssl", "x509", "-noout", "-serial", "-in", cert],
                                capture_output=True, text=True).stdout.strip()
    ctx = client_context(pki)  # verify optional: no client certificate needed
    keep = hl7_client(ctx, port)
    check(exchange(keep, "RELOAD1") == b"AA", "before the reload: accepted")
    served = lambda: ssl.DER_cert_to_PEM_cert(
        ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=5),
                        server_hostname="localhost").getpeercert(binary_form=True))
    pem_before = served()
    # a renewed certificate (same name, new serial) in place of the old, then SIGHUP
    pki.issue("renewed", "localhost", "server")
    shutil.copy(pki.p("renewed.pem"), cert)
    shutil.copy(pki.p("renewed.key"), key)
    open_to_engine(cert), open_to_engine(key)
    new_serial = subprocess.run(["openssl", "x509", "-noout", "-serial", "-in", cert],
                                capture_output=True, text=True).stdout.strip()
    check(new_serial != old_serial, "the renewal has a new serial")
    e.proc.send_signal(signal.SIGHUP)
    check(e.wait_log(b"event=tls_reloaded listener=pas"), "the new certificate loaded")
    check(served() != pem_before, "new connections get the renewed certificate")
    check(exchange(keep, "RELOAD2") == b"AA",
          "the connection open on the old certificate keeps sending")
    # a broken key: the old certificate and key stay
    with open(key, "w") as f:
        f.write("-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n")
    pem_now = served()
    e.proc.send_signal(signal.SIGHUP)
    check(e.wait_log(b"event=tls_reload_failed listener=pas kept=previous"), "a broken key: kept")
    check(served() == pem_now, "new connections still get the certificate in force")
    check(exchange(keep, "RELOAD3") == b"AA", "and the old one still sends")
    keep.close()


def test_tls_configuration_errors(solent, tmp_path):
    conf = tmp_path / "bad.conf"
    for body, says in (("tls = on\n", "tls = on needs cert and key"),
                       ("verify = require\n", "need tls = on"),
                       ("tls = on\ncert = a.pem\nkey = a.key\nverify = require\n",
                        "verify = require needs client_ca")):
        conf.write_text("[listener pas]\nroutes = adt\n%s[route adt]\ndestinations = local\n"
                        "[destination local]\nkind = directory\npath = %s\n" % (body, tmp_path))
        r = subprocess.run([solent, "check-config", "-c", str(conf)], capture_output=True, text=True)
        check(r.returncode != 0 and says in r.stderr, "check-config: %r in %r" % (says, r.stderr))


def test_check_config_tls_files(solent, tmp_path, pki):
    """check-config builds each listener's TLS context: a missing file and a key of another
    certificate are errors naming them; a good one passes, with a warning when the file that
    names the key is readable by every user."""
    conf = tmp_path / "tls.conf"
    for cert, key, says in ((pki.p("server.pem"), pki.p("nothere.key"), "No such file"),
                            (pki.p("server.pem"), pki.p("client.key"), "key values mismatch"),
                            (pki.p("server.pem"), pki.p("server.key"), None)):
        conf.write_text("[listener pas]\nroutes = adt\ntls = on\ncert = %s\nkey = %s\n"
                        "[route adt]\ndestinations = local\n[destination local]\nkind = directory\n"
                        "path = %s\n" % (cert, key, tmp_path))
        os.chmod(str(conf), 0o644)
        r = subprocess.run([solent, "check-config", "-c", str(conf)], capture_output=True, text=True)
        if says:
            check(r.returncode != 0 and says in r.stderr, "check-config: %r in %r" % (says, r.stderr))
        else:
            check(r.returncode == 0 and "readable by every user" in r.stderr,
                  "a good TLS listener passes, the world-readable file warned: %r" % r.stderr)
            os.chmod(str(conf), 0o640)
            r = subprocess.run([solent, "check-config", "-c", str(conf)], capture_output=True, text=True)
            check(r.returncode == 0 and "warning" not in r.stderr, "no warning at 0640: %r" % r.stderr)


def test_peers_on_listeners_and_routes(solent, root, tmp_path, pki):
    """[peer] sections by certificate identity and by address (IPv4 and IPv6 ranges): a
    listener with peers takes only theirs; a route with peers refuses another's message with
    AR (ERR 207 at MSH-3), stored as rejected with the sender recorded."""
    port = free_ports()
    probe = socket.socket(socket.AF_INET6)
    probe.bind(("::1", 0))
    v6 = probe.getsockname()[1]
    probe.close()
    e = TlsEngine(solent, root, str(tmp_path), port, pki)
    with open(e.conf) as f:
        text = f.read()
    text = text.replace("[route adt]\n", "[route adt]\npeers = dorset\n", 1)
    text = text.replace("[route oru]\n", "[route oru]\npeers = lab\n", 1)
    text = text.replace("[listener quiet]\n", "[listener quiet]\npeers = lab\n", 1)
    text += ("[peer dorset]\nidentity = dorset.example.nhs.uk\n"
             "[peer lab]\naddresses = 127.0.0.2/32, ::1/128\n"
             "[listener lab6]\nbind = ::1\nport = %d\nroutes = adt, oru\npeers = lab\n" % v6)
    with open(e.conf, "w") as f:
        f.write(text)
    e.start()
    # the dorset trust by its certificate: its ADT taken, its ORU not on the lab's route
    c = hl7_client(client_context(pki, "client"), port)
    check(exchange(c, "PEER1") == b"AA", "dorset's ADT on the dorset route: accepted")
    ack = c.send_message(message("PEER2").replace(b"ADT^A01^ADT_A01", b"ORU^R01^ORU_R01")
                         + b"OBR|1|P1|F1|2823-3^Potassium^LN|||20261129080000\r")
    while b"\x1c" not in ack:
        ack += c.socket.recv(4096)
    check(ack_code(ack) == b"AR" and b"ERR||MSH^1^3|207" in ack,
          "dorset's ORU on the lab's route: AR, ERR 207 at MSH-3: %r" % ack)
    c.close()
    out = subprocess.run([solent, "messages", "-c", e.conf], capture_output=True, text=True).stdout
    # ID RECEIVED LISTENER PEER SENDER TYPE CONTROL-ID STATUS ERROR ...
    rows = {l.split()[6]: l.split() for l in out.splitlines()[1:] if l.strip()}
    check(rows["PEER1"][3] == "dorset" and rows["PEER1"][7] == "accepted",
          "solent messages: the peer recorded: %s" % out)
    check(rows["PEER2"][3] == "dorset" and rows["PEER2"][7] == "rejected"
          and rows["PEER2"][8] == "207@MSH-3", "the refused message stored as rejected: %s" % out)
    # a plain listener for the lab only: 127.0.0.1 refused, 127.0.0.2 taken, ::1 taken
    with socket.create_connection(("127.0.0.1", port + 1), timeout=5) as s:
        s.sendall(b"\x0b" + message("PEER3") + b"\x1c\r")
        try:
            got = s.recv(4096)
        except (ConnectionResetError, socket.timeout):
            got = b""
        check(b"MSA" not in got, "127.0.0.1 is not the lab: refused")
    check(e.wait_log(b"reason=not_a_listed_peer"), "the refusal logged")
    for family, source, dest in ((socket.AF_INET, "127.0.0.2", ("127.0.0.1", port + 1)),
                                 (socket.AF_INET6, "::1", ("::1", v6))):
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(10)
        s.bind((source, 0))
        s.connect(dest)
        oru = message("PEER4" + source[-1]).replace(b"ADT^A01^ADT_A01", b"ORU^R01^ORU_R01") \
            + b"OBR|1|P1|F1|2823-3^Potassium^LN|||20261129080000\r"
        s.sendall(b"\x0b" + oru + b"\x1c\r")
        got = b""
        while b"\x1c" not in got:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
        s.close()
        check(ack_code(got) == b"AA", "the lab from %s: its ORU accepted: %r" % (source, got))
    out = subprocess.run([solent, "messages", "-c", e.conf], capture_output=True, text=True).stdout
    check(out.count(" lab ") >= 2, "the lab's messages recorded as the lab's: %s" % out)


def test_hostile_bytes_before_the_handshake(solent, root, tmp_path, pki):
    """Random bytes where a ClientHello belongs, 300 connections of them (some a valid TLS
    record header followed by garbage): each refused, the engine serving on."""
    import random
    rnd = random.Random(14)
    port = free_ports()
    e = TlsEngine(solent, root, str(tmp_path), port, pki)
    e.start()
    for i in range(300):
        head = b"\x16\x03\x01" + rnd.randbytes(2) if i % 3 == 0 else b""
        blob = head + rnd.randbytes(rnd.randint(1, 2048))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(blob)
                s.shutdown(socket.SHUT_WR)
                s.settimeout(5)
                while s.recv(4096):
                    pass
        except OSError:
            pass  # reset by the engine: refused
    r = send_tls(solent, pki, port, "client", os.path.join(root, "conf", "samples", "adt_a01.hl7"))
    check(r.returncode == 0, "after 300 hostile openings, a good client is served")
    check(log_of(e).count(b"event=tls_failed") >= 300, "each hostile opening refused and logged")
    check(e.proc.poll() is None, "the engine is still running")


def test_scan(solent, root, tmp_path, pki):
    """Debian's sslscan against a TLS listener: nothing but TLS 1.2 and 1.3, AEAD suites with
    ECDHE (TLS 1.2), elliptic-curve groups only, no renegotiation, no compression, not
    vulnerable to heartbleed."""
    port = free_ports()
    e = TlsEngine(solent, root, str(tmp_path), port, pki, verify="optional")
    e.start()
    scan(port)


def scan(port):
    """Fails on any sslscan finding against port."""
    r = subprocess.run(["sslscan", "--no-colour", "--show-sigs", "127.0.0.1:%d" % port],
                       capture_output=True, text=True, timeout=300)
    out = r.stdout + r.stderr
    for proto, state in (("SSLv2", "disabled"), ("SSLv3", "disabled"), ("TLSv1.0", "disabled"),
                         ("TLSv1.1", "disabled"), ("TLSv1.2", "enabled"), ("TLSv1.3", "enabled")):
        check(re.search(r"^%s\s+%s$" % (re.escape(proto), state), out, re.M),
              "sslscan: %s %s:\n%s" % (proto, state, out))
    check("Session renegotiation not supported" in out or "Secure session renegotiation" in out,
          "no insecure renegotiation")
    check("vulnerable to heartbleed" in out and " vulnerable to heartbleed" not in
          out.replace("not vulnerable to heartbleed", ""), "not vulnerable to heartbleed")
    ciphers = re.findall(r"^(?:Preferred|Accepted)\s+(TLSv1\.[23])\s+\d+ bits\s+(\S+)", out, re.M)
    check(ciphers, "sslscan lists the suites accepted:\n%s" % out)
    for proto, name in ciphers:
        check(("GCM" in name or "CHACHA20" in name) and (proto == "TLSv1.3" or name.startswith("ECDHE")),
              "only forward-secret AEAD suites: %s %s" % (proto, name))
    check("ffdhe" not in out, "no finite-field Diffie-Hellman groups")


def curl(pki, port, path, cert="client", token=ADMIN_TOKEN, *more):
    """(exit status, HTTP status, body) of curl (a client that is not ours) GETting path over
    HTTPS from the admin endpoint, verifying it against the test CA."""
    args = ["curl", "-sS", "--max-time", "10", "--cacert", pki.p("ca/ca.pem"), "-o", "-",
            "-w", "\n%{http_code}", *more]
    if cert:
        args += ["--cert", pki.p(cert + ".pem"), "--key", pki.p(cert + ".key")]
    if token:
        args += ["-H", "Authorization: Bearer " + token]
    r = subprocess.run(args + ["https://127.0.0.1:%d%s" % (port, path)], capture_output=True,
                       text=True, timeout=30)
    body, _, code = r.stdout.rpartition("\n")
    return r.returncode, code, body


def test_admin_tls(solent, root, tmp_path, pki):
    """[admin] tls = on with verify = require: curl with a client certificate of the CA gets
    /metrics (and a 401 without the token); no client certificate, a revoked, an expired one
    and one of another CA are refused in the handshake; plain HTTP to the port gets no
    answer; a broken key on SIGHUP keeps the endpoint as it was, a renewed certificate is
    served after one; sslscan finds nothing."""
    port, admin = free_ports(), free_port()
    cert, key = str(tmp_path / "admin.pem"), str(tmp_path / "admin.key")
    shutil.copy(pki.p("server.pem"), cert)  # this test's own copies: it renews and breaks them
    shutil.copy(pki.p("server.key"), key)
    open_to_engine(cert), open_to_engine(key)
    extra = ("[admin]\nport = %d\ntoken = env:SOLENT_TEST_ADMIN_TOKEN\ntls = on\ncert = %s\n"
             "key = %s\nverify = require\nclient_ca = %s\ncrl = %s\n"
             % (admin, cert, key, pki.p("ca/ca.pem"), pki.p("crl.pem")))
    e = Engine(solent, root, str(tmp_path), port)
    e.write(extra=extra)
    e.start()
    check(e.wait_log(b"event=admin_listening bind=127.0.0.1 port=%d tls=on verify=require" % admin),
          "the endpoint says it listens in TLS")
    with hl7.client.MLLPClient("127.0.0.1", port) as c:
        c.send_message(message("ADM0001"))
    rc, code, body = curl(pki, admin, "/metrics")
    check(rc == 0 and code == "200" and 'solent_messages_total{listener="pas",status="accepted"} 1'
          in body, "curl with a client certificate gets /metrics over TLS: %d %s %s"
          % (rc, code, body[:300]))
    rc, code, _ = curl(pki, admin, "/metrics", "client", "")
    check(rc == 0 and code == "401", "over TLS, /metrics still needs its token: %s" % code)
    rc, code, _ = curl(pki, admin, "/healthz", "client", "", "--tlsv1.3")
    check(rc == 0 and code == "200", "/healthz over TLS 1.3: %s" % code)
    for who in (None, "revoked", "stranger", "expired"):
        rc, code, body = curl(pki, admin, "/healthz", who)
        check(rc != 0 and code == "000", "%s refused in the handshake: curl %d, HTTP %s"
              % (who or "no client certificate", rc, code))
    with socket.create_connection(("127.0.0.1", admin), timeout=10) as s:
        s.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
        got = b""
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                got += chunk
        except OSError:
            pass
    check(not got.startswith(b"HTTP/"), "plain HTTP to the TLS port gets no HTTP answer: %r"
          % got[:80])
    # a broken key: the endpoint stays as it was
    served = lambda: subprocess.run(  # noqa: E731
        ["openssl", "s_client", "-connect", "127.0.0.1:%d" % admin, "-cert", pki.p("client.pem"),
         "-key", pki.p("client.key"), "-CAfile", pki.p("ca/ca.pem")], input="", capture_output=True,
        text=True, timeout=30).stdout.split("-----BEGIN CERTIFICATE-----")[1].split("-----END")[0]
    before = served()
    with open(key, "w") as f:
        f.write("-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n")
    e.proc.send_signal(signal.SIGHUP)
    check(e.wait_log(b"event=admin_reload_failed kept=previous error=\"[admin] tls: key"),
          "a broken admin key is refused on reload, with the reason")
    rc, code, _ = curl(pki, admin, "/metrics")
    check(rc == 0 and code == "200" and served() == before, "and the endpoint serves on as it was")
    pki.issue("admin_renewed", "localhost", "server")
    shutil.copy(pki.p("admin_renewed.pem"), cert)
    shutil.copy(pki.p("admin_renewed.key"), key)
    open_to_engine(cert), open_to_engine(key)
    e.proc.send_signal(signal.SIGHUP)
    check(e.wait_log(b"event=admin_tls_reloaded tls=on"), "a renewed certificate loads")
    rc, code, _ = curl(pki, admin, "/metrics")
    check(rc == 0 and code == "200" and served() != before, "and is the one served now")
    # sslscan stops (SIGPIPE) where a client certificate is required: scanned with it optional
    e.write(extra=extra.replace("verify = require", "verify = optional"))
    e.proc.send_signal(signal.SIGHUP)
    check(e.wait_log(b"event=admin_tls_reloaded tls=on verify=optional"), "verify optional")
    scan(admin)
    check(e.stop() == 0, "clean stop")


def test_check_config_admin(solent, tmp_path, pki):
    """check-config and the admin endpoint: plain HTTP beyond loopback is a warning, TLS with
    a key of another certificate an error naming it, TLS that loads neither."""
    conf = tmp_path / "admin.conf"
    base = ("[listener pas]\nroutes = adt\n[route adt]\ndestinations = local\n[destination local]\n"
            "kind = directory\npath = %s\n[admin]\nbind = 0.0.0.0\nport = 9575\n"
            "token = env:SOLENT_TEST_ADMIN_TOKEN\n" % tmp_path)
    for tls, rc, says in (("", 0, "its token crosses the network in plain HTTP"),
                          ("tls = on\ncert = %s\nkey = %s\n" % (pki.p("server.pem"), pki.p("client.key")),
                           1, "[admin] tls: key"),
                          ("tls = on\ncert = %s\nkey = %s\n" % (pki.p("server.pem"), pki.p("server.key")),
                           0, None)):
        conf.write_text(base + tls)
        os.chmod(str(conf), 0o600)
        r = subprocess.run([solent, "check-config", "-c", str(conf)], capture_output=True, text=True)
        check(r.returncode == rc and (says in r.stderr if says else "warning" not in r.stderr),
              "check-config [admin] %r: %d %r" % (tls, r.returncode, r.stderr))
