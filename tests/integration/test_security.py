#!/usr/bin/python3
"""The security enricher on labelled traces and on real captures.

Usage: test_security.py --stash53 PATH --pcaps DIR --sample PCAP --workdir DIR

tests/security/make_traces.py builds labelled traces (deterministic): tunnel.pcap (iodine,
dnscat2-style, DGA bursts, slow exfiltration, TXT/ANY C2 polls) and benign.pcap (the hard cases:
CDN names, Kubernetes services, DNSBL lookups from a mail server, hash lookups, Chrome's probes,
reverse lookups, e-mail authentication, ACME, ordinary traffic). stash53 classifies both, and
tests/security/evaluate.py scores its events against the labels:
(a) overall precision and recall at least MIN_PRECISION and MIN_RECALL, and every reason fires
    on the tunnel trace;
(b) no heuristic reason (anything but the TXT/ANY rule) on benign.pcap, on the shared captures
    (real nsd, BIND and Unbound traffic) or on the sample;
(c) `filter: {security: true}` passes exactly the security events, and the enricher's counters
    agree with the events.
"""
import argparse
import collections
import json
import os
import re
import subprocess
import sys

from testlib import Failure, require

MIN_PRECISION, MIN_RECALL = 0.95, 0.90
REASONS = ["txt-query", "any-query", "long-qname", "long-label", "high-entropy-label",
           "many-subdomains", "null-qtype", "private-qtype", "nxdomain-ratio"]
HERE = os.path.dirname(os.path.abspath(__file__))


def stash53(args):
    r = subprocess.run([opts.stash53, *args], capture_output=True, text=True, timeout=300)
    require(r.returncode == 0, f"stash53 {' '.join(args)}: exit {r.returncode}\n{r.stderr[-2000:]}")
    return r


def classify(pcap, out):
    if os.path.exists(out):
        os.unlink(out)  # -o appends
    r = stash53(["-r", pcap, "-o", out])
    with open(out) as f:
        return [json.loads(line) for line in f], r.stderr


def evaluate(*args):
    return subprocess.run(["/usr/bin/python3", os.path.join(HERE, "..", "security", "evaluate.py"),
                           "--labels", os.path.join(opts.workdir, "labels.tsv"), *args],
                          capture_output=True, text=True)


def main():
    global opts
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for a in ("--stash53", "--pcaps", "--sample", "--workdir"):
        ap.add_argument(a, required=True)
    opts = ap.parse_args()
    os.makedirs(opts.workdir, exist_ok=True)
    w = opts.workdir
    try:
        subprocess.run(["/usr/bin/python3", os.path.join(HERE, "..", "security", "make_traces.py"), w],
                       check=True, capture_output=True)
        tunnel, _ = classify(os.path.join(w, "tunnel.pcap"), os.path.join(w, "tunnel.ndjson"))
        benign, _ = classify(os.path.join(w, "benign.pcap"), os.path.join(w, "benign.ndjson"))
        r = evaluate(os.path.join(w, "tunnel.ndjson"), os.path.join(w, "benign.ndjson"),
                     "--min-recall", str(MIN_RECALL), "--min-precision", str(MIN_PRECISION))
        print(r.stdout)
        require(r.returncode == 0, f"precision/recall below {MIN_PRECISION}/{MIN_RECALL}")
        fired = collections.Counter(x for ev in tunnel for x in ev.get("security_reasons", ()))
        require(all(fired[x] > 0 for x in REASONS), f"reasons on the tunnel trace: {dict(fired)}")
        print(f"ok   every reason fires on the tunnel trace: {dict(fired)}")
        r = evaluate(os.path.join(w, "benign.ndjson"), "--expect-silent")
        require(r.returncode == 0, f"a heuristic fired on benign.pcap:\n{r.stdout[-3000:]}")
        print(f"ok   no heuristic reason on benign.pcap ({len(benign)} events)")

        captures = sorted(os.path.join(opts.pcaps, f) for f in os.listdir(opts.pcaps) if f.endswith(".pcap"))
        total = 0
        for cap in captures + [opts.sample]:
            evs, _ = classify(cap, os.path.join(w, "real.ndjson"))
            loud = [ev for ev in evs if set(ev.get("security_reasons", ())) - {"txt-query", "any-query"}]
            require(not loud, f"{cap}: heuristic reasons on real traffic: {loud[:3]}")
            require(all(ev["event_class"] in ("security", "network") for ev in evs), f"{cap}: event_class")
            total += len(evs)
        print(f"ok   no heuristic reason on {total} events of the shared captures and the sample")

        # The emitter filter, and the counters.
        cfg = os.path.join(w, "filter.yml")
        out = os.path.join(w, "security.ndjson")
        if os.path.exists(out):
            os.unlink(out)
        with open(cfg, "w") as f:
            f.write(f"emitters:\n  - {{type: stdout}}\n"
                    f"  - {{type: file, path: {out}, filter: {{security: true}}}}\n")
        # One run, stdout and the filtered file: the classifier's hash key is random per run.
        r = stash53(["-c", cfg, "-r", os.path.join(w, "tunnel.pcap")])
        with open(out) as f:
            passed = [json.loads(line) for line in f]
        tunnel = [json.loads(line) for line in r.stdout.splitlines()]
        want = [ev["n"] for ev in tunnel if ev["event_class"] == "security"]
        require([ev["n"] for ev in passed] == want, f"filter security: {len(passed)} events, want {len(want)}")
        m = re.search(r"\| enricher:security security=(\d+) network=(\d+)", r.stderr)
        require(m and int(m.group(1)) == len(want) and int(m.group(2)) == len(tunnel) - len(want),
                f"counters: {m and m.groups()}, events: {len(want)} security of {len(tunnel)}")
        print(f"ok   filter security: true passes the {len(want)} security events; counters agree")
    except (Failure, subprocess.CalledProcessError) as e:
        print(f"FAIL {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
