#!/usr/bin/python3
"""The enrichers end to end: the stash53 binary on captures built here, checked against
independent sources.

Usage: test_enrich.py --stash53 PATH --mmdb DIR --pcaps DIR --sample PCAP --workdir DIR

(a) geoip with the test databases of both schemas (tests/fixtures/make_mmdb.pl: MaxMind city +
    ASN, and the flat ip-location-db IPv4 + IPv6 pair): for every client address of a capture of
    queries and responses (IPv4, IPv6, IPv4-mapped IPv6, private, misses) each geoip field equals
    what Debian's `mmdblookup` reads from the same files; private and unknown addresses get no
    block; server_geoip and ecs_geoip when asked for;
(b) a file that is not an MMDB and a missing file: exit 2 naming the path, --check-config too;
(c) templates and filters on the new fields: a zmq emitter with topic
    geo.{geoip.country_code}.{registered_domain} and a filter on geoip.country_code, read by a
    real SUB socket;
(d) privacy: with --anonymize (and with Crypto-PAn pseudonyms) no client address of the input, as
    tshark lists them, appears anywhere in stash53's output, for the shared captures and the
    sample; pseudonyms equal those of the Python reference (tests/fixtures/cryptopan_ref.py);
(e) the enrichers' counters on the stats line.
"""
import argparse
import ipaddress
import json
import os
import re
import subprocess
import sys

import zmq
from scapy.all import DNS, DNSQR, DNSRR, DNSRROPT, EDNS0ClientSubnet, Ether, IP, IPv6, UDP, wrpcap
from testlib import Failure, free_port, require

SERVER4, SERVER6 = "192.0.2.53", "2001:db8::53"
CLIENTS = ["81.2.69.160", "89.160.20.112", "216.160.83.57", "67.43.156.1", "1.128.0.1",
           "175.16.199.5", "8.8.8.8", "10.1.2.3", "2a02:8800::1", "2001:480::1", "::ffff:81.2.69.10",
           "2a02:8900::1", "fd00::1"]
KEY = "1522178d33a4cf80130a5b1649907d10d8988f837979652762574c2d2a842202"


def run(args, timeout=60):
    return subprocess.run([opts.stash53, *args], capture_output=True, text=True, timeout=timeout)


def events(args):
    r = run(args)
    require(r.returncode == 0, f"stash53 {' '.join(args)}: exit {r.returncode}\n{r.stderr}")
    return [json.loads(line) for line in r.stdout.splitlines()], r.stderr


def geo_capture(path):
    """A query and its response per client, with ECS from 89.160.20.0/24 on the queries."""
    pkts, t = [], 1_700_000_000.0
    for i, client in enumerate(CLIENTS):
        v6 = ":" in client
        ip = (lambda s, d: IPv6(src=s, dst=d)) if v6 else (lambda s, d: IP(src=s, dst=d))
        server = SERVER6 if v6 else SERVER4
        ecs = DNSRROPT(rclass=1232, rdata=[EDNS0ClientSubnet(source_plen=24, address="89.160.20.0")])
        q = DNS(id=i, rd=1, qd=DNSQR(qname=f"host{i}.example.co.uk", qtype="A"), ar=ecs)
        r = DNS(id=i, qr=1, aa=1, qd=DNSQR(qname=f"host{i}.example.co.uk", qtype="A"),
                an=DNSRR(rrname=f"host{i}.example.co.uk", type="A", rdata="192.0.2.80"))
        for pkt in (Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / ip(client, server) / UDP(sport=40000 + i, dport=53) / q,
                    Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / ip(server, client) / UDP(sport=53, dport=40000 + i) / r):
            pkt.time = t
            t += 0.001
            pkts.append(pkt)
    wrpcap(path, pkts)


def mmdb(file, ip, *path):
    """One value as Debian's mmdblookup reads it, or None."""
    r = subprocess.run(["mmdblookup", "--file", file, "--ip", ip, *path], capture_output=True,
                       text=True)
    m = re.search(r'^\s*(?:"(.*)"|(\S+)) <(\w+)>', r.stdout, re.M)
    if r.returncode != 0 or not m:
        return None
    return m.group(1) if m.group(1) is not None else m.group(2)


def expected_geo(dbs, ip):
    """The geoip block for `ip` from `dbs` by mmdblookup: the first database knowing a field."""
    addr = ipaddress.ip_address(ip)
    if addr.version == 6 and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    if not addr.is_global:
        return None
    want = {}
    ip = str(addr)
    for db in dbs:
        cands = {
            "country_code": [("country", "iso_code"), ("registered_country", "iso_code"),
                             ("country_code",)],
            "country": [("country", "names", "en"), ("registered_country", "names", "en")],
            "city": [("city", "names", "en"), ("city",)],
            "lat": [("location", "latitude"), ("latitude",)],
            "lon": [("location", "longitude"), ("longitude",)],
            "asn": [("autonomous_system_number",)],
            "as_org": [("autonomous_system_organization",)],
        }
        for field, paths in cands.items():
            if field in want:
                continue
            for p in paths:
                v = mmdb(db, ip, *p)
                if v not in (None, "") and not v.startswith("{"):
                    want[field] = v
                    break
    return want or None


def flatten(block):
    if block is None:
        return None
    out = {k: v for k, v in block.items() if k != "location"}
    if "location" in block:
        out["lat"], out["lon"] = block["location"]["lat"], block["location"]["lon"]
    return out


def same(got, want):
    if got is None or want is None:
        return got is None and want is None
    if set(got) != set(want):
        return False
    for k, w in want.items():
        if k in ("lat", "lon"):
            if abs(float(got[k]) - float(w)) > 1e-4:
                return False
        elif str(got[k]) != w:
            return False
    return True


def check_geoip(cap):
    sets = {"maxmind": ["maxmind-city.mmdb", "maxmind-asn.mmdb"],
            "flat": ["flat-city-ipv4.mmdb", "flat-city-ipv6.mmdb", "maxmind-asn.mmdb"]}
    for name, files in sets.items():
        dbs = [os.path.join(opts.mmdb, f) for f in files]
        args = ["-r", cap, "-N", "t"] + [a for db in dbs for a in ("--geoip-db", db)]
        evs, _ = events(args)
        require(len(evs) == 2 * len(CLIENTS), f"{name}: {len(evs)} events")
        blocks = 0
        for ev in evs:
            client = ev["d_addr"] if ev["msg_type"] == "response" else ev["s_addr"]
            want, got = expected_geo(dbs, client), flatten(ev.get("geoip"))
            require(same(got, want), f"{name}: {client}: geoip {got}, mmdblookup says {want}")
            require("server_geoip" not in ev and "ecs_geoip" not in ev, f"{name}: blocks not asked for")
            blocks += got is not None
        require(blocks >= 12, f"{name}: only {blocks} events with a geoip block")
        print(f"ok   geoip, {name} schema: {len(evs)} events, {blocks} blocks equal mmdblookup's")

    # server_geoip and ecs_geoip, from a config file.
    cfg = os.path.join(opts.workdir, "geo.yml")
    with open(cfg, "w") as f:
        f.write("enrich:\n  - type: geoip\n    server: true\n    use_ecs: true\n    databases: [%s]\n"
                % ", ".join(os.path.join(opts.mmdb, x) for x in sets["maxmind"]))
    evs, _ = events(["-c", cfg, "-r", cap])
    queries = [e for e in evs if e["msg_type"] == "query"]
    want_ecs = expected_geo([os.path.join(opts.mmdb, x) for x in sets["maxmind"]], "89.160.20.0")
    require(all(same(flatten(e.get("ecs_geoip")), want_ecs) for e in queries),
            f"ecs_geoip: {[e.get('ecs_geoip') for e in queries][:2]}, want {want_ecs}")
    require(all("server_geoip" not in e for e in evs), "server_geoip for a documentation address")
    print(f"ok   geoip: ecs_geoip on {len(queries)} queries equals mmdblookup's")


def check_bad_databases(cap):
    bad, missing = os.path.join(opts.mmdb, "not-an-mmdb.mmdb"), "/nonexistent/city.mmdb"
    for path in (bad, missing):
        for extra in ([], ["--check-config"]):
            r = run(["-r", cap, "--geoip-db", path, *extra])
            require(r.returncode == 2 and path in r.stderr and r.stdout == "",
                    f"--geoip-db {path} {extra}: exit {r.returncode}, stderr {r.stderr.strip()}")
    print("ok   a file that is not an MMDB and a missing one: exit 2 naming the path")


def check_templates_and_filters(cap):
    ctx = zmq.Context()
    sub = ctx.socket(zmq.SUB)
    sub.linger = 0
    port = free_port()
    sub.bind(f"tcp://127.0.0.1:{port}")
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.rcvtimeo = 3000
    cfg = os.path.join(opts.workdir, "zmq.yml")
    with open(cfg, "w") as f:
        f.write(f"""enrich:
  - {{type: geoip, databases: [{opts.mmdb}/maxmind-city.mmdb]}}
  - {{type: public_suffix}}
emitters:
  - type: zmq
    connect: [tcp://127.0.0.1:{port}]
    topic: "geo.{{geoip.country_code}}.{{registered_domain}}.{{msg_type}}"
    filter: {{geoip.country_code: [GB, SE], msg_type: query}}
""")
    # Read while stash53 runs: a bound SUB drops what it holds from a peer that disconnected.
    proc = subprocess.Popen([opts.stash53, "-c", cfg, "-r", cap], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    got = []
    try:
        while True:
            topic, body = sub.recv_multipart()
            got.append((topic.decode(), json.loads(body)))
    except zmq.Again:
        pass
    err = proc.communicate(timeout=30)[1]
    require(proc.returncode == 0, f"zmq run: {err}")
    ctx.destroy()
    want = [c for c in CLIENTS if c in ("81.2.69.160", "89.160.20.112", "::ffff:81.2.69.10")]
    require(len(got) == len(want), f"{len(got)} messages, want {len(want)} (queries from GB, SE)")
    for topic, ev in got:
        cc = ev["geoip"]["country_code"]
        require(topic == f"geo.{cc}.example.co.uk.query" and cc in ("GB", "SE"), f"topic {topic}")
    print(f"ok   templates and filters on geoip.country_code and registered_domain: {len(got)} events")


def tshark_addresses(pcap):
    r = subprocess.run(["tshark", "-r", pcap, "-T", "fields", "-e", "ip.src", "-e", "ip.dst",
                        "-e", "ipv6.src", "-e", "ipv6.dst", "-e", "dns.flags.response",
                        "-e", "udp.srcport", "-e", "tcp.srcport"], capture_output=True, text=True)
    clients, servers = set(), set()
    for line in r.stdout.splitlines():
        f = line.split("\t")
        src, dst = f[0] or f[2], f[1] or f[3]
        if not src:
            continue
        response = f[4] in ("1", "True")
        sport = f[5] or f[6]
        if f[4] == "":  # no DNS layer decoded: the port decides
            response = sport == "53"
        (clients if not response else servers).add(src)
        (servers if not response else clients).add(dst)
    return clients, servers


def check_privacy():
    captures = sorted(os.path.join(opts.pcaps, f) for f in os.listdir(opts.pcaps) if f.endswith(".pcap"))
    captures.append(opts.sample)
    checked = 0
    for cap in captures:
        clients, servers = tshark_addresses(cap)
        require(clients, f"{cap}: tshark found no client address")
        # On loopback the client is also the server: hide both there, as `server: true` does.
        both = bool(clients & servers)
        for mode in ("truncate", "pseudonymize"):
            cfg = os.path.join(opts.workdir, "privacy.yml")
            with open(cfg, "w") as f:
                f.write(f"enrich:\n  - type: privacy\n    addresses: {mode}\n    server: {str(both).lower()}\n")
                if mode == "pseudonymize":
                    f.write(f"    key: {KEY}\n")
                f.write("  - type: geoip\n  - type: nsid\n  - type: public_suffix\n")
            out = os.path.join(opts.workdir, "privacy.ndjson")
            if os.path.exists(out):
                os.unlink(out)
            r = run(["-c", cfg, "-r", cap, "--stdout", "-o", out])
            require(r.returncode == 0, f"{cap} {mode}: {r.stderr}")
            text = r.stdout + open(out).read() + r.stderr
            for a in clients:
                for form in {a, str(ipaddress.ip_address(a))}:
                    require(not re.search(rf'(?<![0-9a-fA-F:.]){re.escape(form)}(?![0-9a-fA-F:])', text),
                            f"{cap} {mode}: client address {form} appears in the output")
            checked += len(clients)
    print(f"ok   privacy: {checked} client addresses of {len(captures)} captures in no output, "
          "truncated and pseudonymised")
    # The flag alone, with the default enrichers (geoip still sees the real address first).
    clients = tshark_addresses(opts.sample)[0]
    evs, err = events(["-r", opts.sample, "--anonymize"])
    text = json.dumps(evs) + err
    require(not [a for a in clients if a in text], f"--anonymize: {[a for a in clients if a in text]}")
    require(any("geoip" in e for e in evs), "--anonymize: geoip saw no real address")
    print(f"ok   --anonymize: none of the sample's {len(clients)} client addresses in the output")

    # Pseudonyms equal the reference implementation's.
    cfg = os.path.join(opts.workdir, "pan.yml")
    with open(cfg, "w") as f:
        f.write(f"enrich:\n  - {{type: privacy, addresses: pseudonymize, key: {KEY}}}\n")
    evs, _ = events(["-c", cfg, "-r", opts.sample])
    clients = sorted(tshark_addresses(opts.sample)[0])
    ref = subprocess.run(["/usr/bin/python3", os.path.join(os.path.dirname(__file__), "..",
                          "fixtures", "cryptopan_ref.py"), KEY], input="\n".join(clients) + "\n",
                         capture_output=True, text=True, check=True).stdout.split()
    want = {str(ipaddress.ip_address(p)) for p in ref}
    got = {e["s_addr"] if e["msg_type"] == "query" else e["d_addr"] for e in evs if "msg_type" in e}
    require(got == want, f"pseudonyms {sorted(got)}, reference {sorted(want)}")
    print(f"ok   privacy: {len(got)} Crypto-PAn pseudonyms equal the reference implementation's")


def check_counters(cap):
    _, err = events(["-r", cap, "--geoip-db", os.path.join(opts.mmdb, "maxmind-city.mmdb")])
    m = re.search(r"\| enricher:geoip hits=(\d+) misses=(\d+) errors=0 cache-hits=(\d+)", err)
    require(m, f"no geoip counters in {err}")
    hits, misses, cache = map(int, m.groups())
    require(hits + misses == 2 * len(CLIENTS) and hits > 0 and cache > 0,
            f"geoip hits={hits} misses={misses} cache-hits={cache}")
    print(f"ok   counters: geoip hits={hits} misses={misses} cache-hits={cache}")


def main():
    global opts
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for a in ("--stash53", "--mmdb", "--pcaps", "--sample", "--workdir"):
        ap.add_argument(a, required=True)
    opts = ap.parse_args()
    os.makedirs(opts.workdir, exist_ok=True)
    cap = os.path.join(opts.workdir, "geo.pcap")
    geo_capture(cap)
    try:
        check_geoip(cap)
        check_bad_databases(cap)
        check_templates_and_filters(cap)
        check_privacy()
        check_counters(cap)
    except Failure as e:
        print(f"FAIL {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
