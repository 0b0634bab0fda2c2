// The official MCP TypeScript SDK's client (Streamable HTTP) pointed at switchyard's /mcp and
// /mcp/<server>, switchyard running the official reference server
// (@modelcontextprotocol/server-everything) twice over stdio and once over Streamable HTTP
// (behind a pass-through that records what reached it): what an agent sees through the gateway —
// federated and prefixed lists, calls, resources, prompts, completion, sessions that outlive the
// gateway process — and the transport's rules checked on the wire. Run by ctest with
// SWITCHYARD_BIN set.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CreateMessageRequestSchema, ElicitRequestSchema, ListRootsRequestSchema,
  LoggingMessageNotificationSchema, ResourceUpdatedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { waitFor as waitWithin } from './processes.mjs';

const gatewayBin = process.env.SWITCHYARD_BIN;
const mockBin = process.env.SWITCHYARD_MOCK_BIN;
assert.ok(gatewayBin && mockBin, 'SWITCHYARD_BIN and SWITCHYARD_MOCK_BIN must be set');
const everything = createRequire(import.meta.url).resolve(
  '@modelcontextprotocol/server-everything/dist/index.js');

const dir = mkdtempSync(join(tmpdir(), 'switchyard-mcp-'));
const gateways = [];
const appKey = 'sk-mcp-app';
const limitedKey = 'sk-mcp-limited';
const adminKey = 'sk-mcp-admin';
const meteredKey = 'sk-mcp-metered';
const sha256 = (text) => createHash('sha256').update(text).digest('hex');

// MCP servers start slower than the mock: a longer default wait.
const waitFor = (check, what, timeoutMs = 15000) => waitWithin(check, what, timeoutMs);

// A gateway process on this test's config; resolves once it listens.
async function startGateway(name) {
  const child = spawn(gatewayBin, ['--config', join(dir, 'gateway.yaml')],
                      { stdio: ['ignore', 'pipe', 'pipe'] });
  const gateway = { child, log: '', port: 0 };
  child.stdout.on('data', (d) => { gateway.log += d; });
  child.stderr.on('data', (d) => process.stderr.write(`[${name}] ${d}`));
  gateways.push(gateway);
  gateway.port = await waitFor(() => {
    const m = gateway.log.match(/listening on 127\.0\.0\.1:(\d+)/);
    return m && Number(m[1]);
  }, `${name} port`);
  // Every server up: their processes take a moment to start.
  await waitFor(() => (gateway.log.match(/"mcp_server_up"/g) ?? []).length >= 4, `${name} servers`);
  return gateway;
}

function stopGateway(gateway) {
  const exited = new Promise((resolve) => gateway.child.once('exit', resolve));
  gateway.child.kill('SIGKILL');
  return exited;
}

let gateway;

// server-everything over Streamable HTTP (or `transport`) on `port`; resolves once it listens.
async function startHttpServer(port, transport = 'streamableHttp') {
  const child = spawn(process.execPath, [everything, transport],
                      { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout.on('data', (d) => { text += d; });
  child.stderr.on('data', (d) => { text += d; });
  await waitFor(() => /listening on port|running on port/.test(text), `server-everything over ${transport}`);
  return child;
}
// server-everything on the HTTP+SSE transport of 2024-11-05.
const legacy = { port: 0, child: null };

const freePort = () => new Promise((resolve) => {
  const probe = http.createServer().listen(0, '127.0.0.1', () => {
    const { port } = probe.address();
    probe.close(() => resolve(port));
  });
});

// What reached the HTTP upstream: every request's method and headers, passed on untouched.
const upstream = { port: 0, child: null, seen: [] };
const recorder = http.createServer((req, res) => {
  const seen = { method: req.method, headers: req.headers, body: '' };
  upstream.seen.push(seen);
  req.on('data', (d) => { seen.body += d; });
  const out = http.request({ host: '127.0.0.1', port: upstream.port, path: req.url,
                             method: req.method, headers: req.headers }, (answer) => {
    res.writeHead(answer.statusCode, answer.headers);
    answer.pipe(res);
  });
  out.on('error', () => { if (!res.headersSent) res.writeHead(502); res.end(); });
  // A gateway that hangs up (a stream it no longer reads) hangs up on the server too.
  res.on('close', () => { if (!res.writableFinished) out.destroy(); });
  req.pipe(out);
});

// A redis-server of the test's own, which the gateways share.
const redis = { port: 0, child: null };
async function startRedis() {
  redis.port = await freePort();
  redis.child = spawn('redis-server', ['--port', String(redis.port), '--bind', '127.0.0.1',
                                       '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  redis.child.stdout.on('data', (d) => { text += d; });
  await waitFor(() => /Ready to accept connections/.test(text), 'redis-server');
}

// The events of an event stream as they come: { id, event, data, retry }.
async function* sseEvents(response) {
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of response.body) {
    text += decoder.decode(chunk, { stream: true });
    let end;
    while ((end = text.indexOf('\n\n')) >= 0) {
      yield Object.fromEntries(text.slice(0, end).split('\n').map((line) => {
        const colon = line.indexOf(':');
        return [line.slice(0, colon), line.slice(colon + 1).trimStart()];
      }));
      text = text.slice(end + 2);
    }
  }
}

// The LLM provider behind the route that serves the second server's sampling requests.
const sampler = { port: 0, child: null };
async function startSampler() {
  const portFile = join(dir, 'sampler.port');
  sampler.child = spawn(mockBin, ['--listen', '127.0.0.1:0', '--name', 'sampler',
                                  '--port-file', portFile], { stdio: 'ignore' });
  sampler.port = await waitFor(() => {
    try { return Number(readFileSync(portFile, 'utf8')); } catch { return 0; }
  }, 'the sampler mock');
}
const samplerRequests = async () =>
  (await fetch(`http://127.0.0.1:${sampler.port}/_mock/requests?limit=50`)).json();

before(async () => {
  upstream.port = await freePort();
  upstream.child = await startHttpServer(upstream.port);
  legacy.port = await freePort();
  legacy.child = await startHttpServer(legacy.port, 'sse');
  await startSampler();
  await startRedis();
  await new Promise((resolve) => recorder.listen(0, '127.0.0.1', resolve));
  writeFileSync(join(dir, 'gateway.yaml'), `server:
  listen: "127.0.0.1:0"
  workers: 2
providers:
  sampler: { type: openai, base_url: "http://127.0.0.1:${sampler.port}/v1" }
models:
  sampler-small: { provider: sampler, name: upstream-small, input: 1000, output: 2000 }
  sampler-large: { provider: sampler, name: upstream-large, input: 3000, output: 6000 }
routes:
  sampling: { targets: [sampler-small] }
redis:
  url: redis://127.0.0.1:${redis.port}/0
keys:
  app: { sha256: ${sha256(appKey)} }
  ops: { sha256: ${sha256(adminKey)}, admin: true }
  metered: { sha256: ${sha256(meteredKey)}, mcp: { rpm: 2 } }
  limited:
    sha256: ${sha256(limitedKey)}
    mcp: { servers: [everything], tools: { allow: ["everything__*"], deny: ["*__get-env"] } }
mcp:
  session_secret: "a-secret-the-replicas-share-0123456789"
  allowed_origins: ["https://app.example.com"]
  max_message: 64KiB
  page_size: 10
  ping_interval: 1s
  ping_timeout: 2s
  readiness: all
  servers:
    everything:
      transport: stdio
      command: ${process.execPath}
      args: ["${everything}", "stdio"]
      env: { SWITCHYARD_TEST_SERVER: everything }
    second:
      transport: stdio
      command: ${process.execPath}
      args: ["${everything}", "stdio"]
      env: { SWITCHYARD_TEST_SERVER: second }
      sampling: { route: sampling, models: { large: sampler-large } }
    remote:
      transport: http
      url: http://127.0.0.1:${recorder.address().port}/mcp
      headers: { Authorization: "Bearer upstream-credential" }
      max_concurrency: 1
    legacy:
      transport: sse
      url: http://127.0.0.1:${legacy.port}/sse
      roots: { shared: "file:///srv/shared" }
`);
  gateway = await startGateway('gateway');
});

after(async () => {
  const running = (child) => child.exitCode === null && child.signalCode === null;
  await Promise.all(gateways.filter((g) => running(g.child)).map(stopGateway));
  upstream.child.kill('SIGKILL');
  sampler.child.kill('SIGKILL');
  legacy.child.kill('SIGKILL');
  redis.child.kill('SIGKILL');
  recorder.closeAllConnections();
  recorder.close();
  rmSync(dir, { recursive: true, force: true });
});

const url = (path = '/mcp', g = gateway) => new URL(`http://127.0.0.1:${g.port}${path}`);

async function connect(path = '/mcp', { g = gateway, sessionId, key = appKey, capabilities } = {}) {
  const client = new Client({ name: 'switchyard-test', version: '1.0.0' },
                            capabilities ? { capabilities } : undefined);
  const transport = new StreamableHTTPClientTransport(url(path, g), {
    sessionId,
    requestInit: { headers: { Authorization: `Bearer ${key}` } },
  });
  await client.connect(transport);
  return { client, transport };
}

// A session's stream (GET), at gateway `g`, resuming after `lastEventId` when given.
const openStream = ({ g = gateway, path = '/mcp', session, lastEventId }) => fetch(url(path, g), {
  headers: { Authorization: `Bearer ${appKey}`, Accept: 'text/event-stream', 'Mcp-Session-Id': session,
             ...(lastEventId ? { 'Last-Event-ID': lastEventId } : {}) } });

// One JSON-RPC message posted as a client would, headers adjustable.
async function post(body, { path = '/mcp', headers = {}, session, g = gateway } = {}) {
  const response = await fetch(url(path, g), {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${appKey}`,
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      ...(session ? { 'Mcp-Session-Id': session } : {}),
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text,
           json: text ? JSON.parse(text) : null };
}

const initialize = (protocolVersion, options) => post({
  jsonrpc: '2.0', id: 1, method: 'initialize',
  params: { protocolVersion, capabilities: {}, clientInfo: { name: 'curl', version: '1' } },
}, options);

test('the aggregate lists every server\'s tools as <server>__<name>, paged by the gateway', async () => {
  const { client } = await connect();
  assert.equal(client.getServerVersion().name, 'switchyard');
  const names = [];
  let cursor;
  let pages = 0;
  do {
    const page = await client.listTools(cursor ? { cursor } : {});
    assert.ok(page.tools.length <= 10);
    names.push(...page.tools.map((t) => t.name));
    cursor = page.nextCursor;
    pages += 1;
  } while (cursor);
  assert.ok(pages >= 3, `${pages} pages`);
  assert.ok(names.includes('everything__echo'));
  assert.ok(names.includes('second__echo'));
  assert.equal(new Set(names).size, names.length);
  assert.equal(names.filter((n) => n.startsWith('everything__')).length,
               names.filter((n) => n.startsWith('second__')).length);
  await client.close();
});

test('a tool call reaches the server its name says, through either view', async () => {
  const { client } = await connect();
  const echoed = await client.callTool({ name: 'second__echo', arguments: { message: 'hi' } });
  assert.deepEqual(echoed.content, [{ type: 'text', text: 'Echo: hi' }]);
  const sum = await client.callTool({ name: 'everything__get-sum', arguments: { a: 2, b: 40 } });
  assert.match(sum.content[0].text, /42/);

  const single = await connect('/mcp/everything');
  assert.equal(single.client.getServerVersion().name, 'mcp-servers/everything');
  const tools = await single.client.listTools();
  assert.ok(tools.tools.some((t) => t.name === 'echo'));
  assert.ok(!tools.tools.some((t) => t.name.includes('__')));
  const direct = await single.client.callTool({ name: 'echo', arguments: { message: 'direct' } });
  assert.deepEqual(direct.content, [{ type: 'text', text: 'Echo: direct' }]);

  // A tool no server has is an error of the call, not a transport failure.
  await assert.rejects(client.callTool({ name: 'nowhere__echo', arguments: {} }),
                       (e) => e.code === -32602);
  await client.close();
  await single.client.close();
});

test('an HTTP upstream is reached with its own credentials, never the client\'s', async () => {
  const { client } = await connect();
  upstream.seen.length = 0;
  const echoed = await client.callTool({ name: 'remote__echo', arguments: { message: 'over http' } });
  assert.deepEqual(echoed.content, [{ type: 'text', text: 'Echo: over http' }]);
  const single = await connect('/mcp/remote');
  assert.equal(single.client.getServerVersion().name, 'mcp-servers/everything');
  const sum = await single.client.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } });
  assert.match(sum.content[0].text, /3/);
  assert.ok(upstream.seen.length >= 2);
  for (const { headers, body } of upstream.seen) {
    assert.equal(headers.authorization, 'Bearer upstream-credential');
    assert.ok(!JSON.stringify(headers).includes(appKey), 'the client key reached the upstream');
    if (body.includes('"initialize"')) continue;
    assert.ok(headers['mcp-session-id'], 'a session with the upstream');
    assert.equal(headers['mcp-protocol-version'], '2025-11-25');
  }
  // Each client session has a session of its own with the server.
  const calls = upstream.seen.filter((r) => r.body.includes('"tools/call"'));
  assert.equal(calls.length, 2);
  assert.notEqual(calls[0].headers['mcp-session-id'], calls[1].headers['mcp-session-id']);
  await client.close();
  await single.client.close();
});

test('an HTTP upstream that forgot the gateway\'s session gets a new one, transparently', async () => {
  const { client } = await connect();
  upstream.seen.length = 0;
  await client.callTool({ name: 'remote__echo', arguments: { message: 'before' } });
  const sessionAtUpstream = upstream.seen.at(-1).headers['mcp-session-id'];
  const ended = await fetch(`http://127.0.0.1:${upstream.port}/mcp`,
                            { method: 'DELETE', headers: { 'mcp-session-id': sessionAtUpstream } });
  assert.equal(ended.status, 200);
  upstream.seen.length = 0;
  // Requests that find the session gone at once share one new session (prompts: remote's
  // tools/call takes one at a time here).
  const cities = ['Lisbon', 'Porto', 'Braga', 'Faro'];
  const after = await Promise.all(cities.map((city) => client.getPrompt(
    { name: 'remote__args-prompt', arguments: { city } })));
  after.forEach((prompt, i) => assert.match(JSON.stringify(prompt.messages), new RegExp(cities[i])));
  await waitFor(() => gateway.log.includes('"mcp_session_renewed"'), 'the renewal in the log');
  assert.equal(upstream.seen.filter((r) => r.body.includes('"initialize"')).length, 1);
  assert.notEqual(upstream.seen.at(-1).headers['mcp-session-id'], sessionAtUpstream);
  await client.close();
});

test('a session one replica renewed with an HTTP upstream is the one every replica uses, through Redis', async () => {
  const other = await startGateway('replica');
  try {
    const { client, transport } = await connect();
    const echo = (c, message) => c.callTool({ name: 'remote__echo', arguments: { message } });
    const sessionAt = () => upstream.seen.filter((r) => r.body.includes('"tools/call"')).at(-1)
      .headers['mcp-session-id'];
    upstream.seen.length = 0;
    await echo(client, 'first');
    const first = sessionAt();
    await fetch(`http://127.0.0.1:${upstream.port}/mcp`,
                { method: 'DELETE', headers: { 'mcp-session-id': first } });
    await echo(client, 'renewed here');
    const renewed = sessionAt();
    assert.notEqual(renewed, first);
    // The other replica has only the client's id, which carries the first one: it finds the
    // renewed one in Redis rather than opening a third.
    const elsewhere = await connect('/mcp', { g: other, sessionId: transport.sessionId });
    const initializes = upstream.seen.filter((r) => r.body.includes('"initialize"')).length;
    assert.equal((await echo(elsewhere.client, 'there')).content[0].text, 'Echo: there');
    assert.equal(sessionAt(), renewed);
    assert.equal(upstream.seen.filter((r) => r.body.includes('"initialize"')).length, initializes);
    await client.close();
  } finally {
    await stopGateway(other);
  }
});

test('the client\'s trace goes on at a server, the gateway\'s span as its parent', async () => {
  const session = (await initialize('2025-11-25')).headers.get('mcp-session-id');
  const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
  upstream.seen.length = 0;
  const answer = await post({ jsonrpc: '2.0', id: 5, method: 'tools/call',
                              params: { name: 'remote__echo', arguments: { message: 'traced' } } },
                            { session, headers: { traceparent: `00-${trace}-00f067aa0ba902b7-01` } });
  assert.equal(answer.status, 200);
  const call = upstream.seen.find((r) => r.body.includes('"tools/call"'));
  assert.match(call.headers.traceparent, new RegExp(`^00-${trace}-[0-9a-f]{16}-01$`));
  assert.ok(!call.headers.traceparent.includes('00f067aa0ba902b7'));
  // In the message too, where a stdio server finds it (params._meta, as OpenTelemetry has it).
  assert.equal(JSON.parse(call.body).params._meta.traceparent, call.headers.traceparent);
  // A client's own trace context in _meta is its to keep.
  upstream.seen.length = 0;
  const own = `00-${trace}-1111111111111111-01`;
  await post({ jsonrpc: '2.0', id: 6, method: 'tools/call',
               params: { name: 'remote__echo', arguments: { message: 'x' }, _meta: { traceparent: own } } },
             { session });
  const kept = upstream.seen.find((r) => r.body.includes('"tools/call"'));
  assert.equal(JSON.parse(kept.body).params._meta.traceparent, own);
});

test('an HTTP upstream that restarted gets a new session, transparently', async () => {
  const { client } = await connect();
  await client.callTool({ name: 'remote__echo', arguments: { message: 'before' } });
  const initializes = () => upstream.seen.filter((r) => r.body.includes('"initialize"')).length;
  const before = initializes();
  upstream.child.kill('SIGKILL');
  upstream.child = await startHttpServer(upstream.port);
  const after = await client.callTool({ name: 'remote__echo', arguments: { message: 'after' } });
  assert.equal(after.content[0].text, 'Echo: after');
  // A new session with the new server: the gateway initialized again (when the call found the
  // old session gone, or when the pings in between did).
  assert.ok(initializes() > before);
  await client.close();
});

test('a server that went away shows in /admin/health and, with readiness: all, in /readyz', async () => {
  const ready = async () => {
    const response = await fetch(url('/readyz'));
    return { status: response.status, body: await response.json() };
  };
  const health = async () => (await (await fetch(url('/admin/health'), {
    headers: { Authorization: `Bearer ${adminKey}` } })).json()).mcp_servers;
  assert.deepEqual(await ready(), { status: 200, body: { status: 'ready',
    mcp_servers: { everything: 'up', second: 'up', remote: 'up', legacy: 'up' } } });
  upstream.child.kill('SIGKILL');
  // Two pings missed (1 s apart) and the gateway knows.
  const down = await waitFor(async () => { const r = await ready(); return r.status === 503 && r; },
                             'the replica not ready');
  assert.equal(down.body.status, 'mcp_servers_down');
  assert.equal(down.body.mcp_servers.remote, 'down');
  assert.deepEqual((await health()).find((s) => s.name === 'remote').up, false);
  upstream.child = await startHttpServer(upstream.port);
  await waitFor(async () => (await ready()).status === 200, 'the replica ready again', 40000);
  assert.ok((await health()).every((s) => s.up));
});

for (const server of ['everything', 'remote']) {
  test(`progress of a long call on ${server} reaches the client, under its own token`, async () => {
    const { client } = await connect();
    const progress = [];
    const result = await client.callTool(
      { name: `${server}__trigger-long-running-operation`, arguments: { duration: 1, steps: 4 } },
      undefined, { onprogress: (p) => progress.push(p) });
    assert.match(result.content[0].text, /completed/i);
    assert.ok(progress.length >= 3, `${progress.length} progress notifications`);
    assert.deepEqual(progress.map((p) => p.total), progress.map(() => 4));
    for (let i = 1; i < progress.length; i += 1) assert.ok(progress[i].progress > progress[i - 1].progress);
    await client.close();
  });

  test(`a call the client cancels on ${server} ends at once, and the server is told`, async () => {
    const { client } = await connect();
    const controller = new AbortController();
    upstream.seen.length = 0;
    const started = Date.now();
    const call = client.callTool(
      { name: `${server}__trigger-long-running-operation`, arguments: { duration: 10, steps: 2 } },
      undefined, { signal: controller.signal });
    setTimeout(() => controller.abort('changed my mind'), 300);
    await assert.rejects(call);
    // The gateway's answer to the cancelled request: its log line says so, well before 10 s.
    const line = await waitFor(() => gateway.log.split('\n').find((l) =>
      l.includes('"mcp_name":"trigger-long-running-operation"') && l.includes(`"mcp_server":"${server}"`) &&
      l.includes('"rpc_error":-32800')), 'the cancelled call\'s log line');
    assert.ok(JSON.parse(line).duration_ms < 5000);
    assert.ok(Date.now() - started < 5000);
    if (server === 'remote') {
      await waitFor(() => upstream.seen.some((r) => r.body.includes('notifications/cancelled')),
                    'the cancellation at the upstream');
    }
    await client.close();
  });
}

test('a client that hangs up mid-call has the call cancelled at the server', async () => {
  const session = (await initialize('2025-11-25')).headers.get('mcp-session-id');
  upstream.seen.length = 0;
  const controller = new AbortController();
  const call = fetch(url(), {
    method: 'POST', signal: controller.signal,
    headers: { Authorization: `Bearer ${appKey}`, 'Content-Type': 'application/json',
               Accept: 'application/json, text/event-stream', 'Mcp-Session-Id': session },
    body: JSON.stringify({ jsonrpc: '2.0', id: 41, method: 'tools/call',
                           params: { name: 'remote__trigger-long-running-operation',
                                     arguments: { duration: 10, steps: 2 } } }),
  });
  await waitFor(() => upstream.seen.some((r) => r.body.includes('trigger-long-running-operation')),
                'the call at the upstream');
  controller.abort();
  await assert.rejects(call);
  await waitFor(() => upstream.seen.some((r) => r.body.includes('notifications/cancelled')),
                'the cancellation at the upstream');
  const line = await waitFor(() => gateway.log.split('\n').find((l) =>
    l.includes('"mcp_name":"trigger-long-running-operation"') && l.includes('"status":499')),
  'the log line of the call whose client left');
  assert.ok(line);
});

for (const server of ['everything', 'remote']) {
  test(`a sampling request of ${server} reaches the client on the call's stream, and its answer goes back`, async () => {
    const { client } = await connect('/mcp', { capabilities: { sampling: {} } });
    const asked = [];
    client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
      asked.push(request.params);
      return { role: 'assistant', content: { type: 'text', text: 'Sampled by the client.' },
               model: 'client-model', stopReason: 'endTurn' };
    });
    const result = await client.callTool({ name: `${server}__trigger-sampling-request`,
                                           arguments: { prompt: 'a haiku', maxTokens: 20 } });
    assert.equal(asked.length, 1);
    assert.equal(asked[0].messages[0].content.text, 'Resource trigger-sampling-request context: a haiku');
    assert.equal(asked[0].maxTokens, 20);
    assert.match(result.content[0].text, /Sampled by the client\./);
    assert.match(result.content[0].text, /client-model/);
    await client.close();
  });
}

test('a server with a sampling route has its sampling served by the route, costed to the caller\'s key', async () => {
  // The client offers no sampling: the gateway answers for it.
  const { client } = await connect();
  const result = await client.callTool({ name: 'second__trigger-sampling-request',
                                         arguments: { prompt: 'a limerick', maxTokens: 30 } });
  assert.equal(result.isError, undefined, result.content[0].text);
  const sampled = JSON.parse(result.content[0].text.replace(/^LLM sampling result: \n/, ''));
  assert.deepEqual(sampled.content, { type: 'text', text: 'Hello from sampler.' });
  assert.equal(sampled.role, 'assistant');
  assert.equal(sampled.stopReason, 'endTurn');
  // What reached the provider: the request as a chat completion of the route's model.
  const chat = (await samplerRequests()).map((r) => JSON.parse(r.body))
    .find((b) => JSON.stringify(b).includes('a limerick'));
  assert.ok(chat, 'the sampling request at the provider');
  assert.equal(chat.model, 'upstream-small');
  assert.equal(chat.max_tokens, 30);
  assert.deepEqual(chat.messages, [
    { role: 'system', content: 'You are a helpful test server.' },
    { role: 'user', content: 'Resource trigger-sampling-request context: a limerick' },
  ]);
  // Logged like any chat completion, against the key that made the call, with its cost.
  const line = await waitFor(() => gateway.log.split('\n').find((l) =>
    l.includes('"path":"/v1/chat/completions"') && l.includes('"route":"sampling"')),
  'the sampling request\'s log line');
  const record = JSON.parse(line);
  assert.equal(record.key, 'app');
  assert.equal(record.status, 200);
  assert.ok(record.cost_usd > 0, line);
  await client.close();
});

test('an elicitation reaches the client and its answer goes back to the server', async () => {
  const { client } = await connect('/mcp', { capabilities: { elicitation: {} } });
  client.setRequestHandler(ElicitRequestSchema, async (request) => {
    assert.equal(request.params.message, 'Please provide inputs for the following fields:');
    return { action: 'accept', content: { name: 'Ada Lovelace', check: true } };
  });
  const result = await client.callTool({ name: 'everything__trigger-elicitation-request',
                                         arguments: {} });
  assert.match(result.content[1].text, /- Name: Ada Lovelace/);
  assert.match(result.content[1].text, /- Agreed to terms: true/);
  await client.close();
});

test('a roots request reaches the client that offers roots', async () => {
  const { client } = await connect('/mcp', { capabilities: { roots: {} } });
  client.setRequestHandler(ListRootsRequestSchema, async () =>
    ({ roots: [{ uri: 'file:///work/project', name: 'project' }] }));
  const result = await client.callTool({ name: 'everything__get-roots-list', arguments: {} });
  assert.match(result.content[0].text, /file:\/\/\/work\/project/);
  await client.close();
});

test('a server with roots configured is given them, and its client is not asked', async () => {
  // The client offers no roots: what the server lists is the gateway's answer, which it also
  // got when it asked at start, outside any request.
  const { client } = await connect('/mcp/legacy');
  const result = await client.callTool({ name: 'get-roots-list', arguments: {} });
  assert.match(result.content[0].text, /1 total\):\n\n1\. shared\n {3}URI: file:\/\/\/srv\/shared\n/);
  await client.close();
});

test('a server\'s request the client does not offer is refused for it, and the call goes on', async () => {
  const { client } = await connect();
  const result = await client.callTool({ name: 'everything__trigger-elicitation-request',
                                         arguments: {} });
  assert.equal(result.isError, true);
  assert.match(result.content[0].text, /does not offer elicitation\/create/);
  // A response no request awaits is refused.
  const session = (await initialize('2025-11-25')).headers.get('mcp-session-id');
  const stray = await post({ jsonrpc: '2.0', id: 'switchyard-999999', result: {} }, { session });
  assert.equal(stray.status, 400);
  assert.match(stray.json.error.message, /no request of this session awaits/);
  await client.close();
});

for (const server of ['everything', 'remote']) {
  test(`log messages of ${server} outside any request reach the client's stream`, async () => {
    const { client } = await connect();
    const logs = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => { logs.push(n.params); });
    await client.setLoggingLevel('debug');
    // The server logs at once, then every 5 s, until toggled off.
    const toggle = () => client.callTool({ name: `${server}__toggle-simulated-logging`, arguments: {} });
    assert.match((await toggle()).content[0].text, /Started/);
    try {
      await waitFor(() => logs.length > 0, 'a log message', 15000);
      assert.ok(logs[0].level && logs[0].data, JSON.stringify(logs[0]));
    } finally {
      await toggle();
    }
    await client.close();
  });

  test(`updates of a resource reach the sessions subscribed to it on ${server}`, async () => {
    const view = `/mcp/${server}`;
    const subscribed = await connect(view);
    const other = await connect(view);
    const updates = { subscribed: [], other: [] };
    for (const [name, c] of [['subscribed', subscribed], ['other', other]])
      c.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => { updates[name].push(n.params.uri); });
    const uri = 'demo://resource/static/document/architecture.md';
    await subscribed.client.subscribeResource({ uri });
    const toggle = () => subscribed.client.callTool({ name: 'toggle-subscriber-updates', arguments: {} });
    assert.match((await toggle()).content[0].text, /Started/);
    try {
      await waitFor(() => updates.subscribed.includes(uri), 'the resource update', 15000);
    } finally {
      await toggle();
      await subscribed.client.unsubscribeResource({ uri });
    }
    assert.deepEqual(updates.other, []);
    await subscribed.client.close();
    await other.client.close();
  });
}

test('a reload restarts a changed server, and the open streams of its clients follow it', async () => {
  const { client } = await connect();
  const logs = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => { logs.push(n.params); });
  const config = join(dir, 'gateway.yaml');
  const original = readFileSync(config, 'utf8');
  const reload = async () => {
    const response = await fetch(url('/admin/reload'), {
      method: 'POST', headers: { Authorization: `Bearer ${adminKey}` } });
    assert.equal(response.status, 200, await response.text());
  };
  const readies = () => (gateway.log.match(/mcp server remote is ready/g) ?? []).length;
  const before = readies();
  writeFileSync(config, original.replace('      max_concurrency: 1\n', '      max_concurrency: 1\n      timeout: 20s\n'));
  try {
    await reload();
    await waitFor(() => readies() > before, 'remote started again');
    const toggle = () => client.callTool({ name: 'remote__toggle-simulated-logging', arguments: {} });
    assert.match((await toggle()).content[0].text, /Started/);
    try {
      await waitFor(() => logs.length > 0, 'a log message of the restarted server', 15000);
    } finally {
      await toggle();
    }
  } finally {
    writeFileSync(config, original);
    await reload();
    await waitFor(() => readies() > before + 1, 'remote as it was');
  }
  await client.close();
});

test('a stream cut off resumes after Last-Event-ID with what the client missed', async () => {
  const session = (await initialize('2025-11-25', { path: '/mcp/second' })).headers.get('mcp-session-id');
  const headers = { Authorization: `Bearer ${appKey}`, Accept: 'text/event-stream',
                    'Mcp-Session-Id': session };
  // Reads events until `enough` says so; the connection is then dropped.
  const read = async (extra, enough) => {
    const controller = new AbortController();
    const response = await fetch(url('/mcp/second'), { headers: { ...headers, ...extra },
                                                       signal: controller.signal });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type'), /text\/event-stream/);
    const events = [];
    for await (const event of sseEvents(response)) {
      events.push(event);
      if (enough(events)) break;
    }
    controller.abort();
    return events;
  };
  const first = await read({}, (events) => events.length >= 1);
  // The priming event: an id, the pace of reconnection, no message.
  assert.ok(first[0].id);
  assert.equal(first[0].retry, '1000');
  assert.equal(first[0].data, '');
  // While the client is away, the server logs (at once, then every 5 s).
  const call = (name) => post({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name, arguments: {} } },
                              { path: '/mcp/second', session });
  assert.equal((await call('toggle-simulated-logging')).status, 200);
  try {
    const resumed = await read({ 'Last-Event-ID': first[0].id },
                               (events) => events.some((e) => e.data && e.data.includes('notifications/message')));
    const logged = resumed.find((e) => e.data && e.data.includes('notifications/message'));
    assert.equal(JSON.parse(logged.data).method, 'notifications/message');
    assert.notEqual(logged.id, first[0].id);
    // The same point again: what followed it is replayed again, with the same ids.
    const again = await read({ 'Last-Event-ID': first[0].id },
                             (events) => events.some((e) => e.id === logged.id));
    assert.ok(again.some((e) => e.id === logged.id && e.data === logged.data));
  } finally {
    await call('toggle-simulated-logging');
  }
});

test('a server on the HTTP+SSE transport of 2024-11-05 is served like the others', async () => {
  const { client } = await connect();
  const echoed = await client.callTool({ name: 'legacy__echo', arguments: { message: 'old school' } });
  assert.deepEqual(echoed.content, [{ type: 'text', text: 'Echo: old school' }]);
  const progress = [];
  const long = await client.callTool(
    { name: 'legacy__trigger-long-running-operation', arguments: { duration: 1, steps: 3 } },
    undefined, { onprogress: (p) => progress.push(p) });
  assert.match(long.content[0].text, /completed/i);
  assert.ok(progress.length >= 2, `${progress.length} progress notifications`);
  const single = await connect('/mcp/legacy');
  assert.equal(single.client.getServerVersion().name, 'mcp-servers/everything');
  assert.ok((await single.client.listTools()).tools.some((t) => t.name === 'echo'));
  await client.close();
  await single.client.close();
});

test('a client\'s answer to a server\'s request, and a session\'s end, reach every replica through Redis', async () => {
  const other = await startGateway('replica');
  const session = (await post({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {
    protocolVersion: '2025-11-25', capabilities: { elicitation: {} }, clientInfo: { name: 'raw', version: '1' } },
  })).headers.get('mcp-session-id');
  // The call, on this gateway: its stream brings the server's elicitation.
  const call = await fetch(url(), {
    method: 'POST',
    headers: { Authorization: `Bearer ${appKey}`, 'Content-Type': 'application/json',
               Accept: 'application/json, text/event-stream', 'Mcp-Session-Id': session },
    body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call',
                           params: { name: 'everything__trigger-elicitation-request', arguments: {} } }),
  });
  assert.match(call.headers.get('content-type'), /text\/event-stream/);
  const events = sseEvents(call);
  const asked = JSON.parse((await events.next()).value.data);
  assert.equal(asked.method, 'elicitation/create');
  assert.match(asked.id, /^switchyard-/);
  // The answer, at the other gateway (a load balancer may send it anywhere).
  const answered = await fetch(url('/mcp', other), {
    method: 'POST',
    headers: { Authorization: `Bearer ${appKey}`, 'Content-Type': 'application/json',
               Accept: 'application/json, text/event-stream', 'Mcp-Session-Id': session },
    body: JSON.stringify({ jsonrpc: '2.0', id: asked.id,
                           result: { action: 'accept', content: { name: 'Grace Hopper' } } }),
  });
  assert.equal(answered.status, 202);
  let result;
  for await (const event of events) {
    const message = JSON.parse(event.data);
    if (message.id === 2) { result = message.result; break; }
  }
  assert.match(result.content[1].text, /- Name: Grace Hopper/);

  // A session ended at one replica is ended at all of them: those running hear of it, one that
  // starts later reads it.
  const ping = (g) => fetch(url('/mcp', g), {
    method: 'POST',
    headers: { Authorization: `Bearer ${appKey}`, 'Content-Type': 'application/json',
               Accept: 'application/json, text/event-stream', 'Mcp-Session-Id': session },
    body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'ping' }),
  });
  assert.equal((await ping(other)).status, 200);
  const ended = await fetch(url(), { method: 'DELETE',
                                     headers: { Authorization: `Bearer ${appKey}`, 'Mcp-Session-Id': session } });
  assert.equal(ended.status, 200);
  await waitFor(async () => (await ping(other)).status === 404, 'the end heard at the other replica');
  const late = await startGateway('late replica');
  assert.equal((await ping(late)).status, 404);
  await stopGateway(late);
  await stopGateway(other);
});

test('a session\'s stream moves to another replica with what it missed and its subscriptions, through Redis', async () => {
  const other = await startGateway('replica');
  const path = '/mcp/second';
  const session = (await initialize('2025-11-25', { path })).headers.get('mcp-session-id');
  const uri = 'demo://resource/static/document/architecture.md';
  const call = (g, id, name, params = { name: 'toggle-subscriber-updates', arguments: {} }) =>
    post({ jsonrpc: '2.0', id, method: name, params }, { path, session, g });
  assert.equal((await call(gateway, 2, 'resources/subscribe', { uri })).status, 200);
  const listen = (g, lastEventId) => openStream({ g, path, session, lastEventId });
  const updates = async (events, count) => {
    const out = [];
    for await (const event of events) {
      if (event.data && JSON.parse(event.data).method === 'notifications/resources/updated') out.push(event);
      if (out.length === count) return out;
    }
    assert.fail(`the stream ended after ${out.length} updates`);
  };
  // The server updates the resource at once, then every 5 s.
  const here = sseEvents(await listen(gateway));
  assert.equal((await call(gateway, 3, 'tools/call')).status, 200);
  let first, second;
  try {
    [first, second] = await updates(here, 2);
  } finally {
    await call(gateway, 4, 'tools/call');
  }
  // The client comes back at the other replica, as if cut off after the first update: the
  // second is given again there, as the first replica gave it; the first replica's stream ends.
  const there = sseEvents(await listen(other, first.id));
  assert.equal((await there.next()).value.id, first.id);
  const replayed = (await there.next()).value;
  assert.deepEqual([replayed.id, replayed.data], [second.id, second.data]);
  for await (const event of here) assert.notEqual(event.data && JSON.parse(event.data).method,
                                                 'notifications/resources/updated');
  // The subscription came along: the other replica's own server updates the session.
  assert.equal((await call(other, 5, 'tools/call')).status, 200);
  try {
    const [update] = await updates(there, 1);
    assert.equal(JSON.parse(update.data).params.uri, uri);
    assert.notEqual(update.id.split('-')[0], first.id.split('-')[0]);
  } finally {
    await call(other, 6, 'tools/call');
  }
  await stopGateway(other);
});

test('what the replica that had a stream kept just after the stream moved still reaches the client', async () => {
  const other = await startGateway('replica');
  const path = '/mcp/second';
  const session = (await initialize('2025-11-25', { path })).headers.get('mcp-session-id');
  const nonce = JSON.parse(Buffer.from(session.split('.')[0], 'base64url').toString()).n;
  const primer = (await sseEvents(await openStream({ path, session })).next()).value;
  const there = sseEvents(await openStream({ g: other, path, session, lastEventId: primer.id }));
  // The first replica keeps one more event of the session, as it does until it hears that the
  // stream moved: after the other one read what was kept.
  const late = `${primer.id.slice(0, primer.id.lastIndexOf('-'))}-77`;
  const message = { jsonrpc: '2.0', method: 'notifications/message',
                    params: { level: 'info', data: 'kept late' } };
  execFileSync('redis-cli', ['-p', String(redis.port), 'RPUSH', `switchyard:mcp:events:${nonce}`,
                             `${late}\nid: ${late}\ndata: ${JSON.stringify(message)}\n\n`]);
  const seen = [];
  (async () => { for await (const event of there) seen.push(event); })().catch(() => {});
  const caught = await waitFor(() => seen.find((e) => e.data && JSON.parse(e.data).params?.data === 'kept late'),
                               'the event kept late');
  assert.equal(caught.id, late);
  await stopGateway(other);
});

test('resources are read by their own URIs, templates included', async () => {
  const { client } = await connect();
  const { resources } = await client.listResources();
  const doc = 'demo://resource/static/document/architecture.md';
  assert.ok(resources.some((r) => r.uri === doc));
  const read = await client.readResource({ uri: doc });
  assert.equal(read.contents[0].uri, doc);
  assert.ok(read.contents[0].text.length > 0);
  const templates = await client.listResourceTemplates();
  assert.ok(templates.resourceTemplates.some((t) => t.uriTemplate.startsWith('demo://resource/dynamic/text/')));
  const dynamic = await client.readResource({ uri: 'demo://resource/dynamic/text/3' });
  assert.equal(dynamic.contents[0].uri, 'demo://resource/dynamic/text/3');
  await assert.rejects(client.readResource({ uri: 'nothing://here' }), (e) => e.code === -32002);
  await client.close();
});

test('prompts and completion go to the server the prompt is named after', async () => {
  const { client } = await connect();
  const { prompts } = await client.listPrompts();
  assert.ok(prompts.some((p) => p.name === 'everything__args-prompt'));
  const prompt = await client.getPrompt({ name: 'everything__args-prompt',
                                          arguments: { city: 'Lisbon' } });
  assert.match(JSON.stringify(prompt.messages), /Lisbon/);
  const completion = await client.complete({
    ref: { type: 'ref/prompt', name: 'second__completable-prompt' },
    argument: { name: 'department', value: 'Eng' },
  });
  assert.deepEqual(completion.completion.values, ['Engineering']);
  await client.setLoggingLevel('warning');
  await client.ping();
  await client.close();
});

test('initialize agrees on each protocol version the gateway speaks, the newest otherwise', async () => {
  for (const version of ['2025-11-25', '2025-06-18', '2025-03-26']) {
    for (const path of ['/mcp', '/mcp/second']) {
      const answer = await initialize(version, { path });
      assert.equal(answer.status, 200);
      assert.equal(answer.json.result.protocolVersion, version);
      const session = answer.headers.get('mcp-session-id');
      assert.match(session, /^[\x21-\x7e]+$/);
      const listed = await post({ jsonrpc: '2.0', id: 2, method: 'tools/list' },
                                { path, session, headers: { 'MCP-Protocol-Version': version } });
      assert.equal(listed.status, 200);
      assert.ok(listed.json.result.tools.length > 0);
    }
  }
  const old = await initialize('2024-11-05');
  assert.equal(old.json.result.protocolVersion, '2025-11-25');
  // A version of the wrong type is one the gateway does not speak, not a crash.
  const typed = await initialize(20251125);
  assert.equal(typed.status, 200);
  assert.equal(typed.json.result.protocolVersion, '2025-11-25');
  const session = typed.headers.get('mcp-session-id');
  const numbered = await post({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 7 } },
                              { session });
  assert.equal(numbered.json.error.code, -32602);
});

test('the transport refuses what the specification says to refuse', async () => {
  const session = (await initialize('2025-11-25')).headers.get('mcp-session-id');
  const ping = { jsonrpc: '2.0', id: 7, method: 'ping' };
  const withSession = (options = {}) => ({ session, ...options });

  assert.deepEqual((await post(ping, withSession())).json, { jsonrpc: '2.0', id: 7, result: {} });
  // A client that cannot take both answers' kinds.
  assert.equal((await post(ping, withSession({ headers: { Accept: 'application/json' } }))).status, 406);
  // DNS rebinding: a page of an origin not allowed.
  const foreign = await post(ping, withSession({ headers: { Origin: 'https://evil.example' } }));
  assert.equal(foreign.status, 403);
  assert.equal(foreign.json.error.code, -32600);
  assert.equal((await post(ping, withSession({ headers: { Origin: 'https://app.example.com' } }))).status, 200);
  // Sessions: missing, forged, of another view.
  assert.equal((await post(ping)).status, 400);
  assert.equal((await post(ping, { session: `${session}x` })).status, 404);
  assert.equal((await post(ping, { session, path: '/mcp/everything' })).status, 404);
  assert.equal((await post(ping, withSession({ headers: { 'MCP-Protocol-Version': '1999-01-01' } }))).status, 400);
  // Notifications are accepted without a body.
  const note = await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, withSession());
  assert.equal(note.status, 202);
  assert.equal(note.text, '');
  // JSON-RPC's own errors.
  const garbled = await post('{"jsonrpc":', withSession());
  assert.equal(garbled.status, 400);
  assert.equal(garbled.json.error.code, -32700);
  assert.equal(garbled.json.id, undefined);
  const batch = await post([ping], withSession());
  assert.equal(batch.status, 400);
  assert.equal(batch.json.error.code, -32600);
  const unknown = await post({ jsonrpc: '2.0', id: 8, method: 'tools/juggle' }, withSession());
  assert.equal(unknown.status, 200);
  assert.equal(unknown.json.error.code, -32601);
  assert.equal(unknown.json.id, 8);
  const big = await post({ jsonrpc: '2.0', id: 9, method: 'tools/call',
                           params: { name: 'everything__echo', arguments: { message: 'x'.repeat(70000) } } },
                         withSession());
  assert.equal(big.status, 413);
  // A stream needs a session, and a client that takes events; unknown servers; no key.
  const listen = (headers) => fetch(url(), { headers: { Authorization: `Bearer ${appKey}`, ...headers } });
  assert.equal((await listen({ Accept: 'text/event-stream' })).status, 400);
  assert.equal((await listen({ Accept: 'text/event-stream', 'Mcp-Session-Id': 'forged' })).status, 404);
  assert.equal((await listen({ Accept: 'application/json', 'Mcp-Session-Id': session })).status, 406);
  assert.equal((await initialize('2025-11-25', { path: '/mcp/nowhere' })).status, 404);
  const anonymous = await fetch(url(), { method: 'POST', body: JSON.stringify(ping),
                                         headers: { 'Content-Type': 'application/json',
                                                    Accept: 'application/json, text/event-stream' } });
  assert.equal(anonymous.status, 401);
});

test('a key sees and calls only the servers and tools it is given', async () => {
  const { client } = await connect('/mcp', { key: limitedKey });
  const names = [];
  let cursor;
  do {
    const page = await client.listTools(cursor ? { cursor } : {});
    names.push(...page.tools.map((t) => t.name));
    cursor = page.nextCursor;
  } while (cursor);
  assert.ok(names.includes('everything__echo'));
  assert.ok(!names.includes('everything__get-env'));
  assert.ok(!names.some((n) => n.startsWith('second__')));
  await assert.rejects(client.callTool({ name: 'everything__get-env', arguments: {} }),
                       (e) => e.code === -32602 && /not allowed/.test(e.message));
  await assert.rejects(client.callTool({ name: 'second__echo', arguments: { message: 'x' } }),
                       (e) => e.code === -32602);
  const echoed = await client.callTool({ name: 'everything__echo', arguments: { message: 'ok' } });
  assert.equal(echoed.content[0].text, 'Echo: ok');
  await client.close();

  const single = await connect('/mcp/everything', { key: limitedKey });
  const { tools } = await single.client.listTools();
  assert.ok(tools.some((t) => t.name === 'echo'));
  assert.ok(!tools.some((t) => t.name === 'get-env'));
  await assert.rejects(single.client.callTool({ name: 'get-env', arguments: {} }),
                       (e) => e.code === -32602);
  await single.client.close();
  await assert.rejects(connect('/mcp/second', { key: limitedKey }),
                       (e) => e.code === 403 && /may not use MCP server second/.test(e.message));
  // The session of one key is not another key's.
  const other = await connect('/mcp', { key: appKey });
  const stolen = await fetch(url(), { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
                                      headers: { Authorization: `Bearer ${limitedKey}`,
                                                 'Content-Type': 'application/json',
                                                 Accept: 'application/json, text/event-stream',
                                                 'Mcp-Session-Id': other.transport.sessionId } });
  assert.equal(stolen.status, 404);
  await other.client.close();
});

test('tools/call past a key\'s rpm or a server\'s max_concurrency is refused with 429', async () => {
  const { client } = await connect('/mcp', { key: meteredKey });
  for (const message of ['one', 'two']) {
    const echoed = await client.callTool({ name: 'everything__echo', arguments: { message } });
    assert.equal(echoed.content[0].text, `Echo: ${message}`);
  }
  await assert.rejects(client.callTool({ name: 'everything__echo', arguments: { message: 'three' } }),
                       (e) => e.code === 429 && /may make 2 tools\/call a minute/.test(e.message));
  // Lists are not tools/call: still served.
  assert.ok((await client.listTools()).tools.length > 0);
  await client.close();

  const session = (await initialize('2025-11-25')).headers.get('mcp-session-id');
  upstream.seen.length = 0;
  const long = (id) => post({ jsonrpc: '2.0', id, method: 'tools/call',
                              params: { name: 'remote__trigger-long-running-operation',
                                        arguments: { duration: 1, steps: 1 } } }, { session });
  const first = long(1);
  await waitFor(() => upstream.seen.some((r) => r.body.includes('"id":') &&
                                              r.body.includes('trigger-long-running-operation')),
                'the first call at the upstream');
  const second = await long(2);
  assert.equal(second.status, 429);
  assert.equal(second.json.id, 2);
  assert.equal(second.json.error.code, -32000);
  assert.match(second.json.error.message, /MCP server remote has 1 tools\/call in flight/);
  assert.ok(Number(second.headers.get('retry-after')) >= 1);
  assert.equal((await first).status, 200);
  assert.equal((await long(3)).status, 200);  // the slot is free again
});

test('a session the client ended is gone, and so are its sessions with HTTP servers', async () => {
  const { client, transport } = await connect();
  const session = transport.sessionId;
  upstream.seen.length = 0;
  await client.callTool({ name: 'remote__echo', arguments: { message: 'x' } });
  const atUpstream = upstream.seen.find((r) => r.body.includes('"tools/call"')).headers['mcp-session-id'];
  await transport.terminateSession();
  const after = await post({ jsonrpc: '2.0', id: 1, method: 'ping' }, { session });
  assert.equal(after.status, 404);
  await waitFor(() => upstream.seen.some((r) => r.method === 'DELETE' &&
                                              r.headers['mcp-session-id'] === atUpstream),
                'the session ended at the upstream');
  await client.close();
});

test('each MCP request leaves a log line naming its method, server and tool', async () => {
  const { client, transport } = await connect();
  await client.callTool({ name: 'second__echo', arguments: { message: 'logged' } });
  const line = await waitFor(() => gateway.log.split('\n').find((l) =>
    l.includes('"mcp_method":"tools/call"') && l.includes('"mcp_server":"second"') &&
    l.includes('"mcp_name":"echo"')), 'the tools/call log line');
  const record = JSON.parse(line);
  assert.equal(record.path, '/mcp');
  assert.equal(record.key, 'app');
  assert.equal(record.status, 200);
  assert.ok(record.mcp_session.length > 0);
  assert.ok(!line.includes(transport.sessionId), 'the signed session id is not logged');
  await client.close();
});

test('/admin/mcp lists the servers and sessions, and /metrics counts MCP requests and tool calls', async () => {
  const { client, transport } = await connect();
  await client.callTool({ name: 'everything__echo', arguments: { message: 'counted' } });
  await assert.rejects(client.callTool({ name: 'invented__tool', arguments: {} }));
  const ended = await connect('/mcp/second');
  const endedId = ended.transport.sessionId;
  await ended.transport.terminateSession();

  const admin = await fetch(url('/admin/mcp'), { headers: { Authorization: `Bearer ${adminKey}` } });
  assert.equal(admin.status, 200);
  const { servers, sessions, sessions_active: active } = await admin.json();
  assert.equal(active, sessions.length);
  // The session that made requests here lately, with what it made; not the one that ended.
  const nonceOf = (id) => JSON.parse(Buffer.from(id.split('.')[0], 'base64url')).n;
  const mine = sessions.find((s) => s.session === nonceOf(transport.sessionId));
  assert.ok(mine, JSON.stringify(sessions));
  assert.deepEqual([mine.key, mine.server, mine.protocol_version, typeof mine.stream_open],
                   ['app', '', '2025-11-25', 'boolean']);
  assert.ok(mine.requests >= 4 && mine.idle_seconds < 60, JSON.stringify(mine));
  assert.ok(!sessions.some((s) => s.session === nonceOf(endedId)), JSON.stringify(sessions));
  await client.close();
  assert.deepEqual(servers.map((s) => [s.name, s.transport, s.ready]),
                   [['everything', 'stdio', true], ['second', 'stdio', true], ['remote', 'http', true],
                    ['legacy', 'sse', true]]);
  for (const server of servers) {
    assert.equal(server.server_info.name, 'mcp-servers/everything');
    assert.ok(server.tools > 0 && server.prompts > 0 && server.resources > 0);
  }
  const notAdmin = await fetch(url('/admin/mcp'), { headers: { Authorization: `Bearer ${appKey}` } });
  assert.equal(notAdmin.status, 403);

  const metrics = await (await fetch(url('/metrics'))).text();
  assert.match(metrics, /switchyard_mcp_requests_total\{method="tools\/call",server="everything",outcome="ok"\} [1-9]/);
  assert.match(metrics, /switchyard_mcp_tool_calls_total\{server="everything",tool="echo",outcome="ok"\} [1-9]/);
  assert.match(metrics, /switchyard_mcp_requests_total\{method="tools\/call",server="",outcome="-32602"\} [1-9]/);
  assert.doesNotMatch(metrics, /invented/);
  assert.match(metrics, /switchyard_mcp_request_duration_seconds_count\{method="initialize",server=""\} [1-9]/);
  assert.match(metrics, /switchyard_mcp_server_up\{server="remote"\} 1/);
  assert.match(metrics, /switchyard_mcp_sessions_active [1-9]/);
  // The gauges count what is open now: one session's stream while its client is connected.
  const listening = await connect();
  await waitFor(async () => /switchyard_mcp_streams_open [1-9]/.test(
    await (await fetch(url('/metrics'))).text()), 'the stream counted');
  await listening.client.close();
});

// The pid of the stdio server a gateway runs under `name` (its environment says which).
function serverPid(g, name) {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      if (Number(status.match(/PPid:\s+(\d+)/)[1]) !== g.child.pid) continue;
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8');
      if (environ.split('\0').includes(`SWITCHYARD_TEST_SERVER=${name}`)) return Number(entry);
    } catch { /* gone meanwhile */ }
  }
  return 0;
}

test('a stdio server that crashes mid-call fails that call, is restarted, and spares the others', async () => {
  const { client } = await connect();
  const pid = serverPid(gateway, 'second');
  assert.ok(pid > 0, 'the second server runs as a child of the gateway');
  const started = Date.now();
  const call = client.callTool({ name: 'second__trigger-long-running-operation',
                                 arguments: { duration: 20, steps: 2 } });
  setTimeout(() => process.kill(pid, 'SIGKILL'), 300);
  await assert.rejects(call, (e) => e.code === -32603 && /exited/.test(e.message));
  assert.ok(Date.now() - started < 5000, 'the call failed at once, not at its timeout');
  const other = await client.callTool({ name: 'everything__echo', arguments: { message: 'still here' } });
  assert.equal(other.content[0].text, 'Echo: still here');
  // Restarted: a new process, and calls to it work again.
  await waitFor(() => { const now = serverPid(gateway, 'second'); return now && now !== pid; },
                'the second server restarted');
  const back = await waitFor(async () => {
    try {
      return await client.callTool({ name: 'second__echo', arguments: { message: 'back' } });
    } catch { return null; }
  }, 'a call to the restarted server');
  assert.equal(back.content[0].text, 'Echo: back');
  await client.close();
});

test('a stdio server that stops answering without exiting is restarted after two missed pings', async () => {
  const pid = serverPid(gateway, 'second');
  assert.ok(pid > 0);
  process.kill(pid, 'SIGSTOP');
  await waitFor(() => gateway.log.includes('"mcp_server_unhealthy"'), 'a missed ping in the log');
  await waitFor(() => { const now = serverPid(gateway, 'second'); return now && now !== pid; },
                'the hung server replaced');
  const { client } = await connect();
  const back = await waitFor(async () => {
    try {
      return await client.callTool({ name: 'second__echo', arguments: { message: 'awake' } });
    } catch { return null; }
  }, 'a call to the restarted server');
  assert.equal(back.content[0].text, 'Echo: awake');
  await client.close();
});

test('a session continues on another gateway process after the first one is killed', async () => {
  const { client, transport } = await connect();
  const sessionId = transport.sessionId;
  await client.callTool({ name: 'everything__echo', arguments: { message: 'before' } });
  const replica = await startGateway('replica');
  await stopGateway(gateway);
  gateway = replica;
  const resumed = await connect('/mcp', { sessionId });
  assert.equal(resumed.transport.sessionId, sessionId);
  const after = await resumed.client.callTool({ name: 'everything__echo', arguments: { message: 'after' } });
  assert.equal(after.content[0].text, 'Echo: after');
  // An HTTP server's session for this client goes on too: the client's id carries it.
  const remoteSession = () => upstream.seen.filter((r) => r.body.includes('"tools/call"')).at(-1)
    .headers['mcp-session-id'];
  await resumed.client.callTool({ name: 'remote__echo', arguments: { message: 'here' } });
  const before = remoteSession();
  await stopGateway(gateway);
  gateway = await startGateway('another');
  const again = await connect('/mcp', { sessionId });
  await again.client.callTool({ name: 'remote__echo', arguments: { message: 'there' } });
  assert.equal(remoteSession(), before);
  await resumed.client.close();
});
