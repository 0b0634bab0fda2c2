#!/usr/bin/env bash
# What complexity routing saves. One deterministic mixed workload (bench/cost_report.mjs: 70 %
# short FAQ questions, 30 % long documents to summarise or tool-using requests) goes through
# Switchyard twice: as `model: auto`, a classifier route choosing between gpt-4o-mini and
# gpt-4o, then as `model: strong`, all on gpt-4o. Two switchyard-mocks stand in for the
# providers; they report usage (prompt tokens = body bytes / 4, completion tokens = the
# x-mock-chunks each request asks for). Prints requests per tier, tokens and cost of each pass —
# summed from x-switchyard-cost and recomputed from the bodies' usage, which must agree — and
# the saving.
#   bench/cost_report.sh                  200 requests per pass
#   REQUESTS=1000 bench/cost_report.sh
#   BUILD_DIR=build bench/cost_report.sh  the binaries in BUILD_DIR as they are, no build
# Needs Node.js >= 18 (scripts/install-deps.sh --test), no npm packages.
set -euo pipefail
cd "$(dirname "$0")/.."
# OpenAI's list prices, USD per 1M tokens.
MINI_INPUT=0.15 MINI_OUTPUT=0.60 BIG_INPUT=2.50 BIG_OUTPUT=10.00

command -v node >/dev/null || { echo "cost_report: needs node (scripts/install-deps.sh --test)" >&2; exit 1; }
if [ -z "${BUILD_DIR:-}" ]; then
  scripts/build.sh switchyard switchyard-mock >/dev/null
  BUILD_DIR=build
fi
work=$(mktemp -d)
pids=()
cleanup() {
  local rc=$?
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait "${pids[@]}" 2>/dev/null || true
  # The logs are what explains a failure.
  if [ "$rc" -eq 0 ]; then rm -rf "$work"; else echo "cost_report: logs in $work" >&2; fi
}
trap cleanup EXIT

started() {  # file, pattern: up to 10 s for the process started last to write it there (its log: NAME.log)
  for _ in $(seq 100); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    kill -0 "${pids[-1]}" 2>/dev/null || break
    sleep 0.1
  done
  echo "cost_report: no $2 in $1; the process's log:" >&2
  cat "${1%.*}.log" >&2
  exit 1
}

for name in p1 p2; do
  "$BUILD_DIR/switchyard-mock" --listen 127.0.0.1:0 --name "$name" --port-file "$work/$name.port" \
    >"$work/$name.log" 2>&1 &
  pids+=($!)
  started "$work/$name.port" .
done

# forward_headers lets each request's x-mock-chunks (its answer's size) reach the mock.
cat >"$work/switchyard.yaml" <<YAML
server: { listen: "127.0.0.1:0", workers: 1 }
log: { level: info, requests: false }
providers:
  p1: { type: openai, base_url: "http://127.0.0.1:$(cat "$work/p1.port")/v1", api_key: sk-bench, forward_headers: ["x-mock-*"] }
  p2: { type: openai, base_url: "http://127.0.0.1:$(cat "$work/p2.port")/v1", api_key: sk-bench, forward_headers: ["x-mock-*"] }
models:
  mini: { provider: p1, name: gpt-4o-mini, input: $MINI_INPUT, output: $MINI_OUTPUT }
  big: { provider: p2, name: gpt-4o, input: $BIG_INPUT, output: $BIG_OUTPUT }
routes:
  cheap: { targets: [mini] }
  strong: { targets: [big] }
  auto:
    complexity:
      simple: cheap
      complex: strong
      max_simple_tokens: 500   # estimated prompt tokens; tools make a request complex anyway
YAML
"$BUILD_DIR/switchyard" --config "$work/switchyard.yaml" >"$work/switchyard.log" 2>&1 &
pids+=($!)
# Port 0 and the port from the start-up line: no window in which another process takes it.
started "$work/switchyard.log" '"listening on 127.0.0.1:[0-9]*'
port=$(sed -n 's/.*"listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/switchyard.log" | head -1)

PRICES="{\"mini\": {\"name\": \"gpt-4o-mini\", \"input\": $MINI_INPUT, \"output\": $MINI_OUTPUT},
         \"big\": {\"name\": \"gpt-4o\", \"input\": $BIG_INPUT, \"output\": $BIG_OUTPUT}}" \
  node bench/cost_report.mjs "http://127.0.0.1:$port"
echo "switchyard $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)'), $(node --version)"
