// evaluate(): pixel flipping / AOPC. Exact on a linear model (where gradient × input is the exact
// decomposition), statistics of the random baseline, MoRF vs LeRF on MNIST, progress, option errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadModel, evaluate } from 'lrp-wasm';
import { buildModel, randomFloats } from './helpers/onnx-builder.mjs';
import { readMnist } from '../scripts/mnist.mjs';

const CLASSES = 3;

// y = W x + b after a Flatten, for an input of shape `shape`.
async function linearModel(shape, seed = 1) {
  const n = shape.reduce((a, b) => a * b, 1);
  const weight = randomFloats(CLASSES * n, seed); // [CLASSES, n], values in [-1, 1)
  const bias = Float32Array.of(0.5, -0.25, 0.125);
  const bytes = buildModel({
    input: { name: 'x', shape: [null, ...shape] },
    output: { name: 'y', shape: [null, CLASSES] },
    nodes: [
      { op: 'Flatten', name: 'flat', inputs: ['x'], outputs: ['f'] },
      { op: 'Gemm', name: 'fc', inputs: ['f', 'w', 'b'], outputs: ['y'], attrs: { transB: 1 } },
    ],
    initializers: { w: { dims: [CLASSES, n], data: weight }, b: { dims: [CLASSES], data: bias } },
  });
  const model = await loadModel(bytes);
  const row = (t) => weight.subarray(t * n, (t + 1) * n);
  return { model, n, row };
}

function inputs(count, n, seed) {
  return Array.from({ length: count }, (_, k) => randomFloats(n, seed + k).map((v) => (v + 1) / 2)); // [0, 1)
}

const argmax = (a) => a.indexOf(Math.max(...a));
const close = (a, b, tol, what) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (tolerance ${tol})`);

test('evaluate: on a linear model, the MoRF and LeRF curves remove exactly the known contributions w_i x_i', async () => {
  const { model, row } = await linearModel([1, 6, 6]);
  const xs = inputs(4, 36, 100);
  // 2×2 patches of a 6×6 input: 9 patches; 3 steps remove 3 patches each.
  const result = await evaluate(model, xs, { patchSize: 2, steps: 3, explain: { method: 'gradient-x-input' } });
  assert.equal(result.patches, 9);
  assert.deepEqual(result.perturbed, [0, 3, 6, 9]);
  xs.forEach((x, k) => {
    const logits = model.predict(x);
    const target = argmax(Array.from(logits));
    const w = row(target);
    const entry = result.inputs[k];
    assert.equal(entry.target, target);
    // The patches and their exact contributions.
    const contribution = [];
    for (let ph = 0; ph < 3; ph++)
      for (let pw = 0; pw < 3; pw++) {
        let sum = 0;
        for (let h = 2 * ph; h < 2 * ph + 2; h++) for (let c = 2 * pw; c < 2 * pw + 2; c++) sum += w[h * 6 + c] * x[h * 6 + c];
        contribution.push(sum);
      }
    const morf = [...contribution.keys()].sort((a, b) => contribution[b] - contribution[a]);
    for (const [order, sequence] of [['morf', morf], ['lerf', [...morf].reverse()]]) {
      const expected = [logits[target]];
      let removed = 0;
      for (let step = 1; step <= 3; step++) {
        for (const p of sequence.slice(3 * (step - 1), 3 * step)) removed += contribution[p];
        expected.push(logits[target] - removed);
      }
      assert.equal(entry[order].curve.length, 4);
      entry[order].curve.forEach((v, i) => close(v, expected[i], 1e-4, `input ${k} ${order} step ${i}`));
      const aopc = expected.reduce((s, f) => s + (expected[0] - f), 0) / expected.length;
      close(entry[order].aopc, aopc, 1e-4, `input ${k} ${order} AOPC`);
    }
    assert.ok(entry.morf.aopc >= entry.lerf.aopc);
  });
  // The summary is the mean over the inputs.
  const mean = result.inputs.reduce((s, e) => s + e.morf.aopc, 0) / xs.length;
  close(result.morf.aopc, mean, 1e-9, 'mean AOPC');
  result.morf.curve.forEach((v, i) => close(v, result.inputs.reduce((s, e) => s + e.morf.curve[i], 0) / xs.length, 1e-9, `mean curve ${i}`));

  // The same relevance given by the caller gives the same result.
  const given = await evaluate(model, xs, {
    patchSize: 2, steps: 3, relevance: xs.map((x, k) => x.map((v, i) => v * row(result.inputs[k].target)[i])),
  });
  given.inputs.forEach((e, k) => e.morf.curve.forEach((v, i) => close(v, result.inputs[k].morf.curve[i], 1e-5, 'given relevance')));
  model.dispose();
});

test('evaluate: the target stays fixed; a constant perturbation value and a fraction are honoured', async () => {
  const { model, row } = await linearModel([8]); // a 1-D input: patches are runs of patchSize features
  const [x] = inputs(1, 8, 7);
  const target = 2;
  const w = row(target);
  const relevance = [Float32Array.from({ length: 8 }, (_, i) => 8 - i)]; // perturb features 0, 1, 2, ... in turn
  const result = await evaluate(model, [x], { relevance, target, order: 'morf', patchSize: 2, fraction: 0.5, steps: 2, perturbation: { type: 'constant', value: 0.25 } });
  assert.equal(result.lerf, undefined);
  assert.equal(result.patches, 4);
  assert.deepEqual(result.perturbed, [0, 1, 2]);
  const f0 = model.predict(x)[target];
  const delta = (i) => w[i] * (0.25 - x[i]);
  const expected = [f0, f0 + delta(0) + delta(1), f0 + delta(0) + delta(1) + delta(2) + delta(3)];
  result.inputs[0].morf.curve.forEach((v, i) => close(v, expected[i], 1e-5, `step ${i}`));
  assert.equal(result.inputs[0].target, 2);
  model.dispose();
});

test('evaluate: random relevance gives the random baseline AOPC (half the total contribution on a linear model)', async () => {
  const { model, row } = await linearModel([400], 3);
  const xs = inputs(40, 400, 500);
  const options = { patchSize: 1, steps: 20, target: 0 };
  const random = await evaluate(model, xs, { ...options, explain: { method: 'random', seed: 1 } });
  const w = row(0);
  // With a uniformly random order, E[f(x⁰) − f(x^k)] = (k/steps) Σ w_i x_i, so E[AOPC] = Σ w_i x_i / 2.
  const expected = xs.reduce((s, x) => s + x.reduce((t, v, i) => t + w[i] * v, 0), 0) / xs.length / 2;
  const spread = Math.sqrt(xs.reduce((s, x) => s + x.reduce((t, v, i) => t + (w[i] * v) ** 2, 0), 0) / xs.length);
  close(random.morf.aopc, expected, 0.25 * spread, 'random MoRF AOPC');
  close(random.lerf.aopc, expected, 0.25 * spread, 'random LeRF AOPC');
  // Caller-given random relevance agrees with the built-in baseline; the seed makes it reproducible.
  let state = 12345;
  const uniform = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const given = await evaluate(model, xs, { ...options, relevance: xs.map(() => Float32Array.from({ length: 400 }, uniform)) });
  close(given.morf.aopc, random.morf.aopc, 0.35 * spread, 'given vs built-in random');
  const again = await evaluate(model, xs, { ...options, explain: { method: 'random', seed: 1 } });
  assert.deepEqual(again.morf.curve, random.morf.curve);
  const other = await evaluate(model, xs, { ...options, explain: { method: 'random', seed: 2 } });
  assert.notDeepEqual(other.morf.curve, random.morf.curve);
  // The exact explanation beats random for MoRF and is below it for LeRF.
  const exact = await evaluate(model, xs, { ...options, explain: { method: 'gradient-x-input' } });
  assert.ok(exact.morf.aopc > random.morf.aopc + spread, `${exact.morf.aopc} vs random ${random.morf.aopc}`);
  assert.ok(exact.lerf.aopc < random.lerf.aopc - spread, `${exact.lerf.aopc} vs random ${random.lerf.aopc}`);
  model.dispose();
});

test('evaluate: uniform perturbation is reproducible with its seed and independent of batching', async () => {
  const { model } = await linearModel([1, 6, 6]);
  const xs = inputs(3, 36, 900);
  const options = { patchSize: 3, perturbation: { type: 'uniform', low: -1, high: 1, seed: 9 }, explain: { method: 'gradient' } };
  const a = await evaluate(model, xs, options);
  const b = await evaluate(model, xs, { ...options, batchSize: 1 });
  assert.equal(a.steps, 4); // default: every patch, one per step (4 patches)
  assert.deepEqual(a.inputs, b.inputs);
  const c = await evaluate(model, xs, { ...options, perturbation: { type: 'uniform', low: -1, high: 1, seed: 10 } });
  assert.notDeepEqual(c.inputs[0].morf.curve, a.inputs[0].morf.curve);
  // Both orders end with every patch perturbed: the same input.
  a.inputs.forEach((e) => assert.equal(e.morf.curve.at(-1), e.lerf.curve.at(-1)));
  model.dispose();
});

test('evaluate: on MNIST, LeRF stays below MoRF for LRP (CNN) and progress is reported in increasing counts', async () => {
  const model = await loadModel(fileURLToPath(new URL('../web/models/mnist-cnn.onnx', import.meta.url)));
  const { images } = readMnist('test', 6);
  const calls = [];
  const result = await evaluate(model, images, {
    patchSize: 4, steps: 7, explain: { composite: 'epsilon-plus' }, batchSize: 30, onProgress: (done, total) => calls.push([done, total]),
  });
  for (const entry of result.inputs) assert.ok(entry.lerf.aopc < entry.morf.aopc, `LeRF ${entry.lerf.aopc} >= MoRF ${entry.morf.aopc}`);
  assert.ok(result.morf.aopc > 0);
  assert.ok(calls.length >= 2, `${calls.length} progress calls`);
  calls.forEach(([done, total], i) => {
    assert.equal(total, images.length);
    if (i > 0) assert.ok(done > calls[i - 1][0]);
  });
  assert.deepEqual(calls.at(-1), [images.length, images.length]);
  // The random baseline lies in between.
  const random = await evaluate(model, images, { patchSize: 4, steps: 7, explain: { method: 'random' } });
  assert.ok(random.morf.aopc < result.morf.aopc && random.lerf.aopc > result.lerf.aopc);
  model.dispose();
});

test('evaluate: bad arguments raise clear errors', async () => {
  const { model } = await linearModel([1, 4, 4]);
  const xs = inputs(2, 16, 1);
  const bad = [
    [[null, xs], /first argument must be a model/],
    [[model, []], /non-empty array of inputs/],
    [[model, [new Float32Array(3)]], /inputs\[0\] has 3 values, expected 16/],
    [[model, xs, { colour: 1 }], /unknown option 'colour'/],
    [[model, xs, { order: 'up' }], /order must be 'morf', 'lerf', 'both'/],
    [[model, xs, { patchSize: 0 }], /patchSize must be a positive integer/],
    [[model, xs, { steps: 1.5 }], /steps must be a positive integer/],
    [[model, xs, { steps: 17 }], /steps \(17\) must not exceed the number of patches to perturb \(16/],
    [[model, xs, { fraction: 0 }], /fraction must be a number in \(0, 1\]/],
    [[model, xs, { perturbation: { type: 'blur' } }], /perturbation.type must be 'constant' or 'uniform'/],
    [[model, xs, { perturbation: { type: 'uniform', low: 1, high: 0 } }], /low < high/],
    [[model, xs, { perturbation: { type: 'constant', value: NaN } }], /perturbation.value must be a finite number/],
    [[model, xs, { perturbation: { type: 'constant', seed: 1 } }], /unknown perturbation option 'seed'/],
    [[model, xs, { target: 3 }], /target must be 'predicted', a class index from 0 to 2/],
    [[model, xs, { target: [0] }], /target has 1 entries, expected one per input \(2\)/],
    [[model, xs, { relevance: [new Float32Array(16)], explain: {} }], /either 'explain'.*or 'relevance'/],
    [[model, xs, { relevance: [new Float32Array(16)] }], /one relevance per input \(2\)/],
    [[model, xs, { relevance: [new Float32Array(16), new Float32Array(15)] }], /relevance\[1\] must be an array of 16 numbers/],
    [[model, xs, { explain: { target: 1 } }], /evaluate's own 'target' option/],
    [[model, xs, { explain: { method: 'random', composite: 'epsilon-plus' } }], /random baseline takes only 'seed'/],
    [[model, xs, { explain: { composite: 'nope' } }], /unknown composite 'nope'/],
    [[model, xs, { onProgress: 1 }], /onProgress must be a function/],
  ];
  for (const [args, pattern] of bad) await assert.rejects(evaluate(...args), pattern, `${pattern}`);
  model.dispose();
});
