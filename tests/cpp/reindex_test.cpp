// The re-indexing layers (transpose, slice, gather, concat, expand, pad, reshape) and the token embedding,
// built through the layer table as the importer describes them (docs/layers.md). Each kind is checked
// against a naive reference written from the definitions (explicit multi-indices, in double): forward
// values exactly, the gradient against the reference's transposed copy and through the adjoint identity
// ⟨g, f(x) − f(0)⟩ = ⟨fᵀ g, x⟩; then hand-computed cases, the shape errors, and LRP through a graph.
#include "test_helpers.hpp"

#include <functional>

namespace {

using namespace lrptest;
using lrp::LayerSpec;
using lrp::Matrix;
using lrp::Shape;
using lrp::Vector;

using Ints = std::vector<double>;  // integer lists as the importer sends them

int64_t count(const Shape& shape) {
  int64_t n = 1;
  for (int d : shape) n *= d;
  return n;
}


// Where an output value comes from in the reference: input `input` at multi-index `index`, or the
// constant (input −1).
struct Source {
  int input;
  std::vector<int> index;
};
using SourceOf = std::function<Source(const std::vector<int>& outIndex)>;

struct Case {
  std::string kind;
  LayerSpec spec;
  std::vector<Shape> inputs;
  Shape output;
  SourceOf source;
  double fill = 0.0;
};

std::unique_ptr<lrp::Layer> build(const std::string& kind, LayerSpec spec, const std::vector<Shape>& inputs) {
  return lrp::buildLayer(kind, spec, inputs);
}

std::vector<const Matrix*> pointers(const std::vector<Matrix>& xs) {
  std::vector<const Matrix*> out;
  for (const Matrix& x : xs) out.push_back(&x);
  return out;
}

// Forward against the reference exactly (a copy is a copy); gradient against the reference's transpose
// (sums where a source repeats) and through the adjoint identity.
void checkAgainstReference(const Case& c, uint32_t seed) {
  SCOPED_TRACE(c.kind + " " + lrp::shapeToString(c.inputs[0]) + " → " + lrp::shapeToString(c.output));
  const auto layer = build(c.kind, c.spec, c.inputs);
  EXPECT_STREQ(layer->kind(), c.kind.c_str());
  EXPECT_EQ(layer->role(), lrp::Role::Reindex);
  ASSERT_EQ(layer->outputShape(c.inputs), c.output);

  std::mt19937 rng(seed);
  const int batch = 3;
  std::vector<Matrix> xs, zeros;
  for (const Shape& shape : c.inputs) {
    xs.push_back(randomMatrix(rng, static_cast<int>(count(shape)), batch, -1, 1));
    zeros.push_back(Matrix::Zero(count(shape), batch));
  }
  const Matrix y = layer->forward(pointers(xs));
  const int64_t outCount = count(c.output);
  ASSERT_EQ(y.rows(), outCount);
  ASSERT_EQ(y.cols(), batch);

  const Matrix gy = randomMatrix(rng, static_cast<int>(outCount), batch, -1, 1);
  std::vector<DMat> refGrad;
  for (const Matrix& x : xs) refGrad.push_back(DMat::Zero(x.rows(), batch));
  for (int64_t k = 0; k < outCount; ++k) {
    const Source s = c.source(unravel(k, c.output));
    for (int col = 0; col < batch; ++col) {
      if (s.input < 0) {
        EXPECT_EQ(y(k, col), static_cast<float>(c.fill)) << "output " << k;
        continue;
      }
      const int64_t from = ravel(s.index, c.inputs[static_cast<size_t>(s.input)]);
      EXPECT_EQ(y(k, col), xs[static_cast<size_t>(s.input)](from, col)) << "output " << k;
      refGrad[static_cast<size_t>(s.input)](from, col) += gy(k, col);
    }
  }

  const std::vector<Matrix> grads = layer->gradient(pointers(xs), y, gy);
  ASSERT_EQ(grads.size(), xs.size());
  double inner = 0;
  for (size_t i = 0; i < grads.size(); ++i) {
    ASSERT_EQ(grads[i].rows(), xs[i].rows());
    ASSERT_EQ(grads[i].cols(), batch);
    // An input no output reads (a slice's or gather's leftovers) has a zero gradient: compare exactly then.
    if (refGrad[i].cwiseAbs().maxCoeff() > 0) EXPECT_TRUE(closeScaled(grads[i], refGrad[i], 1e-6)) << "input " << i;
    else EXPECT_TRUE(grads[i].isZero(0));
    inner += grads[i].cast<double>().cwiseProduct(xs[i].cast<double>()).sum();
  }
  // The layer is affine (pad's constant aside): ⟨g, f(x) − f(0)⟩ = ⟨fᵀ g, x⟩.
  const DMat linearPart = y.cast<double>() - layer->forward(pointers(zeros)).cast<double>();
  const double outer = gy.cast<double>().cwiseProduct(linearPart).sum();
  EXPECT_NEAR(outer, inner, 1e-5 * std::max(1.0, std::abs(outer)));
}

// ------------------------------------------------------------------------------------------------------------
// transpose

Case transposeCase(Shape input, std::vector<int> perm) {
  Case c;
  c.kind = "transpose";
  c.inputs = {input};
  for (int p : perm) c.output.push_back(input[static_cast<size_t>(p)]);
  c.spec.set("perm", Ints(perm.begin(), perm.end()));
  c.source = [perm](const std::vector<int>& out) {
    std::vector<int> in(out.size());
    for (size_t a = 0; a < perm.size(); ++a) in[static_cast<size_t>(perm[a])] = out[a];  // out axis a = in axis perm[a]
    return Source{0, in};
  };
  return c;
}

TEST(Transpose, MatchesTheReferenceUpToRankSix) {
  checkAgainstReference(transposeCase({2, 3, 4}, {2, 0, 1}), 1);
  checkAgainstReference(transposeCase({3, 4}, {1, 0}), 2);
  checkAgainstReference(transposeCase({5}, {0}), 3);
  checkAgainstReference(transposeCase({2, 3, 4}, {0, 1, 2}), 4);
  checkAgainstReference(transposeCase({4, 3, 2, 5}, {0, 2, 3, 1}), 5);  // NCHW → NHWC style
  checkAgainstReference(transposeCase({2, 1, 3, 2, 2, 3}, {5, 3, 0, 4, 1, 2}), 6);
}

TEST(Transpose, HandCase) {
  const auto layer = build("transpose", [] { LayerSpec s; s.set("perm", Ints{1, 0}); return s; }(), {{2, 3}});
  const Matrix x = (Matrix(6, 1) << 0, 1, 2, 3, 4, 5).finished();
  const Matrix y = layer->forward({&x});
  EXPECT_EQ(y, (Matrix(6, 1) << 0, 3, 1, 4, 2, 5).finished());
  // The gradient of a permutation is the inverse permutation.
  EXPECT_EQ(layer->gradient({&x}, y, y)[0], x);
}

TEST(Transpose, RefusesWhatIsNotAPermutation) {
  auto spec = [](Ints perm) { LayerSpec s; s.set("perm", perm); return s; };
  EXPECT_TRUE(throwsWith([&] { build("transpose", spec({0, 0, 1}), {{2, 3, 4}}); }, "is not a permutation"));
  EXPECT_TRUE(throwsWith([&] { build("transpose", spec({0, 3, 1}), {{2, 3, 4}}); }, "is not a permutation"));
  EXPECT_TRUE(throwsWith([&] { build("transpose", spec({1, 0}), {{2, 3, 4}}); }, "one 'perm' value per axis"));
  EXPECT_TRUE(throwsWith([&] { build("transpose", LayerSpec(), {{2, 3}}); }, "missing option 'perm'"));
  EXPECT_TRUE(throwsWith([&] { build("transpose", spec({1, 0}), {{2, 3}, {3, 2}}); }, "takes one input"));
}

// ------------------------------------------------------------------------------------------------------------
// slice

Case sliceCase(Shape input, std::vector<int> starts, std::vector<int> ends, std::vector<int> steps, Shape output) {
  Case c;
  c.kind = "slice";
  c.inputs = {input};
  c.output = output;
  c.spec.set("starts", Ints(starts.begin(), starts.end()));
  c.spec.set("ends", Ints(ends.begin(), ends.end()));
  c.spec.set("steps", Ints(steps.begin(), steps.end()));
  c.spec.set("outputShape", Ints(output.begin(), output.end()));
  c.source = [starts, steps](const std::vector<int>& out) {
    std::vector<int> in(out.size());
    for (size_t a = 0; a < out.size(); ++a) in[a] = starts[a] + out[a] * steps[a];
    return Source{0, in};
  };
  return c;
}

TEST(Slice, MatchesTheReference) {
  checkAgainstReference(sliceCase({5, 6}, {1, 0}, {4, 6}, {2, 1}, {2, 6}), 10);
  checkAgainstReference(sliceCase({5, 4, 3}, {4, 3, 0}, {-1, 0, 3}, {-2, -1, 1}, {3, 3, 3}), 11);
  checkAgainstReference(sliceCase({7}, {0}, {7}, {3}, {3}), 12);
  checkAgainstReference(sliceCase({7}, {6}, {-1}, {-1}, {7}), 13);   // the whole axis reversed
  checkAgainstReference(sliceCase({2, 8}, {0, 2}, {2, 6}, {1, 1}, {2, 4}), 14);  // a Split part
  checkAgainstReference(sliceCase({3, 4}, {2, 1}, {3, 2}, {1, 5}, {1, 1}), 15);  // step past the end
}

TEST(Slice, HandCase) {
  const Case c = sliceCase({6}, {5}, {-1}, {-2}, {3});
  const auto layer = build("slice", c.spec, c.inputs);
  const Matrix x = (Matrix(6, 1) << 10, 11, 12, 13, 14, 15).finished();
  const Matrix y = layer->forward({&x});
  EXPECT_EQ(y, (Matrix(3, 1) << 15, 13, 11).finished());
  EXPECT_EQ(layer->gradient({&x}, y, Matrix::Ones(3, 1))[0], (Matrix(6, 1) << 0, 1, 0, 1, 0, 1).finished());
}

TEST(Slice, RefusesRangesTheImporterShouldHaveNormalised) {
  auto spec = [](Ints starts, Ints ends, Ints steps) {
    LayerSpec s;
    s.set("starts", starts);
    s.set("ends", ends);
    s.set("steps", steps);
    return s;
  };
  EXPECT_TRUE(throwsWith([&] { build("slice", spec({5}, {5}, {1}), {{5}}); }, "start 5 is out of range"));
  EXPECT_TRUE(throwsWith([&] { build("slice", spec({-1}, {3}, {1}), {{5}}); }, "start -1 is out of range"));
  EXPECT_TRUE(throwsWith([&] { build("slice", spec({0}, {6}, {1}), {{5}}); }, "end 6 is out of range"));
  EXPECT_TRUE(throwsWith([&] { build("slice", spec({4}, {-2}, {-1}), {{5}}); }, "end -2 is out of range"));
  EXPECT_TRUE(throwsWith([&] { build("slice", spec({0}, {3}, {0}), {{5}}); }, "step must not be 0"));
  EXPECT_TRUE(throwsWith([&] { build("slice", spec({3}, {3}, {1}), {{5}}); }, "select nothing"));
  EXPECT_TRUE(throwsWith([&] { build("slice", spec({1}, {3}, {-1}), {{5}}); }, "select nothing"));
  EXPECT_TRUE(throwsWith([&] { build("slice", spec({0, 0}, {3, 2}, {1, 1}), {{5, 2}, {1}}); }, "takes one input"));
  EXPECT_TRUE(throwsWith([&] { build("slice", spec({0}, {3}, {1}), {{5, 2}}); }, "one 'starts' value per axis"));
  EXPECT_TRUE(throwsWith([&] { build("slice", spec({0, 2}, {3, 3}, {1, 1}), {{5, 2}}); }, "slice axis 1 (size 2): start 2"));
}

// ------------------------------------------------------------------------------------------------------------
// gather

Case gatherCase(Shape input, int axis, std::vector<int> indices, Shape indicesShape) {
  Case c;
  c.kind = "gather";
  c.inputs = {input};
  c.output.assign(input.begin(), input.begin() + axis);
  c.output.insert(c.output.end(), indicesShape.begin(), indicesShape.end());
  c.output.insert(c.output.end(), input.begin() + axis + 1, input.end());
  c.spec.set("axis", static_cast<double>(axis));
  c.spec.set("indices", Ints(indices.begin(), indices.end()));
  c.spec.set("indicesShape", Ints(indicesShape.begin(), indicesShape.end()));
  const size_t r = indicesShape.size();
  c.source = [axis, indices, indicesShape, r](const std::vector<int>& out) {
    const auto at = out.begin() + axis;
    std::vector<int> in(out.begin(), at);
    in.push_back(indices[static_cast<size_t>(ravel(std::vector<int>(at, at + static_cast<long>(r)), indicesShape))]);
    in.insert(in.end(), at + static_cast<long>(r), out.end());
    return Source{0, in};
  };
  return c;
}

TEST(Gather, MatchesTheReference) {
  checkAgainstReference(gatherCase({4, 5}, 1, {4, 0, 4}, {3}), 20);       // repeated indices sum in the gradient
  checkAgainstReference(gatherCase({4, 5}, 0, {2}, {}), 21);              // a scalar index drops the axis
  checkAgainstReference(gatherCase({3, 4, 2}, 1, {3, 1, 1, 0}, {2, 2}), 22);
  checkAgainstReference(gatherCase({3, 4, 2}, 2, {1}, {1}), 23);
  checkAgainstReference(gatherCase({6}, 0, {5}, {}), 24);                 // to a per-sample scalar []
  checkAgainstReference(gatherCase({197, 8}, 0, {0}, {}), 25);            // the CLS token
}

TEST(Gather, HandCase) {
  const Case c = gatherCase({4}, 0, {3, 3, 0}, {3});
  const auto layer = build("gather", c.spec, c.inputs);
  const Matrix x = (Matrix(4, 1) << 10, 11, 12, 13).finished();
  const Matrix y = layer->forward({&x});
  EXPECT_EQ(y, (Matrix(3, 1) << 13, 13, 10).finished());
  EXPECT_EQ(layer->gradient({&x}, y, (Matrix(3, 1) << 1, 2, 4).finished())[0], (Matrix(4, 1) << 4, 0, 0, 3).finished());
}

TEST(Gather, RefusesBadIndicesAndAxes) {
  auto spec = [](double axis, Ints indices, Ints shape) {
    LayerSpec s;
    s.set("axis", axis);
    s.set("indices", indices);
    s.set("indicesShape", shape);
    return s;
  };
  EXPECT_TRUE(throwsWith([&] { build("gather", spec(0, {1, 5}, {2}), {{5}}); }, "index 5 (at 1) is out of range for axis 0 of size 5"));
  EXPECT_TRUE(throwsWith([&] { build("gather", spec(0, {-1}, {1}), {{5}}); }, "index -1 (at 0) is out of range"));
  EXPECT_TRUE(throwsWith([&] { build("gather", spec(0, {1, 2, 3}, {2}), {{5}}); }, "has 3 indices, indicesShape [2] needs 2"));
  EXPECT_TRUE(throwsWith([&] { build("gather", spec(0, {1, 2}, {}), {{5}}); }, "has 2 indices, indicesShape [] needs 1"));
  EXPECT_TRUE(throwsWith([&] { build("gather", spec(2, {0}, {1}), {{5, 3}}); }, "gather axis 2 is out of range"));
  EXPECT_TRUE(throwsWith([&] { build("gather", spec(0, {0.5}, {1}), {{5}}); }, "must be an integer"));
}

// ------------------------------------------------------------------------------------------------------------
// concat

Case concatCase(std::vector<Shape> inputs, int axis) {
  Case c;
  c.kind = "concat";
  c.inputs = inputs;
  c.output = inputs[0];
  c.output[static_cast<size_t>(axis)] = 0;
  for (const Shape& s : inputs) c.output[static_cast<size_t>(axis)] += s[static_cast<size_t>(axis)];
  c.spec.set("axis", static_cast<double>(axis));
  c.source = [inputs, axis](const std::vector<int>& out) {
    std::vector<int> in = out;
    int k = 0;
    const auto a = static_cast<size_t>(axis);
    while (in[a] >= inputs[static_cast<size_t>(k)][a]) in[a] -= inputs[static_cast<size_t>(k++)][a];
    return Source{k, in};
  };
  return c;
}

TEST(Concat, MatchesTheReferenceAlongAnyAxis) {
  checkAgainstReference(concatCase({{2, 3, 3}, {1, 3, 3}}, 0), 30);
  checkAgainstReference(concatCase({{2, 1, 3}, {2, 4, 3}, {2, 2, 3}}, 1), 31);
  checkAgainstReference(concatCase({{3, 2}, {3, 5}}, 1), 32);
  checkAgainstReference(concatCase({{4, 2}}, 0), 33);
  checkAgainstReference(concatCase({{2}, {3}, {1}, {2}}, 0), 34);
  checkAgainstReference(concatCase({{1, 2, 2, 3}, {1, 2, 2, 1}}, 3), 35);
}

TEST(Concat, HandCase) {
  const Case c = concatCase({{2, 1}, {2, 2}}, 1);
  const auto layer = build("concat", c.spec, c.inputs);
  const Matrix a = (Matrix(2, 1) << 1, 2).finished(), b = (Matrix(4, 1) << 3, 4, 5, 6).finished();
  const Matrix y = layer->forward({&a, &b});
  EXPECT_EQ(y, (Matrix(6, 1) << 1, 3, 4, 2, 5, 6).finished());
  const auto grads = layer->gradient({&a, &b}, y, y * 2);
  EXPECT_EQ(grads[0], a * 2);
  EXPECT_EQ(grads[1], b * 2);
}

TEST(Concat, RefusesMismatchedInputs) {
  auto spec = [](double axis) { LayerSpec s; s.set("axis", axis); return s; };
  EXPECT_TRUE(throwsWith([&] { build("concat", spec(0), {{2, 3, 3}, {1, 3, 4}}); }, "needs inputs equal on the other axes, got [2, 3, 3] and [1, 3, 4]"));
  EXPECT_TRUE(throwsWith([&] { build("concat", spec(0), {{2, 3}, {2, 3, 1}}); }, "needs inputs equal on the other axes"));
  EXPECT_TRUE(throwsWith([&] { build("concat", spec(2), {{2, 3}, {2, 3}}); }, "concat axis 2 is out of range"));
  EXPECT_TRUE(throwsWith([&] { build("concat", spec(0), {}); }, "at least one input"));
  EXPECT_TRUE(throwsWith([&] { build("concat", LayerSpec(), {{2}, {2}}); }, "missing option 'axis'"));
  const auto layer = build("concat", spec(0), {{2}, {3}});
  EXPECT_TRUE(throwsWith([&] { layer->outputShape({{2}, {4}}); }, "built for other inputs"));
}

// ------------------------------------------------------------------------------------------------------------
// expand

Case expandCase(Shape input, Shape target) {
  Case c;
  c.kind = "expand";
  c.inputs = {input};
  c.output = target;
  c.spec.set("outputShape", Ints(target.begin(), target.end()));
  const size_t lead = target.size() - input.size();
  c.source = [input, lead](const std::vector<int>& out) {
    std::vector<int> in(input.size());
    for (size_t a = 0; a < input.size(); ++a) in[a] = input[a] == 1 ? 0 : out[lead + a];
    return Source{0, in};
  };
  return c;
}

TEST(Expand, MatchesTheReference) {
  checkAgainstReference(expandCase({3, 1}, {2, 3, 4}), 40);
  checkAgainstReference(expandCase({1}, {5}), 41);
  checkAgainstReference(expandCase({2, 1, 3}, {2, 4, 3}), 42);
  checkAgainstReference(expandCase({2, 3}, {2, 3}), 43);
  checkAgainstReference(expandCase({1, 1, 8}, {1, 3, 8}), 44);  // a CLS token to 3 rows
}

TEST(Expand, HandCaseSumsTheGradientOverBroadcastAxes) {
  const Case c = expandCase({2, 1}, {2, 3});
  const auto layer = build("expand", c.spec, c.inputs);
  const Matrix x = (Matrix(2, 1) << 7, -1).finished();
  const Matrix y = layer->forward({&x});
  EXPECT_EQ(y, (Matrix(6, 1) << 7, 7, 7, -1, -1, -1).finished());
  EXPECT_EQ(layer->gradient({&x}, y, (Matrix(6, 1) << 1, 2, 3, 4, 5, 6).finished())[0], (Matrix(2, 1) << 6, 15).finished());
}

TEST(Expand, RefusesWhatDoesNotBroadcast) {
  auto spec = [](Ints target) { LayerSpec s; s.set("outputShape", target); return s; };
  EXPECT_TRUE(throwsWith([&] { build("expand", spec({4}), {{3}}); }, "expand cannot broadcast [3] to [4]"));
  EXPECT_TRUE(throwsWith([&] { build("expand", spec({3}), {{2, 3}}); }, "the target has fewer axes"));
  EXPECT_TRUE(throwsWith([&] { build("expand", spec({2, 0}), {{2, 1}}); }, "dimensions must be positive"));
  EXPECT_TRUE(throwsWith([&] { build("expand", LayerSpec(), {{2, 1}}); }, "missing option 'outputShape'"));
}

// ------------------------------------------------------------------------------------------------------------
// pad

Case padCase(Shape input, std::vector<int> pads, double value) {
  Case c;
  c.kind = "pad";
  c.inputs = {input};
  const size_t rank = input.size();
  for (size_t a = 0; a < rank; ++a) c.output.push_back(input[a] + pads[a] + pads[rank + a]);
  c.spec.set("pads", Ints(pads.begin(), pads.end()));
  c.spec.set("value", value);
  c.fill = value;
  c.source = [input, pads](const std::vector<int>& out) {
    std::vector<int> in(out.size());
    for (size_t a = 0; a < out.size(); ++a) {
      in[a] = out[a] - pads[a];
      if (in[a] < 0 || in[a] >= input[a]) return Source{-1, {}};
    }
    return Source{0, in};
  };
  return c;
}

TEST(Pad, MatchesTheReferenceOnAnyAxes) {
  checkAgainstReference(padCase({2, 3, 4}, {0, 1, 2, 0, 0, 1}, -0.5), 50);  // spatial, as ZeroPad2d
  checkAgainstReference(padCase({5}, {2, 3}, 1.0), 51);
  checkAgainstReference(padCase({1, 2, 2, 3}, {1, 0, 2, 1, 0, 1, 1, 2}, 0.0), 52);
  checkAgainstReference(padCase({2, 3}, {1, 0, 1, 0}, 2.0), 53);  // the channel axis too
  checkAgainstReference(padCase({2, 3}, {0, 0, 0, 0}, 2.0), 54);
}

TEST(Pad, HandCase) {
  const Case c = padCase({2}, {1, 0}, 9.0);
  const auto layer = build("pad", c.spec, c.inputs);
  const Matrix x = (Matrix(2, 1) << 1, 2).finished();
  const Matrix y = layer->forward({&x});
  EXPECT_EQ(y, (Matrix(3, 1) << 9, 1, 2).finished());
  EXPECT_EQ(layer->gradient({&x}, y, (Matrix(3, 1) << 5, 6, 7).finished())[0], (Matrix(2, 1) << 6, 7).finished());
}

TEST(Pad, RefusesNegativeOrMiscountedPads) {
  auto spec = [](Ints pads, double value) {
    LayerSpec s;
    s.set("pads", pads);
    s.set("value", value);
    return s;
  };
  EXPECT_TRUE(throwsWith([&] { build("pad", spec({-1, 0, 0, 0}, 0), {{2, 3}}); }, "non-negative"));
  EXPECT_TRUE(throwsWith([&] { build("pad", spec({1, 1}, 0), {{2, 3}}); }, "needs pads [begin…, end…] with 4 values"));
  EXPECT_TRUE(throwsWith([&] { build("pad", spec({1, 1}, std::nan("")), {{2}}); }, "pad value must be finite"));
  // value defaults to 0
  LayerSpec noValue;
  noValue.set("pads", Ints{1, 1});
  const auto layer = build("pad", noValue, {{1}});
  const Matrix x = Matrix::Constant(1, 1, 3.0f);
  EXPECT_EQ(layer->forward({&x}), (Matrix(3, 1) << 0, 3, 0).finished());
}

// ------------------------------------------------------------------------------------------------------------
// reshape and identity (elementwise.cpp): a reshape to the same shape is fine.

TEST(Reshape, ToTheSameShapeAndToAnother) {
  lrp::Graph g(Shape{2, 3});
  LayerSpec same;
  same.set("outputShape", Ints{2, 3});
  const int a = g.add("same", "reshape", same, {lrp::kGraphInput});
  LayerSpec flat;
  flat.set("outputShape", Ints{6});
  const int b = g.add("flat", "reshape", flat, {a});
  LayerSpec id;
  id.set("outputShape", Ints{6});
  g.add("id", "identity", id, {b});
  EXPECT_EQ(g.node(a).outputShape, (Shape{2, 3}));
  EXPECT_EQ(g.node(b).outputShape, (Shape{6}));
  const Matrix x = (Matrix(6, 1) << 1, 2, 3, 4, 5, 6).finished();
  EXPECT_EQ(g.predict(x), x);
  LayerSpec wrong;
  wrong.set("outputShape", Ints{4});
  EXPECT_TRUE(throwsWith([&] { g.add("bad", "reshape", wrong, {b}); }, "cannot reshape [6] to [4]"));
}

// ------------------------------------------------------------------------------------------------------------
// Through the graph: the importer's outputShape is checked, and a layer is bound to its input shape.

TEST(Reindex, TheGraphRefusesADisagreeingOutputShape) {
  lrp::Graph g(Shape{2, 3});
  LayerSpec spec;
  spec.set("perm", Ints{1, 0});
  spec.set("outputShape", Ints{2, 3});
  EXPECT_TRUE(throwsWith([&] { g.add("t", "transpose", spec, {lrp::kGraphInput}); },
                         "node 't' (transpose): the importer expects output shape [2, 3], the engine computes [3, 2]"));
  const auto layer = build("transpose", spec, {{2, 3}});
  EXPECT_TRUE(throwsWith([&] { layer->outputShape({{3, 2}}); }, "transpose was built for input [2, 3], got [3, 2]"));
}

// ------------------------------------------------------------------------------------------------------------
// LRP through a chain of re-indexing layers: relevance follows the gradient, so nothing is lost on the
// way (Σ relevance in = Σ out at every node), and with LRP-0 on a bias-free head Σ R_input = f_t.

// A weight as the importer sends it: row-major [out, in].
std::vector<float> rowMajorOf(const Matrix& m) {
  std::vector<float> out;
  for (Eigen::Index r = 0; r < m.rows(); ++r)
    for (Eigen::Index c = 0; c < m.cols(); ++c) out.push_back(m(r, c));
  return out;
}

LayerSpec specOf(std::initializer_list<std::pair<const char*, lrp::LayerSpec::Value>> entries) {
  LayerSpec s;
  for (const auto& [key, value] : entries) s.set(key, value);
  return s;
}

TEST(Reindex, LrpConservesRelevanceThroughAChain) {
  lrp::Graph g(Shape{2, 3, 4});
  const int t = g.add("transpose", "transpose", specOf({{"perm", Ints{2, 0, 1}}, {"outputShape", Ints{4, 2, 3}}}), {lrp::kGraphInput});
  const int s = g.add("reverse", "slice",
                      specOf({{"starts", Ints{0, 0, 2}}, {"ends", Ints{4, 2, -1}}, {"steps", Ints{1, 1, -1}},
                              {"outputShape", Ints{4, 2, 3}}}), {t});
  const int c = g.add("concat", "concat", specOf({{"axis", 1.0}, {"outputShape", Ints{4, 4, 3}}}), {t, s});
  const int p = g.add("pad", "pad", specOf({{"pads", Ints{0, 1, 0, 0, 0, 1}}, {"value", 0.0}, {"outputShape", Ints{4, 5, 4}}}), {c});
  const int gi = g.add("gather", "gather", specOf({{"axis", 0.0}, {"indices", Ints{3, 0, 1, 2}}, {"indicesShape", Ints{2, 2}},
                                                   {"outputShape", Ints{2, 2, 5, 4}}}), {p});
  const int r = g.add("flat", "reshape", specOf({{"outputShape", Ints{2, 40}}}), {gi});
  const int e = g.add("expand", "expand", specOf({{"outputShape", Ints{2, 2, 40}}}), {r});
  const int f = g.add("flat2", "reshape", specOf({{"outputShape", Ints{160}}}), {e});
  std::mt19937 rng(60);
  const Matrix w = randomMatrix(rng, 3, 160, -0.3, 0.3);
  const int head = g.add("head", "dense", specOf({{"weight", rowMajorOf(w)},
                                                   {"outputShape", Ints{3}}}), {f});
  ASSERT_EQ(head, 8);

  lrp::ExplainRequest req;
  lrp::RuleOverride zero;
  zero.rule.kind = lrp::RuleKind::Zero;
  zero.selector = lrp::RuleOverride::Selector::Dense;
  req.rules = lrp::resolveRules(g, "", {}, {zero});
  for (int id : {t, s, c, p, gi, r, e, f}) EXPECT_FALSE(req.rules[static_cast<size_t>(id)].has_value()) << id;
  req.layerRelevance = true;
  req.target = 1;
  const Vector x = randomVector(rng, 24, -1, 1);
  const lrp::Explanation ex = explainVec(g, x, req);
  const double ft = ex.output(1);
  EXPECT_NEAR(ex.relevance.cast<double>().sum(), ft, 1e-4 * std::max(1.0, std::abs(ft)));
  for (const auto& layer : ex.layers)
    EXPECT_NEAR(layer.absorbed(), 0.0, 1e-5 * std::max(1.0, std::abs(layer.sum))) << "node " << layer.node;

  // The input relevance is the gradient of the chain (a pure copy map) applied to the head's input
  // relevance: check it against the gradient method on x ⊙ (that gradient), which LRP-0 on a linear head is.
  lrp::ExplainRequest grad;
  grad.method = lrp::Method::GradientXInput;
  grad.target = 1;
  const lrp::Explanation gx = explainVec(g, x, grad);
  EXPECT_TRUE(closeScaled(ex.relevance, gx.relevance.cast<double>(), 1e-5));
}

// ------------------------------------------------------------------------------------------------------------
// embedding

LayerSpec embeddingSpec(std::vector<float> table, Shape output) {
  LayerSpec s;
  s.set("table", std::move(table));
  s.set("outputShape", Ints(output.begin(), output.end()));
  return s;
}

TEST(Embedding, LooksUpRowsAndSumsTheGradientOverD) {
  const int V = 5, D = 3;
  std::vector<float> table(V * D);
  for (int i = 0; i < V * D; ++i) table[static_cast<size_t>(i)] = static_cast<float>(i) * 0.5f - 2;
  const auto layer = build("embedding", embeddingSpec(table, {2, 2, D}), {{2, 2}});
  EXPECT_STREQ(layer->kind(), "embedding");
  EXPECT_EQ(layer->role(), lrp::Role::Embedding);
  EXPECT_EQ(layer->outputShape({{2, 2}}), (Shape{2, 2, D}));
  const Matrix ids = (Matrix(4, 2) << 2, 4, 0, 0, 4, 1, 3, 3).finished();
  const Matrix y = layer->forward({&ids});
  ASSERT_EQ(y.rows(), 4 * D);
  for (int c = 0; c < 2; ++c)
    for (int t = 0; t < 4; ++t)
      for (int d = 0; d < D; ++d)
        EXPECT_EQ(y(t * D + d, c), table[static_cast<size_t>(static_cast<int>(ids(t, c)) * D + d)]) << t << "," << d;
  std::mt19937 rng(70);
  const Matrix gy = randomMatrix(rng, 4 * D, 2, -1, 1);
  const Matrix g = layer->gradient({&ids}, y, gy)[0];
  ASSERT_EQ(g.rows(), 4);
  ASSERT_EQ(g.cols(), 2);
  for (int c = 0; c < 2; ++c)
    for (int t = 0; t < 4; ++t) {
      double sum = 0;
      for (int d = 0; d < D; ++d) sum += gy(t * D + d, c);
      EXPECT_NEAR(g(t, c), sum, 1e-6);
    }
}

TEST(Embedding, RefusesBadIdsWithoutReadingOutsideTheTable) {
  const auto layer = build("embedding", embeddingSpec(std::vector<float>(12, 1.0f), {3, 3}), {{3}});
  auto run = [&](float a, float b, float c) {
    const Matrix ids = (Matrix(3, 1) << a, b, c).finished();
    return layer->forward({&ids});
  };
  EXPECT_NO_THROW(run(0, 3, 1));
  EXPECT_TRUE(throwsWith([&] { run(0, 1, 4); }, "token id 4 at position 2 is not an integer from 0 to 3"));
  EXPECT_TRUE(throwsWith([&] { run(0, -1, 1); }, "token id -1 at position 1"));
  EXPECT_TRUE(throwsWith([&] { run(1.5f, 1, 1); }, "token id 1.5 at position 0"));
  EXPECT_TRUE(throwsWith([&] { run(1e9f, 1, 1); }, "at position 0"));
  const Matrix batch = (Matrix(3, 2) << 0, 1, 2, 3, 1, 7).finished();
  EXPECT_TRUE(throwsWith([&] { layer->forward({&batch}); }, "token id 7 at position 2 of sample 1"));
}

TEST(Embedding, RefusesABadTable) {
  EXPECT_TRUE(throwsWith([&] { build("embedding", embeddingSpec(std::vector<float>(10, 1.0f), {3, 4}), {{3}}); },
                         "table has 10 values, not a whole number of rows of 4"));
  EXPECT_TRUE(throwsWith([&] { build("embedding", embeddingSpec({}, {3, 4}), {{3}}); }, "table has 0 values"));
  std::vector<float> inf(8, 1.0f);
  inf[3] = std::numeric_limits<float>::infinity();
  EXPECT_TRUE(throwsWith([&] { build("embedding", embeddingSpec(inf, {3, 4}), {{3}}); }, "must be finite"));
  LayerSpec noShape;
  noShape.set("table", std::vector<float>(8, 1.0f));
  EXPECT_TRUE(throwsWith([&] { build("embedding", noShape, {{3}}); }, "needs outputShape"));
  lrp::Graph g(Shape{3});
  EXPECT_TRUE(throwsWith([&] { g.add("emb", "embedding", embeddingSpec(std::vector<float>(8, 1.0f), {4, 4}), {lrp::kGraphInput}); },
                         "expects output shape [4, 4], the engine computes [3, 4]"));
}

// ids [T] → embedding [T, D] → dense along the last axis [T, H] → flatten → dense [K]: token relevance is
// Σ_d of the relevance at the embedding's output; for gradient × input Σ_d e_d ∂f/∂e_d.
TEST(Embedding, TokenRelevanceThroughAGraph) {
  const int V = 6, D = 4, T = 3, H = 2, K = 3;
  std::mt19937 rng(80);
  const Matrix table = randomMatrix(rng, V, D, -1, 1);  // [V, D]
  std::vector<float> rowMajor;
  for (int v = 0; v < V; ++v)
    for (int d = 0; d < D; ++d) rowMajor.push_back(table(v, d));
  const Matrix w1 = randomMatrix(rng, H, D, -1, 1), w2 = randomMatrix(rng, K, T * H, -1, 1);
  lrp::Graph g(Shape{T});
  const int emb = g.add("emb", "embedding", embeddingSpec(rowMajor, {T, D}), {lrp::kGraphInput});
  g.add("fc1", "dense", specOf({{"weight", rowMajorOf(w1)}, {"outputShape", Ints{T, H}}}), {emb});
  g.add("flat", "reshape", specOf({{"outputShape", Ints{T * H}}}), {1});
  g.add("fc2", "dense", specOf({{"weight", rowMajorOf(w2)}, {"outputShape", Ints{K}}}), {2});
  EXPECT_TRUE(g.tokenInput());
  const Vector ids = (Vector(T) << 5, 0, 2).finished();

  // Reference in double: ∂f_k/∂e[t, d] = Σ_h w2(k, t·H + h) · w1(h, d).
  const int target = 2;
  DVec gradXInput(T), grad(T);
  for (int t = 0; t < T; ++t) {
    double gxSum = 0, gSum = 0;
    for (int d = 0; d < D; ++d) {
      double de = 0;
      for (int h = 0; h < H; ++h) de += static_cast<double>(w2(target, t * H + h)) * w1(h, d);
      gSum += de;
      gxSum += de * table(static_cast<int>(ids(t)), d);
    }
    grad(t) = gSum;
    gradXInput(t) = gxSum;
  }
  lrp::ExplainRequest req;
  req.target = target;
  req.method = lrp::Method::Gradient;
  EXPECT_TRUE(closeScaled(explainVec(g, ids, req).relevance, grad, 1e-5));
  req.method = lrp::Method::GradientXInput;
  EXPECT_TRUE(closeScaled(explainVec(g, ids, req).relevance, gradXInput, 1e-5));

  req.method = lrp::Method::LRP;
  req.rules = lrp::resolveRules(g, "epsilon-plus", {}, {});
  req.layerRelevance = true;
  const lrp::Explanation e = explainVec(g, ids, req);
  const auto atEmb = std::find_if(e.layers.begin(), e.layers.end(), [&](const auto& l) { return l.node == emb; });
  ASSERT_NE(atEmb, e.layers.end());
  DVec perToken = DVec::Zero(T);
  for (int t = 0; t < T; ++t)
    for (int d = 0; d < D; ++d) perToken(t) += atEmb->relevance(t * D + d);
  EXPECT_TRUE(closeScaled(e.relevance, perToken, 1e-6));

  // A bad id in the graph input is an error naming it, not a crash.
  const Vector bad = (Vector(T) << 1, 6, 0).finished();
  EXPECT_TRUE(throwsWith([&] { explainVec(g, bad, req); }, "token id 6 at position 1"));
}

// Large per-sample shapes of real models build and run (ViT's [197, 768] transpose, ConvNeXt's permute).
TEST(Reindex, RealModelShapes) {
  for (const auto& [shape, perm] : std::vector<std::pair<Shape, std::vector<int>>>{{{197, 768}, {1, 0}}, {{96, 56, 56}, {1, 2, 0}}}) {
    const auto layer = build("transpose", specOf({{"perm", Ints(perm.begin(), perm.end())}}), {shape});
    std::mt19937 rng(90);
    const Matrix x = randomMatrix(rng, static_cast<int>(count(shape)), 2, -1, 1);
    const Matrix y = layer->forward({&x});
    const Matrix back = layer->gradient({&x}, y, y)[0];
    EXPECT_EQ(back, x);  // a permutation's gradient is its inverse
  }
}

}  // namespace
