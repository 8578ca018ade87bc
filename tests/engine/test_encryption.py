"""Encryption at rest on the real engine: after a load with a key set, the SQLite file and its
WAL hold none of the patient values sent (and without a key they do, so the check can fail);
the bundles still reach their destination; a wrong or missing key stops the engine at start;
a new key and `solent rekey` while messages keep arriving lose nothing and leave every value
sealed with the new key."""
import os
import sqlite3
import subprocess
import threading

from harness import AS_USER, SENTINELS, Engine, check, free_ports, log_of, run


def keyed_engine(solent, root, tmp_path, key_text=None, raw=None):
    os.makedirs(str(tmp_path), exist_ok=True)
    port = free_ports()
    e = Engine(solent, root, str(tmp_path), port)
    if key_text is not None or raw is not None:
        key = os.path.join(str(tmp_path), "store.key")
        with open(key, "wb") as f:
            f.write(raw if raw is not None else key_text.encode())
        os.chmod(key, 0o400)
        with open(e.conf) as f:
            text = f.read()
        text = text.replace("[store]\n", "[store]\nencryption_key = file:%s\n" % key, 1)
        with open(e.conf, "w") as f:
            f.write(text)
    return e


def store_bytes(tmp_path):
    data = b""
    for name in ("solent.db", "solent.db-wal"):
        p = os.path.join(str(tmp_path), "data", name)
        if os.path.exists(p):
            with open(p, "rb") as f:
                data += f.read()
    return data


def load(e, root, count=40):
    rc, out, err = run(e.solent, "send", "--quiet", "--count", str(count), "127.0.0.1:%d" % e.port,
                       os.path.join(root, "conf", "samples", "adt_a01.hl7"),
                       os.path.join(root, "conf", "samples", "oru_r01.hl7"))
    check(rc == 0 and "accepted %d," % count in out, "the load accepted: %r %r" % (out, err))


def sentinels_of(root):
    """Patient values the samples carry (their PID), to look for in the store's bytes."""
    found = []
    for name in ("adt_a01.hl7", "oru_r01.hl7"):
        with open(os.path.join(root, "conf", "samples", name), "rb") as f:
            pid = [l for l in f.read().replace(b"\n", b"\r").split(b"\r") if l.startswith(b"PID")][0]
        fields = pid.split(b"|")
        found += [fields[5].split(b"^")[0], fields[7][:8]]  # family name, date of birth
        found += [rep.split(b"^")[0] for rep in fields[3].split(b"~")]  # identifiers
    return [v for v in found if len(v) >= 4]


def test_nothing_in_clear(solent, root, tmp_path):
    e = keyed_engine(solent, root, tmp_path / "sealed", raw=os.urandom(32))
    e.start()
    load(e, root)
    check(e.stop() == 0, "clean stop")
    sealed = store_bytes(tmp_path / "sealed")
    values = sentinels_of(root)
    check(values, "the samples carry patient values to look for")
    for v in values:
        check(v not in sealed, "no %r in the store's file or WAL with a key set" % v)
    outbox = os.path.join(str(tmp_path / "sealed"), "data", "outbox")
    bundles = b"".join(open(os.path.join(d, f), "rb").read()
                       for d, _, fs in os.walk(outbox) for f in fs)
    check(values[0] in bundles, "the bundles still reach the destination, readable there")
    plain = keyed_engine(solent, root, tmp_path / "plain")
    plain.start()
    load(plain, root)
    check(plain.stop() == 0, "clean stop")
    check(any(v in store_bytes(tmp_path / "plain") for v in values),
          "without a key the same load leaves patient values in the file (the check can fail)")


def test_wrong_or_missing_key(solent, root, tmp_path):
    e = keyed_engine(solent, root, tmp_path, raw=os.urandom(32))
    e.start()
    load(e, root, 4)
    check(e.stop() == 0, "clean stop")
    key = os.path.join(str(tmp_path), "store.key")
    os.chmod(key, 0o600)
    with open(key, "wb") as f:
        f.write(os.urandom(32))
    r = subprocess.run([solent, "run", "-c", e.conf] + AS_USER, capture_output=True, text=True,
                       timeout=20)
    check(r.returncode != 0 and "key 1 in the key file is not the key that sealed" in r.stderr,
          "a wrong key stops the engine at start: %r" % r.stderr)
    with open(e.conf) as f:
        text = f.read()
    with open(e.conf, "w") as f:
        f.write(text.replace("encryption_key = file:%s\n" % key, ""))
    r = subprocess.run([solent, "run", "-c", e.conf] + AS_USER, capture_output=True, text=True,
                       timeout=20)
    check(r.returncode != 0 and "encryption_key is needed" in r.stderr,
          "no key for a store that has one: refused, nothing written in clear: %r" % r.stderr)
    rc, out, err = run(solent, "messages", "-c", e.conf)
    check(rc != 0 and "encryption_key is needed" in err, "solent messages refuses too: %r" % err)


def test_rotation_while_sending(solent, root, tmp_path):
    first = os.urandom(32)
    e = keyed_engine(solent, root, tmp_path, raw=first)
    e.start()
    load(e, root, 30)
    check(e.stop() == 0, "clean stop")
    key = os.path.join(str(tmp_path), "store.key")
    os.chmod(key, 0o600)
    with open(key, "w") as f:  # the old key stays listed; key 2 is the newest
        f.write("1 %s\n2 %s\n" % (first.hex(), os.urandom(32).hex()))
    e.start()
    sender = threading.Thread(target=load, args=(e, root, 300))
    sender.start()
    rc, out, err = run(solent, "rekey", "-c", e.conf, "--batch", "10")
    sender.join()
    check(rc == 0 and "sealed with the newest key" in out, "solent rekey: %r %r" % (out, err))
    rc, out, err = run(solent, "rekey", "-c", e.conf)  # what arrived during the first: key 2
    check(rc == 0, "a second rekey: %r" % err)
    check(e.stop() == 0, "clean stop")
    db = sqlite3.connect(os.path.join(str(tmp_path), "data", "solent.db"))
    rows = db.execute("SELECT raw FROM messages").fetchall()
    bundles = db.execute("SELECT bundle FROM outbox_bundles").fetchall()
    keys = db.execute("SELECT id FROM store_keys").fetchall()
    db.close()
    check(len(rows) == 330, "every message kept: %d" % len(rows))
    check(all(r[0][:3] == b"\x00SE" and r[0][3] == 2 for r in rows + bundles),
          "every raw message and bundle sealed with key 2")
    check(keys == [(2,)], "the store needs key 2 only: %r" % keys)
    rc, out, err = run(solent, "replay", "-c", e.conf, "--dry-run", "1")
    check(rc == 0 and sentinels_of(root)[0].decode() in out,
          "the first message, sealed with key 1 then 2, reads back: %r" % err)


def test_check_config_key_file(solent, tmp_path):
    key = tmp_path / "store.key"
    key.write_bytes(os.urandom(32))
    conf = tmp_path / "solent.conf"
    conf.write_text("[store]\npath = %s/solent.db\nencryption_key = file:%s\n[listener pas]\n"
                    "routes = adt\n[route adt]\ndestinations = local\n[destination local]\n"
                    "kind = directory\npath = %s\n" % (tmp_path, key, tmp_path))
    os.chmod(str(conf), 0o600)
    os.chmod(str(key), 0o644)
    r = subprocess.run([solent, "check-config", "-c", str(conf)], capture_output=True, text=True)
    check(r.returncode == 0 and "encryption_key %s is open to others (mode 644)" % key in r.stderr,
          "a key file open to others: a warning: %r" % r.stderr)
    os.chmod(str(key), 0o400)
    r = subprocess.run([solent, "check-config", "-c", str(conf)], capture_output=True, text=True)
    check(r.returncode == 0 and "warning" not in r.stderr, "mode 400: no warning: %r" % r.stderr)
    key.write_text("1 not-hex\n")
    r = subprocess.run([solent, "check-config", "-c", str(conf)], capture_output=True, text=True)
    check(r.returncode != 0 and "a key line is" in r.stderr, "a malformed key file: %r" % r.stderr)
