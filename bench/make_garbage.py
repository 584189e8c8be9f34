#!/usr/bin/python3
"""Writes a pcap (Ethernet) of hostile garbage on DNS port 53, for memory and robustness runs.

Usage: make_garbage.py OUT.pcap SIZE_MB [--seed N]

Every packet is IPv4 or IPv6, UDP or TCP, with port 53 on one side and a random port on the
other, and a random payload of 0..1500 bytes. TCP segments carry random flags, sequence numbers
and sometimes a random header length; half the packets come from a small pool of hosts and
ports, so TCP flows and fragment ids recur and reassembly really holds state. One packet in ten is
an IP fragment with a random offset, id and more-fragments bit; a few UDP length fields lie.
Capture time advances 0..2 ms per packet, so reassembly timeouts fire. The same seed gives the
same file, byte for byte.
"""

import argparse
import random
import struct

POOL_BYTES = 16 << 20  # random bytes that payloads are sliced from: urandom per packet is slow
ETH_V4 = b"\x00\x00\x5e\x00\x53\x01\x00\x00\x5e\x00\x53\x02\x08\x00"
ETH_V6 = b"\x00\x00\x5e\x00\x53\x01\x00\x00\x5e\x00\x53\x02\x86\xdd"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("size_mb", type=int)
    ap.add_argument("--seed", type=int, default=53)
    args = ap.parse_args()

    rng = random.Random(args.seed)
    pool = rng.randbytes(POOL_BYTES)
    # Recurring ends: 64 hosts of each family, 256 ports.
    hosts4 = [bytes([198, 51, 100, i]) for i in range(64)]
    hosts6 = [bytes.fromhex("20010db8feed0000000000000000") + struct.pack(">H", i) for i in range(64)]
    ports = [rng.randrange(1024, 65536) for _ in range(256)]
    server4, server6 = bytes([192, 0, 2, 53]), bytes.fromhex("20010db8000000000000000000000053")

    limit = args.size_mb << 20
    written, packets, ts_us = 24, 0, 1_690_000_000 * 1_000_000
    rand, randrange, getrandbits = rng.random, rng.randrange, rng.getrandbits
    with open(args.out, "wb", buffering=8 << 20) as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        batch = []
        while written < limit:
            v6 = rand() < 0.4
            tcp = rand() < 0.5
            recurring = rand() < 0.5
            if recurring:
                client = (hosts6 if v6 else hosts4)[getrandbits(6)]
                cport = ports[getrandbits(8)]
            else:
                at = getrandbits(23)
                client = pool[at:at + (16 if v6 else 4)]
                cport = randrange(1, 65536)
            server = server6 if v6 else server4
            to_server = rand() < 0.5
            src, dst = (client, server) if to_server else (server, client)
            sport, dport = (cport, 53) if to_server else (53, cport)

            n = randrange(0, 1501)
            off = randrange(0, POOL_BYTES - n)
            payload = pool[off:off + n]
            if tcp:
                doff = 5 if rand() < 0.9 else randrange(5, 16)
                l4 = struct.pack(">HHIIBBHHH", sport, dport, getrandbits(32), getrandbits(32),
                                 doff << 4, getrandbits(8), 65535, 0, 0)
                l4 += pool[off:off + (doff - 5) * 4] + payload  # options: garbage too
            else:
                udp_len = 8 + n if rand() < 0.97 else getrandbits(16)
                l4 = struct.pack(">HHHH", sport, dport, udp_len, 0) + payload
            proto = 6 if tcp else 17

            fragment = rand() < 0.1
            frag_id = getrandbits(4) if recurring else getrandbits(16)
            if v6:
                if fragment:
                    # Offset in 8-byte units, bit 0 "more fragments".
                    l4 = struct.pack(">BBHI", proto, 0, getrandbits(13) << 3 | getrandbits(1),
                                     frag_id) + l4
                ip = struct.pack(">IHBB16s16s", 0x60000000, len(l4), 44 if fragment else proto,
                                 64, src, dst)
                frame = ETH_V6 + ip + l4
            else:
                frag = getrandbits(1) << 13 | getrandbits(13) if fragment else 0x4000  # else DF
                ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), frag_id, frag, 64, proto,
                                 0, src, dst)
                frame = ETH_V4 + ip + l4

            ts_us += randrange(0, 2001)
            batch.append(struct.pack("<IIII", ts_us // 1_000_000, ts_us % 1_000_000,
                                     len(frame), len(frame)))
            batch.append(frame)
            written += 16 + len(frame)
            packets += 1
            if len(batch) >= 8192:
                f.write(b"".join(batch))
                batch.clear()
        f.write(b"".join(batch))
    print(f"make_garbage: {args.out}: {packets} packets, {written >> 20} MiB")


if __name__ == "__main__":
    main()
