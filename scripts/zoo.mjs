#!/usr/bin/env node
// The model zoo: torchvision classifiers and small "everyday user code" models (random seeded
// weights, exported by scripts/zoo_export.py at opsets 13 and 17, the transformers also at 14), each
// checked through the package.
//
//   npm run zoo                                   # set-up (python3-torch …), build, export, check all
//   node scripts/zoo.mjs                          # export what is missing, check every model
//   node scripts/zoo.mjs resnet18 convnext_tiny   # a subset
//   node scripts/zoo.mjs --opset 17               # one opset
//   node scripts/zoo.mjs resnet18 --demo          # + the demo step for resnet18
//   node scripts/zoo.mjs --help                   # all flags
//
// For each model and opset, in its own child process (one wasm engine per process, and wasm memory
// only grows, so each model's heap figure is its own; a crash or a hang cannot take the run down):
//   - it loads (timed);
//   - its logits match PyTorch's: max |Δ| / max(1, max |logit|) ≤ 1e-4, and the argmax agrees;
//   - `epsilon-plus`, `attn-lrp` (models with softmax or layernorm layers) and `epsilon-gamma-box` (z-box
//     bounds: the input's min/max, see zoo_export.py)
//     give finite relevances, and so do the other Zennit composites (`epsilon-plus-flat`,
//     `epsilon-alpha2-beta1`, `epsilon-alpha2-beta1-flat`, `deep-taylor`);
//   - the conservation report closes for both: with `layerRelevance: true`,
//     |Σ input relevance + Σ over layers of `absorbed` − f_t| ≤ 1e-4 · max(1, |f_t|);
//   - predict and explain (epsilon-plus) latency, median of --runs runs; the engine's wasm heap
//     (engineMemoryBytes()) after all of it.
// Then the demo step, for resnet18 at opset 13 (DEMO_MODELS; on a full run, or with --demo): scripts/demo-check.mjs
// loads the model into the demo page in headless chromium, explains a photo in the demo's photo mode and reports
// the page's explain time (demo.latency) and its longest main-thread task (demo.maxLongTask and the Long Tasks
// API's), so a model that works in Node but freezes or fails in the page shows up here.
// Any failure, on any model, makes the exit code 1 (an out-of-memory Error included: vgg16 and wide_resnet50_2
// run every composite since the rule modifiers moved into the kernels).
//
// It prints a table and, on a full run (no model names, no --opset), writes docs/models.md (--doc
// writes it for a subset too, --no-doc never); build/zoo/results.json has every figure.
//
// The package is imported by its own name, `lrp-wasm` (dist/lrp-wasm.node.js through package.json
// "exports"), as the tests and the benchmark do: build it first (`bash scripts/build.sh`).

import { parseArgs } from 'node:util';
import { readFileSync, writeFileSync, existsSync, readdirSync, mkdirSync, statSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ZOO = path.join(ROOT, 'build', 'zoo');
const PYTHON = '/usr/bin/python3';
const OPSETS = ['13', '14', '17']; // 14: only the models zoo_export.py exports at it (the transformers)
const CHILD_TAG = 'ZOO_RESULT ';
const DEMO_TAG = 'DEMO_CHECK '; // scripts/demo-check.mjs --json: its result line
// Models checked in the demo page too: one ImageNet-sized CNN is enough to see the page cope (load, explain, no
// frozen main thread); each takes a browser start and a model load, so not every model.
const DEMO_MODELS = new Set(['resnet18']);
const DEMO_OPSET = '13';
const TOLERANCE = 1e-4;
const OOM_ALLOWED = new Set();  // models allowed to end in an out-of-memory Error (none)
const OOM_PATTERN = /out of memory|\boom\b|cannot enlarge memory|allocation failed|bad_alloc|could not allocate|memory limit|maximum memory/i;

const USAGE = `usage: node scripts/zoo.mjs [model ...] [options]

Exports the zoo (scripts/zoo_export.py, cached in build/zoo/) and checks every model through the
package, each in its own child process. Model names: see build/zoo/index.json or
\`/usr/bin/python3 scripts/zoo_export.py --list\`.

options:
  --opset 13|14|17  only this opset (default: every opset of each model; 14: vit_b_16 and swin_t)
  --runs N          timed runs per measurement, the median is reported (default 3)
  --timeout S       seconds per model and opset before its child process is killed (default 900)
  --skip-export     do not run the exporter; check what is in build/zoo/
  --demo            also check ${[...DEMO_MODELS].join(', ')} (opset ${DEMO_OPSET}) in the demo page (scripts/demo-check.mjs,
                    headless chromium); on by default on a full run (no model names, no --opset)
  --no-demo         never run the demo step
  --doc             write docs/models.md even for a subset
  --no-doc          never write docs/models.md
  --help            this text
  --child NAME OPSET   internal: check one model, print the result as one ${CHILD_TAG.trim()} line`;

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    opset: { type: 'string' },
    runs: { type: 'string', default: '3' },
    timeout: { type: 'string', default: '900' },
    'skip-export': { type: 'boolean', default: false },
    demo: { type: 'boolean', default: false },
    'no-demo': { type: 'boolean', default: false },
    doc: { type: 'boolean', default: false },
    'no-doc': { type: 'boolean', default: false },
    child: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

function fail(message) {
  console.error(`zoo: ${message}`);
  process.exit(2);
}

if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
if (args.opset !== undefined && !OPSETS.includes(args.opset)) fail(`--opset must be 13, 14 or 17 (got ${args.opset})`);
const RUNS = Number(args.runs);
if (!Number.isInteger(RUNS) || RUNS < 1) fail(`--runs must be a positive integer (got ${args.runs})`);
const TIMEOUT_S = Number(args.timeout);
if (!(TIMEOUT_S > 0)) fail(`--timeout must be a positive number of seconds (got ${args.timeout})`);

// -------------------------------------------------------------------------------------------------
// Helpers

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function timed(fn, runs) {
  const times = [];
  let result;
  for (let k = 0; k < runs; k++) {
    const t0 = performance.now();
    result = fn();
    times.push(performance.now() - t0);
  }
  return { result, ms: median(times) };
}

function argmax(a) {
  let k = 0;
  for (let j = 1; j < a.length; j++) if (a[j] > a[k]) k = j;
  return k;
}

function messageOf(e) {
  if (e instanceof Error) return `${e.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e.message}`;
  return String(e);
}

// -------------------------------------------------------------------------------------------------
// The child: one model at one opset

function readInput(dir, ref) {
  const raw = readFileSync(path.join(dir, ref.input.file));
  const bytes = raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength);
  if (ref.input.dtype === 'float32') return new Float32Array(bytes);
  if (ref.input.dtype === 'int64') return Int32Array.from(new BigInt64Array(bytes), (v) => Number(v));
  throw new Error(`${ref.name}: unknown input dtype ${ref.input.dtype}`);
}

function sumOf(a) {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += a[j];
  return s;
}

// One explanation with the conservation report; returns the check's figures.
function checkExplanation(model, x, options) {
  const r = model.explain(x, { ...options, layerRelevance: true });
  const out = { composite: options.composite };
  out.finite = Array.from(r.relevance).every(Number.isFinite);
  out.allZero = Array.from(r.relevance).every((v) => v === 0);
  if (!Array.isArray(r.layers) || r.layers.length === 0) {
    out.error = 'layerRelevance: true returned no conservation report (layers)';
    return out;
  }
  const badLayer = r.layers.find((l) => !Number.isFinite(l.absorbed) || !Number.isFinite(l.sum));
  if (badLayer) out.finite = false;
  const ft = r.output[r.target];
  const inputSum = sumOf(r.relevance);
  let absorbed = 0;
  for (const l of r.layers) absorbed += l.absorbed;
  out.target = r.target;
  out.ft = ft;
  out.inputSum = inputSum;
  out.absorbed = absorbed;
  out.gap = Math.abs(inputSum + absorbed - ft) / Math.max(1, Math.abs(ft));
  out.closes = Number.isFinite(out.gap) && out.gap <= TOLERANCE;
  if (!out.finite) out.error = badLayer ? `non-finite relevance at layer ${badLayer.index} ('${badLayer.name}')` : 'non-finite input relevance';
  else if (!out.closes) out.error = `conservation does not close: Σ R_input ${inputSum.toPrecision(7)} + Σ absorbed ${absorbed.toPrecision(7)} vs f_t ${ft.toPrecision(7)} (gap ${out.gap.toExponential(2)} relative)`;
  return out;
}

async function runChild(name, opset) {
  const res = { model: name, opset: Number(opset), status: 'ok', failures: [] };
  const failure = (stage, e) => {
    const message = messageOf(e);
    res.failures.push({ stage, message });
    if (res.status === 'ok') {
      res.status = OOM_PATTERN.test(message) ? 'oom' : stage === 'load' ? 'load-error' : 'fail';
      res.stage = stage;
      res.message = message;
    }
  };
  const dir = path.join(ZOO, name);
  const ref = JSON.parse(readFileSync(path.join(dir, 'reference.json'), 'utf8'));
  res.params = ref.params;
  const file = path.join(dir, ref.opsets[opset] ?? `opset${opset}.onnx`);
  res.fileMB = statSync(file).size / 2 ** 20; // fails early and clearly if the export is missing

  let lrp;
  try {
    lrp = await import('lrp-wasm');
  } catch (e) {
    failure('import', `import lrp-wasm failed (build it first: bash scripts/build.sh): ${messageOf(e)}`);
    return res;
  }
  const heap = () => (typeof lrp.engineMemoryBytes === 'function' ? lrp.engineMemoryBytes() / 2 ** 20 : null);

  let model;
  try {
    const t0 = performance.now();
    model = await lrp.loadModel(file);
    res.loadMs = performance.now() - t0;
    res.layers = model.layers.length;
    res.operations = model.operations;
    res.heapAfterLoadMB = heap();
  } catch (e) {
    failure('load', e);
    res.heapMB = heap();
    return res;
  }

  try {
    const x = readInput(dir, ref);
    const expected = ref.input.shape.slice(1);
    if (model.inputShape.join(',') !== expected.join(','))
      failure('input shape', `model.inputShape [${model.inputShape}] but PyTorch's input is [${expected}] per sample`);
    if (model.outputSize !== ref.logits.length)
      failure('output size', `model.outputSize ${model.outputSize} but PyTorch has ${ref.logits.length} logits`);

    // predict: the first call gives the logits, then the timed runs
    try {
      const logits = model.predict(x);
      res.predictMs = timed(() => model.predict(x), RUNS).ms;
      let diff = 0;
      let scale = 1;
      ref.logits.forEach((v, j) => {
        diff = Math.max(diff, Math.abs(logits[j] - v));
        scale = Math.max(scale, Math.abs(v));
      });
      if (logits.length !== ref.logits.length || !Array.from(logits).every(Number.isFinite)) diff = Infinity;
      res.logitsDelta = diff / scale;
      res.argmax = argmax(logits);
      res.argmaxTorch = ref.argmax;
      if (!(res.logitsDelta <= TOLERANCE))
        failure('logits', `logits differ from PyTorch's: max |Δ| / max(1, max |logit|) = ${res.logitsDelta.toExponential(2)} > ${TOLERANCE}`);
      if (res.argmax !== ref.argmax) failure('argmax', `argmax ${res.argmax}, PyTorch's ${ref.argmax}`);
    } catch (e) {
      failure('predict', e);
    }

    // explain: three composites with the conservation report, then the latency of epsilon-plus
    res.explanations = [];
    const box = { low: ref.box.low, high: ref.box.high };
    // attn-lrp is AttnLRP's composite for transformers (the ε-rule on every linear map): checked where the
    // model has attention or LayerNorm; on deep CNNs the plain ε-rule with ε = 1e-6 is known to explode.
    const transformer = model.layers.some((l) => l.kind === 'softmax' || l.kind === 'layernorm');
    const composites = [{ composite: 'epsilon-plus' }, ...(transformer ? [{ composite: 'attn-lrp' }] : []), { composite: 'epsilon-gamma-box', ...box }];
    for (const options of composites) {
      try {
        const check = checkExplanation(model, x, options);
        res.explanations.push(check);
        if (check.error) failure(`explain ${options.composite}`, check.error);
      } catch (e) {
        res.explanations.push({ composite: options.composite, error: messageOf(e) });
        failure(`explain ${options.composite}`, e);
      }
    }
    // the other Zennit composites: finite relevance on every model (the big ones used to run out of memory)
    for (const composite of ['epsilon-plus-flat', 'epsilon-alpha2-beta1', 'epsilon-alpha2-beta1-flat', 'deep-taylor']) {
      try {
        const e = model.explain(x, composite === 'deep-taylor' ? { composite, ...box } : { composite });
        const finite = e.relevance.every(Number.isFinite);
        res.explanations.push({ composite, finite, sum: e.relevance.reduce((a, b) => a + b, 0) });
        if (!finite) failure(`explain ${composite}`, 'relevance has NaN or Infinity');
      } catch (e) {
        res.explanations.push({ composite, error: messageOf(e) });
        failure(`explain ${composite}`, e);
      }
    }
    try {
      res.explainMs = timed(() => model.explain(x, { composite: 'epsilon-plus' }), RUNS).ms;
    } catch (e) {
      failure('explain epsilon-plus (timing)', e);
    }
  } finally {
    res.heapMB = heap();
    try {
      model.dispose();
    } catch (e) {
      failure('dispose', e);
    }
  }
  return res;
}

// -------------------------------------------------------------------------------------------------
// The parent: export, one child per model and opset, table, docs/models.md

function exportModels(names) {
  const exportArgs = [path.join(ROOT, 'scripts', 'zoo_export.py'), ...names];
  if (args.opset) exportArgs.push('--opset', args.opset);
  console.log(`$ ${PYTHON} ${path.relative(ROOT, exportArgs[0])}${exportArgs.length > 1 ? ' ' + exportArgs.slice(1).join(' ') : ''}`);
  const r = spawnSync(PYTHON, exportArgs, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.error) console.error(`zoo: could not run ${PYTHON}: ${r.error.message} (bash scripts/setup.sh --train installs it)`);
  else if (r.status === 2) process.exit(2); // unknown model name: the exporter said which
  else if (r.status !== 0) console.error(`zoo: the exporter exited with code ${r.status}; models it could not export are reported below`);
}

// The opsets model `name` is exported at (index.json; 13 and 17 unless it lists more).
function opsetsOf(name) {
  try {
    const listed = JSON.parse(readFileSync(path.join(ZOO, 'index.json'), 'utf8')).opsets;
    if (listed && !Array.isArray(listed) && listed[name]) return listed[name].map(String);
  } catch {}
  return ['13', '17'];
}

function zooIndex() {
  const index = path.join(ZOO, 'index.json');
  if (existsSync(index)) return JSON.parse(readFileSync(index, 'utf8')).models;
  const listed = spawnSync(PYTHON, [path.join(ROOT, 'scripts', 'zoo_export.py'), '--list'], { cwd: ROOT, encoding: 'utf8' });
  if (listed.status === 0) return listed.stdout.split('\n').filter(Boolean);
  return existsSync(ZOO) ? readdirSync(ZOO).filter((d) => existsSync(path.join(ZOO, d, 'reference.json'))) : [];
}

// Runs a Node script in a child process: its output lines indented in the log, the JSON after `tag` on one of its
// lines as its result (`payload`), the last `tail` informative stderr lines kept for a message, killed after
// `timeoutS` seconds. Resolves with { payload | null, code, signal, timedOut, seconds, stderrTail }.
function runScript(args, { tag, timeoutS, tail }) {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let payload = null;
    const stderrTail = [];
    createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', (line) => {
      if (line.startsWith(tag)) payload = JSON.parse(line.slice(tag.length));
      else console.log(`  ${line}`);
    });
    createInterface({ input: child.stderr, crlfDelay: Infinity }).on('line', (line) => {
      console.error(`  ${line}`);
      if (line.trim()) stderrTail.push(line.trim());
      if (stderrTail.length > tail) stderrTail.shift();
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutS * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ payload, code, signal, timedOut, seconds: (performance.now() - started) / 1000, stderrTail });
    });
  });
}

const exitText = ({ code, signal }) => `exit code ${code}${signal ? `, signal ${signal}` : ''}`;

async function checkInChild(name, opset) {
  const run = await runScript([fileURLToPath(import.meta.url), '--child', '--runs', String(RUNS), name, opset],
    { tag: CHILD_TAG, timeoutS: TIMEOUT_S, tail: 30 });
  const { payload, seconds, stderrTail } = run;
  if (payload) return { ...payload, seconds };
  const base = { model: name, opset: Number(opset), seconds, failures: [] };
  if (run.timedOut) return { ...base, status: 'timeout', message: `no result within ${TIMEOUT_S} s (child killed)` };
  // the last informative stderr line, e.g. V8's "FATAL ERROR: ... JavaScript heap out of memory"
  const hint = [...stderrTail].reverse().find((l) => /error|abort|memory|fatal/i.test(l)) ?? stderrTail.at(-1) ?? '';
  return { ...base, status: 'crash', message: `child process died (${exitText(run)})${hint ? `: ${hint}` : ''}` };
}

// The demo step: scripts/demo-check.mjs in its own process (it starts the server and chromium), its report
// indented in the log, its result from the DEMO_CHECK line; killed a minute after the zoo's per-model timeout
// (demo-check has that timeout of its own).
async function checkInDemo(name, opset) {
  const screenshot = path.join(ZOO, name, `demo-opset${opset}.png`);
  const run = await runScript([path.join(ROOT, 'scripts', 'demo-check.mjs'), path.join(ZOO, name, `opset${opset}.onnx`),
    '--json', '--screenshot', screenshot, '--timeout', String(TIMEOUT_S)], { tag: DEMO_TAG, timeoutS: TIMEOUT_S + 60, tail: 10 });
  const { payload, seconds, stderrTail } = run;
  if (!payload) {
    return { ok: false, seconds, error: `demo-check gave no result (${exitText(run)})${stderrTail.length ? `: ${stderrTail.at(-1)}` : ''}` };
  }
  // the figures of the page, not its whole state (results.json stays readable)
  const { ok, error, mode, explainMs, maxLongTask, longTasks, photoMs, loadMs } = payload;
  return {
    ok, error, mode, explainMs, maxLongTask, photoMs, loadMs, seconds,
    longTaskMs: longTasks?.unsupported ? null : longTasks?.max ?? null,
    top5: payload.top5?.map((t) => ({ class: t.class, name: t.name, logit: t.logit, probability: t.probability })),
    screenshot: payload.screenshot && path.relative(ROOT, payload.screenshot),
  };
}

const passedPackage = (r) => r.status === 'ok' || (r.status === 'oom' && OOM_ALLOWED.has(r.model));
const passed = (r) => passedPackage(r) && (!r.demo || r.demo.ok);

function statusText(r) {
  const pkg = packageStatusText(r);
  if (!r.demo || r.demo.ok) return pkg;
  return `${pkg === 'ok' ? '' : `${pkg}; `}demo FAIL: ${r.demo.error}`;
}

function packageStatusText(r) {
  if (r.status === 'ok') return 'ok';
  const label = { oom: OOM_ALLOWED.has(r.model) ? 'out of memory (allowed)' : 'out of memory', 'load-error': 'load failed', fail: 'FAIL', crash: 'CRASH', timeout: 'TIMEOUT', 'not-exported': 'not exported' }[r.status] ?? r.status;
  const others = (r.failures?.length ?? 0) > 1 ? ` (+${r.failures.length - 1} more)` : '';
  return `${label}${r.stage && r.stage !== 'load' ? ` at ${r.stage}` : ''}: ${r.message}${others}`;
}

const fmt = (v, digits = 0) => (v == null || !Number.isFinite(v) ? '-' : v.toFixed(digits));
const fmtDelta = (v) => (v == null ? '-' : Number.isFinite(v) ? v.toExponential(1) : 'inf');
// Operations (model.operations: multiply-adds and comparisons of one forward pass) in three significant digits.
const fmtOps = (n) => (n == null ? '-' : n.toExponential(2).replace(/e\+?/, 'e'));
const fmtParams = (p) => (p == null ? '-' : p >= 1e6 ? `${(p / 1e6).toFixed(1)}M` : `${(p / 1e3).toFixed(1)}k`);

function rowsOf(results) {
  return results.map((r) => [
    r.model, String(r.opset), fmtParams(r.params), fmtOps(r.operations), fmt(r.loadMs), fmt(r.predictMs, 1), fmt(r.explainMs, 1),
    r.loadMs != null ? fmt(r.heapMB) : '-', fmtDelta(r.logitsDelta), statusText(r),
  ]);
}
const HEADER = ['model', 'opset', 'params', 'operations', 'load ms', 'predict ms', 'explain ms', 'heap MB', 'logits Δ', 'status'];

function printTable(results) {
  const rows = rowsOf(results).map((r) => {
    const s = r.at(-1);
    return [...r.slice(0, -1), s.length > 110 ? `${s.slice(0, 107)}...` : s];
  });
  const w = HEADER.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (r) => r.map((v, c) => (c >= 1 && c <= 7 ? v.padStart(w[c]) : v.padEnd(w[c]))).join('  ').trimEnd();
  console.log(line(HEADER));
  console.log(w.map((n) => '-'.repeat(n)).join('  '));
  for (const r of rows) console.log(line(r));
}

// The demo step's figures: times the page measured (explain: demo.latency; the longest main-thread task after
// the photo was chosen: demo.maxLongTask, and the Long Tasks API's as demo-check measured it) and the wall time
// from choosing the photo to the top-5 on the page.
const DEMO_HEADER = ['model', 'opset', 'load ms', 'photo → top-5 ms', 'explain ms', 'longest task ms', 'top-1', 'status'];
const longest = (d) => `${fmt(d.maxLongTask)} / ${fmt(d.longTaskMs)}`;
const topOne = (d) => (d.top5?.length ? `${d.top5[0].class}${d.top5[0].name ? ` ${d.top5[0].name}` : ''}` : '-');

function demoFigures(d) {
  return `explain ${fmt(d.explainMs)} ms, longest main-thread task ${fmt(d.maxLongTask)} ms (demo.maxLongTask; ` +
    `${fmt(d.longTaskMs)} ms by the Long Tasks API), photo → top-5 ${fmt(d.photoMs)} ms, load ${fmt(d.loadMs)} ms; top-1 ${topOne(d)}`;
}

function demoRows(results) {
  return results.filter((r) => r.demo).map((r) => [
    r.model, String(r.opset), fmt(r.demo.loadMs), fmt(r.demo.photoMs), fmt(r.demo.explainMs), longest(r.demo), topOne(r.demo),
    r.demo.ok ? 'ok' : `FAIL: ${r.demo.error}`,
  ]);
}

function printDemo(results) {
  const rows = demoRows(results);
  console.log('\nin the demo page (scripts/demo-check.mjs; longest task: demo.maxLongTask / Long Tasks API):');
  if (!rows.length) {
    console.log(`  no demo step ran (it runs for ${[...DEMO_MODELS].join(', ')} at opset ${DEMO_OPSET}, once the package loads it)`);
    return;
  }
  for (const row of rows) console.log(`  ${DEMO_HEADER.map((h, c) => `${h} ${row[c]}`).join(', ')}`);
}

function machine() {
  const cpu = os.cpus()[0]?.model?.trim() || 'unknown CPU';
  return `${os.cpus().length} CPUs (nproc ${os.availableParallelism?.() ?? os.cpus().length}), ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GB RAM, Node ${process.version}, ${os.type()} ${os.release()}`;
}

// The package's revision: the git commit, and whether the engine or package sources differ from it.
function revision() {
  const git = (...a) => spawnSync('git', a, { cwd: ROOT, encoding: 'utf8' });
  const head = git('rev-parse', '--short', 'HEAD');
  if (head.status !== 0) return 'a tree outside git';
  const dirty = git('status', '--porcelain', '--', 'cpp', 'web/src', 'CMakeLists.txt').stdout.trim();
  return `commit ${head.stdout.trim()}${dirty ? ' with uncommitted changes to cpp/ or web/src/' : ''}`;
}

function writeDoc(results, command, totalSeconds) {
  const esc = (s) => String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const versions = results.map((r) => r.versions).find(Boolean);
  const ok = results.filter(passed).length;
  const lines = [
    '# The model zoo',
    '',
    'Every model below has random seeded weights (torchvision\'s initialisation; no pretrained weights) and',
    'non-trivial BatchNorm statistics, exported by PyTorch to ONNX with a dynamic batch axis at opsets 13',
    'and 17 (vit_b_16 and swin_t also at 14; `scripts/zoo_export.py`), and is checked through the package (`scripts/zoo.mjs`), each model',
    'and opset in its own Node process. Regenerate this page with:',
    '',
    '```sh',
    'npm run zoo          # = bash scripts/setup.sh --train && bash scripts/build.sh && node scripts/zoo.mjs',
    '```',
    '',
    `\`${command}\` on ${new Date().toISOString().slice(0, 10)} (lrp-wasm at ${revision()}), ${machine()}${versions ? `; PyTorch ${versions.torch}, torchvision ${versions.torchvision}` : ''}.`,
    `${ok} of ${results.length} pass; the whole run took ${(totalSeconds / 60).toFixed(1)} min.`,
    '',
    'A model passes when it loads, its logits for one fixed random input match PyTorch\'s',
    '(logits Δ = max |Δ| / max(1, max |logit|) ≤ 1e-4) with the same argmax, `epsilon-plus`, `attn-lrp` (models with',
    'attention or LayerNorm) and',
    '`epsilon-gamma-box` (z-box bounds: the input\'s min and max; for text_cnn those of the embedded',
    'tokens) give finite relevances, and for each the conservation report closes: |Σ input relevance +',
    'Σ over layers of `absorbed` − f_t| ≤ 1e-4 · max(1, |f_t|), and the other Zennit composites',
    '(`epsilon-plus-flat`, `epsilon-alpha2-beta1`, `epsilon-alpha2-beta1-flat`, `deep-taylor`) give finite',
    'relevances. A failed load shows no figures. Times are medians of',
    `${RUNS} runs at batch 1 (explain: \`epsilon-plus\`), the engine at its default thread count (min(4, cores));`,
    'heap is the engine\'s wasm memory',
    '(`engineMemoryBytes()`, its high-water mark) after all checks; params are PyTorch\'s parameter count;',
    'operations is `model.operations`, the multiply-adds and comparisons of one forward pass for one input (the',
    'work estimate loadModel\'s `maxOperations`, default 1e11, is checked against).',
    '',
    'Besides torchvision\'s classifiers (224×224 inputs; inception_v3 299×299; googlenet and inception_v3',
    'without auxiliary heads), four small models as users write them (defined in `scripts/zoo_export.py`):',
    '`seq_mlp` (Linear → GELU → Linear on a sequence [N, 16, 32], mean over time, Linear), `view_linear`',
    '(Conv2d, then `x.view(N, 1, -1)` before a Linear), `audio_cnn1d` (Conv1d, BatchNorm1d, MaxPool1d,',
    'AdaptiveAvgPool1d on [N, 1, 4000]) and `text_cnn` (int64 token ids [N, 32] → Embedding → Conv1d →',
    'AdaptiveMaxPool1d → Linear). The transformers vit_b_16 (its zero-initialised head given small random',
    'weights) and swin_t run their attention with the batch merged into heads and windows, per sample.',
    '',
    `| ${HEADER.join(' | ')} |`,
    `| ${HEADER.map((_, c) => (c >= 1 && c < HEADER.length - 1 ? '---:' : '---')).join(' | ')} |`,
    ...rowsOf(results).map((r) => `| ${r.map(esc).join(' | ')} |`),
    '',
  ];
  const demo = demoRows(results);
  if (demo.length) {
    lines.push(
      '## In the demo',
      '',
      `${[...DEMO_MODELS].join(', ')} (opset ${DEMO_OPSET}) is also checked in the demo page, in headless chromium (\`scripts/demo-check.mjs\`):`,
      'the model file is chosen in the page, then a photo (`tests/e2e/fixtures/photo/photo.png`, a generated',
      '200×150 scene), and the check waits for the photo mode\'s top-5. Load is from choosing the file to the model',
      'being ready; photo → top-5 from choosing the photo to the top-5 on the page; explain is the page\'s own',
      'measure (`demo.latency`); longest task is the longest main-thread task after the photo was chosen, as the',
      'page records it (`demo.maxLongTask`) / as the browser\'s Long Tasks API reports it (tasks of 50 ms or more;',
      '0: none that long). The model runs in the package\'s worker, so a long main-thread task is the page\'s own work.',
      '',
      `| ${DEMO_HEADER.join(' | ')} |`,
      `| ${DEMO_HEADER.map((_, c) => (c >= 1 && c <= 5 ? '---:' : '---')).join(' | ')} |`,
      ...demo.map((r) => `| ${r.map(esc).join(' | ')} |`),
      '',
    );
  }
  const withMore = results.filter((r) => (r.failures?.length ?? 0) > 1);
  if (withMore.length) {
    lines.push('Every failed check of the models that failed more than one:', '');
    for (const r of withMore) for (const f of r.failures) lines.push(`- ${r.model} (opset ${r.opset}), ${f.stage}: ${esc(f.message)}`);
    lines.push('');
  }
  writeFileSync(path.join(ROOT, 'docs', 'models.md'), lines.join('\n'));
  console.log('\nwrote docs/models.md');
}

async function main() {
  if (args.child) {
    const [name, opset] = positionals;
    let res;
    try {
      res = await runChild(name, opset);
    } catch (e) {
      res = { model: name, opset: Number(opset), status: 'fail', stage: 'harness', message: messageOf(e), failures: [{ stage: 'harness', message: messageOf(e) }] };
    }
    try {
      const ref = JSON.parse(readFileSync(path.join(ZOO, name, 'reference.json'), 'utf8'));
      res.versions = { torch: ref.torch, torchvision: ref.torchvision };
    } catch {}
    process.stdout.write(`${CHILD_TAG}${JSON.stringify(res)}\n`);
    return;
  }

  const started = performance.now();
  const full = positionals.length === 0 && !args.opset;
  const demoOn = !args['no-demo'] && (args.demo || full);
  if (!args['skip-export']) exportModels(positionals);
  const known = zooIndex();
  const unknown = positionals.filter((n) => !known.includes(n));
  if (unknown.length) fail(`unknown model(s) ${unknown.join(', ')}; known: ${known.join(', ')}`);
  const names = positionals.length ? known.filter((n) => positionals.includes(n)) : known;
  console.log(`\nchecking ${names.length} model(s) at opset ${args.opset ?? 'each of theirs'}, one child process each (timeout ${TIMEOUT_S} s)`);
  const results = [];
  for (const name of names) {
    for (const opset of opsetsOf(name).filter((o) => !args.opset || o === args.opset)) {
      const file = path.join(ZOO, name, `opset${opset}.onnx`);
      let r;
      if (!existsSync(file) || !existsSync(path.join(ZOO, name, 'reference.json'))) {
        r = { model: name, opset: Number(opset), status: 'not-exported', message: `${path.relative(ROOT, file)} is missing (the export failed or was skipped)`, failures: [] };
      } else {
        console.log(`\n=== ${name} (opset ${opset})`);
        r = await checkInChild(name, opset);
      }
      if (r.params == null) {
        try {
          r.params = JSON.parse(readFileSync(path.join(ZOO, name, 'reference.json'), 'utf8')).params;
        } catch {}
      }
      if (demoOn && DEMO_MODELS.has(name) && opset === DEMO_OPSET && r.loadMs != null) {
        console.log(`\n=== ${name} (opset ${opset}) in the demo page`);
        r.demo = await checkInDemo(name, opset);
      }
      results.push(r);
      const timing = r.loadMs != null ? ` load ${fmt(r.loadMs)} ms, predict ${fmt(r.predictMs, 1)} ms, explain ${fmt(r.explainMs, 1)} ms, heap ${fmt(r.heapMB)} MB, logits Δ ${fmtDelta(r.logitsDelta)};` : '';
      console.log(`${passed(r) ? 'PASS' : 'FAIL'} ${name} (opset ${opset}):${timing} ${statusText(r)}`);
      for (const f of (r.failures ?? []).slice(1)) console.log(`     also ${f.stage}: ${f.message}`);
      if (r.demo?.ok) console.log(`     demo: ${demoFigures(r.demo)}`);
    }
  }

  const totalSeconds = (performance.now() - started) / 1000;
  console.log(`\nmachine: ${machine()}\n`);
  printTable(results);
  if (demoOn) printDemo(results);
  mkdirSync(ZOO, { recursive: true });
  writeFileSync(path.join(ZOO, 'results.json'), JSON.stringify({ machine: machine(), runs: RUNS, results }, null, 1));

  const command = `node scripts/zoo.mjs${process.argv.slice(2).length ? ' ' + process.argv.slice(2).join(' ') : ''}`;
  if (!args['no-doc'] && (full || args.doc)) writeDoc(results, command, totalSeconds);
  else if (!args['no-doc']) console.log('\n(a subset: docs/models.md not written; --doc writes it anyway)');

  const failed = results.filter((r) => !passed(r));
  console.log(`\n${results.length - failed.length} of ${results.length} pass${failed.length ? `; failing: ${failed.map((r) => `${r.model}@${r.opset}`).join(', ')}` : ''} (${(totalSeconds / 60).toFixed(1)} min)`);
  process.exitCode = failed.length ? 1 : 0;
}

await main();
