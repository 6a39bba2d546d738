// Restricting the backward pass to some units of one layer ("what flows through this neuron").
#include "test_helpers.hpp"

namespace {

using namespace lrptest;

lrp::ExplainRequest lrpRequest(const lrp::Graph& graph, const std::string& composite) {
  lrp::ExplainRequest req;
  req.rules = lrp::resolveRules(graph, composite, {}, {});
  req.target = 1;
  return req;
}

TEST(Restrict, PartsThroughEveryUnitSumToTheWhole) {
  const Mlp net = makeMlp(21, {7, 6, 5, 3});
  std::mt19937 rng(22);
  const lrp::Vector x = randomVector(rng, 7, -1, 1);
  for (const char* composite : {"epsilon-plus", "epsilon-alpha2-beta1-flat"}) {
    lrp::ExplainRequest req = lrpRequest(net.graph, composite);
    const lrp::Vector whole = explainVec(net.graph, x, req).relevance;
    const int layer = 2;  // the second dense layer: 5 units
    lrp::Vector sum = lrp::Vector::Zero(7);
    for (int unit = 0; unit < 5; ++unit) {
      req.restrictLayer = layer;
      req.restrictUnits = {unit};
      sum += explainVec(net.graph, x, req).relevance;
    }
    EXPECT_TRUE(closeScaled(sum, whole.cast<double>(), 1e-5)) << composite;
  }
}

TEST(Restrict, OneUnitMatchesAHandSeededBackwardPass) {
  // Through unit u of the last hidden ReLU, the gradient equals the gradient of that unit's own
  // activation scaled by ∂f_t/∂a_u.
  const Mlp net = makeMlp(23, {4, 6, 3});
  std::mt19937 rng(24);
  const lrp::Vector x = randomVector(rng, 4, -1, 1);
  lrp::ExplainRequest req;
  req.method = lrp::Method::Gradient;
  req.target = 0;
  const lrp::Vector full = explainVec(net.graph, x, req).relevance;
  lrp::Vector parts = lrp::Vector::Zero(4);
  for (int unit = 0; unit < 6; ++unit) {
    req.restrictLayer = 1;
    req.restrictUnits = {unit};
    parts += explainVec(net.graph, x, req).relevance;
  }
  EXPECT_TRUE(closeScaled(parts, full.cast<double>(), 1e-5));
}

// A layer with a path around it (x → dense → relu → add(·, x) → dense): through its units flows only
// what does not take the bypass. Reference: the gradient through unit u is ∂f_t/∂h_u · ∂h_u/∂x computed
// by hand in double; the parts over every unit plus the bypass's own gradient (W_outᵀ e_t, through the
// add) make up the whole.
TEST(Restrict, PathsAroundTheLayerAreLeftOut) {
  std::mt19937 rng(26);
  lrp::Graph g(lrp::Shape{4});
  const lrp::Matrix w1 = randomMatrix(rng, 4, 4, -1, 1), w2 = randomMatrix(rng, 3, 4, -1, 1);
  const int d1 = g.add("d1", std::make_unique<lrp::DenseLayer>(w1, lrp::Vector()), {lrp::kGraphInput});
  const int relu = g.add("relu", std::make_unique<lrp::ReLULayer>(), {d1});
  const int sum = g.add("sum", "add", lrp::LayerSpec(), {relu, lrp::kGraphInput});
  g.add("out", std::make_unique<lrp::DenseLayer>(w2, lrp::Vector()), {sum});
  const lrp::Vector x = randomVector(rng, 4, -1, 1);
  lrp::ExplainRequest req;
  req.method = lrp::Method::Gradient;
  req.target = 2;
  const lrp::Vector full = explainVec(g, x, req).relevance;
  const DMat W1 = w1.cast<double>(), W2 = w2.cast<double>();
  const DVec h = W1 * x.cast<double>();
  DVec parts = DVec::Zero(4);
  for (int unit = 0; unit < 4; ++unit) {
    req.restrictLayer = d1;
    req.restrictUnits = {unit};
    const DVec want = (h(unit) > 0 ? W2(2, unit) : 0.0) * W1.row(unit).transpose();
    const lrp::Vector got = explainVec(g, x, req).relevance;
    EXPECT_TRUE(closeScaled(got, want, 1e-5)) << "unit " << unit;
    parts += got.cast<double>();
  }
  EXPECT_TRUE(closeScaled(parts + W2.row(2).transpose(), full.cast<double>(), 1e-5));
}

TEST(Restrict, RejectsLayersAndUnitsOutOfRange) {
  const Mlp net = makeMlp(25, {4, 6, 3});
  const lrp::Vector x = lrp::Vector::Ones(4);
  lrp::ExplainRequest req = lrpRequest(net.graph, "epsilon-plus");
  req.restrictLayer = 7;
  req.restrictUnits = {0};
  EXPECT_TRUE(throwsWith([&] { explainVec(net.graph, x, req); }, "restrict: layer 7 is out of range"));
  req.restrictLayer = 0;
  req.restrictUnits = {6};
  EXPECT_TRUE(throwsWith([&] { explainVec(net.graph, x, req); }, "unit 6 is out of range"));
  req.restrictUnits = {};
  EXPECT_TRUE(throwsWith([&] { explainVec(net.graph, x, req); }, "at least one unit"));
}

}  // namespace
