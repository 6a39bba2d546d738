// Shared machinery of linear layers: parameter modifiers and the plain forward/gradient.
#include "lrp/layers.hpp"

namespace lrp {

float Modifier::applyModifier(ParamMod mod, float gamma, float p) {
  return withModifier(Modifier{mod, gamma}, [p](auto f) { return f(p); });
}

Matrix LinearLayer::modifiedWeight(const Modifier& mod) const {
  const Matrix w = weight();
  return withModifier(mod, [&](auto f) -> Matrix { return w.unaryExpr(f); });
}

Vector LinearLayer::modifiedBias(const Modifier& mod) const {
  return withModifier(mod, [&](auto f) -> Vector { return bias_.unaryExpr(f); });
}

namespace {
bool usesGamma(ParamMod mod) { return mod == ParamMod::GammaPositive || mod == ParamMod::GammaNegative; }
}  // namespace

const Vector& LinearLayer::onesResponse(int inputFeatures, ParamMod weight, ParamMod bias, float gamma) const {
  const auto key = std::make_tuple(weight, bias, usesGamma(weight) || usesGamma(bias) ? gamma : 0.0f);
  auto it = onesCache_.find(key);
  if (it == onesCache_.end()) {
    Vector b;
    if (bias_.size() != 0 && bias != ParamMod::Zero) b = modifiedBias(Modifier{bias, gamma});
    const Matrix response = mapForward(Matrix::Ones(inputFeatures, 1), Modifier{weight, gamma}, b.size() ? &b : nullptr);
    it = onesCache_.emplace(key, response.col(0)).first;
  }
  return it->second;
}

int64_t LinearLayer::memoryBytes() const {
  int64_t bytes = bytesOf(weight_) + bytesOf(bias_);
  for (const auto& entry : onesCache_) bytes += bytesOf(entry.second);
  return bytes;
}

Matrix LinearLayer::forward(const std::vector<const Matrix*>& inputs) const {
  return mapForward(*inputs[0], Modifier{}, bias_.size() ? &bias_ : nullptr);
}

std::vector<Matrix> LinearLayer::gradient(const std::vector<const Matrix*>&, const Matrix&,
                                          const Matrix& gradOutput) const {
  return {mapTranspose(gradOutput, Modifier{})};
}

}  // namespace lrp
