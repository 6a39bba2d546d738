// Layer normalisation over the trailing axes axis..last, and its LRP rule (ATTNLRP rule 7).
#include "builders.hpp"
#include "special_rules.hpp"

#include <cmath>

namespace lrp {
namespace {

// y = w ⊙ (x − μ)/σ + b, σ = √(var + eps), μ and the (biased) variance over each group of `size_`
// consecutive values (the normalised axes are the trailing ones, so a group is contiguous).
class LayerNormLayer : public Layer {
 public:
  LayerNormLayer(Shape shape, int axis, float epsilon, Vector scale, Vector bias)
      : shape_(std::move(shape)), epsilon_(epsilon), scale_(std::move(scale)), bias_(std::move(bias)) {
    size_ = 1;
    for (size_t i = static_cast<size_t>(axis); i < shape_.size(); ++i) size_ *= shape_[i];
    const std::string part = shapeToString(Shape(shape_.begin() + axis, shape_.end()));
    if (scale_.size() != size_)
      throw Error("layernorm scale has " + std::to_string(scale_.size()) + " values, the normalised part " + part +
                  " has " + std::to_string(size_));
    if (bias_.size() != 0 && bias_.size() != size_)
      throw Error("layernorm bias has " + std::to_string(bias_.size()) + " values, the normalised part " + part +
                  " has " + std::to_string(size_));
    if (!std::isfinite(epsilon_) || epsilon_ < 0) throw Error("layernorm epsilon must be finite and >= 0");
    if (!scale_.allFinite() || !bias_.allFinite()) throw Error("layernorm scale and bias must be finite");
  }

  const char* kind() const override { return "layernorm"; }
  Role role() const override { return Role::LayerNorm; }
  int64_t memoryBytes() const override { return bytesOf(scale_) + bytesOf(bias_); }
  // Three passes over every value: the mean, the variance, the scaled and shifted result.
  int64_t operations(const std::vector<Shape>&, const Shape& outputShape) const override {
    return saturatingMultiply(3, Layer::operations({}, outputShape));
  }

  Shape outputShape(const std::vector<Shape>& inputShapes) const override {
    const Shape& input = singleInput("layernorm", inputShapes);
    if (input != shape_) throw Error("layernorm built for " + shapeToString(shape_) + " got input " + shapeToString(input));
    return shape_;
  }

  Matrix forward(const std::vector<const Matrix*>& inputs) const override {
    const Matrix& x = *inputs[0];
    Matrix y(x.rows(), x.cols());
    forEachGroup(x, [&](Eigen::Index c, Eigen::Index first, float mean, float sigma) {
      auto out = y.col(c).segment(first, size_).array();
      out = scale_.array() * (x.col(c).segment(first, size_).array() - mean) / sigma;
      if (bias_.size() != 0) out += bias_.array();
    });
    return y;
  }

  // The exact VJP: with x̂ = (x − μ)/σ and h = w ⊙ g, ∂L/∂x = (h − mean(h) − x̂·mean(h ⊙ x̂)) / σ.
  std::vector<Matrix> gradient(const std::vector<const Matrix*>& inputs, const Matrix&,
                               const Matrix& gradOutput) const override {
    const Matrix& x = *inputs[0];
    Matrix g(x.rows(), x.cols());
    forEachGroup(x, [&](Eigen::Index c, Eigen::Index first, float mean, float sigma) {
      const Eigen::ArrayXf xhat = (x.col(c).segment(first, size_).array() - mean) / sigma;
      const Eigen::ArrayXf h = scale_.array() * gradOutput.col(c).segment(first, size_).array();
      g.col(c).segment(first, size_) = ((h - h.mean() - xhat * (h * xhat).mean()) / sigma).matrix();
    });
    return {g};
  }

  // ATTNLRP rule 7 (LXT `layer_norm_grad_fn`): σ is held constant (identity on 1/σ, AttnLRP Prop. 3.4) and
  // the affine rest y = w ⊙ (x − μ)/σ + b takes the ε-rule (Eq. 8): with s = w ⊙ R / (σ · stab(y)),
  // R_x = x ⊙ (s − mean(s)) over the normalised axes; the bias b absorbs its share. `y` is the layer's
  // output (bias included), stab the rule's (st+: y + 1e-6).
  Matrix relevance(const Matrix& x, const Matrix& y, const Matrix& r, const Rule& rule) const {
    const Matrix ratio = stabilizedRatio(r, y, rule);
    Matrix out(x.rows(), x.cols());
    forEachGroup(x, [&](Eigen::Index c, Eigen::Index first, float, float sigma) {
      const Eigen::ArrayXf s = scale_.array() * ratio.col(c).segment(first, size_).array() / sigma;
      out.col(c).segment(first, size_) = (x.col(c).segment(first, size_).array() * (s - s.mean())).matrix();
    });
    return out;
  }

 private:
  // Calls f(column, first row, μ, σ) for every normalised group; the statistics are summed in double.
  template <typename F>
  void forEachGroup(const Matrix& x, F&& f) const {
    for (Eigen::Index c = 0; c < x.cols(); ++c)
      for (Eigen::Index first = 0; first < x.rows(); first += size_) {
        const Eigen::ArrayXd v = x.col(c).segment(first, size_).cast<double>().array();
        const double mean = v.mean();
        const double variance = (v - mean).square().mean();
        f(c, first, static_cast<float>(mean), static_cast<float>(std::sqrt(variance + epsilon_)));
      }
  }

  Shape shape_;
  float epsilon_;
  Vector scale_, bias_;
  Eigen::Index size_;
};

}  // namespace

std::vector<Matrix> layerNormRelevance(const Layer& layer, const std::vector<const Matrix*>& inputs, const Matrix& z,
                                       const Matrix& relevance, const Rule& rule) {
  const auto* norm = dynamic_cast<const LayerNormLayer*>(&layer);
  if (norm == nullptr) throw Error(std::string("the layernorm rule does not apply to a ") + layer.kind() + " layer");
  return {norm->relevance(*inputs[0], z, relevance, rule)};
}

// spec: axis (normalise over axis..last; negative counts from the end), epsilon, scale and bias (or null),
// both of the normalised part's size.
std::unique_ptr<Layer> buildLayerNorm(LayerSpec& spec, const std::vector<Shape>& inputShapes) {
  const Shape& input = singleInput("layernorm", inputShapes);
  const int rank = static_cast<int>(input.size());
  int axis = spec.integer("axis");
  if (axis < -rank || axis >= rank)
    throw Error("layernorm: axis " + std::to_string(axis) + " is out of range for input " + shapeToString(input));
  if (axis < 0) axis += rank;
  if (!spec.has("scale")) throw Error("missing option 'scale'");
  return std::make_unique<LayerNormLayer>(input, axis, static_cast<float>(spec.number("epsilon")),
                                          toVector(spec.floats("scale")), toVector(spec.floats("bias")));
}

}  // namespace lrp
