#!/usr/bin/env bash
# Installs, builds and runs the gateway on config/demo.yaml: two mock providers on loopback
# (ports 9101, 9102; each speaks the OpenAI, Anthropic and Gemini formats), the gateway on
# 127.0.0.1:8080. Shows curl calls (failover, an Anthropic → Gemini route, a stream), an
# OpenAI SDK (Node) call, Anthropic's SDK at the Messages door, and an MCP SDK client listing
# and calling tools of two MCP servers through /mcp, then keeps serving until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
scripts/build.sh switchyard switchyard-mock

run=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$run"; }
trap cleanup EXIT INT TERM

# The SDKs, and the reference MCP server the demo config runs over stdio.
mkdir -p build/demo-sdk
cp tests/sdk/package.json tests/sdk/package-lock.json build/demo-sdk/
(cd build/demo-sdk && npm ci --no-audit --no-fund --loglevel=error >/dev/null)

build/switchyard-mock --listen 127.0.0.1:9101 --name alpha >"$run/alpha.log" 2>&1 & pids+=($!)
build/switchyard-mock --listen 127.0.0.1:9102 --name beta >"$run/beta.log" 2>&1 & pids+=($!)
build/switchyard --config config/demo.yaml >"$run/gateway.log" 2>&1 & pids+=($!)
for _ in $(seq 100); do curl -fs http://127.0.0.1:8080/readyz >/dev/null && break; sleep 0.1; done

echo; echo "== curl: a JSON completion (route 'default': alpha, then beta)"
curl -s -i http://127.0.0.1:8080/v1/chat/completions -H 'content-type: application/json' \
  -d '{"model":"default","messages":[{"role":"user","content":"Hello!"}]}'
echo; echo; echo "== curl: alpha failing (scripted 503), so beta serves"
curl -s -i http://127.0.0.1:8080/v1/chat/completions -H 'content-type: application/json' \
  -H 'x-mock-status: 503' -H 'x-mock-target: alpha' \
  -d '{"model":"default","messages":[{"role":"user","content":"Hello!"}]}'
echo; echo; echo "== curl: route 'mixed' — an Anthropic-format model answers in OpenAI's shape"
curl -s -i http://127.0.0.1:8080/v1/chat/completions -H 'content-type: application/json' \
  -d '{"model":"mixed","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello!"}]}'
echo; echo; echo "== curl: the Anthropic side overloaded (scripted 529), so the Gemini model serves"
curl -s -i http://127.0.0.1:8080/v1/chat/completions -H 'content-type: application/json' \
  -H 'x-mock-status: 529' -H 'x-mock-target: alpha' \
  -d '{"model":"mixed","messages":[{"role":"user","content":"Hello!"}]}'
echo; echo; echo "== curl: route 'auto' — a short question goes to the cheap route, one with tools to 'premium'"
curl -s -D - -o /dev/null http://127.0.0.1:8080/v1/chat/completions -H 'content-type: application/json' \
  -d '{"model":"auto","messages":[{"role":"user","content":"What are your opening hours?"}]}' | grep -i '^x-switchyard-\(route\|complexity\|provider\|cost\)'
curl -s -D - -o /dev/null http://127.0.0.1:8080/v1/chat/completions -H 'content-type: application/json' \
  -d '{"model":"auto","messages":[{"role":"user","content":"Weather in Paris?"}],"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{}}}}]}' | grep -i '^x-switchyard-\(route\|complexity\|provider\|cost\)'
echo; echo "== POST /admin/explain: the plan for a request, without calling anyone"
curl -s http://127.0.0.1:8080/admin/explain -H 'content-type: application/json' \
  -d '{"model":"auto","messages":[{"role":"user","content":"Prove it step by step."}]}'
echo; echo; echo "== curl: the same deterministic question twice — the second is a cache hit"
for _ in 1 2; do
  curl -s -D - -o /dev/null http://127.0.0.1:8080/v1/chat/completions -H 'content-type: application/json' \
    -d '{"model":"default","temperature":0,"messages":[{"role":"user","content":"Capital of France?"}]}' \
    | grep -i '^x-switchyard-\(cache\|attempts\|provider\)'
done
echo; echo "== curl: a streamed completion"
curl -s -N http://127.0.0.1:8080/v1/chat/completions -H 'content-type: application/json' \
  -d '{"model":"default","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Stream!"}]}'

echo; echo "== the OpenAI Node SDK with baseURL = http://127.0.0.1:8080/v1"
cat >build/demo-sdk/demo.mjs <<'JS'
import OpenAI from 'openai';
const client = new OpenAI({ baseURL: 'http://127.0.0.1:8080/v1', apiKey: 'unused-by-the-demo' });
const reply = await client.chat.completions.create({ model: 'default', messages: [{ role: 'user', content: 'Hi from the SDK' }] });
console.log('JSON  :', reply.choices[0].message.content, `(model ${reply.model})`);
const stream = await client.chat.completions.create({ model: 'default', stream: true, messages: [{ role: 'user', content: 'Stream from the SDK' }] });
let text = '';
for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
console.log('Stream:', text);
JS
(cd build/demo-sdk && node demo.mjs)

echo; echo "== Anthropic's SDK with baseURL = http://127.0.0.1:8080 (the Messages door)"
cat >build/demo-sdk/anthropic.mjs <<'JS'
import Anthropic from '@anthropic-ai/sdk';
const client = new Anthropic({ baseURL: 'http://127.0.0.1:8080', apiKey: 'unused-by-the-demo' });
// 'mixed' starts with an Anthropic-format provider: the request goes to it as it is.
const relayed = await client.messages.create({ model: 'mixed', max_tokens: 100, messages: [{ role: 'user', content: 'Hi from the Anthropic SDK' }] });
console.log('relayed    :', relayed.content[0].text, `(${relayed.stop_reason}, ${relayed.usage.output_tokens} tokens)`);
// 'default' is OpenAI-format providers: the same call, translated both ways, streamed.
const stream = client.messages.stream({ model: 'default', max_tokens: 100, messages: [{ role: 'user', content: 'Stream through the Messages door' }] });
const message = await stream.finalMessage();
console.log('translated :', message.content[0].text, `(${message.stop_reason})`);
const { input_tokens } = await client.messages.countTokens({ model: 'mixed', messages: [{ role: 'user', content: 'How long is this?' }] });
console.log('count      :', input_tokens, 'input tokens');
JS
(cd build/demo-sdk && node anthropic.mjs)

echo; echo "== an MCP client (the official SDK) at http://127.0.0.1:8080/mcp: two servers as one"
cat >build/demo-sdk/mcp.mjs <<'JS'
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
const client = new Client({ name: 'switchyard-demo', version: '1.0.0' });
await client.connect(new StreamableHTTPClientTransport(new URL('http://127.0.0.1:8080/mcp')));
const { tools } = await client.listTools();
console.log(`tools (${tools.length}):`, tools.map((t) => t.name).join(', '));
const echo = await client.callTool({ name: 'everything__echo', arguments: { message: 'hello over stdio' } });
console.log('everything__echo :', echo.content[0].text);
const sum = await client.callTool({ name: 'everything__get-sum', arguments: { a: 2, b: 40 } });
console.log('everything__get-sum:', sum.content[0].text);
const mock = await client.callTool({ name: 'alpha__echo', arguments: { message: 'hello over HTTP' } });
console.log('alpha__echo      :', mock.content[0].text);
const steps = [];
await client.callTool({ name: 'everything__trigger-long-running-operation', arguments: { duration: 1, steps: 3 } },
                      undefined, { onprogress: (p) => steps.push(`${p.progress}/${p.total}`) });
console.log('progress         :', steps.join(' '));
await client.close();
JS
for _ in $(seq 100); do grep -q '"mcp server everything is ready' "$run/gateway.log" && break; sleep 0.1; done
(cd build/demo-sdk && node mcp.mjs)

echo; echo "== the gateway's log: one JSON line per request"
sleep 0.3
cat "$run/gateway.log"
echo; echo "Switchyard is serving on http://127.0.0.1:8080/v1 (Ctrl-C to stop); its log follows."
tail -n 0 -f "$run/gateway.log" & pids+=($!)
wait "${pids[2]}"
