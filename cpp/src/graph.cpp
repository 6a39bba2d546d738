#include "lrp/graph.hpp"

#include "parallel.hpp"

#include <algorithm>
#include <cmath>

namespace lrp {
namespace {
constexpr int64_t kFloat = sizeof(float);
}  // namespace

const Matrix& Activations::inputOf(const std::vector<Node>& graphNodes, int id, size_t k) const {
  const int source = graphNodes[static_cast<size_t>(id)].inputs[k];
  if (source == kGraphInput) return input;
  return source == kInputConstants ? constants : nodes[static_cast<size_t>(source)];
}

Graph::Graph(Shape inputShape)
    : inputShape_(std::move(inputShape)), inputSize_(static_cast<int>(shapeSize(inputShape_))) {
  if (inputShape_.empty()) throw Error("the model input needs a shape");
}

int Graph::add(std::string name, std::unique_ptr<Layer> layer, std::vector<int> inputs) {
  const int id = static_cast<int>(nodes_.size());
  if (!layer) throw Error("node '" + name + "' has no layer");
  if (inputs.empty()) throw Error("node '" + name + "' has no inputs");
  const std::vector<Shape> inputShapes = shapesOf(name, inputs);
  Shape shape;
  try {
    shape = layer->outputShape(inputShapes);
  } catch (const Error& e) {
    throw Error("node '" + name + "': " + e.what());
  }
  checkTokenInput(name, *layer, inputs);
  checkInputConstants(name, *layer, inputs, shape);
  const int64_t operations = layer->operations(inputShapes, shape);
  nodeValues_ += shapeSize(shape);
  nodes_.push_back(Node{std::move(name), std::move(layer), std::move(inputs), std::move(shape), operations});
  return id;
}

int64_t Graph::operations() const {
  int64_t total = 0;
  for (const Node& node : nodes_) total = saturatingAdd(total, node.operations);
  return total;
}

int Graph::costliestNode() const {
  outputNode();  // throws when there is no node
  int costliest = 0;
  for (int id = 1; id < static_cast<int>(nodes_.size()); ++id)
    if (node(id).operations > node(costliest).operations) costliest = id;
  return costliest;
}

// Token ids may only feed embedding lookups, and an embedding reads only the ids: anything else would
// treat an id as a number.
void Graph::checkTokenInput(const std::string& name, const Layer& layer, const std::vector<int>& inputs) {
  const bool readsInput = std::find(inputs.begin(), inputs.end(), kGraphInput) != inputs.end();
  const bool isEmbedding = layer.role() == Role::Embedding;
  if (isEmbedding && (inputs.size() != 1 || !readsInput))
    throw Error("node '" + name + "': an embedding lookup must read the graph input (the token ids)");
  if (!readsInput) return;
  const bool inputRead = std::any_of(nodes_.begin(), nodes_.end(), [](const Node& node) {
    return std::find(node.inputs.begin(), node.inputs.end(), kGraphInput) != node.inputs.end();
  });
  if (inputRead && isEmbedding != tokenInput_)
    throw Error("node '" + name + "': token ids may only feed embedding lookups");
  tokenInput_ = isEmbedding;
}

// The shapes of a new node's inputs; the per-input constants have the empty shape (an input-constant layer
// knows its slice of them).
std::vector<Shape> Graph::shapesOf(const std::string& name, const std::vector<int>& inputs) const {
  std::vector<Shape> shapes;
  for (int source : inputs) {
    if (source != kGraphInput && source != kInputConstants && (source < 0 || source >= static_cast<int>(nodes_.size())))
      throw Error("node '" + name + "' refers to unknown input node " + std::to_string(source));
    if (source == kGraphInput) shapes.push_back(inputShape_);
    else if (source == kInputConstants) shapes.push_back(Shape{});
    else shapes.push_back(nodes_[static_cast<size_t>(source)].outputShape);
  }
  return shapes;
}

// Only input-constant layers read the per-input constants, and only them; each takes the slice that
// follows the previous one's, so the constants of a column are the concatenation of their outputs.
void Graph::checkInputConstants(const std::string& name, const Layer& layer, const std::vector<int>& inputs,
                                const Shape& shape) {
  const bool reads = std::find(inputs.begin(), inputs.end(), kInputConstants) != inputs.end();
  const bool isConstant = layer.role() == Role::Constant;
  if (isConstant != reads || (reads && inputs.size() != 1))
    throw Error("node '" + name + "': only an input-constant layer reads the per-input constants (input " +
                std::to_string(kInputConstants) + "), and it reads nothing else");
  if (!isConstant) return;
  const auto* constant = dynamic_cast<const InputConstantLayer*>(&layer);
  if (constant == nullptr || constant->offset() != constantsSize_)
    throw Error("node '" + name + "': the per-input constants must be read in order (the next starts at " +
                std::to_string(constantsSize_) + ")");
  constantsSize_ += static_cast<int>(shapeSize(shape));
}

int Graph::add(std::string name, const std::string& kind, LayerSpec spec, std::vector<int> inputs) {
  const std::vector<Shape> inputShapes = shapesOf(name, inputs);
  std::unique_ptr<Layer> layer;
  try {
    if (spec.has("outputShape")) requireLayerFits(name, kind, spec);
    layer = buildLayer(kind, spec, inputShapes);
    if (spec.has("outputShape")) {
      const Shape stated = spec.integers("outputShape"), computed = layer->outputShape(inputShapes);
      if (stated != computed)
        throw Error("the importer expects output shape " + shapeToString(stated) + ", the engine computes " +
                    shapeToString(computed));
    }
  } catch (const Error& e) {
    throw Error("node '" + name + "' (" + kind + "): " + e.what());
  }
  return add(std::move(name), std::move(layer), std::move(inputs));
}

// Before a layer is built (its weights packed, its index maps computed): would the model, with it, still explain
// one input? Its output is kept by the forward pass and has a relevance; an index map (pad, transpose) holds
// one int per output value and its inverse; building copies or packs the spec's weights (buildBytes).
void Graph::requireLayerFits(const std::string& name, const std::string& kind, const LayerSpec& spec) const {
  const Shape shape = spec.integers("outputShape");
  const int64_t out = shapeSize(shape) * kFloat;
  int64_t activations = 3 * int64_t{columnSize()} * kFloat + out;
  activations += nodeValues_ * kFloat;  // a running sum: summing here per layer made loading quadratic in the nodes
  const MemoryNeed need{activations, 2 * out, 2 * out, buildBytes(kind, spec)};
  requireMemory("explaining one input with the layers up to '" + name + "' (" + kind + ", output " +
                    shapeToString(shape) + ": " + formatBytes(out) + " per input)",
                need);
}

int Graph::outputNode() const {
  if (nodes_.empty()) throw Error("the model has no layers");
  return static_cast<int>(nodes_.size()) - 1;
}

int Graph::outputSize() const { return static_cast<int>(shapeSize(nodes_.at(static_cast<size_t>(outputNode())).outputShape)); }

void Graph::checkInput(const Matrix& x) const {
  if (x.rows() != inputSize_)
    throw Error("input has " + std::to_string(x.rows()) + " values, expected " + std::to_string(inputSize_) +
                " (shape " + shapeToString(inputShape_) + ")");
  if (!x.allFinite()) throw Error("input contains NaN or Infinity");
}

void Graph::checkConstants(const Matrix& constants, Eigen::Index columns) const {
  if (constants.rows() != constantsSize_ || (constantsSize_ > 0 && constants.cols() != columns))
    throw Error("the per-input constants have " + std::to_string(constants.size()) + " values, expected " +
                std::to_string(int64_t{constantsSize_} * columns));
  // −∞ is a mask (a softmax gives it weight 0); NaN means something upstream went wrong.
  if (constants.array().isNaN().any()) throw Error("the per-input constants contain NaN");
}

std::vector<const Matrix*> Graph::inputsOf(const Activations& acts, int id) const {
  std::vector<const Matrix*> inputs;
  for (size_t k = 0; k < nodes_[static_cast<size_t>(id)].inputs.size(); ++k)
    inputs.push_back(&acts.inputOf(nodes_, id, k));
  return inputs;
}

Activations Graph::forward(const Matrix& x) const {
  if (x.rows() != columnSize())
    throw Error("input has " + std::to_string(x.rows()) + " values, expected " + std::to_string(columnSize()) +
                (constantsSize_ > 0 ? " (" + std::to_string(inputSize_) + " and " + std::to_string(constantsSize_) +
                                          " per-input constants)"
                                    : " (shape " + shapeToString(inputShape_) + ")"));
  return forward(x.topRows(inputSize_), x.bottomRows(constantsSize_));
}

Activations Graph::forward(Matrix input, Matrix constants) const {
  checkInput(input);
  checkConstants(constants, input.cols());
  outputNode();
  Activations acts;
  acts.input = std::move(input);
  acts.constants = std::move(constants);
  acts.nodes.resize(nodes_.size());
  acts.masked.assign(nodes_.size(), 0);
  for (int id = 0; id < static_cast<int>(nodes_.size()); ++id) runNode(id, acts);
  return acts;
}

// ---------------------------------------------------------------------------------------------------------
// Non-finite values. The inputs are finite (checkInput), so an infinity or NaN in an output was made by the
// model — with one exception: an attention mask. A mask's −∞ (ATTNLRP rule 13) comes from a source that holds it
// (the per-input constants, a where's fill value, a constant added) and is carried by every layer after it
// (reshapes, adds, a max of −∞ values) until a softmax gives it weight 0 and the values are finite again. So an
// infinity is legitimate in an output exactly when the layer holds an infinite constant or one of its inputs
// holds an infinity (itself legitimate: this is checked node by node); NaN never is (a mask times zero, ∞ − ∞).
// Everything else non-finite is an overflow or an indeterminate form (0/0), and the call is refused, naming the first
// node where it appeared.

namespace {

// The first sample (column) and value (row) that is not finite, and what it is.
struct NonFinite {
  Eigen::Index sample = 0, value = 0;
  float what = 0;
};

NonFinite firstNonFinite(const Matrix& m) {
  for (Eigen::Index col = 0; col < m.cols(); ++col)
    for (Eigen::Index row = 0; row < m.rows(); ++row)
      if (!std::isfinite(m(row, col))) return NonFinite{col, row, m(row, col)};
  return NonFinite{};
}

}  // namespace

std::string nonFiniteMessage(const Matrix& values, const std::string& where, const std::string& suspect, const char* cause) {
  const NonFinite found = firstNonFinite(values);
  const bool nan = std::isnan(found.what);
  std::string message = where + " became " + (nan ? "NaN" : found.what > 0 ? "+Infinity" : "-Infinity") +
                        " (sample " + std::to_string(found.sample) + " of the batch, value " +
                        std::to_string(found.value) + " of " + std::to_string(values.rows()) + "): ";
  if (cause != nullptr) return message + cause + "; " + suspect;
  message += nan ? "NaN comes from an overflow (∞ − ∞, 0 × ∞ once |values| exceed 3.4e38, float32's largest) or an "
                   "indeterminate form (0/0)"
                 : "overflow: |values| above 3.4e38, float32's largest";
  return message + "; " + suspect;
}

void Graph::runNode(int id, Activations& acts) const {
  const Node& node = nodes_[static_cast<size_t>(id)];
  const std::vector<const Matrix*> inputs = inputsOf(acts, id);
  Matrix& out = acts.nodes[static_cast<size_t>(id)];
  out = node.layer->forward(inputs);
  if (allFinite(out)) return;
  // The rare path: is it a mask's infinity?
  bool carried = node.layer->holdsInfinity();
  for (int source : node.inputs)
    carried = carried || (source == kInputConstants ? !acts.constants.allFinite()
                                                   : source >= 0 && acts.masked[static_cast<size_t>(source)]);
  if (carried && !out.array().isNaN().any()) {
    acts.masked[static_cast<size_t>(id)] = 1;
    if (id != outputNode()) return;
    // A mask's infinity is legitimate only until a softmax (or a max) makes it finite: one that reaches the
    // model's output was an infinite constant used as a value (Add/Sub/Where of ±∞ with no softmax after it).
    const auto origin = std::find(acts.masked.begin(), acts.masked.end(), 1) - acts.masked.begin();
    const Node& first = nodes_[static_cast<size_t>(origin)];
    throw Error(nonFiniteMessage(out, "the model's output (node '" + node.name + "', " + node.layer->kind() + ")",
                                 "an infinite constant first added at node '" + first.name + "' (" + first.layer->kind() +
                                     ") reaches the output; ±∞ is only taken as an attention mask that a softmax "
                                     "turns into zeros",
                                 "not an overflow"));
  }
  throw Error(nonFiniteMessage(out, "the output of node '" + node.name + "' (" + node.layer->kind() + ")",
                               "weights of 1e38?"));
}

Matrix Graph::predict(const Matrix& x) const {
  outputNode();  // throws for an empty graph
  requireMemory("predict on " + std::to_string(x.cols()) + (x.cols() == 1 ? " input" : " inputs"), predictNeed(x.cols()));
  if (x.rows() != columnSize()) return std::move(forward(x).nodes.back());  // forward() words the error
  // A forward pass that frees each output once its last reader has run: a prediction keeps no activations.
  Activations acts;
  acts.input = x.topRows(inputSize_);
  acts.constants = x.bottomRows(constantsSize_);
  checkInput(acts.input);
  checkConstants(acts.constants, acts.input.cols());
  const std::vector<int> lastReader = lastReaders();
  acts.nodes.resize(nodes_.size());
  acts.masked.assign(nodes_.size(), 0);
  for (int id = 0; id < static_cast<int>(nodes_.size()); ++id) {
    runNode(id, acts);
    for (int source : nodes_[static_cast<size_t>(id)].inputs)
      if (source >= 0 && lastReader[static_cast<size_t>(source)] == id) acts.nodes[static_cast<size_t>(source)].resize(0, 0);
  }
  return std::move(acts.nodes.back());
}

// ---------------------------------------------------------------------------------------------------------
// Memory estimates. Sizes are per sample (floats) unless they say bytes; every activation, relevance and
// temporary of a call grows with the batch, the layers' fixed workspaces (packed weights for one call) do not.

int64_t Graph::sourceSize(int source) const {
  if (source == kGraphInput) return inputSize_;
  if (source == kInputConstants) return constantsSize_;
  return shapeSize(nodes_[static_cast<size_t>(source)].outputShape);
}

// The last node reading each node's output (the output node: past the end; a node nobody reads: -1).
std::vector<int> Graph::lastReaders() const {
  std::vector<int> last(nodes_.size(), -1);
  if (!nodes_.empty()) last.back() = static_cast<int>(nodes_.size());
  for (int id = 0; id < static_cast<int>(nodes_.size()); ++id)
    for (int source : nodes_[static_cast<size_t>(id)].inputs)
      if (source >= 0) last[static_cast<size_t>(source)] = std::max(last[static_cast<size_t>(source)], id);
  return last;
}

int64_t Graph::memoryBytes() const {
  int64_t bytes = static_cast<int64_t>(sizeof(Graph));
  for (const Node& node : nodes_)
    bytes += node.layer->memoryBytes() + static_cast<int64_t>(sizeof(Node) + node.name.size() +
                                                              (node.inputs.size() + node.outputShape.size()) * sizeof(int));
  return bytes;
}

MemoryNeed Graph::predictNeed(int64_t batch) const {
  // The input arrives as a vector, becomes a matrix and is copied into the pass: three columns per sample.
  const int64_t input = 3 * int64_t{columnSize()};
  const std::vector<int> lastReader = lastReaders();
  MemoryNeed peak;
  int64_t live = 0;  // outputs alive before node id runs
  for (int id = 0; id < static_cast<int>(nodes_.size()); ++id) {
    const int64_t out = sourceSize(id);
    const MemoryNeed step{(input + live + out) * batch * kFloat, 0,
                          out * batch * kFloat + nodes_[static_cast<size_t>(id)].layer->workspaceBytes(), 0};
    if (step.total() > peak.total()) peak = step;
    live += out;
    for (int source : nodes_[static_cast<size_t>(id)].inputs)
      if (source >= 0 && lastReader[static_cast<size_t>(source)] == id) live -= sourceSize(source);
  }
  return peak;
}

MemoryNeed Graph::backwardNeed(int64_t batch, bool layerRelevance) const {
  int64_t activations = 3 * int64_t{columnSize()};
  for (int id = 0; id < static_cast<int>(nodes_.size()); ++id) activations += sourceSize(id);
  // The backward pass visits the nodes in reverse. The relevance at a node's output exists from the step of its
  // last reader (which hands it over) to its own step; the input's relevance, and the result's copy, throughout.
  // A step's temporaries: what it passes to its inputs, and (a linear layer's rule, the worst case) up to two
  // modified inputs, the input relevance and one transposed map (input-sized), the denominator, one forward map,
  // the gated relevance, the stabilised denominator, its signs and the quotient (output-sized); a linear layer
  // may also cache up to four responses to ones (one sample each: flat, w², z-box with scalar bounds).
  const std::vector<int> lastReader = lastReaders();
  std::vector<int64_t> arriving(nodes_.size() + 1, 0);  // relevance that arrives at each step
  for (int id = 0; id < static_cast<int>(nodes_.size()); ++id)
    if (lastReader[static_cast<size_t>(id)] >= 0) arriving[static_cast<size_t>(lastReader[static_cast<size_t>(id)])] += sourceSize(id);
  int64_t live = 2 * int64_t{inputSize_} + arriving.back();
  MemoryNeed peak;
  for (int id = static_cast<int>(nodes_.size()) - 1; id >= 0; --id) {
    int64_t in = 0;
    for (int source : nodes_[static_cast<size_t>(id)].inputs) in += sourceSize(source);
    const int64_t out = sourceSize(id);
    const Layer& layer = *nodes_[static_cast<size_t>(id)].layer;
    const int64_t fixed = layer.workspaceBytes() + (layer.role() == Role::Linear ? 4 * out * kFloat : 0);
    const MemoryNeed step{activations * batch * kFloat, live * batch * kFloat, (4 * in + 6 * out) * batch * kFloat + fixed, 0};
    if (step.total() > peak.total()) peak = step;
    live += arriving[static_cast<size_t>(id)] - out;
  }
  if (layerRelevance)
    for (int id = 0; id < static_cast<int>(nodes_.size()); ++id) peak.relevance += sourceSize(id) * kFloat;
  return peak;
}

}  // namespace lrp
