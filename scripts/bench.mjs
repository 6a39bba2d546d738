#!/usr/bin/env node
// Benchmark of the lrp-wasm package against onnxruntime-web on the same ONNX files.
//
//   node scripts/bench.mjs                      # the bundled models in MODELS (mnist-mlp must exist)
//   node scripts/bench.mjs --quick              # short time budgets (smoke test, a few s per model)
//   node scripts/bench.mjs --model tiny-mlp     # a MODELS entry by name ...
//   node scripts/bench.mjs --model some.onnx    # ... or any ONNX file (shape from the file; MNIST digits
//                                               #     if it has 784 inputs, else seeded random inputs)
//   node scripts/bench.mjs --help               # all flags (--time, --inputs, --package)
//
// For each model it prints: our predict / explain latencies (median, p90), batch throughput of
// explanations, onnxruntime-web's forward latency (WASM backend, 1 thread, batch 1, same process),
// the agreement of the logits, and the ratios against the goals (predict <= 1x ORT forward,
// explain <= 3x ORT forward). A miss is informational: the exit code is non-zero only on errors.
// The last line is `BENCH_JSON {...}` for machines.
//
// Run it after the build (`npm run bench` does both): the package is imported by its own name,
// `lrp-wasm`, which resolves to dist/lrp-wasm.js through package.json "exports".

import { parseArgs } from 'node:util';
import { readFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { createRequire } from 'node:module';
import { readMnist } from './mnist.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// The models to benchmark. A new model is one more entry:
//   name        short name (also accepted by --model)
//   file        ONNX file, relative to the repository root
//   inputShape  one input without the batch dimension (optional: else taken from the ONNX file)
//   inputs      'mnist' (real test digits, x/255 in [0,1]) | 'normal' | 'uniform' (fixed-seed PRNG)
//   required    default run fails if the file is missing (otherwise a missing file is skipped)
//   dev         only run when asked for by name (development/test models outside the package)
const MODELS = [
  { name: 'mnist-mlp', file: 'web/models/mnist-mlp.onnx', inputShape: [1, 28, 28], inputs: 'mnist', required: true },
  { name: 'mnist-cnn', file: 'web/models/mnist-cnn.onnx', inputShape: [1, 28, 28], inputs: 'mnist' },
  { name: 'resnet18', file: 'web/models/resnet18.onnx', inputShape: [3, 224, 224], inputs: 'normal' },
  { name: 'tiny-mlp', file: 'tests/fixtures/golden/tiny-mlp/model.onnx', inputShape: [16], inputs: 'normal', dev: true },
  { name: 'tiny-cnn', file: 'tests/fixtures/golden/tiny-cnn/model.onnx', inputs: 'normal', dev: true },
];

// The explain configurations that are timed; the first one is the one the goal is about.
const EXPLAINS = [
  { label: 'explain epsilon-plus-flat', options: { composite: 'epsilon-plus-flat' } },
  { label: 'explain epsilon-plus', options: { composite: 'epsilon-plus' } },
  { label: 'explain gradient', options: { method: 'gradient' } },
];
const GOALS = { predict: 1, explain: 3 };

// ---------------------------------------------------------------------------------------------
// Command line

const USAGE = `usage: node scripts/bench.mjs [--model NAME|PATH]... [--quick] [--time SECONDS] [--inputs N] [--package FILE]
  --model, -m   a MODELS entry (${MODELS.map((m) => m.name).join(', ')}) or an ONNX file; repeatable
  --quick, -q   short time budgets (smoke test)
  --time        seconds per measurement (default 1.5, quick 0.25)
  --inputs      number of distinct inputs cycled through and used for throughput (default 256, quick 64)
  --package     the module to benchmark instead of the built package 'lrp-wasm' (e.g. another build's
                dist/lrp-wasm.js); it must export loadModel like the package`;

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      model: { type: 'string', short: 'm', multiple: true },
      quick: { type: 'boolean', short: 'q', default: false },
      time: { type: 'string' },
      inputs: { type: 'string' },
      package: { type: 'string' },
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
const BUDGET_MS = 1000 * (args.time !== undefined ? Number(args.time) : QUICK ? 0.25 : 1.5);
const N_INPUTS = args.inputs !== undefined ? Number(args.inputs) : QUICK ? 64 : 256;
if (!(BUDGET_MS > 0) || !(Number.isInteger(N_INPUTS) && N_INPUTS > 0)) {
  console.error(`bad --time or --inputs\n${USAGE}`);
  process.exit(2);
}
const MIN_ITERS = QUICK ? 5 : 20; // at least this many timed calls, even past the time budget
const MAX_ITERS = 200000;
const WARMUP_MS = Math.max(100, BUDGET_MS / 3); // warm-up of every measurement: at least 3 calls and this long
const ROUNDS = QUICK ? 2 : 5; // interleaved timing rounds per measurement
const N_CHECK = Math.min(N_INPUTS, 64); // inputs on which the logits of both engines are compared

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
// sync or async). All measurements of a model are first warmed up (at least 3 calls and WARMUP_MS
// each, so that V8 tiers the hot wasm functions of both engines up), then timed call by call in
// ROUNDS interleaved rounds of BUDGET_MS / ROUNDS each: load from other processes then hits every
// measurement alike and the ratios stay fair. `sink` keeps the results alive.
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

async function runMeasurements(list) {
  for (const m of list) {
    m.isAsync = m.fn.constructor.name === 'AsyncFunction';
    m.state = { i: 0 };
    m.times = [];
    const warm = [];
    await timeCalls(m.fn, m.isAsync, WARMUP_MS, 3, warm, m.state);
  }
  for (let r = 0; r < ROUNDS; r++) {
    for (const m of list) await timeCalls(m.fn, m.isAsync, BUDGET_MS / ROUNDS, Math.ceil(MIN_ITERS / ROUNDS), m.times, m.state);
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

// mulberry32: small, fast, deterministic.
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
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

// ---------------------------------------------------------------------------------------------
// onnxruntime-web in Node: the package's "node" export condition resolves `onnxruntime-web` to
// dist/ort.node.min.mjs, which loads dist/ort-wasm-simd-threaded.{mjs,wasm} next to itself via
// import.meta.url (no download, no wasmPaths needed). numThreads = 1 never starts a worker.

async function loadOrt() {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
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

function selectModels() {
  if (!args.model || args.model.length === 0) {
    const picked = [];
    for (const m of MODELS) {
      if (m.dev) continue;
      const file = path.resolve(ROOT, m.file);
      if (existsSync(file)) picked.push({ ...m, file });
      else if (m.required) {
        recordError(m.name, `bundled model ${m.file} does not exist (train it: npm run train)`);
      } else console.log(`note: ${m.name} skipped (${m.file} does not exist)`);
    }
    return picked;
  }
  return args.model.map((spec) => {
    const entry = MODELS.find((m) => m.name === spec);
    if (entry) return { ...entry, file: path.resolve(ROOT, entry.file) };
    const file = path.resolve(spec);
    const known = MODELS.find((m) => path.resolve(ROOT, m.file) === file);
    if (known) return { ...known, file };
    return { name: path.basename(file, '.onnx'), file, inputs: 'auto' };
  });
}

// ---------------------------------------------------------------------------------------------
// One model

const ms = (v) => (v == null || !Number.isFinite(v) ? '-' : v < 0.1 ? v.toFixed(4) : v < 10 ? v.toFixed(3) : v.toFixed(1));
const ratioStr = (r) => (r == null || !Number.isFinite(r) ? '-' : `${r.toFixed(2)}x`);

function argmax(a) {
  let k = 0;
  for (let j = 1; j < a.length; j++) if (a[j] > a[k]) k = j;
  return k;
}

let firstModel = true;
async function benchModel(spec, lrp, ortInfo) {
  const res = { name: spec.name, file: path.relative(ROOT, spec.file) || spec.file };
  console.log(`\n=== ${spec.name}  (${res.file})`);
  if (!existsSync(spec.file)) throw new Error(`${spec.file} does not exist`);
  const bytes = new Uint8Array(readFileSync(spec.file));
  res.fileBytes = bytes.length;

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
    const { inputs, labels } = kind === 'mnist' ? mnistInputs(N_INPUTS, size) : randomInputs(N_INPUTS, size, kind);
    res.inputs = kind === 'mnist' ? `${N_INPUTS} MNIST test digits (x/255)` : `${N_INPUTS} ${kind} random (seeded)`;
    console.log(`input [${shape}] x ${res.inputs}; ${BUDGET_MS / 1000} s per measurement`);

    const list = []; // measurements: { key, label, note, fn }, timed together (interleaved)

    // --- ORT forward --------------------------------------------------------------------------
    const ortLogits = [];
    let idSess = null;
    if (sess) {
      const inName = sess.inputNames[0];
      const outName = sess.outputNames[0];
      const dims = ortDims;
      const { Tensor } = ortInfo.ort;
      const ortTensors = inputs.map((x) => new Tensor('float32', x, dims));
      for (let k = 0; k < N_CHECK; k++) ortLogits.push((await sess.run({ [inName]: ortTensors[k] }))[outName].data);
      if (labels) {
        let ok = 0;
        for (let k = 0; k < N_CHECK; k++) ok += argmax(ortLogits[k]) === labels[k] ? 1 : 0;
        res.accuracy = { correct: ok, of: N_CHECK };
      }
      // (a) tensors created beforehand: session.run alone (the baseline of the ratios)
      list.push({
        key: 'ortRun', label: 'ORT run (tensor pre-made)', note: 'await session.run, batch 1',
        fn: async (i) => (await sess.run({ [inName]: ortTensors[i % N_INPUTS] }))[outName].data,
      });
      // (b) what an app does per call: wrap the Float32Array in a new Tensor, run, read the data
      list.push({
        key: 'ortRunWithTensor', label: 'ORT run (+ new Tensor)', note: 'tensor creation included',
        fn: async (i) => (await sess.run({ [inName]: new Tensor('float32', inputs[i % N_INPUTS], dims) }))[outName].data,
      });
      // (c) ORT's fixed cost per run for this input size (Identity graph: no compute)
      try {
        idSess = await ortInfo.ort.InferenceSession.create(await identityModelBytes(dims), { executionProviders: ['wasm'] });
        list.push({
          key: 'ortIdentityRun', label: 'ORT run, Identity graph', note: 'ORT per-call floor (no compute)',
          fn: async (i) => (await idSess.run({ x: ortTensors[i % N_INPUTS] })).y.data,
        });
      } catch (e) {
        console.log(`note: Identity-graph overhead measurement skipped (${e.message})`);
      }
    } else if (ortInfo && ortErr) {
      res.ortError = ortErr.message;
    }

    // --- ours ---------------------------------------------------------------------------------
    if (model) {
      // Agreement with ORT (and sanity of explain().output) before any timing.
      if (ortLogits.length) {
        let maxAbs = 0;
        let maxLogit = 0;
        let argmaxAgree = 0;
        for (let k = 0; k < N_CHECK; k++) {
          const ours = model.predict(inputs[k]);
          const ref = ortLogits[k];
          if (ours.length !== ref.length) throw new Error(`predict returned ${ours.length} logits, ORT ${ref.length}`);
          for (let j = 0; j < ref.length; j++) {
            maxAbs = Math.max(maxAbs, Math.abs(ours[j] - ref[j]));
            maxLogit = Math.max(maxLogit, Math.abs(ref[j]));
          }
          argmaxAgree += argmax(ours) === argmax(ref) ? 1 : 0;
        }
        res.agreement = { inputs: N_CHECK, maxAbsDiff: maxAbs, maxAbsLogit: maxLogit, argmaxAgree };
      }
      list.push({ key: 'predict', label: 'lrp-wasm predict', note: '', fn: (i) => model.predict(inputs[i % N_INPUTS]) });
      for (const ex of EXPLAINS) {
        try {
          // one checked call first: a failing configuration is reported and not timed
          const e = model.explain(inputs[0], ex.options);
          if (!(e.relevance instanceof Float32Array) || e.relevance.length !== size) {
            throw new Error(`relevance is ${e.relevance?.constructor?.name}(${e.relevance?.length}), expected Float32Array(${size})`);
          }
          if (ex === EXPLAINS[0]) {
            const p = model.predict(inputs[0]);
            let d = 0;
            for (let j = 0; j < p.length; j++) d = Math.max(d, Math.abs(e.output[j] - p[j]));
            res.explainOutputVsPredict = d;
            if (e.target !== argmax(p)) warn(`explain target ${e.target} != argmax(predict) ${argmax(p)}`);
          }
          list.push({
            key: `explain:${ex.label.replace(/^explain /, '')}`, label: `lrp-wasm ${ex.label}`, note: JSON.stringify(ex.options),
            fn: (i) => model.explain(inputs[i % N_INPUTS], ex.options),
          });
        } catch (e) {
          recordError(`${spec.name}: ${ex.label}`, e);
        }
      }
    }

    try {
      await runMeasurements(list);
    } finally {
      if (idSess) await idSess.release().catch(() => {});
    }
    const rows = list.map((m) => [m.label, ms(m.stats.median), ms(m.stats.p90), ms(m.stats.min), String(m.stats.n), m.note]);
    for (const m of list) {
      if (m.key.startsWith('explain:')) (res.explain ??= {})[m.key.slice(8)] = m.stats;
      else res[m.key] = m.stats;
    }
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
    if (model) res.throughput = await throughput(model, inputs, res.explain?.['epsilon-plus-flat']?.median, ortBatched);

    if (rows.length) printTable(['measurement', 'median ms', 'p90 ms', 'min ms', 'calls', 'note'], rows);
    if (res.throughput) {
      const rate = (v) => v.toFixed(v < 100 ? 1 : 0);
      const ortT = res.throughput.find((t) => t.ort);
      for (const t of res.throughput) {
        if (t.ort) continue;
        console.log(
          `throughput (${t.mode}): ${rate(t.perSec)} explanations/s  [epsilon-plus-flat, batch of ${t.batch}, ${t.explanations} explanations in ${t.seconds.toFixed(2)} s]` +
            (ortT ? ` = ${(ortT.perSec / t.perSec).toFixed(2)} ORT batched forwards per explanation` : ''),
        );
      }
      if (ortT) console.log(`throughput (${ortT.mode}): ${rate(ortT.perSec)} forwards/s  [batch of ${ortT.batch}, for reference]`);
    }
    if (res.agreement) {
      const a = res.agreement;
      console.log(
        `logits vs ORT on ${a.inputs} inputs: max |diff| = ${a.maxAbsDiff.toExponential(2)} (largest |logit| ${a.maxAbsLogit.toFixed(2)}), argmax agrees ${a.argmaxAgree}/${a.inputs}` +
          (res.explainOutputVsPredict !== undefined ? `; explain().output vs predict max |diff| = ${res.explainOutputVsPredict.toExponential(2)}` : ''),
      );
    }
    if (res.accuracy) console.log(`ORT accuracy on the first ${res.accuracy.of} test digits: ${res.accuracy.correct}/${res.accuracy.of}`);
    if (res.loadMs !== undefined || res.ortLoadMs !== undefined) {
      console.log(
        `load: lrp-wasm loadModel ${ms(res.loadMs)} ms, ORT InferenceSession.create ${ms(res.ortLoadMs)} ms` +
          (firstModel ? ' (first model: both include instantiating their wasm runtime)' : ''),
      );
    }
    firstModel = false;

    // --- ratios -------------------------------------------------------------------------------
    const base = res.ortRun?.median;
    if (base && res.predict) {
      const eps = res.explain?.['epsilon-plus-flat'];
      const withTensor = res.ortRunWithTensor?.median;
      // ORT's compute alone: its forward minus the Identity graph's per-call cost (an estimate)
      const compute = res.ortIdentityRun ? base - res.ortIdentityRun.median : null;
      const over = (v, d) => (v != null && d != null && d > 0 ? v / d : null);
      res.ratios = {
        baseline: 'median of await session.run (tensor pre-made), batch 1',
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
          ['explain(epsilon-plus-flat) / ORT forward', ratioStr(res.ratios.explain), ratioStr(res.ratios.explainVsRunWithTensor), ratioStr(res.ratios.explainVsOrtCompute),
            `<= ${GOALS.explain}x`, res.goals.explain.pass ? 'PASS' : 'MISS'],
        ],
      );
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

// Explanations per second with epsilon-plus-flat over a batch of distinct inputs: model.explainBatch
// when the package has it, and a loop of explain calls. Like the latencies, the modes are timed in
// interleaved rounds (at least one pass over the batch per round). The batch is all inputs, or
// fewer (at least 8) when one pass would take longer than a round.
async function throughput(model, inputs, explainMs, ortBatched) {
  const options = EXPLAINS[0].options;
  const fit = Number.isFinite(explainMs) && explainMs > 0 ? Math.floor(BUDGET_MS / ROUNDS / explainMs) : inputs.length;
  const batch = inputs.slice(0, Math.max(Math.min(8, inputs.length), Math.min(inputs.length, fit)));
  const modes = [];
  if (typeof model.explainBatch === 'function') {
    // DESIGN.md does not pin the calling convention down: try an array of inputs, then one
    // concatenated Float32Array. The checked call doubles as the warm-up.
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
  for (let r = 0; r < ROUNDS; r++) {
    for (const m of modes) {
      const t0 = performance.now();
      let reps = 0;
      while (reps < 1 || performance.now() - t0 < BUDGET_MS / ROUNDS) {
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

function printTable(header, rows) {
  const all = [header, ...rows];
  const w = header.map((_, c) => Math.max(...all.map((r) => String(r[c]).length)));
  const numeric = (c) => rows.every((r) => /^[-\d.x]+$/.test(String(r[c])) || r[c] === '-');
  const fmt = (r) => r.map((v, c) => (numeric(c) && c > 0 ? String(v).padStart(w[c]) : String(v).padEnd(w[c]))).join('  ').trimEnd();
  console.log(fmt(header));
  console.log(w.map((n) => '-'.repeat(n)).join('  '));
  for (const r of rows) console.log(fmt(r));
}

// ---------------------------------------------------------------------------------------------
// Main

const env = {
  node: process.version,
  cpu: os.cpus()[0]?.model ?? '?',
  cores: os.cpus().length,
  platform: `${os.platform()} ${os.arch()}`,
  quick: QUICK,
  secondsPerMeasurement: BUDGET_MS / 1000,
  inputs: N_INPUTS,
};
console.log(`lrp-wasm bench  node ${env.node}  cpu ${env.cpu} (${env.cores} cores)  ${env.platform}${QUICK ? '  [quick]' : ''}`);

let lrp = null;
try {
  const spec = args.package ? pathToFileURL(path.resolve(args.package)).href : 'lrp-wasm';
  lrp = await import(spec);
  if (typeof lrp.loadModel !== 'function') throw new Error(`${spec} does not export loadModel`);
  env.package = path.relative(ROOT, fileURLToPath(import.meta.resolve(spec)));
  console.log(`lrp-wasm: ${env.package}`);
} catch (e) {
  lrp = null;
  recordError(args.package ? `import ${args.package}` : 'import lrp-wasm (build it first: bash scripts/build.sh)', e);
}

let ortInfo = null;
try {
  ortInfo = await loadOrt();
  env.ort = { version: ortInfo.version, entry: ortInfo.entry, backend: 'wasm', numThreads: 1, proxy: false };
  console.log(`onnxruntime-web ${ortInfo.version}: ${ortInfo.entry}, executionProviders ['wasm'], numThreads 1, proxy false`);
} catch (e) {
  recordError('load onnxruntime-web', e);
}

const results = [];
for (const spec of selectModels()) {
  try {
    results.push(await benchModel(spec, lrp, ortInfo));
  } catch (e) {
    recordError(spec.name, e);
    results.push({ name: spec.name, error: e.message });
  }
}

const done = results.filter((r) => r.ratios || r.predict || r.ortRun);
if (done.length) {
  console.log('\nsummary (median ms; ratios vs ORT forward, goals: predict <= 1x, explain <= 3x)');
  printTable(
    ['model', 'predict', 'explain eps+flat', 'ORT forward', 'predict/ORT', 'explain/ORT', 'result'],
    done.map((r) => [
      r.name,
      ms(r.predict?.median),
      ms(r.explain?.['epsilon-plus-flat']?.median),
      ms(r.ortRun?.median),
      ratioStr(r.ratios?.predict),
      ratioStr(r.ratios?.explain),
      r.goals ? `predict ${r.goals.predict.pass ? 'PASS' : 'MISS'}, explain ${r.goals.explain.pass ? 'PASS' : 'MISS'}` : '-',
    ]),
  );
}

const round = (k, v) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(5)) : v);
console.log(`\nBENCH_JSON ${JSON.stringify({ env, models: results, warnings, errors }, round)}`);
if (errors.length) {
  console.error(`\nbench finished with ${errors.length} error(s):\n  ${errors.join('\n  ')}`);
  process.exitCode = 1;
}
