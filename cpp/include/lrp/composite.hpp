// Composites: which rule each layer gets, by Zennit's names and matching order.
#pragma once

#include "lrp/graph.hpp"
#include "lrp/rules.hpp"

#include <optional>

namespace lrp {

// Composite-wide parameters (the top-level explain options).
struct CompositeParams {
  float epsilon = 1e-6f;     // parametrises the epsilon rule
  float stabilizer = 1e-6f;  // ε of every other rule
  float gamma = 0.25f;
  std::vector<float> low, high;  // for the z-box of epsilon-gamma-box and deep-taylor (required there)
  bool zeroBias = false;
  // Products of two activations: false: uniform (each factor R/2, AttnLRP Prop. 3.2); true ('signal'): all
  // relevance to the operand that is not a gate, a gate being computed by a sigmoid or hard-sigmoid (Arras
  // et al. 2017's rule for LSTM gates; squeeze-excitation).
  bool signalProducts = false;
};

// A user rule for `first` (the first dense-or-conv layer), every `dense` or `conv` layer, or one layer.
struct RuleOverride {
  enum class Selector { First, Dense, Conv, Layer };
  Selector selector = Selector::Dense;
  int layer = -1;  // node id for Selector::Layer
  Rule rule;
};

// The names accepted by resolveRules (for error messages and the public API).
const std::vector<std::string>& compositeNames();

// The rule of every node (std::nullopt: no rule, the layer passes its plain gradient).
// Precedence, as in Zennit: a rule for that layer index, then `first`, then the composite's first-layer
// rule, then `dense`/`conv`, then the composite's rule for the layer type. Activations and reshapes
// always pass. `composite` empty means no composite (only the overrides). Throws lrp::Error on an
// unknown composite, an out-of-range layer index, or invalid rule parameters.
std::vector<std::optional<Rule>> resolveRules(const Graph& graph, const std::string& composite,
                                              const CompositeParams& params,
                                              const std::vector<RuleOverride>& overrides);

// Checks rules built by hand (resolveRules' results pass): one entry per node, valid parameters, bounds
// that fit each layer's input, 'pass' only where inputs and outputs have the same size. Throws lrp::Error.
void checkRules(const Graph& graph, const std::vector<std::optional<Rule>>& rules);

}  // namespace lrp
