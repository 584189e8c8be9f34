#!/usr/bin/python3
"""Seed corpora for the fuzz targets, made from sample captures at test time.

Usage: make_corpus.py OUT_DIR PCAP_OR_DIR...

Files named *.dnstap are Frame Streams files, *.log and messages.* dnsmasq logs; a directory
stands for the *.pcap files in it.

OUT_DIR/dns_wire/: one DNS message per file (UDP payloads, TCP streams cut at their length
prefixes). OUT_DIR/packet/: fuzz_packet inputs, that is a link-type byte (index into kDlts of
fuzz_packet.cc, plus TIGHT for its decoder with the smallest limits), a time-step byte and frames
separated by MARKER, each input once per decoder: each frame alone, each capture
as one sequence, every DNS frame re-wrapped in every link type (and behind 802.1Q / QinQ tags),
every UDP datagram cut into IP fragments (in order, reversed, duplicated) and every TCP flow with
its segments cut small (in order and out of order), so that reassembly is reached from the start;
also synthetic messages for every RDATA layout and EDNS option, and TCP sequence-number corner
cases. OUT_DIR/dnstap/: each data frame of the dnstap files. OUT_DIR/dnsmasq/: the lines of
the dnsmasq logs in windows of DNSMASQ_WINDOW (overlapping by half, so that every query meets
the lines it joins), and each line alone. Files are named by content hash, so duplicates
collapse.
"""

import hashlib
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from framestream import file_frames  # noqa: E402

MARKER = b"\xf0S53"  # kMarker in fuzz_packet.cc
STEP = 10  # time-step byte: 1000 << 10 ns, about 1 ms between packets
TIGHT = 8  # link-type byte flag: the decoder with the smallest limits
DNSMASQ_WINDOW = 20  # lines per dnsmasq seed
DNS_PORTS = (53, 5353)
IDX_EN10MB, IDX_SLL, IDX_SLL2, IDX_NULL, IDX_LOOP, IDX_RAW, IDX_IPV4, IDX_IPV6 = range(8)
# pcap file link type → index into kDlts. 101 is LINKTYPE_RAW; 12 and 14 are DLT_RAW as some
# writers record it.
LINKTYPE_INDEX = {1: IDX_EN10MB, 113: IDX_SLL, 276: IDX_SLL2, 0: IDX_NULL, 108: IDX_LOOP,
                  101: IDX_RAW, 12: IDX_RAW, 14: IDX_RAW, 228: IDX_IPV4, 229: IDX_IPV6}


def read_pcap(path):
    """Yields (linktype, frame) of a classic pcap file; None for other formats."""
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        print(f"make_corpus: {path}: not a classic pcap, skipped", file=sys.stderr)
        return
    linktype = struct.unpack(e + "I", data[20:24])[0] & 0x0FFFFFFF
    pos = 24
    while pos + 16 <= len(data):
        caplen = struct.unpack(e + "I", data[pos + 8:pos + 12])[0]
        yield linktype, data[pos + 16:pos + 16 + caplen]
        pos += 16 + caplen


def ip_of_frame(index, frame):
    """The IP packet inside a frame, or None."""
    if index == IDX_EN10MB:
        pos, ethertype = 14, frame[12:14]
        while ethertype in (b"\x81\x00", b"\x88\xa8", b"\x91\x00"):
            ethertype, pos = frame[pos + 2:pos + 4], pos + 4
        return frame[pos:] if ethertype in (b"\x08\x00", b"\x86\xdd") else None
    start = {IDX_SLL: 16, IDX_SLL2: 20, IDX_NULL: 4, IDX_LOOP: 4}.get(index, 0)
    ip = frame[start:]
    return ip if ip and ip[0] >> 4 in (4, 6) else None


def wrap(ip, index, tags=()):
    """`ip` framed in the link type `index` (Ethernet with optional VLAN tag ethertypes)."""
    v6 = ip[0] >> 4 == 6
    ethertype = 0x86DD if v6 else 0x0800
    if index == IDX_EN10MB:
        head = b"\x00\x00\x5e\x00\x53\x01" + b"\x00\x00\x5e\x00\x53\x02"
        for i, tpid in enumerate(tags):
            head += struct.pack(">HH", tpid, 100 + i)
        return head + struct.pack(">H", ethertype) + ip
    if index == IDX_SLL:
        return struct.pack(">HHH8sH", 0, 1, 6, b"\x00\x00\x5e\x00\x53\x01", ethertype) + ip
    if index == IDX_SLL2:
        return struct.pack(">HHIHBB8s", ethertype, 0, 1, 1, 0, 6, b"\x00\x00\x5e\x00\x53\x01") + ip
    if index == IDX_NULL:  # host order of a little-endian BSD; AF_INET6 as on macOS
        return struct.pack("<I", 30 if v6 else 2) + ip
    if index == IDX_LOOP:
        return struct.pack(">I", 24 if v6 else 2) + ip
    return ip


def ipv4_checksum(header):
    s = sum(struct.unpack(f">{len(header) // 2}H", header))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return struct.pack(">H", ~s & 0xFFFF)


def split_ip(ip):
    """(header, proto, payload) of an IPv4 packet or an IPv6 one without extension headers."""
    if ip[0] >> 4 == 4:
        ihl = (ip[0] & 15) * 4
        total = struct.unpack(">H", ip[2:4])[0]
        return ip[:ihl], ip[9], ip[ihl:total]
    return ip[:40], ip[6], ip[40:40 + struct.unpack(">H", ip[4:6])[0]]


def make_ip(header, payload, frag_off=None, more=False, frag_id=0, next_proto=None):
    """Rebuilds an IP packet around `payload`; with frag_off, as a fragment at that offset."""
    if header[0] >> 4 == 4:
        h = bytearray(header)
        h[2:4] = struct.pack(">H", len(h) + len(payload))
        if frag_off is not None:
            h[4:6] = struct.pack(">H", frag_id)
            h[6:8] = struct.pack(">H", (0x2000 if more else 0) | frag_off // 8)
        h[10:12] = b"\x00\x00"
        h[10:12] = ipv4_checksum(bytes(h))
        return bytes(h) + payload
    h = bytearray(header)
    if frag_off is not None:
        frag = struct.pack(">BBHI", next_proto, 0, frag_off | (1 if more else 0), frag_id)
        payload = frag + payload
        h[6] = 44
    h[4:6] = struct.pack(">H", len(payload))
    return bytes(h) + payload


def fragments(ip, size, frag_id):
    """The IP packet cut into fragments of `size` payload bytes (a multiple of 8)."""
    header, proto, payload = split_ip(ip)
    return [make_ip(header, payload[off:off + size], off, off + size < len(payload), frag_id, proto)
            for off in range(0, len(payload), size)]


def transport(ip):
    """(proto, source, destination, l4 bytes) of a non-fragmented packet, or None; the ends are
    (address, port)."""
    header, proto, payload = split_ip(ip)
    if proto not in (6, 17) or len(payload) < 8:
        return None
    if header[0] >> 4 == 4 and struct.unpack(">H", header[6:8])[0] & 0x3FFF:
        return None
    sport, dport = struct.unpack(">HH", payload[:4])
    addr = (header[12:16], header[16:20]) if header[0] >> 4 == 4 else (header[8:24], header[24:40])
    return proto, (addr[0], sport), (addr[1], dport), payload


def tcp_pieces(ip, cuts):
    """A TCP segment re-sent as several, its data cut at `cuts`; TCP checksums are left as they
    are (stash53 never checks them: offloading leaves them wrong in most captures)."""
    header, _, seg = split_ip(ip)
    off = (seg[12] >> 4) * 4
    tcp, data = seg[:off], seg[off:]
    seq = struct.unpack(">I", tcp[4:8])[0]
    out, bounds = [], [0] + [c for c in cuts if 0 < c < len(data)] + [len(data)]
    for a, b in zip(bounds, bounds[1:]):
        t = bytearray(tcp)
        t[4:8] = struct.pack(">I", (seq + a) & 0xFFFFFFFF)
        out.append(make_ip(header, bytes(t) + data[a:b]))
    return out


def wire_name(text):
    return b"".join(bytes([len(label)]) + label.encode() for label in text.split(".") if label) + b"\0"


def synthetic_messages():
    """One response per RDATA layout the decoder knows, and one with every EDNS option, so the
    fuzzer starts inside each parser rather than having to find its layout."""
    target = wire_name("ns1.example.org.")
    key = bytes(range(32))
    bitmap = bytes.fromhex("0006620100000003" "010140")  # A NS SOA MX RRSIG NSEC; CAA
    svc = struct.pack(">HH", 1, 3) + b"\x02h2" + struct.pack(">HH", 3, 2) + struct.pack(">H", 853) \
        + struct.pack(">HH", 4, 4) + bytes([192, 0, 2, 1]) + struct.pack(">HH", 6, 16) + bytes(16)
    rdata = {
        1: bytes([192, 0, 2, 1]), 28: bytes(range(16)), 2: target, 5: target, 12: target,
        39: target, 15: struct.pack(">H", 10) + target, 18: struct.pack(">H", 1) + target,
        17: target + target, 14: target + target,
        6: target + wire_name("hostmaster.example.org.") + struct.pack(">5I", 1, 7200, 900, 1209600, 300),
        16: b"\x0bv=spf1 -all\x05a\"b\\c\x03\x00\x7f\xff", 99: b"\x0bv=spf1 -all",
        13: b"\x03x86\x05Linux", 33: struct.pack(">3H", 10, 60, 5060) + target,
        35: struct.pack(">2H", 100, 10) + b"\x01U\x07E2U+sip\x1b!^.*$!sip:info@example.org!" + b"\0",
        257: b"\x00\x05issueca.example.net", 43: struct.pack(">HBB", 60485, 5, 1) + key[:20],
        59: struct.pack(">HBB", 60485, 8, 2) + key,
        48: struct.pack(">HBB", 257, 3, 8) + key, 60: struct.pack(">HBB", 256, 3, 13) + key,
        46: struct.pack(">HBBIIIH", 1, 8, 2, 3600, 1700000000, 1690000000, 2642)
        + wire_name("example.org.") + key,
        47: target + bitmap, 50: struct.pack(">BBHB", 1, 1, 12, 4) + b"\xaa\xbb\xcc\xdd"
        + b"\x14" + key[:20] + bitmap, 51: struct.pack(">BBHB", 1, 0, 0, 0),
        62: struct.pack(">IH", 66, 3) + bitmap, 52: b"\x03\x01\x01" + key, 53: b"\x03\x00\x01" + key,
        44: b"\x04\x02" + key, 63: struct.pack(">IBB", 2018031900, 1, 1) + key + key[:16],
        256: struct.pack(">HH", 10, 1) + b"ftp://ftp1.example.com/public", 37: struct.pack(">HHB", 1, 12345, 8) + key,
        49: key, 61: key, 108: bytes(6), 109: bytes(8),
        45: b"\x0a\x01\x02" + bytes([192, 0, 2, 38]) + key, 29: bytes.fromhex("0033131389e9a2f8809b4e4800989a04"),
        64: struct.pack(">H", 1) + target + svc, 65: struct.pack(">H", 1) + b"\0" + svc,
    }
    header = struct.pack(">6H", 0x5353, 0x8580, 1, 1, 0, 0)
    question = wire_name("example.org.") + struct.pack(">HH", 1, 1)
    for rtype, data in rdata.items():
        rr = b"\xc0\x0c" + struct.pack(">HHIH", rtype, 1, 3600, len(data)) + data
        yield header + question + rr
    options = (struct.pack(">HH", 3, 4) + b"ns-1"                       # NSID
               + struct.pack(">HHHBB", 8, 7, 1, 24, 0) + bytes([192, 0, 2])  # ECS
               + struct.pack(">HH", 10, 16) + key[:16]                  # COOKIE
               + struct.pack(">HHH", 15, 6, 18) + b"ahem"               # EDE with text
               + struct.pack(">HH", 12, 4) + bytes(4)                   # padding
               + struct.pack(">HHH", 11, 2, 300)                        # keepalive
               + struct.pack(">HH", 65001, 3) + b"abc")                 # unknown option
    opt = b"\0" + struct.pack(">HHIH", 41, 1232, 0x01008000, len(options)) + options
    yield struct.pack(">6H", 0x5354, 0x0120, 1, 0, 0, 1) + question + opt


def tcp_frame(seq, data=b"", flags=0x18):
    """An Ethernet frame: 192.0.2.1:40000 → 192.0.2.53:53 over TCP."""
    tcp = struct.pack(">HHIIBBHHH", 40000, 53, seq & 0xFFFFFFFF, 0, 5 << 4, flags, 65535, 0, 0)
    header = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20, 1, 0, 64, 6, 0, bytes([192, 0, 2, 1]),
                         bytes([192, 0, 2, 53]))
    return wrap(make_ip(header, tcp + data), IDX_EN10MB)


def tcp_edge_sequences():
    """Sequence-number corner cases that found bugs in the stream reassembly."""
    query = next(synthetic_messages())
    stream = struct.pack(">H", len(query)) + query
    syn = 0x02
    yield [tcp_frame(0, flags=syn), tcp_frame(0x80000001, b"\0")]  # exactly 2^31 ahead
    yield [tcp_frame(1000, stream, flags=syn)]  # TCP Fast Open: the query rides on the SYN
    base = 0xFFFFFFF0  # out of order across the 2^32 wrap
    yield [tcp_frame(base - 1, flags=syn), tcp_frame(base + 18, stream[18:]),
           tcp_frame(base + 10, stream[10:18]), tcp_frame(base, stream[:10])]


class Corpus:
    def __init__(self, out_dir):
        self.dirs = {t: os.path.join(out_dir, t) for t in ("dns_wire", "packet", "dnstap", "dnsmasq")}
        for d in self.dirs.values():
            os.makedirs(d, exist_ok=True)
        self.count = {t: 0 for t in self.dirs}

    def add(self, target, data):
        path = os.path.join(self.dirs[target], hashlib.sha1(data).hexdigest())
        if not os.path.exists(path):
            with open(path, "wb") as f:
                f.write(data)
            self.count[target] += 1

    def sequence(self, index, frames):
        if frames and not any(MARKER in f for f in frames):
            for decoder in (0, TIGHT):
                self.add("packet", bytes([index | decoder, STEP]) + MARKER.join(frames))


def add_capture(corpus, path):
    frames = []
    for linktype, frame in read_pcap(path):
        index = LINKTYPE_INDEX.get(linktype)
        if index is None:
            print(f"make_corpus: {path}: link type {linktype} unknown, skipped", file=sys.stderr)
            return
        frames.append((index, frame))
    for index, frame in frames:
        corpus.sequence(index, [frame])
    for i in range(0, len(frames), 64):  # whole captures, as they came
        corpus.sequence(frames[0][0], [f for _, f in frames[i:i + 64]])

    streams = {}  # TCP data per direction, in capture order
    flows = {}  # TCP packets per connection, both directions
    for n, (index, frame) in enumerate(frames):
        ip = ip_of_frame(index, frame)
        t = ip and transport(ip)
        if not t or not (t[1][1] in DNS_PORTS or t[2][1] in DNS_PORTS):
            continue
        proto, src, dst, l4 = t
        for link in (IDX_EN10MB, IDX_SLL, IDX_SLL2, IDX_NULL, IDX_LOOP, IDX_RAW,
                     IDX_IPV6 if ip[0] >> 4 == 6 else IDX_IPV4):
            corpus.sequence(link, [wrap(ip, link)])
        corpus.sequence(IDX_EN10MB, [wrap(ip, IDX_EN10MB, (0x8100,))])
        corpus.sequence(IDX_EN10MB, [wrap(ip, IDX_EN10MB, (0x88A8, 0x8100))])
        if proto == 17:
            corpus.add("dns_wire", l4[8:])
            for size in (8, 16, max(8, (len(l4) // 2) & ~7)):
                pieces = [wrap(p, IDX_EN10MB) for p in fragments(ip, size, 0x5300 + n)]
                if len(pieces) > 1:
                    corpus.sequence(IDX_EN10MB, pieces)
                    corpus.sequence(IDX_EN10MB, pieces[::-1])
                    corpus.sequence(IDX_EN10MB, pieces[:1] + pieces)
        else:
            data = l4[(l4[12] >> 4) * 4:]
            streams.setdefault((src, dst), []).append(data)
            flows.setdefault(tuple(sorted((src, dst))), []).append(ip)

    for chunks in streams.values():
        stream = b"".join(chunks)
        while len(stream) >= 2:
            size = struct.unpack(">H", stream[:2])[0]
            corpus.add("dns_wire", stream[2:2 + size])
            stream = stream[2 + size:]
    for packets in flows.values():
        small = [wrap(p, IDX_EN10MB) for ip in packets for p in tcp_pieces(ip, (1, 2, 7, 40))]
        corpus.sequence(IDX_EN10MB, small)
        # Each segment's pieces in reverse: the stream must wait for the gap to fill.
        swapped = [wrap(p, IDX_EN10MB) for ip in packets for p in tcp_pieces(ip, (3, 20))[::-1]]
        corpus.sequence(IDX_EN10MB, swapped)


def add_dnsmasq_log(corpus, path):
    with open(path, "rb") as f:
        lines = f.read().splitlines(keepends=True)
    for line in lines:
        corpus.add("dnsmasq", line)
    step = DNSMASQ_WINDOW // 2
    for i in range(0, max(1, len(lines) - step), step):
        corpus.add("dnsmasq", b"".join(lines[i:i + DNSMASQ_WINDOW]))


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    corpus = Corpus(sys.argv[1])
    for message in synthetic_messages():
        corpus.add("dns_wire", message)
    for frames in tcp_edge_sequences():
        corpus.sequence(IDX_EN10MB, frames)
    for arg in sys.argv[2:]:
        name = os.path.basename(arg)
        if not os.path.exists(arg):
            print(f"make_corpus: {arg}: missing, skipped", file=sys.stderr)
            continue
        if name.endswith(".dnstap"):
            for frame in file_frames(arg):
                corpus.add("dnstap", frame)
            continue
        if name.endswith(".log") or name.startswith("messages."):
            add_dnsmasq_log(corpus, arg)
            continue
        paths = [os.path.join(arg, n) for n in sorted(os.listdir(arg)) if n.endswith(".pcap")] \
            if os.path.isdir(arg) else [arg]
        for path in paths:
            add_capture(corpus, path)
    counts = ", ".join(f"{n} {t}" for t, n in corpus.count.items())
    print(f"make_corpus: {counts} seeds in {sys.argv[1]}")


if __name__ == "__main__":
    main()
