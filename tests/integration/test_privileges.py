#!/usr/bin/python3
"""Least privilege: started as root, stash53 captures lo live as an unprivileged user with no
capabilities, in every thread.

Usage: test_privileges.py --stash53 PATH --workdir DIR   (as root)

Inside a private network namespace (as test_live_capture.py, whose netns, nsd and probe
helpers it shares), after start-up /proc/PID/status and every /proc/PID/task/*/status must show:
(a) default: uid and gid (real, effective, saved, fs) of `stash53` if that user exists, else
    `nobody`, no supplementary groups, CapEff, CapPrm, CapInh, CapAmb and CapBnd all 0,
    NoNewPrivs 1; kdig queries to a real nsd still become events; SIGTERM ends it with 0;
(b) `--user daemon --group daemon`: uid and gid 1 (Debian's daemon), the rest as (a);
(c) `--allow-root`: uid 0, every capability set still 0;
(d) `--chroot DIR`: as (a), and /proc/PID/root is DIR;
(e) `--user nosuchuser53`: a non-zero exit naming the user.
"""
import argparse
import grp
import os
import pwd
import re
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # importing the sibling test must leave no __pycache__ behind
from test_live_capture import (  # noqa: E402
    ZONE, ZONE_NAME, Failure, client_port, enter_netns, kdig, on_alarm, read_events, require,
    start_nsd, stop, wait_capturing, wait_for_port)

CAP_SETS = ("CapEff", "CapPrm", "CapInh", "CapAmb", "CapBnd")
# Client ports of the queries sent after the drop; below the probes' 19000 and the kernel's
# ephemeral range, so nothing else on lo uses them.
QUERY_PORT0 = 18000
DROP_LOG_RE = re.compile(r"component=privileges msg=\"Running as user (\S+) \((\d+)\), "
                         r"group (\S+) \((\d+)\), no capabilities")


def default_account():
    """stash53's default target: user `stash53` if it exists, else `nobody`; its primary group."""
    for name in ("stash53", "nobody"):
        try:
            pw = pwd.getpwnam(name)
            return name, pw.pw_uid, pw.pw_gid
        except KeyError:
            pass
    raise Failure("neither user stash53 nor nobody exists on this machine")


def read_status(path):
    """The fields of one /proc status file, as {name: value text}."""
    fields = {}
    with open(path) as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def all_status(pid):
    """The status of the process and of each of its threads: [(label, fields)]."""
    out = [(f"pid {pid}", read_status(f"/proc/{pid}/status"))]
    for tid in sorted(os.listdir(f"/proc/{pid}/task"), key=int):
        try:
            st = read_status(f"/proc/{pid}/task/{tid}/status")
        except FileNotFoundError:  # a thread that just ended
            continue
        out.append((f"thread {tid} ({st.get('Name', '?')})", st))
    return out


def check_credentials(pid, uid, gid, label):
    """Every thread of `pid` runs as uid/gid with no groups, no capabilities, no-new-privs."""
    statuses = all_status(pid)
    errors = []
    for who, st in statuses:
        for key, want in (("Uid", uid), ("Gid", gid)):
            ids = st.get(key, "").split()
            if ids != [str(want)] * 4:
                errors.append(f"{who}: {key} {ids} (real, effective, saved, fs), want all {want}")
        if st.get("Groups", "<absent>") != "":
            errors.append(f"{who}: Groups {st.get('Groups', '<absent>')!r}, want none")
        for key in CAP_SETS:
            if int(st.get(key, "-1"), 16) != 0:
                errors.append(f"{who}: {key} {st.get(key, '<absent>')}, want 0")
        if st.get("NoNewPrivs") != "1":
            errors.append(f"{who}: NoNewPrivs {st.get('NoNewPrivs', '<absent>')}, want 1")
    require(not errors, f"{label}:\n    " + "\n    ".join(errors))
    return len(statuses) - 1


class Sniffer:
    """One stash53 capturing lo into WORKDIR/<name>.ndjson, stderr into <name>.stderr."""

    def __init__(self, args, name, extra):
        self.events = os.path.join(args.workdir, f"{name}.ndjson")
        self.stderr = os.path.join(args.workdir, f"{name}.stderr")
        self.name = name
        for path in (self.events, self.stderr):
            if os.path.exists(path):
                os.unlink(path)
        with open(self.stderr, "wb") as err:
            self.proc = subprocess.Popen(
                [args.stash53, "-i", "lo", "-N", "priv", "-o", self.events, *extra],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)

    def log(self):
        with open(self.stderr, errors="replace") as f:
            return f.read()

    def wait_dropped(self, seconds=5):
        """Waits for the privilege drop's log line; returns (user, uid, group, gid) from it."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if m := DROP_LOG_RE.search(self.log()):
                return m[1], int(m[2]), m[3], int(m[4])
            require(self.proc.poll() is None,
                    f"{self.name}: stash53 exited with {self.proc.returncode}:\n{self.log()}")
            time.sleep(0.02)
        raise Failure(f"{self.name}: no privilege drop logged within {seconds} s:\n{self.log()}")

    def start(self):
        """Returns once the drop is logged and a probe query has become an event."""
        logged = self.wait_dropped()
        try:
            wait_capturing(self.proc, self.events)
        except Failure as e:
            raise Failure(f"{self.name}: {e}\n{self.log()}") from None
        return logged

    def stop_ok(self):
        rc = stop(self.proc, signal.SIGTERM)
        require(rc is not None, f"{self.name}: stash53 did not exit within 5 s of SIGTERM")
        require(rc == 0, f"{self.name}: stash53 exited with {rc} after SIGTERM:\n{self.log()}")

    def kill(self):
        stop(self.proc, signal.SIGKILL)


def run_dropped(args, name, extra, uid, gid, want_log, queries=0, check=None):
    """Starts stash53 with `extra`, checks the log line and every thread's credentials, sends
    `queries` more queries, checks that they became events, stops it with SIGTERM."""
    sniffer = Sniffer(args, name, extra)
    try:
        logged = sniffer.start()
        require(logged == want_log, f"{name}: logged {logged}, want {want_log}")
        threads = check_credentials(sniffer.proc.pid, uid, gid, name)
        if check:
            check(sniffer.proc.pid)
        ports = [QUERY_PORT0 + k for k in range(queries)]
        for port in ports:
            rc, out = kdig([f"-b127.0.0.1#{port}", "@127.0.0.1", ZONE_NAME, "A"])
            require(rc == 0, f"{name}: kdig from port {port} failed:\n{out}")
        if ports:
            require(wait_for_port(sniffer.events, ports[-1], 5),
                    f"{name}: no event for the query from port {ports[-1]} within 5 s")
            seen = {client_port(ev) for ev in read_events(sniffer.events)}
            missing = [p for p in ports if p not in seen]
            require(not missing, f"{name}: no events for the queries from ports {missing}")
        sniffer.stop_ok()
        return threads
    finally:
        sniffer.kill()


def run(args):
    os.makedirs(args.workdir, exist_ok=True)
    nsd = start_nsd(args.workdir, ZONE_NAME, ZONE)
    try:
        # (a) the default account
        user, uid, gid = default_account()
        group = grp.getgrgid(gid).gr_name
        threads = run_dropped(args, "default", [], uid, gid, (user, uid, group, gid), queries=5)
        print(f"ok default: every thread ({threads}) runs as {user} ({uid}), group {group} "
              f"({gid}), no groups, no capabilities, no-new-privs; 5 queries captured after "
              f"the drop; SIGTERM exit 0")

        # (b) a named user and group
        d_uid, d_gid = pwd.getpwnam("daemon").pw_uid, grp.getgrnam("daemon").gr_gid
        run_dropped(args, "user", ["--user", "daemon", "--group", "daemon"], d_uid, d_gid,
                    ("daemon", d_uid, "daemon", d_gid), queries=1)
        print(f"ok --user daemon --group daemon: uid {d_uid}, gid {d_gid} in every thread, "
              f"no capabilities")

        # (c) root without capabilities
        run_dropped(args, "allow_root", ["--allow-root"], 0, 0, ("root", 0, "root", 0),
                    queries=1)
        print("ok --allow-root: uid 0 and gid 0 kept, every capability set 0, no-new-privs")

        # (d) chroot into an empty directory, which the user must not be able to write
        jail = os.path.join(args.workdir, "jail")
        os.makedirs(jail, exist_ok=True)
        os.chmod(jail, 0o755)

        def in_jail(pid):
            root = os.readlink(f"/proc/{pid}/root")
            require(root == os.path.realpath(jail), f"chroot: /proc/PID/root is {root}, "
                    f"want {os.path.realpath(jail)}")
            cwd = os.readlink(f"/proc/{pid}/cwd")
            require(cwd == root, f"chroot: the working directory {cwd} is outside the jail")
        run_dropped(args, "chroot", ["--chroot", jail], uid, gid, (user, uid, group, gid),
                    queries=1, check=in_jail)
        print(f"ok --chroot: root and working directory are {jail}, capture goes on")

        # (e) a user that does not exist
        sniffer = Sniffer(args, "nosuchuser", ["--user", "nosuchuser53"])
        try:
            rc = sniffer.proc.wait(5)
        except subprocess.TimeoutExpired:
            raise Failure("--user nosuchuser53: stash53 still running after 5 s") from None
        finally:
            sniffer.kill()
        log = sniffer.log()
        require(rc != 0, f"--user nosuchuser53: exit status 0\n{log}")
        require("nosuchuser53" in log, f"--user nosuchuser53: stderr does not name the user:\n{log}")
        print(f"ok --user nosuchuser53: exit status {rc}, "
              f"message: {log.strip().splitlines()[-1][:160]}")
    finally:
        stop(nsd)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stash53", required=True)
    ap.add_argument("--workdir", required=True)
    args = ap.parse_args()
    args.stash53 = os.path.abspath(args.stash53)
    args.workdir = os.path.abspath(args.workdir)
    signal.signal(signal.SIGALRM, on_alarm)
    try:
        enter_netns()
        signal.alarm(28)
        run(args)
    except (Failure, subprocess.SubprocessError, OSError) as e:
        print(f"FAIL: {e}\n(stash53 output, stderr and nsd log are in {args.workdir})",
              file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
