// The memory budget (memory.hpp): what layers and models hold, the estimates of a call's peak, refusals before
// allocation with sizes, the engine working after a refusal, and chunked batches giving identical results.
#include "test_helpers.hpp"

#include "lrp/memory.hpp"

#include <malloc.h>

#include <cstring>

namespace {

using namespace lrptest;

// Resets the native limit when a test ends, whatever it throws.
struct LimitGuard {
  ~LimitGuard() { lrp::setMemoryLimit(0); }
};

// Input [3, 16, 16] → conv 3→8 (3×3, pad 1) → relu → conv 8→8 → relu → flatten → dense → 5.
lrp::Graph smallCnn() {
  std::mt19937 rng(71);
  lrp::Graph graph({3, 16, 16});
  lrp::WindowGeometry g;
  g.kernelH = g.kernelW = 3;
  g.padTop = g.padLeft = g.padBottom = g.padRight = 1;
  int id = graph.add("conv1", std::make_unique<lrp::Conv2DLayer>(randomMatrix(rng, 8, 27, -0.3, 0.3), randomVector(rng, 8, -0.1, 0.1),
                                                                lrp::Shape{3, 16, 16}, g, 1),
                     {lrp::kGraphInput});
  id = graph.add("relu1", std::make_unique<lrp::ReLULayer>(), {id});
  id = graph.add("conv2", std::make_unique<lrp::Conv2DLayer>(randomMatrix(rng, 8, 72, -0.2, 0.2), randomVector(rng, 8, -0.1, 0.1),
                                                            lrp::Shape{8, 16, 16}, g, 1),
                 {id});
  id = graph.add("relu2", std::make_unique<lrp::ReLULayer>(), {id});
  id = graph.add("flatten", std::make_unique<lrp::PassThroughLayer>(lrp::Shape{8 * 16 * 16}), {id});
  graph.add("dense", std::make_unique<lrp::DenseLayer>(randomMatrix(rng, 5, 2048, -0.05, 0.05), randomVector(rng, 5, -0.1, 0.1)), {id});
  return graph;
}

lrp::ExplainRequest lrpRequest(const lrp::Graph& graph) {
  lrp::ExplainRequest request;
  request.rules = lrp::resolveRules(graph, "epsilon-plus", lrp::CompositeParams{}, {});
  return request;
}

int64_t inUse() {
  const struct mallinfo2 info = mallinfo2();
  return static_cast<int64_t>(info.uordblks + info.hblkhd);
}

void expectSame(const std::vector<lrp::Explanation>& a, const std::vector<lrp::Explanation>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].target, b[i].target);
    ASSERT_EQ(a[i].relevance.size(), b[i].relevance.size());
    // Bit for bit: chunking must not change a single float.
    EXPECT_EQ(0, std::memcmp(a[i].relevance.data(), b[i].relevance.data(), sizeof(float) * a[i].relevance.size())) << "input " << i;
    EXPECT_EQ(0, std::memcmp(a[i].output.data(), b[i].output.data(), sizeof(float) * a[i].output.size())) << "input " << i;
  }
}

TEST(Memory, FormatBytes) {
  EXPECT_EQ(lrp::formatBytes(374), "374 B");
  EXPECT_EQ(lrp::formatBytes(3 * 1024 + 512), "3.5 KB");
  EXPECT_EQ(lrp::formatBytes(int64_t{91} << 20), "91.0 MB");
  EXPECT_EQ(lrp::formatBytes(int64_t{4} << 30), "4.0 GB");
}

// A layer reports at least its parameters; a GEMM conv its two packed layouts; the graph the sum.
TEST(Memory, LayersReportWhatTheyHold) {
  const lrp::Graph graph = smallCnn();
  const auto& dense = *graph.node(5).layer;
  EXPECT_GE(dense.memoryBytes(), (5 * 2048 + 5) * 4);
  EXPECT_LT(dense.memoryBytes(), (5 * 2048 + 5) * 4 + 1024);
  const auto& conv2 = *graph.node(2).layer;
  EXPECT_GE(conv2.memoryBytes(), 2 * 8 * 72 * 4);  // forward and transposed panels
  EXPECT_GT(conv2.workspaceBytes(), 8 * 72 * 4);    // a modified layout and im2col panels
  int64_t sum = 0;
  for (const auto& node : graph.nodes()) sum += node.layer->memoryBytes();
  EXPECT_GE(graph.memoryBytes(), sum);
  EXPECT_LT(graph.memoryBytes(), sum + 4096);
}

// Activations grow linearly with the batch; the peak is monotonic; predict keeps less than explain.
TEST(Memory, EstimatesFollowTheShapes) {
  const lrp::Graph graph = smallCnn();
  int64_t values = 3 * graph.columnSize();
  for (const auto& node : graph.nodes()) values += lrp::shapeSize(node.outputShape);
  EXPECT_EQ(graph.backwardNeed(1).activations, values * 4);
  EXPECT_EQ(graph.backwardNeed(7).activations, 7 * values * 4);
  int64_t previous = 0;
  for (int batch : {1, 2, 3, 8, 64}) {
    const lrp::MemoryNeed need = graph.backwardNeed(batch);
    EXPECT_GT(need.total(), previous);
    EXPECT_GT(need.relevance, 0);
    EXPECT_GT(need.workspace, 0);
    EXPECT_LT(graph.predictNeed(batch).total(), need.total());
    previous = need.total();
  }
  // The per-layer report of one input adds one sample's outputs.
  EXPECT_EQ(graph.backwardNeed(1, true).relevance - graph.backwardNeed(1).relevance, (values - 3 * graph.columnSize()) * 4);
}

// The estimate bounds what a forward pass actually keeps (measured with mallinfo2).
TEST(Memory, EstimateBoundsTheMeasuredActivations) {
  const lrp::Graph graph = smallCnn();
  std::mt19937 rng(72);
  // A first pass starts the thread pool and the per-thread chunk buffers (workspace, kept between calls).
  graph.forward(randomMatrix(rng, graph.inputSize(), 16, 0, 1));
  for (int batch : {1, 16}) {
    const lrp::Matrix x = randomMatrix(rng, graph.inputSize(), batch, 0, 1);
    const int64_t before = inUse();
    const lrp::Activations acts = graph.forward(x);
    const int64_t kept = inUse() - before;
    EXPECT_GT(kept, 0);
    EXPECT_LE(kept, graph.backwardNeed(batch).activations) << "batch " << batch;
    EXPECT_GE(kept, graph.backwardNeed(batch).activations / 4) << "batch " << batch;
  }
}

// A call that does not fit is refused before it allocates, with needed and available sizes; afterwards the
// same graph explains (at the same or a smaller size) and gives the same result as before.
TEST(Memory, RefusesACallThatDoesNotFitAndKeepsWorking) {
  LimitGuard guard;
  const lrp::Graph graph = smallCnn();
  const lrp::ExplainRequest request = lrpRequest(graph);
  std::mt19937 rng(73);
  const lrp::Matrix x = randomMatrix(rng, graph.inputSize(), 1, 0, 1);
  const lrp::Explanation before = lrp::explainBatch(graph, x, request).front();

  const lrp::Matrix many = randomMatrix(rng, graph.inputSize(), 256, 0, 1);
  const int64_t need = lrp::explainNeed(graph, request, 256).total();
  // Other models hold memory (a ballast here), so the call would fit the limit but not what is left.
  const std::vector<float> ballast(static_cast<size_t>(need / 4), 1.0f);
  lrp::setMemoryLimit(lrp::memoryStatus().used + need / 2);
  try {
    lrp::explainBatch(graph, many, request);
    FAIL() << "expected a refusal";
  } catch (const lrp::Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("explain (lrp) for a batch of 256 needs " + lrp::formatBytes(need)), std::string::npos) << message;
    EXPECT_NE(message.find("activations"), std::string::npos) << message;
    EXPECT_NE(message.find("left of its"), std::string::npos) << message;
    EXPECT_NE(message.find("dispose()"), std::string::npos) << message;
  }
  // The batch limit under the same cap: a chunk that fits.
  const int64_t chunk = lrp::explainBatchLimit(graph, request, 256);
  EXPECT_GE(chunk, 1);
  EXPECT_LT(chunk, 256);
  EXPECT_LE(lrp::explainNeed(graph, request, chunk).total(), lrp::memoryStatus().available());
  // Smaller calls still run, with the same result.
  const lrp::Explanation after = lrp::explainBatch(graph, x, request).front();
  expectSame({before}, {after});
  // Predict refuses likewise.
  lrp::setMemoryLimit(lrp::memoryStatus().used + graph.predictNeed(256).total() / 2);
  EXPECT_THROW(graph.predict(many), lrp::Error);
  lrp::setMemoryLimit(0);
  EXPECT_EQ(graph.predict(many).cols(), 256);
}

// Chunked batches and chunked points give bit-identical results to one pass.
TEST(Memory, ChunkingDoesNotChangeResults) {
  LimitGuard guard;
  const lrp::Graph graph = smallCnn();
  std::mt19937 rng(74);
  const lrp::Matrix inputs = randomMatrix(rng, graph.inputSize(), 6, 0, 1);
  lrp::ExplainRequest lrpReq = lrpRequest(graph);
  std::vector<lrp::Explanation> whole = lrp::explainBatch(graph, inputs, lrpReq), single;
  for (int c = 0; c < 6; ++c) single.push_back(lrp::explainBatch(graph, inputs.col(c), lrpReq).front());
  expectSame(whole, single);
  EXPECT_EQ(lrp::explainBatchLimit(graph, lrpReq, 6), 6);  // small: one pass

  for (lrp::Method method : {lrp::Method::IntegratedGradients, lrp::Method::SmoothGrad}) {
    lrp::ExplainRequest request;
    request.method = method;
    request.steps = 12;
    request.samples = 12;
    const std::vector<lrp::Explanation> unchunked = lrp::explainBatch(graph, inputs.leftCols(2), request);
    // A cap that lets only a few points run per pass (half of what is left bounds a chunk).
    const int64_t perPoint = graph.backwardNeed(2).total() - graph.backwardNeed(1).total();
    lrp::setMemoryLimit(lrp::memoryStatus().used + lrp::explainNeed(graph, request, 2).total() + 3 * perPoint);
    const std::vector<lrp::Explanation> chunked = lrp::explainBatch(graph, inputs.leftCols(2), request);
    lrp::setMemoryLimit(0);
    expectSame(unchunked, chunked);
  }
}

// A layer whose output would not fit is refused before it is built, naming it and its size per input.
TEST(Memory, RefusesALayerThatCannotFitAtLoad) {
  LimitGuard guard;
  lrp::Graph graph({16384, 16384});
  lrp::setMemoryLimit(lrp::memoryStatus().used + (int64_t{512} << 20));
  lrp::LayerSpec spec;
  spec.set("outputShape", std::vector<double>{16384, 16384});
  try {
    graph.add("/Relu", "relu", spec, {lrp::kGraphInput});
    FAIL() << "expected a refusal";
  } catch (const lrp::Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("the layers up to '/Relu' (relu, output [16384, 16384]: 1.0 GB per input)"), std::string::npos)
        << message;
    EXPECT_NE(message.find("more than the engine's limit of "), std::string::npos) << message;
  }
  EXPECT_TRUE(graph.nodes().empty());
}

// What building a layer allocates beyond its spec: a conv packs two layouts, a dense layer given its weight
// column-major moves it in (only its bias is copied), other layers copy their tensors once.
TEST(Memory, BuildBytesFollowWhatBuildersAllocate) {
  lrp::LayerSpec conv;
  conv.set("weight", std::vector<float>(1000));
  conv.set("bias", std::vector<float>(10));
  EXPECT_EQ(lrp::buildBytes("conv", conv), 2 * 1010 * 4);
  lrp::LayerSpec dense;
  dense.set("weightColumns", std::vector<float>(1 << 20));
  dense.set("bias", std::vector<float>(16));
  EXPECT_EQ(lrp::buildBytes("dense", dense), 16 * 4);
  lrp::LayerSpec rowMajorDense;
  rowMajorDense.set("weight", std::vector<float>(1 << 20));
  EXPECT_EQ(lrp::buildBytes("dense", rowMajorDense), int64_t{4} << 20);
  lrp::LayerSpec batchnorm;
  batchnorm.set("scale", std::vector<float>(8));
  batchnorm.set("shift", std::vector<float>(8));
  EXPECT_EQ(lrp::buildBytes("batchnorm", batchnorm), 16 * 4);
}

// The ones-responses the flat rule caches are released before a call would be refused for lack of their space.
TEST(Memory, CachesAreReleasedBeforeARefusal) {
  LimitGuard guard;
  const lrp::Graph graph = smallCnn();
  const auto& conv = dynamic_cast<const lrp::LinearLayer&>(*graph.nodes()[0].layer);
  const int64_t before = conv.memoryBytes();
  const lrp::Vector ones = conv.onesResponse(3 * 16 * 16, lrp::ParamMod::Ones, lrp::ParamMod::Zero, 0.0f);
  const int64_t cached = conv.memoryBytes() - before;
  EXPECT_EQ(cached, 8 * 16 * 16 * 4);
  // A need that fits only once the cache is gone (1 KB left, the cache 8 KB) is accepted, the cache released.
  lrp::setMemoryLimit(lrp::memoryStatus().used + 1024);
  EXPECT_NO_THROW(lrp::requireMemory("a call", lrp::MemoryNeed{1024 + cached / 2, 0, 0, 0}));
  EXPECT_EQ(conv.memoryBytes(), before);
  lrp::setMemoryLimit(0);
  // Recomputed on demand, with the same values.
  EXPECT_TRUE(conv.onesResponse(3 * 16 * 16, lrp::ParamMod::Ones, lrp::ParamMod::Zero, 0.0f) == ones);
  EXPECT_THROW(lrp::requireMemory("a bigger call", lrp::MemoryNeed{int64_t{1} << 62, 0, 0, 0}), lrp::Error);
}

}  // namespace
