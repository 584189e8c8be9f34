"""stash53 on the shared samples re-encapsulated in other link types.

The IP packets of sample-udp4, sample-udp6 and sample-tcp are written again under
--workdir with other link layers (and partly as pcapng).  For each new capture stash53's
events must agree with tshark on that capture and, apart from `n`, equal the events of
the original capture.  Then mergecap puts captures of four link types into one pcapng
(interfaces of different link types, as `dumpcap -i eth0 -i lo` writes; libpcap stops at the
second): stash53 reads it with libwiretap (dlopen'ed) and every message must agree with tshark.
The same stash53 process also feeds a ZeroMQ CURVE emitter, whose subscriber must get every
event: libwiretap's libwsutil exports its own crypto_scalarmult_curve25519, which broke CURVE
when it was linked in.

    /usr/bin/python3 tests/integration/test_link_types.py --stash53 build/stash53 \
        --pcaps /work/shared/pcaps --workdir /tmp/linktypes
"""
import argparse
import json
import pathlib
import struct
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from decimal import Decimal

from scapy.utils import PcapNgWriter, PcapWriter, RawPcapReader

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "oracle"))
import oracle  # noqa: E402
from test_oracles import run_stash53  # noqa: E402
from test_zmq import bound_sub, check_messages, collect  # noqa: E402
from testlib import Failure  # noqa: E402
import zmq  # noqa: E402

SAMPLES = ("sample-udp4", "sample-udp6", "sample-tcp")
ETHERTYPE = {4: 0x0800, 6: 0x86DD}
MACS = bytes.fromhex("020000000002" "020000000001")


def ether(*tags):
    """Ethernet II with the given (TPID, VLAN id) tags, outermost first."""
    def frame(ip, version):
        tagged = b"".join(struct.pack("!HH", tpid, vid) for tpid, vid in tags)
        return MACS + tagged + struct.pack("!H", ETHERTYPE[version]) + ip
    return frame


def sll(ip, version):
    # packet type "sent to us", ARPHRD_LOOPBACK, 6-byte address padded to 8
    return struct.pack("!HHH8sH", 0, 772, 6, b"", ETHERTYPE[version]) + ip


def sll2(ip, version):
    # protocol, reserved, interface index, ARPHRD_LOOPBACK, packet type, address length, address
    return struct.pack("!HHIHBB8s", ETHERTYPE[version], 0, 1, 772, 0, 6, b"") + ip


def null(af_inet6):
    """BSD loopback: the address family in the writer's (here little-endian) byte order;
    AF_INET6 is 24 (NetBSD/OpenBSD), 28 (FreeBSD) or 30 (macOS)."""
    return lambda ip, version: struct.pack("<I", 2 if version == 4 else af_inet6) + ip


def raw(ip, version):
    return ip


# name, link type, builder, IP versions carried, pcapng?
VARIANTS = [
    ("sll", 113, sll, (4, 6), False),
    ("sll2", 276, sll2, (4, 6), True),
    ("null-af24", 0, null(24), (4, 6), False),
    ("null-af28", 0, null(28), (4, 6), False),
    ("null-af30", 0, null(30), (4, 6), False),
    ("raw", 101, raw, (4, 6), False),
    ("ipv4", 228, raw, (4,), False),
    ("ipv6", 229, raw, (6,), False),
    ("vlan", 1, ether((0x8100, 100)), (4, 6), False),
    ("qinq", 1, ether((0x88A8, 200), (0x8100, 100)), (4, 6), True),
    ("vlan-vlan", 1, ether((0x8100, 200), (0x8100, 100)), (4, 6), False),
]


def ip_packets(pcap):
    """(timestamp, IP version, IP packet) of an Ethernet capture, padding dropped."""
    out = []
    with closing(RawPcapReader(str(pcap))) as reader:
        if reader.linktype != 1:
            sys.exit(f"{pcap} is not an Ethernet capture")
        for data, meta in reader:
            ip = data[14:]
            version = ip[0] >> 4
            length = struct.unpack("!H", ip[2:4])[0] if version == 4 else 40 + struct.unpack(
                "!H", ip[4:6])[0]
            out.append(((meta.sec, meta.usec), version, ip[:length]))
    return out


def write_capture(path, linktype, frames, pcapng):
    writer = PcapNgWriter(str(path)) if pcapng else PcapWriter(str(path), linktype=linktype)
    writer.linktype = linktype  # PcapNgWriter has no linktype argument
    with writer:
        writer.write_header(None)
        for (sec, usec), data in frames:
            # pcapng takes one number; a Decimal keeps the microseconds exact
            stamp = Decimal(sec) + Decimal(usec) / 10**6 if pcapng else sec
            writer.write_packet(data, sec=stamp, usec=usec)


def check(stash53, path, expected):
    events, problems = run_stash53(stash53, path)
    problems += [f"vs tshark: {p}" for p in oracle.compare(events, oracle.run_tshark(path))]
    strip = [{k: v for k, v in ev.items() if k != "n"} for ev in events]
    if len(strip) != len(expected):
        problems.append(f"{len(strip)} events, the original capture gives {len(expected)}")
    for i, (got, want) in enumerate(zip(strip, expected)):
        diff = sorted(k for k in got.keys() | want.keys() if got.get(k) != want.get(k))
        if diff:
            problems.append(f"event {i + 1} differs from the original in {', '.join(diff)}: "
                            + "; ".join(f"{k}={got.get(k)!r} vs {want.get(k)!r}" for k in diff))
    return problems


def check_curve(stash53, path, workdir, expected):
    """stash53 reading `path` with a CURVE zmq emitter and stdout: the subscriber gets every
    event, the same as stdout, and they are the `expected` ones."""
    server_pub, server_sec = zmq.curve_keypair()
    client_pub, client_sec = zmq.curve_keypair()
    ctx = zmq.Context()
    sub, port = bound_sub(ctx, curve=(server_pub, client_pub, client_sec))
    config = workdir / "multi-link-curve.yml"
    config.write_text(json.dumps({"emitters": [{  # JSON is YAML
        "name": "zmq", "type": "zmq", "topic": "dns.{qtype}",
        "connect": [f"tcp://127.0.0.1:{port}"],
        "curve": {"secret_key": server_sec.decode(), "public_key": server_pub.decode(),
                  "allowed_clients": [client_pub.decode()]},
    }, {"name": "console", "type": "stdout"}]}))
    config.chmod(0o600)  # it holds a secret key
    err = workdir / "multi-link-curve.err"
    with open(err, "wb") as e:
        proc = subprocess.Popen([stash53, "-c", str(config), "-r", str(path), "-N", "test"],
                                stdout=subprocess.PIPE, stderr=e)
    try:
        got, _ = collect(proc, [sub])
        out = proc.stdout.read()
        if proc.wait(timeout=10) != 0:
            return [f"CURVE run: stash53 exit status {proc.returncode}: "
                    + err.read_text(errors="replace")[-2000:]]
        events = [json.loads(line) for line in out.splitlines()]
        if events != expected:
            return [f"CURVE run: stdout has {len(events)} events, not the {len(expected)} of -r"]
        check_messages("CURVE subscriber", got[sub], events)
        return []
    except Failure as f:
        return [str(f)]
    finally:
        sub.close()
        ctx.term()


def check_merged(stash53, pcaps, workdir):
    """One pcapng with interfaces of four link types, each part a different sample."""
    parts = [pcaps / "sample-edns-nsid.pcap", workdir / "sample-udp4.sll.pcap",
             workdir / "sample-udp6.null-af30.pcap", workdir / "sample-tcp.raw.pcap"]
    merged = workdir / "multi-link.pcapng"
    subprocess.run(["mergecap", "-F", "pcapng", "-w", str(merged), *map(str, parts)], check=True)
    events, problems = run_stash53(stash53, merged)
    rows = oracle.run_tshark(merged)
    problems += [f"vs tshark: {p}" for p in oracle.compare(events, rows)]
    want = sum(len(run_stash53(stash53, p)[0]) for p in parts)
    if len(events) != want:
        problems.append(f"{len(events)} events, its parts give {want}")
    if not problems:
        problems += check_curve(stash53, merged, workdir, events)
    print(f"{merged.name}: 4 link types, {len(events)} messages, tshark {len(rows)}")
    return merged, problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--stash53", required=True)
    ap.add_argument("--pcaps", required=True, type=pathlib.Path)
    ap.add_argument("--workdir", required=True, type=pathlib.Path)
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    jobs = []
    for sample in SAMPLES:
        pcap = args.pcaps / f"{sample}.pcap"
        packets = ip_packets(pcap)
        original, problems = run_stash53(args.stash53, pcap)
        if problems:
            print(f"FAIL {pcap.name}: {problems}")
            return 1
        for name, linktype, build, versions, pcapng in VARIANTS:
            if not any(v in versions for _, v, _ in packets):
                continue
            path = args.workdir / f"{sample}.{name}.{'pcapng' if pcapng else 'pcap'}"
            write_capture(path, linktype, [(t, build(ip, v)) for t, v, ip in packets
                                           if v in versions], pcapng)
            # The original events of the IP versions this link type carries.
            expected = [{k: v for k, v in ev.items() if k != "n"} for ev in original
                        if (6 if ev["ipv6"] else 4) in versions]
            jobs.append((path, expected))
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda job: check(args.stash53, *job), jobs))
    merged, problems = check_merged(args.stash53, args.pcaps, args.workdir)
    jobs.append((merged, None))
    results.append(problems)
    for (path, _), problems in zip(jobs, results):
        print(f"{'FAIL' if problems else 'ok  '} {path.name}")
        for p in problems:
            print(f"    {p}")
    return 1 if any(results) else 0


if __name__ == "__main__":
    sys.exit(main())
