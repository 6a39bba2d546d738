// LRP rules as data. A rule is a value (kind + parameters); what it *does* to a linear layer is a
// list of branches (input modifier, weight modifier, bias modifier) grouped by shared denominators,
// evaluated by one generic kernel (relevance_kernel.cpp). The math and its reference, Zennit 0.5,
// are in shared/RULES.md; each rule cites its paper below.
#pragma once

#include "lrp/layers.hpp"

namespace lrp {

enum class RuleKind {
  Epsilon,    // LRP-ε (Bach et al. 2015, PLoS ONE 10(7): e0130140)
  Zero,       // LRP-0 (Bach et al. 2015): ε = 0, a zero denominator passes nothing
  ZPlus,      // z⁺ (Montavon et al. 2017, Pattern Recognition 65: 211–222, "deep Taylor decomposition")
  AlphaBeta,  // LRP-αβ (Bach et al. 2015)
  Gamma,      // LRP-γ (Montavon et al. 2019, "Layer-wise relevance propagation: an overview"), generalised as Zennit does
  ZBox,       // z^B, bounded inputs (Montavon et al. 2017)
  WSquare,    // w² (Montavon et al. 2017)
  Flat,       // flat (Lapuschkin et al. 2019, Nature Communications 10: 1096)
  Pass,       // relevance passes unchanged (activations)
  Norm,       // ε-rule with the layer's own map (avg-pool, sum): the "norm" rule of Zennit
  // Rules of operations on two activations and of transformer layers (shared/ATTNLRP.md); composites
  // assign them by the layer's role, they are not public rule names.
  Product,    // element-wise product: uniform, R/2 to each factor (AttnLRP Prop. 3.2), or all to the non-gate
  LayerNorm,  // ATTNLRP rule 7
  Softmax,    // ATTNLRP rule 8
  MatMul,     // ATTNLRP rule 9: ε then uniform (Prop. 3.3)
};

const char* ruleKindName(RuleKind kind);
// Parses a public rule name ('epsilon', 'z-plus', ...); throws lrp::Error naming an unknown one.
RuleKind ruleKindFromName(const std::string& name);

struct Rule {
  RuleKind kind = RuleKind::Epsilon;
  float epsilon = 1e-6f;     // ε of the epsilon rule
  float stabilizer = 1e-6f;  // ε of every other rule
  float gamma = 0.25f;
  float alpha = 1.0f;
  float beta = 0.0f;
  std::vector<float> low;    // z-box bounds: one value, or one per input of the layer
  std::vector<float> high;
  bool zeroBias = false;     // drop the bias everywhere (the seed article's variant)
  // Norm: stab(z) = z + ε·sgn0(z) (Zennit) when signed, else z + ε (LXT's _stabilize, ATTNLRP rules 5, 6, 11).
  bool signedStabilizer = true;
  // Product: the input that gets no relevance (a gate, or a quotient's denominator); -1: uniform.
  int silentInput = -1;
};

// Throws lrp::Error if the parameters are invalid (NaN, α − β ≠ 1, negative γ or ε, bad bounds).
// `inputSize` is the number of inputs of the layer the rule is applied to (for per-input bounds).
void validateRule(const Rule& rule, int inputSize);

// ε used in stab(z) = z + ε·sgn0(z) (or z + ε, see signedStabilizer).
float stabilizerOf(const Rule& rule);
// Whether the rule is one of the public rule names (rules a user may give in `rules`).
bool isPublicRule(RuleKind kind);

// What a branch feeds into the layer instead of x.
enum class InputMod { Identity, Positive, Negative, Ones, Low, High };

// Which outputs a group of branches serves (LRP-γ splits positive and negative outputs).
enum class OutputGate { All, PositiveOutput, NegativeOutput };

struct Branch {
  InputMod input;
  ParamMod weight;
  ParamMod bias;
  float sign;  // +1 or −1: sign in the shared denominator and in the reduction
};

// Branches sharing one denominator: z = Σ sign·z_k, s = gate(R) / stab(z), R_in += coefficient·Σ sign·x_k ⊙ W_kᵀ s.
struct BranchGroup {
  float coefficient;
  OutputGate gate;
  std::vector<Branch> branches;
};

// The branch table of a linear rule. Pass has none (it is not a linear rule).
std::vector<BranchGroup> branchesOf(const Rule& rule);

}  // namespace lrp
