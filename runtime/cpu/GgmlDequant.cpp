//===- GgmlDequant.cpp - the best ggml block decoders this CPU runs -------===//

#include "runtime/cpu/GgmlDequant.h"

namespace fmc::cpu {

namespace ggml_avx2 {
void dequantize(const ggml::BlockFormat &format, const uint8_t *src,
                int64_t blocks, float *dst);
} // namespace ggml_avx2
namespace ggml_generic {
void dequantize(const ggml::BlockFormat &format, const uint8_t *src,
                int64_t blocks, float *dst);
} // namespace ggml_generic

void dequantizeGgml(const ggml::BlockFormat &format, const uint8_t *src,
                    int64_t blocks, float *dst) {
  static const auto best =
      __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
              __builtin_cpu_supports("f16c")
          ? ggml_avx2::dequantize
          : ggml_generic::dequantize;
  best(format, src, blocks, dst);
}

} // namespace fmc::cpu
