// A bounded fuzz test (issue 12): seeded mutants of the fixtures' models (every operator fixture, the golden
// models, the encoders, the small ResNet) and seeded abusive API calls. For each, every call (loadModel, and
// when it loads predict, explain with three composites, explainBatch of 3) returns finite values of the right
// length or throws an Error whose message uses none of the runtime's internal words (fuzz-checks.mjs); a
// reference model gives the same bits before and after (every 25 mutants and at the end): the engine is not
// corrupted. The calls run in a child process watched by tests/helpers/watchdog.mjs: a call taking more than
// 10 s fails the test naming (seed, index, mutation), and the run goes on after it.
//
// The reference for "right" is the API's contract (README, index.d.ts), not recorded outputs. Reproduce one
// failure with the command the failure prints. LRP_FUZZ_SEED=n runs another seed (the suite uses 1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { runWatched } from './helpers/watchdog.mjs';
import { abuseCount } from './helpers/fuzz-abuse.mjs';
import { mutationClasses } from './helpers/fuzz-mutations.mjs';

const CHILD = fileURLToPath(new URL('./helpers/fuzz-child.mjs', import.meta.url));
const SEED = Number(process.env.LRP_FUZZ_SEED ?? 1);
const MUTANTS = 400;
const ABUSIVE_CALLS = 2 * abuseCount;  // each kind twice, with different values
const CALL_LIMIT_MS = 10_000;

function reproducer(abuse, index) {
  return `node tests/helpers/fuzz-child.mjs${abuse ? ' --abuse' : ''} --seed ${SEED} --index ${index}`;
}

/**
 * Runs indices 0 to total − 1 in watched children, starting a new child after the index where one hung or
 * died. Returns { violations: string[], messages: object[] }.
 */
async function runAll({ abuse, total }) {
  const violations = [];
  const messages = [];
  let next = 0;
  while (next < total) {
    const args = [...(abuse ? ['--abuse'] : []), '--seed', String(SEED), '--from', String(next), '--count', String(total - next)];
    const run = await runWatched(CHILD, args, { limitMs: CALL_LIMIT_MS });
    messages.push(...run.messages);
    for (const message of run.messages) {
      if (message.type === 'end')
        for (const problem of message.problems) violations.push(`${message.label}: ${problem}\n    reproduce: ${reproducer(abuse, message.index)}`);
      if (message.type === 'violation') violations.push(`${message.label}: ${message.problem}`);
    }
    if (run.messages.some((m) => m.type === 'finished')) break;
    const last = run.messages.findLast((m) => m.index !== null && m.index !== undefined);
    const where = last ? `\n    reproduce: ${reproducer(abuse, last.index)}` : '';
    if (run.hung) violations.push(`${run.hung}: took more than ${CALL_LIMIT_MS / 1000} s (killed)${where}`);
    else violations.push(`the child exited with code ${run.exitCode} during ${last?.label ?? 'its start-up'}: ${run.stderr.slice(-500)}${where}`);
    if (!last) break;  // it died before its first call: restarting would die the same way
    next = last.index + 1;
  }
  return { violations, messages };
}

// How the mutants fared: loaded and exercised, or refused, by message class.
function summary(messages) {
  const mutants = messages.filter((m) => m.type === 'mutant');
  const refusals = new Map();
  for (const m of messages) {
    if (m.type === 'end' && m.outcome === 'refused') refusals.set(m.detail, (refusals.get(m.detail) ?? 0) + 1);
  }
  const lines = [
    `${mutants.length} mutants: ${mutants.filter((m) => m.loaded).length} loaded (${mutants.filter((m) => m.exercised).length} exercised), ${mutants.filter((m) => !m.loaded).length} refused at load`,
  ];
  const byKind = new Map();
  for (const m of mutants) {
    const entry = byKind.get(m.kind) ?? { loaded: 0, refused: 0 };
    entry[m.loaded ? 'loaded' : 'refused']++;
    byKind.set(m.kind, entry);
  }
  for (const [kind, { loaded, refused }] of [...byKind].sort()) lines.push(`  ${kind}: ${loaded} loaded, ${refused} refused`);
  lines.push('refusals by message class (all calls):');
  for (const [detail, count] of [...refusals].sort((a, b) => b[1] - a[1]).slice(0, 25)) lines.push(`  ${String(count).padStart(4)} × ${detail}`);
  return lines;
}

function assertNoViolations(violations) {
  assert.equal(violations.length, 0, `${violations.length} violation(s):\n  ${violations.join('\n  ')}`);
}

test('the watchdog kills a call that blocks its thread and names it', async () => {
  const started = performance.now();
  const run = await runWatched(fileURLToPath(new URL('./helpers/blocking-child.mjs', import.meta.url)), [], { limitMs: 500 });
  assert.equal(run.hung, 'a call that never returns');
  assert.equal(run.exitCode, null);  // killed by a signal
  assert.ok(performance.now() - started < 5000, 'the blocked child was not killed promptly');
});

test(`fuzz: ${MUTANTS} seeded mutants of the fixtures' models load or are refused cleanly`, { timeout: 600_000 }, async (t) => {
  const { violations, messages } = await runAll({ abuse: false, total: MUTANTS });
  for (const line of summary(messages)) t.diagnostic(line);
  const calls = messages.filter((m) => m.type === 'end').length;
  const kinds = new Set(messages.filter((m) => m.type === 'mutant').map((m) => m.kind));
  assert.deepEqual(mutationClasses.filter((kind) => !kinds.has(kind)), [], 'mutation classes the run never made');
  // The run covered what it claims: every mutant reported (or was named in a violation) and calls were made.
  assert.ok(calls >= MUTANTS, `only ${calls} calls were judged for ${MUTANTS} mutants`);
  assertNoViolations(violations);
});

test(`fuzz: ${ABUSIVE_CALLS} seeded abusive API calls return or are refused cleanly`, { timeout: 600_000 }, async (t) => {
  const { violations, messages } = await runAll({ abuse: true, total: ABUSIVE_CALLS });
  const ends = messages.filter((m) => m.type === 'end' && m.index !== null);
  t.diagnostic(`${ends.length} abusive calls: ${ends.filter((m) => m.outcome === 'returned').length} returned, ${ends.filter((m) => m.outcome === 'refused').length} refused`);
  assertNoViolations(violations);
});
