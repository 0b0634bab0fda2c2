#!/usr/bin/env bash
# Instructions per request and per relayed stream event, from callgrind: a deterministic cost
# measure where wall-clock runs on a shared VM swing by 2x from one day to the next.
#   bench/instructions.sh [BINARY...]        (default: build/switchyard)
#   bench/instructions.sh --check            fails when build/switchyard costs more than
#                                            bench/instructions.baseline allows (+2 % a request,
#                                            +5 % an event, whose count moves by ±4 % between
#                                            runs of one binary): the regression check any
#                                            change can run
#   bench/instructions.sh --record           writes build/switchyard's counts as the baseline
#   REQUESTS=2000 EVENTS=0 bench/instructions.sh old/switchyard build/switchyard
#   CONFIG_EXTRA=$'metrics:\n  enabled: false\n' SWITCHYARD_BENCH_LOG=false bench/instructions.sh
#                                            (YAML appended to the config: a setting's cost)
#   KEEP=dir bench/instructions.sh           (keeps each profile for callgrind_annotate)
#   SDK_HEADERS=1 EVENTS=0 bench/instructions.sh OLD NEW
#                                            the requests also carry the header fields an
#                                            OpenAI SDK (Node) adds: what a field costs
#   HITS=0 bench/instructions.sh             leaves out the cache hits
# Requests: each binary runs under callgrind on bench/switchyard.yaml in front of the harness's
# nginx mock upstream; after a warm-up its counters are zeroed, REQUESTS requests (the harness's
# 1.1 KB chat body) are sent one after another over one keep-alive connection, and its
# user-space instruction count is divided by them.
# Hits: the same with the memory cache on, so that every measured request is answered from it.
# Events: the same config in front of switchyard-mock streaming 100 chunks 20 ms apart;
# tools/stream-load opens 200 streams at once, and the count is divided by the events relayed
# (the requests that opened the streams included, about 0.6k an event).
# Needs valgrind, nginx and curl (scripts/install-deps.sh --bench).
set -euo pipefail
cd "$(dirname "$0")/.."
h=bench/harness
. "$h/common.sh"
REQUESTS=${REQUESTS:-2000}
EVENTS=${EVENTS:-1}
HITS=${HITS:-1}
TOLERANCE_PCT=${TOLERANCE_PCT:-2}
# How many events one read of a stream brings depends on timing, and with it the count per event.
EVENT_TOLERANCE_PCT=${EVENT_TOLERANCE_PCT:-5}
baseline_file=bench/instructions.baseline
mode=compare
case "${1:-}" in
  --check | --record) mode=${1#--}; shift ;;
esac
[ $# -gt 0 ] || set -- build/switchyard
command -v valgrind >/dev/null || die "valgrind not installed"
scripts/build.sh switchyard switchyard-mock switchyard-stream-load >/dev/null

"$h/start_mock.sh" >/dev/null
work=$(mktemp -d)
mock_pid=
trap '"$h/stop_all.sh" >/dev/null 2>&1 || true; [ -n "$mock_pid" ] && kill "$mock_pid" 2>/dev/null; rm -rf "$work"' EXIT
{ cat bench/switchyard.yaml; printf '%s' "${CONFIG_EXTRA:-}"; } >"$work/config.yaml"
sed -e 's/18080/18085/' "$work/config.yaml" >"$work/events.yaml"
# The harness's body has temperature 0.2: the cache is told to keep such answers.
printf 'cache:\n  backend: memory\n  max_temperature: 1\n' | cat "$work/config.yaml" - >"$work/hits.yaml"
sed 's/"stream":false/"stream":true/' "$h/body.json" >"$work/stream.json"

# The fields an OpenAI SDK for Node sends besides curl's (its x-stainless-* telemetry).
sdk_headers=()
if [ "${SDK_HEADERS:-0}" = 1 ]; then
  for field in 'accept: application/json' 'authorization: Bearer sk-bench-0000000000000000' \
    'user-agent: OpenAI/JS 4.104.0' 'x-stainless-lang: js' 'x-stainless-package-version: 4.104.0' \
    'x-stainless-os: Linux' 'x-stainless-arch: x64' 'x-stainless-runtime: node' \
    'x-stainless-runtime-version: v20.20.2' 'x-stainless-retry-count: 0' \
    'x-stainless-timeout: 600' 'accept-encoding: gzip,deflate'; do
    sdk_headers+=(-H "$field")
  done
fi
# N requests over one connection (curl reuses it across the URL list).
send() {
  local n=$1 urls=()
  for ((i = 0; i < n; i++)); do urls+=(-o /dev/null "http://127.0.0.1:18090$CHAT_PATH"); done
  curl -s --fail -H 'content-type: application/json' ${sdk_headers[@]+"${sdk_headers[@]}"} \
    --data-binary @"$h/body.json" "${urls[@]}"
}
streams() {
  build/switchyard-stream-load --target 127.0.0.1:18090 --streams "$1" --body "$work/stream.json" |
    sed -n 's/.* events=\([0-9]*\).*/\1/p'
}

# measure BINARY CONFIG WARMUP MEASURE NAME: user-space instructions per measured unit
measure() {
  local bin=$1 config=$2 warm=$3 run=$4 name=$5 out=$work/callgrind.out pid units total
  valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" --config "$config" \
    >"$work/gateway.log" 2>"$work/valgrind.log" &
  pid=$!
  wait_port 18090 60 || die "$bin did not start"
  $warm >/dev/null
  callgrind_control -z "$pid" >/dev/null
  units=$($run)
  callgrind_control -d "$pid" >/dev/null
  kill -TERM "$pid"
  wait "$pid" 2>/dev/null || true
  # The dump taken after the measured units (file .1); the summary line is its Ir total.
  total=$(grep -h '^summary:' "$out".1 2>/dev/null || grep -h '^totals:' "$out".1)
  [ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cp "$out".1 "$KEEP/$(basename "$bin").$name.callgrind"
  rm -f "$out"*
  echo $((${total##* } / units))
}
requests() { send "$REQUESTS"; echo "$REQUESTS"; }
warm_requests() { send 200; }
warm_streams() { streams 10; }
events() { streams 200; }

declare -A count
for bin in "$@"; do
  count[$bin.requests]=$(measure "$bin" "$work/config.yaml" warm_requests requests requests)
  echo "$bin: ${count[$bin.requests]} instructions/request ($REQUESTS requests)"
  if [ "$HITS" = 1 ]; then
    count[$bin.hits]=$(measure "$bin" "$work/hits.yaml" warm_requests requests hits)
    echo "$bin: ${count[$bin.hits]} instructions/cache hit ($REQUESTS requests)"
  fi
  if [ "$EVENTS" = 1 ]; then
    build/switchyard-mock --listen 127.0.0.1:18085 --name mock --chunks 100 \
      --chunk-delay-ms 20 >"$work/mock.log" 2>&1 &
    mock_pid=$!
    wait_port 18085 20 || die "switchyard-mock did not start"
    count[$bin.events]=$(measure "$bin" "$work/events.yaml" warm_streams events events)
    kill "$mock_pid"
    wait "$mock_pid" 2>/dev/null || true
    mock_pid=
    echo "$bin: ${count[$bin.events]} instructions/event (200 streams × 100 chunks)"
  fi
done

bin=$1
case $mode in
  record)
    printf 'requests %s\nevents %s\nhits %s\n' "${count[$bin.requests]}" \
      "${count[$bin.events]:-0}" "${count[$bin.hits]:-0}" >"$baseline_file"
    echo "recorded in $baseline_file"
    ;;
  check)
    status=0
    while read -r what allowed; do
      [ -n "${count[$bin.$what]:-}" ] || continue
      pct=$TOLERANCE_PCT
      [ "$what" = events ] && pct=$EVENT_TOLERANCE_PCT
      limit=$((allowed * (100 + pct) / 100))
      if [ "${count[$bin.$what]}" -gt "$limit" ]; then
        echo "REGRESSION: $what ${count[$bin.$what]} > $limit ($allowed in $baseline_file + $pct %)"
        status=1
      else
        echo "ok: $what ${count[$bin.$what]} ≤ $limit ($allowed + $pct %)"
      fi
    done <"$baseline_file"
    exit $status
    ;;
esac
