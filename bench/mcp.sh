#!/usr/bin/env bash
# MCP tools/call round trips through Switchyard against the same calls made directly to the
# upstream, in one run. The upstream is switchyard-mock's MCP endpoint (Streamable HTTP, one JSON
# answer per call: a fast server, so what is measured is the gateway). Two loads per target:
#   latency  — one connection, one call after another: p50/p99 of a round trip
#   capacity — CONNECTIONS connections as fast as they go: calls/s
# and the gateway's added latency (its p50 and p99 minus the direct ones). Targets: `direct` (the
# mock), `one` (Switchyard's /mcp/mock: the server as it is) and `all` (/mcp: every server, the
# tool named mock__echo).
#   bench/mcp.sh                          DURATION=10 CONNECTIONS=32
#   WORKERS=2 bench/mcp.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
WORKERS=${WORKERS:-1}

scripts/install-deps.sh --bench >/dev/null
scripts/build.sh switchyard switchyard-mock >/dev/null
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

build/switchyard-mock --listen 127.0.0.1:0 --name mcp --port-file "$work/mock.port" --threads 2 \
  >"$work/mock.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/mock.port" ] && break; sleep 0.1; done
upstream=$(cat "$work/mock.port")

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/switchyard.yaml" <<YAML
server: { listen: "127.0.0.1:$port", workers: $WORKERS }
log: { level: warn, requests: false }
providers:
  unused: { type: openai, base_url: "http://127.0.0.1:9/v1" }
models:
  unused: { provider: unused }
mcp:
  servers:
    mock: { transport: http, url: "http://127.0.0.1:$upstream/mcp" }
YAML
build/switchyard --config "$work/switchyard.yaml" >"$work/switchyard.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done

accept='Accept: application/json, text/event-stream'
# A session with each: the gateway's (signed) and the mock's.
session_of() {  # URL → the Mcp-Session-Id its initialize answers with
  curl -fs -D - -o /dev/null -H 'Content-Type: application/json' -H "$accept" "$1" \
    -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}' |
    sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: *\([^\r]*\).*/\1/p'
}
direct_url="http://127.0.0.1:$upstream/mcp"
one_url="http://127.0.0.1:$port/mcp/mock"
all_url="http://127.0.0.1:$port/mcp"
direct_session=$(session_of "$direct_url")
one_session=$(session_of "$one_url")
all_session=$(session_of "$all_url")
[ -n "$one_session" ] || { echo "no session from the gateway" >&2; cat "$work/switchyard.log" >&2; exit 1; }
call() {  # tool name → a tools/call body
  printf '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"%s","arguments":{"message":"hello"}}}' "$1"
}
call echo >"$work/direct.json"
call echo >"$work/one.json"
call mock__echo >"$work/all.json"
targets="direct one all"
# The answer must be the tool's, through every path.
for target in $targets; do
  url_var=${target}_url session_var=${target}_session
  curl -fs -H 'Content-Type: application/json' -H "$accept" -H "Mcp-Session-Id: ${!session_var}" \
    -H 'MCP-Protocol-Version: 2025-11-25' --data-binary @"$work/$target.json" "${!url_var}" |
    grep -q '"text":"hello"' || { echo "$target: tools/call did not echo" >&2; exit 1; }
done

run() {  # target, threads, connections → the RESULT line of post.lua
  local url_var=${1}_url session_var=${1}_session
  wrk -t"$2" -c"$3" -d"${DURATION}s" -s bench/harness/post.lua -H "$accept" \
    -H "Mcp-Session-Id: ${!session_var}" -H 'MCP-Protocol-Version: 2025-11-25' "${!url_var}" -- \
    body="$work/$1.json" threads="$2" | grep '^RESULT'
}
field() { sed -n "s/.* $2=\([0-9.]*\).*/\1/p" <<<"$1"; }

declare -A p50 p99 rps
for target in $targets; do
  latency=$(run "$target" 1 1)
  capacity=$(run "$target" 2 "$CONNECTIONS")
  p50[$target]=$(field "$latency" p50_us)
  p99[$target]=$(field "$latency" p99_us)
  rps[$target]=$(field "$capacity" rps)
done
printf '%-9s %10s %10s %12s\n' target p50_us p99_us calls_per_s
for target in $targets; do
  printf '%-9s %10s %10s %12s\n' "$target" "${p50[$target]}" "${p99[$target]}" "${rps[$target]}"
done
for target in one all; do
  echo "added by the gateway ($target): p50 $((p50[$target] - p50[direct])) us, p99 $((p99[$target] - p99[direct])) us"
done
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "load: ${DURATION}s per target and load; capacity with $CONNECTIONS connections; gateway workers: $WORKERS (+ the MCP hub's thread)"
