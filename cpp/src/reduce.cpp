// Reductions over axes of the per-sample tensor: reduce-mean, reduce-sum (the norm rule: each input gets
// relevance in proportion to its contribution), reduce-max and global-maxpool (winner takes all: the
// relevance follows the gradient to the first maximum, PyTorch's tie-break).
#include "broadcast.hpp"
#include "builders.hpp"

#include <algorithm>
#include <limits>

namespace lrp {
namespace {

enum class Reduction { Mean, Sum, Max };

class ReduceLayer : public Layer {
 public:
  ReduceLayer(const char* kind, Reduction reduction, Shape input, const std::vector<int>& axes, bool keepdims)
      : kind_(kind), reduction_(reduction), inputShape_(std::move(input)) {
    std::vector<bool> reduced(inputShape_.size(), false);
    for (int axis : axes) reduced[static_cast<size_t>(axis)] = true;
    Shape kept;  // the output in keepdims layout: reduced axes of size 1
    for (size_t i = 0; i < inputShape_.size(); ++i) {
      kept.push_back(reduced[i] ? 1 : inputShape_[i]);
      if (!reduced[i] || keepdims) outputShape_.push_back(kept.back());
    }
    // Removing size-1 axes keeps the row-major order, so both layouts share the flat output index.
    target_ = broadcastIndex(kept, inputShape_);
    count_ = static_cast<int>(shapeSize(inputShape_) / shapeSize(kept));
  }

  const char* kind() const override { return kind_; }
  Role role() const override { return reduction_ == Reduction::Max ? Role::WinnerTakesAll : Role::Mean; }
  int64_t memoryBytes() const override { return bytesOf(target_); }
  // Every input value is added to (or compared with) its output's running value once.
  int64_t operations(const std::vector<Shape>& inputShapes, const Shape&) const override {
    return Layer::operations({}, inputShapes.at(0));
  }

  Shape outputShape(const std::vector<Shape>& inputShapes) const override {
    const Shape& input = singleInput(kind_, inputShapes);
    if (input != inputShape_)
      throw Error(std::string(kind_) + " built for " + shapeToString(inputShape_) + " got input " + shapeToString(input));
    return outputShape_;
  }

  Matrix forward(const std::vector<const Matrix*>& inputs) const override {
    const Matrix& x = *inputs[0];
    if (reduction_ == Reduction::Max) {
      const std::vector<int> winner = winners(x);
      Matrix y(outputRows(), x.cols());
      for (Eigen::Index c = 0; c < x.cols(); ++c)
        for (Eigen::Index o = 0; o < y.rows(); ++o) y(o, c) = x(winner[static_cast<size_t>(c * y.rows() + o)], c);
      return y;
    }
    Matrix y = Matrix::Zero(outputRows(), x.cols());
    for (Eigen::Index c = 0; c < x.cols(); ++c)
      for (Eigen::Index i = 0; i < x.rows(); ++i) y(target_[static_cast<size_t>(i)], c) += x(i, c);
    if (reduction_ == Reduction::Mean) y /= static_cast<float>(count_);
    return y;
  }

  std::vector<Matrix> gradient(const std::vector<const Matrix*>& inputs, const Matrix&,
                               const Matrix& gradOutput) const override {
    const Matrix& x = *inputs[0];
    if (reduction_ == Reduction::Max) {
      const std::vector<int> winner = winners(x);
      Matrix g = Matrix::Zero(x.rows(), x.cols());
      for (Eigen::Index c = 0; c < x.cols(); ++c)
        for (Eigen::Index o = 0; o < gradOutput.rows(); ++o)
          g(winner[static_cast<size_t>(c * gradOutput.rows() + o)], c) += gradOutput(o, c);
      return {g};
    }
    const float scale = reduction_ == Reduction::Mean ? 1.0f / static_cast<float>(count_) : 1.0f;
    Matrix g(x.rows(), x.cols());
    for (Eigen::Index c = 0; c < x.cols(); ++c)
      for (Eigen::Index i = 0; i < x.rows(); ++i) g(i, c) = scale * gradOutput(target_[static_cast<size_t>(i)], c);
    return {g};
  }

 private:
  Eigen::Index outputRows() const { return static_cast<Eigen::Index>(shapeSize(outputShape_)); }

  // For every (column, output) the input row of its first maximum in row-major order: inputs are visited
  // in increasing flat order and only a strictly larger value takes over.
  std::vector<int> winners(const Matrix& x) const {
    const Eigen::Index outputs = outputRows();
    std::vector<int> winner(static_cast<size_t>(outputs * x.cols()), -1);
    for (Eigen::Index c = 0; c < x.cols(); ++c) {
      int* best = winner.data() + c * outputs;
      for (Eigen::Index i = 0; i < x.rows(); ++i) {
        int& w = best[target_[static_cast<size_t>(i)]];
        if (w < 0 || x(i, c) > x(w, c)) w = static_cast<int>(i);
      }
    }
    return winner;
  }

  const char* kind_;
  Reduction reduction_;
  Shape inputShape_, outputShape_;
  std::vector<int> target_;  // input flat index → output flat index
  int count_;                // inputs per output
};

// `axes` (per-sample; negative counts from the end), each at most once and at least one.
std::vector<int> reductionAxes(const char* kind, const LayerSpec& spec, const Shape& input) {
  const int rank = static_cast<int>(input.size());
  std::vector<int> axes = spec.integers("axes");
  if (axes.empty()) throw Error(std::string(kind) + " needs at least one axis");
  for (int& axis : axes) {
    if (axis < -rank || axis >= rank)
      throw Error(std::string(kind) + ": axis " + std::to_string(axis) + " is out of range for input " + shapeToString(input));
    if (axis < 0) axis += rank;
  }
  std::vector<int> sorted = axes;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
    throw Error(std::string(kind) + ": axes " + shapeToString(axes) + " name an axis twice");
  return sorted;
}

std::unique_ptr<Layer> buildReduce(const char* kind, Reduction reduction, LayerSpec& spec,
                                   const std::vector<Shape>& inputShapes) {
  const Shape& input = singleInput(kind, inputShapes);
  return std::make_unique<ReduceLayer>(kind, reduction, input, reductionAxes(kind, spec, input), spec.flag("keepdims", true));
}

}  // namespace

std::unique_ptr<Layer> buildReduceMean(LayerSpec& spec, const std::vector<Shape>& inputShapes) {
  return buildReduce("reduce-mean", Reduction::Mean, spec, inputShapes);
}

std::unique_ptr<Layer> buildReduceSum(LayerSpec& spec, const std::vector<Shape>& inputShapes) {
  return buildReduce("reduce-sum", Reduction::Sum, spec, inputShapes);
}

std::unique_ptr<Layer> buildReduceMax(LayerSpec& spec, const std::vector<Shape>& inputShapes) {
  return buildReduce("reduce-max", Reduction::Max, spec, inputShapes);
}

// [C, …] → [C, 1, …]: the maximum of each channel (a [C] input passes unchanged).
std::unique_ptr<Layer> buildGlobalMaxPool(LayerSpec&, const std::vector<Shape>& inputShapes) {
  const Shape& input = singleInput("global-maxpool", inputShapes);
  if (input.empty()) throw Error("global-maxpool needs an input [C, …], got a scalar");
  std::vector<int> axes;
  for (int axis = 1; axis < static_cast<int>(input.size()); ++axis) axes.push_back(axis);
  return std::make_unique<ReduceLayer>("global-maxpool", Reduction::Max, input, axes, true);
}

}  // namespace lrp
