#!/usr/bin/python3
"""The redis emitter against a real redis-server on a free loopback port.

Usage: test_redis.py --stash53 PATH --pcaps DIR --workdir DIR

(1) lists read back as Logstash's redis input reads them (EVAL lrange + ltrim) equal the events
    `-r` prints on stdout, in order; (2) a `dns:{qtype}` key splits them per type; (3) channel
    mode, read by a subscriber; (4) AUTH with requirepass and with an ACL user, and a wrong
    password: a clear error, the events counted as dropped-error; (5) an outage: redis-server
    killed mid-stream and restarted, every event accounted for by the counters and the missing
    `n` values listed; (6) max_length caps the list.
"""
import json
import os
import subprocess
import sys
import time
from testlib import (Failure, RedisServer, Resp, build_big_pcap, emitter_counters, expected_exit,
                     free_port, require, test_args)

# Logstash's redis input (data_type => list) takes batch_count events at a time, atomically.
LOGSTASH_POP = ("local r = redis.call('lrange', KEYS[1], 0, ARGV[1] - 1); "
                "redis.call('ltrim', KEYS[1], ARGV[1], -1); return r")
BATCH = 125
MIN_MESSAGES = 200_000


def run_stash53(args, stash53, timeout=30):
    p = subprocess.run([stash53, *args], capture_output=True, timeout=timeout)
    stderr = p.stderr.decode(errors="replace")
    want = expected_exit(stderr)
    require(p.returncode == want, f"stash53 {' '.join(args)}: exit {p.returncode}, expected {want}\n{stderr}")
    return p.stdout, stderr


def summary(stderr):
    return emitter_counters(stderr, "redis")


def logstash_read(c, key, limit=10_000_000):
    """Pops the whole list BATCH at a time, as Logstash does; JSON-decodes every element."""
    events = []
    for _ in range(limit // BATCH + 1):
        got = c.cmd("EVAL", LOGSTASH_POP, 1, key, BATCH)
        events += [json.loads(x) for x in got]
        if len(got) < BATCH:
            return events
    raise Failure(f"{key}: more than {limit} events")


def stdout_events(stash53, pcap):
    out, _ = run_stash53(["-r", pcap, "-N", "t1"], stash53)
    events = [json.loads(line) for line in out.splitlines()]
    require(events, f"{pcap}: no events on stdout")
    return events


def case_lists(stash53, pcap, port, c):
    expected = stdout_events(stash53, pcap)
    _, err = run_stash53(["-r", pcap, "-N", "t1", "--redis",
                          f"redis://127.0.0.1:{port}?key=dns:{{nsid}}"], stash53)
    s = summary(err)
    require(s["sent"] == len(expected) and s["dropped_error"] == 0, f"lists: counters {s}")
    require(c.cmd("KEYS", "*") == [b"dns:t1"], f"lists: keys {c.cmd('KEYS', '*')}")
    got = logstash_read(c, "dns:t1")
    require(got == expected, f"lists: {len(got)} events read back differ from the "
            f"{len(expected)} on stdout (first: {got[:1]} vs {expected[:1]})")
    print(f"ok lists: {len(got)} events read back as Logstash does, equal to stdout")
    return expected


def case_key_template(stash53, pcap, port, c, expected):
    run_stash53(["-r", pcap, "-N", "t1", "--redis",
                 f"redis://127.0.0.1:{port}?key=dns:%7Bqtype%7D"], stash53)
    by_type = {}
    for ev in expected:
        by_type.setdefault(f"dns:{ev.get('qtype', '-')}", []).append(ev)
    keys = sorted(k.decode() for k in c.cmd("KEYS", "*"))
    require(keys == sorted(by_type), f"key template: keys {keys}, expected {sorted(by_type)}")
    for key, evs in by_type.items():
        got = logstash_read(c, key)
        require(got == evs, f"key template: {key} holds {[e['n'] for e in got]}, "
                f"expected {[e['n'] for e in evs]}")
    print(f"ok key template: {len(by_type)} lists, one per qtype, in order")


def case_channel(stash53, pcap, port, expected):
    sub = Resp(port)
    try:
        require(sub.cmd("SUBSCRIBE", "dns:t1") == [b"subscribe", b"dns:t1", 1], "subscribe")
        _, err = run_stash53(["-r", pcap, "-N", "t1", "--redis",
                              f"redis://127.0.0.1:{port}?key=dns:{{nsid}}&data_type=channel"], stash53)
        got = []
        for _ in expected:  # bounded by the socket timeout
            kind, channel, data = sub.reply()
            require(kind == b"message" and channel == b"dns:t1", f"channel: got {kind} {channel}")
            got.append(json.loads(data))
    finally:
        sub.close()
    require(got == expected, "channel: published events differ from stdout")
    require(summary(err)["sent"] == len(expected), f"channel: counters {summary(err)}")
    print(f"ok channel: {len(got)} events received by a subscriber")


def case_auth(stash53, pcap, workdir, expected):
    port = free_port()
    server = RedisServer(port, os.path.join(workdir, "auth"), "--requirepass", "s3cret").start()
    try:
        c = Resp(port)
        c.cmd("AUTH", "s3cret")
        c.cmd("ACL", "SETUSER", "sniffer", "on", ">pw:with@odd", "~dns:*", "+rpush", "+ltrim",
              "+ping", "+select")
        # A password with ':' and '@' goes percent-encoded in the URL.
        for who, url in (("requirepass", f"redis://:s3cret@127.0.0.1:{port}/3"),
                         ("ACL user", f"redis://sniffer:pw%3Awith%40odd@127.0.0.1:{port}/3")):
            _, err = run_stash53(["-r", pcap, "-N", "t1", "--redis", url + "?key=dns:{nsid}"],
                                 stash53)
            require(summary(err)["sent"] == len(expected), f"auth {who}: {summary(err)}")
            c.cmd("SELECT", 3)
            got = logstash_read(c, "dns:t1")
            require(got == expected, f"auth {who}: events differ")
            c.cmd("SELECT", 0)
            print(f"ok auth {who}: {len(got)} events delivered")
        _, err = run_stash53(["-r", pcap, "-N", "t1", "--drain-ms", "500", "--redis",
                              f"redis://:wrong@127.0.0.1:{port}"], stash53)
        require("refused AUTH" in err and "WRONGPASS" in err,
                f"wrong password: no clear error on stderr:\n{err}")
        s = summary(err)
        require(s["sent"] == 0 and s["dropped_error"] == len(expected),
                f"wrong password: counters {s}, expected dropped-error={len(expected)}")
        require(c.cmd("DBSIZE") == 0, "wrong password: something was stored")
        line = next(x for x in err.splitlines() if "WRONGPASS" in x)
        print(f"ok auth wrong password: {s['dropped_error']} events dropped-error; {line}")
        c.close()
    finally:
        server.stop()


def case_max_length(stash53, pcap, port, c, expected):
    _, err = run_stash53(["-r", pcap, "-N", "t1", "--redis",
                          f"redis://127.0.0.1:{port}?key=dns:{{nsid}}&max_length=5&batch_size=4"],
                         stash53)
    got = logstash_read(c, "dns:t1")
    require([e["n"] for e in got] == [e["n"] for e in expected[-5:]],
            f"max_length: kept {[e['n'] for e in got]}, expected the newest 5")
    print(f"ok max_length: the newest 5 of {len(expected)} kept")


def case_outage(stash53, pcaps, workdir):
    big = os.path.join(workdir, "big.pcap")
    messages = build_big_pcap(os.path.join(pcaps, "sample-udp4.pcap"), big, MIN_MESSAGES)
    port = free_port()
    # AOF fsynced before each reply: what Redis acknowledged survives the kill.
    args = ("--appendonly", "yes", "--appendfsync", "always")
    server = RedisServer(port, os.path.join(workdir, "outage"), *args).start()
    cfg = os.path.join(workdir, "outage.yml")
    with open(cfg, "w") as f:
        f.write(f"emitters:\n  - type: redis\n    url: redis://127.0.0.1:{port}\n"
                f"    key: dns:out\n    queue_size: 50000\n    when_full: drop\n")
    try:
        got, err = outage_run(stash53, cfg, big, server)
    finally:
        server.stop()
    check_outage(got, err, messages)


def outage_run(stash53, cfg, big, server):
    """Kills redis-server once events arrive, restarts it a second later; returns the n values
    in Redis and stash53's stderr."""
    port = server.port
    proc = subprocess.Popen([stash53, "-c", cfg, "-r", big, "-N", "out"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        c = Resp(port)
        deadline = time.monotonic() + 20
        while c.cmd("LLEN", "dns:out") < 1000:
            require(time.monotonic() < deadline and proc.poll() is None,
                    "outage: the events never reached Redis")
            time.sleep(0.002)
        c.close()
        server.kill()
        killed_at = time.monotonic()
        time.sleep(1)
        server.start()
        print(f"outage: redis-server killed, back after {time.monotonic() - killed_at:.1f} s")
        _, err = proc.communicate(timeout=30)
        err = err.decode(errors="replace")
        require(proc.returncode == expected_exit(err), f"outage: stash53 exit {proc.returncode}\n{err}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    c = Resp(port)
    got = [ev["n"] for ev in logstash_read(c, "dns:out")]
    c.close()
    return got, err


def check_outage(got, err, messages):
    s = summary(err)
    print(f"outage: {s}; {len(got)} events in Redis")
    require(s["emitted"] == messages, f"outage: emitted {s['emitted']} of {messages}")
    require(s["reconnects"] >= 1, "outage: the emitter never reconnected; the kill came too late")
    require(all(isinstance(n, int) and 1 <= n <= messages for n in got), "outage: a bad n")
    distinct = set(got)
    # At least once: a pipelined command in flight at the kill may be stored and sent again.
    print(f"outage: {len(got) - len(distinct)} duplicates (resent after the kill)")
    require(s["sent"] == len(distinct), f"outage: sent={s['sent']} but {len(distinct)} in Redis")
    require(s["queued"] - s["sent"] == s["dropped_error"], f"outage: queued - sent != dropped-error: {s}")
    require(s["dropped_full"] + s["dropped_error"] + s["sent"] == s["emitted"],
            f"outage: dropped-full + dropped-error + sent != emitted: {s}")
    missing = sorted(set(range(1, messages + 1)) - distinct)
    require(len(missing) == s["dropped_full"] + s["dropped_error"],
            f"outage: {len(missing)} n missing, counters say {s['dropped_full'] + s['dropped_error']}")
    runs, start = [], None
    for i, n in enumerate(missing):
        if start is None:
            start = n
        if i + 1 == len(missing) or missing[i + 1] != n + 1:
            runs.append(f"{start}-{n}" if n != start else str(n))
            start = None
    print(f"ok outage: {len(missing)} missing n (= dropped-full + dropped-error) in "
          f"{len(runs)} runs: {', '.join(runs[:20])}{' ...' if len(runs) > 20 else ''}")


def main():
    a = test_args(60, "--pcaps")
    pcap = os.path.join(a.pcaps, "sample-udp4.pcap")
    port = free_port()
    server = RedisServer(port, os.path.join(a.workdir, "plain"), "--appendonly", "no")
    try:
        server.start()
        c = Resp(port)
        expected = case_lists(a.stash53, pcap, port, c)
        case_key_template(a.stash53, pcap, port, c, expected)
        case_channel(a.stash53, pcap, port, expected)
        case_max_length(a.stash53, pcap, port, c, expected)
        c.close()
        server.stop()
        case_auth(a.stash53, pcap, a.workdir, expected)
        case_outage(a.stash53, a.pcaps, a.workdir)
    except (Failure, subprocess.TimeoutExpired, OSError) as e:
        print(f"FAIL: {e}", file=sys.stderr)
        return 1
    finally:
        server.stop()
    print("ok: redis emitter")
    return 0


if __name__ == "__main__":
    sys.exit(main())
