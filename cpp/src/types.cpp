#include "lrp/types.hpp"

#include <sstream>

namespace lrp {

// Larger tensors cannot fit a 2 GB WebAssembly heap anyway; rejecting them up front keeps a hostile
// model from triggering huge allocations.
constexpr int64_t kMaxElements = int64_t{1} << 28;

int64_t shapeSize(const Shape& shape) {
  int64_t size = 1;
  for (int dim : shape) {
    if (dim <= 0) throw Error("invalid shape " + shapeToString(shape) + ": dimensions must be positive");
    size *= dim;
    if (size > kMaxElements) throw Error("shape " + shapeToString(shape) + " is too large");
  }
  return size;
}

std::string shapeToString(const Shape& shape) {
  std::ostringstream out;
  out << '[';
  for (size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
  out << ']';
  return out.str();
}

}  // namespace lrp
