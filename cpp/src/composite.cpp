// Composites by Zennit's names (Kohlbrenner et al. 2020, "Towards best practice in explaining neural
// network decisions with LRP", IJCNN), with Zennit's matching order.
#include "lrp/composite.hpp"

namespace lrp {
namespace {

// AttnLRP (Achtibat et al., ICML 2024) and CP-LRP (Ali et al. 2022): the rules of shared/ATTNLRP.md.
enum class Attention { None, AttnLRP, CPLRP };

struct CompositeSpec {
  const char* name;
  RuleKind dense;
  RuleKind conv;
  bool hasFirst;
  RuleKind first;
  bool firstConvOnly;  // epsilon-gamma-box: only a first *conv* gets the z-box
  Attention attention;
};

constexpr CompositeSpec kComposites[] = {
    {"epsilon-plus", RuleKind::Epsilon, RuleKind::ZPlus, false, RuleKind::Pass, false, Attention::None},
    {"epsilon-plus-flat", RuleKind::Epsilon, RuleKind::ZPlus, true, RuleKind::Flat, false, Attention::None},
    {"epsilon-alpha2-beta1", RuleKind::Epsilon, RuleKind::AlphaBeta, false, RuleKind::Pass, false, Attention::None},
    {"epsilon-alpha2-beta1-flat", RuleKind::Epsilon, RuleKind::AlphaBeta, true, RuleKind::Flat, false, Attention::None},
    {"epsilon-gamma-box", RuleKind::Epsilon, RuleKind::Gamma, true, RuleKind::ZBox, true, Attention::None},
    {"deep-taylor", RuleKind::ZPlus, RuleKind::ZPlus, true, RuleKind::ZBox, false, Attention::None},
    // The ε-rule on every linear map (ATTNLRP rule 2); the rest by role in baseRule.
    {"attn-lrp", RuleKind::Epsilon, RuleKind::Epsilon, false, RuleKind::Pass, false, Attention::AttnLRP},
    {"cp-lrp", RuleKind::Epsilon, RuleKind::Epsilon, false, RuleKind::Pass, false, Attention::CPLRP},
};

const CompositeSpec& findComposite(const std::string& name) {
  for (const auto& spec : kComposites)
    if (name == spec.name) return spec;
  std::string known;
  for (const auto& spec : kComposites) known += std::string(known.empty() ? "" : ", ") + spec.name;
  throw Error("unknown composite '" + name + "' (known composites: " + known + ")");
}

bool isLinear(const Node& node) { return node.layer->role() == Role::Linear; }
bool isConv(const Node& node) { return std::string(node.layer->kind()) == "conv"; }

Rule ruleOf(RuleKind kind, float stabilizer, bool signedStabilizer = true) {
  Rule rule;
  rule.kind = kind;
  rule.stabilizer = stabilizer;
  rule.signedStabilizer = signedStabilizer;
  return rule;
}

// Whether node `source` computes a gate (a sigmoid or hard-sigmoid), for the signal rule of products.
bool isGate(const Graph& graph, int source) {
  if (source < 0) return false;
  const std::string kind = graph.node(source).layer->kind();
  return kind == "sigmoid" || kind == "hard-sigmoid";
}

// The operand of a product that gets no relevance under the signal rule: the gate, if exactly one is.
int gateOperand(const Graph& graph, const Node& node) {
  if (node.inputs.size() != 2) return -1;
  const bool first = isGate(graph, node.inputs[0]), second = isGate(graph, node.inputs[1]);
  return first == second ? -1 : (first ? 0 : 1);
}

// How many values each output of a mean averages (input size / output size).
int64_t averagedCount(const Graph& graph, const Node& node) {
  const int source = node.inputs.at(0);
  const int64_t in = shapeSize(source == kGraphInput ? graph.inputShape() : graph.node(source).outputShape);
  return std::max<int64_t>(1, in / shapeSize(node.outputShape));
}

// The operand of `node` computed by a layer of `role`, looking through re-indexing layers (reshape,
// transpose, expand, …); -1 if none is.
int operandOfRole(const Graph& graph, const Node& node, Role role) {
  for (size_t k = 0; k < node.inputs.size(); ++k) {
    int source = node.inputs[k];
    while (source >= 0 && graph.node(source).layer->role() == Role::Reindex && graph.node(source).inputs.size() == 1)
      source = graph.node(source).inputs[0];
    if (source >= 0 && graph.node(source).layer->role() == role) return static_cast<int>(k);
  }
  return -1;
}

// The operand of a matrix product that is the attention weights (a softmax's output).
int softmaxOperand(const Graph& graph, const Node& node) { return operandOfRole(graph, node, Role::Softmax); }

// The operand of a sum or product that is a per-input constant (an attention mask from the ids).
int constantOperand(const Graph& graph, const Node& node) { return operandOfRole(graph, node, Role::Constant); }

// The base layer map shared by every composite and by `rules` alone, by the layer's role (the table "Which
// rule where" of shared/ATTNLRP.md): activations and un-merged batch-norms pass relevance, sums and means
// take Zennit's norm rule, a constant added takes ATTNLRP rule 6 (st+, ε = 1e-8: the constant absorbs its
// share), a scale by a constant passes (rule 4), products and transformer layers their own rules. Layers that
// only re-index or select (reshape, concat, pad, max-pool) get no rule: relevance follows their gradient.
std::optional<Rule> baseRule(const Graph& graph, const Node& node, const CompositeParams& params,
                             Attention attention = Attention::None) {
  const bool lxt = attention != Attention::None;
  switch (node.layer->role()) {
    case Role::Elementwise:
    case Role::ScaleConstant: return ruleOf(RuleKind::Pass, params.stabilizer);
    // LXT stabilises sums with st+ and ε = 1e-8 (ATTNLRP rule 5) and means with st+(Σ x), ε = 1e-6 (rule
    // 11): the norm rule divides by the mean, so its ε is 1e-6 over the number of values averaged.
    case Role::Sum: {
      // An attention mask computed from the ids is added like a constant (ATTNLRP rule 13 = rule 6): the
      // scores get a·R/st+(a + m), the mask absorbs its share.
      const int mask = constantOperand(graph, node);
      if (mask >= 0) {
        Rule rule = ruleOf(RuleKind::Norm, 1e-8f, false);
        rule.silentInput = mask;
        return rule;
      }
      return lxt ? ruleOf(RuleKind::Norm, 1e-8f, false) : ruleOf(RuleKind::Norm, params.stabilizer);
    }
    case Role::Mean:
      return lxt ? ruleOf(RuleKind::Norm, 1e-6f / static_cast<float>(averagedCount(graph, node)), false)
                 : ruleOf(RuleKind::Norm, params.stabilizer);
    case Role::AddConstant: return ruleOf(RuleKind::Norm, 1e-8f, false);
    case Role::Product: {
      Rule rule = ruleOf(RuleKind::Product, 0.0f);
      // A multiplicative mask from the ids scales like a constant (rule 4): all relevance to the other factor.
      rule.silentInput = constantOperand(graph, node);
      if (rule.silentInput < 0 && params.signalProducts) rule.silentInput = gateOperand(graph, node);
      return rule;
    }
    case Role::Quotient: {
      Rule rule = ruleOf(RuleKind::Product, 0.0f);
      rule.silentInput = 1;  // the denominator scales like LayerNorm's σ: identity on the numerator
      return rule;
    }
    case Role::LayerNorm: return ruleOf(RuleKind::LayerNorm, 1e-6f, false);
    case Role::Softmax: {
      Rule rule = ruleOf(RuleKind::Softmax, 0.0f);
      if (attention == Attention::CPLRP) rule.silentInput = 0;  // CP-LRP: no relevance through the softmax
      return rule;
    }
    case Role::MatMul: {
      // CP-LRP: A·V with A the attention weights is the ε-rule on V (ε = 1e-6), A gets nothing.
      const int weights = attention == Attention::CPLRP ? softmaxOperand(graph, node) : -1;
      Rule rule = ruleOf(RuleKind::MatMul, weights >= 0 ? 1e-6f : 1e-8f, false);
      rule.silentInput = weights;
      return rule;
    }
    case Role::Linear:
    case Role::WinnerTakesAll:
    case Role::Reindex:
    case Role::Embedding:
    case Role::Constant: return std::nullopt;
  }
  return std::nullopt;
}

int firstLinearNode(const Graph& graph, bool convOnly) {
  for (int id = 0; id < static_cast<int>(graph.nodes().size()); ++id) {
    const Node& node = graph.node(id);
    if (convOnly ? isConv(node) : isLinear(node)) return id;
  }
  return -1;
}

Rule compositeRule(RuleKind kind, const CompositeParams& params) {
  Rule rule;
  rule.kind = kind;
  rule.epsilon = params.epsilon;
  rule.stabilizer = params.stabilizer;
  rule.gamma = params.gamma;
  rule.zeroBias = params.zeroBias;
  if (kind == RuleKind::AlphaBeta) {
    rule.alpha = 2.0f;
    rule.beta = 1.0f;
  }
  if (kind == RuleKind::ZBox) {
    rule.low = params.low;
    rule.high = params.high;
  }
  return rule;
}

const Rule* findOverride(const std::vector<RuleOverride>& overrides, RuleOverride::Selector selector, int id = -1) {
  for (const auto& o : overrides)
    if (o.selector == selector && (selector != RuleOverride::Selector::Layer || o.layer == id)) return &o.rule;
  return nullptr;
}

// The rule of one dense/conv node, following the precedence documented in composite.hpp.
std::optional<Rule> linearRule(const Graph& graph, int id, const CompositeSpec* composite, const CompositeParams& params,
                               const std::vector<RuleOverride>& overrides) {
  using S = RuleOverride::Selector;
  const Node& node = graph.node(id);
  if (const Rule* r = findOverride(overrides, S::Layer, id)) return *r;
  if (id == firstLinearNode(graph, false))
    if (const Rule* r = findOverride(overrides, S::First, id)) return *r;
  if (composite && composite->hasFirst && id == firstLinearNode(graph, composite->firstConvOnly)) {
    if (composite->first == RuleKind::ZBox && (params.low.empty() || params.high.empty()))
      throw Error(std::string("composite '") + composite->name + "' needs 'low' and 'high' (the input's value range)");
    return compositeRule(composite->first, params);
  }
  if (const Rule* r = findOverride(overrides, isConv(node) ? S::Conv : S::Dense, id)) return *r;
  if (composite) return compositeRule(isConv(node) ? composite->conv : composite->dense, params);
  return std::nullopt;
}

int nodeInputSize(const Graph& graph, int id) {
  const int source = graph.node(id).inputs.at(0);
  return static_cast<int>(shapeSize(source == kGraphInput ? graph.inputShape() : graph.node(source).outputShape));
}

}  // namespace

const std::vector<std::string>& compositeNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> all;
    for (const auto& spec : kComposites) all.emplace_back(spec.name);
    return all;
  }();
  return names;
}

std::vector<std::optional<Rule>> resolveRules(const Graph& graph, const std::string& composite,
                                              const CompositeParams& params,
                                              const std::vector<RuleOverride>& overrides) {
  const CompositeSpec* spec = composite.empty() ? nullptr : &findComposite(composite);
  const int count = static_cast<int>(graph.nodes().size());
  for (const auto& o : overrides)
    if (o.selector == RuleOverride::Selector::Layer && (o.layer < 0 || o.layer >= count))
      throw Error("rules: layer index " + std::to_string(o.layer) + " is out of range (the model has " +
                  std::to_string(count) + " layers)");

  std::vector<std::optional<Rule>> rules(static_cast<size_t>(count));
  for (int id = 0; id < count; ++id) {
    const Node& node = graph.node(id);
    std::optional<Rule> rule;
    if (isLinear(node)) {
      rule = linearRule(graph, id, spec, params, overrides);
    } else if (const Rule* r = findOverride(overrides, RuleOverride::Selector::Layer, id)) {
      rule = *r;
    } else {
      rule = baseRule(graph, node, params, spec ? spec->attention : Attention::None);
    }
    rules[static_cast<size_t>(id)] = std::move(rule);
  }
  checkRules(graph, rules);
  return rules;
}

void checkRules(const Graph& graph, const std::vector<std::optional<Rule>>& rules) {
  if (rules.size() != graph.nodes().size())
    throw Error("rules: expected one entry per layer (" + std::to_string(graph.nodes().size()) + "), got " +
                std::to_string(rules.size()));
  for (int id = 0; id < static_cast<int>(rules.size()); ++id) {
    const auto& rule = rules[static_cast<size_t>(id)];
    if (!rule) continue;
    const Node& node = graph.node(id);
    const std::string where = "layer " + std::to_string(id) + " ('" + node.name + "'): ";
    try {
      validateRule(*rule, nodeInputSize(graph, id));
    } catch (const Error& e) {
      throw Error(where + e.what());
    }
    if (rule->kind == RuleKind::Pass && (node.inputs.size() != 1 || nodeInputSize(graph, id) != shapeSize(node.outputShape)))
      throw Error(where + "rule 'pass' needs one input and as many inputs as outputs");
    const bool linearRule = rule->kind != RuleKind::Pass && rule->kind != RuleKind::Norm && isPublicRule(rule->kind);
    if (linearRule && !isLinear(node))
      throw Error(where + "is not a dense or conv layer; only 'pass' and 'norm' apply to a " +
                  node.layer->kind() + " layer");
    const auto base = baseRule(graph, node, CompositeParams());
    if (!isPublicRule(rule->kind) && (!base || base->kind != rule->kind))
      throw Error(where + "rule '" + ruleKindName(rule->kind) + "' does not apply to a " + node.layer->kind() + " layer");
  }
}

}  // namespace lrp
