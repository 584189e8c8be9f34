#!/usr/bin/python3
"""Live dnstap: BIND, Unbound, Knot and dnsdist write dnstap into `stash53 --dnstap-socket`.

Usage: test_dnstap_live.py --stash53 PATH --workdir DIR   (as root)

Re-executes itself inside `unshare --net`, so the servers may bind port 53 on a private lo.
Each server runs a minimal config around its snippet from deploy/dnstap/ and writes to a stash53
of its own. Oracles: kdig `+qr` (each exchange is exactly one query and one response event, with
kdig's view of them) and a tcpdump of the same run, read by tshark (every DNS message the snippet
covers is exactly one event, and every event one message). Then robustness with Knot and writers
of the test's own, and all servers on one stash53 that is restarted: each must reconnect by itself.
A server that is not installed, or lacks dnstap, is skipped (SKIP line).
"""
import argparse
import glob
import json
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timezone

import framestream
from framestream import READY, START, STOP, control_frame, data_frames, dns_query
from test_live_capture import enter_netns, kdig, parse_kdig, read_events, stop
from testlib import Failure, require

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "oracle"))
import oracle  # noqa: E402

SNIPPETS = os.path.join(HERE, "..", "..", "deploy", "dnstap")
PLACEHOLDER = "/run/stash53/dnstap.sock"
ADDR = {"bind": ("127.0.1.1", "2001:db8:1::1"), "nsd": ("127.0.1.2", "2001:db8:1::2"),
        "unbound": ("127.0.1.3", "2001:db8:1::3"), "knot": ("127.0.1.4", "2001:db8:1::4"),
        "dnsdist": ("127.0.1.5", "2001:db8:1::5")}
NSD = ADDR["nsd"]  # the upstream: a fake root, example. and fwd.example.
CLIENT = {4: "127.0.2.1", 6: "2001:db8:2::1"}  # kdig
PROBE = "127.0.2.9"  # readiness probes, left out of the checks
KDIG_PORTS = iter(range(20000, 32768))  # one per exchange, below the ephemeral range
failures, notes = [], []


def check(what, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + what + ("" if ok else f"\n     {detail}"), flush=True)
    if not ok:
        failures.append(what)
    return ok


def note(text):
    print("note " + text, flush=True)
    notes.append(text)


def within(seconds, pred, step=0.02):
    """Whether pred() holds within `seconds`."""
    deadline = time.monotonic() + seconds
    while not pred():
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
    return True


def wait_until(pred, seconds, what, proc=None, step=0.02):
    def ready():
        if proc is not None and proc.poll() is not None:
            raise Failure(f"{what}: process exited with {proc.returncode}")
        return pred()
    require(within(seconds, ready, step), f"{what}: not within {seconds} s")


def kill(*procs):
    for p in procs:
        if p is not None:
            stop(p, signal.SIGKILL)


def unix_connections(path):
    """How many accepted sockets carry `path`, and whether one listens on it."""
    connected, listening = 0, False
    for parts in (line.split() for line in open("/proc/net/unix").readlines()[1:]):
        if len(parts) >= 8 and parts[7] == path:
            if int(parts[3], 16) & 0x10000:  # __SO_ACCEPTCON
                listening = True
            elif parts[5] == "03":  # SS_CONNECTED
                connected += 1
    return connected, listening


def probe(addr, qname, qtype, rd, ports=None):
    """One UDP query from PROBE; True when answered with NOERROR. Its source port goes to `ports`."""
    qid = random.randrange(65536)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((PROBE, 0))
        if ports is not None:
            ports.add(s.getsockname()[1])
        s.settimeout(0.25)
        s.sendto(dns_query(qid, qname, qtype, rd), (addr, 53))
        try:
            data = s.recv(65535)
        except OSError:
            return False
    return len(data) >= 12 and struct.unpack("!H", data[:2])[0] == qid and data[3] & 0xF == 0


def endpoint(ev):
    """The (address, port) of the side that sent the query."""
    side = "d_" if ev.get("msg_type") == "response" else "s_"
    return ev.get(side + "addr"), ev.get(side + "port")


def probed(ev):
    return PROBE in (ev.get("s_addr"), ev.get("d_addr"))


# --------------------------------------------------------------------------------------------
# stash53 and tcpdump

class Stash53:
    def __init__(self, args, sock, name):
        self.out = os.path.join(args.workdir, f"{name}.ndjson")
        self.err = os.path.join(args.workdir, f"{name}.stash53.stderr")
        with open(self.out, "wb") as out, open(self.err, "wb") as err:
            self.proc = subprocess.Popen([args.stash53, "--dnstap-socket", sock, "--stdout", "-N", "dnstap-live"],
                                         stdout=out, stderr=err)
        wait_until(lambda: unix_connections(sock)[1], 5, f"stash53 listening on {sock} (see {self.err})", self.proc)

    def events(self):
        require(self.proc.poll() is None, f"stash53 exited with {self.proc.returncode} (see {self.err})")
        return read_events(self.out)

    def wait_for(self, pred, seconds):
        return within(seconds, lambda: pred(self.events()), 0.05)

    def stop(self):
        name, rc = os.path.basename(self.out), stop(self.proc, signal.SIGTERM, 10)
        check(f"stash53 exits 0 on SIGTERM ({name})", rc == 0,
              f"exit status {rc}; stderr tail: {open(self.err, errors='replace').read()[-1500:]}")
        data = open(self.out, "rb").read()
        check(f"every event line is terminated ({name})", not data or data.endswith(b"\n"), data[-200:])
        return read_events(self.out)


def start_tcpdump(d, name):
    pcap, err = os.path.join(d, f"{name}.pcap"), os.path.join(d, f"{name}.tcpdump.stderr")
    with open(err, "wb") as f:
        proc = subprocess.Popen(["tcpdump", "-i", "lo", "-s", "0", "-U", "--immediate-mode", "-n", "-w", pcap,
                                 "port", "53"], stdout=subprocess.DEVNULL, stderr=f)
    wait_until(lambda: b"listening on" in open(err, "rb").read(), 5, "tcpdump", proc)
    return proc, pcap


def read_wire(pcap):
    """The DNS messages in `pcap` as tshark sees them (tests/oracle: two passes, TCP reassembly)."""
    wire = []
    for r in oracle.run_tshark(pcap):
        if r["id"] != "-":
            wire.append(dict(transport=r["transport"], src=r["src"], sport=int(r["sport"]), dst=r["dst"],
                             dport=int(r["dport"]), id=int(r["id"], 16), qr=r["qr"] == "1",
                             rcode=None if r["rcode"] == "-" else oracle.RCODES[int(r["rcode"])],
                             qname={"<Root>": ".", "-": None}.get(r["qname"], r["qname"] + "."),
                             qtype=None if r["qtype"] == "-" else r["qtype"]))
    return wire


# --------------------------------------------------------------------------------------------
# Servers: a config of the test's own around the snippet, as (files, command)

def zone(origin, *records):
    return f"$ORIGIN {origin}\n$TTL 300\n@ IN SOA ns.nic. hostmaster.nic. 1 3600 600 86400 300\n" + \
        "".join(f"{r}\n" for r in records)


NSD_ZONES = {".": zone(".", "@ NS ns.nic.", f"ns.nic. A {NSD[0]}", f"ns.nic. AAAA {NSD[1]}",
                       "example. NS ns.example.", f"ns.example. A {NSD[0]}", f"ns.example. AAAA {NSD[1]}"),
             "example.": zone("example.", "@ NS ns", f"ns A {NSD[0]}", f"ns AAAA {NSD[1]}", "host A 192.0.2.10",
                              "host AAAA 2001:db8:ffff::10", "mail MX 10 host", 'txt TXT "v=spf1 -all"'),
             "fwd.example.": zone("fwd.example.", "@ NS ns.nic.", "www A 192.0.2.53")}
ROOT_HINTS = f". 3600000 NS ns.nic.\nns.nic. 3600000 A {NSD[0]}\nns.nic. 3600000 AAAA {NSD[1]}\n"
# bind.test and knot.test, served by BIND and Knot themselves
AUTH_ZONES = {s: zone(f"{s}.test.", "@ NS ns", f"ns A {ADDR[s][0]}", f"ns AAAA {ADDR[s][1]}", "@ MX 10 www",
                      "www A 192.0.2.80", "www AAAA 2001:db8:ffff::80", 'www TXT "v=spf1 -all" "second string"',
                      "alias CNAME www") for s in ("bind", "knot")}


def nsd_conf(d):
    v4, v6 = NSD
    conf = f"""server: ip-address: {v4} ip-address: {v6} port: 53 username: "" chroot: "" database: ""
  zonesdir: "{d}" zonelistfile: "{d}/nsd.zonelist" xfrdfile: "{d}/nsd.xfrd" xfrdir: "{d}"
  pidfile: "{d}/nsd.pid" server-count: 1 rrl-ratelimit: 0 verbosity: 1
remote-control: control-enable: no
""" + "".join(f'zone: name: "{z}" zonefile: "{z}zone"\n' for z in NSD_ZONES)
    return {"nsd.conf": conf, **{f"{z}zone": t for z, t in NSD_ZONES.items()}}, ["nsd", "-d", "-c", f"{d}/nsd.conf"]


def named_conf(d, snip):
    v4, v6 = ADDR["bind"]
    conf = f"""options {{ directory "{d}"; pid-file "{d}/named.pid"; session-keyfile "{d}/session.key";
    managed-keys-directory "{d}"; listen-on port 53 {{ {v4}; }}; listen-on-v6 port 53 {{ {v6}; }};
    query-source address {v4}; query-source-v6 address {v6}; recursion yes;
    allow-recursion {{ any; }}; allow-query-cache {{ any; }}; dnssec-validation no; notify no;
{snip}
}};
controls {{ }};
zone "." {{ type hint; file "{d}/root.hints"; }};
zone "bind.test" {{ type primary; file "{d}/bind.test.zone"; }};
zone "fwd.example" {{ type forward; forward only; forwarders {{ {NSD[0]}; }}; }};
"""
    return ({"root.hints": ROOT_HINTS, "bind.test.zone": AUTH_ZONES["bind"], "named.conf": conf},
            ["named", "-g", "-n", "2", "-c", f"{d}/named.conf"])


def unbound_conf(d, snip):
    v4, v6 = ADDR["unbound"]
    conf = f"""server: interface: {v4} interface: {v6} port: 53 outgoing-interface: {v4}
  outgoing-interface: {v6} access-control: 0.0.0.0/0 allow access-control: ::/0 allow
  do-not-query-localhost: no username: "" chroot: "" directory: "{d}" pidfile: "{d}/unbound.pid"
  use-syslog: no verbosity: 1 num-threads: 1 module-config: "iterator" qname-minimisation: yes
  root-hints: "{d}/root.hints" local-zone: "probe.local." static local-data: "probe.local. A 127.0.0.1"
forward-zone: name: "fwd.example" forward-addr: {NSD[0]}
remote-control: control-enable: no
{snip}
"""
    return {"root.hints": ROOT_HINTS, "unbound.conf": conf}, ["unbound", "-d", "-c", f"{d}/unbound.conf"]


def knot_conf(d, snip):
    v4, v6 = ADDR["knot"]
    conf = f"""server:
  rundir: "{d}"
  user: root:root
  listen: [ {v4}@53, {v6}@53 ]
log:
  - target: stderr
    any: info
database:
  storage: "{d}"
{snip}
zone:
  - domain: knot.test
    file: "{d}/knot.test.zone"
    journal-content: none
"""
    return {"knot.test.zone": AUTH_ZONES["knot"], "knot.conf": conf}, ["knotd", "-c", f"{d}/knot.conf"]


def dnsdist_conf(d, snip):
    v4, v6 = ADDR["dnsdist"]
    conf = f"""setLocal("{v4}:53") addLocal("[{v6}]:53") setACL({{"0.0.0.0/0", "::/0"}}) setSecurityPollSuffix("")
newServer({{address="{NSD[0]}:53"}}) getPool(""):setCache(newPacketCache(1000))
{snip}
addAction(QNameRule("spoof.example."), SpoofAction("192.0.2.99"))
"""
    return {"dnsdist.conf": conf}, ["dnsdist", "--supervised", "--disable-syslog", "-C", f"{d}/dnsdist.conf"]


# kdig exchanges, "<transport><IP version> qname qtype [kdig options]"; names under nope. do not exist.
AUTH = ["udp4 www.{z}. A +norec", "udp6 www.{z}. AAAA +norec", "tcp4 {z}. MX +norec",
        "tcp6 www.{z}. TXT +norec", "udp4 alias.{z}. A +norec +bufsize=1232",  # a CNAME, EDNS
        "udp6 nope.{z}. A +norec", "tcp4 nope.{z}. TXT +norec"]
RECURSIVE = ["udp4 host.example. A",  # a cache miss: upstream traffic
             "udp6 host.example. AAAA", "tcp4 mail.example. MX", "tcp6 host.example. A",  # a cache hit
             "udp4 nope.example. A", "udp6 txt.example. TXT +bufsize=1232",
             "udp4 www.fwd.example. A"]  # the forward zone
DNSDIST = ["udp4 host.example. A", "udp4 host.example. A",  # a packet-cache hit
           "udp6 host.example. AAAA", "tcp4 mail.example. MX", "tcp6 txt.example. TXT",
           "udp4 nope.example. A +bufsize=1232", "udp6 spoof.example. A"]  # answered by dnsdist itself
# kind: the type prefix of a client exchange's events, without and with RD; upstream: that of an
# upstream exchange, by qname, for the servers whose snippet logs them.
SPECS = {
    "bind": dict(binary="named", snippet="named.conf", conf=named_conf, probe=("bind.test.", 6, False),
                 identity=r'dnstap-identity\s+"([^"]*)"', version=r"^BIND 9\.18\.",
                 exchanges=[x.format(z="bind.test") for x in AUTH] + RECURSIVE + ["udp4 www.bind.test. A"],
                 kind=("AUTH", "CLIENT"), upstream=lambda q: "RESOLVER"),  # forwarding too, in BIND 9.18
    "unbound": dict(binary="unbound", snippet="unbound.conf", conf=unbound_conf, probe=("probe.local.", 1, True),
                    identity=r'dnstap-identity:\s*"([^"]*)"', version=r"^unbound 1\.", exchanges=RECURSIVE,
                    kind=("CLIENT", "CLIENT"), port_quirk=True,
                    upstream=lambda q: "FORWARDER" if q.endswith("fwd.example.") else "RESOLVER"),
    "knot": dict(binary="knotd", snippet="knot.conf", conf=knot_conf, probe=("knot.test.", 6, False),
                 identity=r'identity:\s*"([^"]*)"', version=r"^Knot DNS 3\.",
                 exchanges=[x.format(z="knot.test") for x in AUTH] + ["udp4 www.knot.test. A"],
                 kind=("AUTH", "AUTH"), upstream=None),
    "dnsdist": dict(binary="dnsdist", snippet="dnsdist.conf", conf=dnsdist_conf, probe=("example.", 6, True),
                    identity=r'DnstapLogAction\("([^"]*)"', version=r"^dnsdist 1\.", exchanges=DNSDIST,
                    kind=("CLIENT", "CLIENT"), upstream=None),
}


def snippet(name, sock):
    file = SPECS[name]["snippet"]
    text = open(os.path.join(SNIPPETS, file)).read()
    require(text.count(PLACEHOLDER) == 1, f"deploy/dnstap/{file}: {PLACEHOLDER} must appear once")
    return text.replace(PLACEHOLDER, sock)


def identity_of(name):
    return re.search(SPECS[name]["identity"], snippet(name, PLACEHOLDER))[1]


def unsupported(name):
    """Why this server cannot run here, or None."""
    binary = SPECS[name]["binary"]
    if not shutil.which(binary):
        return f"{binary} is not installed"
    if name == "knot":
        if not glob.glob("/usr/lib/*/knot/modules-*/dnstap.so") + glob.glob("/usr/lib*/knot/modules-*/dnstap.so"):
            return "Knot's dnstap module is not installed (Debian: knot-module-dnstap)"
        return None
    flag, want = ("--version", "fstrm") if name == "dnsdist" else ("-V", "--enable-dnstap")
    r = subprocess.run([binary, flag], capture_output=True, text=True, timeout=10)
    return None if want in r.stdout + r.stderr else f"{binary} is built without dnstap ({want})"


def launch(name, d, files, cmd):
    """Writes `files` into d and starts `cmd`, its output in d/<name>.log."""
    os.makedirs(d, exist_ok=True)
    for file, text in files.items():
        with open(os.path.join(d, file), "w") as f:
            f.write(text)
    log = os.path.join(d, f"{name}.log")
    with open(log, "ab") as f:
        return subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT), log


def start_server(name, d, sock):
    return launch(name, d, *SPECS[name]["conf"](d, snippet(name, sock)))


def wait_answering(name, proc, log, query=None):
    addr, query = ADDR[name][0], query or SPECS[name]["probe"]
    wait_until(lambda: probe(addr, *query), 15, f"{name} answering (see {log})", proc, 0.05)


def await_probes(reader, names, seconds):
    """Probes each server every 0.3 s until one of these probes is an event. Returns the delay of
    each server that made it, and each server's probe ports. (Earlier probes do not count:
    Unbound keeps what it could not send while disconnected and sends it once reconnected.)"""
    t0, last, seen, ports = time.monotonic(), 0.0, {}, {n: set() for n in names}
    while time.monotonic() < t0 + seconds and len(seen) < len(names):
        if time.monotonic() - last > 0.3:
            for name in set(names) - set(seen):
                probe(ADDR[name][0], *SPECS[name]["probe"], ports=ports[name])
            last = time.monotonic()
        evs = [e for e in reader.events() if probed(e)]
        for name in set(names) - set(seen):
            if any(endpoint(e)[1] in ports[name] for e in evs):
                seen[name] = time.monotonic() - t0
        time.sleep(0.05)
    return seen, ports


def bring_up(name, d, sock, reader):
    """Starts the server; returns once it answers and a probe of it is an event."""
    t0, (proc, log) = time.monotonic(), start_server(name, d, sock)
    try:
        wait_answering(name, proc, log)
        require(await_probes(reader, [name], 8)[0], f"{name} answers, but no probe query became an event within "
                f"8 s ({unix_connections(sock)[0]} connections on {sock}; see {log})")
    except BaseException:
        kill(proc)
        raise
    return proc, log, time.monotonic() - t0


# --------------------------------------------------------------------------------------------
# Checks

ABSENT = object()  # in an expected event: the field must not be there


def run_kdig(name, exchange):
    how, qname, qtype, *opts = exchange.split()
    transport, family = how[:3], int(how[3])
    client, port, server = CLIENT[family], next(KDIG_PORTS), ADDR[name][family == 6]
    args = [f"-b{client}#{port}", f"@{server}", qname, qtype, *opts, *(["+tcp"] if transport == "tcp" else []),
            "+noall", "+qr", "+header", "+comments", "+opt", "+question", "+answer", "+authority", "+additional"]
    rc, out = kdig(args)
    msgs, want_rcode = parse_kdig(out), "NXDOMAIN" if qname.startswith("nope.") else "NOERROR"
    require(rc == 0 and len(msgs) == 2, f"kdig {' '.join(args)} failed:\n{out}")
    require(msgs[1]["rcode"] == want_rcode and bool(msgs[1]["answers"]) == (want_rcode == "NOERROR"),
            f"kdig {' '.join(args)}: rcode {msgs[1]['rcode']} with {len(msgs[1]['answers'])} answers, "
            f"the test's zones mean {want_rcode}:\n{out}")
    return dict(transport=transport, client=client, port=port, server=server, rd="+norec" not in opts,
                query=msgs[0], response=msgs[1], label=f"{exchange} (port {port})")


def answered(exchanges):
    """Whether the events hold the response of each exchange."""
    want = {(ex["client"], ex["port"]) for ex in exchanges}
    return lambda evs: want <= {endpoint(e) for e in evs if e.get("msg_type") == "response"}


def expected(ex, response, kind, identity):
    msg = ex["response" if response else "query"]
    qname, qclass, qtype = msg["question"]
    c, s = (ex["client"], ex["port"]), (ex["server"], 53)
    src, dst = (s, c) if response else (c, s)
    return {"source": "dnstap", "s_addr": src[0], "s_port": src[1], "d_addr": dst[0], "d_port": dst[1],
            "ipv6": ":" in ex["client"], "transport": ex["transport"], "id": msg["id"],
            "msg_type": "response" if response else "query", "opcode": msg["opcode"],
            "rcode": msg["rcode"], "qname": qname, "qtype": qtype, "qclass": qclass,
            "flags": {f: f in msg["flags"] for f in ("aa", "tc", "rd", "ra", "ad", "cd")},
            "answers": msg["answers"], "authorities": msg["authorities"], "additionals": msg["additionals"],
            "edns": ABSENT if msg["edns"] is None else msg["edns"],
            "dnstap": {"identity": identity, "type": f"{kind}_{'RESPONSE' if response else 'QUERY'}",
                       "protocol": ex["transport"], "query_address": c[0], "query_port": c[1],
                       "response_address": s[0], "response_port": 53}}


def check_event(ev, want, label):
    """Compares the fields of `want`, nested one level (dnstap, flags, edns)."""
    errors = []
    for k, v in want.items():
        got = ev.get(k, "<absent>")
        if v is ABSENT:
            if k in ev:
                errors.append(f"{k}: event {got!r}, but the message has none")
        elif isinstance(v, dict) and isinstance(got, dict):
            errors += [f"{k}.{kk}: event {got.get(kk, '<absent>')!r}, expected {vv!r}"
                       for kk, vv in v.items() if got.get(kk, "<absent>") != vv]
        elif got != v:
            errors.append(f"{k}: event {got!r}, expected {v!r}")
    return check(label, not errors, "\n     ".join(errors))


def check_times(ev, label, t0, t1):
    """The message's own time is there and during the test; latency_us exactly when both are."""
    dt, errors = ev.get("dnstap", {}), []
    own = "query_time" if dt.get("type", "").endswith("QUERY") else "response_time"
    try:
        t = datetime.strptime(dt[own], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()
        if not t0 - 5 <= t <= t1 + 5:
            errors.append(f"dnstap.{own} {dt[own]!r} is not during the test")
    except (KeyError, TypeError, ValueError):
        errors.append(f"dnstap.{own} {dt.get(own, '<absent>')!r} is not an RFC 3339 UTC time in µs")
    both, latency = "query_time" in dt and "response_time" in dt, dt.get("latency_us")
    if both != ("latency_us" in dt) or both and not (isinstance(latency, int) and latency >= 0):
        errors.append(f"latency_us {latency!r} with query_time {dt.get('query_time')!r} "
                      f"and response_time {dt.get('response_time')!r}")
    if errors:
        check(label + ": times", False, "; ".join(errors))


def check_exchanges(prefix, events, exchanges, kind, identity, t0, t1):
    """Each kdig exchange is one query and one response event, with kdig's view of them."""
    for ex in exchanges:
        evs = [e for e in events if endpoint(e) == (ex["client"], ex["port"])]
        if check(f"{prefix}: {ex['label']}: one query and one response event",
                 sorted(e.get("msg_type") for e in evs) == ["query", "response"],
                 [e.get("dnstap", {}).get("type") for e in evs]):
            for ev in evs:
                label = f"{prefix}: {ex['label']} {ev['msg_type']}"
                check_event(ev, expected(ex, ev["msg_type"] == "response", kind[ex["rd"]], identity), label)
                check_times(ev, label, t0, t1)


def wire_key(w, loose=False):
    """A wire message's match key; `loose` leaves out the resolver's own port of an upstream one."""
    return (w["transport"], w["src"], None if loose and not w["qr"] else w["sport"],
            w["dst"], None if loose and w["qr"] else w["dport"], w["id"], w["qr"])


def describe(w):
    return f"{w['transport']} {w['src']}#{w['sport']} > {w['dst']}#{w['dport']} id {w['id']} {w['qname']} {w['qtype']}"


def crosscheck(name, events, wire, t0, t1):
    """Every covered DNS message on the wire is exactly one event, and the other way round."""
    spec, addrs = SPECS[name], set(ADDR[name])
    covered, exact, loose = [], {}, {}
    for w in wire:
        client_side = (w["dst"] in addrs and w["dport"] == 53) or (w["src"] in addrs and w["sport"] == 53)
        upstream = (w["src"] in addrs and w["dport"] == 53 and w["dst"] not in addrs) or \
                   (w["dst"] in addrs and w["sport"] == 53 and w["src"] not in addrs)
        if PROBE not in (w["src"], w["dst"]) and (client_side or (upstream and spec["upstream"])):
            covered.append((w, upstream))
            exact.setdefault(wire_key(w), []).append((w, upstream))
            loose.setdefault(wire_key(w, True), []).append((w, upstream))
    matched, extra, quirks, problems = set(), [], [], []
    for ev in (ev for ev in events if not probed(ev)):
        dt = ev.get("dnstap", {})
        e = dict(transport=ev.get("transport"), src=ev.get("s_addr"), sport=ev.get("s_port"), dst=ev.get("d_addr"),
                 dport=ev.get("d_port"), id=ev.get("id"), qr=ev.get("msg_type") == "response")
        cands = [c for c in exact.get(wire_key(e), []) if id(c[0]) not in matched]
        if not cands and spec.get("port_quirk") and dt.get("type", "").startswith(("RESOLVER_", "FORWARDER_")) \
                and (e["dport"] if e["qr"] else e["sport"]) in (53, None):
            # Unbound 1.17 records its own upstream port as 53 over IPv6 and leaves it out over TCP.
            cands = [c for c in loose.get(wire_key(e, True), []) if id(c[0]) not in matched]
            quirks += [f"{dt['type']} {describe(c[0])} as port {dt.get('query_port', '<absent>')}" for c in cands[:1]]
        if not cands:
            extra.append(ev)
            continue
        w, up = cands[0]
        matched.add(id(w))
        if not up:
            continue
        # An upstream message: its content from the wire.
        check_times(ev, f"{name}: upstream {dt.get('type')} id {ev.get('id')}", t0, t1)
        want_type = f"{spec['upstream'](w['qname'])}_{'RESPONSE' if w['qr'] else 'QUERY'}"
        server, errs = w["src"] if w["qr"] else w["dst"], []
        if dt.get("type") != want_type:
            errs.append(f"dnstap.type {dt.get('type')!r}, expected {want_type}")
        if ev.get("qname") != w["qname"] or ev.get("qtype") != w["qtype"] and w["qtype"]:
            errs.append(f"question {ev.get('qname')} {ev.get('qtype')}")
        if w["qr"] and ev.get("rcode") != w["rcode"]:
            errs.append(f"rcode {ev.get('rcode')}, wire {w['rcode']}")
        if (dt.get("response_address"), dt.get("response_port")) != (server, 53):
            errs.append(f"dnstap.response_address/port {dt.get('response_address')}#{dt.get('response_port')}")
        if errs:
            problems.append(f"{describe(w)}: " + "; ".join(errs))
    missing = [f"{describe(w)} qr={w['qr']}" for w, _ in covered if id(w) not in matched]
    n_up = sum(up for _, up in covered)
    check(f"{name}: every covered DNS message on the wire ({len(covered)}, {n_up} upstream) is one event",
          not missing, "\n     ".join(missing[:10]))
    check(f"{name}: every event is one DNS message on the wire", not extra,
          "\n     ".join(json.dumps(e)[:300] for e in extra[:5]))
    if spec["upstream"]:
        check(f"{name}: upstream events ({n_up} on the wire) have the wire's question, rcode, server "
              "and the right type", not problems, "\n     ".join(problems[:10]))
    if quirks:
        note(f"{name}: {len(quirks)} upstream event(s) carry a wrong or missing own port (matched without it): "
             + "; ".join(quirks[:3]) + (" ..." if len(quirks) > 3 else ""))


# --------------------------------------------------------------------------------------------
# Phases: each server against kdig and tcpdump, robustness, reconnect

def run_server(args, name):
    spec, identity, sock = SPECS[name], identity_of(name), os.path.join(args.sockdir, f"{name}.sock")
    reader, d, proc, dump, t0 = Stash53(args, sock, name), os.path.join(args.workdir, name), None, None, time.time()
    try:
        proc, log, ready = bring_up(name, d, sock, reader)
        dump, pcap = start_tcpdump(d, name)
        exchanges = [run_kdig(name, ex) for ex in spec["exchanges"]]
        if not reader.wait_for(answered(exchanges[-1:]), 5):
            note(f"{name}: the last exchange's response was not an event within 5 s; stopping anyway")
        check(f"{name}: stops on SIGTERM", stop(proc, signal.SIGTERM, 15) is not None, f"killed after 15 s, see {log}")
        time.sleep(0.05)  # tcpdump's last packets
        stop(dump)
        events, reader = reader.stop(), None
    finally:
        kill(proc, dump, reader and reader.proc)
    t1 = time.time()
    check(f"{name}: every event says source dnstap and the configured identity {identity!r}",
          all(e.get("source") == "dnstap" and e.get("dnstap", {}).get("identity") == identity for e in events),
          [(e.get("source"), e.get("dnstap", {}).get("identity")) for e in events][:10])
    versions = sorted({str(e.get("dnstap", {}).get("version", "<absent>")) for e in events})
    check(f"{name}: dnstap.version is the server's ({versions})",
          all(re.search(spec["version"], v) for v in versions), versions)
    check_exchanges(name, events, exchanges, spec["kind"], identity, t0, t1)
    crosscheck(name, events, read_wire(pcap), t0, t1)
    zones = sorted({e["dnstap"]["query_zone"] for e in events if "query_zone" in e.get("dnstap", {})})
    print(f"     {name}: first event {ready:.2f} s after start; {len(events)} events "
          f"{dict(Counter(e.get('dnstap', {}).get('type') for e in events))}; query_zone {zones or 'never'}")


def synthetic(identity, seq):
    """Frame `seq` of a writer of the test's own: a query for w<seq>.<identity>.test. A."""
    return framestream.dnstap_auth_query(identity.encode(), b"pywriter", dns_query(seq, f"w{seq}.{identity}.test."),
                                         ("127.0.3.1", 30000 + seq), ("127.0.3.2", 53))


def writer(sock, identity, first, n):
    """A writer that has sent frames first..first+n-1 of `identity`."""
    w = framestream.Writer(sock, timeout=5)
    require(w.accepted and framestream.CONTENT_TYPE in w.accept_types,
            f"{identity}: not ACCEPTed with our content type ({w.accept_types})")
    w.send([synthetic(identity, i) for i in range(first, first + n)])
    return w


def garbage(sock):
    """Misbehaving writers. Returns the connections that are held open."""
    def connect(*steps):  # each step is tried, whatever stash53 made of the ones before
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(2)
        s.connect(sock)
        for step in steps:
            try:
                step(s)
            except (OSError, AssertionError):
                pass
        return s

    rng, other, frame = random.Random(53), b"protobuf:other.Thing", data_frames([synthetic("wrong-content-type", 1)])
    connect(lambda s: s.sendall(bytes(rng.randrange(256) for _ in range(4096)))).close()  # random bytes
    # READY with another content type, then START, a frame and STOP anyway
    connect(lambda s: s.sendall(control_frame(READY, other)), framestream.read_control,
            lambda s: s.sendall(control_frame(START, other) + frame + control_frame(STOP))).close()
    # no handshake: a unidirectional START with another content type, a frame, STOP
    connect(lambda s: s.sendall(control_frame(START, b"text:plain") + frame + control_frame(STOP))).close()
    held = [connect(framestream.handshake, lambda s: s.sendall(payload)) for payload in (
        struct.pack(">I", 0x7FFFFFF0) + b"\x0a\x05hello",  # a frame said to be 2 GB long
        data_frames([b"\xff" * 40, synthetic("after-bad-frame", 1)]) + control_frame(STOP))]  # not protobuf
    return held + [connect()]  # and one that never says anything


def run_robustness(args):
    d, sock = os.path.join(args.workdir, "robust"), os.path.join(args.sockdir, "robust.sock")
    exchanges = ["udp4 www.knot.test. A +norec", "tcp6 knot.test. MX +norec", "udp4 nope.knot.test. A +norec"]
    reader, knot, socks, t0 = Stash53(args, sock, "robust"), None, [], time.time()
    try:
        w1 = writer(sock, "pywriter-1", 1, 5)
        socks.append(w1.sock)
        # Knot's dnstap module connects before Knot answers; the checks of its events show it did.
        knot, log = start_server("knot", d, sock)
        wait_answering("knot", knot, log)
        run1 = [run_kdig("knot", ex) for ex in exchanges]
        check("robust: Knot's events are out before it is killed", reader.wait_for(answered(run1), 5))
        stop(knot, signal.SIGKILL)
        w1.send([synthetic("pywriter-1", i) for i in range(6, 11)])
        check("robust: stash53 runs on after a writer was SIGKILLed", reader.proc.poll() is None)
        socks += garbage(sock)
        w1.send([synthetic("pywriter-1", i) for i in range(11, 16)])
        time.sleep(0.2)
        check("robust: stash53 runs on after the garbage writers", reader.proc.poll() is None)
        knot, log = start_server("knot", d, sock)
        wait_answering("knot", knot, log)
        run2 = [run_kdig("knot", ex) for ex in exchanges]
        check("robust: Knot's events after its restart come out", reader.wait_for(answered(run2), 5))
        half = data_frames([synthetic("pywriter-1", 16)])
        w1.sock.sendall(half[:len(half) // 2])
        time.sleep(0.1)
        w1.close()  # dies mid-frame: its socket closes as on SIGKILL
        w2 = writer(sock, "pywriter-2", 1, 3)
        socks.append(w2.sock)
        try:
            finished = w2.finish()
        except (OSError, AssertionError) as e:
            finished = e
        check("robust: a writer's STOP is answered with FINISH", finished is True, finished)
        for s in socks:
            s.close()
        stop(knot, signal.SIGTERM, 10)
        events, reader = reader.stop(), None
    finally:
        for s in socks:
            s.close()
        kill(knot, reader and reader.proc)
    t1 = time.time()

    def frames_of(identity):
        return [int(m[1]) if (m := re.fullmatch(rf"w(\d+)\.{identity}\.test\.", e.get("qname", ""))) else e.get("qname")
                for e in events if e.get("dnstap", {}).get("identity") == identity]
    check("robust: writer 1's 15 frames, sent around a server kill and garbage writers, are events, "
          "in order; its half frame is not", frames_of("pywriter-1") == list(range(1, 16)), frames_of("pywriter-1"))
    check("robust: a writer connecting after all that is read", frames_of("pywriter-2") == [1, 2, 3],
          frames_of("pywriter-2"))
    first = [e for e in events if e.get("dnstap", {}).get("identity") == "pywriter-1"][:1]
    if first:
        check_event(first[0], {"source": "dnstap", "msg_type": "query", "transport": "udp", "id": 1, "qtype": "A",
                               "s_addr": "127.0.3.1", "s_port": 30001, "d_addr": "127.0.3.2", "d_port": 53,
                               "dnstap": {"identity": "pywriter-1", "version": "pywriter", "type": "AUTH_QUERY",
                                          "protocol": "udp", "query_address": "127.0.3.1", "query_port": 30001,
                                          "response_address": "127.0.3.2", "response_port": 53}},
                    "robust: a synthetic frame's event has every field it carries")
    wrong = [e for e in events if e.get("dnstap", {}).get("identity") == "wrong-content-type"]
    check("robust: frames after a wrong content type are not read as dnstap", not wrong, wrong[:2])
    note("robust: a good frame right after a non-protobuf frame on the same connection was "
         + ("read" if frames_of("after-bad-frame") else "not read (the connection was dropped)"))
    for label, run in (("before the kill", run1), ("after the restart", run2)):
        check_exchanges(f"robust: Knot {label}", events, run, SPECS["knot"]["kind"], identity_of("knot"), t0, t1)
    print(f"     robust: {len(events)} events")


def run_reconnect(args, names):
    """All the servers on one stash53, which is restarted: each writer must come back by itself."""
    sock = os.path.join(args.sockdir, "reconnect.sock")
    reader, procs = Stash53(args, sock, "reconnect-1"), {}
    try:
        for name in names:
            procs[name] = start_server(name, os.path.join(args.workdir, "reconnect", name), sock)
        for name, (proc, log) in procs.items():
            wait_answering(name, proc, log)
        wait_until(lambda: unix_connections(sock)[0] >= len(procs), 10, "every server connected")
        first, _ = await_probes(reader, names, 8)
        check("reconnect: every server writes to the first stash53", len(first) == len(names),
              f"seen {sorted(first)} of {names}")
        reader.stop()
        reader = Stash53(args, sock, "reconnect-2")
        back, ports = await_probes(reader, names, 15)
        check("reconnect: every server reconnects to a restarted stash53 by itself (within 15 s)",
              len(back) == len(names), f"back: {back}, not: {sorted(set(names) - set(back))}")
        print("     reconnect: first event after the restart: "
              + ", ".join(f"{n} {t:.1f} s" for n, t in sorted(back.items(), key=lambda x: x[1])))
        for name, (proc, log) in procs.items():
            check(f"reconnect: {name} stops on SIGTERM", stop(proc, signal.SIGTERM, 15) is not None, log)
        events, reader = reader.stop(), None
        for name in names:
            mine = [e for e in events if probed(e) and endpoint(e)[1] in ports[name]]
            check(f"reconnect: {name}'s events after the restart carry its identity",
                  mine and all(e.get("dnstap", {}).get("identity") == identity_of(name) for e in mine),
                  [e.get("dnstap") for e in mine][:3])
    finally:
        kill(*(proc for proc, _ in procs.values()), reader and reader.proc)


# --------------------------------------------------------------------------------------------

def phase(title, fn, *a):
    t = time.monotonic()
    print(f"---- {title}", flush=True)
    fn(*a)
    print(f"     {title.split()[0]}: {time.monotonic() - t:.1f} s", flush=True)


def run(args):
    args.sockdir = os.path.join(args.workdir, "run")
    if len(args.sockdir) > 80:  # sun_path holds 108 bytes
        args.sockdir = tempfile.mkdtemp(prefix="stash53-dnstap-")
        note(f"workdir too long for unix socket paths: sockets in {args.sockdir}")
    os.makedirs(args.sockdir, exist_ok=True)
    os.chmod(args.sockdir, 0o777)  # stash53 may drop root before it binds
    for a in [a for pair in ADDR.values() for a in pair] + list(CLIENT.values()) + [PROBE]:
        v6 = ":" in a
        subprocess.run(["ip", "addr", "add", a + ("/128" if v6 else "/32"), "dev", "lo", *(["nodad"] if v6 else [])],
                       check=True)
    missing = [b for b in ("nsd", "kdig", "tcpdump", "tshark") if not shutil.which(b)]
    require(not missing, f"missing {missing}")
    d = os.path.join(args.workdir, "nsd")
    t0, (nsd, log) = time.monotonic(), launch("nsd", d, *nsd_conf(d))
    try:
        wait_answering("nsd", nsd, log, ("example.", 6, False))
        ran = []
        for name in SPECS:
            if why := unsupported(name):
                print(f"SKIP {name}: {why}", flush=True)
                continue
            phase(name, run_server, args, name)
            ran.append(name)
        if "knot" in ran:
            phase("robustness (Knot and Frame Streams writers of the test's own)", run_robustness, args)
        else:
            print("SKIP robustness: it uses Knot, which did not run", flush=True)
        if ran:
            phase(f"reconnect ({', '.join(ran)} on one stash53, restarted)", run_reconnect, args, ran)
    finally:
        stop(nsd)
    print(f"total {time.monotonic() - t0:.1f} s")


def on_alarm(*_):
    raise Failure("timed out")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stash53", required=True)
    ap.add_argument("--workdir", required=True)
    args = ap.parse_args()
    args.workdir, args.stash53 = os.path.abspath(args.workdir), os.path.abspath(args.stash53)
    os.makedirs(args.workdir, exist_ok=True)
    signal.signal(signal.SIGALRM, on_alarm)
    try:
        enter_netns()
        signal.alarm(90)
        run(args)
    except (Failure, subprocess.SubprocessError, OSError) as e:
        print(f"FAIL: {e}\n(events, server logs and pcaps are in {args.workdir})")
        return 1
    print(f"{len(notes)} notes, {len(failures)} failures" if failures else f"all passed ({len(notes)} notes)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
