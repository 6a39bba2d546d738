// Pooling layers: max pooling (−∞ padding, PyTorch's first-maximum tie-break), average pooling (zero padding,
// count_include_pad, ceil_mode with PyTorch's divisor rule) and global average pooling. Max and average windows
// are separable (a pass along the width, then one along the height): C·(H·Wo·kW + Ho·Wo·kH) comparisons or
// additions per sample, however big the window's area. The gradients are
// exact: LRP routes relevance through max-pooling by its gradient and applies the norm rule
// R_in = x ⊙ gradient(R / stab(z)) to the average poolings.
#include "builders.hpp"
#include "parallel.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace lrp {
namespace {

struct PoolDims {
  int channels, H, W, Ho, Wo;
};

PoolDims checkedDims(const char* layer, const Shape& inputShape, const WindowGeometry& g, int& outHeight, int& outWidth) {
  if (inputShape.size() != 3)
    throw Error(std::string(layer) + " expects a C×H×W input, got shape " + shapeToString(inputShape));
  shapeSize(inputShape);
  outHeight = g.outputHeight(inputShape[1]);
  outWidth = g.outputWidth(inputShape[2]);
  shapeSize({inputShape[0], outHeight, outWidth});
  return {inputShape[0], inputShape[1], inputShape[2], outHeight, outWidth};
}

// The cells of one window along one axis: start + t·dilation for t in [0, kernel).
struct AxisWindow {
  int start;     // first cell (may be negative: padding)
  int first;     // first t whose cell lies in the input
  int last;      // one past the last such t (first == last: the window misses the input)
  int withPads;  // cells inside input + pads (count_include_pad's divisor; ceil-mode overhang excluded)
};

// The t in [0, kernel) whose cell start + t·dilation lies in [lo, hi): a range, since cells grow with t. Computed,
// not counted: a window of 2^19 cells at each of 2^19 outputs must not cost 2^38 steps at load.
std::pair<int, int> cellRange(int64_t start, int64_t lo, int64_t hi, int dilation, int kernel) {
  auto ceilDiv = [](int64_t n, int64_t d) { return n >= 0 ? (n + d - 1) / d : -((-n) / d); };
  const int64_t a = std::clamp<int64_t>(ceilDiv(lo - start, dilation), 0, kernel);
  const int64_t b = std::clamp<int64_t>(ceilDiv(hi - start, dilation), a, kernel);
  return {static_cast<int>(a), static_cast<int>(b)};
}

AxisWindow axisWindow(int o, int input, int kernel, int stride, int padBegin, int padEnd, int dilation) {
  const int64_t start = int64_t{o} * stride - padBegin;
  const auto [first, last] = cellRange(start, 0, input, dilation, kernel);
  const auto [padFirst, padLast] = cellRange(start, -int64_t{padBegin}, int64_t{input} + padEnd, dilation, kernel);
  return AxisWindow{static_cast<int>(start), first, last, padLast - padFirst};
}

std::vector<AxisWindow> rowWindows(const PoolDims& d, const WindowGeometry& g) {
  std::vector<AxisWindow> out;
  for (int o = 0; o < d.Ho; ++o) out.push_back(axisWindow(o, d.H, g.kernelH, g.strideH, g.padTop, g.padBottom, g.dilationH));
  return out;
}

std::vector<AxisWindow> columnWindows(const PoolDims& d, const WindowGeometry& g) {
  std::vector<AxisWindow> out;
  for (int o = 0; o < d.Wo; ++o) out.push_back(axisWindow(o, d.W, g.kernelW, g.strideW, g.padLeft, g.padRight, g.dilationW));
  return out;
}

// Throws if some window lies entirely in the padding (its max would be −∞, its average 0/0).
void requireInputInEveryWindow(const char* layer, const std::vector<AxisWindow>& windows, const char* axis) {
  for (size_t o = 0; o < windows.size(); ++o)
    if (windows[o].first >= windows[o].last)
      throw Error(std::string(layer) + " window " + std::to_string(o) + " along " + axis +
                  " covers only padding (pads must be smaller than the window)");
}

void checkRows(const char* layer, const Matrix& m, int64_t expected, const char* what) {
  if (m.rows() != expected)
    throw Error(std::string(layer) + " got " + std::to_string(m.rows()) + " " + what + " values, expected " +
                std::to_string(expected));
}

// "a beats b" in max pooling's order: by value, with NaN above every number (PyTorch propagates NaN: the first
// NaN of a window is its maximum). All NaNs rank equal, as do −0 and +0, so this is a strict weak order.
inline bool beats(float a, float b) { return a > b || (std::isnan(a) && !std::isnan(b)); }

// Scratch of the separable max kernel for one range of channels (allocated per range, freed after it: no buffer
// outlives a call; MaxPoolLayer::workspaceBytes counts one per thread).
struct RowWinners {
  std::vector<float> value;  // H × Wo: the maximum of input row ih over output column ow's window
  std::vector<int> column;   // H × Wo: the input column of that row's first maximum
  std::vector<float> bestValue;
  std::vector<int> bestIndex;
};

// For every output (index into C×Ho×Wo) of one sample, the input index of its window's first maximum in
// row-major (kh, kw) order; a NaN counts as the maximum (as in PyTorch).
//
// Separable, so that the cost per output grows with kH + kW rather than kH·kW:
//   1. along the width: for every input row ih and output column ow, the first maximum of the row's cells in
//      ow's window (H·Wo·kW comparisons per channel);
//   2. along the height: for every output (oh, ow), the first of its window's rows whose winner beats all the
//      rows before it (Ho·Wo·kH comparisons per channel).
// Same tie-break as scanning the window in row-major order and keeping a cell only when it beats the one kept:
// that scan keeps the first cell (in row-major order) of the maximal rank. Step 2 keeps the first row whose
// maximum has that rank (a later row replaces the kept one only if strictly better), and step 1 keeps that
// row's first cell of that rank — together, the first such cell of the whole window. This needs `beats` to be
// a strict weak order (NaN ties NaN), which it is. Rows outside the input hold no cells (−∞ padding never wins).
// Not done: van Herk/Gil-Werman's block prefix/suffix maxima (O(1) comparisons per output and axis) would have
// to carry the first-maximum and first-NaN tie-break across block boundaries and only pay for windows far
// bigger than the 256×256 of issue 12, which this form runs in 0.05 s (wasm, one thread).
// Channels [c0, c1) only: channels touch disjoint inputs and outputs, so threads can take ranges of them (each
// visits its channels in the same order as one thread would).
template <typename F>
void forEachArgmax(const PoolDims& d, const WindowGeometry& g, const std::vector<AxisWindow>& rows,
                   const std::vector<AxisWindow>& cols, const float* x, F&& visit, int c0, int c1) {
  RowWinners s;
  const size_t rowCells = static_cast<size_t>(d.H) * static_cast<size_t>(d.Wo);
  s.value.resize(rowCells);
  s.column.resize(rowCells);
  s.bestValue.resize(static_cast<size_t>(d.Wo));
  s.bestIndex.resize(static_cast<size_t>(d.Wo));
  for (int c = c0; c < c1; ++c) {
    const float* xc = x + static_cast<std::ptrdiff_t>(c) * d.H * d.W;
    for (int ih = 0; ih < d.H; ++ih) {  // 1. along the width
      const float* row = xc + static_cast<std::ptrdiff_t>(ih) * d.W;
      float* value = s.value.data() + static_cast<std::ptrdiff_t>(ih) * d.Wo;
      int* column = s.column.data() + static_cast<std::ptrdiff_t>(ih) * d.Wo;
      for (int ow = 0; ow < d.Wo; ++ow) {
        const AxisWindow& q = cols[static_cast<size_t>(ow)];  // cells q.first..q.last−1 all lie in the input
        int best = q.start + q.first * g.dilationW;
        float bestValue = row[best];
        for (int tw = q.first + 1; tw < q.last; ++tw) {
          const int iw = q.start + tw * g.dilationW;
          if (beats(row[iw], bestValue)) best = iw, bestValue = row[iw];
        }
        value[ow] = bestValue;
        column[ow] = best;
      }
    }
    std::ptrdiff_t out = static_cast<std::ptrdiff_t>(c) * d.Ho * d.Wo;
    for (int oh = 0; oh < d.Ho; ++oh) {  // 2. along the height, a row of outputs at a time (contiguous reads)
      const AxisWindow& r = rows[static_cast<size_t>(oh)];
      int ih = r.start + r.first * g.dilationH;
      std::copy_n(s.value.data() + static_cast<std::ptrdiff_t>(ih) * d.Wo, d.Wo, s.bestValue.data());
      for (int ow = 0; ow < d.Wo; ++ow) s.bestIndex[static_cast<size_t>(ow)] = ih;
      for (int th = r.first + 1; th < r.last; ++th) {
        ih = r.start + th * g.dilationH;
        const float* value = s.value.data() + static_cast<std::ptrdiff_t>(ih) * d.Wo;
        for (int ow = 0; ow < d.Wo; ++ow)
          if (beats(value[ow], s.bestValue[static_cast<size_t>(ow)]))
            s.bestValue[static_cast<size_t>(ow)] = value[ow], s.bestIndex[static_cast<size_t>(ow)] = ih;
      }
      for (int ow = 0; ow < d.Wo; ++ow, ++out) {
        const int winnerRow = s.bestIndex[static_cast<size_t>(ow)];
        const int winnerColumn = s.column[static_cast<size_t>(winnerRow) * static_cast<size_t>(d.Wo) + static_cast<size_t>(ow)];
        visit(out, static_cast<std::ptrdiff_t>(c) * d.H * d.W + static_cast<std::ptrdiff_t>(winnerRow) * d.W + winnerColumn);
      }
    }
  }
}

// Channels per parallel task: about 2^17 comparisons (a handoff to the pool costs microseconds).
int64_t channelGrain(const PoolDims& d, const WindowGeometry& g) {
  const int64_t perChannel = int64_t{d.H} * d.Wo * g.kernelW + int64_t{d.Ho} * d.Wo * g.kernelH;
  return std::max<int64_t>(1, (int64_t{1} << 17) / std::max<int64_t>(perChannel, 1));
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// Max pooling

MaxPoolLayer::MaxPoolLayer(Shape inputShape, WindowGeometry geometry)
    : inputShape_(asImage(inputShape)), oneDimensional_(inputShape.size() == 2), geometry_(geometry), outHeight_(0), outWidth_(0) {
  const PoolDims d = checkedDims("maxpool", inputShape_, geometry_, outHeight_, outWidth_);
  requireInputInEveryWindow("maxpool", rowWindows(d, geometry_), "height");
  requireInputInEveryWindow("maxpool", columnWindows(d, geometry_), "width");
}

// One range of channels' scratch per thread: the row winners (value and column) and one row of running winners.
int64_t MaxPoolLayer::workspaceBytes() const {
  const int64_t rowCells = int64_t{inputShape_[1]} * outWidth_;
  return int64_t{threadCount()} * (rowCells + outWidth_) * 8;
}

Shape MaxPoolLayer::outputShape(const std::vector<Shape>& inputShapes) const {
  if (inputShapes.size() != 1) throw Error("maxpool takes one input");
  if (inputShapes[0] != asGiven(inputShape_, oneDimensional_))
    throw Error("maxpool expects input shape " + shapeToString(asGiven(inputShape_, oneDimensional_)) + ", got " +
                shapeToString(inputShapes[0]));
  return asGiven({inputShape_[0], outHeight_, outWidth_}, oneDimensional_);
}

Matrix MaxPoolLayer::forward(const std::vector<const Matrix*>& inputs) const {
  const PoolDims d{inputShape_[0], inputShape_[1], inputShape_[2], outHeight_, outWidth_};
  const Matrix& x = *inputs.at(0);
  checkRows("maxpool", x, static_cast<int64_t>(d.channels) * d.H * d.W, "input");
  const auto rows = rowWindows(d, geometry_), cols = columnWindows(d, geometry_);
  Matrix y(static_cast<Eigen::Index>(d.channels) * d.Ho * d.Wo, x.cols());
  const int64_t grain = channelGrain(d, geometry_);
  for (Eigen::Index s = 0; s < x.cols(); ++s) {
    const float* xs = x.col(s).data();
    float* ys = y.col(s).data();
    parallelFor(0, d.channels, grain, [&](int64_t c0, int64_t c1) {
      forEachArgmax(d, geometry_, rows, cols, xs, [&](std::ptrdiff_t out, std::ptrdiff_t in) { ys[out] = xs[in]; },
                    static_cast<int>(c0), static_cast<int>(c1));
    });
  }
  return y;
}

std::vector<Matrix> MaxPoolLayer::gradient(const std::vector<const Matrix*>& inputs, const Matrix&,
                                           const Matrix& gradOutput) const {
  const PoolDims d{inputShape_[0], inputShape_[1], inputShape_[2], outHeight_, outWidth_};
  const Matrix& x = *inputs.at(0);
  checkRows("maxpool", x, static_cast<int64_t>(d.channels) * d.H * d.W, "input");
  checkRows("maxpool", gradOutput, static_cast<int64_t>(d.channels) * d.Ho * d.Wo, "gradient");
  const auto rows = rowWindows(d, geometry_), cols = columnWindows(d, geometry_);
  Matrix dx = Matrix::Zero(x.rows(), x.cols());
  const int64_t grain = channelGrain(d, geometry_);
  for (Eigen::Index s = 0; s < x.cols(); ++s) {
    const float* gs = gradOutput.col(s).data();
    float* dxs = dx.col(s).data();
    parallelFor(0, d.channels, grain, [&](int64_t c0, int64_t c1) {
      forEachArgmax(d, geometry_, rows, cols, x.col(s).data(),
                    [&](std::ptrdiff_t out, std::ptrdiff_t in) { dxs[in] += gs[out]; }, static_cast<int>(c0),
                    static_cast<int>(c1));
    });
  }
  return {dx};
}

// ---------------------------------------------------------------------------------------------------------
// Average pooling

namespace {

// The divisor of output (oh, ow): the window's cells inside input + pads (count_include_pad) or inside the input.
// The cells of a window inside the input are the consecutive t in [first, last), so both are products.
int averageDivisor(const AxisWindow& r, const AxisWindow& q, bool countIncludePad) {
  return countIncludePad ? r.withPads * q.withPads : (r.last - r.first) * (q.last - q.first);
}

// Window sums of channels [c0, c1) of one sample, separable: row sums over each output column's window
// (H·Wo·kW additions per channel), then sums of those over each output row's window (Ho·Wo·kH), then divided
// by the divisor (sum, then divide, as PyTorch does). A window in the padding only gives 0 (count_include_pad).
// The scratch (per range of channels: H × Wo partial sums, here and in averageTranspose) is in double, so that
// splitting a window's sum in two passes loses nothing against one float sum.
void averageForward(const PoolDims& d, const WindowGeometry& g, const std::vector<AxisWindow>& rows,
                    const std::vector<AxisWindow>& cols, bool countIncludePad, const float* x, float* y, int c0, int c1) {
  std::vector<double> rowSums(static_cast<size_t>(d.H) * static_cast<size_t>(d.Wo));
  std::vector<double> sums(static_cast<size_t>(d.Wo));
  for (int c = c0; c < c1; ++c) {
    const float* xc = x + static_cast<std::ptrdiff_t>(c) * d.H * d.W;
    for (int ih = 0; ih < d.H; ++ih) {
      const float* row = xc + static_cast<std::ptrdiff_t>(ih) * d.W;
      double* sum = rowSums.data() + static_cast<std::ptrdiff_t>(ih) * d.Wo;
      for (int ow = 0; ow < d.Wo; ++ow) {
        const AxisWindow& q = cols[static_cast<size_t>(ow)];
        double total = 0.0;
        for (int tw = q.first; tw < q.last; ++tw) total += row[q.start + tw * g.dilationW];
        sum[ow] = total;
      }
    }
    float* yc = y + static_cast<std::ptrdiff_t>(c) * d.Ho * d.Wo;
    for (int oh = 0; oh < d.Ho; ++oh) {
      const AxisWindow& r = rows[static_cast<size_t>(oh)];
      std::fill(sums.begin(), sums.end(), 0.0);
      for (int th = r.first; th < r.last; ++th) {
        const double* rowSum = rowSums.data() + static_cast<std::ptrdiff_t>(r.start + th * g.dilationH) * d.Wo;
        for (int ow = 0; ow < d.Wo; ++ow) sums[static_cast<size_t>(ow)] += rowSum[ow];
      }
      for (int ow = 0; ow < d.Wo; ++ow) {
        const int divisor = averageDivisor(r, cols[static_cast<size_t>(ow)], countIncludePad);
        yc[static_cast<std::ptrdiff_t>(oh) * d.Wo + ow] =
            divisor == 0 ? 0.0f : static_cast<float>(sums[static_cast<size_t>(ow)] / divisor);
      }
    }
  }
}

// The transpose of averageForward for channels [c0, c1): each output's gradient / divisor goes to the rows of its
// window (Ho·Wo·kH additions per channel), then each row's share to the cells of the output column's window
// (H·Wo·kW). dx must be zero on entry.
void averageTranspose(const PoolDims& d, const WindowGeometry& g, const std::vector<AxisWindow>& rows,
                      const std::vector<AxisWindow>& cols, bool countIncludePad, const float* gradOut, float* dx, int c0,
                      int c1) {
  std::vector<double> shares(static_cast<size_t>(d.H) * static_cast<size_t>(d.Wo));
  std::vector<double> scaled(static_cast<size_t>(d.Wo)), cell(static_cast<size_t>(d.W));
  for (int c = c0; c < c1; ++c) {
    std::fill(shares.begin(), shares.end(), 0.0);
    const float* gc = gradOut + static_cast<std::ptrdiff_t>(c) * d.Ho * d.Wo;
    for (int oh = 0; oh < d.Ho; ++oh) {
      const AxisWindow& r = rows[static_cast<size_t>(oh)];
      for (int ow = 0; ow < d.Wo; ++ow) {
        const int divisor = averageDivisor(r, cols[static_cast<size_t>(ow)], countIncludePad);
        scaled[static_cast<size_t>(ow)] = divisor == 0 ? 0.0 : double{gc[static_cast<std::ptrdiff_t>(oh) * d.Wo + ow]} / divisor;
      }
      for (int th = r.first; th < r.last; ++th) {
        double* share = shares.data() + static_cast<std::ptrdiff_t>(r.start + th * g.dilationH) * d.Wo;
        for (int ow = 0; ow < d.Wo; ++ow) share[ow] += scaled[static_cast<size_t>(ow)];
      }
    }
    float* dxc = dx + static_cast<std::ptrdiff_t>(c) * d.H * d.W;
    for (int ih = 0; ih < d.H; ++ih) {
      const double* share = shares.data() + static_cast<std::ptrdiff_t>(ih) * d.Wo;
      float* row = dxc + static_cast<std::ptrdiff_t>(ih) * d.W;
      // Sum each cell's shares in double, then round once (a cell is in up to kW windows of the row).
      std::fill(cell.begin(), cell.end(), 0.0);
      for (int ow = 0; ow < d.Wo; ++ow) {
        const AxisWindow& q = cols[static_cast<size_t>(ow)];
        for (int tw = q.first; tw < q.last; ++tw) cell[static_cast<size_t>(q.start + tw * g.dilationW)] += share[ow];
      }
      for (int iw = 0; iw < d.W; ++iw) row[iw] = static_cast<float>(cell[static_cast<size_t>(iw)]);
    }
  }
}

}  // namespace

AvgPoolLayer::AvgPoolLayer(Shape inputShape, WindowGeometry geometry, bool countIncludePad)
    : inputShape_(asImage(inputShape)), oneDimensional_(inputShape.size() == 2), geometry_(geometry), countIncludePad_(countIncludePad), outHeight_(0), outWidth_(0) {
  const PoolDims d = checkedDims("avgpool", inputShape_, geometry_, outHeight_, outWidth_);
  if (!countIncludePad_) {  // the divisor would be 0
    requireInputInEveryWindow("avgpool", rowWindows(d, geometry_), "height");
    requireInputInEveryWindow("avgpool", columnWindows(d, geometry_), "width");
  }
}

// One range of channels' scratch per thread: H × Wo partial sums and a row of each axis, in double.
int64_t AvgPoolLayer::workspaceBytes() const {
  const int64_t rowCells = int64_t{inputShape_[1]} * outWidth_;
  return int64_t{threadCount()} * (rowCells + outWidth_ + inputShape_[2]) * 8;
}

Shape AvgPoolLayer::outputShape(const std::vector<Shape>& inputShapes) const {
  if (inputShapes.size() != 1) throw Error("avgpool takes one input");
  if (inputShapes[0] != asGiven(inputShape_, oneDimensional_))
    throw Error("avgpool expects input shape " + shapeToString(asGiven(inputShape_, oneDimensional_)) + ", got " +
                shapeToString(inputShapes[0]));
  return asGiven({inputShape_[0], outHeight_, outWidth_}, oneDimensional_);
}

Matrix AvgPoolLayer::forward(const std::vector<const Matrix*>& inputs) const {
  const PoolDims d{inputShape_[0], inputShape_[1], inputShape_[2], outHeight_, outWidth_};
  const Matrix& x = *inputs.at(0);
  checkRows("avgpool", x, static_cast<int64_t>(d.channels) * d.H * d.W, "input");
  const auto rows = rowWindows(d, geometry_), cols = columnWindows(d, geometry_);
  Matrix y(static_cast<Eigen::Index>(d.channels) * d.Ho * d.Wo, x.cols());
  const int64_t grain = channelGrain(d, geometry_);
  for (Eigen::Index s = 0; s < x.cols(); ++s) {
    const float* xs = x.col(s).data();
    float* ys = y.col(s).data();
    parallelFor(0, d.channels, grain, [&](int64_t c0, int64_t c1) {
      averageForward(d, geometry_, rows, cols, countIncludePad_, xs, ys, static_cast<int>(c0), static_cast<int>(c1));
    });
  }
  return y;
}

std::vector<Matrix> AvgPoolLayer::gradient(const std::vector<const Matrix*>& inputs, const Matrix&,
                                           const Matrix& gradOutput) const {
  const PoolDims d{inputShape_[0], inputShape_[1], inputShape_[2], outHeight_, outWidth_};
  const Matrix& x = *inputs.at(0);
  checkRows("avgpool", x, static_cast<int64_t>(d.channels) * d.H * d.W, "input");
  checkRows("avgpool", gradOutput, static_cast<int64_t>(d.channels) * d.Ho * d.Wo, "gradient");
  const auto rows = rowWindows(d, geometry_), cols = columnWindows(d, geometry_);
  Matrix dx = Matrix::Zero(x.rows(), gradOutput.cols());
  const int64_t grain = channelGrain(d, geometry_);
  for (Eigen::Index s = 0; s < gradOutput.cols(); ++s) {
    const float* gs = gradOutput.col(s).data();
    float* dxs = dx.col(s).data();
    parallelFor(0, d.channels, grain, [&](int64_t c0, int64_t c1) {
      averageTranspose(d, geometry_, rows, cols, countIncludePad_, gs, dxs, static_cast<int>(c0), static_cast<int>(c1));
    });
  }
  return {dx};
}

// ---------------------------------------------------------------------------------------------------------
// Global average pooling

GlobalAvgPoolLayer::GlobalAvgPoolLayer(Shape inputShape) : inputShape_(std::move(inputShape)) {
  if (inputShape_.size() < 2) throw Error("global-avgpool expects a C×… input of rank ≥ 2, got shape " + shapeToString(inputShape_));
  shapeSize(inputShape_);
}

Shape GlobalAvgPoolLayer::outputShape(const std::vector<Shape>& inputShapes) const {
  if (inputShapes.size() != 1) throw Error("global-avgpool takes one input");
  if (inputShapes[0] != inputShape_)
    throw Error("global-avgpool built for " + shapeToString(inputShape_) + " got input " + shapeToString(inputShapes[0]));
  Shape out(inputShape_.size(), 1);
  out[0] = inputShape_[0];
  return out;
}

Matrix GlobalAvgPoolLayer::forward(const std::vector<const Matrix*>& inputs) const {
  const Matrix& x = *inputs.at(0);
  const int channels = inputShape_[0];
  const Eigen::Index area = static_cast<Eigen::Index>(shapeSize(inputShape_) / channels);
  checkRows("global-avgpool", x, channels * area, "input");
  Matrix y(channels, x.cols());
  for (Eigen::Index s = 0; s < x.cols(); ++s)
    for (int c = 0; c < channels; ++c) y(c, s) = x.col(s).segment(c * area, area).sum() / static_cast<float>(area);
  return y;
}

std::vector<Matrix> GlobalAvgPoolLayer::gradient(const std::vector<const Matrix*>& inputs, const Matrix&,
                                                 const Matrix& gradOutput) const {
  const Matrix& x = *inputs.at(0);
  const int channels = inputShape_[0];
  const Eigen::Index area = static_cast<Eigen::Index>(shapeSize(inputShape_) / channels);
  checkRows("global-avgpool", x, channels * area, "input");
  checkRows("global-avgpool", gradOutput, channels, "gradient");
  Matrix dx(x.rows(), gradOutput.cols());
  for (Eigen::Index s = 0; s < gradOutput.cols(); ++s)
    for (int c = 0; c < channels; ++c)
      dx.col(s).segment(c * area, area).setConstant(gradOutput(c, s) / static_cast<float>(area));
  return {dx};
}

std::unique_ptr<Layer> buildMaxPool(LayerSpec& spec, const std::vector<Shape>& inputShapes) {
  const Shape& input = singleInput("maxpool", inputShapes);
  return std::make_unique<MaxPoolLayer>(input, windowGeometry(spec, input));
}

std::unique_ptr<Layer> buildAvgPool(LayerSpec& spec, const std::vector<Shape>& inputShapes) {
  const Shape& input = singleInput("avgpool", inputShapes);
  WindowGeometry geometry = windowGeometry(spec, input);
  if (geometry.dilationH != 1 || geometry.dilationW != 1) throw Error("avgpool has no dilations");
  return std::make_unique<AvgPoolLayer>(input, geometry, spec.flag("countIncludePad"));
}

std::unique_ptr<Layer> buildGlobalAvgPool(LayerSpec&, const std::vector<Shape>& inputShapes) {
  return std::make_unique<GlobalAvgPoolLayer>(singleInput("global-avgpool", inputShapes));
}

// ---------------------------------------------------------------------------------------------------------
// Work estimates

namespace {

// A separable window over a C×H×W image: each of the H rows reduces kW values for each of the Wo output columns,
// then each output value reduces kH of those partial results: C·(H·Wo·kW + Ho·Wo·kH).
int64_t separableWindowOperations(const Shape& image, const WindowGeometry& g, int outHeight, int outWidth) {
  const int64_t rows = saturatingMultiply(saturatingMultiply(image[1], outWidth), g.kernelW);
  const int64_t columns = saturatingMultiply(saturatingMultiply(outHeight, outWidth), g.kernelH);
  return saturatingMultiply(image[0], saturatingAdd(rows, columns));
}

}  // namespace

int64_t MaxPoolLayer::operations(const std::vector<Shape>&, const Shape&) const {
  return separableWindowOperations(inputShape_, geometry_, outHeight_, outWidth_);
}

int64_t AvgPoolLayer::operations(const std::vector<Shape>&, const Shape&) const {
  return separableWindowOperations(inputShape_, geometry_, outHeight_, outWidth_);
}

int64_t GlobalAvgPoolLayer::operations(const std::vector<Shape>&, const Shape&) const {
  return Layer::operations({}, inputShape_);
}

}  // namespace lrp
