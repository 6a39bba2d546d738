// Layers that act element-wise or only re-label the shape: ReLU, identity/dropout, reshape/flatten.
#include "lrp/layers.hpp"

namespace lrp {

const char* layerKindName(LayerKind kind) {
  switch (kind) {
    case LayerKind::Dense: return "dense";
    case LayerKind::ReLU: return "relu";
    case LayerKind::Reshape: return "reshape";
    case LayerKind::Identity: return "identity";
  }
  return "unknown";
}

Shape ReLULayer::outputShape(const std::vector<Shape>& inputShapes) const {
  if (inputShapes.size() != 1) throw Error("relu takes one input");
  return inputShapes[0];
}

Matrix ReLULayer::forward(const std::vector<const Matrix*>& inputs) const { return inputs[0]->cwiseMax(0.0f); }

std::vector<Matrix> ReLULayer::gradient(const std::vector<const Matrix*>& inputs, const Matrix&,
                                        const Matrix& gradOutput) const {
  // PyTorch's convention: the derivative at 0 is 0.
  return {(inputs[0]->array() > 0.0f).select(gradOutput, 0.0f)};
}

Shape PassThroughLayer::outputShape(const std::vector<Shape>& inputShapes) const {
  if (inputShapes.size() != 1) throw Error(std::string(layerKindName(kind_)) + " takes one input");
  if (target_.empty()) return inputShapes[0];
  if (shapeSize(target_) != shapeSize(inputShapes[0]))
    throw Error("cannot reshape " + shapeToString(inputShapes[0]) + " to " + shapeToString(target_));
  return target_;
}

Matrix PassThroughLayer::forward(const std::vector<const Matrix*>& inputs) const { return *inputs[0]; }

std::vector<Matrix> PassThroughLayer::gradient(const std::vector<const Matrix*>&, const Matrix&,
                                               const Matrix& gradOutput) const {
  return {gradOutput};
}

}  // namespace lrp
