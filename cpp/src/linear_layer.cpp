// Shared machinery of linear layers: parameter modifiers and the plain forward/gradient.
#include "lrp/layers.hpp"
#include "lrp/memory.hpp"

#include <set>

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

// The layers whose ones-responses are cached, so that releaseCaches() can find them (calls and loads run on the
// engine's calling thread: no lock).
std::set<const LinearLayer*>& layersWithCaches() {
  static std::set<const LinearLayer*> layers;
  return layers;
}
}  // namespace

LinearLayer::~LinearLayer() { layersWithCaches().erase(this); }

void LinearLayer::releaseCache() const {
  onesCache_.clear();
  layersWithCaches().erase(this);
}

void releaseCaches() {
  const std::set<const LinearLayer*> layers = layersWithCaches();
  for (const LinearLayer* layer : layers) layer->releaseCache();
}

const Vector& LinearLayer::onesResponse(int inputFeatures, ParamMod weight, ParamMod bias, float gamma) const {
  const auto key = std::make_tuple(weight, bias, usesGamma(weight) || usesGamma(bias) ? gamma : 0.0f);
  auto it = onesCache_.find(key);
  if (it == onesCache_.end()) {
    Vector b;
    if (bias_.size() != 0 && bias != ParamMod::Zero) b = modifiedBias(Modifier{bias, gamma});
    const Matrix response = mapForward(Matrix::Ones(inputFeatures, 1), Modifier{weight, gamma}, b.size() ? &b : nullptr);
    it = onesCache_.emplace(key, response.col(0)).first;
    layersWithCaches().insert(this);
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
