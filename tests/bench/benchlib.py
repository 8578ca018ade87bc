"""What the ingest benchmarks share (bench_encryption, bench_store, bench_tls): an engine
started on a configuration and waited for, and the rate `solent send` reports. Standard
library only: the benchmarks run without the test packages."""
import os
import re
import socket
import subprocess
import time

# Started as root, solent run needs a user to become; its directories must let it through.
AS_USER = ["--user", "nobody"] if os.geteuid() == 0 else []


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start(solent, conf, ports):
    """`solent run -c conf`, once each of its MLLP ports takes connections (or 10 s went)."""
    p = subprocess.Popen([solent, "run", "-c", conf] + AS_USER, stderr=subprocess.DEVNULL)
    for port in ports:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
    return p


def send_rate(solent, port, sample, count, connections, options=()):
    """messages/s of `solent send --count count --connections connections` (0 when it
    reports none)."""
    out = subprocess.run([solent, "send", "--quiet", "--count", str(count), "--connections",
                          str(connections), *options, "127.0.0.1:%d" % port, sample],
                         capture_output=True, text=True).stdout
    m = re.search(r"([\d.]+) messages/s", out)
    return float(m.group(1)) if m else 0.0
