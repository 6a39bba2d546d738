// Layers: the forward map of each node and its gradient (vector-Jacobian product).
// Linear layers (dense, later conv) additionally expose their map with *modified* parameters, which is
// all the generic relevance kernel needs to evaluate any rule (see rules.hpp).
#pragma once

#include "lrp/types.hpp"

#include <map>
#include <tuple>
#include <memory>
#include <utility>

namespace lrp {

enum class LayerKind { Dense, ReLU, Reshape, Identity };

// The name used in the public API (`model.layers[i].kind`).
const char* layerKindName(LayerKind kind);

class Layer {
 public:
  virtual ~Layer() = default;
  virtual LayerKind kind() const = 0;

  // Checks the input shapes and returns the output shape; throws lrp::Error on a mismatch.
  virtual Shape outputShape(const std::vector<Shape>& inputShapes) const = 0;

  // y = f(x...). Every matrix has one column per sample.
  virtual Matrix forward(const std::vector<const Matrix*>& inputs) const = 0;

  // Gradient of a scalar w.r.t. each input, given its gradient w.r.t. the output (a VJP).
  virtual std::vector<Matrix> gradient(const std::vector<const Matrix*>& inputs, const Matrix& output,
                                       const Matrix& gradOutput) const = 0;
};

// Element-wise modification of a parameter tensor (weights or bias), as used by LRP rules.
enum class ParamMod {
  Identity,       // p
  Positive,       // p+ = max(p, 0)
  Negative,       // p- = min(p, 0)
  GammaPositive,  // p + γ p+   (LRP-γ favours positive contributions)
  GammaNegative,  // p + γ p-
  Square,         // p²         (w²-rule)
  Ones,           // 1          (flat rule)
  Zero,           // 0          (no bias)
};

// A layer computing z = W x + b for some linear map determined by a parameter tensor W (dense: matrix
// product; conv: convolution). Rules only modify W, b and x element-wise, so the kernel needs just
// the layer's map and its transpose evaluated with modified parameters.
class LinearLayer : public Layer {
 public:
  LinearLayer(Matrix weight, Vector bias) : weight_(std::move(weight)), bias_(std::move(bias)) {}

  const Matrix& weight() const { return weight_; }
  const Vector& bias() const { return bias_; }  // size 0 when the layer has no bias

  // z = map(x; W) + b, with b == nullptr meaning no bias.
  virtual Matrix mapForward(const Matrix& x, const Matrix& w, const Vector* b) const = 0;
  // c = map(·; W)ᵀ s, the transposed map (for dense Wᵀ s; for conv the transposed convolution).
  virtual Matrix mapTranspose(const Matrix& s, const Matrix& w) const = 0;

  // Modified parameters, computed once per (modifier, γ) and cached: rules are re-evaluated on every
  // explanation, the weights never change.
  const Matrix& modifiedWeight(ParamMod mod, float gamma) const;
  const Vector& modifiedBias(ParamMod mod, float gamma) const;

  // The response to an all-ones input, map(1; W_mod) + b_mod, for rules that replace the input by ones
  // (flat, w²): it does not depend on x, so it is computed once. One column for `inputFeatures` inputs.
  const Vector& onesResponse(int inputFeatures, ParamMod weight, ParamMod bias, float gamma) const;

  Matrix forward(const std::vector<const Matrix*>& inputs) const override;
  std::vector<Matrix> gradient(const std::vector<const Matrix*>& inputs, const Matrix& output,
                               const Matrix& gradOutput) const override;

 protected:
  Matrix weight_;
  Vector bias_;

 private:
  using CacheKey = std::pair<ParamMod, float>;
  mutable std::map<CacheKey, Matrix> weightCache_;
  mutable std::map<CacheKey, Vector> biasCache_;
  mutable std::map<std::tuple<ParamMod, ParamMod, float>, Vector> onesCache_;

 protected:
  // Whether `w` is this layer's weight or one of its cached modifications (whose addresses are stable),
  // so that derived layers may cache data derived from it.
  bool ownsWeight(const Matrix& w) const;
};

// Fully connected: W is (outFeatures × inFeatures), z = W x + b.
class DenseLayer : public LinearLayer {
 public:
  DenseLayer(Matrix weight, Vector bias);
  LayerKind kind() const override { return LayerKind::Dense; }
  Shape outputShape(const std::vector<Shape>& inputShapes) const override;
  Matrix mapForward(const Matrix& x, const Matrix& w, const Vector* b) const override;
  Matrix mapTranspose(const Matrix& s, const Matrix& w) const override;

 private:
  // Wᵀ of the weight or of a cached modification (`scratch` holds it for any other matrix).
  const Matrix& transposedWeight(const Matrix& w, Matrix& scratch) const;
  mutable std::map<const Matrix*, Matrix> transposed_;
};

class ReLULayer : public Layer {
 public:
  LayerKind kind() const override { return LayerKind::ReLU; }
  Shape outputShape(const std::vector<Shape>& inputShapes) const override;
  Matrix forward(const std::vector<const Matrix*>& inputs) const override;
  std::vector<Matrix> gradient(const std::vector<const Matrix*>& inputs, const Matrix& output,
                               const Matrix& gradOutput) const override;
};

// Identity and dropout (inference), and reshape/flatten: the features keep their order, so all of them
// leave the data untouched and differ only in the shape they report.
class PassThroughLayer : public Layer {
 public:
  // `target` empty: identity (output shape = input shape); otherwise a reshape to `target`.
  explicit PassThroughLayer(LayerKind kind, Shape target = {}) : kind_(kind), target_(std::move(target)) {}
  LayerKind kind() const override { return kind_; }
  Shape outputShape(const std::vector<Shape>& inputShapes) const override;
  Matrix forward(const std::vector<const Matrix*>& inputs) const override;
  std::vector<Matrix> gradient(const std::vector<const Matrix*>& inputs, const Matrix& output,
                               const Matrix& gradOutput) const override;

 private:
  LayerKind kind_;
  Shape target_;
};

}  // namespace lrp
