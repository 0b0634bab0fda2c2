#!/usr/bin/env bash
# What observability costs, in one interleaved run beside the same baselines as run.sh: direct
# (the nginx mock upstream), nginx proxy_pass, and Switchyard three ways — `quiet` (no request
# log, no metrics), `switchyard` (JSON request log and metrics on: the default), and `tracing`
# (log, metrics and every request's spans exported as OTLP/HTTP JSON; the "collector" is the nginx
# mock, which answers any POST to its chat path with 200).
#   bench/observability.sh                                   REPS=3 PINS="1 0", max + fixed rates
#   REPS=1 PINS=1 MODES=max DURATION=5 bench/observability.sh   a quick look
# Results: $BENCH_DIR/results/<timestamp>/{summary.md,runs.csv,setup.txt}
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
scripts/install-deps.sh --bench
scripts/build.sh switchyard >/dev/null
h=$root/bench/harness
. "$h/common.sh"
export MODES=${MODES:-"max rate:1000:wrk"}

trap '"$h/stop_all.sh"' EXIT
"$h/start_mock.sh"
"$h/start_nginx_proxy.sh"

# One gateway per setup, each like bench/switchyard.yaml (one worker) on its own port.
start() {  # name port log-requests extra-yaml
  local config=$BENCH_DIR/$1.yaml
  { sed "s/127.0.0.1:18090/127.0.0.1:$2/" "$root/bench/switchyard.yaml"; printf '%b' "$4"; } >"$config"
  port_busy "$2" && die "port $2 already in use"
  SWITCHYARD_BENCH_LOG=$3 nohup "$root/build/switchyard" --config "$config" \
    >"$BENCH_DIR/$1.log" 2>&1 </dev/null &
  echo $! >"$RUN_DIR/$1_$2.pid"
  wait_port "$2" 10 || die "$1 did not come up (see $BENCH_DIR/$1.log)"
}
start quiet 18095 false "metrics:\n  enabled: false\n"
start switchyard 18090 true ""
start tracing 18096 true \
  "tracing:\n  endpoint: http://127.0.0.1:${MOCK_PORT}${CHAT_PATH}\n  sample: 1\n  max_queue: 65536\n"

targets=$BENCH_DIR/observability-targets.conf
cat >"$targets" <<'TARGETS'
direct        | http://127.0.0.1:${MOCK_PORT}${CHAT_PATH}        | mock_${MOCK_PORT}.pid               | -
nginx         | http://127.0.0.1:${NGINX_PROXY_PORT}${CHAT_PATH} | nginx_proxy_${NGINX_PROXY_PORT}.pid | -
quiet         | http://127.0.0.1:18095${CHAT_PATH}               | quiet_18095.pid                     | -
switchyard    | http://127.0.0.1:18090${CHAT_PATH}               | switchyard_18090.pid                | -
tracing       | http://127.0.0.1:18096${CHAT_PATH}               | tracing_18096.pid                   | -
TARGETS

{ echo "# machine: $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
  echo "# switchyard $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown), $(nginx -v 2>&1)"; }
"$h/bench.sh" -t "$targets" "$@"
# The tracing gateway's own account of its spans: exported, dropped, failed.
curl -s http://127.0.0.1:18096/metrics | grep '^switchyard_trace_spans' || true
