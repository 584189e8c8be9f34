#!/bin/bash
# The performance benchmark of issue 11 in one command: stash53 side by side with its peers and
# with the servers it feeds, one markdown table at the end (stash53's figure, the peer's or the
# server's own ceiling, the ratio, the target and whether it is met).
#
# Usage: bench/performance.sh CAPTURE [RUNS]      (RUNS interleaved rounds, default 3; as root
#        for the live section)
# Takes some 8.5 minutes on a 2-core machine with the 2.1 M-packet capture of
# `RICH=1 bench/make_capture.sh` and RUNS=3 (file 3.5 min, live 1 min, emitters 3.5 min,
# scaling 0.5 min); up to some 12.5 where dnsperf climbs the whole live ladder (at most 17 runs
# of LIVE_SECONDS + 3 s). Every run is bounded (TIMEOUT each for the file and scaling rows,
# SECTION_TIMEOUT for each of the other scripts).
#
# Env:   SECTIONS     which sections, of "file live emitters scaling" (the default: all)
#        STASH53      the binary (default build/stash53 of this checkout); the emitter section
#                     also needs zmq_ceiling, mqtt_ceiling and nats_probe of bench/ built next to it
#        PCAP_FLOOR   bench/pcap_floor.c built (default pcap_floor next to STASH53; built with
#                     cc -O2 -lpcap into a temporary directory if missing)
#        TSHARK_PACKETS  tshark reads only the first N packets (default 100000): at 10-60 k
#                     packets/s the whole capture would take minutes per run
#        TIMEOUT      seconds any one file or scaling row may take (default 600)
#        LIVE_SECONDS, LIVE_RUNS  live.sh's seconds per run (10) and runs per rate (1)
#        EMITTER_RUNS rounds of each emitter script (default RUNS)
#        EMITTER_PACKETS  the first N packets of CAPTURE for Redis and ZeroMQ (default 1000000)
#        MQTT_PACKETS the first N packets for MQTT (default 100000: some 12 k QoS 1 messages/s
#                     of 1 KB here)
#        NATS_PACKETS the first N packets for NATS JetStream (default 200000)
#        SECTION_TIMEOUT  seconds live.sh or one emitter script may take (default 900)
#
# Sections:
#  file      CAPTURE to JSON rows, RUNS interleaved rounds, medians. Rows: (a) a bare
#            pcap_next_ex loop; (b) tcpdump -n -r; (c) dnscap with txtout; (d) tshark -T fields
#            and -T ek on the first TSHARK_PACKETS packets; (e) stash53 -r CAPTURE -o /dev/null,
#            default enrichers; (f) stash53 with geoip, public_suffix (registered domain) and
#            security, one file emitter in mode: transaction into /dev/null. Output of every
#            tool goes to /dev/null. The page cache is warmed first; each round runs every row
#            once, so drift on a shared machine spreads over all of them. The table holds
#            medians per row: packets/s of wall time, messages per CPU-second (user + sys of the
#            process, /usr/bin/time), peak RSS, and stash53 (e) over the row. Messages:
#            stash53's own count (its stats line); for the other tools the capture's packets,
#            all of them DNS in a capture of make_capture.sh.
#  live      bench/live.sh: nsd and dnsperf on loopback in a private network namespace; the
#            highest rate tcpdump and stash53 (Redis list emitter) sustain with zero drops, and
#            stash53's CPU at 100 k qps (scaled from the rate reached, marked as an estimate,
#            when dnsperf and nsd cannot reach it on this machine).
#  emitters  bench/bench_redis.sh, bench_zmq.sh, bench_mqtt.sh on cuts of CAPTURE: each
#            emitter end to end (events counted at the server: LLEN, the subscriber's count)
#            against the server's own ceiling in the same run, with messages of the events'
#            average JSON size: redis-benchmark RPUSH -P 256, a bare XPUB send loop
#            (zmq_ceiling), a bare Paho publisher (mqtt_ceiling) at QoS 0 and 1; and, with
#            nats-server installed, bench_nats.sh (JetStream, 1 and 3 replicas, against a bare
#            libnats publisher, nats_probe) on NATS_PACKETS (200000).
#  scaling   stash53's pipeline threads (`--workers N`, capture.workers): row (e)'s command
#            line with --workers 1 and with --workers 2, RUNS interleaved rounds (1, 2, 1, 2,
#            ...), medians of messages per wall-second and per CPU-second and of peak RSS, as in
#            the file section; target: workers 2 at >= 1.6 times the wall throughput of
#            workers 1. Workers shard flows by their address pair, so CAPTURE needs many
#            client addresses (RICH=1 make_capture.sh has 16). Skipped, and said so, when
#            stash53 --help does not mention --workers.
# Needs bash, GNU time, awk, bc, tcpdump, tshark, editcap, capinfos; dnscap is skipped when not
# installed; live: nsd, dnsperf, kdig, redis-server, unshare; emitters: redis-server,
# redis-benchmark, mosquitto, mosquitto_sub.
set -euo pipefail

[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $0 CAPTURE [RUNS]" >&2; exit 2; }
capture=$(realpath "$1")
runs=${2:-3}
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "RUNS: a positive integer" >&2; exit 2; }
repo=$(cd "$(dirname "$0")/.." && pwd)
stash53=$(realpath "${STASH53:-$repo/build/stash53}")
build=$(dirname "$stash53")
tshark_packets=${TSHARK_PACKETS:-100000}
limit=${TIMEOUT:-600}
section_limit=${SECTION_TIMEOUT:-900}
sections=" ${SECTIONS:-file live emitters scaling} "
live_secs=${LIVE_SECONDS:-10} live_runs=${LIVE_RUNS:-1}
emitter_runs=${EMITTER_RUNS:-$runs}
emitter_packets=${EMITTER_PACKETS:-1000000} mqtt_packets=${MQTT_PACKETS:-100000}
nats_packets=${NATS_PACKETS:-200000}
for v in "$tshark_packets" "$limit" "$section_limit" "$live_secs" "$live_runs" "$emitter_runs" \
    "$emitter_packets" "$mqtt_packets" "$nats_packets"; do
    [[ $v =~ ^[1-9][0-9]*$ ]] || { echo "$v: the settings are positive integers" >&2; exit 2; }
done
for s in $sections; do
    case $s in file | live | emitters | scaling) ;; *) echo "SECTIONS: unknown section $s" >&2; exit 2 ;; esac
done
want() { [[ $sections == *" $1 "* ]]; }
for tool in /usr/bin/time bc editcap capinfos; do
    command -v "$tool" >/dev/null || { echo "$tool missing (apt-get install time bc tshark)" >&2; exit 1; }
done
if want file; then
    for tool in tcpdump tshark; do
        command -v "$tool" >/dev/null || { echo "$tool missing (apt-get install tcpdump tshark)" >&2; exit 1; }
    done
fi
[ -x "$stash53" ] || { echo "$stash53: not built (STASH53=...)" >&2; exit 1; }

work=$(mktemp -d /tmp/stash53-performance.XXXXXX)
chmod 755 "$work"  # stash53 gives up root after opening its input
trap 'rm -rf "$work"' EXIT
results=$work/results  # key=value lines from the section scripts
: >"$results"
declare -A R
load_results() {
    local line
    while IFS= read -r line; do R[${line%%=*}]=${line#*=}; done <"$results"
}
began=$(date +%s)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
packets=$(capinfos -c -M "$capture" | awk '/Number of packets/ {print $NF}')

# The first N packets of the capture (the capture itself when it has no more): prints the path.
cut_of() {
    local n=$1 out=$work/first$1.pcap
    if [ "$packets" -le "$n" ]; then echo "$capture"; return; fi
    [ -f "$out" ] || editcap -r "$capture" "$out" "1-$n"
    echo "$out"
}

echo "# stash53 performance, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "- machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(uname -r)"
echo "- capture: $capture, $packets packets, $(du -h "$capture" | cut -f1)"
echo "- stash53: $stash53 ($("$stash53" --version 2>/dev/null | head -n 1))"
echo "- sections: $(echo $sections); $runs rounds (file, scaling), $emitter_runs (emitters), live $live_runs run(s) of $live_secs s per rate"
# Other work on the machine takes cores from the multi-threaded rows: say how busy it was.
echo "- load average before: $load_before"
echo

# ---------------------------------------------------------------------------------------------
# file: CAPTURE to JSON rows.
declare -A label cmd pps mcs rss msgs
rows=()
# Row e, stash53 with its default enrichers; the scaling section adds --workers N to it.
stash53_default="$stash53 -r $capture -o /dev/null"

# One run of row $1 (cmd[$1]): appends "wall_s cpu_s rss_kib messages" to $work/$1.runs.
# Messages: stash53's own count (its stats line); tshark's cut (cut_packets of file_section);
# the capture's packets for the other tools.
run() {
    local id=$1 t0 t1 m
    t0=$(date +%s.%N)
    # shellcheck disable=SC2086  # the commands are word lists without spaces in their words
    if ! timeout "$limit" /usr/bin/time -f '%U %S %M' -o "$work/time" ${cmd[$id]} \
        >/dev/null 2>"$work/stderr"; then
        echo "row $id failed: ${cmd[$id]}" >&2
        tail -n 5 "$work/stderr" >&2
        exit 1
    fi
    t1=$(date +%s.%N)
    case $id in
        e | f | w[0-9]*) m=$(grep -o ' messages=[0-9]*' "$work/stderr" | tail -n 1 | cut -d= -f2) ;;
        d1 | d2) m=$cut_packets ;;
        *) m=$packets ;;
    esac
    awk -v a="$t0" -v b="$t1" -v m="$m" '{ printf "%.4f %.2f %d %d\n", b - a, $1 + $2, $3, m }' \
        "$work/time" >>"$work/$id.runs"
}
# Row $1's runs: per run rates first, then their medians into msgs, pps, mcs and rss; messages
# are the same each run.
medians_of() {
    local id=$1
    awk '{ print $1, $2, $3, $4, $4 / $1, ($2 > 0 ? $4 / $2 : 0) }' "$work/$id.runs" >"$work/$id.rates"
    mv "$work/$id.rates" "$work/$id.runs"
    msgs[$id]=$(median "$work/$id.runs" 4) pps[$id]=$(median "$work/$id.runs" 5)
    mcs[$id]=$(median "$work/$id.runs" 6) rss[$id]=$(median "$work/$id.runs" 3)
}

file_section() {
    local floor txtout cut cut_packets round id
    floor=${PCAP_FLOOR:-$build/pcap_floor}
    if [ ! -x "$floor" ]; then
        floor=$work/pcap_floor
        cc -O2 -o "$floor" "$repo/bench/pcap_floor.c" -lpcap
    fi
    txtout=$(dpkg -L dnscap 2>/dev/null | grep '/txtout\.so$' | head -n 1 || true)
    cut=$(cut_of "$tshark_packets")
    cut_packets=$(capinfos -c -M "$cut" | awk '/Number of packets/ {print $NF}')

    # f: the enrichers the default set has that the target names, and transactions.
    cat >"$work/rich.yml" <<EOF
enrich:
  - type: geoip
  - type: public_suffix
  - type: security
emitters:
  - type: file
    path: /dev/null
    mode: transaction
EOF

    # Rows: id, label, command. tcpdump decodes port 53 as DNS by itself: -T domain gives
    # byte-identical output on these captures, so it is left out (it is meant for other ports).
    rows=(a b c d1 d2 e f)
    label[a]="libpcap floor (pcap_next_ex loop)"
    cmd[a]="$floor $capture"
    label[b]="tcpdump -n -r"
    cmd[b]="tcpdump -n -r $capture"
    label[c]="dnscap -r, txtout plugin"
    cmd[c]="dnscap -r $capture -P $txtout -o /dev/null"
    label[d1]="tshark -T fields (first $cut_packets packets)"
    cmd[d1]="tshark -r $cut -T fields -e dns.qry.name -e dns.flags.rcode -e dns.qry.type"
    label[d2]="tshark -T ek (first $cut_packets packets)"
    cmd[d2]="tshark -r $cut -T ek"
    label[e]="stash53 -r -o /dev/null (default enrichers)"
    cmd[e]=$stash53_default
    label[f]="stash53 geoip+public_suffix+security, mode transaction"
    cmd[f]="$stash53 -r $capture -c $work/rich.yml"
    if [ -z "$txtout" ]; then
        echo "dnscap not installed (apt-get install dnscap): row c skipped" >&2
        rows=(a b d1 d2 e f)
    fi

    # Warm the page cache: every row reads a file already in memory.
    cat "$capture" "$cut" >/dev/null

    for round in $(seq "$runs"); do
        for id in "${rows[@]}"; do run "$id"; done
        echo "file: round $round of $runs done" >&2
    done

    for id in "${rows[@]}"; do medians_of "$id"; done

    echo "## File to JSON rows ($runs interleaved rounds, medians)"
    echo
    echo "| row | tool | messages | packets/s (wall) | messages per CPU-second | peak RSS | stash53 (e) ÷ row, per CPU-second | stash53 (e) ÷ row, wall |"
    echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    for id in "${rows[@]}"; do
        awk -v id="$id" -v l="${label[$id]}" -v m="${msgs[$id]}" -v p="${pps[$id]}" -v c="${mcs[$id]}" \
            -v r="${rss[$id]}" -v ec="${mcs[e]}" -v ep="${pps[e]}" "$awk_g"'
        BEGIN {
            printf "| %s | %s | %s | %s | %s | %.1f MiB | %.2f× | %.2f× |\n",
                   id, l, g(m), g(p), g(c), r / 1024, ec / c, ep / p }'
    done
    echo
    echo "Peak RSS: GNU time's maximum resident set size. e counted $((msgs[e])) messages in $packets packets."
    echo
}

# The median of column $2 (default 1) of file $1.
median() {
    awk -v c="${2:-1}" '{ print $c }' "$1" | sort -g |
        awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}
# awk: g(x) with thousands separated (mawk has no %'d).
awk_g='function g(x,   s) {
    s = sprintf("%.0f", x)
    while (s ~ /[0-9][0-9][0-9][0-9]/) sub(/[0-9][0-9][0-9]($|,)/, ",&", s)
    return s
}'
num() { awk -v x="$1" "$awk_g"' BEGIN { print g(x) }'; }
times() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f×", a / b }'; }
percent() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f%%", 100 * a / b }'; }
met() { awk "BEGIN { print ($1) ? \"met\" : \"not met\" }"; }  # an awk condition

# Runs a section script with a bound: NAME SCRIPT ARGS...; its output goes to stdout as it comes.
run_script() {
    local name=$1 rc=0
    shift
    timeout -k 30 "$section_limit" env BENCH_RESULTS="$results" "$@" || rc=$?
    [ "$rc" = 0 ] || echo "$name: exited with status $rc" >&2
    echo "$name.rc=$rc" >>"$results"
    echo
}

if want file; then file_section; fi

if want live; then
    echo "## Live capture (bench/live.sh, $live_secs s per run, $live_runs run(s) per rate)"
    echo
    if [ "$(id -u)" != 0 ]; then
        echo "live: skipped, needs root (unshare --net)" >&2
        echo "live.rc=skipped (needs root)" >>"$results"
    else
        run_script live "$repo/bench/live.sh" "$stash53" "$live_secs" "$live_runs"
    fi
fi

if want emitters; then
    emitter_cut=$(cut_of "$emitter_packets") mqtt_cut=$(cut_of "$mqtt_packets")
    echo "## Emitters ($emitter_runs round(s) each, medians)"
    echo
    echo "### Redis list (first $emitter_packets packets)"
    echo
    run_script redis "$repo/bench/bench_redis.sh" "$build" "$emitter_cut" "$emitter_runs"
    echo "### ZeroMQ (first $emitter_packets packets)"
    echo
    run_script zmq "$repo/bench/bench_zmq.sh" "$build" "$emitter_cut" "$emitter_runs" 2>&1
    echo "### MQTT (first $mqtt_packets packets)"
    echo
    run_script mqtt "$repo/bench/bench_mqtt.sh" "$build" "$mqtt_cut" "$emitter_runs"
    if command -v nats-server >/dev/null; then
        echo "### NATS JetStream, 3-node cluster (first $nats_packets packets)"
        echo
        run_script nats "$repo/bench/bench_nats.sh" "$build" "$(cut_of "$nats_packets")" "$emitter_runs"
    fi
fi

# ---------------------------------------------------------------------------------------------
# scaling: row e with --workers 1 and 2, interleaved.
scaling_skipped=
scaling_section() {
    local help round n id
    echo "## Scaling (stash53 --workers 1 and 2, $runs interleaved rounds, medians)"
    echo
    help=$("$stash53" --help 2>&1) || true
    if [[ $help != *--workers* ]]; then
        scaling_skipped="this stash53 has no --workers"
        echo "scaling: $scaling_skipped"
        echo
        return
    fi
    for n in 1 2; do
        label[w$n]="stash53 workers $n"
        cmd[w$n]="$stash53_default --workers $n"
    done
    cat "$capture" >/dev/null  # the page cache, as for the file rows
    for round in $(seq "$runs"); do
        for id in w1 w2; do run "$id"; done
        echo "scaling: round $round of $runs done" >&2
    done
    for id in w1 w2; do medians_of "$id"; done

    echo "| row | messages | messages/s (wall) | messages per CPU-second | peak RSS | target | result |"
    echo "| --- | ---: | ---: | ---: | ---: | --- | --- |"
    for id in w1 w2; do
        awk -v l="${label[$id]}" -v m="${msgs[$id]}" -v p="${pps[$id]}" -v c="${mcs[$id]}" \
            -v r="${rss[$id]}" "$awk_g"'
        BEGIN { printf "| %s | %s | %s | %s | %.1f MiB | — | — |\n", l, g(m), g(p), g(c), r / 1024 }'
    done
    echo "| workers 2 / workers 1 (wall throughput) | — | $(times "${pps[w2]}" "${pps[w1]}") | — | — |" \
        "≥ 1.6× | $(met "${pps[w2]} >= 1.6 * ${pps[w1]}") |"
    echo
    echo "Command: \`$stash53_default --workers N\` (row e's, plus the flag)."
    if [ "${msgs[w1]}" != "${msgs[w2]}" ]; then
        echo "Note: the message counts differ, workers 1 $(num "${msgs[w1]}"), workers 2 $(num "${msgs[w2]}")."
    fi
    echo
}

if want scaling; then scaling_section; fi

# ---------------------------------------------------------------------------------------------
# The combined table.
load_results
summary=$work/summary
: >"$summary"
row() {  # SECTION WHAT STASH53 PEER RATIO TARGET RESULT; an empty cell shows as a dash
    local cell out=
    for cell in "$@"; do out="$out ${cell:-—} |"; done
    echo "|$out" >>"$summary"
}
# A section script's rows when it did not finish: SECTION WHAT.
failed_row() { row "$1" "$2" "not measured: ${R[$3.rc]:-not run}" "" "" "$4" "not measured"; }

if want file; then
    u="messages per CPU-second"
    row file "stash53 (e) vs libpcap floor, $u" "$(num "${mcs[e]}")" "$(num "${mcs[a]}")" \
        "$(times "${mcs[e]}" "${mcs[a]}")" "" ""
    row file "stash53 (e) vs tcpdump -n -r, $u" "$(num "${mcs[e]}")" "$(num "${mcs[b]}")" \
        "$(times "${mcs[e]}" "${mcs[b]}")" "≥ 2.5×" "$(met "${mcs[e]} >= 2.5 * ${mcs[b]}")"
    if [ -n "${mcs[c]:-}" ]; then
        row file "stash53 (e) vs dnscap txtout, $u" "$(num "${mcs[e]}")" "$(num "${mcs[c]}")" \
            "$(times "${mcs[e]}" "${mcs[c]}")" "—" "—"
    else
        row file "stash53 (e) vs dnscap txtout" "$(num "${mcs[e]}")" "dnscap not installed" "" "—" "—"
    fi
    row file "stash53 (e) vs tshark -T fields, $u" "$(num "${mcs[e]}")" "$(num "${mcs[d1]}")" \
        "$(times "${mcs[e]}" "${mcs[d1]}")" "—" "—"
    row file "stash53 (e) vs tshark -T ek, $u" "$(num "${mcs[e]}")" "$(num "${mcs[d2]}")" \
        "$(times "${mcs[e]}" "${mcs[d2]}")" "≥ 100×" "$(met "${mcs[e]} >= 100 * ${mcs[d2]}")"
    row file "stash53 (e) default enrichers, $u" "$(num "${mcs[e]}")" "" "" "≥ 1,500,000" \
        "$(met "${mcs[e]} >= 1500000")"
    row file "stash53 (e) peak RSS" "$(awk -v r="${rss[e]}" 'BEGIN { printf "%.1f MiB", r / 1024 }')" \
        "" "" "≤ 64 MiB" "$(met "${rss[e]} <= 64 * 1024")"
    row file "stash53 (f) geoip+public_suffix+security, transactions, $u (vs e)" "$(num "${mcs[f]}")" \
        "$(num "${mcs[e]}")" "$(times "${mcs[f]}" "${mcs[e]}")" "≥ 1,000,000" "$(met "${mcs[f]} >= 1000000")"
fi

if want live; then
    if [ -n "${R[live.stash53]:-}" ] && [ -n "${R[live.tcpdump]:-}" ]; then
        td=${R[live.tcpdump]} sq=${R[live.stash53]}
        what="highest rate with zero drops, qps (stash53 --redis vs tcpdump -w /dev/null)"
        if [ "$td" -gt 0 ]; then
            row live "$what" "$(num "$sq")" "$(num "$td")" "$(percent "$sq" "$td")" "≥ 90%" \
                "$(met "$sq >= 0.9 * $td")"
        else
            row live "$what" "$(num "$sq")" "0 (tcpdump dropped at the lowest rate)" "" "≥ 90%" "not met"
        fi
        cq=${R[live.cpu_target_qps]}
        if [ "${R[live.cpu_estimate]}" = 1 ]; then
            row live "stash53 CPU at $(num "$cq") qps, % of one core" \
                "${R[live.cpu]}% (estimate: ${R[live.cpu_measured]}% at $(num "${R[live.cpu_achieved_qps]}") qps reached, scaled)" \
                "" "" "< 25%" "$(met "${R[live.cpu]} < 25") (estimate)"
        else
            row live "stash53 CPU at $(num "$cq") qps, % of one core" "${R[live.cpu]}%" "" "" "< 25%" \
                "$(met "${R[live.cpu]} < 25")"
        fi
    else
        failed_row live "highest rate with zero drops, stash53 vs tcpdump" live "≥ 90%"
        failed_row live "stash53 CPU at 100,000 qps" live "< 25%"
    fi
fi

if want emitters; then
    if [ -n "${R[redis.stash53]:-}" ]; then
        row emitters "Redis list, events/s ($(num "${R[redis.size]}")-byte events; ceiling: redis-benchmark RPUSH -P 256)" \
            "$(num "${R[redis.stash53]}")$([ "${R[redis.ok]}" = 1 ] || echo ' (events lost)')" \
            "$(num "${R[redis.ceiling]}")" "$(percent "${R[redis.stash53]}" "${R[redis.ceiling]}")" "≥ 70%" \
            "$(met "${R[redis.ok]} == 1 && ${R[redis.stash53]} >= 0.7 * ${R[redis.ceiling]}")"
    else
        failed_row emitters "Redis list" redis "≥ 70%"
    fi
    if [ -n "${R[zmq.stash53]:-}" ]; then
        row emitters "ZeroMQ PUB, events/s ($(num "${R[zmq.size]}")-byte events; ceiling: bare XPUB send loop)" \
            "$(num "${R[zmq.stash53]}")" "$(num "${R[zmq.ceiling]}")" \
            "$(percent "${R[zmq.stash53]}" "${R[zmq.ceiling]}")" "≥ 70%" \
            "$(met "${R[zmq.stash53]} >= 0.7 * ${R[zmq.ceiling]}")"
    else
        failed_row emitters "ZeroMQ PUB" zmq "≥ 70%"
    fi
    for qos in 0 1; do
        if [ -n "${R[mqtt.qos$qos.epm1]:-}" ]; then
            row emitters "MQTT QoS $qos, events/s ($(num "${R[mqtt.size]}")-byte events; ceiling: bare Paho publisher)" \
                "$(num "${R[mqtt.qos$qos.epm1]}")$([ "${R[mqtt.ok]:-0}" = 1 ] || echo ' (a run lost events)')" \
                "$(num "${R[mqtt.qos$qos.ceiling]}")" \
                "$(percent "${R[mqtt.qos$qos.epm1]}" "${R[mqtt.qos$qos.ceiling]}")" "≥ 70%" \
                "$(met "${R[mqtt.ok]:-0} == 1 && ${R[mqtt.qos$qos.epm1]} >= 0.7 * ${R[mqtt.qos$qos.ceiling]}")"
        else
            failed_row emitters "MQTT QoS $qos" mqtt "≥ 70%"
        fi
    done
fi

if want scaling; then
    what="workers 2 / workers 1 (wall throughput), messages/s (stash53 --workers 2 vs --workers 1)"
    if [ -n "$scaling_skipped" ]; then
        row scaling "$what" "not measured: $scaling_skipped" "" "" "≥ 1.6×" "not measured"
    else
        row scaling "$what" "$(num "${pps[w2]}")" "$(num "${pps[w1]}")" "$(times "${pps[w2]}" "${pps[w1]}")" \
            "≥ 1.6×" "$(met "${pps[w2]} >= 1.6 * ${pps[w1]}")"
    fi
fi

took=$(( $(date +%s) - began ))
echo "## Summary"
echo
echo "- $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
echo "- load average before: $load_before; after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- took $((took / 60)) min $((took % 60)) s; capture $capture ($packets packets)"
want emitters && echo "- emitters on the first $(num "$emitter_packets") packets (Redis, ZeroMQ) and $(num "$mqtt_packets") (MQTT)"
echo
echo "| section | what | stash53 | peer or server's ceiling | ratio | target | result |"
echo "| --- | --- | ---: | ---: | ---: | --- | --- |"
cat "$summary"
