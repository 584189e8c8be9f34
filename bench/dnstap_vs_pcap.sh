#!/bin/bash
# dnstap input against pcap input, the same DNS messages both ways.
#
# Usage: bench/dnstap_vs_pcap.sh [N] [RUNS]      (as root; N queries, default 200000, i.e. 2N
#        messages; RUNS interleaved runs, default 7)
# Env:   BUILD (default build): where stash53 is; DATA (default
#        /var/tmp/stash53-bench): the capture cap-N.pcap (bench/make_capture.sh) and its dnstap
#        copy cap-N.dnstap (bench/pcap_to_dnstap.py) are made there once and then reused;
#        NO_D=1 skips (d).
#
# Each run, all with --allow-root -o /dev/null:
#   (a) stash53 -r cap-N.pcap          wall time of the whole process (start-up included, ~10 ms)
#   (b) stash53 -r cap-N.dnstap        the same
#   (c) stash53 --dnstap-socket S, fed by fstrm_replay -t protobuf:dnstap.Dnstap -u S -r cap-N.dnstap;
#       stash53 is started and listening first; time runs from just before fstrm_replay is
#       started until stash53 has decoded the last message. fstrm_replay's exit is no end
#       mark: stash53 has read every frame by then but still has a backlog to decode. So
#       stash53 gets SIGUSR1 every 20 ms and the end is placed halfway between the timestamps of
#       the last stats line with messages<2N and the first with messages=2N (±10 ms). The
#       time until the file emitter has also sent all 2N (sent=) is shown as well.
#   (d) as (c) with --no-enrich geoip
# Prints per-run figures, medians, the ratios (b)/(a), (c)/(a), (d)/(a) in messages per second,
# peak RSS (/usr/bin/time -v) and the CPU time of stash53 and fstrm_replay in (c).
set -euo pipefail

n=${1:-200000}
runs=${2:-7}
[[ $n =~ ^[1-9][0-9]*$ && $runs =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [N] [RUNS]" >&2; exit 2; }
repo=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$repo/build}
stash53=$(realpath "$build/stash53")
data=${DATA:-/var/tmp/stash53-bench}
mkdir -p "$data"
pcap=$data/cap-$n.pcap dnstap=$data/cap-$n.dnstap
for tool in fstrm_replay /usr/bin/time /usr/bin/python3; do
    command -v "$tool" >/dev/null || { echo "$tool missing (apt-get install fstrm-bin time)" >&2; exit 1; }
done

[ -s "$pcap" ] || "$repo/bench/make_capture.sh" "$pcap" "$n"
[ -s "$dnstap" ] && [ "$dnstap" -nt "$pcap" ] || /usr/bin/python3 "$repo/bench/pcap_to_dnstap.py" "$pcap" "$dnstap"

work=$(mktemp -d /tmp/stash53-dnstap-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

# One run of one case; prints "wall_s until_sent_s rss_kib cpu_s replay_wall_s replay_cpu_s messages".
cat >"$work/run.py" <<'EOF'
import os, re, signal, subprocess, sys, time
from datetime import datetime, timezone

mode, stash53, inp, work, expect = sys.argv[1:6]
extra, expect = sys.argv[6:], int(expect)
base = [stash53, "--allow-root", "-o", "/dev/null"] + extra
tfile, log = f"{work}/time.out", f"{work}/stderr"
STATS = re.compile(r'^(\S+) level=info component=stats .*[|"] ?packets=\d+ messages=(\d+) .* sent=(\d+) ')

def stats_lines():
    with open(log) as f:
        for line in f:
            m = STATS.match(line)
            if m:
                ts = datetime.strptime(m[1], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
                yield ts.timestamp(), int(m[2]), int(m[3])

def timev():  # rss KiB, cpu s of the stash53 that /usr/bin/time -v ran
    t = open(tfile).read()
    g = lambda k: float(re.search(re.escape(k) + r": (\S+)", t)[1])
    return int(g("Maximum resident set size (kbytes)")), g("User time (seconds)") + g("System time (seconds)")

err = open(log, "w")
if mode == "file":
    t0 = time.time()
    rc = subprocess.call(["/usr/bin/time", "-v", "-o", tfile] + base + ["-r", inp], stderr=err)
    wall = time.time() - t0
    if rc:
        sys.exit(f"stash53 -r {inp}: exit {rc}:\n" + open(log).read())
    last = list(stats_lines())[-1]
    rss, cpu = timev()
    print(f"{wall:.4f} {wall:.4f} {rss} {cpu:.3f} 0 0 {last[1]}")
    sys.exit(0)

sock = f"{work}/dnstap.sock"
if os.path.exists(sock):
    os.unlink(sock)
tp = subprocess.Popen(["/usr/bin/time", "-v", "-o", tfile] + base + ["--dnstap-socket", sock], stderr=err)
pid, deadline = None, time.time() + 20
while time.time() < deadline:  # stash53 is /usr/bin/time's child; wait until it listens
    if pid is None:
        try:
            kids = open(f"/proc/{tp.pid}/task/{tp.pid}/children").read().split()
            pid = int(kids[0]) if kids else None
        except OSError:
            pass
    if pid and os.path.exists(sock) and "Listening for dnstap" in open(log).read():
        break
    if tp.poll() is not None:
        sys.exit("stash53 exited:\n" + open(log).read())
    time.sleep(0.01)
else:
    tp.kill()
    sys.exit("stash53 did not start listening:\n" + open(log).read())
time.sleep(0.1)
seen = len(list(stats_lines()))
def cpu_now():  # utime + stime of stash53, s
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
c0, t0 = cpu_now(), time.time()
rp = subprocess.Popen(["/usr/bin/time", "-f", "%e %U %S", "-o", f"{work}/replay.time",
                       "fstrm_replay", "-t", "protobuf:dnstap.Dnstap", "-u", sock, "-r", inp])
lines, deadline = [], time.time() + 300
while time.time() < deadline:
    time.sleep(0.02)
    os.kill(pid, signal.SIGUSR1)
    lines = list(stats_lines())[seen:]
    if lines and lines[-1][2] >= expect:
        break
cpu = cpu_now() - c0
rp.wait()
os.kill(pid, signal.SIGTERM)
tp.wait()
if not lines or lines[-1][1] < expect:
    sys.exit(f"stash53 decoded {lines[-1][1] if lines else 0} of {expect} messages:\n" + open(log).read())
def end_of(i):  # halfway between the last line below expect and the first at it
    k = next(j for j, l in enumerate(lines) if l[i] >= expect)
    before = lines[k - 1][0] if k else t0
    return (before + lines[k][0]) / 2 - t0
r_wall, r_user, r_sys = map(float, open(f"{work}/replay.time").read().split()[-3:])
rss = timev()[0]
print(f"{end_of(1):.4f} {end_of(2):.4f} {rss} {cpu:.3f} {r_wall:.2f} {r_user + r_sys:.2f} {lines[-1][1]}")
EOF

messages=$("$stash53" --allow-root -r "$pcap" -o /dev/null 2>&1 | grep -o 'packets=[0-9]* messages=[0-9]*' |
    tail -n 1 | sed 's/.*messages=//')
check=$("$stash53" --allow-root -r "$dnstap" -o /dev/null 2>&1 | grep -o 'packets=[0-9]* messages=[0-9]*' |
    tail -n 1 | sed 's/.*messages=//')
[ "$messages" = "$check" ] || { echo "pcap gives $messages messages, dnstap $check" >&2; exit 1; }
echo "input: $pcap and $dnstap, $messages messages each; stash53: $stash53; $runs runs"

cases="a b c"
[ "${NO_D:-}" = 1 ] || cases="a b c d"
results=$work/results
for run in $(seq "$runs"); do
    for c in $cases; do
        case $c in
            a) line=$(/usr/bin/python3 "$work/run.py" file "$stash53" "$pcap" "$work" "$messages") ;;
            b) line=$(/usr/bin/python3 "$work/run.py" file "$stash53" "$dnstap" "$work" "$messages") ;;
            c) line=$(/usr/bin/python3 "$work/run.py" socket "$stash53" "$dnstap" "$work" "$messages") ;;
            d) line=$(/usr/bin/python3 "$work/run.py" socket "$stash53" "$dnstap" "$work" "$messages" \
                          --no-enrich geoip) ;;
        esac
        echo "$c $run $line" | tee -a "$results"
    done
done | awk 'BEGIN { print "case run wall_s until_sent_s rss_kib stash53_cpu_s replay_wall_s replay_cpu_s messages" } 1'

/usr/bin/python3 - "$results" "$messages" <<'EOF'
import statistics as st, sys
rows, n = [l.split() for l in open(sys.argv[1])], int(sys.argv[2])
name = {"a": "(a) -r pcap", "b": "(b) -r dnstap file", "c": "(c) --dnstap-socket + fstrm_replay",
        "d": "(d) as (c), --no-enrich geoip"}
med = {}
for c in "abcd":
    r = [list(map(float, x[2:])) for x in rows if x[0] == c]
    if r:
        med[c] = [st.median(col) for col in zip(*r)]
print(f"\nmedians over {sum(x[0] == 'a' for x in rows)} runs, {n} messages")
print(f"{'case':38} {'wall s':>7} {'msg/s':>9} {'to sent':>8} {'RSS MiB':>8} {'stash53 CPU':>12} {'replay CPU':>11}")
for c, (wall, sent, rss, cpu, rwall, rcpu, _) in med.items():
    socket = c in "cd"
    print(f"{name[c]:38} {wall:7.3f} {n / wall:9.0f} {sent:8.3f} {rss / 1024:8.1f} "
          f"{cpu:7.2f} s {100 * cpu / wall if not socket else 100 * cpu / sent:3.0f}%" +
          (f" {rcpu:5.2f} s/{rwall:.2f}" if socket else ""))
for c in "bcd":
    if c in med:
        per_run = [float(a[2]) / float(x[2]) for a in rows if a[0] == "a"
                   for x in rows if x[0] == c and x[1] == a[1]]
        print(f"ratio {c}/a in messages per second: {med['a'][0] / med[c][0]:.2f} of the medians, "
              f"{st.median(per_run):.2f} median of the per-run ratios")
print("CPU: user+sys; for (c)/(d) stash53's from the replay's start until sent=all, and the % is of "
      "that time; replay CPU: fstrm_replay's user+sys s / its wall s.")
EOF
