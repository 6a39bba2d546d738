// The rules of element-wise products of two activations (see special_rules.hpp).
#include "special_rules.hpp"

namespace lrp {

std::vector<Matrix> productRelevance(const Layer& layer, const std::vector<const Matrix*>& inputs, const Matrix&,
                                     const Matrix& relevance, const Rule& rule) {
  const auto* broadcasting = dynamic_cast<const BroadcastingLayer*>(&layer);
  if (broadcasting == nullptr || inputs.size() != 2)
    throw Error(std::string("the product rule needs a layer on two activations, not ") + layer.kind());
  // Uniform: the product z = a·b is linear in each factor with the other fixed, and both are equally
  // responsible (AttnLRP Prop. 3.2): each gets R/2. Signal: the gate only scales, its partner gets all.
  const float share = rule.silentInput < 0 ? 0.5f : 1.0f;
  std::vector<Matrix> passed;
  for (size_t k = 0; k < inputs.size(); ++k) {
    if (static_cast<int>(k) == rule.silentInput) passed.push_back(Matrix::Zero(inputs[k]->rows(), inputs[k]->cols()));
    else passed.push_back(broadcasting->reduceToInput(k, share * relevance));
  }
  return passed;
}

}  // namespace lrp
