//===- Common.h - config facts most decoder architectures share -----------===//
//
// Helpers the architecture files (one per family, archs/*.cpp) build their
// ModelSpec with: the usual dimensions, RoPE settings, per-layer attention
// kinds, and the Llama-style tensor names of an attention block, an MLP and
// a pre-norm layer.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_IMPORT_BUILDER_ARCHS_COMMON_H
#define FMC_IMPORT_BUILDER_ARCHS_COMMON_H

#include "import/builder/Config.h"
#include "import/builder/ModelSpec.h"
#include "import/builder/TensorTable.h"

#include <string>
#include <vector>

namespace fmc::import {

/// What an architecture file reads from: the config, and the tensor table
/// for the few facts only the file states (whether experts are stacked).
struct ArchContext {
  Config &config;
  const TensorTable &tensors;
  /// For problems with a tensor rather than a config field.
  FirstError &errors;
};

/// Fills `spec` from the context, or reports through the config.
using DescribeArchitecture = void (*)(ArchContext &, ModelSpec &);

/// The sizes every decoder config states.
struct DecoderDims {
  Dim hidden, vocab, layers, heads, kvHeads, headDim;
  int64_t contextLength = 0;
};

/// hidden_size, vocab_size, num_hidden_layers (unless `layersKey` is empty),
/// num_attention_heads, num_key_value_heads (default: the heads), head_dim
/// (default: hidden_size / num_attention_heads), max_position_embeddings.
DecoderDims readDecoderDims(Config &config,
                            llvm::StringRef layersKey = "num_hidden_layers");

/// The RoPE pair layout: "fmc_rope_layout" when a reader set it, else the
/// architecture's own.
mlir::fm::RopeLayout ropeLayout(Config &config,
                                mlir::fm::RopeLayout architectureDefault);
/// rope_theta (or rope_parameters.rope_theta), defaulting to `fallback`.
double ropeTheta(Config &config, double fallback);
/// A RopeSpec from the usual keys, with its frequency scaling
/// (RopeScaling.h: rope_scaling / rope_parameters, GGUF rope_freqs).
RopeSpec readRope(Config &config, mlir::fm::RopeLayout architectureDefault,
                  double defaultTheta);

/// hidden_act / hidden_activation as an fm activation.
mlir::fm::Activation readActivation(Config &config, llvm::StringRef key,
                                    llvm::StringRef fallback);

/// Per-layer attention kinds from "layer_types" ("full_attention",
/// "sliding_attention", "chunked_attention") when the config has it, else
/// `pattern(i)`.
std::vector<mlir::fm::AttentionKind>
readLayerKinds(Config &config, int64_t layers,
               llvm::function_ref<mlir::fm::AttentionKind(int64_t)> pattern);

/// "model.layers.3".
std::string layerPrefix(int64_t index, llvm::StringRef root = "model.layers");

NormSpec rmsNorm(std::string weight, Dim size, double eps,
                 double weightOffset = 0.0);

/// The Llama attention block under `prefix` ("model.layers.3.self_attn"):
/// q/k/v/o_proj with optional biases.
AttentionSpec llamaAttention(const std::string &prefix, const DecoderDims &dims,
                             bool qkvBias, bool oBias);

/// gate_proj / up_proj / down_proj under `prefix` ("model.layers.3.mlp").
GluSpec llamaMlp(const std::string &prefix, Dim intermediate);

/// Expert-by-expert FFNs `<prefix>.<e>.{gate,up,down}_proj.weight`.
std::vector<GluSpec> expertMlps(const std::string &prefix, int64_t experts,
                                Dim intermediate);

/// A pre-norm Llama layer under model.layers.<index>: input_layernorm, the
/// attention block (global, no RoPE yet, owning the cache "layer<index>"),
/// post_attention_layernorm before the FFN. The caller sets RoPE, the
/// attention kind and the FFN.
LayerSpec llamaLayer(int64_t index, const DecoderDims &dims, double eps,
                     bool qkvBias, bool oBias);

/// Sets a layer's attention kind; local and chunked ones get `window` and
/// report a missing window through `windowKey`.
void setAttentionKind(Config &config, AttentionSpec &attention,
                      mlir::fm::AttentionKind kind, llvm::StringRef windowKey);

/// The embedding, final norm and output head shared by Llama-like models:
/// model.embed_tokens.weight, model.norm.weight, and lm_head.weight unless
/// tie_word_embeddings (default `tiedDefault`).
void llamaEnds(Config &config, const DecoderDims &dims, ModelSpec &spec,
               double eps, bool tiedDefault);

/// Checks heads, kv heads and head_dim agree; reports through the config.
void checkHeads(Config &config, const DecoderDims &dims);

} // namespace fmc::import

#endif // FMC_IMPORT_BUILDER_ARCHS_COMMON_H
