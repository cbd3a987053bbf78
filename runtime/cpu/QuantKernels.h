//===- QuantKernels.h - CPU kernels for packed 2- and 4-bit weights -------===//
//
// Matrix-vector (decode) and matrix-matrix (prefill) products with weights
// in the packed `row_major` layout of lowering/quant/QuantMath.h, and the
// embedding gather of a packed table. Weights are decoded in registers: no
// dequantized copy of a weight tensor is ever made (the one exception: a
// prefill of short rows, under 256 features, decodes 32 rows at a time
// into a panel of the float GEMM).
//
// How a product is computed. Activations are quantized per token to int8
// in blocks of 128 features with one f32 scale d per block (prepare()), and
// reordered within a block to the order the packed bytes decode in (2 bits:
// position p*32 + j holds feature 4j + p, the p-th 2-bit field of byte j;
// 4 bits: each 64-feature half h holds feature 2j + p at 64h + 32p + j).
// A 32-byte load of codes then gives 4 (or 2) vectors of codes by shift and
// mask, each multiplied with 32 int8 activations by u8 x s8 dot products
// (AVX-512 VNNI vpdpbusd, or AVX2 vpmaddubsw + vpmaddwd); every 32-bit lane
// of the result covers 16 (4 bits: 8) consecutive features, so one group
// scale per lane applies with one multiply-add in f32. The grid's offset
// (balanced: w = s(q - o)) or minimum (affine: w = sq + m) needs only sums
// of activations:
//   sum_i w_i x_i = sum_g s_g (sum_{i in g} q_i x_i - o sum_{i in g} x_i)
//                 = sum_g (s_g sum_{i in g} q_i x_i + m_g sum_{i in g} x_i)
// The balanced kernels subtract o * sum x per 32-bit lane (laneOffsets,
// computed with the activations) before scaling, or, in AVX-512 VNNI's
// prefill panels (one row per lane), start each group's integer sum at
// -2o * sum q against doubled codes; the affine ones add m_g * sum x per
// group (groupSums) once per row. Features past the last
// full block of 128 are done in f32 from the unquantized activations.
//
// The reference of every kernel is dequantize-then-f32-matmul; the only
// approximation is the int8 rounding of activations (relative error about
// 1/254 of a block's largest activation), which referenceQuantLinear can
// apply too so tests compare to f32 rounding.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_CPU_QUANTKERNELS_H
#define FMC_RUNTIME_CPU_QUANTKERNELS_H

#include <cstdint>
#include <vector>

namespace fmc::cpu {

/// Tokens from which AVX-512 VNNI multiplies packed rows (of one block or
/// more, not short rows) as an int8 GEMM over panels laid out once per call
/// (QuantPanels.inc): its results then do not depend on how rows and tokens
/// are split, but differ by f32 rounding from those of fewer tokens, which
/// match one token's (decode's) exactly. On the 853M Llama (2 threads),
/// with the panels laid out by transposes, panels were 5-9% faster than
/// the token tiles at 8 tokens, 40-70% at 12 and 16, 2-13% slower at 6.
constexpr int64_t kQuantPanelMinTokens = 8;

/// Where feature e of a 128-feature block goes in decode order (the order
/// QuantActivations keeps a block's activations in).
inline int64_t decodePosition(int bits, int64_t e) {
  if (bits == 2)
    return (e % 4) * 32 + e / 4;
  int64_t half = e / 64, rest = e % 64;
  return half * 64 + (rest % 2) * 32 + rest / 2;
}

/// A packed weight matrix [n][k].
struct QuantWeights {
  int bits = 2;        ///< 2 or 4.
  bool affine = false; ///< Affine grid (a minimum per group) or balanced.
  bool bf16Scales = false;
  int64_t group = 64; ///< Elements per group (k for one group per row).
  int64_t n = 0, k = 0;
  int64_t groups = 0;    ///< Groups per row.
  uint64_t rowBytes = 0; ///< Bytes of codes per row.
  const uint8_t *codes = nullptr;
  const uint8_t *scales = nullptr; ///< [n][groups] f16 or bf16.
  const uint8_t *mins = nullptr;   ///< [n][groups] on the affine grid.

  /// Views `bytes` of the packed layout; group 0 means one per row.
  static QuantWeights view(const void *bytes, int bits, bool affine,
                           bool bf16Scales, int64_t groupSize, int64_t n,
                           int64_t k);
  float scale(int64_t row, int64_t g) const;
  float min(int64_t row, int64_t g) const;
  int code(int64_t row, int64_t i) const;
  /// The f32 value of element i of a row (the grid's formula).
  float value(int64_t row, int64_t i) const;
  /// sum_i value(row, i) * x[i] over the features i >= `from` (the tail
  /// past the last full block of 128), with the row's scales and minimums
  /// already in f32 (`sf`, `mf`: one per group): one scale per group rather
  /// than per feature, so a model whose widths are no multiple of 128 (all
  /// of stories260K's) does not decode feature by feature.
  float tailDot(int64_t row, const float *sf, const float *mf,
                const float *x, int64_t from) const;
};

/// Activations of up to maxTokens rows, prepared for one weight shape.
class QuantActivations {
public:
  QuantActivations() = default;
  QuantActivations(const QuantWeights &w, int64_t maxTokens) {
    reserve(w, maxTokens);
  }
  /// Grows the storage to hold maxTokens rows for `w` (kernels of one
  /// program run in turn, so they share one QuantActivations).
  void reserve(const QuantWeights &w, int64_t maxTokens);
  /// Quantizes rows [t0, t1) of x (rows xStride floats apart): bind, then
  /// prepareRows.
  void prepare(const QuantWeights &w, const float *x, int64_t xStride,
               int64_t t0, int64_t t1);
  /// Takes x's rows for `w` (sets x, xStride, blocks and groups).
  void bind(const QuantWeights &w, const float *x, int64_t xStride);
  /// Quantizes rows [t0, t1) of the bound x; calls on disjoint rows may run
  /// at once (prefill splits its tokens over the threads).
  void prepareRows(const QuantWeights &w, int64_t t0, int64_t t1);

  int64_t blocks = 0; ///< Full blocks of 128 features.
  int64_t groups = 0;
  std::vector<int8_t> q;        ///< [maxTokens][blocks*128], decode order.
  std::vector<float> d;         ///< [maxTokens][blocks] block scales.
  std::vector<float> groupSums; ///< [maxTokens][groups]: d * sum q per group.
  /// [maxTokens][blocks][4]: sum q over each group's part of a block (parts
  /// of min(group, 128) features, in order; 1 to 4 of them).
  std::vector<int32_t> spanSums;
  /// [maxTokens][blocks][16]: o * sum q over the features of each 32-bit
  /// lane of a dot product (2 bits: lanes 0-7; 4 bits: 8 per half), o the
  /// balanced grid's offset, so a balanced kernel subtracts it per lane.
  std::vector<float> laneOffsets;
  const float *x = nullptr; ///< The f32 rows, for the tail features.
  int64_t xStride = 0;
};

/// y[t][r] = sum_i w[r][i] x[t][i] for r in [n0, n1), t in [t0, t1).
using QuantLinearFn = void (*)(const QuantWeights &w, const QuantActivations &a,
                               float *y, int64_t yStride, int64_t n0,
                               int64_t n1, int64_t t0, int64_t t1);

/// Quantizes one block of 128 activations x to int8 (prepareRows' step):
/// q gets them in decode order (decodePosition), laneSums[l] the sum of the
/// int8 values of lane l's features (16 features a lane at 2 bits, lanes 0
/// to 7; 8 at 4 bits, lanes 0 to 15); returns the block's largest |x| (d is
/// that / 127). Every table's function gives the same bits.
using QuantizeBlockFn = float (*)(const float *x, int bits, int8_t *q,
                                  int32_t *laneSums);
/// The portable QuantizeBlockFn (the definition the others must match).
float quantizeBlockPortable(const float *x, int bits, int8_t *q,
                            int32_t *laneSums);

/// Rows [r0, r1) of w in f32 into out ([r1 - r0][w.k]): every value
/// QuantWeights::value's, to the bit.
using DequantizeRowsFn = void (*)(const QuantWeights &w, int64_t r0,
                                  int64_t r1, float *out);

/// Whether linear over `tokens` tokens reads what prepareRows computes (q,
/// d, lane offsets, group and span sums) or only x: when not, a caller may
/// bind the activations without preparing them, provided each of its
/// linear calls then covers at least kFloatPanelMinTokens tokens (the
/// decision is the same for every call of that size or more).
using ReadsQuantizedFn = bool (*)(const QuantWeights &w, int64_t tokens);

struct QuantKernelTable {
  const char *isa;
  QuantLinearFn linear;
  QuantizeBlockFn quantizeBlock;
  DequantizeRowsFn dequantizeRows;
  ReadsQuantizedFn readsQuantized;
};

const QuantKernelTable &quantAvx512VnniKernels();
const QuantKernelTable &quantAvx2Kernels();
const QuantKernelTable &quantGenericKernels();
/// The best table this CPU runs (checked at run time).
const QuantKernelTable &bestQuantKernels();

/// Row `id` of a packed table [vocab][width], times `scale`, into out.
void quantEmbeddingRow(const QuantWeights &table, int64_t id, float scale,
                       float *out);

/// Reference: dequantize, then f32 products. With `quantizeActivations` the
/// activations are first rounded exactly as the kernels round them.
void referenceQuantLinear(const QuantWeights &w, const float *x, int64_t rows,
                          float *y, bool quantizeActivations);

} // namespace fmc::cpu

#endif // FMC_RUNTIME_CPU_QUANTKERNELS_H
