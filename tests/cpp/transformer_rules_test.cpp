// Softmax, LayerNorm and matmul of two activations: forward and gradient against explicit double loops, and
// ATTNLRP rules 7, 8 and 9 against a naive double implementation of the formulas as written in
// shared/ATTNLRP.md; masked (−∞) softmax inputs; build errors; and an explain() through a small attention
// block checking the conservation report.
#include "test_helpers.hpp"

#include "../../cpp/src/special_rules.hpp"

namespace {

using namespace lrptest;
using lrp::LayerSpec;
using lrp::Matrix;
using lrp::Shape;
using lrp::Vector;

lrp::Rule roleRule(lrp::RuleKind kind, float stabilizer) {
  lrp::Rule rule;
  rule.kind = kind;
  rule.stabilizer = stabilizer;
  rule.signedStabilizer = false;  // LXT's st+, as composite.cpp sets it for rules 7 and 9
  return rule;
}

// ------------------------------------------------------------------------------------------------------
// Softmax: shape [2, 3, 4], axis 1 (outer 2, size 3, inner 4).

constexpr int kOuter = 2, kSize = 3, kInner = 4;
int at(int o, int k, int i) { return (o * kSize + k) * kInner + i; }

DMat refSoftmax(const Matrix& x) {
  DMat s(x.rows(), x.cols());
  for (int c = 0; c < x.cols(); ++c)
    for (int o = 0; o < kOuter; ++o)
      for (int i = 0; i < kInner; ++i) {
        double sum = 0;
        for (int k = 0; k < kSize; ++k) sum += std::exp(double{x(at(o, k, i), c)});
        for (int k = 0; k < kSize; ++k) s(at(o, k, i), c) = std::exp(double{x(at(o, k, i), c)}) / sum;
      }
  return s;
}

TEST(Softmax, ForwardGradientAndRule8MatchNaiveLoops) {
  LayerSpec spec;
  spec.set("axis", 1.0);
  const auto layer = build("softmax", spec, {{2, 3, 4}});
  EXPECT_EQ(layer->role(), lrp::Role::Softmax);
  std::mt19937 rng(51);
  const Matrix x = randomMatrix(rng, 24, 2, -3, 3), g = randomMatrix(rng, 24, 2, -1, 1);
  const Matrix y = layer->forward({&x});
  const DMat s = refSoftmax(x);
  EXPECT_TRUE(closeScaled(y, s, 1e-6));
  // The Jacobian ∂s_k/∂x_l = s_k (δ_kl − s_l), applied as gᵀJ.
  DMat wantG = DMat::Zero(24, 2), wantR = DMat::Zero(24, 2);
  for (int c = 0; c < 2; ++c)
    for (int o = 0; o < kOuter; ++o)
      for (int i = 0; i < kInner; ++i) {
        double total = 0;
        for (int k = 0; k < kSize; ++k) total += g(at(o, k, i), c);
        for (int l = 0; l < kSize; ++l) {
          for (int k = 0; k < kSize; ++k)
            wantG(at(o, l, i), c) += g(at(o, k, i), c) * s(at(o, k, i), c) * ((k == l) - s(at(o, l, i), c));
          // ATTNLRP rule 8: R_x = x ⊙ (R − s·Σ R) over the softmax axis (g plays R).
          wantR(at(o, l, i), c) = x(at(o, l, i), c) * (g(at(o, l, i), c) - s(at(o, l, i), c) * total);
        }
      }
  EXPECT_TRUE(closeScaled(layer->gradient({&x}, y, g)[0], wantG, 1e-5));
  const auto r = lrp::softmaxRelevance(*layer, {&x}, y, g, roleRule(lrp::RuleKind::Softmax, 0));
  EXPECT_TRUE(closeScaled(r[0], wantR, 1e-5));
}

TEST(Softmax, MaskedInputsGetNoRelevanceAndNoNaN) {
  LayerSpec spec;
  spec.set("axis", -1.0);
  const auto layer = build("softmax", spec, {{2, 3}});
  const float inf = std::numeric_limits<float>::infinity();
  Matrix x(6, 1);
  x << 1.0f, -inf, 2.0f, -inf, -inf, -inf;  // row 2 is masked entirely
  const Matrix y = layer->forward({&x});
  ASSERT_TRUE(y.allFinite());
  EXPECT_FLOAT_EQ(y(1, 0), 0.0f);
  EXPECT_NEAR(y(0, 0) + y(2, 0), 1.0, 1e-6);
  EXPECT_TRUE(y.bottomRows(3).isZero());
  const Matrix R = Matrix::Ones(6, 1);
  const Matrix r = lrp::softmaxRelevance(*layer, {&x}, y, R, roleRule(lrp::RuleKind::Softmax, 0))[0];
  ASSERT_TRUE(r.allFinite());
  EXPECT_EQ(r(1, 0), 0.0f);
  EXPECT_TRUE(r.bottomRows(3).isZero());
  EXPECT_TRUE(layer->gradient({&x}, y, R)[0].allFinite());
}

// ------------------------------------------------------------------------------------------------------
// LayerNorm over the last two axes of [2, 3, 4] (groups of 12).

struct RefNorm {
  DMat y, sigma;  // sigma: one per group and column
};

RefNorm refLayerNorm(const Matrix& x, const Vector& w, const Vector& b, double eps, int size) {
  RefNorm ref{DMat(x.rows(), x.cols()), DMat(x.rows() / size, x.cols())};
  for (int c = 0; c < x.cols(); ++c)
    for (int grp = 0; grp < x.rows() / size; ++grp) {
      double mean = 0, var = 0;
      for (int i = 0; i < size; ++i) mean += x(grp * size + i, c) / double(size);
      for (int i = 0; i < size; ++i) var += std::pow(x(grp * size + i, c) - mean, 2) / size;
      const double sigma = std::sqrt(var + eps);
      ref.sigma(grp, c) = sigma;
      for (int i = 0; i < size; ++i)
        ref.y(grp * size + i, c) = w(i) * (x(grp * size + i, c) - mean) / sigma + (b.size() ? double{b(i)} : 0.0);
    }
  return ref;
}

TEST(LayerNorm, ForwardExactGradientAndRule7MatchNaiveDouble) {
  std::mt19937 rng(61);
  const int size = 12;
  const Vector w = randomVector(rng, size, 0.5, 1.5), b = randomVector(rng, size, -0.5, 0.5);
  const double eps = 1e-5;
  for (bool withBias : {true, false}) {
    SCOPED_TRACE(withBias ? "bias" : "no bias");
    const Vector bias = withBias ? b : Vector();
    LayerSpec spec;
    spec.set("axis", 1.0);
    spec.set("epsilon", eps);
    spec.set("scale", toStd(w));
    if (withBias) spec.set("bias", toStd(b));
    const auto layer = build("layernorm", spec, {{2, 3, 4}});
    EXPECT_EQ(layer->role(), lrp::Role::LayerNorm);
    const Matrix x = randomMatrix(rng, 24, 2, -2, 2), R = randomMatrix(rng, 24, 2, -1, 1);
    const Matrix y = layer->forward({&x});
    const RefNorm ref = refLayerNorm(x, w, bias, eps, size);
    EXPECT_TRUE(closeScaled(y, ref.y, 1e-5));
    // Exact VJP by central differences of the double forward.
    DMat wantG(24, 2);
    for (int c = 0; c < 2; ++c)
      for (int i = 0; i < 24; ++i) {
        Matrix plus = x, minus = x;
        const double h = 1e-2;  // float inputs: a wide step, exact for the quadratic-free part up to O(h²)
        plus(i, c) += static_cast<float>(h);
        minus(i, c) -= static_cast<float>(h);
        const DMat yp = refLayerNorm(plus, w, bias, eps, size).y, ym = refLayerNorm(minus, w, bias, eps, size).y;
        wantG(i, c) = (yp.col(c) - ym.col(c)).dot(R.col(c).cast<double>()) / (2 * h);
      }
    EXPECT_TRUE(closeScaled(layer->gradient({&x}, y, R)[0], wantG, 2e-3));
    // ATTNLRP rule 7: s = w⊙R/(σ·st+(y)), st+(y) = y + 1e-6; R_x = x⊙(s − mean(s)).
    DMat wantR(24, 2);
    for (int c = 0; c < 2; ++c)
      for (int grp = 0; grp < 2; ++grp) {
        DVec s(size);
        for (int i = 0; i < size; ++i)
          s(i) = w(i) * R(grp * size + i, c) / (ref.sigma(grp, c) * (ref.y(grp * size + i, c) + 1e-6));
        for (int i = 0; i < size; ++i) wantR(grp * size + i, c) = x(grp * size + i, c) * (s(i) - s.mean());
      }
    const auto r = lrp::layerNormRelevance(*layer, {&x}, y, R, roleRule(lrp::RuleKind::LayerNorm, 1e-6f));
    EXPECT_TRUE(closeScaled(r[0], wantR, 1e-4));
  }
}

TEST(LayerNorm, BuildErrorsNameTheProblem) {
  auto spec = [](double axis, int scale, int bias) {
    LayerSpec s;
    s.set("axis", axis);
    s.set("epsilon", 1e-5);
    s.set("scale", std::vector<float>(static_cast<size_t>(scale), 1.0f));
    if (bias) s.set("bias", std::vector<float>(static_cast<size_t>(bias), 0.0f));
    return s;
  };
  EXPECT_EQ(build("layernorm", spec(1, 4, 4), {{3, 4}})->outputShape({{3, 4}}), (Shape{3, 4}));
  EXPECT_TRUE(throwsWith([&] { build("layernorm", spec(0, 4, 0), {{3, 4}}); }, "scale has 4 values, the normalised part [3, 4] has 12"));
  EXPECT_TRUE(throwsWith([&] { build("layernorm", spec(-1, 4, 3), {{3, 4}}); }, "bias has 3 values"));
  EXPECT_TRUE(throwsWith([&] { build("layernorm", spec(2, 4, 0), {{3, 4}}); }, "axis 2 is out of range"));
}

// ------------------------------------------------------------------------------------------------------
// MatMul [2, 1, 3, 4] × [3, 4, 5] → [2, 3, 3, 5] (leading axes broadcast).

TEST(MatMul, BroadcastForwardGradientAndRule9MatchNaiveLoops) {
  const Shape sa{2, 1, 3, 4}, sb{3, 4, 5};
  const auto layer = build("matmul", LayerSpec(), {sa, sb});
  ASSERT_EQ(layer->outputShape({sa, sb}), (Shape{2, 3, 3, 5}));
  EXPECT_EQ(layer->role(), lrp::Role::MatMul);
  std::mt19937 rng(71);
  const int M = 3, K = 4, N = 5;
  const Matrix a = randomMatrix(rng, 2 * M * K, 2, -1, 1), b = randomMatrix(rng, 3 * K * N, 2, -1, 1);
  const Matrix g = randomMatrix(rng, 6 * M * N, 2, -1, 1);
  const Matrix y = layer->forward({&a, &b});
  DMat wantY = DMat::Zero(6 * M * N, 2), wantGa = DMat::Zero(2 * M * K, 2), wantGb = DMat::Zero(3 * K * N, 2);
  DMat wantRa = DMat::Zero(2 * M * K, 2), wantRb = DMat::Zero(3 * K * N, 2);
  for (int c = 0; c < 2; ++c)
    for (int i0 = 0; i0 < 2; ++i0)
      for (int i1 = 0; i1 < 3; ++i1) {
        const int t = i0 * 3 + i1;  // output matrix; A's is i0 (its axis 1 has size 1), B's is i1
        auto A = [&](int m, int k) { return double{a((i0 * M + m) * K + k, c)}; };
        auto B = [&](int k, int n) { return double{b((i1 * K + k) * N + n, c)}; };
        for (int m = 0; m < M; ++m)
          for (int n = 0; n < N; ++n) {
            double z = 0;
            for (int k = 0; k < K; ++k) z += A(m, k) * B(k, n);
            const int o = (t * M + m) * N + n;
            wantY(o, c) = z;
            // ATTNLRP rule 9: S = R/st+(2z), ε = 1e-8; R_A = A⊙(S Bᵀ), R_B = B⊙(Aᵀ S) (g plays R).
            const double S = g(o, c) / (2 * z + 1e-8);
            for (int k = 0; k < K; ++k) {
              wantGa((i0 * M + m) * K + k, c) += g(o, c) * B(k, n);
              wantGb((i1 * K + k) * N + n, c) += A(m, k) * g(o, c);
              wantRa((i0 * M + m) * K + k, c) += A(m, k) * S * B(k, n);
              wantRb((i1 * K + k) * N + n, c) += B(k, n) * A(m, k) * S;
            }
          }
      }
  EXPECT_TRUE(closeScaled(y, wantY, 1e-6));
  const auto grads = layer->gradient({&a, &b}, y, g);
  EXPECT_TRUE(closeScaled(grads[0], wantGa, 1e-6));
  EXPECT_TRUE(closeScaled(grads[1], wantGb, 1e-6));
  const auto r = lrp::matmulRelevance(*layer, {&a, &b}, y, g, roleRule(lrp::RuleKind::MatMul, 1e-8f));
  EXPECT_TRUE(closeScaled(r[0], wantRa, 1e-4));
  EXPECT_TRUE(closeScaled(r[1], wantRb, 1e-4));
}

TEST(MatMul, BuildErrorsNameTheProblem) {
  EXPECT_TRUE(throwsWith([] { build("matmul", LayerSpec(), {{3, 4}, {5, 2}}); }, "cannot multiply [3, 4] by [5, 2]"));
  EXPECT_TRUE(throwsWith([] { build("matmul", LayerSpec(), {{2, 3, 4}, {3, 4, 2}}); }, "do not broadcast"));
  EXPECT_TRUE(throwsWith([] { build("matmul", LayerSpec(), {{4}, {4, 2}}); }, "rank >= 2"));
  EXPECT_TRUE(throwsWith([] { build("matmul", LayerSpec(), {{4, 4}}); }, "takes two inputs"));
}

// ------------------------------------------------------------------------------------------------------
// A small attention block through explain(): the conservation report.

TEST(AttentionBlock, ExplainReportsWhereRelevanceGoes) {
  std::mt19937 rng(81);
  const int T = 3, D = 4;
  lrp::Graph g(Shape{T, D});
  LayerSpec ln;
  ln.set("axis", 1.0);
  ln.set("epsilon", 1e-5);
  ln.set("scale", toStd(randomVector(rng, D, 0.5, 1.5)));
  ln.set("bias", toStd(randomVector(rng, D, -0.3, 0.3)));
  LayerSpec scale;
  scale.set("constant", std::vector<float>(T * T, 0.5f));
  LayerSpec softmax;
  softmax.set("axis", 1.0);
  LayerSpec mean;
  mean.set("axes", std::vector<double>{0});
  mean.set("keepdims", 0.0);
  LayerSpec reshape;
  reshape.set("outputShape", std::vector<double>{D, T});
  const int norm = g.add("ln", "layernorm", ln, {lrp::kGraphInput});          // 0 [T, D]
  const int q = g.add("q", "dense", denseSpec(rng, D, D), {norm});            // 1
  const int k = g.add("k", "dense", denseSpec(rng, D, D), {norm});            // 2
  const int kt = g.add("kt", "reshape", reshape, {k});                        // 3 [D, T]
  const int scores = g.add("scores", "matmul", LayerSpec(), {q, kt});         // 4 [T, T]
  const int scaled = g.add("scaled", "mul", scale, {scores});                 // 5
  const int attn = g.add("attn", "softmax", softmax, {scaled});               // 6
  const int mixed = g.add("mixed", "matmul", LayerSpec(), {attn, norm});      // 7 [T, D]
  const int residual = g.add("residual", "add", LayerSpec(), {mixed, norm});  // 8
  const int act = g.add("act", "gelu", LayerSpec(), {residual});              // 9
  const int pooled = g.add("pooled", "reduce-mean", mean, {act});             // 10 [D]
  const int gate = g.add("gate", "sigmoid", LayerSpec(), {pooled});           // 11
  const int gated = g.add("gated", "mul", LayerSpec(), {pooled, gate});       // 12
  g.add("head", "dense", denseSpec(rng, 2, D), {gated});                      // 13
  const Vector x = randomVector(rng, T * D, -1, 1);
  for (bool signal : {false, true}) {
    SCOPED_TRACE(signal ? "signal" : "uniform");
    lrp::ExplainRequest req;
    lrp::CompositeParams params;
    params.signalProducts = signal;
    req.rules = lrp::resolveRules(g, "epsilon-plus", params, {});
    req.layerRelevance = true;
    req.target = 0;
    const lrp::Explanation e = explainVec(g, x, req);
    ASSERT_TRUE(e.relevance.allFinite());
    double absorbed = 0;
    std::map<int, lrp::LayerRelevance> by;
    for (const auto& l : e.layers) {
      absorbed += l.absorbed();
      by.emplace(l.node, l);
    }
    // Every relevance the output had is either at the input or absorbed by some layer.
    const double ft = e.output(0);
    EXPECT_NEAR(e.relevance.cast<double>().sum() + absorbed, ft, 1e-4 * std::max(1.0, std::abs(ft)));
    // Rules that conserve: pass (gelu, the scale), matmul (rule 9 up to ε = 1e-8), products (uniform or
    // signal), the residual sum (norm without a constant), the mean (norm).
    for (int node : {act, scaled, scores, mixed, gated, residual, pooled})
      EXPECT_NEAR(by.at(node).absorbed(), 0.0, 1e-4 * std::max(1.0, std::abs(by.at(node).sum))) << "node " << node;
    // The gate gets nothing under the signal rule.
    if (signal) EXPECT_TRUE(by.count(gate) == 0 || by.at(gate).relevance.isZero());
    // The softmax (rule 8) does not conserve in general; the LayerNorm's bias absorbs.
    EXPECT_TRUE(std::isfinite(by.at(attn).absorbed()));
    EXPECT_TRUE(std::isfinite(by.at(norm).absorbed()));
  }
}

}  // namespace

namespace {

// ------------------------------------------------------------------------------------------------------
// CP-LRP (ATTNLRP.md: the attention weights are constants): on an attention block without biases the
// softmax and QKᵀ pass nothing, A·V is the ε-rule on V, and relevance is conserved up to the ε's; the value
// product's rule matches a naive double version R_V = V ⊙ Aᵀ (R / (A·V + 1e-6)).
LayerSpec denseNoBias(std::mt19937& rng, int out, int in) {
  LayerSpec spec;
  spec.set("weight", toStd(randomVector(rng, out * in, -0.8, 0.8)));
  return spec;
}

TEST(CpLrp, AttentionWeightsAreConstantsAndRelevanceIsConserved) {
  std::mt19937 rng(91);
  const int T = 3, D = 4;
  lrp::Graph g(Shape{T, D});
  LayerSpec transpose;
  transpose.set("perm", std::vector<double>{1, 0});
  LayerSpec softmax;
  softmax.set("axis", 1.0);
  LayerSpec flat;
  flat.set("outputShape", std::vector<double>{T * D});
  const int q = g.add("q", "dense", denseNoBias(rng, D, D), {lrp::kGraphInput});
  const int k = g.add("k", "dense", denseNoBias(rng, D, D), {lrp::kGraphInput});
  const int v = g.add("v", "dense", denseNoBias(rng, D, D), {lrp::kGraphInput});
  const int kt = g.add("kt", "transpose", transpose, {k});
  const int scores = g.add("scores", "matmul", LayerSpec(), {q, kt});
  const int attn = g.add("attn", "softmax", softmax, {scores});
  const int mixed = g.add("mixed", "matmul", LayerSpec(), {attn, v});
  const int flatId = g.add("flat", "reshape", flat, {mixed});
  g.add("head", "dense", denseNoBias(rng, 2, T * D), {flatId});
  const Vector x = randomVector(rng, T * D, 0.1, 1);

  lrp::ExplainRequest req;
  req.rules = lrp::resolveRules(g, "cp-lrp", lrp::CompositeParams(), {});
  req.target = 0;
  req.layerRelevance = true;
  EXPECT_EQ(req.rules[static_cast<size_t>(attn)]->silentInput, 0) << "the softmax passes nothing";
  EXPECT_EQ(req.rules[static_cast<size_t>(mixed)]->silentInput, 0) << "A (operand 0) is the constant";
  const lrp::Explanation e = explainVec(g, x, req);
  const double ft = e.output(0);
  EXPECT_NEAR(e.relevance.cast<double>().sum(), ft, 1e-4 * std::abs(ft)) << "no biases: CP-LRP conserves";
  for (const auto& layer : e.layers)
    if (layer.node == q || layer.node == k) EXPECT_EQ(layer.sum, 0.0) << "the q and k projections get nothing";

  // The value product's rule against its formula, from the forward values and the relevance at its output.
  const lrp::Activations acts = g.forward(x);
  const auto atMixed = std::find_if(e.layers.begin(), e.layers.end(), [&](const auto& l) { return l.node == mixed; });
  ASSERT_NE(atMixed, e.layers.end());
  const DMat A = Eigen::Map<const lrp::Matrix>(acts.nodes[static_cast<size_t>(attn)].data(), T, T).transpose().cast<double>();
  const DMat V = Eigen::Map<const lrp::Matrix>(acts.nodes[static_cast<size_t>(v)].data(), D, T).transpose().cast<double>();
  const DMat R = Eigen::Map<const lrp::Vector>(atMixed->relevance.data(), T * D).cast<double>().reshaped(D, T).transpose();
  const DMat Z = A * V;
  const DMat S = R.array() / (Z.array() + 1e-6);
  const DMat want = V.array() * (A.transpose() * S).array();
  const std::vector<const lrp::Matrix*> inputs = g.inputsOf(acts, mixed);
  const auto passed = lrp::matmulRelevance(*g.node(mixed).layer, inputs, acts.nodes[static_cast<size_t>(mixed)],
                                           Eigen::Map<const lrp::Matrix>(atMixed->relevance.data(), T * D, 1),
                                           *req.rules[static_cast<size_t>(mixed)]);
  EXPECT_TRUE(passed[0].isZero());
  const DMat got = Eigen::Map<const lrp::Matrix>(passed[1].data(), D, T).transpose().cast<double>();
  EXPECT_LT((got - want).cwiseAbs().maxCoeff(), 1e-5 * std::max(1.0, want.cwiseAbs().maxCoeff()));

  // attention: the softmax's forward output, as computed in the forward pass.
  req.attention = true;
  const lrp::Explanation withAttention = explainVec(g, x, req);
  ASSERT_EQ(withAttention.attention.size(), 1u);
  EXPECT_EQ(withAttention.attention[0].node, attn);
  EXPECT_TRUE(withAttention.attention[0].values.isApprox(acts.nodes[static_cast<size_t>(attn)].col(0)));
  EXPECT_TRUE(withAttention.relevance.isApprox(e.relevance));
}

// A concat with a constant part (a ViT's CLS token): the constant sits in its slot for every sample, the
// gradient skips it, and LRP leaves its share of the relevance absorbed there.
TEST(Concat, ConstantPartsAreInsertedAndAbsorbRelevance) {
  lrp::Graph g(Shape{2, 3});
  LayerSpec cat;
  cat.set("axis", 0.0);
  cat.set("slots", std::vector<double>{1, -1});
  cat.set("constant", std::vector<float>{7, 8, 9});
  cat.set("outputShape", std::vector<double>{3, 3});
  const int id = g.add("cat", "concat", cat, {lrp::kGraphInput});
  lrp::Matrix x(6, 2);
  x.col(0) << 1, 2, 3, 4, 5, 6;
  x.col(1) << -1, -2, -3, -4, -5, -6;
  const lrp::Matrix y = g.node(id).layer->forward({&x});
  lrp::Matrix want(9, 2);
  want.col(0) << 7, 8, 9, 1, 2, 3, 4, 5, 6;
  want.col(1) << 7, 8, 9, -1, -2, -3, -4, -5, -6;
  EXPECT_TRUE(y.isApprox(want));
  const lrp::Matrix g9 = lrp::Matrix::Ones(9, 2) * 2;
  const auto grads = g.node(id).layer->gradient({&x}, y, g9);
  ASSERT_EQ(grads.size(), 1u);
  EXPECT_TRUE(grads[0].isApprox(lrp::Matrix::Ones(6, 2) * 2));
  LayerSpec bad = cat;
  bad.set("constant", std::vector<float>{7, 8});
  EXPECT_TRUE(throwsWith([&] { g.add("bad", "concat", bad, {lrp::kGraphInput}); }, "constant parts need 3 values, got 2"));
}

}  // namespace
