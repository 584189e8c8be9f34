#!/usr/bin/python3
"""Transactions on a live capture: `stash53 -i lo --mode transaction` beside a real nsd on a
private loopback. An exchange kdig makes is one answered document; a query nobody answers (sent
to 127.0.0.9, where nothing listens) comes out unanswered after the timeout with no packet
after it (the idle tick), and one still waiting at SIGTERM comes out at shutdown.

Usage: test_live_transactions.py --stash53 PATH --workdir DIR   (as root)
"""
import argparse
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time

from test_live_capture import ZONE, ZONE_NAME, enter_netns, kdig, start_nsd, stop
from testlib import Failure, require

failures = []


def check(what, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + what + ("" if ok else f"\n     {detail}"))
    if not ok:
        failures.append(what)


def docs(path):
    with open(path, "rb") as f:
        return [json.loads(line) for line in f.read().split(b"\n")[:-1]]


def by_port(path, port):
    return [d for d in docs(path) if (d.get("query") or d.get("response") or {}).get("s_port") == port
            or (d.get("query") or {}).get("s_port") == port]


def wait(path, port, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = by_port(path, port)
        if found:
            return found
        time.sleep(0.02)
    return []


def lone_query(port, qname):
    """A query to an address where no server listens: never answered."""
    labels = b"".join(bytes([len(x)]) + x.encode() for x in qname.split("."))
    msg = struct.pack("!HHHHHH", port, 0x0100, 1, 0, 0, 0) + labels + b"\0" + struct.pack("!HH", 1, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", port))
        s.sendto(msg, ("127.0.0.9", 53))
    return time.monotonic()


def run(args):
    os.makedirs(args.workdir, exist_ok=True)
    out_path = os.path.join(args.workdir, "transactions.ndjson")
    conf = os.path.join(args.workdir, "tx.yml")
    with open(conf, "w") as f:
        f.write("transactions: {timeout_ms: 1500}\n")
    nsd = start_nsd(args.workdir, ZONE_NAME, ZONE)
    sniffer = None
    try:
        with open(out_path, "wb") as out, open(os.path.join(args.workdir, "stderr"), "wb") as err:
            sniffer = subprocess.Popen([args.stash53, "-i", "lo", "-c", conf, "--mode", "transaction",
                                        "--no-enrich", "geoip"], stdout=out, stderr=err)
        answered = []
        for k in range(20):  # until capture runs: each probe is an exchange of its own
            require(sniffer.poll() is None, f"stash53 exited early with {sniffer.returncode}")
            kdig([f"-b127.0.0.1#{19000 + k}", "@127.0.0.1", ZONE_NAME, "SOA"])
            answered = wait(out_path, 19000 + k, 0.5)
            if answered:
                break
        check("a live exchange is one answered document",
              len(answered) == 1 and answered[0]["status"] == "answered" and answered[0]["latency_us"] > 0,
              answered)

        sent = lone_query(21000, "lost.example.test")
        early = wait(out_path, 21000, 1.0)
        late = wait(out_path, 21000, 4.0)
        waited = time.monotonic() - sent
        check("an unanswered query is held for its timeout (1.5 s), then emitted with no packet after it",
              not early and len(late) == 1 and late[0]["status"] == "unanswered" and waited >= 1.5,
              (early, late, waited))

        lone_query(21001, "pending.example.test")
        time.sleep(0.3)  # captured, well within its timeout
        rc = stop(sniffer, signal.SIGTERM)
        left = by_port(out_path, 21001)
        check("a query still waiting at SIGTERM is emitted unanswered at shutdown, exit 0",
              rc == 0 and len(left) == 1 and left[0]["status"] == "unanswered", (rc, left))
    finally:
        if sniffer is not None:
            stop(sniffer, signal.SIGKILL)
        stop(nsd)


def on_alarm(*_):
    raise Failure("timed out")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stash53", required=True)
    ap.add_argument("--workdir", required=True)
    args = ap.parse_args()
    args.stash53 = os.path.abspath(args.stash53)
    signal.signal(signal.SIGALRM, on_alarm)
    try:
        enter_netns()
        signal.alarm(40)
        run(args)
    except (Failure, subprocess.SubprocessError, OSError) as e:
        print(f"FAIL: {e}\n(stash53 output and nsd log are in {args.workdir})")
        return 1
    print(f"{len(failures)} failures" if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
