// The official Anthropic TypeScript SDK (@anthropic-ai/sdk) pointed at switchyard's Messages door
// (baseURL = the gateway; the SDK adds /v1/messages), switchyard pointed at switchyard-mock
// speaking Anthropic's, OpenAI's and Gemini's wire formats. What a Claude app sees whichever
// provider served: messages (system, multi-turn, images), parallel tool calls and their results,
// streams that end as the same message as the JSON answer, well-formed raw event streams,
// count_tokens (Anthropic's exact count or the gateway's estimate), the SDK's typed errors,
// failover off an overloaded Anthropic, anthropic-beta and the gateway key on the upstream's
// side, and the model list in Anthropic's shape. The mocks' /_mock/requests log shows what reached
// each upstream. Run by ctest with SWITCHYARD_BIN and SWITCHYARD_MOCK_BIN set.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { Processes, mockProvider } from './processes.mjs';

const gatewayBin = process.env.SWITCHYARD_BIN;
const mockBin = process.env.SWITCHYARD_MOCK_BIN;
assert.ok(gatewayBin && mockBin, 'SWITCHYARD_BIN and SWITCHYARD_MOCK_BIN must be set');

const dir = mkdtempSync(join(tmpdir(), 'switchyard-anthropic-sdk-'));
const processes = new Processes(dir);
const mockPorts = {};
const gatewayKey = 'sk-gateway-anthropic-app';
let baseURL;
let client;

// A client of the gateway; the SDK reads no key or base URL from the environment when given one.
// This SDK sends its apiKey as Authorization: Bearer.
const gatewayClient = (options = {}) =>
  new Anthropic({ baseURL, apiKey: gatewayKey, maxRetries: 0, ...options });
// Per-request headers that carry `key` as x-api-key instead, as Anthropic's API and older SDKs do.
const asXApiKey = (key) => ({ 'x-api-key': key, authorization: null });

// What reached a mock, oldest first: { method, path, headers (lower-case names), body, status }.
async function upstreamRequests(mock) {
  const response = await fetch(`http://127.0.0.1:${mockPorts[mock]}/_mock/requests?limit=200`);
  assert.equal(response.status, 200);
  return response.json();
}

// The one request to `mock` whose body holds `marker` (each test puts a fresh one in its prompt).
async function upstreamRequestWith(mock, marker) {
  const hits = (await upstreamRequests(mock)).filter((r) => r.body.includes(marker));
  assert.equal(hits.length, 1, `requests to ${mock} carrying ${marker}: ${hits.length}`);
  return { ...hits[0], json: JSON.parse(hits[0].body) };
}

async function mockControl(mock, path, body) {
  const response = await fetch(`http://127.0.0.1:${mockPorts[mock]}/_mock/${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  assert.equal(response.status, 204, await response.text());
}

const newMarker = () => `marker-${randomUUID()}`;

// The text blocks of a message, joined.
const textOf = (message) => message.content.filter((b) => b.type === 'text').map((b) => b.text).join('');

// A message as a user compares two of them: tool_use ids are fresh per request, so only their
// presence counts.
function comparable(message) {
  return {
    role: message.role,
    model: message.model,
    stop_reason: message.stop_reason,
    output_tokens: message.usage.output_tokens,
    content: message.content.map((b) => (b.type === 'tool_use'
      ? { type: b.type, name: b.name, input: b.input, has_id: typeof b.id === 'string' && b.id.length > 0 }
      : b)),
  };
}

before(async () => {
  await Promise.all(['oai', 'anth', 'gem'].map(async (name) => {
    mockPorts[name] = await processes.startMock(mockBin, name);
  }));
  const provider = (type, name, path) => mockProvider(type, name, mockPorts[name], path);

  const config = join(dir, 'gateway.yaml');
  writeFileSync(config, `server:
  listen: "127.0.0.1:0"
  workers: 2
providers:${provider('openai', 'oai', '/v1')}${provider('anthropic', 'anth')}${provider('gemini', 'gem')}
models:
  gpt-mock: { provider: oai, name: upstream-small }
  claude: { provider: anth, name: claude-test }
  flash: { provider: gem, name: gemini-test }
routes:
  smart: { targets: [claude, flash] }
keys:
  app: { sha256: ${createHash('sha256').update(gatewayKey).digest('hex')} }
`);
  const port = await processes.startGateway(gatewayBin, config);
  baseURL = `http://127.0.0.1:${port}`;
  client = gatewayClient();
});

after(async () => {
  await processes.stopAll();
  rmSync(dir, { recursive: true, force: true });
});

// A 1x1 PNG.
const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
const tools = [
  { name: 'get_weather', description: 'Weather in a city',
    input_schema: { type: 'object', properties: { location: { type: 'string' } } } },
  { name: 'get_time', description: 'Local time in a city',
    input_schema: { type: 'object', properties: { location: { type: 'string' } } } },
];
const scriptedText = 'The same answer from everywhere.';
const content = { 'x-mock-content': scriptedText };
const twoToolCalls = { 'x-mock-tool-calls': '2' };

// The same app code against each wire format; each entry says how its upstream writes the system
// prompt, the turns, an image and the tool results, so a test can see what the gateway sent there.
const providers = [
  {
    model: 'claude', provider: 'anth',
    system: (body) => body.system,
    roles: (body) => body.messages.map((m) => m.role),
    assistantRole: 'assistant',
    images: (body) => body.messages.flatMap((m) => (Array.isArray(m.content) ? m.content : []))
      .filter((b) => b.type === 'image').map((b) => `${b.source.media_type};${b.source.data}`),
    toolResults: (body) => body.messages.at(-1).content.filter((b) => b.type === 'tool_result')
      .map((b) => JSON.stringify(b.content)),
  },
  {
    model: 'gpt-mock', provider: 'oai',
    system: (body) => body.messages.filter((m) => m.role === 'system').map((m) => m.content).join(''),
    roles: (body) => body.messages.filter((m) => m.role !== 'system').map((m) => m.role),
    assistantRole: 'assistant',
    images: (body) => body.messages.flatMap((m) => (Array.isArray(m.content) ? m.content : []))
      .filter((p) => p.type === 'image_url')
      .map((p) => p.image_url.url.replace(/^data:(.*?);base64,/, '$1;')),
    toolResults: (body) => body.messages.filter((m) => m.role === 'tool')
      .map((m) => JSON.stringify(m.content)),
  },
  {
    model: 'flash', provider: 'gem',
    system: (body) => (body.systemInstruction ?? body.system_instruction).parts.map((p) => p.text).join(''),
    roles: (body) => body.contents.map((c) => c.role),
    assistantRole: 'model',
    images: (body) => body.contents.flatMap((c) => c.parts)
      .map((p) => p.inlineData ?? p.inline_data).filter(Boolean)
      .map((d) => `${d.mimeType ?? d.mime_type};${d.data}`),
    toolResults: (body) => body.contents.at(-1).parts
      .map((p) => p.functionResponse ?? p.function_response).filter(Boolean)
      .map((r) => JSON.stringify(r.response)),
  },
];

for (const { model, provider, system, roles, assistantRole, images, toolResults } of providers) {
  test(`${provider}: a JSON answer is an Anthropic message`, async () => {
    const marker = newMarker();
    const { data, response } = await client.messages
      .create({ model, max_tokens: 100, system: `Be brief. ${marker}`,
                messages: [{ role: 'user', content: 'Hello?' }] },
              { headers: content })
      .withResponse();
    assert.equal(response.headers.get('x-switchyard-provider'), provider);
    assert.equal(data.type, 'message');
    assert.match(data.id, /^msg_/);
    assert.equal(data.role, 'assistant');
    assert.equal(data.model, model);
    assert.deepEqual(data.content, [{ type: 'text', text: scriptedText }]);
    assert.equal(data.stop_reason, 'end_turn');
    assert.ok(data.usage.input_tokens > 0, `input_tokens ${data.usage.input_tokens}`);
    assert.ok(data.usage.output_tokens > 0, `output_tokens ${data.usage.output_tokens}`);
    assert.equal(system((await upstreamRequestWith(provider, marker)).json), `Be brief. ${marker}`);
  });

  test(`${provider}: a multi-turn conversation reaches the upstream turn by turn and is answered`, async () => {
    const marker = newMarker();
    const message = await client.messages.create({
      model, max_tokens: 100,
      messages: [
        { role: 'user', content: `My name is Ada. ${marker}` },
        { role: 'assistant', content: 'Nice to meet you, Ada.' },
        { role: 'user', content: 'What is my name?' },
      ],
    }, { headers: content });
    assert.equal(textOf(message), scriptedText);
    assert.equal(message.stop_reason, 'end_turn');
    const upstream = await upstreamRequestWith(provider, marker);
    assert.deepEqual(roles(upstream.json), ['user', assistantRole, 'user']);
    assert.ok(upstream.body.includes('Nice to meet you, Ada.'));
  });

  test(`${provider}: a base64 PNG image is accepted, passed on as an image and answered`, async () => {
    const marker = newMarker();
    const message = await client.messages.create({
      model, max_tokens: 100,
      messages: [{ role: 'user', content: [
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } },
        { type: 'text', text: `What is in this picture? ${marker}` },
      ] }],
    }, { headers: content });
    assert.equal(textOf(message), scriptedText);
    const upstream = await upstreamRequestWith(provider, marker);
    assert.deepEqual(images(upstream.json), [`image/png;${png}`]);
    if (provider === 'oai') {
      // What an OpenAI-compatible upstream understands: an image_url part holding a data: URL.
      const parts = upstream.json.messages.at(-1).content;
      assert.ok(parts.some((p) => p.type === 'image_url' &&
                                  p.image_url.url === `data:image/png;base64,${png}`),
                JSON.stringify(parts));
    }
  });

  test(`${provider}: parallel tool calls come back as tool_use blocks, and both results are answered`, async () => {
    const marker = newMarker();
    const messages = [{ role: 'user', content: `Weather and time in Oslo? ${marker}` }];
    const first = await client.messages.create({ model, max_tokens: 200, tools, messages },
                                               { headers: twoToolCalls });
    assert.equal(first.stop_reason, 'tool_use');
    const calls = first.content.filter((b) => b.type === 'tool_use');
    assert.equal(calls.length, 2, JSON.stringify(first.content));
    assert.deepEqual(calls.map((c) => c.name), ['get_weather', 'get_time']);
    for (const call of calls) {
      assert.equal(typeof call.id, 'string');
      assert.ok(call.id.length > 0);
      assert.deepEqual(call.input, { location: 'Oslo' });
    }
    assert.notEqual(calls[0].id, calls[1].id);

    messages.push({ role: 'assistant', content: first.content }, {
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: calls[0].id, content: '5C and sunny' },
        { type: 'tool_result', tool_use_id: calls[1].id, content: '14:05' },
      ],
    });
    const second = await client.messages.create({ model, max_tokens: 200, tools, messages });
    assert.equal(second.stop_reason, 'end_turn');
    // The mock answers with the text of the last result it was given.
    assert.equal(textOf(second), 'Tool result: 14:05');
    const answered = (await upstreamRequests(provider))
      .filter((r) => r.body.includes(marker) && r.body.includes('14:05'));
    assert.equal(answered.length, 1);
    const results = toolResults(JSON.parse(answered[0].body));
    assert.equal(results.length, 2, JSON.stringify(results));
    assert.ok(results[0].includes('5C and sunny') && results[1].includes('14:05'), JSON.stringify(results));
  });

  test(`${provider}: a streamed answer ends as the same message as the JSON one`, async () => {
    const params = { model, max_tokens: 100, system: 'Be brief.',
                     messages: [{ role: 'user', content: 'Stream please' }] };
    const whole = await client.messages.create(params, { headers: content });
    const stream = client.messages.stream(params, { headers: content });
    let streamedText = '';
    stream.on('text', (delta) => { streamedText += delta; });
    const final = await stream.finalMessage();
    assert.deepEqual(comparable(final), comparable(whole));
    assert.equal(final.stop_reason, 'end_turn');
    assert.equal(textOf(final), scriptedText);
    assert.equal(streamedText, scriptedText);
    assert.ok(final.usage.output_tokens > 0);
  });

  test(`${provider}: streamed parallel tool calls end as the same message as the JSON one`, async () => {
    const params = { model, max_tokens: 200, tools,
                     messages: [{ role: 'user', content: 'Weather and time in Oslo?' }] };
    const whole = await client.messages.create(params, { headers: twoToolCalls });
    const final = await client.messages.stream(params, { headers: twoToolCalls }).finalMessage();
    assert.deepEqual(comparable(final), comparable(whole));
    assert.equal(final.stop_reason, 'tool_use');
    const ids = final.content.filter((b) => b.type === 'tool_use').map((b) => b.id);
    assert.equal(ids.length, 2);
    assert.notEqual(ids[0], ids[1]);
  });

  test(`${provider}: a stream cut off mid-way raises an error instead of ending cleanly`, async () => {
    const stream = await client.messages.create(
      { model, max_tokens: 100, messages: [{ role: 'user', content: 'x' }], stream: true },
      { headers: { 'x-mock-chunks': '4', 'x-mock-drop-after': '2' } });
    const seen = [];
    await assert.rejects(async () => {
      for await (const event of stream) seen.push(event.type);
    }, (err) => {
      // Anthropic's way of failing a started stream: an error event, which the SDK raises.
      assert.ok(err instanceof Anthropic.APIError, String(err));
      assert.equal(err.type, 'api_error');
      assert.match(err.message, /interrupted/);
      return true;
    });
    assert.equal(seen[0], 'message_start');
    assert.ok(seen.includes('content_block_delta'), `the first chunks arrived: ${seen.join(' ')}`);
    assert.ok(!seen.includes('message_stop'), `no message_stop after a cut: ${seen.join(' ')}`);
  });

  test(`${provider}: the provider's refusal of a bad request is a BadRequestError`, async () => {
    await assert.rejects(
      client.messages.create(
        { model, max_tokens: 100, messages: [{ role: 'user', content: 'x' }] },
        { headers: { 'x-mock-status': '400', 'x-mock-error-message': 'that will not do' } }),
      (err) => {
        assert.ok(err instanceof Anthropic.BadRequestError, String(err));
        assert.equal(err.status, 400);
        assert.equal(err.error?.type, 'error');
        assert.equal(err.type, 'invalid_request_error');
        assert.match(err.message, /that will not do/);
        return true;
      });
  });
}

test('the raw event stream is well-formed: message_start first, whole blocks 0..n, message_stop last', async () => {
  // Through the translation (an OpenAI upstream), where the gateway writes the events itself.
  const stream = await client.messages.create({
    model: 'gpt-mock', max_tokens: 200, tools, stream: true,
    messages: [{ role: 'user', content: 'Weather and time in Oslo?' }],
  }, { headers: twoToolCalls });
  const events = [];
  for await (const event of stream) events.push(event);
  const types = events.map((e) => e.type);
  assert.equal(types[0], 'message_start', types.join(' '));
  assert.equal(events[0].message.role, 'assistant');
  assert.equal(events[0].message.model, 'gpt-mock');
  assert.equal(types.at(-1), 'message_stop', types.join(' '));
  assert.equal(types.at(-2), 'message_delta', types.join(' '));
  assert.equal(events.at(-2).delta.stop_reason, 'tool_use');
  assert.ok(events.at(-2).usage.output_tokens > 0);

  let open = null;
  let next = 0;
  for (const event of events.slice(1, -2)) {
    if (event.type === 'content_block_start') {
      assert.equal(open, null, `block ${event.index} starts while ${open} is open`);
      assert.equal(event.index, next, 'blocks start in index order');
      open = event.index;
      next += 1;
    } else if (event.type === 'content_block_delta') {
      assert.equal(event.index, open, 'a delta belongs to the open block');
    } else if (event.type === 'content_block_stop') {
      assert.equal(event.index, open, 'the open block is the one closed');
      open = null;
    } else {
      assert.fail(`unexpected ${event.type} between message_start and message_delta`);
    }
  }
  assert.equal(open, null, 'every block is closed');
  assert.equal(next, 2, 'two tool_use blocks');
});

test('an upstream error event mid-stream reaches the SDK as an APIError', async () => {
  const stream = await client.messages.create(
    { model: 'claude', max_tokens: 100, messages: [{ role: 'user', content: 'x' }], stream: true },
    { headers: { 'x-mock-chunks': '4', 'x-mock-error-event-after': '2' } });
  let text = '';
  await assert.rejects(async () => {
    for await (const event of stream) {
      if (event.type === 'content_block_delta') text += event.delta.text;
    }
  }, (err) => {
    assert.ok(err instanceof Anthropic.APIError, String(err));
    assert.equal(err.type, 'overloaded_error');
    return true;
  });
  assert.ok(text.length > 0, 'the first chunks arrived before the error');
});

test('counting tokens through a route with an Anthropic target is Anthropic\'s exact count', async () => {
  const marker = newMarker();
  const { data, response } = await client.messages
    .countTokens({ model: 'smart', system: 'Be brief.',
                   messages: [{ role: 'user', content: `How many tokens is this? ${marker}` }] })
    .withResponse();
  assert.equal(response.headers.get('x-switchyard-token-count'), 'exact');
  const upstream = await upstreamRequestWith('anth', marker);
  assert.equal(upstream.path, '/v1/messages/count_tokens');
  assert.equal(upstream.json.model, 'claude-test');
  // The mock counts a token per 4 bytes of the body it got: the number is the upstream's own.
  assert.equal(data.input_tokens, Math.floor(Buffer.byteLength(upstream.body) / 4));
});

test('counting tokens through an OpenAI-only alias is the gateway\'s estimate', async () => {
  const before = (await upstreamRequests('oai')).length;
  const short = await client.messages
    .countTokens({ model: 'gpt-mock', messages: [{ role: 'user', content: 'Hi' }] })
    .withResponse();
  const long = await client.messages.countTokens({
    model: 'gpt-mock', messages: [{ role: 'user', content: 'Tell me a long story. '.repeat(50) }],
  });
  assert.equal(short.response.headers.get('x-switchyard-token-count'), 'estimate');
  assert.ok(short.data.input_tokens > 0);
  assert.ok(long.input_tokens > short.data.input_tokens + 100,
            `${long.input_tokens} vs ${short.data.input_tokens}`);
  assert.equal((await upstreamRequests('oai')).length, before, 'no upstream was asked');
});

test('an unknown model is a NotFoundError', async () => {
  await assert.rejects(
    client.messages.create({ model: 'no-such-model', max_tokens: 10,
                             messages: [{ role: 'user', content: 'x' }] }),
    (err) => {
      assert.ok(err instanceof Anthropic.NotFoundError, String(err));
      assert.equal(err.status, 404);
      assert.deepEqual(Object.keys(err.error), ['type', 'error']);
      assert.equal(err.type, 'not_found_error');
      assert.match(err.message, /no-such-model/);
      return true;
    });
});

test('a body the gateway refuses is a BadRequestError naming the field', async () => {
  await assert.rejects(
    client.messages.create({ model: 'claude', max_tokens: 10, messages: 'not a list' }),
    (err) => {
      assert.ok(err instanceof Anthropic.BadRequestError, String(err));
      assert.equal(err.status, 400);
      assert.equal(err.type, 'invalid_request_error');
      assert.match(err.message, /messages/);
      return true;
    });
});

test('a wrong gateway key is an AuthenticationError, as Bearer or as x-api-key', async () => {
  const wrongKey = 'sk-not-a-gateway-key';
  const request = { model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] };
  for (const sent of [gatewayClient({ apiKey: wrongKey }).messages.create(request),
                      client.messages.create(request, { headers: asXApiKey(wrongKey) })]) {
    await assert.rejects(sent, (err) => {
      assert.ok(err instanceof Anthropic.AuthenticationError, String(err));
      assert.equal(err.status, 401);
      assert.equal(err.type, 'authentication_error');
      assert.ok(!err.message.includes(wrongKey), 'the key is not echoed');
      return true;
    });
  }
});

test('the gateway key is accepted as x-api-key and as an authToken (Authorization: Bearer)', async () => {
  const request = { model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] };
  const viaHeader = await client.messages.create(request, { headers: { ...content, ...asXApiKey(gatewayKey) } });
  assert.equal(textOf(viaHeader), scriptedText);
  const bearer = gatewayClient({ apiKey: undefined, authToken: gatewayKey });
  const viaToken = await bearer.messages.create(request, { headers: content });
  assert.equal(textOf(viaToken), scriptedText);
});

test('an upstream 429 on a single-target alias is a RateLimitError', async () => {
  await assert.rejects(
    client.messages.create(
      { model: 'gpt-mock', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] },
      { headers: { 'x-mock-status': '429' } }),
    (err) => {
      assert.ok(err instanceof Anthropic.RateLimitError, String(err));
      assert.equal(err.status, 429);
      assert.equal(err.type, 'rate_limit_error');
      return true;
    });
});

test('an overloaded Anthropic upstream is an InternalServerError with status 529 and overloaded_error', async () => {
  await assert.rejects(
    client.messages.create(
      { model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] },
      { headers: { 'x-mock-status': '529' } }),
    (err) => {
      assert.ok(err instanceof Anthropic.InternalServerError, String(err));
      assert.equal(err.status, 529);
      assert.equal(err.error.type, 'error');
      assert.equal(err.error.error.type, 'overloaded_error');
      return true;
    });
});

test('an upstream answering garbage is an InternalServerError 500 api_error', async () => {
  await assert.rejects(
    client.messages.create(
      { model: 'gpt-mock', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] },
      { headers: { 'x-mock-malformed': 'true' } }),
    (err) => {
      assert.ok(err instanceof Anthropic.InternalServerError, String(err));
      assert.equal(err.status, 500);
      assert.equal(err.error.error.type, 'api_error');
      return true;
    });
});

test('a route from an overloaded Anthropic fails over to Gemini', async () => {
  // A target that failed twice in a row (the error tests above) is ranked behind the healthy
  // one; one answer puts the Anthropic target back in front, so it is really tried first.
  await client.messages.create({ model: 'claude', max_tokens: 10,
                                 messages: [{ role: 'user', content: 'x' }] });
  // Only the Anthropic mock is overloaded: x-mock-* headers would reach both upstreams.
  await mockControl('anth', 'defaults', { status: '529' });
  const marker = newMarker();
  try {
    const { data, response } = await client.messages
      .create({ model: 'smart', max_tokens: 10, messages: [{ role: 'user', content: `Hi ${marker}` }] })
      .withResponse();
    assert.equal(response.headers.get('x-switchyard-provider'), 'gem');
    assert.equal(data.model, 'smart');
    assert.equal(textOf(data), 'Hello from gem.');
    const refused = (await upstreamRequests('anth')).filter((r) => r.body.includes(marker));
    assert.ok(refused.length > 0, 'Anthropic was asked first');
    assert.ok(refused.every((r) => r.status === 529), JSON.stringify(refused.map((r) => r.status)));
    assert.equal(Number(response.headers.get('x-switchyard-attempts')), refused.length + 1);
  } finally {
    await mockControl('anth', 'defaults', { status: '200' });
  }
});

test('anthropic-beta and anthropic-version reach Anthropic unchanged, the gateway key does not', async () => {
  const marker = newMarker();
  const beta = 'some-beta-2025-01-01,other-beta';
  let sent;
  const recording = gatewayClient({
    fetch: (url, init) => { sent = new Headers(init.headers); return fetch(url, init); },
  });
  // The gateway key as x-api-key: the very header the upstream's own key goes in.
  await recording.messages.create(
    { model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: marker }] },
    { headers: { 'anthropic-beta': beta, ...asXApiKey(gatewayKey) } });
  assert.equal(sent.get('x-api-key'), gatewayKey);
  assert.ok(sent.get('anthropic-version'), 'the SDK sends its anthropic-version');
  const upstream = await upstreamRequestWith('anth', marker);
  assert.equal(upstream.headers['anthropic-beta'], beta);
  assert.equal(upstream.headers['anthropic-version'], sent.get('anthropic-version'));
  assert.equal(upstream.headers['x-api-key'], 'key-of-anth');
  assert.equal(upstream.headers.authorization, undefined);
  assert.equal(upstream.json.model, 'claude-test');
  for (const [name, value] of Object.entries(upstream.headers)) {
    assert.ok(!value.includes(gatewayKey), `the gateway key went upstream in ${name}`);
  }
});

test('the SDK\'s beta namespace (betas, ?beta=true) is served with the betas passed on', async () => {
  const marker = newMarker();
  const message = await client.beta.messages.create(
    { model: 'claude', max_tokens: 10, betas: ['some-beta-2025-01-01', 'other-beta'],
      messages: [{ role: 'user', content: marker }] },
    { headers: content });
  assert.equal(textOf(message), scriptedText);
  const upstream = await upstreamRequestWith('anth', marker);
  assert.equal(upstream.headers['anthropic-beta'], 'some-beta-2025-01-01,other-beta');
});

test('models lists the routes and aliases in Anthropic\'s shape', async () => {
  const models = [];
  for await (const model of client.models.list()) models.push(model);
  assert.deepEqual(models.map((m) => m.id).sort(), ['claude', 'flash', 'gpt-mock', 'smart']);
  for (const model of models) {
    assert.equal(model.type, 'model');
    assert.equal(typeof model.display_name, 'string');
    assert.ok(!Number.isNaN(Date.parse(model.created_at)), `created_at ${model.created_at}`);
  }
});
