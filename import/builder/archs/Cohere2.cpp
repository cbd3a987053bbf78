//===- Cohere2.cpp - cohere2 (Command R7B) ---------------------------------===//
//
// Cohere 2's layers are parallel blocks: one LayerNorm (weight, no bias)
// feeds both the attention and the SwiGLU FFN, and both outputs are added to
// the residual. Three sliding-window layers with RoPE alternate with one
// global layer with no positional encoding (sliding_window_pattern = 4, or
// layer_types). RoPE pairs are interleaved. Logits are scaled by logit_scale
// and the output embedding is tied.
//
//===----------------------------------------------------------------------===//

#include "import/builder/archs/Architectures.h"
#include "import/builder/archs/Common.h"

using namespace mlir::fm;

namespace fmc::import {

void describeCohere2(ArchContext &context, ModelSpec &spec) {
  Config &config = context.config;
  DecoderDims dims = readDecoderDims(config);
  checkHeads(config, dims);
  double eps = config.positiveNumber("layer_norm_eps", 1e-5);
  RopeSpec rope = readRope(config, RopeLayout::interleaved, 50000.0);
  Activation activation = readActivation(config, "hidden_act", "silu");
  Dim intermediate{config.positiveInt("intermediate_size"),
                   "intermediate_size"};
  bool bias = config.boolean("attention_bias", false);
  if (config.boolean("use_qk_norm", false))
    config.invalid("use_qk_norm", "= true is not supported for cohere2");

  int64_t layers = dims.layers.size;
  int64_t pattern = config.positiveInt("sliding_window_pattern", 4);
  std::vector<AttentionKind> kinds =
      readLayerKinds(config, layers, [&](int64_t i) {
        return (i + 1) % pattern != 0 ? AttentionKind::local
                                      : AttentionKind::global;
      });

  auto layerNorm = [&](std::string weight) {
    NormSpec norm = rmsNorm(std::move(weight), dims.hidden, eps);
    norm.kind = NormSpec::Kind::Layer;
    return norm;
  };
  for (int64_t i = 0; i < layers; ++i) {
    std::string prefix = layerPrefix(i);
    LayerSpec layer;
    layer.tag = std::to_string(i);
    layer.inputNorm = layerNorm(prefix + ".input_layernorm.weight");
    // No ffnNorm: a parallel block.
    layer.attention = llamaAttention(prefix + ".self_attn", dims, bias, bias);
    layer.attention.cache = "layer" + layer.tag;
    setAttentionKind(config, layer.attention, kinds[i], "sliding_window");
    // Only the sliding-window layers rotate; global layers are NoPE.
    if (kinds[i] != AttentionKind::global)
      layer.attention.rope = rope;
    layer.ffn.activation = activation;
    layer.ffn.dense = llamaMlp(prefix + ".mlp", intermediate);
    spec.layers.push_back(std::move(layer));
  }

  llamaEnds(config, dims, spec, eps, /*tiedDefault=*/true);
  spec.finalNorm = layerNorm("model.norm.weight");
  spec.logitScale = config.positiveNumber("logit_scale", 0.0625);
}

} // namespace fmc::import
