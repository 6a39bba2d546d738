// Basic value types shared by every part of the engine.
#pragma once

#include <Eigen/Core>

#include <cstdint>
#include <stdexcept>
#include <string>
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

}  // namespace lrp
