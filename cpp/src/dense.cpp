// Fully connected layer: z = W x + b with W of shape (out × in).
#include "lrp/layers.hpp"

#include "kernels.hpp"

namespace lrp {

DenseLayer::DenseLayer(Matrix weight, Vector bias) : LinearLayer(std::move(weight), std::move(bias)) {
  if (weight_.rows() == 0 || weight_.cols() == 0) throw Error("dense layer needs a non-empty weight matrix");
  if (bias_.size() != 0 && bias_.size() != weight_.rows())
    throw Error("dense layer bias has " + std::to_string(bias_.size()) + " values, expected " +
                std::to_string(weight_.rows()));
  // A hostile or corrupted model must not turn every later result into NaN.
  if (!weight_.allFinite() || !bias_.allFinite()) throw Error("dense layer parameters must be finite (found NaN or Infinity)");
}

Shape DenseLayer::outputShape(const std::vector<Shape>& inputShapes) const {
  if (inputShapes.size() != 1) throw Error("dense layer takes one input");
  const int64_t features = shapeSize(inputShapes[0]);
  if (features != weight_.cols())
    throw Error("dense layer expects " + std::to_string(weight_.cols()) + " input features, got " +
                std::to_string(features) + " (shape " + shapeToString(inputShapes[0]) + ")");
  return {static_cast<int>(weight_.rows())};
}

// Both maps are products Aᵀ X with column-major A (see kernels.hpp): the forward pass uses Wᵀ, stored
// once per (modified) weight, and the transposed map uses W itself.
const Matrix& DenseLayer::transposedWeight(const Matrix& w, Matrix& scratch) const {
  if (!ownsWeight(w)) {
    scratch = w.transpose();
    return scratch;
  }
  auto it = transposed_.find(&w);
  if (it == transposed_.end()) it = transposed_.emplace(&w, w.transpose()).first;
  return it->second;
}

Matrix DenseLayer::mapForward(const Matrix& x, const Matrix& w, const Vector* b) const {
  Matrix scratch;
  Matrix z = transposedProduct(transposedWeight(w, scratch), x);
  if (b != nullptr && b->size() != 0) z.colwise() += *b;
  return z;
}

Matrix DenseLayer::mapTranspose(const Matrix& s, const Matrix& w) const { return transposedProduct(w, s); }

}  // namespace lrp
