// The rule table: every LRP rule as branches of (input, weight, bias) modifiers. See shared/RULES.md.
#include "lrp/rules.hpp"

#include <cmath>
#include <sstream>

namespace lrp {
namespace {

struct RuleName {
  RuleKind kind;
  const char* name;
};

constexpr RuleName kRuleNames[] = {
    {RuleKind::Epsilon, "epsilon"}, {RuleKind::Zero, "zero"},         {RuleKind::ZPlus, "z-plus"},
    {RuleKind::AlphaBeta, "alpha-beta"}, {RuleKind::Gamma, "gamma"}, {RuleKind::ZBox, "z-box"},
    {RuleKind::WSquare, "w-square"}, {RuleKind::Flat, "flat"},       {RuleKind::Pass, "pass"},
    {RuleKind::Norm, "norm"},     {RuleKind::Product, "product"}, {RuleKind::LayerNorm, "layernorm"},
    {RuleKind::Softmax, "softmax"}, {RuleKind::MatMul, "matmul"},
};

std::string knownRuleNames() {
  std::string names;
  for (const auto& entry : kRuleNames)
    if (isPublicRule(entry.kind)) names += std::string(names.empty() ? "" : ", ") + entry.name;
  return names;
}

void requireFinite(float value, const char* what, const Rule& rule) {
  if (!std::isfinite(value))
    throw Error(std::string("rule '") + ruleKindName(rule.kind) + "': " + what + " must be a finite number");
}

void validateBounds(const Rule& rule, int inputSize) {
  for (const auto* bound : {&rule.low, &rule.high}) {
    const char* which = bound == &rule.low ? "low" : "high";
    if (bound->empty()) throw Error(std::string("rule 'z-box' needs '") + which + "'");
    if (bound->size() != 1 && static_cast<int>(bound->size()) != inputSize)
      throw Error(std::string("rule 'z-box': '") + which + "' has " + std::to_string(bound->size()) +
                  " values, expected 1 or " + std::to_string(inputSize) + " (one per layer input)");
    for (float v : *bound) requireFinite(v, which, rule);
  }
  const size_t n = std::max(rule.low.size(), rule.high.size());
  for (size_t i = 0; i < n; ++i) {
    const float l = rule.low[rule.low.size() == 1 ? 0 : i], h = rule.high[rule.high.size() == 1 ? 0 : i];
    if (l > h) throw Error("rule 'z-box': low must not exceed high (input " + std::to_string(i) + ")");
  }
}

}  // namespace

const char* ruleKindName(RuleKind kind) {
  for (const auto& entry : kRuleNames)
    if (entry.kind == kind) return entry.name;
  return "unknown";
}

bool isPublicRule(RuleKind kind) {
  return kind != RuleKind::Product && kind != RuleKind::LayerNorm && kind != RuleKind::Softmax && kind != RuleKind::MatMul;
}

RuleKind ruleKindFromName(const std::string& name) {
  for (const auto& entry : kRuleNames)
    if (name == entry.name && isPublicRule(entry.kind)) return entry.kind;
  throw Error("unknown rule '" + name + "' (known rules: " + knownRuleNames() + ")");
}

void validateRule(const Rule& rule, int inputSize) {
  requireFinite(rule.epsilon, "epsilon", rule);
  requireFinite(rule.stabilizer, "stabilizer", rule);
  if (rule.epsilon < 0 || rule.stabilizer < 0)
    throw Error(std::string("rule '") + ruleKindName(rule.kind) + "': epsilon and stabilizer must be >= 0");
  switch (rule.kind) {
    case RuleKind::AlphaBeta: {
      requireFinite(rule.alpha, "alpha", rule);
      requireFinite(rule.beta, "beta", rule);
      // Conservation requires α − β = 1 (Bach et al. 2015); Zennit rejects anything else too.
      if (rule.alpha < 0 || rule.beta < 0 || std::abs(rule.alpha - rule.beta - 1.0f) > 1e-6f) {
        std::ostringstream msg;
        msg << "rule 'alpha-beta' needs alpha - beta = 1 and alpha, beta >= 0 (got alpha=" << rule.alpha
            << ", beta=" << rule.beta << ")";
        throw Error(msg.str());
      }
      break;
    }
    case RuleKind::Gamma:
      requireFinite(rule.gamma, "gamma", rule);
      if (rule.gamma < 0) throw Error("rule 'gamma': gamma must be >= 0");
      break;
    case RuleKind::ZBox: validateBounds(rule, inputSize); break;
    default: break;
  }
}

float stabilizerOf(const Rule& rule) {
  switch (rule.kind) {
    case RuleKind::Epsilon: return rule.epsilon;
    case RuleKind::Zero: return 0.0f;
    default: return rule.stabilizer;
  }
}

std::vector<BranchGroup> branchesOf(const Rule& rule) {
  using I = InputMod;
  using P = ParamMod;
  // zeroBias: every branch's bias becomes zero.
  auto bias = [&](ParamMod mod) { return rule.zeroBias ? P::Zero : mod; };
  switch (rule.kind) {
    case RuleKind::Epsilon:
    case RuleKind::Zero:
    case RuleKind::Norm:
      // R_i = x_i Σ_j w_ij R_j / stab(z_j)
      return {{1.0f, OutputGate::All, {{I::Identity, P::Identity, bias(P::Identity), 1.0f}}}};
    case RuleKind::ZPlus:
      // positive contributions only: x⁺w⁺ + x⁻w⁻, bias b⁺ in the denominator
      return {{1.0f, OutputGate::All,
               {{I::Positive, P::Positive, bias(P::Positive), 1.0f}, {I::Negative, P::Negative, P::Zero, 1.0f}}}};
    case RuleKind::AlphaBeta: {
      std::vector<BranchGroup> groups = {
          {rule.alpha, OutputGate::All,
           {{I::Positive, P::Positive, bias(P::Positive), 1.0f}, {I::Negative, P::Negative, P::Zero, 1.0f}}}};
      if (rule.beta != 0.0f)
        groups.push_back({-rule.beta, OutputGate::All,
                          {{I::Positive, P::Negative, bias(P::Negative), 1.0f},
                           {I::Negative, P::Positive, P::Zero, 1.0f}}});
      return groups;
    }
    case RuleKind::Gamma:
      // Outputs that fired positively favour positive contributions (w + γw⁺ on x⁺), negative ones
      // favour negative contributions; the cross terms carry no bias (Zennit's generalised γ).
      return {{1.0f, OutputGate::PositiveOutput,
               {{I::Positive, P::GammaPositive, bias(P::GammaPositive), 1.0f},
                {I::Negative, P::GammaNegative, P::Zero, 1.0f}}},
              {1.0f, OutputGate::NegativeOutput,
               {{I::Positive, P::GammaNegative, bias(P::GammaNegative), 1.0f},
                {I::Negative, P::GammaPositive, P::Zero, 1.0f}}}};
    case RuleKind::ZBox:
      // z = (x w + b) − (l w⁺ + b⁺) − (h w⁻ + b⁻): the bias cancels, kept for Zennit's rounding.
      return {{1.0f, OutputGate::All,
               {{I::Identity, P::Identity, bias(P::Identity), 1.0f},
                {I::Low, P::Positive, bias(P::Positive), -1.0f},
                {I::High, P::Negative, bias(P::Negative), -1.0f}}}};
    case RuleKind::WSquare:
      // inputs replaced by ones, parameters squared (b² stays in the denominator, as in Zennit)
      return {{1.0f, OutputGate::All, {{I::Ones, P::Square, bias(P::Square), 1.0f}}}};
    case RuleKind::Flat:
      return {{1.0f, OutputGate::All, {{I::Ones, P::Ones, P::Zero, 1.0f}}}};
    default: return {};  // not a rule of linear layers
  }
}

}  // namespace lrp
