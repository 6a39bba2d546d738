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

// What part a layer plays for LRP: composites pick each layer's rule by its role (composite.cpp, after
// the table "Which rule where" of shared/ATTNLRP.md). The public kind names ('dense', 'relu', ...) are
// the layer table's (layer_registry.cpp, docs/layers.md).
enum class Role {
  Linear,          // dense, conv: every LRP rule applies
  Elementwise,     // activations, a left-over batch-norm: relevance passes (identity rule)
  Sum,             // sum or difference of activations (residual): the norm rule
  Mean,            // average pooling, global average pooling, ReduceMean/ReduceSum: the norm rule
  AddConstant,     // activation + constant (positions, a bias): ATTNLRP rule 6, the constant absorbs its share
  ScaleConstant,   // activation · constant: identity (ATTNLRP rule 4)
  Product,         // element-wise product of two activations: uniform (AttnLRP Prop. 3.2) or signal
  Quotient,        // a / b of two activations: all relevance to the numerator
  WinnerTakesAll,  // max pooling, ReduceMax: relevance follows the gradient
  Reindex,         // reshape, transpose, slice, gather, concat, expand, pad: relevance follows the gradient
  LayerNorm,       // ATTNLRP rule 7
  Softmax,         // ATTNLRP rule 8
  MatMul,          // product of two activations as matrices: ATTNLRP rule 9
  Embedding,       // token ids → vectors: the relevance of a token is Σ over the embedding dimension
  Constant,        // a per-input constant (an attention mask computed from the ids): absorbs what reaches it
};

class Layer;

// The layer table (layer_registry.cpp): builds a layer of a public kind ("dense", "conv", …; docs/layers.md)
// from the importer's spec for inputs of the given shapes. Throws lrp::Error naming an unknown kind, a
// missing option or a value out of range.
std::unique_ptr<Layer> buildLayer(const std::string& kind, LayerSpec& spec, const std::vector<Shape>& inputShapes);
// Bytes a builder allocates beyond the spec's float tensors, at its peak, while it builds a layer of `kind` (the
// spec is freed once the layer exists): what the memory budget asks of a load before building.
int64_t buildBytes(const std::string& kind, const LayerSpec& spec);
// Every kind the table knows, in table order.
std::vector<std::string> layerKinds();

class Layer {
 public:
  virtual ~Layer() = default;
  // The public kind name (docs/layers.md), e.g. "dense", "relu".
  virtual const char* kind() const = 0;
  virtual Role role() const = 0;

  // Checks the input shapes and returns the output shape; throws lrp::Error on a mismatch.
  virtual Shape outputShape(const std::vector<Shape>& inputShapes) const = 0;

  // y = f(x...). Every matrix has one column per sample.
  virtual Matrix forward(const std::vector<const Matrix*>& inputs) const = 0;

  // Gradient of a scalar w.r.t. each input, given its gradient w.r.t. the output (a VJP).
  virtual std::vector<Matrix> gradient(const std::vector<const Matrix*>& inputs, const Matrix& output,
                                       const Matrix& gradOutput) const = 0;

  // Bytes the layer holds for its lifetime: parameters, packed weights, index maps, caches (memory.hpp).
  virtual int64_t memoryBytes() const { return 0; }
  // Bytes one call allocates that do not grow with the batch: a modified copy of packed weights, im2col panels.
  virtual int64_t workspaceBytes() const { return 0; }

  // The work of the forward pass for one sample: multiply-adds and comparisons as the layer's kernel computes
  // them, given the shapes the graph checked (outputShape). The estimate behind model.operations and
  // loadModel's maxOperations: a work bomb is a few bytes of attributes, so it is refused from its shapes before
  // any call. Default: one operation per output value (element-wise layers, copies and index maps). Saturates
  // at kMaxOperations instead of overflowing (a hostile graph may claim absurd sizes).
  virtual int64_t operations(const std::vector<Shape>& inputShapes, const Shape& outputShape) const;

  // Whether the layer holds an infinite constant (a −∞ mask added or filled in): its output may then hold
  // infinities without anything having overflowed (see Graph::runNode).
  virtual bool holdsInfinity() const { return false; }
};

// The ceiling of every operation count: INT64_MAX (counts saturate there instead of wrapping around).
constexpr int64_t kMaxOperations = INT64_MAX;
// a·b and a + b of non-negative counts, saturating at kMaxOperations.
int64_t saturatingMultiply(int64_t a, int64_t b);
int64_t saturatingAdd(int64_t a, int64_t b);

// Bytes of a parameter tensor (for memoryBytes()).
template <typename T>
int64_t bytesOf(const T& values) { return static_cast<int64_t>(values.size()) * static_cast<int64_t>(sizeof(values.data()[0])); }

// A layer on several activations that broadcast against each other numpy-style (binary element-wise
// operations, the leading axes of a matrix product). Rules that hand relevance at the output to an operand
// sum it over the axes that operand was broadcast along.
class BroadcastingLayer : public Layer {
 public:
  // `atOutput` (output-sized, one column per sample) summed to the shape of input `k`.
  virtual Matrix reduceToInput(size_t k, const Matrix& atOutput) const = 0;
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

// A parameter modifier with its γ (only GammaPositive/GammaNegative read it). Kernels apply it where they
// read a parameter, so that no modified copy of a weight is ever stored.
struct Modifier {
  ParamMod mod = ParamMod::Identity;
  float gamma = 0.0f;
  float operator()(float p) const { return applyModifier(mod, gamma, p); }
  static float applyModifier(ParamMod mod, float gamma, float p);
};

// Calls f with a function object float → float that applies `m` (one lambda type per modifier), so that
// loops over a weight dispatch once instead of per element.
template <typename F>
decltype(auto) withModifier(const Modifier& m, F&& f) {
  const float g = m.gamma;
  switch (m.mod) {
    case ParamMod::Positive: return f([](float p) { return p > 0.0f ? p : 0.0f; });
    case ParamMod::Negative: return f([](float p) { return p < 0.0f ? p : 0.0f; });
    case ParamMod::GammaPositive: return f([g](float p) { return p + g * (p > 0.0f ? p : 0.0f); });
    case ParamMod::GammaNegative: return f([g](float p) { return p + g * (p < 0.0f ? p : 0.0f); });
    case ParamMod::Square: return f([](float p) { return p * p; });
    case ParamMod::Ones: return f([](float) { return 1.0f; });
    case ParamMod::Zero: return f([](float) { return 0.0f; });
    case ParamMod::Identity: break;
  }
  return f([](float p) { return p; });
}

// A layer computing z = W x + b for some linear map determined by a parameter tensor W (dense: matrix
// product; conv: convolution). Rules only modify W, b and x element-wise, so the kernel needs just
// the layer's map and its transpose evaluated with modified parameters. The layer keeps W once; a modifier
// is applied by the maps as they read W (conv: while packing the GEMM's panels per call).
class LinearLayer : public Layer {
 public:
  Role role() const override { return Role::Linear; }
  LinearLayer(Matrix weight, Vector bias) : weight_(std::move(weight)), bias_(std::move(bias)) {}
  ~LinearLayer() override;

  // W (a copy: a layer may keep its weight only in a packed layout, see Conv2DLayer).
  virtual Matrix weight() const { return weight_; }
  const Vector& bias() const { return bias_; }  // size 0 when the layer has no bias

  // z = map(x; mod(W)) + b, with b == nullptr meaning no bias (b is already modified: it is small).
  virtual Matrix mapForward(const Matrix& x, const Modifier& mod, const Vector* b) const = 0;
  // c = map(·; mod(W))ᵀ s, the transposed map (for dense Wᵀ s; for conv the transposed convolution).
  virtual Matrix mapTranspose(const Matrix& s, const Modifier& mod) const = 0;

  // mod(W) and mod(b) materialised (tests, and the bias, which has one value per output).
  Matrix modifiedWeight(const Modifier& mod) const;
  Vector modifiedBias(const Modifier& mod) const;

  // The response to an all-ones input, map(1; W_mod) + b_mod, for rules that replace the input by ones
  // (flat, w²): it does not depend on x, so it is computed once and kept (output-sized, not weight-sized) until
  // the memory budget needs the space (releaseCaches, memory.hpp). One column for `inputFeatures` inputs.
  const Vector& onesResponse(int inputFeatures, ParamMod weight, ParamMod bias, float gamma) const;
  void releaseCache() const;

  Matrix forward(const std::vector<const Matrix*>& inputs) const override;
  std::vector<Matrix> gradient(const std::vector<const Matrix*>& inputs, const Matrix& output,
                               const Matrix& gradOutput) const override;
  int64_t memoryBytes() const override;

 protected:
  Matrix weight_;
  Vector bias_;

 private:
  mutable std::map<std::tuple<ParamMod, ParamMod, float>, Vector> onesCache_;
};

// Fully connected: W is (outFeatures × inFeatures), z = W x + b.
class DenseLayer : public LinearLayer {
 public:
  DenseLayer(Matrix weight, Vector bias);
  // W (out × in) given column-major, i.e. its columns one after the other: the storage is moved in, not copied
  // (the loader hands over the buffer it filled from JavaScript, so a weight exists once on the wasm heap).
  // `tokens`: the values per sample over `in` (a sequence's length; 1 for a flat input), which picks the kernels
  // and so the workspace a call needs.
  DenseLayer(std::vector<float> columnMajorWeight, int64_t out, int64_t in, Vector bias, int64_t tokens = 1);
  const char* kind() const override { return "dense"; }
  Matrix weight() const override { return w(); }
  int64_t memoryBytes() const override { return LinearLayer::memoryBytes() + bytesOf(storage_); }
  int64_t workspaceBytes() const override;
  Shape outputShape(const std::vector<Shape>& inputShapes) const override;
  // in multiply-adds per output value (out·in per token).
  int64_t operations(const std::vector<Shape>& inputShapes, const Shape& outputShape) const override;
  Matrix mapForward(const Matrix& x, const Modifier& mod, const Vector* b) const override;
  Matrix mapTranspose(const Matrix& s, const Modifier& mod) const override;

 private:
  Eigen::Map<const Matrix> w() const { return Eigen::Map<const Matrix>(storage_.data(), out_, in_); }
  std::vector<float> storage_;  // W column-major (LinearLayer's weight_ stays empty)
  Eigen::Index out_ = 0, in_ = 0;
  int64_t tokens_ = 1;
};

// A 1-D signal [C, L] runs through the 2-D conv and pooling code as the image [C, 1, L]; the layers keep
// the 3-D shape inside and report the shapes they were given.
Shape asImage(const Shape& shape);
Shape asGiven(const Shape& image, bool oneDimensional);

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
  // inputShape: C×H×W, or C×L with a 1×kW geometry (1-D).
  Conv2DLayer(Matrix weight, Vector bias, Shape inputShape, WindowGeometry geometry, int groups);
  // W [O, C/g, kH, kW] in ONNX's row-major order, as the loader receives it: a GEMM conv packs its panels
  // straight from it (no intermediate matrix), so the load holds the weight at most twice.
  Conv2DLayer(const std::vector<float>& rowMajorWeight, int64_t outChannels, Vector bias, Shape inputShape,
              WindowGeometry geometry, int groups);
  const char* kind() const override { return "conv"; }
  Shape outputShape(const std::vector<Shape>& inputShapes) const override;
  // Ho·Wo·Cout·(Cin/groups)·kH·kW multiply-adds: one per tap of each output value.
  int64_t operations(const std::vector<Shape>& inputShapes, const Shape& outputShape) const override;
  Matrix mapForward(const Matrix& x, const Modifier& mod, const Vector* b) const override;
  Matrix mapTranspose(const Matrix& s, const Modifier& mod) const override;
  Matrix weight() const override;  // unpacked from the forward panels when W itself was dropped
  int64_t memoryBytes() const override { return LinearLayer::memoryBytes() + bytesOf(packedForward_) + bytesOf(packedTranspose_); }
  int64_t workspaceBytes() const override;

 private:
  Shape inputShape_;  // C, H, W
  bool oneDimensional_;
  WindowGeometry geometry_;
  int groups_;
  int outHeight_, outWidth_;
  int outChannels_ = 0, taps_ = 0;  // W's rows and columns (W itself is empty for a GEMM conv)

  // mod(W) packed for the GEMM kernel, every group one after the other: the filters as B-panels of W_gᵀ
  // for the forward map, W_g as B-panels for the transposed map. Both layouts are packed at construction and W
  // is dropped (the panels are the stored weight: two copies, not three); a modified weight is a layout with the
  // modifier applied, written to `scratch` for one call and freed after it (one contiguous pass).
  const std::vector<float>& packedWeight(const Modifier& mod, bool forward, std::vector<float>& scratch) const;
  std::vector<float> packedForward_, packedTranspose_;
};

// Max pooling; padding is −∞. The gradient goes to the first maximum of each window in row-major
// order (PyTorch's tie-break); overlapping windows accumulate.
class MaxPoolLayer : public Layer {
 public:
  MaxPoolLayer(Shape inputShape, WindowGeometry geometry);
  const char* kind() const override { return "maxpool"; }
  // C·(H·Wo·kW + Ho·Wo·kH): a separable window, first along rows, then along columns.
  int64_t operations(const std::vector<Shape>& inputShapes, const Shape& outputShape) const override;
  Role role() const override { return Role::WinnerTakesAll; }
  Shape outputShape(const std::vector<Shape>& inputShapes) const override;
  Matrix forward(const std::vector<const Matrix*>& inputs) const override;
  std::vector<Matrix> gradient(const std::vector<const Matrix*>& inputs, const Matrix& output,
                               const Matrix& gradOutput) const override;
  int64_t workspaceBytes() const override;  // the separable kernel's row winners

 private:
  Shape inputShape_;  // C, H, W (C, 1, L for 1-D)
  bool oneDimensional_;
  WindowGeometry geometry_;
  int outHeight_, outWidth_;
};

// Average pooling with zero padding. countIncludePad: padded cells count in the divisor (but cells of a
// ceil-mode window beyond the padded input never do, as in PyTorch/ONNX).
class AvgPoolLayer : public Layer {
 public:
  AvgPoolLayer(Shape inputShape, WindowGeometry geometry, bool countIncludePad);
  const char* kind() const override { return "avgpool"; }
  // C·(H·Wo·kW + Ho·Wo·kH): a separable window, first along rows, then along columns.
  int64_t operations(const std::vector<Shape>& inputShapes, const Shape& outputShape) const override;
  Role role() const override { return Role::Mean; }
  Shape outputShape(const std::vector<Shape>& inputShapes) const override;
  Matrix forward(const std::vector<const Matrix*>& inputs) const override;
  std::vector<Matrix> gradient(const std::vector<const Matrix*>& inputs, const Matrix& output,
                               const Matrix& gradOutput) const override;
  int64_t workspaceBytes() const override;  // the separable kernel's partial sums

 private:
  Shape inputShape_;  // C, H, W (C, 1, L for 1-D)
  bool oneDimensional_;
  WindowGeometry geometry_;
  bool countIncludePad_;
  int outHeight_, outWidth_;
};

// Mean over each channel's values: C×… → C×1×… (any rank ≥ 2).
class GlobalAvgPoolLayer : public Layer {
 public:
  explicit GlobalAvgPoolLayer(Shape inputShape);
  const char* kind() const override { return "global-avgpool"; }
  // One addition per input value.
  int64_t operations(const std::vector<Shape>& inputShapes, const Shape& outputShape) const override;
  Role role() const override { return Role::Mean; }
  Shape outputShape(const std::vector<Shape>& inputShapes) const override;
  Matrix forward(const std::vector<const Matrix*>& inputs) const override;
  std::vector<Matrix> gradient(const std::vector<const Matrix*>& inputs, const Matrix& output,
                               const Matrix& gradOutput) const override;

 private:
  Shape inputShape_;  // C, …: forward and gradient see a column of C·(…) values
};

// Element-wise activations: ReLU, LeakyReLU (a = slope), Clip (a = min, b = max), Sigmoid, Tanh,
// HardSigmoid (max(0, min(1, a·x + b))), HardSwish (x·HardSigmoid with a = 1/6, b = 1/2), ELU (a = α),
// Softplus, SiLU (x·σ(x)), GELU (exact with erf, or the tanh approximation), PReLU (a slope per element), and
// the unfused pieces of normalisations and softmaxes as ONNX functions expand them: Exp, Log, Sqrt, Reciprocal.
enum class Activation {
  ReLU, LeakyReLU, Clip, Sigmoid, Tanh, HardSigmoid, HardSwish, Elu, Softplus, SiLU, GeluErf, GeluTanh, PReLU,
  Exp, Log, Sqrt, Reciprocal
};

class ActivationLayer : public Layer {
 public:
  explicit ActivationLayer(Activation activation, float a = 0.0f, float b = 0.0f);
  // PReLU: one slope per element of the input (the importer broadcasts ONNX's slope to the input's shape).
  explicit ActivationLayer(Vector slope);
  const char* kind() const override;
  Role role() const override { return Role::Elementwise; }
  Shape outputShape(const std::vector<Shape>& inputShapes) const override;
  Matrix forward(const std::vector<const Matrix*>& inputs) const override;
  std::vector<Matrix> gradient(const std::vector<const Matrix*>& inputs, const Matrix& output,
                               const Matrix& gradOutput) const override;
  int64_t memoryBytes() const override { return bytesOf(slope_); }

 private:
  Activation activation_;
  float a_, b_;
  Vector slope_;  // PReLU only
};

class ReLULayer : public ActivationLayer {
 public:
  ReLULayer() : ActivationLayer(Activation::ReLU) {}
};

// A batch-norm that had no linear layer to fold into: y = scale_c · x + shift_c per channel
// (scale = γ/√(σ²+ε), shift = β − μ·scale). Relevance passes through it (Zennit's layer map).
class BatchNormLayer : public Layer {
 public:
  BatchNormLayer(Vector scale, Vector shift, Shape inputShape);
  const char* kind() const override { return "batchnorm"; }
  Role role() const override { return Role::Elementwise; }
  Shape outputShape(const std::vector<Shape>& inputShapes) const override;
  Matrix forward(const std::vector<const Matrix*>& inputs) const override;
  std::vector<Matrix> gradient(const std::vector<const Matrix*>& inputs, const Matrix& output,
                               const Matrix& gradOutput) const override;
  int64_t memoryBytes() const override { return bytesOf(scale_) + bytesOf(shift_); }

 private:
  Vector scale_, shift_;
  Shape inputShape_;
};

enum class BinaryOp { Add, Sub, Mul, Div };

// a ∘ b of two activations whose per-sample shapes broadcast numpy-style (add, sub: the norm rule; mul: a
// product; div: a quotient), or (add, mul) a ∘ c of one activation and a constant already broadcast to its
// shape by the importer (add: ATTNLRP rule 6, the constant absorbs its share; mul: a scale, rule 4). The
// broadcast index maps are computed once, for the input shapes the layer is built for.
class BinaryLayer : public BroadcastingLayer {
 public:
  BinaryLayer(BinaryOp op, std::vector<Shape> inputShapes, Vector constant = Vector());
  const char* kind() const override;
  bool holdsInfinity() const override { return !constant_.allFinite(); }
  Role role() const override;
  Shape outputShape(const std::vector<Shape>& inputShapes) const override;
  Matrix forward(const std::vector<const Matrix*>& inputs) const override;
  std::vector<Matrix> gradient(const std::vector<const Matrix*>& inputs, const Matrix& output,
                               const Matrix& gradOutput) const override;
  Matrix reduceToInput(size_t k, const Matrix& atOutput) const override;
  int64_t memoryBytes() const override;

 private:
  // Input k spread to the output's shape.
  Matrix atOutput(size_t k, const Matrix& x) const;

  BinaryOp op_;
  std::vector<Shape> inputShapes_;
  Shape outputShape_;
  Vector constant_;
  std::vector<std::vector<int>> index_;  // per input: output element → input element (empty: same shape)
};

// Identity and dropout (inference), and reshape/flatten: the features keep their order, so all of them
// leave the data untouched and differ only in the shape they report.
class PassThroughLayer : public Layer {
 public:
  // `target` empty: identity (output shape = input shape); otherwise a reshape to `target`.
  explicit PassThroughLayer(Shape target = {}) : target_(std::move(target)) {}
  const char* kind() const override { return target_.empty() ? "identity" : "reshape"; }
  Role role() const override { return Role::Reindex; }
  Shape outputShape(const std::vector<Shape>& inputShapes) const override;
  Matrix forward(const std::vector<const Matrix*>& inputs) const override;
  std::vector<Matrix> gradient(const std::vector<const Matrix*>& inputs, const Matrix& output,
                               const Matrix& gradOutput) const override;

 private:
  Shape target_;
};

// A per-input constant (kind `input-constant`): its slice [offset, offset + size) of the per-input constants
// that follow each input (graph.hpp, kInputConstants), e.g. an attention mask the importer computed from
// the token ids. For LRP it is a constant (ATTNLRP rule 13): what reaches it is absorbed.
class InputConstantLayer : public Layer {
 public:
  InputConstantLayer(int offset, Shape shape) : offset_(offset), shape_(std::move(shape)) {}
  const char* kind() const override { return "input-constant"; }
  Role role() const override { return Role::Constant; }
  int offset() const { return offset_; }
  Shape outputShape(const std::vector<Shape>& inputShapes) const override;
  Matrix forward(const std::vector<const Matrix*>& inputs) const override;
  std::vector<Matrix> gradient(const std::vector<const Matrix*>& inputs, const Matrix& output,
                               const Matrix& gradOutput) const override;

 private:
  int offset_;
  Shape shape_;
};

}  // namespace lrp
