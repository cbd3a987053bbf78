//===- Llama4.cpp - llama4_text (and a flat llama4 config) ----------------===//
//
// Llama 4's text decoder, as Hugging Face's Llama4TextModel computes it:
// - no_rope_layers[i] == 1 means layer i uses RoPE (default: all but every
//   no_rope_layer_interval-th layer); the others are NoPE;
// - RoPE layers attend within chunks of attention_chunk_size (chunked
//   attention over a ring cache of one chunk), NoPE layers globally
//   (layer_types, when present, says the same explicitly);
// - RoPE pairs are interleaved (complex multiplication);
// - RoPE layers L2-normalize queries and keys per head with no weight
//   (use_qk_norm). HF applies that norm after RoPE; a weightless per-head RMS
//   norm commutes with the rotation, so it is emitted before RoPE like every
//   other qk-norm;
// - layers in moe_layers (default: every interleave_moe_layer_step-th) are
//   MoE with sigmoid top-k routing and a shared expert, the others a dense
//   SwiGLU of intermediate_size_mlp.
// Llama 4 multiplies each selected expert's *input* by its routing weight;
// fm expresses that exactly for one expert per token (MoeSpec::
// scaleExpertInputs), which is what every released Llama 4 uses.
// NoPE layers' attention temperature tuning scales queries by
// 1 + attn_scale * log(floor((pos + 1) / floor_scale) + 1), which is exactly 1
// below floor_scale - 1 positions: the importer caps the context there.
//
//===----------------------------------------------------------------------===//

#include "import/builder/archs/Architectures.h"
#include "import/builder/archs/Common.h"

#include "llvm/ADT/STLExtras.h"

using namespace mlir::fm;

namespace fmc::import {

void describeLlama4(ArchContext &context, ModelSpec &spec) {
  Config &config = context.config;
  if (config.has("text_config"))
    config.invalid("text_config",
                   "is set: import the text model's config (model_type "
                   "llama4_text), not the multimodal wrapper");
  DecoderDims dims = readDecoderDims(config);
  checkHeads(config, dims);
  double eps = config.positiveNumber("rms_norm_eps", 1e-5);
  RopeSpec rope = readRope(config, RopeLayout::interleaved, 500000.0);
  Activation activation = readActivation(config, "hidden_act", "silu");
  bool bias = config.boolean("attention_bias", false);
  bool qkNorm = config.boolean("use_qk_norm", true);
  int64_t layers = dims.layers.size;

  // Which layers rotate.
  std::vector<int64_t> usesRope;
  if (std::optional<std::vector<int64_t>> list =
          config.intList("no_rope_layers")) {
    usesRope = *list;
    if (static_cast<int64_t>(usesRope.size()) != layers)
      config.invalid("no_rope_layers",
                     "has " + llvm::Twine(usesRope.size()) +
                         " entries, but num_hidden_layers = " +
                         llvm::Twine(layers));
  } else {
    int64_t interval = config.positiveInt("no_rope_layer_interval", 4);
    for (int64_t i = 0; i < layers; ++i)
      usesRope.push_back((i + 1) % interval != 0);
  }
  usesRope.resize(layers, 1);

  std::vector<AttentionKind> kinds =
      readLayerKinds(config, layers, [&](int64_t i) {
        return usesRope[i] ? AttentionKind::chunked : AttentionKind::global;
      });

  // Which layers are MoE.
  std::vector<int64_t> moeLayers;
  if (std::optional<std::vector<int64_t>> list = config.intList("moe_layers")) {
    moeLayers = *list;
  } else {
    int64_t step = config.positiveInt("interleave_moe_layer_step", 1);
    for (int64_t i = step - 1; i < layers; i += step)
      moeLayers.push_back(i);
  }

  MoeSpec routing;
  routing.experts = {config.positiveInt("num_local_experts"),
                     "num_local_experts"};
  routing.topK = config.positiveInt("num_experts_per_tok", 1);
  if (routing.topK != 1)
    config.invalid("num_experts_per_tok",
                   "= " + llvm::Twine(routing.topK) +
                       " is not supported: Llama 4 scales each selected "
                       "expert's input by its routing weight, which fm "
                       "expresses only for one expert per token");
  routing.scoring = RouterScoring::sigmoid;
  routing.scaleExpertInputs = true;
  Dim expertSize{config.positiveInt("intermediate_size"), "intermediate_size"};
  Dim denseSize{config.positiveInt("intermediate_size_mlp"),
                "intermediate_size_mlp"};

  for (int64_t i = 0; i < layers; ++i) {
    std::string prefix = layerPrefix(i);
    LayerSpec layer = llamaLayer(i, dims, eps, bias, bias);
    AttentionSpec &attention = layer.attention;
    if (kinds[i] == AttentionKind::local)
      config.invalid("layer_types", "has sliding_attention at layer " +
                                        llvm::Twine(i) +
                                        "; Llama 4 layers are "
                                        "chunked_attention or full_attention");
    setAttentionKind(config, attention, kinds[i], "attention_chunk_size");
    if (usesRope[i]) {
      attention.rope = rope;
      if (qkNorm) {
        NormSpec l2;
        l2.size = dims.headDim;
        l2.eps = eps;
        l2.groupSize = dims.headDim.size;
        attention.qNorm = attention.kNorm = l2;
      }
    }

    layer.ffn.activation = activation;
    std::string ffn = prefix + ".feed_forward";
    if (!llvm::is_contained(moeLayers, i)) {
      layer.ffn.dense = llamaMlp(ffn, denseSize);
      spec.layers.push_back(std::move(layer));
      continue;
    }
    for (const char *stacked : {".experts.gate_up_proj", ".experts.down_proj"})
      if (const TensorRef *tensor = context.tensors.peek(ffn + stacked))
        context.errors.report(
            tensor->file,
            "tensor '" + tensor->name +
                    "' stores the experts stacked input-major ([experts, in, "
                    "out]); fm.linear needs [out, in] weights, so import a "
                    "checkpoint with per-expert tensors '" +
                    ffn + ".experts.<e>.{gate,up,down}_proj.weight'");
    MoeSpec moe = routing;
    moe.router = ffn + ".router.weight";
    moe.expertFfns = expertMlps(ffn + ".experts", moe.experts.size, expertSize);
    moe.shared = llamaMlp(ffn + ".shared_expert", expertSize);
    layer.ffn.moe = std::move(moe);
    spec.layers.push_back(std::move(layer));
  }

  llamaEnds(config, dims, spec, eps, /*tiedDefault=*/false);
  if (config.truthy("attn_temperature_tuning", true)) {
    int64_t floorScale = config.positiveInt("floor_scale", 8192);
    if (floorScale > 1)
      spec.contextLength = std::min(spec.contextLength, floorScale - 1);
  }
}

} // namespace fmc::import
