// DESIGN.md: "hostile model files all raise an Error whose message names the problem": a dense layer whose
// weights or bias contain NaN or Infinity is rejected instead of turning every result into NaN.
#include "test_helpers.hpp"

#include <limits>

namespace {

using lrptest::throwsWith;

TEST(HostileModel, DenseRejectsNaNWeight) {
  lrp::Matrix w = lrp::Matrix::Ones(2, 3);
  w(1, 2) = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(throwsWith([&] { lrp::DenseLayer d(w, lrp::Vector::Zero(2)); }, "finite"));
}

TEST(HostileModel, DenseRejectsInfiniteBias) {
  lrp::Vector b = lrp::Vector::Zero(2);
  b(0) = std::numeric_limits<float>::infinity();
  EXPECT_TRUE(throwsWith([&] { lrp::DenseLayer d(lrp::Matrix::Ones(2, 3), b); }, "finite"));
}

// Through the graph too: such a layer never gets to predict.
TEST(HostileModel, NaNWeightNeverReachesPredict) {
  lrp::Matrix w = lrp::Matrix::Ones(2, 3);
  w(1, 2) = std::numeric_limits<float>::quiet_NaN();
  lrp::Graph g({3});
  try {
    g.add("fc", std::make_unique<lrp::DenseLayer>(w, lrp::Vector::Zero(2)), {lrp::kGraphInput});
  } catch (const lrp::Error&) {
    SUCCEED();
    return;
  }
  const lrp::Matrix y = g.predict(lrp::Matrix::Ones(3, 1));
  EXPECT_TRUE(y.allFinite()) << "a model with a NaN weight was accepted and predicts " << y.transpose();
}

}  // namespace
