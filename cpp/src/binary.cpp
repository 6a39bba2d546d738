// Binary element-wise layers (add, sub, mul, div) on two activations with numpy broadcasting between their
// per-sample shapes, or (add, mul) on one activation and a constant the importer has already broadcast to
// the activation's shape.
#include "broadcast.hpp"
#include "builders.hpp"

#include <cmath>

namespace lrp {
namespace {

const char* opName(BinaryOp op) {
  switch (op) {
    case BinaryOp::Add: return "add";
    case BinaryOp::Sub: return "sub";
    case BinaryOp::Mul: return "mul";
    case BinaryOp::Div: return "div";
  }
  return "binary";
}

}  // namespace

BinaryLayer::BinaryLayer(BinaryOp op, std::vector<Shape> inputShapes, Vector constant)
    : op_(op), inputShapes_(std::move(inputShapes)), constant_(std::move(constant)) {
  const std::string kind = opName(op);
  if (constant_.size() != 0) {
    if (op != BinaryOp::Add && op != BinaryOp::Mul) throw Error(kind + " takes no constant (two activations only)");
    if (inputShapes_.size() != 1) throw Error(kind + " with a constant takes one input, got " + std::to_string(inputShapes_.size()));
    if (constant_.size() != shapeSize(inputShapes_[0]))
      throw Error(kind + " constant has " + std::to_string(constant_.size()) + " values, the input " +
                  shapeToString(inputShapes_[0]) + " has " + std::to_string(shapeSize(inputShapes_[0])) +
                  " (the constant must be pre-broadcast to the input's shape)");
    // A constant added may be −∞ (a causal mask before a softmax: ATTNLRP rule 13); a scale must be finite.
    if (constant_.array().isNaN().any()) throw Error(kind + " constant contains NaN");
    if (op == BinaryOp::Mul && !constant_.allFinite()) throw Error(kind + " constant must be finite");
    outputShape_ = inputShapes_[0];
    return;
  }
  if (inputShapes_.size() != 2)
    throw Error(kind + " takes two inputs" + (op == BinaryOp::Add || op == BinaryOp::Mul ? " (or one and a constant)" : "") +
                ", got " + std::to_string(inputShapes_.size()));
  outputShape_ = broadcastShapes(inputShapes_[0], inputShapes_[1], kind);
  // An operand of the output's shape reads element i at i: it needs no map.
  for (const Shape& shape : inputShapes_)
    index_.push_back(shapeSize(shape) == shapeSize(outputShape_) ? std::vector<int>() : broadcastIndex(shape, outputShape_));
}

const char* BinaryLayer::kind() const { return opName(op_); }

Role BinaryLayer::role() const {
  const bool constant = constant_.size() != 0;
  switch (op_) {
    case BinaryOp::Add: return constant ? Role::AddConstant : Role::Sum;
    case BinaryOp::Sub: return Role::Sum;
    case BinaryOp::Mul: return constant ? Role::ScaleConstant : Role::Product;
    case BinaryOp::Div: return Role::Quotient;
  }
  return Role::Sum;
}

Shape BinaryLayer::outputShape(const std::vector<Shape>& inputShapes) const {
  if (inputShapes != inputShapes_) {
    auto list = [](const std::vector<Shape>& shapes) {
      std::string text;
      for (const Shape& s : shapes) text += (text.empty() ? "" : ", ") + shapeToString(s);
      return text;
    };
    throw Error(std::string(kind()) + " built for inputs " + list(inputShapes_) + " got " + list(inputShapes));
  }
  return outputShape_;
}

Matrix BinaryLayer::atOutput(size_t k, const Matrix& x) const {
  if (k >= index_.size() || index_[k].empty()) return x;
  const std::vector<int>& index = index_[k];
  Matrix out(static_cast<Eigen::Index>(index.size()), x.cols());
  for (Eigen::Index c = 0; c < x.cols(); ++c)
    for (Eigen::Index i = 0; i < out.rows(); ++i) out(i, c) = x(index[static_cast<size_t>(i)], c);
  return out;
}

int64_t BinaryLayer::memoryBytes() const {
  int64_t bytes = bytesOf(constant_);
  for (const auto& index : index_) bytes += bytesOf(index);
  return bytes;
}

Matrix BinaryLayer::reduceToInput(size_t k, const Matrix& atOutputSize) const {
  if (k >= index_.size() || index_[k].empty()) return atOutputSize;
  // The transpose of the gather: every output position adds into the input element it read.
  const std::vector<int>& index = index_[k];
  Matrix out = Matrix::Zero(static_cast<Eigen::Index>(shapeSize(inputShapes_[k])), atOutputSize.cols());
  for (Eigen::Index c = 0; c < atOutputSize.cols(); ++c)
    for (Eigen::Index i = 0; i < atOutputSize.rows(); ++i) out(index[static_cast<size_t>(i)], c) += atOutputSize(i, c);
  return out;
}

Matrix BinaryLayer::forward(const std::vector<const Matrix*>& inputs) const {
  if (constant_.size() != 0)
    return op_ == BinaryOp::Add ? Matrix(inputs[0]->colwise() + constant_)
                                : Matrix(inputs[0]->array().colwise() * constant_.array());
  const Matrix a = atOutput(0, *inputs[0]), b = atOutput(1, *inputs[1]);
  switch (op_) {
    case BinaryOp::Add: return a + b;
    case BinaryOp::Sub: return a - b;
    case BinaryOp::Mul: return a.cwiseProduct(b);
    case BinaryOp::Div: return a.cwiseQuotient(b);
  }
  throw Error("unknown binary operation");
}

std::vector<Matrix> BinaryLayer::gradient(const std::vector<const Matrix*>& inputs, const Matrix&,
                                          const Matrix& gradOutput) const {
  if (constant_.size() != 0)
    return {op_ == BinaryOp::Add ? gradOutput : Matrix(gradOutput.array().colwise() * constant_.array())};
  switch (op_) {
    case BinaryOp::Add: return {reduceToInput(0, gradOutput), reduceToInput(1, gradOutput)};
    case BinaryOp::Sub: return {reduceToInput(0, gradOutput), reduceToInput(1, -gradOutput)};
    case BinaryOp::Mul: {
      const Matrix a = atOutput(0, *inputs[0]), b = atOutput(1, *inputs[1]);
      return {reduceToInput(0, gradOutput.cwiseProduct(b)), reduceToInput(1, gradOutput.cwiseProduct(a))};
    }
    case BinaryOp::Div: {
      // ∂(a/b)/∂a = 1/b, ∂(a/b)/∂b = −a/b².
      const Matrix a = atOutput(0, *inputs[0]), b = atOutput(1, *inputs[1]);
      const Matrix overB = gradOutput.cwiseQuotient(b);
      return {reduceToInput(0, overB), reduceToInput(1, -(overB.cwiseProduct(a).cwiseQuotient(b)))};
    }
  }
  throw Error("unknown binary operation");
}

namespace {

// `constant` (pre-broadcast) or null: one input and the constant, else two activations.
std::unique_ptr<Layer> buildBinary(BinaryOp op, LayerSpec& spec, const std::vector<Shape>& inputShapes) {
  Vector constant = toVector(spec.floats("constant"));
  if (spec.has("constant") && constant.size() == 0) throw Error(std::string(opName(op)) + " constant is empty");
  return std::make_unique<BinaryLayer>(op, inputShapes, std::move(constant));
}

}  // namespace

std::unique_ptr<Layer> buildAdd(LayerSpec& spec, const std::vector<Shape>& inputShapes) {
  return buildBinary(BinaryOp::Add, spec, inputShapes);
}

std::unique_ptr<Layer> buildSub(LayerSpec& spec, const std::vector<Shape>& inputShapes) {
  return buildBinary(BinaryOp::Sub, spec, inputShapes);
}

std::unique_ptr<Layer> buildMul(LayerSpec& spec, const std::vector<Shape>& inputShapes) {
  return buildBinary(BinaryOp::Mul, spec, inputShapes);
}

std::unique_ptr<Layer> buildDiv(LayerSpec& spec, const std::vector<Shape>& inputShapes) {
  return buildBinary(BinaryOp::Div, spec, inputShapes);
}

}  // namespace lrp
