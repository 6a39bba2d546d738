// The thin Embind surface. It only converts between JavaScript values and engine types and turns
// engine errors into JavaScript Errors; all logic lives in lrp_core, all validation of user-facing
// options also in the JavaScript wrapper (web/src/index.js), which owns lifetimes and copies.
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include "lrp/explain.hpp"
#include "lrp/threads.hpp"

#include <memory>
#include <new>
#include <stdexcept>

using emscripten::val;

namespace {

std::vector<float> toFloats(const val& array) {
  if (array.isNull() || array.isUndefined()) return {};
  return emscripten::convertJSArrayToNumberVector<float>(array);
}

std::vector<int> toInts(const val& array) { return emscripten::convertJSArrayToNumberVector<int>(array); }

// Bytes of the Float32Arrays of a node's spec (its weights) before they are copied into the engine.
int64_t floatBytesOf(const val& spec) {
  int64_t bytes = 0;
  const val keys = val::global("Object").call<val>("keys", spec);
  const int count = keys["length"].as<int>();
  for (int i = 0; i < count; ++i) {
    const val value = spec[keys[i].as<std::string>()];
    if (value.instanceof(val::global("Float32Array"))) bytes += static_cast<int64_t>(value["byteLength"].as<double>());
  }
  return bytes;
}

// A node's spec (docs/layers.md) as the engine's LayerSpec: numbers and booleans, lists of numbers, float
// tensors (Float32Array, copied once into the spec) and strings; null and undefined leave a key absent.
lrp::LayerSpec toLayerSpec(const val& spec) {
  lrp::LayerSpec out;
  const val keys = val::global("Object").call<val>("keys", spec);
  const int count = keys["length"].as<int>();
  for (int i = 0; i < count; ++i) {
    const std::string key = keys[i].as<std::string>();
    const val value = spec[key];
    const std::string type = value.typeOf().as<std::string>();
    if (value.isNull() || value.isUndefined()) continue;
    if (type == "number") out.set(key, value.as<double>());
    else if (type == "boolean") out.set(key, value.as<bool>() ? 1.0 : 0.0);
    else if (type == "string") out.set(key, value.as<std::string>());
    else if (value.instanceof(val::global("Float32Array"))) out.set(key, emscripten::convertJSArrayToNumberVector<float>(value));
    else if (value.isArray() || value.instanceof(val::global("Int32Array")))
      out.set(key, emscripten::convertJSArrayToNumberVector<double>(value));
    else throw lrp::Error("option '" + key + "' has an unsupported type (" + type + ")");
  }
  return out;
}

// A fresh Float32Array that owns a copy: no view of the wasm heap ever reaches JavaScript.
val copyToFloat32Array(const float* data, size_t count) {
  return val::global("Float32Array").new_(emscripten::typed_memory_view(count, data));
}

[[noreturn]] void throwJsError(const std::string& message) {
  val::global("Error").new_(message).throw_();
  __builtin_unreachable();
}

// Runs `body`, converting any C++ exception into a JavaScript Error once the C++ frames are unwound. `what` names
// the operation for errors that do not say it themselves: an allocation that failed although the estimates let
// the call through (the backstop of the memory budget), or a standard library error with an internal message.
// Everything `body` allocated is freed by then, so the engine and every model keep working.
template <typename Body>
auto guarded(const std::string& what, Body&& body) -> decltype(body()) {
  std::string message;
  try {
    return body();
  } catch (const lrp::Error& e) {
    message = e.what();
  } catch (const std::bad_alloc&) {
    const lrp::MemoryStatus status = lrp::memoryStatus();
    message = what + " ran out of memory: the engine holds " + lrp::formatBytes(status.used) + " of its " +
              lrp::formatBytes(status.limit) + " (every loaded model and this call); dispose() models you no longer " +
              "need or pass fewer inputs at a time";
  } catch (const std::out_of_range&) {
    message = what + " failed: an index is out of range";
  } catch (const std::length_error&) {
    message = what + " failed: a tensor would be larger than the engine can address";
  } catch (const std::exception& e) {
    message = what + " failed inside the engine (" + e.what() + ")";
  } catch (...) {
    message = what + " failed inside the engine (unknown error)";
  }
  throwJsError(message);
}

std::string layerText(int id) { return "reading layer " + std::to_string(id); }

std::string inputsText(int batch) { return std::to_string(batch) + (batch == 1 ? " input" : " inputs"); }

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
  if (!e.attention.empty()) {
    val attention = val::array();
    for (const auto& layer : e.attention) {
      val entry = val::object();
      entry.set("index", layer.node);
      entry.set("weights", copyToFloat32Array(layer.values.data(), static_cast<size_t>(layer.values.size())));
      attention.call<void>("push", entry);
    }
    result.set("attention", attention);
  }
  return result;
}

class Model {
 public:
  explicit Model(std::vector<int> inputShape) : graph_(std::move(inputShape)) {}

  // The constructor's checks (a valid input shape) may throw: build through a guarded factory.
  static Model* create(const val& inputShape) {
    return guarded("creating a model", [&] { return new Model(toInts(inputShape)); });
  }

  // Builds one layer of a public kind from the importer's node description and appends it; returns its id.
  int addLayer(const std::string& kind, const std::string& name, const val& inputs, const val& spec) {
    return guarded("loading layer '" + name + "' (" + kind + ")", [&] {
      // The spec's tensors are copied into the engine (then the layer copies or packs them: Graph::add checks
      // that): refuse before the copy.
      lrp::requireMemory("loading layer '" + name + "' (" + kind + ")", lrp::MemoryNeed{0, 0, 0, floatBytesOf(spec)});
      return graph_.add(name, kind, toLayerSpec(spec), toInts(inputs));
    });
  }

  int inputSize() const { return graph_.inputSize(); }
  int constantsSize() const { return graph_.constantsSize(); }
  bool tokenInput() const { return graph_.tokenInput(); }
  int outputSize() const { return guarded("reading the model's output size", [&] { return graph_.outputSize(); }); }
  // Bytes the model holds in the engine (parameters, packed weights, maps, caches).
  double memoryBytes() const { return static_cast<double>(graph_.memoryBytes()); }
  // How many of `count` inputs one explain (or predict: options null) call should take; throws when none fits.
  int batchLimit(const val& options, int count) const {
    return guarded(options.isNull() ? "predict on 1 input" : "explain of 1 input", [&] {
      if (options.isNull()) return static_cast<int>(lrp::predictBatchLimit(graph_, count));
      return static_cast<int>(lrp::explainBatchLimit(graph_, toRequest(options), count));
    });
  }
  int layerCount() const { return static_cast<int>(graph_.nodes().size()); }
  std::string layerName(int id) const { return guarded(layerText(id), [&] { return graph_.node(id).name; }); }
  std::string layerKind(int id) const {
    return guarded(layerText(id), [&] { return std::string(graph_.node(id).layer->kind()); });
  }
  val layerShape(int id) const { return guarded(layerText(id), [&] { return val::array(graph_.node(id).outputShape); }); }
  // Work estimates for one sample's forward pass (Layer::operations), as doubles: exact below 2^53.
  double operations() const { return static_cast<double>(graph_.operations()); }
  double layerOperations(int id) const {
    return guarded(layerText(id), [&] { return static_cast<double>(graph_.node(id).operations); });
  }
  int costliestLayer() const { return guarded("finding the costliest layer", [&] { return graph_.costliestNode(); }); }

  // Logits of `batch` inputs stored one after another.
  val predict(const val& inputs, int batch) const {
    return guarded("predict on " + inputsText(batch), [&] {
      const lrp::Matrix logits = graph_.predict(toBatch(inputs, batch));
      return copyToFloat32Array(logits.data(), static_cast<size_t>(logits.size()));
    });
  }

  // An array of `batch` explanations; options are normalised by the JavaScript wrapper.
  val explain(const val& inputs, int batch, const val& options) const {
    return guarded("explain (" + options["method"].as<std::string>() + ") of " + inputsText(batch), [&] {
      const lrp::Matrix x = toBatch(inputs, batch);
      const std::vector<lrp::Explanation> results = lrp::explainBatch(graph_, x, toRequest(options));
      val list = val::array();
      for (const auto& e : results) list.call<void>("push", toJs(e));
      return list;
    });
  }

 private:
  lrp::Matrix toBatch(const val& inputs, int batch) const {
    // Each column: one input, then its per-input constants (graph.hpp).
    const std::vector<float> values = toFloats(inputs);
    if (batch < 1 || static_cast<int64_t>(values.size()) != int64_t{graph_.columnSize()} * batch)
      throw lrp::Error("input has " + std::to_string(values.size()) + " values, expected " +
                       std::to_string(int64_t{graph_.columnSize()} * std::max(batch, 1)));
    return Eigen::Map<const lrp::Matrix>(values.data(), graph_.columnSize(), batch);
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
    request.attention = options["attention"].as<bool>();
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
      params.signalProducts = options["product"].as<std::string>() == "signal";
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

// Caps the engine's memory (bytes; 0 removes the cap) and returns the effective limit.
double setMemoryLimit(double bytes) { return static_cast<double>(lrp::setMemoryLimit(static_cast<int64_t>(bytes))); }

// A whole model before any of it is copied in: its weights alone (`bytes`, of `layers` layers) must fit, so that
// a model far too big is refused with its own size, not with the need of the layer where the memory ran out.
void requireModelFits(double bytes, int layers) {
  guarded("loading a model", [&] {
    lrp::requireMemory("loading a model whose weights take " + lrp::formatBytes(static_cast<int64_t>(bytes)) + " (" +
                           std::to_string(layers) + " layers)",
                       lrp::MemoryNeed{0, 0, 0, static_cast<int64_t>(bytes)});
  });
}

val memoryStatus() {
  const lrp::MemoryStatus status = lrp::memoryStatus();
  val result = val::object();
  result.set("limit", static_cast<double>(status.limit));
  result.set("used", static_cast<double>(status.used));
  result.set("available", static_cast<double>(status.available()));
  return result;
}

std::string compositeList() {
  std::string names;
  for (const auto& name : lrp::compositeNames()) names += (names.empty() ? "" : ",") + name;
  return names;
}

std::string kindList() {
  std::string names;
  for (const auto& name : lrp::layerKinds()) names += (names.empty() ? "" : ",") + name;
  return names;
}

}  // namespace

EMSCRIPTEN_BINDINGS(lrp_engine) {
  emscripten::class_<Model>("Model")
      .constructor(&Model::create, emscripten::allow_raw_pointers())
      .function("addLayer", &Model::addLayer)
      .function("inputSize", &Model::inputSize)
      .function("constantsSize", &Model::constantsSize)
      .function("tokenInput", &Model::tokenInput)
      .function("outputSize", &Model::outputSize)
      .function("layerCount", &Model::layerCount)
      .function("layerName", &Model::layerName)
      .function("layerKind", &Model::layerKind)
      .function("layerShape", &Model::layerShape)
      .function("operations", &Model::operations)
      .function("layerOperations", &Model::layerOperations)
      .function("costliestLayer", &Model::costliestLayer)
      .function("memoryBytes", &Model::memoryBytes)
      .function("batchLimit", &Model::batchLimit)
      .function("predict", &Model::predict)
      .function("explain", &Model::explain);
  emscripten::function("compositeNames", &compositeList);
  emscripten::function("setMemoryLimit", &setMemoryLimit);
  emscripten::function("memoryStatus", &memoryStatus);
  emscripten::function("requireModelFits", &requireModelFits);
  emscripten::function("layerKinds", &kindList);
  // Threads: set once by the wrapper when the engine starts (1 in the single-thread build).
  emscripten::function("setThreadCount", +[](int n) { guarded("setting the thread count", [&] { lrp::setThreadCount(n); }); });
  emscripten::function("threadCount", &lrp::threadCount);
}
