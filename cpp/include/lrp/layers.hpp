// Layers: the forward map of each node and its gradient (vector-Jacobian product).
// Linear layers (dense, conv) additionally expose their map with *modified* parameters, which is
// all the generic relevance kernel needs to evaluate any rule (see rules.hpp).
#pragma once

#include "lrp/types.hpp"

#include <map>
#include <tuple>
#include <memory>
#include <utility>

namespace lrp {

enum class LayerKind {
  Dense, Conv,                                  // linear layers: every LRP rule applies
  ReLU, LeakyReLU, Clip, Sigmoid, Tanh,         // element-wise activations: relevance passes
  BatchNorm,                                    // a batch-norm left after canonization: relevance passes
  MaxPool,                                      // relevance follows the gradient (winner takes all)
  AvgPool, GlobalAvgPool, Add,                  // parameter-free linear maps: the norm rule
  Concat, Pad, Reshape, Identity,               // re-indexing: relevance follows the gradient
};

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

// Spatial geometry of a convolution or pooling window over a C×H×W input (ONNX semantics).
struct WindowGeometry {
  int kernelH = 1, kernelW = 1;
  int strideH = 1, strideW = 1;
  int padTop = 0, padLeft = 0, padBottom = 0, padRight = 0;
  int dilationH = 1, dilationW = 1;
  bool ceilMode = false;  // pooling only: round the output size up (a window must start inside input + left pad)

  // Output size along one axis; throws lrp::Error when the window does not fit.
  int outputHeight(int inputHeight) const;
  int outputWidth(int inputWidth) const;
};

// 2-D convolution (cross-correlation, as ONNX and PyTorch) on a C×H×W input with `groups` groups.
// W is (outChannels × inChannels/groups·kH·kW): row o is filter o in (c, kh, kw) order, i.e. ONNX's
// [O, I/g, kH, kW] weight flattened. Padded cells are zeros that take part in no rule (absent).
class Conv2DLayer : public LinearLayer {
 public:
  Conv2DLayer(Matrix weight, Vector bias, Shape inputShape, WindowGeometry geometry, int groups);
  LayerKind kind() const override { return LayerKind::Conv; }
  Shape outputShape(const std::vector<Shape>& inputShapes) const override;
  Matrix mapForward(const Matrix& x, const Matrix& w, const Vector* b) const override;
  Matrix mapTranspose(const Matrix& s, const Matrix& w) const override;

 private:
  Shape inputShape_;  // C, H, W
  WindowGeometry geometry_;
  int groups_;
  int outHeight_, outWidth_;

  // A weight (the original or a cached modification) packed for the GEMM kernel, per group: the filters
  // as B-panels of Wᵀ for the forward map, and W as B-panels for the transposed map (each on first use).
  struct PackedWeight {
    std::vector<float> forward, transpose;
  };
  const PackedWeight& packedWeight(const Matrix& w, PackedWeight& scratch, bool forward) const;
  mutable std::map<const Matrix*, PackedWeight> packed_;
};

// Max pooling; padding is −∞. The gradient goes to the first maximum of each window in row-major
// order (PyTorch's tie-break); overlapping windows accumulate.
class MaxPoolLayer : public Layer {
 public:
  MaxPoolLayer(Shape inputShape, WindowGeometry geometry);
  LayerKind kind() const override { return LayerKind::MaxPool; }
  Shape outputShape(const std::vector<Shape>& inputShapes) const override;
  Matrix forward(const std::vector<const Matrix*>& inputs) const override;
  std::vector<Matrix> gradient(const std::vector<const Matrix*>& inputs, const Matrix& output,
                               const Matrix& gradOutput) const override;

 private:
  Shape inputShape_;
  WindowGeometry geometry_;
  int outHeight_, outWidth_;
};

// Average pooling with zero padding. countIncludePad: padded cells count in the divisor (but cells of a
// ceil-mode window beyond the padded input never do, as in PyTorch/ONNX).
class AvgPoolLayer : public Layer {
 public:
  AvgPoolLayer(Shape inputShape, WindowGeometry geometry, bool countIncludePad);
  LayerKind kind() const override { return LayerKind::AvgPool; }
  Shape outputShape(const std::vector<Shape>& inputShapes) const override;
  Matrix forward(const std::vector<const Matrix*>& inputs) const override;
  std::vector<Matrix> gradient(const std::vector<const Matrix*>& inputs, const Matrix& output,
                               const Matrix& gradOutput) const override;

 private:
  Shape inputShape_;
  WindowGeometry geometry_;
  bool countIncludePad_;
  int outHeight_, outWidth_;
};

// Mean over each channel's H×W: C×H×W → C×1×1.
class GlobalAvgPoolLayer : public Layer {
 public:
  explicit GlobalAvgPoolLayer(Shape inputShape);
  LayerKind kind() const override { return LayerKind::GlobalAvgPool; }
  Shape outputShape(const std::vector<Shape>& inputShapes) const override;
  Matrix forward(const std::vector<const Matrix*>& inputs) const override;
  std::vector<Matrix> gradient(const std::vector<const Matrix*>& inputs, const Matrix& output,
                               const Matrix& gradOutput) const override;

 private:
  Shape inputShape_;  // C, H, W: forward and gradient see a column of C·H·W values
};

// Element-wise activations. ReLU, LeakyReLU (a = slope), Clip (a = min, b = max), Sigmoid, Tanh.
class ActivationLayer : public Layer {
 public:
  explicit ActivationLayer(LayerKind kind, float a = 0.0f, float b = 0.0f);
  LayerKind kind() const override { return kind_; }
  Shape outputShape(const std::vector<Shape>& inputShapes) const override;
  Matrix forward(const std::vector<const Matrix*>& inputs) const override;
  std::vector<Matrix> gradient(const std::vector<const Matrix*>& inputs, const Matrix& output,
                               const Matrix& gradOutput) const override;

 private:
  LayerKind kind_;
  float a_, b_;
};

class ReLULayer : public ActivationLayer {
 public:
  ReLULayer() : ActivationLayer(LayerKind::ReLU) {}
};

// A batch-norm that had no linear layer to fold into: y = scale_c · x + shift_c per channel
// (scale = γ/√(σ²+ε), shift = β − μ·scale). Relevance passes through it (Zennit's layer map).
class BatchNormLayer : public Layer {
 public:
  BatchNormLayer(Vector scale, Vector shift, Shape inputShape);
  LayerKind kind() const override { return LayerKind::BatchNorm; }
  Shape outputShape(const std::vector<Shape>& inputShapes) const override;
  Matrix forward(const std::vector<const Matrix*>& inputs) const override;
  std::vector<Matrix> gradient(const std::vector<const Matrix*>& inputs, const Matrix& output,
                               const Matrix& gradOutput) const override;

 private:
  Vector scale_, shift_;
  Shape inputShape_;
};

// Sum of two tensors of the same shape (residual connections), or of one tensor and a constant of the
// output's size (a bias-like operand, already broadcast by the importer; it absorbs relevance).
class AddLayer : public Layer {
 public:
  explicit AddLayer(Vector constant = Vector()) : constant_(std::move(constant)) {}
  LayerKind kind() const override { return LayerKind::Add; }
  Shape outputShape(const std::vector<Shape>& inputShapes) const override;
  Matrix forward(const std::vector<const Matrix*>& inputs) const override;
  std::vector<Matrix> gradient(const std::vector<const Matrix*>& inputs, const Matrix& output,
                               const Matrix& gradOutput) const override;

 private:
  Vector constant_;
};

// Concatenation along the channel axis (the first axis of C×H×W or of a feature vector).
class ConcatLayer : public Layer {
 public:
  LayerKind kind() const override { return LayerKind::Concat; }
  Shape outputShape(const std::vector<Shape>& inputShapes) const override;
  Matrix forward(const std::vector<const Matrix*>& inputs) const override;
  std::vector<Matrix> gradient(const std::vector<const Matrix*>& inputs, const Matrix& output,
                               const Matrix& gradOutput) const override;
};

// Constant padding of the spatial axes of C×H×W: pads = top, left, bottom, right (non-negative).
class PadLayer : public Layer {
 public:
  PadLayer(Shape inputShape, int top, int left, int bottom, int right, float value);
  LayerKind kind() const override { return LayerKind::Pad; }
  Shape outputShape(const std::vector<Shape>& inputShapes) const override;
  Matrix forward(const std::vector<const Matrix*>& inputs) const override;
  std::vector<Matrix> gradient(const std::vector<const Matrix*>& inputs, const Matrix& output,
                               const Matrix& gradOutput) const override;

 private:
  Shape inputShape_;
  int top_, left_, bottom_, right_;
  float value_;
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
