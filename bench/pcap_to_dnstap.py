#!/usr/bin/python3
"""Convert every DNS message of a pcap (UDP and TCP port 53) to a dnstap Frame Streams file.

Usage: bench/pcap_to_dnstap.py IN.pcap OUT.dnstap

Each message becomes Dnstap{type: MESSAGE, identity, version, message: Message{...}}:
AUTH_QUERY for QR=0, AUTH_RESPONSE for QR=1; the server side is port 53. Plain struct parsing
(no scapy: ~10x faster). Link types: EN10MB, NULL/LOOP, LINUX_SLL, LINUX_SLL2, RAW. TCP is
reassembled per direction in sequence order (2-byte length prefix, RFC 1035 4.2.2);
IP fragments are skipped. Protobuf field numbers: capture/dnstap.proto.
"""
import struct
import sys

IDENTITY, VERSION = b"pcap_to_dnstap", b"stash53-bench"
AUTH_QUERY, AUTH_RESPONSE, INET, INET6, UDP, TCP = 1, 2, 1, 2, 1, 2


def varint(v):
    out = bytearray()
    while v > 0x7F:
        out.append(v & 0x7F | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def fv(num, v):  # varint field (wire type 0)
    return varint(num << 3) + varint(v)


def fb(num, b):  # length-delimited field (wire type 2)
    return varint(num << 3 | 2) + varint(len(b)) + b


def ff32(num, v):  # fixed32 field (wire type 5)
    return varint(num << 3 | 5) + struct.pack("<I", v)


def dnstap_frame(dns, fam, proto, src, dst, sport, dport, sec, nsec):
    resp = bool(dns[2] & 0x80)
    if sport == 53 and dport != 53:  # server -> client
        qa, qp, ra, rp = dst, dport, src, sport
    elif dport == 53 and sport != 53:
        qa, qp, ra, rp = src, sport, dst, dport
    else:  # both or neither port 53: decide by QR
        qa, qp, ra, rp = (dst, dport, src, sport) if resp else (src, sport, dst, dport)
    m = (fv(1, AUTH_RESPONSE if resp else AUTH_QUERY) + fv(2, fam) + fv(3, proto)
         + fb(4, qa) + fb(5, ra) + fv(6, qp) + fv(7, rp))
    m += (fv(12, sec) + ff32(13, nsec) + fb(14, dns)) if resp else \
         (fv(8, sec) + ff32(9, nsec) + fb(10, dns))
    d = fb(1, IDENTITY) + fb(2, VERSION) + fb(14, m) + fv(15, 1)
    return struct.pack(">I", len(d)) + d


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: pcap_to_dnstap.py IN.pcap OUT.dnstap")
    data = open(sys.argv[1], "rb").read()
    magic = data[:4]
    bo = {b"\xd4\xc3\xb2\xa1": "<", b"\x4d\x3c\xb2\xa1": "<",
          b"\xa1\xb2\xc3\xd4": ">", b"\xa1\xb2\x3c\x4d": ">"}.get(magic)
    if bo is None:
        sys.exit("not a classic pcap file (pcapng: convert with editcap -F pcap)")
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack_from(bo + "I", data, 20)[0] & 0xFFFF
    rec = struct.Struct(bo + "IIII")
    tcp_streams = {}  # (src, sport, dst, dport) -> [next_seq, buffer, pending {seq: payload}]
    frames = []
    nmsg = skipped = 0
    off, end = 24, len(data)
    while off + 16 <= end:
        ts, frac, incl, _orig = rec.unpack_from(data, off)
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        nsec = frac if nano else frac * 1000
        # Link layer -> network layer offset and ethertype.
        if linktype == 1:  # EN10MB
            p, et = 14, struct.unpack_from(">H", pkt, 12)[0]
            while et in (0x8100, 0x88A8) and len(pkt) >= p + 4:
                et = struct.unpack_from(">H", pkt, p + 2)[0]
                p += 4
        elif linktype in (0, 108):  # NULL / LOOP: 4-byte AF in host (or network) order
            af = struct.unpack_from(bo + "I" if linktype == 0 else ">I", pkt, 0)[0]
            if af > 0xFFFF:
                af = struct.unpack_from("<I" if bo == ">" else ">I", pkt, 0)[0]
            p, et = 4, 0x0800 if af == 2 else 0x86DD
        elif linktype == 113:  # LINUX_SLL
            p, et = 16, struct.unpack_from(">H", pkt, 14)[0]
        elif linktype == 276:  # LINUX_SLL2
            p, et = 20, struct.unpack_from(">H", pkt, 0)[0]
        elif linktype in (12, 101):  # RAW
            p, et = 0, 0x0800 if pkt[0] >> 4 == 4 else 0x86DD
        else:
            sys.exit(f"unsupported link type {linktype}")
        if et == 0x0800:
            ihl = (pkt[p] & 0x0F) * 4
            tot = struct.unpack_from(">H", pkt, p + 2)[0]
            if struct.unpack_from(">H", pkt, p + 6)[0] & 0x3FFF:  # fragment
                skipped += 1
                continue
            proto, src, dst = pkt[p + 9], pkt[p + 12:p + 16], pkt[p + 16:p + 20]
            fam, l4, l4end = INET, p + ihl, p + tot
        elif et == 0x86DD:
            nh, plen = pkt[p + 6], struct.unpack_from(">H", pkt, p + 4)[0]
            src, dst = pkt[p + 8:p + 24], pkt[p + 24:p + 40]
            l4, l4end = p + 40, p + 40 + plen
            while nh in (0, 43, 60):  # hop-by-hop, routing, destination options
                nh, l4 = pkt[l4], l4 + 8 + pkt[l4 + 1] * 8
            proto, fam = nh, INET6
        else:
            continue
        l4end = min(l4end, len(pkt))
        if proto not in (6, 17) or l4end - l4 < 8:
            continue
        sport, dport = struct.unpack_from(">HH", pkt, l4)
        if sport != 53 and dport != 53:
            continue
        if proto == 17:
            dns = pkt[l4 + 8:l4end]
            if len(dns) < 12:
                skipped += 1
                continue
            frames.append(dnstap_frame(dns, fam, UDP, src, dst, sport, dport, ts, nsec))
            nmsg += 1
            continue
        # TCP: in-order reassembly per direction.
        seq = struct.unpack_from(">I", pkt, l4 + 4)[0]
        flags = pkt[l4 + 13]
        payload = pkt[l4 + (pkt[l4 + 12] >> 4) * 4:l4end]
        key = (src, sport, dst, dport)
        if flags & 0x02:  # SYN
            tcp_streams[key] = [(seq + 1) & 0xFFFFFFFF, b"", {}]
            continue
        st = tcp_streams.get(key)
        if st is None:  # stream started before the capture: take it from here
            st = tcp_streams[key] = [seq, b"", {}]
        if payload:
            st[2].setdefault(seq, payload)
        while st[0] in st[2]:
            seg = st[2].pop(st[0])
            st[1] += seg
            st[0] = (st[0] + len(seg)) & 0xFFFFFFFF
        buf = st[1]
        while len(buf) >= 2:
            n = struct.unpack_from(">H", buf, 0)[0]
            if len(buf) < 2 + n:
                break
            dns, buf = buf[2:2 + n], buf[2 + n:]
            if len(dns) >= 12:
                frames.append(dnstap_frame(dns, fam, TCP, src, dst, sport, dport, ts, nsec))
                nmsg += 1
        st[1] = buf
        if flags & 0x05:  # FIN or RST
            tcp_streams.pop(key, None)

    ctype = b"protobuf:dnstap.Dnstap"
    start = struct.pack(">II", 2, 1) + struct.pack(">I", len(ctype)) + ctype  # START, CONTENT_TYPE
    with open(sys.argv[2], "wb") as out:
        out.write(struct.pack(">II", 0, len(start)) + start)
        out.write(b"".join(frames))
        out.write(struct.pack(">III", 0, 4, 3))  # STOP
    print(f"{nmsg} messages written to {sys.argv[2]}" + (f" ({skipped} skipped)" if skipped else ""),
          file=sys.stderr)


if __name__ == "__main__":
    main()
