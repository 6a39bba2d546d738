// Explanation methods: gradient (vs finite differences), gradient × input, integrated gradients, SmoothGrad,
// the outputRelevance seed, explainBatch vs explain, and request validation.
#include "test_helpers.hpp"

#include <algorithm>
#include <limits>

namespace {

using namespace lrptest;
using lrp::Method;
using lrp::RuleKind;

constexpr int kIn = 7, kOut = 4;

Mlp methodsNet() { return makeMlp(501, {kIn, 9, 8, kOut}); }

lrp::ExplainRequest methodRequest(Method m, int target) {
  lrp::ExplainRequest req;
  req.method = m;
  req.target = target;
  return req;
}

double refOutput(const Mlp& net, const DVec& x, int t) { return refForward(net, x).back()(t); }

DVec refGradient(const Mlp& net, const DVec& x, int t) { return refBackward(net, x, oneHot(kOut, t, 1.0), nullptr); }

// The on/off pattern of every ReLU (pre-activation > 0).
std::vector<bool> reluPattern(const Mlp& net, const DVec& x) {
  const std::vector<DVec> acts = refForward(net, x);
  std::vector<bool> pattern;
  for (size_t id = 0; id < net.steps.size(); ++id)
    if (net.steps[id] == Mlp::Step::Relu) {
      const DVec& pre = acts[id - 1];
      for (Eigen::Index j = 0; j < pre.size(); ++j) pattern.push_back(pre(j) > 0.0);
    }
  return pattern;
}

double minAbsPreActivation(const Mlp& net, const DVec& x) {
  const std::vector<DVec> acts = refForward(net, x);
  double m = std::numeric_limits<double>::infinity();
  for (size_t id = 0; id < net.steps.size(); ++id)
    if (net.steps[id] == Mlp::Step::Relu) m = std::min(m, acts[id - 1].cwiseAbs().minCoeff());
  return m;
}

// The engine's forward agrees with the double reference (so finite differences of either are of the same f).
TEST(Methods, ForwardMatchesReference) {
  const Mlp net = methodsNet();
  std::mt19937 rng(502);
  const lrp::Matrix X = randomMatrix(rng, kIn, 6, -1, 1);
  const lrp::Matrix Y = net.graph.predict(X);
  for (int c = 0; c < 6; ++c) EXPECT_TRUE(closeScaled(Y.col(c), refForward(net, X.col(c).cast<double>()).back(), 1e-5));
}

// Gradient vs central differences of the double network, at points away from ReLU kinks.
TEST(Methods, GradientMatchesFiniteDifferencesOfReference) {
  const Mlp net = methodsNet();
  std::mt19937 rng(503);
  int checked = 0;
  for (int attempt = 0; attempt < 50 && checked < 5; ++attempt) {
    const lrp::Vector x = randomVector(rng, kIn, -1, 1);
    const DVec xd = x.cast<double>();
    if (minAbsPreActivation(net, xd) < 1e-3) continue;  // too close to a kink for h = 1e-6
    for (int t = 0; t < kOut; ++t) {
      const lrp::Explanation e = explainVec(net.graph, x, methodRequest(Method::Gradient, t));
      DVec fd(kIn);
      const double h = 1e-6;
      for (int i = 0; i < kIn; ++i) {
        DVec a = xd, b = xd;
        a(i) += h;
        b(i) -= h;
        fd(i) = (refOutput(net, a, t) - refOutput(net, b, t)) / (2 * h);
      }
      EXPECT_TRUE(closeScaled(e.relevance, fd, 1e-4)) << "target " << t;
    }
    ++checked;
  }
  EXPECT_EQ(checked, 5);
}

// Central differences of the engine's own float predict(), with a step that crosses no kink (checked): exact
// for a piecewise-linear network up to float rounding.
TEST(Methods, GradientMatchesFiniteDifferencesOfEngine) {
  const Mlp net = methodsNet();
  std::mt19937 rng(504);
  const float h = 1e-2f;
  int checked = 0;
  for (int attempt = 0; attempt < 200 && checked < 3; ++attempt) {
    const lrp::Vector x = randomVector(rng, kIn, -1, 1);
    const std::vector<bool> p0 = reluPattern(net, x.cast<double>());
    lrp::Matrix probes(kIn, 2 * kIn);
    bool sameRegion = true;
    for (int i = 0; i < kIn; ++i) {
      probes.col(2 * i) = x;
      probes.col(2 * i + 1) = x;
      probes(i, 2 * i) += h;
      probes(i, 2 * i + 1) -= h;
      sameRegion = sameRegion && reluPattern(net, probes.col(2 * i).cast<double>()) == p0 &&
                   reluPattern(net, probes.col(2 * i + 1).cast<double>()) == p0;
    }
    if (!sameRegion) continue;
    const lrp::Matrix Y = net.graph.predict(probes);
    for (int t = 0; t < kOut; ++t) {
      DVec fd(kIn);
      for (int i = 0; i < kIn; ++i)
        fd(i) = (static_cast<double>(Y(t, 2 * i)) - static_cast<double>(Y(t, 2 * i + 1))) / (static_cast<double>(probes(i, 2 * i)) - probes(i, 2 * i + 1));
      EXPECT_TRUE(closeScaled(explainVec(net.graph, x, methodRequest(Method::Gradient, t)).relevance, fd, 1e-3));
    }
    ++checked;
  }
  EXPECT_EQ(checked, 3);
}

// The gradient starts from 1 at the target (not f_t): it matches the reference backprop exactly, any point.
TEST(Methods, GradientMatchesReferenceBackprop) {
  const Mlp net = methodsNet();
  std::mt19937 rng(505);
  for (int k = 0; k < 5; ++k) {
    const lrp::Vector x = randomVector(rng, kIn, -2, 2);
    const lrp::Explanation e = explainVec(net.graph, x, methodRequest(Method::Gradient, lrp::kPredictedTarget));
    Eigen::Index t;
    e.output.maxCoeff(&t);
    EXPECT_EQ(e.target, static_cast<int>(t));
    EXPECT_TRUE(closeScaled(e.relevance, refGradient(net, x.cast<double>(), e.target), 1e-5));
  }
}

// At a ReLU kink (pre-activation exactly 0) the derivative is taken as 0, as PyTorch does.
TEST(Methods, GradientAtReluKinkIsZero) {
  lrp::Graph g({2});
  lrp::Matrix w1(1, 2), w2(1, 1);
  w1 << 1, -1;
  w2 << 2;
  g.add("d1", std::make_unique<lrp::DenseLayer>(w1, lrp::Vector::Zero(1)), {lrp::kGraphInput});
  g.add("relu", std::make_unique<lrp::ReLULayer>(), {0});
  g.add("d2", std::make_unique<lrp::DenseLayer>(w2, lrp::Vector()), {1});
  lrp::ExplainRequest req = methodRequest(Method::Gradient, 0);
  lrp::Vector x(2);
  x << 1, 1;  // z = 0
  EXPECT_EQ(explainVec(g, x, req).relevance, lrp::Vector::Zero(2));
  x << 2, 1;  // z = 1
  EXPECT_EQ(explainVec(g, x, req).relevance, (lrp::Vector(2) << 2, -2).finished());
  x << 1, 2;  // z = −1
  EXPECT_EQ(explainVec(g, x, req).relevance, lrp::Vector::Zero(2));
}

TEST(Methods, GradientTimesInput) {
  const Mlp net = methodsNet();
  std::mt19937 rng(506);
  const lrp::Vector x = randomVector(rng, kIn, -1, 1);
  const lrp::Explanation g = explainVec(net.graph, x, methodRequest(Method::Gradient, 1));
  const lrp::Explanation gx = explainVec(net.graph, x, methodRequest(Method::GradientXInput, 1));
  EXPECT_TRUE(closeScaled(gx.relevance, g.relevance.cwiseProduct(x).cast<double>(), 1e-6));
  EXPECT_TRUE(closeScaled(gx.relevance, refGradient(net, x.cast<double>(), 1).cwiseProduct(x.cast<double>()), 1e-5));
}

TEST(Methods, IntegratedGradientsOneStepIsGradientTimesInput) {
  const Mlp net = methodsNet();
  std::mt19937 rng(507);
  const lrp::Vector x = randomVector(rng, kIn, -1, 1);
  lrp::ExplainRequest req = methodRequest(Method::IntegratedGradients, 2);
  req.steps = 1;
  const lrp::Explanation ig = explainVec(net.graph, x, req);
  const lrp::Explanation g = explainVec(net.graph, x, methodRequest(Method::Gradient, 2));
  EXPECT_TRUE(closeScaled(ig.relevance, g.relevance.cwiseProduct(x).cast<double>(), 1e-6));
}

// IG = x ⊙ mean_k ∇f((k/steps)·x), k = 1..steps (right Riemann sum, zero baseline): against the reference.
TEST(Methods, IntegratedGradientsMatchesReferenceRiemannSum) {
  const Mlp net = methodsNet();
  std::mt19937 rng(508);
  const lrp::Vector x = randomVector(rng, kIn, -1.5, 1.5);
  const DVec xd = x.cast<double>();
  for (int steps : {3, 37}) {
    lrp::ExplainRequest req = methodRequest(Method::IntegratedGradients, 0);
    req.steps = steps;  // 37 > the engine's chunk of 16 samples
    DVec mean = DVec::Zero(kIn);
    for (int k = 1; k <= steps; ++k) mean += refGradient(net, xd * (static_cast<double>(k) / steps), 0);
    mean /= steps;
    EXPECT_TRUE(closeScaled(explainVec(net.graph, x, req).relevance, mean.cwiseProduct(xd), 1e-4)) << steps << " steps";
  }
}

// Completeness: Σ IG ≈ f_t(x) − f_t(0), better with more steps.
TEST(Methods, IntegratedGradientsCompleteness) {
  const Mlp net = methodsNet();
  std::mt19937 rng(509);
  for (int trial = 0; trial < 3; ++trial) {
    const lrp::Vector x = randomVector(rng, kIn, -1.5, 1.5);
    const lrp::Matrix zero = lrp::Matrix::Zero(kIn, 1);
    for (int t = 0; t < kOut; ++t) {
      const double delta = net.graph.predict(x)(t, 0) - net.graph.predict(zero)(t, 0);
      lrp::ExplainRequest req = methodRequest(Method::IntegratedGradients, t);
      req.steps = 2048;
      const double sum = explainVec(net.graph, x, req).relevance.cast<double>().sum();
      EXPECT_NEAR(sum, delta, 2e-3 * std::max(std::abs(delta), 0.1)) << "trial " << trial << " target " << t;
    }
  }
}

TEST(Methods, SmoothGradWithoutNoiseIsGradient) {
  const Mlp net = methodsNet();
  std::mt19937 rng(510);
  const lrp::Vector x = randomVector(rng, kIn, -1, 1);
  lrp::ExplainRequest req = methodRequest(Method::SmoothGrad, 3);
  req.noiseLevel = 0.0f;
  req.samples = 20;
  EXPECT_TRUE(closeScaled(explainVec(net.graph, x, req).relevance,
                          explainVec(net.graph, x, methodRequest(Method::Gradient, 3)).relevance.cast<double>(), 1e-6));
}

TEST(Methods, SmoothGradSeedDeterminism) {
  const Mlp net = methodsNet();
  std::mt19937 rng(511);
  const lrp::Vector x = randomVector(rng, kIn, -1, 1);
  lrp::ExplainRequest req = methodRequest(Method::SmoothGrad, 0);
  req.noiseLevel = 0.5f;
  req.samples = 24;
  req.seed = 7;
  const lrp::Vector a = explainVec(net.graph, x, req).relevance;
  const lrp::Vector b = explainVec(net.graph, x, req).relevance;
  EXPECT_TRUE(a == b) << "same seed, different result";
  req.seed = 8;
  const lrp::Vector c = explainVec(net.graph, x, req).relevance;
  EXPECT_GT((a - c).cwiseAbs().maxCoeff(), 1e-4) << "another seed gave the same result";
  const lrp::Vector g = explainVec(net.graph, x, methodRequest(Method::Gradient, 0)).relevance;
  EXPECT_GT((a - g).cwiseAbs().maxCoeff(), 1e-4) << "noise had no effect";
  EXPECT_TRUE(a.allFinite());
}

// ------------------------------------------------------------------------------------------------------------
// The output seed.

lrp::ExplainRequest epsilonLrp(const lrp::Graph& graph, int target) {
  lrp::ExplainRequest req;
  req.target = target;
  lrp::CompositeParams p;
  p.epsilon = 0.01f;
  req.rules = lrp::resolveRules(graph, "epsilon-plus", p, {});
  return req;
}

TEST(OutputRelevance, DefaultSeedIsTheTargetLogit) {
  const Mlp net = methodsNet();
  std::mt19937 rng(520);
  const lrp::Vector x = randomVector(rng, kIn, -1, 1);
  lrp::ExplainRequest req = epsilonLrp(net.graph, 2);
  const lrp::Explanation e = explainVec(net.graph, x, req);
  std::vector<float> seed(kOut, 0.0f);
  seed[2] = e.output(2);
  req.outputRelevance = seed;
  EXPECT_TRUE(closeScaled(explainVec(net.graph, x, req).relevance, e.relevance.cast<double>(), 1e-7));
  // and it is the f_t-scaled version of the unit seed
  seed[2] = 1.0f;
  req.outputRelevance = seed;
  EXPECT_TRUE(closeScaled(explainVec(net.graph, x, req).relevance * e.output(2), e.relevance.cast<double>(), 1e-5));
}

// "Why a and not b": e_a·f_a − e_b·f_b equals the difference of the two explanations under a linear rule.
TEST(OutputRelevance, ContrastiveEqualsDifference) {
  const Mlp net = methodsNet();
  std::mt19937 rng(521);
  const lrp::Vector x = randomVector(rng, kIn, -1, 1);
  const int a = 1, b = 3;
  const lrp::Explanation ea = explainVec(net.graph, x, epsilonLrp(net.graph, a));
  const lrp::Explanation eb = explainVec(net.graph, x, epsilonLrp(net.graph, b));
  lrp::ExplainRequest req = epsilonLrp(net.graph, lrp::kPredictedTarget);
  req.outputRelevance.assign(kOut, 0.0f);
  req.outputRelevance[a] = ea.output(a);
  req.outputRelevance[b] = -eb.output(b);
  const lrp::Explanation c = explainVec(net.graph, x, req);
  EXPECT_TRUE(closeScaled(c.relevance, (ea.relevance - eb.relevance).cast<double>(), 1e-5));
  // and the reference agrees
  const DVec xd = x.cast<double>();
  DVec seed = DVec::Zero(kOut);
  seed(a) = refOutput(net, xd, a);
  seed(b) = -refOutput(net, xd, b);
  EXPECT_TRUE(closeScaled(c.relevance, refBackward(net, xd, seed, &req.rules), 1e-4));
}

// For gradient methods outputRelevance is the VJP seed: vᵀ J.
TEST(OutputRelevance, GradientSeedIsLinearCombination) {
  const Mlp net = methodsNet();
  std::mt19937 rng(522);
  const lrp::Vector x = randomVector(rng, kIn, -1, 1);
  lrp::ExplainRequest req = methodRequest(Method::Gradient, lrp::kPredictedTarget);
  req.outputRelevance = {0.5f, -2.0f, 0.0f, 1.25f};
  DVec want = DVec::Zero(kIn);
  for (int t = 0; t < kOut; ++t) want += req.outputRelevance[t] * refGradient(net, x.cast<double>(), t);
  EXPECT_TRUE(closeScaled(explainVec(net.graph, x, req).relevance, want, 1e-5));
}

// ------------------------------------------------------------------------------------------------------------
// explainBatch: the same per column as explain, each column with its own predicted target.

TEST(ExplainBatch, SameAsExplainPerColumn) {
  const Mlp net = methodsNet();
  std::mt19937 rng(530);
  const lrp::Matrix X = randomMatrix(rng, kIn, 12, -2, 2);
  std::vector<lrp::ExplainRequest> requests;
  requests.push_back(epsilonLrp(net.graph, lrp::kPredictedTarget));
  {
    lrp::ExplainRequest r;
    r.rules = lrp::resolveRules(net.graph, "", {}, {overrideFor(lrp::RuleOverride::Selector::Dense, gammaRule(0.25f))});
    requests.push_back(r);
  }
  for (Method m : {Method::Gradient, Method::GradientXInput, Method::IntegratedGradients, Method::SmoothGrad}) {
    lrp::ExplainRequest r = methodRequest(m, lrp::kPredictedTarget);
    r.steps = 8;
    r.samples = 6;
    r.seed = 3;
    requests.push_back(r);
  }
  for (const lrp::ExplainRequest& req : requests) {
    SCOPED_TRACE(static_cast<int>(req.method));
    const std::vector<lrp::Explanation> batch = lrp::explainBatch(net.graph, X, req);
    ASSERT_EQ(batch.size(), 12u);
    std::vector<int> targets;
    for (int c = 0; c < 12; ++c) {
      const lrp::Explanation single = explainVec(net.graph, X.col(c), req);
      EXPECT_EQ(batch[c].target, single.target) << "column " << c;
      targets.push_back(single.target);
      EXPECT_TRUE(closeScaled(batch[c].output, single.output.cast<double>(), 1e-6));
      EXPECT_TRUE(closeScaled(batch[c].relevance, single.relevance.cast<double>(), 1e-5)) << "column " << c;
    }
    std::sort(targets.begin(), targets.end());
    EXPECT_GE(std::unique(targets.begin(), targets.end()) - targets.begin(), 2) << "all columns predict one class";
  }
}

TEST(ExplainBatch, FixedTargetAppliesToEveryColumn) {
  const Mlp net = methodsNet();
  std::mt19937 rng(531);
  const lrp::Matrix X = randomMatrix(rng, kIn, 5, -1, 1);
  const lrp::ExplainRequest req = epsilonLrp(net.graph, 2);
  const std::vector<lrp::Explanation> batch = lrp::explainBatch(net.graph, X, req);
  for (int c = 0; c < 5; ++c) {
    EXPECT_EQ(batch[c].target, 2);
    const DVec xd = X.col(c).cast<double>();
    EXPECT_TRUE(closeScaled(batch[c].relevance,
                            refBackward(net, xd, oneHot(kOut, 2, refOutput(net, xd, 2)), &req.rules), 1e-4));
  }
}

// ------------------------------------------------------------------------------------------------------------
// Invalid requests and inputs.

TEST(ExplainErrors, TargetOutOfRange) {
  const Mlp net = methodsNet();
  const lrp::Vector x = lrp::Vector::Zero(kIn);
  for (int t : {kOut, 100, -2}) {
    EXPECT_TRUE(throwsWith([&] { explainVec(net.graph, x, epsilonLrp(net.graph, t)); }, "target " + std::to_string(t))) << t;
    EXPECT_TRUE(throwsWith([&] { explainVec(net.graph, x, methodRequest(Method::Gradient, t)); }, "out of range")) << t;
  }
}

TEST(ExplainErrors, OutputRelevanceLengthAndValues) {
  const Mlp net = methodsNet();
  const lrp::Vector x = lrp::Vector::Zero(kIn);
  lrp::ExplainRequest req = epsilonLrp(net.graph, 0);
  req.outputRelevance = {1.0f, 2.0f};
  EXPECT_TRUE(throwsWith([&] { explainVec(net.graph, x, req); }, "outputRelevance has 2 values, expected 4"));
  req.outputRelevance = {1.0f, std::numeric_limits<float>::quiet_NaN(), 0.0f, 0.0f};
  EXPECT_TRUE(throwsWith([&] { explainVec(net.graph, x, req); }, "NaN"));
}

TEST(ExplainErrors, BadInputs) {
  const Mlp net = methodsNet();
  const lrp::ExplainRequest req = epsilonLrp(net.graph, 0);
  lrp::Vector x = lrp::Vector::Zero(kIn);
  x(3) = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(throwsWith([&] { explainVec(net.graph, x, req); }, "NaN"));
  x(3) = std::numeric_limits<float>::infinity();
  EXPECT_TRUE(throwsWith([&] { explainVec(net.graph, x, req); }, "Infinity"));
  const lrp::Vector shortX = lrp::Vector::Zero(kIn - 1);
  EXPECT_TRUE(throwsWith([&] { explainVec(net.graph, shortX, req); }, "input has 6 values, expected 7"));
  EXPECT_TRUE(throwsWith([&] { lrp::explainBatch(net.graph, lrp::Matrix::Zero(kIn + 1, 2), req); }, "expected 7"));
  lrp::Matrix nanBatch = lrp::Matrix::Zero(kIn, 3);
  nanBatch(0, 2) = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(throwsWith([&] { lrp::explainBatch(net.graph, nanBatch, methodRequest(Method::Gradient, 0)); }, "NaN"));
}

TEST(ExplainErrors, MethodParameters) {
  const Mlp net = methodsNet();
  const lrp::Vector x = lrp::Vector::Zero(kIn);
  lrp::ExplainRequest ig = methodRequest(Method::IntegratedGradients, 0);
  ig.steps = 0;
  EXPECT_TRUE(throwsWith([&] { explainVec(net.graph, x, ig); }, "steps"));
  lrp::ExplainRequest sg = methodRequest(Method::SmoothGrad, 0);
  sg.samples = 0;
  EXPECT_TRUE(throwsWith([&] { explainVec(net.graph, x, sg); }, "samples"));
  sg.samples = 4;
  sg.noiseLevel = -0.1f;
  EXPECT_TRUE(throwsWith([&] { explainVec(net.graph, x, sg); }, "noiseLevel"));
  sg.noiseLevel = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(throwsWith([&] { explainVec(net.graph, x, sg); }, "noiseLevel"));
  lrp::ExplainRequest unresolved;  // LRP without rules from resolveRules
  EXPECT_TRUE(throwsWith([&] { explainVec(net.graph, x, unresolved); }, "rules"));
}

// A failed call leaves nothing behind: the next valid call gives the same result as before.
TEST(ExplainErrors, FailureDoesNotCorruptNextCall) {
  const Mlp net = methodsNet();
  std::mt19937 rng(540);
  const lrp::Vector x = randomVector(rng, kIn, -1, 1);
  const lrp::ExplainRequest req = epsilonLrp(net.graph, 1);
  const lrp::Vector before = explainVec(net.graph, x, req).relevance;
  lrp::Vector bad = x;
  bad(0) = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(explainVec(net.graph, bad, req), lrp::Error);
  EXPECT_TRUE(explainVec(net.graph, x, req).relevance == before);
}

}  // namespace

namespace {

// Integrated gradients and SmoothGrad of a token model run in embedding space (zero-embedding baseline):
// the per-token attributions add up to f(e) − f(0) as the steps grow (completeness, Sundararajan et al.
// 2017), with f(0) evaluated by the same network on a zero embedding; SmoothGrad is finite and seeded.
TEST(TokenMethods, IntegratedGradientsOnEmbeddingsAreComplete) {
  std::mt19937 rng(77);
  const int T = 4, D = 3, V = 6;
  auto dense = [&](int out, int in) {
    lrp::LayerSpec spec;
    spec.set("weight", toStd(randomVector(rng, out * in, -0.9, 0.9)));
    spec.set("bias", toStd(randomVector(rng, out, -0.2, 0.2)));
    return spec;
  };
  lrp::LayerSpec table;
  table.set("table", toStd(randomVector(rng, V * D, -1, 1)));
  table.set("outputShape", std::vector<double>{T, D});
  lrp::LayerSpec flat;
  flat.set("outputShape", std::vector<double>{T * 5});
  const lrp::LayerSpec d1 = dense(5, D), d2 = dense(2, T * 5);
  lrp::Graph g(lrp::Shape{T});
  const int e = g.add("embed", "embedding", table, {lrp::kGraphInput});
  const int h = g.add("fc1", "dense", d1, {e});
  const int a = g.add("act", "tanh", lrp::LayerSpec(), {h});
  const int f = g.add("flat", "reshape", flat, {a});
  g.add("head", "dense", d2, {f});
  // The same network on embeddings, for f(0).
  lrp::Graph onEmbeddings(lrp::Shape{T, D});
  const int h0 = onEmbeddings.add("fc1", "dense", d1, {lrp::kGraphInput});
  const int a0 = onEmbeddings.add("act", "tanh", lrp::LayerSpec(), {h0});
  const int f0 = onEmbeddings.add("flat", "reshape", flat, {a0});
  onEmbeddings.add("head", "dense", d2, {f0});

  const lrp::Vector ids = (lrp::Vector(T) << 1, 5, 0, 3).finished();
  lrp::ExplainRequest req;
  req.method = lrp::Method::IntegratedGradients;
  req.steps = 512;
  req.target = 1;
  const lrp::Explanation ig = explainVec(g, ids, req);
  ASSERT_EQ(ig.relevance.size(), T);
  const double fZero = onEmbeddings.predict(lrp::Matrix::Zero(T * D, 1))(1, 0);
  EXPECT_NEAR(ig.relevance.cast<double>().sum(), ig.output(1) - fZero, 2e-3 * std::max(1.0, std::abs(ig.output(1) - fZero)));

  req.method = lrp::Method::SmoothGrad;
  req.samples = 8;
  req.seed = 3;
  const lrp::Explanation sg1 = explainVec(g, ids, req), sg2 = explainVec(g, ids, req);
  ASSERT_EQ(sg1.relevance.size(), T);
  EXPECT_TRUE(sg1.relevance.allFinite());
  EXPECT_EQ(sg1.relevance, sg2.relevance) << "the same seed gives the same result";
}

}  // namespace
