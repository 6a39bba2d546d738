// Element-wise layers: activations (ReLU, LeakyReLU, Clip, Sigmoid, Tanh), a left-over batch-norm's
// per-channel affine map, and identity/reshape (which only re-label the shape).
#include "builders.hpp"

#include <cmath>

namespace lrp {

namespace {

Shape singleInputShape(const std::vector<Shape>& inputShapes, const char* kind) {
  if (inputShapes.size() != 1) throw Error(std::string(kind) + " takes one input");
  return inputShapes[0];
}

}  // namespace

ActivationLayer::ActivationLayer(Activation activation, float a, float b) : activation_(activation), a_(a), b_(b) {
  switch (activation) {
    case Activation::ReLU:
    case Activation::Sigmoid:
    case Activation::Tanh: break;
    case Activation::LeakyReLU:
      if (!std::isfinite(a)) throw Error("leaky-relu slope must be finite");
      break;
    case Activation::Clip:
      if (std::isnan(a) || std::isnan(b) || a > b) throw Error("clip needs min <= max");
      break;
  }
}

const char* ActivationLayer::kind() const {
  switch (activation_) {
    case Activation::ReLU: return "relu";
    case Activation::LeakyReLU: return "leaky-relu";
    case Activation::Clip: return "clip";
    case Activation::Sigmoid: return "sigmoid";
    case Activation::Tanh: return "tanh";
  }
  return "activation";
}

Shape ActivationLayer::outputShape(const std::vector<Shape>& inputShapes) const {
  return singleInputShape(inputShapes, kind());
}

Matrix ActivationLayer::forward(const std::vector<const Matrix*>& inputs) const {
  const auto x = inputs[0]->array();
  switch (activation_) {
    case Activation::ReLU: return x.max(0.0f).matrix();
    case Activation::LeakyReLU: return (x > 0.0f).select(x, a_ * x).matrix();
    case Activation::Clip: return x.max(a_).min(b_).matrix();
    case Activation::Sigmoid: return (1.0f / (1.0f + (-x).exp())).matrix();
    case Activation::Tanh: return x.tanh().matrix();
  }
  throw Error("unknown activation");
}

std::vector<Matrix> ActivationLayer::gradient(const std::vector<const Matrix*>& inputs, const Matrix& output,
                                              const Matrix& gradOutput) const {
  const auto x = inputs[0]->array();
  const auto g = gradOutput.array();
  const auto y = output.array();
  // At kinks PyTorch's convention: ReLU' (0) = 0, LeakyReLU'(0) = slope, Clip' = 1 only strictly inside.
  switch (activation_) {
    case Activation::ReLU: return {(x > 0.0f).select(g, 0.0f).matrix()};
    case Activation::LeakyReLU: return {(x > 0.0f).select(g, a_ * g).matrix()};
    case Activation::Clip: return {((x > a_) && (x < b_)).select(g, 0.0f).matrix()};
    case Activation::Sigmoid: return {(g * y * (1.0f - y)).matrix()};
    case Activation::Tanh: return {(g * (1.0f - y.square())).matrix()};
  }
  throw Error("unknown activation");
}

BatchNormLayer::BatchNormLayer(Vector scale, Vector shift, Shape inputShape)
    : scale_(std::move(scale)), shift_(std::move(shift)), inputShape_(std::move(inputShape)) {
  if (inputShape_.empty() || scale_.size() != inputShape_[0] || shift_.size() != inputShape_[0])
    throw Error("batchnorm needs one scale and shift per channel (" + std::to_string(scale_.size()) +
                " for input " + shapeToString(inputShape_) + ")");
  if (!scale_.allFinite() || !shift_.allFinite()) throw Error("batchnorm parameters must be finite");
}

Shape BatchNormLayer::outputShape(const std::vector<Shape>& inputShapes) const {
  const Shape shape = singleInputShape(inputShapes, "batchnorm");
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
  const Shape shape = singleInputShape(inputShapes, kind());
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

std::unique_ptr<Layer> buildReLU(LayerSpec&, const std::vector<Shape>&) {
  return std::make_unique<ActivationLayer>(Activation::ReLU);
}

std::unique_ptr<Layer> buildLeakyReLU(LayerSpec& spec, const std::vector<Shape>&) {
  return std::make_unique<ActivationLayer>(Activation::LeakyReLU, static_cast<float>(spec.number("alpha", 0.01)));
}

std::unique_ptr<Layer> buildClip(LayerSpec& spec, const std::vector<Shape>&) {
  return std::make_unique<ActivationLayer>(Activation::Clip, static_cast<float>(spec.number("min")),
                                           static_cast<float>(spec.number("max")));
}

std::unique_ptr<Layer> buildSigmoid(LayerSpec&, const std::vector<Shape>&) {
  return std::make_unique<ActivationLayer>(Activation::Sigmoid);
}

std::unique_ptr<Layer> buildTanh(LayerSpec&, const std::vector<Shape>&) {
  return std::make_unique<ActivationLayer>(Activation::Tanh);
}

// spec: scale [C], shift [C]: y = scale_c · x + shift_c along the first axis.
std::unique_ptr<Layer> buildBatchNorm(LayerSpec& spec, const std::vector<Shape>& inputShapes) {
  return std::make_unique<BatchNormLayer>(toVector(spec.floats("scale")), toVector(spec.floats("shift")),
                                          singleInput("batchnorm", inputShapes));
}

// spec: outputShape, the target (same number of values).
std::unique_ptr<Layer> buildReshape(LayerSpec& spec, const std::vector<Shape>& inputShapes) {
  singleInput("reshape", inputShapes);
  Shape target = spec.integers("outputShape");
  if (target.empty()) throw Error("reshape needs a target shape");
  return std::make_unique<PassThroughLayer>(std::move(target));
}

std::unique_ptr<Layer> buildIdentity(LayerSpec&, const std::vector<Shape>& inputShapes) {
  singleInput("identity", inputShapes);
  return std::make_unique<PassThroughLayer>();
}

}  // namespace lrp
