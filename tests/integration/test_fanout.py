#!/usr/bin/python3
"""Three emitters at once: redis, zmq and mqtt fed from one stash53, each to a real server.

Usage: test_fanout.py --stash53 PATH --sample PCAP --pcaps DIR --workdir DIR

(1) Same events: one run with --stdout, --redis, --zmq and --mqtt (QoS 1); the Redis list, a
    ZeroMQ SUB and mosquitto_sub each hold exactly the events printed on stdout.
(2) A dead server delays nobody: the test writes a capture to stash53's stdin at a steady pace,
    noting when it wrote each packet, and kills one server (redis-server, then in a second run
    mosquitto) by PID a third of the way in. The other two destinations still receive every
    event, each within MAX_LATENCY_S of the test writing its packet; the dead one's emitter
    drops what its small queue cannot hold (when_full=drop) and accounts for every event.
"""
import argparse
import json
import os
import struct
import subprocess
import sys
import threading
import time

import zmq
from testlib import (Broker, expected_exit, Failure, RedisServer, Resp, emitter_counters, free_port, require,
                     stop_sub, subscribe)

PACKETS = 1500           # written to stdin over PACKETS / RATE seconds
RATE = 500               # packets per second
KILL_AT = PACKETS // 3   # the server dies after this packet
MAX_LATENCY_S = 1.0      # a stalled emitter would hold events for seconds (timeouts, backoff)


def read_pcap(path):
    """(global header, [record bytes]) of a classic pcap file."""
    with open(path, "rb") as f:
        data = f.read()
    require(data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"), f"{path}: not little-endian pcap")
    records, off = [], 24
    while off + 16 <= len(data):
        caplen = struct.unpack_from("<I", data, off + 8)[0]
        records.append(data[off:off + 16 + caplen])
        off += 16 + caplen
    return data[:24], records


class ZmqCollector(threading.Thread):
    """A SUB bound on a free port, recording (receive time, event) until stopped."""

    def __init__(self, ctx):
        super().__init__(daemon=True)
        self.sub = ctx.socket(zmq.SUB)
        self.sub.linger = 0
        self.sub.setsockopt(zmq.SUBSCRIBE, b"")
        self.sub.bind("tcp://127.0.0.1:*")
        self.port = int(self.sub.getsockopt_string(zmq.LAST_ENDPOINT).rsplit(":", 1)[1])
        self.got, self.done = [], threading.Event()

    def run(self):
        while not self.done.is_set():
            if self.sub.poll(100):
                topic, body = self.sub.recv_multipart()
                self.got.append((time.time(), topic.decode(), json.loads(body)))
        self.sub.close()

    def stop(self):
        self.done.set()
        self.join(10)
        return self.got


class RedisChannelCollector(threading.Thread):
    """SUBSCRIBE to one channel, recording (receive time, event)."""

    def __init__(self, port, channel):
        super().__init__(daemon=True)
        self.conn = Resp(port, timeout=0.2)
        reply = self.conn.cmd("SUBSCRIBE", channel)
        require(reply[0] == b"subscribe", f"SUBSCRIBE {channel}: {reply!r}")
        self.got, self.done = [], threading.Event()

    def run(self):
        while not self.done.is_set():
            try:
                kind, _, body = self.conn.reply()
            except (OSError, Failure):  # a timeout between messages, or the server killed
                continue
            if kind == b"message":
                self.got.append((time.time(), json.loads(body)))

    def stop(self):
        self.done.set()
        self.join(10)
        self.conn.close()
        return self.got


def mqtt_events(lines):
    """mosquitto_sub -F '%U %t %p' lines → [(receive time, topic, event)]."""
    out = []
    for line in lines:
        t, topic, body = line.decode().split(" ", 2)
        out.append((float(t), topic, json.loads(body)))
    return out


def case_same_events(a, redis, broker, ctx):
    ref = subprocess.run([a.stash53, "-N", "fan", "-r", a.sample], capture_output=True, timeout=30,
                         check=True).stdout
    expected = [json.loads(line) for line in ref.splitlines()]
    require(len(expected) > 10, f"{a.sample}: only {len(expected)} events")

    zsub = ZmqCollector(ctx)
    zsub.start()
    mout = os.path.join(a.workdir, "same.mqtt")
    msub = subscribe(broker.port, "dns/#", mout, extra=("-F", "%U %t %p"))
    try:
        p = subprocess.run(
            [a.stash53, "-N", "fan", "-r", a.sample, "--stdout",
             "--redis", f"redis://127.0.0.1:{redis.port}?key=dns:{{nsid}}",
             "--zmq", f"tcp://127.0.0.1:{zsub.port}?topic=dns.{{qtype}}",
             "--mqtt", f"tcp://127.0.0.1:{broker.port}?topic=dns/{{nsid}}/{{qtype}}&qos=1"],
            capture_output=True, timeout=60)
        require(p.returncode == 0, f"stash53 exited {p.returncode}: {p.stderr.decode()[-2000:]}")
        stdout = [json.loads(line) for line in p.stdout.splitlines()]
        require(stdout == expected, "--stdout beside three emitters differs from a plain run")
        mqtt = mqtt_events(stop_sub(msub, mout, len(expected)))
        time.sleep(0.3)  # ZeroMQ delivered before stash53 exited (linger); let the thread read
    finally:
        zmq_got = zsub.stop()
        if msub.poll() is None:
            msub.kill()
    c = Resp(redis.port)
    listed = [json.loads(x) for x in c.cmd("LRANGE", "dns:fan", 0, -1)]
    c.cmd("DEL", "dns:fan")
    c.close()
    require(listed == expected, f"redis list: {len(listed)} events, not the {len(expected)} of stdout")
    require([e for _, _, e in zmq_got] == expected,
            f"zmq: {len(zmq_got)} events, not the {len(expected)} of stdout")
    require(all(t == f"dns.{e['qtype']}" for _, t, e in zmq_got if "qtype" in e), "zmq topics")
    require(sorted((e for _, _, e in mqtt), key=lambda e: e["n"]) == expected,
            f"mqtt: {len(mqtt)} events, not the {len(expected)} of stdout")
    require(all(t == f"dns/fan/{e['qtype']}" for _, t, e in mqtt if "qtype" in e), "mqtt topics")
    print(f"ok   same events: stdout, redis list, zmq and mqtt each got all {len(expected)}")


def paced_run(a, name, args, victim):
    """Feeds PACKETS packets to stash53's stdin at RATE per second and kills `victim` after
    KILL_AT of them. Returns (write times by n, kill time, stderr)."""
    header, records = read_pcap(os.path.join(a.pcaps, "sample-udp4.pcap"))
    err = open(os.path.join(a.workdir, f"{name}.err"), "wb")
    p = subprocess.Popen([a.stash53, "-N", "fan", "-r", "-", "--drain-ms", "1000", *args],
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err)
    written, killed_at = {}, None
    try:
        p.stdin.write(header)
        start = time.time()
        for i in range(PACKETS):
            # Each packet of sample-udp4 is one DNS message, so packet i becomes event n = i + 1.
            delay = start + i / RATE - time.time()
            if delay > 0:
                time.sleep(delay)
            p.stdin.write(records[i % len(records)])
            p.stdin.flush()
            written[i + 1] = time.time()
            if i + 1 == KILL_AT:
                victim.kill()
                killed_at = time.time()
        p.stdin.close()
        p.wait(timeout=30)
        err_text = open(err.name, errors="replace").read()
        # The victim drops events: exit 3, as documented.
        require(p.returncode == expected_exit(err_text) == 3, f"{name}: stash53 exited {p.returncode}")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    return written, killed_at, open(err.name, errors="replace").read()


def check_survivor(label, got, written, killed_at):
    by_n = {}
    for t, e in got:
        by_n.setdefault(e["n"], t)  # at-least-once: a repeat does not count twice
    missing = sorted(set(written) - set(by_n))
    require(not missing, f"{label}: {len(missing)} events missing, first n={missing[:5]}")
    late = [(n, by_n[n] - written[n]) for n in written if written[n] > killed_at]
    worst = max(late, key=lambda x: x[1])
    require(worst[1] < MAX_LATENCY_S,
            f"{label}: event n={worst[0]} arrived {worst[1]:.3f} s after its packet, after the kill")
    lat = sorted(d for _, d in late)
    return f"{label} all {len(written)}, after the kill median {lat[len(lat) // 2] * 1000:.1f} ms, " \
           f"max {worst[1] * 1000:.1f} ms"


def check_victim(label, c):
    require(c["queued"] + c["dropped_full"] == PACKETS, f"{label}: queued+dropped-full {c} != {PACKETS}")
    require(c["sent"] + c["dropped_error"] == c["queued"], f"{label}: sent+dropped-error != queued: {c}")
    require(c["dropped_full"] > 0, f"{label}: its queue of 200 never filled after the kill: {c}")
    require(c["sent"] >= KILL_AT - 200, f"{label}: only {c['sent']} sent before the kill")


def case_redis_dies(a, ctx):
    redis = RedisServer(free_port(), os.path.join(a.workdir, "redis-dies")).start()
    broker = Broker(a.workdir, "redis-dies")
    zsub = ZmqCollector(ctx)
    zsub.start()
    mout = os.path.join(a.workdir, "redis-dies.mqtt")
    msub = subscribe(broker.port, "dns/#", mout, extra=("-F", "%U %t %p"))
    try:
        written, killed_at, err = paced_run(a, "redis-dies", [
            "--redis", f"redis://127.0.0.1:{redis.port}?queue_size=200&when_full=drop",
            "--zmq", f"tcp://127.0.0.1:{zsub.port}",
            "--mqtt", f"tcp://127.0.0.1:{broker.port}?qos=1"], redis)
        mqtt = mqtt_events(stop_sub(msub, mout, PACKETS))
    finally:
        zmq_got = zsub.stop()
        if msub.poll() is None:
            msub.kill()
        redis.stop()
        broker.stop()
    z = check_survivor("zmq", [(t, e) for t, _, e in zmq_got], written, killed_at)
    m = check_survivor("mqtt", [(t, e) for t, _, e in mqtt], written, killed_at)
    r = emitter_counters(err, "redis")
    check_victim("redis", r)
    print(f"ok   redis-server killed: {z}; {m}; redis sent={r['sent']} dropped-full={r['dropped_full']} "
          f"dropped-error={r['dropped_error']}")


def case_mosquitto_dies(a, ctx):
    redis = RedisServer(free_port(), os.path.join(a.workdir, "mqtt-dies")).start()
    broker = Broker(a.workdir, "mqtt-dies")
    zsub = ZmqCollector(ctx)
    zsub.start()
    rsub = RedisChannelCollector(redis.port, "dns:fan")
    rsub.start()
    try:
        written, killed_at, err = paced_run(a, "mqtt-dies", [
            "--redis", f"redis://127.0.0.1:{redis.port}?data_type=channel",
            "--zmq", f"tcp://127.0.0.1:{zsub.port}",
            "--mqtt", f"tcp://127.0.0.1:{broker.port}?qos=1&queue_size=200&when_full=drop"],
            broker.proc)
        time.sleep(0.3)
    finally:
        zmq_got = zsub.stop()
        redis_got = rsub.stop()
        redis.stop()
        broker.stop()
    z = check_survivor("zmq", [(t, e) for t, _, e in zmq_got], written, killed_at)
    r = check_survivor("redis channel", redis_got, written, killed_at)
    m = emitter_counters(err, "mqtt")
    check_victim("mqtt", m)
    print(f"ok   mosquitto killed: {z}; {r}; mqtt sent={m['sent']} dropped-full={m['dropped_full']} "
          f"dropped-error={m['dropped_error']}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stash53", required=True)
    ap.add_argument("--sample", required=True)
    ap.add_argument("--pcaps", required=True)
    ap.add_argument("--workdir", required=True)
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    ctx = zmq.Context()
    try:
        redis = RedisServer(free_port(), os.path.join(a.workdir, "same")).start()
        broker = Broker(a.workdir, "same")
        try:
            case_same_events(a, redis, broker, ctx)
        finally:
            redis.stop()
            broker.stop()
        case_redis_dies(a, ctx)
        case_mosquitto_dies(a, ctx)
    except (Failure, subprocess.SubprocessError, OSError) as e:
        print(f"FAIL: {e}")
        return 1
    finally:
        ctx.term()
    return 0


if __name__ == "__main__":
    sys.exit(main())
