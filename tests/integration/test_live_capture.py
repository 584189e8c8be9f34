#!/usr/bin/python3
"""Live capture: `stash53 -i lo` watches kdig talk to a real nsd on a private loopback.

Usage: test_live_capture.py --stash53 PATH --workdir DIR [--workers N]   (as root)

The script re-executes itself inside `unshare --net`, so nsd may bind port 53 and lo carries
nothing but the test's own traffic. Every event is checked against kdig's own view of the
exchange (`+qr` prints the query it sent, then the response it got); kdig binds a fixed
source port per exchange, so the ports are known too.
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from testlib import Failure, require

NETNS_MARK = "STASH53_TEST_NETNS"
SERVERS = {4: "127.0.0.1", 6: "::1"}

ZONE_NAME = "example.test"
ZONE = """\
$ORIGIN example.test.
$TTL 300
@    3600  IN SOA   ns1.example.test. hostmaster.example.test. 2024010101 7200 3600 1209600 300
@    86400 IN NS    ns1.example.test.
ns1        IN A     127.0.0.1
ns1        IN AAAA  ::1
@          IN A     192.0.2.10
@          IN AAAA  2001:db8::10
@          IN MX    10 mx1.example.test.
mx1        IN A     192.0.2.25
@          IN TXT   "v=spf1 -all" "second string"
www        IN CNAME web.example.test.
web  600   IN CNAME lb.example.test.
lb         IN A     192.0.2.20
lb         IN AAAA  2001:db8::20
"""

# (transport, IP version, qname, qtype, extra kdig options). Each gets its own client port.
EXCHANGES = [
    ("udp", 4, "example.test.", "A", ()),
    ("udp", 4, "www.example.test.", "AAAA", ()),  # CNAME chain
    ("udp", 4, "example.test.", "MX", ()),
    ("udp", 4, "example.test.", "TXT", ()),  # two strings
    ("udp", 4, "example.test.", "SOA", ()),
    ("udp", 4, "nope.example.test.", "A", ()),  # NXDOMAIN
    ("udp", 4, "example.test.", "NS", ("+bufsize=1232",)),  # EDNS both ways
    ("udp", 6, "lb.example.test.", "AAAA", ()),
    ("udp", 6, "www.example.test.", "A", ("+dnssec",)),  # DO bit
    ("udp", 6, "missing.example.test.", "TXT", ()),  # NXDOMAIN
    ("tcp", 4, "www.example.test.", "A", ()),
    ("tcp", 4, "example.test.", "TXT", ()),
    ("tcp", 4, "nope.example.test.", "MX", ()),  # NXDOMAIN
    ("tcp", 6, "example.test.", "MX", ()),
    ("tcp", 6, "example.test.", "AAAA", ()),
]
# Below the kernel's ephemeral range (32768-60999), so nothing else on lo uses them.
EXCHANGE_PORT0 = 20000
PROBE_PORT0 = 19000


def enter_netns():
    """Re-execs this script under `unshare --net` (once), then brings the private lo up."""
    if os.environ.get(NETNS_MARK) != "1":
        require(os.geteuid() == 0, "must run as root (unshare --net, nsd on port 53)")
        os.environ[NETNS_MARK] = "1"
        os.execvp("unshare", ["unshare", "--net", "--", sys.executable, *sys.argv])
    # Guard against a leaked marker: never start servers in the host's namespace.
    with open("/proc/self/net/dev") as f:
        ifaces = [line.split(":")[0].strip() for line in f.readlines()[2:]]
    require(ifaces == ["lo"], f"not in a private network namespace (interfaces: {ifaces})")
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)


def stop(proc, sig=signal.SIGTERM, timeout=5.0):
    """Stops one process we started, by its PID. Returns its exit status, or None when it
    ignored `sig` for `timeout` seconds and had to be killed."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return None
    return proc.returncode


def kdig(args, timeout=5):
    r = subprocess.run(["kdig", "+timeout=1", "+retry=0", *args],
                       capture_output=True, text=True, timeout=timeout)
    return r.returncode, r.stdout + r.stderr


def start_nsd(workdir, zone_name, zone_text):
    """Starts nsd in the foreground on 127.0.0.1 and ::1 port 53; returns once both answer."""
    workdir = os.path.abspath(workdir)
    with open(os.path.join(workdir, "zone.db"), "w") as f:
        f.write(zone_text)
    conf = os.path.join(workdir, "nsd.conf")
    # Runs as root with no chroot and no user switch; every state file stays in workdir.
    with open(conf, "w") as f:
        f.write(f"""server:
    ip-address: 127.0.0.1
    ip-address: ::1
    port: 53
    username: ""
    chroot: ""
    database: ""
    zonesdir: "{workdir}"
    pidfile: "{workdir}/nsd.pid"
    zonelistfile: "{workdir}/nsd.zonelist"
    xfrdfile: "{workdir}/nsd.xfrd"
    xfrdir: "{workdir}"
    server-count: 1
    rrl-ratelimit: 0
    verbosity: 1
remote-control:
    control-enable: no
zone:
    name: {zone_name}
    zonefile: zone.db
""")
    log = os.path.join(workdir, "nsd.log")
    with open(log, "w") as f:
        proc = subprocess.Popen(["nsd", "-d", "-c", conf], stdout=f, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 5
        pending = set(SERVERS.values())
        while pending and time.monotonic() < deadline:
            require(proc.poll() is None, f"nsd exited with {proc.returncode}, see {log}")
            for server in list(pending):
                rc, out = kdig([f"@{server}", zone_name, "SOA", "+short"])
                if rc == 0 and out.strip():
                    pending.discard(server)
            time.sleep(0.05)
        require(not pending, f"nsd did not answer on {sorted(pending)} within 5 s, see {log}")
        return proc
    except BaseException:
        stop(proc)
        raise


def read_events(path):
    """All complete event lines so far (a trailing partial line is left for later)."""
    with open(path, "rb") as f:
        data = f.read()
    events = []
    for i, line in enumerate(data.split(b"\n")[:-1], 1):
        try:
            events.append(json.loads(line))
        except ValueError as e:
            raise Failure(f"event line {i} is not JSON ({e}): {line[:200]!r}")
    return events


def client_port(ev):
    return ev.get("d_port") if ev.get("s_port") == 53 else ev.get("s_port")


def wait_for_port(path, port, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if any(client_port(ev) == port for ev in read_events(path)):
            return True
        time.sleep(0.02)
    return False


def wait_capturing(sniffer, events_path):
    """Returns once the event of a probe exchange shows up; returns the probes' client ports."""
    probes = []
    for k in range(20):
        require(sniffer.poll() is None, f"stash53 exited early with {sniffer.returncode}")
        port = PROBE_PORT0 + k
        probes.append(port)
        kdig([f"-b127.0.0.1#{port}", "@127.0.0.1", ZONE_NAME, "SOA"])
        if wait_for_port(events_path, port, 0.5):
            return probes
    raise Failure("no event for any probe query within 20 tries (~10 s): "
                  "stash53 is not capturing on lo, or not flushing its output")


RR_RE = re.compile(r"^(\S+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(.*)$")


def parse_kdig(text):
    """Splits kdig `+qr` text output into messages: header, flags, counts, edns, question, RRs."""
    msgs, section = [], None
    for line in text.splitlines():
        if m := re.match(r";; ->>HEADER<<- opcode: (\S+); status: (\S+); id: (\d+)", line):
            msg = {"opcode": m[1], "rcode": m[2], "id": int(m[3]), "edns": None,
                   "answers": [], "authorities": [], "additionals": []}
            msgs.append(msg)
            section = None
        elif m := re.match(r";; Flags:([^;]*); QUERY: (\d+); ANSWER: (\d+); "
                           r"AUTHORITY: (\d+); ADDITIONAL: (\d+)", line):
            msg["flags"] = set(m[1].split())
            msg["counts"] = [int(m[i]) for i in range(2, 6)]
        elif m := re.match(r";; Version: (\d+); flags:([^;]*); UDP size: (\d+) B", line):
            msg["edns"] = {"version": int(m[1]), "do": "do" in m[2].split(),
                           "udp_size": int(m[3])}
        elif m := re.match(r";; (\w+) SECTION:", line):
            section = {"QUESTION": "question", "ANSWER": "answers", "AUTHORITY": "authorities",
                       "ADDITIONAL": "additionals"}.get(m[1])
        elif section == "question" and line.startswith(";; "):
            qname, qclass, qtype = line[3:].split()
            msg["question"] = (qname, qclass, qtype)
        elif section in ("answers", "authorities", "additionals") and (m := RR_RE.match(line)):
            msg[section].append({"name": m[1], "type": m[4], "class": m[3], "ttl": int(m[2]),
                                 "data": m[5]})
    return msgs


def expected_event(msg, *, response, transport, addr, port):
    """The event fields the spec implies for one message as kdig printed it. On loopback the
    client and the server share one address; the client uses `port`."""
    qname, qclass, qtype = msg["question"]
    s_port, d_port = (53, port) if response else (port, 53)
    return {
        "nsid": "live", "s_addr": addr, "s_port": s_port, "d_addr": addr, "d_port": d_port,
        "ipv6": ":" in addr, "transport": transport, "id": msg["id"],
        "msg_type": "response" if response else "query", "opcode": msg["opcode"],
        "rcode": msg["rcode"], "error": msg["rcode"] != "NOERROR",
        "flags": {f: f in msg["flags"] for f in ("aa", "tc", "rd", "ra", "ad", "cd")},
        "qname": qname, "qtype": qtype, "qclass": qclass,
        "qdcount": msg["counts"][0], "ancount": msg["counts"][1],
        "nscount": msg["counts"][2], "arcount": msg["counts"][3],
        "answers": msg["answers"], "authorities": msg["authorities"],
        "additionals": msg["additionals"], "tld": qname.rstrip(".").split(".")[-1].lower(),
    }


def compare(ev, want, msg, label):
    errors = [f"{k}: event {ev.get(k, '<absent>')!r}, expected {v!r}"
              for k, v in want.items() if ev.get(k, "<absent>") != v]
    if msg["edns"] is None:
        if "edns" in ev:
            errors.append(f"edns: event {ev['edns']!r}, but the message has no OPT")
    else:
        got = {k: ev.get("edns", {}).get(k) for k in msg["edns"]}
        if got != msg["edns"]:
            errors.append(f"edns: event {ev.get('edns')!r}, kdig {msg['edns']!r}")
    if "malformed" in ev:
        errors.append(f"malformed: {ev['malformed']!r} on a clean message")
    require(not errors, f"{label} (n={ev.get('n')}):\n    " + "\n    ".join(errors))


def check_timestamp(ev, t0, t1):
    ts = ev.get("@timestamp", "")
    require(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", ts),
            f"n={ev.get('n')}: bad @timestamp {ts!r}")
    t = datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()
    require(t0 - 1 <= t <= t1 + 1, f"n={ev.get('n')}: @timestamp {ts} outside the test's run")


def run(args):
    os.makedirs(args.workdir, exist_ok=True)
    events_path = os.path.join(args.workdir, "live.ndjson")
    stderr_path = os.path.join(args.workdir, "live.stderr")
    nsd = start_nsd(args.workdir, ZONE_NAME, ZONE)
    sniffer = None
    try:
        t0 = time.time()
        with open(events_path, "wb") as out, open(stderr_path, "wb") as err:
            sniffer = subprocess.Popen([args.stash53, "-i", "lo", "-N", "live",
                                        "--workers", str(args.workers)], stdout=out, stderr=err)
        probes = wait_capturing(sniffer, events_path)

        exchanges = []
        for i, (transport, family, qname, qtype, extra) in enumerate(EXCHANGES):
            client, port = SERVERS[family], EXCHANGE_PORT0 + i
            opts = [f"-b{client}#{port}", f"@{client}", qname, qtype, *extra,
                    "+noall", "+qr", "+header", "+comments", "+opt", "+question", "+answer",
                    "+authority", "+additional"] + (["+tcp"] if transport == "tcp" else [])
            rc, out = kdig(opts)
            msgs = parse_kdig(out)
            require(rc == 0 and len(msgs) == 2, f"kdig {' '.join(opts)} failed:\n{out}")
            exchanges.append((transport, client, port, msgs))
        # All earlier packets are processed once the last response is out (events keep order).
        if not wait_for_port(events_path, exchanges[-1][2], 5):
            print("warning: last exchange not seen within 5 s, stopping anyway", file=sys.stderr)
        t1 = time.time()
        rc = stop(sniffer, signal.SIGINT)
        require(rc is not None, "stash53 did not exit within 5 s of SIGINT")
        require(rc == 0, f"stash53 exited with {rc} after SIGINT")

        with open(events_path, "rb") as f:
            data = f.read()
        require(data.endswith(b"\n"), "the last event line is not terminated")
        events = read_events(events_path)
        ns = [ev.get("n") for ev in events]
        if args.workers > 1:  # each worker's events in order, not all of them
            ns.sort()
        require(ns == list(range(1, len(events) + 1)),
                f"n is not 1..{len(events)} without gaps: {ns[:40]}")
        for ev in events:
            require(ev.get("nsid") == "live", f"n={ev.get('n')}: nsid {ev.get('nsid')!r}")
            check_timestamp(ev, t0, t1)
        by_port = {}
        for ev in events:
            by_port.setdefault(client_port(ev), []).append(ev)
        known = set(probes) | {port for _, _, port, _ in exchanges}
        stray = [ev for ev in events if client_port(ev) not in known]
        require(not stray, f"events that belong to no exchange: {stray[:3]}")

        for transport, client, port, (query, response) in exchanges:
            label = f"{transport} {client}#{port} {query['question'][0]} {query['question'][2]}"
            evs = by_port.get(port, [])
            kinds = [ev.get("msg_type") for ev in evs]
            require(kinds == ["query", "response"],
                    f"{label}: want one query then one response event, got {kinds}")
            kw = dict(transport=transport, addr=client, port=port)
            compare(evs[0], expected_event(query, response=False, **kw), query, label + " query")
            compare(evs[1], expected_event(response, response=True, **kw), response,
                    label + " response")
        print(f"ok: {len(exchanges)} exchanges, {len(events)} events, "
              f"{len(probes)} probe(s) before capture was confirmed")
    finally:
        if sniffer is not None:
            stop(sniffer, signal.SIGKILL)
        stop(nsd)


def on_alarm(*_):
    # Raised wherever the test hangs, so the finally blocks still stop the servers.
    raise Failure("timed out")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stash53", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--workers", type=int, default=1, help="stash53's --workers")
    args = ap.parse_args()
    args.stash53 = os.path.abspath(args.stash53)
    signal.signal(signal.SIGALRM, on_alarm)
    try:
        enter_netns()
        signal.alarm(28)
        run(args)
    except (Failure, subprocess.SubprocessError, OSError) as e:
        print(f"FAIL: {e}\n(stash53 output, stderr and nsd log are in {args.workdir})",
              file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
