#!/usr/bin/python3
"""Gives a capture public addresses, so that GeoIP has something to say about it.

Usage: readdress.py IN.pcap OUT.pcap

tests/data/sample.pcap was made from the shared sample captures (nsd on loopback, 127.0.0.1 and
::1, and documentation addresses) with this script: the side on port 53 becomes a public server
address, the other side one of a few public client addresses chosen by its port, so each flow
keeps one client. Nothing but addresses and checksums changes (timestamps, ports, DNS bytes
stay), which the caller can check by comparing the events of both files without the addresses.
"""
import sys

from scapy.all import IP, IPv6, TCP, UDP, PcapReader, PcapWriter  # noqa: E402

SERVER4, SERVER6 = "193.0.14.129", "2001:7fd::1"  # k.root-servers.net (RIPE NCC)
CLIENTS4 = ["81.2.69.142", "89.160.20.112", "216.160.83.58", "175.16.199.10", "202.196.224.10"]
CLIENTS6 = ["2a02:8800::1", "2001:218::1", "2400:cb00::1"]


def main(src, dst):
    with PcapReader(src) as reader, PcapWriter(dst, linktype=reader.linktype, sync=True) as out:
        for pkt in reader:
            ip = pkt.getlayer(IP) or pkt.getlayer(IPv6)
            l4 = pkt.getlayer(UDP) or pkt.getlayer(TCP)
            if ip is not None and l4 is not None:
                client_port = l4.sport if l4.dport == 53 else l4.dport
                v6 = isinstance(ip, IPv6)
                server = SERVER6 if v6 else SERVER4
                clients = CLIENTS6 if v6 else CLIENTS4
                client = clients[client_port % len(clients)]
                ip.src, ip.dst = (client, server) if l4.dport == 53 else (server, client)
                if not v6:
                    del ip.chksum
                del l4.chksum
                t = pkt.time
                pkt = pkt.__class__(bytes(pkt))  # recompute checksums
                pkt.time = t
            out.write(pkt)


if __name__ == "__main__":
    main(*sys.argv[1:3])
