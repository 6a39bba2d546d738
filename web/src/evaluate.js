// Faithfulness of explanations by pixel flipping (region perturbation, Samek et al. 2017, "Evaluating the
// visualization of what a deep neural network has learned", IEEE TNNLS 28(11)).
//
// The input is cut into square patches of its spatial dimensions (all channels of a patch together), each
// patch is scored by the sum of the relevance in it, and the patches are replaced by a perturbation image
// in the order of the scores: most relevant first (MoRF) or least relevant first (LeRF). After step k of
// `steps`, round(k·M/steps) patches are perturbed (M: all patches, or `fraction` of them), so the curve
// f(x⁰), f(x¹), …, f(x^steps) is the target's output (logit) while the input is destroyed, and
//   AOPC = 1/(steps+1) · Σ_{k=0..steps} (f(x⁰) − f(x^k))
// is large for MoRF and small for LeRF when the explanation points at what the model uses.
//
// The forward passes of all steps (of several inputs) are batched through model.predictBatch; the
// explanations through model.explainBatch. The function yields to the event loop between batches, so a
// page stays responsive, and reports progress through onProgress(done, total) (inputs done / inputs).

import { mulberry32 as prng } from './random.js';
import { describe } from './describe.js';
import { copyArray, copyList } from './arguments.js';

const OPTIONS = new Set([
  'order', 'patchSize', 'steps', 'fraction', 'perturbation', 'explain', 'relevance', 'target', 'onProgress', 'batchSize',
]);
const ORDERS = ['morf', 'lerf'];
const DEFAULT_MAX_STEPS = 50;

/**
 * Pixel-flipping evaluation of explanations.
 * @param {object} model a model from loadModel (predictBatch, explainBatch, inputShape, outputSize)
 * @param {Array<Float32Array|number[]>} inputs the inputs to perturb
 * @param {object} [options] see index.d.ts (EvaluateOptions)
 * @returns {Promise<object>} see index.d.ts (Evaluation)
 */
export async function evaluate(model, inputs, options = {}) {
  if (model === null || typeof model !== 'object' || typeof model.predictBatch !== 'function' || typeof model.explainBatch !== 'function')
    throw new TypeError('evaluate: the first argument must be a model from loadModel()');
  // Pixel flipping replaces input values; token ids have no value to flip (replacing a token is another
  // experiment), so token models are refused rather than perturbed meaninglessly.
  if (model.inputType !== undefined && model.inputType !== 'float32')
    throw new Error(`evaluate: the model takes token ids (${model.inputType}); pixel flipping perturbs float inputs only`);
  const shape = model.inputShape;
  const inputSize = shape.reduce((a, b) => a * b, 1);
  // The caller's arrays are read once (arguments.js); the copies are what is checked and perturbed.
  const tooLong = (i) => (length) => new Error(`evaluate: inputs[${i}] has ${length} values, expected ${inputSize} (shape [${shape.join(', ')}])`);
  inputs = copyList(inputs, 'evaluate: inputs').map((x, i) => {
    const copy = copyArray(x, `evaluate: inputs[${i}]`, { expected: 'a Float32Array (or an array of numbers)', maxLength: inputSize, tooLong: tooLong(i) });
    if (ArrayBuffer.isView(copy) && !(copy instanceof Float32Array || copy instanceof Float64Array))
      throw new TypeError(`evaluate: inputs[${i}] must be a Float32Array (got ${describe(x)})`);
    if (copy.length !== inputSize) throw tooLong(i)(copy.length);
    return copy;
  });
  const opts = normalizeOptions(options, model, inputs.length, inputSize);
  const patches = buildPatches(shape, opts.patchSize);
  const total = Math.max(1, Math.round(opts.fraction * patches.length));
  const steps = opts.steps ?? Math.min(total, DEFAULT_MAX_STEPS);
  if (steps > total)
    throw new Error(`evaluate: steps (${steps}) must not exceed the number of patches to perturb (${total} of ${patches.length} patches of ${opts.patchSize}×${opts.patchSize})`);
  // perturbedAt[k]: how many patches are perturbed after step k.
  const perturbedAt = Array.from({ length: steps + 1 }, (_, k) => Math.round((k * total) / steps));
  // When every patch ends perturbed, the last image is the same for both orders: computed once.
  const sharedLast = perturbedAt[steps] === patches.length && opts.orders.length === 2;

  // Forward passes per input: the original, then each order's steps 1..steps (the last shared or not).
  const perInput = 1 + opts.orders.length * (steps - (sharedLast ? 1 : 0)) + (sharedLast ? 1 : 0);
  const chunk = Math.max(1, Math.floor(opts.batchSize / perInput));

  const results = new Array(inputs.length);
  let lastYield = Date.now();
  for (let start = 0; start < inputs.length; start += chunk) {
    const group = inputs.slice(start, start + chunk).map((x) => (x instanceof Float32Array ? x : Float32Array.from(x)));
    const { relevances, targets } = relevanceOf(model, group, start, opts, inputSize);
    const batch = [];
    const slots = group.map((x, g) => {
      const index = start + g;
      const scores = patchScores(patches, relevances[g]);
      const morfOrder = Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a] || a - b);
      const replacement = perturbationImage(opts.perturbation, index, inputSize);
      const slot = { original: batch.push(x) - 1 };
      let last = -1;
      for (const order of opts.orders) {
        const sequence = order === 'morf' ? morfOrder : [...morfOrder].reverse();
        const current = Float32Array.from(x);
        const positions = [slot.original];
        for (let k = 1; k <= steps; k++) {
          for (let p = perturbedAt[k - 1]; p < perturbedAt[k]; p++)
            for (const i of patches[sequence[p]]) current[i] = replacement[i];
          if (k === steps && sharedLast) {
            if (last < 0) last = batch.push(Float32Array.from(current)) - 1;
            positions.push(last);
          } else positions.push(batch.push(Float32Array.from(current)) - 1);
        }
        slot[order] = positions;
      }
      return slot;
    });
    const logits = model.predictBatch(batch);
    slots.forEach((slot, g) => {
      const index = start + g;
      let target = targets[g];
      if (target === -1) target = argmax(logits[slot.original]);
      const result = { target };
      for (const order of opts.orders) {
        const curve = slot[order].map((position) => logits[position][target]);
        result[order] = { curve, aopc: aopc(curve) };
      }
      results[index] = result;
    });
    const done = Math.min(inputs.length, start + chunk);
    if (opts.onProgress) opts.onProgress(done, inputs.length);
    if (done < inputs.length && Date.now() - lastYield > 30) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      lastYield = Date.now();
    }
  }

  const summary = {
    inputs: results,
    patchSize: opts.patchSize,
    patches: patches.length,
    steps,
    perturbed: perturbedAt,
  };
  for (const order of opts.orders) {
    const mean = new Array(steps + 1).fill(0);
    for (const r of results) r[order].curve.forEach((v, k) => { mean[k] += v / results.length; });
    const values = results.map((r) => r[order].aopc);
    const aopcMean = values.reduce((a, b) => a + b, 0) / values.length;
    const variance = values.length > 1 ? values.reduce((a, v) => a + (v - aopcMean) ** 2, 0) / (values.length - 1) : 0;
    summary[order] = { curve: mean, aopc: aopcMean, aopcStdErr: Math.sqrt(variance / values.length) };
  }
  return summary;
}

function aopc(curve) {
  return curve.reduce((sum, f) => sum + (curve[0] - f), 0) / curve.length;
}

function argmax(values) {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

// The relevance of each input of a group and its target (-1: the predicted class, known after the forward pass).
function relevanceOf(model, group, start, opts, inputSize) {
  const targetOf = (g) => (Array.isArray(opts.target) ? opts.target[start + g] : opts.target);
  if (opts.relevance) {
    return {
      relevances: group.map((_, g) => opts.relevance[start + g]),
      targets: group.map((_, g) => (targetOf(g) === 'predicted' ? -1 : targetOf(g))),
    };
  }
  if (opts.explain.method === 'random') {
    return {
      relevances: group.map((_, g) => {
        const random = prng(mix(opts.explain.seed ?? 0, start + g));
        return Float32Array.from({ length: inputSize }, random);
      }),
      targets: group.map((_, g) => (targetOf(g) === 'predicted' ? -1 : targetOf(g))),
    };
  }
  let explanations;
  if (Array.isArray(opts.target)) explanations = group.map((x, g) => model.explain(x, { ...opts.explain, target: targetOf(g) }));
  else explanations = model.explainBatch(group, { ...opts.explain, target: opts.target });
  return { relevances: explanations.map((e) => e.relevance), targets: explanations.map((e) => e.target) };
}

// Patches: lists of flat input indices. The last two dimensions are spatial (a 1-D input is one row),
// every leading dimension is a channel; a patch holds all channels of its P×P pixels (smaller at edges).
function buildPatches(shape, size) {
  const dims = shape.length >= 2 ? shape : [1, shape[0]];
  const height = dims[dims.length - 2];
  const width = dims[dims.length - 1];
  const channels = dims.slice(0, -2).reduce((a, b) => a * b, 1);
  const rows = Math.ceil(height / size);
  const cols = Math.ceil(width / size);
  const patches = Array.from({ length: rows * cols }, () => []);
  for (let c = 0; c < channels; c++)
    for (let h = 0; h < height; h++)
      for (let w = 0; w < width; w++)
        patches[Math.floor(h / size) * cols + Math.floor(w / size)].push(c * height * width + h * width + w);
  return patches;
}

function patchScores(patches, relevance) {
  return Float64Array.from(patches, (members) => members.reduce((sum, i) => sum + relevance[i], 0));
}

// The values a perturbed input takes: a constant, or uniform noise seeded by (seed, input index) so that
// results do not depend on batching and both orders replace a patch by the same values.
function perturbationImage(perturbation, index, size) {
  if (perturbation.type === 'constant') return new Float32Array(size).fill(perturbation.value);
  const random = prng(mix(perturbation.seed, index));
  const { low, high } = perturbation;
  return Float32Array.from({ length: size }, () => low + (high - low) * random());
}


function mix(seed, index) {
  let h = (seed >>> 0) ^ Math.imul(index + 1, 0x9e3779b9);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

// A number out of range is an Error; anything but a number is a TypeError (a wrong type, not a wrong value).
function errorFor(value) {
  return typeof value === 'number' ? Error : TypeError;
}

function normalizeOptions(options, model, count, inputSize) {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new TypeError('evaluate: options must be an object');
  for (const key of Object.keys(options))
    if (!OPTIONS.has(key)) throw new Error(`evaluate: unknown option '${key}' (known: ${[...OPTIONS].join(', ')})`);

  const order = options.order ?? 'both';
  let orders;
  if (order === 'both') orders = [...ORDERS];
  else if (ORDERS.includes(order)) orders = [order];
  else if (Array.isArray(order) && order.length > 0 && order.every((o) => ORDERS.includes(o))) orders = ORDERS.filter((o) => order.includes(o));
  else throw new Error(`evaluate: order must be 'morf', 'lerf', 'both' or an array of them (got ${describe(order)})`);

  const patchSize = options.patchSize ?? 1;
  if (!Number.isInteger(patchSize) || patchSize < 1) throw new (errorFor(patchSize))(`evaluate: patchSize must be a positive integer (got ${describe(patchSize)})`);
  const steps = options.steps;
  if (steps !== undefined && (!Number.isInteger(steps) || steps < 1)) throw new (errorFor(steps))(`evaluate: steps must be a positive integer (got ${describe(steps)})`);
  const fraction = options.fraction ?? 1;
  if (typeof fraction !== 'number' || !(fraction > 0 && fraction <= 1)) throw new (errorFor(fraction))(`evaluate: fraction must be a number in (0, 1] (got ${describe(fraction)})`);
  const batchSize = options.batchSize ?? 512;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new (errorFor(batchSize))(`evaluate: batchSize must be a positive integer (got ${describe(batchSize)})`);

  const onProgress = options.onProgress;
  if (onProgress !== undefined && typeof onProgress !== 'function') throw new TypeError('evaluate: onProgress must be a function (done, total) => void');

  const target = options.target ?? 'predicted';
  const validClass = (t) => Number.isInteger(t) && t >= 0 && t < model.outputSize;
  if (Array.isArray(target)) {
    if (target.length !== count) throw new Error(`evaluate: target has ${target.length} entries, expected one per input (${count})`);
    const bad = target.findIndex((t) => !validClass(t));
    if (bad >= 0) throw new Error(`evaluate: target[${bad}] must be a class index from 0 to ${model.outputSize - 1} (got ${describe(target[bad])})`);
  } else if (target !== 'predicted' && !validClass(target)) {
    throw new Error(`evaluate: target must be 'predicted', a class index from 0 to ${model.outputSize - 1} or one per input (got ${describe(target)})`);
  }

  const perturbation = normalizePerturbation(options.perturbation);

  if (options.explain !== undefined && options.relevance !== undefined)
    throw new Error("evaluate: give either 'explain' (options of model.explain) or 'relevance' (one array per input), not both");
  let relevance = null;
  if (options.relevance !== undefined) {
    if (!Array.isArray(options.relevance) || options.relevance.length !== count)
      throw new Error(`evaluate: relevance must be an array with one relevance per input (${count})`);
    relevance = options.relevance.map((r, i) => {
      if (!(r instanceof Float32Array || r instanceof Float64Array || Array.isArray(r)) || r.length !== inputSize)
        throw new Error(`evaluate: relevance[${i}] must be an array of ${inputSize} numbers`);
      if (!Array.prototype.every.call(r, Number.isFinite)) throw new Error(`evaluate: relevance[${i}] contains NaN or Infinity`);
      return r;
    });
  }
  const explain = options.explain ?? {};
  if (explain === null || typeof explain !== 'object' || Array.isArray(explain)) throw new TypeError('evaluate: explain must be an object of explain options');
  if ('target' in explain) throw new Error("evaluate: set the target with evaluate's own 'target' option, not explain.target");
  if (explain.method === 'random') {
    for (const key of Object.keys(explain))
      if (key !== 'method' && key !== 'seed') throw new Error(`evaluate: the random baseline takes only 'seed' (got '${key}')`);
    if (explain.seed !== undefined && (!Number.isInteger(explain.seed) || explain.seed < 0))
      throw new Error(`evaluate: explain.seed must be a non-negative integer (got ${describe(explain.seed)})`);
  }
  return { orders, patchSize, steps, fraction, batchSize, onProgress, target, perturbation, relevance, explain };
}

function normalizePerturbation(spec) {
  if (spec === undefined) return { type: 'constant', value: 0 };
  if (spec === null || typeof spec !== 'object') throw new TypeError("evaluate: perturbation must be { type: 'constant', value } or { type: 'uniform', low, high, seed }");
  const finite = (v, what, fallback) => {
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`evaluate: perturbation.${what} must be a finite number (got ${describe(v)})`);
    return v;
  };
  const allowed = { constant: ['type', 'value'], uniform: ['type', 'low', 'high', 'seed'] }[spec.type];
  if (!allowed) throw new Error(`evaluate: perturbation.type must be 'constant' or 'uniform' (got ${describe(spec.type)})`);
  for (const key of Object.keys(spec))
    if (!allowed.includes(key)) throw new Error(`evaluate: unknown perturbation option '${key}' for type '${spec.type}' (known: ${allowed.join(', ')})`);
  if (spec.type === 'constant') return { type: 'constant', value: finite(spec.value, 'value', 0) };
  const low = finite(spec.low, 'low', 0);
  const high = finite(spec.high, 'high', 1);
  if (!(high > low)) throw new Error(`evaluate: perturbation needs low < high (got low=${low}, high=${high})`);
  const seed = spec.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`evaluate: perturbation.seed must be a non-negative integer (got ${describe(seed)})`);
  return { type: 'uniform', low, high, seed };
}

