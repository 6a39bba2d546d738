// Explanation methods: LRP (rules per layer), gradient, gradient × input, integrated gradients, SmoothGrad.
#pragma once

#include "lrp/composite.hpp"

#include <optional>

namespace lrp {

enum class Method { LRP, Gradient, GradientXInput, IntegratedGradients, SmoothGrad };

Method methodFromName(const std::string& name);  // throws lrp::Error naming an unknown method

constexpr int kPredictedTarget = -1;

struct ExplainRequest {
  Method method = Method::LRP;
  std::vector<std::optional<Rule>> rules;  // per node, from resolveRules (LRP only)
  int target = kPredictedTarget;           // class index or kPredictedTarget
  std::vector<float> outputRelevance;      // replaces the one-hot seed when not empty (size = outputs)
  int steps = 32;                          // integrated gradients
  int samples = 16;                        // SmoothGrad
  float noiseLevel = 0.1f;                 // SmoothGrad: σ / (max(x) − min(x))
  uint32_t seed = 0;                       // SmoothGrad noise
  bool layerRelevance = false;
  // Also return the output of every softmax layer (a transformer's attention weights) for each input.
  bool attention = false;
  // Restrict the backward pass at one layer to some of its units: the relevance (or gradient) at that
  // layer's output is set to zero except at `restrictUnits` (flat indices), so the result shows what
  // flows through those units alone. restrictLayer = -1: no restriction.
  int restrictLayer = -1;
  std::vector<int> restrictUnits;
};

// The relevance held at one node's output, and what the node kept when passing it on.
struct LayerRelevance {
  int node;
  Vector relevance;    // at the node's output (size of its output)
  double sum;          // Σ relevance at the output
  double inputSum;     // Σ relevance the node handed to its inputs
  double absorbed() const { return sum - inputSum; }  // taken by biases and stabilisers
};

// One layer's output in the forward pass (e.g. a softmax's attention weights).
struct LayerOutput {
  int node;
  Vector values;
};

struct Explanation {
  Vector relevance;  // w.r.t. the input
  Vector output;     // logits of the (clean) input
  int target;
  std::vector<LayerRelevance> layers;  // filled when layerRelevance is requested (LRP only)
  std::vector<LayerOutput> attention;  // filled when attention is requested: every softmax layer's output
};

// Explains one input (size graph.inputSize()). Throws lrp::Error on invalid requests or inputs.
Explanation explain(const Graph& graph, const float* input, int inputLength, const ExplainRequest& request);

// Estimated peak memory of explainBatch on `batch` inputs (memory.hpp); explainBatch refuses with an lrp::Error
// naming it and what is available when it does not fit.
MemoryNeed explainNeed(const Graph& graph, const ExplainRequest& request, int64_t batch);
// How many of `count` inputs one explainBatch call should take: as many as fit in the engine's working set
// (32 MB, or half of what is left if less), at least one. Throws lrp::Error when not even one input fits.
int64_t explainBatchLimit(const Graph& graph, const ExplainRequest& request, int64_t count);

// The same for Graph::predict.
int64_t predictBatchLimit(const Graph& graph, int64_t count);

// Explains several inputs in one pass (shared GEMMs); each gets its own predicted target.
// `inputs` is inputSize × batch. Not for layerRelevance.
std::vector<Explanation> explainBatch(const Graph& graph, const Matrix& inputs, const ExplainRequest& request);

}  // namespace lrp
