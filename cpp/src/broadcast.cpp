#include "broadcast.hpp"

#include <algorithm>

namespace lrp {

Shape broadcastShapes(const Shape& a, const Shape& b, const std::string& what) {
  const size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    // Right-aligned: axis i of the output is axis i − (rank − size) of each operand, or a missing 1.
    const int da = i + a.size() >= rank ? a[i + a.size() - rank] : 1;
    const int db = i + b.size() >= rank ? b[i + b.size() - rank] : 1;
    if (da != db && da != 1 && db != 1)
      throw Error(what + ": shapes " + shapeToString(a) + " and " + shapeToString(b) + " do not broadcast");
    out[i] = da == 1 ? db : da;
  }
  shapeSize(out);
  return out;
}

std::vector<int64_t> rowMajorStrides(const Shape& shape) {
  std::vector<int64_t> strides(shape.size());
  int64_t stride = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= shape[i];
  }
  return strides;
}

std::vector<int> strideMap(const Shape& shape, const std::vector<int64_t>& step, int64_t base) {
  const int64_t count = shapeSize(shape);
  std::vector<int> map(static_cast<size_t>(count));
  std::vector<int> index(shape.size(), 0);
  int64_t offset = base;
  for (int64_t k = 0; k < count; ++k) {
    map[static_cast<size_t>(k)] = static_cast<int>(offset);
    for (size_t a = shape.size(); a-- > 0;) {
      offset += step[a];
      if (++index[a] < shape[a]) break;
      offset -= step[a] * shape[a];
      index[a] = 0;
    }
  }
  return map;
}

std::vector<int> broadcastIndex(const Shape& in, const Shape& out) {
  const size_t offset = out.size() - in.size();
  // Stride 0 along stretched axes: every output position along them reads the same input element.
  const std::vector<int64_t> inStrides = rowMajorStrides(in);
  std::vector<int64_t> step(out.size(), 0);
  for (size_t i = 0; i < in.size(); ++i) step[i + offset] = in[i] == 1 ? 0 : inStrides[i];
  return strideMap(out, step, 0);
}

}  // namespace lrp
