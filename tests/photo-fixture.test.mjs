// The photo-mode fixture of the browser tests (tests/e2e/fixtures/photo/, scripts/make_photo_fixtures.py): the
// files agree with each other, so a browser test that compares the demo's top-5 with reference.json compares
// with the right numbers. Reference: PyTorch's logits for input.f32 (the photo under the ImageNet preset), in
// reference.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { loadModel } from 'lrp-wasm';
import { readFloat32 } from './helpers/golden.mjs';

const dir = fileURLToPath(new URL('./e2e/fixtures/photo/', import.meta.url));
const reference = JSON.parse(readFileSync(`${dir}reference.json`, 'utf8'));
const labels = JSON.parse(readFileSync(new URL('../web/demo/imagenet-labels.json', import.meta.url), 'utf8'));
const topK = (a, k) => [...a.keys()].sort((i, j) => a[j] - a[i]).slice(0, k);

test('photo fixture: photo.png is a 200×150 colour image with structure', () => {
  const png = PNG.sync.read(readFileSync(`${dir}photo.png`));
  assert.equal(png.width, 200);
  assert.equal(png.height, 150);
  // colour: some pixels whose channels differ; structure: many distinct colours (gradients, shapes, edges)
  const colours = new Set();
  let chromatic = 0;
  for (let i = 0; i < png.data.length; i += 4) {
    const [r, g, b] = png.data.subarray(i, i + 3);
    colours.add((r << 16) | (g << 8) | b);
    if (Math.max(r, g, b) - Math.min(r, g, b) > 30) chromatic++;
  }
  assert.ok(chromatic > 0.5 * 200 * 150, `${chromatic} of 30000 pixels are coloured`);
  assert.ok(colours.size > 500, `${colours.size} distinct colours`);
});

test('photo fixture: the engine gives PyTorch\'s logits and top-5 for input.f32', async () => {
  const model = await loadModel(`${dir}${reference.model}`);
  try {
    assert.deepEqual(model.inputShape, reference.inputShape.slice(1));
    assert.equal(model.outputSize, labels.length, 'one logit per ImageNet class');
    const logits = model.predict(readFloat32(`${dir}${reference.input}`));
    const scale = Math.max(1, ...reference.logits.map(Math.abs));
    reference.logits.forEach((v, i) => assert.ok(Math.abs(logits[i] - v) <= 1e-4 * scale, `logit ${i}: ${logits[i]} vs PyTorch's ${v}`));
    assert.deepEqual(topK(logits, 5), reference.top5);
  } finally {
    model.dispose();
  }
});

test('photo fixture: the top-5 is the same under every resize the reference tried, and its gaps are recorded', () => {
  // the browser resizes with its canvas: a top-5 that changed between PyTorch's resizes could not be compared
  for (const [name, v] of Object.entries(reference.variants)) assert.deepEqual(v.top5, reference.top5, `resize ${name}`);
  const sorted = [...reference.logits].sort((a, b) => b - a);
  reference.top5Gaps.forEach((g, k) => assert.ok(Math.abs(g - (sorted[k] - sorted[k + 1])) < 1e-6, `gap ${k + 1}`));
});

test('compareTop5 (tests/e2e/photo-reference.mjs): PyTorch\'s own top-5 agrees; wrong classes, logits or order do not', async () => {
  const { compareTop5, defaultTolerance } = await import('./e2e/photo-reference.mjs');
  const tau = defaultTolerance(reference);
  assert.ok(tau > 0 && tau < 0.5, `tolerance ${tau}`);
  const entry = (c, shift = 0) => ({ class: c, name: labels[c], logit: reference.logits[c] + shift });
  const exact = reference.top5.map((c) => entry(c));
  assert.deepEqual(compareTop5(exact, reference), []);
  // every logit moved by less than τ (as a different resize moves them) keeps the agreement
  assert.deepEqual(compareTop5(reference.top5.map((c) => entry(c, -0.9 * tau)), reference), []);

  const sorted = [...reference.logits.keys()].sort((i, j) => reference.logits[j] - reference.logits[i]);
  const far = sorted[500]; // a class in the middle of the ranking
  const problems = (top5) => compareTop5(top5, reference).join('\n');
  assert.match(problems([...exact.slice(0, 4), entry(far)]), new RegExp(`class ${far}.*too far below`));
  assert.match(problems([entry(reference.top5[0], 1), ...exact.slice(1)]), /differs from PyTorch's/); // e.g. no ImageNet normalisation
  assert.match(problems([exact[1], exact[0], ...exact.slice(2)]), /not in order/);
  assert.match(problems(exact.slice(0, 4)), /4 classes, not 5/);
  // PyTorch's top-1 leads by more than 2τ, so it has to stay first and in the list
  assert.ok(reference.top5Gaps[0] > 2 * tau, 'the fixture\'s top-1 is clear of the 2nd');
  assert.match(problems([...exact.slice(1), entry(sorted[5])]), new RegExp(`top-1 is class ${reference.top5[1]}|class ${reference.top5[0]} .*missing`));
});
