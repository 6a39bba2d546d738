// Model lifetimes (issue 11): [Symbol.dispose] for `using`, and models dropped without dispose() freed when the
// garbage collector collects them (FinalizationRegistry), with one warning per process naming dispose().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel } from 'lrp-wasm';

const run = promisify(execFile);
const mlpPath = fileURLToPath(new URL('../web/models/mnist-mlp.onnx', import.meta.url));
const lrpUrl = new URL('../dist/lrp-wasm.node.js', import.meta.url).href;

test('[Symbol.dispose] disposes the model (what `using` calls), idempotently', async () => {
  const model = await loadModel(mlpPath);
  assert.equal(typeof model[Symbol.dispose], 'function');
  assert.equal(model.predict(new Float32Array(784)).length, 10);
  model[Symbol.dispose]();
  assert.throws(() => model.predict(new Float32Array(784)), /disposed/);
  model[Symbol.dispose]();
  model.dispose();
});

test('1,000 models dropped without dispose() are freed by the garbage collector, with one warning', async () => {
  // A process of its own with --expose-gc: the engine's memory is per process, and gc() makes collection
  // happen within the test (the registry's callbacks run in later tasks, hence the timeouts).
  const dir = mkdtempSync(join(tmpdir(), 'lrp-lifetimes-'));
  try {
    writeFileSync(join(dir, 'main.mjs'), `
      import { readFileSync } from 'node:fs';
      import { loadModel, engineMemoryStatus, configure } from ${JSON.stringify(lrpUrl)};
      configure({ threads: 1 });
      const warnings = [];
      console.warn = (...args) => warnings.push(args.join(' '));
      const bytes = readFileSync(${JSON.stringify(mlpPath)});
      const settle = async () => { for (let i = 0; i < 3; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 10)); } };
      const one = await loadModel(bytes);
      const perModel = one.memoryBytes;
      one.dispose();
      let peak = 0;
      for (let i = 0; i < 1000; i++) {
        (await loadModel(bytes)).predict(new Float32Array(784));
        if (i % 50 === 49) { await settle(); peak = Math.max(peak, engineMemoryStatus().used); }
      }
      await settle();
      console.log(JSON.stringify({ perModel, peak, end: engineMemoryStatus().used, warnings }));`);
    const { stdout } = await run(process.execPath, ['--expose-gc', join(dir, 'main.mjs')], { timeout: 300_000 });
    const { perModel, peak, end, warnings } = JSON.parse(stdout.trim().split('\n').at(-1));
    console.log(`lifetimes: one model ${(perModel / 2 ** 20).toFixed(2)} MB, peak ${(peak / 2 ** 20).toFixed(1)} MB, end ${(end / 2 ** 20).toFixed(1)} MB`);
    assert.ok(perModel > 2e6, `one model holds ${perModel} bytes`);
    // Without the registry 1,000 models would hold 1,000 × 2.2 MB; bounded means a few batches' worth at most.
    assert.ok(peak < 120 * perModel, `the engine held ${(peak / 2 ** 20).toFixed(1)} MB at its peak`);
    assert.ok(end < 60 * perModel, `the engine holds ${(end / 2 ** 20).toFixed(1)} MB after the last collection`);
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0], /garbage-collected without dispose\(\).*call model\.dispose\(\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('worker models dropped without dispose() are freed in their worker when collected', async () => {
  // 100 worker models dropped, one kept: after collection the worker's engine holds about the kept model only.
  const dir = mkdtempSync(join(tmpdir(), 'lrp-lifetimes-'));
  try {
    writeFileSync(join(dir, 'main.mjs'), `
      import { readFileSync } from 'node:fs';
      import { loadModel } from ${JSON.stringify(lrpUrl)};
      const bytes = readFileSync(${JSON.stringify(mlpPath)});
      const keeper = await loadModel(bytes, { worker: true, threads: 1 });
      const perModel = keeper.memoryBytes;
      for (let i = 0; i < 100; i++) await (await loadModel(bytes, { worker: true })).predict(new Float32Array(784));
      const before = (await keeper.engineStatus()).used;
      for (let i = 0; i < 5; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 20)); }
      const after = (await keeper.engineStatus()).used;
      keeper.dispose();
      console.log(JSON.stringify({ perModel, before, after }));`);
    const { stdout } = await run(process.execPath, ['--expose-gc', join(dir, 'main.mjs')], { timeout: 120_000 });
    const { perModel, before, after } = JSON.parse(stdout.trim().split('\n').at(-1));
    console.log(`worker lifetimes: ${(before / 2 ** 20).toFixed(1)} MB with 101 models, ${(after / 2 ** 20).toFixed(1)} MB after collection`);
    assert.ok(before > 50 * perModel, `before collection the worker's engine held ${before} bytes`);
    assert.ok(after < 10 * perModel, `after collection the worker's engine holds ${after} bytes (one model: ${perModel})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
