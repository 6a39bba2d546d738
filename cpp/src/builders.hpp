// The builders of the layer table (internal header): one function per public layer kind, defined next to
// its layer class in the family's file, listed once in layer_registry.cpp. A builder reads its options
// from the spec (docs/layers.md), checks their ranges and meaning, and returns the layer.
#pragma once

#include "lrp/layers.hpp"

namespace lrp {

using LayerBuilder = std::unique_ptr<Layer> (*)(LayerSpec& spec, const std::vector<Shape>& inputShapes);

// The one input shape of a single-input layer; throws naming the kind otherwise.
const Shape& singleInput(const char* kind, const std::vector<Shape>& inputShapes);

// A parameter tensor given row-major (one row per output) as an Eigen (column-major) matrix.
Matrix rowMajorMatrix(const std::vector<float>& values, int64_t rows, int64_t cols, const char* what);
Vector toVector(const std::vector<float>& values);
// The window of a conv or pooling layer over a C×L (1-D) or C×H×W (2-D) input: `kernel`, `strides`, `pads`
// ([begin…, end…]), `dilations` (default 1), `ceilMode` (default false).
WindowGeometry windowGeometry(const LayerSpec& spec, const Shape& input);

// dense.cpp, conv.cpp
std::unique_ptr<Layer> buildDense(LayerSpec& spec, const std::vector<Shape>& inputShapes);
std::unique_ptr<Layer> buildConv(LayerSpec& spec, const std::vector<Shape>& inputShapes);
// pooling.cpp
std::unique_ptr<Layer> buildMaxPool(LayerSpec& spec, const std::vector<Shape>& inputShapes);
std::unique_ptr<Layer> buildAvgPool(LayerSpec& spec, const std::vector<Shape>& inputShapes);
std::unique_ptr<Layer> buildGlobalAvgPool(LayerSpec& spec, const std::vector<Shape>& inputShapes);
// elementwise.cpp. An activation without options (relu, sigmoid, tanh, hard-swish, softplus, silu, and the
// exp, log, sqrt, reciprocal that unfused ONNX expansions of Softmax and LayerNormalization leave):
template <Activation A>
std::unique_ptr<Layer> buildActivation(LayerSpec&, const std::vector<Shape>& inputShapes) {
  auto layer = std::make_unique<ActivationLayer>(A);
  singleInput(layer->kind(), inputShapes);
  return layer;
}
std::unique_ptr<Layer> buildLeakyReLU(LayerSpec& spec, const std::vector<Shape>& inputShapes);
std::unique_ptr<Layer> buildClip(LayerSpec& spec, const std::vector<Shape>& inputShapes);
std::unique_ptr<Layer> buildBatchNorm(LayerSpec& spec, const std::vector<Shape>& inputShapes);
std::unique_ptr<Layer> buildReshape(LayerSpec& spec, const std::vector<Shape>& inputShapes);
std::unique_ptr<Layer> buildIdentity(LayerSpec& spec, const std::vector<Shape>& inputShapes);
// elementwise.cpp: the activations of the math family
std::unique_ptr<Layer> buildHardSigmoid(LayerSpec& spec, const std::vector<Shape>& inputShapes);
std::unique_ptr<Layer> buildElu(LayerSpec& spec, const std::vector<Shape>& inputShapes);
std::unique_ptr<Layer> buildGelu(LayerSpec& spec, const std::vector<Shape>& inputShapes);
std::unique_ptr<Layer> buildPReLU(LayerSpec& spec, const std::vector<Shape>& inputShapes);
// binary.cpp
std::unique_ptr<Layer> buildAdd(LayerSpec& spec, const std::vector<Shape>& inputShapes);
std::unique_ptr<Layer> buildSub(LayerSpec& spec, const std::vector<Shape>& inputShapes);
std::unique_ptr<Layer> buildMul(LayerSpec& spec, const std::vector<Shape>& inputShapes);
std::unique_ptr<Layer> buildDiv(LayerSpec& spec, const std::vector<Shape>& inputShapes);
// reduce.cpp
std::unique_ptr<Layer> buildReduceMean(LayerSpec& spec, const std::vector<Shape>& inputShapes);
std::unique_ptr<Layer> buildReduceSum(LayerSpec& spec, const std::vector<Shape>& inputShapes);
std::unique_ptr<Layer> buildReduceMax(LayerSpec& spec, const std::vector<Shape>& inputShapes);
std::unique_ptr<Layer> buildGlobalMaxPool(LayerSpec& spec, const std::vector<Shape>& inputShapes);
// mask.cpp
std::unique_ptr<Layer> buildInputConstant(LayerSpec& spec, const std::vector<Shape>& inputShapes);
std::unique_ptr<Layer> buildWhere(LayerSpec& spec, const std::vector<Shape>& inputShapes);
// softmax.cpp, layernorm.cpp, matmul.cpp
std::unique_ptr<Layer> buildSoftmax(LayerSpec& spec, const std::vector<Shape>& inputShapes);
std::unique_ptr<Layer> buildLayerNorm(LayerSpec& spec, const std::vector<Shape>& inputShapes);
std::unique_ptr<Layer> buildMatMul(LayerSpec& spec, const std::vector<Shape>& inputShapes);
// reindex.cpp
std::unique_ptr<Layer> buildTranspose(LayerSpec& spec, const std::vector<Shape>& inputShapes);
std::unique_ptr<Layer> buildSlice(LayerSpec& spec, const std::vector<Shape>& inputShapes);
std::unique_ptr<Layer> buildGather(LayerSpec& spec, const std::vector<Shape>& inputShapes);
std::unique_ptr<Layer> buildConcat(LayerSpec& spec, const std::vector<Shape>& inputShapes);
std::unique_ptr<Layer> buildExpand(LayerSpec& spec, const std::vector<Shape>& inputShapes);
std::unique_ptr<Layer> buildPad(LayerSpec& spec, const std::vector<Shape>& inputShapes);
// embedding.cpp
std::unique_ptr<Layer> buildEmbedding(LayerSpec& spec, const std::vector<Shape>& inputShapes);

}  // namespace lrp
