// Conv2DLayer against naive double-precision loops: forward and transposed map over a grid of geometries
// (strides, symmetric/asymmetric pads, dilations, groups incl. depthwise, bias, non-square inputs and kernels,
// batches), adjointness, every LRP rule through lrp::linearRelevance against the naive dense-rule reference
// applied to the conv's explicit matrix (padded cells have no entries there: they are absent), and the
// constructor's validation. Also WindowGeometry's output-size rule.
#include "test_helpers.hpp"

#include <cmath>

namespace {

using namespace lrptest;
using lrp::RuleKind;

struct ConvSpec {
  int C, H, W, O, kH, kW;
  int sH = 1, sW = 1;
  int pT = 0, pL = 0, pB = 0, pR = 0;
  int dH = 1, dW = 1;
  int groups = 1;
  bool bias = true;

  int Ho() const { return (H + pT + pB - dH * (kH - 1) - 1) / sH + 1; }
  int Wo() const { return (W + pL + pR - dW * (kW - 1) - 1) / sW + 1; }
  int K() const { return C / groups * kH * kW; }
  int inSize() const { return C * H * W; }
  int outSize() const { return O * Ho() * Wo(); }
  std::string name() const {
    std::ostringstream s;
    s << C << "x" << H << "x" << W << "_o" << O << "_k" << kH << "x" << kW << "_s" << sH << "x" << sW << "_p" << pT << pL
      << pB << pR << "_d" << dH << "x" << dW << "_g" << groups << (bias ? "_bias" : "_nobias");
    return s.str();
  }
  lrp::WindowGeometry geometry() const {
    lrp::WindowGeometry g;
    g.kernelH = kH, g.kernelW = kW, g.strideH = sH, g.strideW = sW;
    g.padTop = pT, g.padLeft = pL, g.padBottom = pB, g.padRight = pR;
    g.dilationH = dH, g.dilationW = dW;
    return g;
  }
};
void PrintTo(const ConvSpec& c, std::ostream* os) { *os << c.name(); }

// Visits every (output index, input index, weight column) triple of the convolution, written straight from
// the definition: out[o, oh, ow] = Σ_{c, kh, kw} W[o, c, kh, kw] · in[g·C/g + c, oh·s − pad + kh·d, ...].
template <typename F>
void forEachConnection(const ConvSpec& s, F&& f) {
  const int Cg = s.C / s.groups, Og = s.O / s.groups;
  for (int o = 0; o < s.O; ++o)
    for (int oh = 0; oh < s.Ho(); ++oh)
      for (int ow = 0; ow < s.Wo(); ++ow)
        for (int c = 0; c < Cg; ++c)
          for (int kh = 0; kh < s.kH; ++kh)
            for (int kw = 0; kw < s.kW; ++kw) {
              const int ih = oh * s.sH - s.pT + kh * s.dH, iw = ow * s.sW - s.pL + kw * s.dW;
              if (ih < 0 || ih >= s.H || iw < 0 || iw >= s.W) continue;  // padding: no connection
              const int channel = (o / Og) * Cg + c;
              f((o * s.Ho() + oh) * s.Wo() + ow, (channel * s.H + ih) * s.W + iw, o, (c * s.kH + kh) * s.kW + kw);
            }
}

DMat naiveForward(const ConvSpec& s, const DMat& W, const DVec& b, const DMat& X) {
  DMat Z(s.outSize(), X.cols());
  for (int n = 0; n < X.cols(); ++n)
    for (int j = 0; j < s.outSize(); ++j) Z(j, n) = b.size() ? b(j / (s.Ho() * s.Wo())) : 0.0;
  forEachConnection(s, [&](int out, int in, int o, int k) {
    for (int n = 0; n < X.cols(); ++n) Z(out, n) += W(o, k) * X(in, n);
  });
  return Z;
}

DMat naiveTranspose(const ConvSpec& s, const DMat& W, const DMat& S) {
  DMat G = DMat::Zero(s.inSize(), S.cols());
  forEachConnection(s, [&](int out, int in, int o, int k) {
    for (int n = 0; n < S.cols(); ++n) G(in, n) += W(o, k) * S(out, n);
  });
  return G;
}

// The conv as its explicit (outSize × inSize) matrix; `connected` gets 1 where an input feeds an output.
DMat explicitMatrix(const ConvSpec& s, const DMat& W, DMat* connected = nullptr) {
  DMat M = DMat::Zero(s.outSize(), s.inSize());
  if (connected) *connected = DMat::Zero(s.outSize(), s.inSize());
  forEachConnection(s, [&](int out, int in, int o, int k) {
    M(out, in) += W(o, k);
    if (connected) (*connected)(out, in) = 1.0;
  });
  return M;
}

// The per-output-channel bias expanded to every output position (the explicit matrix's bias).
DVec expandedBias(const ConvSpec& s, const DVec& b) {
  if (b.size() == 0) return DVec();
  DVec e(s.outSize());
  for (int j = 0; j < s.outSize(); ++j) e(j) = b(j / (s.Ho() * s.Wo()));
  return e;
}

// The flat rule on a sparse layer: weights → 1 on existing connections only, so z_j counts j's inputs.
DMat refFlatConnected(const DMat& connected, const DMat& R, double stabilizer) {
  DMat Rin = DMat::Zero(connected.cols(), R.cols());
  for (int n = 0; n < R.cols(); ++n)
    for (int j = 0; j < connected.rows(); ++j) {
      const double count = connected.row(j).sum();
      const double s = R(j, n) / stab(count, stabilizer);
      for (int i = 0; i < connected.cols(); ++i)
        if (connected(j, i) != 0.0) Rin(i, n) += s;
    }
  return Rin;
}

struct ConvCase {
  ConvSpec spec;
  lrp::Conv2DLayer layer;
  lrp::Matrix w;
  lrp::Vector b;
  DMat Wd;
  DVec bd;
};

ConvCase makeCase(const ConvSpec& s, uint32_t seed) {
  std::mt19937 rng(seed);
  const double scale = 1.5 / std::sqrt(static_cast<double>(s.K()));
  lrp::Matrix w = randomMatrix(rng, s.O, s.K(), -scale, scale);
  lrp::Vector b = s.bias ? randomVector(rng, s.O, -0.3, 0.3) : lrp::Vector();
  lrp::Conv2DLayer layer(w, b, {s.C, s.H, s.W}, s.geometry(), s.groups);
  DVec bd = s.bias ? DVec(b.cast<double>()) : DVec();
  return ConvCase{s, std::move(layer), w, b, w.cast<double>(), bd};
}

// The grid: strides 1, 2; no, symmetric and asymmetric pads; dilations 1, 2; groups 1, 2 (both through the
// packed GEMM) and depthwise with channel multiplier 2 (the direct loops); with and without bias.
// Input 4×7×9, kernel 3×2 (both non-square).
std::vector<ConvSpec> gridSpecs() {
  std::vector<ConvSpec> specs;
  const int pads[3][4] = {{0, 0, 0, 0}, {1, 1, 1, 1}, {2, 0, 1, 1}};
  for (int stride : {1, 2})
    for (const auto& p : pads)
      for (int dilation : {1, 2})
        for (int groups : {1, 2, 4})
          for (bool bias : {true, false}) {
            ConvSpec s{4, 7, 9, groups == 4 ? 8 : groups == 2 ? 10 : 6, 3, 2};
            s.sH = s.sW = stride;
            s.pT = p[0], s.pL = p[1], s.pB = p[2], s.pR = p[3];
            s.dH = s.dW = dilation;
            s.groups = groups;
            s.bias = bias;
            specs.push_back(s);
          }
  return specs;
}

// Odd shapes: 1×1 (no im2col work), strides that skip inputs, mixed strides/dilations per axis, and larger
// layers that exercise the GEMM's blocking (K > 256, more than 64 output channels, several position chunks
// with a partial last panel).
std::vector<ConvSpec> extraSpecs() {
  std::vector<ConvSpec> specs;
  ConvSpec pointwise{6, 5, 3, 5, 1, 1};
  specs.push_back(pointwise);
  ConvSpec skipping{2, 8, 7, 3, 2, 1};
  skipping.sH = 3, skipping.sW = 2, skipping.bias = false;
  specs.push_back(skipping);
  ConvSpec mixed{3, 10, 6, 4, 3, 3};
  mixed.sH = 1, mixed.sW = 2, mixed.dH = 2, mixed.dW = 1, mixed.pT = 0, mixed.pL = 3, mixed.pB = 2, mixed.pR = 0;
  specs.push_back(mixed);
  ConvSpec wide{1, 3, 40, 2, 1, 5};  // one input channel, kernel wider than tall
  wide.pL = wide.pR = 2;
  specs.push_back(wide);
  ConvSpec big{32, 21, 21, 70, 3, 3};
  big.pT = big.pL = big.pB = big.pR = 1;
  specs.push_back(big);
  ConvSpec bigGrouped{32, 21, 19, 36, 3, 3};
  bigGrouped.groups = 2, bigGrouped.sH = 2, bigGrouped.pT = bigGrouped.pB = 1, bigGrouped.pR = 2;
  specs.push_back(bigGrouped);
  ConvSpec fewFilters{16, 9, 8, 2, 5, 5};  // 2 filters but 400 taps: the GEMM with a partial block
  fewFilters.pT = fewFilters.pL = 2, fewFilters.pB = fewFilters.pR = 1, fewFilters.sW = 2;
  specs.push_back(fewFilters);
  ConvSpec multiplier3{2, 9, 11, 6, 3, 3};  // grouped, 3 filters per group: direct loops, strided and dilated
  multiplier3.groups = 2, multiplier3.sW = 2, multiplier3.dH = 2, multiplier3.pT = 1, multiplier3.pR = 2;
  specs.push_back(multiplier3);
  ConvSpec bigDepthwise{24, 30, 30, 24, 3, 3};
  bigDepthwise.groups = 24, bigDepthwise.pT = bigDepthwise.pL = bigDepthwise.pB = bigDepthwise.pR = 1;
  specs.push_back(bigDepthwise);
  // Big kernels with 1–3 filters per group and output rows ≥ 16 wide: the direct loops (row axpys) too.
  ConvSpec bigKernel{1, 40, 37, 1, 21, 17};  // one filter, 357 taps, asymmetric pads
  bigKernel.pT = 3, bigKernel.pL = 5, bigKernel.pB = 0, bigKernel.pR = 2;
  specs.push_back(bigKernel);
  ConvSpec bigKernelGrouped{4, 30, 44, 6, 9, 7};  // 3 filters per group, 126 taps, strided and dilated
  bigKernelGrouped.groups = 2, bigKernelGrouped.sW = 2, bigKernelGrouped.dH = 2, bigKernelGrouped.pL = 1;
  specs.push_back(bigKernelGrouped);
  ConvSpec bigKernelStrided{3, 26, 50, 3, 11, 11};  // 3 filters over 3 channels, stride 2, pads as wide as half the kernel
  bigKernelStrided.sH = bigKernelStrided.sW = 2, bigKernelStrided.bias = false;
  bigKernelStrided.pT = bigKernelStrided.pL = bigKernelStrided.pB = bigKernelStrided.pR = 5;
  specs.push_back(bigKernelStrided);
  return specs;
}

class ConvMapTest : public ::testing::TestWithParam<ConvSpec> {};

TEST_P(ConvMapTest, ForwardAndTransposeMatchNaiveLoops) {
  const ConvSpec& s = GetParam();
  const ConvCase c = makeCase(s, 1000u + static_cast<uint32_t>(s.C * 31 + s.O));
  ASSERT_EQ(c.layer.outputShape({{s.C, s.H, s.W}}), (lrp::Shape{s.O, s.Ho(), s.Wo()}));
  std::mt19937 rng(7);
  const lrp::Matrix X = randomMatrix(rng, s.inSize(), 3, -1, 1);
  const lrp::Matrix S = randomMatrix(rng, s.outSize(), 3, -1, 1);

  const DMat wantZ = naiveForward(s, c.Wd, c.bd, X.cast<double>());
  EXPECT_TRUE(closeScaled(c.layer.forward({&X}), wantZ, 1e-5)) << "forward";
  EXPECT_TRUE(closeScaled(c.layer.mapForward(X, lrp::Modifier{}, s.bias ? &c.layer.bias() : nullptr), wantZ, 1e-5));
  const DMat wantT = naiveTranspose(s, c.Wd, S.cast<double>());
  EXPECT_TRUE(closeScaled(c.layer.mapTranspose(S, lrp::Modifier{}), wantT, 1e-5)) << "transpose";
  EXPECT_TRUE(closeScaled(c.layer.gradient({&X}, c.layer.forward({&X}), S)[0], wantT, 1e-5)) << "gradient";

  // Every modifier, applied while packing the weight (or in the direct loops): the maps equal the naive
  // loops on the modified weight, computed here in double from the layer's weight.
  using lrp::ParamMod;
  const double gamma = 0.25;
  const std::vector<std::pair<ParamMod, DMat>> modified = {
      {ParamMod::Positive, c.Wd.cwiseMax(0.0)},
      {ParamMod::Negative, c.Wd.cwiseMin(0.0)},
      {ParamMod::GammaPositive, c.Wd + gamma * c.Wd.cwiseMax(0.0)},
      {ParamMod::GammaNegative, c.Wd + gamma * c.Wd.cwiseMin(0.0)},
      {ParamMod::Square, c.Wd.cwiseAbs2()},
      {ParamMod::Ones, DMat::Ones(c.Wd.rows(), c.Wd.cols())},
  };
  for (const auto& [mod, w] : modified) {
    const lrp::Modifier m{mod, static_cast<float>(gamma)};
    EXPECT_TRUE(closeScaled(c.layer.mapForward(X, m, nullptr), naiveForward(s, w, DVec(), X.cast<double>()), 1e-5))
        << "forward, modifier " << static_cast<int>(mod);
    EXPECT_TRUE(closeScaled(c.layer.mapTranspose(S, m), naiveTranspose(s, w, S.cast<double>()), 1e-5))
        << "transpose, modifier " << static_cast<int>(mod);
    EXPECT_TRUE(closeScaled(c.layer.modifiedWeight(m), w, 1e-6)) << "modifiedWeight " << static_cast<int>(mod);
  }

  // A single sample gives the same column as in the batch.
  const lrp::Matrix one = X.col(1);
  EXPECT_TRUE(closeScaled(c.layer.forward({&one}), wantZ.col(1), 1e-5));
}

TEST_P(ConvMapTest, TransposeIsTheAdjoint) {
  const ConvSpec& s = GetParam();
  const ConvCase c = makeCase(s, 77);
  std::mt19937 rng(8);
  const lrp::Matrix X = randomMatrix(rng, s.inSize(), 2, -1, 1);
  const lrp::Matrix S = randomMatrix(rng, s.outSize(), 2, -1, 1);
  const lrp::Matrix Z = c.layer.mapForward(X, lrp::Modifier{}, nullptr);
  const lrp::Matrix G = c.layer.mapTranspose(S, lrp::Modifier{});
  for (int n = 0; n < 2; ++n) {
    const double lhs = Z.col(n).cast<double>().dot(S.col(n).cast<double>());
    const double rhs = X.col(n).cast<double>().dot(G.col(n).cast<double>());
    const double magnitude = Z.col(n).cast<double>().cwiseAbs().dot(S.col(n).cast<double>().cwiseAbs());
    EXPECT_NEAR(lhs, rhs, 1e-5 * magnitude) << "sample " << n;
  }
}

INSTANTIATE_TEST_SUITE_P(Grid, ConvMapTest, ::testing::ValuesIn(gridSpecs()),
                         [](const auto& info) { return info.param.name(); });
INSTANTIATE_TEST_SUITE_P(Extra, ConvMapTest, ::testing::ValuesIn(extraSpecs()),
                         [](const auto& info) { return info.param.name(); });

// ---------------------------------------------------------------------------------------------------------
// Every LRP rule on a conv layer vs the dense reference on its explicit matrix.

struct RuleCase {
  std::string name;
  lrp::Rule rule;
};

std::vector<RuleCase> ruleCases(int inputs) {
  std::vector<float> low(static_cast<size_t>(inputs)), high(static_cast<size_t>(inputs));
  for (int i = 0; i < inputs; ++i) {  // per-input bounds around the inputs (which lie in [−1, 1])
    low[static_cast<size_t>(i)] = -1.0f - 0.01f * static_cast<float>(i % 7);
    high[static_cast<size_t>(i)] = 1.0f + 0.02f * static_cast<float>(i % 5);
  }
  std::vector<RuleCase> cases;
  cases.push_back({"epsilon_1e6", epsilonRule(1e-6f)});
  cases.push_back({"epsilon_0p25", epsilonRule(0.25f)});
  cases.push_back({"epsilon_zerobias", epsilonRule(0.01f, true)});
  cases.push_back({"zero", makeRule(RuleKind::Zero)});
  cases.push_back({"zplus", makeRule(RuleKind::ZPlus)});
  cases.push_back({"zplus_zerobias", makeRule(RuleKind::ZPlus, true)});
  cases.push_back({"alphabeta_2_1", alphaBetaRule(2, 1)});
  cases.push_back({"alphabeta_1_0", alphaBetaRule(1, 0)});
  cases.push_back({"gamma_0p25", gammaRule(0.25f)});
  cases.push_back({"gamma_0", gammaRule(0.0f)});
  cases.push_back({"zbox_scalar", zBoxRule({-1.0f}, {1.0f})});
  cases.push_back({"zbox_per_input", zBoxRule(low, high)});
  cases.push_back({"wsquare", makeRule(RuleKind::WSquare)});
  cases.push_back({"flat", makeRule(RuleKind::Flat)});
  cases.push_back({"norm", makeRule(RuleKind::Norm)});
  return cases;
}

std::vector<ConvSpec> ruleSpecs() {
  std::vector<ConvSpec> specs;
  for (bool bias : {true, false}) {
    ConvSpec symmetric{3, 6, 7, 4, 3, 3};
    symmetric.pT = symmetric.pL = symmetric.pB = symmetric.pR = 1, symmetric.bias = bias;
    specs.push_back(symmetric);
    ConvSpec strided{2, 9, 8, 5, 3, 2};
    strided.sH = strided.sW = 2, strided.pT = 2, strided.pL = 0, strided.pB = 1, strided.pR = 1, strided.dH = 2, strided.bias = bias;
    specs.push_back(strided);
    ConvSpec grouped{4, 5, 6, 6, 2, 3};
    grouped.groups = 2, grouped.pL = 2, grouped.pB = 1, grouped.bias = bias;
    specs.push_back(grouped);
    ConvSpec depthwise{3, 7, 5, 3, 3, 3};
    depthwise.groups = 3, depthwise.sH = 2, depthwise.pT = depthwise.pL = depthwise.pB = depthwise.pR = 1, depthwise.bias = bias;
    specs.push_back(depthwise);
  }
  return specs;
}

class ConvRuleTest : public ::testing::TestWithParam<ConvSpec> {};

TEST_P(ConvRuleTest, EveryRuleMatchesTheExplicitMatrixReference) {
  const ConvSpec& s = GetParam();
  const ConvCase c = makeCase(s, 500u + static_cast<uint32_t>(s.C + s.O));
  std::mt19937 rng(9);
  const lrp::Matrix X = randomMatrix(rng, s.inSize(), 3, -1, 1);
  lrp::Matrix R = randomMatrix(rng, s.outSize(), 3, -1, 1);
  DMat connected;
  const DMat M = explicitMatrix(s, c.Wd, &connected);
  const DVec b = expandedBias(s, c.bd);
  const lrp::Matrix Z = c.layer.forward({&X});
  const DMat Zd = M * X.cast<double>() + (b.size() ? DMat(b.replicate(1, 3)) : DMat::Zero(s.outSize(), 3));
  ASSERT_TRUE(closeScaled(Z, Zd, 1e-5));
  // An output whose z is within float32 rounding of 0 makes R/z (ε, LRP-0, γ = 0, norm) ill-conditioned: a float
  // engine cannot match the double reference there, so such outputs carry no relevance in this test.
  int silenced = 0;
  for (int n = 0; n < 3; ++n)
    for (int j = 0; j < s.outSize(); ++j)
      if (std::abs(Zd(j, n)) < 0.02) R(j, n) = 0.0f, ++silenced;
  ASSERT_LT(silenced, s.outSize() * 3 / 10);

  for (const RuleCase& rc : ruleCases(s.inSize())) {
    SCOPED_TRACE(rc.name);
    const lrp::Matrix got = lrp::linearRelevance(c.layer, X, Z, R, rc.rule);
    const DMat want = rc.rule.kind == RuleKind::Flat
                          ? refFlatConnected(connected, R.cast<double>(), rc.rule.stabilizer)
                          : refRuleBatch(M, b, X.cast<double>(), R.cast<double>(), rc.rule);
    EXPECT_TRUE(closeScaled(got, want, 1e-4));
  }
}

INSTANTIATE_TEST_SUITE_P(Rules, ConvRuleTest, ::testing::ValuesIn(ruleSpecs()),
                         [](const auto& info) { return info.param.name(); });

// The flat rule's z counts the non-padded inputs: 4 at a corner, 6 on an edge, 9 inside (3×3, pad 1).
TEST(ConvBorders, FlatCountsOnlyNonPaddedInputs) {
  ConvSpec s{1, 4, 5, 1, 3, 3};
  s.pT = s.pL = s.pB = s.pR = 1;
  const ConvCase c = makeCase(s, 3);
  const lrp::Vector& counts =
      c.layer.onesResponse(s.inSize(), lrp::ParamMod::Ones, lrp::ParamMod::Zero, 0.0f);
  const float want[4][5] = {{4, 6, 6, 6, 4}, {6, 9, 9, 9, 6}, {6, 9, 9, 9, 6}, {4, 6, 6, 6, 4}};
  for (int h = 0; h < 4; ++h)
    for (int w = 0; w < 5; ++w) EXPECT_EQ(counts(h * 5 + w), want[h][w]) << h << "," << w;

  // Flat relevance: R = 1 at the corner output only goes equally (1/4 each) to its 4 inputs.
  lrp::Matrix R = lrp::Matrix::Zero(20, 1);
  R(0, 0) = 1.0f;
  const lrp::Matrix x = lrp::Matrix::Constant(20, 1, 0.5f);
  lrp::Rule flat = makeRule(RuleKind::Flat);
  flat.stabilizer = 0.0f;
  const lrp::Matrix got = lrp::linearRelevance(c.layer, x, c.layer.forward({&x}), R, flat);
  for (int i = 0; i < 20; ++i) EXPECT_FLOAT_EQ(got(i, 0), (i == 0 || i == 1 || i == 5 || i == 6) ? 0.25f : 0.0f) << i;
}

// z-box at the border: the padded cells take no part (padding l and h too would change the corner's z).
TEST(ConvBorders, ZBoxIgnoresPaddedCells) {
  ConvSpec s{1, 3, 3, 1, 3, 3};
  s.pT = s.pL = s.pB = s.pR = 1, s.bias = false;
  lrp::Matrix w = lrp::Matrix::Ones(1, 9);
  lrp::Conv2DLayer layer(w, lrp::Vector(), {1, 3, 3}, s.geometry(), 1);
  const lrp::Matrix x = lrp::Matrix::Zero(9, 1);  // x = 0: z_B = −Σ l·w⁺ over the real inputs only
  lrp::Matrix R = lrp::Matrix::Zero(9, 1);
  R(0, 0) = 1.0f;  // the top-left output sees the 2×2 corner of the input
  lrp::Rule rule = zBoxRule({-1.0f}, {1.0f});
  rule.stabilizer = 0.0f;
  const lrp::Matrix got = lrp::linearRelevance(layer, x, layer.forward({&x}), R, rule);
  // z = 4, each of the 4 corner inputs gets (0 − (−1)·1)/4.
  for (int i = 0; i < 9; ++i) EXPECT_FLOAT_EQ(got(i, 0), (i == 0 || i == 1 || i == 3 || i == 4) ? 0.25f : 0.0f) << i;
}

// ---------------------------------------------------------------------------------------------------------
// Output size and validation.

lrp::WindowGeometry window(int k, int s, int padBegin, int padEnd, int d = 1, bool ceil = false) {
  lrp::WindowGeometry g;
  g.kernelH = g.kernelW = k;
  g.strideH = g.strideW = s;
  g.padTop = g.padLeft = padBegin;
  g.padBottom = g.padRight = padEnd;
  g.dilationH = g.dilationW = d;
  g.ceilMode = ceil;
  return g;
}

TEST(WindowGeometry, OutputSizeFollowsOnnxAndPyTorch) {
  EXPECT_EQ(window(3, 1, 1, 1).outputHeight(56), 56);
  EXPECT_EQ(window(3, 2, 1, 1).outputHeight(56), 28);
  EXPECT_EQ(window(7, 2, 3, 3).outputWidth(224), 112);
  EXPECT_EQ(window(3, 2, 1, 1).outputWidth(112), 56);  // ResNet's max-pool
  EXPECT_EQ(window(3, 1, 0, 0, 2).outputHeight(9), 5);  // dilated: extent 5
  EXPECT_EQ(window(2, 2, 0, 0).outputHeight(5), 2);
  EXPECT_EQ(window(2, 2, 0, 0, 1, true).outputHeight(5), 3);  // ceil mode
  EXPECT_EQ(window(3, 2, 0, 0, 1, true).outputHeight(6), 3);  // (6−3)/2 = 1.5 → 2, +1
  EXPECT_EQ(window(3, 2, 0, 0, 1, false).outputHeight(6), 2);
  // PyTorch's rule: the last window must start inside the input or the left padding.
  EXPECT_EQ(window(3, 3, 1, 1, 1, true).outputHeight(5), 2);  // would be 3, but window 2 starts at 6 − 1 = 5 ≥ 5
  EXPECT_EQ(window(2, 2, 1, 1, 1, true).outputHeight(4), 3);  // last window starts at 3 < 4 + 1
  EXPECT_EQ(window(1, 1, 2, 0).outputHeight(3), 5);           // asymmetric pads
  lrp::WindowGeometry g = window(3, 1, 0, 0);
  g.kernelW = 2, g.strideW = 3, g.padLeft = 1, g.padRight = 0;
  EXPECT_EQ(g.outputHeight(4), 2);
  EXPECT_EQ(g.outputWidth(8), 3);  // (8 + 1 − 2)/3 + 1
}

TEST(WindowGeometry, RejectsWindowsThatDoNotFit) {
  EXPECT_TRUE(throwsWith([] { window(5, 1, 0, 0).outputHeight(4); }, "larger than the padded input"));
  EXPECT_TRUE(throwsWith([] { window(5, 1, 0, 0).outputWidth(4); }, "4"));
  EXPECT_TRUE(throwsWith([] { window(3, 1, 0, 0, 3).outputHeight(6); }, "7"));  // dilated extent 7 > 6
  EXPECT_NO_THROW(window(5, 1, 1, 0).outputHeight(4));                           // 4 + 1 pad = 5 fits
  EXPECT_TRUE(throwsWith([] { window(0, 1, 0, 0).outputHeight(4); }, "positive"));
  EXPECT_TRUE(throwsWith([] { window(2, 0, 0, 0).outputHeight(4); }, "positive"));
  EXPECT_TRUE(throwsWith([] { window(2, 1, 0, 0, 0).outputHeight(4); }, "positive"));
  EXPECT_TRUE(throwsWith([] { window(2, 1, -1, 0).outputHeight(4); }, "negative"));
  EXPECT_TRUE(throwsWith([] { window(2, 1, 0, 0).outputHeight(0); }, "positive"));
}

TEST(ConvValidation, RejectsInconsistentLayers) {
  const lrp::WindowGeometry g = window(3, 1, 1, 1);
  auto make = [&](int rows, int cols, int biasSize, lrp::Shape shape, lrp::WindowGeometry geometry, int groups) {
    lrp::Conv2DLayer layer(lrp::Matrix::Ones(rows, cols), lrp::Vector::Ones(biasSize), std::move(shape), geometry, groups);
  };
  EXPECT_NO_THROW(make(8, 4 * 9, 8, {4, 6, 6}, g, 1));
  EXPECT_NO_THROW(make(8, 2 * 9, 0, {4, 6, 6}, g, 2));
  EXPECT_NO_THROW(make(8, 9, 8, {4, 6, 6}, g, 4));  // depthwise, multiplier 2
  EXPECT_TRUE(throwsWith([&] { make(8, 35, 8, {4, 6, 6}, g, 1); }, "expected 36"));
  EXPECT_TRUE(throwsWith([&] { make(8, 4 * 9, 7, {4, 6, 6}, g, 1); }, "bias"));
  EXPECT_TRUE(throwsWith([&] { make(8, 9 * 4 / 3, 8, {4, 6, 6}, g, 3); }, "divisible by groups"));
  EXPECT_TRUE(throwsWith([&] { make(6, 9, 6, {4, 6, 6}, g, 4); }, "multiple of groups"));
  EXPECT_TRUE(throwsWith([&] { make(8, 4 * 9, 8, {4, 6, 6}, g, 0); }, "groups"));
  EXPECT_TRUE(throwsWith([&] { make(8, 4 * 9, 8, {4, 6, 6, 1}, g, 1); }, "C×H×W"));
  EXPECT_TRUE(throwsWith([&] { make(8, 4 * 9, 8, {4, 0, 6}, g, 1); }, "positive"));
  EXPECT_TRUE(throwsWith([&] { make(8, 4 * 9, 8, {4, 1, 6}, window(3, 1, 0, 0), 1); }, "larger than the padded input"));
  lrp::WindowGeometry ceil = g;
  ceil.ceilMode = true;
  EXPECT_TRUE(throwsWith([&] { make(8, 4 * 9, 8, {4, 6, 6}, ceil, 1); }, "ceil"));
  // Hostile sizes fail before anything big is allocated.
  EXPECT_TRUE(throwsWith([&] { make(1, 1, 0, {1, 1 << 20, 1 << 20}, window(1, 1, 0, 0), 1); }, "too large"));

  lrp::Matrix nanWeight = lrp::Matrix::Ones(2, 9);
  nanWeight(1, 3) = std::nanf("");
  EXPECT_TRUE(throwsWith([&] { lrp::Conv2DLayer(nanWeight, lrp::Vector(), {1, 4, 4}, g, 1); }, "finite"));
  lrp::Vector infBias = lrp::Vector::Zero(2);
  infBias(0) = INFINITY;
  EXPECT_TRUE(throwsWith([&] { lrp::Conv2DLayer(lrp::Matrix::Ones(2, 9), infBias, {1, 4, 4}, g, 1); }, "finite"));

  lrp::Conv2DLayer layer(lrp::Matrix::Ones(2, 9), lrp::Vector(), {1, 4, 4}, g, 1);
  EXPECT_EQ(layer.outputShape({{1, 4, 4}}), (lrp::Shape{2, 4, 4}));
  EXPECT_TRUE(throwsWith([&] { layer.outputShape({{1, 4, 5}}); }, "[1, 4, 4]"));
  EXPECT_TRUE(throwsWith([&] { layer.outputShape({{16}}); }, "[1, 4, 4]"));
  EXPECT_TRUE(throwsWith([&] { layer.outputShape({{1, 4, 4}, {1, 4, 4}}); }, "one input"));
  EXPECT_TRUE(throwsWith([&] { layer.mapForward(lrp::Matrix::Ones(15, 1), lrp::Modifier{}, nullptr); }, "16"));
  EXPECT_TRUE(throwsWith([&] { layer.mapTranspose(lrp::Matrix::Ones(31, 1), lrp::Modifier{}); }, "32"));
}

// A conv inside a graph (shape inference and forward through Graph).
TEST(ConvGraph, PredictMatchesNaiveLoops) {
  ConvSpec s{2, 5, 5, 3, 3, 3};
  s.pT = s.pL = s.pB = s.pR = 1, s.sH = s.sW = 2;
  const ConvCase c = makeCase(s, 21);
  lrp::Graph graph({2, 5, 5});
  graph.add("conv", std::make_unique<lrp::Conv2DLayer>(c.w, c.b, lrp::Shape{2, 5, 5}, s.geometry(), 1), {lrp::kGraphInput});
  graph.add("flatten", std::make_unique<lrp::PassThroughLayer>(lrp::Shape{s.outSize()}), {0});
  std::mt19937 rng(4);
  const lrp::Matrix x = randomMatrix(rng, 50, 1, -1, 1);
  const lrp::Matrix y = graph.predict(x);
  EXPECT_TRUE(closeScaled(y, naiveForward(s, c.Wd, c.bd, x.cast<double>()), 1e-5));
}

}  // namespace
