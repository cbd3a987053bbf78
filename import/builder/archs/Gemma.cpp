//===- Gemma.cpp - gemma2 and gemma3 --------------------------------------===//
//
// Gemma 2 and 3 differ from Llama in facts the IR states directly:
// - RMSNorm weights are stored minus one: every norm has weight_offset = 1.0;
// - the embedding is scaled by sqrt(hidden_size) (in the weights' dtype);
// - attention scores are scaled by query_pre_attn_scalar^-0.5 and (Gemma 2)
//   soft-capped; the logits are soft-capped by final_logit_softcapping;
// - "sandwich" norms: the attention and FFN outputs are normed again
//   (post_attention_layernorm, post_feedforward_layernorm) before each
//   residual add, and pre_feedforward_layernorm precedes the FFN;
// - the FFN is GeGLU (gelu_pytorch_tanh);
// - local (sliding-window) and global layers alternate: Gemma 2 every other
//   layer (even layers local), Gemma 3 five local to one global
//   (sliding_window_pattern = 6) with its own RoPE base on local layers
//   (rope_local_base_freq), and per-head qk-norm.
// layer_types, when present, overrides either pattern.
// Readers of other formats may say "fmc_norm_offset_folded": true (norm
// weights stored with the 1 added, as GGUF stores them) and
// "fmc_embedding_scale" (llama.cpp's unrounded sqrt(hidden_size)).
//
//===----------------------------------------------------------------------===//

#include "import/builder/archs/Architectures.h"
#include "import/builder/archs/Common.h"

#include "llvm/ADT/APFloat.h"

#include <cmath>

using namespace mlir::fm;

namespace fmc::import {

namespace {
enum class Generation { Gemma2, Gemma3 };
} // namespace

/// sqrt(hidden_size), rounded as Hugging Face rounds it: to the dtype of
/// the embedding weights (BF16 Gemma with hidden 3840 scales by 62, not
/// 61.97).
static double embeddingScale(int64_t hidden, const TensorRef *embedding) {
  llvm::APFloat scale(std::sqrt(static_cast<double>(hidden)));
  bool lost = false;
  if (embedding && embedding->dtype == DType::BF16)
    scale.convert(llvm::APFloat::BFloat(), llvm::APFloat::rmNearestTiesToEven,
                  &lost);
  else if (embedding && embedding->dtype == DType::F16)
    scale.convert(llvm::APFloat::IEEEhalf(), llvm::APFloat::rmNearestTiesToEven,
                  &lost);
  scale.convert(llvm::APFloat::IEEEdouble(), llvm::APFloat::rmNearestTiesToEven,
                &lost);
  return scale.convertToDouble();
}

static void describeGemma(ArchContext &context, ModelSpec &spec,
                          Generation generation) {
  Config &config = context.config;
  DecoderDims dims = readDecoderDims(config);
  checkHeads(config, dims);
  double eps = config.positiveNumber("rms_norm_eps", 1e-6);
  Activation activation = readActivation(
      config,
      config.has("hidden_activation") ? "hidden_activation" : "hidden_act",
      "gelu_pytorch_tanh");
  Dim intermediate{config.positiveInt("intermediate_size"),
                   "intermediate_size"};
  bool bias = config.boolean("attention_bias", false);

  // RoPE: one base for global layers, another (Gemma 3) for local ones,
  // stated either as rope_theta / rope_local_base_freq or per layer type in
  // rope_parameters.
  RopeSpec globalRope = readRope(config, RopeLayout::rotate_half, 10000.0);
  RopeSpec localRope = globalRope;
  if (generation == Generation::Gemma3) {
    // Hugging Face's Gemma 3 scales only the global layers' RoPE
    // (rope_scaling); local layers rotate with rope_local_base_freq
    // unscaled, unless per-type rope_parameters say otherwise.
    localRope.scaling = RopeScaling{};
    if (config.isObject("rope_parameters.full_attention"))
      globalRope.scaling =
          readRopeScalingAt(config, "rope_parameters.full_attention");
    if (config.isObject("rope_parameters.sliding_attention"))
      localRope.scaling =
          readRopeScalingAt(config, "rope_parameters.sliding_attention");
    if (config.has("rope_parameters.full_attention.rope_theta"))
      globalRope.theta =
          config.positiveNumber("rope_parameters.full_attention.rope_theta");
    else
      globalRope.theta = ropeTheta(config, 1000000.0);
    localRope.theta =
        config.has("rope_parameters.sliding_attention.rope_theta")
            ? config.positiveNumber(
                  "rope_parameters.sliding_attention.rope_theta")
            : config.positiveNumber("rope_local_base_freq", 10000.0);
  }

  std::optional<double> scale;
  if (config.has("query_pre_attn_scalar"))
    scale = 1.0 / std::sqrt(config.positiveNumber("query_pre_attn_scalar"));
  std::optional<double> attentionSoftcap =
      config.optionalPositiveNumber("attn_logit_softcapping");

  int64_t layers = dims.layers.size;
  int64_t pattern = generation == Generation::Gemma3
                        ? config.positiveInt("sliding_window_pattern", 6)
                        : 2;
  std::vector<AttentionKind> kinds =
      readLayerKinds(config, layers, [&](int64_t i) {
        // Gemma 2: even layers slide; Gemma 3: all but every pattern-th.
        bool local = generation == Generation::Gemma2 ? i % 2 == 0
                                                      : (i + 1) % pattern != 0;
        return local ? AttentionKind::local : AttentionKind::global;
      });

  // GGUF files store the norm weights with the 1 already added (llama.cpp's
  // converter folds it in); their reader says so.
  double normOffset =
      config.boolean("fmc_norm_offset_folded", false) ? 0.0 : 1.0;
  auto norm = [&](const std::string &name, Dim size) {
    return rmsNorm(name, std::move(size), eps, normOffset);
  };
  for (int64_t i = 0; i < layers; ++i) {
    std::string prefix = layerPrefix(i);
    LayerSpec layer;
    layer.tag = std::to_string(i);
    layer.inputNorm = norm(prefix + ".input_layernorm.weight", dims.hidden);
    layer.postAttentionNorm =
        norm(prefix + ".post_attention_layernorm.weight", dims.hidden);
    layer.ffnNorm =
        norm(prefix + ".pre_feedforward_layernorm.weight", dims.hidden);
    layer.postFfnNorm =
        norm(prefix + ".post_feedforward_layernorm.weight", dims.hidden);

    AttentionSpec &attention = layer.attention;
    attention = llamaAttention(prefix + ".self_attn", dims, bias, bias);
    attention.cache = "layer" + layer.tag;
    setAttentionKind(config, attention, kinds[i], "sliding_window");
    attention.rope =
        attention.kind == AttentionKind::global ? globalRope : localRope;
    attention.scale = scale;
    attention.softcap = attentionSoftcap;
    if (generation == Generation::Gemma3) {
      for (auto [role, target] : {std::pair{"q_norm", &attention.qNorm},
                                  {"k_norm", &attention.kNorm}}) {
        NormSpec qk =
            norm(prefix + ".self_attn." + role + ".weight", dims.headDim);
        qk.groupSize = dims.headDim.size;
        *target = qk;
      }
    }

    layer.ffn.activation = activation;
    layer.ffn.dense = llamaMlp(prefix + ".mlp", intermediate);
    spec.layers.push_back(std::move(layer));
  }

  llamaEnds(config, dims, spec, eps, /*tiedDefault=*/true);
  spec.finalNorm.weightOffset = normOffset;
  // A reader may state the scale (llama.cpp: sqrtf(n_embd), unrounded).
  spec.embeddingScale =
      config.has("fmc_embedding_scale")
          ? config.positiveNumber("fmc_embedding_scale")
          : embeddingScale(dims.hidden.size,
                           context.tensors.peek(spec.embedding));
  spec.logitSoftcap = config.optionalPositiveNumber("final_logit_softcapping");
}

void describeGemma2(ArchContext &context, ModelSpec &spec) {
  describeGemma(context, spec, Generation::Gemma2);
}
void describeGemma3(ArchContext &context, ModelSpec &spec) {
  describeGemma(context, spec, Generation::Gemma3);
}

} // namespace fmc::import
