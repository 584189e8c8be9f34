#!/bin/bash
# Live capture benchmark (issue 11): a real nameserver on loopback driven by dnsperf, captured
# on lo by tcpdump and by stash53 in turn, at a ladder of rates, inside a private network
# namespace (so port 53 and lo are ours alone).
#
# Usage: bench/live.sh [STASH53_BINARY] [SECONDS_PER_RUN] [RUNS]      (as root)
#        defaults: build/stash53, 10 s, 1 run per rate and tool; 1-5 minutes in all (bounded:
#        at most 8 rates x 2 tools + 1 CPU run, each SECONDS_PER_RUN plus some 3 s).
# Tuning (environment): LADDER target rates for dnsperf -Q, tried upwards (default "50000
#        75000 100000 125000 150000 200000 250000 300000"); CPU_QPS=100000 the CPU runs' rate;
#        DNSPERF_CLIENTS (16), DNSPERF_OUTSTANDING (1000), DNSPERF_THREADS (2);
#        KEEP=1 keeps the logs (each run's dnsperf output, tool stderr); STASH53_ARGS:
#        more stash53 flags (e.g. "--stats-interval 1", "-B 128"); REDIS_OPTS: more emitter
#        options for the --redis URL (e.g. "&queue_mb=256"); BENCH_RESULTS: a file to append
#        the figures to as key=value lines (performance.sh).
#
# Set-up: nsd on 127.0.0.1:53 (server-count 1, rrl-ratelimit 0, the plain zone of
# make_capture.sh: h0..h2999.bench.test with A, AAAA, MX, TXT), redis-server on a free port
# (--save '' --appendonly no), dnsperf looping a fixed query file for SECONDS_PER_RUN (-l).
#
# 1. Ladder: for each target rate, RUNS runs of `tcpdump -i lo -w /dev/null -B 32768 udp port
#    53` (its -B is in KiB: the 32 MiB stash53 uses by default) and RUNS runs of `stash53 -i lo
#    --redis redis://127.0.0.1:PORT?key=dns:live` (default filter, enrichers, buffer_mb, JSON
#    message events), each alone with dnsperf. A tool stops climbing at its first rate with a
#    drop; the ladder ends when both have stopped, or at dnsperf's own ceiling (it achieved less
#    than 95% of the target rate in a tcpdump run, or in a stash53 run once tcpdump stopped).
#    Drops: tcpdump's "packets dropped by kernel"; stash53's pcap-dropped + if-dropped (kernel,
#    from pcap_stats) and its Redis emitter's dropped-full (queue) and dropped-error, read from
#    the counters line it logs at exit. Also checked: Redis LLEN against dnsperf's queries sent
#    plus responses received (one event per packet).
# 2. CPU: RUNS runs of stash53 at CPU_QPS (100 k) for the "< 25% of one core" target.
#
# CPU share: (utime + stime) from /proc/PID/stat (all threads; for nsd its processes summed),
# from just before dnsperf starts until just before the capture is stopped (1 s after dnsperf
# ends, so packets still in the ring are counted), divided by dnsperf's run time: CPU seconds
# per second of traffic, in % of one core. dnsperf's own share comes from its wait status.
# Sustained rates are dnsperf's achieved "Queries per second" (the lowest of a rate's runs),
# not the target. dnsperf, nsd, redis and the capture share the machine's cores: the figures
# are this machine's, and the ceiling may be dnsperf's or nsd's, not the capture's.
set -euo pipefail

bin=$(realpath -m "${1:-build/stash53}")
secs=${2:-10}
runs=${3:-1}
ladder=${LADDER:-50000 75000 100000 125000 150000 200000 250000 300000}
cpu_qps=${CPU_QPS:-100000}
clients=${DNSPERF_CLIENTS:-16}
outstanding=${DNSPERF_OUTSTANDING:-1000}
threads=${DNSPERF_THREADS:-2}
[[ $secs =~ ^[1-9][0-9]*$ && $runs =~ ^[1-9][0-9]*$ && $cpu_qps =~ ^[1-9][0-9]*$ ]] \
    || { echo "SECONDS_PER_RUN, RUNS, CPU_QPS: positive integers" >&2; exit 2; }
for r in $ladder; do [[ $r =~ ^[1-9][0-9]*$ ]] || { echo "LADDER: positive integers" >&2; exit 2; }; done
[ -x "$bin" ] || { echo "no stash53 binary at $bin" >&2; exit 2; }

# Port 53 on lo is only ours inside a private network namespace.
if [ "${STASH53_BENCH_NETNS:-}" != 1 ]; then
    [ "$(id -u)" = 0 ] || { echo "must run as root (unshare --net)" >&2; exit 2; }
    exec env STASH53_BENCH_NETNS=1 unshare --net -- "$0" "$bin" "$secs" "$runs"
fi
[ "$(awk 'NR>2' /proc/self/net/dev | cut -d: -f1 | tr -d ' ')" = lo ] \
    || { echo "not in a private network namespace" >&2; exit 1; }
ip link set lo up

work=$(mktemp -d)
chmod 755 "$work"  # stash53 gives up root after opening the capture
nsd_pid='' redis_pid='' tool_pid='' perf_pid=''
stop_pid() {  # PID [SIGNAL]: signal it, wait at most 15 s, then SIGKILL; only our own children
    local p=$1 sig=${2:-TERM}
    [ -n "$p" ] || return 0
    kill -"$sig" "$p" 2>/dev/null || return 0
    for _ in $(seq 150); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
}
cleanup() {
    stop_pid "$perf_pid"
    stop_pid "$tool_pid" INT
    stop_pid "$redis_pid"
    stop_pid "$nsd_pid"
    if [ -n "${KEEP:-}" ]; then echo "logs kept in $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

hz=$(getconf CLK_TCK)
ticks() {  # PID...: utime + stime summed, in clock ticks (fields 14 and 15 after "(comm)")
    local t=0 p v
    for p in "$@"; do
        v=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat" 2>/dev/null) || v=0
        t=$((t + ${v:-0}))
    done
    echo "$t"
}
now() { date +%s.%N; }
pct() { echo "scale=4; 100 * $1 / $hz / $2" | bc -l; }  # TICKS SECONDS -> % of one core

# Zone and queries as in make_capture.sh (plain): a fixed walk, types A/AAAA/MX/TXT, 1 in 10
# NXDOMAIN. dnsperf loops the file as long as -l lets it.
hosts=3000
awk -v n=$hosts -f "$(dirname "$0")/plain_zone.awk" >"$work/bench.test"
awk -v n=$hosts -v q=100000 'BEGIN {
    split("A AAAA MX TXT", t, " ")
    for (i = 0; i < q; i++)
        if (i % 10 == 9) printf "nx%d.bench.test A\n", i % n
        else printf "h%d.bench.test %s\n", (i * 7919) % n, t[i % 4 + 1]
}' >"$work/queries"

"$(dirname "$0")/nsd_conf.sh" "$work" 127.0.0.1 bench.test >"$work/nsd.conf"
nsd -d -c "$work/nsd.conf" >"$work/nsd.log" 2>&1 &
nsd_pid=$!
for _ in $(seq 100); do
    kdig +short +timeout=1 +retry=0 @127.0.0.1 bench.test SOA 2>/dev/null | grep -q . && break
    sleep 0.1
done
kdig +short +timeout=1 +retry=0 @127.0.0.1 bench.test SOA | grep -q . \
    || { echo "nsd did not start:" >&2; cat "$work/nsd.log" >&2; exit 1; }
# nsd's processes: the one started and its descendants ("nsd: main", the server, xfrd).
nsd_pids() {
    local todo=$nsd_pid p all=
    while [ -n "$todo" ]; do
        set -- $todo; p=$1; shift; todo="$*"
        all="$all $p"
        todo="$todo $(cat /proc/"$p"/task/*/children 2>/dev/null || true)"
        todo=$(echo $todo)
    done
    echo $all
}

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" \
    >"$work/redis.log" 2>&1 &
redis_pid=$!
for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
redis-cli -p "$port" ping >/dev/null || { echo "redis did not start:" >&2; cat "$work/redis.log" >&2; exit 1; }
key=dns:live

# One run: TOOL (tcpdump or stash53) RATE. Sets the r_* results.
n_run=0
run_one() {
    local tool=$1 rate=$2 log="$work/run$n_run" t0 t1 w0 w1 n0 n1 d0 d1 perf_cpu
    n_run=$((n_run + 1))
    if [ "$tool" = tcpdump ]; then
        tcpdump -n -i lo -B 32768 -w /dev/null 'udp port 53' 2>"$log.err" &
        tool_pid=$!
        for _ in $(seq 100); do grep -q listening "$log.err" && break; sleep 0.1; done
        grep -q listening "$log.err" || { cat "$log.err" >&2; exit 1; }
    else
        redis-cli -p "$port" del "$key" >/dev/null
        # shellcheck disable=SC2086
        "$bin" -i lo -N live --redis "redis://127.0.0.1:$port?key=$key${REDIS_OPTS:-}" ${STASH53_ARGS:-} \
            >"$log.out" 2>"$log.err" &
        tool_pid=$!
        # Ready: the Redis emitter connected (the capture is opened before emitters start).
        for _ in $(seq 100); do
            grep -qi 'connected' "$log.err" 2>/dev/null && break
            kill -0 "$tool_pid" 2>/dev/null || { cat "$log.err" >&2; exit 1; }
            sleep 0.1
        done
        sleep 0.2
    fi
    # shellcheck disable=SC2046  # nsd_pids: a list of PIDs
    t0=$(ticks "$tool_pid") n0=$(ticks $(nsd_pids)) d0=$(ticks "$redis_pid") w0=$(now)
    # dnsperf's CPU: its wait status in the shell that ran it (cutime + cstime of that shell).
    bash -c 'dnsperf "$@" >"$0.perf" 2>&1; rc=$?
             awk "{ sub(/^.*\\) /, \"\"); print \$14 + \$15 }" /proc/$$/stat >"$0.perfcpu"
             exit $rc' "$log" -s 127.0.0.1 -d "$work/queries" -c "$clients" -T "$threads" \
        -q "$outstanding" -t 2 -Q "$rate" -l "$secs" &
    perf_pid=$!
    wait "$perf_pid" || { echo "dnsperf failed:" >&2; cat "$log.perf" >&2; exit 1; }
    perf_pid=
    w1=$(now)
    sleep 1
    # shellcheck disable=SC2046
    t1=$(ticks "$tool_pid") n1=$(ticks $(nsd_pids)) d1=$(ticks "$redis_pid")
    stop_pid "$tool_pid" INT
    tool_pid=

    r_qps=$(awk '/Queries per second:/ { printf "%.0f", $4 }' "$log.perf")
    r_sent=$(awk '/Queries sent:/ { print $3 }' "$log.perf")
    r_done=$(awk '/Queries completed:/ { print $3 }' "$log.perf")
    r_time=$(awk '/Run time \(s\):/ { print $4 }' "$log.perf")
    [ -n "$r_time" ] || r_time=$(echo "$w1 - $w0" | bc -l)
    r_cpu=$(pct $((t1 - t0)) "$r_time")
    r_nsd=$(pct $((n1 - n0)) "$r_time")
    r_redis=$(pct $((d1 - d0)) "$r_time")
    perf_cpu=$(cat "$log.perfcpu" 2>/dev/null || echo 0)
    r_perf=$(pct "$perf_cpu" "$r_time")
    r_expect=$((r_sent + r_done))
    if [ "$tool" = tcpdump ]; then
        r_kdrop=$(awk '/packets dropped by kernel/ { print $1 }' "$log.err")
        r_seen=$(awk '/packets captured/ { print $1 }' "$log.err")
        r_qdrop=- r_llen=-
        r_drops=${r_kdrop:-1}
    else
        local stats
        stats=$(grep 'packets=' "$log.err" | tail -1)
        field() { grep -o "$1=[0-9]*" <<<"$stats" | head -1 | cut -d= -f2; }
        local pd ifd df de
        pd=$(field pcap-dropped) ifd=$(field if-dropped) df=$(field dropped-full) de=$(field dropped-error)
        r_kdrop=$(( ${pd:-0} + ${ifd:-0} ))
        r_qdrop=$(( ${df:-0} + ${de:-0} ))
        r_seen=$(field packets)
        r_llen=$(redis-cli -p "$port" llen "$key")
        [ -n "$stats" ] || { echo "stash53 printed no counters:" >&2; tail -5 "$log.err" >&2; r_kdrop=1; }
        r_drops=$((r_kdrop + r_qdrop))
    fi
    printf '| %s | %s | %s | %s | %s | %s | %.1f | %.1f | %.1f | %.1f | %s / %s |\n' \
        "$tool" "$rate" "$r_qps" "$r_kdrop" "$r_qdrop" "${r_seen:-?}" "$r_cpu" "$r_nsd" "$r_perf" "$r_redis" \
        "$r_llen" "$r_expect" >>"$work/table"
    printf '  %-7s target %6s: achieved %6s qps, kernel drops %s, queue drops %s, CPU %.1f%% (nsd %.1f%%, dnsperf %.1f%%, redis %.1f%%)\n' \
        "$tool" "$rate" "$r_qps" "$r_kdrop" "$r_qdrop" "$r_cpu" "$r_nsd" "$r_perf" "$r_redis" >&2
}

echo "stash53: $bin; $secs s per run, $runs run(s) per rate and tool; $(nproc) cores;" \
     "load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
start=$(now)
: >"$work/table"
best_td=0 best_s=0 td_on=1 s_on=1 ceiling='' td_why="reached the end of the ladder" s_why=$td_why
for rate in $ladder; do
    [ "$td_on" = 1 ] || [ "$s_on" = 1 ] || break
    low=
    for tool in tcpdump stash53; do
        [ "$tool" = tcpdump ] && on=$td_on || on=$s_on
        [ "$on" = 1 ] || continue
        ok=1 min=
        for _ in $(seq "$runs"); do
            run_one "$tool" "$rate"
            [ "$r_drops" = 0 ] || ok=0
            if [ -z "$min" ] || [ "$r_qps" -lt "$min" ]; then min=$r_qps; fi
            # dnsperf's ceiling is judged on the tcpdump runs while tcpdump climbs: stash53
            # taking CPU from dnsperf and nsd is what the ratio measures.
            if [ "$r_qps" -lt $((rate * 95 / 100)) ] && { [ "$tool" = tcpdump ] || [ "$td_on" = 0 ]; }; then
                low=1
            fi
        done
        if [ "$tool" = tcpdump ]; then
            if [ "$ok" = 1 ]; then [ "$min" -le "$best_td" ] || best_td=$min
            else td_on=0 td_why="dropped at target $rate"; fi
        else
            if [ "$ok" = 1 ]; then [ "$min" -le "$best_s" ] || best_s=$min
            else s_on=0 s_why="dropped at target $rate"; fi
        fi
    done
    if [ -n "$low" ]; then
        ceiling=$rate
        [ "$td_on" = 1 ] && td_why="no drops up to dnsperf's ceiling"
        [ "$s_on" = 1 ] && s_why="no drops up to dnsperf's ceiling"
        break
    fi
done
echo >>"$work/table"
cpu_sum=0 cpu_max=0 cpu_qps_seen='' cpu_qps_min='' cpu_worst_per_q=0
for _ in $(seq "$runs"); do
    run_one stash53 "$cpu_qps"
    sed -i '$ s/^| stash53 /| stash53 (CPU run) /' "$work/table"
    cpu_sum=$(echo "$cpu_sum + $r_cpu" | bc -l)
    [ "$(echo "$r_cpu > $cpu_max" | bc -l)" = 1 ] && cpu_max=$r_cpu
    per_q=$(echo "$r_cpu / $r_qps" | bc -l)
    [ "$(echo "$per_q > $cpu_worst_per_q" | bc -l)" = 1 ] && cpu_worst_per_q=$per_q
    if [ -z "$cpu_qps_min" ] || [ "$r_qps" -lt "$cpu_qps_min" ]; then cpu_qps_min=$r_qps; fi
    cpu_qps_seen="$cpu_qps_seen $r_qps"
done
echo
echo "| tool | target qps | achieved qps | kernel drops | queue drops | packets seen | tool CPU % | nsd CPU % | dnsperf CPU % | redis CPU % | events in Redis / expected |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
grep . "$work/table"
echo
[ -n "$ceiling" ] && echo "dnsperf's ceiling: it achieved under 95% of the target at $ceiling qps (the ladder stopped there)"
echo "highest rate tcpdump sustains with zero drops: $best_td qps ($td_why)"
echo "highest rate stash53 sustains with zero drops: $best_s qps ($s_why)"
if [ "$best_td" -gt 0 ]; then
    ratio=$(echo "100 * $best_s / $best_td" | bc -l)
    met=$([ "$(echo "$ratio >= 90" | bc -l)" = 1 ] && echo met || echo "not met")
    printf 'ratio stash53 / tcpdump: %.0f%% (target >= 90%%): %s\n' "$ratio" "$met"
else
    echo "ratio stash53 / tcpdump: n/a (tcpdump dropped at the lowest rate): not met"
fi
cpu_mean=$(echo "$cpu_sum / $runs" | bc -l)
printf 'stash53 CPU at target %s qps (achieved:%s): %.1f%% of one core (mean of %s run(s), max %.1f%%)\n' \
    "$cpu_qps" "$cpu_qps_seen" "$cpu_mean" "$runs" "$cpu_max" 
if [ "$cpu_qps_min" -lt $((cpu_qps * 95 / 100)) ]; then
    # Not reached: scale the worst run's share linearly to the target rate (an estimate).
    scaled=$(echo "$cpu_worst_per_q * $cpu_qps" | bc -l)
    met=$([ "$(echo "$scaled < 25" | bc -l)" = 1 ] && echo met || echo "not met")
    printf 'stash53 CPU scaled linearly to %s qps (not reached here): %.1f%% of one core (target < 25%%): %s (estimate)\n' \
        "$cpu_qps" "$scaled" "$met"
    cpu_report=$scaled cpu_estimate=1
else
    met=$([ "$(echo "$cpu_max < 25" | bc -l)" = 1 ] && echo met || echo "not met")
    printf 'stash53 CPU at %s qps: max %.1f%% of one core (target < 25%%): %s\n' "$cpu_qps" "$cpu_max" "$met"
    cpu_report=$cpu_max cpu_estimate=0
fi
if [ -n "${BENCH_RESULTS:-}" ]; then
    printf '%s\n' "live.tcpdump=$best_td" "live.tcpdump_why=$td_why" "live.stash53=$best_s" \
        "live.stash53_why=$s_why" "live.ceiling=$ceiling" "live.cpu_target_qps=$cpu_qps" \
        "live.cpu_achieved_qps=$cpu_qps_min" "live.cpu_measured=$(printf '%.1f' "$cpu_max")" \
        "live.cpu=$(printf '%.1f' "$cpu_report")" "live.cpu_estimate=$cpu_estimate" \
        "live.seconds=$secs" "live.runs=$runs" >>"$BENCH_RESULTS"
fi
awk -v s="$start" -v e="$(now)" 'BEGIN { printf "took %.0f s\n", e - s }'
