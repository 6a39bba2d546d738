// Rules with a formula of their own, for layers of the matching role (internal header). The math and its
// sources are in shared/ATTNLRP.md; each implementation cites its rule number. Rules 7–9 are defined next to
// their layers (layernorm.cpp, softmax.cpp, matmul.cpp).
#pragma once

#include "lrp/rules.hpp"

namespace lrp {

// Product of two activations (Role::Product, Role::Quotient): uniform, each factor gets R/2 (AttnLRP
// Prop. 3.2, Eq. 7), summed over the axes it was broadcast along; with rule.silentInput = k, input k gets
// nothing and the other all of R (the signal rule for gates; a quotient's numerator).
std::vector<Matrix> productRelevance(const Layer& layer, const std::vector<const Matrix*>& inputs, const Matrix& z,
                                     const Matrix& relevance, const Rule& rule);

// ATTNLRP rule 7 (Role::LayerNorm), rule 8 (Role::Softmax) and rule 9 (Role::MatMul).
std::vector<Matrix> layerNormRelevance(const Layer& layer, const std::vector<const Matrix*>& inputs, const Matrix& z,
                                       const Matrix& relevance, const Rule& rule);
std::vector<Matrix> softmaxRelevance(const Layer& layer, const std::vector<const Matrix*>& inputs, const Matrix& z,
                                     const Matrix& relevance, const Rule& rule);
std::vector<Matrix> matmulRelevance(const Layer& layer, const std::vector<const Matrix*>& inputs, const Matrix& z,
                                    const Matrix& relevance, const Rule& rule);

// R / stab(z) with the rule's ε: z + ε (LXT's `_stabilize`, st+, not sign-aware) when
// rule.signedStabilizer is false, else z + ε·sgn0(z) (st±, sgn0(0) = +1).
inline Matrix stabilizedRatio(const Matrix& relevance, const Matrix& z, const Rule& rule) {
  const float eps = rule.stabilizer;
  if (!rule.signedStabilizer) return (relevance.array() / (z.array() + eps)).matrix();
  return relevance.cwiseQuotient(z.unaryExpr([eps](float v) { return v >= 0.0f ? v + eps : v - eps; }));
}

}  // namespace lrp
