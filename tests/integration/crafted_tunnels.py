"""Crafted captures of DNS inside tunnels (issue 13, item 3), as cloud sensors receive mirrored
traffic: VXLAN (AWS VPC Traffic Mirroring, Azure vTAP), Geneve with an option, GRE with its
optional fields and with Ethernet bridging, ERSPAN II and III, IP-in-IP, IPv6-in-IPv4, a VXLAN
inside GRE, fragments inside and outside a VXLAN tunnel, and DNS over TCP inside VXLAN.

tshark 4.0 dissects all of them on the default ports, so the inner messages are compared with
it as any other; the tunnel block, which tshark does not know, is checked by Capture.expect.
"""
from scapy.contrib.erspan import ERSPAN_II, ERSPAN_III, ERSPAN_PlatformSpecific
from scapy.contrib.geneve import GENEVE, GeneveOptions
from scapy.layers.inet import UDP, fragment
from scapy.layers.l2 import GRE, Dot1Q, Ether
from scapy.layers.vxlan import VXLAN

from crafted_captures import (AA, CLIENT4, CLIENT_MAC, MACS, RESPONSE, SERVER4, Capture, Flow,
                              Msg, a_response, dnskey_response, fragments4, framed, query, txt,
                              with_ns)

# The mirroring side (the source of the copies) and the sensor, in documentation ranges.
MIRROR4, SENSOR4 = "192.0.2.10", "192.0.2.20"
MIRROR6, SENSOR6 = "2001:db8:7e::10", "2001:db8:7e::20"
VXLAN_PORT, GENEVE_PORT = 4789, 6081


def inner_ether(p):
    """The Ethernet header of a mirrored frame, with the MACs Capture.add would give it."""
    return Ether(src=MACS.get(p.src, CLIENT_MAC), dst=MACS.get(p.dst, CLIENT_MAC))


class Tunnelled(Capture):
    """A Capture whose every packet (exchanges, TCP flows, fragments) goes through `wrap`,
    which returns the outer packet, or a list of them (outer fragments)."""

    def __init__(self, name, what, wrap):
        super().__init__(name, what)
        self.wrap = wrap

    def add(self, *packets):
        for p in packets:
            outer = self.wrap(self, p)
            super().add(*(outer if isinstance(outer, list) else [outer]))

    def tunnel(self, want, **match):
        """Every DNS event of this capture (or those matching `match`) has this tunnel block."""
        self.expect({"tunnel": want}, **match)


def vxlan(vni, mirror=MIRROR4, sensor=SENSOR4):
    # The source port is a hash of the inner flow (RFC 7348 §5): any fixed one will do.
    return lambda cap, p: (cap.ip(mirror, sensor) / UDP(sport=49321, dport=VXLAN_PORT)
                           / VXLAN(flags="Instance", vni=vni) / inner_ether(p) / p)


def both(cap, id, tunnel, **match):
    """The query and the response of exchange `id` both carry `tunnel`."""
    for msg_type in ("query", "response"):
        cap.tunnel(tunnel, id=id, msg_type=msg_type, **match)


def block(type, id=None, depth=1, v6=False):
    src, dst = (MIRROR6, SENSOR6) if v6 else (MIRROR4, SENSOR4)
    return {"type": type, "s_addr": src, "d_addr": dst, "depth": depth,
            **({} if id is None else {"id": id})}


def vxlan_caps():
    cap = Tunnelled("tunnel-vxlan", "DNS in VXLAN (VNI 1234) as AWS VPC Traffic Mirroring sends "
                    "it: an IPv4 and an IPv6 exchange", vxlan(1234))
    cap.exchange(45001, query(0x8001, "www.example.org"), a_response(0x8001, "www.example.org"))
    cap.exchange(45002, query(0x8002, "example.org"), a_response(0x8002), v6=True)
    both(cap, 0x8001, block("vxlan", 1234))
    both(cap, 0x8002, block("vxlan", 1234))

    frag = Tunnelled("tunnel-vxlan-inner-frag", "a DNSKEY response in 3 inner IPv4 fragments, "
                     "each in its own VXLAN packet, the last before the second", vxlan(77))
    frag.add(frag.udp(CLIENT4, SERVER4, 45003, 53, query(0x8003, "example.org", "DNSKEY",
                                                         udp=4096, do=True)))
    first, second, third = fragments4(frag, SERVER4, CLIENT4, 53, 45003, dnskey_response(0x8003))
    frag.add(first, third, second)
    both(frag, 0x8003, block("vxlan", 77))

    # A full-size inner frame (1500 bytes of IP) plus 50 bytes of VXLAN does not fit the outer
    # path's 1500: the outer IP fragments the VXLAN datagram (no DF), as a mirror session does.
    def outer_fragmented(cap, p):
        return fragment(vxlan(88)(cap, p), fragsize=1480)

    def txt_of(size):  # an answer of `size` bytes of DNS message
        rest = size - len(bytes(with_ns(Msg(0x8004, RESPONSE | AA, "example.org", "TXT").rr(
            1, "example.org", "TXT", 300, b""))))
        strings = [c * 255 for c in "vwxyz"][:rest // 256] + ["p" * (rest % 256 - 1)]
        return with_ns(Msg(0x8004, RESPONSE | AA, "example.org", "TXT").rr(
            1, "example.org", "TXT", 300, txt(*strings)))

    big = txt_of(1500 - 28)
    assert len(bytes(big)) == 1472
    out = Tunnelled("tunnel-vxlan-outer-frag", "a 1.4 kB response in one inner datagram, its "
                    "VXLAN datagram fragmented by the outer IP", outer_fragmented)
    out.exchange(45004, query(0x8004, "example.org", "TXT"), big)
    both(out, 0x8004, block("vxlan", 88))

    tcp = Tunnelled("tunnel-vxlan-tcp", "DNS over TCP inside VXLAN: handshake, framed query and "
                    "response, close", vxlan(99))
    flow = Flow(tcp, 45005)
    flow.open()
    flow.send(True, framed(query(0x8005, "example.org", "MX")))
    mx = Msg(0x8005, RESPONSE | AA, "example.org", "MX").rr(1, "example.org", "MX", 3600,
                                                            b"\0\x0a", "mx1.example.org")
    flow.send(False, framed(with_ns(mx)))
    flow.close()
    both(tcp, 0x8005, block("vxlan", 99), transport="tcp")
    return [cap, frag, out, tcp]


def geneve(cap, p):
    # AWS Gateway Load Balancer style: Geneve over the outer network with one option (class
    # 0x0108, type 1, 8 bytes of data), here over IPv6.
    option = GeneveOptions(classid=0x0108, type=1, data=bytes.fromhex("0000000000abcdef"))
    return (cap.ip(MIRROR6, SENSOR6) / UDP(sport=50000, dport=GENEVE_PORT)
            / GENEVE(vni=0x123456, proto=0x6558, options=[option]) / inner_ether(p) / p)


def gre_caps():
    caps = []

    def gre_cap(name, what, gre, inner=lambda p: p):
        caps.append(Tunnelled(name, what, lambda cap, p: cap.ip(MIRROR4, SENSOR4) / gre()
                              / inner(p)))
        caps[-1].exchange(45100 + len(caps), query(0x8100 + len(caps), "example.org"),
                          a_response(0x8100 + len(caps)))
        return caps[-1], 0x8100 + len(caps)

    seq = iter(range(1, 100))  # the GRE sequence numbers of a tunnel
    cap, id = gre_cap("tunnel-gre-key", "GRE with checksum, key 0x10020 and sequence number, "
                      "IPv4 inside", lambda: GRE(chksum_present=1, key_present=1, key=0x10020,
                                                 seqnum_present=1, sequence_number=next(seq),
                                                 proto=0x0800))
    both(cap, id, block("gre", 0x10020))
    cap, id = gre_cap("tunnel-gre-teb", "GRE transparent Ethernet bridging (0x6558), no key, "
                      "a VLAN tag on the inner frame",
                      lambda: GRE(proto=0x6558), lambda p: inner_ether(p) / Dot1Q(vlan=42) / p)
    both(cap, id, block("gre"))
    cap, id = gre_cap("tunnel-erspan2", "ERSPAN type II (GRE 0x88BE with sequence number), "
                      "session 77", lambda: GRE(seqnum_present=1, sequence_number=next(seq),
                                                proto=0x88BE),
                      lambda p: ERSPAN_II(ver=1, session_id=77, index=5) / inner_ether(p) / p)
    both(cap, id, block("erspan2", 77))
    cap, id = gre_cap("tunnel-erspan3", "ERSPAN type III (GRE 0x22EB), session 300, with the "
                      "8-byte platform-specific subheader (O flag)",
                      lambda: GRE(seqnum_present=1, sequence_number=next(seq), proto=0x22EB),
                      lambda p: ERSPAN_III(session_id=300, timestamp=0x5F5E100, ft=0, o=1)
                      / ERSPAN_PlatformSpecific(platf_id=3, info1=1, info2=0x12345678)
                      / inner_ether(p) / p)
    both(cap, id, block("erspan3", 300))
    return caps


def ip_caps():
    ipip = Tunnelled("tunnel-ip-in-ip", "IP-in-IP (IP protocol 4)",
                     lambda cap, p: cap.ip(MIRROR4, SENSOR4) / p)
    ipip.exchange(45201, query(0x8201, "example.org"), a_response(0x8201))
    both(ipip, 0x8201, block("ip-in-ip"))
    six = Tunnelled("tunnel-ipv6-in-ipv4", "IPv6-in-IPv4 (IP protocol 41, RFC 4213)",
                    lambda cap, p: cap.ip(MIRROR4, SENSOR4) / p)
    six.exchange(45202, query(0x8202, "example.org", "AAAA"),
                 Msg(0x8202, RESPONSE | AA, "example.org", "AAAA"), v6=True)
    both(six, 0x8202, block("ipv6-in-ip"))
    gen = Tunnelled("tunnel-geneve", "Geneve (VNI 0x123456) with an option, over IPv6", geneve)
    gen.exchange(45203, query(0x8203, "example.org"), a_response(0x8203))
    both(gen, 0x8203, block("geneve", 0x123456, v6=True))

    # A VXLAN session carried through a GRE tunnel (key 5): the GRE one is the outermost.
    def nested(cap, p):
        inner = vxlan(4321, "198.18.0.1", "198.18.0.2")(cap, p)
        return cap.ip(MIRROR4, SENSOR4) / GRE(key_present=1, key=5, proto=0x0800) / inner

    nest = Tunnelled("tunnel-nested", "VXLAN (VNI 4321) inside GRE (key 5): depth 2", nested)
    nest.exchange(45204, query(0x8204, "example.org"), a_response(0x8204))
    both(nest, 0x8204, block("gre", 5, depth=2))
    return [ipip, six, gen, nest]


def tunnels():
    """The Captures of this module (see crafted_captures.Capture)."""
    return vxlan_caps() + gre_caps() + ip_caps()
