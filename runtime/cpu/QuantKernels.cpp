//===- QuantKernels.cpp - packed weights: views, activations, references --===//

#include "runtime/cpu/QuantKernels.h"

#include "runtime/cpu/Float16.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace fmc::cpu {

namespace {

inline float loadScale(const uint8_t *p, int64_t index, bool bf16) {
  uint16_t bits;
  std::memcpy(&bits, p + 2 * index, 2);
  return bf16 ? bf16ToFloat(bits) : f16ToFloat(bits);
}

} // namespace

QuantWeights QuantWeights::view(const void *bytes, int bits, bool affine,
                                bool bf16Scales, int64_t groupSize, int64_t n,
                                int64_t k) {
  QuantWeights w;
  w.bits = bits;
  w.affine = affine;
  w.bf16Scales = bf16Scales;
  w.n = n;
  w.k = k;
  int64_t g = groupSize == 0 ? k : groupSize;
  w.groups = (k + g - 1) / g;
  w.group = g;
  w.rowBytes = (static_cast<uint64_t>(k) * bits + 7) / 8;
  w.codes = static_cast<const uint8_t *>(bytes);
  w.scales = w.codes + n * w.rowBytes;
  w.mins = affine ? w.scales + 2 * n * w.groups : nullptr;
  return w;
}

float QuantWeights::scale(int64_t row, int64_t g) const {
  return loadScale(scales, row * groups + g, bf16Scales);
}
float QuantWeights::min(int64_t row, int64_t g) const {
  return affine ? loadScale(mins, row * groups + g, bf16Scales) : 0.0f;
}
int QuantWeights::code(int64_t row, int64_t i) const {
  uint64_t bit = static_cast<uint64_t>(i) * bits;
  return (codes[row * rowBytes + bit / 8] >> (bit % 8)) & ((1 << bits) - 1);
}
float QuantWeights::value(int64_t row, int64_t i) const {
  int64_t g = i / group;
  int q = code(row, i);
  float s = scale(row, g);
  if (affine)
    return s * static_cast<float>(q) + min(row, g);
  return s * (static_cast<float>(q) - ((1 << bits) - 1) / 2.0f);
}

float QuantWeights::tailDot(int64_t row, const float *sf, const float *mf,
                            const float *x, int64_t from) const {
  const uint8_t *rowCodes = codes + row * rowBytes;
  const int mask = (1 << bits) - 1;
  const float offset = affine ? 0.0f : mask / 2.0f;
  float total = 0.0f;
  for (int64_t g0 = from; g0 < k;) {
    int64_t g = g0 / group, end = std::min(k, (g + 1) * group);
    // sum q x and sum x over the group's tail part: the grid's formula
    // applied once per group.
    float sq = 0.0f, sx = 0.0f;
    for (int64_t i = g0; i < end; ++i) {
      uint64_t bit = static_cast<uint64_t>(i) * bits;
      int q = (rowCodes[bit / 8] >> (bit % 8)) & mask;
      sq += static_cast<float>(q) * x[i];
      sx += x[i];
    }
    total += affine ? sf[g] * sq + mf[g] * sx : sf[g] * (sq - offset * sx);
    g0 = end;
  }
  return total;
}

void QuantActivations::reserve(const QuantWeights &w, int64_t maxTokens) {
  int64_t wBlocks = w.k / 128;
  auto grow = [](auto &v, int64_t size) {
    if (static_cast<int64_t>(v.size()) < size)
      v.resize(static_cast<size_t>(size));
  };
  grow(q, maxTokens * wBlocks * 128);
  grow(d, maxTokens * wBlocks);
  grow(groupSums, maxTokens * w.groups);
  grow(spanSums, maxTokens * wBlocks * 4);
  grow(laneOffsets, maxTokens * wBlocks * 16);
}

void QuantActivations::prepare(const QuantWeights &w, const float *xIn,
                               int64_t stride, int64_t t0, int64_t t1) {
  bind(w, xIn, stride);
  prepareRows(w, t0, t1);
}

void QuantActivations::bind(const QuantWeights &w, const float *xIn,
                            int64_t stride) {
  x = xIn;
  xStride = stride;
  blocks = w.k / 128;
  groups = w.groups;
}

float quantizeBlockPortable(const float *xb, int bits, int8_t *qb,
                            int32_t *laneSums) {
  // |x| as bits: non-negative floats order like their bit patterns, and
  // an integer maximum vectorizes where a float one (NaN rules) does not.
  // Signed, as the sign bit is cleared (baseline x86-64 has no unsigned
  // 32-bit maximum), and in 8 running maxima rather than one: one is a
  // chain of compare-and-select through all 128 features.
  int32_t laneMax[8] = {};
  for (int e = 0; e < 128; e += 8)
    for (int l = 0; l < 8; ++l) {
      int32_t word;
      std::memcpy(&word, xb + e + l, 4);
      laneMax[l] = std::max(laneMax[l], word & 0x7fffffff);
    }
  int32_t amaxBits = 0;
  for (int l = 0; l < 8; ++l)
    amaxBits = std::max(amaxBits, laneMax[l]);
  const float amax = __builtin_bit_cast(float, amaxBits);
  const float inv = amax > 0.0f ? 127.0f / amax : 0.0f;
  int32_t values[128];
  // Round to nearest even by adding and removing 1.5 * 2^23 (|x * inv|
  // <= 127): what nearbyint does, without a library call per element.
  for (int e = 0; e < 128; ++e) {
    float shifted = xb[e] * inv + 12582912.0f;
    values[e] = static_cast<int32_t>(shifted - 12582912.0f);
  }
  // Into decode order (decodePosition), as loops the compiler vectorizes.
  if (bits == 2) {
    for (int p = 0; p < 4; ++p)
      for (int j = 0; j < 32; ++j)
        qb[p * 32 + j] = static_cast<int8_t>(values[4 * j + p]);
  } else {
    for (int h = 0; h < 2; ++h)
      for (int p = 0; p < 2; ++p)
        for (int j = 0; j < 32; ++j)
          qb[h * 64 + p * 32 + j] =
              static_cast<int8_t>(values[h * 64 + 2 * j + p]);
  }
  const int laneFeatures = bits == 2 ? 16 : 8;
  for (int l = 0; l < 128 / laneFeatures; ++l) {
    int32_t sum = 0;
    for (int e = l * laneFeatures; e < (l + 1) * laneFeatures; ++e)
      sum += values[e];
    laneSums[l] = sum;
  }
  return amax;
}

void QuantActivations::prepareRows(const QuantWeights &w, int64_t t0,
                                   int64_t t1) {
  const QuantizeBlockFn quantize = bestQuantKernels().quantizeBlock;
  const float offset = ((1 << w.bits) - 1) / 2.0f;
  const int laneFeatures = w.bits == 2 ? 16 : 8;
  // Groups of 32, 64 or 128 tile a block; a group of a whole row (or of
  // 128) holds all of it. Groups are no other size (ArtifactValidation),
  // so a group's span is whole lanes and its sum the sum of theirs.
  // Spans of a block (each within one group) and lanes per span, as
  // shifts: the divisions they replace were half of this function's time
  // in stories260K's prefill.
  const int64_t span = std::min<int64_t>(w.group, 128);
  const int spanShift = __builtin_ctzll(span);
  const int laneShift = __builtin_ctz(laneFeatures);
  const int64_t spanLanes = span >> laneShift;
  for (int64_t t = t0; t < t1; ++t) {
    const float *row = x + t * xStride;
    float *sums = groupSums.data() + t * groups;
    std::fill(sums, sums + groups, 0.0f);
    for (int64_t b = 0; b < blocks; ++b) {
      int32_t laneSums[16];
      const float amax = quantize(row + b * 128, w.bits,
                                  q.data() + (t * blocks + b) * 128, laneSums);
      const float scale = amax / 127.0f;
      d[t * blocks + b] = scale;
      float *lanes = laneOffsets.data() + (t * blocks + b) * 16;
      for (int l = 0; l < (128 >> laneShift); ++l)
        lanes[l] = offset * static_cast<float>(laneSums[l]);
      // Spans are groups, or (a group over 128) the block, in group
      // b * 128 / group.
      float *blockSums =
          sums + (span == w.group ? (b * 128) >> spanShift : b * 128 / w.group);
      int32_t *spans = spanSums.data() + (t * blocks + b) * 4;
      for (int64_t e = 0; e < (128 >> spanShift); ++e) {
        int32_t sum = 0;
        for (int64_t l = e * spanLanes; l < (e + 1) * spanLanes; ++l)
          sum += laneSums[l];
        spans[e] = sum;
        blockSums[span == w.group ? e : 0] += scale * static_cast<float>(sum);
      }
    }
  }
}

void quantEmbeddingRow(const QuantWeights &table, int64_t id, float scale,
                       float *out) {
  bestQuantKernels().dequantizeRows(table, id, id + 1, out);
  if (scale != 1.0f)
    for (int64_t i = 0; i < table.k; ++i)
      out[i] *= scale;
}

void referenceQuantLinear(const QuantWeights &w, const float *x, int64_t rows,
                          float *y, bool quantizeActivations) {
  std::vector<float> xr(x, x + rows * w.k);
  if (quantizeActivations) {
    QuantActivations a(w, rows);
    a.prepare(w, x, w.k, 0, rows);
    for (int64_t t = 0; t < rows; ++t)
      for (int64_t b = 0; b < a.blocks; ++b)
        for (int64_t e = 0; e < 128; ++e)
          xr[t * w.k + b * 128 + e] =
              a.d[t * a.blocks + b] *
              a.q[(t * a.blocks + b) * 128 + decodePosition(w.bits, e)];
  }
  std::vector<float> row(w.k);
  for (int64_t r = 0; r < w.n; ++r) {
    for (int64_t i = 0; i < w.k; ++i)
      row[i] = w.value(r, i);
    for (int64_t t = 0; t < rows; ++t) {
      double sum = 0.0;
      for (int64_t i = 0; i < w.k; ++i)
        sum += static_cast<double>(row[i]) * xr[t * w.k + i];
      y[t * w.n + r] = static_cast<float>(sum);
    }
  }
}

const QuantKernelTable &bestQuantKernels() {
  static const QuantKernelTable &best = []() -> const QuantKernelTable & {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512vnni") &&
        __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("fma"))
      return quantAvx512VnniKernels();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
      return quantAvx2Kernels();
    return quantGenericKernels();
  }();
  return best;
}

} // namespace fmc::cpu
