// The operator fixtures of tests/fixtures/ops/ (made by scripts/make_fixtures.py: one small PyTorch
// export per operator or pattern, PyTorch's logits, and a float64 reference of the LRP rules of
// ../shared/RULES.md and ../shared/ATTNLRP.md). Criterion: ../shared/golden/README.md — logits to 1e-4
// relative to the largest logit (at least 1), the same target, max |R − R_ref| ≤ 1e-4 · max(max |R_ref|,
// 0.01 · |f_t(x)|), and Σ R as in golden.test.mjs.
//
//   node --test tests/ops.test.mjs       every fixture; every one must pass
//   node tests/ops.test.mjs --all        the same, with a summary table (which load, which pass, the
//                                        worst case of each); `--all name1 name2` only those
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel } from 'lrp-wasm';
import { readFloat32, relevanceError } from './helpers/golden.mjs';

const root = fileURLToPath(new URL('./fixtures/ops/', import.meta.url));
const args = process.argv.slice(2);
const all = args.includes('--all');
const only = args.filter((a) => !a.startsWith('--'));
const available = readdirSync(root).filter((n) => existsSync(join(root, n, 'cases.json'))).sort();
const names = only.length ? only : available;

function loadFixture(name) {
  const dir = join(root, name);
  const meta = JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8'));
  const size = meta.input_shape.reduce((a, b) => a * b, 1);
  let input;
  if (meta.input_dtype === 'int32') {
    const bytes = readFileSync(join(dir, meta.inputs));
    const ids = new Int32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    input = (i) => ids.slice(i * size, (i + 1) * size);
  } else {
    const xs = readFloat32(join(dir, meta.inputs));
    input = (i) => xs.slice(i * size, (i + 1) * size);
  }
  return {
    ...meta,
    modelPath: join(dir, meta.model),
    input,
    cases: meta.cases.map((c) => ({ ...c, expected: () => readFloat32(join(dir, c.relevance)) })),
  };
}

const describe = (options) => JSON.stringify(options);

// Checks one fixture; returns { failures: string[], worst: { ratio, text } } (ratio = error / tolerance).
async function check(fx) {
  const failures = [];
  let worst = { ratio: 0, text: 'no case ran' };
  const model = await loadModel(fx.modelPath);
  try {
    // A dynamic sequence axis reads −1 (masks.test.mjs checks those); the inputs have input_shape.
    assert.deepEqual(model.inputShape.map((size, axis) => (size === -1 ? fx.input_shape[axis] : size)), fx.input_shape, 'input shape');
    for (const [i, c] of fx.cases.entries()) {
      const x = fx.input(c.input_index);
      const label = `case ${i} ${describe(c.options)}`;
      // logits
      const logits = model.predict(x);
      const logitScale = Math.max(1, ...c.output.map(Math.abs));
      let logitDiff = 0;
      c.output.forEach((v, k) => { logitDiff = Math.max(logitDiff, Math.abs(logits[k] - v)); });
      if (!(logitDiff <= 1e-4 * logitScale)) failures.push(`${label}: logits differ by ${logitDiff.toExponential(2)} (> 1e-4 × ${logitScale.toPrecision(3)})`);
      // relevance
      let result;
      try {
        result = model.explain(x, c.options);
      } catch (error) {
        failures.push(`${label}: ${error.message}`);
        continue;
      }
      if (result.target !== c.target) failures.push(`${label}: target ${result.target}, expected ${c.target}`);
      const expected = c.expected();
      if (result.relevance.length !== expected.length) {
        failures.push(`${label}: ${result.relevance.length} relevance values, expected ${expected.length}`);
        continue;
      }
      const { maxDiff, scale, ok } = relevanceError(result.relevance, expected, c.output[c.target]);
      const ratio = maxDiff / (1e-4 * scale);
      if (!(ratio <= worst.ratio)) worst = { ratio, text: `${label}: max |ΔR| = ${maxDiff.toExponential(2)} = ${ratio.toFixed(3)} × tolerance` };
      if (!ok) failures.push(`${label}: max |ΔR| ${maxDiff.toExponential(2)} > 1e-4 × ${scale.toExponential(2)} (${ratio.toFixed(2)} × tolerance)`);
      const sum = result.relevance.reduce((a, b) => a + b, 0);
      const sumTolerance = 1e-4 * Math.max(1, Math.abs(c.relevance_sum)) + 1e-4 * scale * result.relevance.length;
      if (!(Math.abs(sum - c.relevance_sum) <= sumTolerance)) failures.push(`${label}: Σ R = ${sum} vs ${c.relevance_sum}`);
    }
  } finally {
    model.dispose();
  }
  return { failures, worst };
}

const summary = [];

for (const name of names) {
  test(`ops fixture ${name}`, async (t) => {
    const fx = loadFixture(name);
    let outcome;
    try {
      outcome = await check(fx);
    } catch (error) {
      summary.push({ name, status: 'error', detail: error.message.split('\n')[0] });
      throw error;
    }
    const { failures, worst } = outcome;
    t.diagnostic(`worst: ${worst.text}`);
    summary.push({ name, status: failures.length ? `FAIL (${failures.length}/${fx.cases.length})` : `pass (${fx.cases.length})`,
      detail: failures.length ? failures[0] : `worst ${worst.text}` });
    assert.deepEqual(failures, [], `${name}: ${failures.length} of ${fx.cases.length} cases fail`);
  });
}

after(() => {
  if (!all) return;
  const width = Math.max(...summary.map((s) => s.name.length));
  const lines = summary.map((s) => `${s.name.padEnd(width)}  ${s.status.padEnd(14)}  ${s.detail}`);
  const passing = summary.filter((s) => s.status.startsWith('pass')).map((s) => s.name);
  console.log(`\nops fixtures: ${passing.length} of ${summary.length} pass\n${lines.join('\n')}`);
});
