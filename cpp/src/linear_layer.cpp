// Shared machinery of linear layers: parameter modifiers (cached) and the plain forward/gradient.
#include "lrp/layers.hpp"

namespace lrp {
namespace {

template <typename Tensor>
Tensor applyMod(const Tensor& p, ParamMod mod, float gamma) {
  switch (mod) {
    case ParamMod::Identity: return p;
    case ParamMod::Positive: return p.cwiseMax(0.0f);
    case ParamMod::Negative: return p.cwiseMin(0.0f);
    case ParamMod::GammaPositive: return p + gamma * p.cwiseMax(0.0f);
    case ParamMod::GammaNegative: return p + gamma * p.cwiseMin(0.0f);
    case ParamMod::Square: return p.cwiseAbs2();
    case ParamMod::Ones: return Tensor::Ones(p.rows(), p.cols());
    case ParamMod::Zero: return Tensor::Zero(p.rows(), p.cols());
  }
  throw Error("unknown parameter modifier");
}

bool usesGamma(ParamMod mod) { return mod == ParamMod::GammaPositive || mod == ParamMod::GammaNegative; }

// `original` modified by `mod`, computed on first use and kept in `cache` (std::map: stable addresses).
template <typename Tensor, typename Cache>
const Tensor& cachedMod(const Tensor& original, Cache& cache, ParamMod mod, float gamma) {
  if (mod == ParamMod::Identity) return original;
  const typename Cache::key_type key{mod, usesGamma(mod) ? gamma : 0.0f};
  auto it = cache.find(key);
  if (it == cache.end()) it = cache.emplace(key, applyMod(original, mod, gamma)).first;
  return it->second;
}

}  // namespace

const Matrix& LinearLayer::modifiedWeight(ParamMod mod, float gamma) const {
  return cachedMod(weight_, weightCache_, mod, gamma);
}

const Vector& LinearLayer::modifiedBias(ParamMod mod, float gamma) const {
  return cachedMod(bias_, biasCache_, mod, gamma);
}

const Vector& LinearLayer::onesResponse(int inputFeatures, ParamMod weight, ParamMod bias, float gamma) const {
  const auto key = std::make_tuple(weight, bias, usesGamma(weight) || usesGamma(bias) ? gamma : 0.0f);
  auto it = onesCache_.find(key);
  if (it == onesCache_.end()) {
    const Vector* b = bias_.size() != 0 && bias != ParamMod::Zero ? &modifiedBias(bias, gamma) : nullptr;
    const Matrix response = mapForward(Matrix::Ones(inputFeatures, 1), modifiedWeight(weight, gamma), b);
    it = onesCache_.emplace(key, response.col(0)).first;
  }
  return it->second;
}

bool LinearLayer::ownsWeight(const Matrix& w) const {
  if (&w == &weight_) return true;
  for (const auto& entry : weightCache_)
    if (&entry.second == &w) return true;
  return false;
}

Matrix LinearLayer::forward(const std::vector<const Matrix*>& inputs) const {
  return mapForward(*inputs[0], weight_, bias_.size() ? &bias_ : nullptr);
}

std::vector<Matrix> LinearLayer::gradient(const std::vector<const Matrix*>&, const Matrix&,
                                          const Matrix& gradOutput) const {
  return {mapTranspose(gradOutput, weight_)};
}

}  // namespace lrp
