"""DNS over TCP cut by a snaplen, against tshark; and every packet accounted for.

Builds a capture of DNS over TCP (big answers over several segments, two messages in one
segment, a message split over segments, IPv4 and IPv6), writes it whole and cut at SNAPLEN as
libpcap would (caplen < wire length), then checks:
- every message tshark finds in the whole capture is emitted from the cut one (id, qname,
  qtype); the ones the cut reached are flagged malformed truncated-* and keep the header and the
  records before the cut; the others are the whole capture's events, unchanged;
- each packet yields a message or is counted under a reason: `packets` minus the per-packet
  reasons of the stats line is the number of packets with DNS (tshark's frames with dns, or for
  the cut capture the segments known to complete or cut a message), here and on --pcaps.

    /usr/bin/python3 tests/integration/test_snaplen.py --stash53 build/stash53 \
        --pcaps /work/shared/pcaps
"""
import argparse
import json
import pathlib
import re
import struct
import subprocess
import sys
import tempfile

from scapy.all import DNS, DNSQR, DNSRR, IP, IPv6, TCP, Ether, raw  # noqa: E402

SNAPLEN = 200
# The per-packet reasons (PacketKind but dns, tcp-no-payload, TcpEvent); frag-* and
# tcp-gap-expired count datagrams and flows, not packets.
REASONS = {"truncated-frame", "not-ip", "bad-header", "ip-fragment", "not-udp-tcp",
           "not-dns-port", "empty-udp", "bad-tunnel", "tunnel-too-deep", "tcp-no-payload",
           "tcp-midstream", "tcp-retransmitted", "tcp-out-of-order", "tcp-gap", "tcp-flow-limit",
           "tcp-partial", "tcp-snaplen", "tcp-rst-data"}
QTYPES = {1: "A", 16: "TXT", 28: "AAAA"}


class Flow:
    """One TCP connection; records each segment as (frame bytes, stream offset, data length)."""

    def __init__(self, frames, v6, cport):
        self.frames, self.v6, self.cport = frames, v6, cport
        self.seq = {True: 1000, False: 5000}  # client, server: next sequence number
        self.sent = {True: 0, False: 0}       # stream offset
        self.segments = []                    # (frame index, to_server, offset, length)
        self.messages = []                    # (to_server, offset, length with prefix)
        for flags, c in (("S", True), ("SA", False), ("A", True)):
            self.segment(c, b"", flags)

    def segment(self, to_server, data, flags="PA"):
        ip = (IPv6(src="2001:db8::1", dst="2001:db8::53") if self.v6
              else IP(src="10.0.0.1", dst="10.0.0.53"))
        if not to_server:
            ip.src, ip.dst = ip.dst, ip.src
        sport, dport = (self.cport, 53) if to_server else (53, self.cport)
        pkt = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / ip / TCP(sport=sport, dport=dport, flags=flags, seq=self.seq[to_server],
                                 ack=self.seq[not to_server])
        if data:
            pkt = pkt / data
        if data:
            self.segments.append((len(self.frames), to_server, self.sent[to_server], len(data)))
        self.frames.append(raw(pkt))
        self.seq[to_server] += len(data) + (1 if "S" in flags or "F" in flags else 0)
        self.sent[to_server] += len(data)

    def send(self, to_server, msgs, sizes=None):
        """Sends DNS messages (framed) as one stream write: segments of `sizes`, then the rest."""
        data = b""
        for m in msgs:
            wire = raw(m)
            self.messages.append((to_server, self.sent[to_server] + len(data), 2 + len(wire)))
            data += struct.pack("!H", len(wire)) + wire
        for n in sizes or []:  # segments of these sizes, then one with the rest
            self.segment(to_server, data[:n])
            data = data[n:]
        self.segment(to_server, data)

    def close(self):
        self.segment(True, b"", "FA")
        self.segment(False, b"", "FA")


def query(i, name, qtype=1):
    return DNS(id=i, rd=1, qd=DNSQR(qname=name, qtype=qtype))


def response(i, name, n, qtype=1):
    if qtype == 16:
        an = [DNSRR(rrname=name, type=16, ttl=60, rdata=[f"record {k} ".encode() * 6])
              for k in range(n)]
    else:
        an = [DNSRR(rrname=name, type=qtype, ttl=60,
                    rdata=f"192.0.2.{k}" if qtype == 1 else f"2001:db8::{k:x}") for k in range(n)]
    chain = an[0]
    for rr in an[1:]:
        chain = chain / rr  # scapy 2.5 takes the records as a chain, not a list
    return DNS(id=i, qr=1, aa=1, rd=1, ra=1, qd=DNSQR(qname=name, qtype=qtype), an=chain)


def build():
    frames, flows = [], []
    f = Flow(frames, False, 40001)  # several segments per message, all cut
    f.send(True, [query(1, "big.example.")])
    f.send(False, [response(1, "big.example.", 40)], [300, 300])
    f.send(True, [query(2, "one.example."), query(3, "two.example.")])  # two in one segment
    f.send(False, [response(2, "one.example.", 1), response(3, "two.example.", 1)])
    f.send(True, [query(4, "split.example.")], [1, 10])  # split, none cut
    f.send(False, [response(4, "split.example.", 2)], [30])
    f.close()
    flows.append(f)
    f = Flow(frames, False, 40002)  # a whole first segment, then a cut one
    f.send(True, [query(5, "txt.example.", 16)])
    f.send(False, [response(5, "txt.example.", 8, 16)], [100])
    f.send(True, [query(6, "after.example.")])
    f.send(False, [response(6, "after.example.", 2)])
    # The end of one message and the start of a next one cut in the same segment.
    f.send(False, [response(9, "pair-a.example.", 2), response(10, "pair-b.example.", 30)], [40])
    f.close()
    flows.append(f)
    f = Flow(frames, True, 40003)  # IPv6: the payload length tells the cut
    f.send(True, [query(7, "six.example.", 28)])
    f.send(False, [response(7, "six.example.", 20, 28)], [250])
    f.send(True, [query(8, "next.example.", 28)])
    f.close()
    flows.append(f)
    return frames, flows


def write_pcap(path, frames, snaplen=65535):
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, 1))
        for i, fr in enumerate(frames):
            cap = fr[:snaplen]
            out.write(struct.pack("<IIII", 1_700_000_000 + i, 0, len(cap), len(fr)) + cap)


def expected(frames, flows):
    """(keys of messages the cut reaches, frames that should yield a message when cut)."""
    cut_keys, yielding = set(), set()
    for f in flows:
        lost = []  # (frame, to_server, stream range the capture lacks)
        kept = {}  # frame -> (to_server, stream range captured)
        for fi, to_server, off, n in f.segments:
            have = max(0, min(n, SNAPLEN - (len(frames[fi]) - n)))
            kept[fi] = (to_server, off, off + have)
            if have < n:
                lost.append((fi, to_server, off + have, off + n))
        for mi, (to_server, off, n) in enumerate(f.messages):
            end = off + n
            hits = [fi for fi, d, a, b in lost if d == to_server and a < end and b > off]
            for fi, d, a, b in lost:
                assert not (d == to_server and a <= off + 1 < b), "a length prefix is cut"
            # The frame that completes the message, or the first that cuts it.
            done = min(hits) if hits else next(
                fi for fi, (d, a, b) in sorted(kept.items()) if d == to_server and a < end <= b)
            yielding.add(done)
            if hits:
                cut_keys.add((f.cport, to_server, mi))
    return cut_keys, yielding


def run(stash53, pcap):
    proc = subprocess.run([stash53, "-r", str(pcap), "--stdout", "-N", "test"],
                          capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        sys.exit(f"{pcap}: stash53 exit status {proc.returncode}: {proc.stderr}")
    m = re.search(r'msg="(packets=[^|"]*)', proc.stderr)
    if not m:
        sys.exit(f"{pcap}: no stats line in {proc.stderr!r}")
    stats = {}
    for k, v in re.findall(r"([a-z-]+)=(\d+)", m.group(1)):
        stats.setdefault(k, int(v))  # malformed=N before its (reason=N,…)
    return [json.loads(line) for line in proc.stdout.splitlines()], stats


def tshark_messages(pcap):
    out = subprocess.run(["tshark", "-r", str(pcap), "-Y", "dns && !icmp && !icmpv6", "-T",
                          "fields", "-e", "frame.number", "-e", "dns.id", "-e", "dns.qry.name",
                          "-e", "dns.qry.type"], capture_output=True, text=True, check=True).stdout
    msgs, frames = [], set()
    for line in out.splitlines():
        frame, ids, names, types = (line.split("\t") + ["", "", ""])[:4]
        frames.add(frame)
        for i, n, t in zip(ids.split(","), names.split(","), types.split(",")):
            msgs.append((int(i, 0), n.rstrip(".") + ".", QTYPES.get(int(t), t) if t else t))
    return msgs, frames


def accounting(stash53, pcap, with_dns, problems):
    _, s = run(stash53, pcap)
    reasons = sum(v for k, v in s.items() if k in REASONS)
    yielded = s["packets"] - reasons
    if not 0 <= yielded <= s["messages"] or yielded != with_dns:
        problems.append(f"{pcap.name}: packets={s['packets']} reasons={reasons} "
                        f"messages={s['messages']}, packets with DNS {with_dns}")
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stash53", required=True)
    ap.add_argument("--pcaps", type=pathlib.Path, action="append", default=[])
    args = ap.parse_args()
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        full, cut = pathlib.Path(tmp, "full.pcap"), pathlib.Path(tmp, "cut.pcap")
        frames, flows = build()
        write_pcap(full, frames)
        write_pcap(cut, frames, SNAPLEN)
        cut_keys, yielding = expected(frames, flows)
        oracle, oracle_frames = tshark_messages(full)
        whole, _ = run(args.stash53, full)
        events, stats = run(args.stash53, cut)
        key = lambda e: (e["s_port"] if e["d_port"] == 53 else e["d_port"],  # noqa: E731
                         e["d_port"] == 53, e["id"])
        by_key = {key(e): e for e in events}
        whole_by_key = {key(e): e for e in whole}
        if len(by_key) != len(events) or len(whole) != len(oracle):
            problems.append(f"{len(events)} cut events, {len(whole)} whole, tshark {len(oracle)}")
        got = sorted((e["id"], e["qname"], e["qtype"]) for e in events)
        if got != sorted(oracle):
            problems.append(f"cut capture's messages {got} != tshark's {sorted(oracle)}")
        # Message keys by construction: (client port, to server, index) -> (port, to server, id).
        ids = {}
        for f in flows:
            for mi, (to_server, _, _) in enumerate(f.messages):
                ids[(f.cport, to_server, mi)] = None
        n_cut = 0
        for k, w in whole_by_key.items():
            e = by_key.get(k)
            if e is None:
                problems.append(f"{k}: not emitted from the cut capture")
                continue
            f = next(f for f in flows if f.cport == k[0])
            mi = [i for i, (d, _, _) in enumerate(f.messages) if d == k[1]]
            # The n-th message in that direction has the n-th id sent in it (ids increase).
            order = sorted(x["id"] for x in whole if key(x)[:2] == k[:2]).index(k[2])
            is_cut = (k[0], k[1], mi[order]) in cut_keys
            e, w = dict(e, n=0), dict(w, n=0)
            if not is_cut:
                if e != w:
                    problems.append(f"{k}: not cut, yet differs: {e} != {w}")
                continue
            n_cut += 1
            same = ("id", "qname", "qtype", "ancount", "nscount", "arcount", "flags", "rcode")
            if not e.get("malformed", "").startswith("truncated-"):
                problems.append(f"{k}: cut but malformed={e.get('malformed')!r}")
            if any(e[f] != w[f] for f in same):
                problems.append(f"{k}: header or question differs from the whole capture's")
            if not e["answers"] or e["answers"] != w["answers"][:len(e["answers"])] or \
                    len(e["answers"]) == len(w["answers"]):
                problems.append(f"{k}: answers not a strict, non-empty prefix of the whole's")
        if n_cut != len(cut_keys) or n_cut < 3:
            problems.append(f"{n_cut} cut messages checked, {len(cut_keys)} built")
        accounting(args.stash53, full, len(oracle_frames), problems)
        accounting(args.stash53, cut, len(yielding), problems)
        print(f"snaplen {SNAPLEN}: {len(frames)} packets, {len(oracle)} messages, {n_cut} cut; "
              f"cut capture stats: " + " ".join(f"{k}={v}" for k, v in stats.items()))
        for d in args.pcaps:
            for pcap in sorted(d.glob("*.pcap")):
                _, frames_with_dns = tshark_messages(pcap)
                s = accounting(args.stash53, pcap, len(frames_with_dns), problems)
                print(f"{pcap.name}: packets={s['packets']} messages={s['messages']} accounted")
    for p in problems:
        print("FAIL", p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
