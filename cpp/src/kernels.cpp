#include "kernels.hpp"

#include <algorithm>

#ifdef __wasm_simd128__
#include <wasm_simd128.h>
#endif

namespace lrp {

#ifdef __wasm_simd128__
namespace {

inline float horizontalSum(v128_t v) {
  return (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1)) +
         (wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3));
}

inline v128_t multiplyAdd(v128_t acc, v128_t a, v128_t b) { return wasm_f32x4_add(acc, wasm_f32x4_mul(a, b)); }

// out[c][k] for the 4 columns a[0..3] of A and the 2 columns x[0..1] of X (8 accumulators: the block
// reuses every load twice or four times while staying within the 16 SIMD registers of x86-64).
void block4x2(const float* const a[4], const float* const x[2], int n, float out[2][4]) {
  v128_t acc[2][4];
  for (auto& row : acc)
    for (auto& v : row) v = wasm_f32x4_splat(0.0f);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    const v128_t x0 = wasm_v128_load(x[0] + i), x1 = wasm_v128_load(x[1] + i);
    for (int k = 0; k < 4; ++k) {
      const v128_t ak = wasm_v128_load(a[k] + i);
      acc[0][k] = multiplyAdd(acc[0][k], ak, x0);
      acc[1][k] = multiplyAdd(acc[1][k], ak, x1);
    }
  }
  for (int c = 0; c < 2; ++c)
    for (int k = 0; k < 4; ++k) {
      float sum = horizontalSum(acc[c][k]);
      for (int j = i; j < n; ++j) sum += a[k][j] * x[c][j];
      out[c][k] = sum;
    }
}

void block4x1(const float* const a[4], const float* x, int n, float out[4]) {
  v128_t acc[4] = {wasm_f32x4_splat(0.0f), wasm_f32x4_splat(0.0f), wasm_f32x4_splat(0.0f), wasm_f32x4_splat(0.0f)};
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    const v128_t xi = wasm_v128_load(x + i);
    for (int k = 0; k < 4; ++k) acc[k] = multiplyAdd(acc[k], wasm_v128_load(a[k] + i), xi);
  }
  for (int k = 0; k < 4; ++k) {
    float sum = horizontalSum(acc[k]);
    for (int j = i; j < n; ++j) sum += a[k][j] * x[j];
    out[k] = sum;
  }
}

float dot(const float* a, const float* x, int n) {
  v128_t acc = wasm_f32x4_splat(0.0f);
  int i = 0;
  for (; i + 4 <= n; i += 4) acc = multiplyAdd(acc, wasm_v128_load(a + i), wasm_v128_load(x + i));
  float sum = horizontalSum(acc);
  for (; i < n; ++i) sum += a[i] * x[i];
  return sum;
}

}  // namespace

Matrix transposedProduct(const Matrix& a, const Eigen::Ref<const Matrix>& x) {
  const int n = static_cast<int>(a.rows()), m = static_cast<int>(a.cols()), batch = static_cast<int>(x.cols());
  if (x.rows() != n) throw Error("transposedProduct: inner dimensions differ");
  Matrix out(m, batch);
  auto column = [&](const auto& mat, int j) { return mat.data() + static_cast<Eigen::Index>(j) * mat.outerStride(); };
  int c = 0;
  for (; c + 2 <= batch; c += 2) {
    const float* xs[2] = {column(x, c), column(x, c + 1)};
    int k = 0;
    for (; k + 4 <= m; k += 4) {
      const float* as[4] = {column(a, k), column(a, k + 1), column(a, k + 2), column(a, k + 3)};
      float block[2][4];
      block4x2(as, xs, n, block);
      for (int q = 0; q < 4; ++q) {
        out(k + q, c) = block[0][q];
        out(k + q, c + 1) = block[1][q];
      }
    }
    for (; k < m; ++k) {
      out(k, c) = dot(column(a, k), xs[0], n);
      out(k, c + 1) = dot(column(a, k), xs[1], n);
    }
  }
  for (; c < batch; ++c) {
    int k = 0;
    for (; k + 4 <= m; k += 4) {
      const float* as[4] = {column(a, k), column(a, k + 1), column(a, k + 2), column(a, k + 3)};
      float block[4];
      block4x1(as, column(x, c), n, block);
      for (int q = 0; q < 4; ++q) out(k + q, c) = block[q];
    }
    for (; k < m; ++k) out(k, c) = dot(column(a, k), column(x, c), n);
  }
  return out;
}

#else

Matrix transposedProduct(const Matrix& a, const Eigen::Ref<const Matrix>& x) {
  if (x.rows() != a.rows()) throw Error("transposedProduct: inner dimensions differ");
  Matrix out;
  out.noalias() = a.transpose() * x;
  return out;
}

#endif

}  // namespace lrp

// ---------------------------------------------------------------------------------------------------------
// Packed GEMM for the convolutions.

namespace lrp {
namespace {

// 4 floats in one SIMD register. GCC and Clang both lower these vector extensions to SSE natively and to
// SIMD128 in WebAssembly; `may_alias` and 4-byte alignment make the loads legal on any float array.
typedef float Float4 __attribute__((vector_size(16)));
typedef float UnalignedFloat4 __attribute__((vector_size(16), aligned(4), may_alias));

inline Float4 load4(const float* p) { return *reinterpret_cast<const UnalignedFloat4*>(p); }
inline void store4(float* p, Float4 v) { *reinterpret_cast<UnalignedFloat4*>(p) = v; }

// The 8×4 block C[0..8) × [0..4) (leading dimension ldc) = (or +=) Σ_p A(·, p) B(p, ·) over kc steps of one
// A panel and one B panel: 8 accumulators, 2 loads and 4 broadcasts per step. (Measured in V8: 26 GFLOP/s,
// against 19–20 for 12×4 or 8×6, which run out of registers.)
inline void microKernel(int kc, const float* a, const float* b, float* c, std::ptrdiff_t ldc, bool add) {
  Float4 acc[kPanelCols][2] = {};
  for (int p = 0; p < kc; ++p) {
    const Float4 a0 = load4(a), a1 = load4(a + 4);
    for (int j = 0; j < kPanelCols; ++j) {
      const float bj = b[j];
      const Float4 bv = {bj, bj, bj, bj};
      acc[j][0] += a0 * bv;
      acc[j][1] += a1 * bv;
    }
    a += kPanelRows;
    b += kPanelCols;
  }
  for (int j = 0; j < kPanelCols; ++j) {
    float* cj = c + j * ldc;
    if (add) {
      store4(cj, load4(cj) + acc[j][0]);
      store4(cj + 4, load4(cj + 4) + acc[j][1]);
    } else {
      store4(cj, acc[j][0]);
      store4(cj + 4, acc[j][1]);
    }
  }
}

}  // namespace

std::vector<float> packColumnPanels(const float* b, int k, int n, std::ptrdiff_t strideK, std::ptrdiff_t strideN) {
  std::vector<float> out(static_cast<size_t>(panelCount(n, kPanelCols)) * kPanelCols * static_cast<size_t>(k));
  packColumnPanels(b, k, n, strideK, strideN, [](float v) { return v; }, out.data());
  return out;
}

void packRowPanels(const float* a, int m, int k, std::ptrdiff_t strideM, std::ptrdiff_t strideK, float* out) {
  const int panels = panelCount(m, kPanelRows);
  for (int ip = 0; ip < panels; ++ip) {
    float* panel = out + static_cast<std::ptrdiff_t>(ip) * kPanelRows * k;
    const int rows = std::min(kPanelRows, m - ip * kPanelRows);
    const float* src = a + static_cast<std::ptrdiff_t>(ip) * kPanelRows * strideM;
    for (int p = 0; p < k; ++p) {
      float* dst = panel + static_cast<std::ptrdiff_t>(p) * kPanelRows;
      const float* col = src + p * strideK;
      int r = 0;
      for (; r < rows; ++r) dst[r] = col[r * strideM];
      for (; r < kPanelRows; ++r) dst[r] = 0.0f;
    }
  }
}

void packedProduct(int m, int n, int k, const float* aPanels, const float* bPanels, float* c, std::ptrdiff_t ldc,
                   bool accumulate) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!accumulate)
      for (int j = 0; j < n; ++j) std::fill(c + j * ldc, c + j * ldc + m, 0.0f);
    return;
  }
  // Blocking: a kc-slice of one A panel (8 KB) stays in L1 while it meets a block of B panels (64 KB, L2).
  constexpr int kBlockK = 256, kBlockPanels = 16;
  const int rowPanels = panelCount(m, kPanelRows), colPanels = panelCount(n, kPanelCols);
  float tile[kPanelRows * kPanelCols];
  for (int k0 = 0; k0 < k; k0 += kBlockK) {
    const int kc = std::min(kBlockK, k - k0);
    const bool add = accumulate || k0 > 0;
    for (int j0 = 0; j0 < colPanels; j0 += kBlockPanels) {
      const int j1 = std::min(colPanels, j0 + kBlockPanels);
      for (int ip = 0; ip < rowPanels; ++ip) {
        const float* a = aPanels + (static_cast<std::ptrdiff_t>(ip) * k + k0) * kPanelRows;
        const int rows = std::min(kPanelRows, m - ip * kPanelRows);
        for (int jp = j0; jp < j1; ++jp) {
          const float* b = bPanels + (static_cast<std::ptrdiff_t>(jp) * k + k0) * kPanelCols;
          const int cols = std::min(kPanelCols, n - jp * kPanelCols);
          float* block = c + static_cast<std::ptrdiff_t>(jp) * kPanelCols * ldc + ip * kPanelRows;
          if (rows == kPanelRows && cols == kPanelCols) {
            microKernel(kc, a, b, block, ldc, add);
          } else {  // an edge block: through a full-size tile
            microKernel(kc, a, b, tile, kPanelRows, false);
            for (int q = 0; q < cols; ++q)
              for (int r = 0; r < rows; ++r) {
                float& target = block[q * ldc + r];
                target = (add ? target : 0.0f) + tile[q * kPanelRows + r];
              }
          }
        }
      }
    }
  }
}

}  // namespace lrp
