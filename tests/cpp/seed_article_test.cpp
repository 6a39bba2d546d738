// The seed article's network (shared/seeds/000_a65b364a637fd0e2.txt): five dense layers with a ReLU after
// every layer including the last, FirstLinear = z-box (low −1, high 1, no bias, +1e-9) and NextLinear = z-plus
// (W⁺ and x only, no bias, +1e-9), relevance seeded with the target's output. The article's numpy code is
// re-implemented below with explicit loops in double and compared with the engine's `deep-taylor` composite.
#include "test_helpers.hpp"

namespace {

using namespace lrptest;
using lrp::RuleKind;

// The article's layer: forward X·W + B with W of shape (in × out).
struct ArticleLinear {
  DMat W;  // in × out
  DVec B;
};

struct ArticleNet {
  std::vector<ArticleLinear> layers;
  lrp::Graph graph{lrp::Shape{24}};
};

ArticleNet makeArticleNet(uint32_t seed) {
  const std::vector<int> sizes = {24, 16, 12, 10, 8, 5};
  std::mt19937 rng(seed);
  ArticleNet net;
  int prev = lrp::kGraphInput;
  for (size_t k = 0; k + 1 < sizes.size(); ++k) {
    const int in = sizes[k], out = sizes[k + 1];
    const double scale = 2.45 / std::sqrt(static_cast<double>(in));
    lrp::Matrix wEngine = randomMatrix(rng, out, in, -scale, scale);  // engine: out × in
    lrp::Vector b = randomVector(rng, out, -0.3, 0.3);
    net.layers.push_back({wEngine.transpose().cast<double>(), b.cast<double>()});
    prev = net.graph.add("linear" + std::to_string(k), std::make_unique<lrp::DenseLayer>(wEngine, b), {prev});
    prev = net.graph.add("relu" + std::to_string(k), std::make_unique<lrp::ReLULayer>(), {prev});
  }
  return net;
}

// Network.forward, keeping each Linear's input X (as the article's layers do).
DVec articleForward(const ArticleNet& net, const DVec& x, std::vector<DVec>& layerInputs) {
  DVec X = x;
  layerInputs.clear();
  for (const ArticleLinear& l : net.layers) {
    layerInputs.push_back(X);
    DVec Z(l.W.cols());
    for (Eigen::Index j = 0; j < l.W.cols(); ++j) {
      double z = l.B(j);
      for (Eigen::Index i = 0; i < l.W.rows(); ++i) z += X(i) * l.W(i, j);
      Z(j) = z;
    }
    X = Z.cwiseMax(0.0);  // ReLU: X * (X > 0)
  }
  return X;
}

// Network.relprop(Y * T): ReLU.relprop is the identity; NextLinear and FirstLinear as in the article.
DVec articleRelprop(const ArticleNet& net, const std::vector<DVec>& layerInputs, DVec R) {
  for (int k = static_cast<int>(net.layers.size()) - 1; k >= 0; --k) {
    const DMat& W = net.layers[static_cast<size_t>(k)].W;
    const DVec& X = layerInputs[static_cast<size_t>(k)];
    const Eigen::Index in = W.rows(), out = W.cols();
    DVec Rin = DVec::Zero(in);
    if (k > 0) {  // NextLinear: V = max(0, W); Z = X·V + 1e-9; S = R/Z; C = S·Vᵀ; R = X*C
      for (Eigen::Index j = 0; j < out; ++j) {
        double Z = 1e-9;
        for (Eigen::Index i = 0; i < in; ++i) Z += X(i) * std::max(0.0, W(i, j));
        const double S = R(j) / Z;
        for (Eigen::Index i = 0; i < in; ++i) Rin(i) += X(i) * std::max(0.0, W(i, j)) * S;
      }
    } else {  // FirstLinear: L = −1, H = 1; Z = X·W − L·V − H·U + 1e-9; R = X*(S·Wᵀ) − L*(S·Vᵀ) − H*(S·Uᵀ)
      const double L = -1.0, H = 1.0;
      for (Eigen::Index j = 0; j < out; ++j) {
        double Z = 1e-9;
        for (Eigen::Index i = 0; i < in; ++i)
          Z += X(i) * W(i, j) - L * std::max(0.0, W(i, j)) - H * std::min(0.0, W(i, j));
        const double S = R(j) / Z;
        for (Eigen::Index i = 0; i < in; ++i)
          Rin(i) += X(i) * W(i, j) * S - L * std::max(0.0, W(i, j)) * S - H * std::min(0.0, W(i, j)) * S;
      }
    }
    R = Rin;
  }
  return R;
}

lrp::CompositeParams articleParams() {
  lrp::CompositeParams p;
  p.low = {-1.0f};
  p.high = {1.0f};
  p.zeroBias = true;
  p.stabilizer = 1e-9f;
  return p;
}

TEST(SeedArticle, DeepTaylorCompositeResolvesToTheArticlesRules) {
  const ArticleNet net = makeArticleNet(301);
  const auto rules = lrp::resolveRules(net.graph, "deep-taylor", articleParams(), {});
  ASSERT_EQ(rules.size(), 10u);
  for (int id = 0; id < 10; ++id) {
    ASSERT_TRUE(rules[id].has_value()) << id;
    if (id % 2 == 1) {
      EXPECT_EQ(rules[id]->kind, RuleKind::Pass) << id;
      continue;
    }
    EXPECT_EQ(rules[id]->kind, id == 0 ? RuleKind::ZBox : RuleKind::ZPlus) << id;
    EXPECT_TRUE(rules[id]->zeroBias) << id;
    EXPECT_FLOAT_EQ(rules[id]->stabilizer, 1e-9f) << id;
  }
  EXPECT_EQ(rules[0]->low, std::vector<float>{-1.0f});
  EXPECT_EQ(rules[0]->high, std::vector<float>{1.0f});
}

TEST(SeedArticle, ReproducesTheArticlesRelprop) {
  const ArticleNet net = makeArticleNet(301);
  lrp::ExplainRequest req;
  req.rules = lrp::resolveRules(net.graph, "deep-taylor", articleParams(), {});
  std::mt19937 rng(302);
  int explained = 0, conserved = 0;
  for (int sample = 0; sample < 24; ++sample) {
    const lrp::Vector x = randomVector(rng, 24, -1, 1);  // inside the box [low, high]
    std::vector<DVec> layerInputs;
    const DVec Y = articleForward(net, x.cast<double>(), layerInputs);
    for (int target = 0; target < 5; ++target) {
      if (Y(target) <= 0.05) continue;  // a dead output has no relevance to explain
      req.target = target;
      const lrp::Explanation e = explainVec(net.graph, x, req);
      EXPECT_TRUE(closeScaled(e.output, Y, 1e-5));
      const DVec want = articleRelprop(net, layerInputs, oneHot(5, target, Y(target)));  // R = Y * T
      if (want.cwiseAbs().maxCoeff() == 0.0) {
        // The output is alive only through biases the rules drop (every Σ x w⁺ feeding it is 0): no relevance.
        EXPECT_EQ(e.relevance.cwiseAbs().maxCoeff(), 0.0f) << "sample " << sample << " target " << target;
        continue;
      }
      EXPECT_TRUE(closeScaled(e.relevance, want, 1e-4)) << "sample " << sample << " target " << target;
      EXPECT_LT(relDiff(e.relevance.cast<double>().sum(), want.sum()), 1e-4);
      // Deep Taylor conserves Σ R_i = f_t(x) (the article's claim) unless a neuron carrying relevance has
      // Σ x w⁺ = 0 (alive through its dropped bias only).
      if (relDiff(want.sum(), Y(target)) < 1e-6) ++conserved;
      ++explained;
    }
  }
  EXPECT_GE(explained, 8) << "too few live outputs: the test would be vacuous";
  EXPECT_GE(conserved * 2, explained) << "conservation should be the rule";
  RecordProperty("explained", explained);
  RecordProperty("conserved", conserved);
}

// The article explains a whole batch at once; explainBatch (each column's predicted class) agrees.
TEST(SeedArticle, BatchMatchesArticle) {
  const ArticleNet net = makeArticleNet(311);
  lrp::ExplainRequest req;
  req.rules = lrp::resolveRules(net.graph, "deep-taylor", articleParams(), {});
  std::mt19937 rng(312);
  const lrp::Matrix X = randomMatrix(rng, 24, 6, -1, 1);
  const std::vector<lrp::Explanation> batch = lrp::explainBatch(net.graph, X, req);
  ASSERT_EQ(batch.size(), 6u);
  int live = 0;
  for (int c = 0; c < 6; ++c) {
    std::vector<DVec> layerInputs;
    const DVec Y = articleForward(net, X.col(c).cast<double>(), layerInputs);
    Eigen::Index t;
    const double top = Y.maxCoeff(&t);
    EXPECT_EQ(batch[c].target, static_cast<int>(t));
    if (top <= 0.05) continue;
    ++live;
    EXPECT_TRUE(closeScaled(batch[c].relevance, articleRelprop(net, layerInputs, oneHot(5, static_cast<int>(t), top)), 1e-4))
        << "column " << c;
  }
  EXPECT_GE(live, 3);
}

// Keeping the bias (zeroBias false) is a different explanation: the article's variant is really selected.
TEST(SeedArticle, ZeroBiasMatters) {
  const ArticleNet net = makeArticleNet(301);
  std::mt19937 rng(302);
  lrp::Vector x;
  for (int k = 0; k < 20; ++k) {  // an input whose top output is alive
    x = randomVector(rng, 24, -1, 1);
    if (net.graph.predict(x).maxCoeff() > 0.1f) break;
  }
  lrp::ExplainRequest a, b;
  a.rules = lrp::resolveRules(net.graph, "deep-taylor", articleParams(), {});
  lrp::CompositeParams withBias = articleParams();
  withBias.zeroBias = false;
  b.rules = lrp::resolveRules(net.graph, "deep-taylor", withBias, {});
  const lrp::Explanation ea = explainVec(net.graph, x, a), eb = explainVec(net.graph, x, b);
  ASSERT_EQ(ea.target, eb.target);
  ASSERT_GT(ea.relevance.cwiseAbs().maxCoeff(), 0.0f);
  EXPECT_GT((ea.relevance - eb.relevance).cwiseAbs().maxCoeff(), 1e-4 * ea.relevance.cwiseAbs().maxCoeff());
}

}  // namespace
