// Softmax along one axis of the per-sample tensor, and its LRP rule (ATTNLRP rule 8).
#include "builders.hpp"
#include "special_rules.hpp"

#include <cmath>
#include <limits>

namespace lrp {
namespace {

// s = softmax(x) along `axis`: the tensor is outer × size × inner (row-major), normalised over `size`.
class SoftmaxLayer : public Layer {
 public:
  SoftmaxLayer(Shape shape, int axis) : shape_(std::move(shape)) {
    const size_t a = static_cast<size_t>(axis);
    for (size_t i = 0; i < shape_.size(); ++i) {
      if (i < a) outer_ *= shape_[i];
      if (i > a) inner_ *= shape_[i];
    }
    size_ = shape_[a];
  }

  const char* kind() const override { return "softmax"; }
  Role role() const override { return Role::Softmax; }
  // Three passes over every value: the maximum, the exponentials and their sum, the division.
  int64_t operations(const std::vector<Shape>&, const Shape& outputShape) const override {
    return saturatingMultiply(3, Layer::operations({}, outputShape));
  }

  Shape outputShape(const std::vector<Shape>& inputShapes) const override {
    const Shape& input = singleInput("softmax", inputShapes);
    if (input != shape_) throw Error("softmax built for " + shapeToString(shape_) + " got input " + shapeToString(input));
    return shape_;
  }

  Matrix forward(const std::vector<const Matrix*>& inputs) const override {
    const Matrix& x = *inputs[0];
    Matrix y(x.rows(), x.cols());
    forEachSlice(x.cols(), [&](Eigen::Index c, Eigen::Index first) {
      float max = -std::numeric_limits<float>::infinity();
      for (int k = 0; k < size_; ++k) max = std::max(max, x(first + k * inner_, c));
      // A slice masked entirely (all −∞) has no distribution; it is 0 rather than NaN.
      if (max == -std::numeric_limits<float>::infinity()) {
        for (int k = 0; k < size_; ++k) y(first + k * inner_, c) = 0.0f;
        return;
      }
      float sum = 0.0f;
      for (int k = 0; k < size_; ++k) sum += y(first + k * inner_, c) = std::exp(x(first + k * inner_, c) - max);
      for (int k = 0; k < size_; ++k) y(first + k * inner_, c) /= sum;
    });
    return y;
  }

  // ∂L/∂x = s ⊙ (g − Σ_axis g ⊙ s).
  std::vector<Matrix> gradient(const std::vector<const Matrix*>&, const Matrix& output,
                               const Matrix& gradOutput) const override {
    Matrix g(output.rows(), output.cols());
    forEachSlice(output.cols(), [&](Eigen::Index c, Eigen::Index first) {
      float dot = 0.0f;
      for (int k = 0; k < size_; ++k) dot += gradOutput(first + k * inner_, c) * output(first + k * inner_, c);
      for (int k = 0; k < size_; ++k) {
        const Eigen::Index i = first + k * inner_;
        g(i, c) = output(i, c) * (gradOutput(i, c) - dot);
      }
    });
    return {g};
  }

  // ATTNLRP rule 8 (AttnLRP Prop. 3.1, LXT `softmax_fn`): R_x = x ⊙ (R − s·Σ_axis R). Not conservative. A
  // masked input (−∞, or any non-finite value) gets 0, as LXT zeroes −∞ inputs: its s is 0 and it
  // explains nothing.
  Matrix relevance(const Matrix& x, const Matrix& s, const Matrix& r) const {
    Matrix out(x.rows(), x.cols());
    forEachSlice(x.cols(), [&](Eigen::Index c, Eigen::Index first) {
      float total = 0.0f;
      for (int k = 0; k < size_; ++k) total += r(first + k * inner_, c);
      for (int k = 0; k < size_; ++k) {
        const Eigen::Index i = first + k * inner_;
        out(i, c) = std::isfinite(x(i, c)) ? x(i, c) * (r(i, c) - s(i, c) * total) : 0.0f;
      }
    });
    return out;
  }

 private:
  // Calls f(column, row of the slice's first element) for every slice along the axis; its elements are
  // `inner_` rows apart.
  template <typename F>
  void forEachSlice(Eigen::Index cols, F&& f) const {
    for (Eigen::Index c = 0; c < cols; ++c)
      for (Eigen::Index o = 0; o < outer_; ++o)
        for (Eigen::Index i = 0; i < inner_; ++i) f(c, o * size_ * inner_ + i);
  }

  Shape shape_;
  Eigen::Index outer_ = 1, inner_ = 1;
  int size_ = 1;
};

}  // namespace

std::vector<Matrix> softmaxRelevance(const Layer& layer, const std::vector<const Matrix*>& inputs, const Matrix& z,
                                     const Matrix& relevance, const Rule& rule) {
  const auto* softmax = dynamic_cast<const SoftmaxLayer*>(&layer);
  if (softmax == nullptr) throw Error(std::string("the softmax rule does not apply to a ") + layer.kind() + " layer");
  // CP-LRP treats the attention weights as constants: nothing flows back through the softmax.
  if (rule.silentInput == 0) return {Matrix::Zero(inputs[0]->rows(), inputs[0]->cols())};
  return {softmax->relevance(*inputs[0], z, relevance)};
}

// spec: axis (per-sample; negative counts from the end).
std::unique_ptr<Layer> buildSoftmax(LayerSpec& spec, const std::vector<Shape>& inputShapes) {
  const Shape& input = singleInput("softmax", inputShapes);
  const int rank = static_cast<int>(input.size());
  int axis = spec.integer("axis");
  if (axis < -rank || axis >= rank)
    throw Error("softmax: axis " + std::to_string(axis) + " is out of range for input " + shapeToString(input));
  if (axis < 0) axis += rank;
  return std::make_unique<SoftmaxLayer>(input, axis);
}

}  // namespace lrp
