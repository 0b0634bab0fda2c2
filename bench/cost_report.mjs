// The workload and the bookkeeping of bench/cost_report.sh, which starts the gateway and the
// mocks: the same requests go through the gateway as `model: auto` (the classifier route), then
// as `model: strong`, and each pass's tiers, tokens and cost are printed — the cost both as the
// gateway reported it (x-switchyard-cost) and recomputed from the usage in the bodies.
//   node bench/cost_report.mjs GATEWAY_URL
//   env: PRICES  {"alias":{"name":"upstream model","input":USD per 1M,"output":USD per 1M},...}
//        REQUESTS  per pass (default 200)
// Plain Node >= 18 (built-in fetch), no packages.

const gateway = process.argv[2];
const prices = JSON.parse(process.env.PRICES ?? 'null');
const requests = Number(process.env.REQUESTS ?? 200);
const fail = (why) => {
  console.error(`cost_report: ${why}`);
  process.exit(1);
};
if (typeof fetch !== 'function') fail('needs Node.js >= 18 (built-in fetch)');
if (!gateway || !prices || !(requests > 0)) fail('usage: PRICES=... node cost_report.mjs URL');

// mulberry32, seeded: the same workload on every run and every machine.
let seed = 20261125;
const random = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = (list) => list[Math.floor(random() * list.length)];
const between = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1));

const kSupport = 'You are the customer support assistant of Northwind Outfitters, an online shop ' +
  'for outdoor clothing and camping gear. Answer in two or three friendly sentences.';
const kFaq = [
  'What are your opening hours?', 'Do you ship to Norway?', 'How long does delivery take?',
  'Can I return a jacket I have worn once?', 'Do you have a shop in Berlin?',
  'How do I change my delivery address?', 'Is there a student discount?',
  'Which payment methods do you accept?', 'How do I reset my password?',
  'Can I pay by invoice?', 'Do you offer gift cards?', 'How much is shipping to the UK?',
  'Are your down jackets ethically sourced?', 'How do I wash a merino base layer?',
  'Can I cancel an order after paying?', 'When will the winter sale start?',
  'Do you repair tents?', 'What size sleeping bag should I buy for a child?',
  'How do I apply a discount code?', 'Is my data shared with third parties?',
  'Do you price match?', 'How do I unsubscribe from the newsletter?',
  'Can I collect my order in store?', 'What does the lifetime warranty cover?',
  'Why was my card declined?', 'Do you sell rental equipment?',
  'How do I contact customer service by phone?', 'Are the hiking boots waterproof?',
  'Do you ship to PO boxes?', 'How do loyalty points work?', 'Can I order by phone?',
  'Is the Trailblazer 45 backpack carry-on size?', 'Do you have vegan hiking boots?',
  'How do I track my parcel?', 'Do you deliver on Saturdays?', 'Can I exchange a gift?',
];

// Documents are drawn sentence by sentence from these parts: varied text, not one paragraph
// repeated, which a real tokenizer and the gateway's estimate would both see through.
const kDocuments = ['quarterly business review', 'incident post-mortem', 'supplier contract',
  'board meeting minutes', 'customer research report', 'product requirements document'];
const kSubjects = ['The operations team', 'Our warehouse in Rotterdam', 'The finance department',
  'Customer support', 'The new returns policy', 'The mobile app', 'The spring collection',
  'Our logistics partner', 'The pricing committee', 'The marketing budget', 'The data team',
  'Average delivery time'];
const kVerbs = ['reported a steady improvement in', 'raised concerns about', 'has not yet resolved',
  'proposed a new approach to', 'doubled its spending on', 'saw a sharp decline in',
  'will review', 'underestimated', 'was made responsible for', 'published a detailed plan for'];
const kObjects = ['the backlog of unanswered tickets', 'shipping costs to Scandinavia',
  'the accuracy of stock levels', 'the onboarding of seasonal staff', 'fraud on gift cards',
  'the conversion rate of the checkout page', 'late deliveries in the Alps',
  'the carbon footprint of air freight', 'supplier payment terms', 'returns of hiking boots'];
const kTails = ['over the last quarter', 'despite the hiring freeze',
  'according to the figures in appendix B', 'compared with the same period last year',
  'after the September outage', 'which the board asked to revisit in January',
  'with support from two external consultants', 'as the customer survey had predicted'];

function documentText(words) {
  const paragraphs = [];
  for (let n = 0; n < words;) {
    const sentences = [];
    for (let k = between(4, 8); k > 0; --k)
      sentences.push(`${pick(kSubjects)} ${pick(kVerbs)} ${pick(kObjects)} ${pick(kTails)}.`);
    const paragraph = sentences.join(' ');
    n += paragraph.split(' ').length;
    paragraphs.push(paragraph);
  }
  return paragraphs.join('\n\n');
}

const tool = (name, description, ...fields) => ({
  type: 'function',
  function: {
    name, description,
    parameters: {
      type: 'object', required: fields,
      properties: Object.fromEntries(fields.map((f) => [f, { type: 'string' }])),
    },
  },
});
const kTools = [
  tool('get_order_status', 'Look up the status of a customer order', 'order_id'),
  tool('track_shipment', 'Where a parcel is, from its tracking number', 'tracking_number'),
  tool('create_return', 'Open a return for an order', 'order_id', 'reason'),
  tool('check_stock', 'Stock of a product in a store', 'sku', 'store'),
];
const kToolQuestions = ['Where is my order #48213?', 'Has parcel NW7781203 left the warehouse?',
  'I want to return order 55102, the boots are too small.',
  'Is the Trailblazer 45 backpack in stock in the Oslo store?',
  'My order 61877 still says processing, what is going on?',
  'Please start a return for order 40211, the tent arrived damaged.'];

// Answer sizes in tokens (the mock's completion tokens, via x-mock-chunks): a short FAQ answer,
// a summary of a long document, a tool call with its arguments.
const kAnswer = { faq: [40, 80], document: [300, 500], tools: [25, 55] };

function request(kind) {
  const completion = between(...kAnswer[kind]);
  if (kind === 'faq')
    return { kind, completion,
      messages: [{ role: 'system', content: kSupport }, { role: 'user', content: pick(kFaq) }] };
  if (kind === 'tools')
    return { kind, completion, tools: kTools,
      messages: [{ role: 'system', content: kSupport }, { role: 'user', content: pick(kToolQuestions) }] };
  const what = pick(kDocuments);
  return { kind, completion, messages: [{ role: 'user',
    content: `Summarise this ${what} in five bullet points for a busy executive.\n\n` +
      documentText(between(800, 3000)) }] };
}

// 70 % FAQ; 30 % complex, of which two thirds documents and one third tool use; shuffled.
const complexCount = Math.round(requests * 0.3);
const toolCount = Math.round(complexCount / 3);
const kinds = Array.from({ length: requests },
  (_, i) => (i < toolCount ? 'tools' : i < complexCount ? 'document' : 'faq'));
for (let i = kinds.length - 1; i > 0; --i) {
  const j = Math.floor(random() * (i + 1));
  [kinds[i], kinds[j]] = [kinds[j], kinds[i]];
}
const workload = kinds.map(request);

async function replay(model) {
  const pass = { model, tiers: {}, choices: {}, prompt: 0, completion: 0, reported: 0, recomputed: 0,
    each: [] };  // each: [tier, reported cost] per request
  for (const [i, r] of workload.entries()) {
    const what = `${model} #${i} (${r.kind})`;
    const res = await fetch(`${gateway}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-mock-chunks': String(r.completion) },
      body: JSON.stringify({ model, messages: r.messages, ...(r.tools && { tools: r.tools }) }),
    });
    const text = await res.text();
    if (res.status !== 200) fail(`${what}: HTTP ${res.status}: ${text}`);
    const tier = res.headers.get('x-switchyard-route');
    const price = prices[res.headers.get('x-switchyard-model')];
    const cost = res.headers.get('x-switchyard-cost');
    const { prompt_tokens: p, completion_tokens: c } = JSON.parse(text).usage ?? {};
    if (!tier || !price || cost === null || !Number.isInteger(p) || !Number.isInteger(c))
      fail(`${what}: route, known model, cost header or usage missing: ${text}`);
    // In nano-dollars: the header is rounded to them (routing/cost.cpp), so each request's two
    // costs may differ by half of one, no more.
    const reported = Math.round(Number(cost) * 1e9);
    const recomputed = (p * price.input + c * price.output) * 1e3;
    if (Math.abs(reported - recomputed) > 0.5 + 1e-6)
      fail(`${what}: x-switchyard-cost ${cost}, but ${p} + ${c} tokens at the prices cost ` +
        `${recomputed / 1e9}`);
    pass.tiers[tier] = (pass.tiers[tier] ?? 0) + 1;
    pass.choices[`${r.kind} → ${tier}`] = (pass.choices[`${r.kind} → ${tier}`] ?? 0) + 1;
    pass.prompt += p;
    pass.completion += c;
    pass.reported += reported;
    pass.recomputed += recomputed;
    pass.each.push([tier, reported]);
  }
  return pass;
}

const auto = await replay('auto');
const strong = await replay('strong');

const usd = (nanos) => `$${(nanos / 1e9).toFixed(6)}`;
const count = (kind) => kinds.filter((k) => k === kind).length;
const answers = (kind) => `${kAnswer[kind].join('–')}-token`;
console.log(`prices: OpenAI list prices, USD per 1M tokens input / output: ` +
  Object.entries(prices).map(([a, m]) => `${a} (${m.name}) ${m.input} / ${m.output}`).join(', '));
console.log(`workload: ${requests} requests per pass: ${count('faq')} FAQ questions ` +
  `(${answers('faq')} answers), ${count('document')} documents of 800–3000 words to summarise ` +
  `(${answers('document')} summaries), ${count('tools')} requests offering ${kTools.length} tools ` +
  `(${answers('tools')} tool calls)`);
console.log(`auto's choices: ${Object.entries(auto.choices).sort().map(([k, n]) => `${k} ${n}`).join(', ')}`);
console.log();
console.log('| pass | requests | → cheap | → strong | prompt tokens | completion tokens | ' +
  'cost (sum of x-switchyard-cost) | cost (usage × prices) |');
console.log('|---|---|---|---|---|---|---|---|');
for (const p of [auto, strong])
  console.log(`| ${p.model} | ${requests} | ${p.tiers.cheap ?? 0} | ${p.tiers.strong ?? 0} | ` +
    `${p.prompt} | ${p.completion} | ${usd(p.reported)} | ${usd(p.recomputed)} |`);
console.log();
// Where the saving comes from: the requests auto sent to cheap, priced in both passes.
const sentCheap = (p) => auto.each.reduce((sum, [tier], i) => sum + (tier === 'cheap' ? p.each[i][1] : 0), 0);
console.log(`the ${auto.tiers.cheap ?? 0} requests auto sent to cheap cost ${usd(sentCheap(auto))} there ` +
  `and ${usd(sentCheap(strong))} on strong; the other ${auto.tiers.strong ?? 0}, the same in both ` +
  `passes, are ${((1 - sentCheap(strong) / strong.reported) * 100).toFixed(1)} % of strong's cost`);
console.log(`saving of auto vs strong: ${((1 - auto.reported / strong.reported) * 100).toFixed(1)} % ` +
  `(${usd(auto.reported)} instead of ${usd(strong.reported)}); every request's x-switchyard-cost ` +
  'matched its usage × prices to the nano-dollar');
