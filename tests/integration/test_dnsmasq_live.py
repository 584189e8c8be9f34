#!/usr/bin/python3
"""A real dnsmasq 2.90 (DNS + DHCP, NSD as its upstream) in private network namespaces, read by
stash53 two ways, each against independent oracles (kdig/dig's own output, the DHCP clients' own
scripts, and dnsmasq's own log files):

Phase "file": `log-facility=FILE`, `stash53 -r FILE --follow`. udhcpc gets the pool's one
address; queries (A, AAAA, TXT, ANY, NXDOMAIN, TCP); the log is rotated by rename + SIGUSR2
(dnsmasq reopens it); more queries and dhclient with a stale lease (DHCPNAK wrong network, then
"no address available"); then copy + truncate (done while no query is in flight: lines written
between the copy and the truncate are inherently lost by copytruncate); more queries. Every
query line of FILE.1 + FILE.2 + FILE is exactly one DNS event, every DHCP message line one dhcp
event, every other line one log event; the stats line shows rotations=1 truncations=1.
Phase "syslog": `log-facility=local0` to /dev/log, which in a private mount namespace is a real
rsyslogd's socket; rsyslogd forwards over UDP in RFC 5424 (RSYSLOG_SyslogProtocol23Format) and
in the traditional RFC 3164 forward format to two `stash53 --syslog-listen` processes.

Usage: test_dnsmasq_live.py --stash53 PATH --workdir DIR   (as root)
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_live_capture import enter_netns, stop  # noqa: E402
from testlib import Failure, free_port, require  # noqa: E402

failures = []
SRV, C1, C2 = "198.51.100.1", "198.51.100.50", "203.0.113.9"
MAC1, MAC2 = "02:00:5e:10:00:c1", "02:00:5e:10:00:c2"

ZONE = """$TTL 3600
@        IN SOA ns.nic. hostmaster.nic. 2026112301 3600 600 86400 300
@        IN NS ns.nic.
@        IN MX 10 mail
@        IN TXT "v=spf1 mx -all"
host     IN A 192.0.2.10
host     IN AAAA 2001:db8:ffff::10
multi    IN A 192.0.2.11
multi    IN A 192.0.2.12
mail     IN A 192.0.2.25
www      IN CNAME host
txt.sub  IN TXT "hello from nsd" "second string"
"""

# The README's lines (deploy/dnsmasq/), as they are but for the log file's path and the port.
DEPLOY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "deploy", "dnsmasq")
SNIPPET_DNSMASQ = open(os.path.join(DEPLOY, "dnsmasq.conf")).read()
SNIPPET_RSYSLOG = open(os.path.join(DEPLOY, "rsyslog.conf")).read()
assert "/var/log/dnsmasq.log" in SNIPPET_DNSMASQ and 'port="5514"' in SNIPPET_RSYSLOG

DNSMASQ_CONF = SNIPPET_DNSMASQ.replace("{", "{{").replace("}", "}}").replace(
    "/var/log/dnsmasq.log", "{log}") + """keep-in-foreground
user=root
group=root
pid-file={w}/dnsmasq.pid
dhcp-leasefile={w}/dnsmasq.leases
no-resolv
no-hosts
addn-hosts={w}/hosts
server=127.0.0.1#5353
bind-interfaces
interface=br0
listen-address=127.0.0.1
domain=home.arpa
local=/home.arpa/
expand-hosts
bogus-priv
domain-needed
host-record=printer.home.arpa,198.51.100.20
txt-record=info.home.arpa,"managed by dnsmasq"
address=/ads.test/0.0.0.0
address=/tracker.test/
dhcp-range=198.51.100.50,198.51.100.50,255.255.255.0,2m
dhcp-authoritative
dhcp-option=option:router,198.51.100.1
dhcp-option=option:dns-server,198.51.100.1
"""

UDHCPC_SH = """#!/bin/sh
echo "udhcpc $1 ip=$ip" >> {w}/client-events.log
case "$1" in
  deconfig) ip -4 addr flush dev "$interface" ;;
  bound|renew) ip -4 addr flush dev "$interface"; ip addr add "$ip/${{mask:-24}}" dev "$interface" ;;
esac
exit 0
"""

DHCLIENT_SH = """#!/bin/sh
echo "dhclient $reason ip=$new_ip_address" >> {w}/client-events.log
case "$reason" in
  BOUND|RENEW|REBIND|REBOOT) ip -4 addr flush dev "$interface"; ip addr add "$new_ip_address/24" dev "$interface" ;;
  EXPIRE|FAIL|RELEASE|STOP) ip -4 addr flush dev "$interface" ;;
  PREINIT) ip link set "$interface" up ;;
esac
exit 0
"""


def check(what, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + what + ("" if ok else f"\n     {str(detail)[:1500]}"), flush=True)
    if not ok:
        failures.append(what)


def sh(*cmd, timeout=10):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    require(r.returncode == 0, f"{' '.join(cmd)}: exit {r.returncode}: {r.stderr.strip()}")
    return r.stdout


def wait_for(what, cond, timeout):
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        require(time.monotonic() < deadline, f"timed out ({timeout} s) waiting for {what}")
        time.sleep(0.05)


class Netns:
    """A client: a process in a network namespace of its own (unshare --net), found by its PID,
    with a veth pair whose other end is a port of br0."""

    def __init__(self, name, mac):
        self.holder = subprocess.Popen(["unshare", "--net", "sleep", "600"])
        self.ns = f"/proc/{self.holder.pid}/ns/net"
        wait_for(f"{name}'s namespace", lambda: os.readlink(self.ns) != os.readlink("/proc/self/ns/net"), 5)
        sh("ip", "link", "add", f"{name}h", "type", "veth", "peer", "name", f"{name}c")
        sh("ip", "link", "set", f"{name}h", "master", "br0", "up")
        sh("ip", "link", "set", f"{name}c", "netns", str(self.holder.pid))
        self.run("ip", "link", "set", f"{name}c", "name", "eth0", "address", mac)
        self.run("ip", "link", "set", "eth0", "up")
        self.run("ip", "link", "set", "lo", "up")

    def cmd(self, *cmd):
        return ["nsenter", f"--net={self.ns}", *cmd]

    def run(self, *cmd, timeout=10, check_rc=True):
        r = subprocess.run(self.cmd(*cmd), capture_output=True, text=True, timeout=timeout)
        require(not check_rc or r.returncode == 0, f"{cmd}: exit {r.returncode}: {r.stderr.strip()}")
        return r

    def close(self):
        stop(self.holder, signal.SIGKILL)


def parse_dig(out):
    """dig's or kdig's own output: status and the answer section's (name, type, rdata)."""
    m = re.search(r"status: (\w+)", out)
    answers, in_answer = [], False
    for line in out.splitlines():
        if line.startswith(";; ANSWER SECTION"):
            in_answer = True
        elif in_answer and (not line.strip() or line.startswith(";;")):
            in_answer = False
        elif in_answer:
            f = line.split(None, 4)
            answers.append((f[0].rstrip(".").lower(), f[3], f[4].strip()))
    return (m.group(1) if m else None), answers


class Queries:
    """Every query made, with the source port it was made from (so its event is found by s_port)
    and the resolver's answer as the client printed it."""

    def __init__(self, client):
        self.client, self.port, self.made = client, 30000, []

    def ask(self, name, qtype, tcp=False, tool="kdig"):
        self.port += 1
        if tool == "kdig":
            cmd = ["kdig", "+timeout=2", "+retry=0", f"-b{C1}#{self.port}", f"@{SRV}", name, qtype]
            cmd += ["+tcp"] if tcp else []
        else:
            cmd = ["dig", "+time=2", "+tries=1", "-b", f"{C1}#{self.port}", f"@{SRV}", name, qtype]
            cmd += ["+tcp"] if tcp else []
        r = self.client.run(*cmd, check_rc=False)
        status, answers = parse_dig(r.stdout)
        require(status, f"{tool} {name} {qtype}: no answer:\n{r.stdout}{r.stderr}")
        self.made.append(dict(name=name, qtype=qtype, port=self.port, status=status,
                              answers=answers, tool=tool, tcp=tcp))

    def batch(self, tag):
        for name, qtype, tcp, tool in [
                ("printer.home.arpa", "A", False, "kdig"),
                ("host.example", "A", False, "kdig"),
                ("host.example", "AAAA", False, "kdig"),
                ("multi.example", "A", False, "dig"),
                ("txt.sub.example", "TXT", False, "kdig"),
                ("info.home.arpa", "TXT", False, "kdig"),
                (f"nosuch-{tag}.example", "A", False, "dig"),
                ("unknown.home.arpa", "A", False, "kdig"),
                ("ads.test", "A", False, "kdig"),
                ("www.example", "A", True, "kdig"),
                ("example", "ANY", False, "kdig"),
                ("tablet.home.arpa", "A", False, "kdig")]:
            self.ask(name, qtype, tcp, tool)


def read_events(path):
    with open(path, "rb") as f:
        return [json.loads(l) for l in f.read().split(b"\n")[:-1]]


def dns_events(events):
    return [e for e in events if "qname" in e]


def check_queries(label, queries, events):
    """Each query is one DNS event, matching the client's own output."""
    by_port = {}
    for e in dns_events(events):
        by_port.setdefault(e.get("s_port"), []).append(e)
    bad = []
    for q in queries:
        got = by_port.get(q["port"], [])
        if len(got) != 1:
            bad.append((q["name"], q["qtype"], q["port"], f"{len(got)} events"))
            continue
        e = got[0]
        ans = e.get("dnsmasq", {}).get("answers", [])
        why = []
        if e.get("qname") != q["name"].lower() + "." or e.get("qtype") != q["qtype"]:
            why.append(f"question {e.get('qname')} {e.get('qtype')}")
        if e.get("s_addr") != C1:
            why.append(f"s_addr {e.get('s_addr')}")
        if e.get("rcode") != q["status"]:
            why.append(f"rcode {e.get('rcode')} != {q['status']}")
        addrs = sorted(r for _, t, r in q["answers"] if t in ("A", "AAAA"))
        got_addrs = sorted(a["value"] for a in ans if a.get("kind") in ("IPv4", "IPv6"))
        if addrs != got_addrs:
            why.append(f"addresses {got_addrs} != {addrs}")
        for owner, t, _ in q["answers"]:
            if t == "CNAME" and not any(a.get("name", "").lower() == owner and a.get("value") == "<CNAME>"
                                        for a in ans):
                why.append(f"no <CNAME> answer for {owner}")
        txt = [s for _, t, r in q["answers"] if t == "TXT" for s in re.findall(r'"((?:[^"\\]|\\.)*)"', r)]
        got_txt = [a["value"] for a in ans if a.get("kind") == "text"]
        if txt and got_txt != txt and [a["value"] for a in ans] != ["<TXT>"] * len(q["answers"]):
            why.append(f"TXT {got_txt} != {txt}")
        if q["status"] == "NXDOMAIN" and not any(a.get("value") == "NXDOMAIN" for a in ans):
            why.append("no NXDOMAIN answer")
        want_alert = {"TXT": "txt-query", "ANY": "any-query"}.get(q["qtype"])
        if e.get("alert") != want_alert:
            why.append(f"alert {e.get('alert')} != {want_alert}")
        if why:
            bad.append((q["name"], q["qtype"], q["port"], why, e))
    check(f"{label}: each of the {len(queries)} queries is one DNS event matching kdig/dig's output "
          "(question, client, rcode, addresses, CNAME, TXT, alert)", not bad, bad)


LINE = re.compile(r"^(?:<\d+>)?\w{3} [ \d]\d [\d:]{8} (?:\S+ )?(dnsmasq(?:-dhcp)?)\[(\d+)\]: (.*)$")


def classify(lines):
    """dnsmasq's own lines → (queries [(pid, serial, qname, qtype)], dhcp [(xid, type)], others)."""
    queries, dhcp, other = [], [], []
    for line in lines:
        m = LINE.match(line)
        if not m:
            other.append(line)
            continue
        tag, pid, msg = m.groups()
        if q := re.match(r"(\d+) \S+/\d+ query\[(\w+)\] (\S+) from ", msg):
            queries.append((int(pid), int(q.group(1)), q.group(3).lower() + ".", q.group(2)))
        elif re.match(r"\d+ \S+/\d+ ", msg):
            pass  # forwarded / answer lines of a query
        elif d := re.match(r"(\d+) (DHCP\w+)\(", msg):
            dhcp.append((int(d.group(1)), d.group(2), msg))
        elif tag == "dnsmasq-dhcp" and re.match(r"\d+ ", msg):
            pass  # a DHCP detail line
        else:
            other.append(msg)
    return queries, dhcp, other


def check_lines(label, lines, events):
    queries, dhcp, other = classify(lines)
    dns = dns_events(events)
    keys = sorted((e["dnsmasq"]["pid"], e["dnsmasq"]["serial"], e["qname"], e["qtype"]) for e in dns)
    check(f"{label}: every query line of dnsmasq's log ({len(queries)}) is exactly one DNS event "
          "(pid, serial, qname, qtype)", keys == sorted(queries),
          f"lines not events: {sorted(set(queries) - set(keys))}; events not lines: "
          f"{sorted(set(keys) - set(queries))}; {len(keys)} events / {len(queries)} lines")
    dh = [e for e in events if "dhcp" in e]
    dkeys = sorted((e["dhcp"].get("xid"), e["dhcp"]["message_type"]) for e in dh)
    check(f"{label}: every DHCP message line ({len(dhcp)}) is one dhcp event",
          dkeys == sorted((x, t) for x, t, _ in dhcp), (dkeys, [(x, t) for x, t, _ in dhcp]))
    logs = [e for e in events if "log" in e]
    check(f"{label}: every other line ({len(other)}) is one log event", len(logs) == len(other),
          (sorted(e["log"]["text"] for e in logs), sorted(other)))
    return queries, dhcp


def start_nsd(w):
    os.makedirs(f"{w}/zones", exist_ok=True)
    with open(f"{w}/zones/example.zone", "w") as f:
        f.write(ZONE)
    with open(f"{w}/nsd.conf", "w") as f:
        f.write(f"""server:
  ip-address: 127.0.0.1
  port: 5353
  username: ""
  chroot: ""
  zonesdir: "{w}/zones"
  database: ""
  zonelistfile: "{w}/nsd.zonelist"
  xfrdfile: "{w}/nsd.xfrd"
  xfrdir: "{w}"
  pidfile: "{w}/nsd.pid"
  server-count: 1
  rrl-ratelimit: 0
remote-control:
  control-enable: no
zone:
  name: "example."
  zonefile: "example.zone"
""")
    proc = subprocess.Popen(["nsd", "-d", "-c", f"{w}/nsd.conf"], stdout=open(f"{w}/nsd.log", "w"),
                            stderr=subprocess.STDOUT)
    wait_for("nsd on 127.0.0.1#5353", lambda: proc.poll() is None and subprocess.run(
        ["kdig", "+timeout=1", "+retry=0", "-p", "5353", "@127.0.0.1", "example", "SOA", "+short"],
        capture_output=True, text=True).stdout.strip(), 8)
    return proc


def start_dnsmasq(w, log_facility, wrap=()):
    for f in ("dnsmasq.leases",):
        if os.path.exists(f"{w}/{f}"):
            os.unlink(f"{w}/{f}")
    with open(f"{w}/dnsmasq.conf", "w") as f:
        f.write(DNSMASQ_CONF.format(w=w, log=log_facility))
    proc = subprocess.Popen([*wrap, "dnsmasq", f"--conf-file={w}/dnsmasq.conf"],
                            stdout=open(f"{w}/dnsmasq.out", "a"), stderr=subprocess.STDOUT)
    wait_for("dnsmasq answering", lambda: require(proc.poll() is None, f"dnsmasq exited, see {w}/dnsmasq.out")
             or subprocess.run(["kdig", "+timeout=1", "+retry=0", "@127.0.0.1", "printer.home.arpa",
                                "+short"], capture_output=True, text=True).stdout.strip(), 8)
    return proc


class Stash53:
    def __init__(self, binary, args, w, name):
        self.out, self.errpath = f"{w}/{name}.ndjson", f"{w}/{name}.stderr"
        if os.path.exists(self.out):
            os.unlink(self.out)
        self.err = open(self.errpath, "w+")
        self.proc = subprocess.Popen([binary, *args, "-o", self.out, "--no-enrich", "geoip", "--allow-root"],
                                     stderr=self.err)

    def log(self):
        self.err.seek(0)
        return self.err.read()

    def wait_log(self, text, timeout=10):
        wait_for(f"'{text}' from stash53", lambda: require(self.proc.poll() is None, self.log()[-1500:])
                 or text in self.log(), timeout)

    def events(self):
        return read_events(self.out) if os.path.exists(self.out) else []

    def wait_ports(self, ports, timeout):
        """Until every port has its DNS event (bounded)."""
        want = set(ports)
        try:
            wait_for(f"events for {len(want)} queries",
                     lambda: want <= {e.get("s_port") for e in dns_events(self.events())}, timeout)
            return True
        except Failure:
            return False

    def stop(self):
        rc = stop(self.proc, signal.SIGTERM, 15)
        stats = [l for l in self.log().splitlines() if "component=stats" in l]
        return rc, (stats[-1] if stats else ""), self.events()


def dhcp_clients(w, c1, label):
    """udhcpc on c1 (hostname tablet) gets the pool's one address."""
    t = time.monotonic()
    r = c1.run("busybox", "udhcpc", "-f", "-q", "-n", "-t", "4", "-T", "1", "-i", "eth0",
               "-s", f"{w}/udhcpc.sh", "-x", "hostname:tablet", "-V", "stash53-lab", timeout=15, check_rc=False)
    got = re.search(r"lease of (\S+) obtained", r.stdout + r.stderr)
    check(f"{label}: udhcpc got the pool's one address ({time.monotonic() - t:.1f} s)",
          got and got.group(1) == C1 and f"udhcpc bound ip={C1}" in open(f"{w}/client-events.log").read(),
          r.stdout + r.stderr)
    require(got, "no DHCP lease for client 1")
    return got.group(1)


def stale_client(w, c2, label):
    with open(f"{w}/dhclient2.leases", "w") as f:
        f.write(f"""lease {{
  interface "eth0";
  fixed-address {C2};
  option subnet-mask 255.255.255.0;
  option dhcp-lease-time 86400;
  option dhcp-server-identifier 203.0.113.1;
  renew 4 2037/01/01 00:00:00;
  rebind 4 2037/01/01 00:00:00;
  expire 4 2037/01/01 00:00:00;
}}
""")
    with open(f"{w}/dhclient2.conf", "w") as f:
        f.write('send host-name "tv-box";\nrequest subnet-mask, routers, domain-name-servers, domain-name;\n'
                "timeout 3;\nretry 1;\ninitial-interval 1;\n")
    t = time.monotonic()
    r = c2.run("dhclient", "-4", "-1", "-v", "-d", "-cf", f"{w}/dhclient2.conf", "-lf", f"{w}/dhclient2.leases",
               "-pf", f"{w}/dhclient2.pid", "-sf", f"{w}/dhclient.sh", "eth0", timeout=20, check_rc=False)
    out = r.stdout + r.stderr
    check(f"{label}: dhclient with a stale lease: DHCPNAK, then no offer ({time.monotonic() - t:.1f} s)",
          "DHCPNAK from" in out and "No DHCPOFFERS received" in out, out)


def phase_file(a, w, c1, c2):
    log = f"{w}/dnsmasq.log"
    t0 = time.monotonic()
    dnsmasq = start_dnsmasq(w, log)
    s = Stash53(a.stash53, ["-r", log, "--follow"], w, "file")
    try:
        s.wait_log("following it")
        dhcp_clients(w, c1, "file")
        q = Queries(c1)
        q.batch("host")
        # 1. rotation by rename; SIGUSR2 makes dnsmasq reopen its log file.
        os.rename(log, log + ".1")
        dnsmasq.send_signal(signal.SIGUSR2)
        wait_for("dnsmasq to reopen its log", lambda: os.path.exists(log), 5)
        s.wait_log("was rotated")
        q.batch("rotated")
        stale_client(w, c2, "file")
        # 2. copy + truncate, with no query in flight (each kdig/dig above has returned, and
        # dnsmasq has written its last line: the events of every query so far are out).
        check("file: the events of every query before the copytruncate came out while following",
              s.wait_ports([x["port"] for x in q.made], 20))
        shutil.copyfile(log, log + ".2")
        os.truncate(log, 0)
        s.wait_log("was truncated")
        q.batch("truncated")
        complete = s.wait_ports([x["port"] for x in q.made], 25)
        check(f"file: every query's event came out while following ({time.monotonic() - t0:.1f} s since start)",
              complete)
        rc = stop(dnsmasq, signal.SIGTERM, 5)
        require(rc == 0, f"dnsmasq exit {rc}")
        wait_for("dnsmasq's exit line", lambda: "exiting on receipt of SIGTERM" in open(log).read(), 3)
        time.sleep(1.0)  # stash53 reads it (its poll interval)
        rc, stats, events = s.stop()
    finally:
        stop(dnsmasq, signal.SIGKILL)
        stop(s.proc, signal.SIGKILL)
    check("file: stash53 exits 0 on SIGTERM", rc == 0, s.log()[-1500:])
    check("file: stats show rotations=1 truncations=1 under source:dnsmasq",
          re.search(r"source:dnsmasq [^|]*\brotations=1\b", stats) and
          re.search(r"source:dnsmasq [^|]*\btruncations=1\b", stats), stats)
    lines = []
    for f in (log + ".1", log + ".2", log):
        lines += open(f).read().splitlines()
    check_queries("file", q.made, events)
    queries, dhcp = check_lines("file", lines, events)
    check_dhcp("file", dhcp, events)
    return events


def check_dhcp(label, dhcp, events):
    dh = [e for e in events if "dhcp" in e]
    acks = [e for e in dh if e["dhcp"]["message_type"] == "DHCPACK"]
    check(f"{label}: the DHCPACK event gives udhcpc's address, MAC and hostname",
          len(acks) >= 1 and all(e["dhcp"].get("ip") == C1 and e["dhcp"].get("mac") == MAC1
                                  and e["dhcp"].get("hostname") == "tablet" for e in acks), acks)
    naks = [e for e in dh if e["dhcp"]["message_type"] == "DHCPNAK"]
    nak_lines = [m for _, t, m in dhcp if t == "DHCPNAK"]
    check(f"{label}: DHCPNAK ... wrong network is alert dhcp-nak",
          nak_lines and len(naks) == len(nak_lines) and all(
              e.get("alert") == "dhcp-nak" and e.get("event_class") == "alert" and e["dhcp"].get("ip") == C2
              and e["dhcp"].get("mac") == MAC2 and e["dhcp"].get("reason") == "wrong network" for e in naks),
          (nak_lines, naks))
    ex_lines = [m for _, _, m in dhcp if m.endswith("no address available")]
    ex = [e for e in dh if e["dhcp"].get("reason") == "no address available"]
    check(f"{label}: each 'no address available' line ({len(ex_lines)}) is alert dhcp-pool-exhausted",
          ex_lines and len(ex) == len(ex_lines) and all(
              e.get("alert") == "dhcp-pool-exhausted" and e.get("event_class") == "alert"
              and e["dhcp"].get("mac") == MAC2 for e in ex), (ex_lines, ex))


RSYSLOG_CONF = """global(workDirectory="{w}/rsyslog")
module(load="imuxsock" SysSock.Name="{w}/devlog" SysSock.Annotate="off" SysSock.RateLimit.Interval="0")
local0.* action(type="omfile" file="{w}/syslog.messages" template="RSYSLOG_TraditionalFileFormat")
local0.* action(type="omfile" file="{w}/syslog.rfc5424" template="RSYSLOG_SyslogProtocol23Format")
local0.* action(type="omfwd" target="127.0.0.1" port="{p3164}" protocol="udp" template="RSYSLOG_TraditionalForwardFormat")
""" + SNIPPET_RSYSLOG.replace("{", "{{").replace("}", "}}").replace('port="5514"', 'port="{p5424}"')


def phase_syslog(a, w, c1, c2):
    t0 = time.monotonic()
    os.makedirs(f"{w}/rsyslog", exist_ok=True)
    p5424, p3164 = free_port(), free_port()
    while p3164 == p5424:
        p3164 = free_port()
    for f in ("devlog", "syslog.messages", "client-events.log"):
        if os.path.exists(f"{w}/{f}"):
            os.unlink(f"{w}/{f}")
    with open(f"{w}/rsyslog.conf", "w") as f:
        f.write(RSYSLOG_CONF.format(w=w, p5424=p5424, p3164=p3164))
    rsyslog = subprocess.Popen(["rsyslogd", "-n", "-f", f"{w}/rsyslog.conf", "-i", f"{w}/rsyslogd.pid"],
                               stdout=open(f"{w}/rsyslogd.out", "w"), stderr=subprocess.STDOUT)
    s5424 = Stash53(a.stash53, ["--syslog-listen", f"127.0.0.1:{p5424}"], w, "syslog5424")
    s3164 = Stash53(a.stash53, ["--syslog-listen", f"127.0.0.1:{p3164}"], w, "syslog3164")
    dnsmasq = None
    try:
        wait_for("rsyslogd's socket", lambda: require(rsyslog.poll() is None, open(f"{w}/rsyslogd.out").read())
                 or os.path.exists(f"{w}/devlog"), 8)
        s5424.wait_log("Listening for dnsmasq's syslog")
        s3164.wait_log("Listening for dnsmasq's syslog")
        # dnsmasq's /dev is a tmpfs of its own private mount namespace, /dev/log -> rsyslogd's socket.
        wrap = ["unshare", "--mount", "--propagation", "private", "sh", "-ec",
                "mount -t tmpfs -o mode=755 stash53-dev /dev; "
                "mknod -m 666 /dev/null c 1 3; mknod -m 666 /dev/zero c 1 5; "
                "mknod -m 666 /dev/random c 1 8; mknod -m 666 /dev/urandom c 1 9; "
                f"ln -s {w}/devlog /dev/log; exec \"$@\"", "sh"]
        dnsmasq = start_dnsmasq(w, "local0", wrap)
        dhcp_clients(w, c1, "syslog")
        q = Queries(c1)
        q.port = 31000
        for name, qtype, tcp in [("host.example", "A", False), ("host.example", "AAAA", False),
                                 ("txt.sub.example", "TXT", False), ("nosuch.example", "A", False),
                                 ("www.example", "A", True), ("example", "ANY", False),
                                 ("tablet.home.arpa", "A", False)]:
            q.ask(name, qtype, tcp)
        ports = [x["port"] for x in q.made]
        s5424.wait_ports(ports, 15)
        s3164.wait_ports(ports, 5)
        rc = stop(dnsmasq, signal.SIGTERM, 5)
        require(rc == 0, f"dnsmasq exit {rc}")
        wait_for("dnsmasq's exit line in rsyslog's file",
                 lambda: "exiting on receipt of SIGTERM" in open(f"{w}/syslog.messages").read(), 5)
        time.sleep(0.5)
        results = {"RFC 5424": s5424.stop(), "RFC 3164": s3164.stop()}
    finally:
        for p in (dnsmasq, s5424.proc, s3164.proc):
            if p is not None:
                stop(p, signal.SIGKILL)
        stop(rsyslog)
    lines = open(f"{w}/syslog.messages").read().splitlines()
    for label, (rc, stats, events) in results.items():
        label = f"syslog {label}"
        check(f"{label}: stash53 exits 0 on SIGTERM", rc == 0, rc)
        m = re.search(r"source:dnsmasq [^|]*\bdatagrams=(\d+)", stats)
        check(f"{label}: stats source:dnsmasq datagrams={m and m.group(1)} = rsyslog's {len(lines)} lines",
              m and int(m.group(1)) == len(lines) > 0, stats)
        check_queries(label, q.made, events)
        _, dhcp = check_lines(label, lines, events)
        dh = [e for e in events if "dhcp" in e]
        acks = [e for e in dh if e["dhcp"]["message_type"] == "DHCPACK"]
        check(f"{label}: the DHCPACK event gives udhcpc's address, MAC and hostname",
              len(acks) == 1 and acks[0]["dhcp"].get("ip") == C1 and acks[0]["dhcp"].get("mac") == MAC1
              and acks[0]["dhcp"].get("hostname") == "tablet", acks)
    print(f"     syslog phase: {time.monotonic() - t0:.1f} s", flush=True)


def run(a):
    w = os.path.abspath(a.workdir)
    if os.path.isdir(w):
        shutil.rmtree(w)
    os.makedirs(w)
    with open(f"{w}/hosts", "w") as f:
        f.write("198.51.100.30 nas nas.home.arpa\n")
    for name, text in (("udhcpc.sh", UDHCPC_SH), ("dhclient.sh", DHCLIENT_SH)):
        with open(f"{w}/{name}", "w") as f:
            f.write(text.format(w=w))
        os.chmod(f"{w}/{name}", 0o755)
    sh("ip", "link", "add", "br0", "type", "bridge")
    sh("ip", "addr", "add", f"{SRV}/24", "dev", "br0")
    sh("ip", "link", "set", "br0", "up")
    nsd = start_nsd(w)
    clients = []
    try:
        clients = [Netns("c1", MAC1), Netns("c2", MAC2)]
        t = time.monotonic()
        phase_file(a, w, *clients)
        print(f"     file phase: {time.monotonic() - t:.1f} s", flush=True)
        c1 = clients[0]
        c1.run("ip", "-4", "addr", "flush", "dev", "eth0")
        phase_syslog(a, w, *clients)
    finally:
        for c in clients:
            c.close()
        stop(nsd)


def on_alarm(*_):
    raise Failure("timed out (85 s)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stash53", required=True)
    ap.add_argument("--workdir", required=True)
    a = ap.parse_args()
    a.stash53 = os.path.abspath(a.stash53)
    for tool in ("dnsmasq", "nsd", "rsyslogd", "kdig", "dig", "busybox", "dhclient", "nsenter"):
        if not shutil.which(tool):
            print(f"FAIL: {tool} is not installed (deploy/install-deps.sh)")
            return 1
    signal.signal(signal.SIGALRM, on_alarm)
    t = time.monotonic()
    try:
        enter_netns()
        signal.alarm(85)
        run(a)
    except (Failure, subprocess.SubprocessError, OSError) as e:
        print(f"FAIL: {e}\n(logs and events are in {a.workdir})")
        return 1
    print(f"{len(failures)} failures" if failures else "all passed", f"in {time.monotonic() - t:.1f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
