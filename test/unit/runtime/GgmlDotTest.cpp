//===- GgmlDotTest.cpp - ggml block integer dot products vs f32 -----------===//
//
// Every format's row dot product (GgmlDot.h), for the portable and the AVX2
// table, on random blocks and activations, against the exact product of
// the dequantized weights (GgmlDequant.h, ggml's formulas) and the f32
// activations, computed in double.
//
// The tolerance is the bound the math gives. Each activation is rounded to
// its 32-block's scale d = max|x| / 32767, so it moves by at most d / 2;
// it multiplies the code part a * c of its weight (the minimum m of the
// formats with one is applied to exact sums of x), so
//   |integer - exact| <= sum_i |a c_i| d_i / 2  +  f32 rounding,
// with |a c_i| taken from a second dequantization of the block with its
// minimum's f16 zeroed, and f32 rounding bounded by 1e-5 of the sum of
// |w_i x_i| and |a c_i x_i| (a few hundred f32 additions).
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/GgmlDequant.h"
#include "runtime/cpu/GgmlDot.h"
#include "runtime/cpu/GgmlInstances.h"
#include "runtime/cpu/Float16.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

namespace {

namespace ggml = fmc::ggml;
using fmc::cpu::GgmlActivations;
using fmc::cpu::GgmlDotTable;

struct HalfFields {
  int scale;    ///< Byte offset of the f16 scale d.
  int minimum;  ///< Byte offset of the f16 minimum (dmin or m), -1: none.
};

HalfFields halfFields(ggml::Type type) {
  switch (type) {
  case ggml::Type::Q4_1:
  case ggml::Type::Q5_1:
  case ggml::Type::Q4_K:
  case ggml::Type::Q5_K:
    return {0, 2};
  case ggml::Type::Q2_K:
    return {80, 82};
  case ggml::Type::Q3_K:
    return {108, -1};
  case ggml::Type::Q6_K:
    return {208, -1};
  case ggml::Type::TQ1_0:
    return {52, -1};
  case ggml::Type::TQ2_0:
    return {64, -1};
  default:
    return {0, -1};
  }
}

void putHalf(uint8_t *p, float value) {
  uint16_t bits = fmc::cpu::floatToF16(value);
  std::memcpy(p, &bits, 2);
}

/// Random rows of blocks with small random f16 scales (and minimums).
std::vector<uint8_t> randomRows(const ggml::BlockFormat &format,
                                int64_t blocks, std::mt19937 &rng) {
  std::vector<uint8_t> bytes(blocks * format.bytes);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_real_distribution<float> scale(-0.05f, 0.05f);
  for (uint8_t &b : bytes)
    b = static_cast<uint8_t>(byte(rng));
  HalfFields fields = halfFields(format.type);
  for (int64_t b = 0; b < blocks; ++b) {
    uint8_t *block = bytes.data() + b * format.bytes;
    putHalf(block + fields.scale, scale(rng));
    if (fields.minimum >= 0)
      putHalf(block + fields.minimum, scale(rng));
  }
  return bytes;
}

/// Activations of k features: normal, with a zero block, a block of one
/// large outlier and a block of tiny values.
std::vector<float> randomActivations(int64_t k, std::mt19937 &rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(k);
  for (float &v : x)
    v = normal(rng);
  for (int i = 0; i < 32; ++i) {
    x[32 + i] = 0.0f;
    x[96 + i] *= 1e-4f;
  }
  x[64 + 5] = 50.0f;
  return x;
}

void checkTable(const GgmlDotTable &table) {
  std::mt19937 rng(1234);
  constexpr int64_t kRows = 8, kWidth = 1024;
  for (const ggml::BlockFormat &format : ggml::kBlockFormats) {
    SCOPED_TRACE(std::string(format.name) + " " + table.isa);
    int64_t blocks = kWidth / format.elements;
    std::vector<uint8_t> rows = randomRows(format, kRows * blocks, rng);
    std::vector<uint8_t> noMin = rows;
    HalfFields fields = halfFields(format.type);
    if (fields.minimum >= 0)
      for (int64_t b = 0; b < kRows * blocks; ++b)
        putHalf(noMin.data() + b * format.bytes + fields.minimum, 0.0f);
    std::vector<float> x = randomActivations(kWidth, rng);
    GgmlActivations acts;
    acts.prepare(x.data(), kWidth, 0, 1);
    std::vector<float> w(kWidth), codePart(kWidth);
    for (int64_t r = 0; r < kRows; ++r) {
      const uint8_t *row = rows.data() + r * blocks * format.bytes;
      fmc::cpu::dequantizeGgml(format, row, blocks, w.data());
      fmc::cpu::dequantizeGgml(format,
                               noMin.data() + r * blocks * format.bytes,
                               blocks, codePart.data());
      double exact = 0.0, bound = 0.0, magnitude = 0.0;
      for (int64_t i = 0; i < kWidth; ++i) {
        exact += static_cast<double>(w[i]) * x[i];
        double d = acts.d(0)[i / fmc::cpu::kGgmlActBlock];
        bound += std::fabs(codePart[i]) * d / 2;
        magnitude += std::fabs(w[i] * x[i]) + std::fabs(codePart[i] * x[i]);
      }
      double tolerance = bound + 1e-5 * magnitude;
      float got = table.dot[fmc::cpu::ggmlFormatIndex(format)](
          row, blocks, acts.q(0), acts.d(0), acts.sums(0));
      EXPECT_NEAR(got, exact, tolerance) << "row " << r;
      // The bound is far below 8-bit activations' error (2^8 times d / 2).
      EXPECT_LT(bound, 1e-3 * magnitude + 1e-6) << "row " << r;
    }
  }
}

TEST(GgmlDot, PortableRowsMatchDequantizedProduct) {
  checkTable(fmc::cpu::ggmlDotGeneric());
}

TEST(GgmlDot, Avx2RowsMatchDequantizedProduct) {
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma") ||
      !__builtin_cpu_supports("f16c"))
    GTEST_SKIP() << "no AVX2";
  checkTable(fmc::cpu::ggmlDotAvx2());
}

TEST(GgmlDot, ActivationsRoundWithinHalfAScale) {
  std::mt19937 rng(7);
  std::vector<float> x = randomActivations(256, rng);
  GgmlActivations acts;
  acts.prepare(x.data(), 256, 0, 1);
  for (int64_t i = 0; i < 256; ++i) {
    float d = acts.d(0)[i / 32];
    EXPECT_LE(std::fabs(d * acts.q(0)[i] - x[i]), d * 0.5f * (1 + 1e-5f) + 1e-30f)
        << "feature " << i;
  }
  for (int64_t g = 0; g < 16; ++g) {
    float s = 0.0f;
    for (int64_t i = 0; i < 16; ++i)
      s += x[16 * g + i];
    EXPECT_EQ(acts.sums(0)[g], s);
  }
}

TEST(GgmlDot, ProductFromEnvironment) {
  using fmc::cpu::GgmlProduct;
  unsetenv("FMC_GGML_PRODUCT");
  EXPECT_EQ(*fmc::cpu::ggmlProductFromEnvironment(), GgmlProduct::Auto);
  setenv("FMC_GGML_PRODUCT", "integer", 1);
  EXPECT_EQ(*fmc::cpu::ggmlProductFromEnvironment(), GgmlProduct::Integer);
  setenv("FMC_GGML_PRODUCT", "f32", 1);
  EXPECT_EQ(*fmc::cpu::ggmlProductFromEnvironment(), GgmlProduct::F32);
  setenv("FMC_GGML_PRODUCT", "int8", 1);
  absl::StatusOr<GgmlProduct> bad = fmc::cpu::ggmlProductFromEnvironment();
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "FMC_GGML_PRODUCT is 'int8': expected integer or f32");
  unsetenv("FMC_GGML_PRODUCT");
}

} // namespace
