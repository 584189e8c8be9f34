#!/usr/bin/python3
"""Operating stash53 as a daemon, against its own output and a real redis-server:

(1) SIGHUP reload with two emitters: the unchanged one loses nothing (its `n` run has no gap),
    the changed one takes its new settings at once; a broken config on SIGHUP keeps the old one
    running and says why; (2) logrotate: `mv` the file, SIGHUP, every event is in exactly one of
    the two files; (3) SIGUSR1 logs the counters; (4) exit statuses: an output that cannot be
    opened is exit 1 (and a warning with `optional: true`), lost events are exit 3;
    (5) --check-config finds a missing directory, a missing interface and a taken port;
    (6) secrets (inline, from a file, from the environment, in a URL) never appear in a log line,
    an error or --print-config, and a world-readable config holding one is warned about.

Events are streamed into `-r -` from a capture this test writes, packet by packet, so the test
decides what happens between two packets.
"""
import argparse
import json
import os
import pwd
import signal
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from testlib import Failure, RedisServer, free_port, require  # noqa: E402

sys.path.insert(0, "/usr/lib/python3/dist-packages")
from scapy.all import DNS, DNSQR, DNSRR, IP, UDP, Ether, raw  # noqa: E402


def capture(count):
    """A pcap header and `count` packets (queries and responses alternating), as bytes each."""
    header = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    packets = []
    for i in range(count):
        qname = f"host{i}.example.com"
        client = f"192.0.2.{10 + i // 2 % 8}"  # 8 clients: flows for several workers
        if i % 2 == 0:
            p = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IP(src=client, dst="192.0.2.53") / UDP(sport=40000 + i % 1000, dport=53) / \
                DNS(id=i & 0xFFFF, rd=1, qd=DNSQR(qname=qname, qtype="A"))
        else:
            p = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IP(src="192.0.2.53", dst=client) / UDP(sport=53, dport=40000 + (i - 1) % 1000) / \
                DNS(id=(i - 1) & 0xFFFF, qr=1, aa=1, rcode=0 if i % 3 else 3,
                    qd=DNSQR(qname=qname, qtype="A"), an=DNSRR(rrname=qname, rdata="198.51.100.7"))
        b = raw(p)
        ts = 1_700_000_000 + i
        packets.append(struct.pack("<IIII", ts, 0, len(b), len(b)) + b)
    return header, packets


WORKERS = []  # ["--workers", "N"] with --workers N


class Stream:
    """stash53 reading `-r -`, fed by the test."""

    def __init__(self, stash53, args, workdir, env=None):
        self.err_path = os.path.join(workdir, "stderr.log")
        self.err = open(self.err_path, "wb")
        self.proc = subprocess.Popen([stash53, "-r", "-", *args, *WORKERS], stdin=subprocess.PIPE,
                                     stderr=self.err, stdout=subprocess.DEVNULL, env=env)

    def feed(self, chunks):
        for c in chunks:
            self.proc.stdin.write(c)
        self.proc.stdin.flush()

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stderr(self):
        with open(self.err_path, errors="replace") as f:
            return f.read()

    def feed_until(self, packets, text, timeout=10):
        """Feeds one packet at a time until `text` is logged (a file source takes new stages
        between two packets); returns how many it fed."""
        deadline = time.monotonic() + timeout
        for i, p in enumerate(packets):
            if text in self.stderr():
                return i
            require(time.monotonic() < deadline, f"no '{text}' in stderr within {timeout} s:\n"
                    f"{self.stderr()[-3000:]}")
            self.feed([p])
            time.sleep(0.05)
        raise Failure(f"ran out of packets before '{text}'")

    def wait_log(self, text, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.stderr():
                return
            time.sleep(0.05)
        raise Failure(f"no '{text}' in stderr within {timeout} s:\n{self.stderr()[-3000:]}")

    def finish(self, timeout=30):
        self.proc.stdin.close()
        rc = self.proc.wait(timeout=timeout)
        self.err.close()
        return rc


def events(path):
    if not os.path.exists(path):
        return []
    # The emitter may be mid-write: only whole lines count (a reader like Filebeat does the same).
    with open(path) as f:
        return [json.loads(line) for line in f if line.endswith("\n") and line.strip()]


# Started as root, stash53 runs as this user once its capture and files are open (as the unit
# runs it): a reload reads the config and creates new files as that user, so both are its own.
RUN_AS = pwd.getpwnam("stash53") if any(u.pw_name == "stash53" for u in pwd.getpwall()) else pwd.getpwnam("nobody")


def fresh_dir(path):
    """Makes `path`, emptied of the files a previous run left."""
    os.makedirs(path, exist_ok=True)
    for f in os.listdir(path):
        if os.path.isfile(os.path.join(path, f)):
            os.unlink(os.path.join(path, f))


def give(path):
    os.chown(path, RUN_AS.pw_uid, RUN_AS.pw_gid)


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
    give(path)


def wait_lines(path, n, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(events(path)) >= n:
            return
        time.sleep(0.05)
    raise Failure(f"{path}: {len(events(path))} events, expected {n}")


def test_reload(stash53, workdir, header, packets):
    a, b, b2 = (os.path.join(workdir, f) for f in ("a.ndjson", "b.ndjson", "b2.ndjson"))
    conf = os.path.join(workdir, "reload.yml")
    base = f"""
emitters:
  - name: all
    type: file
    path: {a}
  - name: answers
    type: file
    path: {{b}}
    filter:
      msg_type: {{kind}}
"""
    write(conf, base.format(b=b, kind="response"))
    s = Stream(stash53, ["-c", conf, "-N", "reload"], workdir)
    third = len(packets) // 3
    s.feed([header] + packets[:third])
    wait_lines(a, third)
    # The changed emitter: a new path and the opposite filter.
    write(conf, base.format(b=b2, kind="query"))
    s.signal(signal.SIGHUP)
    fed = third + s.feed_until(packets[third:], "Reloaded:")
    s.feed(packets[fed:2 * third])
    wait_lines(a, 2 * third)
    # A broken config: the old one goes on.
    write(conf, "emitters: [ {type: file, path: \n")
    s.signal(signal.SIGHUP)
    s.wait_log("Reload failed, keeping the running configuration")
    s.feed(packets[2 * third:])
    rc = s.finish()
    err = s.stderr()
    require(rc == 0, f"reload: exit {rc}:\n{err[-3000:]}")
    ea, eb, eb2 = events(a), events(b), events(b2)
    ns = sorted(e["n"] for e in ea)  # with workers, each one's events in order
    require(ns == list(range(1, len(packets) + 1)),
            f"reload: the unchanged emitter has a gap or a doubled n: {len(ns)} events, "
            f"first missing {next((i for i in range(1, len(packets) + 1) if i not in set(ns)), None)}")
    require(eb and all(e["msg_type"] == "response" for e in eb),
            "reload: the old emitter wrote something its filter refused")
    require(eb2 and all(e["msg_type"] == "query" for e in eb2),
            "reload: the changed emitter does not use its new filter")
    require(all(e["n"] > third for e in eb2), "reload: the new emitter got events from before the reload")
    require(max(e["n"] for e in eb) <= fed, "reload: the old emitter got events after the reload")
    # Before the SIGHUP the old settings, after the reload the new ones; in between (the packets
    # fed while it was reloading) either. Nothing is lost on either side.
    old = {e["n"] for e in ea if e["msg_type"] == "response" and e["n"] <= third}
    new = {e["n"] for e in ea if e["msg_type"] == "query" and e["n"] > fed}
    require(old <= {e["n"] for e in eb}, f"reload: {len(old - {e['n'] for e in eb})} events lost before it")
    require(new <= {e["n"] for e in eb2}, f"reload: {len(new - {e['n'] for e in eb2})} events lost after it")
    print(f"ok   reload: unchanged emitter n=1..{len(ns)} without a gap; changed emitter "
          f"{len(eb)} responses before, {len(eb2)} queries after; broken config kept the old one")


def test_reload_transactions(stash53, workdir, header, packets):
    """A reload that takes the last transaction emitter away: the queries it held go to it,
    unanswered, before it retires; the messages after the reload go to the new emitter."""
    t, m = os.path.join(workdir, "t.ndjson"), os.path.join(workdir, "m.ndjson")
    conf = os.path.join(workdir, "tx.yml")
    queries = packets[0::2][:200]
    write(conf, f"transactions: {{timeout_ms: 3600000}}\nemitters:\n  - {{type: file, name: tx, path: {t}, mode: transaction}}\n")
    s = Stream(stash53, ["-c", conf], workdir)
    s.feed([header] + queries[:100])
    time.sleep(0.5)
    write(conf, f"transactions: {{timeout_ms: 3600000}}\nemitters:\n  - {{type: file, name: msg, path: {m}}}\n")
    s.signal(signal.SIGHUP)
    fed = 100 + s.feed_until(queries[100:], "Reloaded:")
    s.feed(queries[fed:])
    rc = s.finish()
    require(rc == 0, f"reload (transactions): exit {rc}:\n{s.stderr()[-3000:]}")
    held, after = events(t), events(m)
    require(all(x["status"] == "unanswered" for x in held) and len(held) >= 100
            and sorted(x["query"]["id"] for x in held) + sorted(e["id"] for e in after)
            == sorted(DNS_ID(q) for q in queries),
            f"reload (transactions): {len(held)} held, {len(after)} after, of {len(queries)}")
    print(f"ok   reload: the transaction emitter's {len(held)} held queries went to it, unanswered, "
          f"before it retired; {len(after)} messages after")


def DNS_ID(packet):
    return struct.unpack("!H", packet[16 + 14 + 20 + 8:16 + 14 + 20 + 10])[0]


def test_logrotate(stash53, workdir, header, packets):
    a = os.path.join(workdir, "rotate.ndjson")
    s = Stream(stash53, ["-o", a, "-N", "rotate"], workdir)
    half = len(packets) // 2
    s.feed([header] + packets[:half])
    wait_lines(a, half)
    os.rename(a, a + ".1")
    s.feed(packets[half:half + 10])  # written to the renamed file: nobody said otherwise
    s.signal(signal.SIGHUP)
    fed = half + 10 + s.feed_until(packets[half + 10:], "Reloaded:")
    s.feed(packets[fed:])
    rc = s.finish()
    require(rc == 0, f"logrotate: exit {rc}:\n{s.stderr()[-3000:]}")
    old, new = events(a + ".1"), events(a)
    ns_old, ns_new = [e["n"] for e in old], [e["n"] for e in new]
    require(new, "logrotate: nothing in the reopened file")
    require(sorted(ns_old + ns_new) == list(range(1, len(packets) + 1)),
            f"logrotate: events not in exactly one file: {len(ns_old)} + {len(ns_new)} for "
            f"{len(packets)}")
    require(max(ns_old) < min(ns_new), "logrotate: the two files interleave")
    require("Reopened " + a in s.stderr(), "logrotate: no 'Reopened' line")
    print(f"ok   logrotate: {len(old)} events in the moved file, {len(new)} in the reopened one, "
          "each exactly once")


def test_usr1(stash53, workdir, header, packets):
    s = Stream(stash53, ["-o", "/dev/null", "-N", "usr1"], workdir)
    s.feed([header] + packets[:100])
    time.sleep(0.3)
    s.signal(signal.SIGUSR1)
    s.wait_log("component=stats")
    line = [x for x in s.stderr().splitlines() if "component=stats" in x][0]
    require("messages=100" in line, f"SIGUSR1: unexpected counters: {line}")
    rc = s.finish()
    require(rc == 0, f"SIGUSR1: exit {rc}")
    print("ok   SIGUSR1 logs the counters while running: " + line.split('msg="')[1][:60] + "...")


def run(stash53, args, env=None, timeout=60):
    p = subprocess.run([stash53, *args], capture_output=True, text=True, timeout=timeout, env=env)
    return p.returncode, p.stdout, p.stderr


def test_exit_statuses(stash53, workdir, pcap):
    rc, _, err = run(stash53, ["-r", pcap, "-o", "/nonexistent/dir/x.ndjson"])
    require(rc == 1 and "cannot open /nonexistent/dir/x.ndjson" in err,
            f"unopenable output: exit {rc}, expected 1:\n{err[-2000:]}")
    conf = os.path.join(workdir, "optional.yml")
    ok = os.path.join(workdir, "optional-ok.ndjson")
    write(conf, f"emitters:\n  - {{type: file, name: gone, path: /nonexistent/x.ndjson, optional: true}}\n"
                f"  - {{type: file, name: here, path: {ok}}}\n")
    rc, _, err = run(stash53, ["-c", conf, "-r", pcap, "--drain-ms", "300"])
    require(rc == 3 and "optional" in err and len(events(ok)) > 0,
            f"optional output: exit {rc} (expected 3: its events are lost), {len(events(ok))} "
            f"events in the other:\n{err[-2000:]}")
    port = free_port()  # nothing listens there
    rc, _, err = run(stash53, ["-r", pcap, "--redis", f"redis://127.0.0.1:{port}", "--drain-ms", "300"])
    require(rc == 3 and "events were lost" in err, f"unreachable redis: exit {rc}, expected 3:\n{err[-2000:]}")
    print("ok   exit 1 for an output that cannot be opened, 3 when events were lost (optional "
          "output, unreachable redis)")


def test_check_config(stash53, workdir, pcap):
    rc, _, err = run(stash53, ["-r", pcap, "-o", "/nonexistent/dir/x.ndjson", "--check-config"])
    require(rc == 1 and "/nonexistent" in err, f"check-config: missing directory accepted (exit {rc})")
    rc, _, err = run(stash53, ["-i", "nosuch0", "--check-config"])
    require(rc == 1 and "nosuch0" in err, f"check-config: missing interface accepted (exit {rc})")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        rc, _, err = run(stash53, ["-r", pcap, "--metrics-listen", f"127.0.0.1:{port}", "--check-config"])
        require(rc == 1 and str(port) in err, f"check-config: taken metrics port accepted (exit {rc})")
        rc, _, err = run(stash53, ["-r", pcap, "--zmq", f"tcp://127.0.0.1:{port}?bind=1", "--check-config"])
        require(rc == 1 and "cannot bind" in err, f"check-config: taken zmq port accepted (exit {rc}):\n{err}")
    out = os.path.join(workdir, "never-created.ndjson")
    rc, stdout, err = run(stash53, ["-r", pcap, "-o", out, "--check-config"])
    require(rc == 0 and "configuration OK" in stdout and not os.path.exists(out),
            f"check-config: a good config failed or created its file (exit {rc}):\n{err}")
    print("ok   --check-config: missing directory, missing interface, taken ports refused; "
          "a good config passes and creates nothing")


def test_secrets(stash53, workdir, pcap):
    inline, from_file, from_env, in_url = ("Inl1neSecret", "F1leSecret", "Env1Secret", "Url1Secret")
    port = free_port()
    redis = RedisServer(port, os.path.join(workdir, "redis"), "--requirepass", "theRealOne").start()
    try:
        pw_file = os.path.join(workdir, "redis.password")
        write(pw_file, from_file + "\n")
        conf = os.path.join(workdir, "secrets.yml")
        with open(conf, "w") as f:
            f.write(f"""emitters:
  - {{name: inline, type: redis, port: {port}, password: {inline}}}
  - {{name: file, type: redis, port: {port}, password_file: {pw_file}}}
  - {{name: env, type: redis, port: {port}, password_env: S53_TEST_PW}}
enrich:
  - type: privacy
    addresses: pseudonymize
    key: {"ab" * 32}
""")
        os.chmod(conf, 0o644)  # world-readable, with secrets in it
        env = dict(os.environ, S53_TEST_PW=from_env)
        rc, out, err = run(stash53, ["-c", conf, "-r", pcap, "--print-config"], env=env)
        require(rc == 0, f"print-config: exit {rc}:\n{err}")
        require("world" in err or "every user can read" in err,
                f"no warning about a world-readable config with secrets:\n{err}")
        for s in (inline, from_file, from_env, "ab" * 32):
            require(s not in out and s not in err, f"a secret shows in --print-config: {s}")
        require("password_file: " + pw_file in out and "password_env: S53_TEST_PW" in out,
                "print-config does not say where the secrets come from")
        # A wrong password for real: the refusal is logged, the password is not.
        rc, out, err = run(stash53, ["-c", conf, "-r", pcap, "--drain-ms", "1500", "--log-level", "debug"], env=env)
        require("refused AUTH" in err or "WRONGPASS" in err or "invalid password" in err,
                f"redis refused nothing?\n{err[-2000:]}")
        rc2, _, err2 = run(stash53, ["-r", pcap, "--redis", f"redis://:{in_url}@127.0.0.1:{port}/0?key=x",
                                     "--drain-ms", "1500"])
        rc3, out3, err3 = run(stash53, ["-r", pcap, "--redis", f"http://:{in_url}@127.0.0.1:{port}/0",
                                        "--print-config"])
        for text in (err, err2, err3, out3):
            for s in (inline, from_file, from_env, in_url, "ab" * 32):
                require(s not in text, f"a secret ({s}) shows in a log line or an error:\n{text[-1500:]}")
        require(rc3 == 2 and "http://:********@" in err3, f"a bad URL's error should mask its password:\n{err3}")
        print("ok   secrets (inline, _file, _env, URL, privacy key) appear in no log line, error or "
              "--print-config; the world-readable config is warned about")
    finally:
        redis.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stash53", required=True)
    ap.add_argument("--sample", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--workers", type=int, default=1,
                    help="with more than 1: the reload tests only, with stash53 --workers N")
    a = ap.parse_args()
    fresh_dir(a.workdir)
    header, packets = capture(3000)
    tests = (("reload", test_reload), ("reload_tx", test_reload_transactions),
             ("logrotate", test_logrotate), ("usr1", test_usr1))
    if a.workers > 1:
        WORKERS.extend(["--workers", str(a.workers)])
        tests = tests[:2]
    try:
        for name, fn in tests:
            d = os.path.join(a.workdir, name)
            fresh_dir(d)
            give(d)
            fn(a.stash53, d, header, packets)
        if a.workers > 1:
            return 0
        test_exit_statuses(a.stash53, a.workdir, a.sample)
        test_check_config(a.stash53, a.workdir, a.sample)
        test_secrets(a.stash53, a.workdir, a.sample)
    except Failure as e:
        print(f"FAIL {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
