// Explanation methods. LRP walks the graph backwards applying each node's rule; the gradient methods
// walk it backwards with each layer's vector-Jacobian product. Fan-out relevance is summed.
#include "lrp/explain.hpp"

#include "relevance_kernel.hpp"
#include "special_rules.hpp"

#include "parallel.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>

namespace lrp {
namespace {

// Batches run in chunks (explainBatch's inputs in the wrapper, the points of integrated gradients and SmoothGrad
// here) whose estimated peak stays within a working set: kWorkingSet, or half of what the engine has left if that
// is less, and always at least one sample. Results do not depend on the chunk size: every sample's arithmetic is
// its own, and the points' gradients are summed one after another in their order.
constexpr int64_t kWorkingSet = int64_t{32} << 20;

bool usesPoints(Method method) { return method == Method::IntegratedGradients || method == Method::SmoothGrad; }

int pointCount(const ExplainRequest& request) {
  return request.method == Method::IntegratedGradients ? request.steps : request.samples;
}

// The largest n in [1, most] with cost(n) <= max(cost(1), the working set).
template <typename Cost>
int64_t largestFitting(int64_t most, Cost&& cost) {
  const int64_t atLeast = availableAtLeast();
  const int64_t available = atLeast / 2 >= kWorkingSet ? atLeast : memoryStatus().available();
  const int64_t cap = std::max(cost(1), std::min(kWorkingSet, available / 2));
  int64_t low = 1, high = std::max<int64_t>(most, 1);
  while (low < high) {
    const int64_t mid = low + (high - low + 1) / 2;
    if (cost(mid) <= cap) low = mid;
    else high = mid - 1;
  }
  return low;
}

// Points per forward/backward pass of integrated gradients and SmoothGrad.
int64_t pointChunk(const Graph& graph, const ExplainRequest& request) {
  return largestFitting(pointCount(request), [&](int64_t n) { return graph.backwardNeed(n).total(); });
}

// The values of one point: the input, or for token models the embedding lookup's output.
int64_t pointSize(const Graph& graph) {
  if (!graph.tokenInput()) return graph.inputSize();
  for (const Node& node : graph.nodes())
    if (node.layer->role() == Role::Embedding) return shapeSize(node.outputShape);
  return graph.inputSize();
}

std::string callName(const ExplainRequest& request, int64_t batch) {
  static const char* names[] = {"lrp", "gradient", "gradient-x-input", "integrated-gradients", "smoothgrad"};
  std::string name = std::string("explain (") + names[static_cast<int>(request.method)];
  if (usesPoints(request.method)) {
    const int count = pointCount(request);
    name += ", " + std::to_string(count) + (request.method == Method::SmoothGrad ? " sample" : " step") + (count == 1 ? "" : "s");
  }
  return name + ") for a batch of " + std::to_string(batch);
}

void checkRequest(const Graph& graph, const ExplainRequest& request) {
  const int outputs = graph.outputSize();
  if (request.target != kPredictedTarget && (request.target < 0 || request.target >= outputs))
    throw Error("target " + std::to_string(request.target) + " is out of range (the model has " +
                std::to_string(outputs) + " outputs)");
  if (!request.outputRelevance.empty()) {
    if (static_cast<int>(request.outputRelevance.size()) != outputs)
      throw Error("outputRelevance has " + std::to_string(request.outputRelevance.size()) + " values, expected " +
                  std::to_string(outputs));
    for (float v : request.outputRelevance)
      if (!std::isfinite(v)) throw Error("outputRelevance contains NaN or Infinity");
  }
  if (request.method == Method::LRP) checkRules(graph, request.rules);
  if (request.method == Method::IntegratedGradients && (request.steps < 1 || request.steps > 4096))
    throw Error("steps must be an integer from 1 to 4096, got " + std::to_string(request.steps));
  if (request.method == Method::SmoothGrad) {
    if (request.samples < 1 || request.samples > 4096)
      throw Error("samples must be an integer from 1 to 4096, got " + std::to_string(request.samples));
    if (!std::isfinite(request.noiseLevel) || request.noiseLevel < 0)
      throw Error("noiseLevel must be a finite number >= 0");
  }
  if (request.restrictLayer != -1) {
    const int count = static_cast<int>(graph.nodes().size());
    if (request.restrictLayer < 0 || request.restrictLayer >= count)
      throw Error("restrict: layer " + std::to_string(request.restrictLayer) + " is out of range (the model has " +
                  std::to_string(count) + " layers)");
    const int64_t units = shapeSize(graph.node(request.restrictLayer).outputShape);
    if (request.restrictUnits.empty()) throw Error("restrict: give at least one unit");
    for (int unit : request.restrictUnits)
      if (unit < 0 || unit >= units)
        throw Error("restrict: unit " + std::to_string(unit) + " is out of range (layer " +
                    std::to_string(request.restrictLayer) + " has " + std::to_string(units) + " units)");
  }
  if (request.layerRelevance && request.method != Method::LRP)
    throw Error("layerRelevance is only available for method 'lrp'");
}

int argmax(const Eigen::Ref<const Vector>& v) {
  Eigen::Index best;
  v.maxCoeff(&best);
  return static_cast<int>(best);
}

// The relevance (or gradient) at the output: outputRelevance if given, else one-hot at the target
// carrying f_t(x) for LRP (the seed article's choice) or 1 for gradients.
Matrix outputSeed(const Matrix& logits, const std::vector<int>& targets, const ExplainRequest& request, bool scaleByLogit) {
  Matrix seed = Matrix::Zero(logits.rows(), logits.cols());
  for (Eigen::Index col = 0; col < logits.cols(); ++col) {
    if (!request.outputRelevance.empty()) {
      seed.col(col) = Eigen::Map<const Vector>(request.outputRelevance.data(), logits.rows());
    } else {
      const int t = targets[static_cast<size_t>(col)];
      seed(t, col) = scaleByLogit ? logits(t, col) : 1.0f;
    }
  }
  return seed;
}

std::vector<int> resolveTargets(const Matrix& logits, int target) {
  std::vector<int> targets;
  for (Eigen::Index col = 0; col < logits.cols(); ++col)
    targets.push_back(target == kPredictedTarget ? argmax(logits.col(col)) : target);
  return targets;
}

// The norm rule on a parameter-free layer (avg-pool, sum): R_k = x_k ⊙ ∂z/∂x_kᵀ (R / stab(z)), i.e. each
// input gets relevance in proportion to its contribution (Zennit's Norm rule; a constant operand of a
// sum absorbs its share).
std::vector<Matrix> normRelevance(const Layer& layer, const std::vector<const Matrix*>& inputs, const Matrix& z,
                                  const Matrix& relevance, const Rule& rule) {
  // Zennit's norm rule stabilises sign-aware (st±); LXT's sums and means add ε (st+, ATTNLRP rules 5, 6, 11).
  const Matrix s = rule.signedStabilizer ? stabilizedDivide(relevance, z, stabilizerOf(rule))
                                         : Matrix(relevance.array() / (z.array() + stabilizerOf(rule)));
  std::vector<Matrix> passed = layer.gradient(inputs, z, s);
  for (size_t k = 0; k < passed.size(); ++k) {
    // A silent operand (a mask from the ids) is a constant: it absorbs its share, passes nothing on.
    if (static_cast<int>(k) == rule.silentInput) passed[k].setZero();
    else passed[k].array() *= inputs[k]->array();
  }
  return passed;
}

// One node's relevance for its inputs under LRP.
std::vector<Matrix> nodeRelevance(const Graph& graph, int id, const Activations& acts,
                                  const std::vector<const Matrix*>& inputs, const Matrix& relevance,
                                  const std::optional<Rule>& rule) {
  const Node& node = graph.node(id);
  if (rule && rule->kind == RuleKind::Pass) return std::vector<Matrix>(inputs.size(), relevance);
  const auto* linear = dynamic_cast<const LinearLayer*>(node.layer.get());
  const Matrix& z = acts.nodes[static_cast<size_t>(id)];
  if (linear != nullptr && rule && isPublicRule(rule->kind))
    return {linearRelevance(*linear, *inputs[0], z, relevance, *rule)};
  if (rule) {
    switch (rule->kind) {
      case RuleKind::Norm: return normRelevance(*node.layer, inputs, z, relevance, *rule);
      case RuleKind::Product: return productRelevance(*node.layer, inputs, z, relevance, *rule);
      case RuleKind::LayerNorm: return layerNormRelevance(*node.layer, inputs, z, relevance, *rule);
      case RuleKind::Softmax: return softmaxRelevance(*node.layer, inputs, z, relevance, *rule);
      case RuleKind::MatMul: return matmulRelevance(*node.layer, inputs, z, relevance, *rule);
      default: break;
    }
  }
  // No rule: the plain gradient, as Zennit does for modules without a rule (reshapes re-index, ...).
  return node.layer->gradient(inputs, z, relevance);
}

// Keeps the relevance at the restricted layer's output only at the chosen units (see ExplainRequest).
void restrictToUnits(Matrix& relevance, const std::vector<int>& units) {
  Matrix kept = Matrix::Zero(relevance.rows(), relevance.cols());
  for (int unit : units) kept.row(unit) = relevance.row(unit);
  relevance = std::move(kept);
}

// A mask's −∞ (Graph::runNode) times the zero share a softmax gave it is NaN: relevance for a value that is a
// constant under ATTNLRP rule 13 and passes nothing on. Where the mask's value is infinite the relevance is 0.
void absorbAtMask(Matrix& relevance) { relevance = relevance.array().isFinite().select(relevance, 0.0f); }

// "explain (smoothgrad, 8 samples) ...: the gradient passed back by node 'fc' (dense)", or for LRP "... the
// relevance passed back by node 'features.0' (conv) under rule 'alpha-beta'": where a backward pass turned non-finite.
std::string passedBy(const Graph& graph, int id, const std::vector<std::optional<Rule>>* rules,
                     const ExplainRequest& request, int64_t batch) {
  const Node& node = graph.node(id);
  const std::string at = "node '" + node.name + "' (" + node.layer->kind() + ")";
  const std::string call = callName(request, batch) + ": ";
  if (!rules) return call + "the gradient passed back by " + at;
  const std::optional<Rule>& rule = (*rules)[static_cast<size_t>(id)];
  return call + "the relevance passed back by " + at + " under " +
         (rule ? std::string("rule '") + ruleKindName(rule->kind) + "'" : std::string("its gradient (no rule)"));
}

// Walks the graph backwards from `seed` at the output. `rules` null: gradient; else LRP. With token inputs
// the input relevance is Σ over the embedding dimension at each lookup's output (the embedding's gradient
// map); for gradient × input the gradient there is first multiplied by the embedding e (Σ_d e_d ∂f/∂e_d).
Matrix backward(const Graph& graph, const Activations& acts, Matrix seed, const std::vector<std::optional<Rule>>* rules,
                const ExplainRequest& request, std::vector<LayerRelevance>* report, int captureNode = -1,
                Matrix* captured = nullptr) {
  const auto& nodes = graph.nodes();
  std::vector<Matrix> atOutput(nodes.size());
  atOutput.back() = std::move(seed);
  Matrix atInput = Matrix::Zero(graph.inputSize(), acts.input.cols());
  for (int id = static_cast<int>(nodes.size()) - 1; id >= 0; --id) {
    const auto index = static_cast<size_t>(id);
    Matrix& relevance = atOutput[index];
    if (relevance.size() == 0) continue;  // the output does not depend on this node
    // In reverse topological order every consumer has been processed: the relevance here is complete.
    if (id == request.restrictLayer) {
      restrictToUnits(relevance, request.restrictUnits);
      // Only what flows through those units: relevance that reached earlier nodes (or the input) by
      // paths around this layer (a residual, a squeeze-excitation gate's partner) is dropped. Every
      // consumer of this layer has a larger id, so nothing has passed through it yet.
      for (int earlier = 0; earlier < id; ++earlier) atOutput[static_cast<size_t>(earlier)].resize(0, 0);
      atInput.setZero();
    }
    const std::vector<const Matrix*> inputs = graph.inputsOf(acts, id);
    if (id == captureNode) *captured = relevance;  // e.g. the gradient at the embedding's output
    if (request.method == Method::GradientXInput && nodes[index].layer->role() == Role::Embedding)
      relevance.array() *= acts.nodes[index].array();
    std::vector<Matrix> passed = rules ? nodeRelevance(graph, id, acts, inputs, relevance, (*rules)[index])
                                       : nodes[index].layer->gradient(inputs, acts.nodes[index], relevance);
    double passedSum = 0;
    for (size_t k = 0; k < passed.size(); ++k) {
      const int source = nodes[index].inputs[k];
      if (source >= 0 && acts.masked[static_cast<size_t>(source)]) absorbAtMask(passed[k]);
      if (report) passedSum += passed[k].col(0).cast<double>().sum();
      if (source == kInputConstants) continue;  // constants take no relevance
      Matrix& into = source == kGraphInput ? atInput : atOutput[static_cast<size_t>(source)];
      if (into.size() == 0) into = std::move(passed[k]);
      else into += passed[k];  // fan-out: relevance arriving from several consumers is summed
      if (!allFinite(into)) throw Error(nonFiniteMessage(into, passedBy(graph, id, rules, request, acts.input.cols()),
                                    rules ? "a rule dividing by a sum near 0 (its stabiliser is ε), or huge weights?"
                                          : "huge weights?"));
    }
    if (report) report->push_back(LayerRelevance{id, relevance.col(0), relevance.col(0).cast<double>().sum(), passedSum});
    relevance.resize(0, 0);  // free what is no longer needed
  }
  return atInput;
}

// The forward pass with node `embedding`'s output replaced by `points` (one column per point), all with the
// per-input constants `constants` (one column: those of the explained input).
Activations forwardFromEmbedding(const Graph& graph, int embedding, const Matrix& points, const Vector& constants) {
  Activations acts;
  acts.input = Matrix::Zero(graph.inputSize(), points.cols());  // the ids are read by the embedding only
  acts.constants = constants.replicate(1, points.cols());
  acts.nodes.resize(graph.nodes().size());
  acts.masked.assign(graph.nodes().size(), 0);
  for (int id = 0; id < static_cast<int>(graph.nodes().size()); ++id) {
    if (id == embedding) acts.nodes[static_cast<size_t>(id)] = points;
    else graph.runNode(id, acts);
  }
  return acts;
}

// The gradient of f_target at each column of `points`: at the graph input, or — with `embedding` ≥ 0 — at
// that embedding lookup's output, the points replacing its output.
Matrix gradientAt(const Graph& graph, const Matrix& points, int target, const ExplainRequest& request, int embedding,
                  const Vector& constants) {
  const Activations acts =
      embedding < 0 ? graph.forward(points) : forwardFromEmbedding(graph, embedding, points, constants);
  const Matrix seed = outputSeed(acts.nodes.back(), std::vector<int>(static_cast<size_t>(points.cols()), target), request, false);
  if (embedding < 0) return backward(graph, acts, seed, nullptr, request, nullptr);
  Matrix atEmbedding = Matrix::Zero(points.rows(), points.cols());
  backward(graph, acts, seed, nullptr, request, nullptr, embedding, &atEmbedding);
  return atEmbedding;
}

// Writes the points [start, start + block.cols()) into `block`; called with increasing `start`.
using PointSource = std::function<void(Eigen::Index start, Matrix& block)>;

// Mean gradient over `count` points of `rows` values each, all for one target, made and evaluated chunk by chunk
// (only one chunk of points exists at a time: 4,096 steps of a 224×224 image would be 2.4 GB). The gradients are
// summed one column after another, so the result does not depend on the chunk size.
Vector meanGradient(const Graph& graph, Eigen::Index count, Eigen::Index rows, const PointSource& pointsAt, int target,
                    const ExplainRequest& request, int embedding = -1, const Vector& constants = Vector()) {
  Vector sum = Vector::Zero(rows);
  const Eigen::Index chunk = pointChunk(graph, request);
  Matrix points;
  for (Eigen::Index start = 0; start < count; start += chunk) {
    const Eigen::Index n = std::min<Eigen::Index>(chunk, count - start);
    points.resize(rows, n);
    pointsAt(start, points);
    Matrix gradients;
    try {
      gradients = gradientAt(graph, points, target, request, embedding, constants);
    } catch (const Error& e) {
      // The passes ran on points, not on the call's samples: say which (a NaN-free input can reach a bad point).
      throw Error(callName(request, 1) + ", points " + std::to_string(start + 1) + " to " + std::to_string(start + n) +
                  " of " + std::to_string(count) + " (the sample numbers count within them): " + e.what());
    }
    for (Eigen::Index col = 0; col < n; ++col) sum += gradients.col(col);
  }
  return sum / static_cast<float>(count);
}

// Reproducible normal noise on every platform (no std:: distributions, whose algorithms differ between
// libstdc++ and libc++): SplitMix64 + Box–Muller.
class NormalNoise {
 public:
  explicit NormalNoise(uint64_t seed) : state_(seed) {}
  float next() {
    if (hasSpare_) {
      hasSpare_ = false;
      return spare_;
    }
    const double u1 = (static_cast<double>(nextBits() >> 11) + 1.0) * 0x1.0p-53;  // (0, 1]
    const double u2 = static_cast<double>(nextBits() >> 11) * 0x1.0p-53;
    const double r = std::sqrt(-2.0 * std::log(u1)), theta = 2.0 * M_PI * u2;
    spare_ = static_cast<float>(r * std::sin(theta));
    hasSpare_ = true;
    return static_cast<float>(r * std::cos(theta));
  }

 private:
  uint64_t nextBits() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t state_;
  bool hasSpare_ = false;
  float spare_ = 0;
};

// The points of integrated gradients (Sundararajan et al. 2017) with a zero baseline: k/steps·x, k = 1..steps.
PointSource interpolationPoints(const Vector& x, int steps) {
  return [&x, steps](Eigen::Index start, Matrix& block) {
    for (Eigen::Index col = 0; col < block.cols(); ++col)
      block.col(col) = x * (static_cast<float>(start + col + 1) / steps);
  };
}

// The points of SmoothGrad (Smilkov et al. 2017): x + N(0, σ²), σ = noiseLevel·(max x − min x). One noise stream,
// drawn point after point, value after value: the chunks see the numbers one full matrix would hold.
PointSource noisyPoints(const Vector& x, const ExplainRequest& request) {
  const float range = x.maxCoeff() - x.minCoeff();
  const float sigma = request.noiseLevel * (range > 0 ? range : 1.0f);
  auto noise = std::make_shared<NormalNoise>(request.seed);
  return [&x, sigma, noise](Eigen::Index, Matrix& block) {
    for (Eigen::Index col = 0; col < block.cols(); ++col)
      for (Eigen::Index row = 0; row < block.rows(); ++row) block(row, col) = x(row) + sigma * noise->next();
  };
}

Vector integratedGradients(const Graph& graph, const Vector& x, int target, const ExplainRequest& request) {
  return meanGradient(graph, request.steps, x.size(), interpolationPoints(x, request.steps), target, request)
      .cwiseProduct(x);
}

Vector smoothGrad(const Graph& graph, const Vector& x, int target, const ExplainRequest& request) {
  return meanGradient(graph, request.samples, x.size(), noisyPoints(x, request), target, request);
}

// Token ids cannot be interpolated or perturbed; their embeddings can. Integrated gradients and SmoothGrad
// of a token model run in embedding space: the points replace the embedding lookup's output, and the
// gradient is taken there (zero-embedding baseline; noise on the embeddings). Per token, the result is the
// sum over the embedding dimension (of e ⊙ mean gradient for integrated gradients).
int embeddingNode(const Graph& graph) {
  int found = -1;
  for (int id = 0; id < static_cast<int>(graph.nodes().size()); ++id)
    if (graph.node(id).layer->role() == Role::Embedding) {
      if (found >= 0) throw Error("integrated gradients and SmoothGrad need a model with one embedding lookup of the ids");
      found = id;
    }
  return found;
}


// `column`: the ids, then their per-input constants.
Vector tokenAttribution(const Graph& graph, const Vector& column, int target, const ExplainRequest& request) {
  const int embedding = embeddingNode(graph);
  const Matrix idColumn = column.head(graph.inputSize());
  const Vector constants = column.tail(graph.constantsSize());
  const Vector e = graph.node(embedding).layer->forward({&idColumn}).col(0);
  const bool integrated = request.method == Method::IntegratedGradients;
  const PointSource points = integrated ? interpolationPoints(e, request.steps) : noisyPoints(e, request);
  Matrix perValue = meanGradient(graph, integrated ? request.steps : request.samples, e.size(), points, target, request,
                                 embedding, constants);
  if (integrated) perValue.array() *= e.array();
  // The embedding's gradient map sums over the embedding dimension: one value per token.
  return graph.node(embedding).layer->gradient({&idColumn}, Matrix(e), perValue)[0].col(0);
}

}  // namespace

Method methodFromName(const std::string& name) {
  if (name == "lrp") return Method::LRP;
  if (name == "gradient") return Method::Gradient;
  if (name == "gradient-x-input") return Method::GradientXInput;
  if (name == "integrated-gradients") return Method::IntegratedGradients;
  if (name == "smoothgrad") return Method::SmoothGrad;
  throw Error("unknown method '" + name +
              "' (known methods: lrp, gradient, gradient-x-input, integrated-gradients, smoothgrad)");
}

MemoryNeed explainNeed(const Graph& graph, const ExplainRequest& request, int64_t batch) {
  if (!usesPoints(request.method)) return graph.backwardNeed(batch, request.layerRelevance);
  // The inputs' logits (a forward pass that frees as it goes; with `attention` every activation is kept), then the
  // points, one chunk at a time (the chunk's points and its forward/backward pass).
  const int64_t chunk = pointChunk(graph, request);
  MemoryNeed need = request.attention ? MemoryNeed{graph.backwardNeed(batch).activations, 0, 0, 0} : MemoryNeed{};
  need += graph.backwardNeed(chunk);
  need.activations += chunk * pointSize(graph) * 4;
  const MemoryNeed logits = graph.predictNeed(batch);
  return logits.total() > need.total() ? logits : need;
}

int64_t explainBatchLimit(const Graph& graph, const ExplainRequest& request, int64_t count) {
  requireMemory(callName(request, 1), explainNeed(graph, request, 1));
  return largestFitting(count, [&](int64_t n) { return explainNeed(graph, request, n).total(); });
}

std::vector<Explanation> explainBatch(const Graph& graph, const Matrix& inputs, const ExplainRequest& request) {
  checkRequest(graph, request);
  requireMemory(callName(request, inputs.cols()), explainNeed(graph, request, inputs.cols()));
  // Integrated gradients and SmoothGrad need only the logits of the inputs (their targets and outputs), not their
  // activations, while the points run (unless the attention weights are asked for).
  const bool logitsOnly = usesPoints(request.method) && !request.attention;
  const Activations acts = logitsOnly ? Activations{} : graph.forward(inputs);
  const Matrix logits = logitsOnly ? graph.predict(inputs) : acts.nodes.back();
  const std::vector<int> targets = resolveTargets(logits, request.target);

  Matrix relevance;
  std::vector<LayerRelevance> report;
  switch (request.method) {
    case Method::LRP:
      relevance = backward(graph, acts, outputSeed(logits, targets, request, true), &request.rules, request,
                           request.layerRelevance ? &report : nullptr);
      break;
    case Method::Gradient:
    case Method::GradientXInput:
      relevance = backward(graph, acts, outputSeed(logits, targets, request, false), nullptr, request, nullptr);
      if (request.method == Method::GradientXInput && !graph.tokenInput())
        relevance = relevance.cwiseProduct(inputs.topRows(graph.inputSize()));
      break;
    case Method::IntegratedGradients:
    case Method::SmoothGrad:
      relevance.resize(graph.inputSize(), inputs.cols());
      for (Eigen::Index col = 0; col < inputs.cols(); ++col) {
        const Vector x = inputs.col(col);
        const int t = targets[static_cast<size_t>(col)];
        relevance.col(col) = graph.tokenInput() ? tokenAttribution(graph, x, t, request)
                             : request.method == Method::IntegratedGradients ? integratedGradients(graph, x, t, request)
                                                                            : smoothGrad(graph, x, t, request);
      }
      break;
  }

  // The backward passes check every node; what is left is the last step of gradient × input or the mean gradient.
  if (!allFinite(relevance)) throw Error(nonFiniteMessage(relevance, callName(request, inputs.cols()) + ": the result", "huge gradients?"));

  std::vector<Explanation> results;
  for (Eigen::Index col = 0; col < inputs.cols(); ++col) {
    results.push_back(Explanation{relevance.col(col), logits.col(col), targets[static_cast<size_t>(col)], {}, {}});
    if (!request.attention) continue;
    for (int id = 0; id < static_cast<int>(graph.nodes().size()); ++id)
      if (graph.node(id).layer->role() == Role::Softmax)
        results.back().attention.push_back(LayerOutput{id, acts.nodes[static_cast<size_t>(id)].col(col)});
  }
  if (request.layerRelevance && !results.empty()) results.front().layers = std::move(report);
  return results;
}

int64_t predictBatchLimit(const Graph& graph, int64_t count) {
  requireMemory("predict on 1 input", graph.predictNeed(1));
  return largestFitting(count, [&](int64_t n) { return graph.predictNeed(n).total(); });
}

Explanation explain(const Graph& graph, const float* input, int inputLength, const ExplainRequest& request) {
  if (inputLength != graph.columnSize())
    throw Error("input has " + std::to_string(inputLength) + " values, expected " + std::to_string(graph.columnSize()) +
                " (shape " + shapeToString(graph.inputShape()) + ")");
  const Matrix x = Eigen::Map<const Matrix>(input, inputLength, 1);
  return std::move(explainBatch(graph, x, request).front());
}

}  // namespace lrp
