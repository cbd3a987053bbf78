//===- QuantKernelsTest.cpp - packed-weight kernels vs references ---------===//
//
// Every kernel table this CPU runs, for every format, on odd shapes: k not
// a multiple of the group or of 128; 1, 7, 13 and 37 output rows (partial
// and whole tiles and panels); 1, 3 and 5 tokens (partial tiles of 8)
// and 11, 27 and 40 (AVX-512 VNNI's panels, from kQuantPanelMinTokens
// tokens, in tiles of 6). Equal to dequantize-then-f32 with the kernels'
// activation rounding within f32 tolerance, and close to plain f32.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/QuantKernels.h"
#include "runtime/cpu/Kernels.h"
#include "lowering/quant/QuantMath.h"

#include <gtest/gtest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <random>
#include <utility>
#include <vector>

using namespace fmc;

namespace {

std::vector<const cpu::QuantKernelTable *> tables() {
  std::vector<const cpu::QuantKernelTable *> all = {
      &cpu::quantGenericKernels()};
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    all.push_back(&cpu::quantAvx2Kernels());
  if (__builtin_cpu_supports("avx512vnni") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw"))
    all.push_back(&cpu::quantAvx512VnniKernels());
  return all;
}

struct Packed {
  quant::Format format;
  std::vector<uint8_t> bytes;
  cpu::QuantWeights view;
};

Packed pack(const std::string &spec, int64_t n, int64_t k, std::mt19937 &rng) {
  Packed p;
  EXPECT_EQ(quant::parseFormat(spec, p.format), "");
  std::normal_distribution<float> normal(0.0f, 0.1f);
  std::vector<float> w(n * k);
  for (float &v : w)
    v = normal(rng);
  p.bytes.resize(quant::packedBytes(p.format, n, k));
  quant::quantize(p.format, w.data(), n, k, p.bytes.data());
  p.view = cpu::QuantWeights::view(
      p.bytes.data(), p.format.bits, p.format.grid == quant::Grid::Affine,
      p.format.scaleType == quant::ScaleType::BF16, p.format.groupSize, n, k);
  return p;
}

/// sum_i |w[r][i] x[i]|: the scale of a product's terms, which bounds its
/// f32 rounding.
double termScale(const cpu::QuantWeights &w, int64_t r, const float *x) {
  double scale = 0.0;
  for (int64_t i = 0; i < w.k; ++i)
    scale += std::fabs(w.value(r, i) * x[i]);
  return scale;
}

const char *kFormats[] = {
    "2:balanced:64:f16",  "2:balanced:32:f16", "2:balanced:128:bf16",
    "2:balanced:row:f16", "2:affine:64:f16",   "4:affine:32:f16",
    "4:balanced:64:f16",  "4:affine:row:bf16", "4:balanced:128:f16"};

TEST(QuantKernels, MatchDequantizeThenF32) {
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (const cpu::QuantKernelTable *table : tables())
    for (const char *spec : kFormats)
      for (int64_t n : {1, 7, 13, 37})
        for (int64_t k : {40, 100, 172, 256, 300, 640})
          for (int64_t tokens : {1, 3, 5, 11, 27, 40}) {
            SCOPED_TRACE(std::string(table->isa) + " " + spec +
                         " n=" + std::to_string(n) + " k=" + std::to_string(k) +
                         " tokens=" + std::to_string(tokens));
            Packed p = pack(spec, n, k, rng);
            std::vector<float> x(tokens * k);
            for (float &v : x)
              v = normal(rng);
            cpu::QuantActivations a(p.view, tokens);
            a.prepare(p.view, x.data(), k, 0, tokens);
            std::vector<float> y(tokens * n, -1.0f), same(tokens * n),
                exact(tokens * n);
            table->linear(p.view, a, y.data(), n, 0, n, 0, tokens);
            cpu::referenceQuantLinear(p.view, x.data(), tokens, same.data(),
                                      /*quantizeActivations=*/true);
            cpu::referenceQuantLinear(p.view, x.data(), tokens, exact.data(),
                                      /*quantizeActivations=*/false);
            for (int64_t t = 0; t < tokens; ++t)
              for (int64_t r = 0; r < n; ++r) {
                const double magnitude = termScale(p.view, r, x.data() + t * k);
                float got = y[t * n + r];
                ASSERT_NEAR(got, same[t * n + r], 1e-5 * magnitude + 1e-6)
                    << "t=" << t << " r=" << r;
                // int8 activations: a few tenths of a percent of the terms.
                ASSERT_NEAR(got, exact[t * n + r], 1e-2 * magnitude + 1e-6)
                    << "t=" << t << " r=" << r;
              }
          }
}

TEST(QuantKernels, RowRangesAndTokenRangesCompose) {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int64_t n = 9, k = 384, tokens = 7;
  for (const cpu::QuantKernelTable *table : tables()) {
    SCOPED_TRACE(table->isa);
    Packed p = pack("2:balanced:64:f16", n, k, rng);
    std::vector<float> x(tokens * k);
    for (float &v : x)
      v = normal(rng);
    cpu::QuantActivations a(p.view, tokens);
    a.prepare(p.view, x.data(), k, 0, tokens);
    std::vector<float> whole(tokens * n), parts(tokens * n);
    table->linear(p.view, a, whole.data(), n, 0, n, 0, tokens);
    table->linear(p.view, a, parts.data(), n, 0, 4, 0, 2);
    table->linear(p.view, a, parts.data(), n, 4, n, 0, 2);
    table->linear(p.view, a, parts.data(), n, 0, n, 2, tokens);
    EXPECT_EQ(whole, parts);
  }
}

// Decode (one token) runs rows in tiles drawn from several spans of the
// row range; prefill runs tokens in tiles, of up to 8 and two to a 512-bit
// vector on AVX-512, in pairs, with the same operations per output, and on
// AVX-512 VNNI runs of kQuantPanelMinTokens tokens or more in panels of
// 32 rows instead (one vector lane per row: other roundings). No output
// may depend on the tile, panel or range it was computed in: any split of
// rows, and of tokens into runs of kQuantPanelMinTokens or more, gives the
// whole product's bits, and runs of fewer tokens give one token's bits.
// All agree within f32 rounding.
TEST(QuantKernels, SplitsMatchTheWholeProductExactly) {
  std::mt19937 rng(17);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int64_t k = 300, tokens = 45;
  for (const cpu::QuantKernelTable *table : tables())
    for (const char *spec : kFormats)
      for (int64_t n : {1, 5, 13, 37}) {
        SCOPED_TRACE(std::string(table->isa) + " " + spec +
                     " n=" + std::to_string(n));
        Packed p = pack(spec, n, k, rng);
        std::vector<float> x(tokens * k);
        for (float &v : x)
          v = normal(rng);
        cpu::QuantActivations a(p.view, tokens);
        a.prepare(p.view, x.data(), k, 0, tokens);
        // Long runs against the whole product, short ones and single
        // tokens against one token at a time; each run with its own uneven
        // row split.
        auto inRuns = [&](std::vector<std::array<int64_t, 2>> runs) {
          std::vector<float> y(tokens * n, -1.0f);
          for (const auto &run : runs) {
            int64_t split = std::min<int64_t>(n, 1 + run[0] % 7 + n / 2);
            table->linear(p.view, a, y.data(), n, 0, split, run[0], run[1]);
            table->linear(p.view, a, y.data(), n, split, n, run[0], run[1]);
          }
          return y;
        };
        std::vector<float> whole(tokens * n), one(tokens * n);
        table->linear(p.view, a, whole.data(), n, 0, n, 0, tokens);
        for (int64_t t = 0; t < tokens; ++t)
          table->linear(p.view, a, one.data(), n, 0, n, t, t + 1);
        const int64_t m = cpu::kQuantPanelMinTokens;
        EXPECT_EQ(whole, inRuns({{0, m}, {m, 2 * m + 3}, {2 * m + 3, tokens}}));
        // Runs of 2, 3 and m - 1 tokens, in turn.
        std::vector<std::array<int64_t, 2>> shortRuns;
        for (int64_t t = 0, i = 0; t < tokens; ++i) {
          const int64_t length = std::array<int64_t, 3>{2, 3, m - 1}[i % 3];
          shortRuns.push_back({t, std::min(tokens, t + length)});
          t = shortRuns.back()[1];
        }
        EXPECT_EQ(one, inRuns(shortRuns));
        std::vector<std::array<int64_t, 2>> singles;
        for (int64_t t = 0; t < tokens; ++t)
          singles.push_back({t, t + 1});
        EXPECT_EQ(one, inRuns(singles));
        for (int64_t t = 0; t < tokens; ++t)
          for (int64_t r = 0; r < n; ++r) {
            const double magnitude = termScale(p.view, r, x.data() + t * k);
            ASSERT_NEAR(one[t * n + r], whole[t * n + r], 1e-5 * magnitude)
                << "t=" << t << " r=" << r;
          }
      }
}

// Short rows (k < 128 in one group, or one block and a tail in one
// group) decode one token 8 rows at a time, a last partial tile
// overlapping the one before; fewer than 8 rows, or a tail over several
// groups, take the general path; prefill of kFloatPanelMinTokens tokens or
// more dequantizes the rows for the float GEMM, a shorter one has one
// token's bits. Every row count from 1 to 17 and every split of the rows
// gives the reference's values, and the same bits whatever the split.
TEST(QuantKernels, ShortRowsMatchTheReferenceAndAnySplit) {
  std::mt19937 rng(23);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const char *formats[] = {"2:balanced:64:f16",  "2:balanced:128:bf16",
                           "2:affine:row:f16",   "2:balanced:32:f16",
                           "4:balanced:64:f16",  "4:affine:row:bf16",
                           "4:balanced:128:f16", "2:affine:64:bf16"};
  for (const cpu::QuantKernelTable *table : tables()) {
    // Outputs of long prefills whose bits differ from one token's: the
    // float GEMM did run (the shorter paths would leave none).
    int64_t gemmBits = 0;
    for (const char *spec : formats)
      for (int64_t k : {8, 36, 64, 72, 100, 127, 136, 172, 200})
        for (int64_t n = 1; n <= 17; ++n) {
          SCOPED_TRACE(std::string(table->isa) + " " + spec +
                       " n=" + std::to_string(n) + " k=" + std::to_string(k));
          Packed p = pack(spec, n, k, rng);
          for (int64_t tokens :
               {int64_t{1}, int64_t{5}, cpu::kFloatPanelMinTokens + 9}) {
            SCOPED_TRACE("tokens=" + std::to_string(tokens));
            std::vector<float> x(tokens * k);
            for (float &v : x)
              v = normal(rng);
            cpu::QuantActivations a(p.view, tokens);
            a.prepare(p.view, x.data(), k, 0, tokens);
            std::vector<float> whole(tokens * n, -1.0f),
                split(tokens * n, -2.0f), ref(tokens * n);
            table->linear(p.view, a, whole.data(), n, 0, n, 0, tokens);
            cpu::referenceQuantLinear(p.view, x.data(), tokens, ref.data(),
                                      /*quantizeActivations=*/true);
            for (int64_t t = 0; t < tokens; ++t)
              for (int64_t r = 0; r < n; ++r) {
                const double magnitude = termScale(p.view, r, x.data() + t * k);
                ASSERT_NEAR(whole[t * n + r], ref[t * n + r],
                            1e-5 * magnitude + 1e-6)
                    << "t=" << t << " r=" << r;
              }
            // Three ranges as threads would take them (some under 8 rows).
            int64_t a1 = n / 3, a2 = n - n / 4;
            table->linear(p.view, a, split.data(), n, 0, a1, 0, tokens);
            table->linear(p.view, a, split.data(), n, a1, a2, 0, tokens);
            table->linear(p.view, a, split.data(), n, a2, n, 0, tokens);
            EXPECT_EQ(whole, split);
            // Token by token: a short prefill has one token's bits.
            std::vector<float> single(tokens * n, -3.0f);
            for (int64_t t = 0; t < tokens; ++t)
              table->linear(p.view, a, single.data(), n, 0, n, t, t + 1);
            if (tokens < cpu::kFloatPanelMinTokens)
              EXPECT_EQ(whole, single);
            else
              for (size_t i = 0; i < whole.size(); ++i)
                gemmBits += whole[i] != single[i];
          }
        }
    // The portable table has one way for every token count.
    if (std::string(table->isa) != "generic") {
      EXPECT_GT(gemmBits, 0) << table->isa;
    }
  }
}

// A long prefill of short rows is the float GEMM, to the bit: the rows as
// QuantWeights::value gives them, times the activations rounded as the
// integer kernels round them (a block's int8 values times d), through
// bestKernels()' f32 product. It reads x alone (readsQuantized), so the
// quantized fields are poisoned here: a read of them would show.
TEST(QuantKernels, LongShortPrefillIsTheFloatGemmOfTheValues) {
  std::mt19937 rng(37);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const cpu::SimdKernels &simd = cpu::bestKernels();
  const int64_t tokens = cpu::kFloatPanelMinTokens + 9;
  int64_t checked = 0;
  for (const cpu::QuantKernelTable *table : tables())
    for (const char *spec : kFormats)
      for (int64_t k : {4, 36, 64, 100, 136, 172, 200})
        for (int64_t n : {1, 13, 40}) {
          SCOPED_TRACE(std::string(table->isa) + " " + spec +
                       " n=" + std::to_string(n) + " k=" + std::to_string(k));
          Packed p = pack(spec, n, k, rng);
          if (table->readsQuantized(p.view, tokens))
            continue; // Not short rows, or a table without the GEMM.
          EXPECT_TRUE(table->readsQuantized(p.view, tokens - 10));
          std::vector<float> x(tokens * k), rounded(x.size()), rows(n * k);
          for (float &v : x)
            v = normal(rng);
          rounded = x;
          for (int64_t t = 0; k >= 128 && t < tokens; ++t) {
            int8_t q[128];
            int32_t sums[16];
            const float d =
                cpu::quantizeBlockPortable(x.data() + t * k, 2, q, sums) /
                127.0f;
            for (int64_t e = 0; e < 128; ++e)
              rounded[t * k + e] =
                  static_cast<float>(q[cpu::decodePosition(2, e)]) * d;
          }
          for (int64_t r = 0; r < n; ++r)
            for (int64_t i = 0; i < k; ++i)
              rows[r * k + i] = p.view.value(r, i);
          std::vector<float> want(tokens * n), got(tokens * n, -1.0f);
          simd.linear[static_cast<int>(cpu::ElementType::F32)](
              cpu::LinearArgs{rounded.data(), k, k, rows.data(), nullptr,
                              want.data(), n},
              0, n, 0, tokens);
          cpu::QuantActivations a(p.view, tokens);
          a.bind(p.view, x.data(), k);
          std::fill(a.q.begin(), a.q.end(), int8_t{127});
          std::fill(a.d.begin(), a.d.end(), std::nanf(""));
          std::fill(a.groupSums.begin(), a.groupSums.end(), std::nanf(""));
          std::fill(a.laneOffsets.begin(), a.laneOffsets.end(),
                    std::nanf(""));
          table->linear(p.view, a, got.data(), n, 0, n, 0, tokens);
          ASSERT_EQ(got, want);
          ++checked;
        }
  // Every short shape on the vector tables (the portable one reads q).
  EXPECT_GT(checked, 0);
}

// Every table quantizes activations to the portable definition's bits:
// the int8 values in decode order, the lanes' sums and the block maximum,
// on random blocks, an all-zero one, one large outlier, and exact ties
// (x * 127 / max halfway between integers: to even).
TEST(QuantKernels, QuantizeBlockMatchesThePortableDefinition) {
  std::mt19937 rng(29);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<std::vector<float>> blocks;
  for (int i = 0; i < 50; ++i) {
    std::vector<float> x(128);
    for (float &v : x)
      v = normal(rng) * (i % 5 == 0 ? 1e-3f : 3.0f);
    blocks.push_back(x);
  }
  blocks.push_back(std::vector<float>(128, 0.0f));
  std::vector<float> outlier(128, 0.25f);
  outlier[77] = -1e4f;
  blocks.push_back(outlier);
  std::vector<float> ties(128);
  for (int e = 0; e < 128; ++e)
    ties[e] = e == 0 ? 127.0f : (e % 2 ? -1.0f : 1.0f) * (e % 50 + 0.5f);
  blocks.push_back(ties);
  for (const cpu::QuantKernelTable *table : tables())
    for (int bits : {2, 4})
      for (size_t i = 0; i < blocks.size(); ++i) {
        SCOPED_TRACE(std::string(table->isa) + " bits=" +
                     std::to_string(bits) + " block " + std::to_string(i));
        int8_t want[128], got[128];
        int32_t wantSums[16] = {}, gotSums[16] = {};
        float wantMax = cpu::quantizeBlockPortable(blocks[i].data(), bits,
                                                   want, wantSums);
        float gotMax =
            table->quantizeBlock(blocks[i].data(), bits, got, gotSums);
        EXPECT_EQ(gotMax, wantMax);
        EXPECT_EQ(std::vector<int8_t>(got, got + 128),
                  std::vector<int8_t>(want, want + 128));
        EXPECT_EQ(std::vector<int32_t>(gotSums, gotSums + 16),
                  std::vector<int32_t>(wantSums, wantSums + 16));
      }
  // The ties went to even (max 127, so x * 127 / max is x): features 1, 2,
  // 49 and 50 hold -1.5, 2.5, -49.5 and 0.5.
  int8_t q[128];
  int32_t sums[16];
  cpu::quantizeBlockPortable(ties.data(), 2, q, sums);
  for (auto [feature, value] : {std::pair<int, int>{1, -2}, {2, 2},
                                {49, -50}, {50, 0}})
    EXPECT_EQ(q[cpu::decodePosition(2, feature)], value) << feature;
}

// Every table dequantizes rows to QuantWeights::value's bits, at widths
// that end mid-vector and mid-byte, and reads no code byte past the last
// row: the codes are moved to end at a page with no access after it.
TEST(QuantKernels, DequantizeRowsGiveTheGridsValues) {
  std::mt19937 rng(31);
  const long page = sysconf(_SC_PAGESIZE);
  for (const cpu::QuantKernelTable *table : tables())
    for (const char *spec : kFormats)
      for (int64_t k : {8, 36, 40, 100, 172, 200, 640}) {
        SCOPED_TRACE(std::string(table->isa) + " " + spec +
                     " k=" + std::to_string(k));
        const int64_t n = 5;
        Packed p = pack(spec, n, k, rng);
        const size_t codeBytes = static_cast<size_t>(n * p.view.rowBytes);
        const size_t span = (codeBytes + page - 1) / page * page;
        void *mem = mmap(nullptr, span + page, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        ASSERT_NE(mem, MAP_FAILED);
        ASSERT_EQ(mprotect(static_cast<char *>(mem) + span, page, PROT_NONE),
                  0);
        uint8_t *codes = static_cast<uint8_t *>(mem) + span - codeBytes;
        std::memcpy(codes, p.view.codes, codeBytes);
        cpu::QuantWeights w = p.view;
        w.codes = codes;
        std::vector<float> got((n - 1) * k, -1.0f);
        table->dequantizeRows(w, 1, n, got.data());
        for (int64_t r = 1; r < n; ++r)
          for (int64_t i = 0; i < k; ++i)
            ASSERT_EQ(got[(r - 1) * k + i], w.value(r, i))
                << "r=" << r << " i=" << i;
        munmap(mem, span + page);
      }
}

TEST(QuantKernels, EmbeddingRowIsTheDequantizedRow) {
  std::mt19937 rng(2);
  for (const char *spec :
       {"4:balanced:64:f16", "4:affine:32:bf16", "2:balanced:row:f16"}) {
    SCOPED_TRACE(spec);
    const int64_t vocab = 5, width = 100;
    Packed p = pack(spec, vocab, width, rng);
    std::vector<float> table(vocab * width), row(width);
    quant::dequantize(p.format, p.bytes.data(), vocab, width, table.data());
    for (int64_t id = 0; id < vocab; ++id) {
      cpu::quantEmbeddingRow(p.view, id, 2.0f, row.data());
      for (int64_t i = 0; i < width; ++i)
        ASSERT_EQ(row[i], 2.0f * table[id * width + i]);
    }
  }
}

} // namespace
