// Matrix product of two activations [..., M, K] × [..., K, N] with numpy broadcasting of the leading axes
// (attention's QKᵀ and A·V), and its LRP rule (ATTNLRP rule 9).
#include "broadcast.hpp"
#include "builders.hpp"
#include "special_rules.hpp"

namespace lrp {
namespace {

using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

class MatMulLayer : public Layer {
 public:
  MatMulLayer(Shape a, Shape b) : a_(std::move(a)), b_(std::move(b)) {
    if (a_.size() < 2 || b_.size() < 2)
      throw Error("matmul needs two operands of rank >= 2, got " + shapeToString(a_) + " and " + shapeToString(b_));
    m_ = a_[a_.size() - 2];
    k_ = a_.back();
    n_ = b_.back();
    if (b_[b_.size() - 2] != k_)
      throw Error("matmul cannot multiply " + shapeToString(a_) + " by " + shapeToString(b_) + ": " + std::to_string(k_) +
                  " ≠ " + std::to_string(b_[b_.size() - 2]));
    const Shape leadA(a_.begin(), a_.end() - 2), leadB(b_.begin(), b_.end() - 2);
    const Shape lead = broadcastShapes(leadA, leadB, "matmul (leading axes)");
    // Which matrix of each operand every output matrix multiplies.
    batchA_ = broadcastIndex(leadA, lead);
    batchB_ = broadcastIndex(leadB, lead);
    out_ = lead;
    out_.push_back(m_);
    out_.push_back(n_);
    shapeSize(out_);
  }

  const char* kind() const override { return "matmul"; }
  Role role() const override { return Role::MatMul; }
  int64_t memoryBytes() const override { return bytesOf(batchA_) + bytesOf(batchB_); }
  // Every output value ([..., M, N]) is a dot product over K.
  int64_t operations(const std::vector<Shape>&, const Shape& outputShape) const override {
    return saturatingMultiply(Layer::operations({}, outputShape), k_);
  }

  Shape outputShape(const std::vector<Shape>& inputShapes) const override {
    if (inputShapes.size() != 2 || inputShapes[0] != a_ || inputShapes[1] != b_)
      throw Error("matmul built for inputs " + shapeToString(a_) + " and " + shapeToString(b_) + " got other shapes");
    return out_;
  }

  Matrix forward(const std::vector<const Matrix*>& inputs) const override {
    Matrix y(static_cast<Eigen::Index>(shapeSize(out_)), inputs[0]->cols());
    for (Eigen::Index c = 0; c < y.cols(); ++c)
      for (size_t t = 0; t < batchA_.size(); ++t)
        outputMatrix(y, c, t).noalias() = matrixA(*inputs[0], c, t) * matrixB(*inputs[1], c, t);
    return y;
  }

  // ∂L/∂A = G Bᵀ, ∂L/∂B = Aᵀ G, summed over the output matrices that share an operand matrix (broadcast).
  std::vector<Matrix> gradient(const std::vector<const Matrix*>& inputs, const Matrix&,
                               const Matrix& gradOutput) const override {
    const Matrix& a = *inputs[0];
    const Matrix& b = *inputs[1];
    Matrix ga = Matrix::Zero(a.rows(), a.cols()), gb = Matrix::Zero(b.rows(), b.cols());
    for (Eigen::Index c = 0; c < gradOutput.cols(); ++c)
      for (size_t t = 0; t < batchA_.size(); ++t) {
        const auto g = outputMatrix(gradOutput, c, t);
        matrixOf(ga, c, batchA_[t], m_, k_).noalias() += g * matrixB(b, c, t).transpose();
        matrixOf(gb, c, batchB_[t], k_, n_).noalias() += matrixA(a, c, t).transpose() * g;
      }
    return {ga, gb};
  }

 private:
  // The `rows` × `cols` row-major matrix number `index` in column c of x.
  static Eigen::Map<RowMajor> matrixOf(Matrix& x, Eigen::Index c, int index, int rows, int cols) {
    return Eigen::Map<RowMajor>(x.col(c).data() + static_cast<Eigen::Index>(index) * rows * cols, rows, cols);
  }
  static Eigen::Map<const RowMajor> matrixOf(const Matrix& x, Eigen::Index c, int index, int rows, int cols) {
    return Eigen::Map<const RowMajor>(x.col(c).data() + static_cast<Eigen::Index>(index) * rows * cols, rows, cols);
  }
  Eigen::Map<const RowMajor> matrixA(const Matrix& a, Eigen::Index c, size_t t) const { return matrixOf(a, c, batchA_[t], m_, k_); }
  Eigen::Map<const RowMajor> matrixB(const Matrix& b, Eigen::Index c, size_t t) const { return matrixOf(b, c, batchB_[t], k_, n_); }
  Eigen::Map<RowMajor> outputMatrix(Matrix& y, Eigen::Index c, size_t t) const { return matrixOf(y, c, static_cast<int>(t), m_, n_); }
  Eigen::Map<const RowMajor> outputMatrix(const Matrix& y, Eigen::Index c, size_t t) const {
    return matrixOf(y, c, static_cast<int>(t), m_, n_);
  }

  Shape a_, b_, out_;
  int m_, k_, n_;
  std::vector<int> batchA_, batchB_;  // per output matrix: the matrix of A and of B it multiplies
};

}  // namespace

// ATTNLRP rule 9 (AttnLRP Prop. 3.3, LXT `matmul_fn`): the ε-rule on z = A·B, then half to each operand
// (uniform): S = R / stab(2z) with st+ and ε = 1e-8, R_A = A ⊙ (S Bᵀ), R_B = B ⊙ (Aᵀ S). Those are the
// gradient at S times each operand; over broadcast leading axes they sum like the gradient.
std::vector<Matrix> matmulRelevance(const Layer& layer, const std::vector<const Matrix*>& inputs, const Matrix& z,
                                    const Matrix& relevance, const Rule& rule) {
  if (dynamic_cast<const MatMulLayer*>(&layer) == nullptr)
    throw Error(std::string("the matmul rule does not apply to a ") + layer.kind() + " layer");
  // Rule 9: ε then uniform, S = R/st+(2z). CP-LRP (rule.silentInput = k, the attention weights A): A is a
  // constant, so z = A·V is linear in V and V takes the ε-rule, S = R/st+(z), while A gets nothing.
  const bool conservative = rule.silentInput >= 0;
  const Matrix s = stabilizedRatio(relevance, conservative ? z : Matrix(2.0f * z), rule);
  std::vector<Matrix> passed = layer.gradient(inputs, z, s);
  for (size_t k = 0; k < passed.size(); ++k) {
    if (static_cast<int>(k) == rule.silentInput) passed[k].setZero();
    else passed[k].array() *= inputs[k]->array();
  }
  return passed;
}

std::unique_ptr<Layer> buildMatMul(LayerSpec&, const std::vector<Shape>& inputShapes) {
  if (inputShapes.size() != 2) throw Error("matmul takes two inputs, got " + std::to_string(inputShapes.size()));
  return std::make_unique<MatMulLayer>(inputShapes[0], inputShapes[1]);
}

}  // namespace lrp
