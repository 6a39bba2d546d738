// The math family built through the layer table: element-wise activations (against double references and
// finite differences, PyTorch's conventions at kinks), binary layers with numpy broadcasting, reductions
// and global max-pooling (against explicit loops), the product rule (ATTNLRP rule 10, uniform and signal)
// and the constant add (rule 6) and mean (norm) rules through composites, and the build errors.
#include "test_helpers.hpp"

#include <functional>

namespace {

using namespace lrptest;
using lrp::LayerSpec;
using lrp::Matrix;
using lrp::Shape;
using lrp::Vector;

int64_t sizeOf(const Shape& shape) { return lrp::shapeSize(shape); }

// Flat index in `in` read by output index `index` under numpy broadcasting (explicit, per element).
int64_t broadcastRead(const std::vector<int>& index, const Shape& in) {
  const size_t offset = index.size() - in.size();
  int64_t flat = 0;
  for (size_t i = 0; i < in.size(); ++i) flat = flat * in[i] + (in[i] == 1 ? 0 : index[i + offset]);
  return flat;
}

// ------------------------------------------------------------------------------------------------------
// Activations

struct ActivationCase {
  const char* kind;
  LayerSpec spec;
  std::function<double(double, int)> f;  // value at x for element i
};

double logistic(double x) { return 1.0 / (1.0 + std::exp(-x)); }

std::vector<ActivationCase> activationCases(const Vector& slope) {
  LayerSpec tanhGelu;
  tanhGelu.set("approximate", std::string("tanh"));
  LayerSpec erfGelu;
  erfGelu.set("approximate", std::string("none"));
  const double k = std::sqrt(2.0 / M_PI);
  return {
      {"hard-sigmoid", specOf({{"alpha", 0.3}, {"beta", 0.4}}),
       [](double x, int) { return std::max(0.0, std::min(1.0, 0.3 * x + 0.4)); }},
      {"hard-swish", {}, [](double x, int) { return x * std::max(0.0, std::min(1.0, x / 6 + 0.5)); }},
      {"elu", specOf({{"alpha", 0.7}}), [](double x, int) { return x >= 0 ? x : 0.7 * (std::exp(x) - 1); }},
      {"softplus", {}, [](double x, int) { return std::log1p(std::exp(x)); }},
      {"silu", {}, [](double x, int) { return x * logistic(x); }},
      {"gelu", erfGelu, [](double x, int) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); }},
      {"gelu", tanhGelu, [k](double x, int) { return 0.5 * x * (1 + std::tanh(k * (x + 0.044715 * x * x * x))); }},
      {"prelu", specOf({{"slope", toStd(slope)}}),
       [slope](double x, int i) { return x >= 0 ? x : static_cast<double>(slope(i)) * x; }},
  };
}

TEST(MathActivations, ForwardAndGradientMatchDoubleReferenceAndFiniteDifferences) {
  std::mt19937 rng(11);
  const Shape shape{3, 8};
  const Vector slope = randomVector(rng, 24, -0.5, 0.5);
  Matrix x = randomMatrix(rng, 24, 3, -5, 5);
  x(0, 0) = 30.0f;  // softplus/silu/elu far out: no overflow
  x(1, 0) = -30.0f;
  // Keep away from kinks (the finite difference is two-sided there).
  for (Eigen::Index i = 0; i < x.size(); ++i)
    for (double kink : {0.0, -3.0, 3.0, -4.0 / 3.0, 2.0})
      if (std::abs(x(i) - kink) < 1e-2) x(i) += 0.05f;
  const Matrix g = randomMatrix(rng, 24, 3, -1, 1);
  for (const ActivationCase& c : activationCases(slope)) {
    SCOPED_TRACE(std::string(c.kind) + " " + c.spec.text("approximate", ""));
    const auto layer = build(c.kind, c.spec, {shape});
    EXPECT_STREQ(layer->kind(), c.kind);
    EXPECT_EQ(layer->role(), lrp::Role::Elementwise);
    EXPECT_EQ(layer->outputShape({shape}), shape);
    const Matrix y = layer->forward({&x});
    const Matrix grad = layer->gradient({&x}, y, g)[0];
    DMat wantY(24, 3), wantG(24, 3);
    for (int col = 0; col < 3; ++col)
      for (int i = 0; i < 24; ++i) {
        const double v = x(i, col), h = 1e-5;
        wantY(i, col) = c.f(v, i);
        wantG(i, col) = g(i, col) * (c.f(v + h, i) - c.f(v - h, i)) / (2 * h);
      }
    EXPECT_TRUE(closeScaled(y, wantY, 2e-6));
    EXPECT_TRUE(closeScaled(grad, wantG, 1e-5));
  }
}

// The pieces of unfused ONNX function expansions (Softmax, LayerNormalization), on positive inputs.
TEST(MathActivations, ExpLogSqrtReciprocalMatchDoubleReference) {
  std::mt19937 rng(12);
  const Shape shape{2, 5};
  const Matrix x = randomMatrix(rng, 10, 2, 0.3, 3.0);
  const Matrix g = randomMatrix(rng, 10, 2, -1, 1);
  const std::vector<std::pair<const char*, std::function<double(double)>>> cases = {
      {"exp", [](double v) { return std::exp(v); }},
      {"log", [](double v) { return std::log(v); }},
      {"sqrt", [](double v) { return std::sqrt(v); }},
      {"reciprocal", [](double v) { return 1.0 / v; }},
  };
  for (const auto& [kind, f] : cases) {
    SCOPED_TRACE(kind);
    const auto layer = build(kind, LayerSpec(), {shape});
    EXPECT_EQ(layer->role(), lrp::Role::Elementwise);
    const Matrix y = layer->forward({&x});
    const Matrix grad = layer->gradient({&x}, y, g)[0];
    DMat wantY(10, 2), wantG(10, 2);
    for (int col = 0; col < 2; ++col)
      for (int i = 0; i < 10; ++i) {
        const double v = x(i, col), h = 1e-6;
        wantY(i, col) = f(v);
        wantG(i, col) = g(i, col) * (f(v + h) - f(v - h)) / (2 * h);
      }
    EXPECT_TRUE(closeScaled(y, wantY, 2e-6));
    EXPECT_TRUE(closeScaled(grad, wantG, 1e-5));
  }
}

TEST(MathActivations, KinksFollowPyTorch) {
  auto slopeAt = [](const std::string& kind, LayerSpec spec, float x) {
    const Matrix in = Matrix::Constant(1, 1, x);
    const auto layer = build(kind, std::move(spec), {{1}});
    return layer->gradient({&in}, layer->forward({&in}), Matrix::Ones(1, 1))[0](0, 0);
  };
  // hardsigmoid_backward: α strictly inside only; hardswish_backward: x/3 + 1/2 on [−3, 3]; elu: α·eˣ at 0.
  const LayerSpec hs = specOf({{"alpha", 0.2}, {"beta", 0.5}});
  EXPECT_FLOAT_EQ(slopeAt("hard-sigmoid", hs, -2.5f), 0.0f);
  EXPECT_FLOAT_EQ(slopeAt("hard-sigmoid", hs, 2.5f), 0.0f);
  EXPECT_FLOAT_EQ(slopeAt("hard-sigmoid", hs, 1.0f), 0.2f);
  EXPECT_FLOAT_EQ(slopeAt("hard-swish", {}, -3.0f), -0.5f);
  EXPECT_FLOAT_EQ(slopeAt("hard-swish", {}, 3.0f), 1.5f);
  EXPECT_FLOAT_EQ(slopeAt("hard-swish", {}, -3.5f), 0.0f);
  EXPECT_FLOAT_EQ(slopeAt("elu", specOf({{"alpha", 0.7}}), 0.0f), 0.7f);
  EXPECT_FLOAT_EQ(slopeAt("prelu", specOf({{"slope", std::vector<float>{0.25f}}}), 0.0f), 0.25f);
  EXPECT_FLOAT_EQ(slopeAt("softplus", {}, 0.0f), 0.5f);
  EXPECT_FLOAT_EQ(slopeAt("gelu", {}, 0.0f), 0.5f);
}

TEST(MathActivations, BuildErrorsNameTheProblem) {
  EXPECT_TRUE(throwsWith([] { build("prelu", specOf({{"slope", std::vector<float>(5, 0.1f)}}), {{2, 3}}); },
                         "slope has 5 values"));
  EXPECT_TRUE(throwsWith([] { build("prelu", {}, {{2, 3}}); }, "prelu needs a slope"));
  LayerSpec bad;
  bad.set("approximate", std::string("fast"));
  EXPECT_TRUE(throwsWith([&] { build("gelu", bad, {{2}}); }, "'none' or 'tanh'"));
  EXPECT_TRUE(throwsWith([] { build("silu", {}, {{2}, {2}}); }, "takes one input"));
}

// ------------------------------------------------------------------------------------------------------
// Binary layers

struct BinaryCase {
  const char* kind;
  std::function<double(double, double)> f, dfa, dfb;
};

const std::vector<BinaryCase>& binaryCases() {
  static const std::vector<BinaryCase> cases = {
      {"add", [](double a, double b) { return a + b; }, [](double, double) { return 1.0; }, [](double, double) { return 1.0; }},
      {"sub", [](double a, double b) { return a - b; }, [](double, double) { return 1.0; }, [](double, double) { return -1.0; }},
      {"mul", [](double a, double b) { return a * b; }, [](double, double b) { return b; }, [](double a, double) { return a; }},
      {"div", [](double a, double b) { return a / b; }, [](double, double b) { return 1 / b; },
       [](double a, double b) { return -a / (b * b); }},
  };
  return cases;
}

TEST(BinaryLayers, BroadcastForwardAndGradientMatchExplicitLoops) {
  const std::vector<std::pair<Shape, Shape>> pairs = {
      {{2, 1, 4}, {3, 1}}, {{2, 3, 4}, {2, 3, 4}}, {{4}, {2, 3, 4}}, {{1}, {2, 3}}, {{2, 1}, {1, 5}}};
  std::mt19937 rng(21);
  for (const BinaryCase& c : binaryCases())
    for (const auto& [sa, sb] : pairs) {
      SCOPED_TRACE(std::string(c.kind) + " " + lrp::shapeToString(sa) + " " + lrp::shapeToString(sb));
      const auto layer = build(c.kind, {}, {sa, sb});
      // The output shape by hand: right-aligned, the larger of each pair of dims.
      const size_t rank = std::max(sa.size(), sb.size());
      Shape out(rank);
      for (size_t i = 0; i < rank; ++i) {
        const int da = i + sa.size() >= rank ? sa[i + sa.size() - rank] : 1;
        const int db = i + sb.size() >= rank ? sb[i + sb.size() - rank] : 1;
        out[i] = std::max(da, db);
      }
      ASSERT_EQ(layer->outputShape({sa, sb}), out);
      const Matrix a = randomMatrix(rng, static_cast<int>(sizeOf(sa)), 2, -2, 2);
      Matrix b = randomMatrix(rng, static_cast<int>(sizeOf(sb)), 2, 0.5, 2);  // away from 0 for div
      const Matrix g = randomMatrix(rng, static_cast<int>(sizeOf(out)), 2, -1, 1);
      const Matrix y = layer->forward({&a, &b});
      const auto grads = layer->gradient({&a, &b}, y, g);
      const auto* broadcasting = dynamic_cast<const lrp::BroadcastingLayer*>(layer.get());
      ASSERT_NE(broadcasting, nullptr);
      DMat wantY(sizeOf(out), 2), wantGa = DMat::Zero(sizeOf(sa), 2), wantGb = DMat::Zero(sizeOf(sb), 2);
      DMat wantReduceA = DMat::Zero(sizeOf(sa), 2), wantReduceB = DMat::Zero(sizeOf(sb), 2);
      for (int col = 0; col < 2; ++col)
        for (int64_t k = 0; k < sizeOf(out); ++k) {
          const auto index = unravel(k, out);
          const int64_t ia = broadcastRead(index, sa), ib = broadcastRead(index, sb);
          const double va = a(ia, col), vb = b(ib, col);
          wantY(k, col) = c.f(va, vb);
          wantGa(ia, col) += g(k, col) * c.dfa(va, vb);
          wantGb(ib, col) += g(k, col) * c.dfb(va, vb);
          wantReduceA(ia, col) += g(k, col);
          wantReduceB(ib, col) += g(k, col);
        }
      EXPECT_TRUE(closeScaled(y, wantY, 1e-6));
      EXPECT_TRUE(closeScaled(grads[0], wantGa, 1e-6));
      EXPECT_TRUE(closeScaled(grads[1], wantGb, 1e-6));
      EXPECT_TRUE(closeScaled(broadcasting->reduceToInput(0, g), wantReduceA, 1e-6));
      EXPECT_TRUE(closeScaled(broadcasting->reduceToInput(1, g), wantReduceB, 1e-6));
    }
}

TEST(BinaryLayers, RolesAndConstants) {
  EXPECT_EQ(build("add", {}, {{3}, {3}})->role(), lrp::Role::Sum);
  EXPECT_EQ(build("sub", {}, {{3}, {3}})->role(), lrp::Role::Sum);
  EXPECT_EQ(build("mul", {}, {{3}, {3}})->role(), lrp::Role::Product);
  EXPECT_EQ(build("div", {}, {{3}, {3}})->role(), lrp::Role::Quotient);
  const std::vector<float> c{1.5f, -2.0f, 0.5f, 3.0f, -1.0f, 2.0f};
  const auto add = build("add", specOf({{"constant", c}}), {{2, 3}});
  const auto mul = build("mul", specOf({{"constant", c}}), {{2, 3}});
  EXPECT_STREQ(add->kind(), "add");
  EXPECT_EQ(add->role(), lrp::Role::AddConstant);
  EXPECT_EQ(mul->role(), lrp::Role::ScaleConstant);
  std::mt19937 rng(22);
  const Matrix x = randomMatrix(rng, 6, 2, -1, 1), g = randomMatrix(rng, 6, 2, -1, 1);
  DMat wantAdd(6, 2), wantMul(6, 2), wantMulGrad(6, 2);
  for (int col = 0; col < 2; ++col)
    for (int i = 0; i < 6; ++i) {
      wantAdd(i, col) = x(i, col) + double{c[i]};
      wantMul(i, col) = x(i, col) * double{c[i]};
      wantMulGrad(i, col) = g(i, col) * double{c[i]};
    }
  EXPECT_TRUE(closeScaled(add->forward({&x}), wantAdd, 1e-7));
  EXPECT_TRUE(closeScaled(mul->forward({&x}), wantMul, 1e-7));
  EXPECT_TRUE(closeScaled(add->gradient({&x}, x, g)[0], g.cast<double>(), 0));
  EXPECT_TRUE(closeScaled(mul->gradient({&x}, x, g)[0], wantMulGrad, 1e-7));
}

TEST(BinaryLayers, BuildErrorsNameTheProblem) {
  EXPECT_TRUE(throwsWith([] { build("add", {}, {{2, 3}, {4}}); }, "[2, 3] and [4] do not broadcast"));
  EXPECT_TRUE(throwsWith([] { build("mul", {}, {{3}}); }, "mul takes two inputs (or one and a constant)"));
  EXPECT_TRUE(throwsWith([] { build("sub", {}, {{3}, {3}, {3}}); }, "sub takes two inputs"));
  EXPECT_TRUE(throwsWith([] { build("add", specOf({{"constant", std::vector<float>(4, 1.0f)}}), {{2, 3}}); },
                         "add constant has 4 values, the input [2, 3] has 6"));
  EXPECT_TRUE(throwsWith([] { build("div", specOf({{"constant", std::vector<float>(3, 1.0f)}}), {{3}}); },
                         "div takes no constant"));
  EXPECT_TRUE(throwsWith(
      [] { build("add", specOf({{"constant", std::vector<float>{1.0f, std::nanf("")}}}), {{2}}); }, "add constant contains NaN"));
  EXPECT_TRUE(throwsWith(
      [] { build("mul", specOf({{"constant", std::vector<float>{1.0f, -INFINITY}}}), {{2}}); }, "mul constant must be finite"));
  // −∞ added is a causal mask before a softmax (ATTNLRP rule 13): allowed.
  const auto masked = build("add", specOf({{"constant", std::vector<float>{0.0f, -INFINITY}}}), {{2}});
  const Matrix x = Matrix::Constant(2, 1, 0.5f);
  EXPECT_EQ(masked->forward({&x})(1, 0), -INFINITY);
}

// ------------------------------------------------------------------------------------------------------
// Reductions

TEST(Reductions, ForwardAndGradientMatchExplicitLoops) {
  const Shape in{2, 3, 4};
  std::mt19937 rng(31);
  Matrix x = randomMatrix(rng, 24, 2, -2, 2);
  x(5, 0) = x(1, 0) = 9.0f;  // a tie: the first (row-major) maximum wins
  const std::vector<std::pair<std::vector<int>, bool>> variants = {
      {{1}, true}, {{1}, false}, {{0, 2}, true}, {{0, 2}, false}, {{-1}, true}, {{0, 1, 2}, false}};
  for (const char* kind : {"reduce-mean", "reduce-sum", "reduce-max"})
    for (const auto& [axes, keepdims] : variants) {
      SCOPED_TRACE(std::string(kind) + " axes " + lrp::shapeToString(axes) + (keepdims ? " keepdims" : ""));
      LayerSpec spec;
      spec.set("axes", std::vector<double>(axes.begin(), axes.end()));
      spec.set("keepdims", keepdims ? 1.0 : 0.0);
      const auto layer = build(kind, spec, {in});
      std::vector<bool> reduced(3, false);
      for (int a : axes) reduced[static_cast<size_t>((a + 3) % 3)] = true;
      Shape kept, out;
      for (size_t i = 0; i < 3; ++i) {
        kept.push_back(reduced[i] ? 1 : in[i]);
        if (!reduced[i] || keepdims) out.push_back(kept.back());
      }
      ASSERT_EQ(layer->outputShape({in}), out);
      const bool max = std::string(kind) == "reduce-max";
      EXPECT_EQ(layer->role(), max ? lrp::Role::WinnerTakesAll : lrp::Role::Mean);
      const int64_t outputs = sizeOf(kept), count = 24 / outputs;
      const Matrix g = randomMatrix(rng, static_cast<int>(outputs), 2, -1, 1);
      DMat wantY = DMat::Constant(outputs, 2, max ? -1e300 : 0.0), wantG = DMat::Zero(24, 2);
      std::vector<int64_t> winner(static_cast<size_t>(outputs * 2), -1);
      for (int col = 0; col < 2; ++col)
        for (int64_t i = 0; i < 24; ++i) {
          auto index = unravel(i, in);
          for (size_t a = 0; a < 3; ++a) if (reduced[a]) index[a] = 0;
          const int64_t o = (static_cast<int64_t>(index[0]) * kept[1] + index[1]) * kept[2] + index[2];
          if (!max) {
            wantY(o, col) += x(i, col) / (std::string(kind) == "reduce-mean" ? count : 1);
            wantG(i, col) = g(o, col) / (std::string(kind) == "reduce-mean" ? count : 1);
          } else if (x(i, col) > wantY(o, col)) {
            wantY(o, col) = x(i, col);
            winner[static_cast<size_t>(col * outputs + o)] = i;
          }
        }
      if (max)
        for (int col = 0; col < 2; ++col)
          for (int64_t o = 0; o < outputs; ++o) wantG(winner[static_cast<size_t>(col * outputs + o)], col) += g(o, col);
      const Matrix y = layer->forward({&x});
      EXPECT_TRUE(closeScaled(y, wantY, 1e-6));
      EXPECT_TRUE(closeScaled(layer->gradient({&x}, y, g)[0], wantG, 1e-6));
    }
}

TEST(Reductions, GlobalMaxPoolTakesEachChannelsFirstMaximum) {
  const auto layer = build("global-maxpool", {}, {{2, 2, 3}});
  EXPECT_EQ(layer->outputShape({{2, 2, 3}}), (Shape{2, 1, 1}));
  EXPECT_EQ(layer->role(), lrp::Role::WinnerTakesAll);
  Matrix x(12, 1);
  x << 1, 4, 2, 4, 0, 3, -5, -1, -2, -7, -1, -3;
  const Matrix y = layer->forward({&x});
  EXPECT_FLOAT_EQ(y(0, 0), 4.0f);
  EXPECT_FLOAT_EQ(y(1, 0), -1.0f);
  const Matrix g = layer->gradient({&x}, y, (Matrix(2, 1) << 2.0f, 3.0f).finished())[0];
  DMat want = DMat::Zero(12, 1);
  want(1, 0) = 2.0;  // the first of the two 4s
  want(7, 0) = 3.0;  // the first of the two −1s
  EXPECT_TRUE(closeScaled(g, want, 0));
  EXPECT_EQ(build("global-maxpool", {}, {{5}})->outputShape({{5}}), (Shape{5}));
}

TEST(Reductions, BuildErrorsNameTheProblem) {
  auto withAxes = [](std::vector<double> axes) {
    LayerSpec spec;
    spec.set("axes", std::move(axes));
    spec.set("keepdims", 1.0);
    return spec;
  };
  EXPECT_TRUE(throwsWith([&] { build("reduce-mean", withAxes({3}), {{2, 3, 4}}); }, "axis 3 is out of range for input [2, 3, 4]"));
  EXPECT_TRUE(throwsWith([&] { build("reduce-sum", withAxes({1, -2}), {{2, 3, 4}}); }, "name an axis twice"));
  EXPECT_TRUE(throwsWith([&] { build("reduce-max", withAxes({}), {{2, 3}}); }, "at least one axis"));
  EXPECT_TRUE(throwsWith([&] { build("reduce-max", LayerSpec(), {{2, 3}}); }, "missing option 'axes'"));
}

// ------------------------------------------------------------------------------------------------------
// Rules through composites: rule 6 (add a constant), norm on means (rule 11's role), rule 10 (products).

lrp::Explanation explainWith(const lrp::Graph& g, const Vector& x, const std::vector<float>& seed, bool signal = false) {
  lrp::ExplainRequest req;
  lrp::CompositeParams params;
  params.signalProducts = signal;
  req.rules = lrp::resolveRules(g, "", params, {});
  req.outputRelevance = seed;
  req.layerRelevance = true;
  return explainVec(g, x, req);
}

TEST(MathRules, Rule6AConstantAddAbsorbsItsShareWithStPlus) {
  lrp::Graph g(Shape{2, 3});
  const std::vector<float> c{0.5f, -1.0f, 2.0f, -0.25f, 1.0f, 0.0f};
  g.add("pos", "add", specOf({{"constant", c}}), {lrp::kGraphInput});
  std::mt19937 rng(41);
  const Vector x = randomVector(rng, 6, -2, 2);
  const std::vector<float> R{1.0f, -2.0f, 0.5f, 3.0f, 1.5f, -1.0f};
  const lrp::Explanation e = explainWith(g, x, R);
  DMat want(6, 1);
  // ATTNLRP rule 6: R_a = a·R / st+(a + c), st+(z) = z + 1e-8 (not sign-aware).
  for (int i = 0; i < 6; ++i) want(i, 0) = double{x(i)} * R[i] / (double{x(i)} + c[i] + 1e-8);
  EXPECT_TRUE(closeScaled(e.relevance, want, 1e-5));
}

TEST(MathRules, MeansAndSumsTakeTheNormRule) {
  lrp::Graph g(Shape{2, 3});
  LayerSpec spec;
  spec.set("axes", std::vector<double>{0});
  spec.set("keepdims", 0.0);
  g.add("mean", "reduce-mean", spec, {lrp::kGraphInput});
  std::mt19937 rng(42);
  const Vector x = randomVector(rng, 6, -1, 2);
  const std::vector<float> R{1.0f, -2.0f, 0.5f};
  const lrp::Explanation e = explainWith(g, x, R);
  // The norm rule: R_i = x_i · (1/n) · R_j / stab(z_j), z_j the mean, stab = z + 1e-6·sgn0(z) (Zennit).
  DMat want(6, 1);
  for (int i = 0; i < 6; ++i) {
    const int j = i % 3;
    const double z = (double{x(j)} + double{x(j + 3)}) / 2;
    want(i, 0) = double{x(i)} * 0.5 * R[j] / stab(z, 1e-6);
  }
  EXPECT_TRUE(closeScaled(e.relevance, want, 1e-5));
}

// x [2, 4] → gate = sigmoid(x) [2, 4]; m = reduce-mean(x, axis 0, keepdims) [1, 4]; y = m ⊙ gate [2, 4].
struct GatedProduct {
  lrp::Graph graph{Shape{2, 4}};
  GatedProduct() {
    LayerSpec spec;
    spec.set("axes", std::vector<double>{0});
    spec.set("keepdims", 1.0);
    graph.add("mean", "reduce-mean", spec, {lrp::kGraphInput});    // 0
    graph.add("gate", "sigmoid", LayerSpec(), {lrp::kGraphInput});  // 1
    graph.add("product", "mul", LayerSpec(), {0, 1});               // 2
  }
};

TEST(MathRules, Rule10ProductsUniformAndSignal) {
  GatedProduct net;
  std::mt19937 rng(43);
  const Vector x = randomVector(rng, 8, -1, 1);
  const std::vector<float> R{1.0f, -2.0f, 0.5f, 3.0f, 1.5f, -1.0f, 0.25f, 2.0f};
  for (bool signal : {false, true}) {
    SCOPED_TRACE(signal ? "signal" : "uniform");
    const lrp::Explanation e = explainWith(net.graph, x, R, signal);
    const auto at = [&](int node) {
      return std::find_if(e.layers.begin(), e.layers.end(), [node](const auto& l) { return l.node == node; });
    };
    // Naive: the mean's operand [1, 4] gets Σ over the broadcast axis of R/2 (uniform) or of R (signal, the
    // gate gets nothing); the gate [2, 4] gets R/2 (uniform).
    DMat toMean(4, 1), toGate(8, 1);
    for (int j = 0; j < 4; ++j) toMean(j, 0) = (signal ? 1.0 : 0.5) * (double{R[j]} + R[j + 4]);
    for (int i = 0; i < 8; ++i) toGate(i, 0) = signal ? 0.0 : 0.5 * R[i];
    ASSERT_NE(at(0), e.layers.end());
    EXPECT_TRUE(closeScaled(at(0)->relevance, toMean, 1e-6));
    if (signal) EXPECT_TRUE(at(1) == e.layers.end() || at(1)->relevance.isZero());
    else EXPECT_TRUE(closeScaled(at(1)->relevance, toGate, 1e-6));
    EXPECT_NEAR(at(2)->absorbed(), 0.0, 1e-5) << "the product rules conserve";
  }
}

TEST(MathRules, QuotientGivesAllToTheNumerator) {
  lrp::Graph g(Shape{2, 3});
  LayerSpec spec;
  spec.set("axes", std::vector<double>{1});
  spec.set("keepdims", 1.0);
  g.add("sum", "reduce-sum", spec, {lrp::kGraphInput});  // 0: [2, 1]
  g.add("ratio", "div", LayerSpec(), {lrp::kGraphInput, 0});  // 1: x / Σ
  const Vector x = (Vector(6) << 1, 2, 3, 4, 5, 6).finished();
  const std::vector<float> R{1, 2, 3, 4, 5, 6};
  const lrp::Explanation e = explainWith(g, x, R);
  // All R reaches x directly through the numerator; the denominator (node 0) gets nothing.
  EXPECT_TRUE(closeScaled(e.relevance, DMat(Eigen::Map<const Eigen::VectorXf>(R.data(), 6).cast<double>()), 1e-6));
}

}  // namespace
