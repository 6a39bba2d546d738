// The package under the Content-Security-Policy strict sites use (issue 11): scripts only from the page's origin,
// WebAssembly compilation allowed, no eval or new Function. A page served with exactly that header loads the
// package, explains an input and sees no `securitypolicyviolation`; its relevance equals the package's in Node
// (the single-thread build in both: the page is not cross-origin isolated), bit for bit.
import { test, before, after as afterAll } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { loadModel, configure } from 'lrp-wasm';
import { ROOT, setup, TIMEOUT } from './helpers.mjs';

const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'";
let env;
before(async () => {
  env = await setup({ demoDir: path.join(ROOT, 'tests', 'e2e', 'fixtures', 'csp'), contentSecurityPolicy: CSP, crossOriginIsolated: false });
});
afterAll(() => env?.close());

test(`the package explains under "${CSP}" with no CSP violation`, async () => {
  const page = await env.newPage();
  const response = await page.goto(env.server.url);
  assert.equal(response.headers()['content-security-policy'], CSP);
  await page.waitForFunction(() => window.__csp?.done, null, { timeout: TIMEOUT });
  const { violations, result, error } = await page.evaluate(() => window.__csp);
  assert.equal(error, undefined, error);
  assert.deepEqual(violations, [], 'securitypolicyviolation events');
  assert.equal(result.threads, 1, 'not cross-origin isolated: the single-thread build');

  configure({ threads: 1 });
  const model = await loadModel(path.join(ROOT, 'web', 'models', 'mnist-cnn.onnx'));
  const x = Float32Array.from({ length: 784 }, (_, i) => ((i * 37) % 255) / 255);
  const expected = model.explain(x, { composite: 'epsilon-plus' });
  model.dispose();
  assert.deepEqual(result.output, Array.from(expected.output));
  assert.deepEqual(result.relevance, Array.from(expected.relevance));
  assert.deepEqual(result.workerRelevance, Array.from(expected.relevance), 'the worker under the same policy');
});

test('a thread worker the policy refuses (a blob: URL, cross-origin isolated) rejects the load at once, saying so', async () => {
  const isolated = await setup({ demoDir: path.join(ROOT, 'tests', 'e2e', 'fixtures', 'csp'), contentSecurityPolicy: CSP, crossOriginIsolated: true });
  try {
    const page = await isolated.newPage();
    await page.goto(new URL('/threads.html', isolated.server.url).href);
    await page.waitForFunction(() => window.__cspThreads?.done, null, { timeout: TIMEOUT });
    const out = await page.evaluate(() => window.__cspThreads);
    assert.equal(out.fatal, undefined, out.fatal);
    assert.match(out.error, /did not start: the page's Content-Security-Policy refused a thread's worker .*worker-src 'self' blob:/);
    assert.ok(out.ms < 20_000, `rejected after ${out.ms} ms (the time limit is 60 s)`);
    assert.equal(out.outputs, 10);
    assert.equal(out.threads, 1);
  } finally {
    await isolated.close();
  }
});
