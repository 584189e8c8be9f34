#!/usr/bin/python3
"""Shutdown: nothing lost reading a large file, and a clean stop on SIGTERM under live load.

Usage: test_shutdown.py --stash53 PATH --pcaps DIR --workdir DIR   (as root)

(a) DIR/sample-udp4.pcap is repeated, with shifted timestamps, into a capture of >= 200000 DNS
    messages; `-r big.pcap -o out.ndjson` and `cat big.pcap | -r -` must each give one event per
    message, in order, with n = 1..N.
(b) Inside a private network namespace, stash53 captures lo while dnsperf loads a real nsd; a
    SIGTERM in the middle must end it with status 0 within 5 s, leaving only whole JSON lines
    and the counters summary on stderr.
Shares its netns, nsd and probe helpers with test_live_capture.py.
"""
import argparse
import json
import os
import re
import signal
import struct
import subprocess
import sys
import time
from datetime import datetime, timezone

sys.dont_write_bytecode = True  # importing the sibling test must leave no __pycache__ behind
from test_live_capture import (  # noqa: E402
    ZONE, ZONE_NAME, Failure, enter_netns, on_alarm, read_events, require, start_nsd, stop,
    wait_capturing)

MIN_MESSAGES = 200_000
# The counters summary (one line on stderr at exit) counts the events emitted.
SUMMARY_RE = re.compile(r"\bemitted=(\d+)\b")


def build_big_pcap(sample, out):
    """Writes copies of the sample's records, copy k shifted by k seconds, until there are
    MIN_MESSAGES; returns the (DNS id, @timestamp) expected for each record written."""
    with open(sample, "rb") as f:
        data = f.read()
    magic = data[:4]
    endian = {b"\xd4\xc3\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">"}.get(magic)
    require(endian is not None, f"{sample}: not a microsecond pcap (magic {magic.hex()})")
    require(struct.unpack(endian + "I", data[20:24])[0] == 1, f"{sample}: not Ethernet")
    records, off = [], 24
    while off < len(data):
        sec, usec, incl, orig = struct.unpack(endian + "IIII", data[off:off + 16])
        frame = data[off + 16:off + 16 + incl]
        # Each record must be one DNS message over Ethernet/IPv4/UDP port 53.
        ihl = (frame[14] & 0x0F) * 4
        sport, dport = struct.unpack(">HH", frame[14 + ihl:18 + ihl])
        require(frame[12:14] == b"\x08\x00" and frame[23] == 17 and 53 in (sport, dport),
                f"{sample}: record at offset {off} is not DNS over UDP/IPv4")
        dns_id = struct.unpack(">H", frame[22 + ihl:24 + ihl])[0]
        records.append((sec, usec, frame, orig, dns_id))
        off += 16 + incl
    copies = -(-MIN_MESSAGES // len(records))
    expected = []
    with open(out, "wb") as f:
        f.write(data[:24])
        for k in range(copies):
            for sec, usec, frame, orig, dns_id in records:
                f.write(struct.pack(endian + "IIII", sec + k, usec, len(frame), orig) + frame)
                ts = datetime.fromtimestamp(sec + k, timezone.utc)
                expected.append((dns_id, ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{usec:06d}Z"))
    return expected


def check_file_events(path, expected, label):
    with open(path, "rb") as f:
        lines = f.read().split(b"\n")
    require(lines[-1] == b"", f"{label}: the last line is not terminated")
    lines.pop()
    require(len(lines) == len(expected),
            f"{label}: {len(lines)} events for {len(expected)} DNS messages")
    for i, (line, (dns_id, ts)) in enumerate(zip(lines, expected), 1):
        try:
            ev = json.loads(line)
        except ValueError as e:
            raise Failure(f"{label}: line {i} is not JSON ({e}): {line[:200]!r}")
        got = (ev.get("n"), ev.get("id"), ev.get("@timestamp"))
        require(got == (i, dns_id, ts), f"{label}: line {i} has (n, id, @timestamp) {got}, "
                                        f"expected {(i, dns_id, ts)}")


def file_input(args):
    big = os.path.join(args.workdir, "big.pcap")
    expected = build_big_pcap(os.path.join(args.pcaps, "sample-udp4.pcap"), big)
    out = os.path.join(args.workdir, "out.ndjson")
    if os.path.exists(out):
        os.remove(out)  # -o appends
    r = subprocess.run([args.stash53, "-r", big, "-o", out], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=60)
    require(r.returncode == 0, f"-r big.pcap -o: exit {r.returncode}: {r.stderr[-2000:]!r}")
    check_file_events(out, expected, "-r big.pcap -o out.ndjson")

    piped = os.path.join(args.workdir, "stdin.ndjson")
    with open(big, "rb") as src, open(piped, "wb") as dst:
        cat = subprocess.Popen(["cat"], stdin=src, stdout=subprocess.PIPE)
        r = subprocess.run([args.stash53, "-r", "-"], stdin=cat.stdout, stdout=dst,
                           stderr=subprocess.PIPE, timeout=60)
        cat.stdout.close()
        cat.wait(10)
    require(r.returncode == 0, f"-r -: exit {r.returncode}: {r.stderr[-2000:]!r}")
    check_file_events(piped, expected, "cat big.pcap | -r -")
    print(f"ok (a): {len(expected)} messages, every event written, via a file and via stdin")


def sigterm_under_load(args):
    events_path = os.path.join(args.workdir, "sigterm.ndjson")
    stderr_path = os.path.join(args.workdir, "sigterm.stderr")
    queries = os.path.join(args.workdir, "dnsperf.queries")
    with open(queries, "w") as f:
        f.write("example.test A\nwww.example.test AAAA\nexample.test MX\nexample.test TXT\n"
                "nope.example.test A\n")
    nsd = start_nsd(args.workdir, ZONE_NAME, ZONE)
    sniffer = load = None
    try:
        with open(events_path, "wb") as out, open(stderr_path, "wb") as err:
            sniffer = subprocess.Popen([args.stash53, "-i", "lo", "-N", "shutdown"],
                                       stdout=out, stderr=err)
        wait_capturing(sniffer, events_path)
        # Bounded by count (-n) and time (-l 3 s); -Q keeps it a steady, moderate load.
        load = subprocess.Popen(["dnsperf", "-s", "127.0.0.1", "-d", queries, "-n", "10000",
                                 "-l", "3", "-Q", "5000", "-c", "2"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.5)
        require(load.poll() is None, "dnsperf ended before the SIGTERM")
        t = time.monotonic()
        rc = stop(sniffer, signal.SIGTERM)
        took = time.monotonic() - t
        require(rc is not None, "stash53 did not exit within 5 s of SIGTERM")
        require(rc == 0, f"stash53 exited with {rc} after SIGTERM")
        require(load.wait(10) == 0, f"dnsperf failed with {load.returncode}")

        with open(events_path, "rb") as f:
            data = f.read()
        require(data.endswith(b"\n"), f"torn last line: {data[-200:]!r}")
        events = read_events(events_path)
        require(len(events) >= 1000, f"only {len(events)} events under load")
        ns = [ev.get("n") for ev in events]
        gaps = [(a, b) for a, b in zip(ns, ns[1:]) if b != a + 1]
        require(ns[0] == 1 and not gaps, f"n is not 1..{len(ns)}: first {ns[0]}, gaps {gaps[:5]}")
        with open(stderr_path) as f:
            summary = [m for line in f if (m := SUMMARY_RE.search(line))]
        require(summary, f"no counters summary (emitted=N) on stderr, see {stderr_path}")
        # Events still queued at the stop must be written, not dropped: n has no gap at the end.
        require(int(summary[-1][1]) == len(events),
                f"summary says emitted={summary[-1][1]}, but {len(events)} events were written")
        print(f"ok (b): exit 0 {took:.2f} s after SIGTERM, {len(events)} whole events, "
              f"all of them counted in the summary")
    finally:
        for proc in (sniffer, load):
            if proc is not None:
                stop(proc, signal.SIGKILL)
        stop(nsd)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stash53", required=True)
    ap.add_argument("--pcaps", required=True)
    ap.add_argument("--workdir", required=True)
    args = ap.parse_args()
    args.stash53 = os.path.abspath(args.stash53)
    signal.signal(signal.SIGALRM, on_alarm)
    try:
        enter_netns()
        signal.alarm(120)
        os.makedirs(args.workdir, exist_ok=True)
        file_input(args)
        sigterm_under_load(args)
    except (Failure, subprocess.SubprocessError, OSError) as e:
        print(f"FAIL: {e}\n(outputs are in {args.workdir})", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
