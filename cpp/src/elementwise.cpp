// Element-wise layers: activations (ReLU, LeakyReLU, Clip, Sigmoid, Tanh, HardSigmoid, HardSwish, ELU,
// Softplus, SiLU, GELU, PReLU), a left-over batch-norm's per-channel affine map, and identity/reshape (which
// only re-label the shape).
#include "builders.hpp"
#include "parallel.hpp"

#include <algorithm>
#include <cmath>

namespace lrp {

namespace {

Shape singleInputShape(const std::vector<Shape>& inputShapes, const char* kind) {
  if (inputShapes.size() != 1) throw Error(std::string(kind) + " takes one input");
  return inputShapes[0];
}

float logistic(float x) { return 1.0f / (1.0f + std::exp(-x)); }

constexpr float kSqrt2OverPi = 0.7978845608028654f;  // √(2/π), GELU's tanh approximation
constexpr float kGeluCubic = 0.044715f;
constexpr float kInvSqrt2 = 0.7071067811865476f;
constexpr float kInvSqrt2Pi = 0.3989422804014327f;  // 1/√(2π), the standard normal density at 0

// The activations whose value and derivative are plain functions of x (and the layer's a, b), in float.
float activate(Activation activation, float x, float a, float b) {
  switch (activation) {
    case Activation::HardSigmoid: return std::max(0.0f, std::min(1.0f, a * x + b));
    case Activation::HardSwish: return x * std::max(0.0f, std::min(1.0f, x / 6.0f + 0.5f));
    case Activation::Elu: return x > 0.0f ? x : a * std::expm1(x);
    // log(1 + eˣ) without overflow: x + log(1 + e⁻ˣ) for positive x.
    case Activation::Softplus: return x > 0.0f ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
    case Activation::SiLU: return x * logistic(x);
    case Activation::GeluErf: return 0.5f * x * (1.0f + std::erf(x * kInvSqrt2));
    case Activation::GeluTanh: return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * (x + kGeluCubic * x * x * x)));
    case Activation::Exp: return std::exp(x);
    case Activation::Log: return std::log(x);
    case Activation::Sqrt: return std::sqrt(x);
    case Activation::Reciprocal: return 1.0f / x;
    default: break;
  }
  throw Error("activate: not a scalar activation");
}

// dy/dx, with PyTorch's one-sided choices at kinks: HardSigmoid 0 on the boundary of its linear part
// (hardsigmoid_backward: strictly inside), HardSwish x/3 + 1/2 on [−3, 3] (hardswish_backward), ELU α·eˣ at 0
// (elu_backward: x <= 0).
float derivative(Activation activation, float x, float a, float b) {
  switch (activation) {
    case Activation::HardSigmoid: {
      const float t = a * x + b;
      return t > 0.0f && t < 1.0f ? a : 0.0f;
    }
    case Activation::HardSwish: return x < -3.0f ? 0.0f : (x <= 3.0f ? x / 3.0f + 0.5f : 1.0f);
    case Activation::Elu: return x > 0.0f ? 1.0f : a * std::exp(x);
    case Activation::Softplus: return logistic(x);
    case Activation::SiLU: {
      const float s = logistic(x);
      return s * (1.0f + x * (1.0f - s));
    }
    case Activation::GeluErf: return 0.5f * (1.0f + std::erf(x * kInvSqrt2)) + x * kInvSqrt2Pi * std::exp(-0.5f * x * x);
    case Activation::GeluTanh: {
      const float t = std::tanh(kSqrt2OverPi * (x + kGeluCubic * x * x * x));
      return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * kSqrt2OverPi * (1.0f + 3.0f * kGeluCubic * x * x);
    }
    case Activation::Exp: return std::exp(x);
    case Activation::Log: return 1.0f / x;
    case Activation::Sqrt: return 0.5f / std::sqrt(x);
    case Activation::Reciprocal: return -1.0f / (x * x);
    default: break;
  }
  throw Error("derivative: not a scalar activation");
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
    case Activation::HardSigmoid:
      if (!std::isfinite(a) || !std::isfinite(b)) throw Error("hard-sigmoid alpha and beta must be finite");
      break;
    case Activation::Elu:
      if (!std::isfinite(a)) throw Error("elu alpha must be finite");
      break;
    case Activation::HardSwish:
    case Activation::Softplus:
    case Activation::SiLU:
    case Activation::GeluErf:
    case Activation::GeluTanh:
    case Activation::Exp:
    case Activation::Log:
    case Activation::Sqrt:
    case Activation::Reciprocal: break;
    case Activation::PReLU: throw Error("prelu needs its slope (the ActivationLayer(Vector) constructor)");
  }
}

ActivationLayer::ActivationLayer(Vector slope) : activation_(Activation::PReLU), a_(0), b_(0), slope_(std::move(slope)) {
  if (slope_.size() == 0) throw Error("prelu needs a slope");
  if (!slope_.allFinite()) throw Error("prelu slope must be finite");
}

const char* ActivationLayer::kind() const {
  switch (activation_) {
    case Activation::ReLU: return "relu";
    case Activation::LeakyReLU: return "leaky-relu";
    case Activation::Clip: return "clip";
    case Activation::Sigmoid: return "sigmoid";
    case Activation::Tanh: return "tanh";
    case Activation::HardSigmoid: return "hard-sigmoid";
    case Activation::HardSwish: return "hard-swish";
    case Activation::Elu: return "elu";
    case Activation::Softplus: return "softplus";
    case Activation::SiLU: return "silu";
    case Activation::GeluErf:
    case Activation::GeluTanh: return "gelu";
    case Activation::PReLU: return "prelu";
    case Activation::Exp: return "exp";
    case Activation::Log: return "log";
    case Activation::Sqrt: return "sqrt";
    case Activation::Reciprocal: return "reciprocal";
  }
  return "activation";
}

Shape ActivationLayer::outputShape(const std::vector<Shape>& inputShapes) const {
  const Shape shape = singleInputShape(inputShapes, kind());
  if (activation_ == Activation::PReLU && slope_.size() != shapeSize(shape))
    throw Error("prelu slope has " + std::to_string(slope_.size()) + " values, the input " + shapeToString(shape) +
                " has " + std::to_string(shapeSize(shape)) + " (the slope must be broadcast to the input's shape)");
  return shape;
}

namespace {

// Activations run on threads' segments (forSegments): the transcendental ones (exp, erf, tanh per element) are
// arithmetic-bound and worth splitting from a few thousand values; the piecewise-linear ones are memory-bound.
int64_t grainOf(Activation activation) {
  const bool cheap =
      activation == Activation::ReLU || activation == Activation::LeakyReLU || activation == Activation::Clip;
  return cheap ? int64_t{1} << 16 : int64_t{1} << 13;
}

// out = f(inputs), segment by segment: f(lo, n, out's segment) assigns an Eigen expression of segment(input, lo, n).
template <typename F>
Matrix mapSegments(const Matrix& like, Activation activation, F&& f) {
  Matrix out(like.rows(), like.cols());
  forSegments(like.size(), grainOf(activation),
              [&](Eigen::Index lo, Eigen::Index n) { f(lo, n, segment(out, lo, n)); });
  return out;
}

}  // namespace

Matrix ActivationLayer::forward(const std::vector<const Matrix*>& inputs) const {
  const Matrix& input = *inputs[0];
  if (activation_ == Activation::PReLU) {  // the slope runs along each sample's column
    const auto x = input.array();
    return (x >= 0.0f).select(x, x.colwise() * slope_.array()).matrix();
  }
  const Activation f = activation_;
  const float a = a_, b = b_;
  return mapSegments(input, f, [&](Eigen::Index lo, Eigen::Index n, Segment y) {
    const ConstSegment x = segment(input, lo, n);
    switch (f) {
      case Activation::ReLU: y = x.max(0.0f); break;
      case Activation::LeakyReLU: y = (x > 0.0f).select(x, a * x); break;
      case Activation::Clip: y = x.max(a).min(b); break;
      case Activation::Sigmoid: y = 1.0f / (1.0f + (-x).exp()); break;
      case Activation::Tanh: y = x.tanh(); break;
      default: y = x.unaryExpr([f, a, b](float v) { return activate(f, v, a, b); });
    }
  });
}

std::vector<Matrix> ActivationLayer::gradient(const std::vector<const Matrix*>& inputs, const Matrix& output,
                                              const Matrix& gradOutput) const {
  if (activation_ == Activation::PReLU) {  // PReLU'(0) = slope
    const auto x = inputs[0]->array();
    const auto g = gradOutput.array();
    return {(x > 0.0f).select(g, g.colwise() * slope_.array()).matrix()};
  }
  const Activation f = activation_;
  const float a = a_, b = b_;
  const Matrix& input = *inputs[0];
  // At kinks PyTorch's convention: ReLU' (0) = 0, LeakyReLU'(0) = slope, Clip' = 1 only strictly inside.
  return {mapSegments(input, f, [&](Eigen::Index lo, Eigen::Index n, Segment dx) {
    const ConstSegment x = segment(input, lo, n), g = segment(gradOutput, lo, n);
    switch (f) {
      case Activation::ReLU: dx = (x > 0.0f).select(g, 0.0f); break;
      case Activation::LeakyReLU: dx = (x > 0.0f).select(g, a * g); break;
      case Activation::Clip: dx = ((x > a) && (x < b)).select(g, 0.0f); break;
      case Activation::Sigmoid: dx = g * segment(output, lo, n) * (1.0f - segment(output, lo, n)); break;
      case Activation::Tanh: dx = g * (1.0f - segment(output, lo, n).square()); break;
      default: dx = g * x.unaryExpr([f, a, b](float v) { return derivative(f, v, a, b); });
    }
  })};
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

std::unique_ptr<Layer> buildLeakyReLU(LayerSpec& spec, const std::vector<Shape>&) {
  return std::make_unique<ActivationLayer>(Activation::LeakyReLU, static_cast<float>(spec.number("alpha", 0.01)));
}

std::unique_ptr<Layer> buildClip(LayerSpec& spec, const std::vector<Shape>&) {
  return std::make_unique<ActivationLayer>(Activation::Clip, static_cast<float>(spec.number("min")),
                                           static_cast<float>(spec.number("max")));
}

// spec: alpha, beta (ONNX's defaults 0.2 and 0.5): y = max(0, min(1, αx + β)).
std::unique_ptr<Layer> buildHardSigmoid(LayerSpec& spec, const std::vector<Shape>& inputShapes) {
  singleInput("hard-sigmoid", inputShapes);
  return std::make_unique<ActivationLayer>(Activation::HardSigmoid, static_cast<float>(spec.number("alpha", 0.2)),
                                           static_cast<float>(spec.number("beta", 0.5)));
}

// spec: alpha (default 1).
std::unique_ptr<Layer> buildElu(LayerSpec& spec, const std::vector<Shape>& inputShapes) {
  singleInput("elu", inputShapes);
  return std::make_unique<ActivationLayer>(Activation::Elu, static_cast<float>(spec.number("alpha", 1.0)));
}

// spec: approximate, 'none' (x·Φ(x) with erf) or 'tanh'.
std::unique_ptr<Layer> buildGelu(LayerSpec& spec, const std::vector<Shape>& inputShapes) {
  singleInput("gelu", inputShapes);
  const std::string approximate = spec.text("approximate", "none");
  if (approximate != "none" && approximate != "tanh")
    throw Error("gelu: approximate must be 'none' or 'tanh', got '" + approximate + "'");
  return std::make_unique<ActivationLayer>(approximate == "tanh" ? Activation::GeluTanh : Activation::GeluErf);
}

// spec: slope, broadcast by the importer to the input's shape (one value per element).
std::unique_ptr<Layer> buildPReLU(LayerSpec& spec, const std::vector<Shape>& inputShapes) {
  const Shape& input = singleInput("prelu", inputShapes);
  auto layer = std::make_unique<ActivationLayer>(toVector(spec.floats("slope")));
  layer->outputShape({input});
  return layer;
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
