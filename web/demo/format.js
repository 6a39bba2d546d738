// Numbers for people, and the small statistics the page shows (no DOM: tests/demo-format.test.mjs runs them in Node).

/** A relevance or logit: 3 decimals, or 3 significant digits in exponent form when it is very large or small. */
export const fmt = (v) => (Math.abs(v) >= 100 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(2) : v.toFixed(3));

/** A fraction as a percentage: one decimal below 10 %. */
export const pct = (v) => `${(v * 100).toFixed(v < 0.1 ? 1 : 0)} %`;

/** The index of the largest value (the first, on ties). */
export const argmax = (a) => a.reduce((k, v, i) => (v > a[k] ? i : k), 0);

export function softmax(a) {
  const m = Math.max(...a);
  const e = Array.from(a, (v) => Math.exp(v - m));
  const s = e.reduce((p, q) => p + q, 0);
  return e.map((v) => v / s);
}

/** The median, or null for no values. */
export const median = (a) => {
  const s = [...a].sort((p, q) => p - q);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : null;
};

const BYTE_UNITS = ['kB', 'MB', 'GB', 'TB'];

/** Bytes in binary units (1 MB = 2²⁰ bytes, as the engine's memory grows in such pages): "12.0 MB", "512 B". */
export function formatBytes(n) {
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`formatBytes: ${n} is not a byte count`);
  if (n < 1024) return `${n} B`;
  let v = n / 1024;
  let u = 0;
  while (Number(v.toFixed(1)) >= 1024 && u < BYTE_UNITS.length - 1) { // 1,048,575 bytes: 1.0 MB, not 1024.0 kB
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${BYTE_UNITS[u]}`;
}

const COUNT_UNITS = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];

/** A count with 3 significant digits and an SI prefix: "269 k", "1.82 G", "42". */
export function formatCount(n) {
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`formatCount: ${n} is not a count`);
  for (const [size, prefix] of COUNT_UNITS) {
    const v = Number((n / size).toPrecision(3)); // 999,999 rounds to 1.00 M, not 1,000 k
    if (v >= 1) return `${v} ${prefix}`;
  }
  return String(Math.round(n));
}
