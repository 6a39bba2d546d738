// The thin Embind surface. It only converts between JavaScript values and engine types and turns
// engine errors into JavaScript Errors; all logic lives in lrp_core, all validation of user-facing
// options also in the JavaScript wrapper (web/src/index.js), which owns lifetimes and copies.
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include "lrp/explain.hpp"

#include <memory>

using emscripten::val;

namespace {

std::vector<float> toFloats(const val& array) {
  if (array.isNull() || array.isUndefined()) return {};
  return emscripten::convertJSArrayToNumberVector<float>(array);
}

std::vector<int> toInts(const val& array) { return emscripten::convertJSArrayToNumberVector<int>(array); }

lrp::Vector toVector(const val& array) {
  const std::vector<float> values = toFloats(array);
  return Eigen::Map<const lrp::Vector>(values.data(), static_cast<Eigen::Index>(values.size()));
}

// The importer gives parameter tensors row-major (one row per output); Eigen stores column-major.
lrp::Matrix rowMajorMatrix(const val& array, int64_t rows, int64_t cols) {
  const std::vector<float> values = toFloats(array);
  if (rows <= 0 || cols <= 0 || static_cast<int64_t>(values.size()) != rows * cols)
    throw lrp::Error("weight has " + std::to_string(values.size()) + " values, expected " + std::to_string(rows) + " × " +
                     std::to_string(cols));
  return Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(values.data(), rows, cols);
}

lrp::WindowGeometry toGeometry(const val& spec) {
  const std::vector<int> kernel = toInts(spec["kernel"]), strides = toInts(spec["strides"]), pads = toInts(spec["pads"]),
                         dilations = toInts(spec["dilations"]);
  if (kernel.size() != 2 || strides.size() != 2 || pads.size() != 4 || dilations.size() != 2)
    throw lrp::Error("a 2-D window needs kernel[2], strides[2], pads[4] and dilations[2]");
  lrp::WindowGeometry g;
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
  const val ceilMode = spec["ceilMode"];
  g.ceilMode = !ceilMode.isUndefined() && ceilMode.as<bool>();
  return g;
}

lrp::LayerKind activationKind(const std::string& kind) {
  if (kind == "relu") return lrp::LayerKind::ReLU;
  if (kind == "leakyrelu") return lrp::LayerKind::LeakyReLU;
  if (kind == "clip") return lrp::LayerKind::Clip;
  if (kind == "sigmoid") return lrp::LayerKind::Sigmoid;
  if (kind == "tanh") return lrp::LayerKind::Tanh;
  throw lrp::Error("unknown activation '" + kind + "'");
}

// A fresh Float32Array that owns a copy: no view of the wasm heap ever reaches JavaScript.
val copyToFloat32Array(const float* data, size_t count) {
  return val::global("Float32Array").new_(emscripten::typed_memory_view(count, data));
}

[[noreturn]] void throwJsError(const std::string& message) {
  val::global("Error").new_(message).throw_();
  __builtin_unreachable();
}

// Runs `body`, converting any C++ exception into a JavaScript Error once the C++ frames are unwound.
template <typename Body>
auto guarded(Body&& body) -> decltype(body()) {
  std::string message;
  try {
    return body();
  } catch (const std::exception& e) {
    message = e.what();
  } catch (...) {
    message = "unknown engine error";
  }
  throwJsError(message);
}

lrp::Rule toRule(const val& spec) {
  lrp::Rule rule;
  rule.kind = lrp::ruleKindFromName(spec["kind"].as<std::string>());
  rule.epsilon = spec["epsilon"].as<float>();
  rule.stabilizer = spec["stabilizer"].as<float>();
  rule.gamma = spec["gamma"].as<float>();
  rule.alpha = spec["alpha"].as<float>();
  rule.beta = spec["beta"].as<float>();
  rule.low = toFloats(spec["low"]);
  rule.high = toFloats(spec["high"]);
  rule.zeroBias = spec["zeroBias"].as<bool>();
  return rule;
}

lrp::RuleOverride toOverride(const val& spec) {
  using S = lrp::RuleOverride::Selector;
  const std::string selector = spec["selector"].as<std::string>();
  lrp::RuleOverride o;
  if (selector == "first") o.selector = S::First;
  else if (selector == "dense") o.selector = S::Dense;
  else if (selector == "conv") o.selector = S::Conv;
  else if (selector == "layer") o.selector = S::Layer;
  else throw lrp::Error("unknown rule selector '" + selector + "'");
  o.layer = spec["layer"].as<int>();
  o.rule = toRule(spec["rule"]);
  return o;
}

val layerReport(const std::vector<lrp::LayerRelevance>& layers) {
  val list = val::array();
  for (const auto& layer : layers) {
    val entry = val::object();
    entry.set("index", layer.node);
    entry.set("relevance", copyToFloat32Array(layer.relevance.data(), static_cast<size_t>(layer.relevance.size())));
    entry.set("sum", layer.sum);
    entry.set("inputSum", layer.inputSum);
    list.call<void>("push", entry);
  }
  return list;
}

val toJs(const lrp::Explanation& e) {
  val result = val::object();
  result.set("relevance", copyToFloat32Array(e.relevance.data(), static_cast<size_t>(e.relevance.size())));
  result.set("output", copyToFloat32Array(e.output.data(), static_cast<size_t>(e.output.size())));
  result.set("target", e.target);
  if (!e.layers.empty()) result.set("layers", layerReport(e.layers));
  return result;
}

class Model {
 public:
  explicit Model(std::vector<int> inputShape) : graph_(std::move(inputShape)) {}

  // The constructor's checks (a valid input shape) may throw: build through a guarded factory.
  static Model* create(const val& inputShape) {
    return guarded([&] { return new Model(toInts(inputShape)); });
  }

  // Each add… call builds one layer from the importer's node description and appends it. Errors name the node.

  int addDense(const std::string& name, int input, int outFeatures, int inFeatures, const val& weight, const val& bias) {
    return addLayer(name, {input}, [&] {
      return std::make_unique<lrp::DenseLayer>(rowMajorMatrix(weight, outFeatures, inFeatures), toVector(bias));
    });
  }

  // spec: { kernel: [kH, kW], strides, pads: [top, left, bottom, right], dilations, group }
  int addConv(const std::string& name, int input, int outChannels, const val& weight, const val& bias, const val& spec) {
    return addLayer(name, {input}, [&] {
      const lrp::Shape in = shapeOf(input);
      const lrp::WindowGeometry geometry = toGeometry(spec);
      const int group = spec["group"].as<int>();
      if (in.size() != 3 || group <= 0 || in[0] % group != 0)
        throw lrp::Error("conv needs a C×H×W input whose channels divide into " + std::to_string(group) + " groups, got " +
                         lrp::shapeToString(in));
      const int64_t perFilter = int64_t{in[0] / group} * geometry.kernelH * geometry.kernelW;
      return std::make_unique<lrp::Conv2DLayer>(rowMajorMatrix(weight, outChannels, perFilter), toVector(bias), in,
                                                geometry, group);
    });
  }

  // spec: { kernel, strides, pads, dilations, ceilMode, countIncludePad }
  int addPool(const std::string& name, int input, const std::string& kind, const val& spec) {
    return addLayer(name, {input}, [&]() -> std::unique_ptr<lrp::Layer> {
      if (kind == "maxpool") return std::make_unique<lrp::MaxPoolLayer>(shapeOf(input), toGeometry(spec));
      if (kind == "avgpool")
        return std::make_unique<lrp::AvgPoolLayer>(shapeOf(input), toGeometry(spec), spec["countIncludePad"].as<bool>());
      if (kind == "globalavgpool") return std::make_unique<lrp::GlobalAvgPoolLayer>(shapeOf(input));
      throw lrp::Error("unknown pooling '" + kind + "'");
    });
  }

  // kind: relu, leakyrelu (a = slope), clip (a = min, b = max), sigmoid, tanh
  int addActivation(const std::string& name, int input, const std::string& kind, float a, float b) {
    return addLayer(name, {input}, [&] { return std::make_unique<lrp::ActivationLayer>(activationKind(kind), a, b); });
  }

  int addBatchNorm(const std::string& name, int input, const val& scale, const val& shift) {
    return addLayer(name, {input},
                    [&] { return std::make_unique<lrp::BatchNormLayer>(toVector(scale), toVector(shift), shapeOf(input)); });
  }

  // Two inputs (a residual sum), or one input and a constant of the output's size.
  int addAdd(const std::string& name, const val& inputs, const val& constant) {
    return addLayer(name, toInts(inputs), [&] { return std::make_unique<lrp::AddLayer>(toVector(constant)); });
  }

  int addConcat(const std::string& name, const val& inputs) {
    return addLayer(name, toInts(inputs), [&] { return std::make_unique<lrp::ConcatLayer>(); });
  }

  // pads: [top, left, bottom, right]
  int addPad(const std::string& name, int input, const val& pads, float value) {
    return addLayer(name, {input}, [&] {
      const std::vector<int> p = toInts(pads);
      if (p.size() != 4) throw lrp::Error("pad needs 4 amounts (top, left, bottom, right)");
      return std::make_unique<lrp::PadLayer>(shapeOf(input), p[0], p[1], p[2], p[3], value);
    });
  }

  int addIdentity(const std::string& name, int input) {
    return addLayer(name, {input}, [&] { return std::make_unique<lrp::PassThroughLayer>(lrp::LayerKind::Identity); });
  }

  int addReshape(const std::string& name, int input, const val& shape) {
    return addLayer(name, {input},
                    [&] { return std::make_unique<lrp::PassThroughLayer>(lrp::LayerKind::Reshape, toInts(shape)); });
  }

  int inputSize() const { return graph_.inputSize(); }
  int outputSize() const { return guarded([&] { return graph_.outputSize(); }); }
  int layerCount() const { return static_cast<int>(graph_.nodes().size()); }
  std::string layerName(int id) const { return graph_.node(id).name; }
  std::string layerKind(int id) const { return lrp::layerKindName(graph_.node(id).layer->kind()); }
  val layerShape(int id) const { return val::array(graph_.node(id).outputShape); }

  // Logits of `batch` inputs stored one after another.
  val predict(const val& inputs, int batch) const {
    return guarded([&] {
      const lrp::Matrix logits = graph_.predict(toBatch(inputs, batch));
      return copyToFloat32Array(logits.data(), static_cast<size_t>(logits.size()));
    });
  }

  // An array of `batch` explanations; options are normalised by the JavaScript wrapper.
  val explain(const val& inputs, int batch, const val& options) const {
    return guarded([&] {
      const lrp::Matrix x = toBatch(inputs, batch);
      const std::vector<lrp::Explanation> results = lrp::explainBatch(graph_, x, toRequest(options));
      val list = val::array();
      for (const auto& e : results) list.call<void>("push", toJs(e));
      return list;
    });
  }

 private:
  template <typename MakeLayer>
  int addLayer(const std::string& name, std::vector<int> inputs, MakeLayer&& makeLayer) {
    return guarded([&] {
      for (int input : inputs)
        if (input != lrp::kGraphInput && (input < 0 || input >= static_cast<int>(graph_.nodes().size())))
          throw lrp::Error("node '" + name + "' refers to unknown input node " + std::to_string(input));
      std::unique_ptr<lrp::Layer> layer;
      try {
        layer = makeLayer();
      } catch (const lrp::Error& e) {
        throw lrp::Error("node '" + name + "': " + e.what());
      }
      return graph_.add(name, std::move(layer), std::move(inputs));
    });
  }

  const lrp::Shape& shapeOf(int input) const {
    return input == lrp::kGraphInput ? graph_.inputShape() : graph_.node(input).outputShape;
  }

  lrp::Matrix toBatch(const val& inputs, int batch) const {
    const std::vector<float> values = toFloats(inputs);
    if (batch < 1 || static_cast<int64_t>(values.size()) != int64_t{graph_.inputSize()} * batch)
      throw lrp::Error("input has " + std::to_string(values.size()) + " values, expected " +
                       std::to_string(int64_t{graph_.inputSize()} * std::max(batch, 1)));
    return Eigen::Map<const lrp::Matrix>(values.data(), graph_.inputSize(), batch);
  }

  lrp::ExplainRequest toRequest(const val& options) const {
    lrp::ExplainRequest request;
    request.method = lrp::methodFromName(options["method"].as<std::string>());
    request.target = options["target"].as<int>();
    request.outputRelevance = toFloats(options["outputRelevance"]);
    request.steps = options["steps"].as<int>();
    request.samples = options["samples"].as<int>();
    request.noiseLevel = options["noiseLevel"].as<float>();
    request.seed = options["seed"].as<uint32_t>();
    request.layerRelevance = options["layerRelevance"].as<bool>();
    request.restrictLayer = options["restrictLayer"].as<int>();
    request.restrictUnits = toInts(options["restrictUnits"]);
    if (request.method == lrp::Method::LRP) {
      lrp::CompositeParams params;
      params.epsilon = options["epsilon"].as<float>();
      params.stabilizer = options["stabilizer"].as<float>();
      params.gamma = options["gamma"].as<float>();
      params.low = toFloats(options["low"]);
      params.high = toFloats(options["high"]);
      params.zeroBias = options["zeroBias"].as<bool>();
      std::vector<lrp::RuleOverride> overrides;
      const val list = options["overrides"];
      const int count = list["length"].as<int>();
      for (int i = 0; i < count; ++i) overrides.push_back(toOverride(list[i]));
      request.rules = lrp::resolveRules(graph_, options["composite"].as<std::string>(), params, overrides);
    }
    return request;
  }

  lrp::Graph graph_;
};

std::string compositeList() {
  std::string names;
  for (const auto& name : lrp::compositeNames()) names += (names.empty() ? "" : ",") + name;
  return names;
}

}  // namespace

EMSCRIPTEN_BINDINGS(lrp_engine) {
  emscripten::class_<Model>("Model")
      .constructor(&Model::create, emscripten::allow_raw_pointers())
      .function("addDense", &Model::addDense)
      .function("addConv", &Model::addConv)
      .function("addPool", &Model::addPool)
      .function("addActivation", &Model::addActivation)
      .function("addBatchNorm", &Model::addBatchNorm)
      .function("addAdd", &Model::addAdd)
      .function("addConcat", &Model::addConcat)
      .function("addPad", &Model::addPad)
      .function("addIdentity", &Model::addIdentity)
      .function("addReshape", &Model::addReshape)
      .function("inputSize", &Model::inputSize)
      .function("outputSize", &Model::outputSize)
      .function("layerCount", &Model::layerCount)
      .function("layerName", &Model::layerName)
      .function("layerKind", &Model::layerKind)
      .function("layerShape", &Model::layerShape)
      .function("predict", &Model::predict)
      .function("explain", &Model::explain);
  emscripten::function("compositeNames", &compositeList);
}
