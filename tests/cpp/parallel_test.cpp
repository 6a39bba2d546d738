// The parallel loops (cpp/src/parallel.hpp) and the kernels that use them: parallelFor covers its range once
// with aligned, contiguous parts; conv (GEMM and direct/depthwise paths, forward and transposed, every
// modifier a rule uses), the dense products, activations and whole LRP rules give bit-identical results for 1–5
// threads.
#include "test_helpers.hpp"

#include "lrp/threads.hpp"

#include "../../cpp/src/kernels.hpp"
#include "../../cpp/src/parallel.hpp"

#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

namespace {

using namespace lrptest;

// Restores one thread after each test, so the other suites run as before.
class Threads : public ::testing::Test {
 protected:
  void TearDown() override { lrp::setThreadCount(1); }
};

constexpr int kThreadCounts[] = {2, 3, 4, 5};

bool bitIdentical(const lrp::Matrix& a, const lrp::Matrix& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(float) * static_cast<size_t>(a.size())) == 0;
}

TEST_F(Threads, SetThreadCountValidates) {
  EXPECT_EQ(lrp::threadCount(), 1);
  lrp::setThreadCount(3);
  EXPECT_EQ(lrp::threadCount(), 3);
  EXPECT_THROW(lrp::setThreadCount(0), lrp::Error);
  EXPECT_THROW(lrp::setThreadCount(lrp::maxThreadCount() + 1), lrp::Error);
  EXPECT_EQ(lrp::threadCount(), 3);
}

TEST_F(Threads, ParallelForCoversTheRangeOnceInAlignedParts) {
  for (int threads : {1, 2, 3, 4, 7}) {
    lrp::setThreadCount(threads);
    for (int64_t n : {0, 1, 5, 17, 64, 1001}) {
      for (int64_t align : {1, 4}) {
        std::vector<std::atomic<int>> hits(static_cast<size_t>(n) + 1);
        std::mutex mutex;
        std::set<std::thread::id> ids;
        std::vector<std::pair<int64_t, int64_t>> parts;
        lrp::parallelFor(3, 3 + n, 2, [&](int64_t lo, int64_t hi) {
          for (int64_t i = lo; i < hi; ++i) hits[static_cast<size_t>(i - 3)]++;
          std::this_thread::sleep_for(std::chrono::microseconds(200));  // long enough for the workers to join
          std::lock_guard<std::mutex> lock(mutex);
          parts.emplace_back(lo, hi);
          ids.insert(std::this_thread::get_id());
        }, align);
        for (int64_t i = 0; i < n; ++i) EXPECT_EQ(hits[static_cast<size_t>(i)].load(), 1) << "index " << i;
        EXPECT_LE(static_cast<int64_t>(parts.size()), lrp::kPiecesPerThread * threads);
        EXPECT_LE(static_cast<int>(ids.size()), threads);
        for (const auto& [lo, hi] : parts) {
          EXPECT_LT(lo, hi);
          if (hi != 3 + n) EXPECT_GE(hi - lo, 2);  // the grain (the last piece may be a shorter remainder)
          if (hi != 3 + n) EXPECT_EQ((hi - 3) % align, 0) << "boundary " << hi;
        }
        if (threads > 1 && n >= 64) {
          EXPECT_GT(parts.size(), 1u) << "work was not split";
          EXPECT_GT(ids.size(), 1u) << "only one thread worked";
        }
        if (threads == 1) EXPECT_LE(parts.size(), 1u);
      }
    }
  }
}

TEST_F(Threads, NestedLoopsRunSeriallyAndExceptionsReachTheCaller) {
  lrp::setThreadCount(3);
  std::atomic<int> inner{0};
  lrp::parallelFor(0, 30, 1, [&](int64_t lo, int64_t hi) {
    lrp::parallelFor(lo, hi, 1, [&](int64_t a, int64_t b) { inner += static_cast<int>(b - a); });
  });
  EXPECT_EQ(inner.load(), 30);
  EXPECT_THROW(lrp::parallelFor(0, 30, 1,
                                [&](int64_t lo, int64_t) {
                                  if (lo > 0) throw std::runtime_error("a worker's part failed");
                                }),
               std::runtime_error);
  // The pool still works afterwards.
  std::atomic<int> count{0};
  lrp::parallelFor(0, 30, 1, [&](int64_t lo, int64_t hi) { count += static_cast<int>(hi - lo); });
  EXPECT_EQ(count.load(), 30);
}

struct ConvCase {
  int C, H, W, O, k, stride, pad, groups;
  const char* name;
};

std::unique_ptr<lrp::Conv2DLayer> makeConv(const ConvCase& c, std::mt19937& rng) {
  lrp::WindowGeometry g;
  g.kernelH = g.kernelW = c.k;
  g.strideH = g.strideW = c.stride;
  g.padTop = g.padLeft = g.padBottom = g.padRight = c.pad;
  return std::make_unique<lrp::Conv2DLayer>(randomMatrix(rng, c.O, c.C / c.groups * c.k * c.k, -1, 1),
                                            randomVector(rng, c.O, -0.5, 0.5), lrp::Shape{c.C, c.H, c.W}, g, c.groups);
}

// Big enough that every loop splits (several GEMM chunks, many channels), plus the direct (depthwise) path.
const ConvCase kConvCases[] = {
    {16, 40, 40, 24, 3, 1, 1, 1, "gemm 3x3"},
    {32, 21, 19, 20, 3, 2, 1, 1, "gemm strided"},
    {8, 30, 30, 8, 1, 1, 0, 1, "gemm 1x1"},
    {3, 64, 64, 16, 7, 2, 3, 1, "gemm stem"},
    {24, 33, 33, 24, 3, 1, 1, 24, "depthwise"},
    {16, 20, 20, 32, 3, 1, 1, 2, "grouped"},
    {8, 12, 12, 30, 3, 1, 1, 1, "few positions, 30 filters (blocks of filter panels, a partial panel)"},
    {64, 7, 7, 64, 3, 1, 1, 1, "7x7 positions (a CNN's last stage)"},
    {1, 70, 64, 1, 15, 1, 7, 1, "big kernel, one filter (direct: blocks of output rows)"},
    {3, 48, 48, 3, 9, 1, 4, 1, "big kernel, 3 filters (direct: a task per input channel in the transpose)"},
};

const lrp::ParamMod kMods[] = {lrp::ParamMod::Identity, lrp::ParamMod::Positive, lrp::ParamMod::Negative,
                                lrp::ParamMod::GammaPositive, lrp::ParamMod::Ones};

TEST_F(Threads, ConvMapsAreBitIdenticalForAnyThreadCount) {
  for (const ConvCase& c : kConvCases) {
    std::mt19937 rng(11);
    const auto conv = makeConv(c, rng);
    const int in = c.C * c.H * c.W;
    const int out = static_cast<int>(lrp::shapeSize(conv->outputShape({lrp::Shape{c.C, c.H, c.W}})));
    const lrp::Matrix x = randomMatrix(rng, in, 2, -1, 1);
    const lrp::Matrix s = randomMatrix(rng, out, 2, -1, 1);
    for (lrp::ParamMod mod : kMods) {
      const lrp::Modifier m{mod, 0.25f};
      lrp::setThreadCount(1);
      const lrp::Matrix forward1 = conv->mapForward(x, m, &conv->bias());
      const lrp::Matrix transpose1 = conv->mapTranspose(s, m);
      for (int threads : kThreadCounts) {
        lrp::setThreadCount(threads);
        EXPECT_TRUE(bitIdentical(conv->mapForward(x, m, &conv->bias()), forward1))
            << c.name << " forward, modifier " << static_cast<int>(mod) << ", " << threads << " threads";
        EXPECT_TRUE(bitIdentical(conv->mapTranspose(s, m), transpose1))
            << c.name << " transpose, modifier " << static_cast<int>(mod) << ", " << threads << " threads";
      }
    }
  }
}

TEST_F(Threads, MaxPoolIsBitIdenticalForAnyThreadCount) {
  std::mt19937 rng(8);
  lrp::WindowGeometry g;
  g.kernelH = g.kernelW = 3;
  g.strideH = g.strideW = 2;
  g.padTop = g.padLeft = g.padBottom = g.padRight = 1;
  const lrp::MaxPoolLayer pool({64, 56, 56}, g);
  const lrp::Matrix x = randomMatrix(rng, 64 * 56 * 56, 2, -1, 1);
  lrp::setThreadCount(1);
  const lrp::Matrix y1 = pool.forward({&x});
  const lrp::Matrix r = randomMatrix(rng, static_cast<int>(y1.rows()), 2, -1, 1);
  const lrp::Matrix dx1 = pool.gradient({&x}, y1, r).at(0);
  for (int threads : kThreadCounts) {
    lrp::setThreadCount(threads);
    EXPECT_TRUE(bitIdentical(pool.forward({&x}), y1)) << threads << " threads";
    EXPECT_TRUE(bitIdentical(pool.gradient({&x}, y1, r).at(0), dx1)) << threads << " threads";
  }
}

TEST_F(Threads, AvgPoolIsBitIdenticalForAnyThreadCount) {
  std::mt19937 rng(9);
  lrp::WindowGeometry g;
  g.kernelH = g.kernelW = 5;
  g.strideH = g.strideW = 2;
  g.padTop = g.padLeft = g.padBottom = g.padRight = 2;
  g.ceilMode = true;
  const lrp::AvgPoolLayer pool({48, 41, 41}, g, false);
  const lrp::Matrix x = randomMatrix(rng, 48 * 41 * 41, 2, -1, 1);
  lrp::setThreadCount(1);
  const lrp::Matrix y1 = pool.forward({&x});
  const lrp::Matrix r = randomMatrix(rng, static_cast<int>(y1.rows()), 2, -1, 1);
  const lrp::Matrix dx1 = pool.gradient({&x}, y1, r).at(0);
  for (int threads : kThreadCounts) {
    lrp::setThreadCount(threads);
    EXPECT_TRUE(bitIdentical(pool.forward({&x}), y1)) << threads << " threads";
    EXPECT_TRUE(bitIdentical(pool.gradient({&x}, y1, r).at(0), dx1)) << threads << " threads";
  }
}

TEST_F(Threads, DenseProductsAreBitIdenticalForAnyThreadCount) {
  // Sizes not multiples of 4 (tails), batches 1–3 (the 2-column and 1-column blocks).
  for (auto [rows, cols] : {std::pair{1001, 515}, std::pair{64, 4099}, std::pair{7, 3}}) {
    std::mt19937 rng(5);
    const lrp::Matrix a = randomMatrix(rng, rows, cols, -1, 1);
    for (int batch : {1, 2, 3}) {
      const lrp::Matrix x = randomMatrix(rng, cols, batch, -1, 1);
      const lrp::Matrix y = randomMatrix(rng, rows, batch, -1, 1);
      for (lrp::ParamMod mod : kMods) {
        const lrp::Modifier m{mod, 0.25f};
        lrp::setThreadCount(1);
        const lrp::Matrix p1 = lrp::product(a, x, m), t1 = lrp::transposedProduct(a, y, m);
        for (int threads : kThreadCounts) {
          lrp::setThreadCount(threads);
          EXPECT_TRUE(bitIdentical(lrp::product(a, x, m), p1)) << rows << "x" << cols << " batch " << batch << ", " << threads;
          EXPECT_TRUE(bitIdentical(lrp::transposedProduct(a, y, m), t1)) << rows << "x" << cols << " batch " << batch;
        }
      }
    }
  }
}

TEST_F(Threads, PackedProductIsBitIdenticalForAnyThreadCount) {
  std::mt19937 rng(9);
  for (auto [m, n, k] : {std::array{37, 301, 600}, std::array{400, 13, 70}, std::array{8, 4, 1}}) {
    const lrp::Matrix a = randomMatrix(rng, m, k, -1, 1), b = randomMatrix(rng, k, n, -1, 1);
    std::vector<float> aPanels(static_cast<size_t>(lrp::panelCount(m, lrp::kPanelRows)) * lrp::kPanelRows * k);
    lrp::packRowPanels(a.data(), m, k, 1, m, aPanels.data());
    const std::vector<float> bPanels = lrp::packColumnPanels(b.data(), k, n, 1, k);
    lrp::setThreadCount(1);
    lrp::Matrix c1(m, n);
    lrp::packedProduct(m, n, k, aPanels.data(), bPanels.data(), c1.data(), m);
    for (int threads : kThreadCounts) {
      lrp::setThreadCount(threads);
      lrp::Matrix c(m, n);
      lrp::packedProduct(m, n, k, aPanels.data(), bPanels.data(), c.data(), m);
      EXPECT_TRUE(bitIdentical(c, c1)) << m << "x" << n << "x" << k << ", " << threads << " threads";
    }
  }
}

TEST_F(Threads, LrpRulesOnConvAreBitIdenticalForAnyThreadCount) {
  std::mt19937 rng(3);
  const auto conv = makeConv(kConvCases[0], rng);
  const int in = 16 * 40 * 40;
  const lrp::Matrix x = randomMatrix(rng, in, 1, -1, 1);
  const lrp::Matrix z = conv->forward({&x});
  const lrp::Matrix r = randomMatrix(rng, static_cast<int>(z.rows()), 1, -1, 1);
  for (lrp::RuleKind kind : {lrp::RuleKind::Epsilon, lrp::RuleKind::ZPlus, lrp::RuleKind::AlphaBeta, lrp::RuleKind::Gamma,
                             lrp::RuleKind::Flat, lrp::RuleKind::ZBox}) {
    lrp::Rule rule;
    rule.kind = kind;
    rule.alpha = 2, rule.beta = 1;
    rule.low = {-1.0f};
    rule.high = {1.0f};
    lrp::setThreadCount(1);
    const lrp::Matrix r1 = lrp::linearRelevance(*conv, x, z, r, rule);
    for (int threads : kThreadCounts) {
      lrp::setThreadCount(threads);
      EXPECT_TRUE(bitIdentical(lrp::linearRelevance(*conv, x, conv->forward({&x}), r, rule), r1))
          << "rule " << static_cast<int>(kind) << ", " << threads << " threads";
    }
  }
}

TEST_F(Threads, ActivationsAreBitIdenticalForAnyThreadCount) {
  // 3 samples of 30,001 values: split into segments of 16-aligned lengths with a ragged tail, so Eigen's
  // vectorised exp/tanh meet packet and scalar-tail boundaries (which may round differently) where one thread does.
  std::mt19937 rng(11);
  const lrp::Matrix x = randomMatrix(rng, 30001, 3, -6, 6), g = randomMatrix(rng, 30001, 3, -1, 1);
  const std::pair<lrp::Activation, const char*> cases[] = {
      {lrp::Activation::ReLU, "relu"},       {lrp::Activation::Sigmoid, "sigmoid"},  {lrp::Activation::Tanh, "tanh"},
      {lrp::Activation::SiLU, "silu"},       {lrp::Activation::GeluErf, "gelu"},     {lrp::Activation::HardSwish, "hard-swish"},
      {lrp::Activation::LeakyReLU, "leaky"}, {lrp::Activation::Softplus, "softplus"}};
  for (const auto& [activation, name] : cases) {
    const lrp::ActivationLayer layer(activation, 0.1f);
    lrp::setThreadCount(1);
    const lrp::Matrix y1 = layer.forward({&x});
    const lrp::Matrix dx1 = layer.gradient({&x}, y1, g).at(0);
    for (int threads : kThreadCounts) {
      lrp::setThreadCount(threads);
      const lrp::Matrix y = layer.forward({&x});
      EXPECT_TRUE(bitIdentical(y, y1)) << name << ", " << threads << " threads";
      EXPECT_TRUE(bitIdentical(layer.gradient({&x}, y, g).at(0), dx1)) << name << ", " << threads << " threads";
    }
  }
}

}  // namespace
