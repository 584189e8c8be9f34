#!/usr/bin/python3
"""Modes and formats end to end (issue 9): transactions on a capture whose exchanges are known by
construction (latency, unanswered at the timeout and at the end, duplicate IDs, one client on two
ports, a retransmission, a response without a query, TC then TCP, mDNS, a full table); record mode
against the message events of the same run (themselves checked against tshark by
oracle.shared_pcaps); the stash53 format's fields and types; ECS community_id against tshark's;
several emitters with different shapes from one run."""
import argparse
import datetime
import json
import os
import subprocess
import sys
from decimal import Decimal

sys.path.insert(0, os.path.dirname(__file__))
from crafted_captures import AA, QUERY, RESPONSE, TYPES, Msg, a, with_ns  # noqa: E402
from scapy.layers.inet import IP, TCP, UDP  # noqa: E402
from scapy.layers.l2 import Ether  # noqa: E402
from scapy.packet import Raw  # noqa: E402
from scapy.utils import wrpcap  # noqa: E402

failures = []


def check(what, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + what + ("" if ok else f"\n     {detail}"))
    if not ok:
        failures.append(what)


p = argparse.ArgumentParser()
p.add_argument("--stash53", required=True)
p.add_argument("--pcaps", required=True)
p.add_argument("--sample", required=True)
p.add_argument("--workdir", required=True)
opts = p.parse_args()
os.makedirs(opts.workdir, exist_ok=True)
os.chmod(opts.workdir, 0o777)  # stash53 drops to nobody and writes its files here
SERVER = "198.51.100.53"
T0 = Decimal(1690000000)


def run(args, config=None):
    cmd = [opts.stash53, "--no-enrich", "geoip", *args]
    if config is not None:
        path = os.path.join(opts.workdir, "config.yml")
        with open(path, "w") as f:
            f.write(config)
        cmd += ["-c", path]
    r = subprocess.run(cmd, capture_output=True, timeout=120)
    if r.returncode != 0:
        print(r.stderr.decode()[-2000:])
    return r


def lines(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# ------------------------------------------------------------------ a capture of known exchanges

class Timeline:
    def __init__(self):
        self.frames = []

    def udp(self, t, src, sport, dst, dport, msg):
        self.frames.append((t, IP(src=src, dst=dst) / UDP(sport=sport, dport=dport) / Raw(bytes(msg))))

    def query(self, t, client, port, id, qname, qtype="A"):
        self.udp(t, client, port, SERVER, 53, Msg(id, QUERY, qname, qtype))

    def answer(self, t, client, port, id, qname, flags=RESPONSE | AA, addr="198.51.100.10"):
        msg = Msg(id, flags, qname, "A")
        if addr:
            msg.rr(1, qname, "A", 300, a(addr))
        self.udp(t, SERVER, 53, client, port, with_ns(msg))

    def write(self, name):
        frames = []
        for t, pkt in sorted(self.frames, key=lambda f: Decimal(f[0])):
            frame = Ether(src="02:00:00:00:01:00", dst="02:00:00:00:00:53") / pkt
            frame.time = T0 + Decimal(t)
            frames.append(frame)
        path = os.path.join(opts.workdir, name)
        wrpcap(path, frames)
        return path


tl = Timeline()
A, B, C, D = "192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"
tl.query("0", A, 1111, 100, "a.example.org")                         # answered in 12.3 ms
tl.answer("0.0123", A, 1111, 100, "a.example.org")
tl.query("1.0", B, 2222, 200, "b.example.org")                       # same port, ID and name,
tl.query("1.0", C, 2222, 200, "b.example.org")                       # two clients, at once
tl.answer("1.002", C, 2222, 200, "b.example.org", addr="198.51.100.3")
tl.answer("1.003", B, 2222, 200, "b.example.org", addr="198.51.100.2")
tl.query("1.5", A, 3000, 300, "c.example.org")                       # one client, one ID,
tl.query("1.5", A, 3001, 300, "c.example.org")                       # two ports
tl.answer("1.501", A, 3001, 300, "c.example.org", addr="198.51.100.31")
tl.answer("1.502", A, 3000, 300, "c.example.org", addr="198.51.100.30")
tl.query("2.0", A, 4000, 400, "d.example.org")                       # asked again after 1 s,
tl.query("3.0", A, 4000, 400, "d.example.org")                       # answered after 1.5 s
tl.answer("3.5", A, 4000, 400, "d.example.org")
tl.answer("4.0", D, 5000, 500, "e.example.org")                      # no query
tl.query("4.5", A, 5500, 550, "UPPER.Example.ORG")                   # 0x20 case, lowered answer
tl.answer("4.501", A, 5500, 550, "upper.example.org")
# TC=1 over UDP, then the retry over TCP: two exchanges.
tl.query("5.0", A, 6000, 600, "big.example.org")
tl.answer("5.001", A, 6000, 600, "big.example.org", flags=RESPONSE | AA | 0x0200, addr=None)
isn = {True: 1000, False: 5000}


def seg(t, client, data=b"", flags="PA"):
    src, dst = (A, SERVER) if client else (SERVER, A)
    sport, dport = (6001, 53) if client else (53, 6001)
    ack = isn[not client] if "A" in flags else 0
    tl.frames.append((t, IP(src=src, dst=dst) / TCP(sport=sport, dport=dport, seq=isn[client], ack=ack,
                                                   flags=flags) / Raw(data)))
    isn[client] += len(data) + ("S" in flags) + ("F" in flags)


def framed(msg):
    b = bytes(msg)
    return len(b).to_bytes(2, "big") + b


seg("5.010", True, flags="S"), seg("5.011", False, flags="SA"), seg("5.012", True, flags="A")
seg("5.013", True, framed(Msg(601, QUERY, "big.example.org", "A")))
seg("5.020", False, framed(with_ns(Msg(601, RESPONSE | AA, "big.example.org", "A")
                                   .rr(1, "big.example.org", "A", 300, a("198.51.100.99")))))
seg("5.030", True, flags="FA"), seg("5.031", False, flags="FA"), seg("5.032", True, flags="A")
tl.query("6.0", A, 7000, 700, "lost.example.org")                    # times out at 11.0
tl.udp("7.0", "192.0.2.9", 5353, "224.0.0.251", 5353, Msg(0, 0, "printer.local", "A"))  # mDNS
tl.udp("7.001", "192.0.2.10", 5353, "224.0.0.251", 5353,
       Msg(0, 0x8400, None).rr(1, "printer.local", "A", 120, a("192.0.2.10")))
tl.query("20.0", A, 8000, 800, "late.example.org")                   # moves time past 11.0
tl.answer("20.001", A, 8000, 800, "late.example.org")
tl.query("20.5", A, 9000, 900, "end.example.org")                    # unanswered at the end
cap = tl.write("exchanges.pcap")

r = run(["-r", cap, "--mode", "transaction"])
xs = lines(r.stdout.decode())
by_q = {}
for x in xs:
    m = x.get("query") or x.get("response")
    by_q.setdefault((m.get("qname", "").lower(), m["transport"]), []).append(x)


def one(qname, transport="udp"):
    got = by_q.get((qname, transport), [])
    return got[0] if len(got) == 1 else {"_count": len(got)}


x = one("a.example.org.")
check("answered: latency is the difference of the packet times (12300 µs)",
      x.get("status") == "answered" and x.get("latency_us") == 12300
      and x["query"]["@timestamp"] == "2023-07-22T04:26:40.000000Z"
      and x["response"]["@timestamp"] == "2023-07-22T04:26:40.012300Z"
      and x["@timestamp"] == x["query"]["@timestamp"], x)
pairs = {(x["query"]["s_addr"], x["response"]["answers"][0]["data"], x["latency_us"])
         for x in by_q.get(("b.example.org.", "udp"), []) if x["status"] == "answered"}
check("same ID, port and name from two clients at once: each gets its own answer",
      pairs == {(C, "198.51.100.3", 2000), (B, "198.51.100.2", 3000)}, pairs)
pairs = {(x["query"]["s_port"], x["response"]["d_port"], x["response"]["answers"][0]["data"])
         for x in by_q.get(("c.example.org.", "udp"), []) if x["status"] == "answered"}
check("one client and ID on two ports: paired by port",
      pairs == {(3000, 3000, "198.51.100.30"), (3001, 3001, "198.51.100.31")}, pairs)
x = one("d.example.org.")
check("a retransmitted query is one exchange with retransmissions 1, timed from the first",
      x.get("status") == "answered" and x.get("retransmissions") == 1 and x.get("latency_us") == 1500000, x)
x = one("e.example.org.")
check("a response without a query is unsolicited",
      x.get("status") == "unsolicited" and "query" not in x and x["response"]["d_addr"] == D, x)
x = one("upper.example.org.")
check("names match case-insensitively (0x20)", x.get("status") == "answered"
      and x["query"]["qname"] == "UPPER.Example.ORG.", x)
u, t = one("big.example.org."), one("big.example.org.", "tcp")
check("TC=1 over UDP and the TCP retry are two exchanges",
      u.get("status") == "answered" and u["response"]["flags"]["tc"] is True
      and t.get("status") == "answered" and t["latency_us"] == 7000
      and t["response"]["answers"][0]["data"] == "198.51.100.99", (u, t))
order = [(x.get("query") or x.get("response")).get("qname") for x in xs]
lost = one("lost.example.org.")
check("unanswered at its timeout (capture time), before the exchanges after it",
      lost.get("status") == "unanswered" and "response" not in lost and lost.get("retransmissions") == 0
      and order.index("lost.example.org.") < order.index("late.example.org."), order)
end = one("end.example.org.")
check("unanswered at the end of the capture", end.get("status") == "unanswered" and xs[-1] is end, xs[-1])
mdns = [x for x in xs if x["status"] == "multicast"]
check("mDNS invents no match: two multicast messages, each alone",
      len(mdns) == 2 and sum(1 for x in mdns if "query" in x) == 1
      and sum(1 for x in mdns if "response" in x) == 1, mdns)
check("n numbers the exchanges 1..N", [x["n"] for x in xs] == list(range(1, len(xs) + 1)))
stats = r.stderr.decode()
check("counters: matched, unanswered, unsolicited, retransmitted, multicast",
      "matched=10 unanswered=2 unsolicited=1 retransmitted=1 evicted=0 multicast=2 pending=0" in stats,
      [line for line in stats.splitlines() if "transactions" in line])

# A full table: 50 queries never answered, room for 10.
tl = Timeline()
for i in range(50):
    tl.query(f"{i / 1000}", A, 10000 + i, i, f"q{i}.example.org")
cap = tl.write("flood.pcap")
r = run(["-r", cap, "--mode", "transaction"], "transactions: {max_entries: 10}\n")
xs = lines(r.stdout.decode())
evicted = [x for x in xs if x.get("evicted")]
check("a table full of unanswered queries stays within its bound: 40 evicted early, 10 at the end",
      len(xs) == 50 and len(evicted) == 40 and all(x["status"] == "unanswered" for x in xs)
      and [x["query"]["id"] for x in evicted] == list(range(40))
      and "evicted=40" in r.stderr.decode(), (len(xs), len(evicted)))

# ------------------------------------------------------------------ record mode, shapes of one run

captures = [opts.sample] + sorted(os.path.join(opts.pcaps, f) for f in os.listdir(opts.pcaps)
                                  if f.endswith(".pcap"))
config = "emitters:\n" + "".join(
    f"  - {{type: file, name: {name}, path: {opts.workdir}/{name}.ndjson, mode: {mode}, format: {fmt}}}\n"
    for name, mode, fmt in [("msg", "message", "json"), ("rec", "record", "json"),
                            ("s53", "message", "stash53"), ("ecs", "message", "ecs"),
                            ("tx", "transaction", "json"), ("txecs", "transaction", "ecs")])
for path in captures:
    name = os.path.basename(path)
    for f in os.listdir(opts.workdir):
        if f.endswith(".ndjson"):
            os.unlink(os.path.join(opts.workdir, f))
    r = run(["-r", path], config)
    out = {k: lines(open(os.path.join(opts.workdir, k + ".ndjson")).read())
           for k in ("msg", "rec", "s53", "ecs", "tx", "txecs")}
    msgs = out["msg"]
    want, got = [], []
    for i, m in enumerate(msgs):
        key = (m["@timestamp"], m.get("id"), m["s_addr"], m["s_port"])
        update = m.get("opcode") == "UPDATE"  # RFC 2136 names its sections
        for q in m.get("zone" if update else "questions", []):
            want.append(key + ("zone" if update else "question", q["name"], q["type"], q["class"], None, None))
        for section, field in ((("prerequisite", "prerequisites") if update else ("answer", "answers")),
                               (("update", "updates") if update else ("authority", "authorities")),
                               ("additional", "additionals")):
            for rr in m.get(field, []):
                want.append(key + (section, rr["name"], rr["type"], rr["class"], rr["ttl"], rr["data"]))
    for d in out["rec"]:
        nested = [k for k, v in d.items() if isinstance(v, (dict, list))]
        if nested:
            got.append(("nested", tuple(nested)))
        if d["section"] != "none":
            got.append((d["@timestamp"], d.get("id"), d["s_addr"], d["s_port"], d["section"],
                        d["name"], d["type"], d["class"], d.get("ttl"), d.get("data")))
    check(f"{name}: record mode has every question and record exactly once, flat",
          sorted(want, key=repr) == sorted(got, key=repr),
          f"{len(want)} records in the messages, {len(got)} documents")
    responses = [m for m in msgs if m.get("msg_type") == "response"]
    s53_want = sum(max(1, len(m.get("answers", []))) for m in responses if "rcode" in m)
    check(f"{name}: stash53 has one event per answer and one per response without answers",
          len(out["s53"]) == s53_want, (len(out["s53"]), s53_want))
    check(f"{name}: ecs has one document per message, the same messages in the same order",
          [(e["@timestamp"], e["source"]["ip"], e["source"]["port"]) for e in out["ecs"]]
          == [(m["@timestamp"], m["s_addr"], m["s_port"]) for m in msgs])
    # client.* is the query's sender even where client and server share an address (loopback).
    check(f"{name}: ecs client.port is the client's (a query's source, a response's destination)",
          [e["client"]["port"] for e in out["ecs"]]
          == [m["d_port"] if m.get("msg_type") == "response" else m["s_port"] for m in msgs])
    tx_msgs = sorted((m["@timestamp"], m["s_port"]) for x in out["tx"]
                     for m in (x.get("query"), x.get("response")) if m)
    check(f"{name}: every message is in exactly one exchange, in json and ecs alike",
          tx_msgs == sorted((m["@timestamp"], m["s_port"]) for m in msgs)
          and [x["status"] for x in out["tx"]] == [x["stash53"]["status"] for x in out["txecs"]],
          (len(tx_msgs), len(msgs)))
    if name == "sample-udp4.pcap":
        # tshark's Community ID of every DNS packet, in order (UDP: one message per packet).
        t = subprocess.run(["tshark", "-r", path, "--enable-protocol", "communityid", "-Y", "dns",
                            "-T", "fields", "-e", "communityid"], capture_output=True, text=True)
        ids = t.stdout.split()
        check(f"{name}: network.community_id equals tshark's",
              ids and ids == [e["network"]["community_id"] for e in out["ecs"]],
              (ids[:3], [e["network"]["community_id"] for e in out["ecs"]][:3]))

# ------------------------------------------------------------------ the stash53 format

TYPES.setdefault("SOA", 6)
tl = Timeline()
tl.answer("0", A, 1000, 1, "www.example.org")
nx = Msg(2, RESPONSE | AA | 3, "nope.example.org", "A")
nx.rr(2, "example.org", "SOA", 3600, b"\x02ns\x00\x02me\x00" + bytes(20))
tl.udp("0.1", SERVER, 53, A, 1001, nx)                               # NXDOMAIN
tl.udp("0.2", SERVER, 53, A, 1002, Msg(3, RESPONSE | AA, "example.org", "MX")
       .rr(2, "example.org", "SOA", 3600, b"\x02ns\x00\x02me\x00" + bytes(20)))  # NODATA
tl.udp("0.3", SERVER, 53, A, 1003, Msg(4, RESPONSE, "www.sub.example.org", "A")
       .rr(2, "sub.example.org", "NS", 86400, "ns1.sub.example.org"))       # referral
tl.udp("0.4", SERVER, 53, A, 1004, Msg(5, RESPONSE | AA | 0x0200, "big.example.org", "TXT"))  # TC
tl.query("0.5", A, 1005, 6, "www.example.org")                        # a query: no event
cap = tl.write("stash53.pcap")
r = run(["-r", cap, "--format", "stash53", "-N", "sensor1"])
evs = lines(r.stdout.decode())
types = {"ipv6": bool, "error": bool, "d_addr": str, "s_addr": str, "rrprint": str, "qclass": str,
         "qname": str, "tld": str, "qtype": str, "answer": str, "ttl": int, "nsid": str, "n": int,
         "rcode": str, "timestamp": float}
bad = [(e.get("n"), k) for e in evs for k, t in types.items()
       if k not in e or type(e[k]) is not t]
check("stash53: every event has the original's fields with their types",
      len(evs) == 5 and not bad and all(set(e) - set(types) <= {"reason"} for e in evs), (len(evs), bad))
check("stash53: an answer, NXDOMAIN, NODATA, a referral and TC, each as the original's fields say",
      [(e["answer"], e["error"], e["rcode"], e.get("reason")) for e in evs]
      == [("198.51.100.10", False, "NOERROR", None), ("", True, "NXDOMAIN", "error"),
          ("", False, "NOERROR", "nodata"), ("", False, "NOERROR", "referral"),
          ("", False, "NOERROR", "truncated")]
      and evs[0]["rrprint"] == "www.example.org. 300 IN A 198.51.100.10" and evs[0]["ttl"] == 300
      and evs[0]["tld"] == "org" and evs[0]["nsid"] == "sensor1" and evs[0]["d_addr"] == A,
      [(e["answer"], e["error"], e["rcode"], e.get("reason")) for e in evs])
when = [datetime.datetime.fromtimestamp(e["timestamp"], datetime.timezone.utc) for e in evs]
check("stash53: timestamp is UNIX time, the packet's",
      [w.isoformat() for w in when] == ["2023-07-22T04:26:40+00:00", "2023-07-22T04:26:40.100000+00:00",
                                        "2023-07-22T04:26:40.200000+00:00", "2023-07-22T04:26:40.300000+00:00",
                                        "2023-07-22T04:26:40.400000+00:00"], when)
check("stash53: queries are counted as empty, not lost silently",
      "output:message/stash53 documents=5 empty=1" in r.stderr.decode(), r.stderr.decode()[-600:])

print(f"{len(failures)} failures" if failures else "all passed")
sys.exit(1 if failures else 0)
