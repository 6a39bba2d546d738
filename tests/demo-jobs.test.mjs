// Unit tests of the demo's requests to a worker model (web/demo/jobs.js), in Node: the jobs' targets and
// contrast seeds, the options of the main job, and explainJobs / evaluateMethods against real models in the
// package's worker (loadModel(path, { worker: true })), compared with the same calls on the main thread.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel, evaluate } from 'lrp-wasm';
import { seedFor, explainOptions, explainJobs, evaluateMethods } from '../web/demo/jobs.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MODELS = path.join(ROOT, 'web', 'models');

/** A digit-like input: a vertical bar (a 1) with a little texture. */
const input = Float32Array.from({ length: 784 }, (_, i) => (Math.abs((i % 28) - 14) < 2 && i > 112 && i < 672 ? 1 : ((i * 7) % 13) / 130));

let worker, local;
before(async () => {
  worker = await loadModel(path.join(MODELS, 'mnist-mlp.onnx'), { worker: true });
  local = await loadModel(path.join(MODELS, 'mnist-mlp.onnx'));
});
after(() => {
  worker?.dispose();
  local?.dispose();
});

test('seedFor: the predicted class, a class, and the contrast seeds of LRP and of gradients', () => {
  const logits = Float32Array.from([0.5, 3, -1, 2]);
  const outputs = { n: 4, logits };
  assert.deepEqual(seedFor({ kind: 'predicted' }, outputs, false), { target: 'predicted' });
  assert.deepEqual(seedFor({ kind: 'class', a: 2 }, { n: 4 }, false), { target: 2 }, 'a class needs no logits');
  // why 1 and not 3: e_1·f_1 − e_3·f_3 for LRP, e_1 − e_3 for a gradient
  assert.deepEqual(Array.from(seedFor({ kind: 'contrast', a: 1, b: 3 }, outputs, false).outputRelevance), [0, 3, 0, -2]);
  assert.deepEqual(Array.from(seedFor({ kind: 'contrast', a: 1, b: 3 }, { n: 4 }, true).outputRelevance), [0, 1, 0, -1]);
  assert.throws(() => seedFor({ kind: 'class', a: 4 }, outputs, false), /class 4 is not an output \(0\.\.3\)/);
  assert.throws(() => seedFor({ kind: 'contrast', a: 1, b: -1 }, outputs, false), /class -1 is not an output/);
  assert.throws(() => seedFor({ kind: 'contrast', a: 1, b: 3 }, { n: 4 }, false), /needs the logits/);
});

test('explainOptions: layer relevance (LRP only) and attention for the main job, not for the others', () => {
  const outputs = { n: 10 };
  const lrp = { options: { composite: 'epsilon-plus' }, target: { kind: 'class', a: 3 } };
  const wants = { wantLayers: true, wantAttention: true };
  assert.deepEqual(explainOptions({ key: 'main', ...lrp }, outputs, wants),
    { composite: 'epsilon-plus', target: 3, layerRelevance: true, attention: true });
  assert.deepEqual(explainOptions({ key: 'compare', ...lrp }, outputs, wants), { composite: 'epsilon-plus', target: 3 });
  assert.deepEqual(explainOptions({ key: 'main', options: { method: 'gradient' }, target: { kind: 'predicted' } }, outputs, wants),
    { method: 'gradient', target: 'predicted', attention: true });
  assert.deepEqual(explainOptions({ key: 'main', ...lrp }, outputs), { composite: 'epsilon-plus', target: 3 });
});

test('explainJobs: every job of one input, as the main thread computes them; a failing job fails alone', async () => {
  const jobs = [
    { key: 'main', options: { composite: 'epsilon-plus' }, target: { kind: 'contrast', a: 1, b: 7 } },
    { key: 'compare', options: { method: 'gradient' }, target: { kind: 'contrast', a: 1, b: 7 } },
    { key: 'unit', options: { composite: 'epsilon-plus', restrict: { layer: 1, unit: 3 } }, target: { kind: 'contrast', a: 1, b: 7 } },
    { key: 'bad', options: { composite: 'epsilon-plus' }, target: { kind: 'contrast', a: 1, b: 12 } },
    { key: 'unknown', options: { composite: 'no-such-composite' }, target: { kind: 'predicted' } },
  ];
  const r = await explainJobs(worker, input, jobs, { wantLayers: true });
  const logits = local.predict(input);
  assert.deepEqual(Array.from(r.logits), Array.from(logits));
  assert.ok(r.ms >= 0);
  assert.equal(r.attention, null, 'an MLP has no attention weights');

  const lrpSeed = new Float32Array(10);
  lrpSeed[1] = logits[1];
  lrpSeed[7] = -logits[7];
  const main = local.explain(input, { composite: 'epsilon-plus', outputRelevance: lrpSeed, layerRelevance: true });
  assert.deepEqual(Array.from(r.results.main.relevance), Array.from(main.relevance), 'the LRP contrast: e1·f1 − e7·f7');
  assert.equal(r.results.main.target, 1, 'a contrast is reported as its class A');
  assert.equal(r.results.main.layers.length, main.layers.length);
  r.results.main.layers.forEach((l, k) => {
    assert.equal(l.sum, main.layers[k].sum, `layer ${k}: Σ R`);
    assert.deepEqual(Array.from(l.relevance), Array.from(main.layers[k].relevance), `layer ${k}: relevance`);
  });

  const gradientSeed = new Float32Array(10);
  gradientSeed[1] = 1;
  gradientSeed[7] = -1;
  const gradient = local.explain(input, { method: 'gradient', outputRelevance: gradientSeed });
  assert.deepEqual(Array.from(r.results.compare.relevance), Array.from(gradient.relevance), 'the gradient of f1 − f7');
  assert.equal(r.results.compare.layers, undefined, 'layer relevance is asked for the main job only');

  const unit = local.explain(input, { composite: 'epsilon-plus', outputRelevance: lrpSeed, restrict: { layer: 1, unit: 3 } });
  assert.deepEqual(Array.from(r.results.unit.relevance), Array.from(unit.relevance));
  assert.notDeepEqual(Array.from(unit.relevance), Array.from(main.relevance));

  assert.deepEqual(Object.keys(r.results.bad), ['error']);
  assert.match(r.results.bad.error, /class 12 is not an output \(0\.\.9\)/);
  assert.deepEqual(Object.keys(r.results.unknown), ['error']);
  assert.match(r.results.unknown.error, /no-such-composite/);
});

test('explainJobs: the logits come with the explanations; predict only for an LRP contrast or when every job failed', async () => {
  const calls = [];
  const counting = {
    outputSize: worker.outputSize,
    predict: (...args) => { calls.push('predict'); return worker.predict(...args); },
    explain: (...args) => { calls.push('explain'); return worker.explain(...args); },
  };
  const logits = Array.from(local.predict(input));
  const cases = [
    ['predicted', [{ key: 'main', options: { composite: 'epsilon-plus' }, target: { kind: 'predicted' } },
      { key: 'compare', options: { method: 'smoothgrad' }, target: { kind: 'predicted' } }], ['explain', 'explain']],
    ['gradient contrast', [{ key: 'main', options: { method: 'gradient' }, target: { kind: 'contrast', a: 1, b: 7 } }], ['explain']],
    ['LRP contrast', [{ key: 'main', options: { composite: 'epsilon-plus' }, target: { kind: 'contrast', a: 1, b: 7 } }], ['predict', 'explain']],
    ['every job failed', [{ key: 'main', options: { composite: 'nope' }, target: { kind: 'predicted' } }], ['explain', 'predict']],
  ];
  for (const [what, jobs, expected] of cases) {
    calls.length = 0;
    const r = await explainJobs(counting, input, jobs);
    assert.deepEqual(calls, expected, what);
    assert.deepEqual(Array.from(r.logits), logits, `${what}: the logits`);
  }
});

test('explainJobs: the transformer\'s attention weights come with the main job', async () => {
  const vit = await loadModel(path.join(MODELS, 'mnist-vit.onnx'), { worker: true });
  try {
    const jobs = [
      { key: 'main', options: { composite: 'attn-lrp' }, target: { kind: 'predicted' } },
      { key: 'compare', options: { method: 'gradient' }, target: { kind: 'predicted' } },
    ];
    const r = await explainJobs(vit, input, jobs, { wantLayers: true, wantAttention: true });
    const softmaxes = vit.layers.filter((l) => l.kind === 'softmax');
    assert.ok(softmaxes.length >= 2);
    assert.deepEqual(r.attention.map((a) => a.index), softmaxes.map((l) => l.index));
    for (const a of r.attention) {
      assert.ok(a.weights instanceof Float32Array);
      assert.equal(a.weights.length, a.outputShape.reduce((p, q) => p * q, 1));
    }
    assert.ok(r.results.main.relevance.some((v) => v !== 0));
    assert.ok(r.results.compare.relevance.some((v) => v !== 0));
  } finally {
    vit.dispose();
  }
});

test('explainJobs: an abort rejects with an AbortError, not with the jobs\' errors', async () => {
  const slow = { method: 'smoothgrad', samples: 64 };
  const jobs = (target, options = slow) => [
    { key: 'main', options, target },
    { key: 'compare', options, target },
  ];
  // aborted while the explanations run; then while a contrast waits for its logits
  for (const [target, options] of [[{ kind: 'predicted' }, slow], [{ kind: 'contrast', a: 1, b: 7 }, { composite: 'epsilon-plus' }]]) {
    const controller = new AbortController();
    const running = explainJobs(worker, input, jobs(target, options), { signal: controller.signal });
    controller.abort();
    await assert.rejects(running, { name: 'AbortError' }, target.kind);
  }
  // aborted after the first job answered, while the second runs: not a result with a failed job
  const controller = new AbortController();
  const abortAfterFirst = {
    outputSize: worker.outputSize,
    predict: (x, options) => worker.predict(x, options),
    explain: async (x, options) => {
      const r = await worker.explain(x, options);
      controller.abort();
      return r;
    },
  };
  await assert.rejects(explainJobs(abortAfterFirst, input, jobs({ kind: 'predicted' }), { signal: controller.signal }), { name: 'AbortError' });
  const aborted = new AbortController();
  aborted.abort();
  await assert.rejects(explainJobs(worker, input, jobs({ kind: 'predicted' }), { signal: aborted.signal }), { name: 'AbortError' });
  // the model still answers afterwards
  const r = await explainJobs(worker, input, jobs({ kind: 'predicted' }).slice(0, 1));
  assert.ok(r.results.main.relevance.some((v) => v !== 0));
});

test('evaluateMethods: the package\'s pixel flipping per method, with progress; a failing method fails alone', async () => {
  const methods = [
    { key: 'main', options: { composite: 'epsilon-plus' } },
    { key: 'broken', options: { composite: 'no-such-composite' } },
    { key: 'compare', options: { method: 'gradient' } },
  ];
  const progress = [];
  const r = await evaluateMethods(worker, input, methods, { patchSize: 2, steps: 20, onProgress: (done, total) => progress.push([done, total]) });
  assert.equal(r.patches, 196);
  assert.equal(r.perturbed.length, 21);
  for (const [key, options] of [['main', { composite: 'epsilon-plus' }], ['compare', { method: 'gradient' }]]) {
    const expected = await evaluate(local, [input], { explain: options, patchSize: 2, steps: 20 });
    assert.deepEqual(Array.from(r.curves[key].morf.curve), Array.from(expected.morf.curve), `${key}: MoRF`);
    assert.deepEqual(Array.from(r.curves[key].lerf.curve), Array.from(expected.lerf.curve), `${key}: LeRF`);
    assert.equal(r.curves[key].morf.aopc, expected.morf.aopc);
    assert.ok(r.curves[key].morf.aopc > r.curves[key].lerf.aopc, `${key}: MoRF hurts more than LeRF`);
  }
  assert.match(r.curves.broken.error, /no-such-composite/);
  // the package reports per input (one here): each method that finishes counts one
  assert.deepEqual(progress, [[1, 3], [3, 3]]);

  const controller = new AbortController();
  const running = evaluateMethods(worker, input, methods, { patchSize: 2, steps: 20, signal: controller.signal });
  controller.abort();
  await assert.rejects(running, { name: 'AbortError' });
});
