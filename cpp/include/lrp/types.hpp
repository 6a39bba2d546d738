// Basic value types shared by every part of the engine.
#pragma once

#include <Eigen/Core>

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace lrp {

// Activations are stored feature-major: one column per sample of the batch, so a batch of inputs is one
// matrix and every linear map is a single GEMM. Features of a C×H×W tensor are in row-major (C,H,W) order.
using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
using Vector = Eigen::Matrix<float, Eigen::Dynamic, 1>;

// A tensor shape without the batch dimension, e.g. {1, 28, 28} or {10}.
using Shape = std::vector<int>;

// Number of elements of a shape; throws on non-positive dims or absurd sizes (hostile models).
int64_t shapeSize(const Shape& shape);
std::string shapeToString(const Shape& shape);

// The engine reports every problem with this exception; the bindings turn it into a JavaScript Error.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The options of one layer as the importer describes it (docs/layers.md): numbers (booleans are 0/1),
// lists of numbers, float tensors (weights) and text. The JavaScript wrapper has already checked types and
// filled in defaults; the accessors throw lrp::Error naming a missing or mistyped key, and each layer's
// builder checks ranges and meaning.
class LayerSpec {
 public:
  using Value = std::variant<double, std::vector<double>, std::vector<float>, std::string>;

  void set(const std::string& key, Value value) { values_[key] = std::move(value); }
  bool has(const std::string& key) const { return values_.count(key) != 0; }

  double number(const std::string& key) const;
  double number(const std::string& key, double fallback) const { return has(key) ? number(key) : fallback; }
  // An integer number (throws if it has a fraction or does not fit an int).
  int integer(const std::string& key) const;
  bool flag(const std::string& key, bool fallback = false) const { return has(key) ? number(key) != 0.0 : fallback; }
  // A list of integers; a single number counts as a list of one.
  std::vector<int> integers(const std::string& key) const;
  // A float tensor (an absent key or null: empty). Moved out by `take` to avoid a copy of large weights.
  const std::vector<float>& floats(const std::string& key) const;
  std::vector<float> takeFloats(const std::string& key);
  // Bytes of all float tensors (the weights a layer is built from).
  int64_t floatBytes() const;
  std::string text(const std::string& key, const std::string& fallback) const;

 private:
  std::map<std::string, Value> values_;
};

}  // namespace lrp
