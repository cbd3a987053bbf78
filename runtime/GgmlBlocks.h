//===- GgmlBlocks.h - the ggml block formats fmc carries in place ---------===//
//
// GGUF files store most weights in ggml's block formats: a row of k elements
// is k / `elements` blocks of `bytes` bytes each, every block holding its own
// scales (and minimums) next to its codes. fmc never re-encodes these: the
// importer references the blocks in the file, the artifact writer copies them
// verbatim and the CPU kernels (runtime/cpu/GgmlDequant.h) decode them with
// ggml's own dequantization formulas, so what fmc computes with is exactly
// what the file means.
//
// This table is the one place that sizes them: the importer (checking a
// tensor's bytes), the fm dialect (a parameter's storage bytes), the artifact
// writer and the runtime's validation all read it. Plain C++ so the runtime
// stays free of LLVM.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_GGMLBLOCKS_H
#define FMC_RUNTIME_GGMLBLOCKS_H

#include <cstdint>
#include <string_view>

namespace fmc::ggml {

/// ggml's `enum ggml_type` numbers of the block formats fmc reads.
enum class Type : uint32_t {
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  IQ4_NL = 20,
  IQ4_XS = 23,
  TQ1_0 = 34,
  TQ2_0 = 35,
};

struct BlockFormat {
  Type type;
  /// ggml's name ("Q4_K"), and fm's storage type name ("q4_k").
  std::string_view name, fmName;
  uint32_t elements; ///< Elements per block (32, or 256 for K, IQ4_XS, TQ).
  uint32_t bytes;    ///< Bytes per block.
};

inline constexpr BlockFormat kBlockFormats[] = {
    // d f16, 16 bytes of nibbles: w = d (q - 8).
    {Type::Q4_0, "Q4_0", "q4_0", 32, 18},
    // d, m f16, 16 bytes of nibbles: w = d q + m.
    {Type::Q4_1, "Q4_1", "q4_1", 32, 20},
    // d f16, 4 bytes of fifth bits, nibbles: w = d (q - 16).
    {Type::Q5_0, "Q5_0", "q5_0", 32, 22},
    // d, m f16, fifth bits, nibbles: w = d q + m.
    {Type::Q5_1, "Q5_1", "q5_1", 32, 24},
    // d f16, 32 int8: w = d q.
    {Type::Q8_0, "Q8_0", "q8_0", 32, 34},
    // 16 bytes of 4-bit scale/min pairs, 64 bytes of 2-bit codes, d, dmin.
    {Type::Q2_K, "Q2_K", "q2_k", 256, 84},
    // 32 bytes of high bits, 64 of 2-bit codes, 12 of 6-bit scales, d.
    {Type::Q3_K, "Q3_K", "q3_k", 256, 110},
    // d, dmin, 12 bytes of 6-bit scales and mins, 128 bytes of nibbles.
    {Type::Q4_K, "Q4_K", "q4_k", 256, 144},
    // as Q4_K plus 32 bytes of fifth bits.
    {Type::Q5_K, "Q5_K", "q5_k", 256, 176},
    // 128 bytes of low nibbles, 64 of high 2 bits, 16 int8 scales, d.
    {Type::Q6_K, "Q6_K", "q6_k", 256, 210},
    // d f16, nibbles indexing a 16-value non-linear grid.
    {Type::IQ4_NL, "IQ4_NL", "iq4_nl", 32, 18},
    // d, 6-bit scales per 32, nibbles into the IQ4_NL grid.
    {Type::IQ4_XS, "IQ4_XS", "iq4_xs", 256, 136},
    // Ternary: 48 bytes of 5 trits, 4 bytes of 4 trits, d: w = d (t - 1).
    {Type::TQ1_0, "TQ1_0", "tq1_0", 256, 54},
    // Ternary: 64 bytes of 2-bit codes, d: w = d (q - 1).
    {Type::TQ2_0, "TQ2_0", "tq2_0", 256, 66},
};

/// The block format with ggml type number `type`, or null.
constexpr const BlockFormat *blockFormat(uint32_t type) {
  for (const BlockFormat &format : kBlockFormats)
    if (static_cast<uint32_t>(format.type) == type)
      return &format;
  return nullptr;
}
constexpr const BlockFormat *blockFormat(Type type) {
  return blockFormat(static_cast<uint32_t>(type));
}

/// The block format whose ggml name ("Q4_K") or fm name ("q4_k") is `name`.
constexpr const BlockFormat *blockFormatNamed(std::string_view name) {
  for (const BlockFormat &format : kBlockFormats)
    if (format.name == name || format.fmName == name)
      return &format;
  return nullptr;
}

} // namespace fmc::ggml

#endif // FMC_RUNTIME_GGMLBLOCKS_H
