// A small ResNet-style model exported by scripts/export_resnet.py (residual blocks with batch-norm, a
// strided block with a 1×1 projection shortcut, global average pooling; 3×32×32 input): it loads, its
// logits match PyTorch's, and every composite explains it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadModel, composites, methods } from 'lrp-wasm';
import { readFloat32 } from './helpers/golden.mjs';

const dir = fileURLToPath(new URL('./fixtures/resnet-small/', import.meta.url));
const reference = JSON.parse(readFileSync(`${dir}reference.json`, 'utf8'));
const inputs = readFloat32(`${dir}inputs.f32`);
const size = reference.input_shape.reduce((a, b) => a * b, 1);
const input = (k) => inputs.slice(k * size, (k + 1) * size);

test('resnet-small: predicts PyTorch\'s logits within 1e-4', async () => {
  const model = await loadModel(`${dir}model.onnx`);
  assert.deepEqual(model.inputShape, reference.input_shape);
  const kinds = model.layers.map((l) => l.kind);
  assert.ok(kinds.includes('add') && kinds.includes('global-avgpool') && kinds.includes('conv'), kinds.join(' '));
  assert.ok(!kinds.includes('batchnorm'), 'every batch-norm is folded into its convolution');
  for (let k = 0; k < reference.num_inputs; k++) {
    const logits = model.predict(input(k));
    const scale = Math.max(1, ...reference.logits[k].map(Math.abs));
    reference.logits[k].forEach((v, i) => assert.ok(Math.abs(logits[i] - v) <= 1e-4 * scale, `input ${k}, logit ${i}: ${logits[i]} vs ${v}`));
  }
  model.dispose();
});

test('resnet-small: every composite and method explains; residual sums conserve relevance', async () => {
  const model = await loadModel(`${dir}model.onnx`);
  const x = input(0);
  for (const composite of composites) {
    const r = model.explain(x, { composite, low: -3, high: 3, layerRelevance: true });
    assert.ok(r.relevance.every(Number.isFinite), composite);
    assert.ok(r.relevance.some((v) => v !== 0), composite);
    for (const add of r.layers.filter((l) => l.kind === 'add'))
      assert.ok(Math.abs(add.absorbed) <= 1e-3 * Math.max(1, Math.abs(add.sum)), `${composite}: ${add.name} absorbed ${add.absorbed} of ${add.sum}`);
  }
  for (const method of methods.filter((m) => m !== 'lrp')) {
    const r = model.explain(x, { method, steps: 8, samples: 4 });
    assert.ok(r.relevance.every(Number.isFinite) && r.relevance.some((v) => v !== 0), method);
  }
  model.dispose();
});

// Reference: the definition of per-channel bounds — the same explanation as the per-value bounds that repeat each
// channel's value over its H·W values (NCHW).
test('resnet-small: z-box low/high one per channel equal the per-value bounds they spread to', async () => {
  const model = await loadModel(`${dir}model.onnx`);
  const [C, H, W] = model.inputShape;
  const low = [-2.1, -2.0, -1.8], high = [2.2, 2.4, 2.6];
  const spread = (v) => Float32Array.from({ length: C * H * W }, (_, i) => v[Math.floor(i / (H * W))]);
  const x = input(1);
  for (const composite of ['epsilon-gamma-box', 'deep-taylor']) {
    const perChannel = model.explain(x, { composite, low, high }).relevance;
    const perValue = model.explain(x, { composite, low: spread(low), high: spread(high) }).relevance;
    assert.deepEqual(Array.from(perChannel), Array.from(perValue), composite);
    const scalar = model.explain(x, { composite, low: -2, high: 2 }).relevance;
    assert.ok(perChannel.some((v, i) => v !== scalar[i]), `${composite}: the channels' bounds matter`);
  }
  const first = model.explain(x, { rules: { first: { rule: 'z-box', low: Float32Array.from(low), high } } }).relevance;
  const firstSpread = model.explain(x, { rules: { first: { rule: 'z-box', low: spread(low), high: spread(high) } } }).relevance;
  assert.deepEqual(Array.from(first), Array.from(firstSpread), 'rules.first takes per-channel bounds too');
  assert.throws(() => model.explain(x, { composite: 'epsilon-gamma-box', low: [0, 1], high: 1 }),
    /low has 2 values, expected 1, 3 \(one per channel\) or 3072 \(one per input value\)/);
  assert.throws(() => model.explain(x, { composite: 'epsilon-gamma-box', low: 0, high: [1, 2, NaN] }), /high contains NaN/);
  model.dispose();
});

// Reference: the API's contract for bounds (index.d.ts Bounds): numbers only, in a number, an array or a float
// typed array; and a token model's bounds are for the layer after its embedding, whose size only the engine knows.
test('z-box bounds: wrong types are named; a token model takes the size of the layer they apply to', async () => {
  const model = await loadModel(`${dir}model.onnx`);
  const x = input(0);
  const types = /must be a number, an array of numbers, a Float32Array or a Float64Array/;
  assert.throws(() => model.explain(x, { composite: 'deep-taylor', low: ['-2', -2, -2], high: 2 }), (e) => e instanceof TypeError && types.test(e.message) && /value 0 is '-2'/.test(e.message));
  assert.throws(() => model.explain(x, { composite: 'deep-taylor', low: new Int8Array(3), high: 2 }), (e) => e instanceof TypeError && types.test(e.message) && /Int8Array/.test(e.message));
  assert.throws(() => model.explain(x, { composite: 'deep-taylor', low: [[-2], [-2], [-2]], high: 2 }), (e) => e instanceof TypeError && /value 0 is/.test(e.message));
  model.dispose();

  const text = await loadModel(fileURLToPath(new URL('./fixtures/golden/tiny-text/model.onnx', import.meta.url)));
  const tokens = new Int32Array(text.inputShape[0]).fill(1);
  const size = 12 * 32; // the first dense layer's input: 12 tokens × width 32 (after the embedding)
  const r = text.explain(tokens, { rules: { first: { rule: 'z-box', low: new Float32Array(size).fill(-3), high: 3 } } });
  assert.ok(r.relevance.every(Number.isFinite));
  assert.throws(() => text.explain(tokens, { rules: { first: { rule: 'z-box', low: new Float32Array(12), high: 3 } } }), /'low' has 12 values, expected 1 or 384/);
  text.dispose();
});
