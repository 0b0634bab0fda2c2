#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang, the whole core instrumented, AddressSanitizer
# and UndefinedBehaviorSanitizer) into build-asan/ — the build of `scripts/sanitize.sh address` —
# and runs each from its seeds, bounded.
#   scripts/fuzz.sh                         every target, TOTAL_SECONDS=60 shared between them
#   TOTAL_SECONDS=600 scripts/fuzz.sh http1_fuzz sse_fuzz    these targets only
#   RUNS=10000000 scripts/fuzz.sh           each target for that many executions (no time bound)
# Prints a line per target: executions, seconds, corpus size, and fails if any target crashed.
# A crash leaves its input in build-asan/crashes/<target>/: with the fix, it goes into
# tests/fuzz/regressions/<target>/, which every ordinary build replays (ctest -R '^fuzz\.').
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test --clang
CXX=clang++-14 cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Release -DSWITCHYARD_WERROR=ON \
  -DSWITCHYARD_SANITIZE=address -DSWITCHYARD_FUZZ=ON >/dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for source in tests/fuzz/*_fuzz.cpp; do targets+=("$(basename "$source" .cpp)"); done
fi
build_args=()
for t in "${targets[@]}"; do build_args+=(--target "$t"); done
cmake --build build-asan -j "$(nproc)" "${build_args[@]}"

total=${TOTAL_SECONDS:-60}
per_target=$((total / ${#targets[@]}))
[ "$per_target" -ge 5 ] || per_target=5
bound=(-max_total_time="$per_target")
[ -n "${RUNS:-}" ] && bound=(-runs="$RUNS")
status=0
printf '%-20s %12s %8s %8s\n' target executions seconds corpus
for t in "${targets[@]}"; do
  corpus=build-asan/corpus/$t crashes=build-asan/crashes/$t log=build-asan/$t.log
  mkdir -p "$corpus" "$crashes"
  # Each target's dictionary: the token lists (tests/fuzz/dict) of the formats it reads.
  case $t in
    sse_fuzz) formats="sse" ;;
    provider_fuzz) formats="json sse" ;;
    http1_fuzz) formats="http" ;;
    config_fuzz) formats="yaml" ;;
    header_values_fuzz) formats="http" ;;
    redis_fuzz) formats="resp json" ;;
    *) formats="json" ;;
  esac
  dict=build-asan/$t.dict
  for f in $formats; do cat "tests/fuzz/dict/$f.dict"; done >"$dict"
  started=$SECONDS
  if ! "build-asan/tests/fuzz/$t" "$corpus" "tests/fuzz/corpus/$t" -dict="$dict" "${bound[@]}" \
      -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$crashes/" \
      >"$log" 2>&1; then
    echo "$t: CRASHED — input in $crashes/, log in $log" >&2
    grep -m5 -E 'ERROR|runtime error|SUMMARY' "$log" >&2 || true
    status=1
  fi
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  printf '%-20s %12s %8s %8s\n' "$t" "${executions:-?}" "$((SECONDS - started))" \
    "$(find "$corpus" -type f | wc -l)"
done
exit $status
