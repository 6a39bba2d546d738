// Composites: which rule resolveRules gives each layer (DESIGN.md's table), override precedence, and the
// validation errors of composites and rules.
#include "test_helpers.hpp"

#include <algorithm>
#include <limits>

namespace {

using namespace lrptest;
using lrp::RuleKind;
using S = lrp::RuleOverride::Selector;

// Nodes: 0 reshape [2,4]→[8], 1 dense 8→6, 2 relu, 3 dense 6→5, 4 relu, 5 dense 5→3.
Mlp compositeMlp() {
  MlpOptions opt;
  opt.flattenFirst = true;
  return makeMlp(401, {8, 6, 5, 3}, opt);
}

lrp::CompositeParams boxParams() {
  lrp::CompositeParams p;
  p.low = {-2.0f};
  p.high = {3.0f};
  return p;
}

RuleKind kindAt(const std::vector<std::optional<lrp::Rule>>& rules, int id) {
  if (!rules[static_cast<size_t>(id)]) {
    ADD_FAILURE() << "node " << id << " has no rule";
    return RuleKind::Pass;
  }
  return rules[static_cast<size_t>(id)]->kind;
}

TEST(Composite, Names) {
  const auto& names = lrp::compositeNames();
  for (const char* n : {"epsilon-plus", "epsilon-alpha2-beta1", "epsilon-plus-flat", "epsilon-alpha2-beta1-flat",
                        "epsilon-gamma-box", "deep-taylor", "attn-lrp", "cp-lrp"})
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
  EXPECT_EQ(names.size(), 8u);
}

struct Expected {
  const char* composite;
  RuleKind first, rest;
};

TEST(Composite, TableOnAnMlp) {
  const Mlp net = compositeMlp();
  ASSERT_EQ(net.graph.nodes().size(), 6u);
  const Expected table[] = {
      {"epsilon-plus", RuleKind::Epsilon, RuleKind::Epsilon},
      {"epsilon-alpha2-beta1", RuleKind::Epsilon, RuleKind::Epsilon},
      {"epsilon-plus-flat", RuleKind::Flat, RuleKind::Epsilon},
      {"epsilon-alpha2-beta1-flat", RuleKind::Flat, RuleKind::Epsilon},
      {"epsilon-gamma-box", RuleKind::Epsilon, RuleKind::Epsilon},  // its z-box is for a first *conv* only
      {"deep-taylor", RuleKind::ZBox, RuleKind::ZPlus},
  };
  for (const Expected& row : table) {
    SCOPED_TRACE(row.composite);
    const auto rules = lrp::resolveRules(net.graph, row.composite, boxParams(), {});
    ASSERT_EQ(rules.size(), 6u);
    EXPECT_EQ(kindAt(rules, 1), row.first);
    EXPECT_EQ(kindAt(rules, 3), row.rest);
    EXPECT_EQ(kindAt(rules, 5), row.rest);
    EXPECT_EQ(kindAt(rules, 2), RuleKind::Pass);
    EXPECT_EQ(kindAt(rules, 4), RuleKind::Pass);
    // The reshape re-indexes: either no rule (plain gradient = identity) or pass; both leave R unchanged.
    EXPECT_TRUE(!rules[0] || rules[0]->kind == RuleKind::Pass);
  }
}

// epsilon-gamma-box on an MLP has no conv for its z-box, so it does not need low/high.
TEST(Composite, EpsilonGammaBoxOnMlpNeedsNoBounds) {
  const Mlp net = compositeMlp();
  const auto rules = lrp::resolveRules(net.graph, "epsilon-gamma-box", {}, {});
  for (int id : {1, 3, 5}) EXPECT_EQ(kindAt(rules, id), RuleKind::Epsilon) << id;
}

TEST(Composite, ParametersReachTheRules) {
  const Mlp net = compositeMlp();
  lrp::CompositeParams p;
  p.epsilon = 0.125f;
  p.stabilizer = 1e-3f;
  p.gamma = 0.75f;
  p.zeroBias = true;
  p.low = {-1.0f, -2.0f, -3.0f, -4.0f, -5.0f, -6.0f, -7.0f, -8.0f};
  p.high = {1.0f};
  const auto eps = lrp::resolveRules(net.graph, "epsilon-plus", p, {});
  EXPECT_FLOAT_EQ(eps[3]->epsilon, 0.125f);
  EXPECT_TRUE(eps[3]->zeroBias);
  const auto dt = lrp::resolveRules(net.graph, "deep-taylor", p, {});
  EXPECT_EQ(dt[1]->low, p.low);
  EXPECT_EQ(dt[1]->high, p.high);
  EXPECT_FLOAT_EQ(dt[1]->stabilizer, 1e-3f);
  EXPECT_FLOAT_EQ(dt[3]->stabilizer, 1e-3f);
  EXPECT_TRUE(dt[1]->zeroBias && dt[3]->zeroBias && dt[5]->zeroBias);
  const auto flat = lrp::resolveRules(net.graph, "epsilon-alpha2-beta1-flat", p, {});
  EXPECT_FLOAT_EQ(flat[1]->stabilizer, 1e-3f);
  EXPECT_FLOAT_EQ(flat[5]->epsilon, 0.125f);
}

// The composite's rules change the explanation as their table says (end to end through explain): the
// explanation under a composite equals the reference with the table's rules.
TEST(Composite, ExplainUsesTheResolvedRules) {
  MlpOptions opt;
  opt.flattenFirst = true;
  const Mlp net = makeMlp(403, {8, 16, 12, 3}, opt);  // same layout as compositeMlp(), wider (no dead explanation)
  std::mt19937 rng(402);
  const lrp::Vector x = randomVector(rng, 8, -1, 1);
  const DVec xd = x.cast<double>();
  for (const char* name : {"epsilon-plus-flat", "deep-taylor", "epsilon-plus"}) {
    SCOPED_TRACE(name);
    lrp::ExplainRequest req;
    req.target = 0;
    req.rules = lrp::resolveRules(net.graph, name, boxParams(), {});
    // The reference's own rule list, written from the table.
    std::vector<std::optional<lrp::Rule>> mine(6);
    const std::string n = name;
    mine[1] = n == "epsilon-plus-flat" ? makeRule(RuleKind::Flat)
              : n == "deep-taylor"     ? zBoxRule({-2.0f}, {3.0f})
                                       : epsilonRule(1e-6f);
    mine[3] = mine[5] = n == "deep-taylor" ? makeRule(RuleKind::ZPlus) : epsilonRule(1e-6f);
    mine[2] = mine[4] = makeRule(RuleKind::Pass);
    const lrp::Explanation e = explainVec(net.graph, x, req);
    EXPECT_TRUE(closeScaled(e.relevance, refBackward(net, xd, oneHot(3, 0, refForward(net, xd).back()(0)), &mine), 1e-4));
  }
}

// ------------------------------------------------------------------------------------------------------------
// Precedence: layer index > first > composite first-layer rule > dense/conv > composite rule.

TEST(Precedence, LayerIndexBeatsFirstAndCompositeFirst) {
  const Mlp net = compositeMlp();
  const auto rules = lrp::resolveRules(net.graph, "epsilon-plus-flat", {},
                                       {overrideFor(S::First, makeRule(RuleKind::WSquare)),
                                        overrideFor(S::Layer, gammaRule(0.5f), 1), overrideFor(S::Dense, makeRule(RuleKind::ZPlus))});
  EXPECT_EQ(kindAt(rules, 1), RuleKind::Gamma);
  EXPECT_FLOAT_EQ(rules[1]->gamma, 0.5f);
}

TEST(Precedence, FirstBeatsCompositeFirst) {
  const Mlp net = compositeMlp();
  const auto rules = lrp::resolveRules(net.graph, "epsilon-plus-flat", {}, {overrideFor(S::First, makeRule(RuleKind::WSquare))});
  EXPECT_EQ(kindAt(rules, 1), RuleKind::WSquare);
  EXPECT_EQ(kindAt(rules, 3), RuleKind::Epsilon);
}

TEST(Precedence, FirstAppliesWithoutCompositeFirstRule) {
  const Mlp net = compositeMlp();
  for (const char* composite : {"epsilon-plus", ""}) {
    const auto rules = lrp::resolveRules(net.graph, composite, {}, {overrideFor(S::First, makeRule(RuleKind::Flat))});
    EXPECT_EQ(kindAt(rules, 1), RuleKind::Flat) << composite;
    if (*composite) {
      EXPECT_EQ(kindAt(rules, 3), RuleKind::Epsilon);
    } else {
      EXPECT_FALSE(rules[3].has_value());
    }
  }
}

TEST(Precedence, CompositeFirstBeatsDenseOverride) {
  const Mlp net = compositeMlp();
  const auto rules = lrp::resolveRules(net.graph, "epsilon-plus-flat", {}, {overrideFor(S::Dense, makeRule(RuleKind::ZPlus))});
  EXPECT_EQ(kindAt(rules, 1), RuleKind::Flat);
  EXPECT_EQ(kindAt(rules, 3), RuleKind::ZPlus);
  EXPECT_EQ(kindAt(rules, 5), RuleKind::ZPlus);
}

TEST(Precedence, DenseOverrideBeatsCompositeRule) {
  const Mlp net = compositeMlp();
  const auto rules = lrp::resolveRules(net.graph, "deep-taylor", boxParams(), {overrideFor(S::Dense, epsilonRule(0.5f))});
  EXPECT_EQ(kindAt(rules, 1), RuleKind::ZBox);
  EXPECT_EQ(kindAt(rules, 3), RuleKind::Epsilon);
  EXPECT_FLOAT_EQ(rules[5]->epsilon, 0.5f);
}

TEST(Precedence, LayerIndexBeatsDenseOverride) {
  const Mlp net = compositeMlp();
  const auto rules = lrp::resolveRules(net.graph, "epsilon-plus", {},
                                       {overrideFor(S::Dense, makeRule(RuleKind::ZPlus)), overrideFor(S::Layer, alphaBetaRule(2, 1), 5)});
  EXPECT_EQ(kindAt(rules, 1), RuleKind::ZPlus);
  EXPECT_EQ(kindAt(rules, 3), RuleKind::ZPlus);
  EXPECT_EQ(kindAt(rules, 5), RuleKind::AlphaBeta);
}

// A conv override does not touch dense layers (there are no convs yet).
TEST(Precedence, ConvOverrideLeavesDenseAlone) {
  const Mlp net = compositeMlp();
  const auto rules = lrp::resolveRules(net.graph, "epsilon-plus", {}, {overrideFor(S::Conv, makeRule(RuleKind::ZPlus))});
  for (int id : {1, 3, 5}) EXPECT_EQ(kindAt(rules, id), RuleKind::Epsilon) << id;
}

TEST(Precedence, NoCompositeNoOverrides) {
  const Mlp net = compositeMlp();
  const auto rules = lrp::resolveRules(net.graph, "", {}, {});
  for (int id : {1, 3, 5}) EXPECT_FALSE(rules[id].has_value()) << id;
  EXPECT_EQ(kindAt(rules, 2), RuleKind::Pass);
  EXPECT_EQ(kindAt(rules, 4), RuleKind::Pass);
}

TEST(Precedence, PassOnActivationByIndexIsAllowed) {
  const Mlp net = compositeMlp();
  const auto rules = lrp::resolveRules(net.graph, "epsilon-plus", {}, {overrideFor(S::Layer, makeRule(RuleKind::Pass), 2)});
  EXPECT_EQ(kindAt(rules, 2), RuleKind::Pass);
}

// ------------------------------------------------------------------------------------------------------------
// Errors: lrp::Error whose message names the problem.

TEST(CompositeErrors, UnknownCompositeNamesItAndTheKnownOnes) {
  const Mlp net = compositeMlp();
  EXPECT_TRUE(throwsWith([&] { lrp::resolveRules(net.graph, "epsilon-bogus", {}, {}); }, "epsilon-bogus"));
  EXPECT_TRUE(throwsWith([&] { lrp::resolveRules(net.graph, "epsilon-bogus", {}, {}); }, "deep-taylor"));
}

TEST(CompositeErrors, UnknownRuleAndMethodNames) {
  EXPECT_TRUE(throwsWith([] { lrp::ruleKindFromName("z-minus"); }, "z-minus"));
  EXPECT_TRUE(throwsWith([] { lrp::ruleKindFromName("z-minus"); }, "epsilon"));
  EXPECT_TRUE(throwsWith([] { lrp::methodFromName("deconvnet"); }, "deconvnet"));
  // Every public rule name round-trips.
  for (const char* n : {"epsilon", "zero", "z-plus", "alpha-beta", "gamma", "z-box", "w-square", "flat", "pass", "norm"})
    EXPECT_STREQ(lrp::ruleKindName(lrp::ruleKindFromName(n)), n);
  EXPECT_EQ(lrp::methodFromName("integrated-gradients"), lrp::Method::IntegratedGradients);
}

TEST(CompositeErrors, DeepTaylorNeedsBounds) {
  const Mlp net = compositeMlp();
  EXPECT_TRUE(throwsWith([&] { lrp::resolveRules(net.graph, "deep-taylor", {}, {}); }, "low"));
  lrp::CompositeParams onlyLow;
  onlyLow.low = {0.0f};
  EXPECT_TRUE(throwsWith([&] { lrp::resolveRules(net.graph, "deep-taylor", onlyLow, {}); }, "high"));
}

TEST(CompositeErrors, AlphaBetaMustDifferByOne) {
  const Mlp net = compositeMlp();
  EXPECT_TRUE(throwsWith([&] { lrp::resolveRules(net.graph, "", {}, {overrideFor(S::Dense, alphaBetaRule(2, 2))}); },
                         "alpha - beta = 1"));
  EXPECT_TRUE(throwsWith([&] { lrp::resolveRules(net.graph, "", {}, {overrideFor(S::Dense, alphaBetaRule(3, 1))}); }, "alpha"));
  // Negative parameters with α − β = 1 are rejected too (Zennit: "must be positive").
  EXPECT_TRUE(throwsWith([&] { lrp::resolveRules(net.graph, "", {}, {overrideFor(S::Dense, alphaBetaRule(0.5f, -0.5f))}); },
                         "beta"));
  EXPECT_NO_THROW(lrp::resolveRules(net.graph, "", {}, {overrideFor(S::Dense, alphaBetaRule(1, 0))}));
  EXPECT_NO_THROW(lrp::resolveRules(net.graph, "", {}, {overrideFor(S::Dense, alphaBetaRule(2, 1))}));
}

TEST(CompositeErrors, NegativeGammaAndEpsilon) {
  const Mlp net = compositeMlp();
  EXPECT_TRUE(throwsWith([&] { lrp::resolveRules(net.graph, "", {}, {overrideFor(S::Dense, gammaRule(-0.25f))}); }, "gamma"));
  EXPECT_TRUE(throwsWith([&] { lrp::resolveRules(net.graph, "", {}, {overrideFor(S::Dense, epsilonRule(-1e-3f))}); }, "epsilon"));
  lrp::CompositeParams p;
  p.stabilizer = -1.0f;
  EXPECT_TRUE(throwsWith([&] { lrp::resolveRules(net.graph, "epsilon-plus-flat", p, {}); }, "stabilizer"));
}

TEST(CompositeErrors, NaNParameters) {
  const Mlp net = compositeMlp();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  lrp::Rule eps = epsilonRule(nan);
  EXPECT_TRUE(throwsWith([&] { lrp::resolveRules(net.graph, "", {}, {overrideFor(S::Dense, eps)}); }, "epsilon"));
  lrp::Rule g = gammaRule(nan);
  EXPECT_TRUE(throwsWith([&] { lrp::resolveRules(net.graph, "", {}, {overrideFor(S::Dense, g)}); }, "gamma"));
  lrp::Rule ab = alphaBetaRule(nan, 1);
  EXPECT_TRUE(throwsWith([&] { lrp::resolveRules(net.graph, "", {}, {overrideFor(S::Dense, ab)}); }, "alpha"));
  lrp::Rule st = makeRule(RuleKind::ZPlus);
  st.stabilizer = inf;
  EXPECT_TRUE(throwsWith([&] { lrp::resolveRules(net.graph, "", {}, {overrideFor(S::Dense, st)}); }, "stabilizer"));
  EXPECT_TRUE(throwsWith([&] { lrp::resolveRules(net.graph, "", {}, {overrideFor(S::First, zBoxRule({nan}, {1.0f}))}); }, "low"));
  lrp::CompositeParams p;
  p.epsilon = nan;
  EXPECT_TRUE(throwsWith([&] { lrp::resolveRules(net.graph, "epsilon-plus", p, {}); }, "epsilon"));
  lrp::CompositeParams q = boxParams();
  q.high = {nan};
  EXPECT_TRUE(throwsWith([&] { lrp::resolveRules(net.graph, "deep-taylor", q, {}); }, "high"));
}

TEST(CompositeErrors, ZBoxBoundsOfTheWrongLength) {
  const Mlp net = compositeMlp();  // the first dense layer has 8 inputs
  const auto bad = zBoxRule(std::vector<float>(3, -1.0f), {1.0f});
  EXPECT_TRUE(throwsWith([&] { lrp::resolveRules(net.graph, "", {}, {overrideFor(S::First, bad)}); }, "expected 1 or 8"));
  EXPECT_TRUE(throwsWith([&] { lrp::resolveRules(net.graph, "", {}, {overrideFor(S::First, bad)}); }, "'low' has 3 values"));
  // Per-input bounds of the first layer's size are wrong for a deeper layer (6 inputs).
  const auto eight = zBoxRule(std::vector<float>(8, -1.0f), std::vector<float>(8, 1.0f));
  EXPECT_NO_THROW(lrp::resolveRules(net.graph, "", {}, {overrideFor(S::First, eight)}));
  EXPECT_TRUE(throwsWith([&] { lrp::resolveRules(net.graph, "", {}, {overrideFor(S::Layer, eight, 3)}); }, "expected 1 or 6"));
  lrp::CompositeParams p = boxParams();
  p.high = std::vector<float>(5, 1.0f);
  EXPECT_TRUE(throwsWith([&] { lrp::resolveRules(net.graph, "deep-taylor", p, {}); }, "'high' has 5 values"));
  // Missing bounds on a z-box override.
  EXPECT_TRUE(throwsWith([&] { lrp::resolveRules(net.graph, "", {}, {overrideFor(S::First, zBoxRule({}, {1.0f}))}); }, "low"));
}

TEST(CompositeErrors, ZBoxLowAboveHigh) {
  const Mlp net = compositeMlp();
  EXPECT_TRUE(throwsWith([&] { lrp::resolveRules(net.graph, "", {}, {overrideFor(S::First, zBoxRule({2.0f}, {1.0f}))}); },
                         "low must not exceed high"));
  std::vector<float> low(8, -1.0f);
  low[5] = 1.5f;
  EXPECT_TRUE(throwsWith([&] { lrp::resolveRules(net.graph, "", {}, {overrideFor(S::First, zBoxRule(low, {1.0f}))}); }, "input 5"));
  lrp::CompositeParams p;
  p.low = {1.0f};
  p.high = {0.0f};
  EXPECT_TRUE(throwsWith([&] { lrp::resolveRules(net.graph, "deep-taylor", p, {}); }, "low must not exceed high"));
  // low == high is allowed.
  EXPECT_NO_THROW(lrp::resolveRules(net.graph, "", {}, {overrideFor(S::First, zBoxRule({0.5f}, {0.5f}))}));
}

TEST(CompositeErrors, LayerIndexOutOfRange) {
  const Mlp net = compositeMlp();
  for (int bad : {6, 99, -1, -7}) {
    EXPECT_TRUE(throwsWith([&] { lrp::resolveRules(net.graph, "epsilon-plus", {}, {overrideFor(S::Layer, epsilonRule(0.1f), bad)}); },
                           "out of range"))
        << bad;
  }
  EXPECT_TRUE(throwsWith([&] { lrp::resolveRules(net.graph, "", {}, {overrideFor(S::Layer, epsilonRule(0.1f), 6)}); },
                         "layer index 6"));
}

TEST(CompositeErrors, LinearRuleOnActivationOrReshape) {
  const Mlp net = compositeMlp();
  EXPECT_TRUE(throwsWith([&] { lrp::resolveRules(net.graph, "", {}, {overrideFor(S::Layer, epsilonRule(0.1f), 2)}); },
                         "only 'pass' and 'norm' apply"));
  EXPECT_TRUE(throwsWith([&] { lrp::resolveRules(net.graph, "", {}, {overrideFor(S::Layer, makeRule(RuleKind::ZPlus), 0)}); },
                         "not a dense or conv layer"));
}

TEST(CompositeErrors, PassOnNonSquareDense) {
  const Mlp net = compositeMlp();  // dense 1: 8 → 6
  EXPECT_TRUE(throwsWith([&] { lrp::resolveRules(net.graph, "", {}, {overrideFor(S::Layer, makeRule(RuleKind::Pass), 1)}); },
                         "as many inputs as outputs"));
}

// The error names the layer it is about.
TEST(CompositeErrors, MessageNamesTheLayer) {
  const Mlp net = compositeMlp();
  EXPECT_TRUE(throwsWith([&] { lrp::resolveRules(net.graph, "", {}, {overrideFor(S::Layer, gammaRule(-1.0f), 3)}); },
                         "layer 3 ('dense1')"));
}

}  // namespace
