// Conservation: Σ R_in = f_t(x) where the rules conserve, and the layerRelevance report's bookkeeping.
#include "test_helpers.hpp"

namespace {

using namespace lrptest;
using lrp::RuleKind;
using S = lrp::RuleOverride::Selector;

lrp::ExplainRequest lrpRequest(const lrp::Graph& graph, const lrp::Rule& dense, int target = lrp::kPredictedTarget) {
  lrp::ExplainRequest req;
  req.target = target;
  req.rules = lrp::resolveRules(graph, "", {}, {overrideFor(S::Dense, dense)});
  return req;
}

double sum(const lrp::Vector& v) { return v.cast<double>().sum(); }

// A bias-free ReLU network under LRP-0 (or ε → 0) conserves the target's logit exactly.
TEST(Conservation, BiasFreeReluNetworkUnderLrp0) {
  MlpOptions opt;
  opt.bias = false;
  const Mlp net = makeMlp(201, {12, 10, 9, 8, 5}, opt);
  std::mt19937 rng(202);
  for (int trial = 0; trial < 5; ++trial) {
    const lrp::Vector x = randomVector(rng, 12, -1, 1);
    for (int target = 0; target < 5; ++target) {
      for (const lrp::Rule& rule : {makeRule(RuleKind::Zero), epsilonRule(1e-9f)}) {
        const lrp::Explanation e = explainVec(net.graph, x, lrpRequest(net.graph, rule, target));
        const double f = e.output(target);
        ASSERT_GT(std::abs(f), 1e-3);
        EXPECT_LT(relDiff(sum(e.relevance), f), 1e-4)
            << lrp::ruleKindName(rule.kind) << " target " << target << ": Σ R = " << sum(e.relevance) << ", f_t = " << f;
      }
    }
  }
}

// With biases, LRP-0 does not conserve (the biases absorb relevance): the check above is not vacuous.
TEST(Conservation, BiasesBreakLrp0Conservation) {
  MlpOptions opt;
  opt.biasRange = 0.5;
  const Mlp net = makeMlp(201, {12, 10, 9, 8, 5}, opt);
  std::mt19937 rng(202);
  const lrp::Vector x = randomVector(rng, 12, -1, 1);
  const lrp::Explanation e = explainVec(net.graph, x, lrpRequest(net.graph, makeRule(RuleKind::Zero), 0));
  EXPECT_GT(relDiff(sum(e.relevance), e.output(0)), 1e-3);
}

// z-plus on non-negative inputs, bias-free: conserves (all denominators are positive).
TEST(Conservation, ZPlusOnNonNegativeInputsBiasFree) {
  MlpOptions opt;
  opt.bias = false;
  const Mlp net = makeMlp(211, {10, 8, 8, 4}, opt);
  std::mt19937 rng(212);
  for (int trial = 0; trial < 5; ++trial) {
    const lrp::Vector x = randomVector(rng, 10, 0, 1);
    const lrp::Explanation e = explainVec(net.graph, x, lrpRequest(net.graph, makeRule(RuleKind::ZPlus)));
    const double f = e.output(e.target);
    EXPECT_LT(relDiff(sum(e.relevance), f), 1e-4) << "Σ R = " << sum(e.relevance) << ", f_t = " << f;
    // The explanation is not trivial: relevance on several inputs, and z-plus keeps the seed's sign everywhere.
    const double sign = f >= 0 ? 1.0 : -1.0;
    EXPECT_GE((sign * e.relevance.cast<double>()).minCoeff(), 0.0);
    EXPECT_GT((e.relevance.array().abs() > 1e-6f).count(), 3);
  }
}

// zeroBias makes the rules ignore a biased network's biases: deep-taylor conserves again (z-plus on the
// post-ReLU inputs, z-box on low ≤ x ≤ high: every denominator is positive).
TEST(Conservation, ZeroBiasRestoresConservation) {
  const Mlp net = makeMlp(221, {10, 8, 8, 4});
  std::mt19937 rng(222);
  const lrp::Vector x = randomVector(rng, 10, -1, 1);
  lrp::CompositeParams params;
  params.zeroBias = true;
  params.low = {-1.0f};
  params.high = {1.0f};
  params.stabilizer = 1e-9f;
  lrp::ExplainRequest req;
  req.rules = lrp::resolveRules(net.graph, "deep-taylor", params, {});
  const lrp::Explanation e = explainVec(net.graph, x, req);
  EXPECT_LT(relDiff(sum(e.relevance), e.output(e.target)), 1e-4);
}

// The layerRelevance report: per-node sums, what each node handed on, and what it absorbed.
TEST(LayerRelevance, ReportBookkeepingBiasFreeLrp0) {
  MlpOptions opt;
  opt.bias = false;
  const Mlp net = makeMlp(231, {9, 8, 7, 3}, opt);  // dense relu dense relu dense
  std::mt19937 rng(232);
  const lrp::Vector x = randomVector(rng, 9, -1, 1);
  lrp::ExplainRequest req = lrpRequest(net.graph, makeRule(RuleKind::Zero), 1);
  req.layerRelevance = true;
  const lrp::Explanation e = explainVec(net.graph, x, req);
  const double f = e.output(1);
  ASSERT_EQ(e.layers.size(), net.graph.nodes().size());
  // Walked from the output backwards, one entry per node.
  for (size_t k = 0; k < e.layers.size(); ++k) EXPECT_EQ(e.layers[k].node, static_cast<int>(e.layers.size() - 1 - k));
  // At the output: the seed f_t(x) at the target, zero elsewhere.
  const lrp::LayerRelevance& top = e.layers.front();
  ASSERT_EQ(top.relevance.size(), 3);
  EXPECT_FLOAT_EQ(top.relevance(1), static_cast<float>(f));
  EXPECT_EQ(top.relevance(0), 0.0f);
  EXPECT_EQ(top.relevance(2), 0.0f);
  EXPECT_DOUBLE_EQ(top.sum, static_cast<double>(static_cast<float>(f)));
  for (const auto& l : e.layers) {
    EXPECT_NEAR(l.sum, sum(l.relevance), 1e-9 * std::abs(f)) << "node " << l.node;
    EXPECT_NEAR(l.absorbed(), 0.0, 1e-5 * std::abs(f)) << "node " << l.node;  // bias-free LRP-0 absorbs nothing
  }
}

TEST(LayerRelevance, ReportWithBiasesAbsorbsAndBalances) {
  MlpOptions opt;
  opt.biasRange = 0.5;
  const Mlp net = makeMlp(241, {9, 8, 7, 3}, opt);
  std::mt19937 rng(242);
  const lrp::Vector x = randomVector(rng, 9, -1, 1);
  for (const lrp::Rule& rule : {epsilonRule(0.05f), makeRule(RuleKind::Zero), makeRule(RuleKind::ZPlus)}) {
    SCOPED_TRACE(lrp::ruleKindName(rule.kind));
    lrp::ExplainRequest req = lrpRequest(net.graph, rule, 2);
    req.layerRelevance = true;
    const lrp::Explanation e = explainVec(net.graph, x, req);
    const double f = e.output(2);
    ASSERT_EQ(e.layers.size(), 5u);

    // Reference relevance at every node's output.
    const DVec xd = x.cast<double>();
    std::vector<DVec> refAt;
    const DVec refIn = refBackward(net, xd, oneHot(3, 2, refForward(net, xd).back()(2)), &req.rules, &refAt);
    EXPECT_TRUE(closeScaled(e.relevance, refIn, 1e-4));

    double absorbed = 0;
    for (size_t k = 0; k < e.layers.size(); ++k) {
      const lrp::LayerRelevance& l = e.layers[k];
      EXPECT_TRUE(closeScaled(l.relevance, refAt[static_cast<size_t>(l.node)], 1e-4)) << "node " << l.node;
      // What a node's consumer handed on is what sits at the node's output (a chain: consumer = node + 1).
      if (k > 0) {
        EXPECT_NEAR(l.sum, e.layers[k - 1].inputSum, 1e-6 * std::abs(f)) << "node " << l.node;
      }
      absorbed += l.absorbed();
      if (net.steps[static_cast<size_t>(l.node)] == Mlp::Step::Relu) {
        EXPECT_EQ(l.absorbed(), 0.0) << "relu (pass) absorbs nothing";
      } else {
        // Dense layers with biases absorb: compare with the reference Σ R_out − Σ R_in.
        const DVec refInput = l.node == 0 ? refIn : refAt[static_cast<size_t>(l.node - 1)];
        const double refAbsorbed = refAt[static_cast<size_t>(l.node)].sum() - refInput.sum();
        // (z-plus absorbs only through b⁺ of neurons carrying relevance, so only ε and LRP-0 must absorb here)
        if (rule.kind != RuleKind::ZPlus) {
          EXPECT_GT(std::abs(refAbsorbed), 1e-3 * std::abs(f)) << "node " << l.node << " should absorb";
        }
        EXPECT_NEAR(l.absorbed(), refAbsorbed, 1e-4 * std::abs(f) + 1e-6) << "node " << l.node;
      }
    }
    // Σ absorbed + Σ R_in = f_t(x)
    EXPECT_NEAR(absorbed + sum(e.relevance), f, 1e-5 * std::abs(f));
    EXPECT_NEAR(e.layers.back().inputSum, sum(e.relevance), 1e-6 * std::abs(f));
  }
}

// The report is only for LRP.
TEST(LayerRelevance, RejectedForGradientMethods) {
  const Mlp net = makeMlp(251, {4, 3, 2});
  lrp::ExplainRequest req;
  req.method = lrp::Method::Gradient;
  req.layerRelevance = true;
  const lrp::Vector x = lrp::Vector::Ones(4);
  EXPECT_TRUE(throwsWith([&] { explainVec(net.graph, x, req); }, "layerRelevance"));
}

}  // namespace
