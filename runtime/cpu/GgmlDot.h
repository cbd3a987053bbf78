//===- GgmlDot.h - integer dot products of ggml blocks and activations ----===//
//
// What llama.cpp's CPU backend does for a quantized matrix-vector product,
// with more precise activations: each token's activations are quantized
// once per product (GgmlActivations::prepare), then every row is one
// integer dot product per block, its codes multiplied with the integer
// activations and the block's (sub-block's) scales applied once per group
// of 16 or 32 in f32.
//
// Activations. Per block of the weight format (32 features, or 256 for the
// K, IQ4_XS and ternary formats: the blocks llama.cpp's Q8_0 / Q8_K
// activations use) one f32 scale d = max|x| / 32767 and int16 codes
// q = round(x / d), so x = d q within d / 2: 2^-16 of the block's largest
// activation, where llama.cpp's 8-bit activations are within 2^-8 of the
// same blocks'. d is stored once per 32 features (8 equal copies for a
// block of 256), so a row may read it either way; a row that relies on one
// d per 256 (the AVX-512 rows, to add a whole block's groups in int32
// before one conversion) needs activations prepared with 256. Per 16
// features also the exact sum of the codes q, and the exact f32 sum of x: a
// format with minimums (w = a c - m: Q4_1, Q5_1, Q2_K, Q4_K, Q5_K) adds
// -m * sum x per group. Every other format's offset (Q4_0's 8, Q6_K's 32, a
// ternary's 1, ...) is subtracted from its codes before they multiply, so
// the rounding of x is weighted by values no larger than the format's.
//
// The result for a row: sum over groups g of a_g d_g sum_{i in g} c_i q_i
// (+ m_g sum_{i in g} x_i), with c_i the block's integer codes and a_g its
// f32 scale as ggml's dequantization forms it (d * scale). Integer sums are
// exact (int32); the difference from the f32 product over the decoded
// weights (GgmlDequant.h) is the activations' rounding, plus f32 rounding.
//
// Each format exists once per instruction set (GgmlDot.inc compiled for
// AVX-512 VNNI, AVX2 and baseline x86-64): AVX2 with vpmaddwd over int16
// activations, AVX-512 VNNI with vpdpwssd on 512-bit vectors.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_CPU_GGMLDOT_H
#define FMC_RUNTIME_CPU_GGMLDOT_H

#include "runtime/GgmlBlocks.h"

#include <cstdint>
#include <iterator>
#include <vector>

namespace fmc::cpu {

/// Features per stored activation scale (GgmlActivations::d), and per
/// exact sum.
constexpr int64_t kGgmlActBlock = 32;
constexpr int64_t kGgmlSumBlock = 16;

/// Activations of up to `tokens` rows of k features, quantized for products
/// with ggml blocks (k a multiple of 32, as every block format's size is).
class GgmlActivations {
public:
  /// Quantizes rows [t0, t1) of x (rows k floats apart) into rows
  /// [0, t1 - t0), growing the storage as needed, with one scale per
  /// `scaleBlock` features (32 or 256: the weight format's elements per
  /// block; k a multiple of it).
  void prepare(const float *x, int64_t k, int64_t t0, int64_t t1,
               int64_t scaleBlock);

  const int16_t *q(int64_t t) const { return codes.data() + t * k; }
  const float *d(int64_t t) const {
    return scales.data() + t * (k / kGgmlActBlock);
  }
  const float *sums(int64_t t) const {
    return blockSums.data() + t * (k / kGgmlSumBlock);
  }
  /// The exact sums of the codes q per 16 features: a row whose codes carry
  /// an offset o (TQ2_0's 1) may multiply them unshifted and subtract
  /// o * sum q once per block.
  const int32_t *qsums(int64_t t) const {
    return codeSums.data() + t * (k / kGgmlSumBlock);
  }
  /// The f32 sums of x per 32 features (each the sum of its two sums of
  /// 16, rounded once more): what a Q4_K group's minimum multiplies, read
  /// directly by the token tiles (GgmlTokenTileFn).
  const float *sums32(int64_t t) const {
    return pairSums.data() + t * (k / kGgmlActBlock);
  }

private:
  int64_t k = 0;
  std::vector<int16_t> codes;
  std::vector<float> scales;
  std::vector<float> blockSums;
  std::vector<int32_t> codeSums;
  std::vector<float> pairSums;
};

/// sum_i w[i] x[i] over one row of `blocks` blocks at `row` and one token's
/// prepared activations (q, d, sums, qsums from GgmlActivations).
using GgmlRowDotFn = float (*)(const uint8_t *row, int64_t blocks,
                               const int16_t *q, const float *d,
                               const float *sums, const int32_t *qsums);

constexpr int kGgmlFormats = static_cast<int>(std::size(ggml::kBlockFormats));

/// The index of `format` in ggml::kBlockFormats.
inline int ggmlFormatIndex(const ggml::BlockFormat &format) {
  return static_cast<int>(&format - ggml::kBlockFormats);
}

/// Rows per tile (GgmlTileDotFn).
constexpr int kGgmlTileRows = 4;

/// out[i] = the GgmlRowDotFn product of rows[i], for kGgmlTileRows rows of
/// the same width at once: each activation vector is loaded once for all of
/// them, and a row's fixed costs (accumulators, the final sum) overlap.
using GgmlTileDotFn = void (*)(const uint8_t *const *rows, int64_t blocks,
                               const int16_t *q, const float *d,
                               const float *sums, const int32_t *qsums,
                               float *out);

/// Rows per token tile (GgmlTokenTileFn): two vectors of 16 rows, one row
/// per int32 lane.
constexpr int kGgmlTokenRows = 32;
/// Tokens per register tile of a token tile.
constexpr int kGgmlTokenTile = 6;

/// Scratch of a GgmlTokenTileFn (one per thread): up to kGgmlTokenRows rows
/// decoded to int16 codes with their group scales multiplied in, stored
/// transposed: for each pair of features, the rows' two codes as one int32,
/// 32 rows side by side (one 64-byte line per 16 rows); per scale unit (a
/// block of 256, or Q8_0's 32) the rows' f32 scales side by side; per 32
/// features the rows' minimums (formats with minimums) side by side.
class GgmlPanel {
public:
  /// Room for kGgmlTokenRows rows of k features in `units` scale units.
  void reserve(int64_t k, int64_t units);
  int32_t *pairs() { return pairBase; }
  float *scales() { return scaleBase; }
  float *mins() { return minBase; }

private:
  std::vector<int32_t> pairStore;
  std::vector<float> scaleStore, minStore;
  // The stores' first 64-byte boundaries: every vector load is aligned.
  int32_t *pairBase = nullptr;
  float *scaleBase = nullptr, *minBase = nullptr;
};

/// Prefill: out[i + j * ldOut] = the GgmlRowDotFn product of row i (of
/// `rowCount`, at most kGgmlTokenRows, rowBytes apart from `rows`) and token
/// j of `a`, for j in [t0, t1). The rows are decoded once into `panel` for
/// all the tokens (a block's decode costs about as much as its products
/// with one token); then each feature pair of 16 rows is one vector that
/// vpdpwssd multiplies with one token's pair broadcast, for tiles of 32
/// rows x kGgmlTokenTile tokens: each scale applies to 16 rows at once, and
/// the results are stored 16 rows to a vector, with no horizontal sums. The
/// same integer sums as the rows'.
using GgmlTokenTileFn = void (*)(const uint8_t *rows, uint64_t rowBytes,
                                 int rowCount, int64_t blocks,
                                 const GgmlActivations &a, int64_t t0,
                                 int64_t t1, float *out, int64_t ldOut,
                                 GgmlPanel &panel);

/// The row dot products of one instruction set, by format index, the tiles
/// where the set has them (null: rows one by one), and the token tiles of
/// prefill (null: the f32 way by default, GgmlInstances.h).
struct GgmlDotTable {
  const char *isa;
  GgmlRowDotFn dot[kGgmlFormats];
  GgmlTileDotFn tile[kGgmlFormats];
  GgmlTokenTileFn tokens[kGgmlFormats];
};

const GgmlDotTable &ggmlDotAvx512Vnni();
const GgmlDotTable &ggmlDotAvx2();
const GgmlDotTable &ggmlDotGeneric();
/// The best table this CPU runs (checked at run time).
const GgmlDotTable &bestGgmlDot();

} // namespace fmc::cpu

#endif // FMC_RUNTIME_CPU_GGMLDOT_H
