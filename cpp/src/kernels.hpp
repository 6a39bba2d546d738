// Dense linear-algebra kernels the engine's hot paths run on (internal header).
#pragma once

#include "lrp/layers.hpp"
#include "lrp/types.hpp"

#include <cstddef>
#include <vector>

namespace lrp {

// The dense layer's two products over its one stored weight, column-major A (m × n), with a rule's
// parameter modifier applied to every element of A as it is loaded (in registers): no modified copy of the
// weight exists, not even for the call (VGG-16's classifier would need 400 MB for one).
//   transposedProduct: out = mod(A)ᵀ X, X (m × batch) — every output a dot product of two contiguous columns.
//   product:           out = mod(A) X,  X (n × batch) — columns of A scaled and summed into the output.
// Hand-written 4-wide SIMD (the compiler's vector extensions: wasm SIMD128 in WebAssembly, SSE natively, so the
// native tests run the same code): Eigen 3.4 has no wasm packet math, and its scalar GEMV runs 2–15× slower there.
Matrix transposedProduct(const Eigen::Ref<const Matrix>& a, const Eigen::Ref<const Matrix>& x, const Modifier& mod = {});
Matrix product(const Eigen::Ref<const Matrix>& a, const Eigen::Ref<const Matrix>& x, const Modifier& mod = {});
// The same product for the columns of a sequence (tokens): blocks of 8 rows × 4 columns kept in registers, A read
// in place (4–5× slower than `product` on one column of a large A, 1.5× faster on 17 tokens). Each output is a
// plain sum over A's columns in order, whatever the number of columns, but not the same sum as `product`'s:
// a layer must pick one of the two by something that does not change with the batch (tokens per sample).
Matrix productOfTokens(const Eigen::Ref<const Matrix>& a, const Eigen::Ref<const Matrix>& x, const Modifier& mod = {});

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
// The same into `out` (panelCount(n, 4)·4·k floats) with `load` (float → float) applied to every element of B
// as it is read: a rule's parameter modifier goes into the packing, so no modified copy of B is stored.
// Columns ≥ n stay zero whatever `load` does to zero (the flat rule's ones must not leak into them).
template <typename Load>
void packColumnPanels(const float* b, int k, int n, std::ptrdiff_t strideK, std::ptrdiff_t strideN, Load&& load,
                      float* out) {
  const int panels = panelCount(n, kPanelCols);
  for (int jp = 0; jp < panels; ++jp) {
    float* panel = out + static_cast<std::ptrdiff_t>(jp) * kPanelCols * k;
    const int cols = n - jp * kPanelCols < kPanelCols ? n - jp * kPanelCols : kPanelCols;
    for (int p = 0; p < k; ++p) {
      const float* src = b + p * strideK + static_cast<std::ptrdiff_t>(jp * kPanelCols) * strideN;
      float* dst = panel + static_cast<std::ptrdiff_t>(p) * kPanelCols;
      int q = 0;
      for (; q < cols; ++q) dst[q] = load(src[q * strideN]);
      for (; q < kPanelCols; ++q) dst[q] = 0.0f;
    }
  }
}
// Packs A (m × k) with element (i, p) at a[i·strideM + p·strideK] into `out` (panelCount(m, 8)·8·k floats).
void packRowPanels(const float* a, int m, int k, std::ptrdiff_t strideM, std::ptrdiff_t strideK, float* out);

// C (m × n, column-major with leading dimension ldc) = A·B, or C += A·B when `accumulate`.
void packedProduct(int m, int n, int k, const float* aPanels, const float* bPanels, float* c, std::ptrdiff_t ldc,
                   bool accumulate = false);

}  // namespace lrp
