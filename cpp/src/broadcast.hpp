// numpy broadcasting between per-sample shapes (internal header): binary element-wise layers broadcast
// their operands, matmul its leading (batch-like) axes.
#pragma once

#include "lrp/types.hpp"

namespace lrp {

// The shape `shapes` broadcast to: right-aligned, a dimension of 1 stretches to the other's size. Throws
// lrp::Error naming `what` and the shapes when they do not broadcast.
Shape broadcastShapes(const Shape& a, const Shape& b, const std::string& what);

// For every element of `out` (row-major), the flat index of the element of `in` it reads under numpy
// broadcasting (`in` must broadcast to `out`). Computed once at build time, so forward and gradient only
// gather and scatter along these maps.
std::vector<int> broadcastIndex(const Shape& in, const Shape& out);

// Row-major strides of a shape (the last axis has stride 1).
std::vector<int64_t> rowMajorStrides(const Shape& shape);

}  // namespace lrp
