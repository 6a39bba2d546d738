// Pooling layers: max pooling (−∞ padding, PyTorch's first-maximum tie-break), average pooling (zero padding,
// count_include_pad, ceil_mode with PyTorch's divisor rule) and global average pooling. The gradients are
// exact: LRP routes relevance through max-pooling by its gradient and applies the norm rule
// R_in = x ⊙ gradient(R / stab(z)) to the average poolings.
#include "builders.hpp"
#include "parallel.hpp"

#include <cmath>
#include <limits>
#include <string>

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

AxisWindow axisWindow(int o, int input, int kernel, int stride, int padBegin, int padEnd, int dilation) {
  AxisWindow w{o * stride - padBegin, 0, 0, 0};
  int first = kernel, last = 0, withPads = 0;
  for (int t = 0; t < kernel; ++t) {
    const int cell = w.start + t * dilation;
    if (cell >= 0 && cell < input) {
      first = std::min(first, t);
      last = t + 1;
    }
    if (cell >= -padBegin && cell < input + padEnd) ++withPads;
  }
  w.first = std::min(first, last);
  w.last = last;
  w.withPads = withPads;
  return w;
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

// For every output (index into C×Ho×Wo) of one sample, the input index of its window's first maximum in
// row-major (kh, kw) order; a NaN counts as the maximum (as in PyTorch).
// Channels [c0, c1) only (default: all): channels touch disjoint inputs and outputs, so threads can take
// ranges of them (each visits its channels in the same order as one thread would).
template <typename F>
void forEachArgmax(const PoolDims& d, const WindowGeometry& g, const std::vector<AxisWindow>& rows,
                   const std::vector<AxisWindow>& cols, const float* x, F&& visit, int c0 = 0, int c1 = -1) {
  if (c1 < 0) c1 = d.channels;
  std::ptrdiff_t out = static_cast<std::ptrdiff_t>(c0) * d.Ho * d.Wo;
  for (int c = c0; c < c1; ++c) {
    const float* xc = x + static_cast<std::ptrdiff_t>(c) * d.H * d.W;
    for (int oh = 0; oh < d.Ho; ++oh) {
      const AxisWindow& r = rows[static_cast<size_t>(oh)];
      for (int ow = 0; ow < d.Wo; ++ow, ++out) {
        const AxisWindow& q = cols[static_cast<size_t>(ow)];
        std::ptrdiff_t best = -1;
        float bestValue = 0.0f;
        for (int th = r.first; th < r.last; ++th) {
          const int ih = r.start + th * g.dilationH;
          if (ih < 0 || ih >= d.H) continue;  // dilated windows may skip over the input's edge
          for (int tw = q.first; tw < q.last; ++tw) {
            const int iw = q.start + tw * g.dilationW;
            if (iw < 0 || iw >= d.W) continue;
            const std::ptrdiff_t index = static_cast<std::ptrdiff_t>(ih) * d.W + iw;
            const float v = xc[index];
            if (best < 0 || v > bestValue || (std::isnan(v) && !std::isnan(bestValue))) {
              best = index;
              bestValue = v;
            }
          }
        }
        visit(out, static_cast<std::ptrdiff_t>(c) * d.H * d.W + best);
      }
    }
  }
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
  const int64_t windowSize = int64_t{geometry_.kernelH} * geometry_.kernelW;
  const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 17) / std::max<int64_t>(int64_t{d.Ho} * d.Wo * windowSize, 1));
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
  const int64_t windowSize = int64_t{geometry_.kernelH} * geometry_.kernelW;
  const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 17) / std::max<int64_t>(int64_t{d.Ho} * d.Wo * windowSize, 1));
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

// Calls visit(outIndex, inIndex, 1/divisor) for every (output, input cell) pair of one sample.
template <typename F>
void forEachAverageTerm(const PoolDims& d, const WindowGeometry& g, bool countIncludePad, F&& visit) {
  const auto rows = rowWindows(d, g), cols = columnWindows(d, g);
  std::ptrdiff_t out = 0;
  for (int c = 0; c < d.channels; ++c) {
    const std::ptrdiff_t base = static_cast<std::ptrdiff_t>(c) * d.H * d.W;
    for (int oh = 0; oh < d.Ho; ++oh) {
      const AxisWindow& r = rows[static_cast<size_t>(oh)];
      for (int ow = 0; ow < d.Wo; ++ow, ++out) {
        const AxisWindow& q = cols[static_cast<size_t>(ow)];
        int inside = 0;
        for (int th = r.first; th < r.last; ++th) {
          const int ih = r.start + th * g.dilationH;
          if (ih < 0 || ih >= d.H) continue;
          for (int tw = q.first; tw < q.last; ++tw) {
            const int iw = q.start + tw * g.dilationW;
            if (iw >= 0 && iw < d.W) ++inside;
          }
        }
        const int divisor = countIncludePad ? r.withPads * q.withPads : inside;
        if (divisor == 0) continue;  // a window in the padding only: output 0 (count_include_pad)
        const float scale = 1.0f / static_cast<float>(divisor);
        for (int th = r.first; th < r.last; ++th) {
          const int ih = r.start + th * g.dilationH;
          if (ih < 0 || ih >= d.H) continue;
          for (int tw = q.first; tw < q.last; ++tw) {
            const int iw = q.start + tw * g.dilationW;
            if (iw >= 0 && iw < d.W) visit(out, base + static_cast<std::ptrdiff_t>(ih) * d.W + iw, divisor, scale);
          }
        }
      }
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
  // Sum, then divide (as PyTorch does).
  Matrix sums = Matrix::Zero(static_cast<Eigen::Index>(d.channels) * d.Ho * d.Wo, x.cols());
  std::vector<int> divisors(static_cast<size_t>(sums.rows()), 1);
  for (Eigen::Index s = 0; s < x.cols(); ++s) {
    const float* xs = x.col(s).data();
    float* ys = sums.col(s).data();
    forEachAverageTerm(d, geometry_, countIncludePad_, [&](std::ptrdiff_t out, std::ptrdiff_t in, int divisor, float) {
      ys[out] += xs[in];
      divisors[static_cast<size_t>(out)] = divisor;
    });
    for (Eigen::Index o = 0; o < sums.rows(); ++o) ys[o] /= static_cast<float>(divisors[static_cast<size_t>(o)]);
  }
  return sums;
}

std::vector<Matrix> AvgPoolLayer::gradient(const std::vector<const Matrix*>& inputs, const Matrix&,
                                           const Matrix& gradOutput) const {
  const PoolDims d{inputShape_[0], inputShape_[1], inputShape_[2], outHeight_, outWidth_};
  const Matrix& x = *inputs.at(0);
  checkRows("avgpool", x, static_cast<int64_t>(d.channels) * d.H * d.W, "input");
  checkRows("avgpool", gradOutput, static_cast<int64_t>(d.channels) * d.Ho * d.Wo, "gradient");
  Matrix dx = Matrix::Zero(x.rows(), gradOutput.cols());
  for (Eigen::Index s = 0; s < gradOutput.cols(); ++s) {
    const float* gs = gradOutput.col(s).data();
    float* dxs = dx.col(s).data();
    forEachAverageTerm(d, geometry_, countIncludePad_, [&](std::ptrdiff_t out, std::ptrdiff_t in, int, float scale) {
      dxs[in] += gs[out] * scale;
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
