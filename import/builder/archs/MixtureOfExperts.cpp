//===- MixtureOfExperts.cpp - mixtral, qwen2_moe and olmoe ----------------===//
//
// Llama-style decoders whose FFN is a softmax-routed mixture of SwiGLU
// experts, imported expert by expert (GraphEmitter's MoE helper):
// - Mixtral: every layer, top-k weights always renormalized, experts named
//   block_sparse_moe.experts.<e>.w1 (gate) / w3 (up) / w2 (down);
// - Qwen2-MoE: q/k/v biases; MoE on the layers (i + 1) % decoder_sparse_step
//   == 0 not in mlp_only_layers, dense FFN elsewhere; a shared expert scaled
//   by sigmoid(shared_expert_gate x); renormalization per norm_topk_prob;
// - OLMoE: every layer; RMSNorm over the whole q and k projections
//   (q_norm, k_norm) before RoPE.
//
//===----------------------------------------------------------------------===//

#include "import/builder/archs/Architectures.h"
#include "import/builder/archs/Common.h"

#include "llvm/ADT/STLExtras.h"

using namespace mlir::fm;

namespace fmc::import {

namespace {
enum class Family { Mixtral, Qwen2Moe, Olmoe };
} // namespace

/// The router and top-k facts every family states the same way.
static MoeSpec readRouting(Config &config, llvm::StringRef expertsKey,
                           bool normTopKDefault) {
  MoeSpec moe;
  moe.experts = {config.positiveInt(expertsKey), expertsKey.str()};
  moe.topK = config.positiveInt("num_experts_per_tok");
  if (moe.topK > moe.experts.size)
    config.fail("num_experts_per_tok (" + llvm::Twine(moe.topK) +
                ") exceeds " + expertsKey + " (" +
                llvm::Twine(moe.experts.size) + ")");
  moe.normTopK = config.boolean("norm_topk_prob", normTopKDefault);
  moe.scoring = RouterScoring::softmax;
  return moe;
}

static void describeMoeFamily(ArchContext &context, ModelSpec &spec,
                              Family family) {
  Config &config = context.config;
  DecoderDims dims = readDecoderDims(config);
  checkHeads(config, dims);
  double eps = config.positiveNumber("rms_norm_eps", 1e-6);
  RopeSpec rope = readRope(config, RopeLayout::rotate_half, 10000.0);
  Activation activation = readActivation(config, "hidden_act", "silu");
  int64_t layers = dims.layers.size;

  MoeSpec routing;
  Dim expertSize;
  switch (family) {
  case Family::Mixtral:
    // Mixtral always renormalizes its top-k weights.
    routing = readRouting(config, "num_local_experts", true);
    routing.normTopK = true;
    expertSize = {config.positiveInt("intermediate_size"), "intermediate_size"};
    break;
  case Family::Qwen2Moe:
    routing = readRouting(config, "num_experts", false);
    expertSize = {config.positiveInt("moe_intermediate_size"),
                  "moe_intermediate_size"};
    break;
  case Family::Olmoe:
    routing = readRouting(config, "num_experts", false);
    expertSize = {config.positiveInt("intermediate_size"), "intermediate_size"};
    if (config.has("clip_qkv"))
      config.invalid("clip_qkv", "is not supported: fm has no clamp op");
    break;
  }

  // Qwen2-MoE's dense layers and shared expert.
  Dim denseSize, sharedSize;
  int64_t sparseStep = 1;
  std::vector<int64_t> denseOnly;
  if (family == Family::Qwen2Moe) {
    sparseStep = config.positiveInt("decoder_sparse_step", 1);
    denseOnly = config.intList("mlp_only_layers").value_or(std::vector<int64_t>{});
    denseSize = {config.positiveInt("intermediate_size"), "intermediate_size"};
    sharedSize = {config.positiveInt("shared_expert_intermediate_size"),
                  "shared_expert_intermediate_size"};
  }

  std::vector<AttentionKind> kinds =
      readLayerKinds(config, layers, [&](int64_t i) {
        if (family == Family::Mixtral)
          return config.has("sliding_window") ? AttentionKind::local
                                              : AttentionKind::global;
        if (family == Family::Qwen2Moe &&
            config.boolean("use_sliding_window", false) &&
            i >= config.nonNegativeInt("max_window_layers", 0))
          return AttentionKind::local;
        return AttentionKind::global;
      });

  for (int64_t i = 0; i < layers; ++i) {
    std::string prefix = layerPrefix(i);
    LayerSpec layer = llamaLayer(i, dims, eps,
                                 /*qkvBias=*/family == Family::Qwen2Moe,
                                 /*oBias=*/false);
    layer.attention.rope = rope;
    setAttentionKind(config, layer.attention, kinds[i], "sliding_window");
    if (family == Family::Olmoe) {
      // OLMoE normalizes the whole projection, not each head.
      Dim qSize{dims.heads.size * dims.headDim.size,
                "num_attention_heads * " + dims.headDim.field};
      Dim kSize{dims.kvHeads.size * dims.headDim.size,
                dims.kvHeads.field + " * " + dims.headDim.field};
      layer.attention.qNorm =
          rmsNorm(prefix + ".self_attn.q_norm.weight", qSize, eps);
      layer.attention.kNorm =
          rmsNorm(prefix + ".self_attn.k_norm.weight", kSize, eps);
    }

    layer.ffn.activation = activation;
    bool sparse = family != Family::Qwen2Moe ||
                  ((i + 1) % sparseStep == 0 && !llvm::is_contained(denseOnly, i));
    if (!sparse) {
      layer.ffn.dense = llamaMlp(prefix + ".mlp", denseSize);
      spec.layers.push_back(std::move(layer));
      continue;
    }

    MoeSpec moe = routing;
    if (family == Family::Mixtral) {
      std::string block = prefix + ".block_sparse_moe";
      moe.router = block + ".gate.weight";
      for (int64_t e = 0; e < moe.experts.size; ++e) {
        std::string expert = block + ".experts." + std::to_string(e);
        moe.expertFfns.push_back({expert + ".w1.weight", expert + ".w3.weight",
                                  expert + ".w2.weight", expertSize});
      }
    } else {
      moe.router = prefix + ".mlp.gate.weight";
      moe.expertFfns = expertMlps(prefix + ".mlp.experts", moe.experts.size,
                                  expertSize);
    }
    if (family == Family::Qwen2Moe) {
      moe.shared = llamaMlp(prefix + ".mlp.shared_expert", sharedSize);
      moe.sharedGate = prefix + ".mlp.shared_expert_gate.weight";
    }
    layer.ffn.moe = std::move(moe);
    spec.layers.push_back(std::move(layer));
  }
  llamaEnds(config, dims, spec, eps, /*tiedDefault=*/false);
}

void describeMixtral(ArchContext &context, ModelSpec &spec) {
  describeMoeFamily(context, spec, Family::Mixtral);
}
void describeQwen2Moe(ArchContext &context, ModelSpec &spec) {
  describeMoeFamily(context, spec, Family::Qwen2Moe);
}
void describeOlmoe(ArchContext &context, ModelSpec &spec) {
  describeMoeFamily(context, spec, Family::Olmoe);
}

} // namespace fmc::import
