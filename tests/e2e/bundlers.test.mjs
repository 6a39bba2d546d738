// The package in an app's bundler (issue 11): the packed tarball is installed into a fresh app (offline, as a user's
// `npm install` would), and a small page importing it (tests/e2e/fixtures/bundlers/) is built without a
// configuration file by Vite (`vite build`), webpack 5 (`webpack --mode production`: its defaults, ./src/index.js →
// dist/main.js) and esbuild (`esbuild --bundle --format=esm`, importing `lrp-wasm/inline`: esbuild copies no
// `new URL` assets). Each build must succeed without warnings; Vite and webpack must emit the engine's wasm as a file
// of its own (found through the package's `new URL('./lrp-engine.wasm', import.meta.url)`); no output may name the
// builder's folders (webpack would replace a bare import.meta.url with the file's absolute path) or import Node
// built-ins. Each bundle then runs in Chromium (not cross-origin isolated: the single-thread engine) and must compute
// exactly what the package's Node build computes for the same input (threads: 1), in the page and, for Vite and
// webpack, in loadModel(…, { worker: true })'s worker, which those bundlers build from the package's
// `new Worker(new URL('./lrp-worker.js', import.meta.url), { type: 'module' })`.
// Recorded, not asserted: each bundle's size (raw and gzip) and the time from page start to the first explanation.
//
// The one webpack warning kind allowed is its size hint (performance.hints, on in production): it fires for any
// emitted file over 244 KiB, and the engine's wasm alone is 713 KiB, so no app that ships the engine avoids it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { startServer } from '../../scripts/serve.mjs';
import { ROOT, setup, TIMEOUT, watch } from './helpers.mjs';

const FIXTURE = path.join(ROOT, 'tests', 'e2e', 'fixtures', 'bundlers');
const BIN = path.join(ROOT, 'node_modules', '.bin');
const MODEL = path.join(ROOT, 'web', 'models', 'mnist-cnn.onnx');
/** The page's input (tests/e2e/fixtures/bundlers/src/app.js makes the same). */
/** Page loads per bundle (the first with ?worker for Vite and webpack); each one's time to first explanation is recorded. */
const RUNS = 3;
const input = () => Float32Array.from({ length: 784 }, (_, i) => ((i * 37) % 255) / 255);

let work;         // the temporary folder: the tarballs, the app, the bundles
let app;          // the app: package.json, index.html, src/, node_modules/lrp-wasm installed from the tarball
let forbidden;    // absolute paths no bundle may contain
let engineWasm;   // sha256 of the package's dist/lrp-engine.wasm
let reference;    // what the package's Node build computes for input(): { logits, output, relevance }
let env;          // Chromium (helpers.setup; its own server serves nothing these tests load)
const summary = [];

/** Runs a command; resolves with its exit code and output (never rejects for a non-zero exit). */
function run(command, args, cwd) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, output: `${stdout}${stderr}` }));
  });
}

async function filesIn(dir) {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath ?? entry.path, entry.name)).split(path.sep).join('/'))
    .sort();
}

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');
const kB = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;

before(async () => {
  assert.ok(await fs.stat(path.join(ROOT, 'dist', 'lrp-wasm.js')).catch(() => null), 'dist/ is not built (npm run build)');
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'lrp-bundlers-'));
  app = path.join(work, 'app');

  // The package as published (prepack would rebuild dist/ from the C++: --ignore-scripts packs the built one), and
  // its one dependency, pngjs (used by the command line tool only), packed from this project's node_modules: both
  // tarballs installed with --offline and an empty cache, so that nothing is downloaded.
  const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], ROOT);
  assert.equal(packed.code, 0, `npm pack: ${packed.output}`);
  const [{ filename }] = JSON.parse(packed.stdout);
  const pngjs = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work, path.join(ROOT, 'node_modules', 'pngjs')], ROOT);
  assert.equal(pngjs.code, 0, `npm pack pngjs: ${pngjs.output}`);
  const [{ filename: pngjsFile }] = JSON.parse(pngjs.stdout);

  await fs.mkdir(app);
  await fs.cp(path.join(FIXTURE, 'src'), path.join(app, 'src'), { recursive: true });
  await fs.copyFile(path.join(FIXTURE, 'index.html'), path.join(app, 'index.html'));
  await fs.writeFile(path.join(app, 'package.json'), `${JSON.stringify({ name: 'bundled-app', private: true, type: 'module' }, null, 2)}\n`);
  const installed = await run('npm', ['install', '--offline', '--cache', path.join(work, 'npm-cache'), '--no-audit', '--no-fund',
    '--no-update-notifier', path.join(work, filename), path.join(work, pngjsFile)], app);
  assert.equal(installed.code, 0, `npm install: ${installed.output}`);

  forbidden = [...new Set([app, work, await fs.realpath(app), await fs.realpath(work), ROOT, await fs.realpath(ROOT)])];
  engineWasm = sha256(await fs.readFile(path.join(ROOT, 'dist', 'lrp-engine.wasm')));

  // The reference: the installed package's Node build (its "node" export), single-threaded like the pages.
  const pkgDir = path.join(app, 'node_modules', 'lrp-wasm');
  const pkg = JSON.parse(await fs.readFile(path.join(pkgDir, 'package.json'), 'utf8'));
  const lrp = await import(pathToFileURL(path.join(pkgDir, pkg.exports['.'].node.default)).href);
  lrp.configure({ threads: 1 });
  const model = await lrp.loadModel(MODEL);
  const x = input();
  const logits = model.predict(x);
  const { output, relevance } = model.explain(x, { composite: 'epsilon-plus' });
  reference = { logits: Array.from(logits), output: Array.from(output), relevance: Array.from(relevance) };
  model.dispose();

  const empty = path.join(work, 'empty');
  await fs.mkdir(empty);
  env = await setup({ demoDir: empty, distDir: empty, modelsDir: empty, crossOriginIsolated: false });
});

after(async () => {
  await env?.close();
  if (summary.length) console.log(`bundlers (sizes: gzip -6 of each file; first explain: performance.now() in a fresh context)\n${summary.join('\n')}`);
  if (work && !process.env.LRP_KEEP_BUNDLES) await fs.rm(work, { recursive: true, force: true });
  else if (work) console.log(`bundles kept in ${work}`);
});

/** Builds the app with one bundler into app/dist; returns the bundler's output. */
async function build(command, args) {
  await fs.rm(path.join(app, 'dist'), { recursive: true, force: true });
  const started = performance.now();
  const result = await run(command, args, app);
  const seconds = (performance.now() - started) / 1000;
  assert.equal(result.code, 0, `${path.basename(command)} failed:\n${result.output}`);
  return { ...result, seconds };
}

/** Checks what a bundler wrote to app/dist; returns its files with their sizes. */
async function checkOutput(t, { wasm }) {
  const dir = path.join(app, 'dist');
  const files = [];
  for (const name of await filesIn(dir)) {
    const bytes = await fs.readFile(path.join(dir, name));
    files.push({ name, bytes, raw: bytes.length, gzip: gzipSync(bytes).length });
    for (const folder of forbidden)
      assert.ok(!bytes.includes(folder), `${name} contains the absolute path ${folder}`);
    if (/\.(m?js|html)$/.test(name)) {
      const text = bytes.toString('utf8');
      const nodeImport = text.match(/(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)["'`]node:[a-z_/]+["'`]/);
      assert.equal(nodeImport, null, `${name} imports a Node built-in: ${nodeImport?.[0]}`);
      assert.ok(!text.includes('file:///'), `${name} contains a file: URL`);
    }
  }
  const wasmFiles = files.filter((file) => file.name.endsWith('.wasm'));
  if (wasm === 'separate') {
    assert.equal(wasmFiles.length, 1, `one .wasm file emitted (got ${wasmFiles.map((f) => f.name).join(', ') || 'none'})`);
    assert.equal(sha256(wasmFiles[0].bytes), engineWasm, `${wasmFiles[0].name} is the package's lrp-engine.wasm`);
  } else {
    assert.deepEqual(wasmFiles.map((f) => f.name), [], 'the inline build emits no .wasm');
  }
  for (const file of files) t.diagnostic(`${file.name}: ${kB(file.raw)} (gzip ${kB(file.gzip)})`);
  return files;
}

/** Serves app/dist (plus the page and the model) and runs the app in a fresh Chromium context. */
async function runPage(t, { page: pageFile, query = '', isolated = false }) {
  const dir = path.join(app, 'dist');
  if (pageFile) await fs.copyFile(path.join(FIXTURE, pageFile), path.join(dir, 'index.html'));
  await fs.copyFile(MODEL, path.join(dir, 'mnist-cnn.onnx'));  // after checkOutput: not part of the bundle
  const empty = path.join(work, 'empty');
  const server = await startServer({ port: 0, demoDir: dir, distDir: empty, modelsDir: empty, crossOriginIsolated: isolated });
  const origin = new URL(server.url).origin;
  const context = await env.browser.newContext();
  try {
    const page = await context.newPage();
    page.setDefaultTimeout(TIMEOUT);
    const problems = { console: [], page: [], requests: [], foreign: [] };
    watch(page, problems, origin);
    const responses = [];
    page.on('response', (response) => responses.push({ path: new URL(response.url()).pathname, type: response.headers()['content-type'] }));
    await page.goto(`${origin}/${query}`);
    await page.waitForFunction(() => window.__app?.done, null, { timeout: 2 * TIMEOUT }).catch((error) => {
      throw new Error(`the page did not finish: ${error.message}; ${JSON.stringify(problems)}`);
    });
    const result = await page.evaluate(() => window.__app);
    assert.equal(result.error, undefined, result.error);
    assert.equal(result.isolated, isolated, 'the page is cross-origin isolated when served with COOP and COEP');
    assert.deepEqual(problems, { console: [], page: [], requests: [], foreign: [] });
    return { result, responses };
  } finally {
    await context.close();
    await server.close();
  }
}

function assertReference(result, where, threads = 1) {
  assert.equal(result.threads, threads, `${where}: ${threads === 1 ? 'not cross-origin isolated, so the single-thread engine' : `${threads} threads`}`);
  assert.deepEqual(result.logits, reference.logits, `${where}: predict's logits equal the Node build's`);
  assert.deepEqual(result.output, reference.output, `${where}: explain's output equals the Node build's`);
  assert.deepEqual(result.relevance, reference.relevance, `${where}: explain's relevance equals the Node build's`);
}

/**
 * Runs the page `RUNS` times, each in a fresh context (nothing cached): first with ?worker when `worker` (the
 * explanation in loadModel's worker too), then without. Every run must compute the reference. Records the sizes
 * of what the page fetched for its first explanation (JS and wasm, not the page or the model), and of the worker
 * script, and the time from page start to the first explanation of each run.
 */
async function runAndRecord(t, bundler, files, built, { page, worker }) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    const run = await runPage(t, { page, query: worker && i === 0 ? '?worker' : '' });
    assertReference(run.result, `${bundler} page (run ${i + 1})`);
    if (worker && i === 0) assertReference(run.result.worker, `${bundler} page, worker model`);
    runs.push(run);
  }
  const fetched = (run) => new Set(run.responses.map((r) => r.path.slice(1)));
  const code = (file) => /\.(m?js|wasm)$/.test(file.name);
  const plain = fetched(runs.at(-1));
  const loaded = files.filter((file) => plain.has(file.name) && code(file));
  const workerOnly = worker ? files.filter((file) => fetched(runs[0]).has(file.name) && !plain.has(file.name) && code(file)) : [];
  const sum = (list, key) => list.reduce((n, file) => n + file[key], 0);
  const size = (list) => `${kB(sum(list, 'raw'))} (gzip ${kB(sum(list, 'gzip'))})`;
  const times = runs.map((run) => run.result.firstExplainMs).sort((a, b) => a - b);
  const line = `${bundler.padEnd(8)} built in ${built.seconds.toFixed(1)} s; ` +
    `first explanation after ${times.map((ms) => ms.toFixed(0)).join(', ')} ms (median ${times[RUNS >> 1].toFixed(0)} ms); ` +
    `the page loads ${loaded.map((f) => f.name).join(' + ')}: ${size(loaded)}` +
    `${workerOnly.length ? `; its worker ${workerOnly.map((f) => f.name).join(' + ')}: ${size(workerOnly)}` : ''}; ` +
    `all emitted: ${size(files)}`;
  t.diagnostic(line);
  summary.push(line);
  return runs;
}

/**
 * The threaded engine of a bundle: the page served cross-origin isolated (COOP and COEP), so the package starts
 * lrp-engine-mt.js and its threads' script, which the bundler copied too (found by their `new URL` literals), with
 * min(4, cores) threads, in the page and in loadModel's worker. Its numbers equal the single-thread build's, bit for
 * bit (tests/e2e/threads.test.mjs), hence the same reference.
 */
async function runThreaded(t, bundler, page) {
  const { result } = await runPage(t, { page, query: '?worker', isolated: true });
  const threads = Math.min(4, result.cores);
  assertReference(result, `${bundler} page, cross-origin isolated`, threads);
  assertReference(result.worker, `${bundler} page, cross-origin isolated, worker model`, threads);
  t.diagnostic(`${bundler}, cross-origin isolated: ${threads} threads in the page and in its worker; first explanation after ${result.firstExplainMs.toFixed(0)} ms`);
}

test('Vite (`vite build`, no config): no warnings, the wasm emitted, the page and its worker explain as Node does, threaded too', async (t) => {
  // --logLevel warn: Vite prints nothing but warnings and errors, so any output is a warning.
  const built = await build(path.join(BIN, 'vite'), ['build', '--logLevel', 'warn']);
  // Except one notice about the build's speed, not about the package: Rolldown's PLUGIN_TIMINGS, printed when
  // JavaScript plugins take most of the build time. Vite builds the worker (lrp-worker.js) inside one plugin's
  // transform callback, so a loaded machine, where that takes seconds, gets the notice and a fast one does not.
  const timings = /^\[PLUGIN_TIMINGS\][^]*?^Learn more at \S+bundlertimings\n?/m;
  const notice = built.output.match(timings)?.[0];
  if (notice) t.diagnostic(`vite: ${notice.split('\n')[0]}`);
  assert.equal(built.output.replace(timings, '').trim(), '', `vite build printed:\n${built.output}`);
  const files = await checkOutput(t, { wasm: 'separate' });
  assert.ok(files.some((file) => file.name === 'index.html'), 'Vite wrote dist/index.html');

  const runs = await runAndRecord(t, 'Vite', files, built, { worker: true });
  const wasm = files.find((file) => file.name.endsWith('.wasm')).name;
  assert.ok(runs[1].responses.some((r) => r.path === `/${wasm}` && r.type === 'application/wasm'), `the page streamed ${wasm}`);
  await runThreaded(t, 'Vite');
});

test('webpack 5 (`webpack --mode production`, no config): only size hints, the wasm emitted, the page and its worker explain as Node does, threaded too', async (t) => {
  const built = await build(path.join(BIN, 'webpack'), ['--mode', 'production']);
  assert.match(built.output, /compiled (successfully|with \d+ warnings?)/, built.output);
  const problems = built.output.split(/^(?=(?:WARNING|ERROR) in )/m).slice(1).map((block) => block.split('\n')[0]);
  const sizeHint = /^WARNING in (asset size limit|entrypoint size limit|webpack performance recommendations):/;
  assert.deepEqual(problems.filter((header) => !sizeHint.test(header)), [], `webpack warned:\n${built.output}`);
  for (const header of problems) t.diagnostic(`webpack: ${header}`);
  const files = await checkOutput(t, { wasm: 'separate' });
  assert.ok(files.some((file) => file.name === 'main.js'), 'webpack wrote dist/main.js');

  const runs = await runAndRecord(t, 'webpack', files, built, { page: 'webpack.html', worker: true });
  const wasm = files.find((file) => file.name.endsWith('.wasm')).name;
  assert.ok(runs[1].responses.some((r) => r.path === `/${wasm}` && r.type === 'application/wasm'), `the page streamed ${wasm}`);
  await runThreaded(t, 'webpack', 'webpack.html');
});

test('esbuild (`esbuild --bundle --format=esm`, lrp-wasm/inline): no warnings, one file, the page explains as Node does', async (t) => {
  const built = await build(path.join(BIN, 'esbuild'), ['src/inline.js', '--bundle', '--format=esm', '--outfile=dist/main.js', '--log-level=warning']);
  assert.equal(built.output.trim(), '', `esbuild printed:\n${built.output}`);
  const files = await checkOutput(t, { wasm: 'inline' });
  assert.deepEqual(files.map((file) => file.name), ['main.js'], 'esbuild wrote one file');

  const runs = await runAndRecord(t, 'esbuild', files, built, { page: 'esbuild.html', worker: false });
  for (const run of runs) assert.deepEqual(run.responses.filter((r) => r.path.endsWith('.wasm')), [], 'the inline build fetches no wasm');
});
