#include "kernels.hpp"

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

Matrix transposedProduct(const Matrix& a, const Matrix& x) {
  const int n = static_cast<int>(a.rows()), m = static_cast<int>(a.cols()), batch = static_cast<int>(x.cols());
  if (x.rows() != n) throw Error("transposedProduct: inner dimensions differ");
  Matrix out(m, batch);
  auto column = [&](const Matrix& mat, int j) { return mat.data() + static_cast<Eigen::Index>(j) * n; };
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

Matrix transposedProduct(const Matrix& a, const Matrix& x) {
  if (x.rows() != a.rows()) throw Error("transposedProduct: inner dimensions differ");
  Matrix out;
  out.noalias() = a.transpose() * x;
  return out;
}

#endif

}  // namespace lrp
