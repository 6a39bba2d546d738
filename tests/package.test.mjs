// The npm package as users get it (issue 11): `npm pack` (dist/ is built; --ignore-scripts skips prepack's build),
// the tarball installed into an empty folder (offline: its one dependency, pngjs, comes from the npm cache that
// scripts/setup.sh's `npm ci` filled), then there: the README's first example, the command line on PNG digits,
// what the README's Install section says (CommonJS, the worker, lrp-wasm/inline), and a strict type-check of a
// consumer with TypeScript 5 and the project's own, moduleResolution bundler and node16. Also: what the tarball
// holds and how big it is, the notices of everything bundled, and what bundlers need of dist/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveObjectURL } from 'node:buffer';
import { PNG } from 'pngjs';
import { checkExampleOutput, readmeExample } from './helpers/readme-example.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const read = (file) => readFileSync(join(root, file), 'utf8');
const work = mkdtempSync(join(tmpdir(), 'lrp-wasm-package-'));
const app = join(work, 'app');  // the user's empty folder
const installed = join(app, 'node_modules', 'lrp-wasm');
// The installed command line and `node` on the PATH, as a shell would run them.
const env = { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH}` };
let packed;  // npm pack's report: { filename, size, unpackedSize, files: [{ path, size }] }

before(() => {
  packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work],
    { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }))[0];
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name: 'consumer', private: true, type: 'module' })}\n`);
  const install = spawnSync('npm', ['install', '--offline', '--no-audit', '--no-fund', join(work, packed.filename)],
    { cwd: app, encoding: 'utf8', env });
  assert.equal(install.status, 0, `npm install of the tarball failed (offline: run scripts/setup.sh, whose npm ci fills the npm cache):\n${install.stdout}${install.stderr}`);
});
after(() => rmSync(work, { recursive: true, force: true }));

function runIn(cwd, file, args = []) {
  const { status, stdout, stderr } = spawnSync(process.execPath, [file, ...args], { cwd, encoding: 'utf8', env });
  assert.equal(status, 0, `${file} failed:\n${stdout}${stderr}`);
  return stdout;
}

test('the tarball ships the engine, its types, the model, the CLI, LICENSE, the notices and the changelog, no source map, and stays small', (t) => {
  const files = packed.files.map((f) => f.path);
  for (const file of ['dist/lrp-wasm.js', 'dist/lrp-wasm.node.js', 'dist/lrp-wasm.inline.js', 'dist/lrp-engine.wasm',
    'dist/lrp-worker.js', 'dist/lrp-worker.node.js', 'dist/lrp-engine-mt.js', 'dist/lrp-engine-mt.worker.js',
    'dist/lrp-engine-mt.worker.cjs', 'web/src/index.d.ts', 'web/src/inline.d.ts', 'web/models/mnist-cnn.onnx',
    'bin/lrp-wasm.mjs', 'README.md', 'CHANGELOG.md', 'LICENSE', 'THIRD_PARTY_NOTICES.md', 'package.json'])
    assert.ok(files.includes(file), `${file} is not in the package`);
  for (const file of files)
    assert.match(file, /^(dist\/[^/]+\.(js|cjs|wasm)$|bin\/|web\/src\/(index|inline)\.d\.ts$|web\/models\/mnist-cnn\.onnx$|(README|CHANGELOG)\.md$|LICENSE$|THIRD_PARTY_NOTICES\.md$|package\.json$)/, file);
  assert.ok(!files.some((file) => file.endsWith('.map')), 'no source map in the package');
  // What was installed is what was packed.
  for (const file of files) assert.equal(statSync(join(installed, file)).size, packed.files.find((f) => f.path === file).size, file);

  const tarball = statSync(join(work, packed.filename)).size;
  assert.equal(tarball, packed.size);
  const unpacked = packed.files.reduce((sum, f) => sum + f.size, 0);
  assert.equal(unpacked, packed.unpackedSize);
  t.diagnostic(`${packed.filename}: ${files.length} files, ${(tarball / 1e6).toFixed(2)} MB packed, ${(unpacked / 1e6).toFixed(2)} MB unpacked`);
  // 1.5 MB and 4.5 MB when written (the engine twice — single-thread wasm, pthreads module —, the single-file
  // build with the wasm embedded, the browser and Node builds and the 247 KB model).
  assert.ok(tarball < 2e6, `the tarball grew to ${tarball} bytes`);
  assert.ok(unpacked < 5.5e6, `the package unpacks to ${unpacked} bytes`);

  const pkg = JSON.parse(read('package.json'));
  assert.equal(pkg.scripts.prepack, 'bash scripts/build.sh');  // a pack from a clean clone builds dist/ first
  assert.equal(pkg.exports['./models/mnist-cnn.onnx'], './web/models/mnist-cnn.onnx');
  assert.match(read('LICENSE'), /^MIT License/);
});

test('engines names the Node versions the tests run on (and require() of ES modules works on all of them)', () => {
  const { engines } = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
  assert.equal(engines.node, '^20.19.0 || >=22.12.0');
  // A small reader of exactly this range syntax: ^X.Y.Z and >=X.Y.Z joined by ||.
  const version = process.versions.node.split('.').map(Number);
  const atLeast = (v, w) => v[0] !== w[0] ? v[0] > w[0] : v[1] !== w[1] ? v[1] > w[1] : v[2] >= w[2];
  const satisfies = engines.node.split('||').some((part) => {
    const [, op, v] = part.trim().match(/^(\^|>=)(\d+\.\d+\.\d+)$/);
    const min = v.split('.').map(Number);
    return atLeast(version, min) && (op === '>=' || version[0] === min[0]);
  });
  assert.ok(satisfies, `Node ${process.versions.node} is not in ${engines.node}`);
});

// The folder is outside this repository: 'lrp-wasm' and its model resolve to the installed package only.
test('the README\'s first example runs in the folder where the package was installed', (t) => {
  writeFileSync(join(app, 'example.mjs'), readmeExample(join(root, 'README.md')));
  const output = runIn(app, 'example.mjs');
  t.diagnostic(output.trim().replaceAll('\n', ' | '));
  checkExampleOutput(output);
});

test('the installed command line explains PNG digits with the shipped model', () => {
  // Test digits from web/models/mnist-samples.bin (scripts/make_samples.mjs: count, labels, 28×28 grey images).
  const samples = readFileSync(join(root, 'web', 'models', 'mnist-samples.bin'));
  const count = samples.readUInt16LE(0);
  const picks = [0, 130, 290];  // a 0, a 4 and a 9
  for (const k of picks) {
    const png = new PNG({ width: 28, height: 28 });
    for (let p = 0; p < 784; p++) {
      const v = samples[2 + count + k * 784 + p];
      png.data.set([v, v, v, 255], 4 * p);
    }
    writeFileSync(join(app, `digit${k}.png`), PNG.sync.write(png, { colorType: 0 }));
  }
  const cli = join(app, 'node_modules', '.bin', 'lrp-wasm');
  const model = join(installed, 'web', 'models', 'mnist-cnn.onnx');
  const { status, stdout, stderr } = spawnSync(cli, ['explain', model, ...picks.map((k) => `digit${k}.png`), '--out', 'heatmaps'],
    { cwd: app, encoding: 'utf8', env });
  assert.equal(status, 0, `${stdout}${stderr}`);
  assert.match(stdout, /^wrote 3 heatmap\(s\) and JSON file\(s\) to .*heatmaps$/m);
  for (const k of picks) {
    const label = samples[2 + k];
    const record = JSON.parse(readFileSync(join(app, 'heatmaps', `digit${k}.json`), 'utf8'));
    assert.equal(record.predicted, label, `digit${k}.png`);
    assert.equal(record.target, label);
    assert.equal(record.composite, 'epsilon-plus-flat');
    assert.deepEqual(record.shape, [1, 28, 28]);
    assert.equal(record.relevance.length, 784);
    assert.equal(record.logits.indexOf(Math.max(...record.logits)), label);
    const heatmap = PNG.sync.read(readFileSync(join(app, 'heatmaps', `digit${k}.heatmap.png`)));
    assert.deepEqual([heatmap.width, heatmap.height], [280, 280]);
  }
  const help = spawnSync(cli, ['--help'], { cwd: app, encoding: 'utf8', env });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /^Usage:/m);
});

test('what the Install section says: CommonJS imports it (and requires it), worker: true with an AbortSignal, lrp-wasm/inline', () => {
  writeFileSync(join(app, 'commonjs.cjs'), `
    (async () => {
      const { loadModel } = await import('lrp-wasm');
      const model = await loadModel(require.resolve('lrp-wasm/models/mnist-cnn.onnx'));
      console.log('import', model.outputSize, typeof require('lrp-wasm').loadModel);
      model.dispose();
    })();
  `);
  assert.equal(runIn(app, 'commonjs.cjs').trim(), 'import 10 function');

  writeFileSync(join(app, 'worker.mjs'), `
    import { loadModel } from 'lrp-wasm';
    import * as inline from 'lrp-wasm/inline';
    import { readFile } from 'node:fs/promises';
    const url = import.meta.resolve('lrp-wasm/models/mnist-cnn.onnx');
    const x = new Float32Array(784);
    for (let row = 4; row < 24; row++) x[row * 28 + 13] = x[row * 28 + 14] = 1;
    const model = await loadModel(url, { worker: true });
    const controller = new AbortController();
    const { target } = await model.explain(x, { composite: 'epsilon-plus', signal: controller.signal });
    const aborted = new AbortController();
    const request = model.explain(x, { signal: aborted.signal });
    aborted.abort();
    const reason = await request.then(() => 'finished', (error) => error.name);
    model.dispose();
    const single = await inline.loadModel(await readFile(new URL(url)));
    console.log(model.worker, target, reason, single.explain(x, { composite: 'epsilon-plus' }).target);
    single.dispose();
  `);
  assert.equal(runIn(app, 'worker.mjs').trim(), 'true 1 AbortError 1');
});

// A consumer's TypeScript: tests/types/ (the README's API, a WorkerModel, configure({ locateFile }), evaluate,
// lrp-wasm/inline, a CommonJS file, misuse marked @ts-expect-error, one deliberate error in mistake.ts) checked
// against the installed index.d.ts, strict and with skipLibCheck off.
const require = createRequire(import.meta.url);
const compilers = [['TypeScript 5', 'typescript5'], ['the project\'s TypeScript', 'typescript']];
const resolutions = [['bundler', 'esnext'], ['node16', 'node16']];
for (const [name, pkg] of compilers)
  for (const [moduleResolution, module] of resolutions)
    test(`a consumer type-checks with ${name}, moduleResolution ${moduleResolution}: only the deliberate mistake is reported`, (t) => {
      const types = join(app, 'types');
      mkdirSync(types, { recursive: true });
      for (const file of readdirSync(join(root, 'tests', 'types'))) copyFileSync(join(root, 'tests', 'types', file), join(types, file));
      const config = join(app, `tsconfig.${pkg}.${moduleResolution}.json`);
      writeFileSync(config, JSON.stringify({
        compilerOptions: { target: 'es2022', module, moduleResolution, strict: true, noEmit: true, skipLibCheck: false, types: [] },
        files: ['types/usage.ts', 'types/commonjs.cts', 'types/mistake.ts'],
      }));
      const home = dirname(require.resolve(`${pkg}/package.json`));
      const { version } = JSON.parse(readFileSync(join(home, 'package.json'), 'utf8'));
      if (pkg === 'typescript5') assert.match(version, /^5\./);
      const { status, stdout, stderr } = spawnSync(process.execPath, [join(home, 'bin', 'tsc'), '-p', config, '--pretty', 'false'],
        { cwd: app, encoding: 'utf8' });
      t.diagnostic(`tsc ${version}, module ${module}`);
      const errors = `${stdout}${stderr}`.split('\n').filter((line) => /error TS\d+/.test(line));
      assert.equal(errors.length, 1, `expected only mistake.ts's error:\n${stdout}${stderr}`);
      assert.match(errors[0], /^types[\\/]mistake\.ts\(6,\d+\): error TS\d+: .*Promise<Float32Array/);
      assert.notEqual(status, 0);
    });

test('THIRD_PARTY_NOTICES.md names every package bundled into dist/, and the compiled-in libraries', () => {
  // Every source file scripts/bundle.mjs put into dist/ (esbuild's metafile).
  const inputs = JSON.parse(read('build/bundle-inputs.json'));
  const bundled = new Set(inputs.map((file) => file.match(/^node_modules\/((?:@[^/]+\/)?[^/]+)\//)?.[1]).filter(Boolean));
  assert.ok(bundled.has('protobufjs'), [...bundled].join(', '));
  const notices = read('THIRD_PARTY_NOTICES.md');
  for (const name of bundled) {
    const short = name.replace(/^@protobufjs\//, '');
    assert.ok(notices.includes(name) || (name.startsWith('@protobufjs/') && notices.includes('@protobufjs/*') && notices.includes(short)),
      `${name} is bundled but not in THIRD_PARTY_NOTICES.md`);
  }
  for (const library of ['Eigen', 'Emscripten', 'musl', 'dlmalloc', 'libc++']) assert.ok(notices.includes(library), library);
});

test('bundlers: every computed import() in the package\'s builds tells webpack and Vite to leave it alone', () => {
  // Without /* webpackIgnore: true */ webpack 5 compiles import(url) into a context that rejects with "Cannot find
  // module", and the pthreads engine never starts (esbuild's minification drops the comment: scripts/bundle.mjs).
  let computed = 0;
  for (const file of readdirSync(join(installed, 'dist')).filter((f) => /^lrp-(wasm|worker|chunk)/.test(f) && f.endsWith('.js'))) {
    const source = readFileSync(join(installed, 'dist', file), 'utf8');
    for (const match of source.matchAll(/\bimport\((?!["'`])/g)) {
      computed++;
      assert.ok(source.startsWith('import(/* webpackIgnore: true */ /* @vite-ignore */ ', match.index),
        `${file}: ${source.slice(match.index, match.index + 60)}`);
    }
  }
  assert.ok(computed >= 3, `${computed} computed imports`);  // the engine's, in the browser, Node and inline builds
});

test('bundlers: a pthread worker script that Vite inlined as a data: URL starts from a same-origin blob: URL', async () => {
  const { threadedEngineOptions } = await import('../web/src/platform/browser.js');
  const script = readFileSync(join(root, 'dist', 'lrp-engine-mt.worker.js'));
  const module = new URL('https://example.com/assets/lrp-engine-mt-1234.js');
  for (const data of [`data:text/javascript;base64,${script.toString('base64')}`, `data:text/javascript,${encodeURIComponent(script.toString('utf8'))}`]) {
    const located = threadedEngineOptions(module, new URL(data)).locateFile('lrp_engine_mt.worker.js');
    assert.match(located, /^blob:/);
    const blob = resolveObjectURL(located);
    assert.equal(blob.type, 'text/javascript');
    assert.ok(Buffer.from(await blob.arrayBuffer()).equals(script));
    URL.revokeObjectURL(located);
  }
  // A served file stays as it is.
  const served = new URL('https://example.com/assets/lrp-engine-mt.worker-5678.js');
  assert.equal(threadedEngineOptions(module, served).locateFile('lrp_engine_mt.worker.js'), served.href);
  assert.equal(threadedEngineOptions(module, served).locateFile('lrp_engine_mt.wasm'), 'https://example.com/assets/lrp_engine_mt.wasm');
});
