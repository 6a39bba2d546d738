// Masks: the per-input constants an attention mask is made of (`input-constant`), and ONNX Where on one
// activation (`where`: masked_fill). Both follow ATTNLRP rule 13: a mask is computed in the forward pass
// for each input and is a constant from then on, so masked positions end with no relevance.
#include "builders.hpp"
#include "lrp/graph.hpp"

#include <cmath>

namespace lrp {

Shape InputConstantLayer::outputShape(const std::vector<Shape>& inputShapes) const {
  if (inputShapes.size() != 1 || !inputShapes[0].empty())
    throw Error("input-constant reads the per-input constants only (input " + std::to_string(kInputConstants) + ")");
  return shape_;
}

Matrix InputConstantLayer::forward(const std::vector<const Matrix*>& inputs) const {
  const Matrix& constants = *inputs[0];
  const auto size = static_cast<Eigen::Index>(shapeSize(shape_));
  if (constants.rows() < offset_ + size)
    throw Error("input-constant: the per-input constants have " + std::to_string(constants.rows()) +
                " values per input, this layer reads " + std::to_string(offset_) + " to " +
                std::to_string(offset_ + size - 1));
  return constants.middleRows(offset_, size);
}

// Nothing flows into the constants (the graph never routes it there): an empty gradient.
std::vector<Matrix> InputConstantLayer::gradient(const std::vector<const Matrix*>&, const Matrix&, const Matrix&) const {
  return {Matrix()};
}

namespace {

// out = keep ? x : c element-wise, with `keep` a constant (a causal mask) or a per-input constant (a
// padding mask from the ids) of x's shape, and c a constant of x's shape that may be ±∞ (masked_fill with
// −inf). Relevance follows the gradient (a selection): R reaches x where it is kept; where c is taken, c
// absorbs it.
class WhereLayer : public Layer {
 public:
  WhereLayer(Shape shape, Vector constant, Vector keep)
      : shape_(std::move(shape)), constant_(std::move(constant)), keep_(std::move(keep)) {}

  const char* kind() const override { return "where"; }
  bool holdsInfinity() const override { return !constant_.allFinite(); }
  int64_t memoryBytes() const override { return bytesOf(constant_) + bytesOf(keep_); }
  Role role() const override { return Role::Reindex; }

  Shape outputShape(const std::vector<Shape>& inputShapes) const override {
    const size_t expected = keep_.size() == 0 ? 2 : 1;
    if (inputShapes.size() != expected)
      throw Error(keep_.size() == 0 ? "where without a constant 'keep' takes two inputs: x and the mask (a per-input constant)"
                                    : "where with a constant 'keep' takes one input, x");
    for (const Shape& input : inputShapes)
      if (input != shape_)
        throw Error("where built for " + shapeToString(shape_) + " got input " + shapeToString(input) +
                    " (the importer broadcasts the mask to x's shape)");
    return shape_;
  }

  Matrix forward(const std::vector<const Matrix*>& inputs) const override {
    const Matrix& x = *inputs[0];
    Matrix out(x.rows(), x.cols());
    for (Eigen::Index c = 0; c < x.cols(); ++c)
      for (Eigen::Index i = 0; i < x.rows(); ++i) out(i, c) = kept(inputs, i, c) ? x(i, c) : constant_(i);
    return out;
  }

  std::vector<Matrix> gradient(const std::vector<const Matrix*>& inputs, const Matrix&,
                               const Matrix& gradOutput) const override {
    Matrix g(gradOutput.rows(), gradOutput.cols());
    for (Eigen::Index c = 0; c < g.cols(); ++c)
      for (Eigen::Index i = 0; i < g.rows(); ++i) g(i, c) = kept(inputs, i, c) ? gradOutput(i, c) : 0.0f;
    std::vector<Matrix> passed{std::move(g)};
    // The mask is a constant: nothing for it.
    if (inputs.size() == 2) passed.push_back(Matrix::Zero(inputs[1]->rows(), inputs[1]->cols()));
    return passed;
  }

 private:
  bool kept(const std::vector<const Matrix*>& inputs, Eigen::Index i, Eigen::Index c) const {
    return (keep_.size() != 0 ? keep_(i) : (*inputs[1])(i, c)) != 0.0f;
  }

  Shape shape_;
  Vector constant_;
  Vector keep_;
};

}  // namespace

// spec: offset (where this layer's slice of the per-input constants starts), shape (its per-sample shape).
std::unique_ptr<Layer> buildInputConstant(LayerSpec& spec, const std::vector<Shape>&) {
  const int offset = spec.integer("offset");
  const Shape shape = spec.integers("shape");
  if (offset < 0) throw Error("input-constant: offset must be >= 0, got " + std::to_string(offset));
  if (shape.empty() || shapeSize(shape) < 1) throw Error("input-constant: shape must be non-empty, got " + shapeToString(shape));
  return std::make_unique<InputConstantLayer>(offset, shape);
}

// spec: constant (x's shape; what replaces x where it is not kept; ±∞ allowed), keep (optional, x's shape,
// nonzero = keep x; without it the second input is the mask).
std::unique_ptr<Layer> buildWhere(LayerSpec& spec, const std::vector<Shape>& inputShapes) {
  if (inputShapes.empty()) throw Error("where needs an input");
  const Shape& shape = inputShapes[0];
  Vector constant = toVector(spec.floats("constant"));
  Vector keep = spec.has("keep") ? toVector(spec.floats("keep")) : Vector();
  const auto size = static_cast<Eigen::Index>(shapeSize(shape));
  if (constant.size() != size)
    throw Error("where: constant has " + std::to_string(constant.size()) + " values, x " + shapeToString(shape) +
                " has " + std::to_string(size));
  if (constant.array().isNaN().any()) throw Error("where: constant contains NaN");
  if (spec.has("keep") && keep.size() != size)
    throw Error("where: keep has " + std::to_string(keep.size()) + " values, x " + shapeToString(shape) + " has " +
                std::to_string(size));
  if (keep.array().isNaN().any()) throw Error("where: keep contains NaN");
  return std::make_unique<WhereLayer>(shape, std::move(constant), std::move(keep));
}

}  // namespace lrp
