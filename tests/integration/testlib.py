"""What the integration tests share: failing with a message, free loopback ports, and the
real servers (redis-server, mosquitto) they start and stop by PID."""
import argparse
import json
import os
import re
import signal
import socket
import struct
import subprocess
import time


class Failure(Exception):
    pass


def require(cond, msg):
    if not cond:
        raise Failure(msg)


def emitter_counters(stderr, name):
    """The counters of emitter `name`, and the `emitted` total, from stash53's last stats line."""
    line = re.compile(rf"\bemitted=(\d+)\b.*\| {re.escape(name)} queued=(\d+) sent=(\d+) "
                      r"filtered=\d+ dropped-full=(\d+) dropped-error=(\d+) reconnects=(\d+)")
    m = line.findall(stderr)
    require(m, f"no counters of emitter {name} in stderr:\n{stderr[-3000:]}")
    keys = ("emitted", "queued", "sent", "dropped_full", "dropped_error", "reconnects")
    return dict(zip(keys, map(int, m[-1])))


def expected_exit(stderr):
    """stash53's documented exit status for a run that ended normally: 3 when its last stats line
    shows any emitter that dropped events, 0 otherwise."""
    lines = [l for l in stderr.splitlines() if "component=stats" in l]
    require(lines, f"no stats line in stderr:\n{stderr[-2000:]}")
    drops = re.findall(r"dropped-full=(\d+) dropped-error=(\d+)", lines[-1])
    return 3 if any(int(a) or int(b) for a, b in drops) else 0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Resp:
    """A minimal RESP2 client: enough for commands, EVAL and SUBSCRIBE."""

    def __init__(self, port, timeout=5.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.f = self.sock.makefile("rb")

    def send(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(out))

    def reply(self):
        line = self.f.readline()
        require(line.endswith(b"\r\n"), f"redis: connection closed ({line!r})")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise Failure(f"redis error: {rest.decode()}")
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self.f.read(n + 2)[:-2]
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.reply() for _ in range(n)]
        raise Failure(f"redis: bad reply {line!r}")

    def cmd(self, *args):
        self.send(*args)
        return self.reply()

    def close(self):
        self.f.close()
        self.sock.close()


class RedisServer:
    def __init__(self, port, workdir, *extra):
        self.port, self.workdir, self.extra = port, workdir, extra
        self.proc = None

    def start(self):
        os.makedirs(self.workdir, exist_ok=True)
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--dir", self.workdir, *self.extra],
            stdout=open(os.path.join(self.workdir, "redis.log"), "ab"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            require(self.proc.poll() is None, f"redis-server exited; see {self.workdir}/redis.log")
            try:
                c = Resp(self.port, timeout=1)
                try:
                    # NOAUTH also means it is up; LOADING means not yet.
                    c.cmd("PING")
                    return self
                except Failure as e:
                    if "NOAUTH" in str(e):
                        return self
                finally:
                    c.close()
            except OSError:
                pass
            time.sleep(0.05)
        raise Failure("redis-server did not answer within 10 s")

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.kill()


class Broker:
    """One mosquitto, started by PID from its own config file; restartable on the same port."""

    def __init__(self, workdir, name, extra=""):
        self.port = free_port()
        self.conf = os.path.join(workdir, f"{name}.conf")
        self.log = os.path.join(workdir, f"{name}.log")
        # mosquitto 2 refuses anonymous clients on an explicit listener unless told otherwise.
        anonymous = "" if "allow_anonymous" in extra else "allow_anonymous true\n"
        # As root it would switch to user mosquitto, who cannot read WORKDIR's keys and files.
        anonymous += "user root\n" if os.geteuid() == 0 else ""
        with open(self.conf, "w") as f:
            f.write(f"listener {self.port} 127.0.0.1\n{anonymous}persistence false\n"
                    f"max_queued_messages 0\nmax_inflight_messages 1000\n{extra}")
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen(["mosquitto", "-c", self.conf], stdout=subprocess.DEVNULL,
                                     stderr=open(self.log, "ab"))
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            require(self.proc.poll() is None, f"mosquitto exited: see {self.log}")
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise Failure(f"mosquitto on port {self.port} not listening after 5 s")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def subscribe(port, topic, out_path, extra=(), probe_args=()):
    """Starts mosquitto_sub (-v, QoS 1) into out_path and returns once a probe published to
    `topic`'s tree arrives, so nothing stash53 publishes afterwards can be missed. A listener
    that is not up yet (a broker's second one) is waited for, not an error."""
    cmd = ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-t", topic, "-v", "-q", "1",
           *probe_args, *extra]
    out = open(out_path, "wb")
    sub = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL)
    probe_topic = topic.replace("#", "probe")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if sub.poll() is not None:  # connection refused: start it again
            sub = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL)
        subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-t", probe_topic,
                        "-m", "probe", "-q", "1", *probe_args], stderr=subprocess.DEVNULL)
        time.sleep(0.2)
        with open(out_path, "rb") as f:
            if b"probe" in f.read():
                return sub
    sub.kill()
    raise Failure(f"mosquitto_sub on port {port} never received its probe")


def stop_sub(sub, out_path, expect_lines, settle=10):
    """Waits (bounded) until out_path holds expect_lines lines or stops growing, then stops."""
    deadline, last, still = time.monotonic() + settle, -1, 0
    while time.monotonic() < deadline:
        with open(out_path, "rb") as f:
            n = f.read().count(b"\n")
        if n >= expect_lines:
            break
        still = still + 1 if n == last else 0
        if still >= 10:
            break
        last = n
        time.sleep(0.1)
    sub.terminate()
    sub.wait(5)
    with open(out_path, "rb") as f:
        return [l for l in f.read().split(b"\n") if l and not l.endswith(b" probe")]


class Background:
    """stash53 running in the background, writing its events to a file (-o); stop() sends
    SIGTERM and returns the events and the log. Every instance is killed by stop_all() if a
    check fails first."""
    running = []

    def __init__(self, stash53, args, workdir):
        self.out = os.path.join(workdir, "events.ndjson")
        if os.path.exists(self.out):  # -o appends
            os.unlink(self.out)
        self.err = open(os.path.join(workdir, "stderr.txt"), "w+")
        self.proc = subprocess.Popen([stash53, *args, "-o", self.out, "--no-enrich", "geoip",
                                      "--allow-root"], stderr=self.err)
        Background.running.append(self.proc)

    def log(self):
        self.err.seek(0)
        return self.err.read()

    def wait_log(self, text, timeout=10):
        deadline = time.monotonic() + timeout
        while text not in self.log():
            require(self.proc.poll() is None, "stash53 exited:\n" + self.log()[-2000:])
            require(time.monotonic() < deadline, f"no '{text}' in stash53's log:\n{self.log()[-1500:]}")
            time.sleep(0.05)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=30)
        require(rc == 0, f"stash53 exit {rc}:\n{self.log()[-2000:]}")
        return [json.loads(l) for l in open(self.out)], self.log()

    @staticmethod
    def stop_all():
        for p in Background.running:
            if p.poll() is None:
                p.kill()
                p.wait()


def build_big_pcap(sample, out, min_messages):
    """The sample's records repeated until there are `min_messages`; returns how many."""
    with open(sample, "rb") as f:
        data = f.read()
    endian = {b"\xd4\xc3\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">"}.get(data[:4])
    require(endian is not None, f"{sample}: not a microsecond pcap")
    records, off = [], 24
    while off < len(data):
        incl = struct.unpack(endian + "I", data[off + 8:off + 12])[0]
        records.append(data[off:off + 16 + incl])
        off += 16 + incl
    copies = -(-min_messages // len(records))
    with open(out, "wb") as f:
        f.write(data[:24] + b"".join(records) * copies)
    return copies * len(records)


def openssl(*a):
    subprocess.run(["openssl", *a], check=True, capture_output=True)


def make_ca(d, name):
    key, crt = os.path.join(d, f"{name}.key"), os.path.join(d, f"{name}.crt")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
            f"/CN={name}", "-keyout", key, "-out", crt)
    return key, crt


def make_server_cert(d, ca_key, ca_crt):
    """A certificate for 127.0.0.1 (in its subjectAltName) signed by the CA; returns key, crt."""
    key, csr, crt = (os.path.join(d, f"server.{x}") for x in ("key", "csr", "crt"))
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", key,
            "-out", csr)
    ext = os.path.join(d, "san.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial",
            "-days", "2", "-extfile", ext, "-out", crt)
    return key, crt


def test_args(seconds, *options):
    """The arguments of an integration test: --stash53, --workdir and `options`, all required;
    makes the work directory and limits the test to `seconds`: past them a Failure is raised
    wherever the test is, so that its `finally` blocks still stop its servers."""
    ap = argparse.ArgumentParser()
    for o in ("--stash53", "--workdir", *options):
        ap.add_argument(o, required=True)
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)

    def on_alarm(*_):
        raise Failure(f"took over {seconds} s")
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    return a
