//===- Int8Cache.h - int8 KV-cache quantization and attention loops -------===//
//
// An int8 cache stores each position's key (and value) of one KV head as
// head_dim int8 elements and one f32 scale: symmetric, scale = max|x| / 127,
// elements round(x / scale) half away from zero (as test/reference/
// hf_forward.py --kv-int8). Attention reads the int8 elements directly and
// applies the scale per position: no dequantized copy of the cache exists.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_CPU_INT8CACHE_H
#define FMC_RUNTIME_CPU_INT8CACHE_H

#include <cstdint>

namespace fmc::cpu {

/// Quantizes x[0, n) into q[i * stride]; returns the scale.
float quantizeInt8(const float *x, int64_t n, int8_t *q, int64_t stride);

/// x[i] = the value the cache will give back for x[i] (quantize, dequantize).
void roundTripInt8(float *x, int64_t n);

/// scores[j] = scale * keyScales[j] * sum_d q[d] * keys[d * stride + j],
/// j < rows; returns the largest score.
float scoresInt8(const float *q, const int8_t *keys, const float *keyScales,
                 int64_t stride, int64_t rows, int64_t headDim, float scale,
                 float *scores);

/// out[d] += sum_j p[j] * valueScales[j] * values[d * stride + j], j < rows.
/// Scales p in place (p[j] *= valueScales[j]).
void mixInt8(float *p, const int8_t *values, const float *valueScales,
             int64_t stride, int64_t rows, int64_t headDim, float *out);

} // namespace fmc::cpu

#endif // FMC_RUNTIME_CPU_INT8CACHE_H
