//===- QuantMath.h - low-bit weight quantization and its packed layout ----===//
//
// One definition of how fmc quantizes a weight matrix [rows][k] and lays the
// result out, used by the fm-quantize-weights pass (to detect
// quantization-aware-trained weights and measure the error it reports) and
// by the artifact writer (which writes the packed bytes). The CPU kernels
// that read the layout are runtime/cpu/QuantKernels*.
//
// Grids (dequantization, computed in f32 exactly as written here):
//   balanced: w = s * (q - o), o = (2^bits - 1) / 2; 2 bits:
//   {-1.5,-0.5,0.5,1.5}*s affine:   w = s * q + m
// with one scale s (and on the affine grid one minimum m) per group of
// `groupSize` consecutive elements of a row (0: the whole row is one group;
// the last group of a row may be shorter).
//
// Packed layout `row_major` (the only one; the CPU target's kernels read it):
//   [codes]  rows x rowCodeBytes(k): row r at r * rowCodeBytes. Element i of
//            a row sits in byte i*bits/8 at bit (i*bits)%8, least significant
//            first (2 bits: byte j holds elements 4j..4j+3 at shifts 0,2,4,6;
//            4 bits: low nibble 2j, high nibble 2j+1). A row starts on a byte.
//   [scales] rows x groups, f16 or bf16 little-endian, row-major.
//   [mins]   affine only: rows x groups, same type as the scales.
// Why this order: a 32-byte load of a 2-bit row is 128 elements, and the
// four shifts-and-masks of it give four vectors of codes whose lane j holds
// elements 4j+p (p = the shift's plane) - so the kernel permutes the
// activations once per call instead of shuffling weights per load, and each
// 32-bit lane of a u8 x s8 dot product covers 16 consecutive elements (8 for
// 4 bits), which lines up with groups of 32, 64 and 128. Rows are not padded:
// with k a multiple of 128 (every real model's hidden sizes), rows of 2-bit
// codes are multiples of 32 bytes anyway, and the bits per weight stay
// exactly bits + 16*(1 or 2)/group.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_LOWERING_QUANT_QUANTMATH_H
#define FMC_LOWERING_QUANT_QUANTMATH_H

#include <cstdint>
#include <string>

namespace fmc::quant {

enum class Grid : uint8_t { Balanced = 0, Affine = 1 };
enum class ScaleType : uint8_t { F16 = 0, BF16 = 1 };

struct Format {
  int bits = 2;
  Grid grid = Grid::Balanced;
  int64_t groupSize = 64; ///< 0: one group per row.
  ScaleType scaleType = ScaleType::F16;
};

/// The group size used for rows of `k` elements (groupSize or k).
int64_t effectiveGroupSize(const Format &format, int64_t k);
int64_t groupsPerRow(const Format &format, int64_t k);
uint64_t rowCodeBytes(const Format &format, int64_t k);
/// Total bytes of the packed layout; equals fm.param's getStorageBytes.
uint64_t packedBytes(const Format &format, int64_t rows, int64_t k);
/// Byte offsets of the scale and minimum arrays in the packed layout.
uint64_t scalesOffset(const Format &format, int64_t rows, int64_t k);
uint64_t minsOffset(const Format &format, int64_t rows, int64_t k);

/// What quantizing a tensor did.
struct Stats {
  int64_t groups = 0;
  int64_t groupsOnGrid = 0; ///< Groups represented exactly (bit for bit).
  double sumSquaredError = 0.0;
  double sumSquared = 0.0;
  bool lossless() const { return groups == groupsOnGrid; }
  void merge(const Stats &other) {
    groups += other.groups;
    groupsOnGrid += other.groupsOnGrid;
    sumSquaredError += other.sumSquaredError;
    sumSquared += other.sumSquared;
  }
  /// ||w - dequant(q(w))|| / ||w|| (0 for an all-zero tensor).
  double relativeError() const;
  /// sqrt(mean squared error).
  double rmsError(int64_t elements) const;
};

/// Quantizes w [rows][k]. Each group that already lies on the grid (every
/// element is s*(code) for a scale representable in the scale type) keeps
/// those codes and that scale exactly; every other group gets the scale
/// (and minimum) that minimizes its squared error, found by alternating
/// code assignment and least squares from several starting scales. Writes
/// the packed layout to `out` (packedBytes bytes) unless it is null.
/// Deterministic: the pass and the writer get the same bytes. Only rows
/// [firstRow, endRow) are done (endRow -1: to the last), w pointing at
/// row firstRow, so callers can split a tensor over threads; `out` is
/// always the whole tensor's layout.
Stats quantize(const Format &format, const float *w, int64_t rows, int64_t k,
               uint8_t *out, int64_t firstRow = 0, int64_t endRow = -1);

/// The f32 values a packed tensor stands for (test reference).
void dequantize(const Format &format, const uint8_t *packed, int64_t rows,
                int64_t k, float *out);

/// Round-to-nearest-even conversions of the scale types.
uint16_t floatToHalf(float value);
float halfToFloat(uint16_t bits);
uint16_t floatToBFloat(float value);
float bfloatToFloat(uint16_t bits);

/// "2:balanced:64:f16" style text of a format, and its parser (group
/// "row" or 0 for per-row). Returns an error message, empty on success.
std::string formatToString(const Format &format);
std::string parseFormat(const std::string &text, Format &format);

} // namespace fmc::quant

#endif // FMC_LOWERING_QUANT_QUANTMATH_H
