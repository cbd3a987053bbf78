//===- QuantInstances.h - kernel instances over packed weights ------------===//
//
// The linear, logits and embedding families when their weight tensor is
// packed (schema DType Packed with a QuantEncoding): bound by bindProgram
// in KernelInstances.cpp, run with the kernels of QuantKernels.h.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_CPU_QUANTINSTANCES_H
#define FMC_RUNTIME_CPU_QUANTINSTANCES_H

#include "runtime/cpu/Program.h"
#include "runtime/cpu/QuantKernels.h"

#include <memory>

namespace fmc::cpu {

/// Whether tensor `index` of the artifact is packed.
bool isPackedTensor(const schema::Artifact &artifact, int32_t index);

/// A view of a packed (validated) tensor.
QuantWeights packedWeights(const schema::Tensor &tensor, const void *data);

/// out = in W^T (+ bias); for the logits family, rows from ctx.logitsFrom
/// only, then times `scale`, soft-capped when softcap > 0. `scratch` holds
/// the quantized activations, shared by the kernels of one program.
std::unique_ptr<KernelInstance>
makeQuantLinear(const QuantWeights &w, const float *in, float *out,
                const float *bias, int64_t maxTokens, bool logits, float scale,
                float softcap, std::shared_ptr<QuantActivations> scratch);

std::unique_ptr<KernelInstance> makeQuantEmbedding(const QuantWeights &table,
                                                   const int32_t *tokens,
                                                   float *out, float scale);

} // namespace fmc::cpu

#endif // FMC_RUNTIME_CPU_QUANTINSTANCES_H
