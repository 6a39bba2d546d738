// Dense linear-algebra kernels the engine's hot paths run on (internal header).
#pragma once

#include "lrp/types.hpp"

namespace lrp {

// out = Aᵀ X for column-major A (n × m) and X (n × batch): every output is a dot product of two
// contiguous columns. In WebAssembly this is a hand-written SIMD kernel — Eigen 3.4 has no wasm packet
// math, and its scalar GEMM/GEMV run 2–15× slower there; natively it is Eigen's product.
Matrix transposedProduct(const Matrix& a, const Matrix& x);

}  // namespace lrp
