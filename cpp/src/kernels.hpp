// Dense linear-algebra kernels the engine's hot paths run on (internal header).
#pragma once

#include "lrp/types.hpp"

#include <cstddef>
#include <vector>

namespace lrp {

// out = Aᵀ X for column-major A (n × m) and X (n × batch): every output is a dot product of two
// contiguous columns. In WebAssembly this is a hand-written SIMD kernel — Eigen 3.4 has no wasm packet
// math, and its scalar GEMM/GEMV run 2–15× slower there; natively it is Eigen's product.
Matrix transposedProduct(const Matrix& a, const Eigen::Ref<const Matrix>& x);

// Packed matrix product C = A·B (the convolutions' GEMM). Both operands come packed in panels so that the
// inner kernel streams them contiguously and keeps an 8×4 block of C in registers (4-wide SIMD through the
// compiler's vector extensions: wasm SIMD128 in WebAssembly, SSE natively — the same code is tested natively).
//   A (m × k) in panels of kPanelRows rows: element (i, p) at  a[(i / 8)·k·8 + p·8 + i % 8], rows ≥ m are zero.
//   B (k × n) in panels of kPanelCols columns: element (p, j) at b[(j / 4)·k·4 + p·4 + j % 4], columns ≥ n are zero.
constexpr int kPanelRows = 8;
constexpr int kPanelCols = 4;
inline int panelCount(int size, int width) { return (size + width - 1) / width; }

// Packs B (k × n) with element (p, j) at b[p·strideK + j·strideN]; returns panelCount(n, 4)·4·k floats.
std::vector<float> packColumnPanels(const float* b, int k, int n, std::ptrdiff_t strideK, std::ptrdiff_t strideN);
// Packs A (m × k) with element (i, p) at a[i·strideM + p·strideK] into `out` (panelCount(m, 8)·8·k floats).
void packRowPanels(const float* a, int m, int k, std::ptrdiff_t strideM, std::ptrdiff_t strideK, float* out);

// C (m × n, column-major with leading dimension ldc) = A·B, or C += A·B when `accumulate`.
void packedProduct(int m, int n, int k, const float* aPanels, const float* bPanels, float* c, std::ptrdiff_t ldc,
                   bool accumulate = false);

}  // namespace lrp
