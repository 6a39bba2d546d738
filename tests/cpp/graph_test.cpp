// The graph: shape validation, forward pass, and fan-out (one node feeding several consumers).
//
// The engine has no multi-input layer yet (no Add/Concat), so a DAG whose branches merge again can only be
// built with a layer defined here, TestAddLayer (a + b, gradient copied to both operands — what Zennit does
// for a functional add without a rule). It is an ordinary lrp::Layer subclass, so the engine's graph walk,
// fan-out summation and layer report are exercised exactly as they will be for the real Add layer.
#include "test_helpers.hpp"

#include <limits>

namespace {

using namespace lrptest;
using lrp::RuleKind;

class TestAddLayer : public lrp::Layer {
 public:
  const char* kind() const override { return "test-add"; }
  lrp::Role role() const override { return lrp::Role::Reindex; }  // no rule: its gradient copies R
  lrp::Shape outputShape(const std::vector<lrp::Shape>& shapes) const override {
    if (shapes.size() != 2 || shapes[0] != shapes[1]) throw lrp::Error("test add needs two inputs of one shape");
    return shapes[0];
  }
  lrp::Matrix forward(const std::vector<const lrp::Matrix*>& inputs) const override { return *inputs[0] + *inputs[1]; }
  std::vector<lrp::Matrix> gradient(const std::vector<const lrp::Matrix*>&, const lrp::Matrix&,
                                    const lrp::Matrix& gradOutput) const override {
    return {gradOutput, gradOutput};
  }
};

std::unique_ptr<lrp::DenseLayer> dense(std::mt19937& rng, int out, int in, bool bias = true) {
  const double s = 2.45 / std::sqrt(static_cast<double>(in));
  return std::make_unique<lrp::DenseLayer>(randomMatrix(rng, out, in, -s, s),
                                           bias ? randomVector(rng, out, -0.3, 0.3) : lrp::Vector());
}

const lrp::DenseLayer& denseAt(const lrp::Graph& g, int id) { return dynamic_cast<const lrp::DenseLayer&>(*g.node(id).layer); }
DMat Wd(const lrp::Graph& g, int id) { return denseAt(g, id).weight().cast<double>(); }
DVec bd(const lrp::Graph& g, int id) { return denseAt(g, id).bias().cast<double>(); }
DVec affine(const lrp::Graph& g, int id, const DVec& x) { return Wd(g, id) * x + bd(g, id); }

// ------------------------------------------------------------------------------------------------------------
// Shape validation.

TEST(GraphShapes, DenseWithWrongInputFeatures) {
  std::mt19937 rng(601);
  lrp::Graph g({5});
  EXPECT_TRUE(throwsWith([&] { g.add("fc", dense(rng, 3, 4), {lrp::kGraphInput}); }, "expects 4 input features, got 5"));
  EXPECT_TRUE(throwsWith([&] { g.add("fc", dense(rng, 3, 4), {lrp::kGraphInput}); }, "node 'fc'"));
  EXPECT_EQ(g.nodes().size(), 0u) << "a rejected node must not be added";
  const int id = g.add("ok", dense(rng, 3, 5), {lrp::kGraphInput});
  EXPECT_EQ(id, 0);
  EXPECT_TRUE(throwsWith([&] { g.add("fc2", dense(rng, 2, 5), {id}); }, "expects 5 input features, got 3"));
  EXPECT_EQ(g.nodes().size(), 1u);
  EXPECT_EQ(g.outputSize(), 3);
}

TEST(GraphShapes, DenseAcceptsAnyShapeOfTheRightSize) {
  std::mt19937 rng(602);
  lrp::Graph g({2, 3, 2});
  EXPECT_NO_THROW(g.add("fc", dense(rng, 4, 12), {lrp::kGraphInput}));
  EXPECT_EQ(g.node(0).outputShape, lrp::Shape{4});
}

TEST(GraphShapes, ReshapeToADifferentElementCount) {
  lrp::Graph g({2, 3});
  EXPECT_TRUE(throwsWith(
      [&] { g.add("r", std::make_unique<lrp::PassThroughLayer>(lrp::Shape{5}), {lrp::kGraphInput}); },
      "cannot reshape [2, 3] to [5]"));
  const int id = g.add("flat", std::make_unique<lrp::PassThroughLayer>(lrp::Shape{6}), {lrp::kGraphInput});
  EXPECT_EQ(g.node(id).outputShape, lrp::Shape{6});
  const int back = g.add("unflat", std::make_unique<lrp::PassThroughLayer>(lrp::Shape{3, 1, 2}), {id});
  EXPECT_EQ(g.node(back).outputShape, (lrp::Shape{3, 1, 2}));
  EXPECT_TRUE(throwsWith(
      [&] { g.add("bad", std::make_unique<lrp::PassThroughLayer>(lrp::Shape{3, 0, 2}), {id}); },
      "invalid shape"));
}

TEST(GraphShapes, ReferenceToALaterOrUnknownNode) {
  lrp::Graph g({4});
  EXPECT_TRUE(throwsWith([&] { g.add("r", std::make_unique<lrp::ReLULayer>(), {0}); }, "unknown input node 0"));  // itself
  g.add("r0", std::make_unique<lrp::ReLULayer>(), {lrp::kGraphInput});
  EXPECT_TRUE(throwsWith([&] { g.add("r1", std::make_unique<lrp::ReLULayer>(), {1}); }, "refers to unknown input node 1"));
  EXPECT_TRUE(throwsWith([&] { g.add("r1", std::make_unique<lrp::ReLULayer>(), {5}); }, "unknown input node 5"));
  EXPECT_TRUE(throwsWith([&] { g.add("r1", std::make_unique<lrp::ReLULayer>(), {-3}); }, "unknown input node -3"));
  EXPECT_TRUE(throwsWith([&] { g.add("r1", std::make_unique<lrp::ReLULayer>(), {lrp::kInputConstants}); }, "only an input-constant layer reads"));
  EXPECT_EQ(g.nodes().size(), 1u);
}

TEST(GraphShapes, StructuralErrors) {
  lrp::Graph g({4});
  EXPECT_TRUE(throwsWith([&] { g.add("none", std::make_unique<lrp::ReLULayer>(), {}); }, "has no inputs"));
  EXPECT_TRUE(throwsWith([&] { g.add("null", nullptr, {lrp::kGraphInput}); }, "has no layer"));
  EXPECT_TRUE(throwsWith([&] { g.add("two", std::make_unique<lrp::ReLULayer>(), {lrp::kGraphInput, lrp::kGraphInput}); },
                         "relu takes one input"));
  std::mt19937 rng(603);
  EXPECT_TRUE(throwsWith([&] { g.add("two", dense(rng, 2, 4), {lrp::kGraphInput, lrp::kGraphInput}); }, "one input"));
  // An empty graph cannot run.
  EXPECT_TRUE(throwsWith([&] { g.predict(lrp::Matrix::Zero(4, 1)); }, "no layers"));
  EXPECT_TRUE(throwsWith([&] { g.outputSize(); }, "no layers"));
}

TEST(GraphShapes, InvalidGraphAndLayerConstruction) {
  EXPECT_TRUE(throwsWith([] { lrp::Graph g(lrp::Shape{}); }, "needs a shape"));
  EXPECT_TRUE(throwsWith([] { lrp::Graph g({3, -1}); }, "invalid shape [3, -1]"));
  EXPECT_TRUE(throwsWith([] { lrp::Graph g({1 << 16, 1 << 16}); }, "too large"));
  EXPECT_TRUE(throwsWith([] { lrp::DenseLayer d(lrp::Matrix::Ones(4, 3), lrp::Vector::Ones(3)); }, "bias has 3 values, expected 4"));
  EXPECT_TRUE(throwsWith([] { lrp::DenseLayer d(lrp::Matrix(0, 3), lrp::Vector()); }, "non-empty"));
}

TEST(GraphShapes, PredictChecksItsInput) {
  const Mlp net = makeMlp(604, {5, 4, 2});
  EXPECT_TRUE(throwsWith([&] { net.graph.predict(lrp::Matrix::Zero(4, 1)); }, "input has 4 values, expected 5"));
  lrp::Matrix x = lrp::Matrix::Zero(5, 2);
  x(4, 1) = -std::numeric_limits<float>::infinity();
  EXPECT_TRUE(throwsWith([&] { net.graph.predict(x); }, "NaN or Infinity"));
}

TEST(Graph, LayerKindNames) {
  std::mt19937 rng(5);
  EXPECT_STREQ(dense(rng, 2, 3)->kind(), "dense");
  EXPECT_STREQ(lrp::ActivationLayer(lrp::Activation::ReLU).kind(), "relu");
  EXPECT_STREQ(lrp::PassThroughLayer(lrp::Shape{6}).kind(), "reshape");
  EXPECT_STREQ(lrp::PassThroughLayer().kind(), "identity");
}

// The layer table builds every kind from a spec, names an unknown kind, and refuses a stated output shape
// that differs from the engine's.
TEST(Graph, BuildsLayersFromSpecs) {
  lrp::Graph g(lrp::Shape{2, 3});
  lrp::LayerSpec spec;
  spec.set("weight", std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  spec.set("outputShape", std::vector<double>{2, 4});
  const int id = g.add("fc", "dense", spec, {lrp::kGraphInput});
  EXPECT_EQ(g.node(id).outputShape, (lrp::Shape{2, 4}));
  EXPECT_STREQ(g.node(id).layer->kind(), "dense");
  EXPECT_TRUE(throwsWith([&] { g.add("x", "no-such-kind", lrp::LayerSpec(), {id}); }, "unknown layer kind 'no-such-kind'"));
  lrp::LayerSpec relu;
  relu.set("outputShape", std::vector<double>{8});
  EXPECT_TRUE(throwsWith([&] { g.add("r", "relu", relu, {id}); }, "expects output shape [8], the engine computes [2, 4]"));
  EXPECT_TRUE(throwsWith([&] { g.add("d", "dense", lrp::LayerSpec(), {id}); }, "missing option 'weight'") ||
              throwsWith([&] { g.add("d", "dense", lrp::LayerSpec(), {id}); }, "dense weight has 0 values"));
  EXPECT_EQ(g.nodes().size(), 1u);
}

// ------------------------------------------------------------------------------------------------------------
// Forward.

TEST(GraphForward, MatchesReferenceAndKeepsEveryNode) {
  MlpOptions opt;
  opt.flattenFirst = true;
  const Mlp net = makeMlp(610, {6, 5, 4, 3}, opt);
  std::mt19937 rng(611);
  const lrp::Matrix X = randomMatrix(rng, 6, 4, -1, 1);
  const lrp::Activations acts = net.graph.forward(X);
  ASSERT_EQ(acts.nodes.size(), net.graph.nodes().size());
  EXPECT_TRUE(acts.input == X);
  for (int c = 0; c < 4; ++c) {
    const std::vector<DVec> ref = refForward(net, X.col(c).cast<double>());
    for (size_t id = 0; id < ref.size(); ++id) EXPECT_TRUE(closeScaled(acts.nodes[id].col(c), ref[id], 1e-5)) << id;
    // a column's result does not depend on the other columns
    EXPECT_TRUE(closeScaled(net.graph.predict(X.col(c)), acts.nodes.back().col(c).cast<double>(), 1e-6));
  }
  EXPECT_TRUE(net.graph.predict(X) == acts.nodes.back());
  EXPECT_TRUE(&acts.inputOf(net.graph.nodes(), 0, 0) == &acts.input);
  EXPECT_TRUE(&acts.inputOf(net.graph.nodes(), 2, 0) == &acts.nodes[1]);
  // ReLU outputs are non-negative, and identical to the input where positive
  EXPECT_GE(acts.nodes[2].minCoeff(), 0.0f);
}

TEST(GraphForward, IdentityLayerPassesThrough) {
  lrp::Graph g({3});
  g.add("id", std::make_unique<lrp::PassThroughLayer>(), {lrp::kGraphInput});
  lrp::Matrix x(3, 2);
  x << 1, -2, 3, 4, -5, 6;
  EXPECT_TRUE(g.predict(x) == x);
  EXPECT_EQ(g.node(0).outputShape, lrp::Shape{3});
  lrp::ExplainRequest req;
  req.method = lrp::Method::Gradient;
  req.target = 1;
  const lrp::Explanation e = explainVec(g, x.col(0), req);
  EXPECT_EQ(e.relevance, (lrp::Vector(3) << 0, 1, 0).finished());
}

// ------------------------------------------------------------------------------------------------------------
// Fan-out.

// input → A → relu ─┬→ B ─┐
//                   └→ C ─┴→ add → out
struct Diamond {
  lrp::Graph graph{lrp::Shape{6}};
  Diamond() {
    std::mt19937 rng(620);
    graph.add("A", dense(rng, 5, 6), {lrp::kGraphInput});                // 0
    graph.add("relu", std::make_unique<lrp::ReLULayer>(), {0});           // 1
    graph.add("B", dense(rng, 4, 5), {1});                               // 2
    graph.add("C", dense(rng, 4, 5), {1});                               // 3
    graph.add("add", std::make_unique<TestAddLayer>(), {2, 3});          // 4
    graph.add("out", dense(rng, 3, 4), {4});                             // 5
  }
};

TEST(FanOut, GradientSumsBothBranches) {
  const Diamond d;
  const lrp::Graph& g = d.graph;
  std::mt19937 rng(621);
  for (int k = 0; k < 4; ++k) {
    const lrp::Vector x = randomVector(rng, 6, -1, 1);
    const DVec xd = x.cast<double>();
    for (int t = 0; t < 3; ++t) {
      lrp::ExplainRequest req;
      req.method = lrp::Method::Gradient;
      req.target = t;
      const lrp::Explanation e = explainVec(g, x, req);
      // f = out(B r + C r), r = relu(A x): ∇f = Aᵀ (1[Ax+b > 0] ⊙ (Bᵀ + Cᵀ) outᵀ e_t)
      const DVec pre = affine(g, 0, xd);
      const DVec gAdd = Wd(g, 5).transpose() * oneHot(3, t, 1.0);
      DVec gr = Wd(g, 2).transpose() * gAdd + Wd(g, 3).transpose() * gAdd;
      for (Eigen::Index j = 0; j < gr.size(); ++j) gr(j) = pre(j) > 0 ? gr(j) : 0.0;
      EXPECT_TRUE(closeScaled(e.relevance, Wd(g, 0).transpose() * gr, 1e-5));
      // forward of the diamond
      const DVec r = pre.cwiseMax(0.0);
      EXPECT_TRUE(closeScaled(e.output, affine(g, 5, affine(g, 2, r) + affine(g, 3, r)), 1e-5));
    }
  }
}

TEST(FanOut, LrpRelevanceFromBothConsumersIsSummed) {
  const Diamond d;
  const lrp::Graph& g = d.graph;
  std::mt19937 rng(622);
  const lrp::Vector x = randomVector(rng, 6, -1, 1);
  const DVec xd = x.cast<double>();
  const lrp::Rule eps = epsilonRule(0.01f);
  lrp::ExplainRequest req;
  req.target = 1;
  req.layerRelevance = true;
  req.rules = lrp::resolveRules(g, "", {}, {overrideFor(lrp::RuleOverride::Selector::Dense, eps)});
  ASSERT_FALSE(req.rules[4].has_value()) << "the add has no rule: it passes its gradient (copies R to both operands)";
  const lrp::Explanation e = explainVec(g, x, req);

  const DVec pre = affine(g, 0, xd), r = pre.cwiseMax(0.0);
  const DVec b = affine(g, 2, r), c = affine(g, 3, r), sum = b + c, y = affine(g, 5, sum);
  const DVec Rsum = refRule(Wd(g, 5), bd(g, 5), sum, oneHot(3, 1, y(1)), eps);
  const DVec Rr = refRule(Wd(g, 2), bd(g, 2), r, Rsum, eps) + refRule(Wd(g, 3), bd(g, 3), r, Rsum, eps);
  const DVec want = refRule(Wd(g, 0), bd(g, 0), xd, Rr, eps);
  EXPECT_TRUE(closeScaled(e.relevance, want, 1e-4));

  // The report: the relu's output holds what B and C handed on together; the add handed on 2× its sum.
  ASSERT_EQ(e.layers.size(), 6u);
  auto at = [&](int node) -> const lrp::LayerRelevance& {
    for (const auto& l : e.layers)
      if (l.node == node) return l;
    throw std::runtime_error("node missing from the report");
  };
  EXPECT_TRUE(closeScaled(at(1).relevance, Rr, 1e-4));
  EXPECT_NEAR(at(1).sum, at(2).inputSum + at(3).inputSum, 1e-5 * std::abs(y(1)));
  EXPECT_NEAR(at(4).inputSum, 2.0 * at(4).sum, 1e-5 * std::abs(y(1)));
  EXPECT_TRUE(closeScaled(at(2).relevance, Rsum, 1e-4));
  EXPECT_TRUE(closeScaled(at(3).relevance, Rsum, 1e-4));
}

// The graph input itself feeds two consumers: their gradients are summed into the input's.
TEST(FanOut, GraphInputFeedsTwoNodes) {
  std::mt19937 rng(630);
  lrp::Graph g({5});
  g.add("A", dense(rng, 4, 5), {lrp::kGraphInput});
  g.add("B", dense(rng, 4, 5), {lrp::kGraphInput});
  g.add("add", std::make_unique<TestAddLayer>(), {0, 1});
  g.add("out", dense(rng, 2, 4), {2});
  const lrp::Vector x = randomVector(rng, 5, -1, 1);
  lrp::ExplainRequest req;
  req.method = lrp::Method::Gradient;
  req.target = 0;
  const DVec gAdd = Wd(g, 3).transpose() * oneHot(2, 0, 1.0);
  EXPECT_TRUE(closeScaled(explainVec(g, x, req).relevance, Wd(g, 0).transpose() * gAdd + Wd(g, 1).transpose() * gAdd, 1e-5));

  const lrp::Rule zero = makeRule(RuleKind::Zero);
  lrp::ExplainRequest lrpReq;
  lrpReq.target = 0;
  lrpReq.rules = lrp::resolveRules(g, "", {}, {overrideFor(lrp::RuleOverride::Selector::Dense, zero)});
  const DVec xd = x.cast<double>();
  const DVec s = affine(g, 0, xd) + affine(g, 1, xd), y = affine(g, 3, s);
  const DVec Rs = refRule(Wd(g, 3), bd(g, 3), s, oneHot(2, 0, y(0)), zero);
  const DVec want = refRule(Wd(g, 0), bd(g, 0), xd, Rs, zero) + refRule(Wd(g, 1), bd(g, 1), xd, Rs, zero);
  EXPECT_TRUE(closeScaled(explainVec(g, x, lrpReq).relevance, want, 1e-4));
}

// A consumer the output does not depend on (a dead branch) changes nothing and is skipped.
TEST(FanOut, DeadBranchIsIgnored) {
  std::mt19937 rng(640);
  lrp::Matrix wa = randomMatrix(rng, 5, 6, -1, 1), wo = randomMatrix(rng, 3, 5, -1, 1);
  lrp::Vector ba = randomVector(rng, 5, -0.3, 0.3), bo = randomVector(rng, 3, -0.3, 0.3);
  lrp::Graph withDead({6}), chain({6});
  withDead.add("A", std::make_unique<lrp::DenseLayer>(wa, ba), {lrp::kGraphInput});
  withDead.add("relu", std::make_unique<lrp::ReLULayer>(), {0});
  withDead.add("dead", dense(rng, 4, 5), {1});
  withDead.add("out", std::make_unique<lrp::DenseLayer>(wo, bo), {1});
  chain.add("A", std::make_unique<lrp::DenseLayer>(wa, ba), {lrp::kGraphInput});
  chain.add("relu", std::make_unique<lrp::ReLULayer>(), {0});
  chain.add("out", std::make_unique<lrp::DenseLayer>(wo, bo), {1});
  const lrp::Vector x = randomVector(rng, 6, -1, 1);

  lrp::ExplainRequest a, b;
  a.rules = lrp::resolveRules(withDead, "epsilon-plus", {}, {});
  b.rules = lrp::resolveRules(chain, "epsilon-plus", {}, {});
  a.layerRelevance = true;
  const lrp::Explanation ea = explainVec(withDead, x, a), eb = explainVec(chain, x, b);
  EXPECT_EQ(ea.target, eb.target);
  EXPECT_TRUE(closeScaled(ea.relevance, eb.relevance.cast<double>(), 1e-6));
  for (const auto& l : ea.layers) EXPECT_NE(l.node, 2) << "the dead branch has no relevance to report";
  EXPECT_EQ(ea.layers.size(), 3u);

  a.method = b.method = lrp::Method::Gradient;
  a.layerRelevance = false;
  EXPECT_TRUE(closeScaled(explainVec(withDead, x, a).relevance, explainVec(chain, x, b).relevance.cast<double>(), 1e-6));
}

}  // namespace
