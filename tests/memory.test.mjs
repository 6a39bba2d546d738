// The memory budget (issue 10): what a model holds, calls refused before allocation with needed and available
// sizes, the engine working after refusals, chunked batches identical to one pass, a hostile model refused at load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel, engineMemoryBytes, engineMemoryStatus, setEngineMemoryLimit } from 'lrp-wasm';

const cnnPath = new URL('../web/models/mnist-cnn.onnx', import.meta.url);
const mlpPath = new URL('../web/models/mnist-mlp.onnx', import.meta.url);
const vitPath = new URL('../web/models/mnist-vit.onnx', import.meta.url);
// A 374-byte model that pads its input to 2^28 values (a copy of shared/hostile's reproducer, issue 12).
const hostilePad = new URL('./fixtures/hostile/resource-pad-to-2p28-relu8.onnx', import.meta.url);

function digits(count, seed = 1) {
  let state = seed;
  const next = () => ((state = (state * 1103515245 + 12345) >>> 0) / 2 ** 32);
  return Array.from({ length: count }, () => Float32Array.from({ length: 784 }, () => (next() < 0.3 ? next() : 0)));
}

// Caps the engine to what it uses now plus `extra` bytes for the duration of `body`.
function withHeadroom(extra, body) {
  setEngineMemoryLimit(engineMemoryStatus().used + extra);
  try {
    return body();
  } finally {
    setEngineMemoryLimit(null);
  }
}

const sameFloats = (a, b) => a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

function assertSameResults(a, b, what) {
  assert.equal(a.length, b.length, what);
  a.forEach((r, i) => {
    assert.equal(r.target, b[i].target, `${what}: target of input ${i}`);
    assert.ok(sameFloats(r.relevance, b[i].relevance), `${what}: relevance of input ${i} differs`);
    assert.ok(sameFloats(r.output, b[i].output), `${what}: output of input ${i} differs`);
  });
}

// First in this file: the engine has not started yet.
test('a cap set before the engine starts applies from the first load', async () => {
  setEngineMemoryLimit(2 ** 20);
  assert.deepEqual(engineMemoryStatus(), { limit: 2 ** 20, used: 0, available: 2 ** 20 });
  await assert.rejects(loadModel(cnnPath), /needs [\d.]+ (KB|MB) .*(more than the engine's limit of 1\.0 MB|left of its 1\.0 MB)/);
  setEngineMemoryLimit(null);
  const cnn = await loadModel(cnnPath);
  assert.equal(cnn.predict(digits(1)[0]).length, 10);
  cnn.dispose();
});

test('model.memoryBytes tells what a model holds: more than its weights, and plausible', async () => {
  const cnn = await loadModel(cnnPath);
  const mlp = await loadModel(mlpPath);
  // mnist-cnn: 61k parameters (batch-norm folded); its convs keep two packed layouts of their weights.
  assert.ok(cnn.memoryBytes > 61_000 * 4, `cnn ${cnn.memoryBytes}`);
  assert.ok(cnn.memoryBytes < 61_000 * 4 * 6, `cnn ${cnn.memoryBytes}`);
  // mnist-mlp: 784·512 + 512·256 + ... ≈ 0.57M parameters, one copy each.
  let weights = 0;
  for (const layer of mlp.layers) if (layer.kind === 'dense') weights += 1;
  assert.ok(weights > 0);
  assert.ok(mlp.memoryBytes > 784 * 512 * 4, `mlp ${mlp.memoryBytes}`);
  assert.ok(mlp.memoryBytes < 784 * 512 * 4 * 2, `mlp ${mlp.memoryBytes}`);
  const status = engineMemoryStatus();
  assert.ok(status.limit >= 2 ** 32 - 2 ** 16 && status.limit <= 2 ** 32, `the engine may grow to 4 GB (limit ${status.limit})`);
  assert.ok(status.used >= cnn.memoryBytes + mlp.memoryBytes && status.used <= engineMemoryBytes());
  assert.equal(status.available, status.limit - status.used);
  cnn.dispose();
  mlp.dispose();
  assert.throws(() => cnn.memoryBytes, /disposed/);
});

test('a call that does not fit is refused with needed and available sizes; the engine keeps working', async () => {
  const cnn = await loadModel(cnnPath);
  const mlp = await loadModel(mlpPath);
  const [x] = digits(1);
  const before = cnn.explain(x, { composite: 'epsilon-plus' });
  const mlpBefore = mlp.explain(x, { composite: 'epsilon-plus' });
  const ig = cnn.explain(x, { method: 'integrated-gradients', steps: 16 });
  let heap = 0;
  for (let round = 0; round < 20; round++) {
    withHeadroom(96 * 1024, () => {
      assert.throws(() => cnn.explain(x, { composite: 'epsilon-plus' }), (error) => {
        assert.match(error.message, /^explain \(lrp\) for a batch of 1 needs \d+(\.\d)? (KB|MB) \(activations [\d.]+ (KB|MB), relevance [\d.]+ (KB|MB), workspace [\d.]+ (KB|MB)\) but the engine has [\d.]+ KB left of its [\d.]+ MB; dispose\(\) models you no longer need$/);
        assert.doesNotMatch(error.message, /bad_alloc|vector/);
        return true;
      });
      // explainBatch and predictBatch refuse too when not even one input fits.
      assert.throws(() => cnn.explainBatch([x, x]), /explain of 1 input|explain \(lrp\) for a batch of 1 needs/);
      // A smaller call on the same engine: the MLP needs less.
      assert.ok(sameFloats(mlp.explain(x, { composite: 'epsilon-plus' }).relevance, mlpBefore.relevance));
    });
    if (round === 1) heap = engineMemoryBytes();
  }
  assert.equal(engineMemoryBytes(), heap, 'repeated refusals do not grow the heap');
  // The same model with a little more room: integrated gradients runs its points in chunks that fit.
  withHeadroom(4 * 2 ** 20, () => {
    assert.ok(sameFloats(cnn.explain(x, { method: 'integrated-gradients', steps: 16 }).relevance, ig.relevance));
  });
  // And without the cap everything is as before.
  assert.ok(sameFloats(cnn.explain(x, { composite: 'epsilon-plus' }).relevance, before.relevance));
  cnn.dispose();
  mlp.dispose();
});

test('chunked explainBatch, predictBatch, integrated gradients and SmoothGrad equal one pass bit for bit', async () => {
  const cnn = await loadModel(cnnPath);
  const inputs = digits(24, 7);
  const options = { composite: 'epsilon-alpha2-beta1' };
  const whole = cnn.explainBatch(inputs, options);
  const logits = cnn.predictBatch(inputs);
  const ig = cnn.explain(inputs[0], { method: 'integrated-gradients', steps: 24 });
  const sg = cnn.explain(inputs[1], { method: 'smoothgrad', samples: 24, seed: 3 });
  // Little headroom: a few inputs (or points) per pass (one point needs ~3.3 MB with two threads' conv buffers).
  const headroom = 6 * 2 ** 20;
  const chunked = withHeadroom(headroom, () => cnn.explainBatch(inputs, options));
  assertSameResults(whole, chunked, 'explainBatch');
  assertSameResults(whole, inputs.map((x) => cnn.explain(x, options)), 'explainBatch vs explain');
  withHeadroom(headroom, () => cnn.predictBatch(inputs)).forEach((l, i) => assert.ok(sameFloats(l, logits[i]), `logits ${i}`));
  assert.ok(sameFloats(withHeadroom(headroom, () => cnn.explain(inputs[0], { method: 'integrated-gradients', steps: 24 })).relevance, ig.relevance));
  assert.ok(sameFloats(withHeadroom(headroom, () => cnn.explain(inputs[1], { method: 'smoothgrad', samples: 24, seed: 3 })).relevance, sg.relevance));
  // Gradient batches of integrated gradients, chunked by inputs and by points.
  const batchIg = cnn.explainBatch(inputs.slice(0, 3), { method: 'integrated-gradients', steps: 8 });
  assertSameResults(batchIg, withHeadroom(headroom, () => cnn.explainBatch(inputs.slice(0, 3), { method: 'integrated-gradients', steps: 8 })), 'IG batch');
  cnn.dispose();
});

// Reference: the same call one input at a time. A layer's kernel must not depend on how many inputs share a
// pass (the dense layers pick theirs by tokens per sample: 1 for the MLP, 17 for the ViT).
test('a batch gives every input exactly the values it gets alone (MLP at 40 inputs, ViT at 2 and 3)', async () => {
  for (const [path, count] of [[mlpPath, 40], [vitPath, 3]]) {
    const model = await loadModel(path);
    const inputs = digits(count, 5);
    const options = path === vitPath ? { composite: 'attn-lrp' } : { composite: 'epsilon-plus' };
    assertSameResults(model.explainBatch(inputs, options), inputs.map((x) => model.explain(x, options)), `${path}`);
    assertSameResults(model.explainBatch(inputs.slice(0, 2), options), inputs.slice(0, 2).map((x) => model.explain(x, options)), `${path} 2`);
    model.predictBatch(inputs).forEach((l, i) => assert.ok(sameFloats(l, model.predict(inputs[i])), `logits ${i}`));
    model.dispose();
  }
});

// Reference: the uncapped call. 4,096 steps of a 28×28 input are 12.8 MB of points; under a cap of a few MB
// they must be made chunk by chunk, not all at once.
test('integrated gradients with 4,096 steps runs under a cap smaller than its points, with the same result', async () => {
  const cnn = await loadModel(cnnPath);
  const x = digits(1, 9)[0];
  const options = { method: 'integrated-gradients', steps: 4096 };
  const whole = cnn.explain(x, options);
  const capped = withHeadroom(6 * 2 ** 20, () => cnn.explain(x, options));
  assert.ok(sameFloats(capped.relevance, whole.relevance));
  cnn.dispose();
});

test('explainBatch takes any number of inputs', async () => {
  const mlp = await loadModel(mlpPath);
  const base = digits(8, 11);
  const inputs = Array.from({ length: 20_000 }, (_, i) => base[i % 8]);
  const heap = engineMemoryBytes();
  const results = mlp.explainBatch(inputs, { composite: 'epsilon-plus' });
  assert.equal(results.length, 20_000);
  const first = mlp.explain(base[3], { composite: 'epsilon-plus' });
  assert.ok(sameFloats(results[8 * 1000 + 3].relevance, first.relevance));
  assert.ok(engineMemoryBytes() - heap < 128 * 2 ** 20, `the heap grew by ${engineMemoryBytes() - heap} bytes`);
  mlp.dispose();
});

test('a model whose layer cannot fit is refused at load, before allocating, with a clear message', async () => {
  const heap = engineMemoryBytes();
  await assert.rejects(loadModel(hostilePad), (error) => {
    assert.match(error.message, /layers up to '.*' \(pad, output \[[\d, ]+\]: 1\.0 GB per input\) needs 5\.0 GB \(activations 1\.0 GB, relevance 2\.0 GB, workspace 2\.0 GB\), more than the engine's limit of 4\.0 GB/);
    assert.doesNotMatch(error.message, /bad_alloc|vector/);
    return true;
  });
  assert.ok(engineMemoryBytes() - heap < 16 * 2 ** 20, 'nothing large was allocated');
  const mlp = await loadModel(mlpPath);
  assert.equal(mlp.predict(digits(1)[0]).length, 10);
  mlp.dispose();
});

test('a model whose weights cannot fit is refused with its whole size, before any layer is copied in', async () => {
  const used = engineMemoryStatus().used;
  setEngineMemoryLimit(used + 64 * 2 ** 10);
  try {
    // mnist-mlp: 2.2 MB of weights (784·512 + 512·256 + 256·128 + 128·64 + 64·10 and biases), 10 layers in all.
    await assert.rejects(loadModel(mlpPath),
      /^Error: loading a model whose weights take 2\.2 MB \(10 layers\) needs 2\.2 MB \(weights 2\.2 MB\) but the engine has [\d.]+ KB left/);
  } finally {
    setEngineMemoryLimit(null);
  }
});

test('a dense layer needs its weights once at load (the transposed buffer is moved in), not three times', async () => {
  const probe = await loadModel(mlpPath);
  const holds = probe.memoryBytes;
  probe.dispose();
  // Room for the model and a fifth more (its activations and the copy of one small bias); before, the largest
  // layer's check asked for three times that layer's weights (1.5 MB × 3) and refused.
  setEngineMemoryLimit(engineMemoryStatus().used + Math.round(holds * 1.2));
  try {
    const mlp = await loadModel(mlpPath);
    assert.equal(mlp.predict(digits(1)[0]).length, 10);
    mlp.dispose();
  } finally {
    setEngineMemoryLimit(null);
  }
});

test('setEngineMemoryLimit validates its argument', () => {
  assert.throws(() => setEngineMemoryLimit(-1), /number of bytes/);
  assert.throws(() => setEngineMemoryLimit('1GB'), /number of bytes/);
  assert.throws(() => setEngineMemoryLimit(0.5), (e) => e instanceof RangeError && /whole number of bytes/.test(e.message));
  assert.throws(() => setEngineMemoryLimit(2 ** 33), /from 0 to 4294967296 \(4 GB, the WebAssembly maximum/);
  assert.throws(() => setEngineMemoryLimit(NaN), RangeError);
  assert.throws(() => setEngineMemoryLimit(1n), /got 1n \(a BigInt\)/);
  setEngineMemoryLimit(2 ** 32);  // the maximum itself is a valid cap: the same as none
  const capped = engineMemoryStatus().limit;
  setEngineMemoryLimit(null);
  assert.equal(capped, engineMemoryStatus().limit);
});
