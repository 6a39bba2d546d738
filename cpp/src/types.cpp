#include "lrp/types.hpp"

#include <cmath>
#include <limits>
#include <sstream>

namespace lrp {

// Larger tensors cannot fit a 2 GB WebAssembly heap anyway; rejecting them up front keeps a hostile
// model from triggering huge allocations.
constexpr int64_t kMaxElements = int64_t{1} << 28;

int64_t shapeSize(const Shape& shape) {
  int64_t size = 1;
  for (int dim : shape) {
    if (dim <= 0) throw Error("invalid shape " + shapeToString(shape) + ": dimensions must be positive");
    size *= dim;
    if (size > kMaxElements) throw Error("shape " + shapeToString(shape) + " is too large");
  }
  return size;
}

std::string shapeToString(const Shape& shape) {
  std::ostringstream out;
  out << '[';
  for (size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
  out << ']';
  return out.str();
}

namespace {

[[noreturn]] void wrongType(const std::string& key, const char* expected) {
  throw Error("option '" + key + "' must be " + expected);
}

int toInt(double v, const std::string& key) {
  if (!std::isfinite(v) || v != std::floor(v) || std::abs(v) > std::numeric_limits<int>::max())
    throw Error("option '" + key + "' must be an integer");
  return static_cast<int>(v);
}

}  // namespace

double LayerSpec::number(const std::string& key) const {
  const auto it = values_.find(key);
  if (it == values_.end()) throw Error("missing option '" + key + "'");
  if (const double* v = std::get_if<double>(&it->second)) return *v;
  wrongType(key, "a number");
}

int LayerSpec::integer(const std::string& key) const { return toInt(number(key), key); }

std::vector<int> LayerSpec::integers(const std::string& key) const {
  const auto it = values_.find(key);
  if (it == values_.end()) throw Error("missing option '" + key + "'");
  if (const double* v = std::get_if<double>(&it->second)) return {toInt(*v, key)};
  std::vector<int> out;
  if (const auto* list = std::get_if<std::vector<double>>(&it->second)) {
    for (double v : *list) out.push_back(toInt(v, key));
  } else if (const auto* floats = std::get_if<std::vector<float>>(&it->second)) {
    for (float v : *floats) out.push_back(toInt(v, key));
  } else {
    wrongType(key, "a list of integers");
  }
  return out;
}

const std::vector<float>& LayerSpec::floats(const std::string& key) const {
  static const std::vector<float> empty;
  const auto it = values_.find(key);
  if (it == values_.end()) return empty;
  if (const auto* v = std::get_if<std::vector<float>>(&it->second)) return *v;
  wrongType(key, "a Float32Array");
}

std::vector<float> LayerSpec::takeFloats(const std::string& key) {
  const auto it = values_.find(key);
  if (it == values_.end()) return {};
  if (auto* v = std::get_if<std::vector<float>>(&it->second)) return std::move(*v);
  wrongType(key, "a Float32Array");
}

int64_t LayerSpec::floatBytes() const {
  int64_t bytes = 0;
  for (const auto& entry : values_)
    if (const auto* v = std::get_if<std::vector<float>>(&entry.second)) bytes += static_cast<int64_t>(v->size() * sizeof(float));
  return bytes;
}

std::string LayerSpec::text(const std::string& key, const std::string& fallback) const {
  const auto it = values_.find(key);
  if (it == values_.end()) return fallback;
  if (const auto* v = std::get_if<std::string>(&it->second)) return *v;
  wrongType(key, "a string");
}

}  // namespace lrp
