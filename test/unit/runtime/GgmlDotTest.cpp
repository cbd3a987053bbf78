//===- GgmlDotTest.cpp - ggml block integer dot products vs f32 -----------===//
//
// Every format's row dot product (GgmlDot.h), for the portable, the AVX2 and
// (where the CPU has it) the AVX-512 VNNI table, on random blocks and
// activations prepared as the runtime prepares them (one scale per weight
// block), checked three ways:
// - against the exact product of the dequantized weights (GgmlDequant.h,
//   ggml's formulas) and the f32 activations, computed in double, within
//   the activations' rounding bound below;
// - against the same product over the rounded activations d q in double,
//   within f32 rounding only (kF32Rounding): the integer sums are exact, so
//   one wrong code or scale fails;
// - SIMD tables' rows and tiles against the portable rows, within the same
//   f32 rounding.
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
#include "runtime/cpu/Kernels.h"
#include "runtime/cpu/ThreadPool.h"

#include <gtest/gtest.h>

#include <algorithm>
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
/// `rows` (`count` blocks) with every block's minimum, where the format has
/// one, set to zero: what the integer product's code part multiplies.
std::vector<uint8_t> withoutMinimums(const ggml::BlockFormat &format,
                                     std::vector<uint8_t> rows,
                                     int64_t count) {
  HalfFields fields = halfFields(format.type);
  if (fields.minimum >= 0)
    for (int64_t b = 0; b < count; ++b)
      putHalf(rows.data() + b * format.bytes + fields.minimum, 0.0f);
  return rows;
}

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

/// Relative to the sum of the terms' magnitudes: f32 rounding of a row's
/// few hundred group terms (observed below 1e-7).
constexpr double kF32Rounding = 1e-6;

struct Quantized {
  double value;     ///< sum_i a c_i (d q)_i + m sum x, in double.
  double magnitude; ///< The same sum over the terms' absolute values.
};

/// A row's product with the activations as the kernels see them: the code
/// part a c of each weight (codePart) times the rounded activation d q, and
/// the minimum part (w - a c) times the exact x.
Quantized quantizedReference(const std::vector<float> &w,
                             const std::vector<float> &codePart,
                             const std::vector<float> &x,
                             const GgmlActivations &acts) {
  Quantized out{0.0, 0.0};
  for (size_t i = 0; i < w.size(); ++i) {
    double xq = static_cast<double>(acts.d(0)[i / fmc::cpu::kGgmlActBlock]) *
                acts.q(0)[i];
    double a = static_cast<double>(codePart[i]) * xq;
    double m = (static_cast<double>(w[i]) - codePart[i]) * x[i];
    out.value += a + m;
    out.magnitude += std::fabs(a) + std::fabs(m);
  }
  return out;
}

void checkTable(const GgmlDotTable &table) {
  std::mt19937 rng(1234);
  constexpr int64_t kRows = 8, kWidth = 1024;
  for (const ggml::BlockFormat &format : ggml::kBlockFormats) {
    SCOPED_TRACE(std::string(format.name) + " " + table.isa);
    int64_t blocks = kWidth / format.elements;
    std::vector<uint8_t> rows = randomRows(format, kRows * blocks, rng);
    std::vector<uint8_t> noMin =
        withoutMinimums(format, rows, kRows * blocks);
    std::vector<float> x = randomActivations(kWidth, rng);
    GgmlActivations acts;
    acts.prepare(x.data(), kWidth, 0, 1, format.elements);
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
          row, blocks, acts.q(0), acts.d(0), acts.sums(0),
          acts.qsums(0));
      EXPECT_NEAR(got, exact, tolerance) << "row " << r;
      // The bound is far below 8-bit activations' error (2^8 times d / 2).
      EXPECT_LT(bound, 1e-3 * magnitude + 1e-6) << "row " << r;
      // The same product over the rounded activations d q, the integers the
      // kernel multiplies: only f32 rounding may separate the kernel from
      // it, so one wrong code (a_g c d q, about 1e-4 of the magnitude here)
      // or a misapplied scale fails.
      Quantized ref = quantizedReference(w, codePart, x, acts);
      EXPECT_NEAR(got, ref.value, kF32Rounding * ref.magnitude) << "row " << r;
    }
  }
}

TEST(GgmlDot, PortableRowsMatchDequantizedProduct) {
  checkTable(fmc::cpu::ggmlDotGeneric());
}

TEST(GgmlDot, Avx512VnniRowsMatchDequantizedProduct) {
  if (&fmc::cpu::bestGgmlDot() != &fmc::cpu::ggmlDotAvx512Vnni())
    GTEST_SKIP() << "no AVX-512 VNNI";
  checkTable(fmc::cpu::ggmlDotAvx512Vnni());
}

TEST(GgmlDot, Avx2RowsMatchDequantizedProduct) {
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma") ||
      !__builtin_cpu_supports("f16c"))
    GTEST_SKIP() << "no AVX2";
  checkTable(fmc::cpu::ggmlDotAvx2());
}

/// Every SIMD table against the portable one, row by row and (where the
/// table has them) in tiles of kGgmlTileRows rows: the same integer sums, so
/// only f32 rounding may differ.
TEST(GgmlDot, SimdRowsAndTilesMatchPortableRows) {
  std::vector<const GgmlDotTable *> simd;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
      __builtin_cpu_supports("f16c"))
    simd.push_back(&fmc::cpu::ggmlDotAvx2());
  if (&fmc::cpu::bestGgmlDot() == &fmc::cpu::ggmlDotAvx512Vnni())
    simd.push_back(&fmc::cpu::ggmlDotAvx512Vnni());
  if (simd.empty())
    GTEST_SKIP() << "no SIMD table on this CPU";
  std::mt19937 rng(99);
  constexpr int64_t kRows = 16, kWidth = 2048;
  constexpr int64_t kTile = fmc::cpu::kGgmlTileRows;
  for (const ggml::BlockFormat &format : ggml::kBlockFormats) {
    int64_t blocks = kWidth / format.elements;
    std::vector<uint8_t> rows = randomRows(format, kRows * blocks, rng);
    std::vector<float> x = randomActivations(kWidth, rng), w(kWidth);
    GgmlActivations acts;
    acts.prepare(x.data(), kWidth, 0, 1, format.elements);
    int index = fmc::cpu::ggmlFormatIndex(format);
    auto rowAt = [&](int64_t r) {
      return rows.data() + r * blocks * format.bytes;
    };
    std::vector<float> portable(kRows);
    std::vector<double> tolerance(kRows);
    for (int64_t r = 0; r < kRows; ++r) {
      fmc::cpu::dequantizeGgml(format, rowAt(r), blocks, w.data());
      tolerance[r] = kF32Rounding * quantizedReference(w, w, x, acts).magnitude;
      portable[r] = fmc::cpu::ggmlDotGeneric().dot[index](
          rowAt(r), blocks, acts.q(0), acts.d(0), acts.sums(0),
          acts.qsums(0));
    }
    for (const GgmlDotTable *table : simd) {
      for (int64_t r = 0; r < kRows; ++r) {
        float got = table->dot[index](rowAt(r), blocks, acts.q(0), acts.d(0),
                                      acts.sums(0), acts.qsums(0));
        EXPECT_NEAR(got, portable[r], tolerance[r])
            << format.name << " " << table->isa << " row " << r;
      }
      if (!table->tile[index])
        continue;
      // Tiles of rows far apart, as the runtime takes them.
      for (int64_t j = 0; j < kRows / kTile; ++j) {
        const uint8_t *tileRows[kTile];
        for (int64_t i = 0; i < kTile; ++i)
          tileRows[i] = rowAt(i * (kRows / kTile) + j);
        float out[kTile];
        table->tile[index](tileRows, blocks, acts.q(0), acts.d(0),
                           acts.sums(0), acts.qsums(0), out);
        for (int64_t i = 0; i < kTile; ++i) {
          int64_t r = i * (kRows / kTile) + j;
          EXPECT_NEAR(out[i], portable[r], tolerance[r])
              << format.name << " " << table->isa << " tile row " << r;
        }
      }
    }
  }
}

/// Tables with token tiles (prefill), with their ISA's CPU support.
std::vector<const GgmlDotTable *> tokenTileTables() {
  std::vector<const GgmlDotTable *> out;
  for (const GgmlDotTable *table :
       {&fmc::cpu::ggmlDotAvx512Vnni(), &fmc::cpu::ggmlDotAvx2(),
        &fmc::cpu::ggmlDotGeneric()}) {
    bool any = false;
    for (const ggml::BlockFormat &format : ggml::kBlockFormats)
      any = any || table->tokens[fmc::cpu::ggmlFormatIndex(format)];
    bool runs = table != &fmc::cpu::ggmlDotAvx512Vnni() ||
                &fmc::cpu::bestGgmlDot() == &fmc::cpu::ggmlDotAvx512Vnni();
    if (any && runs)
      out.push_back(table);
  }
  return out;
}

/// Widths that leave remainders: 3 blocks of 256 (an odd count, and 24
/// minimums per row: a masked tail after 16), or 25 blocks of 32.
int64_t oddWidth(const ggml::BlockFormat &format) {
  return format.elements == 32 ? 800 : 768;
}

/// Token tiles (GgmlTokenTileFn) of 1 to kGgmlTokenRows rows (one and two
/// vectors of 16, full and partial) over token ranges [t0, t1) of 1 to 13
/// tokens, not all multiples of kGgmlTokenTile and not all from token 0,
/// against the quantized reference of each row and token: the same integer
/// sums, so only f32 rounding may differ; one wrong code, scale, minimum,
/// token or row fails, and so does a write outside the tile.
TEST(GgmlDot, TokenTilesMatchQuantizedReference) {
  std::vector<const GgmlDotTable *> tables = tokenTileTables();
  if (tables.empty())
    GTEST_SKIP() << "no token tiles on this CPU";
  std::mt19937 rng(2024);
  constexpr int64_t kTokens = 16, kRows = fmc::cpu::kGgmlTokenRows + 3;
  constexpr int64_t kLd = kRows + 5; // Output stride: not the row count.
  for (const GgmlDotTable *table : tables)
    for (const ggml::BlockFormat &format : ggml::kBlockFormats) {
      int index = fmc::cpu::ggmlFormatIndex(format);
      if (!table->tokens[index])
        continue;
      SCOPED_TRACE(std::string(format.name) + " " + table->isa);
      const int64_t k = oddWidth(format), blocks = k / format.elements;
      const uint64_t rowBytes = blocks * format.bytes;
      std::vector<uint8_t> rows = randomRows(format, kRows * blocks, rng);
      std::vector<uint8_t> noMin =
          withoutMinimums(format, rows, kRows * blocks);
      std::vector<float> x(kTokens * k);
      for (int64_t t = 0; t < kTokens; ++t) {
        std::vector<float> xt = randomActivations(k, rng);
        std::copy(xt.begin(), xt.end(), x.begin() + t * k);
      }
      GgmlActivations acts;
      acts.prepare(x.data(), k, 0, kTokens, format.elements);
      // ref[r][t]: row r with token t's activations as the kernels see them.
      std::vector<Quantized> ref(kRows * kTokens);
      std::vector<float> w(k), codePart(k), xt(k);
      for (int64_t r = 0; r < kRows; ++r) {
        fmc::cpu::dequantizeGgml(format, rows.data() + r * rowBytes, blocks,
                                 w.data());
        fmc::cpu::dequantizeGgml(format, noMin.data() + r * rowBytes, blocks,
                                 codePart.data());
        for (int64_t t = 0; t < kTokens; ++t) {
          GgmlActivations one;
          one.prepare(x.data(), k, t, t + 1, format.elements);
          std::copy(x.begin() + t * k, x.begin() + (t + 1) * k, xt.begin());
          ref[r * kTokens + t] = quantizedReference(w, codePart, xt, one);
        }
      }
      fmc::cpu::GgmlPanel panel;
      for (int count : {1, 7, 16, 17, 29, 32})
        for (int64_t first : {int64_t{0}, int64_t{3}})
          for (int64_t t0 : {0, 1, 3})
            for (int64_t t1 = t0 + 1; t1 <= t0 + 13; ++t1) {
              std::vector<float> y(kLd * kTokens, -1e30f);
              table->tokens[index](rows.data() + first * rowBytes, rowBytes,
                                   count, blocks, acts, t0, t1, y.data(), kLd,
                                   panel);
              for (int64_t i = 0; i < kLd; ++i)
                for (int64_t t = 0; t < kTokens; ++t) {
                  float got = y[t * kLd + i];
                  if (i >= count || t < t0 || t >= t1) {
                    ASSERT_EQ(got, -1e30f)
                        << "written outside the tile: row " << i << " token "
                        << t << " (" << count << " rows, tokens [" << t0
                        << ", " << t1 << "))";
                    continue;
                  }
                  const Quantized &q = ref[(first + i) * kTokens + t];
                  ASSERT_NEAR(got, q.value, kF32Rounding * q.magnitude)
                      << count << " rows from " << first << ", tokens [" << t0
                      << ", " << t1 << "): row " << i << " token " << t;
                }
            }
    }
}

/// Token tiles at the formats' extremes: every byte of the blocks 0x00,
/// 0x7F, 0x80 or 0xFF (codes and scales at their largest: Q4_K's 15 * 63,
/// Q6_K's -32 * -128) with all activations of a token equal (every int16
/// code +-32767), where an int32 sum over too many products overflows.
TEST(GgmlDot, TokenTilesDoNotOverflowAtExtremes) {
  std::vector<const GgmlDotTable *> tables = tokenTileTables();
  if (tables.empty())
    GTEST_SKIP() << "no token tiles on this CPU";
  constexpr int64_t kTokens = 2, kRows = 20;
  for (const GgmlDotTable *table : tables)
    for (const ggml::BlockFormat &format : ggml::kBlockFormats) {
      int index = fmc::cpu::ggmlFormatIndex(format);
      if (!table->tokens[index])
        continue;
      const int64_t k = oddWidth(format), blocks = k / format.elements;
      const uint64_t rowBytes = blocks * format.bytes;
      std::vector<float> x(kTokens * k);
      for (int64_t i = 0; i < k; ++i) {
        x[i] = 3.0f;
        x[k + i] = -0.5f;
      }
      GgmlActivations acts;
      acts.prepare(x.data(), k, 0, kTokens, format.elements);
      for (int pattern : {0x00, 0x7F, 0x80, 0xFF}) {
        SCOPED_TRACE(std::string(format.name) + " " + table->isa +
                     " bytes " + std::to_string(pattern));
        std::vector<uint8_t> rows(kRows * rowBytes,
                                  static_cast<uint8_t>(pattern));
        HalfFields fields = halfFields(format.type);
        for (int64_t b = 0; b < kRows * blocks; ++b) {
          putHalf(rows.data() + b * format.bytes + fields.scale, 0.01f);
          if (fields.minimum >= 0)
            putHalf(rows.data() + b * format.bytes + fields.minimum, 0.02f);
        }
        std::vector<uint8_t> noMin =
            withoutMinimums(format, rows, kRows * blocks);
        std::vector<float> y(kRows * kTokens);
        fmc::cpu::GgmlPanel panel;
        table->tokens[index](rows.data(), rowBytes, kRows, blocks, acts, 0,
                             kTokens, y.data(), kRows, panel);
        std::vector<float> w(k), codePart(k), xt(k);
        for (int64_t r = 0; r < kRows; ++r) {
          fmc::cpu::dequantizeGgml(format, rows.data() + r * rowBytes, blocks,
                                   w.data());
          fmc::cpu::dequantizeGgml(format, noMin.data() + r * rowBytes,
                                   blocks, codePart.data());
          for (int64_t t = 0; t < kTokens; ++t) {
            GgmlActivations one;
            one.prepare(x.data(), k, t, t + 1, format.elements);
            std::copy(x.begin() + t * k, x.begin() + (t + 1) * k, xt.begin());
            Quantized q = quantizedReference(w, codePart, xt, one);
            ASSERT_NEAR(y[t * kRows + r], q.value, kF32Rounding * q.magnitude)
                << "row " << r << " token " << t;
          }
        }
      }
    }
}

/// The linear kernel (GgmlInstances.h) over prefill-sized runs, split over
/// two threads, with a row count that is not a multiple of the tile and a
/// run long enough for two passes over the tokens (the widest rows here
/// hold 168 tokens' activations in a pass): the integer way (token tiles
/// where the CPU has them) against the portable rows token by token, and
/// the default way taking the same path where token tiles exist.
TEST(GgmlDot, LinearPrefillMatchesPortableRows) {
  using fmc::cpu::GgmlProduct;
  constexpr int64_t kN = 203;
  fmc::cpu::ThreadPool pool(2);
  std::mt19937 rng(77);
  for (const ggml::BlockFormat &format : ggml::kBlockFormats) {
    int index = fmc::cpu::ggmlFormatIndex(format);
    if (!fmc::cpu::bestGgmlDot().tokens[index])
      continue;
    SCOPED_TRACE(format.name);
    const int64_t k = oddWidth(format), blocks = k / format.elements;
    std::vector<uint8_t> bytes = randomRows(format, kN * blocks, rng);
    fmc::cpu::GgmlWeights w;
    w.format = &format;
    w.n = kN;
    w.k = k;
    w.rowBytes = static_cast<uint64_t>(blocks) * format.bytes;
    w.data = bytes.data();
    for (int64_t tokens : {2, 5, 9, 13, 180}) {
      std::vector<float> x(tokens * k);
      std::normal_distribution<float> normal(0.0f, 1.0f);
      for (float &v : x)
        v = normal(rng);
      std::vector<float> scratch(2 * 1024);
      fmc::cpu::RunContext ctx{tokens, nullptr, 0, &pool,
                               &fmc::cpu::bestKernels(), scratch.data(), 1024};
      auto run = [&](GgmlProduct product) {
        std::vector<float> y(tokens * kN, -1e30f);
        auto acts = std::make_shared<GgmlActivations>();
        fmc::cpu::makeGgmlLinear(w, x.data(), y.data(), nullptr, false, 1.0f,
                                 0.0f, product, acts)
            ->run(ctx);
        return y;
      };
      std::vector<float> integer = run(GgmlProduct::Integer);
      std::vector<float> automatic = run(GgmlProduct::Auto);
      GgmlActivations acts;
      acts.prepare(x.data(), k, 0, tokens, format.elements);
      std::vector<float> row(k);
      for (int64_t r = 0; r < kN; ++r) {
        const uint8_t *wr = bytes.data() + r * w.rowBytes;
        fmc::cpu::dequantizeGgml(format, wr, blocks, row.data());
        for (int64_t t = 0; t < tokens; ++t) {
          float want = fmc::cpu::ggmlDotGeneric().dot[index](
              wr, blocks, acts.q(t), acts.d(t), acts.sums(t), acts.qsums(t));
          double magnitude = 0.0;
          for (int64_t i = 0; i < k; ++i)
            magnitude += std::fabs(row[i] * x[t * k + i]);
          // The minimums' part is as large as the codes' here (random
          // dmin): the f32 rounding of both.
          EXPECT_NEAR(integer[t * kN + r], want, 2 * kF32Rounding * magnitude)
              << tokens << " tokens: row " << r << " token " << t;
          EXPECT_EQ(automatic[t * kN + r], integer[t * kN + r])
              << tokens << " tokens: row " << r << " token " << t;
        }
      }
    }
  }
}

TEST(GgmlDot, ActivationsShareOneScalePerWeightBlock) {
  std::mt19937 rng(5);
  std::vector<float> x = randomActivations(512, rng);
  GgmlActivations acts;
  acts.prepare(x.data(), 512, 0, 1, 256);
  for (int64_t b = 0; b < 2; ++b) {
    float amax = 0.0f;
    for (int64_t i = 0; i < 256; ++i)
      amax = std::max(amax, std::fabs(x[256 * b + i]));
    for (int64_t j = 0; j < 8; ++j)
      EXPECT_EQ(acts.d(0)[8 * b + j], amax / 32767.0f) << "block " << b;
  }
}

TEST(GgmlDot, ActivationsRoundWithinHalfAScale) {
  std::mt19937 rng(7);
  std::vector<float> x = randomActivations(256, rng);
  GgmlActivations acts;
  acts.prepare(x.data(), 256, 0, 1, 32);
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
