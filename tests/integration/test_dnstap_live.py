#!/usr/bin/python3
"""Live dnstap: BIND, Unbound, Knot and dnsdist write dnstap into `stash53 --dnstap-socket`.

Usage: test_dnstap_live.py --stash53 PATH --workdir DIR   (as root)

The script re-executes itself inside `unshare --net` (as test_live_capture.py does), so the
servers may bind port 53 on a private loopback. Address plan on lo:
    BIND 127.0.1.1 / 2001:db8:1::1     NSD 127.0.1.2 / ::2 (fake root, example., fwd.example.)
    Unbound 127.0.1.3 / ::3            Knot 127.0.1.4 / ::4        dnsdist 127.0.1.5 / ::5
    kdig (client) 127.0.2.1 / 2001:db8:2::1, readiness probes 127.0.2.9
Each server gets its dnstap config from deploy/dnstap/<server> verbatim (only the socket path
placeholder is replaced) around a minimal config of the test's own, and one stash53 listening on
that socket. Oracles:
  - kdig (`+qr`: the query it sent and the response it got) for every client exchange: each is
    exactly one *_QUERY and one *_RESPONSE event with kdig's id, qname, qtype, rcode, flags and
    records, kdig's client address and port, the server's address and port 53;
  - a tcpdump of port 53 taken after the server was up and connected: every DNS message on the
    wire that the server's dnstap config covers (its client side, and its upstream side for the
    resolvers) is exactly one event, and every event is one message on the wire.
Then robustness, with Knot and small Frame Streams writers of the script's own: a server
SIGKILLed while another writer is connected, garbage writers (random bytes, a wrong content
type, a huge frame length, an idle connection, a frame that is not protobuf), a writer killed in
the middle of a frame, and Knot restarted: stash53 keeps reading the others and accepts it again.
Last, all four servers write to one stash53 that is restarted: each must reconnect by itself.
A server that is not installed (or lacks dnstap) is skipped with a SKIP line.

`--reader fstrm` (debugging only) runs fstrm_capture + `dnstap -j` instead of stash53.
"""
import argparse
import glob
import json
import os
import random
import re
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

from test_live_capture import enter_netns, kdig, parse_kdig, stop
from testlib import Failure, require

HERE = os.path.dirname(os.path.abspath(__file__))
SNIPPETS = os.path.join(HERE, "..", "..", "deploy", "dnstap")
PLACEHOLDER = "/run/stash53/dnstap.sock"
CONTENT_TYPE = b"protobuf:dnstap.Dnstap"

ADDR = {"bind": ("127.0.1.1", "2001:db8:1::1"), "nsd": ("127.0.1.2", "2001:db8:1::2"),
        "unbound": ("127.0.1.3", "2001:db8:1::3"), "knot": ("127.0.1.4", "2001:db8:1::4"),
        "dnsdist": ("127.0.1.5", "2001:db8:1::5")}
CLIENT = {4: "127.0.2.1", 6: "2001:db8:2::1"}
PROBE = "127.0.2.9"
EXTRA_ADDRS = [CLIENT[4], CLIENT[6], PROBE]
# kdig client ports: one per exchange, below the ephemeral range (32768-60999).
next_port = [20000]
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}
TYPES = {1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 15: "MX", 16: "TXT", 28: "AAAA", 33: "SRV", 43: "DS",
         46: "RRSIG", 47: "NSEC", 48: "DNSKEY"}

failures = []
notes = []


def check(what, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + what + ("" if ok else f"\n     {detail}"), flush=True)
    if not ok:
        failures.append(what)
    return ok


def note(text):
    print("note " + text, flush=True)
    notes.append(text)


# --------------------------------------------------------------------------------------------
# Zones

ROOT_ZONE = """\
$TTL 86400
.            IN SOA ns.nic. hostmaster.nic. 2024010101 3600 600 86400 300
.            IN NS ns.nic.
ns.nic.      IN A 127.0.1.2
ns.nic.      IN AAAA 2001:db8:1::2
example.     IN NS ns.example.
ns.example.  IN A 127.0.1.2
ns.example.  IN AAAA 2001:db8:1::2
"""
ROOT_HINTS = """\
.            3600000 NS ns.nic.
ns.nic.      3600000 A 127.0.1.2
ns.nic.      3600000 AAAA 2001:db8:1::2
"""
EXAMPLE_ZONE = """\
$TTL 3600
@            IN SOA ns.nic. hostmaster.nic. 2024010101 3600 600 86400 300
@            IN NS ns
ns           IN A 127.0.1.2
ns           IN AAAA 2001:db8:1::2
host         IN A 192.0.2.10
host         IN AAAA 2001:db8:ffff::10
mail         IN MX 10 host
txt          IN TXT "v=spf1 -all"
"""
FWD_ZONE = """\
$TTL 300
@            IN SOA ns.nic. hostmaster.nic. 2024010101 3600 600 86400 300
@            IN NS ns.nic.
www          IN A 192.0.2.53
"""


def auth_zone(zone, server):
    v4, v6 = ADDR[server]
    return f"""\
$ORIGIN {zone}.
$TTL 300
@      3600 IN SOA ns.{zone}. hostmaster.{zone}. 2024010101 7200 3600 1209600 300
@           IN NS   ns
ns          IN A    {v4}
ns          IN AAAA {v6}
@           IN MX   10 www
www         IN A    192.0.2.80
www         IN AAAA 2001:db8:ffff::80
www         IN TXT  "v=spf1 -all" "second string"
alias       IN CNAME www
"""


# --------------------------------------------------------------------------------------------
# Small wire helpers: a DNS query, a probe, protobuf and Frame Streams encoding

def dns_query(qid, qname, qtype, rd):
    labels = b"".join(bytes([len(x)]) + x.encode() for x in qname.rstrip(".").split(".") if x)
    return struct.pack("!HHHHHH", qid, 0x0100 if rd else 0, 1, 0, 0, 0) + labels + b"\0" + \
        struct.pack("!HH", qtype, 1)


def probe(server_addr, qname, qtype, rd, timeout=0.25, ports=None):
    """One UDP query from the probe address; True when answered with NOERROR. Its source port is
    added to `ports`."""
    qid = random.randrange(65536)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((PROBE, 0))
        if ports is not None:
            ports.add(s.getsockname()[1])
        s.settimeout(timeout)
        s.sendto(dns_query(qid, qname, qtype, rd), (server_addr, 53))
        try:
            data = s.recv(65535)
        except OSError:
            return False
    return len(data) >= 12 and struct.unpack("!H", data[:2])[0] == qid and data[3] & 0xF == 0


def varint(n):
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def pb_bytes(num, b):
    return varint(num << 3 | 2) + varint(len(b)) + b


def pb_varint(num, v):
    return varint(num << 3) + varint(v)


def pb_fixed32(num, v):
    return varint(num << 3 | 5) + struct.pack("<I", v)


def synthetic_dnstap(identity, seq):
    """An AUTH_QUERY for w<seq>.<identity>.test. A from 127.0.3.1#(30000+seq) to 127.0.3.2#53."""
    now = time.time()
    msg = (pb_varint(1, 1) + pb_varint(2, 1) + pb_varint(3, 1)
           + pb_bytes(4, socket.inet_aton("127.0.3.1")) + pb_bytes(5, socket.inet_aton("127.0.3.2"))
           + pb_varint(6, 30000 + seq) + pb_varint(7, 53)
           + pb_varint(8, int(now)) + pb_fixed32(9, int((now % 1) * 1e9))
           + pb_bytes(10, dns_query(seq, f"w{seq}.{identity}.test.", 1, False)))
    return (pb_bytes(1, identity.encode()) + pb_bytes(2, b"pywriter") + pb_bytes(14, msg)
            + pb_varint(15, 1))


def control_frame(ctype, content_type=None):
    body = struct.pack("!I", ctype)
    if content_type is not None:
        body += struct.pack("!II", 1, len(content_type)) + content_type
    return struct.pack("!II", 0, len(body)) + body


def data_frame(payload):
    return struct.pack("!I", len(payload)) + payload


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed")
        buf += chunk
    return buf


def read_control(sock):
    """Reads one control frame; returns (type, [content types])."""
    esc, length = struct.unpack("!II", recv_exact(sock, 8))
    require(esc == 0 and 4 <= length <= 512, f"bad control frame header {esc:#x} {length}")
    body = recv_exact(sock, length)
    ctype, fields, off = struct.unpack("!I", body[:4])[0], [], 4
    while off + 8 <= len(body):
        ftype, flen = struct.unpack("!II", body[off:off + 8])
        fields.append(body[off + 8:off + 8 + flen])
        off += 8 + flen
    return ctype, fields


def handshake(sock, content_type=CONTENT_TYPE):
    """Writer side of the bidirectional handshake: READY, ACCEPT, START."""
    sock.sendall(control_frame(4, content_type))
    ctype, fields = read_control(sock)
    require(ctype == 1, f"expected ACCEPT (1), got control frame {ctype}")
    require(content_type in fields, f"ACCEPT without our content type: {fields}")
    sock.sendall(control_frame(2, content_type))


def writer_main(sock_path, identity):
    """A Frame Streams writer driven from stdin: `send N`, `partial`, `stop`."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(sock_path)
    handshake(s)
    print("ready", flush=True)
    seq = 0
    for line in sys.stdin:
        cmd = line.split()
        if cmd[0] == "send":
            frames = b""
            for _ in range(int(cmd[1])):
                seq += 1
                frames += data_frame(synthetic_dnstap(identity, seq))
            s.sendall(frames)
            print(f"sent {seq}", flush=True)
        elif cmd[0] == "partial":  # half of frame seq+1, then nothing: the test SIGKILLs us
            frame = data_frame(synthetic_dnstap(identity, seq + 1))
            s.sendall(frame[:len(frame) // 2])
            print("partial", flush=True)
        elif cmd[0] == "stop":
            s.sendall(control_frame(3))
            try:
                ctype, _ = read_control(s)
                print("finished" if ctype == 5 else f"control {ctype}", flush=True)
            except (OSError, EOFError, Failure) as e:
                print(f"no FINISH: {e}", flush=True)
            s.close()
            return 0
    return 0


class Writer:
    """The script itself in --writer mode, as a child process that can be SIGKILLed."""

    def __init__(self, sock_path, identity):
        self.identity = identity
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--writer", sock_path,
                                      "--identity", identity], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self.expect("ready")

    def expect(self, prefix):
        line = self.proc.stdout.readline().strip()
        require(line.startswith(prefix), f"writer {self.identity}: expected {prefix!r}, got {line!r}")
        return line

    def cmd(self, text, reply):
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()
        return self.expect(reply)

    def kill(self):
        stop(self.proc, signal.SIGKILL)


# --------------------------------------------------------------------------------------------
# Waiting for sockets

def unix_connections(path):
    """How many connected (accepted) sockets carry `path`, and whether one listens on it."""
    connected, listening = 0, False
    with open("/proc/net/unix") as f:
        for line in f.readlines()[1:]:
            parts = line.split()
            if len(parts) >= 8 and parts[7] == path:
                if int(parts[3], 16) & 0x10000:
                    listening = True
                elif parts[5] == "03":
                    connected += 1
    return connected, listening


def wait_until(pred, seconds, what, proc=None, step=0.02):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None:
            require(proc.poll() is None, f"{what}: process exited with {proc.returncode}")
        if pred():
            return
        time.sleep(step)
    raise Failure(f"{what}: not within {seconds} s")


# --------------------------------------------------------------------------------------------
# Readers: stash53 (the test), fstrm_capture + `dnstap -j` (a stand-in for debugging)

def start_listener(cmd, out_path, err_path, sock, unlink):
    if unlink and os.path.exists(sock):
        os.unlink(sock)
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
    wait_until(lambda: os.path.exists(sock) and stat.S_ISSOCK(os.stat(sock).st_mode)
               and unix_connections(sock)[1], 5, f"{cmd[0]} listening on {sock} (see {err_path})", proc)
    return proc


class Stash53Reader:
    live = True

    def __init__(self, args, sock, name):
        self.out = os.path.join(args.workdir, f"{name}.ndjson")
        self.err = os.path.join(args.workdir, f"{name}.stash53.stderr")
        self.cmd = [args.stash53, "--dnstap-socket", sock, "--stdout", "-N", "dnstap-live"]
        # A socket file left by an earlier stash53 (the reconnect phase) is stash53's to replace.
        self.proc = start_listener(self.cmd, self.out, self.err, sock, unlink=False)

    def alive(self):
        return self.proc.poll() is None

    def events(self):
        with open(self.out, "rb") as f:
            data = f.read()
        events = []
        for i, line in enumerate(data.split(b"\n")[:-1], 1):
            try:
                events.append(json.loads(line))
            except ValueError as e:
                raise Failure(f"{self.out} line {i} is not JSON ({e}): {line[:200]!r}")
        return events

    def stop(self):
        rc = stop(self.proc, signal.SIGTERM, 10)
        check(f"stash53 exits 0 on SIGTERM ({os.path.basename(self.out)})", rc == 0,
              f"exit status {rc}; stderr tail: {open(self.err, errors='replace').read()[-1500:]}")
        with open(self.out, "rb") as f:
            data = f.read()
        check(f"every event line is terminated ({os.path.basename(self.out)})",
              not data or data.endswith(b"\n"), data[-200:])
        return self.events()

    def kill(self):
        stop(self.proc, signal.SIGKILL)


class FstrmReader:
    live = False

    def __init__(self, args, sock, name):
        self.file = os.path.join(args.workdir, f"{name}.dnstap")
        self.err = os.path.join(args.workdir, f"{name}.fstrm.stderr")
        cmd = ["fstrm_capture", "-t", CONTENT_TYPE.decode(), "-u", sock, "-w", self.file]
        self.proc = start_listener(cmd, os.devnull, self.err, sock, unlink=True)

    def alive(self):
        return self.proc.poll() is None

    def events(self):
        return []

    def stop(self):
        stop(self.proc, signal.SIGTERM, 10)
        # fstrm_capture keeps every frame; the Go reader gives up at the first that is not
        # protobuf, so those are left out of the file it reads.
        clean = self.file + ".clean"
        with open(self.file, "rb") as f:
            data = f.read()
        frames, off = [], 0
        while off + 4 <= len(data):
            n = struct.unpack("!I", data[off:off + 4])[0]
            if n == 0:  # control frame
                n = struct.unpack("!I", data[off + 4:off + 8])[0]
                off += 8 + n
                continue
            frames.append(data[off + 4:off + 4 + n])
            off += 4 + n
        with open(clean, "wb") as f:
            f.write(control_frame(2, CONTENT_TYPE))
            f.write(b"".join(data_frame(x) for x in frames if protobuf_ok(x)))
            f.write(control_frame(3))
        r = subprocess.run(["dnstap", "-j", "-r", clean], capture_output=True, text=True, timeout=10)
        return [from_go_json(json.loads(line)) for line in r.stdout.splitlines() if line.startswith("{")]

    def kill(self):
        stop(self.proc, signal.SIGKILL)


def protobuf_ok(b):
    """Whether b parses as protobuf wire format with a field 15 (Dnstap.type)."""
    off, fields = 0, set()
    try:
        while off < len(b):
            key, off = read_varint(b, off)
            num, wt = key >> 3, key & 7
            if wt == 0:
                _, off = read_varint(b, off)
            elif wt == 2:
                n, off = read_varint(b, off)
                off += n
            elif wt == 5:
                off += 4
            elif wt == 1:
                off += 8
            else:
                return False
            fields.add(num)
        return off == len(b) and 15 in fields
    except IndexError:
        return False


def read_varint(b, off):
    n = shift = 0
    while True:
        c = b[off]
        off += 1
        n |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return n, off


def parse_go_message(text):
    """The dig-like text of golang-dnstap (miekg/dns) as the fields of a stash53 event."""
    ev, section = {"answers": [], "authorities": [], "additionals": []}, None
    for line in text.splitlines():
        if m := re.match(r";; opcode: (\S+), status: (\S+), id: (\d+)", line):
            ev.update(opcode=m[1], rcode=m[2], id=int(m[3]))
        elif m := re.match(r";; flags:([^;]*);", line):
            fl = m[1].split()
            ev["flags"] = {f: f in fl for f in ("aa", "tc", "rd", "ra", "ad", "cd")}
        elif m := re.match(r"; EDNS: version (\d+); flags:([^;]*); udp: (\d+)", line):
            ev["edns"] = {"version": int(m[1]), "do": "do" in m[2].split(), "udp_size": int(m[3])}
        elif m := re.match(r";; (\w+) SECTION:", line):
            section = {"QUESTION": "q", "ANSWER": "answers", "AUTHORITY": "authorities",
                       "ADDITIONAL": "additionals"}.get(m[1])
        elif section == "q" and line.startswith(";"):
            qname, qclass, qtype = line[1:].split()
            ev.update(qname=qname, qclass=qclass, qtype=qtype)
        elif section in ("answers", "authorities", "additionals") and line.strip():
            name, ttl, cls, typ, data = line.split(None, 4)
            ev[section].append({"name": name, "type": typ, "class": cls, "ttl": int(ttl), "data": data})
    return ev


def from_go_json(obj):
    m = obj.get("message", {})
    kind = m.get("type", "")
    response = kind.endswith("RESPONSE")
    qa, qp, ra, rp = (m.get(k) for k in ("query_address", "query_port", "response_address", "response_port"))
    ev = {"source": "dnstap", "msg_type": "response" if response else "query",
          "transport": "udp" if m.get("socket_protocol") == "UDP" else "tcp",
          "ipv6": m.get("socket_family") == "INET6"}
    src, dst = ((ra, rp), (qa, qp)) if response else ((qa, qp), (ra, rp))
    for key, val in (("s_addr", src[0]), ("s_port", src[1]), ("d_addr", dst[0]), ("d_port", dst[1])):
        if val is not None:
            ev[key] = val
    text = m.get("response_message" if response else "query_message")
    if text:
        ev.update(parse_go_message(text))
    dt = {"identity": obj.get("identity"), "version": obj.get("version"), "type": kind,
          "protocol": (m.get("socket_protocol") or "").lower() or None, "query_address": qa,
          "query_port": qp, "response_address": ra, "response_port": rp,
          "query_time": m.get("query_time"), "response_time": m.get("response_time"),
          "query_zone": m.get("query_zone")}
    dt = {k: v for k, v in dt.items() if v is not None}
    if "query_time" in dt and "response_time" in dt:
        dt["latency_us"] = int((parse_time(dt["response_time"]) - parse_time(dt["query_time"])) * 1e6)
    ev["dnstap"] = dt
    return ev


def parse_time(v):
    """An event time as epoch seconds: an RFC 3339 string (any fraction) or a number."""
    if isinstance(v, (int, float)):
        return float(v)
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)", str(v))
    if not m:
        return None
    t = datetime.strptime(m[1], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp()
    if m[3] != "Z":
        sign = 1 if m[3][0] == "+" else -1
        t -= sign * (int(m[3][1:3]) * 3600 + int(m[3][-2:]) * 60)
    return t + (float("0." + m[2]) if m[2] else 0.0)


# --------------------------------------------------------------------------------------------
# tcpdump: the wire as the second oracle

class Tcpdump:
    def __init__(self, workdir, name):
        self.path = os.path.join(workdir, f"{name}.pcap")
        self.err = os.path.join(workdir, f"{name}.tcpdump.stderr")
        with open(self.err, "wb") as err:
            self.proc = subprocess.Popen(["tcpdump", "-i", "lo", "-s", "0", "-U", "--immediate-mode", "-n",
                                          "-w", self.path, "port", "53"],
                                         stdout=subprocess.DEVNULL, stderr=err)
        wait_until(lambda: b"listening on" in open(self.err, "rb").read(), 5, "tcpdump", self.proc)

    def stop(self):
        time.sleep(0.05)
        stop(self.proc, signal.SIGTERM)
        return read_pcap(self.path)


def dns_summary(msg):
    if len(msg) < 12:
        return None
    qid, flags, qd = struct.unpack("!HHH", msg[:6])
    qname, qtype, off = "", None, 12
    if qd:
        labels = []
        while off < len(msg) and msg[off]:
            if msg[off] & 0xC0:
                break
            labels.append(msg[off + 1:off + 1 + msg[off]].decode("ascii", "replace"))
            off += 1 + msg[off]
        qname = ".".join(labels) + "."
        if off + 5 <= len(msg):
            n = struct.unpack("!H", msg[off + 1:off + 3])[0]
            qtype = TYPES.get(n, f"TYPE{n}")
    return {"id": qid, "qr": bool(flags & 0x8000), "rcode": flags & 0xF, "qname": qname, "qtype": qtype}


def read_pcap(path):
    """DNS messages on the wire: dicts with transport, src, sport, dst, dport, id, qr, qname..."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return []
    endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    off, msgs, streams = 24, [], {}
    while off + 16 <= len(data):
        incl = struct.unpack(endian + "I", data[off + 8:off + 12])[0]
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if linktype == 1:
            ethertype, ip = struct.unpack("!H", pkt[12:14])[0], pkt[14:]
        elif linktype == 113:
            ethertype, ip = struct.unpack("!H", pkt[14:16])[0], pkt[16:]
        elif linktype == 276:
            ethertype, ip = struct.unpack("!H", pkt[0:2])[0], pkt[20:]
        else:
            raise Failure(f"{path}: link type {linktype} not handled")
        if ethertype == 0x0800:
            ihl, proto = (ip[0] & 0xF) * 4, ip[9]
            src, dst = (socket.inet_ntop(socket.AF_INET, ip[a:a + 4]) for a in (12, 16))
            l4 = ip[ihl:struct.unpack("!H", ip[2:4])[0]]
        elif ethertype == 0x86DD:
            proto = ip[6]
            src, dst = (socket.inet_ntop(socket.AF_INET6, ip[a:a + 16]) for a in (8, 24))
            l4 = ip[40:40 + struct.unpack("!H", ip[4:6])[0]]
        else:
            continue
        if proto == 17 and len(l4) >= 8:
            sport, dport = struct.unpack("!HH", l4[:4])
            s = dns_summary(l4[8:])
            if s:
                msgs.append(dict(s, transport="udp", src=src, sport=sport, dst=dst, dport=dport))
        elif proto == 6 and len(l4) >= 20:
            sport, dport, seq = struct.unpack("!HHI", l4[:8])
            payload = l4[(l4[12] >> 4) * 4:]
            if payload:
                streams.setdefault((src, sport, dst, dport), {})[seq] = payload
    for (src, sport, dst, dport), segs in streams.items():
        buf, expect = b"", None
        for seq in sorted(segs):
            if expect is None or seq >= expect:
                buf += segs[seq]
                expect = seq + len(segs[seq])
        while len(buf) >= 2:
            n = struct.unpack("!H", buf[:2])[0]
            if len(buf) < 2 + n:
                break
            s = dns_summary(buf[2:2 + n])
            if s:
                msgs.append(dict(s, transport="tcp", src=src, sport=sport, dst=dst, dport=dport))
            buf = buf[2 + n:]
    return msgs


# --------------------------------------------------------------------------------------------
# Servers

def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def snippet(name, sock):
    with open(os.path.join(SNIPPETS, name)) as f:
        text = f.read()
    require(text.count(PLACEHOLDER) == 1, f"deploy/dnstap/{name}: {PLACEHOLDER} must appear once")
    return text.replace(PLACEHOLDER, sock)


def launch(cmd, workdir, name):
    log = os.path.join(workdir, f"{name}.log")
    with open(log, "ab") as f:
        return subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT), log


def start_nsd(workdir):
    d = os.path.join(workdir, "nsd")
    os.makedirs(d, exist_ok=True)
    write(f"{d}/root.zone", ROOT_ZONE)
    write(f"{d}/example.zone", EXAMPLE_ZONE)
    write(f"{d}/fwd.example.zone", FWD_ZONE)
    v4, v6 = ADDR["nsd"]
    write(f"{d}/nsd.conf", f"""server:
  ip-address: {v4}
  ip-address: {v6}
  port: 53
  username: ""
  chroot: ""
  database: ""
  zonesdir: "{d}"
  zonelistfile: "{d}/nsd.zonelist"
  xfrdfile: "{d}/nsd.xfrd"
  xfrdir: "{d}"
  pidfile: "{d}/nsd.pid"
  server-count: 1
  rrl-ratelimit: 0
  verbosity: 1
remote-control:
  control-enable: no
zone:
  name: "."
  zonefile: "root.zone"
zone:
  name: "example."
  zonefile: "example.zone"
zone:
  name: "fwd.example."
  zonefile: "fwd.example.zone"
""")
    proc, log = launch(["nsd", "-d", "-c", f"{d}/nsd.conf"], d, "nsd")
    wait_until(lambda: probe(v4, "example.", 6, False), 10, f"nsd answering (see {log})", proc)
    return proc


def start_named(d, snip):
    v4, v6 = ADDR["bind"]
    write(f"{d}/root.hints", ROOT_HINTS)
    write(f"{d}/bind.test.zone", auth_zone("bind.test", "bind"))
    write(f"{d}/named.conf", f"""options {{
    directory "{d}";
    pid-file "{d}/named.pid";
    session-keyfile "{d}/session.key";
    managed-keys-directory "{d}";
    listen-on port 53 {{ {v4}; }};
    listen-on-v6 port 53 {{ {v6}; }};
    query-source address {v4};
    query-source-v6 address {v6};
    recursion yes;
    allow-recursion {{ any; }};
    allow-query-cache {{ any; }};
    dnssec-validation no;
    notify no;
// ---- deploy/dnstap/named.conf ----
{snip}
// ----
}};
controls {{ }};
zone "." {{ type hint; file "{d}/root.hints"; }};
zone "bind.test" {{ type primary; file "{d}/bind.test.zone"; }};
zone "fwd.example" {{ type forward; forward only; forwarders {{ {ADDR['nsd'][0]}; }}; }};
""")
    return launch(["named", "-g", "-n", "2", "-c", f"{d}/named.conf"], d, "named")


def start_unbound(d, snip):
    v4, v6 = ADDR["unbound"]
    write(f"{d}/root.hints", ROOT_HINTS)
    write(f"{d}/unbound.conf", f"""server:
  interface: {v4}
  interface: {v6}
  port: 53
  outgoing-interface: {v4}
  outgoing-interface: {v6}
  access-control: 0.0.0.0/0 allow
  access-control: ::/0 allow
  do-not-query-localhost: no
  username: ""
  chroot: ""
  directory: "{d}"
  pidfile: "{d}/unbound.pid"
  use-syslog: no
  verbosity: 1
  num-threads: 1
  module-config: "iterator"
  root-hints: "{d}/root.hints"
  qname-minimisation: yes
  local-zone: "probe.local." static
  local-data: "probe.local. A 127.0.0.1"
forward-zone:
  name: "fwd.example"
  forward-addr: {ADDR['nsd'][0]}
remote-control:
  control-enable: no
# ---- deploy/dnstap/unbound.conf ----
{snip}
""")
    return launch(["unbound", "-d", "-c", f"{d}/unbound.conf"], d, "unbound")


def start_knot(d, snip):
    v4, v6 = ADDR["knot"]
    os.makedirs(f"{d}/knot", exist_ok=True)
    write(f"{d}/knot.test.zone", auth_zone("knot.test", "knot"))
    write(f"{d}/knot.conf", f"""server:
  rundir: "{d}/knot"
  user: root:root
  listen: [ {v4}@53, {v6}@53 ]
log:
  - target: stderr
    any: info
database:
  storage: "{d}/knot"
# ---- deploy/dnstap/knot.conf ----
{snip}
# ----
zone:
  - domain: knot.test
    file: "{d}/knot.test.zone"
    journal-content: none
""")
    return launch(["knotd", "-c", f"{d}/knot.conf"], d, "knot")


def start_dnsdist(d, snip):
    v4, v6 = ADDR["dnsdist"]
    write(f"{d}/dnsdist.conf", f"""setLocal("{v4}:53")
addLocal("[{v6}]:53")
setACL({{"0.0.0.0/0", "::/0"}})
setSecurityPollSuffix("")
newServer({{address="{ADDR['nsd'][0]}:53"}})
getPool(""):setCache(newPacketCache(1000))
-- ---- deploy/dnstap/dnsdist.conf ----
{snip}
-- ----
addAction(QNameRule("spoof.example."), SpoofAction("192.0.2.99"))
""")
    return launch(["dnsdist", "--supervised", "--disable-syslog", "-C", f"{d}/dnsdist.conf"], d, "dnsdist")


# (transport, IP version, qname, qtype, RD, expected rcode, extra kdig options, comment)
AUTH = [
    ("udp", 4, "www.{z}.", "A", False, "NOERROR", ()),
    ("udp", 6, "www.{z}.", "AAAA", False, "NOERROR", ()),
    ("tcp", 4, "{z}.", "MX", False, "NOERROR", ()),
    ("tcp", 6, "www.{z}.", "TXT", False, "NOERROR", ()),
    ("udp", 4, "alias.{z}.", "A", False, "NOERROR", ("+bufsize=1232",)),  # CNAME, EDNS
    ("udp", 6, "nope.{z}.", "A", False, "NXDOMAIN", ()),
    ("tcp", 4, "nope.{z}.", "TXT", False, "NXDOMAIN", ()),
]
RECURSIVE = [
    ("udp", 4, "host.example.", "A", True, "NOERROR", ()),  # cache miss: upstream traffic
    ("udp", 6, "host.example.", "AAAA", True, "NOERROR", ()),
    ("tcp", 4, "mail.example.", "MX", True, "NOERROR", ()),
    ("tcp", 6, "host.example.", "A", True, "NOERROR", ()),  # cache hit
    ("udp", 4, "nope.example.", "A", True, "NXDOMAIN", ()),
    ("udp", 6, "txt.example.", "TXT", True, "NOERROR", ("+bufsize=1232",)),
    ("udp", 4, "www.fwd.example.", "A", True, "NOERROR", ()),  # forward zone
]
SPECS = {
    "bind": dict(binary="named", snippet="named.conf", start=start_named, probe=("bind.test.", 6, False),
                 identity=r'dnstap-identity\s+"([^"]*)"', version=r"^BIND 9\.18\.",
                 exchanges=[tuple([e[0], e[1], e[2].format(z="bind.test")] + list(e[3:])) for e in AUTH]
                 + RECURSIVE + [("udp", 4, "www.bind.test.", "A", True, "NOERROR", ())],
                 kind=lambda rd: "CLIENT" if rd else "AUTH", upstream=True),
    "unbound": dict(binary="unbound", snippet="unbound.conf", start=start_unbound,
                    probe=("probe.local.", 1, True), identity=r'dnstap-identity:\s*"([^"]*)"',
                    version=r"^unbound 1\.", exchanges=RECURSIVE, kind=lambda rd: "CLIENT", upstream=True,
                    port_quirk=True),
    "knot": dict(binary="knotd", snippet="knot.conf", start=start_knot, probe=("knot.test.", 6, False),
                 identity=r'identity:\s*"([^"]*)"', version=r"^Knot DNS 3\.",
                 exchanges=[tuple([e[0], e[1], e[2].format(z="knot.test")] + list(e[3:])) for e in AUTH]
                 + [("udp", 4, "www.knot.test.", "A", True, "NOERROR", ())],
                 kind=lambda rd: "AUTH", upstream=False),
    "dnsdist": dict(binary="dnsdist", snippet="dnsdist.conf", start=start_dnsdist,
                    probe=("example.", 6, True), identity=r'DnstapLogAction\("([^"]*)"',
                    version=r"^dnsdist 1\.",
                    exchanges=[("udp", 4, "host.example.", "A", True, "NOERROR", ()),
                               ("udp", 4, "host.example.", "A", True, "NOERROR", ()),  # packet-cache hit
                               ("udp", 6, "host.example.", "AAAA", True, "NOERROR", ()),
                               ("tcp", 4, "mail.example.", "MX", True, "NOERROR", ()),
                               ("tcp", 6, "txt.example.", "TXT", True, "NOERROR", ()),
                               ("udp", 4, "nope.example.", "A", True, "NXDOMAIN", ("+bufsize=1232",)),
                               ("udp", 6, "spoof.example.", "A", True, "NOERROR", ())],  # self-answered
                    kind=lambda rd: "CLIENT", upstream=False),
}
# The message type a server gives its upstream exchanges, by qname (forward zone or not).
UPSTREAM_KIND = {"bind": lambda q: ("RESOLVER",),  # BIND 9.18 logs forwarding as RESOLVER_*
                 "unbound": lambda q: ("FORWARDER",) if q.endswith("fwd.example.") else ("RESOLVER",)}


def run_kdig(server_addr, ex):
    transport, family, qname, qtype, rd, want_rcode, extra = ex
    client, port = CLIENT[family], next_port[0]
    next_port[0] += 1
    opts = [f"-b{client}#{port}", f"@{server_addr}", qname, qtype, *extra,
            *([] if rd else ["+norec"]), *(["+tcp"] if transport == "tcp" else []),
            "+noall", "+qr", "+header", "+comments", "+opt", "+question", "+answer", "+authority",
            "+additional"]
    rc, out = kdig(opts)
    msgs = parse_kdig(out)
    require(rc == 0 and len(msgs) == 2, f"kdig {' '.join(opts)} failed:\n{out}")
    require(msgs[1]["rcode"] == want_rcode and bool(msgs[1]["answers"]) == (want_rcode == "NOERROR"),
            f"kdig {' '.join(opts)}: rcode {msgs[1]['rcode']} with {len(msgs[1]['answers'])} answers, "
            f"the test's zones mean {want_rcode}:\n{out}")
    return dict(transport=transport, client=client, port=port, server=server_addr, rd=rd,
                query=msgs[0], response=msgs[1], label=f"{transport}{family} {qname} {qtype}"
                + ("" if rd else " +norec") + f" (port {port})")


def endpoint(ev):
    """The (address, port) of the side that sent the query."""
    if ev.get("msg_type") == "response":
        return ev.get("d_addr"), ev.get("d_port")
    return ev.get("s_addr"), ev.get("s_port")


def wait_for_events(reader, pred, seconds, what):
    """Live reader: polls stash53's output until pred(events) holds. Returns whether it did."""
    if not reader.live:
        time.sleep(1.6)  # flush timeouts are 1 s
        return True
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        require(reader.alive(), f"stash53 exited with {reader.proc.returncode} ({what})")
        if pred(reader.events()):
            return True
        time.sleep(0.05)
    return False


def bring_up(name, spec, d, sock, reader, baseline):
    """Starts the server; returns once it answers, is connected to the socket and (stash53) a probe
    shows up as an event."""
    t0 = time.monotonic()
    proc, log = spec["start"](d, snippet(spec["snippet"], sock))
    addr = ADDR[name][0]
    try:
        qname, qtype, rd = spec["probe"]
        wait_until(lambda: probe(addr, qname, qtype, rd), 15, f"{name} answering (see {log})", proc, 0.05)
        up = time.monotonic() - t0
        if not reader.live:
            wait_until(lambda: unix_connections(sock)[0] > baseline, 10,
                       f"{name} connecting to the dnstap socket (see {log})", proc)
            time.sleep(0.3)
            return proc, log, up, None
        last = [0.0]

        def probed(events):
            if time.monotonic() - last[0] > 0.3:
                probe(addr, qname, qtype, rd)
                last[0] = time.monotonic()
            return any(is_probe_of(e, name) for e in events)
        if not wait_for_events(reader, probed, 8, f"{name} probe"):
            raise Failure(f"{name} answers, but no probe query became an event within 8 s "
                          f"({unix_connections(sock)[0]} connections on {sock}; see {log})")
        return proc, log, up, time.monotonic() - t0
    except BaseException:
        stop(proc, signal.SIGKILL)
        raise


def is_probe_of(ev, name):
    ends = {ev.get("s_addr"), ev.get("d_addr")}
    return PROBE in ends and bool(ends & set(ADDR[name]))


ABSENT = object()  # in an expected event: the field must not be there


def check_event(ev, want, label):
    """Compares the fields of `want` (nested one level for dnstap/flags/edns)."""
    errors = []
    for k, v in want.items():
        got = ev.get(k, "<absent>")
        if v is ABSENT:
            if k in ev:
                errors.append(f"{k}: event {got!r}, but the message has none")
        elif isinstance(v, dict) and isinstance(got, dict):
            errors += [f"{k}.{kk}: event {got.get(kk, '<absent>')!r}, expected {vv!r}"
                       for kk, vv in v.items() if got.get(kk, "<absent>") != vv]
        elif got != v:
            errors.append(f"{k}: event {got!r}, expected {v!r}")
    return check(label, not errors, "\n     ".join(errors))


def check_times(ev, label, t0, t1):
    dt = ev.get("dnstap", {})
    kind = dt.get("type", "")
    errors = []
    need = ["query_time"] if kind.endswith("QUERY") else ["response_time"]
    for k in need:
        if k not in dt:
            errors.append(f"dnstap.{k} absent")
        else:
            t = parse_time(dt[k])
            if t is not None and not t0 - 5 <= t <= t1 + 5:
                errors.append(f"dnstap.{k} {dt[k]!r} is not during the test")
    both = "query_time" in dt and "response_time" in dt
    if both != ("latency_us" in dt):
        errors.append(f"latency_us {'absent' if both else 'present'} with query_time "
                      f"{dt.get('query_time')!r} and response_time {dt.get('response_time')!r}")
    elif both and not (isinstance(dt["latency_us"], int) and dt["latency_us"] >= 0):
        errors.append(f"latency_us {dt['latency_us']!r}")
    if errors:
        check(label + ": times", False, "; ".join(errors))
    return both


def expected(ex, response, kind, identity):
    msg = ex["response" if response else "query"]
    qname, qclass, qtype = msg["question"]
    c, s = (ex["client"], ex["port"]), (ex["server"], 53)
    src, dst = (s, c) if response else (c, s)
    want = {"source": "dnstap", "s_addr": src[0], "s_port": src[1], "d_addr": dst[0], "d_port": dst[1],
            "ipv6": ":" in ex["client"], "transport": ex["transport"], "id": msg["id"],
            "msg_type": "response" if response else "query", "opcode": msg["opcode"],
            "rcode": msg["rcode"], "qname": qname, "qtype": qtype, "qclass": qclass,
            "flags": {f: f in msg["flags"] for f in ("aa", "tc", "rd", "ra", "ad", "cd")},
            "answers": msg["answers"], "authorities": msg["authorities"],
            "additionals": msg["additionals"],
            "dnstap": {"identity": identity, "type": f"{kind}_{'RESPONSE' if response else 'QUERY'}",
                       "protocol": ex["transport"], "query_address": c[0], "query_port": c[1],
                       "response_address": s[0], "response_port": 53}}
    want["edns"] = ABSENT if msg["edns"] is None else msg["edns"]
    return want


def wire_key(w, response):
    return (w["transport"], w["src"], w["sport"], w["dst"], w["dport"], w["id"], response)


def event_key(ev):
    return (ev.get("transport"), ev.get("s_addr"), ev.get("s_port"), ev.get("d_addr"), ev.get("d_port"),
            ev.get("id"), ev.get("msg_type") == "response")


def crosscheck(name, spec, events, wire, t0, t1):
    """Every covered DNS message on the wire is exactly one event, and the other way round."""
    addrs = set(ADDR[name])
    covered = []
    for w in wire:
        if PROBE in (w["src"], w["dst"]):
            continue
        client_side = (w["dst"] in addrs and w["dport"] == 53) or (w["src"] in addrs and w["sport"] == 53)
        upstream = (w["src"] in addrs and w["dport"] == 53 and w["dst"] not in addrs) or \
                   (w["dst"] in addrs and w["sport"] == 53 and w["src"] not in addrs)
        if client_side or (upstream and spec["upstream"]):
            covered.append((w, upstream))
    by_key = {}
    for w, up in covered:
        by_key.setdefault(wire_key(w, w["qr"]), []).append((w, up))
    matched, extra, quirks, problems = set(), [], [], []
    for ev in events:
        if PROBE in (ev.get("s_addr"), ev.get("d_addr")):
            continue
        key = event_key(ev)
        cands = [c for c in by_key.get(key, []) if id(c[0]) not in matched]
        own_port = key[4] if key[6] else key[2]  # the resolver's side of an upstream exchange
        if not cands and spec.get("port_quirk") and own_port in (53, None) and \
                ev.get("dnstap", {}).get("type", "").split("_")[0] in ("RESOLVER", "FORWARDER"):
            # Unbound 1.17 records its own port as 53 over IPv6 and leaves it out over TCP.
            resp = key[6]
            for k, lst in by_key.items():
                for c in lst:
                    w = c[0]
                    if id(w) in matched or k[0] != key[0] or k[5] != key[5] or k[6] != resp:
                        continue
                    if (w["dst"], w["dport"], w["src"]) == (key[3], key[4], key[1]) and not resp or \
                       (w["src"], w["sport"], w["dst"]) == (key[1], key[2], key[3]) and resp:
                        cands.append(c)
            if cands:
                dt = ev.get("dnstap", {})
                quirks.append(f"{dt.get('type')} {ev.get('transport')} {dt.get('query_address')}"
                              f"#{dt.get('query_port', '<absent>')} (wire: {cands[0][0]['src']}#"
                              f"{cands[0][0]['sport'] if not resp else cands[0][0]['dport']})")
        if not cands:
            extra.append(ev)
            continue
        w, up = cands[0]
        matched.add(id(w))
        if up:  # the content of upstream messages, from the wire
            check_times(ev, f"{name}: upstream {ev.get('dnstap', {}).get('type')} id {ev.get('id')}", t0, t1)
            kinds = UPSTREAM_KIND[name](w["qname"])
            want_type = tuple(f"{k}_{'RESPONSE' if w['qr'] else 'QUERY'}" for k in kinds)
            dt = ev.get("dnstap", {})
            errs = []
            if dt.get("type") not in want_type:
                errs.append(f"dnstap.type {dt.get('type')!r}, expected {' or '.join(want_type)}")
            if ev.get("qname") != w["qname"] or ev.get("qtype") != w["qtype"] and w["qtype"]:
                errs.append(f"question {ev.get('qname')} {ev.get('qtype')}, wire {w['qname']} {w['qtype']}")
            if w["qr"] and ev.get("rcode") != RCODES.get(w["rcode"]):
                errs.append(f"rcode {ev.get('rcode')}, wire {w['rcode']}")
            server = w["src"] if w["qr"] else w["dst"]
            if (dt.get("response_address"), dt.get("response_port")) != (server, 53):
                errs.append(f"dnstap.response_address/port {dt.get('response_address')}"
                            f"#{dt.get('response_port')}, wire {server}#53")
            if errs:
                problems.append(f"{w['transport']} {w['src']}#{w['sport']} > {w['dst']}#{w['dport']} "
                                f"id {w['id']} {w['qname']}: " + "; ".join(errs))
    missing = [w for w, _ in covered if id(w) not in matched]
    n_up = sum(1 for _, up in covered if up)
    lost = [f"{w['transport']} {w['src']}#{w['sport']} > {w['dst']}#{w['dport']} id {w['id']} qr={w['qr']} "
            f"{w['qname']} {w['qtype']}" for w in missing[:10]]
    check(f"{name}: every covered DNS message on the wire ({len(covered)}, {n_up} upstream) is one event",
          not missing, "\n     ".join(lost))
    check(f"{name}: every event is one DNS message on the wire", not extra,
          "\n     ".join(json.dumps(e)[:300] for e in extra[:5]))
    if spec["upstream"]:
        check(f"{name}: upstream events ({n_up} on the wire) have the wire's question, rcode, server "
              "and the right type", not problems, "\n     ".join(problems[:10]))
    if quirks:
        note(f"{name}: {len(quirks)} upstream event(s) carry a wrong or missing own port "
             f"(matched on the rest): " + "; ".join(quirks[:4]) + (" ..." if len(quirks) > 4 else ""))
    return n_up


def run_server(args, name):
    spec = SPECS[name]
    d = os.path.join(args.workdir, name)
    os.makedirs(d, exist_ok=True)
    sock = os.path.join(args.sockdir, f"{name}.sock")
    identity = re.search(spec["identity"], snippet(spec["snippet"], sock))[1]
    reader = args.reader_cls(args, sock, name)
    proc = dump = None
    t0 = time.time()
    try:
        proc, log, up, ready = bring_up(name, spec, d, sock, reader, 0)
        dump = Tcpdump(d, name)
        exchanges = [run_kdig(ADDR[name][0] if ex[1] == 4 else ADDR[name][1], ex) for ex in spec["exchanges"]]
        last = exchanges[-1]
        def last_out(evs):
            return any(endpoint(e) == (last["client"], last["port"]) and e.get("msg_type") == "response"
                       for e in evs)
        if not args.stop_at_once and not wait_for_events(reader, last_out, 5, f"{name} last exchange"):
            note(f"{name}: the last exchange's response was not an event within 5 s; stopping anyway")
        ts = time.monotonic()
        rc = stop(proc, signal.SIGTERM, 15)
        stopped = time.monotonic() - ts
        check(f"{name}: stops on SIGTERM", rc is not None, f"killed after 15 s, see {log}")
        wire = dump.stop()
        dump = None
        events = reader.stop()
        reader = None
    finally:
        if proc is not None:
            stop(proc, signal.SIGKILL)
        if dump is not None:
            stop(dump.proc, signal.SIGKILL)
        if reader is not None:
            reader.kill()
    t1 = time.time()

    check(f"{name}: every event says source dnstap and the configured identity {identity!r}",
          all(e.get("source") == "dnstap" and e.get("dnstap", {}).get("identity") == identity
              for e in events),
          [(e.get("source"), e.get("dnstap", {}).get("identity")) for e in events][:10])
    versions = sorted({str(e.get("dnstap", {}).get("version", "<absent>")) for e in events})
    if spec["version"]:
        check(f"{name}: dnstap.version is the server's ({versions})",
              all(re.search(spec["version"], v) for v in versions), versions)
    for ex in exchanges:
        evs = [e for e in events if endpoint(e) == (ex["client"], ex["port"])]
        kinds = sorted(e.get("msg_type") for e in evs)
        if not check(f"{name}: {ex['label']}: one query event and one response event",
                     kinds == ["query", "response"], [e.get("dnstap", {}).get("type") for e in evs]):
            continue
        kind = spec["kind"](ex["rd"])
        for ev in evs:
            response = ev["msg_type"] == "response"
            check_event(ev, expected(ex, response, kind, identity), f"{name}: {ex['label']} {ev['msg_type']}")
            check_times(ev, f"{name}: {ex['label']} {ev['msg_type']}", t0, t1)
    crosscheck(name, spec, events, wire, t0, t1)
    types = {}
    for e in events:
        t = e.get("dnstap", {}).get("type", "?")
        types[t] = types.get(t, 0) + 1
    zones = sorted({e["dnstap"]["query_zone"] for e in events if "query_zone" in e.get("dnstap", {})})
    lat = sorted({e["dnstap"]["type"] for e in events if "latency_us" in e.get("dnstap", {})})
    print(f"     {name}: up in {up:.2f} s, first event {ready or 0:.2f} s after start, "
          f"stopped in {stopped:.2f} s; "
          f"{len(events)} events {types}; query_zone {zones or 'never'}; latency on {lat or 'none'}; "
          f"versions {versions}", flush=True)


# --------------------------------------------------------------------------------------------
# Robustness: writers killed, garbage writers, a server restart

GARBAGE = ("random", "wrong-ready", "wrong-start", "huge", "idle", "bad-frame")


def garbage(sock_path, cases=GARBAGE):
    """Misbehaving writers. Returns the connections some of them keep open."""
    rng = random.Random(53)
    held = []

    def connect():
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(2)
        s.connect(sock_path)
        return s

    def quietly(fn):
        try:
            fn()
        except (OSError, EOFError, Failure):
            pass

    if "random" in cases:  # random bytes, then close
        s = connect()
        quietly(lambda: s.sendall(bytes(rng.randrange(256) for _ in range(4096))))
        s.close()
    if "wrong-ready" in cases:  # READY with a wrong content type; then START, a frame, STOP anyway
        s = connect()

        def wrong_ready():
            s.sendall(control_frame(4, b"protobuf:other.Thing"))
            read_control(s)
        quietly(wrong_ready)
        quietly(lambda: s.sendall(control_frame(2, b"protobuf:other.Thing")
                                  + data_frame(synthetic_dnstap("wrong-content-type", 1)) + control_frame(3)))
        s.close()
    if "wrong-start" in cases:  # no handshake: a unidirectional START with a wrong type, a frame, STOP
        s = connect()
        quietly(lambda: s.sendall(control_frame(2, b"text:plain")
                                  + data_frame(synthetic_dnstap("wrong-content-type", 2)) + control_frame(3)))
        s.close()
    if "huge" in cases:  # a proper handshake, then a frame that says it is 2 GB long: held open
        s = connect()
        quietly(lambda: (handshake(s), s.sendall(struct.pack("!I", 0x7FFFFFF0) + b"\x0a\x05hello")))
        held.append(s)
    if "idle" in cases:  # connected, never says anything: held open
        held.append(connect())
    if "bad-frame" in cases:  # a proper handshake, a frame that is not protobuf, a good frame, STOP
        s = connect()
        quietly(lambda: (handshake(s), s.sendall(data_frame(b"\xff" * 40)
                                                 + data_frame(synthetic_dnstap("after-bad-frame", 1))
                                                 + control_frame(3))))
        held.append(s)
    return held


def run_robustness(args):
    name = "knot"
    spec = SPECS[name]
    d = os.path.join(args.workdir, "robust")
    os.makedirs(d, exist_ok=True)
    sock = os.path.join(args.sockdir, "robust.sock")
    identity = re.search(spec["identity"], snippet(spec["snippet"], sock))[1]
    reader = args.reader_cls(args, sock, "robust")
    knot = w1 = w2 = None
    held = []
    exchanges = [("udp", 4, "www.knot.test.", "A", False, "NOERROR", ()),
                 ("tcp", 6, "knot.test.", "MX", False, "NOERROR", ()),
                 ("udp", 4, "nope.knot.test.", "A", False, "NXDOMAIN", ())]

    def seen(exs):
        want = {(ex["client"], ex["port"]) for ex in exs}
        return lambda evs: want <= {endpoint(e) for e in evs if e.get("msg_type") == "response"}
    try:
        w1 = Writer(sock, "pywriter-1")
        w1.cmd("send 5", "sent 5")
        knot, log, _, _ = bring_up(name, spec, d, sock, reader, unix_connections(sock)[0])
        run1 = [run_kdig(ADDR[name][0] if ex[1] == 4 else ADDR[name][1], ex) for ex in exchanges]
        check("robust: Knot's events are out before it is killed",
              wait_for_events(reader, seen(run1), 5, "knot run 1"))
        stop(knot, signal.SIGKILL)
        w1.cmd("send 5", "sent 10")
        check("robust: stash53 runs on after a writer was SIGKILLed", reader.alive())
        held = garbage(sock, args.garbage)
        w1.cmd("send 5", "sent 15")
        time.sleep(0.2)
        check("robust: stash53 runs on after the garbage writers", reader.alive())
        knot, log, _, _ = bring_up(name, spec, d, sock, reader, unix_connections(sock)[0])
        run2 = [run_kdig(ADDR[name][0] if ex[1] == 4 else ADDR[name][1], ex) for ex in exchanges]
        check("robust: Knot's events after its restart come out",
              wait_for_events(reader, seen(run2), 5, "knot run 2"))
        w1.cmd("partial", "partial")
        time.sleep(0.1)
        w1.kill()
        w2 = Writer(sock, "pywriter-2")
        w2.cmd("send 3", "sent 3")
        fin = w2.cmd("stop", "")
        check("robust: a writer's STOP is answered with FINISH", fin == "finished", fin)
        for s in held:
            s.close()
        held = []
        stop(knot, signal.SIGTERM, 10)
        knot = None
        events = reader.stop()
        reader = None
    finally:
        for s in held:
            s.close()
        for p in (w1, w2):
            if p is not None:
                p.kill()
        if knot is not None:
            stop(knot, signal.SIGKILL)
        if reader is not None:
            reader.kill()

    def seqs(ident):
        out = []
        for e in events:
            if e.get("dnstap", {}).get("identity") == ident:
                m = re.fullmatch(rf"w(\d+)\.{ident}\.test\.", e.get("qname", ""))
                out.append(int(m[1]) if m else e.get("qname"))
        return out
    check("robust: writer 1's 15 frames, sent around a server kill and garbage writers, are events, "
          "in order; its half frame (SIGKILLed mid-frame) is not", seqs("pywriter-1") == list(range(1, 16)),
          seqs("pywriter-1"))
    check("robust: a writer connecting after all that is read", seqs("pywriter-2") == [1, 2, 3],
          seqs("pywriter-2"))
    w = [e for e in events if e.get("dnstap", {}).get("identity") == "pywriter-1"][:1]
    if w:
        check_event(w[0], {"source": "dnstap", "msg_type": "query", "transport": "udp", "s_addr": "127.0.3.1",
                           "s_port": 30001, "d_addr": "127.0.3.2", "d_port": 53, "id": 1, "qtype": "A",
                           "dnstap": {"identity": "pywriter-1", "version": "pywriter", "type": "AUTH_QUERY",
                                      "protocol": "udp", "query_address": "127.0.3.1", "query_port": 30001,
                                      "response_address": "127.0.3.2", "response_port": 53}},
                    "robust: a synthetic frame's event has every field it carries")
    wrong = [e for e in events if e.get("dnstap", {}).get("identity") == "wrong-content-type"]
    check("robust: frames after a wrong content type are not read as dnstap", not wrong, wrong[:2])
    after_bad = seqs("after-bad-frame")
    note(f"robust: a good frame right after a non-protobuf frame on the same connection was "
         f"{'read' if after_bad else 'not read (the connection was dropped)'}")
    for label, run in (("before the kill", run1), ("after the restart", run2)):
        for ex in run:
            evs = [e for e in events if endpoint(e) == (ex["client"], ex["port"])]
            kinds = sorted(e.get("msg_type") for e in evs)
            if check(f"robust: Knot {label}: {ex['label']}: one query and one response event",
                     kinds == ["query", "response"], kinds):
                for ev in evs:
                    check_event(ev, expected(ex, ev["msg_type"] == "response", "AUTH", identity),
                                f"robust: Knot {label}: {ex['label']} {ev['msg_type']}")
    print(f"     robust: {len(events)} events", flush=True)


def run_reconnect(args, names):
    """All the servers on one stash53, which is restarted: each writer must come back by itself."""
    sock = os.path.join(args.sockdir, "reconnect.sock")
    reader = args.reader_cls(args, sock, "reconnect-1")
    procs = {}
    try:
        for name in names:
            d = os.path.join(args.workdir, "reconnect", name)
            os.makedirs(d, exist_ok=True)
            procs[name] = SPECS[name]["start"](d, snippet(SPECS[name]["snippet"], sock))
        for name, (proc, log) in procs.items():
            qname, qtype, rd = SPECS[name]["probe"]
            wait_until(lambda: probe(ADDR[name][0], qname, qtype, rd), 15, f"{name} answering (see {log})",
                       proc, 0.05)
        wait_until(lambda: unix_connections(sock)[0] >= len(procs), 10, "every server connected")

        def probe_all(reader, seconds):
            """Probes each server every 0.3 s until one of these probes is an event; returns the
            delays. (Probes sent earlier do not count: Unbound keeps what it could not send while
            disconnected and sends it after it reconnects.)"""
            t0, last, seen, ports = time.monotonic(), 0.0, {}, {n: set() for n in procs}
            deadline = t0 + seconds
            while time.monotonic() < deadline and len(seen) < len(procs):
                if time.monotonic() - last > 0.3:
                    for name in procs:
                        if name not in seen:
                            qname, qtype, rd = SPECS[name]["probe"]
                            probe(ADDR[name][0], qname, qtype, rd, ports=ports[name])
                    last = time.monotonic()
                if not reader.live:
                    if time.monotonic() - t0 > 1.6:
                        break
                else:
                    evs = reader.events()
                    for name in procs:
                        if name not in seen and any(is_probe_of(e, name) and endpoint(e)[1] in ports[name]
                                                    for e in evs):
                            seen[name] = time.monotonic() - t0
                time.sleep(0.05)
            return seen, ports
        if reader.live:
            first, _ = probe_all(reader, 8)
            check("reconnect: every server writes to the first stash53", len(first) == len(procs),
                  f"seen {sorted(first)} of {sorted(procs)}")
        reader.stop()
        reader = args.reader_cls(args, sock, "reconnect-2")
        t0 = time.monotonic()
        if reader.live:
            back, ports = probe_all(reader, 15)
            check("reconnect: every server reconnects to a restarted stash53 by itself (within 15 s)",
                  len(back) == len(procs), f"back: {back}, not: {sorted(set(procs) - set(back))}")
            print("     reconnect: first event after the restart: "
                  + ", ".join(f"{n} {t:.1f} s" for n, t in sorted(back.items(), key=lambda x: x[1])),
                  flush=True)
        else:
            wait_until(lambda: unix_connections(sock)[0] >= len(procs), 15, "every server reconnected")
            print(f"     reconnect: all connected again after {time.monotonic() - t0:.1f} s", flush=True)
            _, ports = probe_all(reader, 2)
            time.sleep(1.6)  # flush timeouts; dnsdist loses what it holds at SIGTERM
        for name, (proc, log) in procs.items():
            check(f"reconnect: {name} stops on SIGTERM", stop(proc, signal.SIGTERM, 15) is not None, log)
        events = reader.stop()
        reader = None
        for name in procs:
            identity = re.search(SPECS[name]["identity"], snippet(SPECS[name]["snippet"], sock))[1]
            mine = [e for e in events if is_probe_of(e, name) and endpoint(e)[1] in ports[name]]
            check(f"reconnect: {name}'s events after the restart carry its identity",
                  mine and all(e.get("dnstap", {}).get("identity") == identity for e in mine),
                  [e.get("dnstap") for e in mine][:3])
    finally:
        for proc, _ in procs.values():
            stop(proc, signal.SIGKILL)
        if reader is not None:
            reader.kill()


# --------------------------------------------------------------------------------------------

def setup_addresses():
    for v4, v6 in ADDR.values():
        subprocess.run(["ip", "addr", "add", f"{v4}/32", "dev", "lo"], check=True)
        subprocess.run(["ip", "addr", "add", f"{v6}/128", "dev", "lo", "nodad"], check=True)
    for a in EXTRA_ADDRS:
        subprocess.run(["ip", "addr", "add", a + ("/128" if ":" in a else "/32"), "dev", "lo"], check=True)


def run(args):
    os.makedirs(args.workdir, exist_ok=True)
    args.sockdir = os.path.join(args.workdir, "run")
    if len(args.sockdir) > 80:  # sun_path holds 108 bytes
        args.sockdir = tempfile.mkdtemp(prefix="stash53-dnstap-")
        note(f"workdir too long for unix socket paths: sockets in {args.sockdir}")
    os.makedirs(args.sockdir, exist_ok=True)
    os.chmod(args.sockdir, 0o777)  # stash53 may drop root before it binds
    setup_addresses()
    missing = [b for b in ("nsd", "kdig", "tcpdump") if not shutil.which(b)]
    require(not missing, f"missing {missing}")
    t0 = time.monotonic()
    nsd = start_nsd(args.workdir)
    try:
        ran = []
        for name in args.servers:
            why = unsupported(name)
            if why:
                print(f"SKIP {name}: {why}", flush=True)
                continue
            t = time.monotonic()
            print(f"---- {name}", flush=True)
            run_server(args, name)
            print(f"     {name}: {time.monotonic() - t:.1f} s", flush=True)
            ran.append(name)
        if "knot" not in ran and not args.no_robust:
            print("SKIP robustness: it uses Knot, which did not run", flush=True)
        if "knot" in ran and not args.no_robust:
            t = time.monotonic()
            print("---- robustness (Knot and Frame Streams writers of the test's own)", flush=True)
            run_robustness(args)
            print(f"     robustness: {time.monotonic() - t:.1f} s", flush=True)
        if ran and not args.no_robust:
            t = time.monotonic()
            print(f"---- reconnect ({', '.join(ran)} on one stash53, restarted)", flush=True)
            run_reconnect(args, ran)
            print(f"     reconnect: {time.monotonic() - t:.1f} s", flush=True)
    finally:
        stop(nsd)
    print(f"total {time.monotonic() - t0:.1f} s")


def unsupported(name):
    """Why this server cannot run here, or None."""
    binary = SPECS[name]["binary"]
    if not shutil.which(binary):
        return f"{binary} is not installed"
    if name == "knot":
        if not glob.glob("/usr/lib/*/knot/modules-*/dnstap.so") + glob.glob("/usr/lib*/knot/modules-*/dnstap.so"):
            return "Knot's dnstap module is not installed (Debian: knot-module-dnstap)"
        return None
    probe_cmd = {"bind": ["named", "-V"], "unbound": ["unbound", "-V"],
                 "dnsdist": ["dnsdist", "--version"]}[name]
    want = {"bind": "--enable-dnstap", "unbound": "--enable-dnstap", "dnsdist": "fstrm"}[name]
    r = subprocess.run(probe_cmd, capture_output=True, text=True, timeout=10)
    return None if want in r.stdout + r.stderr else f"{binary} is built without dnstap ({want})"


def on_alarm(*_):
    raise Failure("timed out")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stash53")
    ap.add_argument("--workdir")
    ap.add_argument("--reader", choices=("stash53", "fstrm"), default="stash53", help=argparse.SUPPRESS)
    ap.add_argument("--servers", default="bind,unbound,knot,dnsdist", help=argparse.SUPPRESS)
    ap.add_argument("--no-robust", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--stop-at-once", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--garbage", default=",".join(GARBAGE), help=argparse.SUPPRESS)
    ap.add_argument("--writer", help=argparse.SUPPRESS)
    ap.add_argument("--identity", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.writer:
        return writer_main(args.writer, args.identity)
    if not args.workdir or (args.reader == "stash53" and not args.stash53):
        ap.error("--stash53 and --workdir are required")
    args.workdir = os.path.abspath(args.workdir)
    if args.stash53:
        args.stash53 = os.path.abspath(args.stash53)
    args.reader_cls = Stash53Reader if args.reader == "stash53" else FstrmReader
    args.servers = [s for s in args.servers.split(",") if s]
    args.garbage = [s for s in args.garbage.split(",") if s]
    signal.signal(signal.SIGALRM, on_alarm)
    try:
        enter_netns()
        signal.alarm(90)
        run(args)
    except (Failure, subprocess.SubprocessError, OSError) as e:
        print(f"FAIL: {e}\n(events, server logs and pcaps are in {args.workdir})")
        return 1
    print(f"{len(notes)} notes, {len(failures)} failures" if failures else f"all passed ({len(notes)} notes)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
