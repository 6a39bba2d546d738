// loadModel(…, { worker: true }) in Node (issue 11, part 4): the model runs in a worker_threads Worker. The
// reference of every number is the same model on the main thread (the same engine build and thread count):
// results must be bit-identical. Also: errors keep their type and message, AbortSignal drops queued requests and
// discards running ones, inputs stay usable (copied), a disposed model rejects, the worker ends with its last
// model (a script that disposes exits), and a worker that cannot start rejects with a clear message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { configure, evaluate, loadModel } from 'lrp-wasm';

const run = promisify(execFile);
const cnn = fileURLToPath(new URL('../web/models/mnist-cnn.onnx', import.meta.url));
const digit = Float32Array.from({ length: 784 }, (_, i) => ((i * 37) % 255) / 255);
const other = Float32Array.from({ length: 784 }, (_, i) => ((i * 11) % 7) / 7);
configure({ threads: 2 });  // the main thread's engine; the worker's gets the same count through loadModel

test('a worker model gives the main thread\'s numbers: predict, predictBatch, explain, explainBatch, evaluate', async () => {
  const local = await loadModel(cnn);
  const remote = await loadModel(cnn, { worker: true, threads: 2 });
  try {
    assert.equal(remote.worker, true);
    assert.deepEqual(remote.inputShape, local.inputShape);
    assert.equal(remote.outputSize, local.outputSize);
    assert.deepEqual(remote.layers, local.layers);
    assert.equal(remote.memoryBytes, local.memoryBytes);
    assert.deepEqual(await remote.predict(digit), local.predict(digit));
    assert.deepEqual(await remote.predictBatch([digit, other]), local.predictBatch([digit, other]));
    const options = { composite: 'epsilon-gamma-box', low: 0, high: 1, layerRelevance: true };
    const got = await remote.explain(digit, options);
    const expected = local.explain(digit, options);
    assert.deepEqual(got, expected);
    assert.ok(got.relevance instanceof Float32Array && got.layers[0].relevance instanceof Float32Array);
    assert.deepEqual(await remote.explainBatch([digit, other], { method: 'gradient-x-input' }),
      local.explainBatch([digit, other], { method: 'gradient-x-input' }));
    const progress = [];
    const evaluation = await evaluate(remote, [digit], { patchSize: 4, steps: 4, onProgress: (done, total) => progress.push([done, total]) });
    assert.deepEqual(evaluation, await evaluate(local, [digit], { patchSize: 4, steps: 4 }));
    assert.ok(progress.length > 0 && progress.at(-1)[0] === progress.at(-1)[1], JSON.stringify(progress));
    const status = await remote.engineStatus();
    assert.equal(status.threads, 2);
    assert.ok(status.memoryBytes >= status.used && status.used >= remote.memoryBytes, JSON.stringify(status));
    assert.equal(digit[0], 0, 'the input is copied, not transferred: still usable');
    assert.equal(digit.length, 784);
  } finally {
    local.dispose();
    remote.dispose();
  }
});

test('errors from the worker keep their type and message; the model keeps working after them', async () => {
  const remote = await loadModel(cnn, { worker: true });
  try {
    await assert.rejects(remote.predict(new Float32Array(3)), { name: 'Error', message: /predict: input has 3 values, expected 784/ });
    await assert.rejects(remote.explain(digit, { composite: 'nope' }), { message: /unknown composite 'nope'/ });
    await assert.rejects(remote.explain('pixels'), { name: 'TypeError', message: /^explain: expected a Float32Array \(or a Float64Array or an array of numbers\) \(got 'pixels'\)$/ });
    await assert.rejects(remote.predict(digit, { seed: 1 }), { message: /predict: unknown option 'seed' \(known: signal\)/ });
    await assert.rejects(remote.explain(digit, 'epsilon-plus'), { name: 'TypeError', message: /explain: options must be an object/ });
    await assert.rejects(remote.explain(digit, { signal: 'stop' }), { name: 'TypeError', message: /signal must be an AbortSignal/ });
    await assert.rejects(remote.explain(digit, { rules: { dense: { rule: 'epsilon', low: () => 0 } } }),
      { name: 'TypeError', message: /explain: an argument cannot be sent to the worker/ });
    assert.equal((await remote.predict(digit)).length, 10);
  } finally {
    remote.dispose();
  }
  await assert.rejects(loadModel(cnn, { worker: 'yes' }), { name: 'TypeError', message: /worker must be true or false/ });
  await assert.rejects(loadModel(cnn, { workerUrl: 'x.js' }), { message: /workerUrl is only used with worker: true/ });
  await assert.rejects(loadModel('/no/such/model.onnx', { worker: true }), { message: /loadModel: cannot read \/no\/such\/model\.onnx: no such file/ });
});

test('AbortSignal: a queued request is dropped, a running one rejects at once and its result is discarded', async () => {
  const remote = await loadModel(cnn, { worker: true });
  try {
    // A long request first, so that the next ones wait in the queue.
    const long = remote.explain(digit, { method: 'integrated-gradients', steps: 512 });
    const controller = new AbortController();
    const progress = [];
    const queued = evaluate(remote, [digit], { patchSize: 2, signal: controller.signal, onProgress: (done) => progress.push(done) });
    const after = remote.predict(other);
    controller.abort();
    await assert.rejects(queued, { name: 'AbortError' });
    assert.equal((await long).relevance.length, 784);
    assert.equal((await after).length, 10);
    assert.deepEqual(progress, [], 'the dropped evaluation never started in the worker');

    const running = new AbortController();
    const started = remote.explain(digit, { method: 'integrated-gradients', steps: 2048, signal: running.signal });
    setTimeout(() => running.abort(new Error('the user left')), 20);
    const t0 = performance.now();
    await assert.rejects(started, { message: 'the user left' });
    const rejectedAfter = performance.now() - t0;
    // The worker finishes the aborted call; the next request runs after it and gets its own result.
    const next = await remote.explain(other, { composite: 'epsilon-plus' });
    const local = await loadModel(cnn);
    assert.deepEqual(next, local.explain(other, { composite: 'epsilon-plus' }));
    local.dispose();
    assert.ok(rejectedAfter < 1000, `the abort rejected after ${rejectedAfter} ms`);
    await assert.rejects(remote.predict(digit, { signal: AbortSignal.abort() }), { name: 'AbortError' });
  } finally {
    remote.dispose();
  }
});

test('dispose: idempotent, later calls reject, Symbol.dispose; the worker ends with the last model', async () => {
  const remote = await loadModel(cnn, { worker: true });
  remote.dispose();
  remote.dispose();
  await assert.rejects(remote.predict(digit), { message: /this model has been disposed/ });
  assert.throws(() => remote.outputSize, /this model has been disposed/);
  const again = await loadModel(cnn, { worker: true });
  again[Symbol.dispose]();
  await assert.rejects(again.explain(digit), { message: /disposed/ });

  // A script that loads worker models and disposes them exits by itself (no referenced worker is left).
  const script = `
    import { loadModel } from 'lrp-wasm';
    const a = await loadModel(${JSON.stringify(cnn)}, { worker: true });
    const b = await loadModel(${JSON.stringify(cnn)}, { worker: true });
    console.log((await a.predict(new Float32Array(784))).length, (await b.predict(new Float32Array(784))).length);
    a.dispose();
    b.dispose();`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script],
    { cwd: fileURLToPath(new URL('..', import.meta.url)), timeout: 30_000 });
  assert.equal(stdout.trim(), '10 10');
});

test('a worker script that cannot start rejects every request with a clear message', async () => {
  const missing = new URL('./no-such-worker.js', import.meta.url);
  await assert.rejects(loadModel(cnn, { worker: true, workerUrl: missing }), { message: /the model worker stopped: .*no-such-worker\.js/ });
  // Another worker is unaffected.
  const remote = await loadModel(cnn, { worker: true });
  assert.equal((await remote.predict(digit)).length, 10);
  remote.dispose();
});

test('an aborted load frees the model it made; an aborted evaluation stops and reports no more progress', async () => {
  const keeper = await loadModel(cnn, { worker: true });
  try {
    const base = (await keeper.engineStatus()).used;
    for (let i = 0; i < 5; i++) {
      const controller = new AbortController();
      const loading = loadModel(cnn, { worker: true, signal: controller.signal });
      setTimeout(() => controller.abort(), 5);
      await loading.then((model) => model.dispose(), (error) => assert.equal(error.name, 'AbortError'));
    }
    // The last load's dispose is queued when its answer arrives, behind a request made meanwhile: ask twice.
    await keeper.engineStatus();
    assert.equal((await keeper.engineStatus()).used, base, 'no model of an aborted load is left in the worker');

    const inputs = Array.from({ length: 40 }, (_, k) => digit.map((v, i) => (i % 40 === k ? 1 - v : v)));
    const controller = new AbortController();
    const progress = [];
    const evaluation = evaluate(keeper, inputs, { patchSize: 7, batchSize: 64, signal: controller.signal,
      onProgress: (done) => { progress.push(done); controller.abort(); } });
    await assert.rejects(evaluation, { name: 'AbortError' });
    const t0 = performance.now();
    assert.equal((await keeper.predict(digit)).length, 10);
    assert.deepEqual(progress, [progress[0]], 'no progress after the abort');
    assert.ok(performance.now() - t0 < 2000, 'the evaluation stopped instead of running its 40 inputs');
  } finally {
    keeper.dispose();
  }
});

test('configure() and setEngineMemoryLimit() of the calling thread apply to the worker\'s engine', async () => {
  const script = `
    import { configure, loadModel, setEngineMemoryLimit } from 'lrp-wasm';
    const out = {};
    configure({ threads: 1, locateFile: (file) => (file === 'lrp-engine.wasm' ? '/no/such/engine.wasm' : null) });
    try { await loadModel(${JSON.stringify(cnn)}, { worker: true }); } catch (error) { out.located = error.message; }
    configure({ locateFile: null });
    setEngineMemoryLimit(64 * 2 ** 20);
    const model = await loadModel(${JSON.stringify(cnn)}, { worker: true });
    out.status = await model.engineStatus();
    try { await loadModel(${JSON.stringify(cnn)}, { worker: true, threads: 3 }); } catch (error) { out.threads = error.message; }
    model.dispose();
    console.log(JSON.stringify(out));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script],
    { cwd: fileURLToPath(new URL('..', import.meta.url)), timeout: 60_000 });
  const out = JSON.parse(stdout.trim());
  assert.match(out.located, /the engine's wasm \(file:\/\/\/no\/such\/engine\.wasm\) could not be loaded.*\(the model worker's engine\)/);
  assert.equal(out.status.threads, 1);
  assert.equal(out.status.limit, 64 * 2 ** 20);
  assert.match(out.threads, /the engine already runs 1 thread \(asked for 3\).*\(the model worker's engine\)/);
});
