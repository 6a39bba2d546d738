#!/usr/bin/env node
// Benchmark of the lrp-wasm package against onnxruntime-web on the same ONNX files.
//
//   node scripts/bench.mjs                      # the models in MODELS: mnist-mlp, mnist-cnn, mnist-vit,
//                                               # resnet18, mobilenet_v2, efficientnet_b0, vit_b_16
//   node scripts/bench.mjs --quick              # short time budgets (smoke test)
//   node scripts/bench.mjs --model mnist-cnn    # a MODELS entry by name (repeatable) ...
//   node scripts/bench.mjs --model some.onnx    # ... or any ONNX file (shape from the file; MNIST digits
//                                               #     if it has 784 inputs, else seeded random inputs)
//   node scripts/bench.mjs --threads 2          # both engines at 2 threads (default 1)
//   node scripts/bench.mjs --help               # all flags (--time, --inputs, --package, --in-process)
//
// Every model runs in its own child process (the script re-invokes itself with `--child --model NAME`
// and collects the JSON the child prints): one wasm engine is shared by all models of a process and
// its memory only grows, so a fresh process is what makes each model's heap high-water mark its own.
//
// Models with `threads` (ResNet-18, ResNet-50, and MobileNetV2 for its memory-bound depthwise convs) also
// run at each of those thread counts, both engines at the same count (our engine through
// `configure({ threads })`, onnxruntime-web through env.wasm.numThreads), timing predict,
// explain(epsilon-plus-flat) and ORT's forward; the "threads" table sets them side by side (explain against
// ORT's one-thread forward, predict against ORT at the same count).
//
// For each model it prints: our predict latency and the explain latency of every composite and
// gradient method in EXPLAINS (median, p90), onnxruntime-web's forward latency (WASM backend, 1 thread,
// batch 1, same process), the wasm heap of our engine (engineMemoryBytes(): after loading, after the
// explains, after the batch throughput run), batch throughput of explanations (light models), the
// agreement of the logits (with ORT, and with PyTorch's reference logits where the model has them),
// and the ratios against the goals (predict <= 1x ORT forward, explain(epsilon-plus-flat) <= 3x ORT
// forward; on transformers explain(attn-lrp) <= 3x). Then a summary over all models, with "explain under
// 16 ms" (one animation frame) for the MNIST CNN and ViT. A miss is informational: the exit code is
// non-zero only on errors. The last line is `BENCH_JSON {...}` for machines.
//
// resnet18 (torchvision's architecture, random weights) is not committed: when build/models/resnet18.onnx
// is missing the bench makes it with `/usr/bin/python3 scripts/export_resnet.py --no-fixture --resnet18
// build/models/resnet18.onnx` (about 20 s, needs Debian's python3-torch: `bash scripts/setup.sh --train`),
// and skips resnet18 with a note when python3/torch is not there.
//
// Run it after the build (`npm run bench` does set-up, build and bench): the package is imported by
// its own name, `lrp-wasm`, which resolves to dist/lrp-wasm.node.js through package.json "exports" (the node condition).

import { parseArgs } from 'node:util';
import { readFileSync, existsSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { createRequire } from 'node:module';
import { readMnist } from './mnist.mjs';
import { mulberry32 as prng } from '../web/src/random.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PYTHON = '/usr/bin/python3';

// The models to benchmark. A new model is one more entry:
//   name        short name (also accepted by --model)
//   file        ONNX file, relative to the repository root
//   inputShape  one input without the batch dimension (optional: else taken from the ONNX file)
//   inputs      'mnist' (real test digits, x/255 in [0,1]) | 'normal' | 'uniform' (fixed-seed PRNG) |
//               'reference' (inputFile: float32 input(s) of the model, little-endian; the first one and
//               small seeded perturbations of it, x + 0.01 N(0,1))
//   reference   JSON with the model's reference logits (key `logits`, one row per input of inputFile)
//   bounds      [low, high] of the inputs: the z-box bounds of epsilon-gamma-box and deep-taylor
//               (default: [0, 1] for mnist/uniform inputs, [-3, 3] for normal ones)
//   heavy       slow model: a few timed calls per measurement, no batch throughput (see profileOf)
//   make        how to create the file when it is missing (see makeModel)
//   frame       report whether every explain stays under one animation frame (16 ms)
//   required    default run fails if the file is missing (otherwise a missing file is skipped)
//   transformer the goal explain is attn-lrp (default: true when the model has a softmax or LayerNorm layer)
//   explains    keys of EXPLAINS to time (default: every one that fits the model, see explainsOf)
//   opset       which of the zoo's exports to use (make: 'zoo'; default 13)
//   threads     thread counts to compare (the run at 1 is the full one; others time predict, the goal
//               explain and ORT's forward at that count)
//   dev         only run when asked for by name (development/test models outside the package)
const MODELS = [
  { name: 'mnist-mlp', file: 'web/models/mnist-mlp.onnx', inputShape: [1, 28, 28], inputs: 'mnist', bounds: [0, 1], required: true },
  { name: 'mnist-cnn', file: 'web/models/mnist-cnn.onnx', inputShape: [1, 28, 28], inputs: 'mnist', bounds: [0, 1], required: true, frame: true },
  { name: 'mnist-vit', file: 'web/models/mnist-vit.onnx', inputShape: [1, 28, 28], inputs: 'mnist', bounds: [0, 1], required: true, transformer: true, frame: true },
  {
    name: 'resnet18', file: 'build/models/resnet18.onnx', inputShape: [3, 224, 224], inputs: 'reference',
    inputFile: 'build/models/resnet18.input.f32', reference: 'build/models/resnet18.reference.json',
    bounds: [-3, 3], heavy: true, make: 'resnet18', threads: [1, 2],
  },
  // Post-2017 architectures (depthwise convs, squeeze-excitation, SiLU/Hardswish), made by the model zoo's
  // exporter (random seeded weights, PyTorch's logits) when missing.
  ...['mobilenet_v2', 'efficientnet_b0', 'resnet50'].map((name) => ({
    name, file: `build/zoo/${name}/opset13.onnx`, inputShape: [3, 224, 224], inputs: 'reference',
    inputFile: `build/zoo/${name}/input.bin`, reference: `build/zoo/${name}/reference.json`,
    bounds: [-3, 3], heavy: true, make: 'zoo', ...(name === 'efficientnet_b0' ? {} : { threads: [1, 2] }),
  })),
  // torchvision's ViT-B/16 (random weights, 86 M parameters, 346 MB) at opset 17 (LayerNormalization
  // as one node in both engines). Only the transformer explains and the gradient: the Zennit composites
  // and the many-pass methods add minutes and say nothing the CNNs do not.
  {
    name: 'vit_b_16', file: 'build/zoo/vit_b_16/opset17.onnx', inputShape: [3, 224, 224], inputs: 'reference',
    inputFile: 'build/zoo/vit_b_16/input.bin', reference: 'build/zoo/vit_b_16/reference.json',
    bounds: [-3, 3], heavy: true, make: 'zoo', opset: 17, transformer: true, explains: ['attn-lrp', 'cp-lrp', 'gradient'],
  },
  { name: 'tiny-mlp', file: 'tests/fixtures/golden/tiny-mlp/model.onnx', inputShape: [16], inputs: 'normal', dev: true },
  { name: 'tiny-cnn', file: 'tests/fixtures/golden/tiny-cnn/model.onnx', inputs: 'normal', dev: true },
  {
    name: 'resnet-small', file: 'tests/fixtures/resnet-small/model.onnx', inputShape: [3, 32, 32], inputs: 'reference',
    inputFile: 'tests/fixtures/resnet-small/inputs.f32', reference: 'tests/fixtures/resnet-small/reference.json', bounds: [-3, 3], dev: true,
  },
];

// The explain configurations that are timed (every composite, then the gradient methods).
// `bounds`: the configuration takes the model's input bounds as low/high.
const EXPLAINS = [
  { key: 'epsilon-plus', lrp: true, options: { composite: 'epsilon-plus' } },
  { key: 'epsilon-plus-flat', lrp: true, options: { composite: 'epsilon-plus-flat' } },
  { key: 'epsilon-alpha2-beta1', lrp: true, options: { composite: 'epsilon-alpha2-beta1' } },
  { key: 'epsilon-alpha2-beta1-flat', lrp: true, options: { composite: 'epsilon-alpha2-beta1-flat' } },
  { key: 'epsilon-gamma-box', lrp: true, bounds: true, options: { composite: 'epsilon-gamma-box' } },
  { key: 'deep-taylor', lrp: true, bounds: true, options: { composite: 'deep-taylor' } },
  { key: 'gradient', options: { method: 'gradient' } },
  { key: 'gradient-x-input', options: { method: 'gradient-x-input' } },
  { key: 'integrated-gradients', options: { method: 'integrated-gradients', steps: 16 } },
  { key: 'smoothgrad', options: { method: 'smoothgrad', samples: 8 } },
  // the transformer composites (timed on transformers only)
  { key: 'attn-lrp', lrp: true, transformer: true, options: { composite: 'attn-lrp' } },
  { key: 'cp-lrp', lrp: true, transformer: true, options: { composite: 'cp-lrp' } },
];
// The explain the goal (and the batch throughput) is about: epsilon-plus-flat, and attn-lrp on transformers.
const GOAL_EXPLAIN = 'epsilon-plus-flat';
const GOAL_EXPLAIN_TRANSFORMER = 'attn-lrp';
const goalOf = (spec) => (spec.transformer ? GOAL_EXPLAIN_TRANSFORMER : GOAL_EXPLAIN);
// The configurations timed on a model: its own list, else every one (the transformer composites only
// on transformers).
const explainsOf = (spec) =>
  spec.explains ? spec.explains.map((k) => EXPLAINS.find((e) => e.key === k)) : EXPLAINS.filter((e) => spec.transformer || !e.transformer);
const GOALS = { predict: 1, explain: 3 };
const FRAME_MS = 16; // one animation frame at 60 Hz
const CHILD_TAG = 'BENCH_CHILD_JSON ';

// ---------------------------------------------------------------------------------------------
// Command line

const USAGE = `usage: node scripts/bench.mjs [--model NAME|PATH]... [--quick] [--time SECONDS] [--inputs N] [--package FILE] [--in-process]
  --model, -m   a MODELS entry (${MODELS.map((m) => m.name).join(', ')}) or an ONNX file; repeatable
  --quick, -q   short time budgets (smoke test)
  --time        seconds per measurement (default 1.5, quick 0.25; heavy models: twice that, at least 3 calls)
  --inputs      number of distinct inputs cycled through and used for throughput (default 256, quick 64;
                heavy models: 4, quick 2)
  --package     the module to benchmark instead of the built package 'lrp-wasm' (e.g. another build's
                dist/lrp-wasm.node.js); it must export loadModel like the package
  --in-process  run all models in this process instead of one child process per model (faster start,
                but the engine's memory figures then include the models before)
  --threads     threads of both engines (default 1; models with a threads list run at each of them too)
  --child       internal: run the given model(s) and print their results as one ${CHILD_TAG.trim()} line`;

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      model: { type: 'string', short: 'm', multiple: true },
      quick: { type: 'boolean', short: 'q', default: false },
      time: { type: 'string' },
      inputs: { type: 'string' },
      package: { type: 'string' },
      'in-process': { type: 'boolean', default: false },
      threads: { type: 'string' },
      scaling: { type: 'boolean', default: false },
      child: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  }));
} catch (e) {
  console.error(`${e.message}\n${USAGE}`);
  process.exit(2);
}
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
const QUICK = args.quick;
const CHILD = args.child;
const BUDGET_MS = 1000 * (args.time !== undefined ? Number(args.time) : QUICK ? 0.25 : 1.5);
const N_INPUTS = args.inputs !== undefined ? Number(args.inputs) : QUICK ? 64 : 256;
if (!(BUDGET_MS > 0) || !(Number.isInteger(N_INPUTS) && N_INPUTS > 0)) {
  console.error(`bad --time or --inputs\n${USAGE}`);
  process.exit(2);
}
const MAX_ITERS = 200000;
const THREADS = args.threads !== undefined ? Number(args.threads) : 1;
if (!(Number.isInteger(THREADS) && THREADS > 0)) {
  console.error(`bad --threads\n${USAGE}`);
  process.exit(2);
}
// --scaling (internal): a thread-count run: predict, the goal explain and ORT's forward only.
const SCALING = args.scaling;

// Timing of a model's measurements. Light models: every measurement is warmed up (at least 3 calls
// and a third of its budget), then timed in ROUNDS interleaved rounds, BUDGET_MS and at least
// MIN_ITERS calls in all. Heavy models (ResNet-18: explains of 0.3-7 s): 3 rounds of at least one call
// each (quick: 1), twice BUDGET_MS per measurement, so slow explains get exactly 3 calls and fast
// measurements more; a measurement whose function already ran during the checks is not warmed up
// again (its checked calls were the warm-up), the others get one warm-up call.
function profileOf(spec) {
  if (spec.heavy) {
    const rounds = QUICK ? 1 : 3;
    return {
      heavy: true, budgetMs: 2 * BUDGET_MS, rounds, minIters: rounds, warmupCalls: 1, warmupMs: 0, prewarmedCalls: 0,
      nInputs: args.inputs !== undefined ? N_INPUTS : QUICK ? 2 : 4, throughput: false,
    };
  }
  return {
    heavy: false, budgetMs: BUDGET_MS, rounds: QUICK ? 2 : 5, minIters: QUICK ? 5 : 20,
    warmupCalls: 3, warmupMs: Math.max(100, BUDGET_MS / 3), prewarmedCalls: 3, nInputs: N_INPUTS, throughput: true,
  };
}
const describeProfile = (p) =>
  p.heavy
    ? `${p.rounds} interleaved round(s) of >= 1 call, ${p.budgetMs / 1000} s per measurement (slow explains: ${p.minIters} timed calls)`
    : `warm-up >= ${p.warmupCalls} calls and ${(p.warmupMs / 1000).toFixed(2)} s, then ${p.rounds} interleaved rounds, ${p.budgetMs / 1000} s and >= ${p.minIters} calls per measurement`;

const errors = [];
const warnings = [];
function warn(msg) {
  warnings.push(msg);
  console.log(`warning: ${msg}`);
}
function recordError(where, e) {
  const brief = `${where}: ${e && e.message ? e.message : e}`;
  errors.push(brief);
  // the stack helps with a crash, not with a file that is simply missing
  console.error(`ERROR ${e && e.stack && e.code !== 'ERR_MODULE_NOT_FOUND' ? `${where}: ${e.stack}` : brief}`);
}

// ---------------------------------------------------------------------------------------------
// Timing

function summarize(timesMs) {
  const s = Float64Array.from(timesMs).sort();
  const q = (p) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
  let sum = 0;
  for (const t of s) sum += t;
  const n = s.length;
  const median = n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  return { median, p90: q(0.9), min: s[0], mean: sum / n, n };
}

// Every measurement is a function fn(i) (i = running call index, used to cycle through the inputs;
// sync or async). All measurements of a model are first warmed up (so that V8 tiers the hot wasm
// functions of both engines up), then timed call by call in interleaved rounds: load from other
// processes then hits every measurement alike and the ratios stay fair. `sink` keeps the results alive.
let sink = 0;
async function timeCalls(fn, isAsync, budgetMs, minIters, times, state) {
  const t0 = performance.now();
  let k = 0;
  while (times.length < MAX_ITERS && (k < minIters || performance.now() - t0 < budgetMs)) {
    const a = process.hrtime.bigint();
    const r = isAsync ? await fn(state.i++) : fn(state.i++);
    const b = process.hrtime.bigint();
    times.push(Number(b - a) / 1e6);
    sink += touch(r);
    k++;
  }
}

async function runMeasurements(list, prof) {
  for (const m of list) {
    m.isAsync = m.fn.constructor.name === 'AsyncFunction';
    m.state = { i: 0 };
    m.times = [];
    const warm = [];
    const calls = m.prewarmed ? prof.prewarmedCalls : prof.warmupCalls;
    if (calls > 0) await timeCalls(m.fn, m.isAsync, prof.warmupMs, calls, warm, m.state);
  }
  for (let r = 0; r < prof.rounds; r++) {
    for (const m of list) await timeCalls(m.fn, m.isAsync, prof.budgetMs / prof.rounds, Math.ceil(prof.minIters / prof.rounds), m.times, m.state);
  }
  for (const m of list) m.stats = summarize(m.times);
}

function touch(r) {
  if (r == null) return 0;
  if (typeof r === 'number') return r;
  if (ArrayBuffer.isView(r)) return r.length ? r[0] : 0;
  if (r.relevance) return r.relevance.length ? r.relevance[0] : 0;
  if (Array.isArray(r)) return r.length;
  return 1;
}

// ---------------------------------------------------------------------------------------------
// Inputs

function mnistInputs(count, size) {
  if (size !== 784) throw new Error(`MNIST digits are 28x28, the model wants ${size} values`);
  const { images, labels } = readMnist('test', count);
  if (images.length < count) throw new Error(`only ${images.length} MNIST test digits`);
  return { inputs: images, labels };
}


function randomInputs(count, size, kind, seed = 20240607) {
  const rand = prng(seed);
  const inputs = [];
  for (let k = 0; k < count; k++) {
    const x = new Float32Array(size);
    for (let j = 0; j < size; j++) {
      if (kind === 'uniform') x[j] = rand();
      else {
        // standard normal (Box-Muller)
        const u = 1 - rand();
        x[j] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
      }
    }
    inputs.push(x);
  }
  return { inputs, labels: null };
}

// The model's own input (first one of inputFile) and count - 1 small perturbations of it
// (x + 0.01 N(0,1), seeded); the reference logits of that first input when the model has them.
function referenceInputs(spec, count, size) {
  const file = path.resolve(ROOT, spec.inputFile);
  const buf = readFileSync(file);
  if (buf.length < 4 * size || buf.length % (4 * size)) throw new Error(`${spec.inputFile}: ${buf.length} bytes, not a multiple of ${size} float32 values`);
  const x0 = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + 4 * size));
  const inputs = [x0];
  for (const n of randomInputs(count - 1, size, 'normal').inputs) inputs.push(Float32Array.from(x0, (v, j) => v + 0.01 * n[j]));
  let referenceLogits = null;
  if (spec.reference) {
    const ref = JSON.parse(readFileSync(path.resolve(ROOT, spec.reference), 'utf8'));
    const row = Array.isArray(ref.logits?.[0]) ? ref.logits[0] : ref.logits;
    if (!Array.isArray(row) || !row.length) throw new Error(`${spec.reference}: no 'logits'`);
    referenceLogits = Float32Array.from(row);
  }
  return { inputs, labels: null, referenceLogits };
}

// ---------------------------------------------------------------------------------------------
// onnxruntime-web in Node: the package's "node" export condition resolves `onnxruntime-web` to
// dist/ort.node.min.mjs, which loads dist/ort-wasm-simd-threaded.{mjs,wasm} next to itself via
// import.meta.url (no download, no wasmPaths needed). numThreads = 1 never starts a worker.

async function loadOrt() {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = THREADS;
  ort.env.wasm.proxy = false;
  ort.env.logLevel = 'error';
  let entry = '?';
  try {
    entry = path.relative(ROOT, fileURLToPath(import.meta.resolve('onnxruntime-web')));
  } catch {
    /* import.meta.resolve is only informational */
  }
  let version = ort.env.versions?.web;
  if (!version) {
    try {
      version = createRequire(import.meta.url)('onnxruntime-web/package.json').version;
    } catch {
      version = '?';
    }
  }
  return { ort, entry, version };
}

// An ONNX Identity model with the given input shape, to measure ORT's fixed per-run cost
// (JS API, tensor marshalling in and out of its wasm heap, promise) separately from compute.
async function identityModelBytes(dims) {
  const { onnx } = (await import('onnx-proto')).default;
  const vi = (name) =>
    onnx.ValueInfoProto.create({
      name,
      type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
    });
  const m = onnx.ModelProto.create({
    irVersion: 7,
    producerName: 'lrp-wasm bench',
    opsetImport: [{ domain: '', version: 13 }],
    graph: { name: 'identity', node: [{ opType: 'Identity', input: ['x'], output: ['y'] }], input: [vi('x')], output: [vi('y')] },
  });
  return onnx.ModelProto.encode(m).finish();
}

// ---------------------------------------------------------------------------------------------
// Model selection

// Creates a model file that is not committed. Returns true when the files exist afterwards; false
// (with a note) when the tools to make them are not installed; records an error when making failed.
function makeModel(spec) {
  const needed = [spec.file, spec.inputFile, spec.reference].filter(Boolean);
  if (needed.every((f) => existsSync(path.resolve(ROOT, f)))) return true;
  if (spec.make !== 'resnet18' && spec.make !== 'zoo') return false;
  const command = spec.make === 'zoo'
    ? [PYTHON, 'scripts/zoo_export.py', '--opset', String(spec.opset ?? 13), spec.name]
    : [PYTHON, 'scripts/export_resnet.py', '--no-fixture', '--resnet18', spec.file];
  const skip = (why) => {
    console.log(`note: ${spec.name} skipped: ${spec.file} is missing and ${why}; \`bash scripts/setup.sh --train\` installs python3-torch, then \`${command.join(' ')}\` makes it`);
    return false;
  };
  if (!existsSync(PYTHON)) return skip(`${PYTHON} does not exist`);
  const probe = spawnSync(PYTHON, ['-c', 'import torch, onnx, numpy'], { cwd: ROOT, encoding: 'utf8' });
  if (probe.status !== 0) {
    const last = `${probe.stderr ?? ''}${probe.error?.message ?? ''}`.trim().split('\n').pop();
    return skip(`${PYTHON} cannot import torch/onnx/numpy (${last || `exit code ${probe.status}`})`);
  }
  console.log(`making ${spec.name} (not committed): ${command.join(' ')}  (about 20 s; vit_b_16 about 2 min)`);
  const t0 = performance.now();
  const r = spawnSync(command[0], command.slice(1), { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0 || !needed.every((f) => existsSync(path.resolve(ROOT, f)))) {
    recordError(`${spec.name}: ${command.join(' ')}`, r.error ?? `exit code ${r.status}${r.signal ? ` (signal ${r.signal})` : ''}`);
    return false;
  }
  console.log(`made ${spec.file} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return true;
}

function selectModels() {
  if (!args.model || args.model.length === 0) {
    const picked = [];
    for (const m of MODELS) {
      if (m.dev) continue;
      if (m.make && !makeModel(m)) continue;
      const file = path.resolve(ROOT, m.file);
      if (existsSync(file)) picked.push({ ...m, file, arg: m.name });
      else if (m.required) {
        recordError(m.name, `bundled model ${m.file} does not exist (train it: npm run train)`);
      } else console.log(`note: ${m.name} skipped (${m.file} does not exist)`);
    }
    return picked;
  }
  const picked = [];
  for (const spec of args.model) {
    const entry = MODELS.find((m) => m.name === spec);
    if (entry) {
      if (entry.make && !makeModel(entry)) continue;
      picked.push({ ...entry, file: path.resolve(ROOT, entry.file), arg: entry.name });
      continue;
    }
    const file = path.resolve(spec);
    const known = MODELS.find((m) => path.resolve(ROOT, m.file) === file);
    if (known) picked.push({ ...known, file, arg: known.name });
    else picked.push({ name: path.basename(file, '.onnx'), file, inputs: 'auto', arg: file });
  }
  return picked;
}

// ---------------------------------------------------------------------------------------------
// One model

const ms = (v) => (v == null || !Number.isFinite(v) ? '-' : v < 0.1 ? v.toFixed(4) : v < 10 ? v.toFixed(3) : v.toFixed(1));
const ratioStr = (r) => (r == null || !Number.isFinite(r) ? '-' : `${r.toFixed(2)}x`);
const mb = (v) => (v == null || !Number.isFinite(v) ? '-' : v.toFixed(1));

function argmax(a) {
  let k = 0;
  for (let j = 1; j < a.length; j++) if (a[j] > a[k]) k = j;
  return k;
}

function maxAbsDiff(a, b) {
  let d = 0;
  for (let j = 0; j < b.length; j++) d = Math.max(d, Math.abs(a[j] - b[j]));
  return d;
}

let firstModel = true;
async function benchModel(spec, lrp, ortInfo) {
  const res = { name: spec.name, file: path.relative(ROOT, spec.file) || spec.file };
  console.log(`\n=== ${spec.name}  (${res.file})`);
  if (!existsSync(spec.file)) throw new Error(`${spec.file} does not exist`);
  const bytes = new Uint8Array(readFileSync(spec.file));
  res.fileBytes = bytes.length;
  const prof = profileOf(spec);
  // the wasm heap of our engine in MB (its high-water mark: wasm memory only grows)
  const heapMB = typeof lrp?.engineMemoryBytes === 'function' ? () => lrp.engineMemoryBytes() / 2 ** 20 : () => null;
  const memory = (res.memoryMB = { beforeLoad: heapMB() });
  if (lrp && typeof lrp.engineMemoryBytes !== 'function') console.log('note: the package has no engineMemoryBytes(); no memory figures');

  // ORT session first: it also tells the input shape when the table does not.
  let sess = null;
  let ortErr = null;
  if (ortInfo) {
    try {
      const t0 = performance.now();
      sess = await ortInfo.ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
      res.ortLoadMs = performance.now() - t0;
    } catch (e) {
      ortErr = e;
      recordError(`${spec.name}: onnxruntime-web session`, e);
    }
  }

  let model = null;
  if (lrp) {
    try {
      const t0 = performance.now();
      model = await lrp.loadModel(bytes);
      res.loadMs = performance.now() - t0;
      // the engine started with this first model: the threads it really runs (builds without threads: 1)
      res.engineThreads = typeof lrp.engineThreads === 'function' ? lrp.engineThreads() : 1;
      if (res.engineThreads !== THREADS) warn(`lrp-wasm runs at ${res.engineThreads} thread(s), not the ${THREADS} asked for`);
      // an ONNX file given by path: a softmax or LayerNorm inside makes it a transformer
      spec.transformer ??= model.layers.some((l) => l.kind === 'softmax' || l.kind === 'layernorm');
      memory.afterLoad = heapMB();
    } catch (e) {
      recordError(`${spec.name}: lrp-wasm loadModel`, e);
    }
  }

  try {
    // Input shape (without batch): table > ONNX file (as ORT reads it) > our model.
    const prod = (a) => a.reduce((x, y) => x * y, 1);
    let ortShape = sess?.inputMetadata?.[0]?.shape?.slice(1);
    if (ortShape && !ortShape.every((d) => Number.isInteger(d) && d > 0)) ortShape = null;
    const shape = spec.inputShape ?? ortShape ?? (model?.inputShape ? Array.from(model.inputShape) : null);
    if (!shape) throw new Error('cannot tell the input shape; give inputShape in MODELS');
    const size = prod(shape);
    if (model?.inputShape && model.inputShape.join(',') !== shape.join(',')) {
      const msg = `lrp-wasm reports inputShape [${model.inputShape}], the bench uses [${shape}]`;
      if (prod(Array.from(model.inputShape)) !== size) throw new Error(msg);
      console.log(`note: ${msg} (same size)`);
    }
    if (ortShape && prod(ortShape) !== size) throw new Error(`the ONNX input is [${ortShape}], MODELS says [${shape}]`);
    const ortDims = [1, ...(ortShape ?? shape)];
    res.inputShape = shape;

    let kind = spec.inputs;
    if (kind === 'auto') kind = size === 784 ? 'mnist' : 'normal';
    const nIn = prof.nInputs;
    const nCheck = Math.min(nIn, 64); // inputs on which the logits of both engines are compared
    const { inputs, labels, referenceLogits } =
      kind === 'mnist' ? mnistInputs(nIn, size) : kind === 'reference' ? referenceInputs(spec, nIn, size) : randomInputs(nIn, size, kind);
    res.inputs =
      kind === 'mnist'
        ? `${nIn} MNIST test digits (x/255)`
        : kind === 'reference'
          ? `${spec.inputFile} and ${nIn - 1} perturbation(s) x + 0.01 N(0,1)`
          : `${nIn} ${kind} random (seeded)`;
    const bounds = spec.bounds ?? (kind === 'normal' ? [-3, 3] : [0, 1]);
    res.bounds = bounds;
    res.timing = describeProfile(prof);
    console.log(`input [${shape}] x ${res.inputs}; z-box bounds [${bounds}]`);
    console.log(`timing: ${res.timing}`);

    const list = []; // measurements: { key, label, note, fn, prewarmed }, timed together (interleaved)
    const goal = (res.goalExplain = goalOf(spec));
    const explains = explainsOf(spec);

    // --- ORT forward --------------------------------------------------------------------------
    const ortLogits = [];
    let idSess = null;
    if (sess) {
      const inName = sess.inputNames[0];
      const outName = sess.outputNames[0];
      const dims = ortDims;
      const { Tensor } = ortInfo.ort;
      const ortTensors = inputs.map((x) => new Tensor('float32', x, dims));
      for (let k = 0; k < nCheck; k++) ortLogits.push((await sess.run({ [inName]: ortTensors[k] }))[outName].data);
      if (labels) {
        let ok = 0;
        for (let k = 0; k < nCheck; k++) ok += argmax(ortLogits[k]) === labels[k] ? 1 : 0;
        res.accuracy = { correct: ok, of: nCheck };
      }
      // (a) tensors created beforehand: session.run alone (the baseline of the ratios)
      list.push({
        key: 'ortRun', label: 'ORT run (tensor pre-made)', note: 'await session.run, batch 1', prewarmed: true,
        fn: async (i) => (await sess.run({ [inName]: ortTensors[i % nIn] }))[outName].data,
      });
      // (b) what an app does per call: wrap the Float32Array in a new Tensor, run, read the data
      list.push({
        key: 'ortRunWithTensor', label: 'ORT run (+ new Tensor)', note: 'tensor creation included', prewarmed: true,
        fn: async (i) => (await sess.run({ [inName]: new Tensor('float32', inputs[i % nIn], dims) }))[outName].data,
      });
      // (c) ORT's fixed cost per run for this input size (Identity graph: no compute)
      try {
        idSess = await ortInfo.ort.InferenceSession.create(await identityModelBytes(dims), { executionProviders: ['wasm'] });
        list.push({
          key: 'ortIdentityRun', label: 'ORT run, Identity graph', note: 'ORT per-call floor (no compute)',
          fn: async (i) => (await idSess.run({ x: ortTensors[i % nIn] })).y.data,
        });
      } catch (e) {
        console.log(`note: Identity-graph overhead measurement skipped (${e.message})`);
      }
    } else if (ortInfo && ortErr) {
      res.ortError = ortErr.message;
    }
    if (referenceLogits && ortLogits.length) {
      (res.reference ??= { file: spec.reference }).ortMaxAbsDiff = maxAbsDiff(ortLogits[0], referenceLogits);
    }

    // --- ours ---------------------------------------------------------------------------------
    const explainHeap = {}; // heap MB after the first (checked) call of each configuration
    if (model) {
      // Agreement with ORT and the reference logits (and sanity of explain().output) before any timing.
      const ours0 = model.predict(inputs[0]);
      if (referenceLogits) {
        if (ours0.length !== referenceLogits.length) throw new Error(`predict returned ${ours0.length} logits, the reference has ${referenceLogits.length}`);
        let maxLogit = 0;
        for (const v of referenceLogits) maxLogit = Math.max(maxLogit, Math.abs(v));
        Object.assign((res.reference ??= { file: spec.reference }), {
          maxAbsDiff: maxAbsDiff(ours0, referenceLogits), maxAbsLogit: maxLogit,
          argmaxAgree: argmax(ours0) === argmax(referenceLogits),
        });
      }
      if (ortLogits.length) {
        let maxAbs = 0;
        let maxLogit = 0;
        let argmaxAgree = 0;
        for (let k = 0; k < nCheck; k++) {
          const ours = model.predict(inputs[k]);
          const ref = ortLogits[k];
          if (ours.length !== ref.length) throw new Error(`predict returned ${ours.length} logits, ORT ${ref.length}`);
          maxAbs = Math.max(maxAbs, maxAbsDiff(ours, ref));
          for (let j = 0; j < ref.length; j++) maxLogit = Math.max(maxLogit, Math.abs(ref[j]));
          argmaxAgree += argmax(ours) === argmax(ref) ? 1 : 0;
        }
        res.agreement = { inputs: nCheck, maxAbsDiff: maxAbs, maxAbsLogit: maxLogit, argmaxAgree };
      }
      memory.afterPredict = heapMB();
      list.push({ key: 'predict', label: 'lrp-wasm predict', note: '', prewarmed: true, fn: (i) => model.predict(inputs[i % nIn]) });
      for (const ex of explains) {
        const options = ex.bounds ? { ...ex.options, low: bounds[0], high: bounds[1] } : ex.options;
        try {
          // one checked call first: a failing configuration is reported and not timed
          const e = model.explain(inputs[0], options);
          explainHeap[ex.key] = heapMB();
          if (!(e.relevance instanceof Float32Array) || e.relevance.length !== size) {
            throw new Error(`relevance is ${e.relevance?.constructor?.name}(${e.relevance?.length}), expected Float32Array(${size})`);
          }
          if (!e.relevance.every(Number.isFinite)) throw new Error('relevance has NaN or infinite values');
          if (ex.key === goal) {
            res.explainOutputVsPredict = maxAbsDiff(e.output, ours0);
            if (e.target !== argmax(ours0)) warn(`${spec.name}: explain target ${e.target} != argmax(predict) ${argmax(ours0)}`);
          }
          list.push({
            key: `explain:${ex.key}`, label: `lrp-wasm explain ${ex.key}`, note: JSON.stringify(options), prewarmed: true,
            fn: (i) => model.explain(inputs[i % nIn], options),
          });
        } catch (e) {
          recordError(`${spec.name}: explain ${ex.key}`, e);
        }
      }
    }

    try {
      await runMeasurements(list, prof);
    } finally {
      if (idSess) await idSess.release().catch(() => {});
    }
    memory.afterExplains = heapMB();
    for (const m of list) {
      if (m.key.startsWith('explain:')) (res.explain ??= {})[m.key.slice(8)] = m.stats;
      else res[m.key] = m.stats;
    }
    const base = res.ortRun?.median;
    const over = (v, d) => (v != null && d != null && d > 0 ? v / d : null);
    const rows = list.map((m) => {
      const key = m.key.startsWith('explain:') ? m.key.slice(8) : null;
      return [
        m.label, ms(m.stats.median), ms(m.stats.p90), ms(m.stats.min), String(m.stats.n),
        m.key.startsWith('ort') ? '' : ratioStr(over(m.stats.median, base)),
        key ? mb(explainHeap[key]) : m.key === 'predict' ? mb(memory.afterPredict) : '',
        m.note,
      ];
    });
    if (res.explain) {
      res.explainVsOrt = {};
      for (const [k, s] of Object.entries(res.explain)) res.explainVsOrt[k] = over(s.median, base);
    }
    if (Object.keys(explainHeap).length) res.memoryMB.afterFirstExplainCall = explainHeap;

    const ortBatched = sess
      ? async (batch) => {
          const flat = new Float32Array(batch.length * size);
          batch.forEach((x, k) => flat.set(x, k * size));
          const feeds = { [sess.inputNames[0]]: new ortInfo.ort.Tensor('float32', flat, [batch.length, ...ortDims.slice(1)]) };
          return async () => {
            const out = await sess.run(feeds);
            sink += touch(out[sess.outputNames[0]].data);
            return batch.length;
          };
        }
      : null;
    if (model && prof.throughput) {
      res.throughput = await throughput(model, inputs, goal, res.explain?.[goal]?.median, ortBatched, prof);
      memory.afterBatch = heapMB();
    }

    if (rows.length) printTable(['measurement', 'median ms', 'p90 ms', 'min ms', 'calls', 'x ORT', 'heap MB', 'note'], rows);
    console.log(`(x ORT: median / ORT run median; heap MB: engine wasm memory after the configuration's first call, cumulative)`);
    if (res.throughput) {
      const rate = (v) => v.toFixed(v < 100 ? 1 : 0);
      const ortT = res.throughput.find((t) => t.ort);
      for (const t of res.throughput) {
        if (t.ort) continue;
        console.log(
          `throughput (${t.mode}): ${rate(t.perSec)} explanations/s  [${goal}, batch of ${t.batch}, ${t.explanations} explanations in ${t.seconds.toFixed(2)} s]` +
            (ortT ? ` = ${(ortT.perSec / t.perSec).toFixed(2)} ORT batched forwards per explanation` : ''),
        );
      }
      if (ortT) console.log(`throughput (${ortT.mode}): ${rate(ortT.perSec)} forwards/s  [batch of ${ortT.batch}, for reference]`);
    } else if (model && !prof.throughput) {
      console.log('note: batch throughput not measured (heavy model)');
    }
    if (res.agreement) {
      const a = res.agreement;
      console.log(
        `logits vs ORT on ${a.inputs} inputs: max |diff| = ${a.maxAbsDiff.toExponential(2)} (largest |logit| ${a.maxAbsLogit.toFixed(2)}), argmax agrees ${a.argmaxAgree}/${a.inputs}` +
          (res.explainOutputVsPredict !== undefined ? `; explain().output vs predict max |diff| = ${res.explainOutputVsPredict.toExponential(2)}` : ''),
      );
    }
    if (res.reference) {
      const r = res.reference;
      const e = (v) => (v == null ? '-' : v.toExponential(2));
      console.log(
        `logits vs PyTorch reference (${r.file}, its input): lrp-wasm max |diff| = ${e(r.maxAbsDiff)}, ORT max |diff| = ${e(r.ortMaxAbsDiff)}` +
          (r.maxAbsLogit != null ? ` (largest |logit| ${r.maxAbsLogit.toFixed(2)}, argmax ${r.argmaxAgree ? 'agrees' : 'DIFFERS'})` : ''),
      );
    }
    if (res.accuracy) console.log(`ORT accuracy on the first ${res.accuracy.of} test digits: ${res.accuracy.correct}/${res.accuracy.of}`);
    if (res.loadMs !== undefined || res.ortLoadMs !== undefined) {
      console.log(
        `load: lrp-wasm loadModel ${ms(res.loadMs)} ms, ORT InferenceSession.create ${ms(res.ortLoadMs)} ms` +
          (firstModel ? ' (first model of the process: both include instantiating their wasm runtime)' : ''),
      );
    }
    if (memory.afterLoad != null) {
      console.log(
        `engine wasm heap (high-water mark): ${mb(memory.afterLoad)} MB after loadModel, ${mb(memory.afterExplains)} MB after all explains` +
          (memory.afterBatch != null ? `, ${mb(memory.afterBatch)} MB after the batch throughput run` : ''),
      );
    }
    firstModel = false;

    // --- ratios -------------------------------------------------------------------------------
    if (base && res.predict) {
      const eps = res.explain?.[goal];
      const withTensor = res.ortRunWithTensor?.median;
      // ORT's compute alone: its forward minus the Identity graph's per-call cost (an estimate)
      const compute = res.ortIdentityRun ? base - res.ortIdentityRun.median : null;
      res.ratios = {
        baseline: 'median of await session.run (tensor pre-made), batch 1',
        explainConfiguration: goal,
        predict: over(res.predict.median, base),
        explain: over(eps?.median, base),
        // the same against ORT with a new Tensor per call (what an app pays) ...
        predictVsRunWithTensor: over(res.predict.median, withTensor),
        explainVsRunWithTensor: over(eps?.median, withTensor),
        // ... and against ORT's compute alone (its fixed per-call cost removed: the harshest view)
        ortComputeMs: compute,
        predictVsOrtCompute: over(res.predict.median, compute),
        explainVsOrtCompute: over(eps?.median, compute),
      };
      res.goals = {
        predict: { max: GOALS.predict, pass: res.ratios.predict <= GOALS.predict },
        explain: { max: GOALS.explain, pass: res.ratios.explain != null && res.ratios.explain <= GOALS.explain },
      };
      console.log(
        `ratios vs ORT forward = ${ms(base)} ms (await session.run, tensor pre-made); also vs ORT + new Tensor = ${ms(withTensor)} ms` +
          (compute != null ? ` and vs ORT compute only = run - Identity floor = ${ms(compute)} ms:` : ':'),
      );
      printTable(
        ['ratio', 'value', 'vs +Tensor', 'vs compute only', 'goal', 'result'],
        [
          ['predict / ORT forward', ratioStr(res.ratios.predict), ratioStr(res.ratios.predictVsRunWithTensor), ratioStr(res.ratios.predictVsOrtCompute),
            `<= ${GOALS.predict}x`, res.goals.predict.pass ? 'PASS' : 'MISS'],
          [`explain(${goal}) / ORT forward`, ratioStr(res.ratios.explain), ratioStr(res.ratios.explainVsRunWithTensor), ratioStr(res.ratios.explainVsOrtCompute),
            `<= ${GOALS.explain}x`, res.goals.explain.pass ? 'PASS' : 'MISS'],
        ],
      );
    }

    // --- one animation frame ------------------------------------------------------------------
    if (spec.frame && res.explain) {
      const worstOf = (keys) => keys.reduce((w, k) => (!w || res.explain[k].median > w.median ? { key: k, median: res.explain[k].median } : w), null);
      const all = explains.map((e) => e.key).filter((k) => res.explain[k]);
      const worst = worstOf(all);
      const worstLrp = worstOf(all.filter((k) => EXPLAINS.find((e) => e.key === k).lrp));
      res.frame = { budgetMs: FRAME_MS, measured: all.length, of: explains.length, worst, worstLrp, pass: all.length === explains.length && worst.median < FRAME_MS };
      console.log(frameLine(res));
    }
  } finally {
    if (model) {
      try {
        model.dispose();
      } catch (e) {
        recordError(`${spec.name}: dispose`, e);
      }
    }
    if (sess) await sess.release().catch(() => {});
  }
  return res;
}

function frameLine(r) {
  const f = r.frame;
  return (
    `${r.name}: explain under ${f.budgetMs} ms: ${f.pass ? 'yes' : 'no'} - worst of ${f.measured}/${f.of} configurations: ${f.worst.key} ${ms(f.worst.median)} ms median` +
    ` (${((100 * f.worst.median) / f.budgetMs).toFixed(0)}% of a frame)` +
    (f.worstLrp ? `; worst LRP composite: ${f.worstLrp.key} ${ms(f.worstLrp.median)} ms` : '')
  );
}

// Explanations per second with the goal's composite over a batch of distinct inputs: model.explainBatch
// when the package has it, and a loop of explain calls. Like the latencies, the modes are timed in
// interleaved rounds (at least one pass over the batch per round). The batch is all inputs, or
// fewer (at least 8) when one pass would take longer than a round.
async function throughput(model, inputs, goal, explainMs, ortBatched, prof) {
  const options = EXPLAINS.find((e) => e.key === goal).options;
  const roundMs = prof.budgetMs / prof.rounds;
  const fit = Number.isFinite(explainMs) && explainMs > 0 ? Math.floor(roundMs / explainMs) : inputs.length;
  const batch = inputs.slice(0, Math.max(Math.min(8, inputs.length), Math.min(inputs.length, fit)));
  const modes = [];
  if (typeof model.explainBatch === 'function') {
    // try an array of inputs, then one concatenated Float32Array. The checked call doubles as the warm-up.
    const flat = new Float32Array(batch.length * batch[0].length);
    batch.forEach((x, k) => flat.set(x, k * x.length));
    const countOf = (r) => (Array.isArray(r) ? r.length : r?.relevance ? r.relevance.length / batch[0].length : NaN);
    let found = false;
    for (const [how, arg] of [
      ['array of Float32Array', batch],
      ['one concatenated Float32Array', flat],
    ]) {
      try {
        const n = countOf(model.explainBatch(arg, options));
        if (n !== batch.length) throw new Error(`returned ${n} explanations for ${batch.length} inputs`);
        modes.push({ mode: `model.explainBatch(${how})`, once: () => countOf(model.explainBatch(arg, options)) });
        found = true;
        break;
      } catch (e) {
        warn(`explainBatch(${how}, options) failed: ${e.message}`);
      }
    }
    if (!found) warn('model.explainBatch exists but took neither calling convention; only the explain loop is measured');
  } else {
    console.log('note: the package has no model.explainBatch; throughput is a loop of explain calls');
  }
  modes.push({
    mode: 'loop of model.explain',
    once: () => {
      for (const x of batch) sink += touch(model.explain(x, options));
      return batch.length;
    },
  });
  if (ortBatched) {
    // for reference: ORT's forward on the same batch as one [B, ...] tensor
    try {
      const run = await ortBatched(batch);
      await run(); // warm-up
      modes.push({ mode: 'ORT forward, one batched session.run', ort: true, once: run });
    } catch (e) {
      warn(`ORT batched forward skipped: ${e.message}`);
    }
  }
  for (const m of modes) Object.assign(m, { count: 0, ms: 0 });
  for (let r = 0; r < prof.rounds; r++) {
    for (const m of modes) {
      const t0 = performance.now();
      let reps = 0;
      while (reps < 1 || performance.now() - t0 < roundMs) {
        m.count += m.ort ? await m.once() : m.once();
        reps++;
      }
      m.ms += performance.now() - t0;
    }
  }
  return modes.map((m) => ({
    mode: m.mode,
    ...(m.ort ? { ort: true } : {}),
    batch: batch.length,
    [m.ort ? 'forwards' : 'explanations']: m.count,
    seconds: m.ms / 1000,
    perSec: (1000 * m.count) / m.ms,
  }));
}

// rightFrom: columns from this index on are right-aligned (default: the numeric ones)
function printTable(header, rows, rightFrom = null) {
  const all = [header, ...rows];
  const w = header.map((_, c) => Math.max(...all.map((r) => String(r[c]).length)));
  const numeric = (c) => (rightFrom != null ? c >= rightFrom : c > 0 && rows.every((r) => /^[-\d.x]+$/.test(String(r[c])) || r[c] === '' || r[c] === '-'));
  const fmt = (r) => r.map((v, c) => (numeric(c) ? String(v).padStart(w[c]) : String(v).padEnd(w[c]))).join('  ').trimEnd();
  console.log(fmt(header));
  console.log(w.map((n) => '-'.repeat(n)).join('  '));
  for (const r of rows) console.log(fmt(r));
}

// ---------------------------------------------------------------------------------------------
// Engines (in the process that benchmarks)

async function loadEngines(verbose) {
  const info = {};
  let lrp = null;
  try {
    const spec = args.package ? pathToFileURL(path.resolve(args.package)).href : 'lrp-wasm';
    lrp = await import(spec);
    if (typeof lrp.loadModel !== 'function') throw new Error(`${spec} does not export loadModel`);
    // One engine per process: its threads are set before the first model (builds without configure: 1 thread).
    if (typeof lrp.configure === 'function') lrp.configure({ threads: THREADS });
    else if (THREADS !== 1) throw new Error(`${spec} has no configure(): it cannot run at ${THREADS} threads`);
    info.threads = THREADS;
    info.package = path.relative(ROOT, fileURLToPath(import.meta.resolve(spec)));
  } catch (e) {
    lrp = null;
    recordError(args.package ? `import ${args.package}` : 'import lrp-wasm (build it first: bash scripts/build.sh)', e);
  }
  let ortInfo = null;
  try {
    ortInfo = await loadOrt();
    info.ort = { version: ortInfo.version, entry: ortInfo.entry, backend: 'wasm', numThreads: THREADS, proxy: false };
  } catch (e) {
    recordError('load onnxruntime-web', e);
  }
  if (verbose) {
    if (info.package) console.log(`lrp-wasm: ${info.package}`);
    if (ortInfo) console.log(`onnxruntime-web ${ortInfo.version}: ${ortInfo.entry}, executionProviders ['wasm'], numThreads ${THREADS}, proxy false`);
  } else {
    console.log(`(process ${process.pid}: lrp-wasm ${info.package ?? '-'} at ${THREADS} thread(s), onnxruntime-web ${ortInfo?.version ?? '-'} wasm, ${THREADS} thread(s))`);
  }
  return { lrp, ortInfo, info };
}

async function benchAll(specs, lrp, ortInfo) {
  const results = [];
  for (const spec of specs) {
    try {
      results.push(await benchModel(spec, lrp, ortInfo));
    } catch (e) {
      recordError(spec.name, e);
      results.push({ name: spec.name, error: e.message });
    }
  }
  return results;
}

// One model in a child process: its stdout is passed through line by line, its stderr is inherited,
// its results come back as the CHILD_TAG line.
async function runChild(spec, threads = THREADS) {
  const childArgs = [fileURLToPath(import.meta.url), '--child', '--model', spec.arg, '--threads', String(threads)];
  if (threads !== THREADS) childArgs.push('--scaling');
  if (QUICK) childArgs.push('--quick');
  if (args.time !== undefined) childArgs.push('--time', args.time);
  if (args.inputs !== undefined) childArgs.push('--inputs', args.inputs);
  if (args.package) childArgs.push('--package', path.resolve(args.package));
  const child = spawn(process.execPath, childArgs, { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] });
  let payload = null;
  const rl = createInterface({ input: child.stdout, crlfDelay: Infinity });
  rl.on('line', (line) => {
    if (!line.startsWith(CHILD_TAG)) return console.log(line);
    try {
      payload = JSON.parse(line.slice(CHILD_TAG.length));
    } catch (e) {
      recordError(`${spec.name}: child result`, e);
    }
  });
  const [[code, signal]] = await Promise.all([once(child, 'close'), once(rl, 'close')]);
  if (!payload) {
    recordError(spec.name, `child process exited with code ${code}${signal ? ` (signal ${signal})` : ''} without results`);
    return { info: {}, results: [{ name: spec.name, error: 'child process failed' }] };
  }
  warnings.push(...payload.warnings);
  errors.push(...payload.errors); // already printed by the child
  return { info: payload.env ?? {}, results: payload.models };
}

// ---------------------------------------------------------------------------------------------
// Summary over all models: one column per model

function printSummary(results) {
  const done = results.filter((r) => r.ratios || r.predict || r.ortRun);
  if (!done.length) return;
  console.log(`\nsummary (median ms; ratios vs ORT forward = await session.run, batch 1; goals: predict <= ${GOALS.predict}x, explain(${GOAL_EXPLAIN}; transformers: ${GOAL_EXPLAIN_TRANSFORMER}) <= ${GOALS.explain}x)`);
  const col = (f) => done.map((r) => f(r));
  const pf = (g) => (g ? (g.pass ? 'PASS' : 'MISS') : '');
  const calls = (r) => {
    const ns = Object.values(r.explain ?? {}).map((s) => s.n);
    return ns.length ? (Math.min(...ns) === Math.max(...ns) ? String(ns[0]) : `${Math.min(...ns)}-${Math.max(...ns)}`) : '-';
  };
  const e = (v) => (v == null ? '-' : v.toExponential(1));
  const rows = [
    ['predict', ...col((r) => ms(r.predict?.median))],
    ...EXPLAINS.filter((x) => done.some((r) => r.explain?.[x.key]))
      .map((x) => [`explain ${x.key}${x.key === GOAL_EXPLAIN || x.key === GOAL_EXPLAIN_TRANSFORMER ? ' *' : ''}`, ...col((r) => ms(r.explain?.[x.key]?.median))]),
    ['ORT forward', ...col((r) => ms(r.ortRun?.median))],
    ['predict / ORT', ...col((r) => `${ratioStr(r.ratios?.predict)} ${pf(r.goals?.predict)}`.trim())],
    [`explain * / ORT`, ...col((r) => `${ratioStr(r.ratios?.explain)} ${pf(r.goals?.explain)}`.trim())],
    ['slowest explain / ORT', ...col((r) => ratioStr(Math.max(...Object.values(r.explainVsOrt ?? {}).filter(Number.isFinite))))],
    ['heap MB after load', ...col((r) => mb(r.memoryMB?.afterLoad))],
    ['heap MB after explains', ...col((r) => mb(r.memoryMB?.afterExplains))],
    ['heap MB after batch run', ...col((r) => mb(r.memoryMB?.afterBatch))],
    ['timed calls per explain', ...col(calls)],
    ['logits max|diff| vs ORT', ...col((r) => e(r.agreement?.maxAbsDiff))],
    ['logits max|diff| vs PyTorch', ...col((r) => e(r.reference?.maxAbsDiff))],
  ];
  printTable(['', ...done.map((r) => r.name)], rows, 1);
  console.log(`(* = the goal's composite: ${GOAL_EXPLAIN}, ${GOAL_EXPLAIN_TRANSFORMER} on transformers (${done.filter((r) => r.goalExplain === GOAL_EXPLAIN_TRANSFORMER).map((r) => r.name).join(', ') || 'none here'}); heap = engine wasm memory high-water mark, ${args['in-process'] && !CHILD ? 'cumulative over the models of this one process' : 'each model in its own process'})`);
  for (const r of done) if (r.frame) console.log(frameLine(r));
}

// The models with a `threads` list at each count: both engines at that count, in one child process each.
function printThreads(results) {
  const names = MODELS.filter((m) => m.threads).map((m) => m.name);
  const rows = results.filter((r) => names.includes(r.name) && r.predict && r.threads != null);
  if (!rows.length) return;
  const ort1 = (name) => rows.find((r) => r.name === name && r.threads === 1)?.ortRun?.median;
  console.log(`\nthreads (median ms; both engines at the same thread count; explain = ${GOAL_EXPLAIN}, against ORT's one-thread forward)`);
  printTable(['model', 'threads', 'predict', `explain`, 'ORT forward', 'predict / ORT', 'explain / ORT 1 thread', 'heap MB'],
    rows.sort((a, b) => a.name.localeCompare(b.name) || a.threads - b.threads).map((r) => {
      const explain = r.explain?.[GOAL_EXPLAIN]?.median;
      return [r.name, String(r.threads), ms(r.predict?.median), ms(explain), ms(r.ortRun?.median),
        ratioStr(r.predict?.median / r.ortRun?.median), ratioStr(explain / ort1(r.name)), mb(r.memoryMB?.afterExplains)];
    }), 2);
}

// ---------------------------------------------------------------------------------------------
// The demo in Chromium: stroke → heatmap latency measured inside the page (scripts/bench-browser.mjs)

function runBrowserBench() {
  console.log('\ndemo page (headless Debian chromium): stroke → repainted heatmap, measured in the page');
  const out = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'bench-browser.mjs')], {
    cwd: ROOT, encoding: 'utf8', env: { ...process.env, BENCH_BROWSER_ROUNDS: QUICK ? '1' : '3' },
  });
  const lines = `${out.stdout ?? ''}`.split('\n');
  for (const line of lines) if (line && !line.startsWith('BROWSER_JSON ')) console.log(`  ${line}`);
  const json = lines.find((l) => l.startsWith('BROWSER_JSON '));
  if (out.status !== 0 || !json) {
    warnings.push(`demo latency not measured: ${(out.stderr || out.error?.message || 'no result').trim().split('\n').pop()}`);
    console.log(`  (not measured: ${warnings[warnings.length - 1]})`);
    return null;
  }
  return JSON.parse(json.slice('BROWSER_JSON '.length));
}

// ---------------------------------------------------------------------------------------------
// Main

const round = (k, v) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(5)) : v);
const env = {
  node: process.version,
  cpu: os.cpus()[0]?.model ?? '?',
  cores: os.cpus().length,
  platform: `${os.platform()} ${os.arch()}`,
  quick: QUICK,
  secondsPerMeasurement: BUDGET_MS / 1000,
  inputs: N_INPUTS,
  explainConfigurations: EXPLAINS.map((e) => ({ key: e.key, options: e.options, bounds: !!e.bounds })),
};

if (CHILD) {
  const { lrp, ortInfo, info } = await loadEngines(false);
  const specs = selectModels().map((m) => (SCALING ? { ...m, explains: [goalOf(m)], scaling: true } : m));
  const results = (await benchAll(specs, lrp, ortInfo)).map((r) => ({ ...r, threads: THREADS, ortThreads: THREADS }));
  console.log(`${CHILD_TAG}${JSON.stringify({ env: info, models: results, warnings, errors }, round)}`);
  process.exitCode = errors.length ? 1 : 0;
} else {
  const t0 = performance.now();
  console.log(`lrp-wasm bench  node ${env.node}  cpu ${env.cpu} (${env.cores} cores)  ${env.platform}${QUICK ? '  [quick]' : ''}`);
  const specs = selectModels();
  let results = [];
  const scaling = [];
  if (args['in-process']) {
    env.processes = 'one process for all models';
    const { lrp, ortInfo, info } = await loadEngines(true);
    Object.assign(env, info);
    results = await benchAll(specs, lrp, ortInfo);
  } else {
    env.processes = 'one child process per model';
    console.log('(each model runs in its own child process)');
    for (const spec of specs) {
      const out = await runChild(spec);
      if (out.info.package && !env.package) Object.assign(env, out.info);
      results.push(...out.results);
    }
    for (const spec of specs)
      for (const threads of spec.threads ?? [])
        if (threads !== THREADS) scaling.push(...(await runChild(spec, threads)).results);
  }
  printSummary(results);
  printThreads([...results, ...scaling]);
  env.browser = runBrowserBench();
  env.wallSeconds = (performance.now() - t0) / 1000;
  console.log(`\nbench wall time ${env.wallSeconds.toFixed(0)} s`);
  console.log(`\nBENCH_JSON ${JSON.stringify({ env, models: results, threads: scaling, warnings, errors }, round)}`);
  if (errors.length) {
    console.error(`\nbench finished with ${errors.length} error(s):\n  ${errors.join('\n  ')}`);
    process.exitCode = 1;
  }
}
