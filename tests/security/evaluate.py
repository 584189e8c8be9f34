#!/usr/bin/python3
"""Scores stash53's security classification against the labels of make_traces.py.

    evaluate.py --labels labels.tsv EVENTS.ndjson... [--min-recall X] [--min-precision Y]
                [--expect-silent]

EVENTS are stash53 NDJSON events (one object per line) with `qname`, `msg_type`
("query"/"response"), `event_class` ("security"/"network") and `security_reasons` (a list of
reason names). An event is a detection when `event_class` is "security"; the TXT/ANY reasons
(`txt-query`, `any-query`) count as detections too. Events are matched to label rows by
(qname, msg_type), in order (see load_labels); name an events file after its trace
(tunnel.ndjson) or pass it as TRACE=FILE to match it against that trace's rows only. Events
without a label (other traffic) are counted and left out of the scores.

Prints, per family and overall, messages, detections, recall (malicious families) or the
false-positive rate (benign families), and per reason how often it fired on malicious and on
benign messages (its precision). Exit status: 0 when the thresholds hold, 1 when --min-recall
or --min-precision is not met (overall) or --expect-silent is given and a heuristic reason
(anything but txt-query/any-query) fired on any event; 2 for bad input.
"""

import argparse
import collections
import json
import os
import sys

SEED_REASONS = {"txt-query", "any-query"}


def load_labels(path):
    """The label rows, as FIFO queues per (trace, qname, msg_type) and per (qname, msg_type).

    stash53 writes events in capture order and make_traces.py writes rows in capture order,
    so the n-th event with a given qname and msg_type is the n-th such row: matching through
    queues pairs them exactly, even when one name occurs in several families.
    """
    by_trace, anywhere = collections.defaultdict(collections.deque), \
        collections.defaultdict(collections.deque)
    traces = set()
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        col = {name: i for i, name in enumerate(header)}
        for need in ("qname", "msg_type", "label", "family"):
            if need not in col:
                sys.exit("evaluate: %s: no column %r" % (path, need))
        for line in f:
            v = line.rstrip("\n").split("\t")
            trace = v[col["trace"]] if "trace" in col else ""
            traces.add(trace)
            val = (v[col["label"]], v[col["family"]])
            by_trace[(trace, v[col["qname"]], v[col["msg_type"]])].append(val)
            anywhere[(v[col["qname"]], v[col["msg_type"]])].append(val)
    return by_trace, anywhere, traces


def trace_of(path, traces):
    """The trace an events file belongs to: `TRACE=FILE`, or a file named after the trace
    (tunnel.ndjson, benign-run2.ndjson); None matches rows of any trace."""
    if "=" in path and path.split("=", 1)[0] in traces:
        return path.split("=", 1)
    base = os.path.basename(path)
    for t in sorted(traces, key=len, reverse=True):
        if t and base.startswith(t):
            return t, path
    return None, path


def take(queue):
    """The next row of a queue; the last one again once it is used up (repeated runs)."""
    return queue.popleft() if len(queue) > 1 else queue[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labels", required=True)
    ap.add_argument("--min-recall", type=float)
    ap.add_argument("--min-precision", type=float)
    ap.add_argument("--expect-silent", action="store_true",
                    help="fail if any heuristic reason fired (for benign traces)")
    ap.add_argument("events", nargs="+")
    args = ap.parse_args()

    by_trace, anywhere, traces = load_labels(args.labels)
    fam = collections.defaultdict(lambda: [0, 0])  # family -> [messages, detections]
    fam_label = {}
    reason_hits = collections.defaultdict(lambda: [0, 0])  # reason -> [malicious, benign]
    tp = fp = fn = tn = 0
    unlabelled = 0
    heuristic_fired = collections.Counter()
    for arg in args.events:
        trace, path = trace_of(arg, traces)
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    ev = json.loads(line)
                except ValueError as e:
                    sys.exit("evaluate: %s:%d: %s" % (path, n, e))
                reasons = ev.get("security_reasons") or []
                detected = ev.get("event_class") == "security" or bool(reasons)
                for r in reasons:
                    if r not in SEED_REASONS:
                        heuristic_fired[r] += 1
                key = (ev.get("qname", ""), ev.get("msg_type", ""))
                queue = by_trace.get((trace,) + key) if trace is not None else anywhere.get(key)
                if not queue:
                    unlabelled += 1
                    continue
                label, family = take(queue)
                fam_label[family] = label
                fam[family][0] += 1
                fam[family][1] += detected
                malicious = label == "malicious"
                for r in reasons:
                    reason_hits[r][0 if malicious else 1] += 1
                if malicious:
                    tp += detected
                    fn += not detected
                else:
                    fp += detected
                    tn += not detected

    print("%-16s %-9s %8s %8s %8s" % ("family", "label", "messages", "flagged", "rate"))
    for family in sorted(fam, key=lambda k: (fam_label[k] != "malicious", k)):
        total, hits = fam[family]
        what = "recall" if fam_label[family] == "malicious" else "fp-rate"
        print("%-16s %-9s %8d %8d %7.1f%% %s" % (family, fam_label[family], total, hits,
                                                100.0 * hits / total if total else 0.0, what))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    print()
    print("overall: precision %.4f  recall %.4f  (tp %d fp %d fn %d tn %d; %d events without a "
          "label)" % (precision, recall, tp, fp, fn, tn, unlabelled))
    print()
    print("%-20s %10s %10s %10s" % ("reason", "malicious", "benign", "precision"))
    for r in sorted(reason_hits):
        m, b = reason_hits[r]
        print("%-20s %10d %10d %9.1f%%" % (r, m, b, 100.0 * m / (m + b) if m + b else 0.0))

    status = 0
    if args.min_recall is not None and recall < args.min_recall:
        print("FAIL: recall %.4f < %.4f" % (recall, args.min_recall))
        status = 1
    if args.min_precision is not None and precision < args.min_precision:
        print("FAIL: precision %.4f < %.4f" % (precision, args.min_precision))
        status = 1
    if args.expect_silent and heuristic_fired:
        print("FAIL: heuristic reasons fired: " +
              ", ".join("%s=%d" % kv for kv in sorted(heuristic_fired.items())))
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
