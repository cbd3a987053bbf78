//===- GgmlDot.cpp - activations for ggml block dot products; dispatch ----===//

#include "runtime/cpu/GgmlDot.h"

#include <algorithm>
#include <cmath>

namespace fmc::cpu {

void GgmlActivations::prepare(const float *x, int64_t width, int64_t t0,
                              int64_t t1, int64_t scaleBlock) {
  k = width;
  int64_t rows = t1 - t0;
  auto grow = [](auto &v, int64_t size) {
    if (static_cast<int64_t>(v.size()) < size)
      v.resize(static_cast<size_t>(size));
  };
  grow(codes, rows * k);
  grow(scales, rows * (k / kGgmlActBlock));
  grow(blockSums, rows * (k / kGgmlSumBlock));
  grow(codeSums, rows * (k / kGgmlSumBlock));
  grow(pairSums, rows * (k / kGgmlActBlock));
  const int64_t copies = scaleBlock / kGgmlActBlock;
  for (int64_t t = 0; t < rows; ++t) {
    const float *xt = x + (t0 + t) * k;
    int16_t *qt = codes.data() + t * k;
    float *dt = scales.data() + t * (k / kGgmlActBlock);
    float *st = blockSums.data() + t * (k / kGgmlSumBlock);
    for (int64_t b = 0; b < k / scaleBlock; ++b) {
      const float *xb = xt + b * scaleBlock;
      float amax = 0.0f;
      for (int64_t i = 0; i < scaleBlock; ++i)
        amax = std::max(amax, std::fabs(xb[i]));
      float d = amax / 32767.0f, inv = amax > 0.0f ? 32767.0f / amax : 0.0f;
      std::fill(dt + b * copies, dt + (b + 1) * copies, d);
      for (int64_t i = 0; i < scaleBlock; ++i) {
        // Rounds to nearest, ties to even, as std::nearbyint does in the
        // default rounding mode (|v| <= 32767 < 2^22: adding 1.5 * 2^23
        // leaves no fraction bits), in plain arithmetic the compiler
        // vectorizes: nearbyint is a library call on baseline x86-64, and
        // prefill quantizes every token's activations once per product.
        constexpr float kRound = 12582912.0f;
        float v = (xb[i] * inv + kRound) - kRound;
        qt[b * scaleBlock + i] =
            static_cast<int16_t>(std::clamp(v, -32767.0f, 32767.0f));
      }
    }
    int32_t *ct = codeSums.data() + t * (k / kGgmlSumBlock);
    for (int64_t b = 0; b < k / kGgmlSumBlock; ++b) {
      float s = 0.0f;
      int32_t c = 0;
      for (int64_t i = 0; i < kGgmlSumBlock; ++i) {
        s += xt[b * kGgmlSumBlock + i];
        c += qt[b * kGgmlSumBlock + i];
      }
      st[b] = s;
      ct[b] = c;
    }
    float *pt = pairSums.data() + t * (k / kGgmlActBlock);
    for (int64_t g = 0; g < k / kGgmlActBlock; ++g)
      pt[g] = st[2 * g] + st[2 * g + 1];
  }
}

void GgmlPanel::reserve(int64_t k, int64_t units) {
  // 16 elements of slack: room to move the start to a 64-byte boundary.
  auto grow = [](auto &store, int64_t size) {
    size_t want = static_cast<size_t>(size + 16);
    if (store.size() < want)
      store.resize(want);
    auto address = reinterpret_cast<uintptr_t>(store.data());
    return store.data() + ((64 - address % 64) % 64) / sizeof(store[0]);
  };
  pairBase = grow(pairStore, k / 2 * kGgmlTokenRows);
  scaleBase = grow(scaleStore, units * kGgmlTokenRows);
  minBase = grow(minStore, k / kGgmlActBlock * kGgmlTokenRows);
}

const GgmlDotTable &bestGgmlDot() {
  static const GgmlDotTable &best = []() -> const GgmlDotTable & {
    __builtin_cpu_init();
    bool avx2 = __builtin_cpu_supports("avx2") &&
                __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    if (avx2 && __builtin_cpu_supports("avx512vnni") &&
        __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512bw"))
      return ggmlDotAvx512Vnni();
    return avx2 ? ggmlDotAvx2() : ggmlDotGeneric();
  }();
  return best;
}

} // namespace fmc::cpu
