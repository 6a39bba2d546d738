// Element-wise layers: activations (ReLU, LeakyReLU, Clip, Sigmoid, Tanh), a left-over batch-norm's
// per-channel affine map, and identity/reshape (which only re-label the shape).
#include "lrp/layers.hpp"

#include <cmath>

namespace lrp {

const char* layerKindName(LayerKind kind) {
  switch (kind) {
    case LayerKind::Dense: return "dense";
    case LayerKind::Conv: return "conv";
    case LayerKind::ReLU: return "relu";
    case LayerKind::LeakyReLU: return "leaky-relu";
    case LayerKind::Clip: return "clip";
    case LayerKind::Sigmoid: return "sigmoid";
    case LayerKind::Tanh: return "tanh";
    case LayerKind::BatchNorm: return "batchnorm";
    case LayerKind::MaxPool: return "maxpool";
    case LayerKind::AvgPool: return "avgpool";
    case LayerKind::GlobalAvgPool: return "global-avgpool";
    case LayerKind::Add: return "add";
    case LayerKind::Concat: return "concat";
    case LayerKind::Pad: return "pad";
    case LayerKind::Reshape: return "reshape";
    case LayerKind::Identity: return "identity";
  }
  return "unknown";
}

namespace {

Shape singleInputShape(const std::vector<Shape>& inputShapes, LayerKind kind) {
  if (inputShapes.size() != 1) throw Error(std::string(layerKindName(kind)) + " takes one input");
  return inputShapes[0];
}

}  // namespace

ActivationLayer::ActivationLayer(LayerKind kind, float a, float b) : kind_(kind), a_(a), b_(b) {
  switch (kind) {
    case LayerKind::ReLU:
    case LayerKind::Sigmoid:
    case LayerKind::Tanh: break;
    case LayerKind::LeakyReLU:
      if (!std::isfinite(a)) throw Error("leaky-relu slope must be finite");
      break;
    case LayerKind::Clip:
      if (std::isnan(a) || std::isnan(b) || a > b) throw Error("clip needs min <= max");
      break;
    default: throw Error(std::string(layerKindName(kind)) + " is not an element-wise activation");
  }
}

Shape ActivationLayer::outputShape(const std::vector<Shape>& inputShapes) const {
  return singleInputShape(inputShapes, kind_);
}

Matrix ActivationLayer::forward(const std::vector<const Matrix*>& inputs) const {
  const auto x = inputs[0]->array();
  switch (kind_) {
    case LayerKind::ReLU: return x.max(0.0f).matrix();
    case LayerKind::LeakyReLU: return (x > 0.0f).select(x, a_ * x).matrix();
    case LayerKind::Clip: return x.max(a_).min(b_).matrix();
    case LayerKind::Sigmoid: return (1.0f / (1.0f + (-x).exp())).matrix();
    case LayerKind::Tanh: return x.tanh().matrix();
    default: throw Error("unknown activation");
  }
}

std::vector<Matrix> ActivationLayer::gradient(const std::vector<const Matrix*>& inputs, const Matrix& output,
                                              const Matrix& gradOutput) const {
  const auto x = inputs[0]->array();
  const auto g = gradOutput.array();
  const auto y = output.array();
  // At kinks PyTorch's convention: ReLU' (0) = 0, LeakyReLU'(0) = slope, Clip' = 1 only strictly inside.
  switch (kind_) {
    case LayerKind::ReLU: return {(x > 0.0f).select(g, 0.0f).matrix()};
    case LayerKind::LeakyReLU: return {(x > 0.0f).select(g, a_ * g).matrix()};
    case LayerKind::Clip: return {((x > a_) && (x < b_)).select(g, 0.0f).matrix()};
    case LayerKind::Sigmoid: return {(g * y * (1.0f - y)).matrix()};
    case LayerKind::Tanh: return {(g * (1.0f - y.square())).matrix()};
    default: throw Error("unknown activation");
  }
}

BatchNormLayer::BatchNormLayer(Vector scale, Vector shift, Shape inputShape)
    : scale_(std::move(scale)), shift_(std::move(shift)), inputShape_(std::move(inputShape)) {
  if (inputShape_.empty() || scale_.size() != inputShape_[0] || shift_.size() != inputShape_[0])
    throw Error("batchnorm needs one scale and shift per channel (" + std::to_string(scale_.size()) +
                " for input " + shapeToString(inputShape_) + ")");
  if (!scale_.allFinite() || !shift_.allFinite()) throw Error("batchnorm parameters must be finite");
}

Shape BatchNormLayer::outputShape(const std::vector<Shape>& inputShapes) const {
  const Shape shape = singleInputShape(inputShapes, LayerKind::BatchNorm);
  if (shape != inputShape_)
    throw Error("batchnorm built for " + shapeToString(inputShape_) + " got input " + shapeToString(shape));
  return shape;
}

Matrix BatchNormLayer::forward(const std::vector<const Matrix*>& inputs) const {
  const Eigen::Index spatial = static_cast<Eigen::Index>(shapeSize(inputShape_) / inputShape_[0]);
  Matrix y(inputs[0]->rows(), inputs[0]->cols());
  for (Eigen::Index c = 0; c < scale_.size(); ++c)
    y.middleRows(c * spatial, spatial) = (inputs[0]->middleRows(c * spatial, spatial).array() * scale_(c) + shift_(c)).matrix();
  return y;
}

std::vector<Matrix> BatchNormLayer::gradient(const std::vector<const Matrix*>&, const Matrix&,
                                             const Matrix& gradOutput) const {
  const Eigen::Index spatial = static_cast<Eigen::Index>(shapeSize(inputShape_) / inputShape_[0]);
  Matrix g(gradOutput.rows(), gradOutput.cols());
  for (Eigen::Index c = 0; c < scale_.size(); ++c) g.middleRows(c * spatial, spatial) = gradOutput.middleRows(c * spatial, spatial) * scale_(c);
  return {g};
}

Shape PassThroughLayer::outputShape(const std::vector<Shape>& inputShapes) const {
  const Shape shape = singleInputShape(inputShapes, kind_);
  if (target_.empty()) return shape;
  if (shapeSize(target_) != shapeSize(shape))
    throw Error("cannot reshape " + shapeToString(shape) + " to " + shapeToString(target_));
  return target_;
}

Matrix PassThroughLayer::forward(const std::vector<const Matrix*>& inputs) const { return *inputs[0]; }

std::vector<Matrix> PassThroughLayer::gradient(const std::vector<const Matrix*>&, const Matrix&,
                                               const Matrix& gradOutput) const {
  return {gradOutput};
}

}  // namespace lrp
