// 2-D convolution (ONNX Conv / PyTorch Conv2d): strides, asymmetric zero padding, dilations and groups,
// and the output-size rule shared with the pooling layers (WindowGeometry).
//
// Both maps are one packed GEMM per (sample, group, chunk of output positions) — see kernels.hpp:
//   forward     out (HWo × Og, i.e. C,H,W order) = patchesᵀ (HWo × K) · W_gᵀ (K × Og),   K = C/g·kH·kW
//   transposed  dpatchesᵀ (HWo × K)              = s (HWo × Og) · W_g (Og × K), then scatter-add (col2im)
// The patches are packed straight from the input into the kernel's panel layout (im2col without a separate
// copy); padded cells are zeros there and receive nothing in the scatter, i.e. they are absent. Groups with
// fewer than 4 filters and few taps (depthwise convolutions) use direct loops instead.
// Measured on the 64→64, 3×3, 56×56 conv (0.23 GFLOP), single thread, V8/Node 20 on a Zen 3 EPYC: forward
// ≈ 10 ms (≈ 24 GFLOP/s), transposed ≈ 8 ms (≈ 30 GFLOP/s) in WebAssembly.
#include "lrp/layers.hpp"

#include "builders.hpp"
#include "kernels.hpp"
#include "parallel.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

namespace lrp {
namespace {

// Floor and ceiling of a / b for b > 0 and any sign of a.
int64_t floorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
int64_t ceilDiv(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

int outputSize(const char* axis, int input, int kernel, int stride, int padBegin, int padEnd, int dilation, bool ceilMode) {
  const std::string where = std::string(" along ") + axis;
  if (input < 1) throw Error("window input size" + where + " must be positive, got " + std::to_string(input));
  if (kernel < 1 || stride < 1 || dilation < 1)
    throw Error("window kernel, stride and dilation" + where + " must be positive, got kernel " + std::to_string(kernel) +
                ", stride " + std::to_string(stride) + ", dilation " + std::to_string(dilation));
  if (padBegin < 0 || padEnd < 0)
    throw Error("window pads" + where + " must not be negative, got " + std::to_string(padBegin) + " and " +
                std::to_string(padEnd));
  const int64_t padded = int64_t{input} + padBegin + padEnd;
  const int64_t extent = int64_t{dilation} * (kernel - 1) + 1;
  const int64_t span = padded - extent;
  if (span < 0)
    throw Error("window of size " + std::to_string(extent) + " (kernel " + std::to_string(kernel) + ", dilation " +
                std::to_string(dilation) + ") is larger than the padded input" + where + " (" + std::to_string(input) +
                " + pads " + std::to_string(padBegin) + "+" + std::to_string(padEnd) + " = " + std::to_string(padded) + ")");
  int64_t out = (ceilMode ? ceilDiv(span, stride) : span / stride) + 1;
  // PyTorch: the last window must start inside the input or the left padding.
  if (ceilMode && (out - 1) * stride >= int64_t{input} + padBegin) --out;
  if (out < 1 || out > (int64_t{1} << 28))
    throw Error("window output size" + where + " is " + std::to_string(out) + " (input " + std::to_string(input) + ")");
  return static_cast<int>(out);
}

// Groups with fewer filters than a GEMM block and at most this many taps use the direct loops (depthwise) at any
// output width (see useDirect).
constexpr int kDirectMaxTaps = 64;

// Everything the packing and scattering loops need, for one group.
struct ConvDims {
  int H, W, Ho, Wo;
  int channels;  // input channels per group
  int kH, kW, sH, sW, dH, dW, padTop, padLeft;
  int K;         // channels · kH · kW
};

// One tap k = (c, kh, kw) of the kernel: where it reads relative to an output position, and the range of output
// columns ow whose cell ow·strideW + dw lies inside the input (outside it: padding).
struct Tap {
  std::ptrdiff_t channelBase;  // c·H·W
  int dh, dw;                  // kh·dilationH − padTop, kw·dilationW − padLeft
  int owFirst, owLast;         // valid ow in [owFirst, owLast)
};

ConvDims dimsOf(const Shape& input, const WindowGeometry& g, int groups, int outHeight, int outWidth, int K) {
  return ConvDims{input[1],    input[2],    outHeight,   outWidth,    input[0] / groups, g.kernelH, g.kernelW,
                  g.strideH,   g.strideW,   g.dilationH, g.dilationW, g.padTop,          g.padLeft, K};
}

std::vector<Tap> tapsOf(const ConvDims& d) {
  std::vector<Tap> taps;
  taps.reserve(static_cast<size_t>(d.K));
  for (int c = 0; c < d.channels; ++c)
    for (int kh = 0; kh < d.kH; ++kh)
      for (int kw = 0; kw < d.kW; ++kw) {
        const int dh = kh * d.dH - d.padTop, dw = kw * d.dW - d.padLeft;
        const int owFirst = static_cast<int>(std::clamp<int64_t>(ceilDiv(-dw, d.sW), 0, d.Wo));
        const int owLast = static_cast<int>(std::clamp<int64_t>(floorDiv(d.W - 1 - dw, d.sW) + 1, owFirst, d.Wo));
        taps.push_back(Tap{static_cast<std::ptrdiff_t>(c) * d.H * d.W, dh, dw, owFirst, owLast});
      }
  return taps;
}

// A run of consecutive output positions within one output row: lanes [lane, lane + owEnd − owBegin).
struct Run {
  int oh, owBegin, owEnd, lane;
};

// The runs of positions [p0, p1) (lane = position − p0); `runs` has room for every row they touch.
int runsOf(const ConvDims& d, int p0, int p1, Run* runs) {
  int count = 0;
  for (int p = p0; p < p1;) {
    const int oh = p / d.Wo, owBegin = p - oh * d.Wo, owEnd = std::min(d.Wo, owBegin + (p1 - p));
    runs[count++] = Run{oh, owBegin, owEnd, p - p0};
    p += owEnd - owBegin;
  }
  return count;
}

// Visits the cells of tap `t` for the positions of `run`: inside(firstLane, lo, hi, base) for the columns
// ow in [lo, hi) whose cells lie in the input (at base + ow·strideW, lanes consecutive from firstLane), and
// outside(lane) for each position whose cell is padding.
template <typename Inside, typename Outside>
inline void forRun(const ConvDims& d, const Tap& t, const Run& r, Inside&& inside, Outside&& outside) {
  const int ih = r.oh * d.sH + t.dh;
  if (ih < 0 || ih >= d.H) {
    for (int lane = r.lane; lane < r.lane + (r.owEnd - r.owBegin); ++lane) outside(lane);
    return;
  }
  const int lo = std::clamp(t.owFirst, r.owBegin, r.owEnd), hi = std::clamp(t.owLast, lo, r.owEnd);
  int lane = r.lane;
  for (int ow = r.owBegin; ow < lo; ++ow) outside(lane++);
  inside(lane, lo, hi, t.channelBase + static_cast<std::ptrdiff_t>(ih) * d.W + t.dw);
  lane += hi - lo;
  for (int ow = hi; ow < r.owEnd; ++ow) outside(lane++);
}

// The patches of output positions [p0, p1) as A-panels (rows = positions, columns = taps): im2col, one panel
// of 8 positions at a time, so the panel is written sequentially and, at stride 1, read in contiguous runs.
void packPatches(const ConvDims& d, const std::vector<Tap>& taps, const float* x, int p0, int p1, float* panels) {
  const int sW = d.sW;
  Run runs[kPanelRows];
  for (int q0 = p0; q0 < p1; q0 += kPanelRows) {
    const int q1 = std::min(p1, q0 + kPanelRows);
    const int runCount = runsOf(d, q0, q1, runs);
    float* panel = panels + static_cast<std::ptrdiff_t>((q0 - p0) / kPanelRows) * kPanelRows * d.K;
    for (int k = 0; k < d.K; ++k, panel += kPanelRows) {
      const Tap& t = taps[static_cast<size_t>(k)];
      float* out = panel;
      for (int r = 0; r < runCount; ++r)
        forRun(
            d, t, runs[r],
            [&](int lane, int lo, int hi, std::ptrdiff_t base) {
              if (lo == hi) return;
              const float* src = x + base + static_cast<std::ptrdiff_t>(lo) * sW;  // the first valid cell
              const int n = hi - lo;
              if (sW == 1)
                for (int i = 0; i < n; ++i) out[lane + i] = src[i];
              else
                for (int i = 0; i < n; ++i) out[lane + i] = src[static_cast<std::ptrdiff_t>(i) * sW];
            },
            [&](int lane) { out[lane] = 0.0f; });
      for (int lane = q1 - q0; lane < kPanelRows; ++lane) out[lane] = 0.0f;  // rows past the end
    }
  }
}

// col2im: dx[cell of (position, tap)] += columns(position − p0, tap), columns column-major with leading dim ld.
// Tap-major, so the columns are read sequentially and dx is written in contiguous runs (stride 1).
// Only taps [kBegin, kEnd), whose columns start with tap `firstColumn`: the taps of a range of input channels
// write a range of dx that no other tap writes, so threads can scatter disjoint channel ranges, each in the
// same order as one thread would.
void scatterPatches(const ConvDims& d, const std::vector<Tap>& taps, const float* columns, std::ptrdiff_t ld, int p0,
                    int p1, float* dx, int kBegin, int kEnd, int firstColumn) {
  const int sW = d.sW;
  std::vector<Run> runs(static_cast<size_t>(p1 - p0) / static_cast<size_t>(d.Wo) + 2);
  const int runCount = runsOf(d, p0, p1, runs.data());
  for (int k = kBegin; k < kEnd; ++k) {
    const float* column = columns + (k - firstColumn) * ld;
    for (int r = 0; r < runCount; ++r)
      forRun(
          d, taps[static_cast<size_t>(k)], runs[static_cast<size_t>(r)],
          [&](int lane, int lo, int hi, std::ptrdiff_t base) {
            if (lo == hi) return;
            const float* src = column + lane;
            float* dst = dx + base + static_cast<std::ptrdiff_t>(lo) * sW;  // the first valid cell
            const int n = hi - lo;
            if (sW == 1)
              for (int i = 0; i < n; ++i) dst[i] += src[i];
            else
              for (int i = 0; i < n; ++i) dst[static_cast<std::ptrdiff_t>(i) * sW] += src[i];
          },
          [](int) {});
  }
}

// Direct convolution without im2col or GEMM, for groups with few filters (depthwise convolutions, and 1- to
// 3-filter convolutions with big kernels), where the packed product would waste most of its 4-filter blocks
// and the packing (K floats per position) costs as much as the products: per filter and output row, one axpy
// per tap along the row (out row += w_k · input row, vectorised along the row), so the output row stays in L1
// and the kH input rows it reads in L2 however big the kernel. Multiply-adds per sample: O·Ho·Wo·(C/g)·kH·kW
// (clipped by the padding). `w` is W column-major with leading dimension ldw, the group's filters starting at
// w, read through `load` (a rule's parameter modifier); `rows` are the runs of all output rows.
// The weights of filter o with `load` applied, one per tap.
template <typename Load>
void loadFilter(const float* w, std::ptrdiff_t ldw, Load&& load, int o, int K, std::vector<float>& out) {
  out.resize(static_cast<size_t>(K));
  for (int k = 0; k < K; ++k) out[static_cast<size_t>(k)] = load(w[k * ldw + o]);
}

// Output rows [rowBegin, rowEnd) of every filter: each output sums its taps in order k = 0..K−1, whichever rows
// a task takes.
template <typename Load>
void directForward(const ConvDims& d, const std::vector<Tap>& taps, const std::vector<Run>& rows, const float* x,
                   const float* w, std::ptrdiff_t ldw, Load&& load, int filters, int positions, float* z, int rowBegin,
                   int rowEnd) {
  const int sW = d.sW;
  std::vector<float> weights;
  for (int o = 0; o < filters; ++o) {
    loadFilter(w, ldw, load, o, d.K, weights);
    float* out = z + static_cast<std::ptrdiff_t>(o) * positions;
    for (int oh = rowBegin; oh < rowEnd; ++oh) {
      const Run& r = rows[static_cast<size_t>(oh)];
      std::fill(out + r.lane, out + r.lane + (r.owEnd - r.owBegin), 0.0f);
      for (int k = 0; k < d.K; ++k) {
        const float weight = weights[static_cast<size_t>(k)];
        forRun(
            d, taps[static_cast<size_t>(k)], r,
            [&](int lane, int lo, int hi, std::ptrdiff_t base) {
              const float* src = x + base + static_cast<std::ptrdiff_t>(lo) * sW;
              float* dst = out + lane;
              const int n = hi - lo;
              if (sW == 1)
                for (int i = 0; i < n; ++i) dst[i] += weight * src[i];
              else
                for (int i = 0; i < n; ++i) dst[i] += weight * src[static_cast<std::ptrdiff_t>(i) * sW];
            },
            [](int) {});
      }
    }
  }
}

// The transposed map for input channels [channelBegin, channelEnd) of the group (their taps write only their own
// channels of dx): per filter, output row and tap, dx row += w_k · gradient row. Each dx cell receives its terms
// in the order (filter, output row, tap) whichever channels a task takes.
template <typename Load>
void directTranspose(const ConvDims& d, const std::vector<Tap>& taps, const std::vector<Run>& rows, const float* s,
                     const float* w, std::ptrdiff_t ldw, Load&& load, int filters, int positions, float* dx,
                     int channelBegin, int channelEnd) {
  const int sW = d.sW;
  const int tapsPerChannel = d.kH * d.kW, kBegin = channelBegin * tapsPerChannel, kEnd = channelEnd * tapsPerChannel;
  std::vector<float> weights;
  for (int o = 0; o < filters; ++o) {
    loadFilter(w, ldw, load, o, d.K, weights);
    const float* grad = s + static_cast<std::ptrdiff_t>(o) * positions;
    for (const Run& r : rows)
      for (int k = kBegin; k < kEnd; ++k) {
        const float weight = weights[static_cast<size_t>(k)];
        forRun(
            d, taps[static_cast<size_t>(k)], r,
            [&](int lane, int lo, int hi, std::ptrdiff_t base) {
              const float* src = grad + lane;
              float* dst = dx + base + static_cast<std::ptrdiff_t>(lo) * sW;
              const int n = hi - lo;
              if (sW == 1)
                for (int i = 0; i < n; ++i) dst[i] += weight * src[i];
              else
                for (int i = 0; i < n; ++i) dst[static_cast<std::ptrdiff_t>(i) * sW] += weight * src[i];
            },
            [](int) {});
      }
  }
}

// Groups with fewer filters than a GEMM block use the direct loops when the kernel is small (depthwise) or the
// output rows are long enough for the per-(row, tap) overhead of the axpys not to matter; a few filters with a
// big kernel on a tiny output (e.g. a 1-filter head over 7×7 with 512 channels) stay with the GEMM.
constexpr int kDirectMinRow = 16;
bool useDirect(int filtersPerGroup, int K, int outWidth) {
  return filtersPerGroup < kPanelCols && (K <= kDirectMaxTaps || outWidth >= kDirectMinRow);
}

std::vector<Run> outputRows(const ConvDims& d) {
  std::vector<Run> rows(static_cast<size_t>(d.Ho));
  runsOf(d, 0, d.Ho * d.Wo, rows.data());
  return rows;
}

// Output positions per GEMM call: the packed patches of one chunk stay near 256 KB (in L2).
int chunkPositions(int positions, int K) {
  const int byBudget = std::max(kPanelRows, (65536 / std::max(K, 1)) / kPanelRows * kPanelRows);
  return std::min(positions, byBudget);
}

// Work below this many multiply-adds per thread is not split: a handoff to the pool costs microseconds.
constexpr int64_t kMinParallelWork = 1 << 17;

// The grain of a parallelFor over tasks of `workPerTask` multiply-adds each.
int64_t grainFor(int64_t workPerTask) { return std::max<int64_t>(1, kMinParallelWork / std::max<int64_t>(workPerTask, 1)); }

}  // namespace

int WindowGeometry::outputHeight(int inputHeight) const {
  return outputSize("height", inputHeight, kernelH, strideH, padTop, padBottom, dilationH, ceilMode);
}

int WindowGeometry::outputWidth(int inputWidth) const {
  return outputSize("width", inputWidth, kernelW, strideW, padLeft, padRight, dilationW, ceilMode);
}

Shape asImage(const Shape& shape) { return shape.size() == 2 ? Shape{shape[0], 1, shape[1]} : shape; }

Shape asGiven(const Shape& image, bool oneDimensional) {
  return oneDimensional ? Shape{image[0], image[2]} : image;
}

namespace {

// The transposed map's B panels (W_g, perGroup × K, in panels of 4 taps: (o, k) at t[(k/4)·perGroup·4 + o·4 + k%4])
// from the forward map's (W_gᵀ, K × perGroup, in panels of 4 filters: (k, o) at f[(o/4)·K·4 + k·4 + o%4]), with
// `load` applied. Both layouts hold 4×4 blocks as 16 contiguous floats, so this is a 4×4 block transpose: the
// writes are sequential, and the reads take 64 bytes from each forward panel, whose next 64 bytes the next
// block row uses (a few KB in L1). Taps ≥ K are zero; filters ≥ perGroup do not exist in this layout.
// Used at construction (identity) to build the transposed layout without reading W's strided columns.
template <typename Load>
void transposePanels(const float* f, int perGroup, int K, Load load, float* t) {
  const int filterPanels = panelCount(perGroup, kPanelCols), tapPanels = panelCount(K, kPanelCols);
  for (int q = 0; q < tapPanels; ++q) {
    const int taps = std::min(kPanelCols, K - q * kPanelCols);
    for (int p = 0; p < filterPanels; ++p) {
      const float* src = f + (static_cast<std::ptrdiff_t>(p) * K + q * kPanelCols) * kPanelCols;
      float* dst = t + (static_cast<std::ptrdiff_t>(q) * perGroup + p * kPanelCols) * kPanelCols;
      const int filters = std::min(kPanelCols, perGroup - p * kPanelCols);
      for (int o = 0; o < filters; ++o) {
        int k = 0;
        for (; k < taps; ++k) dst[o * kPanelCols + k] = load(src[k * kPanelCols + o]);
        for (; k < kPanelCols; ++k) dst[o * kPanelCols + k] = 0.0f;
      }
    }
  }
}

}  // namespace

namespace {

std::vector<float> rowMajorValues(const Matrix& w) {
  std::vector<float> values(static_cast<size_t>(w.size()));
  using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Eigen::Map<RowMajor>(values.data(), w.rows(), w.cols()) = w;
  return values;
}

}  // namespace

Conv2DLayer::Conv2DLayer(Matrix weight, Vector bias, Shape inputShape, WindowGeometry geometry, int groups)
    : Conv2DLayer(rowMajorValues(weight), weight.rows(), std::move(bias), std::move(inputShape), geometry, groups) {}

Conv2DLayer::Conv2DLayer(const std::vector<float>& rowMajorWeight, int64_t outChannels, Vector bias, Shape inputShape,
                         WindowGeometry geometry, int groups)
    : LinearLayer(Matrix(), std::move(bias)),
      inputShape_(asImage(inputShape)),
      oneDimensional_(inputShape.size() == 2),
      geometry_(geometry),
      groups_(groups),
      outHeight_(0),
      outWidth_(0) {
  if (inputShape_.size() != 3)
    throw Error("conv expects a C×L or C×H×W input, got shape " + shapeToString(inputShape_));
  shapeSize(inputShape_);  // positive and not absurdly large
  if (geometry_.ceilMode) throw Error("conv has no ceil mode");
  outHeight_ = geometry_.outputHeight(inputShape_[1]);
  outWidth_ = geometry_.outputWidth(inputShape_[2]);
  const int channels = inputShape_[0];
  if (groups_ < 1) throw Error("conv groups must be positive, got " + std::to_string(groups_));
  if (channels % groups_ != 0)
    throw Error("conv input channels (" + std::to_string(channels) + ") are not divisible by groups (" +
                std::to_string(groups_) + ")");
  if (outChannels < 1 || outChannels % groups_ != 0)
    throw Error("conv output channels (" + std::to_string(outChannels) + ") must be a positive multiple of groups (" +
                std::to_string(groups_) + ")");
  const int64_t taps = int64_t{channels / groups_} * geometry_.kernelH * geometry_.kernelW;
  if (static_cast<int64_t>(rowMajorWeight.size()) != outChannels * taps)
    throw Error("conv weight has " + std::to_string(rowMajorWeight.size() / static_cast<size_t>(outChannels)) +
                " columns, expected " + std::to_string(taps) + " (input channels/groups " +
                std::to_string(channels / groups_) + " × kernel " + std::to_string(geometry_.kernelH) + "×" +
                std::to_string(geometry_.kernelW) + ")");
  if (bias_.size() != 0 && bias_.size() != outChannels)
    throw Error("conv bias has " + std::to_string(bias_.size()) + " values, expected " + std::to_string(outChannels));
  const bool finite = std::all_of(rowMajorWeight.begin(), rowMajorWeight.end(), [](float v) { return std::isfinite(v); });
  if (!finite || !bias_.allFinite()) throw Error("conv layer parameters must be finite (found NaN or Infinity)");
  shapeSize({static_cast<int>(outChannels), outHeight_, outWidth_});
  outChannels_ = static_cast<int>(outChannels);
  taps_ = static_cast<int>(taps);
  const int perGroup = outChannels_ / groups_;
  if (useDirect(perGroup, taps_, outWidth_)) {  // the direct loops read W (O × K, column-major) itself
    weight_ = rowMajorMatrix(rowMajorWeight, outChannels, taps, "conv weight");
    return;
  }
  // A GEMM conv reads W only through its panels: packed here straight from the row-major values, they are the
  // stored weight (weight() unpacks them). B = W_gᵀ (K × perGroup): (k, o) at row (g·perGroup + o), column k.
  const std::ptrdiff_t forwardSize = std::ptrdiff_t{panelCount(perGroup, kPanelCols)} * kPanelCols * taps_;
  packedForward_.resize(static_cast<size_t>(forwardSize * groups_));
  const std::ptrdiff_t transposeSize = std::ptrdiff_t{panelCount(taps_, kPanelCols)} * kPanelCols * perGroup;
  packedTranspose_.resize(static_cast<size_t>(transposeSize * groups_));
  for (int g = 0; g < groups_; ++g) {
    packColumnPanels(rowMajorWeight.data() + static_cast<std::ptrdiff_t>(g) * perGroup * taps_, taps_, perGroup, 1,
                     taps_, [](float v) { return v; }, packedForward_.data() + g * forwardSize);
    transposePanels(packedForward_.data() + g * forwardSize, perGroup, taps_, [](float v) { return v; },
                    packedTranspose_.data() + g * transposeSize);
  }
}

Matrix Conv2DLayer::weight() const {
  if (packedForward_.empty()) return weight_;
  const int perGroup = outChannels_ / groups_;
  const std::ptrdiff_t forwardSize = std::ptrdiff_t{panelCount(perGroup, kPanelCols)} * kPanelCols * taps_;
  Matrix w(outChannels_, taps_);
  for (int o = 0; o < outChannels_; ++o) {
    const int g = o / perGroup, local = o % perGroup;
    const float* panel = packedForward_.data() + g * forwardSize +
                         static_cast<std::ptrdiff_t>(local / kPanelCols) * kPanelCols * taps_ + local % kPanelCols;
    for (int k = 0; k < taps_; ++k) w(o, k) = panel[static_cast<std::ptrdiff_t>(k) * kPanelCols];
  }
  return w;
}

// A modified branch copies one packed layout for the call (packedWeight); the GEMM path also packs a chunk of
// patches and of the transposed map's columns (chunkPositions: about 64K floats each, but at least one panel of
// kPanelRows positions × K taps: a huge kernel costs 8·K floats per buffer, never the whole image × taps).
int64_t Conv2DLayer::workspaceBytes() const {
  // A modified copy of one panel layout for the call, and per thread the chunk buffers of the GEMM (the forward
  // map's patches, kept per thread between calls; the transposed map's gradients and columns).
  const int64_t panels = std::max(bytesOf(packedForward_), bytesOf(packedTranspose_));
  const int64_t widest = std::max<int64_t>({4096, taps_, outChannels_ / groups_});
  return panels > 0 ? panels + int64_t{threadCount()} * 3 * (65536 + kPanelRows * widest) * 4 : 0;
}

Shape Conv2DLayer::outputShape(const std::vector<Shape>& inputShapes) const {
  if (inputShapes.size() != 1) throw Error("conv layer takes one input");
  if (inputShapes[0] != asGiven(inputShape_, oneDimensional_))
    throw Error("conv layer expects input shape " + shapeToString(asGiven(inputShape_, oneDimensional_)) + ", got " +
                shapeToString(inputShapes[0]));
  return asGiven({outChannels_, outHeight_, outWidth_}, oneDimensional_);
}

namespace {
// out[i] = load(in[i]), split over threads (a modified copy of a layer's panels: millions of values).
template <typename Load>
void transformSplit(const std::vector<float>& in, std::vector<float>& out, Load load) {
  parallelFor(0, static_cast<int64_t>(in.size()), int64_t{1} << 16, [&](int64_t lo, int64_t hi) {
    std::transform(in.begin() + lo, in.begin() + hi, out.begin() + lo, load);
  }, 16);
}
}  // namespace

const std::vector<float>& Conv2DLayer::packedWeight(const Modifier& mod, bool forward,
                                                   std::vector<float>& scratch) const {
  if (forward) {
    if (mod.mod == ParamMod::Identity) return packedForward_;
    // The panels' padding (columns past the last filter) may become non-zero here (the flat rule's ones): the
    // GEMM computes those columns of C but never stores them, so they cannot reach a result.
    scratch.resize(packedForward_.size());
    withModifier(mod, [&](auto load) { transformSplit(packedForward_, scratch, load); });
    return scratch;
  }
  // The transposed layout is kept too: deriving it per call from the forward panels (a 4×4 block transpose)
  // made explains 10–20 % slower (resnet50 epsilon-alpha2-beta1 1480 against 1239 ms), see docs/performance.md.
  if (mod.mod == ParamMod::Identity) return packedTranspose_;
  scratch.resize(packedTranspose_.size());
  withModifier(mod, [&](auto load) { transformSplit(packedTranspose_, scratch, load); });
  return scratch;
}

Matrix Conv2DLayer::mapForward(const Matrix& x, const Modifier& mod, const Vector* b) const {
  const int channels = inputShape_[0], H = inputShape_[1], W = inputShape_[2];
  const int outChannels = outChannels_, perGroup = outChannels / groups_;
  const std::ptrdiff_t inSize = static_cast<std::ptrdiff_t>(channels) * H * W;
  const int positions = outHeight_ * outWidth_;
  if (x.rows() != inSize)
    throw Error("conv layer got " + std::to_string(x.rows()) + " input values, expected " + std::to_string(inSize));
  if (b != nullptr && b->size() != 0 && b->size() != outChannels) throw Error("conv bias of the wrong size");
  const bool direct = useDirect(perGroup, taps_, outWidth_);
  const ConvDims d = dimsOf(inputShape_, geometry_, groups_, outHeight_, outWidth_, taps_);
  const std::vector<Tap> taps = tapsOf(d);
  const bool hasBias = b != nullptr && b->size() != 0;
  Matrix z(static_cast<Eigen::Index>(outChannels) * positions, x.cols());
  // z[o, ·] += b[o] for filters [o0, o1) of group g, positions [p0, p1) of one sample's output.
  auto addBias = [&](float* output, int g, int o0, int o1, int p0, int p1) {
    if (!hasBias) return;
    for (int o = o0; o < o1; ++o)
      Eigen::Map<Eigen::ArrayXf>(output + static_cast<std::ptrdiff_t>(o) * positions + p0, p1 - p0) +=
          (*b)(g * perGroup + o);
  };

  if (direct) {  // tasks (sample, group, block of output rows): each writes its own part of z
    const std::vector<Run> rows = outputRows(d);
    // Blocks of rows only when there are fewer (sample, group) pairs than threads want pieces (one big kernel).
    const int64_t pairs = static_cast<int64_t>(x.cols()) * groups_;
    const int blocks = static_cast<int>(std::clamp<int64_t>(kPiecesPerThread * threadCount() / pairs, 1, d.Ho));
    const int rowsPerBlock = panelCount(d.Ho, blocks), blockCount = panelCount(d.Ho, rowsPerBlock);
    const int64_t workPerTask = static_cast<int64_t>(rowsPerBlock) * d.Wo * d.K * perGroup;
    parallelFor(0, pairs * blockCount, grainFor(workPerTask), [&](int64_t first, int64_t last) {
      for (int64_t task = first; task < last; ++task) {
        const int64_t pair = task / blockCount;
        const Eigen::Index sample = static_cast<Eigen::Index>(pair / groups_);
        const int g = static_cast<int>(pair % groups_);
        const int rowBegin = static_cast<int>(task % blockCount) * rowsPerBlock, rowEnd = std::min(d.Ho, rowBegin + rowsPerBlock);
        const float* input = x.col(sample).data() + static_cast<std::ptrdiff_t>(g) * d.channels * H * W;
        float* output = z.col(sample).data() + static_cast<std::ptrdiff_t>(g) * perGroup * positions;
        withModifier(mod, [&](auto load) {
          directForward(d, taps, rows, input, weight_.data() + static_cast<std::ptrdiff_t>(g) * perGroup, outChannels,
                        load, perGroup, positions, output, rowBegin, rowEnd);
        });
        addBias(output, g, 0, perGroup, rowBegin * d.Wo, rowEnd * d.Wo);
      }
    });
    return z;
  }

  std::vector<float> scratch;
  const std::vector<float>& filters = packedWeight(mod, true, scratch);
  const std::ptrdiff_t groupFilters = static_cast<std::ptrdiff_t>(panelCount(perGroup, kPanelCols)) * kPanelCols * d.K;
  const int chunk = chunkPositions(positions, d.K);
  const int chunks = panelCount(positions, chunk);
  const size_t patchesSize = static_cast<size_t>(panelCount(chunk, kPanelRows)) * kPanelRows * d.K;
  // With threads and few chunks (the late layers of a CNN: 49 positions, 512 filters), the filters are cut into
  // blocks of B panels too, so that every thread gets several tasks. A block computes its columns of C exactly
  // as the whole product does (same k blocking, same micro-kernel, full panels stay full), so the split does
  // not change any value.
  const int filterPanels = panelCount(perGroup, kPanelCols);
  int panelsPerBlock = filterPanels;
  if (threadCount() > 1) {
    const int64_t have = static_cast<int64_t>(x.cols()) * groups_ * chunks, want = kPiecesPerThread * threadCount();
    if (have < want) panelsPerBlock = panelCount(filterPanels, static_cast<int>(std::min<int64_t>(filterPanels, (want + have - 1) / have)));
  }
  const int blocks = panelCount(filterPanels, panelsPerBlock);

  // Tasks (sample, group, chunk of positions, block of filters); each writes its own part of z (bias included),
  // with the same arithmetic whichever thread runs it.
  const int64_t tasksPerGroup = static_cast<int64_t>(chunks) * blocks;
  const int64_t tasks = static_cast<int64_t>(x.cols()) * groups_ * tasksPerGroup;
  const int64_t workPerTask = static_cast<int64_t>(chunk) * d.K * panelsPerBlock * kPanelCols;
  parallelFor(0, tasks, grainFor(workPerTask), [&](int64_t first, int64_t last) {
    // The patches of a chunk, packed once for the consecutive tasks (blocks) that use them; one buffer per thread.
    thread_local std::vector<float> patches;
    if (patches.size() < patchesSize) patches.resize(patchesSize);
    int64_t packed = -1;
    for (int64_t task = first; task < last; ++task) {
      const Eigen::Index sample = static_cast<Eigen::Index>(task / (groups_ * tasksPerGroup));
      const int g = static_cast<int>(task / tasksPerGroup % groups_);
      const int inGroup = static_cast<int>(task % tasksPerGroup);
      const int p0 = inGroup / blocks * chunk, p1 = std::min(positions, p0 + chunk);
      const int panelBegin = inGroup % blocks * panelsPerBlock;
      const int o0 = panelBegin * kPanelCols, o1 = std::min(perGroup, (panelBegin + panelsPerBlock) * kPanelCols);
      const float* input = x.col(sample).data() + static_cast<std::ptrdiff_t>(g) * d.channels * H * W;
      float* output = z.col(sample).data() + static_cast<std::ptrdiff_t>(g) * perGroup * positions;
      const int64_t chunkTask = task / blocks;  // (sample, group, chunk)
      if (chunkTask != packed) packPatches(d, taps, input, p0, p1, patches.data());
      packed = chunkTask;
      packedProduct(p1 - p0, o1 - o0, d.K, patches.data(), filters.data() + g * groupFilters + static_cast<std::ptrdiff_t>(o0) * d.K,
                    output + static_cast<std::ptrdiff_t>(o0) * positions + p0, positions);
      addBias(output, g, o0, o1, p0, p1);
    }
  });
  return z;
}

Matrix Conv2DLayer::mapTranspose(const Matrix& s, const Modifier& mod) const {
  const int channels = inputShape_[0], H = inputShape_[1], W = inputShape_[2];
  const int outChannels = outChannels_, perGroup = outChannels / groups_;
  const int positions = outHeight_ * outWidth_;
  if (s.rows() != static_cast<Eigen::Index>(outChannels) * positions)
    throw Error("conv layer got " + std::to_string(s.rows()) + " output values, expected " +
                std::to_string(static_cast<int64_t>(outChannels) * positions));
  const bool direct = useDirect(perGroup, taps_, outWidth_);
  std::vector<float> scratch;
  const std::vector<float>& filters = direct ? scratch : packedWeight(mod, false, scratch);

  const ConvDims d = dimsOf(inputShape_, geometry_, groups_, outHeight_, outWidth_, taps_);
  const std::ptrdiff_t groupFilters = static_cast<std::ptrdiff_t>(panelCount(d.K, kPanelCols)) * kPanelCols * perGroup;
  const std::vector<Tap> taps = tapsOf(d);
  const std::vector<Run> rows = direct ? outputRows(d) : std::vector<Run>();
  const int chunk = chunkPositions(positions, std::max(d.K, perGroup));
  const int tapsPerChannel = d.kH * d.kW;

  Matrix dx = Matrix::Zero(static_cast<Eigen::Index>(channels) * H * W, s.cols());
  if (direct) {  // tasks (sample, group, input channel of the group): each writes its own part of dx
    const int64_t tasks = static_cast<int64_t>(s.cols()) * groups_ * d.channels;
    parallelFor(0, tasks, grainFor(static_cast<int64_t>(positions) * tapsPerChannel * perGroup), [&](int64_t first, int64_t last) {
      for (int64_t task = first; task < last; ++task) {
        const int64_t pair = task / d.channels;
        const Eigen::Index sample = static_cast<Eigen::Index>(pair / groups_);
        const int g = static_cast<int>(pair % groups_), channel = static_cast<int>(task % d.channels);
        const float* gradient = s.col(sample).data() + static_cast<std::ptrdiff_t>(g) * perGroup * positions;
        float* input = dx.col(sample).data() + static_cast<std::ptrdiff_t>(g) * d.channels * H * W;
        withModifier(mod, [&](auto load) {
          directTranspose(d, taps, rows, gradient, weight_.data() + static_cast<std::ptrdiff_t>(g) * perGroup,
                          outChannels, load, perGroup, positions, input, channel, channel + 1);
        });
      }
    });
    return dx;
  }

  // The chunks' scatters overlap in dx (neighbouring windows share cells), so they must add in chunk order; the
  // taps of different input channels never meet. Threads take ranges of input channels (of every group and
  // sample): for each chunk in order, each computes the GEMM's columns of its own taps (from the 4-tap panel
  // that holds its first tap to the one that holds its last: a panel shared with a neighbouring range is
  // computed by both, identically) and scatters them. One hand-off per call, and every cell of dx receives its
  // terms in the same order as with one thread.
  const int64_t workPerChannel = static_cast<int64_t>(s.cols()) * groups_ * positions * tapsPerChannel * perGroup;
  const int64_t grain = std::max<int64_t>({int64_t{1}, kMinParallelWork / std::max<int64_t>(workPerChannel, 1),
                                           (d.channels + 2 * threadCount() - 1) / (2 * threadCount())});
  parallelFor(0, d.channels, grain, [&](int64_t channelBegin, int64_t channelEnd) {
    const int kBegin = static_cast<int>(channelBegin) * tapsPerChannel, kEnd = static_cast<int>(channelEnd) * tapsPerChannel;
    const int panelBegin = kBegin / kPanelCols, panelEnd = panelCount(kEnd, kPanelCols);
    const int firstColumn = panelBegin * kPanelCols, columnCount = std::min(d.K, panelEnd * kPanelCols) - firstColumn;
    std::vector<float> grads(static_cast<size_t>(panelCount(chunk, kPanelRows)) * kPanelRows * perGroup);
    std::vector<float> columns(static_cast<size_t>(chunk) * columnCount);
    for (Eigen::Index sample = 0; sample < s.cols(); ++sample) {
      for (int g = 0; g < groups_; ++g) {
        const float* gradient = s.col(sample).data() + static_cast<std::ptrdiff_t>(g) * perGroup * positions;
        float* input = dx.col(sample).data() + static_cast<std::ptrdiff_t>(g) * d.channels * H * W;
        const float* panels = filters.data() + g * groupFilters + static_cast<std::ptrdiff_t>(firstColumn) * perGroup;
        for (int p0 = 0; p0 < positions; p0 += chunk) {
          const int p1 = std::min(positions, p0 + chunk), count = p1 - p0;
          packRowPanels(gradient + p0, count, perGroup, 1, positions, grads.data());
          packedProduct(count, columnCount, perGroup, grads.data(), panels, columns.data(), count);
          scatterPatches(d, taps, columns.data(), count, p0, p1, input, kBegin, kEnd, firstColumn);
        }
      }
    }
  });
  return dx;
}

// spec: weight [O, C/group, k…] (ONNX order), bias [O] or null, the window (windowGeometry), group.
std::unique_ptr<Layer> buildConv(LayerSpec& spec, const std::vector<Shape>& inputShapes) {
  const Shape& input = singleInput("conv", inputShapes);
  const WindowGeometry geometry = windowGeometry(spec, input);
  const int group = spec.has("group") ? spec.integer("group") : 1;
  if (group <= 0 || input[0] % group != 0)
    throw Error("conv needs input channels (" + std::to_string(input[0]) + ") divisible into " + std::to_string(group) +
                " groups (input shape " + shapeToString(input) + ")");
  const int64_t perFilter = int64_t{input[0] / group} * geometry.kernelH * geometry.kernelW;
  const std::vector<float> weight = spec.takeFloats("weight");
  if (weight.empty() || weight.size() % static_cast<size_t>(perFilter) != 0)
    throw Error("conv weight has " + std::to_string(weight.size()) + " values, not a multiple of " + std::to_string(perFilter) +
                " (input channels/group × kernel)");
  return std::make_unique<Conv2DLayer>(weight, static_cast<int64_t>(weight.size()) / perFilter,
                                       toVector(spec.floats("bias")), input, geometry, group);
}

// Every output value (Cout·Ho·Wo) sums its taps, (Cin/groups)·kH·kW multiply-adds, whichever kernel runs it.
int64_t Conv2DLayer::operations(const std::vector<Shape>&, const Shape& outputShape) const {
  return saturatingMultiply(Layer::operations({}, outputShape), taps_);
}

}  // namespace lrp
