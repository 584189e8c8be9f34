#!/usr/bin/python3
"""Crafted captures for full-fidelity decoding (the fields as `stash53 --list-fields` describes them).

build(outdir) writes, deterministically, captures of IP fragments (v4, v6), DNS over TCP
corner cases, EDNS options, mDNS and malformed messages, as servers and clients on the
example.org zone of the shared samples would send them.  Each Capture carries the checks
tshark cannot make (see Capture.expect).  axfr(outdir) records a real zone transfer: nsd
and kdig on a private loopback (root; unshare --net).

    /usr/bin/python3 tests/integration/crafted_captures.py OUTDIR
"""
import os
import pathlib
import random
import re
import signal
import socket
import struct
import subprocess
import sys
import time
from decimal import Decimal

from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6, IPv6ExtHdrFragment
from scapy.layers.l2 import Ether
from scapy.packet import Raw
from scapy.utils import wrpcap

T0, STEP = Decimal(1690000000), Decimal("0.000100")  # first frame's time, time between frames
CLIENT4, SERVER4, CLIENT6, SERVER6 = ("198.51.100.100", "198.51.100.53",
                                      "2001:db8:feed::100", "2001:db8:feed::53")
MDNS4, MDNS6 = "224.0.0.251", "ff02::fb"
MACS = {SERVER4: "02:00:00:00:00:53", SERVER6: "02:00:00:00:00:53",
        MDNS4: "01:00:5e:00:00:fb", MDNS6: "33:33:00:00:00:fb"}
CLIENT_MAC = "02:00:00:00:01:00"
TYPES = {"A": 1, "NS": 2, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28, "SRV": 33, "RRSIG": 46,
         "DNSKEY": 48}
IN, FLUSH = 1, 0x8000  # FLUSH: mDNS cache-flush (records) / unicast-response (questions) bit
QUERY, RESPONSE, AA = 0x0100, 0x8180, 0x0400  # RD; QR RD RA; authoritative answer
NSID, ECS, COOKIE, KEEPALIVE, PADDING, EDE = 3, 8, 10, 11, 12, 15
ABSENT = "<absent>"  # in Capture.expect: the field must not be in the event


# ---------------------------------------------------------------- DNS messages

class Msg:
    """A DNS message, written section by section with name compression as servers do."""
    TYPES = TYPES  # mnemonic → number; a subclass may know more

    def compress_in_rdata(self, rtype):
        return rtype not in ("RRSIG", "SRV")  # RFC 3597 §4: only the old types compress

    def __init__(self, id, flags, qname=None, qtype="A", qclass=IN):
        self.wire = bytearray(struct.pack("!HH8x", id, flags))
        self.counts, self.offsets = [0] * 4, {}  # offsets: where each name suffix was written
        if qname:
            self.name(qname)
            self.wire += struct.pack("!HH", self.TYPES[qtype], qclass)
            self.counts[0] = 1

    def question(self, name, qtype="A", qclass=IN):
        """Appends one more question (before any record)."""
        self.name(name)
        self.wire += struct.pack("!HH", self.TYPES[qtype], qclass)
        self.counts[0] += 1
        return self

    def name(self, name, compress=True):
        labels = [label.encode() for label in name.split(".") if label]
        for i, label in enumerate(labels):
            suffix = b".".join(labels[i:]).lower()
            if compress and suffix in self.offsets:
                self.wire += struct.pack("!H", 0xC000 | self.offsets[suffix])
                return
            self.offsets.setdefault(suffix, len(self.wire))
            self.wire += bytes([len(label)]) + label
        self.wire += b"\0"

    def rr(self, section, name, rtype, ttl, *rdata, rclass=IN):
        """Appends a record to section 1-3; rdata parts are bytes or (compressed) names."""
        self.name(name)
        start = len(self.wire) + 10
        self.wire += struct.pack("!HHIH", self.TYPES[rtype], rclass, ttl, 0)
        for part in rdata:
            if isinstance(part, str):
                self.name(part, compress=self.compress_in_rdata(rtype))
            else:
                self.wire += part
        struct.pack_into("!H", self.wire, start - 2, len(self.wire) - start)
        self.counts[section] += 1
        return self

    def opt(self, udp=1232, version=0, do=False, ext_rcode=0, options=()):
        data = b"".join(struct.pack("!HH", code, len(v)) + v for code, v in options)
        self.wire += b"\0" + struct.pack("!HHIH", 41, udp, ext_rcode << 24 | version << 16
                                         | do << 15, len(data)) + data
        self.counts[3] += 1
        return self

    def __bytes__(self):
        return bytes(self.wire[:4]) + struct.pack("!4H", *self.counts) + bytes(self.wire[12:])


def a(addr):
    return socket.inet_pton(socket.AF_INET, addr)


def aaaa(addr):
    return socket.inet_pton(socket.AF_INET6, addr)


def txt(*strings):
    return b"".join(bytes([len(s)]) + s.encode() for s in strings)


def u16(*values):
    return struct.pack(f"!{len(values)}H", *values)


def with_ns(msg):
    """The authority section nsd adds to positive answers."""
    for ns in ("ns1.example.org", "ns2.example.org"):
        msg.rr(2, "example.org", "NS", 86400, ns)
    return msg


def query(id, qname, qtype="A", **opt):
    msg = Msg(id, QUERY, qname, qtype)
    return msg.opt(**opt) if opt else msg


def dnskey_response(id):
    """example.org DNSKEY with DO during a key rollover: 4 RSA-4096 keys, 2 RRSIGs (~3.1 kB)."""
    rnd = random.Random(48)
    msg = Msg(id, RESPONSE | AA, "example.org", "DNSKEY")
    for flags in (257, 257, 256, 256):
        msg.rr(1, "example.org", "DNSKEY", 3600, struct.pack("!HBB", flags, 3, 8),
               b"\x03\x01\x00\x01" + rnd.randbytes(512))
    for tag in (59519, 10191):
        msg.rr(1, "example.org", "RRSIG", 3600,
               struct.pack("!HBBIIIH", 48, 8, 2, 3600, 2019686400, 1704067200, tag),
               "example.org", rnd.randbytes(512))
    return msg.opt(udp=4096, do=True)


def txt_response(id):
    """Twelve 240-byte TXT records (~3.1 kB), as a zone full of site-verification tokens."""
    rnd = random.Random(16)
    msg = Msg(id, RESPONSE | AA, "example.org", "TXT")
    for i in range(12):
        msg.rr(1, "example.org", "TXT", 300, txt(f"token{i:02}=" + rnd.randbytes(116).hex()))
    return with_ns(msg).opt(udp=4096)


def a_response(id, qname="example.org"):
    return with_ns(Msg(id, RESPONSE | AA, qname, "A").rr(1, qname, "A", 300, a("198.51.100.10")))


# ---------------------------------------------------------------- packets and captures

class Capture:
    """Frames of one capture file, one frame every STEP from T0, and extra checks."""

    def __init__(self, name, what):
        self.name, self.what, self.frames, self.checks = name, what, [], []
        self.tshark_misses, self.tshark_differs = [], []
        self.ipid = 0x1000

    def add(self, *packets):
        for p in packets:
            macs = MACS.get(p.src, CLIENT_MAC), MACS.get(p.dst, CLIENT_MAC)
            self.frames.append(Ether(src=macs[0], dst=macs[1]) / p)

    def ip(self, src, dst):
        if ":" in src:
            return IPv6(src=src, dst=dst, hlim=255 if dst == MDNS6 else 64)
        self.ipid += 1
        return IP(src=src, dst=dst, id=self.ipid, ttl=255 if dst == MDNS4 else 64)

    def udp(self, src, dst, sport, dport, payload):
        return self.ip(src, dst) / UDP(sport=sport, dport=dport) / Raw(bytes(payload))

    def exchange(self, port, q, r, v6=False):
        client, server = (CLIENT6, SERVER6) if v6 else (CLIENT4, SERVER4)
        self.add(self.udp(client, server, port, 53, q), self.udp(server, client, 53, port, r))

    def expect(self, want, tshark_misses=False, tshark_differs=None, **match):
        """The one event whose fields equal `match` must have the fields of `want` (dotted
        paths into objects and lists; a set allows any of its values; ABSENT: no such
        field).  want=None: no event may match.  tshark_misses: tshark lists no such
        message, so the event is checked here only.  tshark_differs: why tshark's reading
        of this message is not the standard's; it is then checked here only."""
        self.checks.append((match, want))
        if tshark_misses:
            self.tshark_misses.append(match)
        if tshark_differs:
            self.tshark_differs.append(match)

    def write(self, outdir):
        for i, frame in enumerate(self.frames):
            frame.time = T0 + i * STEP
        self.path = pathlib.Path(outdir) / f"{self.name}.pcap"
        wrpcap(str(self.path), self.frames)
        return self


class Flow:
    """One TCP connection from a client port to the server's port (53)."""

    def __init__(self, cap, port, v6=False, isn=(0x3A000000, 0x5B000000), server_port=53):
        self.cap, self.port, self.server_port = cap, port, server_port
        self.addr = {True: CLIENT6 if v6 else CLIENT4, False: SERVER6 if v6 else SERVER4}
        self.seq = {True: isn[0], False: isn[1]}

    def seg(self, client, data=b"", flags="PA"):
        """The next segment from one side (client=True), with everything sent so far acked."""
        ack = self.seq[not client] if "A" in flags else 0
        p = (self.cap.ip(self.addr[client], self.addr[not client])
             / TCP(sport=self.port if client else self.server_port,
                   dport=self.server_port if client else self.port,
                   seq=self.seq[client], ack=ack, flags=flags, window=502) / Raw(data))
        self.seq[client] += len(data) + ("S" in flags) + ("F" in flags)
        return p

    def open(self):
        self.cap.add(self.seg(True, flags="S"), self.seg(False, flags="SA"),
                     self.seg(True, flags="A"))

    def send(self, client, *chunks):
        """Sends each chunk as one segment, each acked by the other side."""
        for chunk in chunks:
            self.cap.add(self.seg(client, chunk), self.seg(not client, flags="A"))

    def close(self):
        self.cap.add(self.seg(True, flags="FA"), self.seg(False, flags="FA"),
                     self.seg(True, flags="A"))


def framed(*msgs):
    return b"".join(struct.pack("!H", len(bytes(m))) + bytes(m) for m in msgs)


def cut(data, *at):
    bounds = (0, *at, len(data))
    return [data[i:j] for i, j in zip(bounds, bounds[1:])]


def fragments4(cap, src, dst, sport, dport, dns, pieces=None):
    """IPv4 fragments of one UDP datagram; `pieces` (offset, length) default to MTU 1500."""
    datagram = bytes(IP(src=src, dst=dst) / UDP(sport=sport, dport=dport) / bytes(dns))[20:]
    pieces = pieces or [(o, 1480) for o in range(0, len(datagram), 1480)]
    cap.ipid += 1
    return [IP(src=src, dst=dst, id=cap.ipid, proto=17, frag=o // 8,
               flags="MF" if o + n < len(datagram) else 0) / Raw(datagram[o:o + n])
            for o, n in pieces]


def fragments6(cap, src, dst, sport, dport, dns):
    """IPv6 fragments of one UDP datagram at MTU 1500, as Linux cuts them (1448 bytes)."""
    datagram = bytes(IPv6(src=src, dst=dst) / UDP(sport=sport, dport=dport) / bytes(dns))[40:]
    cap.ipid += 1
    return [IPv6(src=src, dst=dst) / IPv6ExtHdrFragment(nh=17, id=cap.ipid, offset=o // 8,
                                                        m=o + 1448 < len(datagram))
            / Raw(datagram[o:o + 1448]) for o in range(0, len(datagram), 1448)]


# ---------------------------------------------------------------- the captures

def fragmented():
    caps = []
    orders = {"inorder": lambda f: f, "reversed": lambda f: f[::-1],
              "duplicate": lambda f: [f[0], f[1], f[1], f[2]],
              "missing": lambda f: [f[0], f[2]]}
    for name, order in orders.items():
        cap = Capture(f"ip4-frag-{name}", f"DNSKEY response in 3 IPv4 fragments, {name}")
        cap.add(cap.udp(CLIENT4, SERVER4, 40001, 53, query(0x4101, "example.org", "DNSKEY",
                                                           udp=4096, do=True)))
        cap.add(*order(fragments4(cap, SERVER4, CLIENT4, 53, 40001, dnskey_response(0x4101))))
        cap.exchange(40002, query(0x4102, "www.example.org"), a_response(0x4102, "www.example.org"))
        caps.append(cap)
    cap = Capture("ip4-frag-overlap", "IPv4 fragments overlapping by 40 and 8 bytes, same data")
    cap.add(cap.udp(CLIENT4, SERVER4, 40001, 53, query(0x4103, "example.org", "DNSKEY",
                                                       udp=4096, do=True)))
    cap.add(*fragments4(cap, SERVER4, CLIENT4, 53, 40001, dnskey_response(0x4103),
                        [(0, 1480), (1440, 1480), (2912, 400)]))
    caps.append(cap)
    for name, order in (("inorder", lambda f: f), ("reversed", lambda f: f[::-1])):
        cap = Capture(f"ip6-frag-{name}", f"TXT response in 3 IPv6 fragments, {name}")
        cap.add(cap.udp(CLIENT6, SERVER6, 40001, 53, query(0x6101, "example.org", "TXT", udp=4096)))
        cap.add(*order(fragments6(cap, SERVER6, CLIENT6, 53, 40001, txt_response(0x6101))))
        caps.append(cap)
    return caps


def tcp():
    caps = []

    def flow_cap(name, what, v6=False):
        caps.append(Capture(name, what))
        flow = Flow(caps[-1], 41000, v6)
        flow.open()
        return caps[-1], flow

    big = framed(dnskey_response(0x7101))
    q = framed(query(0x7101, "example.org", "DNSKEY", udp=4096, do=True))
    cap, f = flow_cap("tcp-split3", "a 3.1 kB response in 3 segments (MSS 1428), IPv6", v6=True)
    f.send(True, q)
    f.send(False, *cut(big, 1428, 2856))
    f.close()

    cap, f = flow_cap("tcp-two-per-segment", "two pipelined queries in one segment, both "
                      "responses in the next one")
    f.send(True, framed(query(0x7201, "example.org"), query(0x7202, "example.org", "MX")))
    mx = with_ns(Msg(0x7202, RESPONSE | AA, "example.org", "MX")
                 .rr(1, "example.org", "MX", 3600, u16(10), "mx1.example.org"))
    f.send(False, framed(a_response(0x7201), mx))
    f.close()

    cap, f = flow_cap("tcp-prefix-split", "2-byte length prefix and message in separate segments")
    f.send(True, *cut(framed(query(0x7301, "www.example.org")), 2))
    f.send(False, *cut(framed(a_response(0x7301, "www.example.org")), 2))
    f.close()

    cap, f = flow_cap("tcp-out-of-order", "the response's last segment captured before the "
                      "second one (MSS 1448)")
    f.send(True, q)
    first, second, third = (f.seg(False, chunk) for chunk in cut(big, 1448, 2896))
    cap.add(first, third, second, f.seg(True, flags="A"))
    f.close()

    cap, f = flow_cap("tcp-retransmit", "the response's first segment retransmitted, then the "
                      "query's segment retransmitted after the response")
    seg = f.seg(True, q)
    first, second, third = (f.seg(False, chunk) for chunk in cut(big, 1448, 2896))
    cap.add(seg, first, first.copy(), second, third, seg.copy(), f.seg(True, flags="A"))
    f.close()

    cap = Capture("tcp-midstream", "capture starts inside a response (no SYN), then two whole "
                  "exchanges on the same connection")
    caps.append(cap)
    f = Flow(cap, 41000)
    cap.add(f.seg(False, big[-700:]))
    for id in (0x7601, 0x7602):
        f.send(True, framed(query(id, "example.org")))
        f.send(False, framed(a_response(id)))
        # tshark takes the first two bytes it sees as a length prefix and never resyncs
        cap.expect({"answers.0.data": "198.51.100.10"}, tshark_misses=True, id=id,
                   msg_type="response")

    cap, f = flow_cap("tcp-fin-rst", "FIN close; a reset inside a response; the port reused by "
                      "a new connection that the client resets")
    f.send(True, framed(query(0x7701, "example.org")))
    f.send(False, framed(a_response(0x7701)))
    f.close()
    f = Flow(cap, 41001)
    f.open()
    f.send(True, q)
    f.send(False, big[:1000])
    cap.add(f.seg(False, flags="RA"))
    f = Flow(cap, 41001, isn=(0x3C000000, 0x5D000000))
    f.open()
    f.send(True, framed(query(0x7702, "example.org")))
    f.send(False, framed(a_response(0x7702)))
    cap.add(f.seg(True, flags="RA"))

    cap, f = flow_cap("tcp-zero-length", "a zero DNS length prefix alone in a segment, then a "
                      "query and its response")
    f.send(True, b"\0\0", framed(query(0x7801, "example.org")))
    f.send(False, framed(a_response(0x7801)))
    f.close()
    return caps


def ecs(address, source, scope=0):
    """An EDNS Client Subnet option: the address cut to its source prefix (RFC 7871)."""
    raw = (aaaa if ":" in address else a)(address)[:(source + 7) // 8]
    return ECS, u16(2 if ":" in address else 1, source << 8 | scope) + raw


def ecs_event(address, source, scope=0):
    return {"family": 2 if ":" in address else 1, "source_prefix": source,
            "scope_prefix": scope, "address": address}


def edns():
    cap = Capture("edns", "EDNS options in queries and responses, over UDP and TCP")
    client_cookie = bytes.fromhex("b7c17699ae97d9d9")
    server_cookie = bytes.fromhex("010000006b0484c3aa43c83bdcc82bcd")
    exchanges = [  # (id, query options, response options, expected edns fields of both)
        (0x5101, [(NSID, b"")], [(NSID, b"ns1-fra")],
         ({"nsid": "", "nsid_hex": ""}, {"nsid": "ns1-fra", "nsid_hex": "6e73312d667261"})),
        (0x5102, [(NSID, b"")], [(NSID, bytes.fromhex("00c0ffee"))],
         ({"nsid": ""}, {"nsid": ABSENT, "nsid_hex": "00c0ffee"})),
        (0x5103, [ecs("198.51.100.0", 24)], [ecs("198.51.100.0", 24, 24)],
         ({"ecs": ecs_event("198.51.100.0", 24)}, {"ecs": ecs_event("198.51.100.0", 24, 24)})),
        (0x5104, [ecs("2001:db8:feed::", 56)], [ecs("2001:db8:feed::", 56, 48)],
         ({"ecs": ecs_event("2001:db8:feed::", 56)},
          {"ecs": ecs_event("2001:db8:feed::", 56, 48)})),
        (0x5105, [ecs("0.0.0.0", 0)], [],  # a client that opts out: no address bytes
         ({"ecs": ecs_event("0.0.0.0", 0)}, {"ecs": ABSENT})),
        (0x5106, [(COOKIE, client_cookie)], [(COOKIE, client_cookie + server_cookie)],
         ({"cookie": {"client": client_cookie.hex()}, "cookie.server": ABSENT},
          {"cookie": {"client": client_cookie.hex(), "server": server_cookie.hex()}})),
        (0x5107, [(COOKIE, client_cookie + server_cookie), (PADDING, bytes(93))],
         [(COOKIE, client_cookie + server_cookie), (PADDING, bytes(345))],
         ({"cookie.server": server_cookie.hex(), "padding": 93}, {"padding": 345})),
        (0x5108, [(65001, bytes.fromhex("abcd")), (NSID, b"")], [],
         ({"options": [{"code": 65001, "hex": "abcd"}], "nsid": ""}, {"options": ABSENT})),
    ]
    for i, (id, qopts, ropts, (qwant, rwant)) in enumerate(exchanges):
        resp = a_response(id, "www.example.org").opt(udp=1232, options=ropts)
        cap.exchange(42000 + i, query(id, "www.example.org", options=qopts), resp)
        cap.expect({f"edns.{k}": v for k, v in qwant.items()}, id=id, msg_type="query")
        cap.expect({f"edns.{k}": v for k, v in rwant.items()}, id=id, msg_type="response")
    ede_names = {6: "DNSSEC Bogus", 10: "RRSIGs Missing", 18: "Prohibited"}
    for i, (id, rcode, name, codes) in enumerate([
            (0x5109, 2, "SERVFAIL", [(6, "signature by 59519 failed"), (10, "")]),
            (0x510A, 5, "REFUSED", [(18, "")])]):
        resp = Msg(id, RESPONSE | rcode, "bogus.example.org").opt(
            options=[(EDE, u16(code) + text.encode()) for code, text in codes])
        cap.exchange(42100 + i, query(id, "bogus.example.org", udp=1232), resp, v6=True)
        want = [dict(code=code, name=ede_names[code], **({"text": text} if text else {}))
                for code, text in codes]
        cap.expect({"rcode": name, "edns.ede": want}, id=id, msg_type="response")
    # A version-1 query and the BADVERS answer (extended rcode 1, header rcode 0).
    cap.exchange(42200, query(0x510B, "example.org", version=1),
                 Msg(0x510B, RESPONSE, "example.org").opt(ext_rcode=1))
    cap.expect({"rcode": "BADVERS", "error": True, "edns.ext_rcode": 1, "edns.version": 0},
               id=0x510B, msg_type="response")
    cap.expect({"edns.version": 1}, id=0x510B, msg_type="query")
    # edns-tcp-keepalive belongs to TCP: empty in the query, a timeout in the response.
    f = Flow(cap, 42300)
    f.open()
    f.send(True, framed(query(0x510C, "example.org", options=[(KEEPALIVE, b"")])))
    f.send(False, framed(a_response(0x510C).opt(options=[(KEEPALIVE, u16(1200))])))
    f.close()
    cap.expect({"edns.keepalive": None}, id=0x510C, msg_type="query")
    cap.expect({"edns.keepalive": 1200}, id=0x510C, msg_type="response")
    return [cap, bad_ecs()]


def bad_ecs():
    """Client Subnet options that break RFC 7871 §6: kept, the message flagged bad-edns, and the
    option after them (NSID) still read."""
    cap = Capture("edns-bad-ecs", "ECS with a prefix too long for its family, too many or too "
                  "few address bytes, bits set past the prefix; then a valid one")
    cases = [  # (id, family, source, address bytes, the address as shown)
        (0x5201, 1, 33, bytes([192, 0, 2, 1]), "192.0.2.1"),
        (0x5202, 1, 24, bytes([198, 51, 100, 7]), "198.51.100.7"),
        (0x5203, 1, 24, bytes([198, 51]), "198.51.0.0"),
        (0x5204, 1, 22, bytes([198, 51, 101]), "198.51.101.0"),
        (0x5205, 2, 129, aaaa("2001:db8::1"), "2001:db8::1"),
        (0x5206, 1, 22, bytes([198, 51, 100]), "198.51.100.0"),  # consistent
    ]
    for i, (id, family, source, raw, shown) in enumerate(cases):
        opt = (ECS, u16(family, source << 8) + raw)
        cap.exchange(42400 + i, query(id, "www.example.org", options=[opt, (NSID, b"")]),
                     a_response(id, "www.example.org"))
        cap.expect({"malformed": "bad-edns" if id != 0x5206 else ABSENT, "edns.nsid": "",
                    "edns.ecs": {"family": family, "source_prefix": source, "scope_prefix": 0,
                                 "address": shown}}, id=id, msg_type="query",
                   tshark_differs=None if id == 0x5206 else
                   "tshark 4.0 decodes these options as they are, without flagging them")
    return cap


def mdns():
    cap = Capture("mdns", "mDNS on 5353, v4 and v6: QU questions, cache-flush records; "
                  "the same bits on port 53 are plain classes")
    for client, group in ((CLIENT4, MDNS4), (CLIENT6, MDNS6)):
        cap.add(cap.udp(client, group, 5353, 5353, Msg(0, 0, "_ipp._tcp.local", "PTR", IN | FLUSH)))
        resp = (Msg(0, 0x8400).rr(1, "_ipp._tcp.local", "PTR", 4500, "printer._ipp._tcp.local")
                .rr(1, "printer._ipp._tcp.local", "SRV", 120, u16(0, 0, 631), "printer.local",
                    rclass=IN | FLUSH)
                .rr(1, "printer._ipp._tcp.local", "TXT", 4500, txt("txtvers=1", "rp=ipp/print"),
                    rclass=IN | FLUSH)
                .rr(3, "printer.local", "A", 120, a("198.51.100.77"), rclass=IN | FLUSH)
                .rr(3, "printer.local", "AAAA", 120, aaaa("2001:db8:feed::77"), rclass=IN | FLUSH))
        cap.add(cap.udp(SERVER4 if client == CLIENT4 else SERVER6, group, 5353, 5353, resp))
        cap.expect({"qu": True, "qclass": "IN"}, s_addr=client, d_port=5353)
        cap.expect({"answers.0.cache_flush": ABSENT, "answers.0.class": "IN",
                    "answers.1.cache_flush": True, "answers.1.class": "IN",
                    "answers.2.cache_flush": True, "additionals.1.cache_flush": True,
                    "additionals.1.class": "IN"}, d_addr=group, msg_type="response")
    # Four questions in one query, as mDNS resolvers send them (issue 13: every question).
    four = (Msg(0, 0, "_ipp._tcp.local", "PTR").question("printer.local", "A", IN | FLUSH)
            .question("printer.local", "AAAA").question("7.2.0.10.in-addr.arpa", "PTR"))
    cap.add(cap.udp("198.51.100.101", MDNS4, 5353, 5353, four))
    cap.expect({"qdcount": 4, "qname": "_ipp._tcp.local.", "questions.0.qu": ABSENT,
                "questions.1.name": "printer.local.", "questions.1.qu": True,
                "questions.1.class": "IN", "questions.2.type": "AAAA",
                "questions.3.name": "7.2.0.10.in-addr.arpa.", "questions.3.type": "PTR"},
               qdcount=4)
    # Two questions on port 53: the FORMERR a server gives (RFC 9619), both listed.
    two = Msg(0x5302, QUERY, "example.org", "A").question("www.example.org", "AAAA")
    formerr = Msg(0x5302, RESPONSE | 1, "example.org", "A").question("www.example.org", "AAAA")
    cap.exchange(43001, two, formerr)
    cap.expect({"questions.1.name": "www.example.org.", "questions.1.type": "AAAA", "rcode": "FORMERR"},
               id=0x5302, msg_type="response")
    unicast = Msg(0x5301, RESPONSE | AA, "example.org", "A", IN | FLUSH).rr(
        1, "example.org", "A", 300, a("198.51.100.10"), rclass=IN | FLUSH)
    cap.exchange(43000, Msg(0x5301, QUERY, "example.org", "A", IN | FLUSH), unicast)
    cap.expect({"qu": ABSENT, "qclass": "CLASS32769"}, id=0x5301, msg_type="query")
    cap.expect({"answers.0.class": "CLASS32769", "answers.0.cache_flush": ABSENT},
               id=0x5301, msg_type="response")
    return [cap, llmnr()]


LLMNR4, LLMNR6 = "224.0.0.252", "ff02::1:3"  # RFC 4795 §2
C, T = 0x0400, 0x0100  # LLMNR's conflict and tentative bits, where DNS has AA and RD


def llmnr():
    """LLMNR (RFC 4795) on 5355: multicast queries with unicast answers over UDP, v4 and v6, the
    C and T bits, and a query over TCP after a TC answer."""
    cap = Capture("llmnr", "LLMNR on 5355: multicast queries, unicast answers with C and T, TCP")
    for i, (client, group, server) in enumerate(((CLIENT4, LLMNR4, SERVER4), (CLIENT6, LLMNR6, SERVER6))):
        id = 0x5401 + i
        cap.add(cap.udp(client, group, 49000 + i, 5355, Msg(id, 0, "printer", "A" if i == 0 else "AAAA")))
        answer = (Msg(id, 0x8000 | C | T, "printer", "A" if i == 0 else "AAAA")
                  .rr(1, "printer", "A", 30, a("198.51.100.77")) if i == 0 else
                  Msg(id, 0x8000, "printer", "AAAA").rr(1, "printer", "AAAA", 30, aaaa("2001:db8::77")))
        cap.add(cap.udp(server, client, 5355, 49000 + i, answer))
        cap.expect({"proto": "llmnr", "flags": {"c": False, "tc": False, "t": False}},
                   id=id, msg_type="query")
        cap.expect({"proto": "llmnr", "flags": {"c": i == 0, "tc": False, "t": i == 0}},
                   id=id, msg_type="response")
    # A truncated UDP answer, then the same question over TCP (RFC 4795 §2.1.1).
    cap.add(cap.udp(CLIENT4, SERVER4, 49010, 5355, Msg(0x5410, 0, "nas", "TXT")),
            cap.udp(SERVER4, CLIENT4, 5355, 49010, Msg(0x5410, 0x8000 | 0x0200, "nas", "TXT")))
    cap.expect({"proto": "llmnr", "flags": {"c": False, "tc": True, "t": False}},
               id=0x5410, msg_type="response", transport="udp")
    f = Flow(cap, 49011, server_port=5355)
    f.open()
    f.send(True, framed(Msg(0x5411, 0, "nas", "TXT")))
    f.send(False, framed(Msg(0x5411, 0x8000, "nas", "TXT").rr(1, "nas", "TXT", 30, txt("model=x"))))
    f.close()
    # tshark 4.0 registers LLMNR for UDP 5355 only: these two are checked here alone.
    cap.expect({"proto": "llmnr", "transport": "tcp", "qtype": "TXT"}, tshark_misses=True,
               id=0x5411, msg_type="query")
    cap.expect({"proto": "llmnr", "transport": "tcp", "answers.0.data": '"model=x"'},
               tshark_misses=True, id=0x5411, msg_type="response")
    # Port 53 stays DNS, port 5353 mDNS.
    cap.exchange(49020, query(0x5420, "example.org"), a_response(0x5420))
    cap.expect({"proto": "dns", "flags.aa": False}, id=0x5420, msg_type="query")
    return cap


def malformed():
    hdr = lambda id, flags=QUERY, an=0: struct.pack("!6H", id, flags, 1, an, 0, 0)
    example, a10, long63 = b"\x07example\x03org\0", a("198.51.100.10"), "a" * 63

    def rec(owner, rtype, rdata, rdlen=None):
        return (owner + u16(rtype, 1)
                + struct.pack("!IH", 300, len(rdata) if rdlen is None else rdlen) + rdata)

    def response(id, qname, *records, an=None):  # the question is for type A
        return (hdr(id, RESPONSE, len(records) if an is None else an) + qname + u16(1, 1)
                + b"".join(records))

    cases = [  # (query?, payload, the expected malformed reason, or expected fields)
        # an RFC 2673 bitstring label (extended label type 0x41), a reserved label type (0x80),
        # a "64-byte label" (0x40: extended label type again)
        (True, hdr(0x4401) + b"\x03www\x41\x08\xab" + example + u16(1, 1), "bad-label-type",
         "tshark 4.0 still reads RFC 2673 bitstring labels, which RFC 6891 §5 retired"),
        (True, hdr(0x4402) + b"\x03www\x85hello\x03org\0" + u16(1, 1), "bad-label-type"),
        (True, hdr(0x4403) + b"\x40" + b"a" * 64 + b"\x03org\0" + u16(1, 1), "bad-label-type"),
        (True, bytes(query(0x4404, f"{long63}.example.org")), {"malformed": ABSENT}),
        (True, bytes(query(0x4405, ".".join([long63] * 4 + ["org"]))), "name-too-long"),
        # the question name a -> b (the NS record's data at offset 43) -> a -> ...
        # ... and yet the name ends at its first pointer, so its type and class are read
        (False, response(0x4406, b"\x01a\xc0\x2b", rec(example, 2, b"\x01b\xc0\x0c")),
         {"malformed": "compression-loop", "qname": ABSENT, "qtype": "A", "qclass": "IN"}),
        (False, response(0x4407, example, rec(b"\xc0\x1d", 1, a10)), "compression-loop"),  # itself
        (False, response(0x4408, example, rec(b"\xc0\xf0", 1, a10)), "bad-pointer"),
        # the question name points forward at the CNAME target in the answer (offset 34)
        (False, response(0x4409, b"\x03www\xc0\x22", rec(b"\xc0\x0c", 5, b"\x03web" + example)),
         {"malformed": ABSENT, "qname": "www.web.example.org.",
          "answers": [{"name": "www.web.example.org.", "type": "CNAME", "class": "IN",
                       "ttl": 300, "data": "web.example.org."}]}),
        # 200 wire bytes, then a pointer to a 65-byte name: 265 bytes once expanded
        (False, response(0x440A, b"\x3f" + b"a" * 63 + b"\0", rec(
            b"".join(b"\x3f" + c * 63 for c in (b"b", b"c", b"d")) + b"\x07example\xc0\x0c", 1,
            a10)), "name-too-long"),
        (False, bytes(a_response(0x440B))[:-30], "truncated-authority"),
        (False, response(0x440C, example, rec(b"\xc0\x0c", 16, txt("v=spf1 -all"), rdlen=200)),
         {"truncated-answer", "rdata-overrun"}),
        (False, response(0x440D, example, rec(b"\xc0\x0c", 1, a10 + b"\0")), "bad-rdata",
         "tshark shows the first 4 bytes of a 5-byte A record without flagging it"),
        (False, response(0x440E, example, rec(b"\xc0\x0c", 1, a10), an=3), "truncated-answer"),
        (True, b"", None),
        (True, b"GET / HTTP/1.1\r\nHost: example.org\r\n\r\n", {"malformed": {
            "truncated-question", "bad-label-type", "bad-pointer", "name-too-long"}}),
    ]
    cap = Capture("malformed", "one fault per message, each from its own client port, "
                  "between valid exchanges")
    cap.exchange(44000, query(0x4400, "example.org"), a_response(0x4400))
    for port, (is_query, payload, want, *tshark_differs) in enumerate(cases, 44001):
        cap.add(cap.udp(*((CLIENT4, SERVER4, port, 53) if is_query else
                          (SERVER4, CLIENT4, 53, port)), payload))
        cap.expect(want if want is None or isinstance(want, dict) else {"malformed": want},
                   tshark_differs=tshark_differs[0] if tshark_differs else None,
                   **{"s_port" if is_query else "d_port": port})
    cap.exchange(44100, query(0x4500, "example.org"), a_response(0x4500))
    header = Capture("malformed-header", "a query cut inside its header, then a valid exchange")
    header.add(header.udp(CLIENT4, SERVER4, 44001, 53, hdr(0x4401)[:7]))
    # 7 bytes: id, flags and qdcount arrived, ancount only half (see the field catalogue: `malformed`).
    header.expect({"malformed": "truncated-header", "id": 0x4401, "msg_type": "query",
                   "qdcount": 1, "ancount": ABSENT, "qname": ABSENT, "answers": ABSENT},
                  s_port=44001)
    header.exchange(44100, query(0x4500, "example.org"), a_response(0x4500))
    longest = Capture("name-255", "an exchange for a name of 255 bytes, the longest allowed")
    name = ".".join([long63] * 3 + ["a" * 61])
    longest.exchange(44001, query(0x4401, name), a_response(0x4401, name))
    longest.expect({"malformed": ABSENT, "qname": name + ".", "answers.0.name": name + "."},
                   id=0x4401, msg_type="response")
    return [cap, header, longest]


def build(outdir):
    """Writes every crafted capture (not the AXFR) into outdir; returns the Captures."""
    pathlib.Path(outdir).mkdir(parents=True, exist_ok=True)
    from crafted_rdata import rdata  # they build on this module's helpers
    from crafted_tunnels import tunnels
    return [cap.write(outdir) for group in (fragmented, tcp, edns, mdns, malformed, tunnels, rdata)
            for cap in group()]


# ---------------------------------------------------------------- a real AXFR

AXFR_ZONE = "\n".join([
    "$ORIGIN example.org.", "$TTL 300",
    "@ 3600 IN SOA ns1.example.org. hostmaster.example.org. 2024010101 7200 3600 1209600 300",
    "@ 86400 IN NS ns1.example.org.", "@ 86400 IN NS ns2.example.org.",
    "ns1 3600 IN A 198.51.100.53", "ns2 3600 IN A 198.51.100.54",
    "@ IN MX 10 mx1.example.org.", "mx1 IN A 198.51.100.25",
    *(f"host{i:03} IN A 198.51.100.{i % 250 + 1}\nhost{i:03} IN TXT \"asset {i:03}\" "
      f"\"{random.Random(i).randbytes(40).hex()}\"" for i in range(300))]) + "\n"


def axfr(outdir):
    """axfr.pcap of `kdig AXFR example.org` from nsd, captured on a private loopback with
    MTU 1500.  Returns (its Capture, the number of DNS messages and of records kdig got)."""
    outdir = pathlib.Path(outdir).resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    out = subprocess.run(["unshare", "--net", "--", sys.executable, __file__, "--axfr-netns",
                          str(outdir)], capture_output=True, text=True, timeout=30)
    if out.returncode:
        raise RuntimeError(f"AXFR capture failed: {out.stdout}{out.stderr}")
    cap = Capture("axfr", "a real AXFR: nsd to kdig over TCP on a 1500-byte-MTU loopback")
    cap.path = outdir / "axfr.pcap"
    return (cap, *map(int, out.stdout.split()))


def _axfr_in_netns(outdir):
    signal.signal(signal.SIGALRM, lambda *_: sys.exit("timed out"))  # still stops nsd, tcpdump
    signal.alarm(20)
    with open("/proc/self/net/dev") as f:  # never touch the host's loopback
        if [line.split(":")[0].strip() for line in f.readlines()[2:]] != ["lo"]:
            sys.exit("not in a private network namespace")
    for args in (["up"], ["mtu", "1500"], ["gso_max_size", "1500"]):  # no 64 kB TSO segments
        subprocess.run(["ip", "link", "set", "lo", *args], check=True)
    (outdir / "axfr.zone").write_text(AXFR_ZONE)
    conf = outdir / "axfr-nsd.conf"
    conf.write_text(f"""server:
    ip-address: 127.0.0.1
    port: 53
    username: ""
    chroot: ""
    database: ""
    zonesdir: "{outdir}"
    pidfile: "{outdir}/axfr-nsd.pid"
    zonelistfile: "{outdir}/axfr-nsd.zonelist"
    xfrdfile: "{outdir}/axfr-nsd.xfrd"
    xfrdir: "{outdir}"
    server-count: 1
    verbosity: 0
remote-control:
    control-enable: no
zone:
    name: example.org
    zonefile: axfr.zone
    provide-xfr: 127.0.0.1 NOKEY
""")
    procs = []
    try:
        procs.append(subprocess.Popen(["nsd", "-d", "-c", str(conf)], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL))
        kdig = ["kdig", "@127.0.0.1", "+timeout=1", "+retry=0"]
        for _ in range(100):
            if subprocess.run(kdig + ["example.org", "SOA", "+short"], capture_output=True,
                              text=True).stdout.strip():
                break
            time.sleep(0.05)
        else:
            raise RuntimeError("nsd did not answer within 5 s")
        pcap = outdir / "axfr.pcap"
        # A small snaplen and a big buffer: immediate mode holds one snaplen per packet.
        procs.append(subprocess.Popen(["tcpdump", "-i", "lo", "--immediate-mode", "-s", "1600",
                                       "-B", "32768", "-w", str(pcap), "tcp port 53"],
                                      stderr=subprocess.PIPE, text=True))
        for line in procs[-1].stderr:
            if "listening on" in line:  # the capture runs
                break
        else:
            raise RuntimeError("tcpdump exited before capturing")
        out = subprocess.run(kdig + ["AXFR", "example.org"], capture_output=True, text=True,
                             check=True).stdout
        print(*re.search(r";; Received \d+ B \((\d+) messages, (\d+) records\)", out).groups())
        time.sleep(0.1)  # let the last segments reach tcpdump
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--axfr-netns"]:
        _axfr_in_netns(pathlib.Path(sys.argv[2]))
    else:
        for cap in build(sys.argv[1]):
            print(f"{cap.path}: {len(cap.frames)} frames, {cap.what}")
        if os.geteuid() == 0:
            cap = axfr(sys.argv[1])[0]
            print(f"{cap.path}: {cap.what}")
