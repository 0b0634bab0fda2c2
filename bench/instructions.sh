#!/usr/bin/env bash
# Instructions per request, from callgrind: a deterministic cost measure where wall-clock runs on
# a shared VM swing by 2x from one day to the next. Compares gateway binaries on the same load.
#   bench/instructions.sh [BINARY...]        (default: build/switchyard)
#   REQUESTS=2000 STREAM=1 bench/instructions.sh old/switchyard build/switchyard
#   CONFIG_EXTRA=$'metrics:\n  enabled: false\n' SWITCHYARD_BENCH_LOG=false bench/instructions.sh
#                                            (YAML appended to the config: a setting's cost)
#   KEEP=dir bench/instructions.sh           (keeps each binary's profile for callgrind_annotate)
# Each binary runs under callgrind on bench/switchyard.yaml in front of the harness's nginx mock
# upstream; after a warm-up its counters are zeroed, REQUESTS requests are sent one after
# another over one keep-alive connection, and its user-space instruction count is divided by
# them. Needs valgrind, nginx and curl (scripts/install-deps.sh --bench).
set -euo pipefail
cd "$(dirname "$0")/.."
h=bench/harness
. "$h/common.sh"
REQUESTS=${REQUESTS:-2000}
path=$CHAT_PATH
[ "${STREAM:-0}" = 1 ] && path=/stream$CHAT_PATH
[ $# -gt 0 ] || set -- build/switchyard
command -v valgrind >/dev/null || die "valgrind not installed"

"$h/start_mock.sh" >/dev/null
work=$(mktemp -d)
trap '"$h/stop_all.sh" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
# The mock serves streams under /stream; point the gateway there for STREAM=1.
{ sed "s|/v1\$|${path%/chat/completions}|" bench/switchyard.yaml; printf '%s' "${CONFIG_EXTRA:-}"; } \
  >"$work/config.yaml"
body=$h/body.json
if [ "${STREAM:-0}" = 1 ]; then
  sed '0,/{/s//{"stream":true,/' "$h/body.json" >"$work/body.json"
  body=$work/body.json
fi

# N requests over one connection (curl reuses it across the URL list).
send() {
  local n=$1 urls=()
  for ((i = 0; i < n; i++)); do urls+=(-o /dev/null "http://127.0.0.1:18090$CHAT_PATH"); done
  curl -s --fail -H 'content-type: application/json' --data-binary @"$body" "${urls[@]}"
}

for bin in "$@"; do
  out=$work/callgrind.out
  valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" --config "$work/config.yaml" \
    >"$work/gateway.log" 2>"$work/valgrind.log" &
  pid=$!
  wait_port 18090 60 || die "$bin did not start"
  send 200
  callgrind_control -z "$pid" >/dev/null
  send "$REQUESTS"
  callgrind_control -d "$pid" >/dev/null
  kill -TERM "$pid"
  wait "$pid" 2>/dev/null || true
  # The dump taken after the measured requests (file .1); the summary line is its Ir total.
  total=$(grep -h '^summary:' "$out".1 2>/dev/null || grep -h '^totals:' "$out".1)
  ir=${total##* }
  echo "$bin: $((ir / REQUESTS)) instructions/request (${REQUESTS} requests, path ${path})"
  [ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cp "$out".1 "$KEEP/$(basename "$bin").callgrind"
  rm -f "$out"*
done
