// The work estimate (Layer::operations, Graph::operations): each layer kind's count for one sample against the
// closed-form formula written here from the layer's shapes and attributes (multiply-adds of dense, conv and
// matmul; the separable window of pooling; passes over the values of softmax and layernorm; one per output value
// for element-wise layers and copies), and saturation instead of overflow.
#include "test_helpers.hpp"

#include "lrp/graph.hpp"

#include <cstdint>
#include <limits>

namespace {

using lrp::LayerSpec;
using lrp::Shape;

std::vector<double> list(std::initializer_list<double> values) { return std::vector<double>(values); }

LayerSpec convSpec(int outChannels, int channelsPerGroup, int kh, int kw, int stride, int pad, int group) {
  LayerSpec spec;
  spec.set("weight", std::vector<float>(static_cast<size_t>(outChannels * channelsPerGroup * kh * kw), 0.01f));
  spec.set("kernel", list({double(kh), double(kw)}));
  spec.set("strides", list({double(stride), double(stride)}));
  spec.set("pads", list({double(pad), double(pad), double(pad), double(pad)}));
  spec.set("group", double(group));
  return spec;
}

LayerSpec windowSpec(int kh, int kw, int stride) {
  LayerSpec spec;
  spec.set("kernel", list({double(kh), double(kw)}));
  spec.set("strides", list({double(stride), double(stride)}));
  return spec;
}

// ONNX's output size of a window along one axis (floor mode).
int64_t windowOutput(int64_t size, int64_t kernel, int64_t stride, int64_t pads) { return (size + pads - kernel) / stride + 1; }

TEST(Operations, DenseIsInTimesOutPerToken) {
  lrp::Graph g({7, 12});  // a sequence of 7 tokens of 12 features
  LayerSpec spec;
  spec.set("weight", std::vector<float>(5 * 12, 0.1f));
  const int id = g.add("fc", "dense", spec, {lrp::kGraphInput});
  EXPECT_EQ(g.node(id).operations, int64_t{7} * 12 * 5);
}

TEST(Operations, ConvIsOutputTimesTaps) {
  lrp::Graph g({8, 15, 13});
  const int plain = g.add("conv", "conv", convSpec(6, 8, 3, 3, 2, 1, 1), {lrp::kGraphInput});
  const int64_t ho = windowOutput(15, 3, 2, 2), wo = windowOutput(13, 3, 2, 2);
  EXPECT_EQ(g.node(plain).operations, ho * wo * 6 * 8 * 3 * 3);
  // Grouped (3 groups of 2 channels): each output reads Cin/groups channels.
  const int grouped = g.add("grouped", "conv", convSpec(12, 6 / 3, 5, 1, 1, 0, 3), {plain});
  EXPECT_EQ(g.node(grouped).operations, (ho - 5 + 1) * wo * 12 * 2 * 5 * 1);
}

TEST(Operations, PoolingIsASeparableWindow) {
  const int c = 3, h = 20, w = 17, kh = 4, kw = 3, stride = 2;
  const int64_t ho = windowOutput(h, kh, stride, 0), wo = windowOutput(w, kw, stride, 0);
  const int64_t expected = int64_t{c} * (int64_t{h} * wo * kw + ho * wo * kh);
  lrp::Graph g({c, h, w});
  EXPECT_EQ(g.node(g.add("max", "maxpool", windowSpec(kh, kw, stride), {lrp::kGraphInput})).operations, expected);
  EXPECT_EQ(g.node(g.add("avg", "avgpool", windowSpec(kh, kw, stride), {lrp::kGraphInput})).operations, expected);
  // The work bomb: a 256×256 window on 512×512 is 2·512·257·256 ≈ 6.7e7, not 257²·256² ≈ 4.3e9.
  lrp::Graph bomb({1, 512, 512});
  const int id = bomb.add("pool", "maxpool", windowSpec(256, 256, 1), {lrp::kGraphInput});
  EXPECT_EQ(bomb.node(id).operations, int64_t{512} * 257 * 256 + int64_t{257} * 257 * 256);
}

TEST(Operations, ReductionsReadEveryInputValueOnce) {
  lrp::Graph g({4, 6, 5});
  EXPECT_EQ(g.node(g.add("gap", "global-avgpool", LayerSpec(), {lrp::kGraphInput})).operations, 4 * 6 * 5);
  EXPECT_EQ(g.node(g.add("gmp", "global-maxpool", LayerSpec(), {lrp::kGraphInput})).operations, 4 * 6 * 5);
  LayerSpec mean;
  mean.set("axes", list({1.0}));
  EXPECT_EQ(g.node(g.add("mean", "reduce-mean", mean, {lrp::kGraphInput})).operations, 4 * 6 * 5);
}

TEST(Operations, SoftmaxAndLayerNormPassThreeTimes) {
  lrp::Graph g({9, 16});
  LayerSpec softmax;
  softmax.set("axis", -1.0);
  EXPECT_EQ(g.node(g.add("softmax", "softmax", softmax, {lrp::kGraphInput})).operations, 3 * 9 * 16);
  LayerSpec norm;
  norm.set("axis", -1.0);
  norm.set("epsilon", 1e-5);
  norm.set("scale", std::vector<float>(16, 1.0f));
  EXPECT_EQ(g.node(g.add("norm", "layernorm", norm, {lrp::kGraphInput})).operations, 3 * 9 * 16);
}

TEST(Operations, MatMulIsOutputTimesInnerAxis) {
  lrp::Graph g({2, 5, 8});  // heads × tokens × features: x · xᵀ needs a transpose
  LayerSpec transpose;
  transpose.set("perm", list({0, 2, 1}));
  const int t = g.add("t", "transpose", transpose, {lrp::kGraphInput});
  EXPECT_EQ(g.node(t).operations, 2 * 5 * 8);  // a copy: one per output value
  const int scores = g.add("scores", "matmul", LayerSpec(), {lrp::kGraphInput, t});
  EXPECT_EQ(g.node(scores).operations, int64_t{2} * 5 * 5 * 8);
}

TEST(Operations, ElementwiseLayersCountTheirOutput) {
  lrp::Graph g({3, 4});
  const int relu = g.add("relu", "relu", LayerSpec(), {lrp::kGraphInput});
  const int sum = g.add("sum", "add", LayerSpec(), {relu, lrp::kGraphInput});
  EXPECT_EQ(g.node(relu).operations, 12);
  EXPECT_EQ(g.node(sum).operations, 12);
}

TEST(Operations, GraphSumsItsNodesAndFindsTheCostliest) {
  lrp::Graph g({2, 10, 10});
  const int conv = g.add("conv", "conv", convSpec(4, 2, 3, 3, 1, 1, 1), {lrp::kGraphInput});
  const int relu = g.add("relu", "relu", LayerSpec(), {conv});
  LayerSpec fc;
  fc.set("weight", std::vector<float>(3 * 10, 0.1f));  // along the last axis: [4, 10, 10] → [4, 10, 3]
  const int dense = g.add("fc", "dense", fc, {relu});
  const int64_t convOps = int64_t{4} * 10 * 10 * 2 * 9, reluOps = 400, denseOps = 4 * 10 * 3 * 10;
  EXPECT_EQ(g.operations(), convOps + reluOps + denseOps);
  EXPECT_EQ(g.costliestNode(), conv);
  (void)dense;
}

// A layer that claims an absurd amount of work, as a hostile graph's shapes could.
class ClaimingLayer : public lrp::Layer {
 public:
  explicit ClaimingLayer(int64_t claim) : claim_(claim) {}
  const char* kind() const override { return "test-claim"; }
  lrp::Role role() const override { return lrp::Role::Elementwise; }
  Shape outputShape(const std::vector<Shape>& shapes) const override { return shapes.at(0); }
  lrp::Matrix forward(const std::vector<const lrp::Matrix*>& inputs) const override { return *inputs[0]; }
  std::vector<lrp::Matrix> gradient(const std::vector<const lrp::Matrix*>&, const lrp::Matrix&,
                                    const lrp::Matrix& gradOutput) const override {
    return {gradOutput};
  }
  int64_t operations(const std::vector<Shape>&, const Shape&) const override { return claim_; }

 private:
  int64_t claim_;
};

TEST(Operations, CountsSaturateInsteadOfOverflowing) {
  constexpr int64_t max = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(lrp::saturatingMultiply(int64_t{1} << 40, int64_t{1} << 40), max);
  EXPECT_EQ(lrp::saturatingMultiply(int64_t{1} << 31, int64_t{1} << 31), int64_t{1} << 62);
  EXPECT_EQ(lrp::saturatingAdd(max - 1, 2), max);
  lrp::Graph g({4});
  g.add("a", std::make_unique<ClaimingLayer>(max / 2 + 1), {lrp::kGraphInput});
  const int b = g.add("b", std::make_unique<ClaimingLayer>(max / 2 + 7), {0});
  EXPECT_EQ(g.operations(), max);
  EXPECT_EQ(g.costliestNode(), b);
}

}  // namespace
