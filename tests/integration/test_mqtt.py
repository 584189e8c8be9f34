#!/usr/bin/python3
"""The mqtt emitter against a real mosquitto broker and mosquitto_sub subscribers.

Usage: test_mqtt.py --stash53 PATH --pcaps DIR --workdir DIR

(1) --mqtt tcp://...?topic=dns/{nsid}/{qtype}&qos=1: every event arrives once, on its topic,
    equal to what stash53 prints on stdout.
(2) A password file: the right user gets through; a wrong password is refused with a clear
    error and the events counted as dropped.
(3) TLS with a CA made at test time: delivered with ca_file; a server certificate from another
    CA is refused (verification is on by default).
(4) Last will: stash53 killed with SIGKILL leaves `offline` retained on its status topic.
(5) The broker stopped and restarted mid-stream at QoS 1: what the subscriber gets (by unique
    event number n) plus what stash53 counts as dropped equals what it emitted; nothing dropped.
(6) events_per_message=10: NDJSON payloads carrying every event.
Each broker runs from WORKDIR on a free 127.0.0.1 port and is stopped by PID at the end.
"""
import argparse
import json
import os
import signal
import struct
import subprocess
import sys
import time
from testlib import (Broker, Failure, emitter_counters, free_port, make_ca, make_server_cert,
                     require, stop_sub, subscribe)

RESTART_MESSAGES = 30_000  # enough to be mid-stream when the broker stops, yet well under 90 s


def run_stash53(args, url, *extra, timeout=60):
    r = subprocess.run([args.stash53, "-N", "t", "--mqtt", url, *extra], capture_output=True,
                       timeout=timeout)
    return r, emitter_counters(r.stderr.decode(errors="replace"), "mqtt")


def stdout_events(args, pcap):
    r = subprocess.run([args.stash53, "-N", "t", "-r", pcap], capture_output=True, check=True,
                       timeout=60)
    return r.stdout.decode().splitlines()


def split_v(line):
    topic, _, payload = line.decode().partition(" ")
    return topic, payload


def case_delivery(args, broker, pcap, expected):
    out = os.path.join(args.workdir, "sub1.txt")
    sub = subscribe(broker.port, "dns/#", out)
    _, c = run_stash53(args, f"tcp://127.0.0.1:{broker.port}?topic=dns/{{nsid}}/{{qtype}}&qos=1",
                       "-r", pcap)
    got = stop_sub(sub, out, len(expected))
    require(c["sent"] == len(expected) and c["dropped_error"] == 0, f"(1) counters {c}")
    payloads = []
    for line in got:
        topic, payload = split_v(line)
        ev = json.loads(payload)
        require(topic == f"dns/t/{ev.get('qtype', '-')}", f"(1) event on topic {topic}: {payload}")
        payloads.append(payload)
    require(payloads == expected,
            f"(1) {len(payloads)} events received, {len(expected)} expected, or they differ")
    print(f"ok (1) delivery: {len(payloads)} events, topics and JSON equal to stdout")


def case_password(args, pcap, expected):
    pwfile = os.path.join(args.workdir, "passwd")
    subprocess.run(["mosquitto_passwd", "-b", "-c", pwfile, "sensor", "s3cret"], check=True)
    os.chmod(pwfile, 0o600)
    broker = Broker(args.workdir, "auth", f"allow_anonymous false\npassword_file {pwfile}\n")
    try:
        out = os.path.join(args.workdir, "sub2.txt")
        sub = subscribe(broker.port, "dns/#", out, probe_args=("-u", "sensor", "-P", "s3cret"))
        _, c = run_stash53(args, f"tcp://sensor:s3cret@127.0.0.1:{broker.port}?qos=1", "-r", pcap)
        got = stop_sub(sub, out, len(expected))
        require(len(got) == len(expected) and c["sent"] == len(expected),
                f"(2) right password: {len(got)} received, counters {c}")
        for url, label in ((f"tcp://sensor:wrong@127.0.0.1:{broker.port}", "wrong password"),
                           (f"tcp://127.0.0.1:{broker.port}", "anonymous")):
            r, c = run_stash53(args, url, "-r", pcap, "--drain-ms", "1500")
            err = r.stderr.decode()
            require(c["sent"] == 0 and c["dropped_error"] == len(expected),
                    f"(2) {label}: counters {c}")
            require("refused the login" in err and "check username and password" in err,
                    f"(2) {label}: no clear error in: {err[-1500:]}")
        print("ok (2) password: delivered with the right one; wrong and anonymous refused clearly")
    finally:
        broker.stop()


def case_tls(args, pcap, expected):
    d = args.workdir
    ca_key, ca_crt = make_ca(d, "test-ca")
    _, other_crt = make_ca(d, "other-ca")
    key, crt = make_server_cert(d, ca_key, ca_crt)
    plain_port = free_port()
    broker = Broker(d, "tls", f"cafile {ca_crt}\ncertfile {crt}\nkeyfile {key}\nallow_anonymous "
                              f"true\nlistener {plain_port} 127.0.0.1\n")
    try:
        out = os.path.join(d, "sub3.txt")
        sub = subscribe(plain_port, "dns/#", out)
        _, c = run_stash53(args, f"ssl://127.0.0.1:{broker.port}?qos=1&ca_file={ca_crt}", "-r", pcap)
        got = stop_sub(sub, out, len(expected))
        require(len(got) == len(expected) and c["sent"] == len(expected),
                f"(3) TLS: {len(got)} received, counters {c}")
        r, c = run_stash53(args, f"ssl://127.0.0.1:{broker.port}?ca_file={other_crt}", "-r", pcap,
                           "--drain-ms", "1500")
        require(c["sent"] == 0 and c["dropped_error"] == len(expected),
                f"(3) a server cert from another CA was accepted: {c}")
        require("Cannot connect" in r.stderr.decode(), "(3) no connect error logged")
        print("ok (3) TLS: delivered with ca_file; another CA's server certificate refused")
    finally:
        broker.stop()


def case_last_will(args, broker, pcap):
    status = "stash53/status/test-will"
    with open(pcap, "rb") as f:
        data = f.read()
    proc = subprocess.Popen([args.stash53, "-N", "t", "-r", "-", "--mqtt",
                             f"tcp://127.0.0.1:{broker.port}?status_topic={status}&flush_ms=0"],
                            stdin=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        proc.stdin.write(data)  # the events make it connect; the open pipe keeps it running
        proc.stdin.flush()

        def retained():
            r = subprocess.run(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(broker.port), "-t",
                                status, "-C", "1", "-W", "2"], capture_output=True, timeout=10)
            return r.stdout.decode().strip()

        deadline = time.monotonic() + 10
        while retained() != "online":
            require(time.monotonic() < deadline, "(4) never saw the retained online status")
        proc.send_signal(signal.SIGKILL)
        proc.wait(5)
        deadline = time.monotonic() + 10
        while (state := retained()) != "offline":
            require(time.monotonic() < deadline, f"(4) status still {state!r} after SIGKILL")
        print("ok (4) last will: online while running, offline retained after SIGKILL")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def repeat_pcap(sample, out, messages):
    """Copies of the sample's records, copy k shifted by k seconds, until there are `messages`."""
    with open(sample, "rb") as f:
        data = f.read()
    endian = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
    records, off = [], 24
    while off < len(data):
        sec, usec, incl, orig = struct.unpack(endian + "IIII", data[off:off + 16])
        records.append((sec, usec, incl, orig, data[off + 16:off + 16 + incl]))
        off += 16 + incl
    with open(out, "wb") as f:
        f.write(data[:24])
        for k in range(-(-messages // len(records))):
            for sec, usec, incl, orig, frame in records:
                f.write(struct.pack(endian + "IIII", sec + k, usec, incl, orig) + frame)


def case_broker_restart(args, sample):
    d = args.workdir
    broker = Broker(d, "restart", f"persistence true\npersistence_location {d}/\n"
                                  "persistence_file restart.db\n")
    try:
        big = os.path.join(d, "restart.pcap")
        repeat_pcap(sample, big, RESTART_MESSAGES)
        out = os.path.join(d, "sub5.txt")
        # A persistent session (-c -i) keeps what the broker queued while the subscriber was away.
        sub = subscribe(broker.port, "dns/#", out, extra=("-c", "-i", "test-mqtt-sub5"))
        proc = subprocess.Popen([args.stash53, "-N", "t", "-r", big, "--mqtt",
                                 f"tcp://127.0.0.1:{broker.port}?qos=1&queue_size=1000000"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while os.path.getsize(out) < 200_000:  # mid-stream
            require(time.monotonic() < deadline and proc.poll() is None,
                    "(5) stash53 never got going or finished before the restart")
            time.sleep(0.05)
        broker.stop()
        time.sleep(1)
        broker.start()
        _, err = proc.communicate(timeout=60)
        c = emitter_counters(err.decode(errors="replace"), "mqtt")
        emitted, dropped, reconnects = c["emitted"], c["dropped_error"], c["reconnects"]
        got = stop_sub(sub, out, emitted, settle=20)
        ns = {json.loads(split_v(l)[1])["n"] for l in got}
        require(reconnects >= 1, f"(5) the restart went unnoticed: reconnects={reconnects}")
        require(len(ns) + dropped == emitted,
                f"(5) received {len(ns)} distinct + dropped {dropped} != emitted {emitted}")
        require(dropped == 0, f"(5) {dropped} events dropped with a queue large enough")
        print(f"ok (5) broker restart: {emitted} emitted, {len(ns)} distinct received "
              f"({len(got) - len(ns)} duplicates, at least once), {reconnects} reconnects")
    finally:
        broker.stop()


def case_packed(args, broker, pcap, expected):
    out = os.path.join(args.workdir, "sub6.txt")
    sub = subscribe(broker.port, "dns/#", out)
    # flush_ms: all 14 events in one batch, so each topic is exactly one message.
    _, c = run_stash53(args, f"tcp://127.0.0.1:{broker.port}?qos=1&events_per_message=10&flush_ms=500",
                       "-r", pcap)
    require(c["sent"] == len(expected), f"(6) counters {c}")
    # mosquitto_sub prints a payload's newlines as they are: a topic starts each message.
    got = stop_sub(sub, out, len(expected))
    messages = []  # [topic, [event, ...]]
    for line in got:
        if line.startswith(b"dns/"):
            topic, first = split_v(line)
            messages.append([topic, [first]])
        else:
            require(messages, f"(6) a payload line before any topic: {line[:80]!r}")
            messages[-1][1].append(line.decode())
    events = [json.loads(e) for _, evs in messages for e in evs]
    want = [json.loads(e) for e in expected]
    # A batch is packed per topic, so only each topic keeps its order: compare by n.
    require(sorted(events, key=lambda e: e["n"]) == want,
            f"(6) {len(events)} events in NDJSON, {len(expected)} expected")
    require(all(len(evs) <= 10 for _, evs in messages), "(6) a message of more than 10 events")
    require(all(t == f"dns/t/{json.loads(e)['qtype']}" for t, evs in messages for e in evs),
            "(6) an event packed under another topic")
    require(len(messages) == len({t for t, _ in messages}),
            f"(6) {len(messages)} messages for {len({t for t, _ in messages})} topics: not packed by topic")
    print(f"ok (6) events_per_message=10: {len(events)} events in {len(messages)} NDJSON messages, one per topic")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--stash53", required=True)
    p.add_argument("--pcaps", required=True)
    p.add_argument("--workdir", required=True)
    args = p.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(Failure("over 90 s")))
    signal.alarm(90)
    pcap = os.path.join(args.pcaps, "sample-udp4.pcap")
    expected = stdout_events(args, pcap)
    require(len(expected) > 0, f"{pcap}: no events on stdout")
    broker = Broker(args.workdir, "main")
    try:
        case_delivery(args, broker, pcap, expected)
        case_password(args, pcap, expected)
        case_tls(args, pcap, expected)
        case_last_will(args, broker, pcap)
        case_broker_restart(args, pcap)
        case_packed(args, broker, pcap, expected)
    except Failure as e:
        print(f"FAIL {e}", file=sys.stderr)
        return 1
    finally:
        broker.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
