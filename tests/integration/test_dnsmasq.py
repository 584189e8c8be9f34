#!/usr/bin/env python3
"""dnsmasq's logs through stash53, against the logs' own independent oracles.

For each file under ../shared/dnsmasq (dnsmasq's own log file, and the same run's syslog as a
traditional file, as RFC 3164 and as RFC 5424 lines), on -r FILE and on -r -:
- the events per kind equal the line counts of formats.txt (one DNS event per query line, one
  DHCP event per DHCP message line, one log event per other line) and the stats line says so;
- every dig in queries.log of that phase is one DNS event with its question, the client it ran
  on, dig's status as rcode and dig's A/AAAA answers as the answered addresses; the only events
  no dig explains come from the server's own loopback;
- the DHCP clients' own record (client-events.log) has the address every DHCPACK gave;
- the NAK and the exhausted pool are alerts (event_class alert), and so are the TXT and ANY
  queries the security classification flags;
- the three syslog forms give the same events (times aside: RFC 5424 has microseconds).
And every mode and format runs on them. Then the live inputs: a log followed while it is
written and rotated (rename, then copy and truncate), syslog datagrams over UDP, and dnstap
with dnsmasq's syslog at once in one stash53.
"""
import argparse
import json
import os
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import framestream  # noqa: E402
from testlib import Background, Failure, free_port, require  # noqa: E402

FILES = {"dnsmasq.log": "file", "syslog/messages.traditional": "syslog",
         "syslog/messages.rfc3164": "syslog", "syslog/messages.rfc5424": "syslog"}
# The namespaces of queries.log and the address each asked from.
CLIENTS = {"dm-c1-s": ("198.51.100.50", "2001:db8:64::c1"), "dm-srv-s": ("127.0.0.1", "::1")}


def run(stash53, args, stdin=None):
    r = subprocess.run([stash53, "--stdout", "--no-enrich", "geoip", *args], input=stdin,
                       capture_output=True, timeout=60)
    require(r.returncode == 0, f"stash53 {args}: exit {r.returncode}\n{r.stderr.decode()[-2000:]}")
    return [json.loads(l) for l in r.stdout.decode().splitlines() if l.strip()], r.stderr.decode()


def format_counts(path):
    """formats.txt: format name → lines, summed over the four files."""
    counts = {}
    for line in open(path):
        m = re.match(r"\s+(\d+)\s+\S+\s+(\S+)$", line)
        if m:
            counts[m.group(2)] = int(m.group(1))
    return counts


def digs(path):
    """queries.log: phase → [{ns, qname, qtype, status, addresses}] for every dig run."""
    phases, phase, cur = {}, None, None
    for line in open(path):
        if m := re.match(r"#### phase (\S+)", line):
            phase = m.group(1)
            phases[phase] = []
        elif m := re.match(r"\+ \[(\S+)\] dig (.*)", line):
            words = m.group(2).split()
            if "-x" in words:
                a = words[words.index("-x") + 1].split(".")
                qname, qtype = ".".join(reversed(a)) + ".in-addr.arpa.", "PTR"
            else:
                plain = [w for w in words if not w.startswith(("+", "@"))]
                qname, qtype = plain[0].rstrip(".") + ".", plain[1]
            cur = {"ns": m.group(1), "qname": qname, "qtype": qtype, "tcp": "+tcp" in words,
                   "server": next(w[1:] for w in words if w.startswith("@")), "addresses": set()}
            phases[phase].append(cur)
        elif line.startswith("+ "):
            cur = None
        elif cur is not None and (m := re.search(r"status: (\w+)", line)):
            cur["status"] = m.group(1)
        elif cur is not None and line.startswith(";; "):
            cur["in_answer"] = line.startswith(";; ANSWER SECTION")
        elif cur is not None and cur.get("in_answer") and (m := re.match(r"\S+\s+\d+\s+IN\s+(A|AAAA)\s+(\S+)$", line)):
            cur["addresses"].add(m.group(2))
    return phases


def check_events(name, events, counts, dig_list, bound):
    queries = [e for e in events if "dnsmasq" in e]
    dhcp = [e for e in events if "dhcp" in e]
    logs = [e for e in events if "log" in e]
    require(len(queries) + len(dhcp) + len(logs) == len(events), f"{name}: an event of no kind")
    require(all(e["source"] == "dnsmasq" for e in events), f"{name}: source")
    want_q = counts["dns.query"] // 4
    want_dhcp = sum(v for k, v in counts.items() if k.startswith(("dhcp4.", "dhcp6.", "ra."))) // 4
    want_log = sum(v for k, v in counts.items() if k.startswith("info.")) // 4
    require((len(queries), len(dhcp), len(logs)) == (want_q, want_dhcp, want_log),
            f"{name}: {len(queries)} queries, {len(dhcp)} DHCP, {len(logs)} log events; "
            f"formats.txt says {want_q}, {want_dhcp}, {want_log}")

    unused = list(queries)
    for d in dig_list:
        client = CLIENTS[d["ns"]][":" in d["server"]]
        found = [e for e in unused if e["qname"].lower() == d["qname"].lower() and e["qtype"] == d["qtype"]
                 and e.get("s_addr") == client]
        require(found, f"{name}: no event for dig {d['qname']} {d['qtype']} from {client}")
        e = found[0]
        unused.remove(e)
        where = f"{name}: {d['qname']} {d['qtype']} (n={e['n']})"
        require(e["rcode"] == d["status"], f"{where}: rcode {e['rcode']}, dig said {d['status']}")
        mine = {a["value"] for a in e["dnsmasq"]["answers"] if a["kind"] in ("IPv4", "IPv6")}
        require(mine == d["addresses"], f"{where}: addresses {mine}, dig got {d['addresses']}")
    # TXT and ANY queries are alerts exactly when the security classification's LogZilla rule
    # flags them (it spares e.g. a TXT question for a registered domain itself: SPF).
    for e in queries:
        reasons = set(e.get("security_reasons", [])) & {"txt-query", "any-query"}
        require(e.get("alert") == (min(reasons) if reasons else None), f"{name}: n={e['n']} alert {e.get('alert')}")
    require({e.get("alert") for e in queries} >= {"txt-query", "any-query"}, f"{name}: no TXT and ANY alerts")
    require(all(e.get("s_addr") in ("127.0.0.1", "::1") for e in unused),
            f"{name}: events no dig explains: {[(e['qname'], e.get('s_addr')) for e in unused]}")

    acks = [e["dhcp"] for e in dhcp if e["dhcp"]["message_type"] == "DHCPACK"]
    require(acks and all(a["ip"] in bound for a in acks), f"{name}: DHCPACK addresses {[a['ip'] for a in acks]} vs {bound}")
    naks = [e for e in dhcp if e["dhcp"]["message_type"] == "DHCPNAK"]
    require(naks and all(e["alert"] == "dhcp-nak" and e["event_class"] == "alert"
                         and e["dhcp"]["reason"] == "wrong network" for e in naks), f"{name}: NAK alerts")
    full = [e for e in dhcp if e["dhcp"].get("reason") == "no address available"]
    require(full and all(e["alert"] == "dhcp-pool-exhausted" and e["event_class"] == "alert" for e in full),
            f"{name}: pool exhaustion alerts")
    require(all(e["event_class"] in ("dhcp", "alert") for e in dhcp) and
            all(e["event_class"] == "log" for e in logs if "alert" not in e), f"{name}: event_class")
    return len(unused)


def without_times(events):
    """The events as a sorted list, without what differs between the forms: the fraction of the
    time, the host, and so the order in which held queries completed (and their `n`)."""
    out = []
    for e in events:
        e = dict(e, **{"@timestamp": e["@timestamp"][:19]})
        e.pop("n")
        for block in ("dnsmasq", "dhcp", "log"):
            if block in e:
                e[block] = {k: v for k, v in e[block].items() if k != "host"}
        out.append(json.dumps(e, sort_keys=True))
    return sorted(out)


def test_follow(stash53, dnsmasq_dir, workdir):
    """A log written line by line, rotated by rename and then by copy and truncate while
    stash53 follows it: the same events as reading the whole file, no line lost or doubled."""
    src = os.path.join(dnsmasq_dir, "dnsmasq.log")
    whole, _ = run(stash53, ["-r", src])
    lines = open(src).readlines()
    log = os.path.join(workdir, "follow.log")
    open(log, "w").close()
    s = Background(stash53, ["-r", log, "--follow"], workdir)
    s.wait_log("following it")
    third = len(lines) // 3
    with open(log, "a") as f:
        for line in lines[:third]:
            f.write(line)
            f.flush()
    time.sleep(0.3)
    os.rename(log, log + ".1")  # logrotate's default: rename, then the writer reopens
    with open(log, "a") as f:
        for line in lines[third:2 * third]:
            f.write(line[:20])  # a line written in two parts
            f.flush()
            f.write(line[20:])
            f.flush()
    s.wait_log("was rotated")
    time.sleep(0.3)
    with open(log, "r+") as f:  # copytruncate, with the writer idle
        open(log + ".2", "w").write(f.read())
        f.truncate(0)
    s.wait_log("was truncated")
    with open(log, "a") as f:
        f.writelines(lines[2 * third:])
    deadline = time.monotonic() + 20
    while sum(1 for _ in open(s.out)) < len(whole) - 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    events, err = s.stop()
    require(without_times(events) == without_times(whole),
            f"follow: {len(events)} events, the whole file gives {len(whole)}")
    stats = [l for l in err.splitlines() if "component=stats" in l][-1]
    require("rotations=1" in stats and "truncations=1" in stats, f"follow: {stats[:300]}")
    print(f"ok   --follow across a rename and a copytruncate: the {len(events)} events of the whole file")


def test_syslog_udp(stash53, dnsmasq_dir, workdir):
    """RFC 5424 and RFC 3164 lines as UDP datagrams, as rsyslog forwards them."""
    for f in ("messages.rfc5424", "messages.rfc3164"):
        path = os.path.join(dnsmasq_dir, "syslog", f)
        want, _ = run(stash53, ["-r", path])
        port = free_port()
        s = Background(stash53, ["--syslog-listen", f"127.0.0.1:{port}"], workdir)
        s.wait_log("Listening for dnsmasq's syslog")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            for line in open(path, "rb"):
                u.sendto(line.rstrip(b"\n"), ("127.0.0.1", port))
                time.sleep(0.001)
        time.sleep(1)
        events, err = s.stop()
        require(without_times(events) == without_times(want), f"{f} over UDP: {len(events)} events, want {len(want)}")
        require("datagrams=190" in err, f"{f}: datagrams")
        print(f"ok   {f} over UDP: the same {len(events)} events as the file")


def test_two_sources(stash53, dnsmasq_dir, workdir):
    """dnstap and dnsmasq's syslog on one host, at once, in one stash53."""
    dnstap_file = os.path.join(dnsmasq_dir, "..", "dnstap", "socket", "knot-auth.dnstap")
    frames = framestream.file_frames(dnstap_file)
    path = os.path.join(dnsmasq_dir, "syslog", "messages.rfc5424")
    want, _ = run(stash53, ["-r", path])
    port, sock = free_port(), os.path.join(workdir, "dnstap.sock")
    s = Background(stash53, ["--dnstap-socket", sock, "--syslog-listen", f"127.0.0.1:{port}"], workdir)
    s.wait_log("Listening for dnstap")
    s.wait_log("Listening for dnsmasq's syslog")
    w = framestream.Writer(sock)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        for i, line in enumerate(open(path, "rb")):
            u.sendto(line.rstrip(b"\n"), ("127.0.0.1", port))
            if i < len(frames):
                w.send(frames[i:i + 1])
            time.sleep(0.001)
    require(w.finish(), "dnstap writer: no FINISH")
    time.sleep(1)
    events, _ = s.stop()
    tap = [e for e in events if e["source"] == "dnstap"]
    logs = [e for e in events if e["source"] == "dnsmasq"]
    require(len(tap) == len(frames) and without_times(logs) == without_times(want),
            f"two sources: {len(tap)} dnstap events of {len(frames)}, {len(logs)} dnsmasq of {len(want)}")
    print(f"ok   dnstap and dnsmasq syslog at once: {len(tap)} + {len(logs)} events")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stash53", required=True)
    ap.add_argument("--dnsmasq", required=True, help="../shared/dnsmasq")
    ap.add_argument("--workdir", required=True)
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    try:
        counts = format_counts(os.path.join(a.dnsmasq, "formats.txt"))
        phases = digs(os.path.join(a.dnsmasq, "queries.log"))
        bound = set(re.findall(r"(?:bound|BOUND|renew) ip=(\S+)", open(os.path.join(a.dnsmasq, "client-events.log")).read()))
        syslog_events = []
        for f, phase in FILES.items():
            path = os.path.join(a.dnsmasq, f)
            events, err = run(a.stash53, ["-r", path])
            piped, _ = run(a.stash53, ["-r", "-"], stdin=open(path, "rb").read())
            require(piped == events, f"{f}: -r - gives other events than -r FILE")
            probes = check_events(f, events, counts, phases[phase], bound)
            stats = [l for l in err.splitlines() if "component=stats" in l][-1]
            require(f"lines={sum(counts.values()) // 4} " in stats and "unknown=" not in stats,
                    f"{f}: stats line {stats[:300]}")
            if phase == "syslog":
                syslog_events.append(without_times(events))
            print(f"ok   {f}: {len(events)} events, every dig, DHCPACK, NAK and full pool checked"
                  f" ({probes} query from the server's loopback that no dig made)")
        require(syslog_events[0] == syslog_events[1] == syslog_events[2],
                "the three syslog forms give different events")
        print("ok   traditional, RFC 3164 and RFC 5424: the same events")
        path = os.path.join(a.dnsmasq, "dnsmasq.log")
        for mode, fmt in (("transaction", "json"), ("record", "json"), ("message", "ecs"),
                          ("transaction", "ecs"), ("message", "stash53")):
            docs, err = run(a.stash53, ["-r", path, "--mode", mode, "--format", fmt])
            want = 0 if fmt == "stash53" else 48  # the stash53 format has no log events
            require(len(docs) == want and f"output:{mode}/{fmt} documents={want}" in err,
                    f"{mode}/{fmt}: {len(docs)} documents")
        print("ok   every mode and format")
        # Alerts are routed like any event: a filter on `alert`, a key template naming it.
        conf, out = os.path.join(a.workdir, "alerts.yml"), os.path.join(a.workdir, "alerts.ndjson")
        if os.path.exists(out):
            os.unlink(out)
        open(conf, "w").write(f"emitters:\n  - type: file\n    path: {out}\n"
                              "    filter: {alert: [dhcp-nak, dhcp-pool-exhausted, service-error]}\n")
        r = subprocess.run([a.stash53, "-c", conf, "-r", path, "--no-enrich", "geoip"], capture_output=True, timeout=60)
        require(r.returncode == 0, f"alert filter: exit {r.returncode} {r.stderr.decode()[-500:]}")
        alerts = [json.loads(l) for l in open(out)]
        every, _ = run(a.stash53, ["-r", path])
        want = [e for e in every if e.get("alert") in ("dhcp-nak", "dhcp-pool-exhausted", "service-error")]
        require(len(alerts) == len(want) >= 3 and all(e["event_class"] == "alert" for e in alerts),
                f"alert filter: {len(alerts)} of {len(want)}")
        print(f"ok   a filter on alert passes the {len(alerts)} DHCP alerts")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
            taken.bind(("127.0.0.1", 0))
            port = taken.getsockname()[1]
            r = subprocess.run([a.stash53, "--syslog-listen", f"127.0.0.1:{port}", "--check-config"],
                               capture_output=True, text=True, timeout=30)
            require(r.returncode == 1 and "capture.dnsmasq.syslog_listen" in r.stderr and "in use" in r.stderr,
                    f"--check-config with a taken syslog port: exit {r.returncode} {r.stderr[-300:]}")
        print("ok   --check-config names a taken syslog port")
        test_follow(a.stash53, a.dnsmasq, a.workdir)
        test_syslog_udp(a.stash53, a.dnsmasq, a.workdir)
        test_two_sources(a.stash53, a.dnsmasq, a.workdir)
    except Failure as e:
        print(f"FAIL {e}")
        return 1
    finally:
        Background.stop_all()
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
