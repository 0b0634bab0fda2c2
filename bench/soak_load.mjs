// The soak's load (bench/soak.sh): CONCURRENCY clients, each sending chat completions through
// the load balancer back to back for DURATION seconds — JSON and streams mixed — and judging every
// answer as a user would:
//   ok      2xx, a whole answer (a stream ends with [DONE])
//   error   a proper error: a non-2xx with an OpenAI-shaped error body, or a stream that ends
//           with an error event
//   lost    no answer (the connection dropped or timed out) or a stream cut without an error
//   bad     anything else (a 2xx that is not a completion, an error body not shaped as one)
// Writes one JSON summary to stdout; every lost or bad answer, every leaked secret and every cost
// charged to the capped key go to EVENTS (JSON lines with the time in ms since the epoch).
import { appendFileSync } from 'node:fs';

const url = process.env.URL;
const duration = Number(process.env.DURATION ?? 600) * 1000;
const concurrency = Number(process.env.CONCURRENCY ?? 16);
const streamShare = Number(process.env.STREAM_SHARE ?? 0.4);
const cappedShare = Number(process.env.CAPPED_SHARE ?? 0.1);
const events = process.env.EVENTS;
const secrets = (process.env.SECRETS ?? '').split(',').filter(Boolean);

const counts = { sent: 0, ok: 0, error: 0, lost: 0, bad: 0, leaks: 0, capped_ok: 0 };
const errorCodes = {};
const count = (what) => (errorCodes[what] = (errorCodes[what] ?? 0) + 1);
const note = (kind, detail) =>
  appendFileSync(events, JSON.stringify({ t: Date.now(), kind, ...detail }) + '\n');

function judgeStream(text) {
  const data = text.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim());
  if (data.some((d) => d.startsWith('{') && JSON.parse(d).error)) return 'error';
  return data.at(-1) === '[DONE]' ? 'ok' : 'lost';
}

async function one(n) {
  const capped = Math.random() < cappedShare;
  // The capped key sends JSON only: its cost comes back in x-switchyard-cost.
  const stream = !capped && Math.random() < streamShare;
  const body = {
    model: 'chat',
    messages: [{ role: 'user', content: `soak request ${n}` }],
    max_tokens: 8,
    ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
  };
  const key = capped ? 'sk-soak-capped' : 'sk-soak-main';
  counts.sent++;
  let status = 0, text = '', cost = 0;
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
    status = res.status;
    cost = Number(res.headers.get('x-switchyard-cost') ?? 0);
    text = await res.text();
  } catch (e) {
    counts.lost++;
    note('lost', { why: String(e.cause?.code ?? e.name ?? e), stream, status });
    return;
  }
  for (const s of secrets) {
    if (text.includes(s)) {
      counts.leaks++;
      note('leak', { status, text: text.slice(0, 300) });
    }
  }
  let verdict;
  if (status >= 200 && status < 300) {
    if (stream) {
      verdict = judgeStream(text);
      if (verdict === 'error') count('200 stream error event');
    } else {
      try {
        verdict = JSON.parse(text).choices ? 'ok' : 'bad';
      } catch {
        verdict = 'bad';
      }
    }
  } else {
    try {
      const error = JSON.parse(text).error;
      verdict = error && typeof error.message === 'string' ? 'error' : 'bad';
      if (verdict === 'error') count(`${status} ${error.code}`);
    } catch {
      verdict = 'bad';
    }
  }
  counts[verdict]++;
  if (verdict === 'lost' || verdict === 'bad') note(verdict, { status, stream, text: text.slice(-300) });
  if (capped && verdict === 'ok') {
    counts.capped_ok++;
    note('capped_cost', { usd: cost });
  }
}

const end = Date.now() + duration;
let next = 0;
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (Date.now() < end) await one(next++);
  }),
);
console.log(JSON.stringify({ ...counts, error_codes: errorCodes }));
