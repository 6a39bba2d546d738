// Fully connected layer: z = W x + b with W of shape (out × in), applied along the last axis of its input
// ([…, in] → […, out]: PyTorch's Linear on a sequence). A sample's values are stored row-major, so its
// T·in values are the in × T column-major matrix whose columns are the tokens: the whole batch is one
// product W · X with X viewed as in × (T·N), without copying.
#include "lrp/layers.hpp"

#include "builders.hpp"
#include "kernels.hpp"

namespace lrp {

namespace {

std::vector<float> columnsOf(const Matrix& w) { return std::vector<float>(w.data(), w.data() + w.size()); }

}  // namespace

DenseLayer::DenseLayer(Matrix weight, Vector bias)
    : DenseLayer(columnsOf(weight), weight.rows(), weight.cols(), std::move(bias)) {}

DenseLayer::DenseLayer(std::vector<float> columnMajorWeight, int64_t out, int64_t in, Vector bias, int64_t tokens)
    : LinearLayer(Matrix(), std::move(bias)), storage_(std::move(columnMajorWeight)), out_(out), in_(in), tokens_(tokens) {
  if (out_ <= 0 || in_ <= 0) throw Error("dense layer needs a non-empty weight matrix");
  if (static_cast<int64_t>(storage_.size()) != out_ * in_)
    throw Error("dense weight has " + std::to_string(storage_.size()) + " values, expected " + std::to_string(out_) +
                " × " + std::to_string(in_));
  if (bias_.size() != 0 && bias_.size() != out_)
    throw Error("dense layer bias has " + std::to_string(bias_.size()) + " values, expected " + std::to_string(out_));
  // A hostile or corrupted model must not turn every later result into NaN.
  if (!w().allFinite() || !bias_.allFinite()) throw Error("dense layer parameters must be finite (found NaN or Infinity)");
}

Shape DenseLayer::outputShape(const std::vector<Shape>& inputShapes) const {
  if (inputShapes.size() != 1) throw Error("dense layer takes one input");
  const Shape& in = inputShapes[0];
  const int64_t features = shapeSize(in);
  // Along the last axis ([…, in] → […, out]); an input whose last axis differs but that holds exactly `in`
  // values is one flat vector (a Gemm after an implicit flatten).
  if (!in.empty() && in.back() == in_) {
    Shape out = in;
    out.back() = static_cast<int>(out_);
    shapeSize(out);
    return out;
  }
  if (features != in_)
    throw Error("dense layer expects " + std::to_string(in_) + " input features, got " +
                std::to_string(features) + " (shape " + shapeToString(in) + ")");
  return {static_cast<int>(out_)};
}

namespace {

// The (rows·tokens) × batch matrix m seen as rows × (tokens·batch): the same memory, one column per token.
Eigen::Map<const Matrix> byToken(const Matrix& m, Eigen::Index rows) {
  return Eigen::Map<const Matrix>(m.data(), rows, m.size() / rows);
}

// Back from one column per token to one column per sample (Eigen keeps the data when the size is unchanged).
Matrix bySample(Matrix&& m, Eigen::Index samples) {
  m.resize(m.size() / samples, samples);
  return std::move(m);
}

}  // namespace

namespace {

// From this many tokens per sample on, the products run on the packed GEMM of the convolutions, which
// keeps an 8×4 block of the result in registers: vit_b_16's linear maps over 197 tokens ran 1.5× slower on the
// column-streaming kernels, which are right for one column (a CNN's classifier at batch 1). Below it, packing W
// per call costs more than it saves (mnist-vit, 17 tokens: explain 0.93 → 1.51 ms with the GEMM).
constexpr Eigen::Index kGemmColumns = 32;

// Y (n × T) = mod(B)ᵀ X for X (k × T) and B (k × n) at b[p·strideK + j·strideN]: as the GEMM C (T × n) =
// Xᵀ mod(B), with the modifier applied while B is packed (one pass over the weight per call; the packed copy is
// freed after it), then transposed.
Matrix gemmProduct(const float* b, int k, int n, std::ptrdiff_t strideK, std::ptrdiff_t strideN,
                   const Eigen::Map<const Matrix>& x, const Modifier& mod) {
  const int columns = static_cast<int>(x.cols());
  std::vector<float> aPanels(static_cast<size_t>(panelCount(columns, kPanelRows)) * kPanelRows * static_cast<size_t>(k));
  packRowPanels(x.data(), columns, k, x.outerStride(), 1, aPanels.data());
  std::vector<float> bPanels(static_cast<size_t>(panelCount(n, kPanelCols)) * kPanelCols * static_cast<size_t>(k));
  withModifier(mod, [&](auto load) { packColumnPanels(b, k, n, strideK, strideN, load, bPanels.data()); });
  Matrix c(columns, n);
  packedProduct(columns, n, k, aPanels.data(), bPanels.data(), c.data(), columns);
  return c.transpose();
}

}  // namespace

// W is the only copy of the weight (out × in, column-major). At one column, the forward map is W X summed column
// by column (`product`) and the transposed map Wᵀ S one dot product per input feature (`transposedProduct`); both
// stream W contiguously and apply a rule's modifier as they load it, so a branch (W⁺, W⁻, γ, w², ones) costs no
// memory. Over 2–31 tokens per sample the forward map blocks tokens in registers (`productOfTokens`); from
// kGemmColumns tokens on, both run on the packed GEMM.
// The kernel depends on the tokens per sample (1 for a CNN's classifier, 17 or 197 for a ViT), never on the
// batch: explainBatch runs its inputs in chunks, and every chunk must compute the same values.
Matrix DenseLayer::mapForward(const Matrix& x, const Modifier& mod, const Vector* b) const {
  const Eigen::Map<const Matrix> tokens = byToken(x, in_);
  const Eigen::Index perSample = x.rows() / in_;
  Matrix z = perSample >= kGemmColumns
                 ? gemmProduct(storage_.data(), static_cast<int>(in_), static_cast<int>(out_), out_, 1, tokens, mod)
             : perSample > 1 ? productOfTokens(w(), tokens, mod)
                             : product(w(), tokens, mod);
  if (b != nullptr && b->size() != 0) z.colwise() += *b;
  return bySample(std::move(z), x.cols());
}

// Over kGemmColumns tokens or more the products pack a modified copy of W (and the tokens) for the GEMM.
int64_t DenseLayer::workspaceBytes() const {
  return tokens_ >= kGemmColumns ? bytesOf(storage_) + int64_t{16} * (in_ + out_) + int64_t{4} * tokens_ * (in_ + out_) : 0;
}

Matrix DenseLayer::mapTranspose(const Matrix& s, const Modifier& mod) const {
  const Eigen::Map<const Matrix> tokens = byToken(s, out_);
  Matrix r = s.rows() / out_ >= kGemmColumns
                 ? gemmProduct(storage_.data(), static_cast<int>(out_), static_cast<int>(in_), 1, out_, tokens, mod)
                 : transposedProduct(w(), tokens, mod);
  return bySample(std::move(r), s.cols());
}

// spec: weight [out, in] row-major, or weightColumns [in, out] row-major with outFeatures = out (W column-major, as
// the package's loader sends it: moved into the layer without a copy); bias [out] or null; `in` is the input's
// last axis.
std::unique_ptr<Layer> buildDense(LayerSpec& spec, const std::vector<Shape>& inputShapes) {
  const Shape& input = singleInput("dense", inputShapes);
  if (input.empty()) throw Error("dense layer needs an input of rank >= 1");
  const int64_t in = input.back();
  const bool byColumns = spec.has("weightColumns");
  std::vector<float> weight = spec.takeFloats(byColumns ? "weightColumns" : "weight");
  if (weight.empty() || weight.size() % static_cast<size_t>(in) != 0)
    throw Error("dense weight has " + std::to_string(weight.size()) + " values, not a multiple of the input's last axis " +
                std::to_string(in) + " (input shape " + shapeToString(input) + ")");
  const int64_t out = static_cast<int64_t>(weight.size()) / in;
  // The loader transposed W for `outFeatures` outputs: a different count here means the layout is not W's.
  if (byColumns && spec.integer("outFeatures") != out)
    throw Error("dense weightColumns were laid out for " + std::to_string(spec.integer("outFeatures")) +
                " outputs, but the input's last axis " + std::to_string(in) + " gives " + std::to_string(out));
  const int64_t tokens = std::max<int64_t>(1, shapeSize(input) / in);
  std::vector<float> columns = byColumns ? std::move(weight) : std::vector<float>(weight.size());
  if (!byColumns) {  // row-major [out, in] straight into column-major storage
    using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    Eigen::Map<Matrix>(columns.data(), out, in) = Eigen::Map<const RowMajor>(weight.data(), out, in);
  }
  return std::make_unique<DenseLayer>(std::move(columns), out, in, toVector(spec.floats("bias")), tokens);
}

// Every output value (out per token) is a dot product over the in features.
int64_t DenseLayer::operations(const std::vector<Shape>&, const Shape& outputShape) const {
  return saturatingMultiply(Layer::operations({}, outputShape), in_);
}

}  // namespace lrp
