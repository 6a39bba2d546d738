// The engine's wasm as an asset (issue 11, part 3): the browser build streams dist/lrp-engine.wasm
// (WebAssembly.instantiateStreaming, so it compiles while it downloads), configure({ locateFile }) serves it from
// elsewhere, a location that fails is reported and another may be tried, and the single-file build
// (lrp-wasm/inline) embeds it. Reference of the numbers: the package in Node (the single-thread build, as these
// pages are not cross-origin isolated), bit for bit. The time from navigation to the first explanation of each
// build is printed (not asserted: timings belong to benchmarks).
import { test, before, after as afterAll } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { configure, loadModel } from 'lrp-wasm';
import { ROOT, setup, TIMEOUT } from './helpers.mjs';

let env;
let expected;
before(async () => {
  env = await setup({ demoDir: path.join(ROOT, 'tests', 'e2e', 'fixtures', 'wasm-asset'), crossOriginIsolated: false });
  configure({ threads: 1 });
  const model = await loadModel(path.join(ROOT, 'web', 'models', 'mnist-cnn.onnx'));
  expected = Array.from(model.explain(Float32Array.from({ length: 784 }, (_, i) => ((i * 37) % 255) / 255), { composite: 'epsilon-plus' }).relevance);
  model.dispose();
});
afterAll(() => env?.close());

async function open(query, { route } = {}) {
  const page = await env.newPage();
  const requests = [];
  page.on('request', (request) => requests.push(new URL(request.url()).pathname));
  if (route) await page.route((url) => url.pathname === route.path, (r) => r.fulfill(route.response));
  await page.goto(`${env.server.url}?${query}`);
  await page.waitForFunction(() => window.__asset?.done, null, { timeout: TIMEOUT });
  const result = await page.evaluate(() => window.__asset);
  await page.context().close();
  assert.equal(result.error, undefined, result.error);
  return { ...result, requests };
}

test('the browser build streams lrp-engine.wasm from beside the bundle; the inline build (and its worker) fetches no wasm', async (t) => {
  const streamed = await open('build=streamed');
  assert.deepEqual(streamed.wasmCalls, ['instantiateStreaming']);
  assert.ok(streamed.requests.includes('/dist/lrp-engine.wasm'), streamed.requests.join(' '));
  assert.deepEqual(streamed.relevance, expected);

  const inline = await open('build=inline&worker=1');
  assert.deepEqual(inline.wasmCalls, ['instantiate'], 'the embedded bytes are instantiated');
  assert.ok(!inline.requests.some((p) => p.endsWith('.wasm')), inline.requests.join(' '));
  assert.deepEqual(inline.relevance, expected);
  // Its worker: lrp-worker.inline.js, which imports lrp-wasm.inline.js beside it (one copy of the wasm).
  assert.ok(inline.requests.includes('/dist/lrp-worker.inline.js'), inline.requests.join(' '));
  assert.deepEqual(inline.workerRelevance, expected);
  t.diagnostic(`navigation → first explanation: streamed ${streamed.firstExplainMs.toFixed(0)} ms, inline ${inline.firstExplainMs.toFixed(0)} ms`);
});

test('configure({ locateFile }) serves the wasm from elsewhere; a location that fails says so, and another can be tried', async () => {
  const wasm = readFileSync(path.join(ROOT, 'dist', 'lrp-engine.wasm'));
  const cdn = await open('locate=/cdn/engine-1.0.wasm', {
    route: { path: '/cdn/engine-1.0.wasm', response: { status: 200, contentType: 'application/wasm', body: wasm } },
  });
  assert.equal(cdn.firstError, undefined);
  assert.ok(cdn.requests.includes('/cdn/engine-1.0.wasm') && !cdn.requests.includes('/dist/lrp-engine.wasm'), cdn.requests.join(' '));
  assert.deepEqual(cdn.wasmCalls, ['instantiateStreaming']);
  assert.deepEqual(cdn.relevance, expected);

  // A server that sends the wasm as application/octet-stream: instantiateStreaming would refuse it; it still loads.
  const plain = await open('locate=/cdn/plain.wasm', {
    route: { path: '/cdn/plain.wasm', response: { status: 200, contentType: 'application/octet-stream', body: wasm } },
  });
  assert.deepEqual(plain.wasmCalls, ['instantiate']);
  assert.deepEqual(plain.relevance, expected);

  const missing = await open('locate=/cdn/missing.wasm');
  assert.match(missing.firstError, /the engine's wasm \(http:\/\/[^)]+\/cdn\/missing\.wasm\) could not be loaded: HTTP 404; configure\(\{ locateFile \}\) says where lrp-engine\.wasm is served/);
  assert.deepEqual(missing.relevance, expected, 'the default location works after the failure');
});
