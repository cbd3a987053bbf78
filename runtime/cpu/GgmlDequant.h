//===- GgmlDequant.h - ggml block formats decoded to f32 ------------------===//
//
// The values a ggml block stands for, computed exactly as ggml's reference
// dequantization (ggml-quants.c, dequantize_row_<type>) computes them, in
// f32: the GGUF file's weights are these numbers. The CPU kernels over ggml
// tensors (GgmlInstances.h) decode a row at a time with these functions and
// accumulate products in f32, so their only difference from a float64
// forward pass over the decoded weights is f32 rounding.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_CPU_GGMLDEQUANT_H
#define FMC_RUNTIME_CPU_GGMLDEQUANT_H

#include "runtime/GgmlBlocks.h"

#include <cstdint>

namespace fmc::cpu {

/// Decodes `blocks` consecutive blocks of `format` at `src` into
/// blocks * format.elements floats at `dst`.
void dequantizeGgml(const ggml::BlockFormat &format, const uint8_t *src,
                    int64_t blocks, float *dst);

} // namespace fmc::cpu

#endif // FMC_RUNTIME_CPU_GGMLDEQUANT_H
