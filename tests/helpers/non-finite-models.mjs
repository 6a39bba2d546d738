// Models for tests/non-finite.test.mjs and its child process (tests/helpers/non-finite-child.mjs).
import { fileURLToPath } from 'node:url';
import { buildModel } from './onnx-builder.mjs';

/** Finite weights and biases of 1e38 (issue 12's reproducer): 16 × 0.5 × 1e38 overflows float32 at /0/Gemm. */
export const hugeWeights = fileURLToPath(new URL('../fixtures/hostile/weight-all-1e38.onnx', import.meta.url));

/**
 * input [1, 1, 1, 3] → Conv 'features.0' (1×3 kernel [-1, 1e17, 0], no bias) → Flatten → Gemm 'head' (weight 1).
 * At x = [1e-30, 1, -1e-30]: f = z = 1e17 (finite), the relevance at the conv's output R = f. Alpha-beta's negative
 * part z⁻ = x₁⁺w₁⁻ + x₃⁻w₃⁺ = -1e-30 is stabilised to about -1e-6, so s = β·R/z⁻ ≈ -1e23; its branch x⁻·(w⁺ᵀs)
 * multiplies x₂⁻ = 0 by w₂⁺·s ≈ 1e40, an overflow: 0 × ∞ = NaN, only under a composite with alpha-beta on
 * convolutions (x₃ < 0 keeps the x⁻ branch from being skipped as all-zero). z-plus (epsilon-plus) divides by
 * z⁺ = x₂w₂ = 1e17: relevance [0, f, 0] (by hand: x₁⁺w₁⁺ = 0, x₃⁻w₃⁻ = 0).
 */
export function alphaBetaTrap() {
  return buildModel({
    input: { name: 'input', shape: [1, 1, 1, 3] },
    output: { name: 'logits', shape: [1, 1] },
    nodes: [
      { op: 'Conv', name: 'features.0', inputs: ['input', 'w'], outputs: ['c'], attrs: { kernel_shape: [1, 3] } },
      { op: 'Flatten', name: 'flatten', inputs: ['c'], outputs: ['f'] },
      { op: 'Gemm', name: 'head', inputs: ['f', 'h', 'b'], outputs: ['logits'], attrs: { transB: 1 } },
    ],
    initializers: {
      w: { dims: [1, 1, 1, 3], data: new Float32Array([-1, 1e17, 0]) },
      h: { dims: [1, 1], data: new Float32Array([1]) },
      b: { dims: [1], data: new Float32Array([0]) },
    },
  });
}

export const trapInput = new Float32Array([1e-30, 1, -1e-30]);
