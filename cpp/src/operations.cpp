// The work estimate (Layer::operations): the shared default and saturating arithmetic. Each layer class with
// a formula of its own defines it beside its kernels (dense.cpp, conv.cpp, pooling.cpp, ...).
#include "lrp/layers.hpp"

namespace lrp {

int64_t saturatingMultiply(int64_t a, int64_t b) {
  int64_t product = 0;
  if (a < 0 || b < 0) return 0;  // counts are never negative; a negative factor is a bug upstream, not work
  if (__builtin_mul_overflow(a, b, &product)) return kMaxOperations;
  return product;
}

int64_t saturatingAdd(int64_t a, int64_t b) {
  int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) return kMaxOperations;
  return sum;
}

// Element-wise layers, copies and index maps: one operation per output value.
int64_t Layer::operations(const std::vector<Shape>&, const Shape& outputShape) const {
  int64_t count = 1;
  for (int dim : outputShape) count = saturatingMultiply(count, dim);
  return count;
}

}  // namespace lrp
