#include "kernels.hpp"

#include "parallel.hpp"

#include <algorithm>

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
  // Threads take contiguous ranges of B's panels (columns of C); each computes its blocks of C exactly as one
  // thread would (same k blocking, same micro-kernel). Inside a parallel region (a conv's chunks) it runs serially.
  const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 17) / (int64_t{m} * k * kPanelCols));
  parallelFor(0, colPanels, grain, [&](int64_t jBegin, int64_t jEnd) {
    float tile[kPanelRows * kPanelCols];
    for (int k0 = 0; k0 < k; k0 += kBlockK) {
      const int kc = std::min(kBlockK, k - k0);
      const bool add = accumulate || k0 > 0;
      for (int j0 = static_cast<int>(jBegin); j0 < jEnd; j0 += kBlockPanels) {
        const int j1 = std::min(static_cast<int>(jEnd), j0 + kBlockPanels);
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
  });
}

}  // namespace lrp

// ---------------------------------------------------------------------------------------------------------
// The dense layer's products, with the rule's parameter modifier applied in the loads.

namespace lrp {
namespace {

typedef int Int4 __attribute__((vector_size(16)));

inline Float4 splat(float v) { return Float4{v, v, v, v}; }
inline float horizontalSum(Float4 v) { return (v[0] + v[1]) + (v[2] + v[3]); }
// max(v, 0) and min(v, 0) lane-wise through a compare mask (bit-and), which works for both SSE and SIMD128.
inline Float4 positivePart(Float4 v) { return reinterpret_cast<Float4>(reinterpret_cast<Int4>(v) & (v > splat(0.0f))); }
inline Float4 negativePart(Float4 v) { return reinterpret_cast<Float4>(reinterpret_cast<Int4>(v) & (v < splat(0.0f))); }

// Each modifier as a load with a scalar and a 4-lane form (same values as Modifier::applyModifier).
struct LoadIdentity {
  float operator()(float p) const { return p; }
  Float4 operator()(Float4 v) const { return v; }
};
struct LoadPositive {
  float operator()(float p) const { return p > 0.0f ? p : 0.0f; }
  Float4 operator()(Float4 v) const { return positivePart(v); }
};
struct LoadNegative {
  float operator()(float p) const { return p < 0.0f ? p : 0.0f; }
  Float4 operator()(Float4 v) const { return negativePart(v); }
};
struct LoadGammaPositive {
  float g;
  float operator()(float p) const { return p + g * (p > 0.0f ? p : 0.0f); }
  Float4 operator()(Float4 v) const { return v + splat(g) * positivePart(v); }
};
struct LoadGammaNegative {
  float g;
  float operator()(float p) const { return p + g * (p < 0.0f ? p : 0.0f); }
  Float4 operator()(Float4 v) const { return v + splat(g) * negativePart(v); }
};
struct LoadSquare {
  float operator()(float p) const { return p * p; }
  Float4 operator()(Float4 v) const { return v * v; }
};
struct LoadConstant {  // Ones (1) and Zero (0)
  float c;
  float operator()(float) const { return c; }
  Float4 operator()(Float4) const { return splat(c); }
};

// Calls f with the load for `m`: one dispatch per product, the loops below are instantiated per modifier.
template <typename F>
Matrix withLoad(const Modifier& m, F&& f) {
  switch (m.mod) {
    case ParamMod::Positive: return f(LoadPositive{});
    case ParamMod::Negative: return f(LoadNegative{});
    case ParamMod::GammaPositive: return f(LoadGammaPositive{m.gamma});
    case ParamMod::GammaNegative: return f(LoadGammaNegative{m.gamma});
    case ParamMod::Square: return f(LoadSquare{});
    case ParamMod::Ones: return f(LoadConstant{1.0f});
    case ParamMod::Zero: return f(LoadConstant{0.0f});
    case ParamMod::Identity: break;
  }
  return f(LoadIdentity{});
}

// out[c][k] = Σ_i mod(a[k][i]) x[c][i] for 4 columns of A and C (1 or 2) columns of X: 4·C accumulators, each
// loaded A vector reused C times, each X vector 4 times (within the 16 SIMD registers of x86-64).
template <int C, typename Load>
void dotBlock(const float* const a[4], const float* const x[C], int n, float out[C][4], Load load) {
  Float4 acc[C][4] = {};
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    Float4 xv[C];
    for (int c = 0; c < C; ++c) xv[c] = load4(x[c] + i);
    for (int k = 0; k < 4; ++k) {
      const Float4 ak = load(load4(a[k] + i));
      for (int c = 0; c < C; ++c) acc[c][k] += ak * xv[c];
    }
  }
  for (int c = 0; c < C; ++c)
    for (int k = 0; k < 4; ++k) {
      float sum = horizontalSum(acc[c][k]);
      for (int j = i; j < n; ++j) sum += load(a[k][j]) * x[c][j];
      out[c][k] = sum;
    }
}

template <typename Load>
float dot(const float* a, const float* x, int n, Load load) {
  Float4 acc = {};
  int i = 0;
  for (; i + 4 <= n; i += 4) acc += load(load4(a + i)) * load4(x + i);
  float sum = horizontalSum(acc);
  for (; i < n; ++i) sum += load(a[i]) * x[i];
  return sum;
}

// Column j of a column-major matrix (a Matrix or an Eigen::Ref of one).
template <typename M>
const float* column(const M& mat, int j) {
  return mat.data() + static_cast<Eigen::Index>(j) * mat.outerStride();
}

// Output rows below this many multiply-adds per thread are not split over threads.
constexpr int64_t kMinParallelWork = 1 << 17;

// Threads split the outputs k into ranges that start at multiples of 4: each thread computes the same 4-row
// blocks (and the one tail) as a single thread would, so every output has the same arithmetic.
template <typename Load>
Matrix transposedProductWith(const Eigen::Ref<const Matrix>& a, const Eigen::Ref<const Matrix>& x, Load load) {
  const int n = static_cast<int>(a.rows()), m = static_cast<int>(a.cols()), batch = static_cast<int>(x.cols());
  Matrix out(m, batch);
  const int64_t grain = std::max<int64_t>(4, kMinParallelWork / std::max<int64_t>(int64_t{n} * batch, 1));
  parallelFor(0, m, grain, [&](int64_t kBegin, int64_t kEnd) {
    const int k0 = static_cast<int>(kBegin), k1 = static_cast<int>(kEnd);
    int c = 0;
    for (; c + 2 <= batch; c += 2) {
      const float* xs[2] = {column(x, c), column(x, c + 1)};
      int k = k0;
      for (; k + 4 <= k1; k += 4) {
        const float* as[4] = {column(a, k), column(a, k + 1), column(a, k + 2), column(a, k + 3)};
        float block[2][4];
        dotBlock<2>(as, xs, n, block, load);
        for (int q = 0; q < 4; ++q) {
          out(k + q, c) = block[0][q];
          out(k + q, c + 1) = block[1][q];
        }
      }
      for (; k < k1; ++k) {
        out(k, c) = dot(column(a, k), xs[0], n, load);
        out(k, c + 1) = dot(column(a, k), xs[1], n, load);
      }
    }
    for (; c < batch; ++c) {
      const float* xs[1] = {column(x, c)};
      int k = k0;
      for (; k + 4 <= k1; k += 4) {
        const float* as[4] = {column(a, k), column(a, k + 1), column(a, k + 2), column(a, k + 3)};
        float block[1][4];
        dotBlock<1>(as, xs, n, block, load);
        for (int q = 0; q < 4; ++q) out(k + q, c) = block[0][q];
      }
      for (; k < k1; ++k) out(k, c) = dot(column(a, k), xs[0], n, load);
    }
  }, 4);
  return out;
}

// out[c][i..i+8) = Σ_j mod(A(i..i+8, j)) x[c][j] for C columns (tokens) of X: an 8×C block of the result in
// registers while A's column segments (8 contiguous floats, modified once) and X's values stream past; every
// output is one sum over j in increasing order.
template <int C, typename Load>
inline void tokenBlock(const float* a, std::ptrdiff_t lda, const float* const x[C], int n, float* const out[C],
                       Load load) {
  Float4 acc[C][2] = {};
  for (int j = 0; j < n; ++j, a += lda) {
    const Float4 a0 = load(load4(a)), a1 = load(load4(a + 4));
    for (int c = 0; c < C; ++c) {
      const Float4 xv = splat(x[c][j]);
      acc[c][0] += a0 * xv;
      acc[c][1] += a1 * xv;
    }
  }
  for (int c = 0; c < C; ++c) {
    store4(out[c], acc[c][0]);
    store4(out[c] + 4, acc[c][1]);
  }
}

// out = mod(A) X for several columns (a sequence's tokens): blocks of 8 rows × 4 tokens (tokenBlock), A and X
// read in place. Measured in V8 on a 64×64 layer at 17 tokens: 6 µs, against 10 µs for the column-streaming
// loop below and 9 µs for main's dot products over a stored Wᵀ (which this engine no longer keeps).
template <typename Load>
Matrix productTokensWith(const Eigen::Ref<const Matrix>& a, const Eigen::Ref<const Matrix>& x, Load load) {
  const int m = static_cast<int>(a.rows()), n = static_cast<int>(a.cols()), batch = static_cast<int>(x.cols());
  Matrix out(m, batch);
  const std::ptrdiff_t lda = a.outerStride();
  const int64_t blocks = m / 8;
  const int64_t grain = std::max<int64_t>(1, kMinParallelWork / std::max<int64_t>(int64_t{8} * n * batch, 1));
  parallelFor(0, blocks, grain, [&](int64_t first, int64_t last) {
    for (int64_t blockIndex = first; blockIndex < last; ++blockIndex) {
      const int i = static_cast<int>(blockIndex) * 8;
      int c = 0;
      for (; c + 4 <= batch; c += 4) {
        const float* xs[4] = {column(x, c), column(x, c + 1), column(x, c + 2), column(x, c + 3)};
        float* os[4] = {out.col(c).data() + i, out.col(c + 1).data() + i, out.col(c + 2).data() + i, out.col(c + 3).data() + i};
        tokenBlock<4>(a.data() + i, lda, xs, n, os, load);
      }
      for (; c < batch; ++c) {
        const float* xs[1] = {column(x, c)};
        float* os[1] = {out.col(c).data() + i};
        tokenBlock<1>(a.data() + i, lda, xs, n, os, load);
      }
    }
  });
  for (int i = static_cast<int>(blocks) * 8; i < m; ++i)  // the last m % 8 rows
    for (int c = 0; c < batch; ++c) {
      const float* xc = column(x, c);
      float sum = 0.0f;
      for (int j = 0; j < n; ++j) sum += load(a.data()[i + j * lda]) * xc[j];
      out(i, c) = sum;
    }
  return out;
}

// At one column (batch 1):
// out = mod(A) X as a sum of A's columns: 4 columns of A at a time are added into each output column, so A is
// streamed contiguously (the forward product of a dense layer stored as out × in, without keeping Wᵀ), and the
// 4 columns (16·m bytes) stay in cache while every sample of the batch uses them.
// Threads split the output rows i into ranges that start at multiples of 4 (the same SIMD blocks and tail as
// one thread), each adding every column of A into its rows.
template <typename Load>
Matrix productWith(const Eigen::Ref<const Matrix>& a, const Eigen::Ref<const Matrix>& x, Load load) {
  const int m = static_cast<int>(a.rows()), n = static_cast<int>(a.cols()), batch = static_cast<int>(x.cols());
  Matrix out = Matrix::Zero(m, batch);
  const int64_t grain = std::max<int64_t>(4, kMinParallelWork / std::max<int64_t>(int64_t{n} * batch, 1));
  parallelFor(0, m, grain, [&](int64_t iBegin, int64_t iEnd) {
    const int i0 = static_cast<int>(iBegin), i1 = static_cast<int>(iEnd);
    int j = 0;
    for (; j + 4 <= n; j += 4) {
      const float *a0 = column(a, j), *a1 = column(a, j + 1), *a2 = column(a, j + 2), *a3 = column(a, j + 3);
      for (int c = 0; c < batch; ++c) {
        const float* xc = column(x, c) + j;
        float* o = out.data() + static_cast<Eigen::Index>(c) * m;
        const Float4 x0 = splat(xc[0]), x1 = splat(xc[1]), x2 = splat(xc[2]), x3 = splat(xc[3]);
        int i = i0;
        for (; i + 4 <= i1; i += 4)
          store4(o + i, load4(o + i) + ((load(load4(a0 + i)) * x0 + load(load4(a1 + i)) * x1) +
                                        (load(load4(a2 + i)) * x2 + load(load4(a3 + i)) * x3)));
        for (; i < i1; ++i)
          o[i] += (load(a0[i]) * xc[0] + load(a1[i]) * xc[1]) + (load(a2[i]) * xc[2] + load(a3[i]) * xc[3]);
      }
    }
    for (; j < n; ++j) {
      const float* aj = column(a, j);
      for (int c = 0; c < batch; ++c) {
        const float xj = x(j, c);
        float* o = out.data() + static_cast<Eigen::Index>(c) * m;
        for (int i = i0; i < i1; ++i) o[i] += load(aj[i]) * xj;
      }
    }
  }, 4);
  return out;
}

}  // namespace

Matrix transposedProduct(const Eigen::Ref<const Matrix>& a, const Eigen::Ref<const Matrix>& x, const Modifier& mod) {
  if (x.rows() != a.rows()) throw Error("transposedProduct: inner dimensions differ");
  return withLoad(mod, [&](auto load) { return transposedProductWith(a, x, load); });
}

Matrix product(const Eigen::Ref<const Matrix>& a, const Eigen::Ref<const Matrix>& x, const Modifier& mod) {
  if (x.rows() != a.cols()) throw Error("product: inner dimensions differ");
  return withLoad(mod, [&](auto load) { return productWith(a, x, load); });
}

Matrix productOfTokens(const Eigen::Ref<const Matrix>& a, const Eigen::Ref<const Matrix>& x, const Modifier& mod) {
  if (x.rows() != a.cols()) throw Error("productOfTokens: inner dimensions differ");
  return withLoad(mod, [&](auto load) { return productTokensWith(a, x, load); });
}

}  // namespace lrp
