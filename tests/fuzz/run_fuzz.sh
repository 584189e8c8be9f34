#!/bin/sh
# Usage: run_fuzz.sh BUILD_DIR SECONDS [TARGET...]
#
# Builds the libFuzzer targets with clang in BUILD_DIR (a build tree of its own; the CTest entries
# of the main build use <build>/fuzz-clang), makes the seed corpus from the sample inputs, and
# runs each TARGET (dns_wire, packet, dnstap, dnsmasq; default all) for SECONDS. Exits non-zero
# on any crash, leak, timeout, out-of-memory or sanitizer report; the reproducer is then in
# BUILD_DIR/fuzz-artifacts/ and the report in BUILD_DIR/fuzz-logs/.
# Environment: STASH53_SHARED_DIR (default ../shared beside the sources) for the sample pcaps,
# dnstap files and dnsmasq logs; FUZZ_ARGS, extra libFuzzer flags (e.g. -runs=10000000 instead
# of the time limit).
set -eu
[ $# -ge 2 ] || { sed -n '2,11s/^# \{0,1\}//p' "$0" >&2; exit 2; }
src=$(cd "$(dirname "$0")/../.." && pwd)
# llvm-symbolizer: without it reports have no file names and ubsan.supp cannot match.
for tool in clang clang++ llvm-symbolizer; do
  command -v "$tool" >/dev/null ||
    { echo "run_fuzz.sh: $tool missing (Debian packages clang libclang-rt-14-dev llvm)" >&2; exit 1; }
done
build=$1
seconds=$2
shift 2
targets=${*:-dns_wire packet dnstap dnsmasq}
shared=${STASH53_SHARED_DIR:-$src/../shared}
mkdir -p "$build"
build=$(cd "$build" && pwd)

# Every library gets coverage and sanitizer instrumentation. UBSan checks stay recoverable so
# ubsan.supp can silence third-party code; halt_on_error below stops at any other report. -O2
# without NDEBUG keeps assert(), and libstdc++'s checks catch an index past a string_view or
# vector that ASan cannot see.
flags="-fsanitize=fuzzer-no-link,address,undefined -fsanitize-coverage-ignorelist=$src/tests/fuzz/coverage_ignore.txt -fno-omit-frame-pointer -D_GLIBCXX_ASSERTIONS"

# The geoip enricher reads the databases the main build fetched, next to this tree (none: it
# steps aside). ctest -j may start both targets at once: one configures, builds and makes the seeds.
(
  flock 9
  # Configured every time (a few seconds, nothing rebuilt) so changed flags are never stale.
  CC=clang CXX=clang++ cmake -S "$src" -B "$build" -DSTASH53_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g" \
    -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
    -DSTASH53_SHARED_DIR="$shared" -DSTASH53_FETCH_GEOIP=OFF \
    -DSTASH53_GEOIP_DIR="$(dirname "$build")/geoip" >"$build/fuzz-configure.log" 2>&1 ||
    { cat "$build/fuzz-configure.log" >&2; exit 1; }
  # shellcheck disable=SC2046,SC2086
  cmake --build "$build" -j"$(nproc)" --target $(printf 'fuzz_%s ' $targets) >"$build/fuzz-build.log" 2>&1 ||
    { tail -n 60 "$build/fuzz-build.log" >&2; exit 1; }
  # Seeds are named by content and only added, so a run that is reading them never loses one.
  /usr/bin/python3 "$src/tests/fuzz/make_corpus.py" "$build/fuzz-seeds" "$shared/pcaps" "$src/tests/data" \
    "$shared"/dnstap/*/*.dnstap "$shared/dnsmasq/dnsmasq.log" "$shared"/dnsmasq/syslog/messages.*
) 9>"$build/.fuzz.lock"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:suppressions=$src/tests/fuzz/ubsan.supp}"
mkdir -p "$build/fuzz-artifacts" "$build/fuzz-logs"
status=0
for t in $targets; do
  corpus="$build/fuzz-corpus/$t"  # what the fuzzer finds is kept for the next run
  log="$build/fuzz-logs/$t.log"
  mkdir -p "$corpus"
  rc=0
  # shellcheck disable=SC2086
  "$build/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$build/fuzz-artifacts/$t-" ${FUZZ_ARGS:-} \
    "$corpus" "$build/fuzz-seeds/$t" >"$log" 2>&1 || rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log")
  # Belt and braces: a sanitizer report that somehow did not stop the run still fails it.
  if [ "$rc" -ne 0 ] || grep -Eq 'runtime error:|ERROR: (Address|Leak|UndefinedBehavior)Sanitizer|ERROR: libFuzzer' "$log"; then
    echo "fuzz_$t: FAILED (exit $rc) after ${runs:-?} runs; report $log" >&2
    grep -v '^#[0-9]' "$log" | tail -n 80 >&2
    status=1
  else
    echo "fuzz_$t: ${runs:-?} runs in ${took:-?} s, ${speed:-?} exec/s, corpus $(find "$corpus" -type f | wc -l) files, no crash"
  fi
done
exit $status
