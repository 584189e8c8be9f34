#!/usr/bin/python3
"""The nats emitter against real nats-server processes on free loopback ports.

Usage: test_nats.py --stash53 PATH --probe PATH --pcaps DIR --workdir DIR

(1) Core NATS, --nats nats://...?subject=dns.{qtype}: a subscriber speaking the NATS protocol
    itself (not libnats) receives every event `--stdout` prints, each on dns.<its qtype>.
(2) events_per_message=10: NDJSON payloads carrying every event.
(3) TLS with a CA made at test time and user/password auth on the same server: delivered; a
    wrong password is refused with a clear error and the events counted as dropped. A token;
    an NKey and its seed file.
(4) A 3-node JetStream cluster, the stream created by stash53 (create_stream, replicas 3):
    stash53 sends over 200,000 events; the stream's leader is killed mid-stream and restarted.
    A pull consumer (nats_probe, libnats) then reads every event exactly once (n = 1..N, no
    gap, no duplicate: the resends were dropped by the stream's duplicate window), and the
    counters account for every event.
(5) Bad --nats URLs: exit 2, naming the option.
Every server is stopped by PID at the end.
"""
import base64
import json
import os
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
import urllib.request
from testlib import (Failure, build_big_pcap, emitter_counters, expected_exit, free_port,
                     make_ca, make_server_cert, require, test_args)

MIN_MESSAGES = 200_000
CORE_PCAP = "sample-udp4.pcap"


class NatsServer:
    """One nats-server; with `cluster`, a node of it (JetStream on)."""

    def __init__(self, workdir, name, conf=""):
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.name, self.port, self.monitor = name, free_port(), free_port()
        self.conf = os.path.join(self.dir, "server.conf")
        with open(self.conf, "w") as f:
            f.write(f"server_name: {name}\nlisten: 127.0.0.1:{self.port}\n"
                    f"http: 127.0.0.1:{self.monitor}\n{conf}")
        self.proc = None

    def start(self):
        self.log = open(os.path.join(self.dir, "log.txt"), "a")
        self.proc = subprocess.Popen(["nats-server", "-c", self.conf], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                require(self.proc.poll() is None, f"nats-server {self.name} exited: {self.log_text()}")
                require(time.monotonic() < deadline, f"nats-server {self.name} did not start")
                time.sleep(0.05)

    def log_text(self):
        with open(os.path.join(self.dir, "log.txt")) as f:
            return f.read()[-2000:]

    def jsz(self):
        url = f"http://127.0.0.1:{self.monitor}/jsz?streams=true"
        with urllib.request.urlopen(url, timeout=2) as r:
            return json.load(r)

    def has_client(self, name):
        url = f"http://127.0.0.1:{self.monitor}/connz"
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                return any(c.get("name") == name for c in json.load(r).get("connections", []))
        except OSError:
            return False

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Subscriber(threading.Thread):
    """A core NATS subscriber written against the protocol (INFO, CONNECT, SUB, MSG, PING):
    an oracle that shares no code with the emitter's libnats."""

    def __init__(self, port, subject, user=None, password=None, ca=None):
        super().__init__(daemon=True)
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        f = sock.makefile("rb")
        info = json.loads(f.readline()[len(b"INFO "):])
        if info.get("tls_required"):  # the server waits for the handshake after its INFO
            sock = ssl.create_default_context(cafile=ca).wrap_socket(sock, server_hostname="127.0.0.1")
            f = sock.makefile("rb")
        connect = {"verbose": False, "pedantic": False, "name": "test-subscriber"}
        if user:
            connect.update({"user": user, "pass": password})
        sock.sendall(b"CONNECT " + json.dumps(connect).encode() + b"\r\nSUB " +
                     subject.encode() + b" 1\r\nPING\r\n")
        line = f.readline()
        require(line == b"PONG\r\n", f"subscriber: {line!r} instead of PONG")  # SUB is in place
        self.sock, self.f, self.messages, self.stopped = sock, f, [], False
        self.start()

    def run(self):
        try:
            while not self.stopped:
                line = self.f.readline()
                if not line:
                    return
                if line.startswith(b"MSG "):
                    parts = line.split()
                    payload = self.f.read(int(parts[-1]) + 2)[:-2]
                    self.messages.append((parts[1].decode(), payload))
                elif line == b"PING\r\n":
                    self.sock.sendall(b"PONG\r\n")
        except (OSError, ValueError):
            return

    def wait_for(self, count, timeout=20):
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        self.stopped = True
        self.sock.close()
        return self.messages


def run_stash53(stash53, *args, timeout=120):
    p = subprocess.run([stash53, "--allow-root", *args], capture_output=True, timeout=timeout)
    err = p.stderr.decode(errors="replace")
    require(p.returncode == expected_exit(err), f"stash53 {args}: exit {p.returncode}\n{err[-3000:]}")
    return p.stdout, err


def stdout_events(stash53, pcap):
    out, _ = run_stash53(stash53, "-r", pcap, "-N", "t1", "--stdout")
    return [json.loads(l) for l in out.splitlines()]


def case_core(a, pcap, expected):
    server = NatsServer(a.workdir, "core").start()
    try:
        sub = Subscriber(server.port, "dns.>")
        _, err = run_stash53(a.stash53, "-r", pcap, "-N", "t1", "--nats",
                             f"nats://127.0.0.1:{server.port}?subject=dns.{{qtype}}")
        got = sub.wait_for(len(expected))
        c = emitter_counters(err, "nats")
        events = [(s, json.loads(p)) for s, p in got]
        require(sorted(e["n"] for _, e in events) == [e["n"] for e in expected],
                f"(1) core: {len(events)} received of {len(expected)}")
        by_n = {e["n"]: e for e in expected}
        for subject, e in events:
            require(e == by_n[e["n"]], f"(1) event {e['n']} differs from stdout's")
            require(subject == f"dns.{e['qtype']}", f"(1) event {e['n']} on {subject}")
        require(c["sent"] == len(expected) and c["dropped_error"] == 0, f"(1) counters {c}")
        print(f"ok (1) core NATS: {len(events)} events, each on dns.<qtype>, equal to stdout's")

        sub = Subscriber(server.port, "packed.>")
        _, err = run_stash53(a.stash53, "-r", pcap, "-N", "t1", "--nats",
                             f"nats://127.0.0.1:{server.port}?subject=packed.{{qtype}}&events_per_message=10")
        lines = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            lines = [l for _, p in sub.messages for l in p.split(b"\n") if l]
            if len(lines) >= len(expected):
                break
            time.sleep(0.05)
        msgs = sub.wait_for(0)
        require(sorted(json.loads(l)["n"] for l in lines) == [e["n"] for e in expected],
                f"(2) packed: {len(lines)} events in {len(msgs)} messages")
        require(len(msgs) < len(expected), f"(2) {len(msgs)} messages for {len(expected)} events")
        print(f"ok (2) events_per_message=10: {len(lines)} events in {len(msgs)} messages")
    finally:
        server.stop()


def case_tls_auth(a, pcap, expected):
    d = os.path.join(a.workdir, "tls")
    os.makedirs(d, exist_ok=True)
    ca_key, ca_crt = make_ca(d, "test-ca")
    key, crt = make_server_cert(d, ca_key, ca_crt)
    server = NatsServer(a.workdir, "tls", f"tls {{\n  cert_file: {crt}\n  key_file: {key}\n}}\n"
                                          "authorization {\n  user: sensor\n  password: s3cret\n}\n").start()
    try:
        sub = Subscriber(server.port, "dns.>", "sensor", "s3cret", ca_crt)
        _, err = run_stash53(a.stash53, "-r", pcap, "-N", "t1", "--nats",
                             f"tls://sensor:s3cret@127.0.0.1:{server.port}?ca_file={ca_crt}")
        got = sub.wait_for(len(expected))
        c = emitter_counters(err, "nats")
        require(len(got) == len(expected) and c["sent"] == len(expected), f"(3) TLS: {len(got)} received, {c}")
        _, err = run_stash53(a.stash53, "-r", pcap, "--nats",
                             f"tls://sensor:wrong@127.0.0.1:{server.port}?ca_file={ca_crt}",
                             "--drain-ms", "1500")
        c = emitter_counters(err, "nats")
        require("Authorization" in err and c["sent"] == 0 and c["dropped_error"] == len(expected),
                f"(3) a wrong password: no clear error, or counters {c}:\n{err[-1500:]}")
        print(f"ok (3) TLS and user/password: {len(got)} delivered; a wrong password refused "
              f"('Authorization Violation'), {c['dropped_error']} counted as dropped")
    finally:
        server.stop()
    server = NatsServer(a.workdir, "token", "authorization {\n  token: t0ken\n}\n").start()
    try:
        _, err = run_stash53(a.stash53, "-r", pcap, "--nats",
                             f"nats://127.0.0.1:{server.port}?token=t0ken")
        c = emitter_counters(err, "nats")
        require(c["sent"] == len(expected), f"(3) token: counters {c}")
        _, err = run_stash53(a.stash53, "-r", pcap, "--drain-ms", "1500", "--nats",
                             f"nats://127.0.0.1:{server.port}")
        c = emitter_counters(err, "nats")
        require("Authorization" in err and c["sent"] == 0, f"(3) no token: counters {c}")
        print(f"ok (3) a token: {len(expected)} delivered with it, refused without")
    finally:
        server.stop()


def nkey_pair():
    """A user NKey made here as the nkeys library makes one (an Ed25519 key, a prefix byte,
    CRC-16/XMODEM, base32 without padding): the public key (U...) and the seed (SU...)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    def crc16(data):
        crc = 0
        for b in data:
            crc ^= b << 8
            for _ in range(8):
                crc = ((crc << 1) ^ 0x1021 if crc & 0x8000 else crc << 1) & 0xffff
        return crc

    def encode(raw):
        return base64.b32encode(raw + struct.pack("<H", crc16(raw))).decode().rstrip("=")
    key = Ed25519PrivateKey.generate()
    seed = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                             serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    user, seed_prefix = 20 << 3, 18 << 3
    return (encode(bytes([user]) + public),
            encode(bytes([seed_prefix | user >> 5, (user & 31) << 3]) + seed))


def case_nkey(a, pcap, expected):
    public, seed = nkey_pair()
    seed_file = os.path.join(a.workdir, "user.nk")
    with open(seed_file, "w") as f:
        f.write(seed + "\n")
    server = NatsServer(a.workdir, "nkey", f"authorization {{\n  users: [{{nkey: {public}}}]\n}}\n").start()
    try:
        _, err = run_stash53(a.stash53, "-r", pcap, "--nats",
                             f"nats://127.0.0.1:{server.port}?nkey={public}&nkey_seed={seed_file}")
        c = emitter_counters(err, "nats")
        require(c["sent"] == len(expected), f"(3) NKey: counters {c}\n{err[-1500:]}")
        other, _ = nkey_pair()
        _, err = run_stash53(a.stash53, "-r", pcap, "--drain-ms", "1500", "--nats",
                             f"nats://127.0.0.1:{server.port}?nkey={other}&nkey_seed={seed_file}")
        require(emitter_counters(err, "nats")["sent"] == 0, "(3) NKey: another key was let in")
        print(f"ok (3) an NKey (made by the test): {len(expected)} delivered, the server checking "
              "the signature of its nonce; another key refused")
    finally:
        server.stop()


def case_config_errors(a, pcap):
    for url, want in [("nats://127.0.0.1:1?stream_replicas=3", "stream_replicas"),
                      ("http://127.0.0.1:4222", "expected a nats:// or tls:// URL"),
                      ("nats://u@127.0.0.1:4222", "a user needs a password")]:
        p = subprocess.run([a.stash53, "--allow-root", "-r", pcap, "--nats", url], capture_output=True,
                           text=True, timeout=30)
        require(p.returncode == 2 and want in p.stderr and "--nats" in p.stderr,
                f"(5) --nats {url}: exit {p.returncode}, expected 2 naming {want!r}:\n{p.stderr[-800:]}")
    print("ok (5) bad --nats URLs: exit 2, the option and what was expected named")


def stream_leader(nodes):
    for n in nodes:
        try:
            for acct in n.jsz().get("account_details", []):
                for s in acct.get("stream_detail", []):
                    if s["name"] == "DNS" and s.get("cluster", {}).get("leader"):
                        return s["cluster"]["leader"], s["state"]["messages"]
        except OSError:
            continue
    return None, 0


def case_jetstream_cluster(a):
    big = os.path.join(a.workdir, "big.pcap")
    total = build_big_pcap(os.path.join(a.pcaps, CORE_PCAP), big, MIN_MESSAGES)
    names = ["n1", "n2", "n3"]
    for n in names:  # a stream left by an earlier run would hold its events too
        shutil.rmtree(os.path.join(a.workdir, "js-" + n), ignore_errors=True)
    routes = {n: free_port() for n in names}
    nodes = []
    for n in names:
        conf = (f"jetstream {{ store_dir: {os.path.join(a.workdir, 'js-' + n)} }}\n"
                f"cluster {{\n  name: c1\n  listen: 127.0.0.1:{routes[n]}\n  routes: [" +
                ", ".join(f"nats://127.0.0.1:{p}" for p in routes.values()) + "]\n}\n")
        nodes.append(NatsServer(a.workdir, n, conf))
    try:
        for n in nodes:
            n.start()
        servers = ",".join(f"127.0.0.1:{n.port}" for n in nodes)
        url = (f"nats://{servers}?subject=dns.{{qtype}}&stream=DNS&create_stream=1"
               f"&stream_replicas=3&ack_timeout_ms=2000")
        err_path = os.path.join(a.workdir, "cluster-stderr.txt")
        with open(err_path, "w") as err_file:
            # The cluster elects its metadata leader first: retried with backoff until then.
            proc = subprocess.Popen([a.stash53, "--allow-root", "-r", big, "-N", "out", "--nats", url,
                                     "--drain-ms", "60000"], stdout=subprocess.DEVNULL, stderr=err_file)
            try:
                deadline = time.monotonic() + 60
                leader, stored = None, 0
                while stored < 30_000:
                    require(time.monotonic() < deadline and proc.poll() is None,
                            f"(4) the stream never reached 30,000 events (leader {leader}, {stored}; "
                            f"stash53 exit {proc.poll()})")
                    leader, stored = stream_leader(nodes)
                    time.sleep(0.05)
                victim = next(n for n in nodes if n.name == leader)
                client_on = next((n for n in nodes if n.has_client("stash53 nats")), None)
                victim.kill()
                killed_at = time.monotonic()
                print(f"   killed the stream leader {leader} with {stored} events stored "
                      f"(stash53 connected to {client_on.name if client_on else '?'})")
                time.sleep(2)
                victim.start()
                # The client's own server too, when that was another: its connection fails over.
                if client_on is not None and client_on is not victim:
                    time.sleep(1)
                    client_on.kill()
                    print(f"   killed {client_on.name}, the server stash53 was connected to")
                    time.sleep(2)
                    client_on.start()
                rc = proc.wait(timeout=120)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        took = time.monotonic() - killed_at
        with open(err_path) as f:
            err = f.read()
        require(rc == 0, f"(4) stash53 exit {rc}:\n{err[-3000:]}")
        c = emitter_counters(err, "nats")
        resends = int(err.rsplit("resends=", 1)[1].split()[0].rstrip("\"")) if "resends=" in err else -1
        require(c["emitted"] == total and c["queued"] == total and c["sent"] == total and
                c["dropped_error"] == 0 and c["dropped_full"] == 0,
                f"(4) counters {c} for {total} events")
        out = os.path.join(a.workdir, "drained.ndjson")
        p = subprocess.run([a.probe, "drain", ",".join(f"nats://127.0.0.1:{n.port}" for n in nodes),
                            "DNS", "dns.>", out, "2000"], capture_output=True, text=True, timeout=120)
        require(p.returncode == 0, f"(4) nats_probe drain: {p.stderr}")
        with open(out) as f:
            ns = [json.loads(l)["n"] for l in f]
        missing = set(range(1, total + 1)) - set(ns)
        require(not missing, f"(4) {len(missing)} events missing from the stream, e.g. {sorted(missing)[:10]}")
        require(len(ns) == total, f"(4) {len(ns) - total} duplicates in the stream ({p.stdout.strip()})")
        print(f"ok (4) JetStream, 3 nodes, replicas 3, stream leader killed and restarted: all "
              f"{total} events read back exactly once (n 1..{total}); {resends} messages resent, "
              f"{c['reconnects']} reconnects; stash53 done {took:.1f} s after the kill")
    finally:
        for n in nodes:
            n.stop()


def main():
    a = test_args(240, "--probe", "--pcaps")  # every wait below is bounded; this bounds their sum
    pcap = os.path.join(a.pcaps, CORE_PCAP)
    expected = stdout_events(a.stash53, pcap)
    try:
        case_core(a, pcap, expected)
        case_tls_auth(a, pcap, expected)
        case_nkey(a, pcap, expected)
        case_config_errors(a, pcap)
        case_jetstream_cluster(a)
    except Failure as e:
        print(f"FAIL {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
