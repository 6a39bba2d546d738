#include "relevance_kernel.hpp"

#include "parallel.hpp"

namespace lrp {
namespace {

// The element-wise passes over whole activations, split over threads in contiguous ranges: element i is
// computed by one thread with the same expression as in a single loop (Eigen's expressions they replace
// evaluate element by element in the same order of operations).
constexpr int64_t kElementGrain = int64_t{1} << 16;  // memory-bound: only big activations are worth a hand-off

template <typename F>
void forElements(Eigen::Index size, F&& f) {
  parallelFor(0, size, kElementGrain, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) f(static_cast<Eigen::Index>(i));
  }, 16);
}

// d += sign · m
void addScaled(Matrix& d, float sign, const Matrix& m) {
  float* out = d.data();
  const float* in = m.data();
  forElements(d.size(), [&](Eigen::Index i) { out[i] += sign * in[i]; });
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
    const float* in = x.data();
    float* out = m.data();
    forElements(x.size(), [&](Eigen::Index i) { out[i] = f(in[i]); });
    return m;
  };
  switch (mod) {
    case InputMod::Identity: return x;
    // std::max(v, 0) and std::min(v, 0), as Eigen's cwiseMax/cwiseMin
    case InputMod::Positive: return mapped([](float v) { return v < 0.0f ? 0.0f : v; });
    case InputMod::Negative: return mapped([](float v) { return 0.0f < v ? 0.0f : v; });
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
Matrix gatedDivide(const Matrix& relevance, const Matrix& z, OutputGate gate, const Matrix& denominator, float epsilon) {
  Matrix s(denominator.rows(), denominator.cols());
  const float *r = relevance.data(), *zs = z.data(), *d = denominator.data();
  float* out = s.data();
  auto divide = [&](auto numerator) {
    forElements(s.size(), [&](Eigen::Index i) {
      const float stabilized = d[i] + epsilon * (d[i] >= 0.0f ? 1.0f : -1.0f);
      out[i] = epsilon == 0.0f && stabilized == 0.0f ? 0.0f : numerator(i) / stabilized;
    });
  };
  switch (gate) {
    case OutputGate::All: divide([&](Eigen::Index i) { return r[i]; }); break;
    case OutputGate::PositiveOutput: divide([&](Eigen::Index i) { return zs[i] > 0.0f ? r[i] : 0.0f; }); break;
    case OutputGate::NegativeOutput: divide([&](Eigen::Index i) { return zs[i] < 0.0f ? r[i] : 0.0f; }); break;
  }
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
  const auto sign = (denominator.array() >= 0.0f).select(Matrix::Ones(denominator.rows(), denominator.cols()), -1.0f);
  const Matrix stabilized = denominator.array() + epsilon * sign.array();
  if (epsilon == 0.0f) return (stabilized.array() == 0.0f).select(0.0f, numerator.array() / stabilized.array());
  return numerator.array() / stabilized.array();
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
      float* out = inputRelevance.data();
      const float *in = branch.input->data(), *cs = c.data();
      forElements(inputRelevance.size(), [&](Eigen::Index i) { out[i] += (k * in[i]) * cs[i]; });
    }
  }
  return inputRelevance;
}

}  // namespace lrp
