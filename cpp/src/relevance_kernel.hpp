// The one relevance kernel shared by every rule on every linear layer (internal header).
#pragma once

#include "lrp/rules.hpp"

namespace lrp {

// Relevance of the input x of `layer` under `rule`, given the layer's original output z and the relevance
// R at its output (all matrices: one column per sample). For each branch group of the rule:
//   z_k = map(x_k; W_k) + b_k,  s = gate(R) / stab(Σ_k sign_k z_k),  R_in += coefficient Σ_k sign_k x_k ⊙ mapᵀ(s; W_k)
Matrix linearRelevance(const LinearLayer& layer, const Matrix& x, const Matrix& z, const Matrix& relevance,
                       const Rule& rule);

// stab(z) = z + ε·sgn0(z), sgn0(0) = +1 (Zennit's stabilizer); with ε = 0 a zero denominator yields s = 0.
Matrix stabilizedDivide(const Matrix& numerator, const Matrix& denominator, float epsilon);

}  // namespace lrp
