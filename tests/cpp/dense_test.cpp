// DenseLayer's maps against naive double-precision loops on the modified weight, for every parameter modifier,
// over sizes that exercise the 4-wide SIMD bodies and their scalar tails (in and out not multiples of 4) and
// batches of 1–5 samples (the 2-column and 1-column blocks) and over sequences of 2–45 tokens per sample (the token-blocked product and the packed GEMM). The modifier is applied in the kernels' loads
// (kernels.cpp), so these are the only check that each load computes what Modifier::applyModifier does.
#include "test_helpers.hpp"

namespace {

using namespace lrptest;
using lrp::ParamMod;

DMat modify(const DMat& w, ParamMod mod, double gamma) {
  DMat out = w;
  for (Eigen::Index i = 0; i < w.size(); ++i) {
    const double p = w.data()[i];
    double& q = out.data()[i];
    switch (mod) {
      case ParamMod::Identity: q = p; break;
      case ParamMod::Positive: q = pos(p); break;
      case ParamMod::Negative: q = neg(p); break;
      case ParamMod::GammaPositive: q = p + gamma * pos(p); break;
      case ParamMod::GammaNegative: q = p + gamma * neg(p); break;
      case ParamMod::Square: q = p * p; break;
      case ParamMod::Ones: q = 1.0; break;
      case ParamMod::Zero: q = 0.0; break;
    }
  }
  return out;
}

// closeScaled refuses an all-zero reference as vacuous; a zero modified weight (Zero, or W⁻ of a 1×1 positive
// weight) must give exact zeros.
::testing::AssertionResult matches(const lrp::Matrix& got, const DMat& want) {
  if (want.isZero(0.0)) {
    if (got.isZero(0.0)) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "expected zeros, max |got| " << got.cwiseAbs().maxCoeff();
  }
  return closeScaled(got, want, 1e-5);
}

TEST(DenseMaps, EveryModifierAgainstNaiveLoops) {
  const double gamma = 0.25;
  const std::vector<std::pair<int, int>> sizes = {{1, 1}, {3, 5}, {4, 4}, {7, 9}, {8, 16}, {13, 6}, {33, 70}};
  const ParamMod mods[] = {ParamMod::Identity,      ParamMod::Positive, ParamMod::Negative, ParamMod::GammaPositive,
                           ParamMod::GammaNegative, ParamMod::Square,   ParamMod::Ones,     ParamMod::Zero};
  std::mt19937 rng(10);
  for (const auto& [out, in] : sizes) {
    const lrp::Matrix w = randomMatrix(rng, out, in, -1, 1);
    const lrp::Vector b = randomVector(rng, out, -1, 1);
    lrp::DenseLayer layer(w, b);
    const DMat wd = w.cast<double>();
    for (int batch = 1; batch <= 5; ++batch) {
      const lrp::Matrix X = randomMatrix(rng, in, batch, -1, 1);
      const lrp::Matrix S = randomMatrix(rng, out, batch, -1, 1);
      for (const ParamMod mod : mods) {
        const DMat wm = modify(wd, mod, gamma);
        const lrp::Modifier m{mod, static_cast<float>(gamma)};
        DMat wantZ = wm * X.cast<double>();
        EXPECT_TRUE(matches(layer.mapForward(X, m, nullptr), wantZ))
            << "forward " << out << "x" << in << " batch " << batch << " modifier " << static_cast<int>(mod);
        wantZ.colwise() += b.cast<double>();
        EXPECT_TRUE(matches(layer.mapForward(X, m, &b), wantZ))
            << "forward+bias " << out << "x" << in << " batch " << batch << " modifier " << static_cast<int>(mod);
        EXPECT_TRUE(matches(layer.mapTranspose(S, m), DMat(wm.transpose() * S.cast<double>())))
            << "transpose " << out << "x" << in << " batch " << batch << " modifier " << static_cast<int>(mod);
      }
    }
  }
}

// Sequences: 2–31 tokens per sample run the token-blocked forward product, 32 or more the packed GEMM (both
// maps), with partial blocks and panels; every modifier, one and two samples, against double loops per sample.
TEST(DenseMaps, EveryModifierOverTokens) {
  const double gamma = 0.25;
  const ParamMod mods[] = {ParamMod::Identity,      ParamMod::Positive, ParamMod::Negative, ParamMod::GammaPositive,
                           ParamMod::GammaNegative, ParamMod::Square,   ParamMod::Ones,     ParamMod::Zero};
  std::mt19937 rng(12);
  for (const auto& [out, in] : std::vector<std::pair<int, int>>{{7, 9}, {16, 8}, {33, 70}}) {
    const lrp::Matrix w = randomMatrix(rng, out, in, -1, 1);
    lrp::DenseLayer layer(w, lrp::Vector());
    const DMat wd = w.cast<double>();
    for (int tokens : {2, 3, 17, 32, 33, 45})
      for (int samples : {1, 2}) {
        const lrp::Matrix X = randomMatrix(rng, in * tokens, samples, -1, 1);
        const lrp::Matrix S = randomMatrix(rng, out * tokens, samples, -1, 1);
        for (const ParamMod mod : mods) {
          const DMat wm = modify(wd, mod, gamma);
          const lrp::Modifier m{mod, static_cast<float>(gamma)};
          const lrp::Matrix Z = layer.mapForward(X, m, nullptr), R = layer.mapTranspose(S, m);
          for (int c = 0; c < samples; ++c) {
            const DMat xs = Eigen::Map<const lrp::Matrix>(X.col(c).data(), in, tokens).cast<double>();
            const DMat ss = Eigen::Map<const lrp::Matrix>(S.col(c).data(), out, tokens).cast<double>();
            EXPECT_TRUE(matches(Eigen::Map<const lrp::Matrix>(Z.col(c).data(), out, tokens), DMat(wm * xs)))
                << "forward " << out << "x" << in << " tokens " << tokens << " modifier " << static_cast<int>(mod);
            EXPECT_TRUE(matches(Eigen::Map<const lrp::Matrix>(R.col(c).data(), in, tokens), DMat(wm.transpose() * ss)))
                << "transpose " << out << "x" << in << " tokens " << tokens << " modifier " << static_cast<int>(mod);
          }
          // a sample's values do not depend on the others in the batch (explainBatch runs chunks)
          if (samples == 2) {
            EXPECT_EQ(Z.col(1), layer.mapForward(X.col(1), m, nullptr).col(0));
            EXPECT_EQ(R.col(1), layer.mapTranspose(S.col(1), m).col(0));
          }
        }
      }
  }
}

// A sequence input [T, in]: the layer applies along the last axis, each token one column of the product.
TEST(DenseMaps, TokensOfASequence) {
  std::mt19937 rng(11);
  const int out = 6, in = 5, tokens = 3;
  const lrp::Matrix w = randomMatrix(rng, out, in, -1, 1);
  lrp::DenseLayer layer(w, lrp::Vector());
  const lrp::Matrix X = randomMatrix(rng, in * tokens, 2, -1, 1);  // 2 samples of [3, 5], row-major
  const lrp::Modifier m{ParamMod::Positive, 0.0f};
  const lrp::Matrix Z = layer.mapForward(X, m, nullptr);
  ASSERT_EQ(Z.rows(), out * tokens);
  const DMat wp = w.cast<double>().cwiseMax(0.0);
  for (int n = 0; n < 2; ++n)
    for (int t = 0; t < tokens; ++t) {
      const DVec want = wp * X.col(n).segment(t * in, in).cast<double>();
      EXPECT_TRUE(closeScaled(lrp::Matrix(Z.col(n).segment(t * out, out)), DMat(want), 1e-5)) << n << " " << t;
    }
}

}  // namespace
