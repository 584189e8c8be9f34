#!/usr/bin/env python3
"""dnstap input against its oracles.

1. Every file under ../shared/dnstap: each event against the Go reader's dump (`dnstap -j`, the
   X.dnstap.json beside it): message type, identity, version, family, protocol, both addresses
   and ports, both times, query zone, and the DNS message (id, opcode, rcode, flags, counts,
   question, every record's owner, TTL, class and type, and the data of the simple types).
2. The same files on standard input (`-r -`): the same events.
3. The cross-check: every dnstap message is found in the pcap of the same run (decoded by stash53,
   whose pcap decoding is checked against tshark elsewhere) by addresses, ports, ID and QR, and
   has the same DNS fields there. Unbound 1.17 records 53 (IPv6) or nothing (TCP) as the query
   port of its own upstream queries: those are matched without the query port.
4. A unix socket with five writers at once: two send whole files and finish, one is cut off in
   the middle, one sends garbage, one offers another content type. Every frame of the good ones
   arrives, the cut one's frames before the cut arrive, the others are refused, and the counters
   say so. Then the same over TCP.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import framestream  # noqa: E402
from testlib import Background, Failure, free_port, require  # noqa: E402

SIMPLE_TYPES = {"A", "AAAA", "NS", "CNAME", "PTR", "MX", "SOA", "TXT", "SRV"}
# Fields of an event that describe the DNS message itself, not where or when it was seen.
NOT_MESSAGE = {"@timestamp", "n", "source", "dnstap", "s_addr", "s_port", "d_addr", "d_port"}


def run(stash53, args, stdin=None):
    r = subprocess.run([stash53, "--stdout", "--no-enrich", "geoip", *args], input=stdin,
                       capture_output=True, timeout=120)
    require(r.returncode == 0, f"stash53 {args}: exit {r.returncode}\n{r.stderr.decode()[-2000:]}")
    return [json.loads(l) for l in r.stdout.decode().splitlines() if l.strip()], r.stderr.decode()


# ------------------------------------------------------------------ the Go reader's dump

def parse_go_message(text):
    """miekg/dns's text of a message, as `dnstap -j` prints it."""
    m = {"flags": set(), "sections": {"QUESTION": [], "ANSWER": [], "AUTHORITY": [], "ADDITIONAL": []}}
    section = None
    for line in text.splitlines():
        if h := re.match(r";; opcode: (\S+), status: (\S+), id: (\d+)", line):
            m["opcode"], m["rcode"], m["id"] = h.group(1), h.group(2), int(h.group(3))
        elif h := re.match(r";; flags:([^;]*); QUERY: (\d+), ANSWER: (\d+), AUTHORITY: (\d+), ADDITIONAL: (\d+)", line):
            m["flags"] = set(h.group(1).split())
            m["counts"] = tuple(int(h.group(i)) for i in range(2, 6))
        elif h := re.match(r";; (QUESTION|ANSWER|AUTHORITY|ADDITIONAL) SECTION:", line):
            section = h.group(1)
        elif section == "QUESTION" and line.startswith(";"):
            name, klass, qtype = line[1:].split("\t")
            m["sections"]["QUESTION"].append((name, klass, qtype.strip()))
        elif section in ("ANSWER", "AUTHORITY", "ADDITIONAL") and line and not line.startswith(";"):
            name, ttl, klass, rtype, *data = line.split("\t")
            m["sections"][section].append((name, int(ttl), klass, rtype, "\t".join(data)))
    return m


def go_time(text):
    """RFC 3339 with up to 9 fraction digits → (seconds, microseconds) as the event writes it."""
    h = re.match(r"(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$", text)
    return h.group(1), (h.group(2) or "").ljust(6, "0")[:6]


def event_time(text):
    return go_time(text)


def records_of(ev, key):
    return [(r["name"], r["ttl"], r["class"], r["type"], r["data"]) for r in ev.get(key, [])]


def compare_go(name, ev, go):
    where = f"{name} n={ev['n']} ({go['message']['type']})"
    msg = go["message"]
    require(ev["source"] == "dnstap", f"{where}: source {ev.get('source')}")
    tap = ev["dnstap"]
    require(tap["type"] == msg["type"], f"{where}: type {tap['type']}")
    for key in ("identity", "version"):
        require(tap.get(key) == go.get(key), f"{where}: {key} {tap.get(key)!r} != {go.get(key)!r}")
    require(ev["ipv6"] == (msg.get("socket_family") == "INET6"), f"{where}: ipv6 {ev['ipv6']}")
    require(tap.get("protocol", "").upper() == msg.get("socket_protocol", ""), f"{where}: protocol {tap.get('protocol')}")
    for key in ("query_address", "response_address", "query_port", "response_port", "query_zone"):
        require(tap.get(key) == msg.get(key), f"{where}: {key} {tap.get(key)!r} != {msg.get(key)!r}")
    for key in ("query_time", "response_time"):
        require((key in tap) == (key in msg), f"{where}: {key} presence")
        if key in msg:
            require(event_time(tap[key]) == go_time(msg[key]), f"{where}: {key} {tap[key]} != {msg[key]}")
    if "query_time" in msg and "response_time" in msg:
        require("latency_us" in tap, f"{where}: no latency_us")
    query = msg["type"].endswith("_QUERY")
    # The event's time is the message's own (a query's query_time, a response's response_time).
    own = msg["query_time" if query else "response_time"]
    require(event_time(ev["@timestamp"]) == go_time(own), f"{where}: @timestamp {ev['@timestamp']}")
    # The wire direction: a query from the query side, a response back to it.
    src, dst = ("query", "response") if query else ("response", "query")
    require(ev.get("s_addr") == msg.get(f"{src}_address") and ev.get("d_addr") == msg.get(f"{dst}_address"),
            f"{where}: addresses {ev.get('s_addr')} → {ev.get('d_addr')}")
    require(ev.get("s_port") == msg.get(f"{src}_port") and ev.get("d_port") == msg.get(f"{dst}_port"),
            f"{where}: ports {ev.get('s_port')} → {ev.get('d_port')}")
    require(ev["transport"] == ("udp" if msg.get("socket_protocol") == "UDP" else "tcp"), f"{where}: transport")

    g = parse_go_message(msg["query_message" if query else "response_message"])
    require(ev["id"] == g["id"] and ev["opcode"] == g["opcode"] and ev["rcode"] == g["rcode"],
            f"{where}: header {ev['id']} {ev['opcode']} {ev['rcode']} != {g['id']} {g['opcode']} {g['rcode']}")
    flags = {f for f, on in ev["flags"].items() if on}
    if ev.get("edns", {}).get("do"):
        flags.add("do")
    if ev["msg_type"] == "response":
        flags.add("qr")
    require(flags - {"do"} == g["flags"] - {"do", "z"}, f"{where}: flags {flags} != {g['flags']}")
    require((ev["qdcount"], ev["ancount"], ev["nscount"], ev["arcount"]) == g["counts"], f"{where}: counts")
    questions = [(q["name"], q["class"], q["type"]) for q in ev.get("questions", ev.get("zone", []))]
    require(questions == g["sections"]["QUESTION"], f"{where}: questions {questions} != {g['sections']['QUESTION']}")
    update = ev["opcode"] == "UPDATE"
    for key, section in (("prerequisites" if update else "answers", "ANSWER"),
                         ("updates" if update else "authorities", "AUTHORITY"),
                         ("additionals", "ADDITIONAL")):
        mine, theirs = records_of(ev, key), [r for r in g["sections"][section] if r[3] != "OPT"]
        require(len(mine) == len(theirs), f"{where}: {key}: {len(mine)} records, the Go reader {len(theirs)}")
        for a, b in zip(mine, theirs):
            require(a[:4] == b[:4], f"{where}: {key} record {a[:4]} != {b[:4]}")
            if a[3] in SIMPLE_TYPES:
                require(a[4].split() == b[4].split(), f"{where}: {key} {a[3]} data {a[4]!r} != {b[4]!r}")


def test_files(stash53, dnstap_dir):
    total = 0
    for phase in ("socket", "file"):
        for f in sorted(os.listdir(os.path.join(dnstap_dir, phase))):
            if not f.endswith(".dnstap"):
                continue
            path = os.path.join(dnstap_dir, phase, f)
            events, _ = run(stash53, ["-r", path])
            go = [json.loads(l) for l in open(path + ".json")]
            require(len(events) == len(go), f"{path}: {len(events)} events, the Go reader {len(go)}")
            for ev, g in zip(events, go):
                compare_go(f"{phase}/{f}", ev, g)
            piped, _ = run(stash53, ["-r", "-"], stdin=open(path, "rb").read())
            require(piped == events, f"{path}: -r - gives other events than -r FILE")
            total += len(events)
    print(f"files: {total} messages agree with the Go reader, on -r FILE and -r -")


# ------------------------------------------------------------------ the pcap of the same run

def key_of(ev, with_query_port=True):
    query = ev["msg_type"] == "query"
    sport = ev.get("s_port") if with_query_port or not query else None
    dport = ev.get("d_port") if with_query_port or query else None
    return (ev.get("s_addr"), sport, ev.get("d_addr"), dport, ev["id"], ev["msg_type"])


def message_fields(ev):
    return {k: v for k, v in ev.items() if k not in NOT_MESSAGE}


def test_crosscheck(stash53, dnstap_dir):
    summary = []
    for phase in ("socket", "file"):
        pcap_events, _ = run(stash53, ["-r", os.path.join(dnstap_dir, phase, "traffic.pcap")])
        exact, loose = {}, {}
        for ev in pcap_events:
            if "id" in ev and "msg_type" in ev:
                exact.setdefault(key_of(ev), []).append(ev)
                loose.setdefault(key_of(ev, False), []).append(ev)
        for f in sorted(os.listdir(os.path.join(dnstap_dir, phase))):
            if not f.endswith(".dnstap"):
                continue
            events, _ = run(stash53, ["-r", os.path.join(dnstap_dir, phase, f)])
            matched = by_port_bug = 0
            for ev in events:
                where = f"{phase}/{f} n={ev['n']} {ev['dnstap']['type']} {key_of(ev)}"
                found = exact.get(key_of(ev))
                if not found:
                    # Unbound's own upstream queries: query_port 53 over IPv6, absent over TCP.
                    bug = ev["dnstap"]["type"].startswith(("RESOLVER_", "FORWARDER_")) and \
                        ev["dnstap"].get("query_port") in (53, None)
                    require(bug, f"{where}: not in the pcap")
                    found = loose.get(key_of(ev, False))
                    require(found, f"{where}: not in the pcap, even without the query port")
                    by_port_bug += 1
                mine = message_fields(ev)
                require(any(message_fields(p) == mine for p in found),
                        f"{where}: other fields than in the pcap:\n  dnstap {json.dumps(mine)}\n  pcap   "
                        + "\n         ".join(json.dumps(message_fields(p)) for p in found))
                matched += 1
            summary.append(f"{phase}/{f} {matched}/{len(events)} ({by_port_bug} without the query port)")
    print("crosscheck: " + ", ".join(summary))


# ------------------------------------------------------------------ live writers

def stats(log):
    lines = [l for l in log.splitlines() if "component=stats" in l]
    require(lines, "no stats line")
    return lines[-1]


def test_socket(stash53, dnstap_dir, workdir):
    sock = os.path.join(workdir, "dnstap.sock")
    bind = framestream.file_frames(os.path.join(dnstap_dir, "socket", "bind.dnstap"))
    unbound = framestream.file_frames(os.path.join(dnstap_dir, "socket", "unbound.dnstap"))
    knot = framestream.file_frames(os.path.join(dnstap_dir, "socket", "knot-auth.dnstap"))
    s = Background(stash53, ["--dnstap-socket", sock], workdir)
    s.wait_log("Listening for dnstap")
    require(oct(os.stat(sock).st_mode & 0o777) == "0o660", "socket mode is not 0660")
    a, b, cut = (framestream.Writer(sock) for _ in range(3))
    require(a.accepted and b.accepted and cut.accepted, "a writer was not accepted")
    # Interleaved, as several servers (or threads) write at once.
    for i in range(0, max(len(bind), len(unbound)), 5):
        a.send(bind[i:i + 5])
        b.send(unbound[i:i + 5])
    cut.send(knot[:5])
    cut.sock.sendall(b"\x00\x00\x01\x00partial")  # a frame cut off by the writer's death
    cut.close()
    garbage = framestream.socket.socket(framestream.socket.AF_UNIX)
    garbage.connect(sock)
    garbage.sendall(os.urandom(3000))
    garbage.close()
    # Another content type: libfstrm answers the handshake, then hangs up.
    try:
        other = framestream.Writer(sock, content_type=b"protobuf:other.Type")
        refused = not other.accepted or other.sock.recv(1) == b""
        other.close()
    except (ConnectionError, OSError):
        refused = True
    require(refused, "a writer of another content type was not refused")
    require(a.finish() and b.finish(), "no FINISH after STOP")
    s.wait_log("finished (STOP) after")
    time.sleep(0.5)
    events, log = s.stop()
    line = stats(log)
    ids = sorted(e["dnstap"]["identity"] for e in events)
    want = sorted(["bind-s"] * len(bind) + ["unbound-s"] * len(unbound) + ["knot-s"] * 5)
    require(ids == want, f"socket: {len(events)} events by identity {dict((i, ids.count(i)) for i in set(ids))}")
    # Each writer's messages in its own order.
    for ident, frames in (("bind-s", bind), ("unbound-s", unbound)):
        mine = [e["id"] for e in events if e["dnstap"]["identity"] == ident]
        want_ids, _ = run(stash53, ["-r", "-"], stdin=framestream.file_bytes(frames))
        require(mine == [e["id"] for e in want_ids], f"{ident}: messages out of order")
    for want_text in ("connections=5", "finished=2", "frames=115", f"messages={len(want)}"):
        require(want_text in line, f"stats line lacks {want_text}: {line}")
    require(re.search(r"closed=5 \(finished=2,handshake-failed=[12],broken=[12]\)", line),
            f"closed counters: {line}")
    require(not os.path.exists(sock), "the socket was left behind")
    print(f"unix socket: 5 writers at once, {len(events)} messages; {re.search(r'closed=[^)]*[)]', line).group(0)}")

    port = free_port()
    s = Background(stash53, ["--dnstap-listen", f"127.0.0.1:{port}"], workdir)
    s.wait_log("Listening for dnstap")
    w = framestream.Writer(("127.0.0.1", port))
    w.send(knot)
    require(w.finish(), "tcp: no FINISH")
    s.wait_log("finished (STOP) after")
    events, _ = s.stop()
    require(len(events) == len(knot) and all(e["dnstap"]["identity"] == "knot-s" for e in events),
            f"tcp: {len(events)} events")
    print(f"tcp: {len(events)} messages")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stash53", required=True)
    ap.add_argument("--dnstap", required=True, help="../shared/dnstap")
    ap.add_argument("--workdir", required=True)
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    try:
        test_files(a.stash53, a.dnstap)
        test_crosscheck(a.stash53, a.dnstap)
        test_socket(a.stash53, a.dnstap, a.workdir)
    except Failure as e:
        print(f"FAIL: {e}")
        return 1
    finally:
        Background.stop_all()
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
