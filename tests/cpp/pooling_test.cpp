// Pooling layers against naive references: max-pool forward and gradient on an explicitly −∞-padded copy of the
// input (ties: the first maximum in row-major order wins; overlapping windows accumulate), avg-pool from
// PyTorch's documented divisor formula (count_include_pad, ceil_mode), its gradient as the exact transpose of
// its explicit matrix, global average pooling, the norm rule through explain(), and the size errors.
#include "test_helpers.hpp"

#include <cmath>
#include <limits>

namespace {

using namespace lrptest;

struct PoolSpec {
  int C, H, W;
  int kH, kW, sH, sW;
  int pT = 0, pL = 0, pB = 0, pR = 0;
  int dH = 1, dW = 1;
  bool ceil = false;

  lrp::WindowGeometry geometry() const {
    lrp::WindowGeometry g;
    g.kernelH = kH, g.kernelW = kW, g.strideH = sH, g.strideW = sW;
    g.padTop = pT, g.padLeft = pL, g.padBottom = pB, g.padRight = pR;
    g.dilationH = dH, g.dilationW = dW;
    g.ceilMode = ceil;
    return g;
  }
  std::string name() const {
    std::ostringstream s;
    s << C << "x" << H << "x" << W << "_k" << kH << "x" << kW << "_s" << sH << "x" << sW << "_p" << pT << pL << pB << pR
      << "_d" << dH << "x" << dW << (ceil ? "_ceil" : "_floor");
    return s.str();
  }
};
void PrintTo(const PoolSpec& p, std::ostream* os) { *os << p.name(); }

// PyTorch's pooling_output_shape, written out separately from the engine's.
int refOutSize(int in, int k, int s, int padBegin, int padEnd, int d, bool ceil) {
  const int numerator = in + padBegin + padEnd - d * (k - 1) - 1;
  int out = (ceil ? (numerator + s - 1) / s : numerator / s) + 1;
  if (ceil && (out - 1) * s >= in + padBegin) --out;
  return out;
}
int refHo(const PoolSpec& p) { return refOutSize(p.H, p.kH, p.sH, p.pT, p.pB, p.dH, p.ceil); }
int refWo(const PoolSpec& p) { return refOutSize(p.W, p.kW, p.sW, p.pL, p.pR, p.dW, p.ceil); }

std::vector<PoolSpec> poolSpecs() {
  std::vector<PoolSpec> specs;
  specs.push_back({3, 7, 9, 3, 3, 2, 2, 1, 1, 1, 1});                      // ResNet's stem pool, odd sizes
  specs.push_back({2, 7, 9, 2, 2, 2, 2});                                  // floor drops the last row/column
  specs.push_back({2, 7, 9, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, true});          // ceil keeps a partial window
  specs.push_back({2, 6, 8, 3, 3, 1, 1, 1, 0, 2, 1});                      // asymmetric pads, overlapping
  specs.push_back({2, 5, 5, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, true});          // ceil: PyTorch's last-window rule
  specs.push_back({2, 8, 7, 2, 3, 2, 1, 1, 1, 1, 1, 2, 1, true});          // dilated, non-square, ceil
  specs.push_back({1, 9, 10, 3, 2, 2, 3, 1, 0, 0, 1, 1, 1, true});        // ceil overhang past the right pad
  specs.push_back({2, 4, 11, 4, 3, 1, 2, 2, 1, 1, 1});                    // kernel 4 with pad 2 on a short axis
  // Big windows (the separable kernels' two passes do most of the work here).
  specs.push_back({1, 30, 28, 13, 11, 1, 1, 3, 2, 1, 4});                 // big, overlapping, asymmetric pads
  specs.push_back({2, 26, 21, 9, 7, 2, 3, 2, 1, 3, 0, 2, 1, true});       // big, dilated along the height, ceil
  specs.push_back({1, 24, 24, 24, 17, 1, 2, 0, 3, 0, 3, 1, 1, true});     // a window as tall as the input, ceil
  return specs;
}

// ---------------------------------------------------------------------------------------------------------
// Max pooling

// Forward and the argmax of every output, on a copy of the input embedded in a −∞ canvas (wide enough for
// ceil-mode windows that run past the padding).
void refMaxPool(const PoolSpec& p, const DVec& x, DVec& y, std::vector<int>& argmax) {
  const int Ho = refHo(p), Wo = refWo(p);
  const int canvasH = p.pT + p.H + p.pB + p.kH * p.dH + p.sH, canvasW = p.pL + p.W + p.pR + p.kW * p.dW + p.sW;
  const double minusInf = -std::numeric_limits<double>::infinity();
  y.resize(p.C * Ho * Wo);
  argmax.assign(static_cast<size_t>(y.size()), -1);
  for (int c = 0; c < p.C; ++c) {
    DMat canvas = DMat::Constant(canvasH, canvasW, minusInf);
    Eigen::MatrixXi source = Eigen::MatrixXi::Constant(canvasH, canvasW, -1);
    for (int h = 0; h < p.H; ++h)
      for (int w = 0; w < p.W; ++w) {
        canvas(p.pT + h, p.pL + w) = x((c * p.H + h) * p.W + w);
        source(p.pT + h, p.pL + w) = (c * p.H + h) * p.W + w;
      }
    for (int oh = 0; oh < Ho; ++oh)
      for (int ow = 0; ow < Wo; ++ow) {
        double best = minusInf;
        int where = -1;
        for (int kh = 0; kh < p.kH; ++kh)
          for (int kw = 0; kw < p.kW; ++kw) {
            const int r = oh * p.sH + kh * p.dH, q = ow * p.sW + kw * p.dW;
            const double v = canvas(r, q);  // NaN beats any number and no other NaN (PyTorch: the first NaN wins)
            const bool better = v > best || (std::isnan(v) && !std::isnan(best));
            if (source(r, q) >= 0 && (where < 0 || better)) best = v, where = source(r, q);
          }
        const int out = (c * Ho + oh) * Wo + ow;
        y(out) = best;
        argmax[static_cast<size_t>(out)] = where;
      }
  }
}

lrp::Matrix tiedInput(std::mt19937& rng, int rows, int cols) {
  lrp::Matrix x(rows, cols);  // few distinct values: many ties
  for (int c = 0; c < cols; ++c)
    for (int r = 0; r < rows; ++r) x(r, c) = static_cast<float>(static_cast<int>(rng() % 5) - 3);
  return x;
}

class MaxPoolTest : public ::testing::TestWithParam<PoolSpec> {};

TEST_P(MaxPoolTest, ForwardAndGradientMatchNaive) {
  const PoolSpec& p = GetParam();
  lrp::MaxPoolLayer layer({p.C, p.H, p.W}, p.geometry());
  ASSERT_EQ(layer.outputShape({{p.C, p.H, p.W}}), (lrp::Shape{p.C, refHo(p), refWo(p)}));
  std::mt19937 rng(31);
  const int inSize = p.C * p.H * p.W, outSize = p.C * refHo(p) * refWo(p);
  for (bool ties : {false, true}) {
    SCOPED_TRACE(ties ? "integer inputs (ties)" : "random inputs");
    const lrp::Matrix X = ties ? tiedInput(rng, inSize, 3) : randomMatrix(rng, inSize, 3, -2, -0.5);  // all negative
    const lrp::Matrix G = randomMatrix(rng, outSize, 3, 0.5, 1.5);
    const lrp::Matrix Y = layer.forward({&X});
    const lrp::Matrix dX = layer.gradient({&X}, Y, G)[0];
    for (int n = 0; n < 3; ++n) {
      DVec y;
      std::vector<int> argmax;
      refMaxPool(p, X.col(n).cast<double>(), y, argmax);
      DVec dx = DVec::Zero(inSize);
      for (int o = 0; o < outSize; ++o) dx(argmax[static_cast<size_t>(o)]) += G(o, n);
      EXPECT_TRUE(closeScaled(Y.col(n), y, 0.0)) << "forward, sample " << n;  // exact: a max copies a value
      EXPECT_TRUE(closeScaled(dX.col(n), dx, 1e-6)) << "gradient, sample " << n;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Grid, MaxPoolTest, ::testing::ValuesIn(poolSpecs()), [](const auto& info) { return info.param.name(); });

// Inputs with many ties and NaNs: the forward copies the reference's first maximum (NaN where the window holds
// one) and the gradient goes to exactly the reference's argmax (so the first NaN of a window, else the first
// maximum in row-major order), for every geometry of the grid including the big windows.
TEST(MaxPool, NaNsAndTiesFollowTheRowMajorFirstMaximum) {
  for (const PoolSpec& p : poolSpecs()) {
    SCOPED_TRACE(p.name());
    lrp::MaxPoolLayer layer({p.C, p.H, p.W}, p.geometry());
    std::mt19937 rng(7);
    const int inSize = p.C * p.H * p.W, outSize = p.C * refHo(p) * refWo(p);
    lrp::Matrix X = tiedInput(rng, inSize, 2);
    for (Eigen::Index i = 0; i < X.size(); ++i)
      if (rng() % 16 == 0) X.data()[i] = std::numeric_limits<float>::quiet_NaN();
    const lrp::Matrix G = randomMatrix(rng, outSize, 2, 0.5, 1.5);
    const lrp::Matrix Y = layer.forward({&X});
    const lrp::Matrix dX = layer.gradient({&X}, Y, G)[0];
    for (int n = 0; n < 2; ++n) {
      DVec y;
      std::vector<int> argmax;
      refMaxPool(p, X.col(n).cast<double>(), y, argmax);
      int nans = 0;
      for (int o = 0; o < outSize; ++o) {
        if (std::isnan(y(o))) ++nans;
        EXPECT_TRUE(std::isnan(y(o)) ? std::isnan(Y(o, n)) : Y(o, n) == y(o)) << "output " << o << ", sample " << n;
      }
      EXPECT_GT(nans, 0) << "no window holds a NaN: the test would not check the NaN rule";
      DVec dx = DVec::Zero(inSize);
      for (int o = 0; o < outSize; ++o) dx(argmax[static_cast<size_t>(o)]) += G(o, n);
      EXPECT_TRUE(closeScaled(dX.col(n), dx, 1e-6)) << "gradient, sample " << n;
    }
  }
}

TEST(MaxPool, FirstMaximumWinsTiesAndOverlapsAccumulate) {
  // 1×3×3, kernel 2, stride 1: four overlapping windows. All equal: each window's first cell (row-major) wins.
  PoolSpec p{1, 3, 3, 2, 2, 1, 1};
  lrp::MaxPoolLayer layer({1, 3, 3}, p.geometry());
  const lrp::Matrix x = lrp::Matrix::Constant(9, 1, 2.0f);
  const lrp::Matrix g = (lrp::Matrix(4, 1) << 1, 10, 100, 1000).finished();
  const lrp::Matrix dx = layer.gradient({&x}, layer.forward({&x}), g)[0];
  const float want[9] = {1, 10, 0, 100, 1000, 0, 0, 0, 0};
  for (int i = 0; i < 9; ++i) EXPECT_EQ(dx(i, 0), want[i]) << i;

  // A later equal value does not take over; a strictly larger one does. Shared maximum: gradients add up.
  lrp::Matrix y = (lrp::Matrix(9, 1) << 1, 5, 5, 5, 3, 5, 0, 9, 0).finished();
  const lrp::Matrix dy = layer.gradient({&y}, layer.forward({&y}), g)[0];
  // windows: (0,0):{1,5,5,3}→cell 1; (0,1):{5,5,3,5}→cell 1; (1,0):{5,3,0,9}→cell 7; (1,1):{3,5,9,0}→cell 7
  const float wantY[9] = {0, 11, 0, 0, 0, 0, 0, 1100, 0};
  for (int i = 0; i < 9; ++i) EXPECT_EQ(dy(i, 0), wantY[i]) << i;
}

TEST(MaxPool, PaddingIsMinusInfinity) {
  PoolSpec p{1, 2, 2, 3, 3, 1, 1, 1, 1, 1, 1};  // every window sees padding
  lrp::MaxPoolLayer layer({1, 2, 2}, p.geometry());
  const lrp::Matrix x = (lrp::Matrix(4, 1) << -4, -3, -2, -1).finished();
  const lrp::Matrix y = layer.forward({&x});
  for (int i = 0; i < 4; ++i) EXPECT_EQ(y(i, 0), -1.0f) << i;  // not 0 (zero padding would win)
  const lrp::Matrix dx = layer.gradient({&x}, y, lrp::Matrix::Ones(4, 1))[0];
  EXPECT_EQ(dx(3, 0), 4.0f);
  EXPECT_EQ(dx.sum(), 4.0f);
}

TEST(MaxPool, RejectsBadGeometry) {
  EXPECT_TRUE(throwsWith([] { lrp::MaxPoolLayer({1, 3, 3}, PoolSpec{1, 3, 3, 4, 4, 1, 1}.geometry()); }, "larger than the padded input"));
  EXPECT_TRUE(throwsWith([] { lrp::MaxPoolLayer({1, 3, 3}, PoolSpec{1, 3, 3, 2, 2, 1, 1, 2, 0, 0, 0}.geometry()); }, "only padding"));
  EXPECT_TRUE(throwsWith([] { lrp::MaxPoolLayer({9}, PoolSpec{1, 3, 3, 2, 2, 1, 1}.geometry()); }, "C×H×W"));
  EXPECT_TRUE(throwsWith([] { lrp::MaxPoolLayer({1, 3, 3}, PoolSpec{1, 3, 3, 2, 2, 0, 1}.geometry()); }, "positive"));
  lrp::MaxPoolLayer layer({2, 4, 4}, PoolSpec{2, 4, 4, 2, 2, 2, 2}.geometry());
  EXPECT_TRUE(throwsWith([&] { layer.outputShape({{2, 4, 5}}); }, "[2, 4, 4]"));
}

// ---------------------------------------------------------------------------------------------------------
// Average pooling

// PyTorch's documented avg_pool2d (dilation 1): the window is clipped to input + pads for the
// count_include_pad divisor, then to the input for the sum (and the other divisor).
DVec refAvgPoolTorch(const PoolSpec& p, bool countIncludePad, const DVec& x) {
  const int Ho = refHo(p), Wo = refWo(p);
  DVec y(p.C * Ho * Wo);
  for (int c = 0; c < p.C; ++c)
    for (int oh = 0; oh < Ho; ++oh)
      for (int ow = 0; ow < Wo; ++ow) {
        int hstart = oh * p.sH - p.pT, wstart = ow * p.sW - p.pL;
        int hend = std::min(hstart + p.kH, p.H + p.pB), wend = std::min(wstart + p.kW, p.W + p.pR);
        const int poolSize = (hend - hstart) * (wend - wstart);
        hstart = std::max(hstart, 0), wstart = std::max(wstart, 0);
        hend = std::min(hend, p.H), wend = std::min(wend, p.W);
        double sum = 0.0;
        for (int h = hstart; h < hend; ++h)
          for (int w = wstart; w < wend; ++w) sum += x((c * p.H + h) * p.W + w);
        const int divisor = countIncludePad ? poolSize : (hend - hstart) * (wend - wstart);
        y((c * Ho + oh) * Wo + ow) = sum / divisor;
      }
  return y;
}

// With dilation (ONNX AveragePool-19): the divisor counts the window's cells inside input + pads (include)
// or inside the input (exclude).
DVec refAvgPoolDilated(const PoolSpec& p, bool countIncludePad, const DVec& x) {
  const int Ho = refHo(p), Wo = refWo(p);
  DVec y(p.C * Ho * Wo);
  for (int c = 0; c < p.C; ++c)
    for (int oh = 0; oh < Ho; ++oh)
      for (int ow = 0; ow < Wo; ++ow) {
        double sum = 0.0;
        int inside = 0, padded = 0;
        for (int kh = 0; kh < p.kH; ++kh)
          for (int kw = 0; kw < p.kW; ++kw) {
            const int h = oh * p.sH - p.pT + kh * p.dH, w = ow * p.sW - p.pL + kw * p.dW;
            if (h >= -p.pT && h < p.H + p.pB && w >= -p.pL && w < p.W + p.pR) ++padded;
            if (h >= 0 && h < p.H && w >= 0 && w < p.W) ++inside, sum += x((c * p.H + h) * p.W + w);
          }
        y((c * Ho + oh) * Wo + ow) = sum / (countIncludePad ? padded : inside);
      }
  return y;
}

DVec refAvgPool(const PoolSpec& p, bool countIncludePad, const DVec& x) {
  return p.dH == 1 && p.dW == 1 ? refAvgPoolTorch(p, countIncludePad, x) : refAvgPoolDilated(p, countIncludePad, x);
}

class AvgPoolTest : public ::testing::TestWithParam<std::tuple<PoolSpec, bool>> {};

TEST_P(AvgPoolTest, ForwardMatchesPyTorchFormulaAndGradientIsItsTranspose) {
  const PoolSpec& p = std::get<0>(GetParam());
  const bool include = std::get<1>(GetParam());
  lrp::AvgPoolLayer layer({p.C, p.H, p.W}, p.geometry(), include);
  ASSERT_EQ(layer.outputShape({{p.C, p.H, p.W}}), (lrp::Shape{p.C, refHo(p), refWo(p)}));
  const int inSize = p.C * p.H * p.W, outSize = p.C * refHo(p) * refWo(p);
  std::mt19937 rng(5);
  const lrp::Matrix X = randomMatrix(rng, inSize, 3, -1, 1);
  const lrp::Matrix G = randomMatrix(rng, outSize, 3, -1, 1);
  const lrp::Matrix Y = layer.forward({&X});
  for (int n = 0; n < 3; ++n) EXPECT_TRUE(closeScaled(Y.col(n), refAvgPool(p, include, X.col(n).cast<double>()), 1e-6));

  // The explicit matrix of the reference (its columns: images of the unit vectors); the gradient is Mᵀ g.
  DMat M(outSize, inSize);
  for (int i = 0; i < inSize; ++i) M.col(i) = refAvgPool(p, include, DVec::Unit(inSize, i));
  EXPECT_TRUE(closeScaled(layer.gradient({&X}, Y, G)[0], M.transpose() * G.cast<double>(), 1e-6));
}

INSTANTIATE_TEST_SUITE_P(Grid, AvgPoolTest, ::testing::Combine(::testing::ValuesIn(poolSpecs()), ::testing::Bool()),
                         [](const auto& info) {
                           return std::get<0>(info.param).name() + (std::get<1>(info.param) ? "_includepad" : "_excludepad");
                         });

TEST(AvgPool, DivisorRules) {
  // 1×1×4 input [1 2 3 4], kernel 1×3, stride 2, pad 1 left/right, ceil mode: windows start at −1, 1, 3
  // (3 < 4 + 1: kept). Window 0 covers {pad, 1, 2}; window 2 covers {4, pad, beyond}: the cell beyond the
  // right pad never counts, even with count_include_pad (PyTorch).
  PoolSpec p{1, 1, 4, 1, 3, 1, 2, 0, 1, 0, 1, 1, 1, true};
  lrp::AvgPoolLayer include({1, 1, 4}, p.geometry(), true), exclude({1, 1, 4}, p.geometry(), false);
  const lrp::Matrix x = (lrp::Matrix(4, 1) << 1, 2, 3, 4).finished();
  const lrp::Matrix yi = include.forward({&x}), ye = exclude.forward({&x});
  ASSERT_EQ(yi.rows(), 3);
  EXPECT_FLOAT_EQ(yi(0, 0), 3.0f / 3);
  EXPECT_FLOAT_EQ(yi(1, 0), 9.0f / 3);
  EXPECT_FLOAT_EQ(yi(2, 0), 4.0f / 2);
  EXPECT_FLOAT_EQ(ye(0, 0), 3.0f / 2);
  EXPECT_FLOAT_EQ(ye(1, 0), 9.0f / 3);
  EXPECT_FLOAT_EQ(ye(2, 0), 4.0f / 1);
}

TEST(AvgPool, RejectsBadGeometry) {
  EXPECT_TRUE(throwsWith([] { lrp::AvgPoolLayer({1, 3, 3}, PoolSpec{1, 3, 3, 3, 6, 1, 1, 1, 1, 1, 1}.geometry(), true); },
                         "larger than the padded input"));
  // A window entirely in the padding: 0/0 without count_include_pad, a plain 0 with it.
  const lrp::WindowGeometry padOnly = PoolSpec{1, 3, 3, 2, 2, 1, 1, 2, 0, 0, 0}.geometry();
  EXPECT_TRUE(throwsWith([&] { lrp::AvgPoolLayer({1, 3, 3}, padOnly, false); }, "only padding"));
  lrp::AvgPoolLayer zeros({1, 3, 3}, padOnly, true);
  const lrp::Matrix x = lrp::Matrix::Ones(9, 1);
  const lrp::Matrix y = zeros.forward({&x});
  EXPECT_EQ(y(0, 0), 0.0f);          // output row 0 covers padding rows −2, −1 only
  EXPECT_FLOAT_EQ(y(1 * 2, 0), 0.5f);  // output row 1 covers rows −1, 0: 2 inputs / 4 cells
  EXPECT_FLOAT_EQ(y(2 * 2, 0), 1.0f);
}

// ---------------------------------------------------------------------------------------------------------
// Global average pooling

// 1-D pooling (a C×L input, PyTorch's MaxPool1d/AvgPool1d) with a long window, pads and ceil mode: the 2-D
// references on a 1-row image.
TEST(Pool1D, BigWindowsMatchTheReferences) {
  const PoolSpec p{3, 1, 50, 1, 19, 1, 2, 0, 4, 0, 5, 1, 1, true};
  std::mt19937 rng(3);
  const int inSize = p.C * p.W, outSize = p.C * refWo(p);
  lrp::MaxPoolLayer maxPool({p.C, p.W}, p.geometry());
  ASSERT_EQ(maxPool.outputShape({{p.C, p.W}}), (lrp::Shape{p.C, refWo(p)}));
  const lrp::Matrix X = tiedInput(rng, inSize, 2), G = randomMatrix(rng, outSize, 2, 0.5, 1.5);
  const lrp::Matrix Y = maxPool.forward({&X});
  const lrp::Matrix dX = maxPool.gradient({&X}, Y, G)[0];
  for (int n = 0; n < 2; ++n) {
    DVec y;
    std::vector<int> argmax;
    refMaxPool(p, X.col(n).cast<double>(), y, argmax);
    DVec dx = DVec::Zero(inSize);
    for (int o = 0; o < outSize; ++o) dx(argmax[static_cast<size_t>(o)]) += G(o, n);
    EXPECT_TRUE(closeScaled(Y.col(n), y, 0.0));
    EXPECT_TRUE(closeScaled(dX.col(n), dx, 1e-6));
  }
  for (bool include : {false, true}) {
    lrp::AvgPoolLayer avgPool({p.C, p.W}, p.geometry(), include);
    const lrp::Matrix A = avgPool.forward({&X});
    for (int n = 0; n < 2; ++n) EXPECT_TRUE(closeScaled(A.col(n), refAvgPool(p, include, X.col(n).cast<double>()), 1e-6));
    DMat M(outSize, inSize);
    for (int i = 0; i < inSize; ++i) M.col(i) = refAvgPool(p, include, DVec::Unit(inSize, i));
    EXPECT_TRUE(closeScaled(avgPool.gradient({&X}, A, G)[0], M.transpose() * G.cast<double>(), 1e-6));
  }
}

// A 256×256 window over a 300×290 input (the scale of the 512² bomb, smaller to keep the test quick):
// max and average against the naive float64 formula at a sample of outputs (the full naive reference would be
// 10^9 operations).
TEST(Pool, HugeWindowsMatchNaiveFormulaAtSampledOutputs) {
  const PoolSpec p{1, 300, 290, 256, 256, 1, 1, 2, 1, 0, 3};
  std::mt19937 rng(11);
  const lrp::Matrix X = tiedInput(rng, p.H * p.W, 1) + 0.001f * randomMatrix(rng, p.H * p.W, 1, 0, 1);
  const int Ho = refHo(p), Wo = refWo(p);
  lrp::MaxPoolLayer maxPool({1, p.H, p.W}, p.geometry());
  lrp::AvgPoolLayer avgPool({1, p.H, p.W}, p.geometry(), false);
  const lrp::Matrix M = maxPool.forward({&X}), A = avgPool.forward({&X});
  lrp::Matrix ones = lrp::Matrix::Ones(Ho * Wo, 1);
  const lrp::Matrix dM = maxPool.gradient({&X}, M, ones)[0];
  for (int oh = 0; oh < Ho; oh += 7)
    for (int ow = 0; ow < Wo; ow += 5) {
      double best = -std::numeric_limits<double>::infinity(), sum = 0.0;
      int count = 0;
      for (int h = std::max(0, oh - p.pT); h < std::min(p.H, oh - p.pT + p.kH); ++h)
        for (int w = std::max(0, ow - p.pL); w < std::min(p.W, ow - p.pL + p.kW); ++w) {
          const double v = X(h * p.W + w, 0);
          best = std::max(best, v), sum += v, ++count;
        }
      EXPECT_EQ(M(oh * Wo + ow, 0), static_cast<float>(best)) << oh << "," << ow;
      EXPECT_NEAR(A(oh * Wo + ow, 0), sum / count, 1e-6 * std::abs(sum / count) + 1e-7) << oh << "," << ow;
    }
  EXPECT_EQ(dM.sum(), static_cast<float>(Ho * Wo));  // every output routes its 1 to one cell
}

TEST(GlobalAvgPool, MeanPerChannelAndGradient) {
  lrp::GlobalAvgPoolLayer layer({3, 4, 5});
  EXPECT_EQ(layer.outputShape({{3, 4, 5}}), (lrp::Shape{3, 1, 1}));
  EXPECT_TRUE(throwsWith([&] { lrp::GlobalAvgPoolLayer bad({60}); }, "rank ≥ 2"));
  EXPECT_TRUE(throwsWith([&] { layer.outputShape({{3, 4, 6}}); }, "built for [3, 4, 5]"));
  EXPECT_TRUE(throwsWith([&] { layer.outputShape({{3, 4}, {3, 4}}); }, "one input"));
  EXPECT_EQ(layer.outputShape({{3, 4, 5}}), (lrp::Shape{3, 1, 1}));
  std::mt19937 rng(2);
  const lrp::Matrix X = randomMatrix(rng, 60, 2, -1, 1);
  const lrp::Matrix G = randomMatrix(rng, 3, 2, -1, 1);
  const lrp::Matrix Y = layer.forward({&X});
  const lrp::Matrix dX = layer.gradient({&X}, Y, G)[0];
  DMat wantY(3, 2), wantDX(60, 2);
  for (int n = 0; n < 2; ++n)
    for (int c = 0; c < 3; ++c) {
      double sum = 0.0;
      for (int i = 0; i < 20; ++i) sum += X(c * 20 + i, n);
      wantY(c, n) = sum / 20.0;
      for (int i = 0; i < 20; ++i) wantDX(c * 20 + i, n) = G(c, n) / 20.0;
    }
  EXPECT_TRUE(closeScaled(Y, wantY, 1e-6));
  EXPECT_TRUE(closeScaled(dX, wantDX, 1e-6));
  const lrp::Matrix wrong = lrp::Matrix::Ones(59, 1);
  EXPECT_TRUE(throwsWith([&] { layer.forward({&wrong}); }, "expected 60"));
}

// The norm rule through explain(): avg-pool relevance is x_i Σ_j R_j / (divisor_j · stab(z_j)), exactly
// the gradient at R / stab(z) times x (RULES.md) — checked against the explicit matrix.
TEST(AvgPool, NormRuleThroughExplain) {
  PoolSpec p{2, 5, 6, 3, 3, 2, 2, 1, 1, 1, 0, 1, 1, true};
  std::mt19937 rng(12);
  lrp::Graph graph({2, 5, 6});
  graph.add("pool", std::make_unique<lrp::AvgPoolLayer>(lrp::Shape{2, 5, 6}, p.geometry(), false), {lrp::kGraphInput});
  const int outSize = 2 * refHo(p) * refWo(p);
  graph.add("flatten", std::make_unique<lrp::PassThroughLayer>(lrp::Shape{outSize}), {0});
  const lrp::Vector x = randomMatrix(rng, 60, 1, 0.1, 1).col(0);
  lrp::ExplainRequest request;
  request.target = 3;
  request.rules = {makeRule(lrp::RuleKind::Norm), std::nullopt};
  const lrp::Explanation e = explainVec(graph, x, request);

  DMat M(outSize, 60);
  for (int i = 0; i < 60; ++i) M.col(i) = refAvgPool(p, false, DVec::Unit(60, i));
  const DVec xd = x.cast<double>();
  const DVec z = M * xd;
  DVec R = DVec::Zero(outSize);
  R(3) = z(3);  // the seed: the target's output value
  DVec s(outSize);
  for (int j = 0; j < outSize; ++j) s(j) = R(j) / stab(z(j), 1e-6);
  const DVec want = xd.cwiseProduct(M.transpose() * s);
  EXPECT_TRUE(closeScaled(e.relevance, want, 1e-5));
  EXPECT_NEAR(e.relevance.sum(), z(3), 1e-4);  // conserved
}

}  // namespace
