#!/usr/bin/python3
"""The redis emitter through Redis Sentinel: a real master, one replica and three sentinels, each
a redis-server on a free loopback port.

Usage: test_redis_sentinel.py --stash53 PATH --pcaps DIR --workdir DIR

(1) A config error: sentinels without master_name. (2) Steady state: with WAIT (the default
wait_replicas 1) every event is on the replica when stash53 exits; events/s with and without
WAIT. (3) READONLY: stash53 pointed at a replica keeps its events until it is promoted, none
counted as refused. (4) A failover mid-stream, the replica lagging (paused) when the master dies: stash53 reads
200k+ events into a list through `--redis redis://...?sentinels=...&master_name=mymaster` while
a Logstash-style reader (EVAL lrange + ltrim, 125 at a time) drains whichever server the
sentinels name; the master is SIGKILLed, Sentinel promotes the replica, stash53 follows it. The
old master is started again, for Sentinel to turn into the new master's replica, as a repaired
server would be. Every n from 1 to N must be read (duplicates allowed: at least once), and the
counters must account for every event.
"""
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from testlib import (Failure, RedisServer, Resp, build_big_pcap, emitter_counters, free_port, require,
                     test_args)

MASTER_NAME = "mymaster"
KEY = "dns:sentinel"
# Logstash's redis input (data_type => list) takes batch_count events at a time, atomically.
LOGSTASH_POP = ("local r = redis.call('lrange', KEYS[1], 0, ARGV[1] - 1); "
                "redis.call('ltrim', KEYS[1], ARGV[1], -1); return r")
BATCH = 125
MIN_MESSAGES = 200_000
KILL_AFTER = 30_000  # events stored (drained or still in the list) before the master is killed
LAG = 0.3  # seconds the replica is paused before the master is killed
# Either server may be master: no 5 s wait for more replicas before a full sync.
SERVER_ARGS = ("--appendonly", "no", "--repl-diskless-sync-delay", "0")


class Sentinel:
    """One `redis-server CONF --sentinel`, with its own config file (Sentinel rewrites it)."""

    def __init__(self, workdir, name, master_port):
        self.port = free_port()
        self.conf = os.path.join(workdir, f"{name}.conf")
        self.log = os.path.join(workdir, f"{name}.log")
        with open(self.conf, "w") as f:
            f.write(f"port {self.port}\nbind 127.0.0.1\ndir {workdir}\n"
                    f"sentinel monitor {MASTER_NAME} 127.0.0.1 {master_port} 2\n"
                    f"sentinel down-after-milliseconds {MASTER_NAME} 1000\n"
                    f"sentinel failover-timeout {MASTER_NAME} 5000\n"
                    f"sentinel parallel-syncs {MASTER_NAME} 1\n")
        self.proc = subprocess.Popen(["redis-server", self.conf, "--sentinel"],
                                     stdout=open(self.log, "ab"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while True:
            require(self.proc.poll() is None, f"sentinel exited; see {self.log}")
            try:
                c = Resp(self.port, timeout=1)
                c.cmd("PING")
                c.close()
                return
            except OSError:
                require(time.monotonic() < deadline, f"sentinel not answering after 10 s: {self.log}")
                time.sleep(0.05)

    def master_info(self):
        c = Resp(self.port, timeout=1)
        try:
            flat = c.cmd("SENTINEL", "MASTER", MASTER_NAME)
        finally:
            c.close()
        return {flat[i].decode(): flat[i + 1].decode() for i in range(0, len(flat), 2)}

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def current_master(sentinels):
    """A connection to the master the sentinels name, checked with ROLE, or None."""
    for s in sentinels:
        try:
            c = Resp(s.port, timeout=0.5)
            try:
                addr = c.cmd("SENTINEL", "get-master-addr-by-name", MASTER_NAME)
            finally:
                c.close()
            m = Resp(int(addr[1]), timeout=2)
            if m.cmd("ROLE")[0] == b"master":
                return m
            m.close()
        except (OSError, Failure, TypeError):
            continue
    return None


def named_master(sentinel):
    c = Resp(sentinel.port, timeout=1)
    try:
        return int(c.cmd("SENTINEL", "get-master-addr-by-name", MASTER_NAME)[1])
    finally:
        c.close()


class Drain(threading.Thread):
    """Logstash's redis input: pops BATCH events at a time from the master the sentinels name,
    asking them again after any error. `lock` is held around each pop, so the test can kill a
    master between pops: a pop the dying master ran but never answered is the reader's loss, not
    the emitter's, and is not what this test measures."""

    def __init__(self, sentinels):
        super().__init__(daemon=True)
        self.sentinels, self.n, self.lock = sentinels, [], threading.Lock()
        self.done, self.error, self.conn = threading.Event(), None, None
        self.switches = 0

    def pop(self):
        """One pop; the number of events it got, or None after an error."""
        with self.lock:
            try:
                if self.conn is None:
                    self.conn = current_master(self.sentinels)
                    if self.conn is None:
                        return None
                    self.switches += 1
                got = self.conn.cmd("EVAL", LOGSTASH_POP, 1, KEY, BATCH)
            except (OSError, Failure):  # lost, or READONLY from a demoted master
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                return None
        self.n += [json.loads(x)["n"] for x in got]
        return len(got)

    def run(self):
        try:
            while not self.done.is_set():
                got = self.pop()
                if got is None:
                    time.sleep(0.05)
                elif got < BATCH:
                    time.sleep(0.005)
        except Exception as e:  # reported by the main thread
            self.error = e

    def finish(self, timeout=20):
        """Stops the concurrent reading, then pops from the master until its list is empty."""
        self.done.set()
        self.join(timeout=5)
        require(not self.is_alive(), "drain: the reader thread did not stop")
        require(self.error is None, f"drain: {self.error!r}")
        deadline = time.monotonic() + timeout
        while True:
            require(time.monotonic() < deadline, f"drain: the list not empty after {timeout} s")
            got = self.pop()
            if got is None:
                time.sleep(0.05)
            elif got < BATCH:
                return


def wait_for(what, cond, timeout):
    deadline = time.monotonic() + timeout
    while not cond():
        require(time.monotonic() < deadline, f"{what}: not within {timeout} s")
        time.sleep(0.05)


def replica_up(port):
    c = Resp(port)
    try:
        return b"master_link_status:up" in c.cmd("INFO", "replication")
    finally:
        c.close()


def sentinels_ready(sentinels):
    """Every sentinel knows the replica and the two other sentinels: a failover can happen."""
    infos = [s.master_info() for s in sentinels]
    return all(i["num-slaves"] == "1" and i["num-other-sentinels"] == "2" and
               i["flags"] == "master" for i in infos)


def case_config_error(stash53, pcap, sentinels):
    p = subprocess.run([stash53, "-r", pcap, "--redis",
                        f"redis://127.0.0.1:{sentinels[0].port}?sentinels=127.0.0.1:{sentinels[0].port}"],
                       capture_output=True, timeout=30)
    err = p.stderr.decode(errors="replace")
    line = next((x for x in err.splitlines() if "master_name" in x), None)
    require(p.returncode == 2 and line, f"no master_name: exit {p.returncode}, expected 2 and an "
            f"error naming master_name:\n{err}")
    print(f"ok config error: exit 2; {line.split('msg=', 1)[-1]}")


def count_stdout(stash53, pcap):
    """How many events `-r FILE --stdout` prints: what the Redis run must deliver."""
    p = subprocess.run([stash53, "-r", pcap, "-N", "out", "--stdout"], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, timeout=30)
    require(p.returncode == 0, f"--stdout run: exit {p.returncode}")
    return p.stdout.count(b"\n")


def sentinel_url(sentinels, extra=""):
    hosts = ",".join(f"127.0.0.1:{s.port}" for s in sentinels)
    # Short backoffs: the new master is up some seconds after the kill; 10 s steps would hide it.
    return (f"redis://127.0.0.1:{sentinels[0].port}?sentinels={hosts}&master_name={MASTER_NAME}"
            f"&key={KEY}&retry_ms=100&retry_max_ms=500{extra}")


def unreplicated(err):
    stats = [l for l in err.splitlines() if "component=stats" in l][-1]
    m = re.search(r"\| redis .*\bunreplicated=(\d+)", stats)
    return int(m.group(1)) if m else None


def case_steady(stash53, big, messages, master, replica, sentinels):
    """No failure: events/s with WAIT after each batch and without; with WAIT, the replica holds
    every event as soon as stash53 has exited."""
    rates = {}
    for wait in (1, 0):
        started = time.monotonic()
        p = subprocess.run([stash53, "-r", big, "-N", "out", "--redis",
                            sentinel_url(sentinels, f"&wait_replicas={wait}")],
                           capture_output=True, timeout=30)
        rates[wait] = messages / (time.monotonic() - started)
        err = p.stderr.decode(errors="replace")
        s = emitter_counters(err, "redis")
        require(p.returncode == 0 and s["sent"] == messages and s["dropped_error"] == 0,
                f"steady wait_replicas={wait}: exit {p.returncode}, counters {s}\n{err[-2000:]}")
        if wait:
            require(unreplicated(err) == 0, f"steady: unreplicated={unreplicated(err)}, expected 0")
            r = Resp(replica.port)
            on_replica = r.cmd("LLEN", KEY)
            r.close()
            require(on_replica == messages, f"steady: the replica holds {on_replica} of "
                    f"{messages} events when stash53 exits, despite WAIT")
        c = Resp(master.port)
        require(c.cmd("LLEN", KEY) == messages, "steady: not every event in the list")
        c.cmd("DEL", KEY)
        c.close()
    print(f"ok steady: {messages} events, all on the replica at exit with WAIT; "
          f"{rates[1]:,.0f} events/s with WAIT 1 after each batch, {rates[0]:,.0f} without")


def case_readonly(stash53, pcap, workdir):
    """Without sentinels, a READONLY reply is a lost master too: the events wait for a master
    (here the replica promoted by hand) instead of being counted as refused."""
    primary = RedisServer(free_port(), os.path.join(workdir, "ro-master"), *SERVER_ARGS).start()
    replica = RedisServer(free_port(), os.path.join(workdir, "ro-replica"), *SERVER_ARGS,
                          "--replicaof", "127.0.0.1", str(primary.port))
    try:
        replica.start()
        wait_for("the read-only replica's link", lambda: replica_up(replica.port), 10)
        err_path = os.path.join(workdir, "readonly.log")
        proc = subprocess.Popen([stash53, "-r", pcap, "-N", "out", "--redis",
                                 f"redis://127.0.0.1:{replica.port}?key={KEY}&retry_ms=50&retry_max_ms=100"],
                                stdout=subprocess.DEVNULL, stderr=open(err_path, "w"))
        try:
            wait_for("stash53's READONLY warning", lambda: "READONLY" in open(err_path).read(), 10)
            c = Resp(replica.port)
            c.cmd("REPLICAOF", "NO", "ONE")
            proc.wait(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        err = open(err_path).read()
        s = emitter_counters(err, "redis")
        got = c.cmd("LLEN", KEY)
        c.close()
        require(proc.returncode == 0 and s["sent"] == s["emitted"] == got and s["dropped_error"] == 0,
                f"readonly: exit {proc.returncode}, counters {s}, {got} in the list\n{err[-2000:]}")
        line = next(x for x in err.splitlines() if "READONLY" in x).split("msg=", 1)[-1]
        print(f"ok readonly: {got} events delivered once the replica was promoted; {line}")
    finally:
        replica.stop()
        primary.stop()


def case_failover(stash53, big, messages, master, replica, sentinels, workdir):
    url = sentinel_url(sentinels)
    drain = Drain(sentinels)
    drain.start()
    err_path = os.path.join(workdir, "stash53.log")
    started = time.monotonic()
    proc = subprocess.Popen([stash53, "-r", big, "-N", "out", "--redis", url],
                            stdout=subprocess.DEVNULL, stderr=open(err_path, "w"))
    try:
        watch = Resp(master.port)
        wait_for("the events reaching the master",
                 lambda: proc.poll() is None and len(drain.n) + watch.cmd("LLEN", KEY) >= KILL_AFTER, 20)
        watch.close()
        # A replica that lags (paused here) while the master answers: what the master stored in
        # that time dies with it, unless the emitter waited for the replica (WAIT) before
        # counting it delivered.
        replica.proc.send_signal(signal.SIGSTOP)
        try:
            time.sleep(LAG)
            with drain.lock:
                master.kill()
        finally:
            replica.proc.send_signal(signal.SIGCONT)
        killed = time.monotonic()
        stored = len(drain.n)
        print(f"failover: replica :{replica.port} paused {LAG} s, then master :{master.port} "
              f"SIGKILLed with {stored} events drained")
        wait_for("the replica's promotion", lambda: current_master(sentinels) is not None, 20)
        promoted = time.monotonic() - killed
        print(f"failover: Sentinel promoted :{replica.port} {promoted:.1f} s after the kill")
        # Back as a repaired server would be: Sentinel makes it the new master's replica. Until
        # then it says it is a master, so a sentinel still naming it would send clients there.
        wait_for("every sentinel naming the new master",
                 lambda: all(named_master(x) == replica.port for x in sentinels), 10)
        master.start()
        proc.wait(timeout=40)
        elapsed = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = open(err_path).read()
    require(proc.returncode == 0, f"failover: stash53 exit {proc.returncode}\n{err[-3000:]}")
    drain.finish()
    return drain, err, elapsed


def check_failover(drain, err, messages, replica, elapsed):
    s = emitter_counters(err, "redis")
    print(f"failover: counters {s}, unreplicated={unreplicated(err)} (on the new master only: "
          f"its replica, the old master, was not back yet)")
    n = s["emitted"]
    require(n == messages, f"failover: stash53 read {n} events, `--stdout` prints {messages}")
    require(s["queued"] == n and s["sent"] == n and s["dropped_full"] == 0 and
            s["dropped_error"] == 0, f"failover: counters do not account for all {n} events: {s}")
    require(s["reconnects"] >= 1, "failover: stash53 never reconnected; the kill came too late")
    require(f"Connected to Redis master 127.0.0.1:{replica.port} via sentinel" in err,
            f"failover: no 'Connected to Redis master 127.0.0.1:{replica.port}' in the log")
    got = drain.n
    distinct = set(got)
    require(all(isinstance(x, int) and 1 <= x <= n for x in got), "failover: an n out of 1..N")
    missing = sorted(set(range(1, n + 1)) - distinct)
    duplicates = len(got) - len(distinct)
    gap = re.findall(r"Reconnected to .* after ([0-9.]+) s", err)
    require(gap, "failover: no 'Reconnected ... after' line in the log")
    print(f"failover: {len(got)} events read back, {len(distinct)} distinct of {n}, "
          f"{duplicates} duplicates (resent after the kill), {len(missing)} lost; "
          f"{n / elapsed:,.0f} events/s over {elapsed:.1f} s; stash53 reconnected after "
          f"{gap[0]} s; {drain.switches} master connections by the reader")
    require(not missing, f"failover: {len(missing)} events lost, first {missing[:20]}")
    print("ok failover: every event from 1 to N read back, none lost")


def main():
    a = test_args(60, "--pcaps")
    big = os.path.join(a.workdir, "big.pcap")
    build_big_pcap(os.path.join(a.pcaps, "sample-udp4.pcap"), big, MIN_MESSAGES)
    master = RedisServer(free_port(), os.path.join(a.workdir, "master"), *SERVER_ARGS)
    replica = RedisServer(free_port(), os.path.join(a.workdir, "replica"), *SERVER_ARGS,
                          "--replicaof", "127.0.0.1", str(master.port))
    sentinels = []
    try:
        messages = count_stdout(a.stash53, big)
        master.start()
        replica.start()
        wait_for("the replica's link to the master", lambda: replica_up(replica.port), 10)
        for i in range(3):
            sentinels.append(Sentinel(a.workdir, f"sentinel{i}", master.port))
        wait_for("the sentinels finding the replica and each other",
                 lambda: sentinels_ready(sentinels), 15)
        case_config_error(a.stash53, big, sentinels)
        case_steady(a.stash53, big, messages, master, replica, sentinels)
        case_readonly(a.stash53, os.path.join(a.pcaps, "sample-udp4.pcap"), a.workdir)
        drain, err, elapsed = case_failover(a.stash53, big, messages, master, replica, sentinels,
                                            a.workdir)
        check_failover(drain, err, messages, replica, elapsed)
    except (Failure, subprocess.TimeoutExpired, OSError) as e:
        print(f"FAIL: {e}", file=sys.stderr)
        return 1
    finally:
        for s in sentinels:
            s.stop()
        replica.stop()
        master.stop()
    print("ok: redis emitter through Sentinel")
    return 0


if __name__ == "__main__":
    sys.exit(main())
