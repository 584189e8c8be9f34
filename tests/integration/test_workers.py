#!/usr/bin/python3
"""`--workers N`: the same events as one worker, each flow's in its order, one numbering.

Usage: test_workers.py --stash53 PATH --pcaps DIR [--pcaps DIR ...] --workdir DIR

One worker's output is what the oracle tests check against tshark; here every capture is
read again with 3 workers, which shard flows by address pair. Per capture and mode (message,
transaction, record), the events must be the same (without `n`), the events of each flow
(address pair) in the same order, and `n` must number them 1..N with no gap or repeat. Transactions
pair a query with its response only when both reached the same worker, and fragments and TCP
segments decode only when all of theirs did: the crafted captures (IP fragments in every
order, TCP streams, tunnels) and tests/data/sample.pcap (8 clients) exercise both.
"""
import argparse
import json
import pathlib
import re
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import crafted_captures as crafted  # noqa: E402
from testlib import Failure, require  # noqa: E402

WORKERS = 3


def run(stash53, pcap, workers, mode):
    """(events, stderr) of one run."""
    proc = subprocess.run(
        [stash53, "-r", str(pcap), "--stdout", "--mode", mode, "--workers", str(workers),
         "-N", "w"], capture_output=True, text=True, timeout=60)
    require(proc.returncode == 0,
            f"{pcap.name} {mode} --workers {workers}: exit {proc.returncode}\n{proc.stderr[-2000:]}")
    return [json.loads(line) for line in proc.stdout.splitlines()], proc.stderr


def flow(ev):
    """What the workers shard by: the address pair, either way round; mDNS and LLMNR (ports
    5353 and 5355, answered from other addresses than their multicast queries went to) apart."""
    msg = ev.get("query", ev)  # an exchange: its query's
    multicast = any(msg.get(k) in (5353, 5355) for k in ("s_port", "d_port"))
    return (multicast, *sorted(str(msg.get(k)) for k in ("s_addr", "d_addr")))


def without_n(ev):
    ev = dict(ev)
    ev.pop("n", None)
    return json.dumps(ev, sort_keys=True)


def check(stash53, pcap, mode):
    one, _ = run(stash53, pcap, 1, mode)
    many, stderr = run(stash53, pcap, WORKERS, mode)
    name = f"{pcap.name} ({mode})"
    require(sorted(map(without_n, many)) == sorted(map(without_n, one)),
            f"{name}: {WORKERS} workers give other events than one "
            f"({len(many)} vs {len(one)} events)")
    ns = sorted(ev["n"] for ev in many)
    require(ns == list(range(1, len(many) + 1)), f"{name}: n is not 1..{len(many)}: {ns[:20]}")
    flows = {}
    for events, side in ((one, 0), (many, 1)):
        for ev in events:
            flows.setdefault(flow(ev), ([], []))[side].append(without_n(ev))
    for p, (a, b) in flows.items():
        require(a == b, f"{name}: the events of {p} come in another order")
    # The counters: one per worker, summed into the totals.
    line = [l for l in stderr.splitlines() if "component=stats" in l][-1]
    per_worker = re.search(r"worker-emitted=(\d+) \(([^)]*)\)", line)
    emitted = re.search(r"\bemitted=(\d+)", line.replace("worker-emitted", ""))
    require(per_worker and emitted, f"{name}: no worker counters in {line}")
    parts = dict(kv.split("=") for kv in per_worker.group(2).split(","))
    require(set(parts) <= {str(w) for w in range(WORKERS)}, f"{name}: workers {parts}")
    require(sum(map(int, parts.values())) == int(per_worker.group(1)) == int(emitted.group(1)),
            f"{name}: worker-emitted {per_worker.group(0)} vs emitted {emitted.group(1)}")
    return len(many), len(flows), len(parts)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stash53", required=True)
    ap.add_argument("--pcaps", action="append", type=pathlib.Path, required=True)
    ap.add_argument("--workdir", required=True, type=pathlib.Path)
    args = ap.parse_args()
    pcaps = [p for d in args.pcaps for p in sorted(d.glob("*.pcap"))]
    pcaps += [cap.path for cap in crafted.build(args.workdir)]
    spread = 0
    try:
        for pcap in pcaps:
            for mode in ("message", "transaction", "record"):
                events, flows, busy = check(args.stash53, pcap, mode)
                spread = max(spread, busy)
        # The hash must spread flows at all: some capture's flows reach several workers.
        require(spread > 1, "every capture's flows went to one worker")
    except (Failure, subprocess.SubprocessError) as e:
        print(f"FAIL: {e}", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {len(pcaps)} captures x 3 modes, {WORKERS} workers agree with one")


if __name__ == "__main__":
    main()
