//===- GgmlInstances.h - kernel instances over ggml block weights ---------===//
//
// The linear, logits and embedding families when their weight tensor is
// stored in ggml blocks (schema DType GgmlBlocks, copied from a GGUF file):
// bound by bindProgram in KernelInstances.cpp. Each output row is decoded
// to f32 once per run (GgmlDequant.h) and multiplied with every token's
// activations in f32, so the products are the file's weights exactly.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_CPU_GGMLINSTANCES_H
#define FMC_RUNTIME_CPU_GGMLINSTANCES_H

#include "runtime/GgmlBlocks.h"
#include "runtime/cpu/Program.h"

#include <memory>

namespace fmc::cpu {

/// A ggml block matrix [n][k]: n rows of k / format->elements blocks.
struct GgmlWeights {
  const ggml::BlockFormat *format = nullptr;
  int64_t n = 0, k = 0;
  uint64_t rowBytes = 0;
  const uint8_t *data = nullptr;
};

/// Whether tensor `index` of the artifact is stored in ggml blocks.
bool isGgmlTensor(const schema::Artifact &artifact, int32_t index);

/// A view of a (validated) ggml block tensor.
GgmlWeights ggmlWeights(const schema::Tensor &tensor, const void *data);

/// out = in W^T (+ bias); for the logits family, rows from ctx.logitsFrom
/// only, then times `scale`, soft-capped when softcap > 0.
std::unique_ptr<KernelInstance> makeGgmlLinear(const GgmlWeights &w,
                                               const float *in, float *out,
                                               const float *bias, bool logits,
                                               float scale, float softcap);

std::unique_ptr<KernelInstance> makeGgmlEmbedding(const GgmlWeights &table,
                                                  const int32_t *tokens,
                                                  float *out, float scale);

} // namespace fmc::cpu

#endif // FMC_RUNTIME_CPU_GGMLINSTANCES_H
