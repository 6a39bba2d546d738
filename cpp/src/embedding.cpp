// Token embedding: ids (the graph input, integers stored as floats) → rows of a constant table [V, D].
// The relevance of a token is the sum over D of the relevance at the lookup's output (shared/ATTNLRP.md,
// "Tokens"), so that is what gradient() returns; explain.cpp multiplies by the embedding first for
// gradient × input.
#include "builders.hpp"

#include <cmath>
#include <sstream>

namespace lrp {
namespace {

class EmbeddingLayer : public Layer {
 public:
  // `table`: V·D values, row-major [V, D] (row v = the vector of token v).
  EmbeddingLayer(std::vector<float> table, int dimension, Shape ids)
      : table_(std::move(table)), dimension_(dimension), ids_(std::move(ids)) {
    if (dimension_ <= 0) throw Error("embedding dimension must be positive, got " + std::to_string(dimension_));
    if (table_.empty() || table_.size() % static_cast<size_t>(dimension_) != 0)
      throw Error("embedding table has " + std::to_string(table_.size()) + " values, not a whole number of rows of " +
                  std::to_string(dimension_));
    vocabulary_ = static_cast<int64_t>(table_.size()) / dimension_;
    for (float v : table_)
      if (!std::isfinite(v)) throw Error("embedding table must be finite");
    output_ = ids_;
    output_.push_back(dimension_);
    shapeSize(output_);
  }

  const char* kind() const override { return "embedding"; }
  Role role() const override { return Role::Embedding; }
  int64_t memoryBytes() const override { return bytesOf(table_); }

  Shape outputShape(const std::vector<Shape>& inputShapes) const override {
    const Shape& shape = singleInput("embedding", inputShapes);
    if (shape != ids_)
      throw Error("embedding was built for ids of shape " + shapeToString(ids_) + ", got " + shapeToString(shape));
    return output_;
  }

  Matrix forward(const std::vector<const Matrix*>& inputs) const override {
    const Matrix& ids = *inputs[0];
    const Eigen::Index d = dimension_;
    // Row-major [V, D] is column-major D × V: token v's vector is column v.
    const Eigen::Map<const Matrix> table(table_.data(), d, static_cast<Eigen::Index>(vocabulary_));
    Matrix y(ids.rows() * d, ids.cols());
    for (Eigen::Index c = 0; c < ids.cols(); ++c)
      for (Eigen::Index t = 0; t < ids.rows(); ++t) y.col(c).segment(t * d, d) = table.col(tokenAt(ids, t, c));
    return y;
  }

  // Per token, Σ_d of the gradient at its vector: the D values of a token are contiguous in a column,
  // so the gradient seen as D × (tokens · samples) sums column by column.
  std::vector<Matrix> gradient(const std::vector<const Matrix*>& inputs, const Matrix&,
                               const Matrix& gradOutput) const override {
    const Eigen::Index tokens = inputs[0]->rows(), samples = gradOutput.cols();
    const Eigen::Map<const Matrix> perToken(gradOutput.data(), dimension_, tokens * samples);
    Matrix g(tokens, samples);
    Eigen::Map<Eigen::RowVectorXf>(g.data(), tokens * samples) = perToken.colwise().sum();
    return {g};
  }

 private:
  // The id at position t of sample c, checked: the engine must never read outside the table.
  Eigen::Index tokenAt(const Matrix& ids, Eigen::Index t, Eigen::Index c) const {
    const float v = ids(t, c);
    if (!(v >= 0.0f && v < static_cast<float>(vocabulary_) && v == std::floor(v))) {
      std::ostringstream message;
      message << "embedding: token id " << v << " at position " << t;
      if (ids.cols() > 1) message << " of sample " << c;
      message << " is not an integer from 0 to " << vocabulary_ - 1 << " (the vocabulary has " << vocabulary_
              << " tokens)";
      throw Error(message.str());
    }
    return static_cast<Eigen::Index>(v);
  }

  std::vector<float> table_;
  int dimension_;
  int64_t vocabulary_;
  Shape ids_, output_;
};

}  // namespace

// spec: table [V, D] row-major, outputShape [..ids, D] (the only place D is given).
std::unique_ptr<Layer> buildEmbedding(LayerSpec& spec, const std::vector<Shape>& inputShapes) {
  const Shape& ids = singleInput("embedding", inputShapes);
  if (!spec.has("outputShape")) throw Error("embedding needs outputShape [..., D] (it gives the embedding dimension D)");
  const Shape output = spec.integers("outputShape");
  if (output.empty()) throw Error("embedding outputShape must end with the embedding dimension");
  return std::make_unique<EmbeddingLayer>(spec.takeFloats("table"), output.back(), ids);
}

}  // namespace lrp
