// numpy broadcasting between per-sample shapes and the index maps behind it (internal header): binary
// element-wise layers broadcast their operands, matmul its leading (batch-like) axes, the re-indexing layers
// (reindex.cpp) build their maps with strideMap.
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

// For every element of `shape` in row-major order, base + Σ_a index[a]·step[a]: the flat input index each
// output element reads, for any layer whose map is affine in the multi-index (broadcast, transpose, slice,
// expand, pad). Walks the elements like an odometer, updating the offset incrementally. Per-sample tensors
// are capped at 2^28 values (shapeSize), so an int holds every index.
std::vector<int> strideMap(const Shape& shape, const std::vector<int64_t>& step, int64_t base);

}  // namespace lrp
