#!/usr/bin/env bash
# The Messages door's cost against the OpenAI door's, in one run on one gateway: the same
# conversation (bench/harness/body.json and its Messages twin, messages_body.json) through
#   openai      POST /v1/chat/completions → an OpenAI upstream (the client's bytes, model replaced)
#   messages    POST /v1/messages → an Anthropic upstream (the client's bytes, model replaced)
#   translated  POST /v1/messages → an OpenAI upstream (chat equivalent out, message back)
#   to-anthropic  POST /v1/chat/completions → an Anthropic upstream (the OpenAI door's own
#                 translation, for comparison with the one above)
#   large, large-translated  the Messages door with a Claude Code-sized request (52 KB, from
#                 bench/harness/large_messages_body.py), relayed and translated
# all answered by the harness's nginx mock. Two measures:
#   instructions/request (callgrind, user space: deterministic), REQUESTS one after another;
#   max req/s (wrk, THREADS x CONNS, DURATION s), the three interleaved REPS times.
#   bench/messages.sh                 REQUESTS=2000 REPS=3 DURATION=10
set -euo pipefail
cd "$(dirname "$0")/.."
h=bench/harness
. "$h/common.sh"
REQUESTS=${REQUESTS:-2000}
REPS=${REPS:-3}
export DURATION=${DURATION:-10}
command -v valgrind >/dev/null || die "valgrind not installed (scripts/install-deps.sh --bench)"
scripts/build.sh switchyard >/dev/null

"$h/start_mock.sh" >/dev/null
work=$(mktemp -d)
trap '"$h/stop_all.sh" >/dev/null 2>&1 || true; kill "${gw:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
cat >"$work/config.yaml" <<YAML
server: { listen: "127.0.0.1:18090", workers: 1 }
log: { level: info, requests: true }
providers:
  mock: { type: openai, base_url: "http://127.0.0.1:$MOCK_PORT/v1", api_key: sk-bench }
  anth: { type: anthropic, base_url: "http://127.0.0.1:$MOCK_PORT", api_key: sk-bench }
models:
  gpt-4o-mini: { provider: mock, name: gpt-4o-mini }
  claude-bench: { provider: anth, name: claude-haiku-4-5 }
YAML
sed 's/"model":"claude-bench"/"model":"gpt-4o-mini"/' "$h/messages_body.json" >"$work/translated.json"
sed 's/"model":"gpt-4o-mini"/"model":"claude-bench"/' "$h/body.json" >"$work/to-anthropic.json"
python3 "$h/large_messages_body.py" claude-bench >"$work/large.json"
python3 "$h/large_messages_body.py" gpt-4o-mini >"$work/large-translated.json"
cases=(openai messages translated to-anthropic large large-translated)
declare -A path=([openai]=/v1/chat/completions [messages]=/v1/messages [translated]=/v1/messages
                 [to-anthropic]=/v1/chat/completions [large]=/v1/messages
                 [large-translated]=/v1/messages)
declare -A body=([openai]=$h/body.json [messages]=$h/messages_body.json
                 [translated]=$work/translated.json [to-anthropic]=$work/to-anthropic.json
                 [large]=$work/large.json [large-translated]=$work/large-translated.json)
declare -A expect=([openai]='"chat.completion"' [messages]='"type":"message"'
                   [translated]='"type":"message"' [to-anthropic]='"chat.completion"'
                   [large]='"type":"message"' [large-translated]='"type":"message"')

send() {  # case, n: n requests over one keep-alive connection
  local urls=()
  for ((i = 0; i < $2; i++)); do urls+=(-o /dev/null "http://127.0.0.1:18090${path[$1]}"); done
  curl -s --fail -H 'content-type: application/json' -H 'anthropic-version: 2023-06-01' \
    --data-binary @"${body[$1]}" "${urls[@]}"
}

echo "== instructions/request (callgrind, $REQUESTS requests each)"
out=$work/callgrind.out
valgrind --tool=callgrind --callgrind-out-file="$out" build/switchyard --config "$work/config.yaml" \
  >"$work/gateway.log" 2>"$work/valgrind.log" &
gw=$!
wait_port 18090 60 || die "switchyard did not start"
dump=0
for c in "${cases[@]}"; do
  send "$c" 200
  callgrind_control -z "$gw" >/dev/null 2>&1
  send "$c" "$REQUESTS"
  callgrind_control -d "$gw" >/dev/null 2>&1
  dump=$((dump + 1))
  total=$(grep -h '^summary:' "$out.$dump" 2>/dev/null || grep -h '^totals:' "$out.$dump")
  printf '%-17s %9d instructions/request\n' "$c" $((${total##* } / REQUESTS))
done
kill -TERM "$gw"
wait "$gw" 2>/dev/null || true

echo "== max req/s (wrk ${THREADS:-2}x${CONNS:-64}, ${DURATION}s, $REPS interleaved repetitions)"
build/switchyard --config "$work/config.yaml" >"$work/gateway.log" 2>&1 &
gw=$!
echo "$gw" >"$work/gateway.pid"
wait_port 18090 10 || die "switchyard did not start"
export OUT_CSV=$work/runs.csv
for ((rep = 1; rep <= REPS; rep++)); do
  for c in "${cases[@]}"; do
    REP=$rep BODY=${body[$c]} EXPECT=${expect[$c]} "$h/run_load.sh" -n "$c" -m max \
      -p "$work/gateway.pid" -H 'anthropic-version: 2023-06-01' "http://127.0.0.1:18090${path[$c]}"
  done
done
