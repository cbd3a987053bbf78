//===- GgmlDequantTest.cpp - ggml block decoders on hand-built blocks -----===//
//
// The 56 ../shared/models/gguf-quant cases check every decoder end to end
// (test/Tools/fmc-run-gguf-quant.test); TQ1_0 has no such case, so its
// base-3 packing is checked here against blocks built from known trits, the
// way ggml's quantize_row_tq1_0_ref packs them (a byte holds q = sum of
// trits * 3^(4-n), stored as ceil(q * 256 / 243)). Q4_0 and TQ2_0 are
// checked the same way as controls of the test's own packing.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/GgmlDequant.h"
#include "runtime/cpu/Float16.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace {

using fmc::cpu::dequantizeGgml;
namespace ggml = fmc::ggml;

void putHalf(uint8_t *p, float value) {
  uint16_t bits = fmc::cpu::floatToF16(value);
  std::memcpy(p, &bits, 2);
}

/// Trits (0, 1, 2) packed as ggml packs n of them into one byte.
uint8_t packTrits(const int *trits, int n) {
  int q = 0;
  for (int i = 0; i < n; ++i)
    q = q * 3 + trits[i];
  for (int i = n; i < 5; ++i)
    q *= 3; // Four trits sit in the top of the 5-trit range.
  return static_cast<uint8_t>((q * 256 + 242) / 243);
}

TEST(GgmlDequant, TernaryTQ1_0) {
  const ggml::BlockFormat &format = *ggml::blockFormat(ggml::Type::TQ1_0);
  // The value of element i: trit (i * 7 + i / 5) % 3.
  auto tritOf = [](int i) { return (i * 7 + i / 5) % 3; };
  std::vector<int> element(256);
  std::vector<uint8_t> block(format.bytes);
  // qs[0..32): trit n of byte m is element n*32 + m; qs[32..48): element
  // 160 + n*16 + m; qh[0..4): element 240 + n*4 + m.
  for (int m = 0; m < 48; ++m) {
    int trits[5];
    for (int n = 0; n < 5; ++n) {
      int i = m < 32 ? n * 32 + m : 160 + n * 16 + (m - 32);
      trits[n] = tritOf(i);
    }
    block[m] = packTrits(trits, 5);
  }
  for (int m = 0; m < 4; ++m) {
    int trits[4];
    for (int n = 0; n < 4; ++n)
      trits[n] = tritOf(240 + n * 4 + m);
    block[48 + m] = packTrits(trits, 4);
  }
  putHalf(block.data() + 52, 0.5f);
  std::vector<float> out(256);
  dequantizeGgml(format, block.data(), 1, out.data());
  for (int i = 0; i < 256; ++i)
    ASSERT_EQ(out[i], 0.5f * (tritOf(i) - 1)) << "element " << i;
}

TEST(GgmlDequant, TernaryTQ2_0) {
  const ggml::BlockFormat &format = *ggml::blockFormat(ggml::Type::TQ2_0);
  std::vector<uint8_t> block(format.bytes, 0);
  auto codeOf = [](int i) { return (i * 5 + 1) % 3; };
  // Element 128h + 32s + m is bits 2s of byte 32h + m.
  for (int i = 0; i < 256; ++i)
    block[32 * (i / 128) + i % 32] |= codeOf(i) << (2 * ((i % 128) / 32));
  putHalf(block.data() + 64, 0.25f);
  std::vector<float> out(256);
  dequantizeGgml(format, block.data(), 1, out.data());
  for (int i = 0; i < 256; ++i)
    ASSERT_EQ(out[i], 0.25f * (codeOf(i) - 1)) << "element " << i;
}

TEST(GgmlDequant, Q4_0TwoBlocks) {
  const ggml::BlockFormat &format = *ggml::blockFormat(ggml::Type::Q4_0);
  std::vector<uint8_t> blocks(2 * format.bytes);
  for (int b = 0; b < 2; ++b) {
    uint8_t *p = blocks.data() + b * format.bytes;
    putHalf(p, b == 0 ? 1.0f : -2.0f);
    for (int j = 0; j < 16; ++j)
      p[2 + j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  }
  std::vector<float> out(64);
  dequantizeGgml(format, blocks.data(), 2, out.data());
  for (int b = 0; b < 2; ++b)
    for (int j = 0; j < 16; ++j) {
      float d = b == 0 ? 1.0f : -2.0f;
      EXPECT_EQ(out[32 * b + j], d * (j - 8));
      EXPECT_EQ(out[32 * b + j + 16], d * (7 - j));
    }
}

} // namespace
