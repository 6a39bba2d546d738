// Layers that combine or re-index tensors: residual Add, channel Concat, constant Pad.
#include "builders.hpp"

#include <cmath>

namespace lrp {

Shape AddLayer::outputShape(const std::vector<Shape>& inputShapes) const {
  if (constant_.size() != 0) {
    if (inputShapes.size() != 1) throw Error("add with a constant takes one input");
    if (constant_.size() != shapeSize(inputShapes[0]))
      throw Error("add constant has " + std::to_string(constant_.size()) + " values, the input " +
                  shapeToString(inputShapes[0]) + " has " + std::to_string(shapeSize(inputShapes[0])));
    if (!constant_.allFinite()) throw Error("add constant must be finite");
    return inputShapes[0];
  }
  if (inputShapes.size() != 2) throw Error("add takes two inputs");
  if (inputShapes[0] != inputShapes[1])
    throw Error("add needs inputs of the same shape, got " + shapeToString(inputShapes[0]) + " and " +
                shapeToString(inputShapes[1]));
  return inputShapes[0];
}

Matrix AddLayer::forward(const std::vector<const Matrix*>& inputs) const {
  if (constant_.size() != 0) return inputs[0]->colwise() + constant_;
  return *inputs[0] + *inputs[1];
}

std::vector<Matrix> AddLayer::gradient(const std::vector<const Matrix*>& inputs, const Matrix&,
                                       const Matrix& gradOutput) const {
  return std::vector<Matrix>(inputs.size(), gradOutput);
}

Shape ConcatLayer::outputShape(const std::vector<Shape>& inputShapes) const {
  if (inputShapes.size() < 2) throw Error("concat takes at least two inputs");
  Shape out = inputShapes[0];
  for (size_t k = 1; k < inputShapes.size(); ++k) {
    const Shape& shape = inputShapes[k];
    const bool sameTail = shape.size() == out.size() && std::equal(shape.begin() + 1, shape.end(), out.begin() + 1);
    if (!sameTail)
      throw Error("concat needs inputs that differ only in channels, got " + shapeToString(inputShapes[0]) + " and " +
                  shapeToString(shape));
    out[0] += shape[0];
  }
  shapeSize(out);
  return out;
}

// Channels are the outermost axis of C×H×W, so concatenating them stacks the inputs' rows.
Matrix ConcatLayer::forward(const std::vector<const Matrix*>& inputs) const {
  Eigen::Index rows = 0;
  for (const Matrix* x : inputs) rows += x->rows();
  Matrix y(rows, inputs[0]->cols());
  Eigen::Index at = 0;
  for (const Matrix* x : inputs) {
    y.middleRows(at, x->rows()) = *x;
    at += x->rows();
  }
  return y;
}

std::vector<Matrix> ConcatLayer::gradient(const std::vector<const Matrix*>& inputs, const Matrix&,
                                          const Matrix& gradOutput) const {
  std::vector<Matrix> grads;
  Eigen::Index at = 0;
  for (const Matrix* x : inputs) {
    grads.emplace_back(gradOutput.middleRows(at, x->rows()));
    at += x->rows();
  }
  return grads;
}

PadLayer::PadLayer(Shape inputShape, int top, int left, int bottom, int right, float value)
    : inputShape_(std::move(inputShape)), top_(top), left_(left), bottom_(bottom), right_(right), value_(value) {
  if (inputShape_.size() != 3) throw Error("pad needs a C×H×W input, got " + shapeToString(inputShape_));
  if (top < 0 || left < 0 || bottom < 0 || right < 0) throw Error("pad amounts must be non-negative");
  if (!std::isfinite(value)) throw Error("pad value must be finite");
}

Shape PadLayer::outputShape(const std::vector<Shape>& inputShapes) const {
  if (inputShapes.size() != 1) throw Error("pad takes one input");
  if (inputShapes[0] != inputShape_)
    throw Error("pad built for " + shapeToString(inputShape_) + " got input " + shapeToString(inputShapes[0]));
  const Shape out{inputShape_[0], inputShape_[1] + top_ + bottom_, inputShape_[2] + left_ + right_};
  shapeSize(out);
  return out;
}

Matrix PadLayer::forward(const std::vector<const Matrix*>& inputs) const {
  const int channels = inputShape_[0], height = inputShape_[1], width = inputShape_[2];
  const int outH = height + top_ + bottom_, outW = width + left_ + right_;
  Matrix y = Matrix::Constant(static_cast<Eigen::Index>(channels) * outH * outW, inputs[0]->cols(), value_);
  for (int c = 0; c < channels; ++c)
    for (int h = 0; h < height; ++h)
      y.middleRows((static_cast<Eigen::Index>(c) * outH + h + top_) * outW + left_, width) =
          inputs[0]->middleRows((static_cast<Eigen::Index>(c) * height + h) * width, width);
  return y;
}

std::vector<Matrix> PadLayer::gradient(const std::vector<const Matrix*>&, const Matrix&, const Matrix& gradOutput) const {
  const int channels = inputShape_[0], height = inputShape_[1], width = inputShape_[2];
  const int outH = height + top_ + bottom_, outW = width + left_ + right_;
  Matrix g(static_cast<Eigen::Index>(channels) * height * width, gradOutput.cols());
  for (int c = 0; c < channels; ++c)
    for (int h = 0; h < height; ++h)
      g.middleRows((static_cast<Eigen::Index>(c) * height + h) * width, width) =
          gradOutput.middleRows((static_cast<Eigen::Index>(c) * outH + h + top_) * outW + left_, width);
  return {g};
}

// Two inputs (a residual sum), or one input and `constant`, pre-broadcast to the input's shape.
std::unique_ptr<Layer> buildAdd(LayerSpec& spec, const std::vector<Shape>&) {
  return std::make_unique<AddLayer>(toVector(spec.floats("constant")));
}

std::unique_ptr<Layer> buildConcat(LayerSpec&, const std::vector<Shape>&) { return std::make_unique<ConcatLayer>(); }

// spec: pads [begin…, end…], one per axis of the input, value. (Only the spatial axes of C×H×W for now.)
std::unique_ptr<Layer> buildPad(LayerSpec& spec, const std::vector<Shape>& inputShapes) {
  const Shape& input = singleInput("pad", inputShapes);
  const std::vector<int> p = spec.integers("pads");
  if (input.size() != 3 || p.size() != 6 || p[0] != 0 || p[3] != 0)
    throw Error("pad supports only the spatial axes of a C×H×W input, got pads " + shapeToString(p) + " for input " +
                shapeToString(input));
  return std::make_unique<PadLayer>(input, p[1], p[2], p[4], p[5], static_cast<float>(spec.number("value", 0.0)));
}

}  // namespace lrp
