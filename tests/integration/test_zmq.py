#!/usr/bin/python3
"""ZeroMQ emitter against real pyzmq subscribers on loopback.

Usage: test_zmq.py --stash53 PATH --pcaps DIR --workdir DIR

stash53 reads DIR/sample-udp4.pcap with --stdout and a zmq emitter at once, so the stdout
events are the expected ones:
(a) connect mode: a SUB bound on a free port gets every event, in order, equal to stdout, as
    [topic, json] with topic dns.<qtype> (stash53 waits for the first subscription, option
    wait_subscriber_ms, so nothing is sent before the subscriber is there);
(b) a "dns.A" subscription gets exactly the events whose topic starts with "dns.A" (ZeroMQ
    prefix matching: AAAA too);
(c) bind mode (bind=1): a connecting SUB gets every event;
(d) events_per_message=5: each message is NDJSON of 1..5 events of its topic, 5 at most;
(e) CURVE: an allowed client gets every event, a client with an unknown key is refused by ZAP
    and gets nothing;
(f) an unknown URL parameter is a config error (exit status 2).
"""
import argparse
import json
import os
import subprocess
import sys
import threading
import time

import zmq
import zmq.utils.monitor
from testlib import Failure, require, free_port

RUN_TIMEOUT_S = 20


def bound_sub(ctx, prefix=b"", curve=None):
    """A SUB bound on a free loopback port; returns (socket, port)."""
    sub = ctx.socket(zmq.SUB)
    sub.linger = 0
    if curve:
        sub.curve_serverkey, sub.curve_publickey, sub.curve_secretkey = curve
    sub.setsockopt(zmq.SUBSCRIBE, prefix)
    sub.bind("tcp://127.0.0.1:*")
    return sub, int(sub.getsockopt_string(zmq.LAST_ENDPOINT).rsplit(":", 1)[1])


def start(args, workdir, label, extra):
    out = open(os.path.join(workdir, label + ".out"), "wb")
    err = open(os.path.join(workdir, label + ".err"), "wb")
    cmd = [args.stash53, "-r", os.path.join(args.pcaps, "sample-udp4.pcap"), "--stdout"] + extra
    return subprocess.Popen(cmd, stdout=out, stderr=err), out.name, err.name


def collect(proc, subs, monitor=None):
    """Receives from every SUB until stash53 has exited and all are quiet; returns the
    messages per SUB and the monitor events seen."""
    got = {s: [] for s in subs}
    events = []
    poller = zmq.Poller()
    for s in subs + ([monitor] if monitor else []):
        poller.register(s, zmq.POLLIN)
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline:
        exited = proc.poll() is not None
        ready = dict(poller.poll(300))
        if not ready and exited:
            return got, events
        for s in ready:
            if s is monitor:
                events.append(zmq.utils.monitor.recv_monitor_message(s)["event"])
            else:
                got[s].append(s.recv_multipart())
    proc.kill()
    raise Failure(f"stash53 still running or still sending after {RUN_TIMEOUT_S} s")


def finish(proc, out, err, label):
    require(proc.wait(timeout=10) == 0, f"{label}: stash53 exited {proc.returncode}: "
            + open(err, errors="replace").read()[-2000:])
    with open(out, "rb") as f:
        events = [json.loads(line) for line in f]
    require(events, f"{label}: no events on stdout")
    return events


def topic_of(ev):
    return "dns." + ev.get("qtype", "-")


def check_messages(label, msgs, expected):
    require(len(msgs) == len(expected), f"{label}: {len(msgs)} messages for {len(expected)} events")
    for i, (msg, ev) in enumerate(zip(msgs, expected)):
        require(len(msg) == 2, f"{label}: message {i} has {len(msg)} frames, not 2")
        require(json.loads(msg[1]) == ev, f"{label}: message {i} differs from stdout event {i}")
        require(msg[0].decode() == topic_of(ev),
                f"{label}: message {i} topic {msg[0]!r}, expected {topic_of(ev)!r}")


def test_connect_and_prefix(args, ctx):
    all_sub, port = bound_sub(ctx)
    a_sub, port_a = bound_sub(ctx, b"dns.A")
    url = f"tcp://127.0.0.1:{port}?topic=dns.{{qtype}}"
    url_a = f"tcp://127.0.0.1:{port_a}?topic=dns.{{qtype}}"
    proc, out, err = start(args, args.workdir, "connect", ["--zmq", url, "--zmq", url_a])
    got, _ = collect(proc, [all_sub, a_sub])
    events = finish(proc, out, err, "connect")
    check_messages("connect", got[all_sub], events)
    prefixed = [ev for ev in events if topic_of(ev).startswith("dns.A")]
    qtypes = {ev.get("qtype") for ev in prefixed}
    require(len(prefixed) < len(events), "prefix: the sample has no event outside dns.A*")
    require("A" in qtypes and len(qtypes) > 1,
            f"prefix: the sample should have A and longer dns.A* types, has {qtypes}")
    check_messages("prefix dns.A", got[a_sub], prefixed)
    print(f"ok connect: {len(events)} events; prefix dns.A: {len(prefixed)} ({sorted(qtypes)})")
    all_sub.close()
    a_sub.close()


def test_bind(args, ctx):
    port = free_port()
    url = f"tcp://127.0.0.1:{port}?bind=1&topic=dns.{{qtype}}&wait_subscriber_ms=10000"
    proc, out, err = start(args, args.workdir, "bind", ["--zmq", url])
    sub = ctx.socket(zmq.SUB)
    sub.linger = 0
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.connect(f"tcp://127.0.0.1:{port}")  # retried by libzmq until stash53 has bound
    got, _ = collect(proc, [sub])
    events = finish(proc, out, err, "bind")
    check_messages("bind", got[sub], events)
    print(f"ok bind: {len(events)} events")
    sub.close()


def test_events_per_message(args, ctx):
    sub, port = bound_sub(ctx)
    url = f"tcp://127.0.0.1:{port}?topic=dns.{{nsid}}&events_per_message=5"
    proc, out, err = start(args, args.workdir, "per_message", ["--zmq", url])
    got, _ = collect(proc, [sub])
    events = finish(proc, out, err, "per_message")
    received, sizes = [], []
    for i, (topic, body) in enumerate(got[sub]):
        require(body.endswith(b"\n"), f"per_message: message {i} is not newline-terminated NDJSON")
        lines = [json.loads(line) for line in body.split(b"\n")[:-1]]
        require(1 <= len(lines) <= 5, f"per_message: message {i} holds {len(lines)} events")
        for ev in lines:
            require(topic.decode() == "dns." + ev["nsid"],
                    f"per_message: message {i} topic {topic!r} holds nsid {ev['nsid']}")
        received += lines
        sizes.append(len(lines))
    require(received == events, "per_message: the events differ from stdout")
    require(max(sizes) == 5, f"per_message: no message holds 5 events (sizes {set(sizes)})")
    print(f"ok events_per_message=5: {len(events)} events in {len(sizes)} messages")
    sub.close()


def test_curve(args, ctx):
    server_pub, server_sec = zmq.curve_keypair()
    good_pub, good_sec = zmq.curve_keypair()
    bad_pub, bad_sec = zmq.curve_keypair()
    good, port_good = bound_sub(ctx, curve=(server_pub, good_pub, good_sec))
    bad, port_bad = bound_sub(ctx, curve=(server_pub, bad_pub, bad_sec))
    monitor = bad.get_monitor_socket(zmq.EVENT_HANDSHAKE_FAILED_AUTH)
    config = os.path.join(args.workdir, "curve.yml")
    with open(config, "w") as f:
        json.dump({"emitters": [{
            "name": "zmq", "type": "zmq", "topic": "dns.{qtype}",
            "connect": [f"tcp://127.0.0.1:{port_good}", f"tcp://127.0.0.1:{port_bad}"],
            "curve": {"secret_key": server_sec.decode(), "public_key": server_pub.decode(),
                      "allowed_clients": [good_pub.decode()]},
        }, {"name": "console", "type": "stdout"}]}, f)  # JSON is YAML; stdout gives the expected
    out = os.path.join(args.workdir, "curve.out")
    err = os.path.join(args.workdir, "curve.err")
    # The capture goes in through stdin, held open until the unknown client's handshake has
    # been refused (bounded): read from a file, stash53 could finish before that handshake.
    with open(out, "wb") as o, open(err, "wb") as e:
        proc = subprocess.Popen([args.stash53, "-c", config, "-r", "-"], stdin=subprocess.PIPE,
                                stdout=o, stderr=e)
    with open(os.path.join(args.pcaps, "sample-udp4.pcap"), "rb") as f:
        proc.stdin.write(f.read())
    proc.stdin.flush()

    def close_after_refusal():
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and b"Refused CURVE client" not in open(err, "rb").read():
            time.sleep(0.05)
        proc.stdin.close()
    closer = threading.Thread(target=close_after_refusal, daemon=True)
    closer.start()
    got, mon_events = collect(proc, [good, bad], monitor)
    closer.join(15)
    events = finish(proc, out, err, "curve")
    check_messages("curve allowed client", got[good], events)
    require(not got[bad], f"curve: the unknown client received {len(got[bad])} messages")
    refused = f"Refused CURVE client {bad_pub.decode()}" in open(err, errors="replace").read()
    require(refused or zmq.EVENT_HANDSHAKE_FAILED_AUTH in mon_events,
            "curve: the unknown client was never refused (no handshake took place?)")
    print(f"ok curve: allowed client {len(events)} events, unknown client refused, 0 events")
    bad.disable_monitor()
    monitor.close()
    good.close()
    bad.close()


def test_bad_option(args):
    r = subprocess.run([args.stash53, "-r", os.path.join(args.pcaps, "sample-udp4.pcap"),
                        "--zmq", "tcp://127.0.0.1:9?bogus=1"], capture_output=True, timeout=10)
    require(r.returncode == 2 and b"bogus" in r.stderr,
            f"bad option: exit {r.returncode}, stderr {r.stderr[-500:]!r}")
    print("ok unknown URL parameter rejected")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--stash53", required=True)
    p.add_argument("--pcaps", required=True)
    p.add_argument("--workdir", required=True)
    args = p.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    ctx = zmq.Context()
    try:
        test_connect_and_prefix(args, ctx)
        test_bind(args, ctx)
        test_events_per_message(args, ctx)
        test_curve(args, ctx)
        test_bad_option(args)
    except Failure as e:
        print(f"FAIL: {e}", file=sys.stderr)
        return 1
    finally:
        ctx.destroy(linger=0)
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
