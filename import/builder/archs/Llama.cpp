//===- Llama.cpp - llama, mistral and qwen2 -------------------------------===//
//
// Pre-norm decoders with GQA and SwiGLU: Llama (optional attention biases),
// Mistral (an optional sliding window on every layer) and Qwen2 (q/k/v
// biases; sliding windows on the layers from max_window_layers on when
// use_sliding_window).
//
//===----------------------------------------------------------------------===//

#include "import/builder/archs/Architectures.h"
#include "import/builder/archs/Common.h"

using namespace mlir::fm;

namespace fmc::import {

namespace {
enum class Variant { Llama, Mistral, Qwen2 };
} // namespace

static void describeLlamaFamily(ArchContext &context, ModelSpec &spec,
                                Variant variant) {
  Config &config = context.config;
  DecoderDims dims = readDecoderDims(config);
  checkHeads(config, dims);
  double eps = config.positiveNumber("rms_norm_eps", 1e-6);
  RopeSpec rope = readRope(config, RopeLayout::rotate_half, 10000.0);
  Activation activation = readActivation(config, "hidden_act", "silu");
  Dim intermediate{config.positiveInt("intermediate_size"),
                   "intermediate_size"};
  if (config.boolean("mlp_bias", false))
    config.invalid("mlp_bias", "= true is not supported: fm imports gated "
                               "FFNs without biases");

  bool qkvBias = false, oBias = false;
  if (variant == Variant::Llama)
    qkvBias = oBias = config.boolean("attention_bias", false);
  if (variant == Variant::Qwen2)
    qkvBias = true;

  int64_t layers = dims.layers.size;
  std::vector<AttentionKind> kinds =
      readLayerKinds(config, layers, [&](int64_t i) {
        switch (variant) {
        case Variant::Llama:
          return AttentionKind::global;
        case Variant::Mistral:
          return config.has("sliding_window") ? AttentionKind::local
                                              : AttentionKind::global;
        case Variant::Qwen2:
          return config.boolean("use_sliding_window", false) &&
                         i >= config.nonNegativeInt("max_window_layers", 0)
                     ? AttentionKind::local
                     : AttentionKind::global;
        }
        return AttentionKind::global;
      });

  for (int64_t i = 0; i < layers; ++i) {
    LayerSpec layer = llamaLayer(i, dims, eps, qkvBias, oBias);
    layer.attention.rope = rope;
    setAttentionKind(config, layer.attention, kinds[i], "sliding_window");
    layer.ffn.activation = activation;
    layer.ffn.dense = llamaMlp(layerPrefix(i) + ".mlp", intermediate);
    spec.layers.push_back(std::move(layer));
  }
  llamaEnds(config, dims, spec, eps, /*tiedDefault=*/false);
}

void describeLlama(ArchContext &context, ModelSpec &spec) {
  describeLlamaFamily(context, spec, Variant::Llama);
}
void describeMistral(ArchContext &context, ModelSpec &spec) {
  describeLlamaFamily(context, spec, Variant::Mistral);
}
void describeQwen2(ArchContext &context, ModelSpec &spec) {
  describeLlamaFamily(context, spec, Variant::Qwen2);
}

} // namespace fmc::import
