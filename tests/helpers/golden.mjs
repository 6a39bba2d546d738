// Reads the reference relevances computed by Zennit and LXT, copied from ../shared/golden into tests/fixtures/golden
// (see its README) so that a clone tests itself wherever it lives.
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const goldenRoot = fileURLToPath(new URL('../fixtures/golden/', import.meta.url));

export function readFloat32(path) {
  const bytes = readFileSync(path);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

export function loadGolden(name) {
  const dir = join(goldenRoot, name);
  if (!existsSync(join(dir, 'cases.json'))) throw new Error(`golden data not found in ${dir}`);
  const meta = JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8'));
  // Token-id models (`input_dtype: 'int32'`) keep their ids in inputs.i32.
  const bytes = readFileSync(join(dir, meta.inputs));
  const inputs = meta.input_dtype === 'int32'
    ? new Int32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength))
    : readFloat32(join(dir, meta.inputs));
  const size = meta.input_shape.reduce((a, b) => a * b, 1);
  return {
    modelPath: join(dir, meta.model),
    inputShape: meta.input_shape,
    input: (index) => inputs.slice(index * size, (index + 1) * size),
    cases: meta.cases.map((c) => ({ ...c, expected: () => readFloat32(join(dir, c.relevance)) })),
  };
}

// The pass criterion of golden/README.md: max |R − R_ref| ≤ 1e-4 · max(max |R_ref|, 0.01 · |f_t(x)|).
export function relevanceError(actual, expected, targetOutput) {
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < expected.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(actual[i] - expected[i]));
    maxRef = Math.max(maxRef, Math.abs(expected[i]));
  }
  const scale = Math.max(maxRef, 0.01 * Math.abs(targetOutput));
  return { maxDiff, scale, ok: maxDiff <= 1e-4 * scale };
}
