// The README's first example ("A runnable example"): its code, and what its output must say. Run in this
// repository by tests/readme.test.mjs and in a folder where the packed package was installed by
// tests/package.test.mjs.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

export function readmeExample(readmeFile) {
  const readme = readFileSync(readmeFile, 'utf8');
  const section = readme.slice(readme.indexOf('A runnable example'));
  return section.match(/```js\n([\s\S]*?)```/)[1];
}

/** Asserts the example's output: the drawn bar is a 1, relevance is conserved, the best pixel is on the bar. */
export function checkExampleOutput(output) {
  const line = output.match(/^predicted (\d): logit (-?\d+\.\d\d) = relevance of the pixels (-?\d+\.\d\d) \+ absorbed by biases (-?\d+\.\d\d)$/m);
  assert.ok(line, `unexpected output:\n${output}`);
  const [, target, logit, pixels, biases] = line.map(Number);
  assert.equal(target, 1);
  assert.ok(logit > 0 && pixels > 0, output);
  // Conservation: Σ R over the pixels + what the biases absorbed = the logit (each printed to 2 decimals).
  assert.ok(Math.abs(pixels + biases - logit) <= 0.015, `${pixels} + ${biases} ≠ ${logit}`);
  const best = output.match(/^most relevant pixel: row (\d+), column (\d+)$/m);
  assert.ok(best, `unexpected output:\n${output}`);
  const [row, column] = [Number(best[1]), Number(best[2])];
  assert.ok(row >= 4 && row < 24 && (column === 13 || column === 14), `pixel (${row}, ${column}) is off the bar`);
}
