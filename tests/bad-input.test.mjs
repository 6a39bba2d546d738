// Bad input never crashes the engine or corrupts later calls: each case is an Error whose message
// names the problem, and the same model gives identical results afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadModel } from 'lrp-wasm';
import { loadGolden } from './helpers/golden.mjs';
import { buildModel } from './helpers/onnx-builder.mjs';
import { mulberry32 } from '../web/src/random.js';

const golden = loadGolden('tiny-mlp');
const modelBytes = new Uint8Array(readFileSync(golden.modelPath));
const x = golden.input(2);

// "Random" bytes from a fixed seed, so they are the same on every run.
function randomBytes(count, seed) {
  const random = mulberry32(seed);
  return Uint8Array.from({ length: count }, () => Math.floor(random() * 256));
}

// Runs `attempt` (which must throw an Error matching `message`), then checks the model still agrees
// with the results it gave before.
async function rejectsCleanly(model, attempt, message) {
  const before = { logits: model.predict(x), relevance: model.explain(x, { composite: 'epsilon-plus' }).relevance };
  await assert.rejects(async () => attempt(), (error) => {
    assert.ok(error instanceof Error, `expected an Error, got ${error}`);
    assert.match(error.message, message);
    return true;
  });
  assert.deepEqual(model.predict(x), before.logits);
  assert.deepEqual(model.explain(x, { composite: 'epsilon-plus' }).relevance, before.relevance);
}

test('model bytes: empty, random and truncated are rejected with a clear message', async () => {
  const model = await loadModel(modelBytes);
  await rejectsCleanly(model, () => loadModel(new Uint8Array(0)), /empty|invalid ONNX/i);
  for (const seed of [1, 2, 3, 4, 5])
    await rejectsCleanly(model, () => loadModel(randomBytes(500 + seed * 97, seed)), /invalid ONNX|no graph|ONNX/i);
  for (const fraction of [0.1, 0.5, 0.9, 0.999])
    await rejectsCleanly(model, () => loadModel(modelBytes.slice(0, Math.floor(modelBytes.length * fraction))), /invalid ONNX|truncat|ONNX/i);
  await rejectsCleanly(model, () => loadModel('/no/such/model.onnx'), /loadModel: cannot read \/no\/such\/model\.onnx: no such file/);
  await rejectsCleanly(model, () => loadModel('/tmp'), /loadModel: cannot read \/tmp: it is a directory/);
  await rejectsCleanly(model, () => loadModel('http://127.0.0.1:9/model.onnx'), /loadModel: fetching http:\/\/127\.0\.0\.1:9\/model\.onnx failed/);
  await rejectsCleanly(model, () => loadModel(42), /expected ONNX bytes \(ArrayBuffer or Uint8Array\), a File, Blob or Response, a file path or a URL \(got 42\)/);
  model.dispose();
});

test('hostile models: absurd sizes and unsupported operators', async () => {
  const model = await loadModel(modelBytes);
  const huge = buildModel({
    input: { name: 'input', shape: [null, 100000] },
    output: { name: 'y', shape: [null, 100000] },
    nodes: [{ op: 'Gemm', name: 'fc', inputs: ['input', 'w'], outputs: ['y'], attrs: { transB: 1 } }],
    initializers: { w: { dims: [100000, 100000], data: new Float32Array(4) } },
  });
  await rejectsCleanly(model, () => loadModel(huge), /too large|does not match|elements|size/i);
  const deconv = buildModel({
    input: { name: 'input', shape: [null, 1, 4, 4] },
    output: { name: 'y', shape: [null, 1, 6, 6] },
    nodes: [{ op: 'ConvTranspose', name: 'my_deconv', inputs: ['input', 'w'], outputs: ['y'] }],
    initializers: { w: { dims: [1, 1, 3, 3], data: new Float32Array(9) } },
  });
  await rejectsCleanly(model, () => loadModel(deconv), /unsupported ONNX operator 'ConvTranspose' \(node 'my_deconv'\)/);
  const hugeConv = buildModel({
    input: { name: 'input', shape: [null, 3, 60000, 60000] },
    output: { name: 'y', shape: [null, 64, 60000, 60000] },
    nodes: [{ op: 'Conv', name: 'huge_conv', inputs: ['input', 'w'], outputs: ['y'], attrs: { pads: [1, 1, 1, 1] } }],
    initializers: { w: { dims: [64, 3, 3, 3], data: new Float32Array(64 * 27) } },
  });
  await rejectsCleanly(model, () => loadModel(hugeConv), /too large|exceed/i);
  const poisoned = buildModel({
    input: { name: 'input', shape: [null, 3] },
    output: { name: 'y', shape: [null, 2] },
    nodes: [{ op: 'Gemm', name: 'poisoned_fc', inputs: ['input', 'w'], outputs: ['y'], attrs: { transB: 1 } }],
    initializers: { w: { dims: [2, 3], data: Float32Array.of(1, 2, 3, 4, NaN, 6) } },
  });
  await rejectsCleanly(model, () => loadModel(poisoned), /poisoned_fc.*must be finite/);
  model.dispose();
});

test('inputs: wrong length, NaN, Infinity, wrong type', async () => {
  const model = await loadModel(modelBytes);
  await rejectsCleanly(model, () => model.predict(new Float32Array(15)), /15 values, expected 16/);
  await rejectsCleanly(model, () => model.explain(new Float32Array(17)), /17 values, expected 16/);
  const withNaN = Float32Array.from(x);
  withNaN[5] = NaN;
  await rejectsCleanly(model, () => model.explain(withNaN), /NaN at index 5/);
  const withInf = Float32Array.from(x);
  withInf[0] = -Infinity;
  await rejectsCleanly(model, () => model.predict(withInf), /Infinity at index 0/);
  await rejectsCleanly(model, () => model.predict('not an array'), /Float32Array/);
  await rejectsCleanly(model, () => model.predict(Array.from(x, String)), /'[^']*' at index 0; all values must be numbers/);
  await rejectsCleanly(model, () => model.explainBatch([x, new Float32Array(3)]), /explainBatch\[1\].*3 values/);
  model.dispose();
});

test('options: unknown names, invalid parameters, targets out of range', async () => {
  const model = await loadModel(modelBytes);
  const cases = [
    [{ composite: 'epsilon-plus-flatt' }, /unknown composite 'epsilon-plus-flatt'/],
    [{ method: 'lime' }, /unknown method 'lime'/],
    [{ rules: { dense: { rule: 'epsilom' } } }, /unknown rule 'epsilom'/],
    [{ rules: { dense: { rule: 'alpha-beta', alpha: 2, beta: 2 } } }, /alpha - beta = 1/],
    [{ rules: { dense: { rule: 'alpha-beta', alpha: 3, beta: 1 } } }, /alpha - beta = 1.*alpha=3, beta=1/],
    [{ rules: { dense: { rule: 'gamma', gamma: -1 } } }, /gamma must be >= 0/],
    [{ rules: { first: { rule: 'z-box' } } }, /z-box' needs 'low' and 'high'/],
    [{ rules: { first: { rule: 'z-box', low: new Float32Array(3), high: 1 } } }, /low.*3 values, expected 1 or 16/],
    [{ rules: { first: { rule: 'z-box', low: 2, high: 1 } } }, /low must not exceed high/],
    [{ rules: { 7: { rule: 'epsilon' } } }, /layer 7.*5 layers/],
    [{ rules: { 1: { rule: 'epsilon' } } }, /not a dense or conv layer/],
    [{ rules: { middle: { rule: 'epsilon' } } }, /unknown rules key 'middle'/],
    [{ composite: 'deep-taylor' }, /needs 'low' and 'high'/],
    [{ epsilon: NaN }, /epsilon must be a finite number/],
    [{ epsilon: -1 }, /epsilon must be >= 0/],
    [{ target: 4 }, /target.*0 to 3.*got 4/],
    [{ target: -1 }, /target/],
    [{ target: 1.5 }, /target/],
    [{ target: 'best' }, /target/],
    [{ outputRelevance: new Float32Array(3) }, /outputRelevance has 3 values, expected 4/],
    [{ outputRelevance: Float32Array.of(1, NaN, 0, 0) }, /outputRelevance contains NaN/],
    [{ method: 'integrated-gradients', steps: 0 }, /steps must be an integer/],
    [{ method: 'smoothgrad', samples: 1e9 }, /samples must be an integer/],
    [{ method: 'gradient', layerRelevance: true }, /^explain: layerRelevance is only available for method 'lrp'/],
    [{ composite: 'epsilon-plus', colour: 'red' }, /unknown option 'colour'/],
  ];
  for (const [options, message] of cases) await rejectsCleanly(model, () => model.explain(x, options), message);
  model.dispose();
});

test('after dispose every call throws, and the engine keeps serving other models', async () => {
  const model = await loadModel(modelBytes);
  const expected = model.explain(x).relevance;
  model.dispose();
  assert.throws(() => model.explain(x), /disposed/);
  // Many load/dispose cycles do not leak or disturb a live model.
  const live = await loadModel(modelBytes);
  for (let i = 0; i < 200; i++) (await loadModel(modelBytes)).dispose();
  assert.deepEqual(live.explain(x).relevance, expected);
  live.dispose();
});
