//===- Int8Cache.cpp - int8 KV-cache quantization and attention loops -----===//
//
// Plain loops over positions (the cache is feature-major, so consecutive
// positions are consecutive bytes) that the compiler vectorizes, once per
// instruction set (target_clones: the loader picks the best this CPU runs).
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/Int8Cache.h"

#include <algorithm>
#include <cmath>
#include <limits>

#if defined(__x86_64__) && defined(__GNUC__)
#define FMC_PER_ISA                                                            \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define FMC_PER_ISA
#endif

namespace fmc::cpu {

namespace {

float scaleOf(const float *x, int64_t n) {
  float max = 0.0f;
  for (int64_t i = 0; i < n; ++i)
    max = std::max(max, std::fabs(x[i]));
  return max / 127.0f;
}

int8_t quantize(float x, float scale) {
  if (scale == 0.0f)
    return 0;
  float q = std::floor(std::fabs(x) / scale + 0.5f);
  // Saturate; a NaN (from non-finite activations) stores 0 rather than an
  // undefined conversion.
  if (!(q < 127.0f))
    q = std::isnan(q) ? 0.0f : 127.0f;
  return static_cast<int8_t>(x < 0.0f ? -q : q);
}

} // namespace

float quantizeInt8(const float *x, int64_t n, int8_t *q, int64_t stride) {
  float scale = scaleOf(x, n);
  for (int64_t i = 0; i < n; ++i)
    q[i * stride] = quantize(x[i], scale);
  return scale;
}

void roundTripInt8(float *x, int64_t n) {
  float scale = scaleOf(x, n);
  for (int64_t i = 0; i < n; ++i)
    x[i] = static_cast<float>(quantize(x[i], scale)) * scale;
}

FMC_PER_ISA float scoresInt8(const float *q, const int8_t *keys,
                             const float *keyScales, int64_t stride,
                             int64_t rows, int64_t headDim, float scale,
                             float *scores) {
  std::fill(scores, scores + rows, 0.0f);
  for (int64_t d = 0; d < headDim; ++d) {
    const int8_t *row = keys + d * stride;
    float qd = q[d];
    for (int64_t j = 0; j < rows; ++j)
      scores[j] += qd * static_cast<float>(row[j]);
  }
  float max = -std::numeric_limits<float>::infinity();
  for (int64_t j = 0; j < rows; ++j) {
    scores[j] *= scale * keyScales[j];
    max = std::max(max, scores[j]);
  }
  return max;
}

FMC_PER_ISA void mixInt8(float *p, const int8_t *values,
                         const float *valueScales, int64_t stride, int64_t rows,
                         int64_t headDim, float *out) {
  for (int64_t j = 0; j < rows; ++j)
    p[j] *= valueScales[j];
  constexpr int kLanes = 8;
  for (int64_t d = 0; d < headDim; ++d) {
    const int8_t *row = values + d * stride;
    // Independent partial sums let the compiler vectorize the reduction.
    float partial[kLanes] = {};
    int64_t j = 0;
    for (; j + kLanes <= rows; j += kLanes)
      for (int l = 0; l < kLanes; ++l)
        partial[l] += p[j + l] * static_cast<float>(row[j + l]);
    float sum = 0.0f;
    for (; j < rows; ++j)
      sum += p[j] * static_cast<float>(row[j]);
    for (int l = 0; l < kLanes; ++l)
      sum += partial[l];
    out[d] += sum;
  }
}

} // namespace fmc::cpu
