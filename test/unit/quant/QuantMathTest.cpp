//===- QuantMathTest.cpp - packing math: lossless QAT, PTQ error, sizes ---===//

#include "lowering/quant/QuantMath.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

using namespace fmc::quant;

namespace {

uint32_t bitsOf(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

/// Weights trained on `f`'s grid: random codes, random scales (and
/// minimums) already representable in the scale type.
std::vector<float> onGridWeights(const Format &f, int64_t rows, int64_t k,
                                 std::mt19937 &rng) {
  std::uniform_int_distribution<int> code(0, (1 << f.bits) - 1);
  std::uniform_real_distribution<float> mag(0.001f, 0.2f), shift(-0.3f, 0.1f);
  auto round = [&](float v) {
    return f.scaleType == ScaleType::F16 ? halfToFloat(floatToHalf(v))
                                         : bfloatToFloat(floatToBFloat(v));
  };
  int64_t group = effectiveGroupSize(f, k);
  std::vector<float> w(rows * k);
  float offset = ((1 << f.bits) - 1) / 2.0f;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g0 = 0; g0 < k; g0 += group) {
      float s = round(mag(rng)), m = round(shift(rng));
      for (int64_t i = g0; i < std::min(k, g0 + group); ++i) {
        int q = code(rng);
        w[r * k + i] = f.grid == Grid::Balanced
                           ? s * (static_cast<float>(q) - offset)
                           : s * static_cast<float>(q) + m;
      }
    }
  return w;
}

struct Case {
  Format format;
  int64_t rows, k;
};

std::vector<Case> cases() {
  std::vector<Case> all;
  for (int bits : {2, 4})
    for (Grid grid : {Grid::Balanced, Grid::Affine})
      for (int64_t group : {32, 64, 128, 0})
        for (ScaleType scale : {ScaleType::F16, ScaleType::BF16})
          for (int64_t k : {7, 100, 256, 300})
            all.push_back({{bits, grid, group, scale}, 3, k});
  return all;
}

TEST(QuantMath, OnGridWeightsRoundTripBitExactly) {
  std::mt19937 rng(7);
  for (const Case &c : cases()) {
    SCOPED_TRACE(formatToString(c.format) + " k=" + std::to_string(c.k));
    std::vector<float> w = onGridWeights(c.format, c.rows, c.k, rng);
    std::vector<uint8_t> packed(packedBytes(c.format, c.rows, c.k));
    Stats stats = quantize(c.format, w.data(), c.rows, c.k, packed.data());
    EXPECT_TRUE(stats.lossless());
    EXPECT_EQ(stats.sumSquaredError, 0.0);
    std::vector<float> back(w.size());
    dequantize(c.format, packed.data(), c.rows, c.k, back.data());
    for (size_t i = 0; i < w.size(); ++i)
      ASSERT_EQ(bitsOf(back[i]), bitsOf(w[i])) << "element " << i;
  }
}

TEST(QuantMath, SignedZeroGroupsRoundTrip) {
  Format f{2, Grid::Balanced, 32, ScaleType::F16};
  std::vector<float> w(32, 0.0f);
  w[3] = -0.0f;
  std::vector<uint8_t> packed(packedBytes(f, 1, 32));
  EXPECT_TRUE(quantize(f, w.data(), 1, 32, packed.data()).lossless());
  std::vector<float> back(32);
  dequantize(f, packed.data(), 1, 32, back.data());
  for (int i = 0; i < 32; ++i)
    EXPECT_EQ(bitsOf(back[i]), bitsOf(w[i]));
}

/// Off the grid: not lossless, and the squared error is below what the
/// plain max-abs scale gives (the scale search minimizes squared error).
TEST(QuantMath, PostTrainingErrorBeatsMaxAbsScale) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 0.05f);
  const int64_t rows = 16, k = 256;
  std::vector<float> w(rows * k);
  for (float &v : w)
    v = normal(rng);
  for (Grid grid : {Grid::Balanced, Grid::Affine}) {
    Format f{2, grid, 64, ScaleType::F16};
    std::vector<uint8_t> packed(packedBytes(f, rows, k));
    Stats stats = quantize(f, w.data(), rows, k, packed.data());
    EXPECT_FALSE(stats.lossless());
    std::vector<float> back(w.size());
    dequantize(f, packed.data(), rows, k, back.data());
    double err = 0.0, norm = 0.0, maxAbsErr = 0.0;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t g = 0; g < k; g += 64) {
        const float *x = &w[r * k + g];
        float lo = *std::min_element(x, x + 64),
              hi = *std::max_element(x, x + 64);
        float amax = std::max(-lo, hi);
        for (int i = 0; i < 64; ++i) {
          float q;
          if (grid == Grid::Balanced) {
            float s = amax / 1.5f;
            q = s * (std::clamp(std::nearbyint(x[i] / s + 1.5f), 0.0f, 3.0f) -
                     1.5f);
          } else {
            float s = (hi - lo) / 3.0f;
            q = s * std::clamp(std::nearbyint((x[i] - lo) / s), 0.0f, 3.0f) +
                lo;
          }
          maxAbsErr += (x[i] - q) * (x[i] - q);
        }
      }
    for (size_t i = 0; i < w.size(); ++i) {
      err += (w[i] - back[i]) * (double)(w[i] - back[i]);
      norm += w[i] * (double)w[i];
    }
    EXPECT_NEAR(stats.sumSquaredError, err, 1e-6 * norm);
    EXPECT_NEAR(stats.relativeError(), std::sqrt(err / norm), 1e-6);
    EXPECT_LT(err, 0.9 * maxAbsErr) << formatToString(f);
  }
}

TEST(QuantMath, BitsPerWeight) {
  auto bpw = [](const std::string &spec, int64_t rows, int64_t k) {
    Format f;
    EXPECT_EQ(parseFormat(spec, f), "");
    return 8.0 * packedBytes(f, rows, k) / (rows * k);
  };
  EXPECT_DOUBLE_EQ(bpw("2:balanced:64:f16", 2048, 2048), 2.25);
  EXPECT_DOUBLE_EQ(bpw("2:balanced:128:f16", 2048, 2048), 2.125);
  EXPECT_DOUBLE_EQ(bpw("4:balanced:64:f16", 32000, 2048), 4.25);
  EXPECT_DOUBLE_EQ(bpw("4:affine:128:bf16", 32000, 2048), 4.25);
  EXPECT_DOUBLE_EQ(bpw("2:affine:64", 64, 4096), 2.5);
  // Per row: codes plus one scale per row.
  EXPECT_DOUBLE_EQ(bpw("2:balanced:row", 4, 64), 2.25);
}

TEST(QuantMath, ParseFormatErrors) {
  Format f;
  EXPECT_EQ(parseFormat("3:balanced", f), "bits must be 2 or 4, got '3'");
  EXPECT_EQ(parseFormat("2:ternary", f),
            "grid must be 'balanced' or 'affine', got 'ternary'");
  EXPECT_EQ(parseFormat("2:affine:48", f),
            "group size must be 32, 64, 128 or 'row', got '48'");
  EXPECT_EQ(parseFormat("2:affine:64:f32", f),
            "scale type must be 'f16' or 'bf16', got 'f32'");
  EXPECT_EQ(parseFormat("2", f), "expected bits:grid[:group[:scale]] (e.g. "
                                 "2:balanced:64:f16), got '2'");
  EXPECT_EQ(parseFormat("4:affine:row:bf16", f), "");
  EXPECT_EQ(formatToString(f), "4:affine:row:bf16");
}

TEST(QuantMath, HalfConversionsRoundToNearestEven) {
  EXPECT_EQ(floatToHalf(1.0f), 0x3c00);
  EXPECT_EQ(floatToHalf(65504.0f), 0x7bff);
  EXPECT_EQ(floatToHalf(1e6f), 0x7c00);
  EXPECT_EQ(halfToFloat(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(floatToHalf(1.0f + std::ldexp(1.0f, -11)), 0x3c00); // tie: even
  EXPECT_EQ(floatToHalf(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
  EXPECT_EQ(floatToBFloat(1.0f), 0x3f80);
  EXPECT_EQ(bfloatToFloat(0x3f80), 1.0f);
  for (uint32_t h = 0; h < 0x7c00; ++h)
    ASSERT_EQ(floatToHalf(halfToFloat(h)), h);
}

} // namespace
