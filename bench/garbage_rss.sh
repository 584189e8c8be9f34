#!/bin/sh
# Usage: bench/garbage_rss.sh [BUILD_DIR [SIZE_MB]]     (defaults: build, 1024)
#
# Hostile input at scale: writes SIZE_MB of random garbage on port 53 (bench/make_garbage.py:
# UDP and TCP, IPv4 and IPv6, random TCP flags and sequence numbers, IP fragments) to /tmp,
# decodes it with BUILD_DIR/stash53 into /dev/null under /usr/bin/time -v, and prints the packet,
# message and malformed counts of stash53's closing stats line and its peak RSS. Fails when
# stash53 does not exit 0. The capture is deleted afterwards.
set -eu
build=${1:-build}
size=${2:-1024}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d /tmp/stash53-garbage.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

/usr/bin/python3 "$here/make_garbage.py" "$tmp/garbage.pcap" "$size"
rc=0
/usr/bin/time -v "$build/stash53" -r "$tmp/garbage.pcap" -o /dev/null 2>"$tmp/stderr" || rc=$?
stats=$(grep -o 'packets=.*' "$tmp/stderr" | tail -n 1)
field() { printf '%s\n' "$stats" | grep -o " $1=[0-9]*" | head -n 1 | cut -d= -f2; }
timed() { sed -n "s/^[[:space:]]*$1: //p" "$tmp/stderr"; }

echo "capture:     $size MiB of garbage"
echo "packets:     $(printf '%s\n' "$stats" | sed 's/^packets=\([0-9]*\).*/\1/')"
echo "messages:    $(field messages)"
echo "malformed:   $(field malformed) $(printf '%s\n' "$stats" | sed -n 's/.* malformed=[0-9]* \((.*)\).*/\1/p' | cut -d' ' -f1)"
echo "peak RSS:    $(( $(timed 'Maximum resident set size (kbytes)') / 1024 )) MiB"
echo "wall time:   $(timed 'Elapsed (wall clock) time (h:mm:ss or m:ss)')"
echo "stats line:  $stats"
if [ "$rc" -ne 0 ]; then
  echo "stash53 exited $rc:" >&2
  cat "$tmp/stderr" >&2
  exit 1
fi
