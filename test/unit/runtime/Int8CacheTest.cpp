//===- Int8CacheTest.cpp - int8 KV-cache loops against references --------===//

#include "runtime/cpu/Int8Cache.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace fmc::cpu {
namespace {

TEST(Int8Cache, QuantizesSymmetricallyHalfAwayFromZero) {
  // max |x| = 127: scale 1, so x / scale is exact. Issue 14: the test used
  // to assert symmetry only; half steps now tell the rounding apart (round
  // half to even would give 2, -2, 0 and 4; truncation 2, -2, 0 and 4).
  std::vector<float> x = {127.0f, -127.0f, 2.5f, -2.5f, 0.5f, 4.5f, 4.49f, 0.0f};
  std::vector<int8_t> q(x.size() * 3, 99);
  float scale = quantizeInt8(x.data(), x.size(), q.data(), /*stride=*/3);
  EXPECT_EQ(scale, 1.0f);
  std::vector<int8_t> written;
  for (size_t i = 0; i < x.size(); ++i)
    written.push_back(q[3 * i]);
  EXPECT_EQ(written, (std::vector<int8_t>{127, -127, 3, -3, 1, 5, 4, 0}));
  EXPECT_EQ(q[1], 99); // Only every stride-th element is written.
}

TEST(Int8Cache, ZeroVectorHasZeroScale) {
  std::vector<float> x(8, 0.0f);
  std::vector<int8_t> q(8, 5);
  EXPECT_EQ(quantizeInt8(x.data(), 8, q.data(), 1), 0.0f);
  for (int8_t v : q)
    EXPECT_EQ(v, 0);
  roundTripInt8(x.data(), 8);
  for (float v : x)
    EXPECT_EQ(v, 0.0f);
}

TEST(Int8Cache, RoundTripIsWithinHalfAStep) {
  std::mt19937 rng(7);
  std::normal_distribution<float> dist(0.0f, 2.0f);
  std::vector<float> x(64);
  for (float &v : x)
    v = dist(rng);
  std::vector<float> y = x;
  roundTripInt8(y.data(), y.size());
  float max = 0.0f;
  for (float v : x)
    max = std::max(max, std::fabs(v));
  for (size_t i = 0; i < x.size(); ++i)
    EXPECT_LE(std::fabs(y[i] - x[i]), 0.5f * max / 127.0f * 1.0001f);
}

/// Scores and mix over a feature-major int8 block equal the float
/// computation over its dequantized values.
TEST(Int8Cache, ScoresAndMixMatchDequantizedReference) {
  const int64_t headDim = 12, capacity = 21, rows = 19, offset = 1;
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<int8_t> keys(headDim * capacity), values(headDim * capacity);
  std::vector<float> keyScales(capacity), valueScales(capacity);
  std::vector<float> row(headDim);
  for (int64_t j = 0; j < capacity; ++j) {
    for (float &v : row)
      v = dist(rng);
    keyScales[j] = quantizeInt8(row.data(), headDim, keys.data() + j, capacity);
    for (float &v : row)
      v = 3.0f * dist(rng);
    valueScales[j] =
        quantizeInt8(row.data(), headDim, values.data() + j, capacity);
  }
  std::vector<float> q(headDim);
  for (float &v : q)
    v = dist(rng);
  const float scale = 0.3f;

  std::vector<float> scores(rows);
  float max =
      scoresInt8(q.data(), keys.data() + offset, keyScales.data() + offset,
                 capacity, rows, headDim, scale, scores.data());
  float expectedMax = -1e30f;
  for (int64_t j = 0; j < rows; ++j) {
    double dot = 0;
    for (int64_t d = 0; d < headDim; ++d)
      dot += q[d] * keys[d * capacity + offset + j] * keyScales[offset + j];
    EXPECT_NEAR(scores[j], scale * dot, 1e-5);
    expectedMax = std::max(expectedMax, scores[j]);
  }
  EXPECT_EQ(max, expectedMax);

  std::vector<float> p = scores, out(headDim, 1.0f);
  mixInt8(p.data(), values.data() + offset, valueScales.data() + offset,
          capacity, rows, headDim, out.data());
  for (int64_t d = 0; d < headDim; ++d) {
    double sum = 1.0;
    for (int64_t j = 0; j < rows; ++j)
      sum += scores[j] * values[d * capacity + offset + j] *
             valueScales[offset + j];
    EXPECT_NEAR(out[d], sum, 1e-4);
  }
}

} // namespace
} // namespace fmc::cpu
