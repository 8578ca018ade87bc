#!/usr/bin/env python3
"""solent run, driven from outside over loopback.

Peers that are not ours: python-hl7's MLLP client, @medplum/hl7's Hl7Client
(node), socat piping pre-framed bytes; raw sockets for what a well-behaved
client never does: pipelined frames, a frame sent byte by byte, junk, oversize
frames, a peer that vanishes mid-frame or never sends; and `solent send`. The
store is read back with Python's sqlite3. Checks: every ACK's code, MSA-2 and
ERR position; duplicates answered with the first ACK; rows and outbox rows; 50
parallel connections; SIGHUP reloads under load (added and removed listeners
and routes, a broken file); exit 0 on SIGTERM; kill -9 at random points, each
ACKed message stored once; a full disk (RLIMIT_FSIZE) refusing without a
positive ACK while the engine keeps serving; no patient data in the log.

Run by pytest (conftest.py): python3 -m pytest tests/engine/test_daemon.py --solent BIN --root .
"""
import os
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

import hl7.client

import harness  # noqa: E402
import pytest
from harness import (CR, EB, SB, Engine, check, connects, fields, flood, frame,  # noqa: F401
                     free_port, free_ports, message, read_frame, run)


def test_exchanges(e):
    exchanges(e)


def exchanges(e):
    """ACK codes, duplicates, a reused control id, a forged one, unsupported events and types,
    a message without MSH, a bad date: what test_exchanges checks, and what
    test_send_and_messages then lists."""
    with hl7.client.MLLPClient("127.0.0.1", e.port) as c:
        first = c.send_message(message("T0001"))
        a = fields(first)
        check(a["MSA"][1] == "AA" and a["MSA"][2] == "T0001", "A01 answered AA for T0001: %r" % first)
        check(a["MSH"][8].startswith("ACK^A01"), "ACK MSH-9 is ACK^A01: %r" % a["MSH"][8])
        again = c.send_message(message("T0001"))
        check(again == first, "a resent message gets the first ACK, byte for byte")
        reused = fields(c.send_message(message("T0001", extra=b"NK1|1|Other^Person\r")))
        check(reused["MSA"][1] == "AA", "a reused control id with new content is still accepted")
        check(e.wait_log(b'event=control_id_reused msh10=T0001 msh3=PAS'),
              "a reused control id is logged with the sender")
        forged = 'T"9 event=forged'
        c.send_message(message(forged))
        c.send_message(message(forged, extra=b"NK1|1|Other^Person\r"))
        check(e.wait_log(b'msh10="T\\"9 event=forged"'),
              "a quote in MSH-10 is escaped in the log, so it cannot end the value")
        odd = fields(c.send_message(message("T0002", event="Z99")))
        check(odd["MSA"][1] == "AE" and odd["ERR"][3].startswith("201^") and odd["ERR"][2] == "MSH^1^9",
              "a routed event no transform knows is AE 201 at MSH-9: %r" % odd)
        orm = fields(c.send_message(message("T0004").replace(b"ADT^A01^ADT_A01", b"ORM^O01")))
        check(orm["MSA"][1] == "AR" and orm["ERR"][3].startswith("200^"),
              "a message type no route takes is AR 200: %r" % orm)
        bad = fields(c.send_message(b"PID|1||123\r"))
        check(bad["MSA"][1] == "AR" and bad["ERR"][3].startswith("100^"),
              "a message without MSH is AR 100: %r" % bad)
        broken = fields(c.send_message(
            b"MSH|^~\\&|PAS|RHM|SOLENT|TRUST|20261129083000||ADT^A01|T0003|P|2.5.1\r"
            b"PID|1||9434765919^^^NHS^NH||Zebedee^Quentin||notadate\r"))
        check(broken["MSA"][1] == "AA" and "ERR" not in broken,
              "a bad date is left out with a warning, the message accepted: %r" % broken)
    rows = dict(((r[0], r[1]), r[2]) for r in e.rows(
        "select control_id, status, count(*) from messages group by control_id, status"))
    check(rows.get(("T0001", "accepted")) == 2, "T0001 stored twice as accepted (first, reused): %r" % rows)
    check(rows.get(("T0001", "duplicate")) == 1, "T0001's resend stored as a duplicate")
    check(rows.get(("T0002", "error")) == 1, "the Z99 is stored as an error: %r" % rows)
    check(rows.get(("T0004", "rejected")) == 1, "the unroutable ORM is stored as rejected: %r" % rows)
    outbox = e.rows("select count(*) from outbox o join messages m on m.id = o.message_id "
                    "where m.control_id = 'T0001'")[0][0]
    check(outbox == 2, "an outbox row per accepted T0001, none for the duplicate: %d" % outbox)


def batch_frame(ids, count=None, header=b"FHS"):
    """A file batch (FHS, BHS, the messages, BTS, FTS) of A01s with these control ids; the
    second is a Z99 no transform takes (AE). count: BTS-1 to claim."""
    body = b"".join(message(i, event="Z99" if n == 1 else "A01") for n, i in enumerate(ids))
    head = b"BHS|^~\\&|LABSYS|LAB|SOLENT|TRUST|20261201100000||||B-%s\r" % ids[0].encode()
    if header == b"FHS":
        head = b"FHS|^~\\&|LABSYS|LAB|SOLENT|TRUST|20261201100000||||F-%s\r" % ids[0].encode() + head
    tail = b"BTS|%d\r" % (len(ids) if count is None else count)
    return frame(head + body + tail + (b"FTS|1\r" if header == b"FHS" else b""))


def segments(ack):
    return [seg.split(b"|") for seg in ack.strip(SB + EB + CR).split(b"\r") if seg]


def test_batches(e):
    """A batch in one frame: each message stored, routed and transformed on its own; one batch
    ACK (FHS/BHS answering the batch's, the ACK of each message not accepted, BTS with their
    count, FTS); a wrong BTS count refuses the batch whole; a resent batch is answered from
    the store; an empty batch gets an empty batch ACK."""
    s = socket.create_connection(("127.0.0.1", e.port))
    s.sendall(batch_frame(["BA001", "BA002", "BA003"]))
    ack = segments(read_frame(s))
    names = [x[0] for x in ack]
    check(names == [b"FHS", b"BHS", b"MSH", b"MSA", b"ERR", b"BTS", b"FTS"],
          "one batch ACK listing the one message not accepted: %r" % names)
    check(ack[1][4] == b"LABSYS" and ack[1][11] == b"B-BA001" and ack[0][11] == b"F-BA001",
          "BHS/FHS answer the batch: receiver its sender, BHS-12/FHS-12 its control ids: %r"
          % ack[1])
    check(ack[3][1] == b"AE" and ack[3][2] == b"BA002" and ack[5][1] == b"1",
          "the Z99 listed AE by its control id, BTS-1 1: %r" % ack[3:6])
    rows = dict(e.rows("select control_id, status from messages where control_id like 'BA%'"))
    check(rows == {"BA001": "accepted", "BA002": "error", "BA003": "accepted"},
          "each message of the batch stored on its own: %r" % rows)
    outbox = e.rows("select count(*) from outbox o join messages m on m.id = o.message_id "
                    "where m.control_id in ('BA001', 'BA003')")[0][0]
    check(outbox == 2, "the accepted ones routed and transformed: %d outbox rows" % outbox)
    s.sendall(batch_frame(["BB001", "BB002", "BB003"], count=5))
    refused = fields(read_frame(s))
    check(refused["MSA"][1] == "AR" and refused["ERR"][2].startswith("BTS"),
          "a wrong BTS count refuses the batch whole, AR at BTS: %r" % refused)
    check(not e.rows("select 1 from messages where control_id like 'BB%'"), "nothing of it stored")
    check(e.wait_log(b"event=batch_refused"), "the refusal is logged")
    s.sendall(batch_frame(["BA001", "BA002", "BA003"]))
    again = segments(read_frame(s))
    check([x[0] for x in again] == names and again[3][1] == b"AE",
          "a resent batch: the same answer, from the store")
    dups = e.rows("select count(*) from messages where control_id like 'BA%' and status = 'duplicate'")
    check(dups[0][0] == 3, "its messages stored as duplicates: %r" % dups)
    s.sendall(frame(b"BHS|^~\\&|LABSYS|LAB|SOLENT|TRUST|20261201100000||||B-EMPTY\rBTS|0\r"))
    empty = segments(read_frame(s))
    check([x[0] for x in empty] == [b"BHS", b"BTS"] and empty[1][1] == b"0",
          "an empty batch, an empty batch ACK: %r" % empty)
    s.sendall(frame(message("BC001")))
    check(fields(read_frame(s))["MSA"][2] == b"BC001".decode(), "the connection serves on")
    s.close()


def test_raw_framing(e):
    s = socket.create_connection(("127.0.0.1", e.port))
    # three frames in one write, behind junk that is not a frame
    s.sendall(b"junk\r\n" + frame(message("P0001")) + frame(message("P0002")) + frame(message("P0003")))
    ids = [fields(read_frame(s))["MSA"][2] for _ in range(3)]
    check(ids == ["P0001", "P0002", "P0003"], "pipelined frames answered in order: %r" % ids)
    # one frame, one byte at a time
    for b in frame(message("B0001")):
        s.send(bytes([b]))
    check(fields(read_frame(s))["MSA"][2] == "B0001", "a frame sent byte by byte is answered")
    # oversize (listener max 8K): refused, and the connection still serves
    s.sendall(frame(message("O0001", extra=b"NTE|1||" + b"x" * 20000 + b"\r")))
    big = fields(read_frame(s))
    check(big["MSA"][1] == "AR" and big["ERR"][3].startswith("104^"), "oversize frame is AR 104: %r" % big)
    s.sendall(frame(message("O0002")))
    check(fields(read_frame(s))["MSA"][2] == "O0002", "the connection serves after an oversize frame")
    s.close()
    # a peer that vanishes mid-frame costs nothing to anyone else
    gone = socket.create_connection(("127.0.0.1", e.port))
    gone.sendall(SB + message("G0001")[:40])
    gone.close()
    with hl7.client.MLLPClient("127.0.0.1", e.port) as c:
        check(fields(c.send_message(message("G0002")))["MSA"][1] == "AA", "served after a vanished peer")
    check(not e.rows("select 1 from messages where control_id = 'G0001'"), "a half frame is not stored")


def test_unread_acks(e, n=4000):
    """A peer that sends without reading its ACKs: the engine stops reading from it once
    64 KiB of ACKs wait (it buffers no more), keeps serving others, and goes on when the peer
    reads; a peer that never reads is closed after the idle timeout."""
    def stored(prefix):
        return e.rows("select count(*) from messages where control_id like ?", prefix + "%")[0][0]

    def settle(prefix):
        last, same = -1, 0
        while same < 10:
            now = stored(prefix)
            same = same + 1 if now == last else 0
            last = now
            time.sleep(0.1)
        return last

    s, t, sent = flood(e.port, "U", n)
    held = settle("U")
    check(0 < held < n, "a peer not reading its ACKs is not read further (%d of %d stored)"
          % (held, n))
    check(e.wait_log(b"event=conn_blocked listener=pas"), "the block is logged")
    with hl7.client.MLLPClient("127.0.0.1", e.port) as c:
        check(fields(c.send_message(message("U-other")))["MSA"][1] == "AA",
              "another connection is served meanwhile")
    s.settimeout(20)
    acks = b""
    try:
        while acks.count(EB + CR) < n:
            chunk = s.recv(65536)
            if not chunk:
                break
            acks += chunk
    except OSError:
        pass
    t.join()
    codes = [fields(f + EB + CR)["MSA"][1] for f in acks.split(EB + CR) if f.strip()]
    check(len(codes) == n and set(codes) == {"AA"},
          "once the peer reads, every message is answered AA: %d ACKs" % len(codes))
    check(stored("U0") == n, "and all %d are stored once" % n)  # U00000..U03999
    s.close()
    s, t, sent = flood(e.port + 1, "Q", n)  # the quiet listener: 1 s idle timeout
    check(e.wait_log(b"event=conn_write_timeout listener=quiet"),
          "a peer that never reads its ACKs is closed after the idle timeout")
    t.join()
    s.close()


def test_idle(e):
    """A peer that connects and never sends is closed after the listener's idle timeout."""
    s = socket.create_connection(("127.0.0.1", e.port + 1))
    s.settimeout(15)
    check(s.recv(1) == b"", "a silent peer is disconnected after idle_timeout_ms")
    s.close()


def test_socat(e):
    """Pre-framed messages piped through socat: ACKs come back in order."""
    rc, out, err = run("socat", "-t", "5", "-", "TCP:127.0.0.1:%d" % e.port,
                       stdin=frame(message("X0001")) + frame(message("X0002")))
    acks = [fields(SB + f + EB + CR)["MSA"][1:3] for f in out.encode().strip(SB).split(EB + CR + SB) if f]
    check(rc == 0 and [a[1] for a in acks] == ["X0001", "X0002"] and all(a[0] == "AA" for a in acks),
          "socat peer gets AA for X0001, X0002: %r %r" % (acks, err))


def test_medplum(e, root):
    """@medplum/hl7's client as a second peer that is not ours."""
    script = os.path.join(root, "tests", "engine", "medplum_send.js")
    rc, out, err = run("node", script, str(e.port), "MP", "5")
    lines = [l.split() for l in out.splitlines()]
    check(rc == 0 and len(lines) == 5 and all(l[1] == "AA" and l[2] == l[0] for l in lines),
          "@medplum/hl7 client: 5 messages, each AA with its own MSA-2: %r %r" % (out, err[-300:]))


def test_send_and_messages(e, root):
    exchanges(e)  # what solent messages lists below
    target = "127.0.0.1:%d" % e.port
    rc, out, _ = run(e.solent, "send", target, os.path.join(root, "conf", "samples"))
    check(rc == 0 and out.count(": CA ") == 2 and "accepted 2," in out,
          "solent send: both samples (MSH-15 AL) accepted with CA, one line each: %r" % out)
    rc, out, _ = run(e.solent, "send", "--count", "300", "--connections", "8", "--quiet", target,
                     os.path.join(root, "conf", "samples", "adt_a01.hl7"))
    check(rc == 0 and "sent 300 messages over 8 connections" in out and "accepted 300," in out
          and "p99" in out, "solent send --count 300 --connections 8: %r" % out)
    rc, out, _ = run(e.solent, "send", "--quiet", target, os.path.join(root, "tests", "data"))
    check(rc == 1, "solent send exits 1 unless every message is accepted")
    rc, out, _ = run(e.solent, "send", "--timeout", "2", "127.0.0.1:%d" % free_port(),
                     os.path.join(root, "conf", "samples"))
    check(rc == 1 and "no ACK 2" in out, "solent send to a closed port: no ACK 2: %r" % out)
    rc, out, _ = run(e.solent, "messages", "-c", e.conf, "--status", "duplicate")
    check(rc == 0 and "T0001" in out and "duplicate" in out and "T0004" not in out,
          "solent messages --status duplicate lists T0001 only: %r" % out)
    rc, out, _ = run(e.solent, "messages", "-c", e.conf, "--type", "ORM", "--since", "1h")
    check(rc == 0 and "T0004" in out and "200@" in out, "solent messages --type ORM: %r" % out)
    rc, all_rows, _ = run(e.solent, "messages", "-c", e.conf, "--limit", "100000")
    check(rc == 0 and all_rows.count("\n") > 300, "solent messages lists everything")
    for secret in ("Zebedee", "Quentin", "9434765919"):
        check(secret not in all_rows, "no patient data in solent messages: %s" % secret)
    zfile = os.path.join(root, "tests", "data", "transforms", "adt_escapes_and_z.hl7")
    rc, out, _ = run(e.solent, "send", target, zfile)
    rc, out, _ = run(e.solent, "messages", "-c", e.conf, "--control-id", "ADT_ESCAPES_AND_Z")
    row = out.splitlines()[1].split()
    _, _, explained = run(e.solent, "convert", "-c", e.conf, "--explain", zfile)
    rc, ledger, _ = run(e.solent, "messages", "-c", e.conf, "--explain", row[0])
    check(rc == 0 and "unmapped ZPD-1" in ledger
          and ledger.splitlines() == [l.split(": message 1: ", 1)[1] for l in explained.splitlines()
                                      if ": message 1: " in l]
          and row[-3:-1] == [str(ledger.count("warning ")), str(ledger.count("unmapped "))],
          "solent messages --explain: the stored ledger is what convert --explain says, counted "
          "in the listing: %r / %r" % (ledger, row))
    rc, _, err = run(e.solent, "messages", "-c", e.conf, "--explain", "999999")
    check(rc == 1 and "no message 999999" in err, "--explain of no message: %r" % err)
    rc, out, _ = run(e.solent, "messages", "-c", e.conf, "--control-id", "T0001")
    lines = out.splitlines()[1:]
    check(rc == 0 and len(lines) == 3 and all(" T0001 " in l for l in lines)
          and sorted(l.split()[7] for l in lines) == ["accepted", "accepted", "duplicate"],
          "solent messages --control-id T0001: the first, its reuse and its duplicate: %r" % out)
    check(all(l.split()[3] == "127.0.0.1" for l in lines),
          "no [peer] names the sender: its address is recorded as its PEER: %r" % out)
    rc, out, _ = run(e.solent, "messages", "-c", e.conf, "--control-id", 'T"9 event=forged')
    check(rc == 0 and out.count('T\\x229 event=forged') == 2 and '"' not in out,
          "solent messages prints a header field's quote as \\x22: %r" % out)
    rc, _, err = run(e.solent, "messages", "-c", e.conf, "--status", "lost")
    check(rc == 2, "solent messages rejects an unknown status")


def feed_fifo(path, text, timeout=15):
    """Writes text into the FIFO at path once a reader has it open; False if none comes."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:  # ENXIO: nobody reads it yet
            time.sleep(0.05)
            continue
        os.set_blocking(fd, True)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        return True
    return False


def test_reload(e):
    """SIGHUP while a client keeps sending: new route and listener, a broken file, a removal."""
    sent, errors, stop = [], [], threading.Event()

    def stream():
        try:
            with hl7.client.MLLPClient("127.0.0.1", e.port) as c:
                while not stop.is_set():
                    cid = "RL%05d" % len(sent)
                    a = fields(c.send_message(message(cid)))
                    sent.append(cid)
                    if a["MSA"][1] != "AA":
                        errors.append((cid, a["MSA"]))
        except Exception as x:  # noqa: BLE001 - reported below
            errors.append(repr(x))

    def orm(cid):
        with hl7.client.MLLPClient("127.0.0.1", e.port) as c:
            c.socket.settimeout(20)  # an engine stuck reading its file fails the test, not hangs it
            return fields(c.send_message(message(cid).replace(b"ADT^A01^ADT_A01", b"ORM^O01")))

    t = threading.Thread(target=stream)
    t.start()
    time.sleep(0.3)
    extra = "[listener extra]\nport = %d\nroutes = adt\n[route orm]\ntype = ORM^*\ndestinations = local\n" % (e.port + 2)
    e.write(routes="adt, oru, orm", extra=extra)
    e.proc.send_signal(signal.SIGHUP)
    check(e.wait_log(b"event=reloaded", 1), "reload logged")
    check(connects(e.port + 2), "a listener added by reload accepts connections")
    a = orm("H0001")  # routed now; no transform makes FHIR of an ORM: AE, not AR 200
    check(a["MSA"][1] == "AE", "a route added by reload takes effect: %r" % a)
    e.write(routes="adt, oru, orm", extra=extra + "[route broken]\ndestinations = nowhere\n")
    e.proc.send_signal(signal.SIGHUP)
    check(e.wait_log(b"event=reload_failed", 1), "a broken file is logged as reload_failed")
    log = open(e.log_path, "rb").read()
    check(b"solent.conf:" in log.split(b"event=reload_failed")[-1].split(b"\n")[0],
          "reload_failed names file:line")
    check(orm("H0002")["MSA"][1] == "AE", "a broken file leaves the previous table in force")
    e.write()
    e.proc.send_signal(signal.SIGHUP)
    check(e.wait_log(b"event=reloaded", 2), "second reload logged")
    check(not connects(e.port + 2), "a listener removed by reload stops accepting")
    a = orm("H0003")
    check(a["MSA"][1] == "AR" and a["ERR"][3].startswith("200^"), "a removed route no longer matches")
    # The file is read off the loop: made a FIFO, the read waits for the test to write it,
    # and meanwhile the engine answers. A SIGHUP during that read is not lost: the file is
    # read again after it, and the last one is in force.
    with_orm = open(e.conf).read() + "[route orm]\ntype = ORM^*\ndestinations = local\n"
    without_orm = open(e.conf).read()
    reloads = open(e.log_path, "rb").read().count(b"event=reloaded")
    os.unlink(e.conf)
    os.mkfifo(e.conf)
    try:
        e.proc.send_signal(signal.SIGHUP)
        check(e.wait_log(b"event=reloading", 4), "the reload's read starts")
        check(orm("H0004")["MSA"][1] == "AR", "the engine answers while the file is being read")
        e.proc.send_signal(signal.SIGHUP)
        check(e.wait_log(b"event=reload_queued"), "a SIGHUP during the read is queued")
        check(feed_fifo(e.conf, with_orm.replace("routes = adt, oru\n", "routes = adt, oru, orm\n", 1)),
              "the first read takes its file")
        check(e.wait_log(b"event=reloaded", reloads + 1), "the first file is put in force")
        check(feed_fifo(e.conf, without_orm), "the queued SIGHUP reads the file again")
        check(e.wait_log(b"event=reloaded", reloads + 2), "and puts the second file in force")
    finally:
        os.unlink(e.conf)
        e.write()
    a = orm("H0005")
    check(a["MSA"][1] == "AR", "the last file (no ORM route) is in force: %r" % a)
    time.sleep(0.3)
    stop.set()
    t.join()
    check(len(sent) > 10 and not errors, "the client sending through 3 reloads: %d sent, errors %r"
          % (len(sent), errors[:3]))
    stored = e.rows("select count(*) from messages where control_id like 'RL%' and status = 'accepted'")[0][0]
    check(stored == len(sent), "every message sent during reloads stored: %d of %d" % (stored, len(sent)))


def test_disk_full(solent, root):
    """The store's files cannot grow (RLIMIT_FSIZE: writes fail as on a full disk): no positive
    ACK for what is not stored, the process keeps serving, and after a restart with room
    everything ACKed is there and the refused message is accepted on resend."""
    with tempfile.TemporaryDirectory() as work:
        e = Engine(solent, root, work, free_ports())
        e.start(max_file_bytes=2 * 1024 * 1024)
        acked, refused = [], None
        s = socket.create_connection(("127.0.0.1", e.port))
        for i in range(3000):
            cid = "F%05d" % i
            try:
                s.sendall(frame(message(cid)))
                a = fields(read_frame(s))
            except (OSError, ConnectionError):
                refused = cid
                break
            if a["MSA"][1] != "AA":
                refused = cid
                break
            acked.append(cid)
        s.close()
        check(refused is not None and len(acked) > 10,
              "a full disk refuses a message after %d were stored" % len(acked))
        check(e.proc.poll() is None, "the engine keeps running when the disk is full")
        check(connects(e.port), "the engine still accepts connections when the disk is full")
        check(e.wait_log(b"event=store_commit_failed", 1), "a failed commit is logged")
        check(e.stop() == 0, "SIGTERM after store failures: exit 0")
        e.start()
        stored = {r[0] for r in e.rows("select control_id from messages where status = 'accepted'")}
        check(all(c in stored for c in acked), "every ACKed message is stored after the disk fills")
        check(refused not in stored, "the refused message was not stored")
        with hl7.client.MLLPClient("127.0.0.1", e.port) as c:
            check(fields(c.send_message(message(refused)))["MSA"][1] == "AA",
                  "the refused message is accepted when resent with room on disk")
        check(e.stop() == 0, "clean stop after the disk-full run")


def test_retention(solent, root):
    """[store] retain_ms: turned on by a reload, a pass runs at once and deletes what is old
    and done (delivered messages, a rejected frame) but keeps what still waits (a bundle
    retrying), and later passes take what ages after it."""
    with tempfile.TemporaryDirectory() as work:
        e = Engine(solent, root, work, free_ports())

        def write(retain):
            with open(e.conf, "w") as f:
                f.write(f"""[engine]
data_dir = {work}/data
[store]
path = {work}/data/solent.db
retain_ms = {retain}
[listener pas]
port = {e.port}
routes = adt
[listener lab]
port = {e.port + 1}
routes = held
[route adt]
listeners = pas
destinations = local
[route held]
listeners = lab
destinations = stuck
[destination local]
kind = directory
path = {work}/data/outbox
[destination stuck]
kind = fhir
url = http://127.0.0.1:1/fhir
retry_base_ms = 10m
retry_cap_ms = 10m
[admin]
port = {e.port + 2}
token = env:SOLENT_RETENTION_TOKEN
""")

        def wait_rows(sql, want, timeout=15):
            deadline = time.time() + timeout
            while time.time() < deadline and e.rows(sql) != want:
                time.sleep(0.05)
            return e.rows(sql)

        os.environ["SOLENT_RETENTION_TOKEN"] = "retention-test-token"
        write("0")
        e.start()
        with hl7.client.MLLPClient("127.0.0.1", e.port) as c:
            for i in range(10):
                c.send_message(message("D%d" % i))
        with hl7.client.MLLPClient("127.0.0.1", e.port + 1) as c:
            c.send_message(message("H0"))
        s = socket.create_connection(("127.0.0.1", e.port))
        s.sendall(frame(b"not HL7 at all"))
        read_frame(s)
        s.close()
        delivered = "select count(*) from outbox where status = 'delivered'"
        check(wait_rows(delivered, [(10,)]) == [(10,)], "the ten ADTs are delivered")
        check(wait_rows("select o.status from outbox o join messages m on m.id = o.message_id"
                        " where m.control_id = 'H0'", [("retry",)]) == [("retry",)],
              "the held message waits for its retry")
        check(e.rows("select count(*) from messages") == [(12,)], "twelve messages stored")
        time.sleep(2.2)  # all of them now older than the retention set next
        write("2s")
        e.proc.send_signal(signal.SIGHUP)
        check(e.wait_log(b"event=purged messages=11 outbox_rows=10 "),
              "a reload turning retention on purges at once: %r"
              % open(e.log_path, "rb").read()[-400:])
        check(e.rows("select control_id from messages") == [("H0",)],
              "only the message still waiting is kept: %r" % e.rows("select control_id from messages"))
        check(e.rows("select count(*) from outbox") == [(1,)]
              and e.rows("select count(*) from outbox_bundles") == [(1,)],
              "its outbox row and bundle are kept, the delivered ones gone")
        with hl7.client.MLLPClient("127.0.0.1", e.port) as c:
            for i in range(3):
                check(fields(c.send_message(message("N%d" % i)))["MSA"][1] == "AA",
                      "messages are accepted while retention runs")
        # a pass's cut may fall between the three arrivals: wait for the rows, not one line
        check(wait_rows("select count(*) from messages where control_id like 'N%'", [(0,)],
                        timeout=30) == [(0,)] and e.wait_log(b"event=purged", 2),
              "later passes purge what aged since")
        check(e.rows("select control_id from messages") == [("H0",)], "H0 still kept")
        req = urllib.request.Request("http://127.0.0.1:%d/metrics" % (e.port + 2),
                                     headers={"Authorization": "Bearer retention-test-token"})
        with urllib.request.urlopen(req, timeout=10) as r:
            body = r.read().decode()
        check('solent_purged_total{table="messages"} 14\n' in body
              and 'solent_purged_total{table="outbox"} 13\n' in body,
              "/metrics counts the purged rows: %r"
              % [l for l in body.splitlines() if l.startswith("solent_purged")])
        check(e.stop() == 0, "clean stop after the retention run")


def test_stop_mid_commit(solent, root):
    """SIGTERM while a message is being committed (another process holds the store's write
    lock): the engine stops taking connections, /readyz answers 503 while /healthz still
    answers, and once the lock goes the message is committed, ACKed AA and the engine
    exits 0."""
    with tempfile.TemporaryDirectory() as work:
        e = Engine(solent, root, work, free_ports())
        admin = "http://127.0.0.1:%d" % (e.port + 2)
        os.environ["SOLENT_STOP_TOKEN"] = "stop-test-token"
        e.write(extra="[admin]\nport = %d\ntoken = env:SOLENT_STOP_TOKEN\n" % (e.port + 2))
        e.start()

        def get(path):
            try:
                with urllib.request.urlopen(admin + path, timeout=5) as r:
                    return r.status, r.read().decode().strip()
            except urllib.error.HTTPError as err:
                return err.code, err.read().decode().strip()

        with hl7.client.MLLPClient("127.0.0.1", e.port) as c:
            check(fields(c.send_message(message("Q0")))["MSA"][1] == "AA", "Q0 accepted")
        check(get("/readyz") == (200, "ready"), "ready while serving: %r" % (get("/readyz"),))
        deadline = time.time() + 15  # Q0's delivery done: no store job but Q1's to wait
        while time.time() < deadline and e.rows("select status from outbox") != [("delivered",)]:
            time.sleep(0.05)
        lock = sqlite3.connect(os.path.join(work, "data", "solent.db"), isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")  # the engine's next commit waits (busy_timeout 5 s)
        s = socket.create_connection(("127.0.0.1", e.port))
        s.sendall(frame(message("Q1")))
        try:
            early = read_frame(s, timeout=0.5)
        except socket.timeout:
            early = None
        check(early is None, "no ACK while the commit cannot happen: %r" % early)
        e.proc.send_signal(signal.SIGTERM)
        check(e.wait_log(b"event=stopping signal=TERM inflight=1"), "stopping with Q1 in flight")
        check(get("/readyz") == (503, "stopping"), "/readyz is 503 while stopping: %r"
              % (get("/readyz"),))
        check(get("/healthz") == (200, "ok"), "/healthz still answers while stopping")
        try:
            socket.create_connection(("127.0.0.1", e.port), timeout=2).close()
            refused = False
        except OSError:
            refused = True
        check(refused, "no new MLLP connection once stopping")
        check(e.proc.poll() is None, "the engine waits for the commit in flight")
        lock.execute("ROLLBACK")
        lock.close()
        try:
            ack = fields(read_frame(s, timeout=10)).get("MSA", [])[1:3]
        except (OSError, ConnectionError) as err:
            ack = err
        check(ack == ["AA", "Q1"], "Q1 is ACKed AA once committed, before the close: %r" % ack)
        s.close()
        rc = e.proc.wait(timeout=30)
        e.log.close()
        check(rc == 0, "then the engine exits 0: %r" % rc)
        check(e.rows("select control_id, status from messages order by id")
              == [("Q0", "accepted"), ("Q1", "accepted")], "Q1 is stored, once")


def test_stop_blocked_peer(solent, root):
    """SIGTERM while a peer leaves its ACKs unread (blocked): the stop does not wait for the
    listener's idle timeout (60 s here) but gives the peer 5 s to read, then closes it and
    exits 0."""
    with tempfile.TemporaryDirectory() as work:
        e = Engine(solent, root, work, free_ports())
        e.start()
        s, t, _ = flood(e.port, "X", 4000)
        check(e.wait_log(b"event=conn_blocked listener=pas"), "the peer is blocked")
        e.proc.send_signal(signal.SIGTERM)
        try:
            rc = e.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            e.proc.kill()
            rc = "still running after 30 s"
        e.log.close()
        s.close()
        t.join()
        check(rc == 0, "SIGTERM with a blocked peer: exit 0 within the stop's grace: %r" % rc)
        check(e.wait_log(b"event=conn_write_timeout listener=pas"),
              "the peer that did not read is closed by the write timeout")


def test_out_of_descriptors(solent, root):
    """More peers than the process has descriptors: accepting pauses (logged, no spinning on
    the pending connection; the admin endpoint's listener too), the peers already in are
    served, and accepting resumes once descriptors are free again."""
    with tempfile.TemporaryDirectory() as work:
        e = Engine(solent, root, work, free_ports())
        admin = e.port + 2
        os.environ["SOLENT_FD_TOKEN"] = "fd-test-token"
        e.write(extra="[admin]\nport = %d\ntoken = env:SOLENT_FD_TOKEN\n" % admin)
        e.start(max_files=48)
        first = hl7.client.MLLPClient("127.0.0.1", e.port)
        check(fields(first.send_message(message("M0")))["MSA"][1] == "AA", "a first peer is served")
        crowd = [socket.create_connection(("127.0.0.1", e.port)) for _ in range(80)]
        check(e.wait_log(b"action=paused resume_in_ms=1000"),
              "running out of descriptors pauses accepting, logged")
        crowd.append(socket.create_connection(("127.0.0.1", admin)))
        check(e.wait_log(b"event=accept_error listener=admin"),
              "the admin endpoint's listener pauses too")
        time.sleep(2)
        errors = open(e.log_path, "rb").read().count(b"event=accept_error")
        check(0 < errors < 20, "the listener does not spin on the pending connections: %d errors"
              % errors)
        check(fields(first.send_message(message("M1")))["MSA"][1] == "AA",
              "a peer already in is served while accepting is paused")
        for s in crowd:
            s.close()
        first.close()
        with hl7.client.MLLPClient("127.0.0.1", e.port) as c:  # waits in the backlog until resumed
            check(fields(c.send_message(message("M2")))["MSA"][1] == "AA",
                  "accepting resumes once descriptors are free")
        check(e.proc.poll() is None and e.stop() == 0, "clean stop after running out of descriptors")


def test_parallel(e, clients=50, each=4):
    def client(k):
        with hl7.client.MLLPClient("127.0.0.1", e.port) as c:
            for i in range(each):
                cid = "C%02d%03d" % (k, i)
                a = fields(c.send_message(message(cid)))
                check(a["MSA"][1:3] == ["AA", cid], "%s: %r" % (cid, a["MSA"]))

    errors = harness.parallel(clients, client)
    check(not errors, "every parallel client's message answered AA: %r" % errors[:3])
    n = e.rows("select count(*) from messages where control_id like 'C%' and status = 'accepted'")[0][0]
    check(n == clients * each, "%d parallel messages stored, expected %d" % (n, clients * each))


def test_crash(e, rounds=3):
    """kill -9 at random points while a sender streams; after each restart the message in
    flight is resent. Every message ever ACKed positive is stored accepted exactly once."""
    import random
    acked, seq = [], 0
    for r in range(rounds):
        unacked = []
        stop = threading.Event()

        def stream():
            nonlocal seq
            try:
                s = socket.create_connection(("127.0.0.1", e.port))
                while not stop.is_set():
                    cid = "K%d%05d" % (r, seq)
                    seq += 1
                    unacked.append(cid)
                    s.sendall(frame(message(cid)))
                    if fields(read_frame(s, timeout=5))["MSA"][1] == "AA":
                        unacked.remove(cid)
                        acked.append(cid)
            except (OSError, ConnectionError, KeyError):
                pass  # the engine died under us: that is the point

        t = threading.Thread(target=stream)
        t.start()
        time.sleep(random.uniform(0.1, 0.6))
        e.proc.kill()
        e.proc.wait()
        e.log.close()
        stop.set()
        t.join()
        e.start()
        with hl7.client.MLLPClient("127.0.0.1", e.port) as c:  # the sender retries
            for cid in unacked:
                a = fields(c.send_message(message(cid)))
                check(a["MSA"][1] == "AA", "a resend of un-ACKed %s is accepted: %r" % (cid, a["MSA"]))
                acked.append(cid)
    counts = dict(e.rows("select control_id, count(*) from messages where control_id like 'K%' "
                         "and status = 'accepted' group by control_id"))
    wrong = [(c, counts.get(c)) for c in acked if counts.get(c) != 1]
    check(len(acked) > rounds and not wrong,
          "%d ACKed messages over %d kill -9s each stored accepted once: %r" % (len(acked), rounds, wrong[:5]))
    print("crash: %d messages ACKed across %d kill -9s" % (len(acked), rounds))
    check(e.stop() == 0, "after the crashes, SIGTERM still exits 0")


def test_stop_while_streaming(e):
    """SIGTERM while a client streams: exit 0, the store 0600, and after a restart on the same
    store every message ACKed up to the signal is there."""
    stopping_acked = []

    def stream():  # keeps sending while SIGTERM arrives
        try:
            s = socket.create_connection(("127.0.0.1", e.port))
            for i in range(100000):
                s.sendall(frame(message("S%05d" % i)))
                if fields(read_frame(s, timeout=5))["MSA"][1] == "AA":
                    stopping_acked.append("S%05d" % i)
        except (OSError, ConnectionError, KeyError):
            pass

    t = threading.Thread(target=stream)
    t.start()
    time.sleep(0.3)
    rc = e.stop()
    t.join()
    check(rc == 0, "SIGTERM while a client streams: exit 0, got %r" % rc)
    mode = os.stat(os.path.join(e.work, "data", "solent.db")).st_mode & 0o777
    check(mode == 0o600, "the store is 0600: %o" % mode)
    e.start()  # restart on the same store: still serving, history intact
    stored = {r[0] for r in e.rows("select control_id from messages where control_id like 'S%'")}
    check(stopping_acked and all(c in stored for c in stopping_acked),
          "every message ACKed up to the SIGTERM is stored (%d)" % len(stopping_acked))
    log = e.log_text()
    check(b"event=stopped" in log and b"event=conn_open" in log, "the log records the lifecycle")



ACK_MODES = [  # MSH-15, outcome (accepted, error: an event no transform knows), the one ACK
    (b"", "A01", "AA"), (b"", "Z99", "AE"),
    (b"AL", "A01", "CA"), (b"AL", "Z99", "CE"),
    (b"NE", "A01", None), (b"NE", "Z99", None),
    (b"ER", "A01", None), (b"ER", "Z99", "CE"),
    (b"SU", "A01", "CA"), (b"SU", "Z99", None),
]


def test_ack_modes(e):
    """MSH-15 of each kind, on success and on error: exactly the ACK the standard gives, or
    none (the next frame read is then the ACK of an original-mode probe sent after it)."""
    s = socket.create_connection(("127.0.0.1", e.port))
    for n, (mode, event, want) in enumerate(ACK_MODES):
        cid = "AM%02d" % n
        s.sendall(frame(message(cid, event=event, mode=mode + b"|NE" if mode else b"")))
        s.sendall(frame(message("PROBE%02d" % n)))
        first = fields(read_frame(s))
        if want is None:
            check(first["MSA"][1:3] == ["AA", "PROBE%02d" % n],
                  "MSH-15 %r, %s: no ACK, the next frame is the probe's: %r" % (mode, event, first))
            continue
        check(first["MSA"][1:3] == [want, cid],
              "MSH-15 %r, %s: %s for %s: %r" % (mode, event, want, cid, first["MSA"]))
        probe = fields(read_frame(s))
        check(probe["MSA"][1:3] == ["AA", "PROBE%02d" % n], "then the probe's AA: %r" % probe)
    s.close()
    stored = dict(e.rows("select control_id, status from messages where control_id like 'AM%'"))
    check(len(stored) == len(ACK_MODES), "every message stored whatever its ACK: %r" % stored)


def test_big_message_off_the_loop(e):
    """A message whose conversion takes long (50,000 NK1 segments, 4 MB) on one connection
    while a good client sends on another: the good client keeps getting its ACKs and
    /healthz keeps answering while the big one is converted; then the big one is ACKed."""
    big_port = free_port()
    e.write(engine="max_segments = 100000",
            extra="[listener big]\nport = %d\nmax_message = 16M\nroutes = adt\n"
                  "[admin]\nport = %d\ntoken = env:SOLENT_TEST_ADMIN_TOKEN\n"
                  % (big_port, e.port + 2))
    e.stop()
    e.start()
    nk1 = b"".join(b"NK1|%d|Contact^Sentinelname|MTH^Mother^HL70063\r" % i
                   for i in range(1, 50001))
    big = socket.create_connection(("127.0.0.1", big_port))
    big.sendall(frame(message("BIG1", extra=nk1)))
    big_ack, good, health = [], [], []

    def wait_big():
        big_ack.append(fields(read_frame(big, timeout=280)))

    t = threading.Thread(target=wait_big)
    t.start()
    with hl7.client.MLLPClient("127.0.0.1", e.port) as c:
        n = 0
        while t.is_alive():
            a = fields(c.send_message(message("GOOD%05d" % n)))
            if t.is_alive():  # answered while the big one was still unanswered
                good.append(a["MSA"][1])
                with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % (e.port + 2),
                                            timeout=10) as r:
                    health.append(r.status)
            n += 1
    t.join()
    big.close()
    check(big_ack and big_ack[0]["MSA"][1:3] == ["AA", "BIG1"], "the big one is ACKed: %r"
          % big_ack)
    check(len(good) >= 5 and set(good) == {"AA"},
          "the good client got AA after AA while the big one was converted: %r" % good[:10])
    check(len(health) >= 5 and set(health) == {200}, "/healthz answered meanwhile: %r" % health)


def connect_from(addr, port):
    """A connection to the engine from source address addr (any of 127/8 is this host)."""
    s = socket.socket()
    s.bind((addr, 0))
    s.connect(("127.0.0.1", port))
    return s


def closed_by_peer(s, timeout=20):
    """True once the engine has closed s (reads end), False if it is still open at timeout."""
    s.settimeout(timeout)
    try:
        while s.recv(4096):
            pass
        return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def test_hostile_peers(e):
    """One address opening connection after connection gets max_per_peer of them; a peer
    trickling one frame byte by byte is closed at frame_timeout_ms however steadily it
    trickles; one sending junk that makes no frame is closed at idle_timeout_ms. Meanwhile a
    sender from another address is served every time."""
    guarded = free_port()
    e.write(extra="[listener guarded]\nport = %d\nmax_connections = 16\nmax_per_peer = 4\n"
                  "idle_timeout_ms = 4s\nframe_timeout_ms = 2s\nroutes = adt\n" % guarded)
    e.stop()
    e.start()
    sent = [0]

    def good_exchange():  # a connection of its own each time, as many senders do
        cid = "GOOD%03d" % sent[0]
        sent[0] += 1
        good = connect_from("127.0.0.2", guarded)
        good.sendall(frame(message(cid)))
        a = fields(read_frame(good))
        good.close()
        check(a["MSA"][1:3] == ["AA", cid], "the good sender is served: %r" % a["MSA"])

    good_exchange()
    crowd = [connect_from("127.0.0.1", guarded) for _ in range(20)]
    refused = [s for s in crowd if closed_by_peer(s, timeout=0.5)]
    check(len(refused) == 16, "20 connections from one address: 4 kept, 16 refused (%d)"
          % len(refused))
    check(e.wait_log(b"reason=max_per_peer"), "the refusals are logged with their reason")
    good_exchange()
    loris = connect_from("127.0.0.3", guarded)
    junk = connect_from("127.0.0.4", guarded)
    stop = threading.Event()

    def trickle(s, data):
        for b in data:
            if stop.is_set():
                return
            try:
                s.send(bytes([b]))
            except OSError:
                return
            time.sleep(0.25)

    slow = threading.Thread(target=trickle, args=(loris, frame(message("LORIS"))))
    noise = threading.Thread(target=trickle, args=(junk, b"not a frame at all " * 20))
    slow.start()
    noise.start()
    good_exchange()
    check(closed_by_peer(loris), "a frame trickled a byte at a time is cut at its timeout")
    check(e.wait_log(b"event=conn_frame_timeout listener=guarded"), "logged as a frame timeout")
    check(closed_by_peer(junk), "bytes that make no frame do not keep a connection open")
    check(e.wait_log(b"event=conn_idle_timeout listener=guarded"), "logged as an idle timeout")
    stop.set()
    slow.join()
    noise.join()
    good_exchange()
    for s in crowd + [loris, junk]:
        s.close()
    check(not e.rows("select 1 from messages where control_id = 'LORIS'"),
          "the cut frame is not stored")


def test_send_large_message(e, tmp_path):
    """`solent send` with a 10 MB ORU carrying a PDF in OBX-5 (ED, base64): sent byte for byte
    (it once sent only the first 64 KiB), ACKed CA, stored as sent, and its bundle written."""
    import base64
    import glob
    import json
    big_port = free_port()
    e.write(extra="[listener big]\nport = %d\nmax_message = 16M\nroutes = oru\n" % big_port)
    e.stop()
    e.start()
    pdf = b"%PDF-1.4\n" + os.urandom(7_500_000)
    msg = (b"MSH|^~\\&|LAB|RHM|SOLENT|TRUST|20261129091500+0000||ORU^R01^ORU_R01|BIGPDF|P|2.5.1"
           b"|||AL|NE\rPID|1||9434765919^^^NHS^NH||Zebedee^Quentin\r"
           b"OBR|1|ORD1^EPR|LAB1^LAB|11502-2^Laboratory report^LN|||20261129080000+0000"
           b"||||||||||||||||CH|F\r"
           b"OBX|1|ED|11502-2^Laboratory report^LN||^application^pdf^Base64^"
           + base64.b64encode(pdf) + b"||||||F\r")
    check(len(msg) > 10_000_000, "a 10 MB message: %d bytes" % len(msg))
    path = tmp_path / "big.hl7"
    path.write_bytes(msg)
    rc, out, err = run(e.solent, "send", "--timeout", "120", "127.0.0.1:%d" % big_port, str(path))
    check(rc == 0 and "message 1: CA " in out and "accepted 1," in out,
          "solent send: the 10 MB message ACKed CA: %r %r" % (out, err[-300:]))
    raw = e.rows("select raw from messages where control_id = 'BIGPDF'")
    check(len(raw) == 1 and bytes(raw[0][0]) == msg, "stored byte for byte (%s bytes)"
          % [len(r[0]) for r in raw])
    deadline = time.time() + 60
    files = []
    while time.time() < deadline and not files:
        files = glob.glob(os.path.join(e.work, "data", "outbox", "*.json"))
        time.sleep(0.1)
    check(len(files) == 1, "its bundle written: %r" % files)
    bundle = json.load(open(files[0]))
    forms = [f for en in bundle["entry"] for f in en["resource"].get("presentedForm", [])]
    check(len(forms) == 1 and forms[0]["contentType"] == "application/pdf"
          and base64.b64decode(forms[0]["data"]) == pdf, "the PDF in the report's presentedForm")


def test_log_levels_formats_and_rotation(e):
    """log_level filters (warn: no connection lines, the refusals still there); log_format =
    json writes one JSON object per line with numbers as numbers (logcheck.js parses every
    line after each test); log_file is reopened on SIGHUP after a rotation renamed it."""
    import json
    logs = os.path.join(e.work, "logs")  # a directory the engine's user may write (logrotate)
    os.makedirs(logs, exist_ok=True)
    if os.geteuid() == 0:
        os.chown(logs, 65534, 65534)
    log_file = os.path.join(logs, "engine.log")
    e.write(engine="log_level = warn\nlog_format = json\nlog_file = %s" % log_file)
    e.stop()
    e.start()
    with hl7.client.MLLPClient("127.0.0.1", e.port) as c:
        check(fields(c.send_message(message("LV1")))["MSA"][1] == "AA", "served")
    s = socket.create_connection(("127.0.0.1", e.port + 1))  # quiet listener: idle 1 s
    s.settimeout(10)
    check(s.recv(1) == b"", "closed after its idle timeout")
    s.close()
    bad = socket.create_connection(("127.0.0.1", e.port))
    bad.sendall(frame(message("OVER", extra=b"NTE|1||" + b"x" * 20000 + b"\r")))
    read_frame(bad)
    bad.close()
    deadline = time.time() + 10
    while time.time() < deadline and b"frame_oversize" not in open(log_file, "rb").read():
        time.sleep(0.05)
    lines = [json.loads(l) for l in open(log_file)]
    events = {l["event"] for l in lines}
    check("frame_oversize" in events, "a warning is written at level warn: %r" % events)
    check("conn_open" not in events and "conn_idle_timeout" not in events,
          "info lines are not written at level warn: %r" % events)
    over = [l for l in lines if l["event"] == "frame_oversize"][0]
    check(over["level"] == "warn" and over["max"] == 8192 and isinstance(over["conn"], int),
          "a JSON line: level, and numbers as numbers: %r" % over)
    os.rename(log_file, log_file + ".1")  # what logrotate does, then it signals
    e.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 10
    while time.time() < deadline and not os.path.exists(log_file):
        time.sleep(0.05)
    check(os.path.exists(log_file), "SIGHUP opens the log file anew")
    check(oct(os.stat(log_file).st_mode & 0o777) == "0o600", "the log file is its owner's")
    e.write(engine="log_level = info\nlog_format = json\nlog_file = %s" % log_file)
    e.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 10
    while time.time() < deadline and b"reloaded" not in open(log_file, "rb").read():
        time.sleep(0.05)
    check(b'"event":"reloaded"' in open(log_file, "rb").read(),
          "after the rotation lines go to the new file, at the new level")
    check(e.stop() == 0, "clean stop")
    harness.EXTRA_LOGS.extend([log_file, log_file + ".1"])  # checked after the test too


@pytest.mark.parametrize("point", ["intake_before_commit", "intake_after_commit"])
def test_crash_points(e, point):
    """The engine dies at an exact step of intake (SOLENT_FAULTS: a crash as kill -9 would be,
    but always at the same place). Before the commit nothing is stored; after it the message
    is stored and its ACK never went. Either way no ACK reached the sender, which resends:
    the message ends accepted exactly once, and the resend gets an AA."""
    e.stop()
    e.start(faults=point + "=crash")
    s = socket.create_connection(("127.0.0.1", e.port))
    s.sendall(frame(message("CP1")))
    try:
        got = read_frame(s, timeout=15)
    except (ConnectionError, OSError):
        got = None
    s.close()
    check(got is None, "no ACK from an engine that died at %s: %r" % (point, got))
    check(e.proc.wait(timeout=15) == 86, "the engine stopped at the point (exit 86)")
    e.log.close()
    stored = e.rows("select status from messages where control_id = 'CP1'")
    check(stored == ([] if point == "intake_before_commit" else [("accepted",)]),
          "%s: stored %r" % (point, stored))
    e.start()
    with hl7.client.MLLPClient("127.0.0.1", e.port) as c:
        a = fields(c.send_message(message("CP1")))  # the sender's resend
    check(a["MSA"][1:3] == ["AA", "CP1"], "the resend is answered AA: %r" % a["MSA"])
    rows = e.rows("select status from messages where control_id = 'CP1' order by id")
    want = [("accepted",)] if point == "intake_before_commit" else [("accepted",), ("duplicate",)]
    check(rows == want, "accepted exactly once: %r" % rows)


def privileged_port():
    """A free port below 1024 on loopback (only root may bind it)."""
    for port in range(700, 1000):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port below 1024")


@pytest.mark.skipif(os.geteuid() != 0, reason="dropping privileges needs root")
def test_least_privilege(solent, root, tmp_path):
    """Started as root: refuses to run without a user; a user that does not exist (from
    [engine] user) stops the start; with --user nobody it binds a port below 1024, then runs as
    nobody — every uid and gid nobody's, no supplementary groups, no capabilities — and its
    store, outbox and log still work, a reload included."""
    import pwd
    nobody = pwd.getpwnam("nobody")
    work = str(tmp_path)
    low = privileged_port()
    e = Engine(solent, root, work, free_ports())
    e.write(extra=f"[listener low]\nport = {low}\nroutes = adt\n")
    harness.open_to_engine(work)
    r = subprocess.run([solent, "run", "-c", e.conf], capture_output=True, text=True, timeout=30)
    check(r.returncode == 1 and "refusing to run as root" in r.stderr,
          "root without a user is refused: %d %s" % (r.returncode, r.stderr))
    e.write(extra=f"[listener low]\nport = {low}\nroutes = adt\n", engine="user = no-such-user-x")
    r = subprocess.run([solent, "run", "-c", e.conf], capture_output=True, text=True, timeout=30)
    check(r.returncode == 1 and "user no-such-user-x does not exist" in r.stderr,
          "[engine] user naming nobody that exists stops the start: %d %s" % (r.returncode, r.stderr))
    e.write(extra=f"[listener low]\nport = {low}\nroutes = adt\n")
    e.start()  # --user nobody (harness.AS_USER)
    with open("/proc/%d/status" % e.proc.pid) as f:
        status = dict(line.split(":", 1) for line in f.read().splitlines())
    ids = "\t".join([str(nobody.pw_uid)] * 4)
    check(status["Uid"].strip() == ids, "every uid is nobody's: %r" % status["Uid"])
    check(status["Gid"].strip() == "\t".join([str(nobody.pw_gid)] * 4),
          "every gid is nobody's: %r" % status["Gid"])
    check(status["Groups"].strip() in ("", str(nobody.pw_gid)),
          "no supplementary groups: %r" % status["Groups"])
    check(int(status["CapEff"], 16) == 0 and int(status["CapPrm"], 16) == 0,
          "no capabilities left: %r %r" % (status["CapEff"], status["CapPrm"]))
    check(e.wait_log(b"event=privileges_dropped user=nobody"), "the drop is logged")
    with hl7.client.MLLPClient("127.0.0.1", low) as c:
        check(fields(c.send_message(message("P0001")))["MSA"][1] == "AA",
              "a message on the port below 1024 is accepted and stored as nobody")
    outbox = os.path.join(work, "data", "outbox")
    deadline = time.time() + 15
    while time.time() < deadline and not os.listdir(outbox):
        time.sleep(0.1)
    files = [os.path.join(outbox, n) for n in os.listdir(outbox)]
    check(len(files) == 1 and os.stat(files[0]).st_uid == nobody.pw_uid,
          "the bundle is written to the outbox by nobody")
    check(os.stat(os.path.join(work, "data", "solent.db")).st_uid == nobody.pw_uid,
          "the store is handed to nobody")
    e.proc.send_signal(signal.SIGHUP)
    check(e.wait_log(b"event=reloaded"), "a reload as nobody reads the configuration again")
    with hl7.client.MLLPClient("127.0.0.1", e.port) as c:
        check(fields(c.send_message(message("P0002")))["MSA"][1] == "AA",
              "a message after the reload is accepted")
    check(e.stop() == 0, "clean stop as nobody")


def test_peer_and_listener_limits(solent, root, tmp_path):
    """[peer lab] (127.0.0.2) with max_connections = 2 and max_in_flight = 1, listener pas with
    max_in_flight = 1, every commit slowed to 300 ms: the lab's second message, sent on another
    listener while its first commits, is held whole until that one is answered, while another
    sender's is not; the same on pas for two connections of anyone; the lab's third connection
    is refused while a third from elsewhere is served; nothing held is lost."""
    admin = free_port()
    e = Engine(solent, root, str(tmp_path), free_ports())
    e.write(extra="[peer lab]\naddresses = 127.0.0.2\nmax_connections = 2\nmax_in_flight = 1\n"
            "[admin]\nport = %d\ntoken = env:SOLENT_TEST_ADMIN_TOKEN\n" % admin,
            engine="log_level = debug")  # conn_state and conn_waiting: the order, not timing
    with open(e.conf) as f:
        text = f.read()
    with open(e.conf, "w") as f:
        f.write(text.replace("max_per_peer = 64\n", "max_per_peer = 64\nmax_in_flight = 1\n", 1)
                .replace("idle_timeout_ms = 1s", "idle_timeout_ms = 60s"))  # quiet keeps b
    e.start(faults="intake_before_commit=delay:300")

    def waits():
        req = urllib.request.Request("http://127.0.0.1:%d/metrics" % admin,
                                     headers={"Authorization": "Bearer " + harness.ADMIN_TOKEN})
        body = urllib.request.urlopen(req, timeout=10).read().decode()
        out = {}
        for line in body.splitlines():
            if line.startswith("solent_in_flight_waits_total{") or \
                    line.startswith("solent_connections_refused_total{"):
                k, v = line.rsplit(" ", 1)
                out[k] = float(v)
        return out

    def ack_of(s):
        s.settimeout(20)
        return fields(read_frame(s))["MSA"]

    # the lab's second message, on quiet, waits for its first, on pas; another sender's does not
    a, b, c = connect_from("127.0.0.2", e.port), connect_from("127.0.0.2", e.port + 1), \
        connect_from("127.0.0.1", e.port + 1)
    a.sendall(frame(message("LIM-A")))
    check(e.wait_log(b"to=committing", 1), "the lab's first message commits")
    b.sendall(frame(message("LIM-B")))
    check(e.wait_log(b"event=conn_waiting", 1), "its second is held")
    c.sendall(frame(message("LIM-C")))
    got = {cid: ack_of(s) for cid, s in (("LIM-A", a), ("LIM-B", b), ("LIM-C", c))}
    check(all(m[1] == "AA" and m[2] == cid for cid, m in got.items()),
          "held or not, every message is accepted: %r" % got)
    w = waits()
    check(w.get('solent_in_flight_waits_total{listener="quiet"}') == 1 and
          w.get('solent_in_flight_waits_total{listener="pas"}') == 0,
          "the lab's second message was held (its peer's limit spans listeners); the other "
          "sender's was not: %r" % w)
    # two connections of anyone on pas: the second waits for the first (the listener's limit)
    d, f = connect_from("127.0.0.1", e.port), connect_from("127.0.0.3", e.port)
    d.sendall(frame(message("LIM-D")))
    check(e.wait_log(b"to=committing", 4), "D commits (after A, B and C)")
    f.sendall(frame(message("LIM-F")))
    check(e.wait_log(b"event=conn_waiting", 2), "F is held")
    check(ack_of(d)[1] == "AA" and ack_of(f)[1] == "AA", "both accepted")
    check(waits().get('solent_in_flight_waits_total{listener="pas"}') == 1,
          "pas held the second: %r" % waits())
    # the lab has a and b open: a third is refused, another sender's third is served
    third = connect_from("127.0.0.2", e.port)
    check(closed_by_peer(third, 10), "the lab's third connection is closed")
    check(e.wait_log(b"reason=peer_max_connections"), "refused for the peer's max_connections")
    g = connect_from("127.0.0.4", e.port)
    g.sendall(frame(message("LIM-G")))
    check(ack_of(g)[1] == "AA", "a third connection from elsewhere is served")
    check(waits().get('solent_connections_refused_total{listener="pas"}') == 1,
          "/metrics counts the refusal")
    a.close()
    check(e.wait_log(b"event=conn_closed listener=pas", 3), "the engine sees a close")
    third = connect_from("127.0.0.2", e.port)
    third.sendall(frame(message("LIM-H")))
    check(ack_of(third)[1] == "AA", "once one of the lab's closes, a new one is served")
    for s in (b, c, d, f, g, third):
        s.close()
    stored = {r[0] for r in e.rows("select control_id from messages where status = 'accepted'")}
    check(stored >= {"LIM-A", "LIM-B", "LIM-C", "LIM-D", "LIM-F", "LIM-G", "LIM-H"},
          "every message stored: %r" % stored)
    check(e.stop() == 0, "clean stop")
