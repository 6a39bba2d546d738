// Composites by Zennit's names (Kohlbrenner et al. 2020, "Towards best practice in explaining neural
// network decisions with LRP", IJCNN), with Zennit's matching order.
#include "lrp/composite.hpp"

namespace lrp {
namespace {

struct CompositeSpec {
  const char* name;
  RuleKind dense;
  RuleKind conv;
  bool hasFirst;
  RuleKind first;
  bool firstConvOnly;  // epsilon-gamma-box: only a first *conv* gets the z-box
};

constexpr CompositeSpec kComposites[] = {
    {"epsilon-plus", RuleKind::Epsilon, RuleKind::ZPlus, false, RuleKind::Pass, false},
    {"epsilon-plus-flat", RuleKind::Epsilon, RuleKind::ZPlus, true, RuleKind::Flat, false},
    {"epsilon-alpha2-beta1", RuleKind::Epsilon, RuleKind::AlphaBeta, false, RuleKind::Pass, false},
    {"epsilon-alpha2-beta1-flat", RuleKind::Epsilon, RuleKind::AlphaBeta, true, RuleKind::Flat, false},
    {"epsilon-gamma-box", RuleKind::Epsilon, RuleKind::Gamma, true, RuleKind::ZBox, true},
    {"deep-taylor", RuleKind::ZPlus, RuleKind::ZPlus, true, RuleKind::ZBox, false},
};

const CompositeSpec& findComposite(const std::string& name) {
  for (const auto& spec : kComposites)
    if (name == spec.name) return spec;
  std::string known;
  for (const auto& spec : kComposites) known += std::string(known.empty() ? "" : ", ") + spec.name;
  throw Error("unknown composite '" + name + "' (known composites: " + known + ")");
}

bool isLinear(const Node& node) { return dynamic_cast<const LinearLayer*>(node.layer.get()) != nullptr; }
bool isConv(const Node& node) { return node.layer->kind() == LayerKind::Conv; }

// Zennit's base layer map, shared by every composite and by `rules` alone: activations and un-merged
// batch-norms pass relevance, parameter-free linear maps (avg-pool, sum) use the norm rule. Layers that
// only re-index (reshape, concat, pad, max-pool) get no rule: relevance follows their gradient.
std::optional<RuleKind> baseRule(LayerKind kind) {
  switch (kind) {
    case LayerKind::ReLU:
    case LayerKind::LeakyReLU:
    case LayerKind::Clip:
    case LayerKind::Sigmoid:
    case LayerKind::Tanh:
    case LayerKind::BatchNorm: return RuleKind::Pass;
    case LayerKind::AvgPool:
    case LayerKind::GlobalAvgPool:
    case LayerKind::Add: return RuleKind::Norm;
    default: return std::nullopt;
  }
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
    } else if (const auto kind = baseRule(node.layer->kind())) {
      rule = Rule();
      rule->kind = *kind;
      rule->stabilizer = params.stabilizer;
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
    if (rule->kind == RuleKind::Pass && nodeInputSize(graph, id) != shapeSize(node.outputShape))
      throw Error(where + "rule 'pass' needs as many inputs as outputs");
    if (rule->kind != RuleKind::Pass && rule->kind != RuleKind::Norm && !isLinear(node))
      throw Error(where + "is not a dense or conv layer; only 'pass' and 'norm' apply to a " +
                  layerKindName(node.layer->kind()) + " layer");
  }
}

}  // namespace lrp
