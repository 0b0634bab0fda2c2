// The official OpenAI Node SDK pointed at switchyard (base_url), switchyard pointed at
// switchyard-mock speaking OpenAI's, Anthropic's and Gemini's wire formats: the same app code
// gets the same answers, streams, tool calls and error classes whichever provider served, as an
// app would see them. Run by ctest with SWITCHYARD_BIN and SWITCHYARD_MOCK_BIN set.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { Processes, mockProvider } from './processes.mjs';

const gatewayBin = process.env.SWITCHYARD_BIN;
const mockBin = process.env.SWITCHYARD_MOCK_BIN;
assert.ok(gatewayBin && mockBin, 'SWITCHYARD_BIN and SWITCHYARD_MOCK_BIN must be set');

const dir = mkdtempSync(join(tmpdir(), 'switchyard-sdk-'));
const processes = new Processes(dir);
let client;

before(async () => {
  const [openaiPort, anthropicPort, geminiPort] =
    await Promise.all(['sdkmock', 'anth', 'gem'].map((name) => processes.startMock(mockBin, name)));
  const provider = (type, port, name, path) => mockProvider(type, name, port, path);

  const config = join(dir, 'gateway.yaml');
  writeFileSync(config, `server:
  listen: "127.0.0.1:0"
  workers: 2
providers:${provider('openai', openaiPort, 'sdkmock', '/v1')}${provider('anthropic', anthropicPort, 'anth')}${provider('gemini', geminiPort, 'gem')}
models:
  mock-small: { provider: sdkmock, name: upstream-small }
  claude: { provider: anth, name: claude-test }
  flash: { provider: gem, name: gemini-test }
  embed-openai: { provider: sdkmock, name: embedding-test }
  embed-gemini: { provider: gem, name: embedding-test }
routes:
  default: { targets: [mock-small] }
  smart: { targets: [claude, flash] }
`);
  const port = await processes.startGateway(gatewayBin, config);
  client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'sk-client-key', maxRetries: 0 });
});

after(async () => {
  await processes.stopAll();
  rmSync(dir, { recursive: true, force: true });
});

test('a JSON completion comes back as a ChatCompletion', async () => {
  const { data, response } = await client.chat.completions
    .create({ model: 'default', messages: [{ role: 'user', content: 'Hello?' }] })
    .withResponse();
  assert.equal(data.object, 'chat.completion');
  assert.equal(data.model, 'default');
  assert.equal(data.choices[0].message.content, 'Hello from sdkmock.');
  assert.equal(data.choices[0].finish_reason, 'stop');
  assert.ok(data.usage.total_tokens > 0);
  assert.equal(response.headers.get('x-switchyard-provider'), 'sdkmock');
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
  assert.deepEqual(ids.sort(),
                   ['claude', 'default', 'embed-gemini', 'embed-openai', 'flash', 'mock-small', 'smart']);
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

// The same app code against each wire format: the answers must be the same.
const providers = [
  { model: 'mock-small', provider: 'sdkmock' },
  { model: 'claude', provider: 'anth' },
  { model: 'flash', provider: 'gem' },
];
const content = { 'x-mock-content': 'The same answer from everywhere.' };
const tools = [{
  type: 'function',
  function: { name: 'get_weather', description: 'Weather in a city',
              parameters: { type: 'object', properties: { location: { type: 'string' } } } },
}];

for (const { model, provider } of providers) {
  test(`${provider}: a JSON answer in OpenAI's shape`, async () => {
    const { data, response } = await client.chat.completions
      .create({ model, messages: [{ role: 'system', content: 'Be brief.' },
                                  { role: 'user', content: 'Hello?' }], max_tokens: 50 },
              { headers: content })
      .withResponse();
    assert.equal(response.headers.get('x-switchyard-provider'), provider);
    assert.equal(data.object, 'chat.completion');
    assert.equal(data.model, model);
    assert.match(data.id, /^chatcmpl-/);
    assert.equal(data.choices.length, 1);
    assert.equal(data.choices[0].message.role, 'assistant');
    assert.equal(data.choices[0].message.content, 'The same answer from everywhere.');
    assert.equal(data.choices[0].finish_reason, 'stop');
    assert.ok(data.usage.prompt_tokens > 0 && data.usage.completion_tokens > 0);
    assert.equal(data.usage.total_tokens, data.usage.prompt_tokens + data.usage.completion_tokens);
  });

  test(`${provider}: a streamed answer, usage chunk and all`, async () => {
    const stream = await client.chat.completions.create(
      { model, messages: [{ role: 'user', content: 'Stream please' }], stream: true,
        stream_options: { include_usage: true } },
      { headers: content });
    let text = '';
    let finish = null;
    let usage = null;
    let role = null;
    for await (const chunk of stream) {
      assert.equal(chunk.object, 'chat.completion.chunk');
      assert.equal(chunk.model, model);
      if (chunk.usage) usage = chunk.usage;
      for (const choice of chunk.choices) {
        role = choice.delta?.role ?? role;
        text += choice.delta?.content ?? '';
        finish = choice.finish_reason ?? finish;
      }
    }
    assert.equal(role, 'assistant');
    assert.equal(text, 'The same answer from everywhere.');
    assert.equal(finish, 'stop');
    assert.ok(usage && usage.completion_tokens > 0);
  });

  test(`${provider}: a tool-call round trip`, async () => {
    const messages = [{ role: 'user', content: 'Weather in Oslo?' }];
    const first = await client.chat.completions.create({ model, messages, tools });
    const choice = first.choices[0];
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.tool_calls.length, 1);
    const call = choice.message.tool_calls[0];
    assert.equal(call.type, 'function');
    assert.equal(call.function.name, 'get_weather');
    assert.deepEqual(JSON.parse(call.function.arguments), { location: 'Oslo' });
    assert.ok(call.id.length > 0);

    messages.push(choice.message, { role: 'tool', tool_call_id: call.id, content: '5C and sunny' });
    const second = await client.chat.completions.create({ model, messages, tools });
    assert.equal(second.choices[0].finish_reason, 'stop');
    assert.equal(second.choices[0].message.content, 'Tool result: 5C and sunny');
  });

  test(`${provider}: a streamed tool call assembles like OpenAI's`, async () => {
    const stream = await client.chat.completions.create({
      model, messages: [{ role: 'user', content: 'Weather?' }], tools, stream: true,
    }, { headers: { 'x-mock-tool-calls': '2' } });
    const calls = [];
    let finish = null;
    for await (const chunk of stream) {
      for (const choice of chunk.choices) {
        finish = choice.finish_reason ?? finish;
        for (const delta of choice.delta?.tool_calls ?? []) {
          calls[delta.index] ??= { id: '', name: '', arguments: '' };
          calls[delta.index].id += delta.id ?? '';
          calls[delta.index].name += delta.function?.name ?? '';
          calls[delta.index].arguments += delta.function?.arguments ?? '';
        }
      }
    }
    assert.equal(finish, 'tool_calls');
    assert.equal(calls.length, 2);
    for (const c of calls) {
      assert.equal(c.name, 'get_weather');
      assert.deepEqual(JSON.parse(c.arguments), { location: 'Oslo' });
    }
    assert.notEqual(calls[0].id, calls[1].id);
  });

  test(`${provider}: the provider's refusal of a bad request is a BadRequestError`, async () => {
    await assert.rejects(
      client.chat.completions.create(
        { model, messages: [{ role: 'user', content: 'x' }] },
        { headers: { 'x-mock-status': '400', 'x-mock-error-message': 'that will not do' } }),
      (err) => err instanceof OpenAI.BadRequestError && err.type === 'invalid_request_error' &&
               err.message.includes('that will not do'),
    );
  });
}

test('a route from Anthropic to Gemini retries a 529 once, then fails over', async () => {
  const { data, response } = await client.chat.completions
    .create({ model: 'smart', messages: [{ role: 'user', content: 'Hi' }] },
            { headers: { 'x-mock-target': 'anth', 'x-mock-status': '529' } })
    .withResponse();
  assert.equal(response.headers.get('x-switchyard-provider'), 'gem');
  assert.equal(response.headers.get('x-switchyard-attempts'), '3');
  assert.equal(data.model, 'smart');
  assert.equal(data.choices[0].message.content, 'Hello from gem.');
});

test('embeddings are the same vectors through an OpenAI passthrough and Gemini', async () => {
  // The SDK asks for base64 and decodes it itself, so both paths of the encoding are exercised.
  const input = ['the first text', 'the second text'];
  const direct = await client.embeddings.create({ model: 'embed-openai', input });
  const translated = await client.embeddings.create({ model: 'embed-gemini', input });
  assert.equal(translated.object, 'list');
  assert.equal(translated.model, 'embed-gemini');
  assert.equal(translated.data.length, 2);
  for (let i = 0; i < 2; i += 1) {
    assert.equal(translated.data[i].index, i);
    assert.ok(translated.data[i].embedding.length > 0);
    assert.deepEqual(translated.data[i].embedding, direct.data[i].embedding);
  }
  assert.notDeepEqual(translated.data[0].embedding, translated.data[1].embedding);
  const floats = await client.embeddings.create({ model: 'embed-gemini', input: 'x',
                                                  encoding_format: 'float' });
  assert.equal(typeof floats.data[0].embedding[0], 'number');
});
