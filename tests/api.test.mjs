// The public API as users call it (DESIGN.md's contract), on the golden tiny MLP (16 inputs, 4 outputs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadModel, composites, methods, rules } from 'lrp-wasm';
import { loadGolden } from './helpers/golden.mjs';
import { buildModel, randomTensor } from './helpers/onnx-builder.mjs';

const golden = loadGolden('tiny-mlp');
const x = golden.input(0);
const sum = (a) => a.reduce((s, v) => s + v, 0);
const argmax = (a) => a.indexOf(Math.max(...a));

test('loadModel accepts a path, a file URL, a Uint8Array, a Buffer, an ArrayBuffer, a Blob, a File and a Response', async () => {
  const bytes = readFileSync(golden.modelPath);  // a Node Buffer
  const sources = [golden.modelPath, pathToFileURL(golden.modelPath), new Uint8Array(bytes), bytes,
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
    new Blob([bytes]), new File([bytes], 'tiny-mlp.onnx'),  // File: what an <input type="file"> gives
    new Response(bytes)];                                   // what fetch() resolves to
  const outputs = [];
  for (const source of sources) {
    const model = await loadModel(source);
    outputs.push(Array.from(model.predict(x)));
    model.dispose();
  }
  for (const output of outputs) assert.deepEqual(output, outputs[0]);
  await assert.rejects(loadModel(new Response('not found', { status: 404 })), /loadModel: fetching the Response failed: HTTP 404/);
  const used = new Response(bytes);
  await used.arrayBuffer();
  await assert.rejects(loadModel(used), /loadModel: the body of the Response has already been read/);
});

test('a Node Buffer loads without any warning (protobufjs would call the deprecated new Buffer(): DEP0005)', () => {
  // protobufjs 6 makes an empty bytes/string field with `new buf.constructor(0)`: for a Buffer, the deprecated
  // `new Buffer(0)`. An unnamed node, as exporters leave some, is such a field (the name is written, empty).
  const dir = mkdtempSync(join(tmpdir(), 'lrp-buffer-'));
  const file = join(dir, 'unnamed.onnx');
  writeFileSync(file, buildModel({
    input: { name: 'input', shape: [1, 4] },
    output: { name: 'logits', shape: [1, 2] },
    nodes: [{ op: 'Gemm', name: '', inputs: ['input', 'w', 'b'], outputs: ['logits'], attrs: { transB: 1 } }],
    initializers: { w: randomTensor([2, 4]), b: randomTensor([2], 2) },
  }));
  // A fresh process, so that no earlier warning hides it; --throw-deprecation turns any deprecation into a crash.
  const script = `import { loadModel } from 'lrp-wasm'; import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
    const model = await loadModel(readFileSync(${JSON.stringify(file)}));
    console.log(model.outputSize);`;
  const result = spawnSync(process.execPath, ['--throw-deprecation', '--input-type=module', '-e', script],
    { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8' });
  rmSync(dir, { recursive: true, force: true });
  assert.equal(result.stderr, '');
  assert.equal(result.stdout.trim(), '2');
});

test('model metadata: inputShape, outputSize, layers', async () => {
  const model = await loadModel(golden.modelPath);
  assert.deepEqual(model.inputShape, [16]);
  assert.equal(model.outputSize, 4);
  assert.deepEqual(model.layers.map((l) => l.kind), ['dense', 'relu', 'dense', 'relu', 'dense']);
  assert.deepEqual(model.layers.map((l) => l.index), [0, 1, 2, 3, 4]);
  assert.deepEqual(model.layers[0].outputShape, [12]);
  model.layers[0].outputShape.push(99); // callers get copies
  assert.deepEqual(model.layers[0].outputShape, [12]);
  model.dispose();
});

test('results are fresh copies: mutating one changes nothing later', async () => {
  const model = await loadModel(golden.modelPath);
  const first = model.predict(x);
  const copy = Float32Array.from(first);
  first.fill(123);
  assert.deepEqual(model.predict(x), copy);
  const r = model.explain(x);
  const relevance = Float32Array.from(r.relevance);
  r.relevance.fill(7);
  assert.deepEqual(model.explain(x).relevance, relevance);
  model.dispose();
});

test('explain: defaults to epsilon-plus-flat and the predicted class', async () => {
  const model = await loadModel(golden.modelPath);
  const logits = model.predict(x);
  const byDefault = model.explain(x);
  const explicit = model.explain(x, { composite: 'epsilon-plus-flat', target: argmax(Array.from(logits)) });
  assert.equal(byDefault.target, argmax(Array.from(logits)));
  assert.deepEqual(byDefault.relevance, explicit.relevance);
  assert.deepEqual(byDefault.shape, [16]);
  assert.deepEqual(byDefault.output, logits);
  model.dispose();
});

test('explain: every composite and method gives finite relevance of the input size', async () => {
  const model = await loadModel(golden.modelPath);
  for (const composite of composites) {
    const r = model.explain(x, { composite, low: -3, high: 3 });
    assert.equal(r.relevance.length, 16);
    assert.ok(r.relevance.every(Number.isFinite), composite);
  }
  for (const method of methods) {
    const r = model.explain(x, { method, target: 1 });
    assert.ok(r.relevance.every(Number.isFinite), method);
    assert.ok(r.relevance.some((v) => v !== 0), method);
  }
  assert.ok(rules.includes('z-box') && rules.length === 10);
  model.dispose();
});

test('outputRelevance: a contrastive seed is the difference of the two explanations (linear rules)', async () => {
  const model = await loadModel(golden.modelPath);
  const logits = model.predict(x);
  const options = { rules: { dense: { rule: 'epsilon', epsilon: 0.01 } } };
  const seed = new Float32Array(4);
  seed[3] = logits[3];
  seed[1] = -logits[1];
  const contrast = model.explain(x, { ...options, outputRelevance: seed }).relevance;
  const a = model.explain(x, { ...options, target: 3 }).relevance;
  const b = model.explain(x, { ...options, target: 1 }).relevance;
  contrast.forEach((v, i) => assert.ok(Math.abs(v - (a[i] - b[i])) < 1e-5, `input ${i}`));
  model.dispose();
});

test('layerRelevance: the conservation report adds up', async () => {
  const model = await loadModel(golden.modelPath);
  const r = model.explain(x, { composite: 'epsilon-plus', target: 3, layerRelevance: true });
  assert.equal(r.layers.length, 5);
  const output = r.layers[4];
  assert.equal(output.kind, 'dense');
  assert.ok(Math.abs(output.sum - r.output[3]) < 1e-6, 'the output layer holds f_t(x)');
  assert.equal(output.relevance.length, 4);
  // ReLUs pass relevance unchanged: they absorb nothing.
  for (const layer of r.layers.filter((l) => l.kind === 'relu')) assert.ok(Math.abs(layer.absorbed) < 1e-6);
  // What reaches the input is what the output held minus what every layer absorbed.
  const absorbed = r.layers.reduce((s, l) => s + l.absorbed, 0);
  assert.ok(Math.abs(sum(r.relevance) - (output.sum - absorbed)) < 1e-5);
  // Each layer's sum equals what its successor handed down.
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(r.layers[i].sum - (r.layers[i + 1].sum - r.layers[i + 1].absorbed)) < 1e-5);
  model.dispose();
});

test('restrict: the explanations through each unit of a layer add up to the whole explanation', async () => {
  const model = await loadModel(golden.modelPath);
  for (const options of [{ composite: 'epsilon-plus-flat' }, { composite: 'epsilon-alpha2-beta1' }, { method: 'gradient' }]) {
    const whole = model.explain(x, { ...options, target: 3 }).relevance;
    const layer = 2; // the second dense layer: 8 units
    const total = new Float64Array(16);
    for (let unit = 0; unit < 8; unit++) {
      const part = model.explain(x, { ...options, target: 3, restrict: { layer, unit } }).relevance;
      part.forEach((v, i) => { total[i] += v; });
    }
    total.forEach((v, i) => assert.ok(Math.abs(v - whole[i]) < 1e-5, `${JSON.stringify(options)} input ${i}: ${v} vs ${whole[i]}`));
    const all = model.explain(x, { ...options, target: 3, restrict: { layer, units: [0, 1, 2, 3, 4, 5, 6, 7] } }).relevance;
    assert.deepEqual(all, whole);
  }
  // Through one unit only: the layer report shows zero elsewhere at that layer.
  const r = model.explain(x, { target: 3, restrict: { layer: 2, unit: 5 }, layerRelevance: true });
  const atLayer = r.layers[2].relevance;
  atLayer.forEach((v, k) => { if (k !== 5) assert.equal(v, 0); });
  assert.throws(() => model.explain(x, { restrict: { layer: 2, unit: 8 } }), /unit.*0 to 7 of layer 2/);
  assert.throws(() => model.explain(x, { restrict: { layer: 9, unit: 0 } }), /restrict.layer/);
  model.dispose();
});

test('explainBatch and predictBatch agree with single calls', async () => {
  const model = await loadModel(golden.modelPath);
  const inputs = [0, 1, 2, 3].map((i) => golden.input(i));
  const batch = model.explainBatch(inputs, { composite: 'epsilon-plus' });
  const logits = model.predictBatch(inputs);
  inputs.forEach((input, i) => {
    const single = model.explain(input, { composite: 'epsilon-plus' });
    assert.equal(batch[i].target, single.target);
    single.relevance.forEach((v, k) => assert.ok(Math.abs(v - batch[i].relevance[k]) < 1e-6));
    model.predict(input).forEach((v, k) => assert.ok(Math.abs(v - logits[i][k]) < 1e-6));
  });
  model.dispose();
});

test('smoothgrad is reproducible by seed; integrated gradients approaches completeness', async () => {
  const model = await loadModel(golden.modelPath);
  const a = model.explain(x, { method: 'smoothgrad', samples: 8, noiseLevel: 0.2, seed: 42, target: 3 });
  const b = model.explain(x, { method: 'smoothgrad', samples: 8, noiseLevel: 0.2, seed: 42, target: 3 });
  const c = model.explain(x, { method: 'smoothgrad', samples: 8, noiseLevel: 0.2, seed: 43, target: 3 });
  assert.deepEqual(a.relevance, b.relevance);
  assert.notDeepEqual(a.relevance, c.relevance);
  const ig = model.explain(x, { method: 'integrated-gradients', steps: 256, target: 3 });
  const f0 = model.predict(new Float32Array(16))[3];
  assert.ok(Math.abs(sum(ig.relevance) - (ig.output[3] - f0)) < 0.02 * Math.max(1, Math.abs(ig.output[3] - f0)));
  model.dispose();
});

test('dispose is idempotent and later calls throw a clear error; other models are unaffected', async () => {
  const model = await loadModel(golden.modelPath);
  const other = await loadModel(golden.modelPath);
  const before = other.predict(x);
  model.dispose();
  model.dispose();
  for (const call of [() => model.predict(x), () => model.explain(x), () => model.outputSize, () => model.layers,
    () => model.predictBatch([x]), () => model.explainBatch([x])])
    assert.throws(call, /disposed/);
  assert.deepEqual(other.predict(x), before);
  other.dispose();
});

// Reference: the architectures in scripts/train_mnist.py (build_mlp, build_cnn), counted by hand: a Linear layer
// has in·out + out values, a bias-free 3×3 Conv in·out·9, a BatchNorm 4·C (weight, bias, running mean and variance;
// its integer num_batches_tracked is not a parameter).
test('parameters: the values of the float initializers, in the main thread and in a worker', async () => {
  const models = fileURLToPath(new URL('../web/models/', import.meta.url));
  const sizes = [784, 512, 256, 128, 64, 10];
  const mlp = sizes.slice(1).reduce((n, out, i) => n + sizes[i] * out + out, 0);
  const conv = (cin, cout) => cin * cout * 9 + 4 * cout;
  const cnn = conv(1, 16) + conv(16, 32) + conv(32, 64) + 576 * 64 + 64 + 64 * 10 + 10;
  for (const [file, want] of [['mnist-mlp.onnx', mlp], ['mnist-cnn.onnx', cnn]]) {
    const model = await loadModel(join(models, file));
    assert.equal(model.parameters, want, file);
    model.dispose();
    assert.equal(model.parameters, want, `${file}: still known after dispose()`);
    const inWorker = await loadModel(join(models, file), { worker: true });
    assert.equal(inWorker.parameters, want, `${file} in a worker`);
    await inWorker.dispose();
  }
});
