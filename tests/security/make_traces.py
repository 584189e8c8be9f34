#!/usr/bin/python3
"""Builds labelled DNS traces for the security classifier (enrich/security_classifier.*).

    /usr/bin/python3 tests/security/make_traces.py OUTDIR [--seed N]

Writes, deterministically for a seed:
  tunnel.pcap   iodine (NULL/PRIVATE/CNAME/TXT, base32/base64/base128), dnscat2 (hex,
                TXT/CNAME/MX, with and without a domain), DGA bursts (conficker-like and
                cryptolocker-like names, NXDOMAIN), slow exfiltration (one query every 5-30 s
                for an hour), TXT/ANY C2 polls, and the infected hosts' ordinary traffic.
  benign.pcap   the hard cases that must stay silent (CDN, Kubernetes, DNSBL, hash lookups,
                Chrome probes, reverse lookups, e-mail authentication, ACME, HTTPS/ESNI, mDNS,
                long readable names, random-looking cloud identifiers, AWS SDK endpoints, DC
                locator SRV, IoT retries, spam-forged sender domains) in ordinary web traffic.
  labels.tsv    trace, qname, msg_type, label (malicious|benign), family: one row per message.
  messages.tsv  trace, ts_ns, client, qname, qtype, msg_type, rcode, registered_domain,
                has_question, rd (the RD bit): the same rows, with what the classifier
                needs. The registered domain comes from Debian's public suffix list
                (package `publicsuffix`).

Qnames are written in stash53's presentation format (dig's: `\\.` and `\\DDD` escapes, case as
on the wire, trailing dot); mDNS responses carry no question (RFC 6762 §6), so their qname is
empty. Packets are Ethernet + IPv4 or IPv6 + UDP, built with scapy; timestamps are in
microseconds (classic pcap), spread over about two hours of capture time.
"""

import argparse
import os
import random
import struct
import sys

from scapy.all import IP, UDP, Ether, IPv6, Raw, raw  # Debian python3-scapy

PSL_PATH = "/usr/share/publicsuffix/public_suffix_list.dat"
T0_US = 1710147600 * 1_000_000  # 2024-03-11 09:00:00 UTC

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "NULL": 10, "PTR": 12, "MX": 15, "TXT": 16,
         "AAAA": 28, "SRV": 33, "SVCB": 64, "HTTPS": 65, "ANY": 255, "PRIVATE": 65399}

RESOLVER4, RESOLVER6 = "10.0.0.53", "2001:db8::53"
COREDNS = "10.96.0.10"
MDNS4, MDNS6 = "224.0.0.251", "ff02::fb"


# --- names -------------------------------------------------------------------------------------

def labels_of(name):
    """'www.example.com' -> [b'www', b'example', b'com'] (no escapes in generator names)."""
    return [l.encode("latin-1") for l in name.strip(".").split(".") if l]


def present(labels):
    """Presentation format as stash53 (and dig) print it: decode/text.cc append_label."""
    out = []
    for l in labels:
        s = []
        for c in l:
            if c in b'.;\\()"@$':
                s.append("\\" + chr(c))
            elif 0x20 < c < 0x7F:
                s.append(chr(c))
            else:
                s.append("\\%03d" % c)
        out.append("".join(s))
    return ".".join(out) + "." if out else "."


def wire_name(labels):
    for l in labels:
        assert 0 < len(l) <= 63, l
    return b"".join(bytes([len(l)]) + l for l in labels) + b"\x00"


class Psl:
    """The public suffix list algorithm (https://publicsuffix.org/list/), default rule `*`."""

    def __init__(self, path):
        self.rules, self.wild, self.exc = set(), set(), set()
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line or line.startswith("//"):
                    continue
                rule = line.split()[0].lower()
                try:
                    rule = ".".join(
                        p if p == "*" or p.startswith("!") or p.isascii()
                        else "xn--" + p.encode("punycode").decode() for p in rule.split("."))
                except UnicodeError:
                    continue
                if rule.startswith("!"):
                    self.exc.add(rule[1:])
                elif rule.startswith("*."):
                    self.wild.add(rule[2:])
                else:
                    self.rules.add(rule)

    def registered_domain(self, labels):
        names = [l.decode("latin-1").lower() for l in labels]
        n = len(names)
        ps = 1
        for i in range(n):
            s = ".".join(names[i:])
            if s in self.exc:
                ps = n - i - 1
                break
            if s in self.rules:
                ps = max(ps, n - i)
            if i + 1 < n and ".".join(names[i + 1:]) in self.wild:
                ps = max(ps, n - i)
        if n <= ps:
            return ""
        return present([l.lower() for l in labels[n - ps - 1:]])[:-1]


# --- DNS wire ----------------------------------------------------------------------------------

def rdata(rtype, value):
    if rtype == "A":
        return bytes(int(x) for x in value.split("."))
    if rtype == "AAAA":
        import ipaddress
        return ipaddress.IPv6Address(value).packed
    if rtype in ("CNAME", "PTR", "NS"):
        return wire_name(labels_of(value) if isinstance(value, str) else value)
    if rtype == "MX":
        pref, host = value
        host = labels_of(host) if isinstance(host, str) else host
        return struct.pack("!H", pref) + wire_name(host)
    if rtype == "TXT":
        out = b""
        for s in value:
            s = s.encode() if isinstance(s, str) else s
            for i in range(0, max(len(s), 1), 255):
                chunk = s[i:i + 255]
                out += bytes([len(chunk)]) + chunk
        return out
    if rtype == "SRV":
        prio, weight, port, target = value
        return struct.pack("!HHH", prio, weight, port) + wire_name(labels_of(target))
    if rtype == "SOA":
        mname, rname = value
        return wire_name(labels_of(mname)) + wire_name(labels_of(rname)) + struct.pack(
            "!IIIII", 2024031101, 7200, 3600, 1209600, 300)
    if rtype in ("HTTPS", "SVCB"):
        alpn = b"\x02h2\x02h3"
        return struct.pack("!H", 1) + b"\x00" + struct.pack("!HH", 1, len(alpn)) + alpn
    if rtype in ("NULL", "PRIVATE"):
        return value
    raise ValueError(rtype)


def dns_message(mid, response, qlabels, qtype, rcode=0, answers=(), authority=(), rd=True,
                mdns=False):
    """answers/authority: (name labels or None for the question name, type, ttl, value)."""
    flags = 0
    if response:
        flags |= 0x8000 | (0x0400 if mdns else 0x0080) | rcode
    if rd and not mdns:
        flags |= 0x0100
    qd = 0 if (mdns and response) or qlabels is None else 1
    msg = struct.pack("!HHHHHH", 0 if mdns else mid, flags, qd, len(answers), len(authority), 0)
    if qd:
        msg += wire_name(qlabels) + struct.pack("!HH", TYPES[qtype], 1)
    for rr in list(answers) + list(authority):
        name, rtype, ttl, value = rr
        owner = b"\xc0\x0c" if name is None and qd else wire_name(name if name is not None
                                                                     else qlabels)
        klass = 0x8001 if mdns else 1  # mDNS cache-flush bit on answers
        data = rdata(rtype, value)
        msg += owner + struct.pack("!HHIH", TYPES[rtype], klass, ttl, len(data)) + data
    return msg


# --- the trace builder -------------------------------------------------------------------------

class Trace:
    def __init__(self, name, rng, psl):
        self.name, self.rng, self.psl = name, rng, psl
        self.msgs = []  # (ts_us, seq, frame, row)

    def mac(self, ip):
        h = sum(ip.encode()) * 7919 % (1 << 24)
        return "02:00:00:%02x:%02x:%02x" % (h >> 16, (h >> 8) & 255, h & 255)

    def frame(self, src, dst, sport, dport, payload):
        if ":" in src:
            l3 = IPv6(src=src, dst=dst, hlim=64)
        else:
            l3 = IP(src=src, dst=dst, ttl=64, id=self.rng.randrange(65536))
        dst_mac = "01:00:5e:00:00:fb" if dst == MDNS4 else "33:33:00:00:00:fb" if dst == MDNS6 \
            else self.mac(dst)
        return raw(Ether(src=self.mac(src), dst=dst_mac) / l3 / UDP(sport=sport, dport=dport) /
                   Raw(load=payload))

    def add(self, ts_us, src, dst, sport, dport, payload, qlabels, qtype, response, rcode, client,
            label, family, rd=True):
        qname = present(qlabels) if qlabels is not None else ""
        rd_bit = rd
        rd = self.psl.registered_domain(qlabels) if qlabels else ""
        row = {"trace": self.name, "ts_ns": ts_us * 1000, "client": client, "qname": qname,
               "qtype": TYPES[qtype] if qlabels is not None else 0,
               "msg_type": "response" if response else "query", "rcode": rcode if response else 0,
               "registered_domain": rd, "has_question": 1 if qlabels is not None else 0,
               "rd": 1 if rd_bit else 0,
               "label": label, "family": family}
        self.msgs.append((ts_us, len(self.msgs), self.frame(src, dst, sport, dport, payload), row))

    def exchange(self, ts_us, client, name, qtype, family, label="benign", rcode=0, answers=(),
                 authority=(), server=None, rtt_us=None, respond=True, qlabels=None, rd=True):
        """A query from `client` and its response from `server` (the resolver by default).
        rd=False: an iterative query, as a resolver sends to authoritative servers."""
        rng = self.rng
        ql = qlabels if qlabels is not None else labels_of(name)
        server = server or (RESOLVER6 if ":" in client else RESOLVER4)
        sport, mid = rng.randrange(1024, 65536), rng.randrange(65536)
        q = dns_message(mid, False, ql, qtype, rd=rd)
        self.add(ts_us, client, server, sport, 53, q, ql, qtype, False, 0, client, label, family,
                 rd)
        if not respond:
            return
        if rtt_us is None:
            rtt_us = rng.randrange(200, 2000) if rng.random() < 0.6 else rng.randrange(8000, 90000)
        if rcode == 3 and not authority:  # the SOA of the TLD (or the root) that denies it
            tld = ql[-1:] if len(ql) > 1 else []
            authority = [(tld, "SOA", 900, ("a.gtld-servers.net" if tld else "a.root-servers.net",
                                            "nstld.verisign-grs.com"))]
        r = dns_message(mid, True, ql, qtype, rcode, answers, authority, rd=rd)
        self.add(ts_us + rtt_us, server, client, 53, sport, r, ql, qtype, True, rcode, client,
                 label, family, rd)

    def mdns(self, ts_us, querier, name, qtype, family, answers_from=None, answers=()):
        """An mDNS query to the group and, optionally, an answer from a device (no question)."""
        group = MDNS6 if ":" in querier else MDNS4
        ql = labels_of(name) if isinstance(name, str) else name
        q = dns_message(0, False, ql, qtype, mdns=True, rd=False)
        self.add(ts_us, querier, group, 5353, 5353, q, ql, qtype, False, 0, querier, "benign",
                 family, False)
        if answers_from:
            r = dns_message(0, True, ql, qtype, 0, [(ql if a[0] is None else a[0],) + a[1:]
                                                      for a in answers], mdns=True)
            self.add(ts_us + self.rng.randrange(1000, 120000), answers_from, group, 5353, 5353, r,
                     None, qtype, True, 0, group, "benign", family, False)

    def write(self, outdir):
        self.msgs.sort(key=lambda m: (m[0], m[1]))
        with open(os.path.join(outdir, self.name + ".pcap"), "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
            for ts, _, frame, _ in self.msgs:
                f.write(struct.pack("<IIII", ts // 1_000_000, ts % 1_000_000, len(frame),
                                    len(frame)))
                f.write(frame)
        return [m[3] for m in self.msgs]


# --- encoders ----------------------------------------------------------------------------------

B32_IODINE = "abcdefghijklmnopqrstuvwxyz012345"
B64_IODINE = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789+"
B128_IODINE = [ord(c) for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"] + \
    list(range(0xBC, 0xFE))
B32_RFC = "abcdefghijklmnopqrstuvwxyz234567"
LETTERS = "abcdefghijklmnopqrstuvwxyz"
ALNUM = LETTERS + "0123456789"
HEXDIGITS = "0123456789abcdef"


def rand_str(rng, alphabet, n):
    return "".join(rng.choice(alphabet) for _ in range(n))


def dotify(data, every):
    """Splits an encoded byte string into labels of `every` octets (iodine: 57, dnscat2: 62)."""
    return [data[i:i + every] for i in range(0, len(data), every)]


# --- tunnel.pcap -------------------------------------------------------------------------------

def iodine_session(t, rng, client, topdomain, qtype, codec, start_us, minutes):
    """iodine 0.7: handshake (v, l, i, z, s, o, y, r), then lazy-mode data and pings."""
    top = labels_of(topdomain)
    fam = "iodine"

    def b32(n):
        return rand_str(rng, B32_IODINE, n).encode()

    def payload(n):
        if codec == "base32":
            return rand_str(rng, B32_IODINE, n).encode()
        if codec == "base64":
            return rand_str(rng, B64_IODINE, n).encode()
        return bytes(rng.choice(B128_IODINE) for _ in range(n))

    def answer(ql, n):
        data = bytes(rng.randrange(256) for _ in range(n))
        if qtype in ("NULL", "PRIVATE"):
            return [(None, qtype, 0, data)]
        if qtype == "TXT":
            return [(None, "TXT", 0, ["t" + rand_str(rng, B32_IODINE, min(n, 250))])]
        # A downstream hostname: at most three 57-octet labels, to stay within 255 octets.
        labels = min(3, max(1, n // 60))
        host = [rand_str(rng, B32_IODINE, 57).encode() for _ in range(labels)] + top
        return [(None, qtype if qtype != "MX" else "MX", 0,
                 host if qtype == "CNAME" else (10, host))]

    ts = start_us
    seq = 0
    handshake = [b"v" + b32(10), b"l" + b32(27), b"i" + b32(4),
                 b"z" + b"aA-Aaahhh-Drink-mal-ein-J\xe4germeister-",
                 b"s" + b32(5), b"o" + b32(6), b"y" + b32(5) + b"aA-Aaahhh",
                 b"r" + b32(5)]
    for h in handshake:
        ql = [h] + top
        t.exchange(ts, client, None, qtype, fam, "malicious", answers=answer(ql, 16), qlabels=ql,
                   rtt_us=rng.randrange(20000, 60000))
        ts += rng.randrange(50000, 400000)
    # fragsize probing: long queries of growing size
    for size in (600, 800, 1000, 1100, 1150):
        ql = [b"r" + b32(56)] + dotify(b32(114), 57) + top
        t.exchange(ts, client, None, qtype, fam, "malicious", answers=answer(ql, size), qlabels=ql,
                   rtt_us=rng.randrange(20000, 60000))
        ts += rng.randrange(100000, 300000)
    end = start_us + minutes * 60_000_000
    user = rng.choice("0123456789abcdef").encode()
    room = 255 - len(wire_name(top)) - 8
    while ts < end:
        if rng.random() < 0.25:  # lazy-mode ping
            ql = [b"p" + b32(10)] + top
            resp = 0 if rng.random() < 0.5 else rng.randrange(50, 1100)
        else:
            n = rng.randrange(40, room) if rng.random() < 0.7 else rng.randrange(8, 40)
            body = user + b32(3) + payload(n)
            ql = dotify(body, 57) + top
            while len(wire_name(ql)) > 255:
                body = body[:-8]
                ql = dotify(body, 57) + top
            resp = rng.randrange(20, 1100)
        t.exchange(ts, client, None, qtype, fam, "malicious", answers=answer(ql, max(resp, 1)),
                   qlabels=ql, rtt_us=rng.randrange(15000, 400000))
        seq += 1
        ts += rng.randrange(20000, 1500000) if rng.random() < 0.9 else rng.randrange(2_000_000,
                                                                                   6_000_000)


def dnscat2_session(t, rng, client, domain, start_us, minutes, encrypted=True):
    """dnscat2 0.07: hex packets in labels of up to 62 octets, TXT/CNAME/MX chosen at random."""
    fam = "dnscat2"
    top = labels_of(domain) if domain else []
    session = rng.randrange(65536)
    seq = rng.randrange(65536)
    ts = start_us
    end = start_us + minutes * 60_000_000
    first = True
    while ts < end:
        kind = 0x00 if first else 0x01
        first = False
        data_len = 0 if rng.random() < 0.7 else rng.randrange(10, 80)
        pkt = struct.pack("!HBHHH", rng.randrange(65536), kind, session, seq & 0xFFFF,
                          rng.randrange(65536))
        if encrypted:
            pkt += bytes(rng.randrange(256) for _ in range(8))  # nonce + signature
        pkt += bytes(rng.randrange(256) for _ in range(data_len))
        seq += data_len
        hexed = pkt.hex().encode()
        ql = dotify(hexed, 62)
        ql = ([b"dnscat"] + ql) if not domain else ql + top
        qtype = rng.choice(["TXT", "CNAME", "MX"])
        down = (bytes(rng.randrange(256) for _ in range(rng.choice([9, 17, 17, 40])))).hex()
        if qtype == "TXT":
            ans = [(None, "TXT", 1, [down])]
        else:
            host = dotify(down.encode(), 62) + (top if domain else [b"dnscat"])
            ans = [(None, qtype, 1, host if qtype == "CNAME" else (10, host))]
        t.exchange(ts, client, None, qtype, fam, "malicious", answers=ans, qlabels=ql,
                   rtt_us=rng.randrange(20000, 120000))
        ts += rng.randrange(800_000, 3_000_000)


DGA_TLDS_CONFICKER = ["com", "net", "org", "info", "biz", "cc", "cn", "ws"]
DGA_TLDS_CRYPTOLOCKER = ["com", "net", "biz", "ru", "org", "co.uk", "info"]


def dga_burst(t, rng, client, start_us, count, style):
    ts = start_us
    for _ in range(count):
        if style == "conficker":
            name = "%s.%s" % (rand_str(rng, LETTERS, rng.randrange(4, 11)),
                              rng.choice(DGA_TLDS_CONFICKER))
        else:
            name = rand_str(rng, LETTERS, rng.randrange(12, 16)) + "." + rng.choice(
                DGA_TLDS_CRYPTOLOCKER)
        if rng.random() < 0.03:  # the day's live (or sinkholed) domain
            t.exchange(ts, client, name, "A", "dga", "malicious",
                       answers=[(None, "A", 300, "198.51.100.77")])
        else:
            t.exchange(ts, client, name, "A", "dga", "malicious", rcode=3,
                       rtt_us=rng.randrange(15000, 120000))
        ts += rng.randrange(100_000, 1_500_000)


def exfil_session(t, rng, client, domain, start_us, minutes, encoding):
    """Slow exfiltration: one query every 5-30 s, a chunk of encoded data per query."""
    ts = start_us
    end = start_us + minutes * 60_000_000
    n = 0
    sid = rand_str(rng, HEXDIGITS, 8)
    while ts < end:
        if encoding == "base32":
            chunk = rand_str(rng, B32_RFC, rng.randrange(30, 57))
            name = "%d.%s.%s" % (n, chunk, domain)
            qtype = "A"
            ans = [(None, "A", 60, "203.0.113.9")]
        else:
            chunk = rand_str(rng, HEXDIGITS, rng.randrange(24, 41))
            name = "%s.%s.%s" % (chunk, sid, domain)
            qtype = "AAAA"
            ans = [(None, "AAAA", 60, "2001:db8:ffff::9")]
        t.exchange(ts, client, name, qtype, "exfil", "malicious", answers=ans,
                   rtt_us=rng.randrange(20000, 150000))
        n += 1
        ts += rng.randrange(5_000_000, 30_000_001)


POPULAR = ["www.google.com", "google.com", "apis.google.com", "accounts.google.com",
           "mail.google.com", "www.gstatic.com", "fonts.googleapis.com", "fonts.gstatic.com",
           "www.youtube.com", "i.ytimg.com", "www.microsoft.com", "login.microsoftonline.com",
           "outlook.office365.com", "teams.microsoft.com", "github.com", "api.github.com",
           "avatars.githubusercontent.com", "en.wikipedia.org", "upload.wikimedia.org",
           "www.amazon.com", "www.bbc.co.uk", "static.files.bbci.co.uk", "www.nytimes.com",
           "slack.com", "app.slack.com", "zoom.us", "www.reddit.com", "www.linkedin.com",
           "static.licdn.com", "cdn.jsdelivr.net", "cdnjs.cloudflare.com", "www.cloudflare.com",
           "connectivitycheck.gstatic.com", "time.windows.com", "ocsp.digicert.com",
           "r3.o.lencr.org", "ctldl.windowsupdate.com", "www.apple.com", "gateway.icloud.com",
           "api.spotify.com", "www.netflix.com", "stackoverflow.com", "cdn.sstatic.net",
           "www.office.com", "docs.python.org", "pypi.org", "files.pythonhosted.org",
           "registry.npmjs.org", "deb.debian.org", "security.debian.org", "news.ycombinator.com",
           "www.theguardian.com", "assets.guim.co.uk", "www.dropbox.com",
           "dl.dropboxusercontent.com"]

CNAMES = {"www.microsoft.com": ["www.microsoft.com-c-3.edgekey.net", "e13678.dscb.akamaiedge.net"],
          "www.apple.com": ["www.apple.com.edgekey.net", "e6858.dscx.akamaiedge.net"],
          "www.amazon.com": ["tp.47cf2c8c9-frontier.amazon.com", "d3ag4hukkh62yn.cloudfront.net"],
          "www.reddit.com": ["reddit.map.fastly.net"],
          "www.linkedin.com": ["www-linkedin-com.l-0005.l-msedge.net", "l-0005.l-msedge.net"],
          "static.licdn.com": ["static.licdn.com.akamaized.net", "a1916.dscg2.akamai.net"],
          "www.netflix.com": ["www.dradis.netflix.com",
                              "www.us-west-2.internal.dradis.netflix.com"]}


def rand_ip(rng):
    return "%d.%d.%d.%d" % (rng.choice([93, 104, 142, 151, 172, 185, 199]), rng.randrange(256),
                            rng.randrange(256), rng.randrange(1, 255))


def web_lookup(t, rng, ts, client, name, family="web"):
    qtype = rng.choices(["A", "AAAA", "HTTPS"], [6, 3, 1])[0]
    chain = CNAMES.get(name, [])
    answers = []
    owner = None
    for c in chain:
        answers.append((owner, "CNAME", 300, c))
        owner = labels_of(c)
    if qtype == "A":
        answers += [(owner, "A", 60, rand_ip(rng)) for _ in range(rng.randrange(1, 4))]
    elif qtype == "AAAA":
        answers.append((owner, "AAAA", 60, "2a00:1450:4001:81%x::200e" % rng.randrange(16)))
    else:
        answers.append((owner, "HTTPS", 300, None))
    t.exchange(ts, client, name, qtype, family, answers=answers)


def background(t, rng, client, start_us, end_us, family="background"):
    ts = start_us + rng.randrange(0, 20_000_000)
    while ts < end_us:
        web_lookup(t, rng, ts, client, rng.choice(POPULAR), family)
        ts += rng.randrange(5_000_000, 90_000_000)


def build_tunnel(rng, psl):
    t = Trace("tunnel", rng, psl)
    m = 60_000_000
    iodine_session(t, rng, "10.1.20.17", "t.cloudsync-io.net", "NULL", "base32", T0_US + 2 * m, 8)
    iodine_session(t, rng, "10.1.20.18", "t.cloudsync-io.net", "PRIVATE", "base128",
                   T0_US + 15 * m, 5)
    iodine_session(t, rng, "2001:db8:1::20", "i.vpn-relay-node.com", "CNAME", "base64",
                   T0_US + 30 * m, 5)
    iodine_session(t, rng, "10.1.20.19", "i.vpn-relay-node.com", "TXT", "base32", T0_US + 50 * m, 3)
    dnscat2_session(t, rng, "10.1.30.44", "cdn-telemetry-sync.org", T0_US + 5 * m, 12)
    dnscat2_session(t, rng, "10.1.30.45", "cdn-telemetry-sync.org", T0_US + 40 * m, 6,
                    encrypted=False)
    dnscat2_session(t, rng, "10.1.30.46", None, T0_US + 70 * m, 2)
    dga_burst(t, rng, "10.1.40.10", T0_US + 10 * m, 200, "conficker")
    dga_burst(t, rng, "10.1.40.11", T0_US + 25 * m, 150, "cryptolocker")
    dga_burst(t, rng, "2001:db8:1::40", T0_US + 40 * m, 120, "conficker")
    dga_burst(t, rng, "10.1.40.10", T0_US + 70 * m, 100, "conficker")
    exfil_session(t, rng, "10.1.50.23", "metrics-cdn-sync.com", T0_US + 5 * m, 60, "base32")
    exfil_session(t, rng, "2001:db8:1::50", "img-cache-static.net", T0_US + 20 * m, 60, "hex")
    # C2 polling TXT records (a beacon id under one domain) and a few ANY queries.
    ts = T0_US + 3 * m
    beacon = rand_str(rng, HEXDIGITS, 8)
    for _ in range(40):
        cmd = "" if rng.random() < 0.8 else rand_str(rng, B64_IODINE[:62], rng.randrange(20, 120))
        t.exchange(ts, "10.1.60.5", "%s.cmd.update-check.net" % beacon, "TXT", "c2-txt",
                   "malicious", answers=[(None, "TXT", 5, [cmd])])
        ts += rng.randrange(50_000_000, 70_000_000)
    for i in range(6):
        t.exchange(T0_US + (12 + 9 * i) * m, "10.1.60.6", "ns%d.update-check.net" % (i % 2 + 1),
                   "ANY", "c2-any", "malicious", rcode=0,
                   answers=[(None, "A", 300, "203.0.113.50"), (None, "TXT", 300, ["v=2 ok"])])
    for c in ["10.1.20.17", "10.1.20.18", "2001:db8:1::20", "10.1.30.44", "10.1.40.10",
              "10.1.40.11", "2001:db8:1::40", "10.1.50.23", "2001:db8:1::50", "10.1.60.5"]:
        background(t, rng, c, T0_US, T0_US + 80 * m)
    return t


# --- benign.pcap -------------------------------------------------------------------------------

def build_benign(rng, psl):
    t = Trace("benign", rng, psl)
    m = 60_000_000
    end = T0_US + 120 * m
    workstations = ["10.1.%d.%d" % (rng.randrange(1, 8), rng.randrange(2, 250)) for _ in range(30)]
    workstations += ["2001:db8:1::%x" % rng.randrange(0x100, 0xfff) for _ in range(8)]
    for c in workstations:
        background(t, rng, c, T0_US, end, "web")

    # Heavy clients: many distinct subdomains of one domain (Chrome's Google APIs, Windows
    # telemetry, the AWS SDK on an EC2 node), each name several times.
    heavy = {
        "10.1.1.77": ["%s.google.com" % s for s in
                      ["apis", "accounts", "mail", "play", "ogs", "drive", "docs", "calendar",
                       "meet", "chat", "contacts", "photos", "news", "translate", "maps",
                       "clients1", "clients2", "clients4", "clients6", "android.clients",
                       "www", "ssl", "adservice", "id", "myaccount", "support", "keep",
                       "sites", "scholar", "books"]],
        "10.1.1.78": ["%s.microsoft.com" % s for s in
                      ["settings-win.data", "v10.events.data", "v20.events.data",
                       "watson.telemetry", "umwatsonc.events.data", "self.events.data",
                       "browser.events.data", "mobile.events.data", "functional.events.data",
                       "nav.smartscreen", "go", "www", "login.live", "officecdn",
                       "checkappexec", "wdcp", "wdcpalt", "definitionupdates",
                       "fe3.delivery.mp", "emdl.ws"]],
        "10.2.0.15": ["%s.eu-west-1.amazonaws.com" % s for s in
                      ["ec2", "ssm", "ssmmessages", "ec2messages", "secretsmanager", "kms",
                       "logs", "monitoring", "sqs", "sns", "dynamodb", "lambda", "sts",
                       "elasticloadbalancing", "autoscaling", "cloudformation", "ecr",
                       "api.ecr", "kinesis", "firehose", "states", "events", "xray",
                       "servicediscovery"]],
    }
    for c, names in heavy.items():
        ts = T0_US + rng.randrange(0, 5 * m)
        while ts < T0_US + 40 * m:
            t.exchange(ts, c, rng.choice(names), "A", "heavy-client",
                       answers=[(None, "A", 60, rand_ip(rng))])
            ts += rng.randrange(2_000_000, 20_000_000)
    youtube = "10.1.3.33"
    for i in range(15):
        name = "rr%d---sn-%s.googlevideo.com" % (rng.randrange(1, 6),
                                                  rand_str(rng, ALNUM + "-", 8))
        for k in range(3):
            t.exchange(T0_US + i * 2 * m + k * 7_000_000, youtube, name, "A", "cdn",
                       answers=[(None, "A", 300, rand_ip(rng))])

    # CDN names: queried by clients and, upstream, by the resolver itself.
    cdn_names = (["e%d.dscx.akamaiedge.net" % rng.randrange(1000, 99999) for _ in range(60)] +
                 ["e%d.dsc%s.akamaiedge.net" % (rng.randrange(1000, 99999), rng.choice(
                     ["b", "e9", "g", "j", "k"])) for _ in range(60)] +
                 ["d%s.cloudfront.net" % rand_str(rng, ALNUM, 13)
                  for _ in range(50)] +
                 ["a%d.g2.akamai.net" % rng.randrange(100, 9999) for _ in range(40)] +
                 ["a%d.dscg%d.akamai.net" % (rng.randrange(100, 9999), rng.randrange(1, 4))
                  for _ in range(20)] +
                 ["%s.azureedge.net" % rng.choice(["myapp-cdn-prod", "assets-contoso",
                                                    "cdn-fabrikam-eu", "static-northwind",
                                                    "media-tailspin-01"])
                  for _ in range(20)] +
                 ["scontent-ams%d-1.xx.fbcdn.net" % rng.randrange(1, 5) for _ in range(10)] +
                 ["ipv4-c%03d-ams001-ix.1.oca.nflxvideo.net" % rng.randrange(1, 200)
                  for _ in range(10)])
    ts = T0_US
    auth = ["192.0.2.%d" % rng.randrange(1, 250) for _ in range(6)]
    for name in cdn_names:
        t.exchange(ts, rng.choice(workstations), name, "A", "cdn",
                   answers=[(None, "A", 20, rand_ip(rng))])
        t.exchange(ts + 300, RESOLVER4, name, "A", "cdn", server=rng.choice(auth), rd=False,
                   answers=[(None, "A", 20, rand_ip(rng))])
        ts += rng.randrange(1_000_000, 20_000_000)
    # The resolver's upstream side for all its users: hundreds of distinct video-CDN names an
    # hour, iterative (RD clear).
    ts = T0_US
    while ts < T0_US + 60 * m:
        if rng.random() < 0.6:
            name = "rr%d---sn-%s.googlevideo.com" % (rng.randrange(1, 6), rand_str(
                rng, ALNUM, 8))
        else:
            name = "ipv4-c%03d-%s%03d-ix.1.oca.nflxvideo.net" % (
                rng.randrange(1, 300), rng.choice(["ams", "fra", "lhr", "cdg"]),
                rng.randrange(1, 9))
        t.exchange(ts, RESOLVER4, name, "A", "cdn", server=rng.choice(auth), rd=False,
                   answers=[(None, "A", 300, rand_ip(rng))])
        ts += rng.randrange(2_000_000, 20_000_000)

    # Kubernetes: ndots:5 search-path expansion (NXDOMAIN) before the real name.
    pods = ["10.244.1.%d" % i for i in range(10, 30)]
    search = ["default.svc.cluster.local", "svc.cluster.local", "cluster.local",
              "eu-west-1.compute.internal"]
    external = ["api.example.com", "registry-1.docker.io", "sts.amazonaws.com", "github.com",
                "hooks.slack.com", "api.stripe.com", "sqs.eu-west-1.amazonaws.com"]
    internal = ["my-svc.my-ns.svc.cluster.local", "kube-dns.kube-system.svc.cluster.local",
                "postgres.db.svc.cluster.local", "redis-master.cache.svc.cluster.local",
                "10-0-0-12.default.pod.cluster.local", "10-244-1-17.monitoring.pod.cluster.local",
                "prometheus-server.monitoring.svc.cluster.local"]
    ts = T0_US
    while ts < end:
        pod = rng.choice(pods)
        for qtype in ("A", "AAAA"):
            if rng.random() < 0.5:
                name = rng.choice(external)
                for s in search:
                    t.exchange(ts, pod, name + "." + s, qtype, "k8s", rcode=3, server=COREDNS,
                               rtt_us=rng.randrange(100, 900))
                    ts += rng.randrange(200, 2000)
                t.exchange(ts, pod, name, qtype, "k8s", server=COREDNS,
                           answers=[(None, "A", 30, rand_ip(rng))] if qtype == "A" else [])
            else:
                name = rng.choice(internal)
                t.exchange(ts, pod, name, qtype, "k8s", server=COREDNS,
                           answers=[(None, "A", 5, "10.0.0.12")] if qtype == "A" else [])
        ts += rng.randrange(1_000_000, 12_000_000)

    # A mail server: DNSBLs (listed and unlisted zones, IPv4 and IPv6), DBL/URIBL, e-mail
    # authentication TXT records, MX lookups, a few forged sender domains.
    mail = "10.0.1.25"
    bls = ["zen.spamhaus.org", "bl.spamcop.net", "b.barracudacentral.org", "dnsbl.sorbs.net",
           "rbl.example-dnsbl.net"]
    senders = ["gmail.com", "outlook.com", "yahoo.com", "example.org", "mailchimp.com",
               "sendgrid.net", "amazonses.com", "github.com", "linkedin.com", "salesforce.com"]
    ts = T0_US
    while ts < end:
        ip = [rng.randrange(1, 224), rng.randrange(256), rng.randrange(256), rng.randrange(1, 255)]
        rev = ".".join(str(x) for x in reversed(ip))
        listed = rng.random() < 0.1
        for bl in bls:
            if listed:
                t.exchange(ts, mail, rev + "." + bl, "A", "dnsbl",
                           answers=[(None, "A", 60, "127.0.0.2")])
                t.exchange(ts + 500, mail, rev + "." + bl, "TXT", "dnsbl",
                           answers=[(None, "TXT", 60, ["Listed; see https://check.example/"])])
            else:
                t.exchange(ts, mail, rev + "." + bl, "A", "dnsbl", rcode=3)
            ts += rng.randrange(100, 3000)
        if rng.random() < 0.3:
            nib = ".".join(reversed("20010db8%04x%04x%016x" % (
                rng.randrange(65536), rng.randrange(65536), rng.getrandbits(64))))
            t.exchange(ts, mail, nib + ".zen.spamhaus.org", "A", "dnsbl", rcode=3)
        dom = rng.choice(senders)
        t.exchange(ts, mail, dom + ".dbl.spamhaus.org", "A", "dnsbl", rcode=3)
        t.exchange(ts, mail, dom + ".multi.uribl.com", "A", "dnsbl", rcode=3)
        t.exchange(ts, mail, dom, "MX", "mail",
                   answers=[(None, "MX", 300, (10, "mx1." + dom)),
                            (None, "MX", 300, (20, "mx2." + dom))])
        t.exchange(ts, mail, dom, "TXT", "email-auth",
                   answers=[(None, "TXT", 300, ["v=spf1 include:_spf.%s ~all" % dom])])
        t.exchange(ts, mail, "_dmarc." + dom, "TXT", "email-auth",
                   answers=[(None, "TXT", 300, ["v=DMARC1; p=reject; rua=mailto:d@%s" % dom])])
        sel = rng.choice(["20230601", "selector1", "s1", "k1", "google",
                          rand_str(rng, "abcdefghijklmnopqrstuvwxyz234567", 32)])
        t.exchange(ts, mail, "%s._domainkey.%s" % (sel, dom), "TXT", "email-auth",
                   answers=[(None, "TXT", 300, ["v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQ"])])
        if rng.random() < 0.2:
            t.exchange(ts, mail, "_spf.google.com", "TXT", "email-auth",
                       answers=[(None, "TXT", 300, ["v=spf1 include:_netblocks.google.com ~all"])])
            t.exchange(ts, mail, "_mta-sts." + dom, "TXT", "email-auth",
                       answers=[(None, "TXT", 300, ["v=STSv1; id=20240101"])])
            t.exchange(ts, mail, "_smtp._tls." + dom, "TXT", "email-auth",
                       answers=[(None, "TXT", 300, ["v=TLSRPTv1; rua=mailto:t@" + dom])])
            t.exchange(ts, mail, "default._bimi." + dom, "TXT", "email-auth", rcode=3)
        if rng.random() < 0.05:  # spam from a forged, unregistered sender domain
            forged = rand_str(rng, LETTERS, rng.randrange(6, 12)) + rng.choice(
                [".com", ".net", ".info"])
            t.exchange(ts, mail, forged, "MX", "mail", rcode=3)
        ts += rng.randrange(5_000_000, 40_000_000)

    # Hash and reputation lookups from a security appliance.
    sec = "10.0.2.10"
    ts = T0_US
    for i in range(150):
        md5 = "%032x" % rng.getrandbits(128)
        sha1 = "%040x" % rng.getrandbits(160)
        t.exchange(ts, sec, md5 + ".malware.hash.cymru.com", "TXT", "hash", rcode=3)
        t.exchange(ts + 900, sec, sha1 + ".hash.cymru.com", "A", "hash", rcode=3)
        if i % 3 == 0:
            t.exchange(ts + 1500, sec, "%s.%s.%s.%s.origin.asn.cymru.com" % tuple(
                str(rng.randrange(1, 255)) for _ in range(4)), "TXT", "hash",
                answers=[(None, "TXT", 300, ["15169 | 8.8.8.0/24 | US | arin | 2023-12-28"])])
        if i % 2 == 0:
            t.exchange(ts + 2000, sec, "%s.%s.sophosxl.net" % (rand_str(rng, HEXDIGITS, 40),
                                                                rng.choice(["fq", "uri", "sx"])),
                       "A", "av-reputation", answers=[(None, "A", 300, "127.0.0.1")])
            t.exchange(ts + 2500, sec, "0.0.0.0.1.0.0.4e.%s.avqs.mcafee.com" % rand_str(
                rng, ALNUM, 26), "A", "av-reputation",
                answers=[(None, "A", 300, "127.0.0.128")])
        ts += rng.randrange(5_000_000, 45_000_000)

    # Chrome's start-up probes: 3 random single labels, NXDOMAIN; some expanded by a search
    # domain.
    for c in workstations:
        for start in range(rng.randrange(1, 3)):
            ts = T0_US + rng.randrange(0, 110 * m)
            for _ in range(3):
                probe = rand_str(rng, LETTERS, rng.randrange(7, 16))
                t.exchange(ts, c, probe, "A", "chrome", rcode=3)
                if rng.random() < 0.3:
                    t.exchange(ts + 800, c, probe + ".corp.example.com", "A", "chrome", rcode=3)
                ts += rng.randrange(1000, 50000)

    # Reverse lookups from a log server (IPv4 and IPv6 nibbles), many NXDOMAIN.
    logs = "10.0.3.5"
    ts = T0_US
    while ts < end:
        if rng.random() < 0.6:
            ip = [rng.randrange(1, 224), rng.randrange(256), rng.randrange(256),
                  rng.randrange(1, 255)]
            name = ".".join(str(x) for x in reversed(ip)) + ".in-addr.arpa"
        else:
            name = ".".join(reversed("20010db8%04x%04x%016x" % (rng.randrange(65536),
                                                                rng.randrange(65536),
                                                                rng.getrandbits(64)))) + ".ip6.arpa"
        if rng.random() < 0.5:
            t.exchange(ts, logs, name, "PTR", "ptr", rcode=3)
        else:
            t.exchange(ts, logs, name, "PTR", "ptr",
                       answers=[(None, "PTR", 3600,
                                 "host-%d.isp.example.net" % rng.randrange(9999))])
        ts += rng.randrange(500_000, 15_000_000)

    # ACME dns-01 validation, HTTPS/SVCB and ESNI, DDR.
    ts = T0_US + 5 * m
    for i in range(40):
        host = rng.choice(["www", "api", "mail", "vpn", "git", "grafana"]) + ".example.com"
        t.exchange(ts, "10.0.4.8", "_acme-challenge." + host, "TXT", "acme",
                   answers=[(None, "TXT", 60, [rand_str(rng, B64_IODINE[:62] + "-_", 43)])])
        c = rng.choice(workstations)
        t.exchange(ts + 1000, c, rng.choice(["www.cloudflare.com", "crypto.cloudflare.com",
                                             "blog.cloudflare.com", "www.google.com"]), "HTTPS",
                   "https-esni", answers=[(None, "HTTPS", 300, None)])
        t.exchange(ts + 2000, c, "_8443._https.api.example.com", "HTTPS", "https-esni", rcode=3)
        t.exchange(ts + 3000, c, "_esni.cloudflare.com", "TXT", "https-esni",
                   answers=[(None, "TXT", 300, ["/wEU" + rand_str(rng, B64_IODINE[:62], 80)])])
        t.exchange(ts + 4000, c, "_dns.resolver.arpa", "SVCB", "https-esni",
                   answers=[(None, "SVCB", 300, None)])
        ts += rng.randrange(30_000_000, 150_000_000)

    # mDNS / DNS-SD on the link.
    chromecast = "Chromecast-Ultra-%032x" % rng.getrandbits(128)
    services = [("_googlecast._tcp.local", "PTR"), ("_services._dns-sd._udp.local", "PTR"),
                ("_airplay._tcp.local", "PTR"), ("_companion-link._tcp.local", "PTR"),
                ("_spotify-connect._tcp.local", "PTR"), ("_ipp._tcp.local", "PTR")]
    ts = T0_US
    while ts < end:
        querier = rng.choice(workstations[:10] + ["fe80::1c2b:3a4d:5e6f:7081"])
        svc, qt = rng.choice(services)
        t.mdns(ts, querier, svc, qt, "mdns", answers_from="10.1.9.40" if ":" not in querier else
               "fe80::aa:bbff:fecc:dd40", answers=[(None, "PTR", 4500, chromecast + "." + svc)])
        if rng.random() < 0.3:
            inst = [chromecast.encode()] + labels_of("_googlecast._tcp.local")
            t.mdns(ts + 5000, querier, inst, "TXT", "mdns")
            t.mdns(ts + 6000, querier, [b"Living Room TV"] + labels_of("_airplay._tcp.local"),
                   "SRV", "mdns")
            t.mdns(ts + 7000, querier, [b"Jane\xe2\x80\x99s MacBook Pro"] +
                   labels_of("_companion-link._tcp.local"), "TXT", "mdns")
        if rng.random() < 0.1:
            t.mdns(ts + 8000, querier, "MacBook-Pro-%d.local" % rng.randrange(2, 9), "ANY", "mdns")
        ts += rng.randrange(3_000_000, 60_000_000)

    # Long but readable names, and random-looking cloud identifiers.
    readable = ["this-is-a-long-but-ordinary-hostname.example.com",
                "customer-portal-staging-environment.eu-west-1.example.com",
                "my-company-production-logs-bucket.s3.eu-west-1.amazonaws.com",
                "internal-my-service-prod-1234567890.us-east-1.elb.amazonaws.com",
                "k8s-default-myingres-1a2b3c4d5e-1234567890.eu-west-1.elb.amazonaws.com",
                "my-project-git-feature-branch-acme.vercel.app",
                "documentationanddeveloperresources.example.org",
                "very-long-descriptive-subdomain-name-for-testing-purposes.example.net",
                "_ldap._tcp.Default-First-Site-Name._sites.dc._msdcs.corp.example.com",
                "_kerberos._tcp.Default-First-Site-Name._sites.dc._msdcs.corp.example.com",
                "ec2-203-0-113-25.eu-west-1.compute.amazonaws.com",
                "ip-10-0-12-34.eu-west-1.compute.internal",
                "www.xn--vermgensberatung-pwb.de",
                "www.xn--bcher-kva.example",
                "selector1-contoso-com._domainkey.contoso.onmicrosoft.com",
                "autodiscover.outlook.com", "outlook-namsouth.office365.com"]
    guid = "%08x-%04x-%04x-%04x-%012x" % (rng.getrandbits(32), rng.getrandbits(16),
                                         rng.getrandbits(16), rng.getrandbits(16),
                                         rng.getrandbits(48))
    ids = ["%032X.gr7.eu-west-1.eks.amazonaws.com" % rng.getrandbits(128),
           "%s.lambda-url.eu-west-1.on.aws" % rand_str(rng, ALNUM, 32),
           "%s.appsync-api.eu-west-1.amazonaws.com" % rand_str(rng, LETTERS, 26),
           "vpce-0%016x-%s.s3.eu-west-1.vpce.amazonaws.com" % (rng.getrandbits(64),
                                                              rand_str(rng, LETTERS, 8)),
           "%s.cfargotunnel.com" % guid,
           "_ldap._tcp.%s.domains._msdcs.corp.example.com" % guid,
           "a3k7odshaiipe8-ats.iot.eu-west-1.amazonaws.com",
           "o%d.ingest.sentry.io" % rng.randrange(100000, 999999),
           "%s.blob.core.windows.net" % ("st" + rand_str(rng, ALNUM, 20)),
           "%s.execute-api.eu-west-1.amazonaws.com" % rand_str(rng, ALNUM, 10),
           "%s.ngrok.io" % rand_str(rng, HEXDIGITS, 12),
           "%s-dot-my-project.appspot.com" % rand_str(rng, HEXDIGITS, 12),
           # Amazon SES DKIM selectors are 32 base32 characters.
           "%s._domainkey.example.com" % rand_str(rng, "abcdefghijklmnopqrstuvwxyz234567", 32)]
    for i in range(120):
        c = rng.choice(workstations)
        if i % 2:
            name = rng.choice(readable)
            fam = "long-readable"
        else:
            name = rng.choice(ids)
            fam = "cloud-ids"
        qt = "SRV" if name.startswith("_ldap") or name.startswith("_kerberos") else \
            "TXT" if "_domainkey" in name else "A"
        ans = [(None, "SRV", 600, (0, 100, 389, "dc1.corp.example.com"))] if qt == "SRV" else \
            [(None, "TXT", 300, ["v=DKIM1; p=MIGf"])] if qt == "TXT" else \
            [(None, "A", 60, rand_ip(rng))]
        t.exchange(T0_US + i * m, c, name, qt, fam, answers=ans)

    # Windows DC locator and WPAD, ordinary SRV/MX/PTR.
    ts = T0_US
    while ts < end:
        c = rng.choice(workstations)
        name, qt, rc = rng.choice([("_ldap._tcp.dc._msdcs.corp.example.com", "SRV", 0),
                                   ("_kerberos._udp.corp.example.com", "SRV", 0),
                                   ("WPAD.corp.example.com", "A", 3),
                                   ("isatap.corp.example.com", "A", 3),
                                   ("_xmpp-client._tcp.example.org", "SRV", 0),
                                   ("_sip._tls.example.com", "SRV", 0),
                                   ("_caldavs._tcp.icloud.com", "SRV", 0),
                                   ("example.org", "MX", 0), ("8.8.8.8.in-addr.arpa", "PTR", 0)])
        ans = []
        if rc == 0:
            ans = [(None, "SRV", 600, (0, 100, 443, "srv1.example.org"))] if qt == "SRV" else \
                [(None, "MX", 300, (10, "mx.example.org"))] if qt == "MX" else \
                [(None, "PTR", 300, "dns.google")] if qt == "PTR" else \
                [(None, "A", 60, "10.0.0.80")]
        t.exchange(ts, c, name, qt, "ad-srv", rcode=rc, answers=ans)
        ts += rng.randrange(2_000_000, 30_000_000)

    # IoT devices retrying dead cloud endpoints.
    for dev, dead in [("10.3.0.21", ["api.old-iot-vendor.com", "fw.old-iot-vendor.com",
                                     "time.defunct-cam.net"]),
                      ("10.3.0.22", ["%s.deadcloud%d.io" % (s, i) for s in ("mqtt", "api")
                                     for i in range(6)])]:
        ts = T0_US + rng.randrange(0, 60_000_000)
        while ts < end:
            for name in dead:
                t.exchange(ts, dev, name, "A", "iot-retry", rcode=3)
                ts += rng.randrange(200_000, 2_000_000)
            t.exchange(ts, dev, "pool.ntp.org", "A", "iot-retry",
                       answers=[(None, "A", 60, rand_ip(rng))])
            ts += rng.randrange(25_000_000, 60_000_000)
    return t


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("--seed", type=int, default=53)
    args = ap.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    psl = Psl(PSL_PATH)
    rows = []
    for build in (build_tunnel, build_benign):
        rng = random.Random("%d/%s" % (args.seed, build.__name__))
        rows += build(rng, psl).write(args.outdir)
    cols = ["trace", "qname", "msg_type", "label", "family"]
    with open(os.path.join(args.outdir, "labels.tsv"), "w") as f:
        f.write("\t".join(cols) + "\n")
        for r in rows:
            f.write("\t".join(str(r[c]) for c in cols) + "\n")
    cols = ["trace", "ts_ns", "client", "qname", "qtype", "msg_type", "rcode",
            "registered_domain", "has_question", "rd"]
    with open(os.path.join(args.outdir, "messages.tsv"), "w") as f:
        f.write("\t".join(cols) + "\n")
        for r in rows:
            f.write("\t".join(str(r[c]) for c in cols) + "\n")
    counts = {}
    for r in rows:
        key = (r["trace"], r["family"], r["label"])
        counts[key] = counts.get(key, 0) + 1
    for k in sorted(counts):
        print("%-7s %-14s %-9s %6d" % (k + (counts[k],)), file=sys.stderr)


if __name__ == "__main__":
    main()
