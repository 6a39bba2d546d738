// Unit tests of the demo's number formatting and small statistics (web/demo/format.js), in Node. The expected
// values are worked out by hand from the definitions (binary byte units, 3 significant digits with SI prefixes,
// softmax = exp(x) / Σ exp).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fmt, pct, argmax, softmax, median, formatBytes, formatCount } from '../web/demo/format.js';

test('formatBytes: binary units with one decimal, rounding up to the next unit at 1024', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(1023), '1023 B');
  assert.equal(formatBytes(1024), '1.0 kB');
  assert.equal(formatBytes(1536), '1.5 kB');
  assert.equal(formatBytes(16 * 2 ** 20), '16.0 MB'); // the engine's first wasm memory
  assert.equal(formatBytes(2 ** 20 - 1), '1.0 MB', 'not "1024.0 kB"');
  assert.equal(formatBytes(2 ** 32), '4.0 GB');
  assert.throws(() => formatBytes(-1), /formatBytes: -1 is not a byte count/);
  assert.throws(() => formatBytes(NaN), RangeError);
});

test('formatCount: three significant digits and an SI prefix', () => {
  assert.equal(formatCount(0), '0');
  assert.equal(formatCount(42), '42');
  assert.equal(formatCount(999), '999');
  assert.equal(formatCount(1500), '1.5 k');
  assert.equal(formatCount(269_322), '269 k');
  assert.equal(formatCount(999_999), '1 M', 'not "1000 k"');
  assert.equal(formatCount(1_234_567), '1.23 M');
  assert.equal(formatCount(1.82e9), '1.82 G');
  assert.throws(() => formatCount(Infinity), /formatCount: Infinity is not a count/);
});

test('fmt and pct', () => {
  assert.equal(fmt(1.23456), '1.235');
  assert.equal(fmt(0), '0.000');
  assert.equal(fmt(123.4), '1.23e+2');
  assert.equal(fmt(-0.001234), '-1.23e-3');
  assert.equal(pct(0.5), '50 %');
  assert.equal(pct(0.0456), '4.6 %');
});

test('argmax, softmax, median', () => {
  assert.equal(argmax([1, 3, 3, 2]), 1, 'the first of equal maxima');
  assert.equal(argmax(Float32Array.of(-5, -1, -3)), 1);
  const p = softmax([0, Math.log(3)]); // e^0 : e^ln3 = 1 : 3
  assert.ok(Math.abs(p[0] - 0.25) < 1e-12 && Math.abs(p[1] - 0.75) < 1e-12, String(p));
  const big = softmax([1000, 1000]); // shifted by the maximum: no overflow
  assert.deepEqual(big, [0.5, 0.5]);
  assert.equal(median([5, 1, 3]), 3);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([]), null);
});
