// Attention masks (ATTNLRP rule 13): per-input constants (`input-constant`) added to the scores or selected
// by `where`. Reference: the rule 6 formula R_a = a·R/(a + m + 1e-8) in double, written out here; masked
// positions must end with no relevance, −∞ must not produce NaN, and the per-input constants follow each
// input in its column.
#include "test_helpers.hpp"

namespace {

using namespace lrptest;
using lrp::LayerSpec;
using lrp::Matrix;
using lrp::Shape;
using lrp::Vector;

constexpr int T = 4, D = 3;
const float kInf = std::numeric_limits<float>::infinity();

LayerSpec constantSpec(int offset, Shape shape) {
  LayerSpec spec;
  spec.set("offset", static_cast<double>(offset));
  spec.set("shape", std::vector<double>(shape.begin(), shape.end()));
  return spec;
}

// x [T, D] → scores = dense(x) [T, T] → scores + mask (a per-input constant [T], broadcast over the rows)
// → softmax over the last axis → ·x → flatten → dense → 2 logits.
struct MaskedBlock {
  lrp::Graph g{Shape{T, D}};
  int scores, mask, masked, attn, mixed;
  explicit MaskedBlock(std::mt19937& rng) {
    LayerSpec softmax;
    softmax.set("axis", -1.0);
    LayerSpec flat;
    flat.set("outputShape", std::vector<double>{T * D});
    scores = g.add("scores", "dense", denseSpec(rng, T, D), {lrp::kGraphInput});
    mask = g.add("mask", "input-constant", constantSpec(0, {T}), {lrp::kInputConstants});
    masked = g.add("masked", "add", LayerSpec(), {scores, mask});
    attn = g.add("attn", "softmax", softmax, {masked});
    mixed = g.add("mixed", "matmul", LayerSpec(), {attn, lrp::kGraphInput});
    const int flatId = g.add("flat", "reshape", flat, {mixed});
    g.add("head", "dense", denseSpec(rng, 2, T * D), {flatId});
  }
};

// One column: the input, then the mask (key positions 1 and 3 masked with `fill`).
Vector column(std::mt19937& rng, float fill) {
  Vector c(T * D + T);
  c.head(T * D) = randomVector(rng, T * D, -1, 1);
  c.tail(T) << 0.0f, fill, 0.0f, fill;
  return c;
}

TEST(InputConstants, FollowTheInputInEachColumn) {
  std::mt19937 rng(131);
  MaskedBlock b(rng);
  EXPECT_EQ(b.g.inputSize(), T * D);
  EXPECT_EQ(b.g.constantsSize(), T);
  EXPECT_EQ(b.g.columnSize(), T * D + T);
  EXPECT_EQ(b.g.node(b.mask).layer->role(), lrp::Role::Constant);
  const Vector c = column(rng, -kInf);
  const lrp::Activations acts = b.g.forward(c);
  EXPECT_TRUE((acts.nodes[static_cast<size_t>(b.mask)].col(0).array() == c.tail(T).array()).all());
  // Masked keys get weight 0 in every row; the rows still sum to 1.
  const Matrix& a = acts.nodes[static_cast<size_t>(b.attn)];
  for (int row = 0; row < T; ++row) {
    EXPECT_EQ(a(row * T + 1, 0), 0.0f);
    EXPECT_EQ(a(row * T + 3, 0), 0.0f);
    EXPECT_NEAR(a(row * T + 0, 0) + a(row * T + 2, 0), 1.0, 1e-6);
  }
  EXPECT_TRUE(throwsWith([&] { b.g.forward(Vector(c.head(T * D))); }, "input has 12 values, expected 16 (12 and 4 per-input constants)"));
  Vector nan = c;
  nan(T * D) = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(throwsWith([&] { b.g.forward(nan); }, "per-input constants contain NaN"));
  Vector badInput = c;
  badInput(0) = kInf;
  EXPECT_TRUE(throwsWith([&] { b.g.forward(badInput); }, "input contains NaN or Infinity"));
}

TEST(InputConstants, BuildErrors) {
  lrp::Graph g(Shape{T});
  EXPECT_TRUE(throwsWith([&] { g.add("m", "input-constant", constantSpec(2, {T}), {lrp::kInputConstants}); }, "read in order (the next starts at 0)"));
  EXPECT_TRUE(throwsWith([&] { g.add("m", "input-constant", constantSpec(0, {T}), {lrp::kGraphInput}); }, "reads the per-input constants only"));
  EXPECT_TRUE(throwsWith([&] { g.add("m", "input-constant", constantSpec(-1, {T}), {lrp::kInputConstants}); }, "offset must be >= 0"));
  g.add("m", "input-constant", constantSpec(0, {T}), {lrp::kInputConstants});
  g.add("n", "input-constant", constantSpec(T, {2, 2}), {lrp::kInputConstants});
  EXPECT_EQ(g.constantsSize(), T + 4);
}

// Rule 13 = rule 6 with the mask as the constant: the scores get a·R/st+(a + m), ε = 1e-8, the mask absorbs
// its share and passes nothing on, under every composite; −∞ leaves no NaN and masked keys no relevance.
TEST(InputConstants, MaskIsAConstantUnderLrp) {
  for (const char* composite : {"attn-lrp", "epsilon-plus", "cp-lrp"}) {
    for (float fill : {-kInf, -10000.0f, -0.7f}) {
      SCOPED_TRACE(std::string(composite) + " fill " + std::to_string(fill));
      std::mt19937 rng(137);
      MaskedBlock b(rng);
      const Vector c = column(rng, fill);
      lrp::ExplainRequest req;
      req.rules = lrp::resolveRules(b.g, composite, lrp::CompositeParams(), {});
      req.target = 0;
      req.layerRelevance = true;
      ASSERT_TRUE(req.rules[static_cast<size_t>(b.masked)].has_value());
      EXPECT_EQ(req.rules[static_cast<size_t>(b.masked)]->silentInput, 1) << "the mask is operand 1";
      const lrp::Explanation e = explainVec(b.g, c, req);
      ASSERT_TRUE(e.relevance.allFinite());
      EXPECT_EQ(e.relevance.size(), T * D);
      std::map<int, lrp::LayerRelevance> by;
      for (const auto& l : e.layers) by.emplace(l.node, l);
      ASSERT_TRUE(by.count(b.masked));
      // The naive formula at the add, from its forward values and the relevance at its output.
      const lrp::Activations acts = b.g.forward(c);
      const Matrix& a = acts.nodes[static_cast<size_t>(b.scores)];
      const Vector& R = by.at(b.masked).relevance;
      ASSERT_TRUE(R.allFinite());
      double absorbedByMask = 0;
      for (int row = 0; row < T; ++row)
        for (int key = 0; key < T; ++key) {
          const int i = row * T + key;
          const double m = c(T * D + key), z = double{a(i, 0)} + m;
          const double want = std::isinf(m) ? 0.0 : double{a(i, 0)} * R(i) / (z + 1e-8);
          if (!std::isinf(m)) absorbedByMask += m * R(i) / (z + 1e-8);
          if (std::isinf(m) || fill == -10000.0f) {
            if (key == 1 || key == 3) EXPECT_EQ(R(i), 0.0f) << "a masked key gets no relevance at the scores";
          }
          const auto* scoresAt = &by.at(b.scores).relevance;
          EXPECT_NEAR((*scoresAt)(i), want, 1e-5 * std::max(1.0, std::abs(want))) << "row " << row << " key " << key;
        }
      EXPECT_NEAR(by.at(b.masked).absorbed(), absorbedByMask, 1e-5 * std::max(1.0, std::abs(absorbedByMask)));
      EXPECT_TRUE(by.count(b.mask) == 0 || by.at(b.mask).relevance.isZero()) << "the mask passes nothing on";
    }
  }
}

// Gradients never flow into the constants; integrated gradients of a token model would replicate them.
TEST(InputConstants, GradientMethodsIgnoreTheMask) {
  std::mt19937 rng(139);
  MaskedBlock b(rng);
  const Vector c = column(rng, -kInf);
  lrp::ExplainRequest req;
  req.method = lrp::Method::Gradient;
  req.target = 1;
  const lrp::Explanation e = explainVec(b.g, c, req);
  EXPECT_EQ(e.relevance.size(), T * D);
  EXPECT_TRUE(e.relevance.allFinite());
  req.method = lrp::Method::GradientXInput;
  EXPECT_TRUE(explainVec(b.g, c, req).relevance.allFinite());
}

// where: x where kept, the constant (−∞ allowed) elsewhere; relevance and gradient only where kept.
TEST(Where, SelectsWithAConstantOrAPerInputMask) {
  std::mt19937 rng(149);
  const Matrix x = randomMatrix(rng, 6, 2, -1, 1), g = randomMatrix(rng, 6, 2, -1, 1);
  LayerSpec fixed;
  fixed.set("constant", std::vector<float>(6, -kInf));
  fixed.set("keep", std::vector<float>{1, 0, 1, 1, 0, 1});
  const auto layer = build("where", fixed, {{2, 3}});
  const Matrix y = layer->forward({&x});
  const Matrix grad = layer->gradient({&x}, y, g)[0];
  for (int c = 0; c < 2; ++c)
    for (int i = 0; i < 6; ++i) {
      const bool kept = i != 1 && i != 4;
      EXPECT_EQ(y(i, c), kept ? x(i, c) : -kInf);
      EXPECT_EQ(grad(i, c), kept ? g(i, c) : 0.0f);
    }
  LayerSpec perInput;
  perInput.set("constant", std::vector<float>(6, -1e4f));
  const auto dynamic = build("where", perInput, {{2, 3}, {2, 3}});
  Matrix keep = Matrix::Zero(6, 2);
  keep(0, 0) = keep(5, 1) = 1;
  const Matrix out = dynamic->forward({&x, &keep});
  EXPECT_EQ(out(0, 0), x(0, 0));
  EXPECT_EQ(out(0, 1), -1e4f);
  EXPECT_EQ(out(5, 1), x(5, 1));
  const auto passed = dynamic->gradient({&x, &keep}, out, g);
  ASSERT_EQ(passed.size(), 2u);
  EXPECT_TRUE(passed[1].isZero());
  EXPECT_EQ(passed[0](5, 1), g(5, 1));
  EXPECT_EQ(passed[0](5, 0), 0.0f);

  LayerSpec nan;
  nan.set("constant", std::vector<float>(6, std::numeric_limits<float>::quiet_NaN()));
  EXPECT_TRUE(throwsWith([&] { build("where", nan, {{2, 3}, {2, 3}}); }, "constant contains NaN"));
  LayerSpec shortConstant;
  shortConstant.set("constant", std::vector<float>(5, 0.0f));
  EXPECT_TRUE(throwsWith([&] { build("where", shortConstant, {{2, 3}, {2, 3}}); }, "constant has 5 values"));
  EXPECT_TRUE(throwsWith([&] { build("where", perInput, {{2, 3}, {3, 2}})->outputShape({{2, 3}, {3, 2}}); }, "the importer broadcasts the mask"));
}

}  // namespace
