// The fixture the prompt-token estimator (src/routing/token_estimate.cpp) is measured against,
// tests/data/tokens/samples.jsonl, checked against the real tokenizer: every sample's recorded
// "o200k" must be the count js-tiktoken's o200k_base (the gpt-4o family's encoding) gives, so the
// counts can neither drift nor be made up.
//
//   check:  SWITCHYARD_TOKEN_SAMPLES=/abs/path/samples.jsonl node --test tokens.test.mjs
//           (ctest runs this as sdk.token_samples)
//   write:  node tokens.test.mjs --write /abs/path/samples.jsonl
//           recounts every sample in place, after samples were added or edited.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { Tiktoken } from 'js-tiktoken/lite';
import o200k_base from 'js-tiktoken/ranks/o200k_base';

const encoding = new Tiktoken(o200k_base);
// Special-token text such as "<|endoftext|>" is counted as the plain text it is in a request.
const count = (text) => encoding.encode(text, [], []).length;

function readSamples(file) {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      const sample = JSON.parse(line);
      assert.equal(typeof sample.name, 'string', `line ${i + 1}: name`);
      assert.equal(typeof sample.text, 'string', `line ${i + 1}: text`);
      return sample;
    });
}

// One object a line, keys in a fixed order, so a rewrite only changes the counts that changed.
const format = (s) =>
  `{"name": ${JSON.stringify(s.name)}, "text": ${JSON.stringify(s.text)}, "o200k": ${s.o200k}}`;

const writeAt = process.argv.indexOf('--write');
if (writeAt !== -1) {
  const file = process.argv[writeAt + 1];
  if (!file) throw new Error('usage: node tokens.test.mjs --write <samples.jsonl>');
  const samples = readSamples(file).map((s) => ({ ...s, o200k: count(s.text) }));
  writeFileSync(file, samples.map(format).join('\n') + '\n');
  const total = samples.reduce((sum, s) => sum + s.o200k, 0);
  console.log(`${file}: ${samples.length} samples, ${total} o200k_base tokens`);
} else {
  const file = process.env.SWITCHYARD_TOKEN_SAMPLES;
  assert.ok(file, 'SWITCHYARD_TOKEN_SAMPLES must name the samples.jsonl to check');
  const samples = readSamples(file);

  test('every recorded count is what o200k_base gives', () => {
    const wrong = samples
      .filter((s) => s.o200k !== count(s.text))
      .map((s) => `${s.name}: recorded ${s.o200k}, o200k_base says ${count(s.text)}`);
    assert.deepEqual(wrong, [], 'run `node tokens.test.mjs --write <file>` after editing samples');
  });

  test('the samples are many, distinct and range from a few tokens to thousands', () => {
    assert.ok(samples.length >= 80, `only ${samples.length} samples`);
    assert.equal(new Set(samples.map((s) => s.name)).size, samples.length, 'duplicate names');
    const counts = samples.map((s) => s.o200k);
    assert.ok(Math.min(...counts) <= 10, 'no sample of a few tokens');
    assert.ok(Math.max(...counts) >= 2000, 'no sample of thousands of tokens');
  });
}
