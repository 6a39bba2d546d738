// Shared helpers of the native tests: fixed-seed random networks and an independent, naive double-precision
// reference of every LRP rule (explicit loops, written from shared/RULES.md, not from the engine's branch tables).
#pragma once

#include <gtest/gtest.h>

#include "lrp/explain.hpp"

#include "../../cpp/src/relevance_kernel.hpp"

#include <Eigen/Core>

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace lrptest {

using DMat = Eigen::MatrixXd;
using DVec = Eigen::VectorXd;

// ---------------------------------------------------------------------------------------------------------
// Random numbers: std::mt19937's raw output is standardised, so the data is the same on every platform.

inline double uniform(std::mt19937& rng, double lo, double hi) {
  return lo + (hi - lo) * (static_cast<double>(rng()) / 4294967296.0);
}

inline lrp::Matrix randomMatrix(std::mt19937& rng, int rows, int cols, double lo, double hi) {
  lrp::Matrix m(rows, cols);
  for (int c = 0; c < cols; ++c)
    for (int r = 0; r < rows; ++r) m(r, c) = static_cast<float>(uniform(rng, lo, hi));
  return m;
}

inline lrp::Vector randomVector(std::mt19937& rng, int size, double lo, double hi) {
  lrp::Vector v(size);
  for (int i = 0; i < size; ++i) v(i) = static_cast<float>(uniform(rng, lo, hi));
  return v;
}

inline std::vector<float> toStd(const lrp::Vector& v) { return std::vector<float>(v.data(), v.data() + v.size()); }

// ---------------------------------------------------------------------------------------------------------
// Naive reference of one rule on one dense layer z = W x + b (W: out × in), one sample.

inline double sgn0(double z) { return z >= 0.0 ? 1.0 : -1.0; }
inline double stab(double z, double eps) { return z + eps * sgn0(z); }
inline double pos(double v) { return v > 0.0 ? v : 0.0; }
inline double neg(double v) { return v < 0.0 ? v : 0.0; }

// `b` may be empty (a layer without bias). `x` is the layer input, `R` the relevance at the layer output.
inline DVec refRule(const DMat& W, const DVec& b, const DVec& x, const DVec& R, const lrp::Rule& rule) {
  using K = lrp::RuleKind;
  const int out = static_cast<int>(W.rows()), in = static_cast<int>(W.cols());
  // The original bias (LRP-γ's output gate) and the bias as the rule sees it (zeroBias drops it everywhere).
  DVec borig = b.size() ? b : DVec::Zero(out);
  DVec bb = rule.zeroBias ? DVec::Zero(out) : borig;
  const double st = rule.stabilizer;
  DVec Rin = DVec::Zero(in);

  switch (rule.kind) {
    case K::Epsilon:
    case K::Zero:
    case K::Norm: {
      const double eps = rule.kind == K::Epsilon ? rule.epsilon : rule.kind == K::Zero ? 0.0 : st;
      for (int j = 0; j < out; ++j) {
        double z = bb(j);
        for (int i = 0; i < in; ++i) z += x(i) * W(j, i);
        if (rule.kind == K::Zero && z == 0.0) continue;  // LRP-0: a zero denominator passes nothing
        const double s = R(j) / stab(z, eps);
        for (int i = 0; i < in; ++i) Rin(i) += x(i) * W(j, i) * s;
      }
      return Rin;
    }
    case K::ZPlus:
    case K::AlphaBeta: {
      const bool plus = rule.kind == K::ZPlus;
      const double alpha = plus ? 1.0 : rule.alpha, beta = plus ? 0.0 : rule.beta;
      for (int j = 0; j < out; ++j) {
        double za = pos(bb(j)), zb = neg(bb(j));
        for (int i = 0; i < in; ++i) {
          za += pos(x(i)) * pos(W(j, i)) + neg(x(i)) * neg(W(j, i));
          zb += pos(x(i)) * neg(W(j, i)) + neg(x(i)) * pos(W(j, i));
        }
        const double sa = R(j) / stab(za, st), sb = R(j) / stab(zb, st);
        for (int i = 0; i < in; ++i) {
          Rin(i) += alpha * (pos(x(i)) * pos(W(j, i)) * sa + neg(x(i)) * neg(W(j, i)) * sa);
          if (beta != 0.0) Rin(i) -= beta * (pos(x(i)) * neg(W(j, i)) * sb + neg(x(i)) * pos(W(j, i)) * sb);
        }
      }
      return Rin;
    }
    case K::Gamma: {
      const double g = rule.gamma;
      auto rp = [g](double p) { return p + g * pos(p); };
      auto rn = [g](double p) { return p + g * neg(p); };
      for (int j = 0; j < out; ++j) {
        double z = borig(j);  // the original output decides the side
        double zp = rp(bb(j)), zn = rn(bb(j));
        for (int i = 0; i < in; ++i) {
          z += x(i) * W(j, i);
          zp += pos(x(i)) * rp(W(j, i)) + neg(x(i)) * rn(W(j, i));
          zn += pos(x(i)) * rn(W(j, i)) + neg(x(i)) * rp(W(j, i));
        }
        const double sp = z > 0.0 ? R(j) / stab(zp, st) : 0.0;
        const double sn = z < 0.0 ? R(j) / stab(zn, st) : 0.0;
        for (int i = 0; i < in; ++i)
          Rin(i) += pos(x(i)) * rp(W(j, i)) * sp + neg(x(i)) * rn(W(j, i)) * sp + pos(x(i)) * rn(W(j, i)) * sn +
                    neg(x(i)) * rp(W(j, i)) * sn;
      }
      return Rin;
    }
    case K::ZBox: {
      auto bound = [](const std::vector<float>& v, int i) { return static_cast<double>(v.size() == 1 ? v[0] : v[i]); };
      for (int j = 0; j < out; ++j) {
        double z = 0.0;  // the bias cancels exactly
        for (int i = 0; i < in; ++i)
          z += x(i) * W(j, i) - bound(rule.low, i) * pos(W(j, i)) - bound(rule.high, i) * neg(W(j, i));
        const double s = R(j) / stab(z, st);
        for (int i = 0; i < in; ++i)
          Rin(i) += (x(i) * W(j, i) - bound(rule.low, i) * pos(W(j, i)) - bound(rule.high, i) * neg(W(j, i))) * s;
      }
      return Rin;
    }
    case K::WSquare: {
      for (int j = 0; j < out; ++j) {
        double z = bb(j) * bb(j);
        for (int i = 0; i < in; ++i) z += W(j, i) * W(j, i);
        const double s = R(j) / stab(z, st);
        for (int i = 0; i < in; ++i) Rin(i) += W(j, i) * W(j, i) * s;
      }
      return Rin;
    }
    case K::Flat: {
      for (int j = 0; j < out; ++j) {
        const double s = R(j) / stab(static_cast<double>(in), st);
        for (int i = 0; i < in; ++i) Rin(i) += s;
      }
      return Rin;
    }
    case K::Pass: return R;
  }
  ADD_FAILURE() << "refRule: unhandled rule kind";
  return Rin;
}

// Column by column.
inline DMat refRuleBatch(const DMat& W, const DVec& b, const DMat& X, const DMat& R, const lrp::Rule& rule) {
  DMat out(X.rows(), X.cols());
  for (Eigen::Index c = 0; c < X.cols(); ++c) out.col(c) = refRule(W, b, X.col(c), R.col(c), rule);
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Rules as values.

inline lrp::Rule makeRule(lrp::RuleKind kind, bool zeroBias = false) {
  lrp::Rule r;
  r.kind = kind;
  r.zeroBias = zeroBias;
  return r;
}
inline lrp::Rule epsilonRule(float eps, bool zeroBias = false) {
  lrp::Rule r = makeRule(lrp::RuleKind::Epsilon, zeroBias);
  r.epsilon = eps;
  return r;
}
inline lrp::Rule alphaBetaRule(float alpha, float beta, bool zeroBias = false) {
  lrp::Rule r = makeRule(lrp::RuleKind::AlphaBeta, zeroBias);
  r.alpha = alpha;
  r.beta = beta;
  return r;
}
inline lrp::Rule gammaRule(float gamma, bool zeroBias = false) {
  lrp::Rule r = makeRule(lrp::RuleKind::Gamma, zeroBias);
  r.gamma = gamma;
  return r;
}
inline lrp::Rule zBoxRule(std::vector<float> low, std::vector<float> high, bool zeroBias = false) {
  lrp::Rule r = makeRule(lrp::RuleKind::ZBox, zeroBias);
  r.low = std::move(low);
  r.high = std::move(high);
  return r;
}

// ---------------------------------------------------------------------------------------------------------
// A chain network (dense / relu / reshape) built twice: in the engine and as double-precision data.

struct Mlp {
  enum class Step { Dense, Relu, Reshape };
  lrp::Graph graph;
  std::vector<Step> steps;   // per node
  std::vector<int> dense;    // per node: index into W/b (−1 if not dense)
  std::vector<DMat> W;       // double copies of the engine's float parameters
  std::vector<DVec> b;       // empty when the layer has no bias
  std::vector<int> denseNodes;

  explicit Mlp(lrp::Shape inputShape) : graph(std::move(inputShape)) {}

  int addDense(const lrp::Matrix& w, const lrp::Vector& bias) {
    const int id = graph.add("dense" + std::to_string(W.size()), std::make_unique<lrp::DenseLayer>(w, bias),
                             {lastNode()});
    steps.push_back(Step::Dense);
    dense.push_back(static_cast<int>(W.size()));
    W.push_back(w.cast<double>());
    b.push_back(bias.cast<double>());
    denseNodes.push_back(id);
    return id;
  }
  int addRelu() {
    const int id = graph.add("relu" + std::to_string(id_), std::make_unique<lrp::ReLULayer>(), {lastNode()});
    ++id_;
    steps.push_back(Step::Relu);
    dense.push_back(-1);
    return id;
  }
  int addReshape(lrp::Shape target) {
    const int id = graph.add("reshape", std::make_unique<lrp::PassThroughLayer>(std::move(target)),
                             {lastNode()});
    steps.push_back(Step::Reshape);
    dense.push_back(-1);
    return id;
  }
  int lastNode() const { return steps.empty() ? lrp::kGraphInput : static_cast<int>(steps.size()) - 1; }

 private:
  int id_ = 0;
};

struct MlpOptions {
  bool bias = true;
  bool reluAfterLast = false;
  bool flattenFirst = false;  // input shape {2, n/2} and a reshape node first
  double weightScale = 2.45;  // weights uniform in ±weightScale/sqrt(fan-in) (≈ He: keeps ReLU activations alive)
  double biasRange = 0.3;     // biases uniform in ±biasRange
};

// sizes = {input, hidden..., output}; a ReLU after every dense layer but the last (unless reluAfterLast).
inline Mlp makeMlp(uint32_t seed, const std::vector<int>& sizes, const MlpOptions& opt = {}) {
  std::mt19937 rng(seed);
  Mlp net(opt.flattenFirst ? lrp::Shape{2, sizes[0] / 2} : lrp::Shape{sizes[0]});
  if (opt.flattenFirst) net.addReshape({sizes[0]});
  for (size_t k = 0; k + 1 < sizes.size(); ++k) {
    const double scale = opt.weightScale / std::sqrt(static_cast<double>(sizes[k]));
    lrp::Matrix w = randomMatrix(rng, sizes[k + 1], sizes[k], -scale, scale);
    lrp::Vector bias = opt.bias ? randomVector(rng, sizes[k + 1], -opt.biasRange, opt.biasRange) : lrp::Vector();
    net.addDense(w, bias);
    if (k + 2 < sizes.size() || opt.reluAfterLast) net.addRelu();
  }
  return net;
}

// Every node's output (double) for one input; node id's input is node id−1 (a chain).
inline std::vector<DVec> refForward(const Mlp& net, const DVec& x) {
  std::vector<DVec> acts;
  for (size_t id = 0; id < net.steps.size(); ++id) {
    const DVec& in = id == 0 ? x : acts[id - 1];
    switch (net.steps[id]) {
      case Mlp::Step::Dense: {
        const int k = net.dense[id];
        DVec z(net.W[k].rows());
        for (Eigen::Index j = 0; j < z.size(); ++j) {
          double v = net.b[k].size() ? net.b[k](j) : 0.0;
          for (Eigen::Index i = 0; i < in.size(); ++i) v += net.W[k](j, i) * in(i);
          z(j) = v;
        }
        acts.push_back(z);
        break;
      }
      case Mlp::Step::Relu: acts.push_back(in.cwiseMax(0.0)); break;
      case Mlp::Step::Reshape: acts.push_back(in); break;
    }
  }
  return acts;
}

// Backward walk in double. rules == nullptr: the plain gradient (ReLU'(0) = 0). Otherwise LRP with the given
// per-node rules; a node without a rule passes its gradient (dense: Wᵀ R; reshape: unchanged).
// `atOutput` (optional) receives the relevance at every node's output.
inline DVec refBackward(const Mlp& net, const DVec& x, const DVec& seed,
                        const std::vector<std::optional<lrp::Rule>>* rules, std::vector<DVec>* atOutput = nullptr) {
  const std::vector<DVec> acts = refForward(net, x);
  const int n = static_cast<int>(net.steps.size());
  if (atOutput) atOutput->assign(static_cast<size_t>(n), DVec());
  DVec R = seed;
  for (int id = n - 1; id >= 0; --id) {
    if (atOutput) (*atOutput)[static_cast<size_t>(id)] = R;
    const DVec& in = id == 0 ? x : acts[static_cast<size_t>(id - 1)];
    const std::optional<lrp::Rule>* rule = rules ? &(*rules)[static_cast<size_t>(id)] : nullptr;
    switch (net.steps[static_cast<size_t>(id)]) {
      case Mlp::Step::Dense: {
        const int k = net.dense[static_cast<size_t>(id)];
        if (rule && rule->has_value()) {
          R = refRule(net.W[k], net.b[k], in, R, **rule);
        } else {
          DVec g = DVec::Zero(in.size());
          for (Eigen::Index i = 0; i < in.size(); ++i)
            for (Eigen::Index j = 0; j < R.size(); ++j) g(i) += net.W[k](j, i) * R(j);
          R = g;
        }
        break;
      }
      case Mlp::Step::Relu:
        if (!(rule && rule->has_value() && (*rule)->kind == lrp::RuleKind::Pass))
          for (Eigen::Index i = 0; i < R.size(); ++i) R(i) = in(i) > 0.0 ? R(i) : 0.0;
        break;
      case Mlp::Step::Reshape: break;
    }
  }
  return R;
}

inline DVec oneHot(int size, int index, double value) {
  DVec v = DVec::Zero(size);
  v(index) = value;
  return v;
}

// ---------------------------------------------------------------------------------------------------------
// Comparisons.

// ‖got − want‖∞ ≤ tol · ‖want‖∞ (the "scaled" criterion), every value finite, and want not all zero.
template <typename Got>
::testing::AssertionResult closeScaled(const Got& gotIn, const DMat& want, double tol) {
  const DMat got = gotIn.template cast<double>();
  if (got.rows() != want.rows() || got.cols() != want.cols())
    return ::testing::AssertionFailure() << "shape " << got.rows() << "x" << got.cols() << " vs expected "
                                         << want.rows() << "x" << want.cols();
  if (!got.allFinite()) return ::testing::AssertionFailure() << "non-finite values: " << got.transpose();
  const double scale = want.cwiseAbs().maxCoeff();
  if (!(scale > 0.0)) return ::testing::AssertionFailure() << "the reference is all zero (test is vacuous)";
  Eigen::Index r = 0, c = 0;
  const double err = (got - want).cwiseAbs().maxCoeff(&r, &c);
  if (err <= tol * scale) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "max error " << err << " > " << tol << " * " << scale << " at (" << r << ","
                                       << c << "): got " << got(r, c) << ", expected " << want(r, c);
}

inline double relDiff(double got, double want) { return std::abs(got - want) / std::max(std::abs(want), 1e-30); }

// The call throws lrp::Error and its message contains `needle`.
template <typename F>
::testing::AssertionResult throwsWith(F&& f, const std::string& needle) {
  try {
    f();
  } catch (const lrp::Error& e) {
    const std::string msg = e.what();
    if (msg.find(needle) != std::string::npos) return ::testing::AssertionSuccess() << msg;
    return ::testing::AssertionFailure() << "lrp::Error message \"" << msg << "\" lacks \"" << needle << "\"";
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "threw a non-lrp::Error: " << e.what();
  } catch (...) {
    return ::testing::AssertionFailure() << "threw a non-std exception";
  }
  return ::testing::AssertionFailure() << "did not throw (expected an lrp::Error containing \"" << needle << "\")";
}

// A dense layer's spec: weights in [-0.8, 0.8] (row-major [out, in]), biases in [-0.1, 0.1].
inline lrp::LayerSpec denseSpec(std::mt19937& rng, int out, int in) {
  lrp::LayerSpec spec;
  spec.set("weight", toStd(randomVector(rng, out * in, -0.8, 0.8)));
  spec.set("bias", toStd(randomVector(rng, out, -0.1, 0.1)));
  return spec;
}

// explain() on one input vector.
inline lrp::Explanation explainVec(const lrp::Graph& graph, const lrp::Vector& x, const lrp::ExplainRequest& req) {
  return lrp::explain(graph, x.data(), static_cast<int>(x.size()), req);
}

inline lrp::RuleOverride overrideFor(lrp::RuleOverride::Selector selector, const lrp::Rule& rule, int layer = -1) {
  lrp::RuleOverride o;
  o.selector = selector;
  o.layer = layer;
  o.rule = rule;
  return o;
}

// ---------------------------------------------------------------------------------------------------------
// Layers through the layer table, as the importer describes them (docs/layers.md), and row-major indices.

inline std::unique_ptr<lrp::Layer> build(const std::string& kind, lrp::LayerSpec spec, const std::vector<lrp::Shape>& shapes) {
  return lrp::buildLayer(kind, spec, shapes);
}

inline lrp::LayerSpec specOf(std::initializer_list<std::pair<const char*, lrp::LayerSpec::Value>> values) {
  lrp::LayerSpec spec;
  for (const auto& [key, value] : values) spec.set(key, value);
  return spec;
}

// Row-major multi-index of a flat index in `shape`, and back.
inline std::vector<int> unravel(int64_t flat, const lrp::Shape& shape) {
  std::vector<int> index(shape.size());
  for (size_t a = shape.size(); a-- > 0;) {
    index[a] = static_cast<int>(flat % shape[a]);
    flat /= shape[a];
  }
  return index;
}

inline int64_t ravel(const std::vector<int>& index, const lrp::Shape& shape) {
  int64_t flat = 0;
  for (size_t a = 0; a < shape.size(); ++a) flat = flat * shape[a] + index[a];
  return flat;
}

}  // namespace lrptest
