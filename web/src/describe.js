// How argument errors show the value they got: strings quoted, BigInts with their n (2n is not the number 2),
// objects by their constructor's name (a Proxy around a Float32Array reads as Float32Array: what it claims).
export function describe(value) {
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'bigint') return `${value}n (a BigInt)`;
  if (typeof value === 'symbol' || typeof value === 'function') return typeof value;
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'object') return value.constructor?.name ?? 'object';
  return String(value);
}
