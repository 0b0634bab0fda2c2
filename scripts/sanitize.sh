#!/usr/bin/env bash
# Builds with clang and a sanitizer, then runs the tests under it (docs/reliability.md):
#   scripts/sanitize.sh address   every test, AddressSanitizer + UndefinedBehaviorSanitizer, in
#                                 build-asan/ (which also holds the fuzz targets of scripts/fuzz.sh)
#   scripts/sanitize.sh thread    the tests where threads meet, ThreadSanitizer, in build-tsan/
# Every process the tests start — the gateway, the mock provider — runs sanitized too, and writes
# any report to build-<kind>/reports/; a report fails the run even when the process that wrote
# it was not the test's own (a gateway the harness only stops).
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-}
case $kind in
  address) dir=build-asan fuzz=ON ;;
  thread) dir=build-tsan fuzz=OFF ;;
  *) echo "usage: $0 address|thread" >&2; exit 2 ;;
esac
scripts/install-deps.sh --test --clang
CXX=clang++-14 cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSWITCHYARD_WERROR=ON \
  -DSWITCHYARD_SANITIZE="$kind" -DSWITCHYARD_FUZZ=$fuzz >/dev/null
cmake --build "$dir" -j "$(nproc)" --target switchyard switchyard-mock unit_tests integration_tests

reports=$PWD/$dir/reports
rm -rf "$reports" && mkdir -p "$reports"
# Halt on the first report, into a file per process; LeakSanitizer runs at every exit.
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:log_path=$reports/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:log_path=$reports/tsan"
tests='^(unit|integration)\.'
# Under TSan: the units that threads share (counters, shards, pools, the dispatcher, reloads) and
# every integration test — each runs the gateway with several workers.
shared='MemoryStore|RateLimiter|SpendWindows|Metrics|DispatcherTest|FileWatch|ActiveSessions'
shared+='|IdleList|OriginPool|KeyRing|TargetHealth|OutcomeWindow'
[ "$kind" = thread ] && tests="^unit\.($shared)\.|^integration\."
status=0
ctest --test-dir "$dir" --output-on-failure -j 2 --timeout 600 -R "$tests" || status=1
if [ -n "$(ls -A "$reports")" ]; then
  echo "sanitizer reports:" >&2
  for r in "$reports"/*; do echo "== $r" >&2; head -60 "$r" >&2; done
  status=1
fi
exit $status
