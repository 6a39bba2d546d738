// Runs fuzz mutants (or abusive API calls) in a process of its own, for tests/fuzz.test.mjs: the parent
// watches it and kills it when one call takes longer than the limit (a hang must fail the test, not block
// the suite). Every call is announced before it starts, so the parent can name the one that hung.
//
//   node tests/helpers/fuzz-child.mjs --seed 1 --index 37            one mutant, reported on stdout
//   node tests/helpers/fuzz-child.mjs --seed 1 --from 0 --count 300  a range (under the parent: over IPC)
//   node tests/helpers/fuzz-child.mjs --abuse --seed 1 --index 12    one abusive API call
import { parseArgs } from 'node:util';
import { loadModel, composites } from 'lrp-wasm';
import { baseModels, mutant, rngFor } from './fuzz-mutations.mjs';
import { errorProblems, messageClass, resultProblems, sameBits } from './fuzz-checks.mjs';
import { abusiveCall, disposeAbuseModels } from './fuzz-abuse.mjs';
import { loadGolden } from './golden.mjs';
import { readFileSync } from 'node:fs';

const { values: args } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    index: { type: 'string' },
    from: { type: 'string', default: '0' },
    count: { type: 'string', default: '1' },
    abuse: { type: 'boolean', default: false },
    'check-every': { type: 'string', default: '25' },
  },
});
const seed = Number(args.seed);
const from = Number(args.index ?? args.from);
const count = args.index === undefined ? Number(args.count) : 1;
const checkEvery = Number(args['check-every']);

// Under the parent, messages go over IPC; each is flushed before the call it announces starts (a call
// that blocks the thread would otherwise keep its own announcement in the queue).
// Every message carries the index of the mutant (or abusive call) under way, so that the parent restarts after it.
let currentIndex = null;
const send = process.send
  ? (message) => new Promise((resolve) => process.send({ ...message, index: currentIndex }, resolve))
  : async (message) => {
    if (message.type === 'end') console.log(`${message.label}\n  → ${message.outcome} in ${message.ms} ms${message.detail ? `: ${message.detail}` : ''}${message.problems.length ? `\n  PROBLEMS: ${message.problems.join('; ')}` : ''}`);
    if (message.type === 'violation') console.log(`VIOLATION ${message.label}: ${message.problem}`);
  };

/**
 * Runs one call under the checks: announced, timed, and its result (or Error) judged. Returns the result,
 * or undefined when it threw.
 */
async function checkedCall(label, fn, expected, { mustThrow = false, typeError = false, message = null } = {}) {
  await send({ type: 'start', label });
  const started = performance.now();
  let outcome;
  let problems;
  let result;
  let detail = '';
  try {
    result = await fn();
    outcome = 'returned';
    // expected null: a loaded model, judged by the calls that follow.
    problems = mustThrow ? ['returned a value where an Error was expected'] : expected === null ? [] : resultProblems(result, expected);
  } catch (error) {
    outcome = 'refused';
    detail = messageClass(error);
    problems = errorProblems(error);
    if (typeError && error instanceof Error && !(error instanceof TypeError))
      problems.push(`a wrong argument type gave ${error.name}, not a TypeError: ${error.message.slice(0, 200)}`);
    if (message && error instanceof Error && !message.test(error.message))
      problems.push(`the message does not match ${message}: ${error.message.slice(0, 200)}`);
  }
  const ms = Math.round(performance.now() - started);
  await send({ type: 'end', label, outcome, detail, problems, ms });
  return result;
}

// ---------------------------------------------------------------------------------------------------
// The reference model: its results before the fuzzing must stay bit for bit the same (engine not corrupted).
// ---------------------------------------------------------------------------------------------------

const reference = loadGolden('tiny-cnn');
const referenceModel = await loadModel(readFileSync(reference.modelPath));
const referenceInput = reference.input(3);
const referenceResults = () => [
  referenceModel.predict(referenceInput),
  referenceModel.explain(referenceInput, { composite: 'epsilon-plus' }).relevance,
  referenceModel.explain(referenceInput, { composite: 'epsilon-alpha2-beta1' }).relevance,
];
const referenceBefore = referenceResults();

async function checkReference(label) {
  await send({ type: 'start', label: `${label}: reference model (golden tiny-cnn) check` });
  const now = referenceResults();
  const names = ['predict', 'explain epsilon-plus', 'explain epsilon-alpha2-beta1'];
  const changed = names.filter((_, i) => !sameBits(now[i], referenceBefore[i]));
  await send({ type: 'end', label, outcome: 'checked', detail: '', problems: [], ms: 0 });
  if (changed.length > 0)
    await send({ type: 'violation', label, problem: `the engine is corrupted: the reference model's ${changed.join(', ')} changed` });
}

// ---------------------------------------------------------------------------------------------------
// One mutant: load, and when it loads predict, explain with three composites and explainBatch of 3.
// ---------------------------------------------------------------------------------------------------

const EXPLAIN_COMPOSITES = composites.filter((c) => c !== 'deep-taylor');
const MAX_EXERCISED_INPUT = 2 ** 24;  // inputs beyond this many values are not built (the model did load: reported)

function inputFor(model, rng) {
  // A dynamic axis (−1) gets 8 tokens; token ids 1 to 3 exist in every vocabulary and are never padding.
  const length = model.inputShape.reduce((acc, dim) => acc * (dim < 0 ? 8 : dim), 1);
  if (length > MAX_EXERCISED_INPUT) return null;
  if (model.inputType !== 'float32') return Int32Array.from({ length }, () => 1 + Math.floor(rng() * 3));
  return Float32Array.from({ length }, () => rng() * 2 - 1);
}

function explainOptions(composite) {
  return composite === 'epsilon-gamma-box' ? { composite, low: -3, high: 3 } : { composite };
}

async function runMutant(index, models) {
  const { base, kind, mutation, bytes, mustRefuse } = mutant(seed, index, models);
  const label = `seed ${seed} index ${index} [${base}] ${kind}: ${mutation}`;
  // An opset or IR version no release ever had must be refused, naming it (issue 12).
  const refusal = mustRefuse ? { mustThrow: true, message: mustRefuse } : {};
  const model = await checkedCall(`${label} — loadModel`, () => loadModel(bytes), null, refusal);
  // loadModel's result is a Model, not an array: judged here instead.
  if (!model) return { kind, loaded: false };
  try {
    const rng = rngFor(seed ^ 0x5eed, index);
    const x = inputFor(model, rng);
    if (!x) return { kind, loaded: true, exercised: false };
    const outputSize = model.outputSize;
    await checkedCall(`${label} — predict`, () => model.predict(x), { logits: outputSize });
    const chosen = [...EXPLAIN_COMPOSITES].sort(() => rng() - 0.5).slice(0, 3);
    for (const composite of chosen)
      await checkedCall(`${label} — explain(${composite})`, () => model.explain(x, explainOptions(composite)), { relevance: x.length });
    const batch = [x, inputFor(model, rng), inputFor(model, rng)];
    await checkedCall(`${label} — explainBatch(3, ${chosen[0]})`, () => model.explainBatch(batch, explainOptions(chosen[0])), { batch: 3, relevance: x.length });
    return { kind, loaded: true, exercised: true };
  } finally {
    model.dispose();
  }
}

// ---------------------------------------------------------------------------------------------------

async function main() {
  const models = args.abuse ? null : baseModels();
  for (let index = from; index < from + count; index++) {
    currentIndex = index;
    if (args.abuse) {
      const { label, run, expected, options } = await abusiveCall(seed, index);
      await checkedCall(`abuse seed ${seed} index ${index}: ${label}`, run, expected, options);
    } else {
      const summary = await runMutant(index, models);
      await send({ type: 'mutant', ...summary });
    }
    if ((index - from + 1) % checkEvery === 0) await checkReference(`after index ${index}`);
  }
  currentIndex = null;
  await checkReference(`after the run (seed ${seed}, ${from} to ${from + count - 1})`);
  referenceModel.dispose();
  disposeAbuseModels();
  await send({ type: 'finished' });
  // The IPC channel would keep the process alive.
  process.disconnect?.();
}

await main();
