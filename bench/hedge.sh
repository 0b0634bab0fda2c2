#!/usr/bin/env bash
# Hedged requests against a primary with a slow tail: SLOW_PERCENT % of its answers take SLOW_MS,
# the fallback is always fast. The same paced load (wrk + harness/post.lua) goes, in one run, to
#   direct  — the primary mock itself, no gateway
#   plain   — Switchyard, route [primary, fallback] without hedging
#   hedged  — the same route with `hedge: { after: HEDGE_AFTER }`
# and the client's latency percentiles are printed with the upstream requests each cost
# (wrk --timeout 30s: its default 2 s would drop exactly the slow answers from the statistics).
#   bench/hedge.sh                                   RATE=100 DURATION=30 SLOW_PERCENT=5
#   RATE=200 DURATION=20 HEDGE_AFTER=100ms bench/hedge.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
RATE=${RATE:-100}
DURATION=${DURATION:-30}
SLOW_PERCENT=${SLOW_PERCENT:-5}
SLOW_MS=${SLOW_MS:-2000}
HEDGE_AFTER=${HEDGE_AFTER:-150ms}
CONNECTIONS=${CONNECTIONS:-64}

scripts/install-deps.sh --bench >/dev/null
scripts/build.sh switchyard switchyard-mock >/dev/null
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

wait_file() {
  for _ in $(seq 100); do [ -s "$1" ] && return 0; sleep 0.1; done
  echo "timed out waiting for $1" >&2
  exit 1
}

mock() {  # name, extra flags...
  local name=$1
  shift
  build/switchyard-mock --listen 127.0.0.1:0 --name "$name" --port-file "$work/$name.port" \
    --threads 2 "$@" >"$work/$name.log" 2>&1 &
  pids+=($!)
  wait_file "$work/$name.port"
}
mock primary --delay-ms "$SLOW_MS" --delay-percent "$SLOW_PERCENT"
mock fallback
primary=$(cat "$work/primary.port")
fallback=$(cat "$work/fallback.port")

cat >"$work/switchyard.yaml" <<YAML
server: { listen: "127.0.0.1:0", workers: 1 }
log: { level: warn, requests: false }
providers:
  primary:  { type: openai, base_url: "http://127.0.0.1:$primary/v1", api_key: sk-bench }
  fallback: { type: openai, base_url: "http://127.0.0.1:$fallback/v1", api_key: sk-bench }
models:
  m-primary:  { provider: primary, name: gpt-4o-mini, input: 2.50, output: 10.00 }
  m-fallback: { provider: fallback, name: gpt-4o-mini, input: 2.50, output: 10.00 }
routes:
  plain:  { targets: [m-primary, m-fallback] }
  hedged: { targets: [m-primary, m-fallback], hedge: { after: $HEDGE_AFTER } }
YAML
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed -i "s/127.0.0.1:0\"/127.0.0.1:$port\"/" "$work/switchyard.yaml"
build/switchyard --config "$work/switchyard.yaml" >"$work/switchyard.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done

requests_of() {  # mock port → chat requests it has served
  curl -fs "http://127.0.0.1:$1/_mock/stats" |
    python3 -c 'import json,sys; s=json.load(sys.stdin); print(sum(v for k,v in s["requests"].items() if "chat/completions" in k))'
}

printf '%-7s %8s %8s %8s %8s %8s %10s %10s\n' target rps p50_ms p90_ms p99_ms max_ms primary fallback
for target in direct plain hedged; do
  model=$target
  url="http://127.0.0.1:$port/v1/chat/completions"
  if [ "$target" = direct ]; then
    model=gpt-4o-mini
    url="http://127.0.0.1:$primary/v1/chat/completions"
  fi
  printf '{"model":"%s","messages":[{"role":"user","content":"Say hello."}]}' "$model" >"$work/body.json"
  curl -fs -X POST "http://127.0.0.1:$primary/_mock/reset" >/dev/null
  curl -fs -X POST "http://127.0.0.1:$fallback/_mock/reset" >/dev/null
  result=$(wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --timeout 30s -s bench/harness/post.lua "$url" -- \
    body="$work/body.json" rate="$RATE" threads=2 | grep '^RESULT')
  field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<"$result"; }
  printf '%-7s %8s %8.1f %8.1f %8.1f %8.1f %10s %10s\n' "$target" "$(field rps)" \
    "$(echo "$(field p50_us) / 1000" | bc -l)" "$(echo "$(field p90_us) / 1000" | bc -l)" \
    "$(echo "$(field p99_us) / 1000" | bc -l)" "$(echo "$(field max_us) / 1000" | bc -l)" \
    "$(requests_of "$primary")" "$(requests_of "$fallback")"
done
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "load: $RATE req/s for ${DURATION}s per target; primary slow ($SLOW_MS ms) on $SLOW_PERCENT %; hedge after $HEDGE_AFTER"
curl -fs "http://127.0.0.1:$port/admin/health" | python3 -c 'import json,sys; print("gateway counters:", json.load(sys.stdin)["counters"])'
