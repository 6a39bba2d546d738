// Every LRP rule against the naive double-precision reference (test_helpers.hpp): on one dense layer through
// the internal kernel lrp::linearRelevance, and end to end through lrp::explain with rules from resolveRules.
#include "test_helpers.hpp"

#include <cmath>

namespace {

using namespace lrptest;
using lrp::RuleKind;

constexpr double kTol = 1e-4;  // float32 engine vs double reference, scaled by the largest reference value

struct RuleCase {
  std::string name;
  lrp::Rule rule;
};
void PrintTo(const RuleCase& c, std::ostream* os) { *os << c.name; }

// Every linear rule with several parameters. z-box bounds here are scalars (per-input bounds: own tests).
std::vector<RuleCase> ruleCases() {
  std::vector<RuleCase> cases;
  cases.push_back({"epsilon_1e6", epsilonRule(1e-6f)});
  cases.push_back({"epsilon_0p01", epsilonRule(0.01f)});
  cases.push_back({"epsilon_0p25", epsilonRule(0.25f)});
  cases.push_back({"epsilon_1", epsilonRule(1.0f)});
  cases.push_back({"zero", makeRule(RuleKind::Zero)});
  cases.push_back({"zplus", makeRule(RuleKind::ZPlus)});
  cases.push_back({"alphabeta_2_1", alphaBetaRule(2, 1)});
  cases.push_back({"alphabeta_1_0", alphaBetaRule(1, 0)});
  cases.push_back({"gamma_0p25", gammaRule(0.25f)});
  cases.push_back({"gamma_0p5", gammaRule(0.5f)});
  cases.push_back({"gamma_0", gammaRule(0.0f)});
  cases.push_back({"zbox_m1_1", zBoxRule({-1.0f}, {1.0f})});
  cases.push_back({"zbox_m0p5_2", zBoxRule({-0.5f}, {2.0f})});
  cases.push_back({"wsquare", makeRule(RuleKind::WSquare)});
  cases.push_back({"flat", makeRule(RuleKind::Flat)});
  cases.push_back({"norm", makeRule(RuleKind::Norm)});
  lrp::Rule bigStab = makeRule(RuleKind::ZPlus);
  bigStab.stabilizer = 0.5f;  // the stabilizer of non-epsilon rules is honoured
  cases.push_back({"zplus_stab0p5", bigStab});
  lrp::Rule gammaStab = gammaRule(0.25f);
  gammaStab.stabilizer = 0.1f;
  cases.push_back({"gamma_stab0p1", gammaStab});
  return cases;
}

// One dense layer: W 6×9 and b of both signs, x of both signs, R of both signs, batch of 5 columns.
struct DenseCase {
  lrp::DenseLayer layer;
  lrp::Matrix x, R;
  DMat W;
  DVec b;
};

DenseCase makeDenseCase(uint32_t seed, bool withBias) {
  std::mt19937 rng(seed);
  lrp::Matrix w = randomMatrix(rng, 6, 9, -1, 1);
  lrp::Vector bias = withBias ? randomVector(rng, 6, -0.5, 0.5) : lrp::Vector();
  lrp::Matrix x = randomMatrix(rng, 9, 5, -1, 1);
  lrp::Matrix R = randomMatrix(rng, 6, 5, -1, 1);
  DVec b = withBias ? DVec(bias.cast<double>()) : DVec();
  return DenseCase{lrp::DenseLayer(w, bias), x, R, w.cast<double>(), b};
}

lrp::Matrix kernel(const lrp::DenseLayer& layer, const lrp::Matrix& x, const lrp::Matrix& R, const lrp::Rule& rule) {
  const lrp::Matrix z = layer.forward({&x});
  return lrp::linearRelevance(layer, x, z, R, rule);
}

class RuleKernelTest : public ::testing::TestWithParam<std::tuple<RuleCase, bool>> {};

TEST_P(RuleKernelTest, MatchesNaiveReference) {
  lrp::Rule rule = std::get<0>(GetParam()).rule;
  rule.zeroBias = std::get<1>(GetParam());
  for (bool withBias : {true, false}) {
    SCOPED_TRACE(withBias ? "layer with bias" : "layer without bias");
    DenseCase c = makeDenseCase(withBias ? 11 : 12, withBias);
    const lrp::Matrix got = kernel(c.layer, c.x, c.R, rule);
    const DMat want = refRuleBatch(c.W, c.b, c.x.cast<double>(), c.R.cast<double>(), rule);
    EXPECT_TRUE(closeScaled(got, want, kTol));
  }
}

std::string caseName(const ::testing::TestParamInfo<std::tuple<RuleCase, bool>>& info) {
  return std::get<0>(info.param).name + (std::get<1>(info.param) ? "_zeroBias" : "_withBias");
}

INSTANTIATE_TEST_SUITE_P(AllRules, RuleKernelTest, ::testing::Combine(::testing::ValuesIn(ruleCases()), ::testing::Bool()),
                         caseName);

// zeroBias must change the result of the bias-sensitive rules (otherwise the with/without tests prove nothing).
TEST(RuleKernel, ZeroBiasChangesBiasSensitiveRules) {
  DenseCase c = makeDenseCase(11, true);
  for (const lrp::Rule& base : {epsilonRule(1e-6f), makeRule(RuleKind::ZPlus), alphaBetaRule(2, 1), gammaRule(0.25f),
                                makeRule(RuleKind::WSquare), makeRule(RuleKind::Norm)}) {
    lrp::Rule noBias = base;
    noBias.zeroBias = true;
    const double diff = (kernel(c.layer, c.x, c.R, base) - kernel(c.layer, c.x, c.R, noBias)).cwiseAbs().maxCoeff();
    EXPECT_GT(diff, 1e-3) << lrp::ruleKindName(base.kind);
  }
  // ... and must not change the rules whose formula has no bias (z-box: the bias cancels; flat: no bias).
  for (const lrp::Rule& base : {zBoxRule({-1.0f}, {1.0f}), makeRule(RuleKind::Flat)}) {
    lrp::Rule noBias = base;
    noBias.zeroBias = true;
    EXPECT_TRUE(closeScaled(kernel(c.layer, c.x, c.R, base), kernel(c.layer, c.x, c.R, noBias).cast<double>(), 1e-5))
        << lrp::ruleKindName(base.kind);
  }
}

// The reference itself: z-plus equals alpha-beta(1, 0), and for x ≥ 0, z > 0 gamma with γ = 0 is LRP-0.
TEST(RuleReference, KnownIdentities) {
  DenseCase c = makeDenseCase(5, true);
  const DMat X = c.x.cast<double>(), R = c.R.cast<double>();
  EXPECT_TRUE(closeScaled(refRuleBatch(c.W, c.b, X, R, makeRule(RuleKind::ZPlus)),
                          refRuleBatch(c.W, c.b, X, R, alphaBetaRule(1, 0)), 1e-12));
  // Hand-computed epsilon: W = [[1, -2]], b = 0.5, x = (3, 1), R = 2: z = 1.5, R_in = (3·1·2/1.5, 1·(−2)·2/1.5)
  DMat W(1, 2);
  W << 1, -2;
  DVec b(1), x(2), Rv(1);
  b << 0.5;
  x << 3, 1;
  Rv << 2;
  const DVec got = refRule(W, b, x, Rv, epsilonRule(0.0f));
  EXPECT_DOUBLE_EQ(got(0), 4.0);
  EXPECT_DOUBLE_EQ(got(1), -8.0 / 3.0);
}

// Per-input z-box bounds (one low/high value per input of the layer).
TEST(RuleKernel, ZBoxPerInputBounds) {
  std::mt19937 rng(77);
  for (bool zeroBias : {false, true}) {
    DenseCase c = makeDenseCase(21, true);
    std::vector<float> low, high;
    for (int i = 0; i < 9; ++i) {
      low.push_back(static_cast<float>(uniform(rng, -2.0, -0.5)));
      high.push_back(static_cast<float>(uniform(rng, 0.5, 2.0)));
    }
    const lrp::Rule rule = zBoxRule(low, high, zeroBias);
    const lrp::Matrix got = kernel(c.layer, c.x, c.R, rule);
    EXPECT_TRUE(closeScaled(got, refRuleBatch(c.W, c.b, c.x.cast<double>(), c.R.cast<double>(), rule), kTol));
    // The per-input bounds really are used per input: differs from the scalar bounds low[0], high[0].
    const lrp::Matrix scalar = kernel(c.layer, c.x, c.R, zBoxRule({low[0]}, {high[0]}, zeroBias));
    EXPECT_GT((got - scalar).cwiseAbs().maxCoeff(), 1e-3);
  }
}

// A per-input bound array equal to a constant gives the same as the scalar bound.
TEST(RuleKernel, ZBoxConstantArrayEqualsScalar) {
  DenseCase c = makeDenseCase(22, true);
  const lrp::Matrix a = kernel(c.layer, c.x, c.R, zBoxRule(std::vector<float>(9, -0.75f), std::vector<float>(9, 1.25f)));
  const lrp::Matrix s = kernel(c.layer, c.x, c.R, zBoxRule({-0.75f}, {1.25f}));
  EXPECT_TRUE(closeScaled(a, s.cast<double>(), 1e-6));
}

// Modified weights are cached per (modifier, γ): alternating rules and γ values on one layer must each still
// give the right answer.
TEST(RuleKernel, ParameterCacheKeepsRulesApart) {
  DenseCase c = makeDenseCase(31, true);
  const DMat X = c.x.cast<double>(), R = c.R.cast<double>();
  for (const lrp::Rule& rule : {gammaRule(0.25f), gammaRule(0.5f), alphaBetaRule(2, 1), makeRule(RuleKind::WSquare),
                                gammaRule(0.25f), gammaRule(1.0f), makeRule(RuleKind::ZPlus), gammaRule(0.5f),
                                makeRule(RuleKind::Flat), alphaBetaRule(1, 0)}) {
    SCOPED_TRACE(std::string(lrp::ruleKindName(rule.kind)) + " gamma " + std::to_string(rule.gamma));
    EXPECT_TRUE(closeScaled(kernel(c.layer, c.x, c.R, rule), refRuleBatch(c.W, c.b, X, R, rule), kTol));
  }
}

// Non-negative inputs (after a ReLU) take the fast path that skips the all-zero x⁻ branch: still correct,
// including the b⁺/b⁻ denominators of the skipped branches' groups.
TEST(RuleKernel, NonNegativeInputs) {
  DenseCase c = makeDenseCase(41, true);
  c.x = c.x.cwiseAbs();
  c.x(0, 0) = 0.0f;
  for (bool zeroBias : {false, true})
    for (lrp::Rule rule : {makeRule(RuleKind::ZPlus), alphaBetaRule(2, 1), gammaRule(0.25f), epsilonRule(1e-6f)}) {
      rule.zeroBias = zeroBias;
      SCOPED_TRACE(lrp::ruleKindName(rule.kind));
      EXPECT_TRUE(closeScaled(kernel(c.layer, c.x, c.R, rule),
                              refRuleBatch(c.W, c.b, c.x.cast<double>(), c.R.cast<double>(), rule), kTol));
    }
}

// Non-positive inputs: the x⁺ branch is all zero (its bias must still enter the denominator).
TEST(RuleKernel, NonPositiveInputs) {
  DenseCase c = makeDenseCase(42, true);
  c.x = -c.x.cwiseAbs();
  for (bool zeroBias : {false, true})
    for (lrp::Rule rule : {makeRule(RuleKind::ZPlus), alphaBetaRule(2, 1), gammaRule(0.25f), gammaRule(0.5f)}) {
      rule.zeroBias = zeroBias;
      SCOPED_TRACE(std::string(lrp::ruleKindName(rule.kind)) + (zeroBias ? " zeroBias" : ""));
      EXPECT_TRUE(closeScaled(kernel(c.layer, c.x, c.R, rule),
                              refRuleBatch(c.W, c.b, c.x.cast<double>(), c.R.cast<double>(), rule), kTol));
    }
}

// ------------------------------------------------------------------------------------------------------------
// Exact-zero outputs (small integers: every value is exact in float and double).

struct IntLayer {
  lrp::DenseLayer layer;
  lrp::Matrix x, R;
  DMat W;
  DVec b;
};

// Outputs: z0 = 2·1 − 1·2 + 0 = 0 (with non-zero contributions), z1 = 1·1 + 1·2 − 1 = 2 > 0,
// z2 = −1·1 − 1·2 + 1 = −2 < 0, z3 = 0·x + 0 = 0 (no contributions at all).
IntLayer intLayer() {
  lrp::Matrix w(4, 2);
  w << 2, -1, 1, 1, -1, -1, 0, 0;
  lrp::Vector b(4);
  b << 0, -1, 1, 0;
  lrp::Matrix x(2, 1);
  x << 1, 2;
  lrp::Matrix R(4, 1);
  R << 3, 5, 7, 11;
  return IntLayer{lrp::DenseLayer(w, b), x, R, w.cast<double>(), b.cast<double>()};
}

TEST(RuleKernel, IntLayerOutputsAreAsDesigned) {
  IntLayer c = intLayer();
  const lrp::Matrix z = c.layer.forward({&c.x});
  EXPECT_EQ(z(0, 0), 0.0f);
  EXPECT_EQ(z(1, 0), 2.0f);
  EXPECT_EQ(z(2, 0), -2.0f);
  EXPECT_EQ(z(3, 0), 0.0f);
}

// LRP-0: an output with z_j == 0 passes no relevance, and nothing becomes NaN or Inf.
TEST(RuleKernel, ZeroRuleDropsZeroOutputs) {
  IntLayer c = intLayer();
  const lrp::Matrix got = kernel(c.layer, c.x, c.R, makeRule(RuleKind::Zero));
  ASSERT_TRUE(got.allFinite()) << got.transpose();
  lrp::Matrix Rdropped = c.R;
  Rdropped(0, 0) = 0;
  Rdropped(3, 0) = 0;
  // Only outputs 1 and 2 contribute: R_in = x ⊙ (w1·5/2 + w2·7/(−2)) = (1·(2.5 + 3.5), 2·(2.5 + 3.5)) = (6, 12)
  EXPECT_FLOAT_EQ(got(0, 0), 6.0f);
  EXPECT_FLOAT_EQ(got(1, 0), 12.0f);
  EXPECT_TRUE(closeScaled(got, kernel(c.layer, c.x, Rdropped, makeRule(RuleKind::Zero)).cast<double>(), 1e-7));
  EXPECT_TRUE(closeScaled(got, refRuleBatch(c.W, c.b, c.x.cast<double>(), c.R.cast<double>(), makeRule(RuleKind::Zero)), 1e-6));
}

// LRP-γ: z_j == 0 drops the neuron; z_j < 0 uses the negative side (w + γw⁻ on x⁺, bias b + γb⁻).
TEST(RuleKernel, GammaSidesAndZeroOutputs) {
  IntLayer c = intLayer();
  for (float g : {0.25f, 0.5f}) {
    for (bool zeroBias : {false, true}) {
      const lrp::Rule rule = gammaRule(g, zeroBias);
      const lrp::Matrix got = kernel(c.layer, c.x, c.R, rule);
      ASSERT_TRUE(got.allFinite());
      lrp::Matrix Rdropped = c.R;
      Rdropped(0, 0) = 0;
      Rdropped(3, 0) = 0;
      EXPECT_TRUE(closeScaled(got, kernel(c.layer, c.x, Rdropped, rule).cast<double>(), 1e-7)) << "γ " << g;
      EXPECT_TRUE(closeScaled(got, refRuleBatch(c.W, c.b, c.x.cast<double>(), c.R.cast<double>(), rule), kTol));
    }
  }
  // Hand computation for γ = 0.5, with bias, x = (1, 2) ≥ 0:
  //   neuron 1 (z = 2 > 0): ρ⁺(w) = (1.5, 1.5), ρ⁺(b) = −1 → zp = 1.5 + 3 − 1 = 3.5, s = 5/3.5
  //   neuron 2 (z = −2 < 0): ρ⁻(w) = (−1.5, −1.5), ρ⁻(b) = 1 → zn = −1.5 − 3 + 1 = −3.5, s = 7/−3.5 = −2
  //   R_in = x ⊙ (1.5·5/3.5 + (−1.5)(−2)) = (1·(15/7 + 3), 2·(15/7 + 3))
  lrp::Rule rule = gammaRule(0.5f);
  rule.stabilizer = 0.0f;
  const lrp::Matrix got = kernel(c.layer, c.x, c.R, rule);
  EXPECT_NEAR(got(0, 0), 15.0 / 7.0 + 3.0, 1e-5);
  EXPECT_NEAR(got(1, 0), 2.0 * (15.0 / 7.0 + 3.0), 1e-5);
}

// Epsilon with an exactly-zero output: stab(0) = +ε (sgn0(0) = +1), so R_j/ε flows with its sign kept.
TEST(RuleKernel, EpsilonAtZeroOutputUsesPositiveSign) {
  IntLayer c = intLayer();
  lrp::Matrix R = lrp::Matrix::Zero(4, 1);
  R(0, 0) = 1.0f;  // only the z = 0 neuron with contributions (2·1, −1·2)
  const lrp::Matrix got = kernel(c.layer, c.x, R, epsilonRule(0.5f));
  EXPECT_FLOAT_EQ(got(0, 0), 1.0f * 2.0f * (1.0f / 0.5f));    //  x0 w00 / (+ε) =  4
  EXPECT_FLOAT_EQ(got(1, 0), 2.0f * -1.0f * (1.0f / 0.5f));   //  x1 w01 / (+ε) = −4
}

// ------------------------------------------------------------------------------------------------------------
// The stabilizer: stab(z) = z + ε·sgn0(z), sgn0(0) = +1.

TEST(Stabilizer, SignAwareWithZeroCountingPositive) {
  lrp::Matrix num(1, 6), den(1, 6);
  num << 1, 1, 1, 1, -3, 0;
  den << 2, -2, 0, 1e-8f, -1e-8f, 0;
  const lrp::Matrix s = lrp::stabilizedDivide(num, den, 0.5f);
  EXPECT_FLOAT_EQ(s(0, 0), 1.0f / 2.5f);
  EXPECT_FLOAT_EQ(s(0, 1), 1.0f / -2.5f);
  EXPECT_FLOAT_EQ(s(0, 2), 1.0f / 0.5f);  // sgn0(0) = +1
  EXPECT_FLOAT_EQ(s(0, 3), 1.0f / (1e-8f + 0.5f));
  EXPECT_FLOAT_EQ(s(0, 4), -3.0f / (-1e-8f - 0.5f));
  EXPECT_FLOAT_EQ(s(0, 5), 0.0f);
}

TEST(Stabilizer, ZeroEpsilonZeroDenominatorGivesZero) {
  lrp::Matrix num(2, 2), den(2, 2);
  num << 1, 0, -2, 5;
  den << 0, 0, 4, -0.0f;
  const lrp::Matrix s = lrp::stabilizedDivide(num, den, 0.0f);
  ASSERT_TRUE(s.allFinite()) << s;
  EXPECT_EQ(s(0, 0), 0.0f);
  EXPECT_EQ(s(0, 1), 0.0f);
  EXPECT_FLOAT_EQ(s(1, 0), -0.5f);
  EXPECT_EQ(s(1, 1), 0.0f);  // −0 is zero too
}

TEST(Stabilizer, RuleEpsilonSelection) {
  lrp::Rule r = epsilonRule(0.3f);
  r.stabilizer = 0.7f;
  EXPECT_FLOAT_EQ(lrp::stabilizerOf(r), 0.3f);
  r.kind = RuleKind::Zero;
  EXPECT_EQ(lrp::stabilizerOf(r), 0.0f);
  for (RuleKind k : {RuleKind::ZPlus, RuleKind::AlphaBeta, RuleKind::Gamma, RuleKind::ZBox, RuleKind::WSquare,
                     RuleKind::Flat, RuleKind::Norm}) {
    r.kind = k;
    EXPECT_FLOAT_EQ(lrp::stabilizerOf(r), 0.7f) << lrp::ruleKindName(k);
  }
}

// ------------------------------------------------------------------------------------------------------------
// End to end: explain() on an MLP with every dense layer under one rule, rules from resolveRules.

constexpr int kTarget = 2;

lrp::Vector mlpInput(uint32_t seed, int n) {
  std::mt19937 rng(seed);
  return randomVector(rng, n, -1, 1);
}

class RuleExplainTest : public ::testing::TestWithParam<std::tuple<RuleCase, bool>> {};

TEST_P(RuleExplainTest, MatchesNaiveReferenceThroughExplain) {
  lrp::Rule rule = std::get<0>(GetParam()).rule;
  rule.zeroBias = std::get<1>(GetParam());
  const Mlp net = makeMlp(101, {8, 7, 6, 4});
  const lrp::Vector x = mlpInput(102, 8);
  lrp::ExplainRequest req;
  req.target = kTarget;
  req.rules = lrp::resolveRules(net.graph, "", {}, {overrideFor(lrp::RuleOverride::Selector::Dense, rule)});
  for (int id : net.denseNodes) ASSERT_TRUE(req.rules[id] && req.rules[id]->kind == rule.kind);
  const lrp::Explanation e = explainVec(net.graph, x, req);
  const DVec xd = x.cast<double>();
  const std::vector<DVec> acts = refForward(net, xd);
  EXPECT_TRUE(closeScaled(e.output, acts.back(), 1e-5));
  const DVec want = refBackward(net, xd, oneHot(4, kTarget, acts.back()(kTarget)), &req.rules);
  EXPECT_TRUE(closeScaled(e.relevance, want, kTol));
}

INSTANTIATE_TEST_SUITE_P(AllRules, RuleExplainTest, ::testing::Combine(::testing::ValuesIn(ruleCases()), ::testing::Bool()),
                         caseName);

// A first-layer rule with per-input z-box bounds, another rule elsewhere.
TEST(RuleExplain, FirstLayerZBoxPerInputThenOtherRules) {
  const Mlp net = makeMlp(111, {8, 7, 6, 4});
  const lrp::Vector x = mlpInput(112, 8);
  std::mt19937 rng(113);
  std::vector<float> low, high;
  for (int i = 0; i < 8; ++i) {
    low.push_back(static_cast<float>(uniform(rng, -1.5, -1.0)));
    high.push_back(static_cast<float>(uniform(rng, 1.0, 1.5)));
  }
  using S = lrp::RuleOverride::Selector;
  for (const lrp::Rule& rest : {gammaRule(0.25f), alphaBetaRule(2, 1), epsilonRule(0.1f)}) {
    lrp::ExplainRequest req;
    req.target = 1;
    req.rules = lrp::resolveRules(net.graph, "", {}, {overrideFor(S::First, zBoxRule(low, high)), overrideFor(S::Dense, rest)});
    ASSERT_EQ(req.rules[0]->kind, RuleKind::ZBox);
    ASSERT_EQ(req.rules[2]->kind, rest.kind);
    const lrp::Explanation e = explainVec(net.graph, x, req);
    const DVec xd = x.cast<double>();
    const DVec want = refBackward(net, xd, oneHot(4, 1, refForward(net, xd).back()(1)), &req.rules);
    EXPECT_TRUE(closeScaled(e.relevance, want, kTol)) << lrp::ruleKindName(rest.kind);
  }
}

// Pass on a dense layer with as many inputs as outputs: R_in = R_out (and a relu under a layer rule 'pass').
TEST(RuleExplain, PassOnSquareDenseLayer) {
  const Mlp net = makeMlp(121, {6, 6, 6, 3});  // nodes: dense0 relu dense1 relu dense2
  const lrp::Vector x = mlpInput(122, 6);
  using S = lrp::RuleOverride::Selector;
  lrp::ExplainRequest req;
  req.target = 0;
  req.layerRelevance = true;
  req.rules = lrp::resolveRules(net.graph, "", {},
                                {overrideFor(S::Dense, epsilonRule(1e-6f)), overrideFor(S::Layer, makeRule(RuleKind::Pass), 2),
                                 overrideFor(S::Layer, makeRule(RuleKind::Pass), 1)});
  ASSERT_EQ(req.rules[2]->kind, RuleKind::Pass);
  const lrp::Explanation e = explainVec(net.graph, x, req);
  const lrp::LayerRelevance* at2 = nullptr;
  const lrp::LayerRelevance* at1 = nullptr;
  for (const auto& l : e.layers) {
    if (l.node == 2) at2 = &l;
    if (l.node == 1) at1 = &l;
  }
  ASSERT_TRUE(at2 && at1);
  EXPECT_TRUE(closeScaled(at1->relevance, at2->relevance.cast<double>(), 1e-7));  // passed unchanged
  EXPECT_DOUBLE_EQ(at2->absorbed(), 0.0);
  const DVec xd = x.cast<double>();
  EXPECT_TRUE(closeScaled(e.relevance, refBackward(net, xd, oneHot(3, 0, refForward(net, xd).back()(0)), &req.rules), kTol));
}

// `rules` without a composite: a dense layer no rule matches passes its plain gradient Wᵀ R.
TEST(RuleExplain, DenseWithoutRulePassesGradient) {
  const Mlp net = makeMlp(131, {8, 7, 6, 4});
  const lrp::Vector x = mlpInput(132, 8);
  lrp::ExplainRequest req;
  req.target = 3;
  req.rules = lrp::resolveRules(net.graph, "", {}, {overrideFor(lrp::RuleOverride::Selector::Layer, epsilonRule(0.01f), 2)});
  ASSERT_FALSE(req.rules[0].has_value());
  ASSERT_FALSE(req.rules[4].has_value());
  ASSERT_TRUE(req.rules[1] && req.rules[1]->kind == RuleKind::Pass);
  const lrp::Explanation e = explainVec(net.graph, x, req);
  const DVec xd = x.cast<double>();
  EXPECT_TRUE(closeScaled(e.relevance, refBackward(net, xd, oneHot(4, 3, refForward(net, xd).back()(3)), &req.rules), kTol));
}

}  // namespace
