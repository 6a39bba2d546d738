// ATTNLRP rules 7–9 (LayerNorm, softmax, matrix products of activations). Filled in with their layers.
#include "special_rules.hpp"

namespace lrp {

namespace {
[[noreturn]] void noSuchLayer(const char* rule) {
  throw Error(std::string("rule '") + rule + "' has no layer yet");
}
}  // namespace

std::vector<Matrix> layerNormRelevance(const Layer&, const std::vector<const Matrix*>&, const Matrix&, const Matrix&,
                                       const Rule&) {
  noSuchLayer("layernorm");
}

std::vector<Matrix> softmaxRelevance(const Layer&, const std::vector<const Matrix*>&, const Matrix&, const Matrix&,
                                     const Rule&) {
  noSuchLayer("softmax");
}

std::vector<Matrix> matmulRelevance(const Layer&, const std::vector<const Matrix*>&, const Matrix&, const Matrix&,
                                    const Rule&) {
  noSuchLayer("matmul");
}

}  // namespace lrp
