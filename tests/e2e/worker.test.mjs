// loadModel(…, { worker: true }) in Chromium (issue 11, part 4): a page loads a model with ResNet-18's layout and
// weight sizes (44.7 MB, tests/helpers/resnet18.mjs) into the package's module worker and explains a 224×224
// input. On the main thread no WebAssembly is compiled or instantiated and the engine never starts; no task
// there takes longer than 100 ms (the Long Tasks API, observed from before the package loads). The reference of
// the numbers: the same model explained in Node on the main thread by the same single-thread engine (the page is
// not cross-origin isolated, so its worker runs the single-thread build too): bit-identical.
import { test, before, after as afterAll } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { configure, loadModel } from 'lrp-wasm';
import { resnet18Sized } from '../helpers/resnet18.mjs';
import { ROOT, setup } from './helpers.mjs';

const models = mkdtempSync(path.join(tmpdir(), 'lrp-worker-models-'));
const bytes = resnet18Sized();
writeFileSync(path.join(models, 'resnet18-sized.onnx'), bytes);

let env;
before(async () => {
  env = await setup({ demoDir: path.join(ROOT, 'tests', 'e2e', 'fixtures', 'worker'), modelsDir: models, crossOriginIsolated: false });
});
afterAll(async () => {
  await env?.close();
  rmSync(models, { recursive: true, force: true });
});

test('a ResNet-18-sized model loads and explains in the worker; the main thread runs no engine work and no task over 100 ms', async (t) => {
  const page = await env.newPage();
  await page.goto(env.server.url);
  await page.waitForFunction(() => window.__worker?.done, null, { timeout: 120_000 });
  const result = await page.evaluate(() => window.__worker);
  const guard = await page.evaluate(() => window.__guard);
  assert.equal(result.error, undefined, result.error);
  t.diagnostic(`load ${result.loadMs.toFixed(0)} ms, explain ${result.explainMs.toFixed(0)} ms in the worker; ` +
    `${result.framesDuringExplain} animation frames meanwhile; main-thread long tasks: ${JSON.stringify(guard.longTasks)}`);

  assert.deepEqual(guard.wasmCalls, [], 'WebAssembly compiled or instantiated on the main thread');
  assert.equal(result.mainEngineThreads, 0, 'the main thread\'s engine never started');
  assert.equal(result.status.threads, 1, 'the worker runs the single-thread build (not cross-origin isolated)');
  assert.ok(result.status.memoryBytes > bytes.length, `the worker's engine holds the weights (${result.status.memoryBytes} bytes)`);
  const over = guard.longTasks.filter((task) => task.duration > 100);
  assert.deepEqual(over, [], 'main-thread tasks longer than 100 ms');

  configure({ threads: 1 });
  const model = await loadModel(bytes);
  const x = Float32Array.from({ length: 3 * 224 * 224 }, (_, i) => Math.sin(i * 0.01));
  const expected = model.explain(x, { composite: 'epsilon-plus' });
  model.dispose();
  assert.equal(result.target, expected.target);
  assert.deepEqual(result.output, Array.from(expected.output));
  assert.deepEqual(result.relevance, Array.from(expected.relevance));
});
