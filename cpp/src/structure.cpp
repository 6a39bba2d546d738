// Layers that combine tensors: the residual Add (the re-indexing layers are in reindex.cpp).
#include "builders.hpp"

#include <cmath>

namespace lrp {

Shape AddLayer::outputShape(const std::vector<Shape>& inputShapes) const {
  if (constant_.size() != 0) {
    if (inputShapes.size() != 1) throw Error("add with a constant takes one input");
    if (constant_.size() != shapeSize(inputShapes[0]))
      throw Error("add constant has " + std::to_string(constant_.size()) + " values, the input " +
                  shapeToString(inputShapes[0]) + " has " + std::to_string(shapeSize(inputShapes[0])));
    if (!constant_.allFinite()) throw Error("add constant must be finite");
    return inputShapes[0];
  }
  if (inputShapes.size() != 2) throw Error("add takes two inputs");
  if (inputShapes[0] != inputShapes[1])
    throw Error("add needs inputs of the same shape, got " + shapeToString(inputShapes[0]) + " and " +
                shapeToString(inputShapes[1]));
  return inputShapes[0];
}

Matrix AddLayer::forward(const std::vector<const Matrix*>& inputs) const {
  if (constant_.size() != 0) return inputs[0]->colwise() + constant_;
  return *inputs[0] + *inputs[1];
}

std::vector<Matrix> AddLayer::gradient(const std::vector<const Matrix*>& inputs, const Matrix&,
                                       const Matrix& gradOutput) const {
  return std::vector<Matrix>(inputs.size(), gradOutput);
}

// Two inputs (a residual sum), or one input and `constant`, pre-broadcast to the input's shape.
std::unique_ptr<Layer> buildAdd(LayerSpec& spec, const std::vector<Shape>&) {
  return std::make_unique<AddLayer>(toVector(spec.floats("constant")));
}

}  // namespace lrp
