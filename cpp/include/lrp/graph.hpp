// The model: a DAG of layers in topological order.
#pragma once

#include "lrp/layers.hpp"
#include "lrp/memory.hpp"

namespace lrp {

// Input index that refers to the graph's input instead of another node.
constexpr int kGraphInput = -1;
// Input index of the per-input constants: values the importer computes from each input's token ids
// outside the engine (an attention mask: ATTNLRP rule 13) and that travel after the input in every
// column. Only `input-constant` layers read them; relevance never flows into them.
constexpr int kInputConstants = -2;

struct Node {
  std::string name;
  std::unique_ptr<Layer> layer;
  std::vector<int> inputs;  // earlier node ids or kGraphInput
  Shape outputShape;
  int64_t operations = 0;  // the layer's work estimate for one sample (Layer::operations), computed once
};

// Every node's output for one forward pass (one column per sample).
struct Activations {
  Matrix input;
  Matrix constants;  // the per-input constants (kInputConstants), constantsSize() × batch
  std::vector<Matrix> nodes;
  // Per node: its output holds an infinity carried from a mask (Graph::runNode), not an overflow.
  std::vector<char> masked;
  // The value feeding input slot `k` of node `id`.
  const Matrix& inputOf(const std::vector<Node>& graphNodes, int id, size_t k) const;
};

// "<where> became NaN (sample s of the batch, value v of n): <what causes NaN>; <suspect>" for the first
// non-finite value.
std::string nonFiniteMessage(const Matrix& values, const std::string& where, const std::string& suspect,
                             const char* cause = nullptr);  // cause: instead of "overflow" / "NaN comes from …"

class Graph {
 public:
  explicit Graph(Shape inputShape);

  // Appends a node; validates that inputs exist and that shapes fit. Returns its id.
  int add(std::string name, std::unique_ptr<Layer> layer, std::vector<int> inputs);
  // Builds a layer of a public kind from its spec (the layer table) and appends it. A spec that states
  // `outputShape` must agree with the shape the engine computes. Errors name the node.
  int add(std::string name, const std::string& kind, LayerSpec spec, std::vector<int> inputs);

  // Whether the input is token ids feeding embedding lookups (relevance then has one value per token).
  bool tokenInput() const { return tokenInput_; }

  const Shape& inputShape() const { return inputShape_; }
  int inputSize() const { return inputSize_; }
  // Values per column that follow the input: the per-input constants (0 unless an input-constant layer
  // reads them). A column of forward()/explainBatch() has inputSize() + constantsSize() rows.
  int constantsSize() const { return constantsSize_; }
  int columnSize() const { return inputSize_ + constantsSize_; }
  int outputSize() const;
  int outputNode() const;  // the last node is the output
  const std::vector<Node>& nodes() const { return nodes_; }
  const Node& node(int id) const { return nodes_.at(static_cast<size_t>(id)); }

  // Runs the whole graph on x (columnSize × batch: each input, then its constants) and keeps every
  // node's output.
  Activations forward(const Matrix& x) const;
  // The same with the input and its constants given apart (the constants may be empty if none are read).
  Activations forward(Matrix input, Matrix constants) const;
  // The output only (logits).
  Matrix predict(const Matrix& x) const;
  // Computes node `id`'s output into acts.nodes[id] (acts.nodes and acts.masked sized for every node, the node's
  // inputs already there) and refuses a non-finite value that no mask explains, naming the node.
  void runNode(int id, Activations& acts) const;

  // The values feeding node `id` in a forward pass.
  std::vector<const Matrix*> inputsOf(const Activations& acts, int id) const;

  // The work of a forward pass for one sample: every node's operations (Layer::operations), saturating at
  // kMaxOperations.
  int64_t operations() const;
  // The node with the most operations (the first of equals); throws when the graph is empty.
  int costliestNode() const;

  // Memory (memory.hpp). What the model holds: every layer's parameters, packed weights, maps and caches.
  int64_t memoryBytes() const;
  // Estimates from the shapes of what one call on `batch` inputs allocates at its peak:
  // predict (a forward pass that frees each output after its last reader) ...
  MemoryNeed predictNeed(int64_t batch) const;
  // ... and a forward pass keeping every output, then a backward pass (LRP or a gradient): the relevance alive at
  // its peak step and that step's temporaries. `layerRelevance` adds the per-layer report of one input.
  MemoryNeed backwardNeed(int64_t batch, bool layerRelevance = false) const;

 private:
  void checkInput(const Matrix& x) const;
  int64_t sourceSize(int source) const;
  void requireLayerFits(const std::string& name, const std::string& kind, const LayerSpec& spec) const;
  std::vector<int> lastReaders() const;  // per-sample values of a node, of the input or of the constants
  void checkConstants(const Matrix& constants, Eigen::Index columns) const;
  std::vector<Shape> shapesOf(const std::string& name, const std::vector<int>& inputs) const;
  void checkTokenInput(const std::string& name, const Layer& layer, const std::vector<int>& inputs);
  void checkInputConstants(const std::string& name, const Layer& layer, const std::vector<int>& inputs,
                           const Shape& shape);

  Shape inputShape_;
  int inputSize_;
  int constantsSize_ = 0;
  int64_t nodeValues_ = 0;  // Σ of every node's output size (per sample): kept by add() so loads stay linear
  bool tokenInput_ = false;
  std::vector<Node> nodes_;
};

}  // namespace lrp
