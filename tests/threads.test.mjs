// The multi-threaded engine (issue 10): threads 1 (the single-thread build), 2 and 3 (the pthreads build),
// each in its own process since one engine serves a process and its threads are fixed when it starts, give
// bit-identical predictions and relevances; configure() and loadModel's threads option validate and refuse
// to change a started engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configure, engineThreads, loadModel } from 'lrp-wasm';

const run = promisify(execFile);
const child = fileURLToPath(new URL('./helpers/threads-child.mjs', import.meta.url));
const cnn = fileURLToPath(new URL('../web/models/mnist-cnn.onnx', import.meta.url));

async function resultsWith(threads) {
  const { stdout } = await run(process.execPath, [child, String(threads)], { timeout: 120_000, maxBuffer: 64 << 20 });
  return JSON.parse(stdout.trim().split('\n').at(-1));
}

test('threads 1, 2 and 3 give bit-identical outputs and relevances', async () => {
  const [one, two, three] = await Promise.all([resultsWith(1), resultsWith(2), resultsWith(3)]);
  assert.equal(one.threads, 1, 'threads: 1 runs the single-thread build');
  assert.equal(two.threads, 2);
  assert.equal(three.threads, 3);
  assert.ok(Object.keys(one.results).length >= 12);
  for (const [name, value] of Object.entries(one.results)) {
    assert.ok(value.length > 0, name);
    assert.ok(Buffer.from(value, 'base64').some((b) => b !== 0), `${name} is not all zero`);
    assert.equal(two.results[name], value, `${name}: 2 threads differ from 1`);
    assert.equal(three.results[name], value, `${name}: 3 threads differ from 1`);
  }
  assert.match(one.errors[0], /composite 'deep-taylor' needs 'low' and 'high'/);
  assert.match(one.errors[1], /layer 0 .*rule 'z-box': low must not exceed high/);
  assert.deepEqual(two.errors, one.errors, 'engine errors keep their message in the pthreads build');
  assert.deepEqual(three.errors, one.errors);
});

test('configure and loadModel validate threads; a started engine keeps its count', async () => {
  assert.equal(engineThreads(), 0, 'no engine before the first loadModel');
  for (const bad of [0, -1, 1.5, NaN, '2', 65, null])
    assert.throws(() => configure({ threads: bad }), /threads must be an integer from 1 to 64/, String(bad));
  assert.throws(() => configure({ threads: 2n }), /from 1 to 64 \(got 2n \(a BigInt\)\)/);
  assert.throws(() => configure({ thread: 2 }), /unknown option 'thread'/);
  assert.throws(() => configure(3), /expected an options object/);
  await assert.rejects(loadModel(cnn, { threads: 0 }), /threads must be an integer from 1 to 64/);
  await assert.rejects(loadModel(cnn, { threeds: 2 }), /unknown option 'threeds'/);
  assert.equal(engineThreads(), 0, 'a refused option starts nothing');

  configure({ threads: 2 });
  configure({ threads: 3 });  // before the start, the last call wins
  const model = await loadModel(cnn);
  assert.equal(engineThreads(), 3);
  configure({ threads: 3 });  // the same count is fine
  assert.throws(() => configure({ threads: 2 }), /configure: the engine already runs 3 threads \(asked for 2\).*fixed when the engine starts/);
  await assert.rejects(loadModel(cnn, { threads: 1 }), /loadModel: the engine already runs 3 threads \(asked for 1\)/);
  const again = await loadModel(cnn, { threads: 3 });
  assert.deepEqual(again.predict(new Float32Array(784)), model.predict(new Float32Array(784)));
  model.dispose();
  again.dispose();
});

// One process per case: the engine and its thread count are per process.
async function runScript(source) {
  const dir = mkdtempSync(join(tmpdir(), 'lrp-threads-'));
  try {
    writeFileSync(join(dir, 'main.mjs'), source);
    const { stdout } = await run(process.execPath, [join(dir, 'main.mjs')], { timeout: 60_000 });
    return JSON.parse(stdout.trim().split('\n').at(-1));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const lrpUrl = new URL('../dist/lrp-wasm.node.js', import.meta.url).href;

test('while the engine starts with the default count, configure says so (not "threads: null")', async () => {
  const out = await runScript(`
    import { loadModel, configure, engineThreads } from ${JSON.stringify(lrpUrl)};
    const out = {};
    const loading = loadModel(${JSON.stringify(cnn)});
    try { configure({ threads: 7 }); } catch (error) { out.error = error.message; }
    (await loading).dispose();
    configure({ threads: engineThreads() });  // the count that runs is accepted
    out.ok = true;
    console.log(JSON.stringify(out));`);
  assert.match(out.error, /^configure: the engine is already starting with the default thread count, min\(4, cores\) \(asked for 7\)/);
  assert.equal(out.ok, true);
});

test('without SharedArrayBuffer the single-thread build runs, and threads: 1 is then accepted', async () => {
  // A page that is not cross-origin isolated has no usable SharedArrayBuffer; Node without it behaves the same.
  const out = await runScript(`
    delete globalThis.SharedArrayBuffer;
    const { loadModel, configure, engineThreads } = await import(${JSON.stringify(lrpUrl)});
    const out = {};
    configure({ threads: 2 });
    const model = await loadModel(${JSON.stringify(cnn)});
    out.threads = engineThreads();
    configure({ threads: 2 });  // as asked
    configure({ threads: 1 });  // as runs
    const again = await loadModel(${JSON.stringify(cnn)}, { threads: 1 });
    out.same = model.predict(new Float32Array(784)).join() === again.predict(new Float32Array(784)).join();
    try { configure({ threads: 3 }); } catch (error) { out.error = error.message; }
    console.log(JSON.stringify(out));`);
  assert.equal(out.threads, 1);
  assert.equal(out.same, true);
  assert.match(out.error, /the engine already runs 1 thread \(asked for 3\)/);
});

test('a threaded engine that cannot start fails clearly, and threads: 1 still runs afterwards', async () => {
  // The bundle without the pthreads build beside it (a bundler that did not copy dist/lrp-engine-mt.js).
  const dir = mkdtempSync(join(tmpdir(), 'lrp-threads-'));
  try {
    // The Node build: its entry, the chunk it shares with its worker script, and the single-thread wasm.
    const dist = fileURLToPath(new URL('../dist/', import.meta.url));
    for (const file of readdirSync(dist).filter((name) => /^lrp-wasm\.node\.js$|^lrp-chunk-|^lrp-engine\.wasm$/.test(name)))
      copyFileSync(join(dist, file), join(dir, file === 'lrp-wasm.node.js' ? 'lrp-wasm.js' : file));
    writeFileSync(join(dir, 'main.mjs'), `
      import { loadModel, configure, engineThreads } from './lrp-wasm.js';
      const out = {};
      try { await loadModel(${JSON.stringify(cnn)}, { threads: 2 }); } catch (error) { out.error = error.message; }
      out.threadsAfterFailure = engineThreads();
      configure({ threads: 1 });
      const model = await loadModel(${JSON.stringify(cnn)});
      out.threads = engineThreads();
      out.outputs = model.predict(new Float32Array(784)).length;
      console.log(JSON.stringify(out));`);
    const { stdout } = await run(process.execPath, [join(dir, 'main.mjs')], { timeout: 60_000 });
    const out = JSON.parse(stdout.trim());
    assert.match(out.error, /multi-threaded engine \(lrp-engine-mt\.js .*\) did not start: .*lrp-engine-mt\.js.*configure\(\{ threads: 1 \}\)/);
    assert.equal(out.threadsAfterFailure, 0);
    assert.equal(out.threads, 1);
    assert.equal(out.outputs, 10);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a thread worker that fails to start rejects the load (it used to wait forever), and threads: 1 still runs', async () => {
  // The Node build with the pthreads engine beside it, but its workers' script broken (as a worker refused by a
  // Content-Security-Policy or a script a bundler did not copy would be).
  const dir = mkdtempSync(join(tmpdir(), 'lrp-threads-'));
  try {
    const dist = fileURLToPath(new URL('../dist/', import.meta.url));
    for (const file of readdirSync(dist).filter((name) => /^lrp-wasm\.node\.js$|^lrp-chunk-|^lrp-engine/.test(name)))
      copyFileSync(join(dist, file), join(dir, file === 'lrp-wasm.node.js' ? 'lrp-wasm.js' : file));
    writeFileSync(join(dir, 'lrp-engine-mt.worker.cjs'), "throw new Error('this worker script is broken');\n");
    writeFileSync(join(dir, 'main.mjs'), `
      import { loadModel, configure, engineThreads } from './lrp-wasm.js';
      const out = {};
      const t0 = performance.now();
      try { await loadModel(${JSON.stringify(cnn)}, { threads: 2 }); } catch (error) { out.error = error.message; }
      out.ms = performance.now() - t0;
      configure({ threads: 1 });
      out.outputs = (await loadModel(${JSON.stringify(cnn)})).predict(new Float32Array(784)).length;
      out.threads = engineThreads();
      console.log(JSON.stringify(out));
      process.exit(0);  // the broken pool's workers are not ours to end`);
    const { stdout } = await run(process.execPath, [join(dir, 'main.mjs')], { timeout: 60_000 });
    const out = JSON.parse(stdout.trim().split('\n').at(-1));
    assert.match(out.error, /multi-threaded engine .* did not start: a thread's worker .* failed to start: .*this worker script is broken.*configure\(\{ threads: 1 \}\)/);
    assert.ok(out.ms < 30_000, `rejected after ${out.ms} ms`);
    assert.equal(out.outputs, 10);
    assert.equal(out.threads, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
