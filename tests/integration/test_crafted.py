"""stash53 on crafted captures: IP fragments, DNS over TCP, EDNS options, mDNS, malformed
messages and a real AXFR, all built under --workdir at test time (crafted_captures.py).

For every capture stash53's events must agree with tshark (two-pass, with IP and TCP
reassembly) through oracle.compare, and pass the capture's own checks where tshark is silent
or the comparer does not look (malformed reasons, EDNS options, mDNS bits).  stash53 must exit
0 with nothing but log lines on stderr, among them its counters with one packet per frame and
one emitted event per line printed.  The AXFR must give one event per message kdig received,
with every record.  Runs as root (the AXFR's nsd runs in its own network namespace).

    /usr/bin/python3 tests/integration/test_crafted.py --stash53 build/stash53 \
        --workdir /tmp/crafted
"""
import argparse
import json
import pathlib
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing

from scapy.utils import RawPcapReader

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "oracle"))
import crafted_captures as crafted  # noqa: E402
import oracle  # noqa: E402


def run_stash53(stash53, pcap):
    """(events, problems) of `stash53 -r pcap`, its exit status and stderr checked."""
    try:
        proc = subprocess.run([stash53, "-r", str(pcap), "-N", "t"], capture_output=True,
                              text=True, timeout=30)
    except subprocess.TimeoutExpired:
        return [], ["stash53 did not finish within 30 s"]
    problems = [] if proc.returncode == 0 else [f"stash53 exit status {proc.returncode}"]
    events = []
    for line in proc.stdout.splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            problems.append(f"not JSON: {line[:200]!r}")
    lines = proc.stderr.splitlines()
    problems += [f"stderr: {line[:300]}" for line in lines
                 if not re.search(r" level=(trace|debug|info|warn) ", line)]
    counters = [dict(re.findall(r"([a-z-]+)=(\d+)", line.split("|")[0]))
                for line in lines if "packets=" in line][-1:]
    with closing(RawPcapReader(str(pcap))) as reader:
        frames = sum(1 for _ in reader)
    want = {"packets": str(frames), "emitted": str(len(events))}
    if not counters:
        problems.append("no counters line on stderr")
    elif {k: counters[0].get(k) for k in want} != want:
        problems.append(f"counters {counters[0]}, expected {want}")
    return events, problems


def field(ev, path):
    """The value at a dotted path ("edns.ede.0.code") of an event, or crafted.ABSENT."""
    for key in path.split("."):
        if isinstance(ev, list) and key.isdigit() and int(key) < len(ev):
            ev = ev[int(key)]
        elif isinstance(ev, dict) and key in ev:
            ev = ev[key]
        else:
            return crafted.ABSENT
    return ev


def matches(ev, match):
    return all(field(ev, k) == v for k, v in match.items())


def same_message(row, ev):
    return (row["sport"], row["dport"], row["id"]) == (
        str(ev.get("s_port")), str(ev.get("d_port")), f"0x{ev.get('id', -1):04x}")


def check_problems(events, checks):
    problems = []
    for match, want in checks:
        label = " ".join(f"{k}={v:#06x}" if k == "id" else f"{k}={v}" for k, v in match.items())
        hits = [ev for ev in events if matches(ev, match)]
        if want is None:
            problems += [f"{label}: expected no event, stash53 has n={ev.get('n')}" for ev in hits]
        elif len(hits) != 1:
            problems.append(f"{label}: {len(hits)} events, expected 1")
        else:
            for path, value in want.items():
                got = field(hits[0], path)
                if not any(got == v for v in (value if isinstance(value, set) else [value])):
                    problems.append(f"{label} (n={hits[0].get('n')}) {path}: expected "
                                    f"{value!r}, stash53 {got!r}")
    return problems


def check(stash53, cap):
    """(events, problems, number of tshark rows) of one crafted_captures.Capture."""
    events, problems = run_stash53(stash53, cap.path)
    differ = [ev for ev in events if any(matches(ev, m) for m in cap.tshark_differs)]
    seen = [ev for ev in events if ev not in differ and
            not any(matches(ev, m) for m in cap.tshark_misses)]
    rows = []
    try:
        rows = oracle.run_tshark(cap.path)
        # Messages tshark reads against the standard are checked by `cap.checks` alone.
        compared = [r for r in rows if not any(same_message(r, ev) for ev in differ)]
        problems += [f"vs tshark: {p}" for p in oracle.compare(seen, compared)]
    except Exception as e:  # noqa: BLE001 -- a tshark or oracle.py failure fails this capture only
        detail = e.stderr.decode()[-300:] if isinstance(e, subprocess.CalledProcessError) else ""
        problems.append(f"oracle failed: {e!r} {detail}")
    return events, problems + check_problems(events, cap.checks), len(rows)


def axfr_problems(events, messages, records):
    """kdig's own count of the transfer: messages and records."""
    responses = [ev for ev in events if ev.get("msg_type") == "response"]
    problems = [] if len(responses) == messages else [
        f"{len(responses)} response events, kdig received {messages} messages"]
    got = sum(len(ev.get("answers", ())) for ev in responses)
    if got != records:
        problems.append(f"{got} answer records in the events, kdig received {records}")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--stash53", required=True)
    ap.add_argument("--workdir", required=True, type=pathlib.Path)
    args = ap.parse_args()
    with ThreadPoolExecutor(max_workers=4) as pool:
        transfer = pool.submit(crafted.axfr, args.workdir)
        captures = crafted.build(args.workdir)
        futures = [pool.submit(check, args.stash53, cap) for cap in captures]
        results = [(cap, *future.result()) for cap, future in zip(captures, futures)]
    try:
        cap, messages, records = transfer.result()
        events, problems, rows = check(args.stash53, cap)
        problems += axfr_problems(events, messages, records)
    except (RuntimeError, OSError, subprocess.SubprocessError) as e:
        cap, events, problems, rows = crafted.Capture("axfr", "a real AXFR"), [], [str(e)], 0
    results.append((cap, events, problems, rows))
    for cap, events, problems, rows in results:
        print(f"{'FAIL' if problems else 'ok  '} {cap.name}: {len(events)} events, {rows} tshark "
              f"rows ({cap.what})")
        for p in problems:
            print(f"    {p}")
    return 1 if any(problems for *_, problems, _ in results) else 0


if __name__ == "__main__":
    sys.exit(main())
