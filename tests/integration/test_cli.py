#!/usr/bin/python3
"""The command line and config file as an operator meets them: --help, --check-config, the
error messages for bad configs and flags (naming key, line and expectation), exit codes."""
import argparse
import json
import glob
import os
import subprocess
import sys

failures = []


def check(what, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + what + ("" if ok else f"\n     {detail}"))
    if not ok:
        failures.append(what)


def run(args, stdin=None):
    return subprocess.run([opts.stash53, *args], input=stdin, capture_output=True, timeout=60)


def write(name, text):
    path = os.path.join(opts.workdir, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def expect_config_error(what, yaml, *needles):
    r = run(["-c", write("bad.yml", yaml), "--check-config"])
    err = r.stderr.decode()
    check(what, r.returncode == 2 and all(n in err for n in needles),
          f"exit {r.returncode}, stderr: {err.strip()}")


p = argparse.ArgumentParser()
p.add_argument("--stash53", required=True)
p.add_argument("--pcaps", required=True)
p.add_argument("--workdir", required=True)
opts = p.parse_args()
os.makedirs(opts.workdir, exist_ok=True)
sample = os.path.join(opts.pcaps, "sample-udp4.pcap")

r = run(["--help"])
help_text = r.stdout.decode()
flags = ["--config", "--interface", "--read", "--filter", "--nsid", "--output", "--stdout",
         "--snaplen", "--buffer-mb", "--no-promisc", "--ports", "--stats-interval", "--drain-ms",
         "--log-level", "--check-config", "--version", "--redis", "--zmq", "--mqtt",
         "--geoip-db", "--anonymize", "--no-enrich", "--list-fields", "--list-flags", "--user",
         "--mode", "--format", "--list-formats",
         "--group", "--chroot", "--allow-root", "--metrics-listen", "--print-config"]
missing = [f for f in flags if f not in help_text]
check("--help lists every flag", r.returncode == 0 and not missing, f"missing {missing}")
check("--help lists the signals and exit statuses",
      all(w in help_text for w in ("SIGHUP", "SIGUSR1", "SIGTERM", "Exit status", "3 events were lost")),
      help_text[-800:])

r = run(["--list-fields"])
readme = open(os.path.join(os.path.dirname(__file__), "..", "..", "README.md")).read()
block = readme.split("<!-- fields: stash53 --list-fields -->\n", 1)[-1].split("<!-- /fields -->", 1)[0]
check("the README's field table is stash53 --list-fields", r.returncode == 0 and r.stdout.decode() == block,
      "regenerate it: stash53 --list-fields")

r = run(["--list-formats"])
block = readme.split("<!-- formats: stash53 --list-formats -->\n", 1)[-1].split("<!-- /formats -->", 1)[0]
check("the README's format table is stash53 --list-formats", r.returncode == 0 and r.stdout.decode() == block,
      "regenerate it: stash53 --list-formats")

r = run(["--list-flags"])
block = readme.split("<!-- flags: stash53 --list-flags -->\n", 1)[-1].split("<!-- /flags -->", 1)[0]
check("the README's flag table is stash53 --list-flags", r.returncode == 0 and r.stdout.decode() == block,
      "regenerate it: stash53 --list-flags")
deploy = os.path.join(os.path.dirname(__file__), "..", "..", "deploy")
snippets = sorted(glob.glob(os.path.join(deploy, "dnstap", "*.conf")))
check("the README shows every dnstap server snippet verbatim (live.dnstap runs them)",
      len(snippets) == 4 and all(open(f).read().rstrip() + "\n```" in readme for f in snippets))
snippets = sorted(glob.glob(os.path.join(deploy, "dnsmasq", "*.conf")))
check("the README shows the dnsmasq and rsyslog snippets verbatim",
      len(snippets) == 2 and all(open(f).read().rstrip() + "\n```" in readme for f in snippets))

example = os.path.join(os.path.dirname(__file__), "..", "..", "deploy", "stash53.example.yml")
# As shipped, but with its log directory in the workdir (the unit's LogsDirectory= makes it).
shipped = open(example).read()
require_path = "/var/log/stash53/"
copy = os.path.join(opts.workdir, "example.yml")
with open(copy, "w") as f:
    f.write(shipped.replace(require_path, opts.workdir + "/"))
r = run(["-c", copy, "--check-config"])
check("the example config is valid", require_path in shipped and r.returncode == 0, r.stderr.decode())
r = run(["-c", example, "--check-config"])
check("--check-config names the missing log directory", r.returncode == 1 and b"/var/log/stash53" in r.stderr
      or os.path.isdir("/var/log/stash53"), r.stderr.decode())

expect_config_error("unknown key names key and line", "capture:\n  interface: lo\n  snaplenn: 9\n",
                    "capture.snaplenn (line 3): unknown key")
expect_config_error("wrong type names the expectation", "capture:\n  buffer_mb: lots\n",
                    "capture.buffer_mb (line 2)", "expected an integer from 1 to 2047")
expect_config_error("missing emitter type", "emitters:\n  - name: x\n",
                    "emitters[0].type (line 2): missing")
expect_config_error("missing file path", "emitters:\n  - {name: x, type: file}\n",
                    "emitters[0].path (line 2): missing")
expect_config_error("unknown emitter option", "emitters:\n  - {type: stdout, batchsize: 3}\n",
                    "emitters[0].batchsize (line 2): unknown key")
expect_config_error("unknown event format", "emitters:\n  - {type: stdout, format: csv}\n",
                    "emitters[0].format (line 2)", "unknown format 'csv'")
expect_config_error("unknown enricher", "enrich:\n  - type: geo\n", "enrich[0].type (line 2)",
                    "unknown enricher 'geo'")
expect_config_error("bad filter", "capture:\n  bpf: 'port fifty'\n", "capture.bpf (line 2): bad BPF")
expect_config_error("invalid YAML", "capture: [\n", "not valid YAML")

r = run(["-r", sample, "-c", write("two.yml", "emitters:\n  - {type: stdout}\n"), "--mode", "record"])
check("--mode with the config file's emitters is a config error", r.returncode == 2
      and b"--mode and --format apply to the emitters given on the command line" in r.stderr, r.stderr.decode())
r = run(["-r", sample, "--format", "stash53", "--mode", "transaction"])
check("a format without that mode is a config error", r.returncode == 2
      and b"format stash53 has no transaction mode (it has: message)" in r.stderr, r.stderr.decode())
expect_config_error("Redis's old mode: list points to data_type",
                    "emitters:\n  - {type: redis, mode: list}\n", "emitters[0].mode (line 2)", "`data_type`")
r = run(["-r", sample, "-f", "port 53 and"])
check("bad -f is a config error", r.returncode == 2 and b"--filter" in r.stderr, r.stderr.decode())
r = run(["-r", os.path.join(opts.workdir, "nonexistent.pcap")])
check("unreadable capture file exits 1 with the reason",
      r.returncode == 1 and b"cannot read capture file" in r.stderr, r.stderr.decode())
r = run([])
check("no source is an error", r.returncode == 2 and b"nothing to capture" in r.stderr,
      r.stderr.decode())
r = run(["-i", "no-such-if0"])
check("bad interface exits 1 naming it", r.returncode == 1 and b"no-such-if0" in r.stderr,
      r.stderr.decode())

# Flags override the file: -r replaces the file's interface, -N its label, -o its emitters.
out = os.path.join(opts.workdir, "out.ndjson")
if os.path.exists(out):
    os.remove(out)
cfg = write("ok.yml", "capture: {interface: no-such-if0}\nenrich: [{type: nsid, label: file}]\n"
                      "emitters: [{type: stdout}]\n")
r = run(["-c", cfg, "-r", sample, "-N", "flag", "-o", out])
lines = open(out).read().splitlines() if os.path.exists(out) else []
events = [json.loads(l) for l in lines]
check("flags override the file", r.returncode == 0 and r.stdout == b"" and len(events) == 14
      and all(e["nsid"] == "flag" for e in events), f"exit {r.returncode}, {len(events)} events")
r = run(["-c", cfg, "-r", sample, "-o", out])
check("-o appends", len(open(out).read().splitlines()) == 28)
check("n counts from 1 without gaps", [e["n"] for e in events] == list(range(1, 15)))

# stdin, and the summary line on stderr.
with open(sample, "rb") as f:
    r = run(["-r", "-"], stdin=f.read())
check("-r - reads stdin", r.returncode == 0 and len(r.stdout.splitlines()) == 14)
check("summary counters at exit", b"packets=14" in r.stderr and b"messages=14" in r.stderr,
      r.stderr.decode())

sys.exit(1 if failures else 0)
