//===- GgmlInstances.h - kernel instances over ggml block weights ---------===//
//
// The linear, logits and embedding families when their weight tensor is
// stored in ggml blocks (schema DType GgmlBlocks, copied from a GGUF file):
// bound by bindProgram in KernelInstances.cpp. Products go one of two ways:
//   f32      each output row is decoded to f32 once per run (GgmlDequant.h)
//            and multiplied with every token's activations in f32, so the
//            products are the file's weights exactly, up to f32 rounding;
//            one decode serves every token of a prefill.
//   integer  the activations are quantized to int16 once per run and every
//            row is an integer dot product per block (GgmlDot.h): several
//            times faster for one token, within 2^-16 of each activation
//            block's largest value. From 2 tokens on, formats with token
//            tiles (GgmlTokenTileFn: Q8_0, Q4_K, Q6_K, TQ2_0 on AVX-512
//            VNNI) decode each row once per pass over as many tokens as
//            L2 holds and multiply it with tiles of tokens: 2-3 times
//            faster than the f32 way in prefill.
// By default runs of fewer than kGgmlIntegerTokens tokens (decode) take the
// integer way, and so do longer ones (prefill) of formats with token tiles;
// the others' prefill takes the f32 way. The environment variable
// FMC_GGML_PRODUCT=integer|f32 forces one for every run.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_CPU_GGMLINSTANCES_H
#define FMC_RUNTIME_CPU_GGMLINSTANCES_H

#include "runtime/GgmlBlocks.h"
#include "runtime/cpu/GgmlDot.h"
#include "runtime/cpu/Program.h"

#include "absl/status/statusor.h"

#include <memory>

namespace fmc::cpu {

/// A ggml block matrix [n][k]: n rows of k / format->elements blocks.
struct GgmlWeights {
  const ggml::BlockFormat *format = nullptr;
  int64_t n = 0, k = 0;
  uint64_t rowBytes = 0;
  const uint8_t *data = nullptr;
};

/// Runs of fewer tokens than this take integer products by default.
constexpr int64_t kGgmlIntegerTokens = 4;

/// How products over ggml blocks multiply.
enum class GgmlProduct : uint8_t {
  Auto,    ///< Integer below kGgmlIntegerTokens tokens or with token
           ///< tiles (GgmlDot.h), f32 otherwise.
  Integer, ///< Integer dot products (GgmlDot.h) for every run.
  F32,     ///< Dequantized rows times f32 activations for every run.
};

/// The product FMC_GGML_PRODUCT asks for (Auto when unset); an error naming
/// the variable and its value when it is neither "integer" nor "f32".
absl::StatusOr<GgmlProduct> ggmlProductFromEnvironment();

/// Whether tensor `index` of the artifact is stored in ggml blocks.
bool isGgmlTensor(const schema::Artifact &artifact, int32_t index);

/// A view of a (validated) ggml block tensor.
GgmlWeights ggmlWeights(const schema::Tensor &tensor, const void *data);

/// out = in W^T (+ bias); for the logits family, rows from ctx.logitsFrom
/// only, then times `scale`, soft-capped when softcap > 0. `scratch` holds
/// the quantized activations of integer products, shared by the kernels of
/// one program (they run in turn).
std::unique_ptr<KernelInstance>
makeGgmlLinear(const GgmlWeights &w, const float *in, float *out,
               const float *bias, bool logits, float scale, float softcap,
               GgmlProduct product, std::shared_ptr<GgmlActivations> scratch);

std::unique_ptr<KernelInstance> makeGgmlEmbedding(const GgmlWeights &table,
                                                  const int32_t *tokens,
                                                  float *out, float scale);

} // namespace fmc::cpu

#endif // FMC_RUNTIME_CPU_GGMLINSTANCES_H
