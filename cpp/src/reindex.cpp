// Layers that only move values around: transpose, slice, gather (constant indices), concat, expand, pad.
// Each output value is one input value (or, for pad, the constant), so the layer is a linear map that
// copies; its gradient is the transposed copy, summed where one input value feeds several outputs
// (gather with repeated indices, expand). LRP gives these layers no rule: relevance follows the gradient
// (explain.cpp), so an exact gradient is the rule.
//
// Maps are computed once at build time: forward and gradient are then single loops over the map per
// sample, whatever the rank or the permutation (real models permute [56, 56, 96] and [197, 768] tensors).
#include "broadcast.hpp"
#include "builders.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <sstream>

namespace lrp {
namespace {

// Flat per-sample index (strideMap's type; shapeSize caps a tensor at 2^28 values).
using Index = int;
constexpr Index kFill = -1;  // a map entry with no input value (pad's constant)

// A spec list given one value per axis must have exactly rank(input) values.
void checkPerAxis(const char* kind, const char* key, size_t given, const Shape& input) {
  if (given != input.size())
    throw Error(std::string(kind) + " needs one '" + key + "' value per axis of the input " + shapeToString(input) +
                ", got " + std::to_string(given));
}

int checkedAxis(const char* kind, int axis, const Shape& input) {
  if (axis < 0 || axis >= static_cast<int>(input.size()))
    throw Error(std::string(kind) + " axis " + std::to_string(axis) + " is out of range for the input " +
                shapeToString(input) + " (per-sample axes 0 to " + std::to_string(static_cast<int>(input.size()) - 1) +
                ")");
  return axis;
}

std::string listToString(const std::vector<int>& values) { return shapeToString(values); }

// A single-input layer whose output value i is input value map[i] (or `fill` where map[i] == kFill).
// Built for one input shape, which outputShape checks.
class IndexMapLayer : public Layer {
 public:
  IndexMapLayer(const char* kind, Shape input, Shape output, std::vector<Index> map, float fill = 0.0f)
      : kind_(kind), input_(std::move(input)), output_(std::move(output)), map_(std::move(map)), fill_(fill),
        hasFill_(std::find(map_.begin(), map_.end(), kFill) != map_.end()) {
    invertIfInjective();
  }

  const char* kind() const override { return kind_; }
  Role role() const override { return Role::Reindex; }
  int64_t memoryBytes() const override { return bytesOf(map_) + bytesOf(inverse_); }

  Shape outputShape(const std::vector<Shape>& inputShapes) const override {
    const Shape& shape = singleInput(kind_, inputShapes);
    if (shape != input_)
      throw Error(std::string(kind_) + " was built for input " + shapeToString(input_) + ", got " + shapeToString(shape));
    return output_;
  }

  Matrix forward(const std::vector<const Matrix*>& inputs) const override {
    const Matrix& x = *inputs[0];
    Matrix y(static_cast<Eigen::Index>(map_.size()), x.cols());
    const size_t count = map_.size();
    for (Eigen::Index c = 0; c < x.cols(); ++c) {
      const float* in = x.col(c).data();
      float* out = y.col(c).data();
      // Two loops so that the common case (no constant cells) has no branch.
      if (hasFill_) {
        for (size_t i = 0; i < count; ++i) out[i] = map_[i] == kFill ? fill_ : in[map_[i]];
      } else {
        for (size_t i = 0; i < count; ++i) out[i] = in[map_[i]];
      }
    }
    return y;
  }

  // The transposed copy: each output gradient goes back to its source, summed where sources repeat.
  std::vector<Matrix> gradient(const std::vector<const Matrix*>& inputs, const Matrix&,
                               const Matrix& gradOutput) const override {
    std::vector<Matrix> grads;  // not `return {…}`: an initializer list would copy the matrix
    grads.push_back(inverse_.empty() ? scatterAdd(inputs[0]->rows(), gradOutput) : gatherBack(gradOutput));
    return grads;
  }

 private:
  // When no input value feeds two outputs (transpose, slice, pad), the gradient is itself a gather through
  // the inverse map: sequential writes instead of a scatter's random ones (about 4× faster on [56, 56, 96]).
  void invertIfInjective() {
    std::vector<Index> inverse(static_cast<size_t>(shapeSize(input_)), kFill);
    for (size_t i = 0; i < map_.size(); ++i) {
      if (map_[i] == kFill) continue;
      Index& slot = inverse[static_cast<size_t>(map_[i])];
      if (slot != kFill) return;  // a repeated source: keep the scatter-add
      slot = static_cast<Index>(i);
    }
    unread_ = std::find(inverse.begin(), inverse.end(), kFill) != inverse.end();
    inverse_ = std::move(inverse);
  }

  Matrix gatherBack(const Matrix& gradOutput) const {
    Matrix g(static_cast<Eigen::Index>(inverse_.size()), gradOutput.cols());
    const size_t count = inverse_.size();
    for (Eigen::Index c = 0; c < gradOutput.cols(); ++c) {
      const float* gy = gradOutput.col(c).data();
      float* gx = g.col(c).data();
      if (unread_) {
        for (size_t j = 0; j < count; ++j) gx[j] = inverse_[j] == kFill ? 0.0f : gy[inverse_[j]];
      } else {
        for (size_t j = 0; j < count; ++j) gx[j] = gy[inverse_[j]];
      }
    }
    return g;
  }

  Matrix scatterAdd(Eigen::Index inputRows, const Matrix& gradOutput) const {
    Matrix g = Matrix::Zero(inputRows, gradOutput.cols());
    const size_t count = map_.size();
    for (Eigen::Index c = 0; c < gradOutput.cols(); ++c) {
      const float* gy = gradOutput.col(c).data();
      float* gx = g.col(c).data();
      for (size_t i = 0; i < count; ++i)
        if (map_[i] != kFill) gx[map_[i]] += gy[i];
    }
    return g;
  }

  const char* kind_;
  Shape input_, output_;
  std::vector<Index> map_;      // output index → input index (kFill: the constant)
  float fill_;
  bool hasFill_;
  std::vector<Index> inverse_;  // input index → output index when the map is injective (kFill: unread), else empty
  bool unread_ = false;         // some input value feeds no output (a slice, a gather of a subset)
};

// ---------------------------------------------------------------------------------------------------------
// transpose {perm}: output axis a is input axis perm[a].

std::unique_ptr<Layer> makeTranspose(const Shape& input, const std::vector<int>& perm) {
  checkPerAxis("transpose", "perm", perm.size(), input);
  std::vector<bool> seen(input.size(), false);
  for (int p : perm) {
    if (p < 0 || p >= static_cast<int>(input.size()) || seen[static_cast<size_t>(p)])
      throw Error("transpose perm " + listToString(perm) + " is not a permutation of the axes of " +
                  shapeToString(input));
    seen[static_cast<size_t>(p)] = true;
  }
  const std::vector<int64_t> inStrides = rowMajorStrides(input);
  Shape output(input.size());
  std::vector<int64_t> step(input.size());
  for (size_t a = 0; a < perm.size(); ++a) {
    output[a] = input[static_cast<size_t>(perm[a])];
    step[a] = inStrides[static_cast<size_t>(perm[a])];
  }
  std::vector<Index> map = strideMap(output, step, 0);
  return std::make_unique<IndexMapLayer>("transpose", input, output, std::move(map));
}

// ---------------------------------------------------------------------------------------------------------
// slice {starts, ends, steps}: along each axis the indices start, start + step, … before end. The importer
// has normalised them as ONNX does (0 ≤ start < dim; end clamped to [0, dim], or to [−1, dim − 1] for a
// negative step), so a value outside those ranges is an importer bug and is refused rather than clamped.

int sliceCount(size_t axis, int dim, int start, int end, int step) {
  const std::string where = "slice axis " + std::to_string(axis) + " (size " + std::to_string(dim) + "): ";
  if (step == 0) throw Error(where + "step must not be 0");
  if (start < 0 || start >= dim) throw Error(where + "start " + std::to_string(start) + " is out of range");
  const bool endOk = step > 0 ? end >= 0 && end <= dim : end >= -1 && end < dim;
  if (!endOk) throw Error(where + "end " + std::to_string(end) + " is out of range for step " + std::to_string(step));
  // ceil((end − start) / step) elements, none when end is not past start in the step's direction.
  const int64_t span = step > 0 ? int64_t{end} - start : int64_t{start} - end;
  const int64_t stride = std::abs(int64_t{step});
  const int64_t count = span > 0 ? (span + stride - 1) / stride : 0;
  if (count == 0)
    throw Error(where + "start " + std::to_string(start) + ", end " + std::to_string(end) + ", step " +
                std::to_string(step) + " select nothing");
  return static_cast<int>(count);
}

std::unique_ptr<Layer> makeSlice(const Shape& input, const std::vector<int>& starts, const std::vector<int>& ends,
                                 const std::vector<int>& steps) {
  checkPerAxis("slice", "starts", starts.size(), input);
  checkPerAxis("slice", "ends", ends.size(), input);
  checkPerAxis("slice", "steps", steps.size(), input);
  const std::vector<int64_t> inStrides = rowMajorStrides(input);
  Shape output(input.size());
  std::vector<int64_t> step(input.size());
  int64_t base = 0;
  for (size_t a = 0; a < input.size(); ++a) {
    output[a] = sliceCount(a, input[a], starts[a], ends[a], steps[a]);
    step[a] = inStrides[a] * steps[a];
    base += inStrides[a] * starts[a];
  }
  std::vector<Index> map = strideMap(output, step, base);
  return std::make_unique<IndexMapLayer>("slice", input, output, std::move(map));
}

// ---------------------------------------------------------------------------------------------------------
// gather {axis, indices, indicesShape}: output = input[:axis] + indicesShape + input[axis+1:], taking
// along `axis` the listed indices (ONNX Gather with constant indices; `indicesShape` [] drops the axis).

std::unique_ptr<Layer> makeGather(const Shape& input, int axis, const std::vector<int>& indices,
                                  const Shape& indicesShape) {
  checkedAxis("gather", axis, input);
  const int64_t expected = shapeSize(indicesShape);  // 1 for a scalar index
  if (static_cast<int64_t>(indices.size()) != expected)
    throw Error("gather has " + std::to_string(indices.size()) + " indices, indicesShape " + shapeToString(indicesShape) +
                " needs " + std::to_string(expected));
  const int dim = input[static_cast<size_t>(axis)];
  for (size_t j = 0; j < indices.size(); ++j)
    if (indices[j] < 0 || indices[j] >= dim)
      throw Error("gather index " + std::to_string(indices[j]) + " (at " + std::to_string(j) + ") is out of range for axis " +
                  std::to_string(axis) + " of size " + std::to_string(dim) + " (input " + shapeToString(input) + ")");
  Shape output(input.begin(), input.begin() + axis);
  output.insert(output.end(), indicesShape.begin(), indicesShape.end());
  output.insert(output.end(), input.begin() + axis + 1, input.end());
  const int64_t outputSize = shapeSize(output);  // 1 for a scalar []

  const int64_t outer = std::accumulate(input.begin(), input.begin() + axis, int64_t{1}, std::multiplies<int64_t>());
  const int64_t inner = std::accumulate(input.begin() + axis + 1, input.end(), int64_t{1}, std::multiplies<int64_t>());
  std::vector<Index> map;
  map.reserve(static_cast<size_t>(outputSize));
  for (int64_t o = 0; o < outer; ++o)
    for (int index : indices)
      for (int64_t i = 0; i < inner; ++i) map.push_back(static_cast<Index>((o * dim + index) * inner + i));
  return std::make_unique<IndexMapLayer>("gather", input, output, std::move(map));
}

// ---------------------------------------------------------------------------------------------------------
// expand: numpy broadcasting of the input to `target` (aligned at the last axis; an input axis of size 1,
// or a missing leading one, repeats).

std::unique_ptr<Layer> makeExpand(const Shape& input, const Shape& target) {
  const std::string what = "expand cannot broadcast " + shapeToString(input) + " to " + shapeToString(target);
  if (target.size() < input.size()) throw Error(what + ": the target has fewer axes");
  shapeSize(target);
  const size_t lead = target.size() - input.size();
  for (size_t a = 0; a < input.size(); ++a) {
    const int from = input[a], to = target[lead + a];
    if (from != to && from != 1) throw Error(what + " (axis " + std::to_string(a) + ": " + std::to_string(from) + " vs " +
                                             std::to_string(to) + ")");
  }
  std::vector<Index> map = broadcastIndex(input, target);
  return std::make_unique<IndexMapLayer>("expand", input, target, std::move(map));
}

// ---------------------------------------------------------------------------------------------------------
// pad {pads [begin…, end…], value}: constant padding of any axes of an input of any rank.

std::unique_ptr<Layer> makePad(const Shape& input, const std::vector<int>& pads, float value) {
  if (pads.size() != 2 * input.size())
    throw Error("pad needs pads [begin…, end…] with " + std::to_string(2 * input.size()) + " values for the input " +
                shapeToString(input) + ", got " + listToString(pads));
  for (int p : pads)
    if (p < 0) throw Error("pad amounts must be non-negative (cropping is not supported), got " + listToString(pads));
  if (!std::isfinite(value)) throw Error("pad value must be finite");
  const size_t rank = input.size();
  Shape output(rank);
  for (size_t a = 0; a < rank; ++a) {
    const int64_t size = int64_t{input[a]} + pads[a] + pads[rank + a];
    if (size > (int64_t{1} << 28)) throw Error("pad output " + std::to_string(size) + " along axis " + std::to_string(a) + " is too large");
    output[a] = static_cast<int>(size);
  }
  shapeSize(output);
  // Where each input value lands in the output; every other output cell is the constant.
  const std::vector<int64_t> outStrides = rowMajorStrides(output);
  int64_t base = 0;
  for (size_t a = 0; a < rank; ++a) base += outStrides[a] * pads[a];
  const std::vector<Index> landing = strideMap(input, outStrides, base);
  std::vector<Index> map(static_cast<size_t>(shapeSize(output)), kFill);
  for (size_t k = 0; k < landing.size(); ++k) map[static_cast<size_t>(landing[k])] = static_cast<Index>(k);
  return std::make_unique<IndexMapLayer>("pad", input, output, std::move(map), value);
}

// ---------------------------------------------------------------------------------------------------------
// concat {axis}: inputs equal but along `axis`, placed one after another along it. In row-major order
// the output is, for each index of the axes before `axis`, one contiguous chunk per part in turn. A part
// may be a constant (a ViT's CLS token): the same values for every sample; its share of the relevance is
// absorbed (ATTNLRP rule 6), as the gradient w.r.t. a constant goes nowhere.

class ConcatLayer : public Layer {
 public:
  // `slots`: one per part in order, -1 for the next input, n ≥ 0 for a constant part n long along `axis`;
  // `constants`: the constant parts' values one after another, each row-major in its own shape.
  ConcatLayer(std::vector<Shape> inputs, int axis, const std::vector<int>& slots, const std::vector<float>& constants)
      : inputs_(std::move(inputs)), axis_(axis) {
    const Shape& first = inputs_[0];
    output_ = first;
    output_[static_cast<size_t>(axis_)] = 0;
    for (const Shape& shape : inputs_) {
      bool same = shape.size() == first.size();
      for (size_t a = 0; same && a < shape.size(); ++a) same = static_cast<int>(a) == axis_ || shape[a] == first[a];
      if (!same)
        throw Error("concat along axis " + std::to_string(axis_) + " needs inputs equal on the other axes, got " +
                    shapeToString(first) + " and " + shapeToString(shape));
    }
    outer_ = std::accumulate(first.begin(), first.begin() + axis_, int64_t{1}, std::multiplies<int64_t>());
    const int64_t inner = std::accumulate(first.begin() + axis_ + 1, first.end(), int64_t{1}, std::multiplies<int64_t>());
    size_t nextInput = 0;
    int64_t constantAt = 0;
    const std::vector<int> parts = slots.empty() ? std::vector<int>(inputs_.size(), -1) : slots;
    for (int slot : parts) {
      Part part;
      if (slot < 0) {
        if (nextInput >= inputs_.size()) throw Error("concat: more input slots than inputs");
        part.input = static_cast<int>(nextInput);
        part.length = inputs_[nextInput++][static_cast<size_t>(axis_)];
      } else {
        part.length = slot;
        part.constantOffset = constantAt;
        constantAt += outer_ * slot * inner;
      }
      if (part.length < 1) throw Error("concat: every part needs a positive length along the axis");
      part.chunk = part.length * inner;
      output_[static_cast<size_t>(axis_)] += part.length;
      parts_.push_back(part);
    }
    if (nextInput != inputs_.size()) throw Error("concat: fewer input slots than inputs");
    if (constantAt != static_cast<int64_t>(constants.size()))
      throw Error("concat: the constant parts need " + std::to_string(constantAt) + " values, got " +
                  std::to_string(constants.size()));
    for (float v : constants)
      if (!std::isfinite(v)) throw Error("concat: constant parts must be finite");
    constants_ = constants;
    shapeSize(output_);
    outChunk_ = 0;
    for (const Part& part : parts_) outChunk_ += part.chunk;
  }

  const char* kind() const override { return "concat"; }
  Role role() const override { return Role::Reindex; }
  int64_t memoryBytes() const override { return bytesOf(constants_); }

  Shape outputShape(const std::vector<Shape>& inputShapes) const override {
    if (inputShapes != inputs_) {
      std::string got;
      for (const Shape& shape : inputShapes) got += (got.empty() ? "" : ", ") + shapeToString(shape);
      throw Error("concat was built for other inputs, got " + got);
    }
    return output_;
  }

  Matrix forward(const std::vector<const Matrix*>& inputs) const override {
    Matrix y(outer_ * outChunk_, inputs[0]->cols());
    for (Eigen::Index c = 0; c < y.cols(); ++c) {
      float* out = y.col(c).data();
      for (int64_t o = 0; o < outer_; ++o)
        for (const Part& part : parts_) {
          const float* in = part.input >= 0 ? inputs[static_cast<size_t>(part.input)]->col(c).data() + o * part.chunk
                                            : constants_.data() + part.constantOffset + o * part.chunk;
          out = std::copy(in, in + part.chunk, out);
        }
    }
    return y;
  }

  // Each input gets back its own chunks (concat is injective: no sums); constant parts keep theirs.
  std::vector<Matrix> gradient(const std::vector<const Matrix*>& inputs, const Matrix&,
                               const Matrix& gradOutput) const override {
    std::vector<Matrix> grads;
    for (const Matrix* x : inputs) grads.emplace_back(x->rows(), gradOutput.cols());
    for (Eigen::Index c = 0; c < gradOutput.cols(); ++c) {
      const float* gy = gradOutput.col(c).data();
      for (int64_t o = 0; o < outer_; ++o)
        for (const Part& part : parts_) {
          if (part.input >= 0)
            std::copy(gy, gy + part.chunk, grads[static_cast<size_t>(part.input)].col(c).data() + o * part.chunk);
          gy += part.chunk;
        }
    }
    return grads;
  }

 private:
  struct Part {
    int input = -1;               // which input, or -1 for a constant part
    int64_t length = 0;           // along the axis
    int64_t chunk = 0;            // values from `axis` on
    int64_t constantOffset = 0;   // where a constant part's values start in constants_
  };
  std::vector<Shape> inputs_;
  int axis_;
  Shape output_;
  int64_t outer_;  // product of the axes before `axis`
  std::vector<Part> parts_;
  std::vector<float> constants_;
  int64_t outChunk_;  // Σ chunk
};

}  // namespace

// spec: perm (per-sample axes).
std::unique_ptr<Layer> buildTranspose(LayerSpec& spec, const std::vector<Shape>& inputShapes) {
  return makeTranspose(singleInput("transpose", inputShapes), spec.integers("perm"));
}

// spec: starts, ends, steps, one per axis (normalised by the importer).
std::unique_ptr<Layer> buildSlice(LayerSpec& spec, const std::vector<Shape>& inputShapes) {
  return makeSlice(singleInput("slice", inputShapes), spec.integers("starts"), spec.integers("ends"),
                   spec.integers("steps"));
}

// spec: axis, indices (non-negative, in range), indicesShape ([] for a scalar index).
std::unique_ptr<Layer> buildGather(LayerSpec& spec, const std::vector<Shape>& inputShapes) {
  return makeGather(singleInput("gather", inputShapes), spec.integer("axis"), spec.integers("indices"),
                    spec.integers("indicesShape"));
}

// spec: outputShape, the target of the broadcast.
std::unique_ptr<Layer> buildExpand(LayerSpec& spec, const std::vector<Shape>& inputShapes) {
  return makeExpand(singleInput("expand", inputShapes), spec.integers("outputShape"));
}

// spec: pads [begin…, end…] one per axis (≥ 0), value (default 0).
std::unique_ptr<Layer> buildPad(LayerSpec& spec, const std::vector<Shape>& inputShapes) {
  return makePad(singleInput("pad", inputShapes), spec.integers("pads"), static_cast<float>(spec.number("value", 0.0)));
}

// spec: axis; one or more inputs; optionally slots (-1: the next input, n: a constant part n long along the
// axis) and constant (the constant parts' values, one after another).
std::unique_ptr<Layer> buildConcat(LayerSpec& spec, const std::vector<Shape>& inputShapes) {
  if (inputShapes.empty()) throw Error("concat takes at least one input");
  const int axis = checkedAxis("concat", spec.integer("axis"), inputShapes[0]);
  const std::vector<int> slots = spec.has("slots") ? spec.integers("slots") : std::vector<int>();
  return std::make_unique<ConcatLayer>(inputShapes, axis, slots, spec.floats("constant"));
}

}  // namespace lrp
