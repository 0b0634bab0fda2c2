#!/usr/bin/env bash
# The response cache under load, in one interleaved run beside the same baselines as run.sh:
# direct (the nginx mock upstream), nginx proxy_pass, Switchyard without a cache, and Switchyard
# answering every request from its cache — the memory backend, and the Redis backend on a local
# redis-server — plus a Redis cache *miss* on every request (its own key prefix, which nothing
# fills, and x-switchyard-cache: no-store: looked up, never stored), which is what the lookup
# adds to a request that goes upstream anyway.
#   bench/cache.sh                                   REPS=3 PINS="1 0", max + fixed rates
#   REPS=1 PINS=1 MODES=max DURATION=5 bench/cache.sh   a quick look
# Results: $BENCH_DIR/results/<timestamp>/{summary.md,runs.csv,setup.txt}
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
scripts/install-deps.sh --bench
scripts/build.sh switchyard >/dev/null
h=$root/bench/harness
. "$h/common.sh"
export MODES=${MODES:-"max rate:1000:wrk"}
redis_port=${REDIS_PORT:-18099}

trap '"$h/stop_all.sh"' EXIT
"$h/start_mock.sh"
"$h/start_nginx_proxy.sh"
port_busy "$redis_port" && die "port $redis_port already in use"
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
  --daemonize no >"$BENCH_DIR/redis.log" 2>&1 </dev/null &
echo $! >"$RUN_DIR/redis_$redis_port.pid"

# One gateway per setup, each like bench/switchyard.yaml (one worker, request log on) on its
# own port. The harness's body has temperature 0.2: the cache is told to keep such answers.
start() {  # name port cache-yaml
  local config=$BENCH_DIR/$1.yaml
  { sed "s/127.0.0.1:18090/127.0.0.1:$2/" "$root/bench/switchyard.yaml"; printf '%b' "$3"; } >"$config"
  port_busy "$2" && die "port $2 already in use"
  nohup "$root/build/switchyard" --config "$config" >"$BENCH_DIR/$1.log" 2>&1 </dev/null &
  echo $! >"$RUN_DIR/$1_$2.pid"
  wait_port "$2" 10 || die "$1 did not come up (see $BENCH_DIR/$1.log)"
}
start switchyard 18090 ""
start memory 18092 "cache:\n  backend: memory\n  max_temperature: 1\n"
start redis 18093 "redis:\n  url: redis://127.0.0.1:$redis_port\ncache:\n  backend: redis\n  max_temperature: 1\n"
start redismiss 18094 "redis:\n  url: redis://127.0.0.1:$redis_port\n  prefix: \"miss:\"\ncache:\n  backend: redis\n  max_temperature: 1\n"

targets=$BENCH_DIR/cache-targets.conf
cat >"$targets" <<'TARGETS'
direct        | http://127.0.0.1:${MOCK_PORT}${CHAT_PATH}        | mock_${MOCK_PORT}.pid               | -
nginx         | http://127.0.0.1:${NGINX_PROXY_PORT}${CHAT_PATH} | nginx_proxy_${NGINX_PROXY_PORT}.pid | -
switchyard    | http://127.0.0.1:18090${CHAT_PATH}               | switchyard_18090.pid                | -
memory-hit    | http://127.0.0.1:18092${CHAT_PATH}               | memory_18092.pid                    | -
redis-hit     | http://127.0.0.1:18093${CHAT_PATH}               | redis_18093.pid                     | -
redis-miss    | http://127.0.0.1:18094${CHAT_PATH}               | redismiss_18094.pid                 | x-switchyard-cache: no-store
TARGETS

{ echo "# machine: $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
  echo "# switchyard $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown), $(nginx -v 2>&1), $(redis-server --version | cut -d' ' -f1-3)"; }
"$h/bench.sh" -t "$targets" "$@"
