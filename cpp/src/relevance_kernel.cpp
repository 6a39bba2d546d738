#include "relevance_kernel.hpp"

#include "parallel.hpp"

namespace lrp {
namespace {

// The element-wise passes over whole activations run on threads' segments (forSegments): Eigen expressions,
// SIMD-vectorised (scalar loops written per element here were 10x slower and cost mnist-vit's explain 17 %).
constexpr int64_t kElementGrain = int64_t{1} << 16;  // memory-bound: only big activations are worth a hand-off

// d += sign · m
void addScaled(Matrix& d, float sign, const Matrix& m) {
  forSegments(d.size(), kElementGrain,
              [&](Eigen::Index lo, Eigen::Index n) { segment(d, lo, n) += sign * segment(m, lo, n); });
}

// A branch's modified input. Ones and bounds are materialised; the kernel never modifies them.
Matrix modifiedInput(const Matrix& x, InputMod mod, const Rule& rule) {
  auto bound = [&](const std::vector<float>& values) {
    Matrix b(x.rows(), x.cols());
    if (values.size() == 1) {
      b.setConstant(values[0]);
    } else {
      const Eigen::Map<const Vector> column(values.data(), static_cast<Eigen::Index>(values.size()));
      b.colwise() = column;
    }
    return b;
  };
  auto mapped = [&](auto f) {
    Matrix m(x.rows(), x.cols());
    forSegments(x.size(), kElementGrain,
                [&](Eigen::Index lo, Eigen::Index n) { segment(m, lo, n) = f(segment(x, lo, n)); });
    return m;
  };
  switch (mod) {
    case InputMod::Identity: return x;
    case InputMod::Positive: return mapped([](const ConstSegment& v) { return v.max(0.0f); });
    case InputMod::Negative: return mapped([](const ConstSegment& v) { return v.min(0.0f); });
    case InputMod::Ones: return Matrix::Ones(x.rows(), x.cols());
    case InputMod::Low: return bound(rule.low);
    case InputMod::High: return bound(rule.high);
  }
  throw Error("unknown input modifier");
}

// The value of a Low/High input when the rule's bound is one number for every input, else nullptr.
const float* scalarBound(InputMod mod, const Rule& rule) {
  if (mod == InputMod::Low && rule.low.size() == 1) return &rule.low[0];
  if (mod == InputMod::High && rule.high.size() == 1) return &rule.high[0];
  return nullptr;
}

// gate(R) / stab(denominator): R where the gate lets it through (z > 0, z < 0, or everywhere), else 0.
// stabilizedDivide(gate(R), denominator, ε) without materialising gate(R).
Matrix gatedDivide(const Matrix& relevance, const Matrix& z, OutputGate gate, const Matrix& denominator, float epsilon) {
  Matrix s(denominator.rows(), denominator.cols());
  auto divide = [&](Eigen::Index lo, Eigen::Index n, const auto& numerator) {
    const ConstSegment d = segment(denominator, lo, n);
    Segment out = segment(s, lo, n);
    out = d + epsilon * (d >= 0.0f).select(Eigen::ArrayXf::Ones(n), -1.0f);  // stab(d)
    if (epsilon == 0.0f) out = (out == 0.0f).select(0.0f, numerator / out);
    else out = numerator / out;
  };
  forSegments(s.size(), kElementGrain, [&](Eigen::Index lo, Eigen::Index n) {
    const ConstSegment r = segment(relevance, lo, n);
    switch (gate) {
      case OutputGate::All: divide(lo, n, r); break;
      case OutputGate::PositiveOutput: divide(lo, n, (segment(z, lo, n) > 0.0f).select(r, 0.0f)); break;
      case OutputGate::NegativeOutput: divide(lo, n, (segment(z, lo, n) < 0.0f).select(r, 0.0f)); break;
    }
  });
  return s;
}

struct EvaluatedBranch {
  Matrix storage;       // the modified input, unless it is x itself
  const Matrix* input;  // points at x or at storage
  Modifier weight;      // applied by the layer's maps as they read W: no modified copy is kept
  float sign;
  bool silent;  // all-zero input: contributes its bias to z but no relevance
};

}  // namespace

Matrix stabilizedDivide(const Matrix& numerator, const Matrix& denominator, float epsilon) {
  return gatedDivide(numerator, numerator, OutputGate::All, denominator, epsilon);  // the gate reads no z
}

Matrix linearRelevance(const LinearLayer& layer, const Matrix& x, const Matrix& z, const Matrix& relevance,
                       const Rule& rule) {
  Matrix inputRelevance = Matrix::Zero(x.rows(), x.cols());
  const float epsilon = stabilizerOf(rule);
  const bool hasBias = layer.bias().size() != 0;

  for (const BranchGroup& group : branchesOf(rule)) {
    std::vector<EvaluatedBranch> branches;
    branches.reserve(group.branches.size());  // `input` may point into `storage`: never reallocate
    Matrix denominator = Matrix::Zero(z.rows(), z.cols());
    for (const Branch& branch : group.branches) {
      EvaluatedBranch& eval = branches.emplace_back(
          EvaluatedBranch{Matrix(), &x, Modifier{branch.weight, rule.gamma}, branch.sign, false});
      if (branch.input != InputMod::Identity) {
        eval.storage = modifiedInput(x, branch.input, rule);
        eval.input = &eval.storage;
      }
      Vector modifiedBias;  // one value per output channel: cheap to recompute per call
      if (hasBias && branch.bias != ParamMod::Zero) modifiedBias = layer.modifiedBias(Modifier{branch.bias, rule.gamma});
      const Vector* bias = modifiedBias.size() != 0 ? &modifiedBias : nullptr;
      // x⁺ or x⁻ of a one-signed input is all zero (e.g. x⁻ after a ReLU): skip both maps.
      eval.silent = (branch.input == InputMod::Positive || branch.input == InputMod::Negative) &&
                    !(eval.input->array() != 0.0f).any();
      const bool isOriginalMap = branch.input == InputMod::Identity && branch.weight == ParamMod::Identity &&
                                 (branch.bias == ParamMod::Identity || !hasBias);
      if (isOriginalMap) {
        addScaled(denominator, branch.sign, z);  // the forward pass already computed this branch (ε, z-box)
      } else if (branch.input == InputMod::Ones) {
        denominator.colwise() += branch.sign * layer.onesResponse(static_cast<int>(x.rows()), branch.weight,
                                                                  branch.bias, rule.gamma);
      } else if (const float* bound = scalarBound(branch.input, rule)) {
        // A constant input l·1 (z-box with scalar bounds): its response l·map(1; W_k) + b_k comes from two
        // cached responses to ones, map(1; W_k) and map(1; W_k) + b_k (the layer knows how b broadcasts).
        const int rows = static_cast<int>(x.rows());
        const Vector& ones = layer.onesResponse(rows, branch.weight, ParamMod::Zero, rule.gamma);
        denominator.colwise() += (branch.sign * *bound) * ones;
        if (bias != nullptr)
          denominator.colwise() += branch.sign * (layer.onesResponse(rows, branch.weight, branch.bias, rule.gamma) - ones);
      } else if (!eval.silent) {
        addScaled(denominator, branch.sign, layer.mapForward(*eval.input, eval.weight, bias));
      } else if (bias != nullptr) {
        // The bias alone, spread over the output as the layer spreads it (per token, per pixel).
        denominator += branch.sign * layer.mapForward(Matrix::Zero(x.rows(), 1), eval.weight, bias).replicate(1, z.cols());
      }
    }
    const Matrix s = gatedDivide(relevance, z, group.gate, denominator, epsilon);
    for (const EvaluatedBranch& branch : branches) {
      if (branch.silent) continue;
      const Matrix c = layer.mapTranspose(s, branch.weight);
      const float k = group.coefficient * branch.sign;
      forSegments(inputRelevance.size(), kElementGrain, [&](Eigen::Index lo, Eigen::Index n) {
        segment(inputRelevance, lo, n) += (k * segment(*branch.input, lo, n)) * segment(c, lo, n);
      });
    }
  }
  return inputRelevance;
}

}  // namespace lrp
