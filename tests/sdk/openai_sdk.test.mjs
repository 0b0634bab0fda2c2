// The official OpenAI Node SDK pointed at switchyard (base_url), switchyard pointed at
// switchyard-mock: JSON and streamed completions, model listing and error classes, as an app
// would see them. Run by ctest with SWITCHYARD_BIN and SWITCHYARD_MOCK_BIN set.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';

const gatewayBin = process.env.SWITCHYARD_BIN;
const mockBin = process.env.SWITCHYARD_MOCK_BIN;
assert.ok(gatewayBin && mockBin, 'SWITCHYARD_BIN and SWITCHYARD_MOCK_BIN must be set');

const dir = mkdtempSync(join(tmpdir(), 'switchyard-sdk-'));
const children = [];
let client;

async function waitFor(check, what, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function start(bin, args, name) {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout.on('data', (d) => { text += d; });
  child.stderr.on('data', (d) => process.stderr.write(`[${name}] ${d}`));
  children.push(child);
  return () => text;
}

before(async () => {
  const portFile = join(dir, 'mock.port');
  start(mockBin, ['--listen', '127.0.0.1:0', '--name', 'sdkmock', '--port-file', portFile], 'mock');
  const mockPort = await waitFor(() => existsSync(portFile) && Number(readFileSync(portFile, 'utf8')), 'mock port');

  const config = join(dir, 'gateway.yaml');
  writeFileSync(config, `server:
  listen: "127.0.0.1:0"
  workers: 2
providers:
  mock:
    type: openai
    base_url: http://127.0.0.1:${mockPort}/v1
    api_key: sk-mock-provider-key
    forward_headers: ["x-mock-*"]
models:
  mock-small: { provider: mock, name: upstream-small }
routes:
  default: { targets: [mock-small] }
`);
  const stdout = start(gatewayBin, ['--config', config], 'gateway');
  const port = await waitFor(() => {
    const m = stdout().match(/listening on 127\.0\.0\.1:(\d+)/);
    return m && Number(m[1]);
  }, 'gateway port');
  client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'sk-client-key', maxRetries: 0 });
});

after(async () => {
  const exits = children.map((c) => new Promise((resolve) => c.once('exit', resolve)));
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(exits);
  rmSync(dir, { recursive: true, force: true });
});

test('a JSON completion comes back as a ChatCompletion', async () => {
  const { data, response } = await client.chat.completions
    .create({ model: 'default', messages: [{ role: 'user', content: 'Hello?' }] })
    .withResponse();
  assert.equal(data.object, 'chat.completion');
  assert.equal(data.model, 'upstream-small');
  assert.equal(data.choices[0].message.content, 'Hello from sdkmock.');
  assert.equal(data.choices[0].finish_reason, 'stop');
  assert.ok(data.usage.total_tokens > 0);
  assert.equal(response.headers.get('x-switchyard-provider'), 'mock');
  assert.equal(response.headers.get('x-switchyard-route'), 'default');
  assert.match(response.headers.get('x-request-id'), /^req_/);
});

test('a streamed completion arrives chunk by chunk, with usage when asked', async () => {
  const stream = await client.chat.completions.create({
    model: 'default',
    messages: [{ role: 'user', content: 'Stream please' }],
    stream: true,
    stream_options: { include_usage: true },
  });
  let content = '';
  let chunks = 0;
  let usage = null;
  let finish = null;
  for await (const chunk of stream) {
    chunks += 1;
    assert.equal(chunk.object, 'chat.completion.chunk');
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices) {
      content += choice.delta?.content ?? '';
      finish = choice.finish_reason ?? finish;
    }
  }
  assert.equal(content, 'Hello from sdkmock.');
  assert.equal(finish, 'stop');
  assert.ok(chunks >= 4, `only ${chunks} chunks`);
  assert.ok(usage && usage.total_tokens > 0);
});

test('models lists the routes and aliases', async () => {
  const ids = [];
  for await (const model of client.models.list()) ids.push(model.id);
  assert.deepEqual(ids.sort(), ['default', 'mock-small']);
});

test('gateway errors map to the SDK error classes', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }),
    (err) => err instanceof OpenAI.NotFoundError && err.code === 'model_not_found',
  );
  await assert.rejects(
    client.chat.completions.create({ model: 'default', messages: [] }),
    (err) => err instanceof OpenAI.BadRequestError && err.param === 'messages',
  );
});

test('an upstream dying mid-stream surfaces as an APIError, not a silent end', async () => {
  const stream = await client.chat.completions.create(
    { model: 'default', messages: [{ role: 'user', content: 'x' }], stream: true },
    { headers: { 'x-mock-chunks': '4', 'x-mock-drop-after': '2' } },
  );
  let content = '';
  await assert.rejects(async () => {
    for await (const chunk of stream) content += chunk.choices[0]?.delta?.content ?? '';
  }, (err) => err instanceof OpenAI.APIError && /interrupted/.test(err.message));
  assert.ok(content.length > 0, 'the first chunks arrived before the error');
});
