// Non-finite values made by a model from finite inputs (issue 12): the call is refused with an Error naming the
// first node where one appeared (its name and kind, as the layer report shows them), the sample, and for backward
// passes the rule. Not errors: an attention mask's −∞ until the softmax, and the zero rule's 0/0 (it passes
// nothing). References: float32's range (a sum of 16 × 0.5 × 1e38 exceeds 3.4e38), and hand-computed alpha-beta
// branches (below).
#include "test_helpers.hpp"

#include "lrp/composite.hpp"

#include <limits>

namespace {

using namespace lrptest;
using lrp::Matrix;
using lrp::Shape;
using lrp::Vector;

const float kInf = std::numeric_limits<float>::infinity();

// x [16] → dense 'fc1' (every weight `weight`) → relu 'act' → dense 'head' (identity-like, 4 outputs).
lrp::Graph hugeWeights(float weight) {
  lrp::Graph g(Shape{16});
  const int fc1 = g.add("fc1", std::make_unique<lrp::DenseLayer>(Matrix::Constant(4, 16, weight), Vector::Zero(4)),
                        {lrp::kGraphInput});
  lrp::LayerSpec none;
  const int act = g.add("act", "relu", none, {fc1});
  g.add("head", std::make_unique<lrp::DenseLayer>(Matrix::Identity(4, 4), Vector::Zero(4)), {act});
  return g;
}

TEST(NonFinite, PredictNamesTheFirstLayerThatOverflowed) {
  const lrp::Graph g = hugeWeights(1e38f);
  // Σ 16 × 0.5 × 1e38 = 8e38 > 3.4e38: +Infinity at fc1, then relu and head carry it.
  EXPECT_TRUE(throwsWith([&] { g.predict(Matrix::Constant(16, 1, 0.5f)); }, "node 'fc1' (dense) became +Infinity"));
  // In a batch the message names the sample: sample 0 (zeros) is finite, sample 1 overflows.
  Matrix batch(16, 2);
  batch.col(0).setZero();
  batch.col(1).setConstant(0.5f);
  EXPECT_TRUE(throwsWith([&] { g.predict(batch); }, "sample 1 of the batch"));
  EXPECT_TRUE(throwsWith([&] { g.forward(batch); }, "node 'fc1' (dense)"));
  EXPECT_TRUE(throwsWith([&] { g.predict(batch); }, "overflow"));
  // Negative overflow is no mask either.
  const lrp::Graph negative = hugeWeights(-1e38f);
  lrp::ExplainRequest gradient;
  gradient.method = lrp::Method::Gradient;
  EXPECT_TRUE(throwsWith([&] { explainVec(negative, Vector::Constant(16, 0.5f), gradient); },
                         "node 'fc1' (dense) became -Infinity"));
}

// After the Error the model still works: a finite call gives the result it gave before.
TEST(NonFinite, TheModelStillWorksAfterwards) {
  const lrp::Graph g = hugeWeights(1e38f);
  const Vector small = Vector::Constant(16, 1e-38f);  // 16 × 1e-38 × 1e38 = 16: finite
  const Matrix before = g.predict(small);
  EXPECT_TRUE(throwsWith([&] { g.predict(Matrix::Constant(16, 1, 0.5f)); }, "fc1"));
  const Matrix after = g.predict(small);
  ASSERT_TRUE(after.allFinite());
  EXPECT_EQ(before, after);
  EXPECT_NEAR(after(0, 0), 16.0, 1e-4);
}

// Every explanation method checks its forward pass.
TEST(NonFinite, EveryMethodRefusesTheOverflow) {
  const lrp::Graph g = hugeWeights(1e38f);
  const Vector x = Vector::Constant(16, 0.5f);
  for (lrp::Method method : {lrp::Method::LRP, lrp::Method::Gradient, lrp::Method::GradientXInput,
                             lrp::Method::IntegratedGradients, lrp::Method::SmoothGrad}) {
    lrp::ExplainRequest request;
    request.method = method;
    request.steps = 4;
    request.samples = 4;
    if (method == lrp::Method::LRP) request.rules = lrp::resolveRules(g, "epsilon-plus", {}, {});
    EXPECT_TRUE(throwsWith([&] { explainVec(g, x, request); }, "node 'fc1' (dense)")) << static_cast<int>(method);
  }
  // SmoothGrad's points, not its input, overflow: x = 1e-38 gives f = 16, x + N(0, 1) sums 16 noises of σ = 1
  // times 1e38 (|Σ| > 3.4 for about 40 % of the points). The message says the samples are the points.
  lrp::ExplainRequest smooth;
  smooth.method = lrp::Method::SmoothGrad;
  smooth.samples = 16;
  smooth.noiseLevel = 1.0f;
  const Vector tiny = Vector::Constant(16, 1e-38f);
  EXPECT_TRUE(g.predict(tiny).allFinite());
  EXPECT_TRUE(throwsWith([&] { explainVec(g, tiny, smooth); },
                         "explain (smoothgrad, 16 samples) for a batch of 1, points 1 to 16 of 16 (the sample numbers "
                         "count within them): the output of node 'fc1' (dense) became"));
}

// input [1, 1, 3] → conv 'features.0' (1×3 kernel [-1, 1e17, 0], no bias) → reshape → dense 'head' (weight 1).
// At x = [1e-30, 1, -1e-30]: z = 1e17 (finite), the relevance at the conv's output is f = 1e17. Alpha-beta's
// negative part z⁻ = x₁⁺w₁⁻ + x₃⁻w₃⁺ = -1e-30 is stabilised to about -1e-6, so s = β·R/z⁻ ≈ -1e23; its branch
// x⁻·(w⁺ᵀs) multiplies x₂⁻ = 0 by w₂⁺·s ≈ 1e40, an overflow: 0 × ∞ = NaN. (x₃ < 0 keeps the x⁻ branch from being
// skipped as all-zero.) Epsilon and z-plus divide by z or z⁺ = 1e17 and stay finite.
struct AlphaBetaTrap {
  lrp::Graph g{Shape{1, 1, 3}};
  AlphaBetaTrap() {
    Matrix w(1, 3);
    w << -1.0f, 1e17f, 0.0f;
    lrp::WindowGeometry window;
    window.kernelW = 3;
    const int conv = g.add("features.0", std::make_unique<lrp::Conv2DLayer>(w, Vector(), Shape{1, 1, 3}, window, 1),
                           {lrp::kGraphInput});
    lrp::LayerSpec flat;
    flat.set("outputShape", std::vector<double>{1});
    const int reshape = g.add("flatten", "reshape", flat, {conv});
    g.add("head", std::make_unique<lrp::DenseLayer>(Matrix::Ones(1, 1), Vector::Zero(1)), {reshape});
  }
  Vector input() const {
    Vector x(3);
    x << 1e-30f, 1.0f, -1e-30f;
    return x;
  }
  lrp::Explanation explain(const std::string& composite) const {
    lrp::ExplainRequest request;
    request.rules = lrp::resolveRules(g, composite, {}, {});
    return explainVec(g, input(), request);
  }
};

TEST(NonFinite, AlphaBetaOverflowNamesTheLayerAndRule) {
  const AlphaBetaTrap trap;
  EXPECT_TRUE(throwsWith([&] { trap.explain("epsilon-alpha2-beta1"); },
                         "the relevance passed back by node 'features.0' (conv) under rule 'alpha-beta'"));
  EXPECT_TRUE(throwsWith([&] { trap.explain("epsilon-alpha2-beta1"); }, "sample 0"));
  for (const char* composite : {"epsilon-plus", "attn-lrp"}) {
    const lrp::Explanation e = trap.explain(composite);
    EXPECT_TRUE(e.relevance.allFinite()) << composite << ": " << e.relevance.transpose();
  }
}

// Masks: x [T, D] → scores (dense) → + mask (per-input constants, −∞ at keys 1 and 3) → softmax → ·x → head.
constexpr int T = 4, D = 3;

lrp::LayerSpec constantSpec(int offset, Shape shape) {
  lrp::LayerSpec spec;
  spec.set("offset", static_cast<double>(offset));
  spec.set("shape", std::vector<double>(shape.begin(), shape.end()));
  return spec;
}

lrp::Graph maskedAttention(std::mt19937& rng) {
  lrp::Graph g{Shape{T, D}};
  lrp::LayerSpec softmax, flat;
  softmax.set("axis", -1.0);
  flat.set("outputShape", std::vector<double>{T * D});
  const int scores = g.add("scores", "dense", denseSpec(rng, T, D), {lrp::kGraphInput});
  const int mask = g.add("mask", "input-constant", constantSpec(0, {T}), {lrp::kInputConstants});
  const int masked = g.add("masked", "add", lrp::LayerSpec(), {scores, mask});
  const int attn = g.add("attn", "softmax", softmax, {masked});
  const int mixed = g.add("mixed", "matmul", lrp::LayerSpec(), {attn, lrp::kGraphInput});
  const int flatId = g.add("flat", "reshape", flat, {mixed});
  g.add("head", "dense", denseSpec(rng, 2, T * D), {flatId});
  return g;
}

TEST(NonFinite, AMaskFeedingASoftmaxPasses) {
  std::mt19937 rng(7);
  const lrp::Graph g = maskedAttention(rng);
  Vector column(T * D + T);
  column.head(T * D) = randomVector(rng, T * D, -1, 1);
  column.tail(T) << 0.0f, -kInf, 0.0f, -kInf;
  EXPECT_TRUE(g.predict(column).allFinite());
  for (const char* composite : {"attn-lrp", "cp-lrp", "epsilon-plus"}) {
    lrp::ExplainRequest request;
    request.rules = lrp::resolveRules(g, composite, {}, {});
    request.layerRelevance = true;
    const lrp::Explanation e = explainVec(g, column, request);
    EXPECT_TRUE(e.relevance.allFinite()) << composite << ": " << e.relevance.transpose();
    // The layer report too: no relevance at the mask's −∞ turns into NaN.
    for (const lrp::LayerRelevance& layer : e.layers) {
      EXPECT_TRUE(std::isfinite(layer.sum) && std::isfinite(layer.inputSum)) << composite << " " << g.node(layer.node).name;
      EXPECT_TRUE(layer.relevance.allFinite()) << composite << " " << g.node(layer.node).name;
    }
  }
  lrp::ExplainRequest gradient;
  gradient.method = lrp::Method::GradientXInput;
  EXPECT_TRUE(explainVec(g, column, gradient).relevance.allFinite());
}

// A mask's −∞ times zero is NaN: never legitimate, the node that made it is named.
TEST(NonFinite, AMaskTimesZeroIsAnError) {
  lrp::Graph g{Shape{T}};
  const int zeros = g.add("zeros", std::make_unique<lrp::DenseLayer>(Matrix::Zero(T, T), Vector::Zero(T)), {lrp::kGraphInput});
  const int mask = g.add("mask", "input-constant", constantSpec(0, {T}), {lrp::kInputConstants});
  g.add("gated", "mul", lrp::LayerSpec(), {zeros, mask});
  Vector column(2 * T);
  column << 1, 2, 3, 4, 0, -kInf, 0, 0;
  EXPECT_TRUE(throwsWith([&] { g.predict(column); }, "node 'gated' (mul) became NaN (sample 0 of the batch, value 1 of 4)"));
  column(T + 1) = 0.0f;  // without the mask: finite
  EXPECT_TRUE(g.predict(column).allFinite());
}

// The zero rule at a neuron whose z is 0 (a zero row of weights, no bias): R/z is 0/0 by design and passes
// nothing. Reference: R_i = Σ_j x_i w_ij R_j / z_j with the 0/0 term taken as 0, i.e. only neuron 0's share.
TEST(NonFinite, ZeroRuleAtAZeroOutputPassesNothing) {
  Matrix w(2, 3);
  w << 1, 2, 3, 0, 0, 0;
  lrp::Graph g(Shape{3});
  g.add("fc", std::make_unique<lrp::DenseLayer>(w, Vector::Zero(2)), {lrp::kGraphInput});
  lrp::Rule zero;
  zero.kind = lrp::RuleKind::Zero;
  lrp::ExplainRequest request;
  request.rules = {zero};
  request.outputRelevance = {0.0f, 1.0f};  // all the relevance at the neuron with z = 0
  const Vector x = Vector::Constant(3, 1.0f);
  const lrp::Explanation e = explainVec(g, x, request);
  EXPECT_TRUE(e.relevance.isZero()) << e.relevance.transpose();
  request.outputRelevance = {6.0f, 1.0f};  // z₀ = 6: x_i w_0i · 6/6
  const lrp::Explanation both = explainVec(g, x, request);
  EXPECT_FLOAT_EQ(both.relevance(0), 1.0f);
  EXPECT_FLOAT_EQ(both.relevance(1), 2.0f);
  EXPECT_FLOAT_EQ(both.relevance(2), 3.0f);
}

}  // namespace
