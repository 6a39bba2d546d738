// The demo runs the multi-threaded engine: scripts/serve.mjs sends the cross-origin isolation headers, so the
// page has SharedArrayBuffer and the demo's worker loads the pthreads build; its numbers equal the
// single-thread build's (configure({ threads: 1 }) in a worker of the same page), bit for bit.
import { test, before, after as afterAll } from 'node:test';
import assert from 'node:assert/strict';
import { openDemo, after, waitReady, noProblems } from './helpers.mjs';
import { startServer } from '../../scripts/serve.mjs';

let env, page;
before(async () => {
  ({ env, page } = await openDemo());
});
afterAll(() => env?.close());

// Runs `body` (the source of an async function of `lib`, the package, and `at`, which makes a path of the
// demo's server an absolute URL) in a module worker of the page (a blob: module, so its own URLs are not the
// server's), with the engine's threads configured first; resolves with what it returns.
function inWorker(p, threads, body) {
  return p.evaluate(([threads, body]) => new Promise((resolve, reject) => {
    const source = `
      const at = (path) => new URL(path, ${JSON.stringify(location.origin)}).href;
      const lib = await import(at('/dist/lrp-wasm.js'));
      try {
        ${threads == null ? '' : `lib.configure({ threads: ${threads} });`}
        const result = await (${body})(lib, at);
        postMessage({ result, threads: lib.engineThreads(), isolated: self.crossOriginIsolated });
      } catch (error) { postMessage({ error: String(error && error.stack || error) }); }`;
    const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
    const worker = new Worker(url, { type: 'module' });
    worker.onmessage = (e) => { worker.terminate(); e.data.error ? reject(new Error(e.data.error)) : resolve(e.data); };
    worker.onerror = (e) => { worker.terminate(); reject(new Error(e.message)); };
  }), [threads, body]);
}

// The first `count` MNIST test digits of the demo (x = pixel / 255), batch-explained by the CNN and the MLP:
// big enough for the engine to split its loops over threads. Returns every float as an array of numbers.
const EXPLAIN_DIGITS = `async (lib, at) => {
  const buf = new Uint8Array(await (await fetch(at('/models/mnist-samples.bin'))).arrayBuffer());
  const n = buf[0] | (buf[1] << 8);
  const digit = (k) => Float32Array.from(buf.subarray(2 + n + k * 784, 2 + n + (k + 1) * 784), (v) => v / 255);
  const digits = Array.from({ length: 12 }, (_, k) => digit(k));
  const out = {};
  for (const name of ['cnn', 'mlp']) {
    const model = await lib.loadModel(at('/models/mnist-' + name + '.onnx'));
    out[name + ' logits 0'] = Array.from(model.predict(digits[0]));
    model.explainBatch(digits, { composite: 'epsilon-plus' }).forEach((r, k) => (out[name + ' relevance ' + k] = Array.from(r.relevance)));
    out[name + ' gradient'] = Array.from(model.explain(digits[3], { method: 'gradient' }).relevance);
    model.dispose();
  }
  return out;
}`;

test('the served demo is cross-origin isolated and its engine runs threaded', async () => {
  assert.equal(await page.evaluate(() => self.crossOriginIsolated), true, 'crossOriginIsolated');
  const response = await page.request.get(env.server.url);
  assert.equal(response.headers()['cross-origin-opener-policy'], 'same-origin');
  assert.equal(response.headers()['cross-origin-embedder-policy'], 'require-corp');
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  const threads = await page.evaluate(() => window.__lrpDemo.engineThreads);
  assert.equal(threads, Math.min(4, cores), `the demo's engine runs min(4, ${cores}) threads`);
  assert.ok(threads > 1, `the demo's engine runs ${threads} threads (this machine has ${cores} cores)`);
  assert.match(await page.textContent('#model-summary'), new RegExp(`${threads} engine threads`));
});

test('the demo (threaded) predicts what the single-thread build predicts, bit for bit', async () => {
  await page.waitForFunction(() => window.__lrpDemo.samples?.count > 0);
  await page.selectOption('#model', 'cnn');
  await page.waitForFunction(() => window.__lrpDemo.modelName === 'cnn');
  await waitReady(page);
  const r = await after(page, 'sample', () => page.selectOption('#sample', '0'));
  assert.equal(r.model, 'cnn');
  const single = await inWorker(page, 1, `async (lib, at) => {
    const buf = new Uint8Array(await (await fetch(at('/models/mnist-samples.bin'))).arrayBuffer());
    const n = buf[0] | (buf[1] << 8);
    const x = Float32Array.from(buf.subarray(2 + n, 2 + n + 784), (v) => v / 255);
    const model = await lib.loadModel(at('/models/mnist-cnn.onnx'));
    return Array.from(model.predict(x));
  }`);
  assert.equal(single.threads, 1);
  assert.deepEqual(r.logits, single.result, 'the demo\'s logits for test digit #0');
});

test('threaded and single-thread engines give bit-identical relevances in the page', async () => {
  const [single, threaded] = await Promise.all([inWorker(page, 1, EXPLAIN_DIGITS), inWorker(page, 2, EXPLAIN_DIGITS)]);
  assert.equal(single.threads, 1, 'configure({ threads: 1 }) runs the single-thread build');
  assert.equal(threaded.threads, 2, 'configure({ threads: 2 }) runs the pthreads build');
  assert.equal(threaded.isolated, true);
  const names = Object.keys(single.result);
  assert.equal(names.length, 2 * 14);
  for (const name of names) {
    assert.ok(single.result[name].some((v) => v !== 0), `${name} is not all zero`);
    assert.deepEqual(threaded.result[name], single.result[name], name);
  }
  assert.deepEqual(env.problems, noProblems, JSON.stringify(env.problems, null, 2));
});

test('without cross-origin isolation the demo silently runs the single-thread build', async () => {
  const plain = await startServer({ port: 0, crossOriginIsolated: false, distDir: process.env.LRP_DIST_DIR || undefined });
  try {
    // Its own record of problems: requests to this second server count as foreign for env's watcher.
    const sink = { console: [], page: [], requests: [], foreign: [] };
    const p = await env.newPage(undefined, sink);
    await p.goto(plain.url);
    await waitReady(p);
    assert.equal(await p.evaluate(() => self.crossOriginIsolated), false);
    assert.equal(await p.evaluate(() => window.__lrpDemo.engineThreads), 1, 'no SharedArrayBuffer: one thread');
    assert.match(await p.textContent('#model-summary'), /1 engine thread\b/);
    assert.deepEqual([sink.console, sink.page, sink.requests], [[], [], []], JSON.stringify(sink));
    await p.context().close();
  } finally {
    await plain.close();
  }
});
