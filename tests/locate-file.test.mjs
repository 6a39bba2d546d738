// configure({ locateFile }) in Node (issue 11, part 3): the engine's wasm read from another place (a file path or
// a file: URL), a place that does not exist is named in the Error and another may be tried, and the option is
// checked. Each case runs in a fresh process (the engine starts once per process). Reference: the predictions of
// this process's engine, bit for bit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { configure, loadModel } from 'lrp-wasm';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const cnn = join(root, 'web', 'models', 'mnist-cnn.onnx');

async function child(body) {
  const script = `import { configure, loadModel, engineThreads } from 'lrp-wasm';
    const out = {};
    ${body}
    console.log(JSON.stringify(out));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: root, timeout: 60_000 });
  return JSON.parse(stdout.trim());
}

test('locateFile: the wasm from another folder (path or file: URL); a missing one is named, and another can be tried', async () => {
  configure({ threads: 1 });
  const model = await loadModel(cnn);
  const expected = Array.from(model.predict(new Float32Array(784).fill(0.5)));
  model.dispose();
  const dir = mkdtempSync(join(tmpdir(), 'lrp-locate-'));
  try {
    copyFileSync(join(root, 'dist', 'lrp-engine.wasm'), join(dir, 'engine.wasm'));
    for (const location of [join(dir, 'engine.wasm'), pathToFileURL(join(dir, 'engine.wasm')).href]) {
      const out = await child(`
        const asked = [];
        configure({ threads: 1, locateFile: (file) => { asked.push(file); return ${JSON.stringify(location)}; } });
        const model = await loadModel(${JSON.stringify(cnn)});
        out.asked = asked;
        out.logits = Array.from(model.predict(new Float32Array(784).fill(0.5)));`);
      assert.deepEqual(out.asked, ['lrp-engine.wasm']);
      assert.deepEqual(out.logits, expected);
    }
    const out = await child(`
      configure({ threads: 1, locateFile: () => ${JSON.stringify(join(dir, 'nothing.wasm'))} });
      try { await loadModel(${JSON.stringify(cnn)}); } catch (error) { out.error = error.message; }
      out.threads = engineThreads();
      configure({ locateFile: null });
      out.logits = Array.from((await loadModel(${JSON.stringify(cnn)})).predict(new Float32Array(784).fill(0.5)));
      try { configure({ locateFile: () => 'x' }); } catch (error) { out.late = error.message; }`);
    assert.match(out.error, /the engine's wasm \(file:\/\/.*nothing\.wasm\) could not be loaded: .*configure\(\{ locateFile \}\) says where lrp-engine\.wasm is served/);
    assert.equal(out.threads, 0, 'the engine did not start');
    assert.deepEqual(out.logits, expected);
    assert.match(out.late, /locateFile is used when the engine starts, and it has already started/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('locateFile must be a function returning a URL or a string', async () => {
  assert.throws(() => configure({ locateFile: 'dist/' }), { name: 'TypeError', message: /locateFile must be a function from a file name to its URL \(got 'dist\/'\)/ });
  const out = await child(`
    configure({ threads: 1, locateFile: () => 42 });
    try { await loadModel(${JSON.stringify(cnn)}); } catch (error) { out.error = error.message; }`);
  assert.match(out.error, /locateFile\('lrp-engine\.wasm'\) must return a URL or a string \(got 42\)/);
});
