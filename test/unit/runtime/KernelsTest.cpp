//===- KernelsTest.cpp - CPU kernels against plain references -------------===//

#include "runtime/cpu/Kernels.h"
#include "runtime/cpu/Float16.h"
#include "runtime/cpu/Program.h"
#include "runtime/cpu/ThreadPool.h"

#include "test/unit/KernelTestData.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <random>
#include <utility>
#include <vector>

namespace fmc::cpu {
namespace {

std::vector<const SimdKernels *> supportedTables() {
  std::vector<const SimdKernels *> tables = {&genericKernels()};
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
      __builtin_cpu_supports("f16c"))
    tables.push_back(&avx2Kernels());
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
    tables.push_back(&avx512Kernels());
  return tables;
}

using fmc::test::randomFloats;

/// `values` stored as `type` (the bytes a weight of that type would have).
std::vector<uint8_t> encode(const std::vector<float> &values,
                            ElementType type) {
  std::vector<uint8_t> bytes(values.size() * elementBytes(type));
  for (size_t i = 0; i < values.size(); ++i)
    storeElement(bytes.data(), type, i, values[i]);
  return bytes;
}

const char *typeName(ElementType t) {
  return t == ElementType::F32 ? "f32" : t == ElementType::F16 ? "f16" : "bf16";
}

TEST(Float16, ConvertsExactValuesAndRoundsToNearestEven) {
  EXPECT_EQ(floatToF16(1.0f), 0x3c00);
  EXPECT_EQ(floatToF16(-2.0f), 0xc000);
  EXPECT_EQ(floatToF16(65504.0f), 0x7bff);
  EXPECT_EQ(floatToF16(1e6f), 0x7c00);          // Overflow to infinity.
  EXPECT_EQ(floatToF16(5.9604645e-8f), 0x0001); // Smallest subnormal.
  EXPECT_EQ(f16ToFloat(0x0001), 5.9604645e-8f);
  EXPECT_EQ(f16ToFloat(0x3555), 0.333251953125f);
  // 1 + 2^-11 lies halfway between 1 and 1 + 2^-10: ties to even (1).
  EXPECT_EQ(floatToF16(1.0f + 1.0f / 2048), 0x3c00);
  EXPECT_EQ(floatToF16(1.0f + 3.0f / 2048), 0x3c02);
  EXPECT_TRUE(std::isnan(f16ToFloat(floatToF16(NAN))));
  for (uint32_t h = 0; h < 0x7c00; ++h)
    ASSERT_EQ(floatToF16(f16ToFloat(h)), h) << "f16 bits " << h;
  EXPECT_EQ(floatToBf16(1.0f), 0x3f80);
  EXPECT_EQ(floatToBf16(1.0f + 1.0f / 256), 0x3f80); // Tie to even.
  EXPECT_EQ(floatToBf16(1.0f + 3.0f / 256), 0x3f82);
  EXPECT_EQ(bf16ToFloat(0x4049), 3.140625f);
}

struct LinearShape {
  int64_t rows, k, n;
};

TEST(SimdKernels, LinearMatchesReferenceForEveryIsaTypeAndShape) {
  // The last two are long enough that each piece is a GEMM over panels
  // (FloatPanels.inc): rows ending mid-vector, features in whole 32-feature
  // copies (AVX-512's transposes) and a tail of 19, a last token tile of 1
  // to 7 tokens.
  const int64_t panelRows = 2 * kFloatPanelMinTokens + 13;
  const LinearShape shapes[] = {
      {1, 64, 64},   {1, 64, 172}, {3, 172, 64},      {7, 33, 13},
      {5, 1, 5},     {17, 100, 9}, {1, 2048, 37},     {9, 31, 4},
      {panelRows, 83, 75},         {panelRows + 6, 5, 40}};
  for (const SimdKernels *table : supportedTables())
    for (ElementType type :
         {ElementType::F32, ElementType::F16, ElementType::BF16})
      for (const LinearShape &s : shapes) {
        SCOPED_TRACE(testing::Message()
                     << table->isa << " " << typeName(type) << " rows "
                     << s.rows << " k " << s.k << " n " << s.n);
        std::vector<float> x = randomFloats(s.rows * s.k, 1);
        std::vector<uint8_t> w = encode(randomFloats(s.n * s.k, 2), type);
        std::vector<float> bias = randomFloats(s.n, 3);
        std::vector<float> want(s.rows * s.n), got(s.rows * s.n, NAN);
        referenceLinear(x.data(), s.rows, s.k, w.data(), type, s.n, bias.data(),
                        want.data());
        LinearArgs args{x.data(),    s.k,        s.k, w.data(),
                        bias.data(), got.data(), s.n};
        // Two uneven pieces in each direction, as the thread pool splits work.
        int64_t nSplit = s.n / 3, tSplit = s.rows / 2;
        LinearFn linear = table->linear[static_cast<int>(type)];
        linear(args, 0, nSplit, 0, tSplit);
        linear(args, nSplit, s.n, 0, tSplit);
        linear(args, 0, nSplit, tSplit, s.rows);
        linear(args, nSplit, s.n, tSplit, s.rows);
        for (size_t i = 0; i < want.size(); ++i)
          ASSERT_NEAR(got[i], want[i], 2e-6 * s.k) << "element " << i;
      }
}


// Decode (one token: rows from the two halves of the range) and prefill
// under kFloatPanelMinTokens tokens (token tiles of four adjacent rows)
// order each row's sum the same way, so a token's outputs do not depend on
// how many tokens ran with it.
TEST(SimdKernels, OneTokenMatchesTokenTilesExactly) {
  static_assert(9 < kFloatPanelMinTokens);
  const LinearShape shapes[] = {{9, 2048, 37}, {9, 100, 64}, {5, 33, 7}};
  for (const SimdKernels *table : supportedTables())
    for (ElementType type :
         {ElementType::F32, ElementType::F16, ElementType::BF16})
      for (const LinearShape &s : shapes) {
        SCOPED_TRACE(testing::Message()
                     << table->isa << " " << typeName(type) << " k " << s.k
                     << " n " << s.n);
        std::vector<float> x = randomFloats(s.rows * s.k, 4);
        std::vector<uint8_t> w = encode(randomFloats(s.n * s.k, 5), type);
        std::vector<float> bias = randomFloats(s.n, 6);
        std::vector<float> tiles(s.rows * s.n, NAN), single(s.n, NAN);
        LinearFn linear = table->linear[static_cast<int>(type)];
        linear({x.data(), s.k, s.k, w.data(), bias.data(), tiles.data(), s.n},
               0, s.n, 0, s.rows);
        for (int64_t t = 0; t < s.rows; ++t) {
          linear({x.data(), s.k, s.k, w.data(), bias.data(), single.data(), 0},
                 1, s.n, t, t + 1);
          linear({x.data(), s.k, s.k, w.data(), bias.data(), single.data(), 0},
                 0, 1, t, t + 1);
          for (int64_t i = 0; i < s.n; ++i)
            ASSERT_EQ(single[i], tiles[t * s.n + i])
                << "token " << t << " row " << i;
        }
      }
}
// A GEMM over panels sums each output in one order whatever part of the
// rows and tokens a call covers, so the thread pool's split cannot change
// a bit; and it does use another order than the tiles (otherwise the
// threshold would be pointless), which the last check shows.
TEST(SimdKernels, PanelProductsDoNotDependOnTheSplit) {
  const LinearShape s = {3 * kFloatPanelMinTokens + 5, 300, 100};
  for (const SimdKernels *table : supportedTables())
    for (ElementType type :
         {ElementType::F32, ElementType::F16, ElementType::BF16}) {
      SCOPED_TRACE(testing::Message() << table->isa << " " << typeName(type));
      std::vector<float> x = randomFloats(s.rows * s.k, 7);
      std::vector<uint8_t> w = encode(randomFloats(s.n * s.k, 8), type);
      std::vector<float> bias = randomFloats(s.n, 9);
      std::vector<float> whole(s.rows * s.n, NAN), split(s.rows * s.n, NAN);
      LinearFn linear = table->linear[static_cast<int>(type)];
      LinearArgs args{x.data(), s.k, s.k, w.data(), bias.data(), whole.data(),
                      s.n};
      linear(args, 0, s.n, 0, s.rows);
      args.y = split.data();
      const int64_t t1 = kFloatPanelMinTokens, t2 = 2 * kFloatPanelMinTokens + 3;
      for (auto [n0, n1] : {std::pair<int64_t, int64_t>{0, 1}, {1, 34},
                            {34, s.n}})
        for (auto [a0, a1] : {std::pair<int64_t, int64_t>{0, t1}, {t1, t2},
                              {t2, s.rows}})
          linear(args, n0, n1, a0, a1);
      for (size_t i = 0; i < whole.size(); ++i)
        ASSERT_EQ(split[i], whole[i]) << "element " << i;
      // The same rows of fewer tokens (tiles) differ somewhere.
      std::vector<float> tiles(s.rows * s.n, NAN);
      args.y = tiles.data();
      for (int64_t t = 0; t < s.rows; t += kFloatPanelMinTokens - 1)
        linear(args, 0, s.n, t,
               std::min(s.rows, t + kFloatPanelMinTokens - 1));
      EXPECT_NE(tiles, whole);
    }
}

// runLinear splits a product over the threads in output rows and token
// blocks; the kernel picks its method by the tokens it is given, so the
// blocks must not straddle kFloatPanelMinTokens: every output's bits are
// those of the product on one thread, whatever the thread count.
TEST(SimdKernels, RunLinearBitsDoNotDependOnTheThreadCount) {
  const int64_t k = 300, n = 130;
  for (int64_t rows : {int64_t{5}, kFloatPanelMinTokens + 8, int64_t{75}}) {
    SCOPED_TRACE(testing::Message() << "rows " << rows);
    std::vector<float> x = randomFloats(rows * k, 10);
    std::vector<uint8_t> w = encode(randomFloats(n * k, 11), ElementType::F16);
    std::vector<float> bias = randomFloats(n, 12);
    std::vector<float> one;
    for (int threads : {1, 2, 3}) {
      ThreadPool pool(threads);
      const RunContext ctx{rows, nullptr, 0, &pool, &bestKernels(), nullptr,
                           0};
      std::vector<float> y(rows * n, NAN);
      runLinear(ctx, {x.data(), k, k, w.data(), bias.data(), y.data(), n},
                ElementType::F16, n, 0, rows);
      if (threads == 1)
        one = y;
      else
        EXPECT_EQ(y, one) << threads << " threads";
    }
  }
}

TEST(SimdKernels, DotAndAxpyMatchPlainLoops) {
  for (const SimdKernels *table : supportedTables())
    for (ElementType type :
         {ElementType::F32, ElementType::F16, ElementType::BF16})
      for (int64_t n : {1, 7, 8, 15, 16, 17, 33, 64, 100, 257}) {
        SCOPED_TRACE(testing::Message()
                     << table->isa << " " << typeName(type) << " n " << n);
        std::vector<float> x = randomFloats(n, 4), y = randomFloats(n, 5);
        std::vector<uint8_t> w = encode(randomFloats(n, 6), type);
        double want = 0;
        for (int64_t i = 0; i < n; ++i)
          want += static_cast<double>(x[i]) * loadElement(w.data(), type, i);
        EXPECT_NEAR(table->dot[static_cast<int>(type)](x.data(), w.data(), n),
                    want, 1e-5 * n);
        std::vector<float> expected = y;
        for (int64_t i = 0; i < n; ++i)
          expected[i] += 0.75f * loadElement(w.data(), type, i);
        table->axpy[static_cast<int>(type)](0.75f, w.data(), y.data(), n);
        for (int64_t i = 0; i < n; ++i)
          ASSERT_NEAR(y[i], expected[i], 1e-6) << "element " << i;
      }
}

TEST(SimdKernels, AttentionScoresAndMixMatchPlainLoops) {
  for (const SimdKernels *table : supportedTables())
    for (ElementType type :
         {ElementType::F32, ElementType::F16, ElementType::BF16})
      for (int64_t headDim : {4, 6, 8, 16, 24, 64, 128})
        // Fewer positions than any vector's lanes, whole vectors, and
        // every count of vectors after the last group of four, with and
        // without a partial vector.
        for (int64_t rows : {1, 5, 16, 37, 50, 64, 130, 176, 200})
          // Query heads of one KV head: alone, a whole tile of 4 (2
          // without AVX-512) and a tile and a rest.
          for (int64_t queries : {1, 4, 7}) {
            SCOPED_TRACE(testing::Message()
                         << table->isa << " " << typeName(type)
                         << " head_dim " << headDim << " rows " << rows
                         << " queries " << queries);
            // Feature-major caches with a stride larger than the rows used;
            // score and probability rows longer than the positions.
            const int64_t stride = rows + 3, scoresStride = rows + 5;
            std::vector<float> q = randomFloats(queries * headDim, 13),
                               p = randomFloats(queries * scoresStride, 14);
            std::vector<uint8_t> keys =
                encode(randomFloats(stride * headDim, 15), type);
            std::vector<uint8_t> values =
                encode(randomFloats(stride * headDim, 16), type);
            std::vector<float> scores(queries * scoresStride, NAN),
                max(queries), out = randomFloats(queries * headDim, 17),
                want = out;
            table->scores[static_cast<int>(type)](
                q.data(), queries, keys.data(), stride, rows, headDim, 0.5f,
                scores.data(), scoresStride, max.data());
            for (int64_t i = 0; i < queries; ++i) {
              const float *row = scores.data() + i * scoresStride;
              EXPECT_EQ(max[i], *std::max_element(row, row + rows));
              for (int64_t j = 0; j < rows; ++j) {
                double dot = 0;
                for (int64_t d = 0; d < headDim; ++d)
                  dot += q[i * headDim + d] *
                         loadElement(keys.data(), type, d * stride + j);
                ASSERT_NEAR(row[j], 0.5 * dot, 1e-5) << "query " << i
                                                     << " row " << j;
                for (int64_t d = 0; d < headDim; ++d)
                  want[i * headDim + d] +=
                      p[i * scoresStride + j] *
                      loadElement(values.data(), type, d * stride + j);
              }
              // Nothing written past the positions.
              for (int64_t j = rows; j < scoresStride; ++j)
                ASSERT_TRUE(std::isnan(row[j])) << "query " << i;
            }
            table->mix[static_cast<int>(type)](p.data(), queries, scoresStride,
                                               values.data(), stride, rows,
                                               headDim, out.data());
            for (int64_t i = 0; i < queries * headDim; ++i)
              ASSERT_NEAR(out[i], want[i], 1e-5) << "element " << i;
            // A query's scores are the same bits alone as with others.
            std::vector<float> alone(scoresStride);
            float aloneMax;
            for (int64_t i = 0; i < queries; ++i) {
              table->scores[static_cast<int>(type)](
                  q.data() + i * headDim, 1, keys.data(), stride, rows,
                  headDim, 0.5f, alone.data(), scoresStride, &aloneMax);
              for (int64_t j = 0; j < rows; ++j)
                ASSERT_EQ(alone[j], scores[i * scoresStride + j])
                    << "query " << i << " row " << j;
            }
          }
}

TEST(SimdKernels, ExpAndSiluAreAccurate) {
  for (const SimdKernels *table : supportedTables()) {
    SCOPED_TRACE(table->isa);
    std::vector<float> x;
    for (float v = -100.0f; v <= 10.0f;
         v += 0.37f) // As in a softmax: x - shift <= 0.
      x.push_back(v);
    std::vector<float> e = x;
    float sum = table->expSum(e.data(), e.size(), 10.0f);
    double wantSum = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      double want = std::exp(
          static_cast<double>(x[i] - 10.0f)); // The kernel subtracts in f32.
      wantSum += want;
      if (x[i] - 10.0f > -87.0f && x[i] - 10.0f < 88.0f) {
        ASSERT_NEAR(e[i], want, 3e-7 * want + 1e-37) << "x = " << x[i];
      }
    }
    EXPECT_NEAR(sum, wantSum, 1e-6 * wantSum);
    std::vector<float> gate = randomFloats(77, 18), up = randomFloats(77, 19);
    for (float &g : gate)
      g *= 12.0f;
    // Whole vectors and a tail, and a tail alone; nothing past n written.
    for (int n : {77, 5}) {
      std::vector<float> out(n + 20, 7.0f);
      table->siluMul(gate.data(), up.data(), out.data(), n);
      for (int i = 0; i < n; ++i)
        ASSERT_NEAR(out[i], gate[i] / (1.0 + std::exp(-gate[i])) * up[i], 1e-5)
            << i;
      for (int i = n; i < n + 20; ++i)
        ASSERT_EQ(out[i], 7.0f) << i;
    }
  }
}

TEST(RowKernels, RmsNormPerGroupWithWeightOffset) {
  std::vector<float> x = randomFloats(16, 7), w = randomFloats(8, 8), y(16);
  rmsNorm(x.data(), y.data(), 16, 8, w.data(), ElementType::F32, 1e-6f, 1.0f);
  for (int g = 0; g < 2; ++g) {
    double ss = 0;
    for (int i = 0; i < 8; ++i)
      ss += x[g * 8 + i] * x[g * 8 + i];
    double inv = 1.0 / std::sqrt(ss / 8 + 1e-6);
    for (int i = 0; i < 8; ++i)
      EXPECT_NEAR(y[g * 8 + i], x[g * 8 + i] * inv * (w[i] + 1.0), 1e-5);
  }
  // Without a weight the scale is 1, whatever the offset.
  rmsNorm(x.data(), y.data(), 16, 16, nullptr, ElementType::F32, 0.0f, 0.0f);
  double ss = 0;
  for (float v : y)
    ss += v * v;
  EXPECT_NEAR(ss / 16, 1.0, 1e-5);
}

TEST(RowKernels, LayerNormWithWeightAndBias) {
  std::vector<float> x = randomFloats(10, 9), w = randomFloats(10, 10),
                     b = randomFloats(10, 11), y(10);
  std::vector<uint8_t> wh = encode(w, ElementType::F16);
  layerNorm(x.data(), y.data(), 10, wh.data(), b.data(), ElementType::F16,
            ElementType::F32, 1e-5f);
  double mean = 0, var = 0;
  for (float v : x)
    mean += v / 10;
  for (float v : x)
    var += (v - mean) * (v - mean) / 10;
  for (int i = 0; i < 10; ++i)
    EXPECT_NEAR(y[i],
                (x[i] - mean) / std::sqrt(var + 1e-5) *
                        loadElement(wh.data(), ElementType::F16, i) +
                    b[i],
                1e-5);
}

// The attention factor (YaRN's mscale) scales the rotated features only.
TEST(RowKernels, RopeBothLayoutsPartialRotationInPlace) {
  const int64_t headDim = 8, rotary = 4, width = 16, position = 37;
  const double theta = 500.0;
  std::vector<double> invFreq = {1.0, std::pow(theta, -2.0 / rotary)};
  for (float factor : {1.0f, 1.25f})
  for (bool interleaved : {true, false}) {
    std::vector<float> x = randomFloats(width, 12), y = x;
    rope(y.data(), y.data(), width, headDim, rotary, interleaved,
         invFreq.data(), factor, position);
    for (int64_t h = 0; h < width; h += headDim)
      for (int64_t i = 0; i < headDim; ++i) {
        double want = x[h + i];
        if (i < rotary) {
          int64_t pair = interleaved ? i / 2 : i % (rotary / 2);
          bool first = interleaved ? i % 2 == 0 : i < rotary / 2;
          int64_t other = interleaved
                              ? (first ? i + 1 : i - 1)
                              : (first ? i + rotary / 2 : i - rotary / 2);
          double angle = position * invFreq[pair];
          want =
              first
                  ? x[h + i] * std::cos(angle) - x[h + other] * std::sin(angle)
                  : x[h + other] * std::sin(angle) + x[h + i] * std::cos(angle);
          want *= factor;
        }
        EXPECT_NEAR(y[h + i], want, 1e-5)
            << (interleaved ? "interleaved" : "rotate_half") << " feature "
            << h + i;
      }
  }
}

TEST(RowKernels, Activations) {
  EXPECT_NEAR(activate(Activation::Silu, 1.0f), 0.7310586f, 1e-6);
  EXPECT_NEAR(activate(Activation::Gelu, 1.0f), 0.8413447f, 1e-6);
  EXPECT_NEAR(activate(Activation::GeluTanh, 1.0f), 0.8411920f, 1e-6);
  EXPECT_NEAR(activate(Activation::Sigmoid, 0.0f), 0.5f, 1e-7);
  EXPECT_EQ(activate(Activation::Relu, -1.0f), 0.0f);
  EXPECT_EQ(activate(Activation::Relu, 2.5f), 2.5f);
}

TEST(ThreadPool, RunsEveryTaskOnceAcrossRepeatedJobs) {
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    for (int job = 0; job < 200; ++job) {
      std::vector<std::atomic<int>> hits(97);
      std::atomic<int> maxThread{0};
      pool.run(97, [&](int64_t task, int thread) {
        hits[task].fetch_add(1);
        int seen = maxThread.load();
        while (thread > seen &&
               !maxThread.compare_exchange_weak(seen, thread)) {
        }
      });
      for (auto &h : hits)
        ASSERT_EQ(h.load(), 1);
      ASSERT_LT(maxThread.load(), threads);
    }
  }
}

} // namespace
} // namespace fmc::cpu
