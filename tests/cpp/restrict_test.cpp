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
