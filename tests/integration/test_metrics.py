#!/usr/bin/python3
"""The metrics endpoint, checked by Prometheus's own tools against a running stash53:

(1) `promtool check metrics` passes on /metrics; (2) a real `prometheus` started by the test
scrapes stash53, and its HTTP API returns the counters stash53 must have: messages and
emitted equal to the events written to the file (counted in the file itself), sent per
emitter, the delivery histogram's count, build info; (3) /healthz is 200 while the capture runs
and an emitter is up, 503 once every emitter is down (its redis-server killed), 200 again after
redis comes back.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from testlib import Failure, RedisServer, free_port, require  # noqa: E402
from test_operation import Stream, capture, events, fresh_dir, give, wait_lines  # noqa: E402


def get(url, timeout=5):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def wait_http(url, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return get(url)
        except OSError:
            time.sleep(0.1)
    raise Failure(f"{url} did not answer within {timeout} s")


class Prometheus:
    def __init__(self, workdir, target):
        self.port = free_port()
        self.workdir = workdir
        conf = os.path.join(workdir, "prometheus.yml")
        with open(conf, "w") as f:
            f.write(f"""global:
  scrape_interval: 1s
scrape_configs:
  - job_name: stash53
    static_configs:
      - targets: ["{target}"]
""")
        self.proc = subprocess.Popen(
            ["prometheus", f"--config.file={conf}", f"--storage.tsdb.path={workdir}/tsdb",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=open(os.path.join(workdir, "prometheus.log"), "wb"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60  # 503 until its storage and rules are up
        while True:
            require(self.proc.poll() is None, f"prometheus exited; see {workdir}/prometheus.log")
            status, _ = wait_http(f"http://127.0.0.1:{self.port}/-/ready", timeout=30)
            if status == 200:
                break
            require(time.monotonic() < deadline, "prometheus not ready within 60 s")
            time.sleep(0.2)

    def query(self, expr):
        status, body = get(f"http://127.0.0.1:{self.port}/api/v1/query?" +
                           urllib.parse.urlencode({"query": expr}))
        require(status == 200, f"prometheus query {expr}: HTTP {status} {body}")
        return json.loads(body)["data"]["result"]

    def value(self, expr, want, timeout=20):
        """Waits until `expr` has the value `want` (a scrape or two), returns what it saw."""
        deadline = time.monotonic() + timeout
        seen = None
        while time.monotonic() < deadline:
            r = self.query(expr)
            if r:
                seen = float(r[0]["value"][1])
                if seen == want:
                    return seen
            time.sleep(0.5)
        raise Failure(f"prometheus: {expr} = {seen}, expected {want}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stash53", required=True)
    ap.add_argument("--workdir", required=True)
    a = ap.parse_args()
    fresh_dir(a.workdir)
    give(a.workdir)
    header, packets = capture(400)
    out = os.path.join(a.workdir, "events.ndjson")
    redis = RedisServer(free_port(), os.path.join(a.workdir, "redis")).start()
    listen = f"127.0.0.1:{free_port()}"
    s = prom = None
    try:
        s = Stream(a.stash53, ["-N", "metrics", "--metrics-listen", listen, "-o", out,
                               "--redis", f"redis://127.0.0.1:{redis.port}?key=dns&retry_ms=100&retry_max_ms=200"],
                   a.workdir)
        s.feed([header] + packets[:300])
        wait_lines(out, 300)
        status, text = wait_http(f"http://{listen}/metrics")
        require(status == 200, f"/metrics: HTTP {status}")
        lint = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
        require(lint.returncode == 0, f"promtool check metrics:\n{lint.stdout}{lint.stderr}")
        print(f"ok   promtool check metrics passes on {len(text.splitlines())} lines")

        status, body = get(f"http://{listen}/healthz")
        require(status == 200 and json.loads(body)["status"] == "ok", f"/healthz: {status} {body}")

        prom = Prometheus(a.workdir, listen)
        n = len(events(out))
        for expr, want in ((f'stash53_messages_total{{job="stash53"}}', n),
                           ('stash53_emitted_total', n),
                           ('stash53_emitter_sent_total{emitter="file"}', n),
                           ('stash53_emitter_sent_total{emitter="redis"}', n),
                           ('stash53_emitter_delivery_seconds_count{emitter="file"}', n),
                           ('stash53_emitter_up{emitter="redis"}', 1),
                           ('stash53_build_info', 1),
                           ('up{job="stash53"}', 1)):
            got = prom.value(expr, want)
            print(f"ok   prometheus: {expr} = {got:g}")
        require(prom.value('sum(stash53_malformed_total)', 0) == 0, "malformed")

        # /healthz turns unhealthy when *every* emitter is down: a run with redis alone.
        s.proc.send_signal(signal.SIGTERM)
        rc = s.finish()
        require(rc == 0, f"stash53 exit {rc}:\n{s.stderr()[-2000:]}")

        s = Stream(a.stash53, ["-N", "health", "--metrics-listen", listen,
                               "--redis", f"redis://127.0.0.1:{redis.port}?key=dns&retry_ms=100&retry_max_ms=200"],
                   a.workdir)
        s.feed([header])
        wait_http(f"http://{listen}/healthz")
        # Connected at start-up, before any event: healthy while idle.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and get(f"http://{listen}/healthz")[0] != 200:
            time.sleep(0.1)
        status, body = get(f"http://{listen}/healthz")
        require(status == 200, f"/healthz with redis up, before any event: {status} {body}")
        s.feed(packets[:10])
        redis.kill()
        s.feed(packets[10:20])  # the next send finds the connection gone
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and get(f"http://{listen}/healthz")[0] != 503:
            time.sleep(0.1)
        status, body = get(f"http://{listen}/healthz")
        require(status == 503 and json.loads(body)["emitters"]["redis"] == "down",
                f"/healthz with every emitter down: {status} {body}")
        print(f"ok   /healthz 503 with every emitter down: {body}")
        redis.start()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and get(f"http://{listen}/healthz")[0] != 200:
            s.feed(packets[20:21])
            time.sleep(0.2)
        status, body = get(f"http://{listen}/healthz")
        require(status == 200, f"/healthz after redis came back: {status} {body}")
        print("ok   /healthz 200 again once redis is back")
        s.proc.send_signal(signal.SIGTERM)
        s.finish()
    except Failure as e:
        print(f"FAIL {e}")
        return 1
    finally:
        if s and s.proc.poll() is None:
            s.proc.kill()
        if prom:
            prom.stop()
        redis.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
