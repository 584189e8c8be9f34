"""Compare stash53 with the tshark oracles.

For every X.pcap in --pcaps that has X.oracle.tsv beside it, stash53's events must agree
with the stored oracle and with tshark run now on the same file.  X.truth.tsv, where
present, lists frames the generator made malformed; stash53 must flag those.

    /usr/bin/python3 tests/integration/test_oracles.py --stash53 build/stash53 \
        --pcaps /work/shared/pcaps
"""
import argparse
import json
import pathlib
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "oracle"))
import oracle  # noqa: E402


def run_stash53(stash53, pcap):
    """(events, problems) of `stash53 -r pcap`."""
    proc = subprocess.run([stash53, "-r", str(pcap), "-N", "test"], capture_output=True,
                          text=True, timeout=60)
    problems = [] if proc.returncode == 0 else [
        f"stash53 exit status {proc.returncode}: {proc.stderr.strip()}"]
    events = []
    for line in proc.stdout.splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            problems.append(f"not JSON: {line!r}")
    for i, ev in enumerate(events, 1):
        if ev.get("n") != i or ev.get("nsid") != "test":
            problems.append(f"event {i}: n={ev.get('n')!r} nsid={ev.get('nsid')!r}")
    return events, problems


def truth_problems(truth, events, rows):
    """Frames the generator says are malformed must give malformed events."""
    if len(events) != len(rows):
        return [f"{truth.name} not checked: events and oracle rows don't line up"]
    problems = []
    for line in truth.read_text().splitlines():
        frame, _, what = line.partition("\t")
        if what.startswith("MALFORMED") and not any(
                "malformed" in ev for ev, row in zip(events, rows) if row["frame"] == frame):
            problems.append(f"frame {frame} ({what}): stash53 does not flag it malformed")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--stash53", required=True)
    ap.add_argument("--pcaps", required=True, type=pathlib.Path)
    args = ap.parse_args()
    failed = False
    pcaps = [p for p in sorted(args.pcaps.glob("*.pcap"))
             if p.with_suffix(".oracle.tsv").exists()]
    for pcap in pcaps:
        events, problems = run_stash53(args.stash53, pcap)
        stored = oracle.load_tsv(pcap.with_suffix(".oracle.tsv"))
        problems += [f"vs oracle file: {p}" for p in oracle.compare(events, stored)]
        problems += [f"vs tshark now: {p}"
                     for p in oracle.compare(events, oracle.run_tshark(pcap))]
        truth = pcap.with_suffix(".truth.tsv")
        if truth.exists():
            problems += truth_problems(truth, events, stored)
        print(f"{'FAIL' if problems else 'ok  '} {pcap.name}: {len(events)} events, "
              f"{len(stored)} oracle rows")
        for p in problems:
            print(f"    {p}")
        failed |= bool(problems)
    if not pcaps:
        print(f"no *.pcap with an .oracle.tsv in {args.pcaps}")
    return 1 if failed or not pcaps else 0


if __name__ == "__main__":
    sys.exit(main())
