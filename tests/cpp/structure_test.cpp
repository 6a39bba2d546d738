// Residual Add, element-wise activations and a standalone batch-norm (concat and pad: reindex_test.cpp):
// forward and gradient against naive versions, their LRP behaviour (norm rule on sums, pass on
// activations and batch-norm) and conservation through residual blocks.
#include "test_helpers.hpp"

#include <cmath>

namespace {

using namespace lrptest;
using lrp::Activation;
using lrp::Matrix;
using lrp::RuleKind;
using lrp::Vector;

Matrix run(const lrp::Layer& layer, const std::vector<const Matrix*>& inputs) { return layer.forward(inputs); }

TEST(AddLayer, ForwardGradientAndShapes) {
  std::mt19937 rng(1);
  const Matrix a = randomMatrix(rng, 6, 3, -1, 1), b = randomMatrix(rng, 6, 3, -1, 1), g = randomMatrix(rng, 6, 3, -1, 1);
  lrp::BinaryLayer add(lrp::BinaryOp::Add, {{2, 3}, {2, 3}});
  EXPECT_EQ(add.outputShape({{2, 3}, {2, 3}}), (lrp::Shape{2, 3}));
  EXPECT_TRUE(throwsWith([&] { lrp::BinaryLayer(lrp::BinaryOp::Add, {{2, 3}, {3, 2}}); }, "do not broadcast"));
  EXPECT_TRUE(closeScaled(run(add, {&a, &b}), (a + b).cast<double>(), 1e-7));
  const auto grads = add.gradient({&a, &b}, a + b, g);
  ASSERT_EQ(grads.size(), 2u);
  EXPECT_TRUE(closeScaled(grads[1], g.cast<double>(), 0));

  const Vector constant = randomVector(rng, 6, -1, 1);
  lrp::BinaryLayer withConstant(lrp::BinaryOp::Add, {{2, 3}}, constant);
  EXPECT_TRUE(throwsWith([&] { lrp::BinaryLayer(lrp::BinaryOp::Add, {{5}}, constant); }, "constant has 6 values"));
  EXPECT_TRUE(closeScaled(run(withConstant, {&a}), (a.colwise() + constant).cast<double>(), 1e-7));
}

TEST(ActivationLayer, ForwardAndGradientMatchFiniteDifferences) {
  std::mt19937 rng(4);
  const Matrix x = randomMatrix(rng, 40, 1, -3, 3);
  struct Case {
    Activation kind;
    float a, b;
    double (*f)(double, double, double);
  };
  const Case cases[] = {
      {Activation::ReLU, 0, 0, [](double v, double, double) { return std::max(v, 0.0); }},
      {Activation::LeakyReLU, 0.1f, 0, [](double v, double a, double) { return v > 0 ? v : a * v; }},
      {Activation::Clip, -1.0f, 2.0f, [](double v, double a, double b) { return std::min(std::max(v, a), b); }},
      {Activation::Sigmoid, 0, 0, [](double v, double, double) { return 1 / (1 + std::exp(-v)); }},
      {Activation::Tanh, 0, 0, [](double v, double, double) { return std::tanh(v); }},
  };
  for (const Case& c : cases) {
    lrp::ActivationLayer layer(c.kind, c.a, c.b);
    const Matrix y = run(layer, {&x});
    const Matrix g = layer.gradient({&x}, y, Matrix::Ones(40, 1))[0];
    for (int i = 0; i < 40; ++i) {
      const double v = x(i, 0), h = 1e-3;
      EXPECT_NEAR(y(i, 0), c.f(v, c.a, c.b), 1e-6) << layer.kind();
      const double fd = (c.f(v + h, c.a, c.b) - c.f(v - h, c.a, c.b)) / (2 * h);
      EXPECT_NEAR(g(i, 0), fd, 1e-3) << layer.kind() << " at " << v;
    }
  }
  EXPECT_TRUE(throwsWith([] { lrp::ActivationLayer(lrp::Activation::Clip, 2.0f, 1.0f); }, "min <= max"));
}

TEST(BatchNormLayer, PerChannelAffineAndItsGradient) {
  const Vector scale = (Vector(2) << 2.0f, -0.5f).finished(), shift = (Vector(2) << 1.0f, 3.0f).finished();
  lrp::BatchNormLayer bn(scale, shift, {2, 1, 3});
  const Matrix x = (Matrix(6, 1) << 1, 2, 3, 4, 5, 6).finished();
  const Matrix y = run(bn, {&x});
  const Matrix want = (Matrix(6, 1) << 3, 5, 7, 1, 0.5, 0).finished();
  EXPECT_TRUE(closeScaled(y, want.cast<double>(), 1e-7));
  const Matrix g = bn.gradient({&x}, y, Matrix::Ones(6, 1))[0];
  EXPECT_TRUE(closeScaled(g, (Matrix(6, 1) << 2, 2, 2, -0.5, -0.5, -0.5).finished().cast<double>(), 0));
  EXPECT_TRUE(throwsWith([&] { lrp::BatchNormLayer(scale, shift, {3, 1, 1}); }, "one scale and shift per channel"));
}

// x → dense → relu → dense → add(·, x) → relu → dense: a residual block with an identity shortcut.
struct Residual {
  lrp::Graph graph{lrp::Shape{6}};
  Residual(uint32_t seed, bool bias) {
    std::mt19937 rng(seed);
    auto dense = [&](int out, int in) {
      return std::make_unique<lrp::DenseLayer>(randomMatrix(rng, out, in, -0.8, 0.8),
                                               bias ? randomVector(rng, out, -0.2, 0.2) : Vector());
    };
    graph.add("fc1", dense(6, 6), {lrp::kGraphInput});                 // 0
    graph.add("relu1", std::make_unique<lrp::ReLULayer>(), {0});       // 1
    graph.add("fc2", dense(6, 6), {1});                                // 2
    graph.add("add", std::make_unique<lrp::BinaryLayer>(lrp::BinaryOp::Add, std::vector<lrp::Shape>{{6}, {6}}),
              {2, lrp::kGraphInput});  // 3
    graph.add("relu2", std::make_unique<lrp::ReLULayer>(), {3});       // 4
    graph.add("head", dense(3, 6), {4});                               // 5
  }
};

TEST(ResidualBlock, AddGetsTheNormRuleAndActivationsPass) {
  Residual net(5, true);
  const auto rules = lrp::resolveRules(net.graph, "epsilon-plus", {}, {});
  EXPECT_EQ(rules[3]->kind, RuleKind::Norm);
  EXPECT_EQ(rules[1]->kind, RuleKind::Pass);
  EXPECT_EQ(rules[4]->kind, RuleKind::Pass);
}

TEST(ResidualBlock, NormRuleSplitsRelevanceByContribution) {
  Residual net(6, true);
  std::mt19937 rng(7);
  const Vector x = randomVector(rng, 6, 0.1, 1.0);
  lrp::ExplainRequest req;
  req.rules = lrp::resolveRules(net.graph, "epsilon-plus", {}, {});
  req.layerRelevance = true;
  req.target = 0;
  const lrp::Explanation e = explainVec(net.graph, x, req);
  // Recompute the add's share by hand: R_a = a · R / stab(a + b), R_b = b · R / stab(a + b).
  const lrp::Activations acts = net.graph.forward(x);
  const auto atAdd = std::find_if(e.layers.begin(), e.layers.end(), [](const auto& l) { return l.node == 3; });
  ASSERT_NE(atAdd, e.layers.end());
  const DVec R = atAdd->relevance.cast<double>(), a = acts.nodes[2].col(0).cast<double>(), b = x.cast<double>();
  DVec share(6);
  for (int i = 0; i < 6; ++i) share(i) = b(i) * R(i) / stab(a(i) + b(i), 1e-6);
  // The shortcut's share reaches the input directly, on top of what comes through fc1.
  const auto atFc1 = std::find_if(e.layers.begin(), e.layers.end(), [](const auto& l) { return l.node == 0; });
  ASSERT_NE(atFc1, e.layers.end());
  // Σ over the input = (what fc1 passed on) + (the shortcut's share).
  EXPECT_NEAR(e.relevance.cast<double>().sum(), atFc1->inputSum + share.sum(), 1e-5);
  EXPECT_NEAR(atAdd->absorbed(), 0.0, 1e-4 * std::abs(atAdd->sum) + 1e-6) << "a sum without constant conserves";
}

TEST(ResidualBlock, BiasFreeLrp0ConservesThroughTheBlock) {
  for (uint32_t seed = 10; seed < 20; ++seed) {
    Residual net(seed, false);
    std::mt19937 rng(seed);
    const Vector x = randomVector(rng, 6, -1, 1);
    lrp::ExplainRequest req;
    lrp::RuleOverride zero;
    zero.rule.kind = RuleKind::Zero;
    zero.selector = lrp::RuleOverride::Selector::Dense;
    req.rules = lrp::resolveRules(net.graph, "", {}, {zero});
    const lrp::Explanation e = explainVec(net.graph, x, req);
    const double ft = e.output(e.target);
    if (std::abs(ft) < 1e-3) continue;
    EXPECT_NEAR(e.relevance.cast<double>().sum(), ft, 1e-4 * std::max(1.0, std::abs(ft))) << "seed " << seed;
  }
}

TEST(AddLayer, AConstantOperandAbsorbsItsShare) {
  lrp::Graph g(lrp::Shape{3});
  const Vector constant = (Vector(3) << 1.0f, 1.0f, 1.0f).finished();
  g.add("bias", std::make_unique<lrp::BinaryLayer>(lrp::BinaryOp::Add, std::vector<lrp::Shape>{{3}}, constant),
        {lrp::kGraphInput});
  const Vector x = (Vector(3) << 1.0f, 3.0f, -0.5f).finished();
  lrp::ExplainRequest req;
  req.rules = lrp::resolveRules(g, "", {}, {});
  req.outputRelevance = {2.0f, 4.0f, 1.0f};
  const lrp::Explanation e = explainVec(g, x, req);
  // R_x = x · R / stab(x + c): 1·2/2, 3·4/4, −0.5·1/0.5
  EXPECT_NEAR(e.relevance(0), 1.0, 1e-5);
  EXPECT_NEAR(e.relevance(1), 3.0, 1e-5);
  EXPECT_NEAR(e.relevance(2), -1.0, 1e-5);
}

TEST(BatchNormLayer, RelevancePassesThroughAStandaloneBatchNorm) {
  lrp::Graph g(lrp::Shape{2, 1, 1});
  g.add("bn", std::make_unique<lrp::BatchNormLayer>((Vector(2) << 3.0f, -2.0f).finished(),
                                                      (Vector(2) << 0.5f, 0.5f).finished(), lrp::Shape{2, 1, 1}),
        {lrp::kGraphInput});
  lrp::ExplainRequest req;
  req.rules = lrp::resolveRules(g, "epsilon-plus", {}, {});
  EXPECT_EQ(req.rules[0]->kind, RuleKind::Pass);
  req.outputRelevance = {0.25f, -1.5f};
  const Vector x = (Vector(2) << 1.0f, 2.0f).finished();
  const lrp::Explanation e = explainVec(g, x, req);
  EXPECT_FLOAT_EQ(e.relevance(0), 0.25f);
  EXPECT_FLOAT_EQ(e.relevance(1), -1.5f);
}

}  // namespace
