#!/usr/bin/python3
"""The live page, in a real browser during a live run.

Usage: test_live_page.py --stash53 PATH --workdir DIR   (as root)

Inside a private network namespace (as test_live_capture.py): nsd on port 53, `stash53 -i lo
--metrics-listen`, and kdig asking a known mix of names (NOERROR, NXDOMAIN, TXT). Debian's
headless Chromium then loads `/`, runs its script (which fetches /api/live), and the test reads
the rendered DOM: the totals, the emitter row, the rcode split and the top qnames must equal
stash53's own counters on /metrics and, independently, what kdig was answered. A screenshot is
kept in DIR/live.png.
"""
import argparse
import html.parser
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from testlib import Failure, free_port, require  # noqa: E402
from test_live_capture import (ZONE, ZONE_NAME, enter_netns, kdig, read_events, start_nsd,  # noqa: E402
                               stop, wait_capturing)

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars"]
# Names asked, with how often; "nope" and "missing" do not exist (NXDOMAIN).
ASKED = [("www.example.test.", "A", 6), ("example.test.", "MX", 4), ("nope.example.test.", "A", 3),
         ("missing.example.test.", "AAAA", 2), ("example.test.", "TXT", 2),
         ("c2-beacon.example.test.", "TXT", 1)]  # a TXT query below the apex: a security event


class Dom(html.parser.HTMLParser):
    """Every element's attributes and text, in document order."""

    def __init__(self, text):
        super().__init__()
        self.elements, self.stack = [], []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        el = {"tag": tag, **{k: (v or "") for k, v in attrs}, "text": ""}
        self.elements.append(el)
        if tag not in ("br", "img", "meta", "link", "input", "hr"):
            self.stack.append(el)

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()["tag"] == tag:
                break

    def handle_data(self, data):
        for el in self.stack:
            el["text"] += data

    def find(self, **attrs):
        return [e for e in self.elements if all(e.get(k.replace("_", "-")) == v for k, v in attrs.items())]

    def one(self, **attrs):
        found = self.find(**attrs)
        require(len(found) == 1, f"page: {len(found)} elements with {attrs}")
        return found[0]


def metrics(listen):
    with urllib.request.urlopen(f"http://{listen}/metrics", timeout=5) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        if m := re.match(r"^([a-z0-9_]+(?:\{[^}]*\})?) (\S+)$", line):
            out[m[1]] = float(m[2])
    return out


def chromium(url, workdir):
    profile = tempfile.mkdtemp(prefix="chromium-", dir=workdir)
    try:
        common = ["/usr/bin/chromium", *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                  "--virtual-time-budget=4000", "--window-size=1280,1600"]
        subprocess.run([*common, f"--screenshot={os.path.join(workdir, 'live.png')}", url],
                       capture_output=True, timeout=60)
        dom = subprocess.run([*common, "--dump-dom", url], capture_output=True, text=True, timeout=60)
        require(dom.returncode == 0 and "<html" in dom.stdout,
                f"chromium --dump-dom failed ({dom.returncode}):\n{dom.stderr[-2000:]}")
        return dom.stdout
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def run(args):
    enter_netns()
    workdir = os.path.abspath(args.workdir)
    os.makedirs(workdir, exist_ok=True)
    nsd = start_nsd(workdir, ZONE_NAME, ZONE)
    events_path = os.path.join(workdir, "events.ndjson")
    if os.path.exists(events_path):
        os.unlink(events_path)
    listen = f"127.0.0.1:{free_port()}"
    err = open(os.path.join(workdir, "stash53.err"), "wb")
    sniffer = subprocess.Popen([args.stash53, "-i", "lo", "-N", "live", "-o", events_path,
                                "--metrics-listen", listen], stderr=err)
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists(events_path) and time.monotonic() < deadline:
            require(sniffer.poll() is None, f"stash53 exited with {sniffer.returncode}")
            time.sleep(0.05)
        wait_capturing(sniffer, events_path)
        answers = {}
        for name, qtype, times in ASKED:
            for _ in range(times):
                rc, out = kdig(["@127.0.0.1", name, qtype])
                status = re.search(r"status: (\S+);", out)
                require(rc == 0 and status, f"kdig {name} {qtype}: {out[-500:]}")
                answers[status[1]] = answers.get(status[1], 0) + 1
        # Every exchange in the file, and the counters settled: nothing moves while the page loads.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            m1 = metrics(listen)
            time.sleep(1.2)
            m2 = metrics(listen)
            if m1.get("stash53_emitted_total") == m2.get("stash53_emitted_total") == \
                    m2.get('stash53_emitter_sent_total{emitter="file"}'):
                break
        events = read_events(events_path)
        page = chromium(f"http://{listen}/", workdir)
        m = metrics(listen)
    finally:
        stop(sniffer)
        stop(nsd)
        err.close()

    dom = Dom(page)
    body = dom.find(tag="body")[0]
    require(body.get("data-updated"), "the page never rendered data from /api/live (body[data-updated] empty)")

    def number(el_id):
        return float(dom.one(id=el_id)["data-value"])

    checks = [("total-packets", m["stash53_packets_total"]),
              ("total-emitted", m["stash53_emitted_total"]),
              ("total-messages", m["stash53_emitted_total"]),
              ("kernel-dropped", m["stash53_pcap_dropped_total"])]
    for el_id, want in checks:
        got = number(el_id)
        require(got == want, f"page #{el_id} shows {got}, /metrics says {want}")
    require(number("total-messages") == len(events),
            f"page shows {number('total-messages')} messages, the file holds {len(events)}")
    row = dom.one(tag="tr", data_emitter="file")
    require(row["data-up"] == "up", f"emitter file shown {row['data-up']}")
    sent = [e for e in dom.find(tag="td", data_k="sent") if e in dom.elements[dom.elements.index(row):]][0]
    file_sent = m['stash53_emitter_sent_total{emitter="file"}']
    require(float(sent["data-value"]) == file_sent,
            f"page: file sent {sent['data-value']}, /metrics {file_sent}")
    # The rcode split against kdig's own answers (plus the probes, all NOERROR SOA answers).
    nx = dom.one(data_rcode="NXDOMAIN")
    require(int(nx["data-count"]) == answers["NXDOMAIN"],
            f"page: NXDOMAIN {nx['data-count']}, kdig was answered NXDOMAIN {answers['NXDOMAIN']} times")
    file_rcodes = {}
    for e in events:
        if e.get("msg_type") == "response":
            file_rcodes[e["rcode"]] = file_rcodes.get(e["rcode"], 0) + 1
    for el in dom.find(tag="tr") + dom.find(tag="div") + dom.find(tag="li") + dom.find(tag="span"):
        if "data-rcode" in el:
            require(int(el["data-count"]) == file_rcodes.get(el["data-rcode"], 0),
                    f"page: {el['data-rcode']} {el['data-count']}, events file {file_rcodes}")
    # Top qnames: each exchange counts its query and its response; against the events file, and
    # www.example.test. against what kdig asked.
    top = [e for e in dom.elements if e.get("data-top") == "qname"]
    in_file = {}
    for e in events:
        in_file[e["qname"].lower()] = in_file.get(e["qname"].lower(), 0) + 1
    require(top, "page: no top qnames")
    for t in top:
        require(int(t["data-count"]) == in_file.get(t["data-key"]),
                f"page: qname {t['data-key']} x{t['data-count']}, the file has {in_file.get(t['data-key'])}")
    require(int(top[0]["data-count"]) == max(in_file.values()), f"page: top qname is not the most asked")
    www = [t for t in top if t["data-key"] == "www.example.test."]
    require(www and int(www[0]["data-count"]) == 2 * 6, f"page: www.example.test. {www}, kdig asked it 6 times")
    security_in_file = [e for e in events if e.get("event_class") == "security"]
    shown = [e for e in dom.elements if "data-security" in e]
    require(security_in_file and len(shown) == len(security_in_file),
            f"page: {len(shown)} security events shown, {len(security_in_file)} in the file")
    require("c2-beacon.example.test." in page, "page: the security event's qname is not shown")
    print(f"ok   live page rendered by Chromium (screenshot {workdir}/live.png): packets "
          f"{number('total-packets'):g}, messages {number('total-messages'):g} = /metrics and the file; "
          f"NXDOMAIN {nx['data-count']} = kdig; top qname {top[0]['data-key']} x{top[0]['data-count']}; "
          f"emitter file up, sent {sent['data-value']}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stash53", required=True)
    ap.add_argument("--workdir", required=True)
    args = ap.parse_args()
    signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(Failure("timed out after 180 s")))
    signal.alarm(180)
    try:
        run(args)
    except Failure as e:
        print(f"FAIL {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
