// The layer table: every public layer kind and its builder. Adding a layer kind is one row here (plus
// its class and builder in the family's file; see docs/layers.md).
#include "builders.hpp"

namespace lrp {
namespace {

struct LayerEntry {
  const char* kind;
  LayerBuilder build;
};

const LayerEntry kLayers[] = {
    {"dense", buildDense},
    {"conv", buildConv},
    {"maxpool", buildMaxPool},
    {"avgpool", buildAvgPool},
    {"global-avgpool", buildGlobalAvgPool},
    {"relu", buildActivation<Activation::ReLU>},
    {"leaky-relu", buildLeakyReLU},
    {"clip", buildClip},
    {"sigmoid", buildActivation<Activation::Sigmoid>},
    {"tanh", buildActivation<Activation::Tanh>},
    {"batchnorm", buildBatchNorm},
    {"global-maxpool", buildGlobalMaxPool},
    {"hard-sigmoid", buildHardSigmoid},
    {"hard-swish", buildActivation<Activation::HardSwish>},
    {"elu", buildElu},
    {"softplus", buildActivation<Activation::Softplus>},
    {"silu", buildActivation<Activation::SiLU>},
    {"gelu", buildGelu},
    {"exp", buildActivation<Activation::Exp>},
    {"log", buildActivation<Activation::Log>},
    {"sqrt", buildActivation<Activation::Sqrt>},
    {"reciprocal", buildActivation<Activation::Reciprocal>},
    {"prelu", buildPReLU},
    {"add", buildAdd},
    {"sub", buildSub},
    {"mul", buildMul},
    {"div", buildDiv},
    {"reduce-mean", buildReduceMean},
    {"reduce-sum", buildReduceSum},
    {"reduce-max", buildReduceMax},
    {"softmax", buildSoftmax},
    {"layernorm", buildLayerNorm},
    {"matmul", buildMatMul},
    {"concat", buildConcat},
    {"pad", buildPad},
    {"transpose", buildTranspose},
    {"slice", buildSlice},
    {"gather", buildGather},
    {"expand", buildExpand},
    {"embedding", buildEmbedding},
    {"input-constant", buildInputConstant},
    {"where", buildWhere},
    {"reshape", buildReshape},
    {"identity", buildIdentity},
};

}  // namespace

int64_t buildBytes(const std::string& kind, const LayerSpec& spec) {
  const int64_t tensors = spec.floatBytes();
  // A conv packs its weight into two panel layouts (a direct one copies it once: fewer).
  if (kind == "conv") return 2 * tensors;
  // A dense layer given its weight column-major moves that buffer in and copies only its bias.
  if (kind == "dense" && spec.has("weightColumns"))
    return tensors - static_cast<int64_t>(spec.floats("weightColumns").size() * sizeof(float));
  return tensors;  // every other builder copies its tensors once (into Eigen vectors and matrices)
}

const Shape& singleInput(const char* kind, const std::vector<Shape>& inputShapes) {
  if (inputShapes.size() != 1)
    throw Error(std::string(kind) + " takes one input, got " + std::to_string(inputShapes.size()));
  return inputShapes[0];
}

Matrix rowMajorMatrix(const std::vector<float>& values, int64_t rows, int64_t cols, const char* what) {
  if (rows <= 0 || cols <= 0 || static_cast<int64_t>(values.size()) != rows * cols)
    throw Error(std::string(what) + " has " + std::to_string(values.size()) + " values, expected " + std::to_string(rows) +
                " × " + std::to_string(cols));
  using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  return Eigen::Map<const RowMajor>(values.data(), rows, cols);
}

Vector toVector(const std::vector<float>& values) {
  return Eigen::Map<const Vector>(values.data(), static_cast<Eigen::Index>(values.size()));
}

WindowGeometry windowGeometry(const LayerSpec& spec, const Shape& input) {
  if (input.size() != 2 && input.size() != 3)
    throw Error("expects a C×L or C×H×W input, got shape " + shapeToString(input));
  const size_t axes = input.size() - 1;
  const std::vector<int> kernel = spec.integers("kernel");
  const std::vector<int> strides = spec.has("strides") ? spec.integers("strides") : std::vector<int>(axes, 1);
  const std::vector<int> pads = spec.has("pads") ? spec.integers("pads") : std::vector<int>(2 * axes, 0);
  const std::vector<int> dilations = spec.has("dilations") ? spec.integers("dilations") : std::vector<int>(axes, 1);
  if (kernel.size() != axes || strides.size() != axes || pads.size() != 2 * axes || dilations.size() != axes)
    throw Error("a " + std::to_string(axes) + "-D window needs kernel[" + std::to_string(axes) + "], strides[" +
                std::to_string(axes) + "], pads[" + std::to_string(2 * axes) + "] and dilations[" + std::to_string(axes) +
                "] for input " + shapeToString(input));
  WindowGeometry g;
  if (axes == 1) {  // 1-D: the image [C, 1, L] with a 1×k window
    g.kernelW = kernel[0];
    g.strideW = strides[0];
    g.padLeft = pads[0];
    g.padRight = pads[1];
    g.dilationW = dilations[0];
  } else {
    g.kernelH = kernel[0];
    g.kernelW = kernel[1];
    g.strideH = strides[0];
    g.strideW = strides[1];
    g.padTop = pads[0];
    g.padLeft = pads[1];
    g.padBottom = pads[2];
    g.padRight = pads[3];
    g.dilationH = dilations[0];
    g.dilationW = dilations[1];
  }
  g.ceilMode = spec.flag("ceilMode");
  return g;
}

std::vector<std::string> layerKinds() {
  std::vector<std::string> kinds;
  for (const auto& entry : kLayers) kinds.emplace_back(entry.kind);
  return kinds;
}

std::unique_ptr<Layer> buildLayer(const std::string& kind, LayerSpec& spec, const std::vector<Shape>& inputShapes) {
  for (const auto& entry : kLayers)
    if (kind == entry.kind) return entry.build(spec, inputShapes);
  std::string known;
  for (const auto& entry : kLayers) known += std::string(known.empty() ? "" : ", ") + entry.kind;
  throw Error("unknown layer kind '" + kind + "' (known: " + known + ")");
}

}  // namespace lrp
