// The public API on the tensors and inputs of today's exports: token-id models (int64 ids → nn.Embedding)
// and opset-20 `Gelu`. References: the text-cnn operator fixture (PyTorch's logits and a float64 reference
// of the rules, scripts/make_fixtures.py), onnxruntime-web's forward pass, and LXT's golden tiny-vit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadModel } from 'lrp-wasm';
import { buildModel } from './helpers/onnx-builder.mjs';

const TEXT_CNN = fileURLToPath(new URL('./fixtures/ops/text-cnn/', import.meta.url));
const cases = JSON.parse(readFileSync(`${TEXT_CNN}cases.json`, 'utf8'));
const T = cases.input_shape[0];
const VOCABULARY = 20;  // scripts/make_fixtures.py: TextCNN.vocab
const idBytes = readFileSync(`${TEXT_CNN}${cases.inputs}`);
const ids = new Int32Array(idBytes.buffer.slice(idBytes.byteOffset, idBytes.byteOffset + idBytes.byteLength)).slice(0, T);

test('token ids: inputType, and the same logits from Int32Array, BigInt64Array, arrays and integer Float32Arrays', async () => {
  const model = await loadModel(`${TEXT_CNN}model.onnx`);
  assert.equal(model.inputType, 'int64');
  assert.deepEqual(model.inputShape, [T]);
  const reference = cases.cases.find((c) => c.input_index === 0).output;
  const logits = model.predict(ids);
  for (let i = 0; i < reference.length; i++) assert.ok(Math.abs(logits[i] - reference[i]) <= 1e-4, `logit ${i}: ${logits[i]} vs PyTorch ${reference[i]}`);
  for (const form of [BigInt64Array.from(ids, BigInt), Array.from(ids), Float32Array.from(ids)])
    assert.deepEqual(model.predict(form), logits, form.constructor.name);
  const [batched] = model.predictBatch([ids, ids]);
  assert.deepEqual(batched, logits);
  model.dispose();
});

test('token ids: one relevance per token, the same from explain and explainBatch, and Σ R + absorbed = f_t', async () => {
  const model = await loadModel(`${TEXT_CNN}model.onnx`);
  for (const method of ['lrp', 'gradient', 'gradient-x-input']) {
    const r = model.explain(ids, { method, composite: method === 'lrp' ? 'epsilon-plus' : undefined, target: 1 });
    assert.deepEqual(r.shape, [T]);
    assert.equal(r.relevance.length, T);
    assert.ok(r.relevance.every(Number.isFinite), method);
  }
  const single = model.explain(ids, { composite: 'epsilon-plus' });
  const [fromBatch] = model.explainBatch([ids, ids], { composite: 'epsilon-plus' });
  assert.deepEqual(fromBatch.relevance, single.relevance);
  const report = model.explain(ids, { composite: 'epsilon-plus', layerRelevance: true });
  const total = report.relevance.reduce((a, b) => a + b, 0) + report.layers.reduce((a, l) => a + l.absorbed, 0);
  const ft = report.output[report.target];
  assert.ok(Math.abs(total - ft) <= 1e-4 * Math.max(1, Math.abs(ft)), `Σ R + absorbed = ${total}, f_t = ${ft}`);
  model.dispose();
});

test('token ids: bad ids and wrong lengths are refused with a clear Error', async () => {
  const model = await loadModel(`${TEXT_CNN}model.onnx`);
  const outOfRange = Int32Array.from(ids);
  outOfRange[3] = VOCABULARY;
  assert.throws(() => model.predict(outOfRange), /position 3/);
  const negative = Int32Array.from(ids);
  negative[0] = -1;
  assert.throws(() => model.explain(negative), /position 0/);
  const fractional = Float32Array.from(ids);
  fractional[2] = 1.5;
  assert.throws(() => model.predict(fractional), /position 2/);
  assert.throws(() => model.predict(ids.slice(0, T - 1)), /expected 12/);
  assert.equal(model.predict(ids).length, model.outputSize, 'the model still works');
  model.dispose();
});

// Integrated gradients and SmoothGrad interpolate and perturb the embeddings (the ids cannot be): one value
// per token. Completeness is checked natively (tests/cpp/methods_test.cpp, TokenMethods).
test('token ids: integrated gradients and SmoothGrad run in embedding space, one value per token', async () => {
  const model = await loadModel(`${TEXT_CNN}model.onnx`);
  for (const method of ['integrated-gradients', 'smoothgrad']) {
    const r = model.explain(ids, { method, target: 0 });
    assert.deepEqual(r.shape, [T]);
    assert.ok(r.relevance.every(Number.isFinite), method);
    assert.ok(r.relevance.some((v) => v !== 0), method);
  }
  model.dispose();
});

test('an image model refuses token ids', async () => {
  const model = await loadModel(fileURLToPath(new URL('./fixtures/ops/conv1d/model.onnx', import.meta.url)));
  assert.throws(() => model.predict(new Int32Array(model.inputShape.reduce((a, b) => a * b, 1))), TypeError);
  model.dispose();
});

// ONNX opset 20's Gelu (exact and tanh): a hand-built model, checked against onnxruntime-web.
test('opset-20 Gelu (approximate none and tanh) matches onnxruntime-web', async () => {
  const ort = await import('onnxruntime-web');
  const x = Float32Array.from({ length: 12 }, (_, i) => -4 + (8 * i) / 11);
  for (const approximate of ['none', 'tanh']) {
    const bytes = buildModel({
      input: { name: 'x', shape: [null, 12] },
      output: { name: 'y' },
      nodes: [{ op: 'Gelu', name: 'gelu', inputs: ['x'], outputs: ['y'], attrs: { approximate } }],
      opset: 20,
    });
    const session = await ort.InferenceSession.create(bytes);
    const expected = (await session.run({ x: new ort.Tensor('float32', x, [1, 12]) })).y.data;
    const model = await loadModel(bytes);
    assert.deepEqual(model.layers.map((l) => l.kind), ['gelu']);
    const got = model.predict(x);
    for (let i = 0; i < x.length; i++) assert.ok(Math.abs(got[i] - expected[i]) <= 1e-6, `${approximate} at ${x[i]}: ${got[i]} vs ${expected[i]}`);
    const r = model.explain(x, { composite: 'epsilon-plus', outputRelevance: Float32Array.from(got) });
    assert.deepEqual(r.relevance, got, 'an element-wise activation passes relevance (identity rule)');
    model.dispose();
  }
});

// The attention weights of LXT's golden tiny-vit (2 blocks, 4 heads, 17 tokens): every softmax's output
// in the forward pass; each row is a distribution, and asking for them changes nothing else.
test('attention: true returns every softmax output (distributions over tokens)', async () => {
  const { loadGolden } = await import('./helpers/golden.mjs');
  const golden = loadGolden('tiny-vit');
  const model = await loadModel(golden.modelPath);
  const x = golden.input(0);
  const plain = model.explain(x, { composite: 'attn-lrp' });
  const withAttention = model.explain(x, { composite: 'attn-lrp', attention: true });
  assert.deepEqual(withAttention.relevance, plain.relevance);
  assert.equal(plain.attention, undefined);
  assert.equal(withAttention.attention.length, 2, 'one softmax per block');
  for (const layer of withAttention.attention) {
    assert.equal(layer.kind, 'softmax');
    const size = layer.outputShape.reduce((a, b) => a * b, 1);
    assert.equal(layer.weights.length, size);
    const row = layer.outputShape.at(-1);
    for (let start = 0; start < size; start += row) {
      const slice = layer.weights.subarray(start, start + row);
      assert.ok(slice.every((w) => w >= 0 && w <= 1));
      assert.ok(Math.abs(slice.reduce((a, b) => a + b, 0) - 1) < 1e-5, `row at ${start} sums to 1`);
    }
  }
  assert.throws(() => model.explain(x, { attention: 'yes' }), /attention must be true or false/);
  model.dispose();
});
