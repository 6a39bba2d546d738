// Abusive API calls for tests/fuzz.test.mjs, the kinds the issue 12 campaign made: wrong types, NaN, absurd
// targets and step counts, unknown composites and layers, calls after dispose(), batches of 0 and 100,000.
//
// abusiveCall(seed, index) → { label, run, expected, options }: call `index` uses abuse kind
// index % ABUSES.length (so 2 × ABUSES.length calls try each kind twice) with values chosen by rngFor(seed, index).
// `expected` is what a returned value must be (see fuzz-checks.js); options.mustThrow when only an Error is
// right, options.typeError when the argument's type is wrong (the issue asks for a TypeError saying what was
// expected), options.message a pattern the message must match.
import { readFileSync } from 'node:fs';
import { loadModel } from 'lrp-wasm';
import { loadGolden } from './golden.mjs';
import { rngFor } from './fuzz-mutations.mjs';

const pick = (rng, items) => items[Math.floor(rng() * items.length)];

// The models abused: a float MLP (16 → 4), a token-id transformer and the small ResNet (for the step counts
// whose work the issue measured). Loaded once per process.
let loaded = null;
async function models() {
  if (loaded) return loaded;
  const mlpGolden = loadGolden('tiny-mlp');
  const textGolden = loadGolden('tiny-text');
  const resnetBytes = readFileSync(new URL('../fixtures/resnet-small/model.onnx', import.meta.url));
  loaded = {
    mlpBytes: readFileSync(mlpGolden.modelPath),
    mlp: await loadModel(readFileSync(mlpGolden.modelPath)),
    x: mlpGolden.input(0),
    text: await loadModel(readFileSync(textGolden.modelPath)),
    ids: textGolden.input(0),
    // Under a work limit below its 4,096 points (4,096 × 1.26e7 operations): the per-call budget must refuse
    // them before any work. Under the default limit the same call is allowed and takes 14–26 s on this machine
    // (ordinary work in proportion, like 32 steps on ResNet-18), longer than the watchdog.
    resnet: await loadModel(resnetBytes, { maxOperations: 1e10 }),
    resnetInput: new Float32Array(3 * 32 * 32).fill(0.25),
  };
  return loaded;
}

const logits = { logits: 4 };
const relevance = { relevance: 16 };
const MUST_THROW = { mustThrow: true };
const WRONG_TYPE = { mustThrow: true, typeError: true };

// A Proxy whose `length` grows on every read: checks that read it twice see two different inputs.
function growingArrayLike(values) {
  let reads = 0;
  return new Proxy(Array.from(values), {
    get(target, key, receiver) {
      if (key === 'length') return target.length + reads++;
      return Reflect.get(target, key, receiver);
    },
  });
}

function detachedFloat32Array(length) {
  const buffer = new ArrayBuffer(length * 4);
  const view = new Float32Array(buffer);
  structuredClone(buffer, { transfer: [buffer] });
  return view;
}

// Each: (m, rng) → { label, run, expected, options }.
const ABUSES = [
  (m, rng) => {
    const [name, value] = pick(rng, [['null', null], ['undefined', undefined], ['42', 42], ["'text'", 'text'],
      ['{}', {}], ['a Symbol', Symbol('x')], ['a function', () => 0], ['true', true], ['a Map', new Map()]]);
    return { label: `predict(${name})`, run: () => m.mlp.predict(value), expected: logits, options: WRONG_TYPE };
  },
  (m, rng) => {
    const [name, Type] = pick(rng, [['Int32Array', Int32Array], ['BigInt64Array', BigInt64Array],
      ['Uint8Array', Uint8Array], ['Int16Array', Int16Array], ['Uint8ClampedArray', Uint8ClampedArray]]);
    return { label: `predict(${name}(16)) on a float model`, run: () => m.mlp.predict(new Type(16)), expected: logits, options: WRONG_TYPE };
  },
  (m, rng) => {
    const [name, value] = pick(rng, [["'a'", 'a'], ['null', null], ['1n', 1n], ['undefined', undefined], ['{}', {}]]);
    const at = Math.floor(rng() * 16);
    const input = Array.from(m.x);
    input[at] = value;
    return { label: `predict(an array holding ${name} at index ${at})`, run: () => m.mlp.predict(input), expected: logits, options: WRONG_TYPE };
  },
  (m, rng) => {
    const value = pick(rng, [NaN, Infinity, -Infinity]);
    const at = Math.floor(rng() * 16);
    const input = Float32Array.from(m.x);
    input[at] = value;
    return { label: `explain(input with ${value} at index ${at})`, run: () => m.mlp.explain(input), expected: relevance, options: MUST_THROW };
  },
  (m) => ({
    // Accepting it (it claims to be a Float32Array) or refusing it by name are both right; V8's
    // "this is not a typed array" is not.
    label: 'predict(a Proxy around a Float32Array)', run: () => m.mlp.predict(new Proxy(Float32Array.from(m.x), {})),
    expected: logits, options: {},
  }),
  (m, rng) => {
    const method = pick(rng, ['predict', 'explain']);
    return {
      label: `${method}(an array-like whose length grows on every read)`,
      run: () => m.mlp[method](growingArrayLike(m.x)), expected: method === 'predict' ? logits : relevance, options: {},
    };
  },
  (m) => {
    const arrayLike = { length: 16, ...Array.from(m.x) };
    return { label: 'predict({ length: 16, 0: …, 15: … })', run: () => m.mlp.predict(arrayLike), expected: logits, options: WRONG_TYPE };
  },
  (m, rng) => {
    const method = pick(rng, ['predict', 'explain']);
    return {
      label: `${method}(a Float32Array whose buffer was transferred)`, run: () => m.mlp[method](detachedFloat32Array(16)),
      expected: method === 'predict' ? logits : relevance, options: MUST_THROW,
    };
  },
  (m, rng) => {
    const [name, ids] = pick(rng, [
      ['BigInt64Array ids', BigInt64Array.from(m.ids, BigInt)],
      ['BigInt64Array with 2^63 − 1', BigInt64Array.from(m.ids, (id, i) => (i === 0 ? 2n ** 63n - 1n : BigInt(id)))],
      ['BigInt64Array with −1', BigInt64Array.from(m.ids, (id, i) => (i === 0 ? -1n : BigInt(id)))],
      ['an array of BigInt ids', Array.from(m.ids, BigInt)],
    ]);
    return { label: `tiny-text explain(${name})`, run: () => m.text.explain(ids), expected: { relevance: m.ids.length }, options: {} };
  },
  (m, rng) => {
    const value = pick(rng, [1.5, -1, NaN, 2 ** 31, 1e9, Infinity]);
    const ids = Array.from(m.ids);
    ids[Math.floor(rng() * ids.length)] = value;
    return { label: `tiny-text predict(token id ${value})`, run: () => m.text.predict(ids), expected: { logits: m.text.outputSize }, options: MUST_THROW };
  },
  (m, rng) => {
    const [name, target] = pick(rng, [['NaN', NaN], ['−1', -1], ['1e9', 1e9], ['2^53', 2 ** 53], ['Infinity', Infinity],
      ["'0'", '0'], ['0.5', 0.5], ['null', null], ['{}', {}], ['4', 4]]);
    return { label: `explain({ target: ${name} })`, run: () => m.mlp.explain(m.x, { target }), expected: relevance, options: MUST_THROW };
  },
  (m, rng) => {
    const steps = pick(rng, [0, 1e9, -1, 1.5, NaN, Infinity, '32', 4097]);
    return { label: `explain({ method: 'integrated-gradients', steps: ${String(steps)} })`, run: () => m.mlp.explain(m.x, { method: 'integrated-gradients', steps }), expected: relevance, options: MUST_THROW };
  },
  (m, rng) => {
    const samples = pick(rng, [0, 1e9, -1, 2.5, NaN, '16']);
    return { label: `explain({ method: 'smoothgrad', samples: ${String(samples)} })`, run: () => m.mlp.explain(m.x, { method: 'smoothgrad', samples }), expected: relevance, options: MUST_THROW };
  },
  // The largest step count the API takes: on the MLP it must return; on the ResNet (26 s in the issue) loaded
  // with maxOperations: 1e10 it must be refused, naming the option to change, within the watchdog's limit.
  (m, rng) => {
    const method = pick(rng, ['integrated-gradients', 'smoothgrad']);
    const option = method === 'smoothgrad' ? 'samples' : 'steps';
    return {
      label: `tiny-mlp explain({ method: '${method}', ${option}: 4096 })`,
      run: () => m.mlp.explain(m.x, { method, [option]: 4096 }), expected: relevance, options: {},
    };
  },
  (m, rng) => {
    const method = pick(rng, ['integrated-gradients', 'smoothgrad']);
    const option = method === 'smoothgrad' ? 'samples' : 'steps';
    return {
      label: `resnet-small explain({ method: '${method}', ${option}: 4096 })`,
      run: () => m.resnet.explain(m.resnetInput, { method, [option]: 4096 }), expected: { relevance: 3 * 32 * 32 },
      options: { mustThrow: true, message: new RegExp(`more than this model's maxOperations .*fewer ${option} \\(at most \\d+\\)`) },
    };
  },
  (m, rng) => {
    const composite = pick(rng, ['epsilon-plus-flatt', '', null, 42, 'EPSILON-PLUS', ' epsilon-plus', 'constructor', '__proto__']);
    return { label: `explain({ composite: ${JSON.stringify(composite)} })`, run: () => m.mlp.explain(m.x, { composite }), expected: relevance, options: MUST_THROW };
  },
  (m, rng) => {
    const [name, rules] = pick(rng, [
      ['{ 999: epsilon }', { 999: { rule: 'epsilon' } }], ["{ '-1': epsilon }", { '-1': { rule: 'epsilon' } }],
      ["{ '1e3': epsilon }", { '1e3': { rule: 'epsilon' } }], ["{ dense: 'epsilon' }", { dense: 'epsilon' }],
      ['null', null], ['[]', []], ["'epsilon'", 'epsilon'], ['{ dense: { rule: epsilon, epsilon: NaN } }', { dense: { rule: 'epsilon', epsilon: NaN } }],
      ['{ 4294967296: epsilon }', { 4294967296: { rule: 'epsilon' } }], ['{ __proto__: … }', JSON.parse('{"__proto__": {"rule": "epsilon"}}')],
    ]);
    return { label: `explain({ rules: ${name} })`, run: () => m.mlp.explain(m.x, { rules }), expected: relevance, options: MUST_THROW };
  },
  (m, rng) => {
    const [name, options] = pick(rng, [['null', null], ["'epsilon-plus'", 'epsilon-plus'], ['42', 42], ['true', true]]);
    return { label: `explain(x, ${name})`, run: () => m.mlp.explain(m.x, options), expected: relevance, options: WRONG_TYPE };
  },
  async (m, rng) => {
    const disposed = await loadModel(m.mlpBytes);
    disposed.dispose();
    const [name, call] = pick(rng, [
      ['predict', () => disposed.predict(m.x)], ['explain', () => disposed.explain(m.x)],
      ['explainBatch', () => disposed.explainBatch([m.x])], ['predictBatch', () => disposed.predictBatch([m.x])],
      ['layers', () => disposed.layers], ['outputSize', () => disposed.outputSize], ['memoryBytes', () => disposed.memoryBytes],
    ]);
    return { label: `${name} after dispose()`, run: call, expected: logits, options: { mustThrow: true, message: /disposed/ } };
  },
  (m) => ({
    // An empty batch: an empty array of results or a clear Error.
    label: 'explainBatch([])', run: () => m.mlp.explainBatch([]), expected: { batch: 0, relevance: 16 }, options: {},
  }),
  (m) => {
    const inputs = Array.from({ length: 100000 }, () => m.x);
    return { label: 'explainBatch(100,000 inputs)', run: () => m.mlp.explainBatch(inputs), expected: { batch: 100000, relevance: 16 }, options: {} };
  },
  (m, rng) => {
    const [name, inputs] = pick(rng, [['a Float32Array', Float32Array.from(m.x)], ['null', null], ['a Set', new Set([m.x])], ["'x'", 'x']]);
    return { label: `explainBatch(${name})`, run: () => m.mlp.explainBatch(inputs), expected: { batch: 1, relevance: 16 }, options: WRONG_TYPE };
  },
  (m, rng) => {
    const at = Math.floor(rng() * 5);
    const inputs = Array.from({ length: 5 }, (_, i) => (i === at ? new Float32Array(15) : m.x));
    return { label: `explainBatch(5 inputs, input ${at} of length 15)`, run: () => m.mlp.explainBatch(inputs), expected: { batch: 5, relevance: 16 }, options: MUST_THROW };
  },
  (m, rng) => {
    const [name, source] = pick(rng, [['null', null], ['42', 42], ['{}', {}], ['a Symbol', Symbol('model')], ['[1, 2, 3]', [1, 2, 3]], ['true', true], ['10n', 10n]]);
    return { label: `loadModel(${name})`, run: () => loadModel(source), expected: null, options: WRONG_TYPE };
  },
  (m, rng) => {
    const [name, options] = pick(rng, [['{ threads: -1 }', { threads: -1 }], ['{ threads: 1e9 }', { threads: 1e9 }],
      ['{ maxOperations: -1 }', { maxOperations: -1 }], ['{ maxOperations: NaN }', { maxOperations: NaN }],
      ["{ maxOperations: '1e9' }", { maxOperations: '1e9' }], ['{ signal: {} }', { signal: {} }], ['null', null], ["{ thread: 2 }", { thread: 2 }]]);
    return { label: `loadModel(tiny-mlp, ${name})`, run: () => loadModel(m.mlpBytes, options), expected: null, options: MUST_THROW };
  },
  (m, rng) => {
    const [name, seed] = pick(rng, [['3 values', new Float32Array(3)], ['NaN', Float32Array.of(1, NaN, 0, 0)],
      ['±3e38', Float32Array.of(3e38, -3e38, 3e38, -3e38)], ["'all'", 'all'], ['Infinity', Float32Array.of(Infinity, 0, 0, 0)]]);
    return { label: `explain({ outputRelevance: ${name} })`, run: () => m.mlp.explain(m.x, { outputRelevance: seed }), expected: relevance, options: {} };
  },
  (m, rng) => {
    const [name, restrict] = pick(rng, [['{ layer: 99 }', { layer: 99 }], ['{ layer: 0, unit: −1 }', { layer: 0, unit: -1 }],
      ['{ layer: 0, units: [] }', { layer: 0, units: [] }], ["{ layer: '0', unit: 0 }", { layer: '0', unit: 0 }],
      ['{ layer: 0, unit: 1e9 }', { layer: 0, unit: 1e9 }], ['42', 42]]);
    return { label: `explain({ restrict: ${name} })`, run: () => m.mlp.explain(m.x, { restrict }), expected: relevance, options: MUST_THROW };
  },
  (m, rng) => {
    // Finite but extreme parameters: a finite explanation or an Error naming the problem, never NaN.
    const [name, options] = pick(rng, [['{ epsilon: 1e38 }', { epsilon: 1e38 }], ['{ gamma: 1e38, composite: epsilon-gamma-box }', { gamma: 1e38, composite: 'epsilon-gamma-box', low: -3, high: 3 }],
      ['{ stabilizer: 1e38 }', { stabilizer: 1e38 }], ['{ method: smoothgrad, noiseLevel: 1e38 }', { method: 'smoothgrad', noiseLevel: 1e38, samples: 2 }],
      ['{ low: -1e38, high: 1e38, composite: epsilon-gamma-box }', { low: -1e38, high: 1e38, composite: 'epsilon-gamma-box' }]]);
    return { label: `explain(${name})`, run: () => m.mlp.explain(m.x, options), expected: relevance, options: {} };
  },
  (m, rng) => {
    const length = pick(rng, [0, 100000, 2 ** 21]);
    return { label: `tiny-text predict(${length} token ids)`, run: () => m.text.predict(new Int32Array(length).fill(1)), expected: { logits: m.text.outputSize }, options: {} };
  },
];

export const abuseCount = ABUSES.length;

export function disposeAbuseModels() {
  if (!loaded) return;
  for (const model of [loaded.mlp, loaded.text, loaded.resnet]) model.dispose();
  loaded = null;
}

export async function abusiveCall(seed, index) {
  const rng = rngFor(seed, index);
  return ABUSES[index % ABUSES.length](await models(), rng);
}
