//===- Kernels.cpp - row kernels, reference kernels, ISA dispatch ---------===//

#include "runtime/cpu/Kernels.h"

#include "runtime/cpu/Float16.h"

#include <algorithm>
#include <cmath>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace fmc::cpu {

float loadElement(const void *data, ElementType type, int64_t i) {
  switch (type) {
  case ElementType::F32:
    return static_cast<const float *>(data)[i];
  case ElementType::F16:
    return f16ToFloat(static_cast<const uint16_t *>(data)[i]);
  case ElementType::BF16:
    return bf16ToFloat(static_cast<const uint16_t *>(data)[i]);
  }
  return 0.0f;
}

void storeElement(void *data, ElementType type, int64_t i, float value) {
  switch (type) {
  case ElementType::F32:
    static_cast<float *>(data)[i] = value;
    return;
  case ElementType::F16:
    static_cast<uint16_t *>(data)[i] = floatToF16(value);
    return;
  case ElementType::BF16:
    static_cast<uint16_t *>(data)[i] = floatToBf16(value);
    return;
  }
}

/// F16C from CPUID leaf 1 (clang before 15 has no "f16c" for
/// __builtin_cpu_supports).
static bool hasF16c() {
#if defined(__x86_64__)
  unsigned a, b, c, d;
  return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_F16C);
#else
  return false;
#endif
}

const SimdKernels &bestKernels() {
  static const SimdKernels &best = [&]() -> const SimdKernels & {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") &&
        __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512dq"))
      return avx512Kernels();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
        hasF16c())
      return avx2Kernels();
    return genericKernels();
  }();
  return best;
}

float activate(Activation kind, float x) {
  switch (kind) {
  case Activation::Silu:
    return x / (1.0f + std::exp(-x));
  case Activation::Gelu:
    return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752f));
  case Activation::GeluTanh:
    return 0.5f * x *
           (1.0f +
            std::tanh(0.79788456080286536f * (x + 0.044715f * x * x * x)));
  case Activation::Sigmoid:
    return 1.0f / (1.0f + std::exp(-x));
  case Activation::Relu:
    return x > 0.0f ? x : 0.0f;
  }
  return x;
}

void rmsNorm(const float *x, float *y, int64_t width, int64_t group,
             const void *w, ElementType wType, float eps, float offset) {
  for (int64_t g0 = 0; g0 < width; g0 += group) {
    float ss = 0.0f;
    for (int64_t i = 0; i < group; ++i)
      ss += x[g0 + i] * x[g0 + i];
    float inv = 1.0f / std::sqrt(ss / static_cast<float>(group) + eps);
    if (!w) {
      for (int64_t i = 0; i < group; ++i)
        y[g0 + i] = x[g0 + i] * inv;
    } else if (wType == ElementType::F32) {
      const float *wf = static_cast<const float *>(w);
      for (int64_t i = 0; i < group; ++i)
        y[g0 + i] = x[g0 + i] * inv * (wf[i] + offset);
    } else {
      for (int64_t i = 0; i < group; ++i)
        y[g0 + i] = x[g0 + i] * inv * (loadElement(w, wType, i) + offset);
    }
  }
}

void layerNorm(const float *x, float *y, int64_t width, const void *w,
               const void *b, ElementType wType, ElementType bType, float eps) {
  float mean = 0.0f;
  for (int64_t i = 0; i < width; ++i)
    mean += x[i];
  mean /= static_cast<float>(width);
  float var = 0.0f;
  for (int64_t i = 0; i < width; ++i)
    var += (x[i] - mean) * (x[i] - mean);
  float inv = 1.0f / std::sqrt(var / static_cast<float>(width) + eps);
  for (int64_t i = 0; i < width; ++i) {
    float v = (x[i] - mean) * inv;
    if (w)
      v *= loadElement(w, wType, i);
    if (b)
      v += loadElement(b, bType, i);
    y[i] = v;
  }
}

void rope(const float *x, float *y, int64_t width, int64_t headDim,
          int64_t rotary, bool interleaved, const double *invFreq,
          float attentionFactor, int64_t position) {
  int64_t half = rotary / 2;
  // cos/sin of each frequency, shared by every head of the row.
  constexpr int64_t kStack = 256;
  float cosBuf[kStack], sinBuf[kStack];
  for (int64_t i0 = 0; i0 < half; i0 += kStack) {
    int64_t i1 = std::min(half, i0 + kStack);
    for (int64_t i = i0; i < i1; ++i) {
      double angle = static_cast<double>(position) * invFreq[i];
      cosBuf[i - i0] = static_cast<float>(std::cos(angle)) * attentionFactor;
      sinBuf[i - i0] = static_cast<float>(std::sin(angle)) * attentionFactor;
    }
    for (int64_t h = 0; h < width; h += headDim) {
      const float *xh = x + h;
      float *yh = y + h;
      for (int64_t i = i0; i < i1; ++i) {
        int64_t a = interleaved ? 2 * i : i;
        int64_t b = interleaved ? 2 * i + 1 : i + half;
        float c = cosBuf[i - i0], s = sinBuf[i - i0];
        float xa = xh[a], xb = xh[b];
        yh[a] = xa * c - xb * s;
        yh[b] = xa * s + xb * c;
      }
    }
  }
  if (rotary < headDim)
    for (int64_t h = 0; h < width; h += headDim)
      for (int64_t i = rotary; i < headDim; ++i)
        y[h + i] = x[h + i];
}

void referenceLinear(const float *x, int64_t rows, int64_t k, const void *w,
                     ElementType wType, int64_t n, const float *bias,
                     float *y) {
  for (int64_t t = 0; t < rows; ++t)
    for (int64_t o = 0; o < n; ++o) {
      double sum = bias ? bias[o] : 0.0;
      for (int64_t i = 0; i < k; ++i)
        sum += static_cast<double>(x[t * k + i]) *
               loadElement(w, wType, o * k + i);
      y[t * n + o] = static_cast<float>(sum);
    }
}

} // namespace fmc::cpu
