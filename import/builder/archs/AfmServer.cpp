//===- AfmServer.cpp - afm_server (Apple's PT-MoE server model) -----------===//
//
// The exact semantics of ../shared/AFM-CONFIGS.md: num_track_blocks blocks,
// each an fm.parallel_tracks of num_tracks tracks of track_block_depth
// layers; every track of a block reads the block input, keeps its own
// residual stream, weights and caches, and the track outputs are combined
// (track_combine: mean or sum) into the next block's input. Layer j of a
// track (counted across its blocks) is MoE when (j + 1) % moe_layer_step ==
// 0 (router + experts, expert by expert), else a dense SwiGLU; its attention
// follows attention_pattern cyclically: L = sliding window with RoPE over a
// ring cache, G = global, with no positional encoding when global_rope is
// "none". Tensors: model.tracks.<t>.layers.<j>.<Llama names>.
//
//===----------------------------------------------------------------------===//

#include "import/builder/archs/Architectures.h"
#include "import/builder/archs/Common.h"

using namespace mlir::fm;

namespace fmc::import {

void describeAfmServer(ArchContext &context, ModelSpec &spec) {
  Config &config = context.config;
  DecoderDims dims = readDecoderDims(config, /*layersKey=*/"");
  checkHeads(config, dims);
  double eps = config.positiveNumber("rms_norm_eps", 1e-5);
  RopeSpec rope = readRope(config, RopeLayout::rotate_half, 500000.0);
  Activation activation = readActivation(config, "hidden_act", "silu");
  bool qkNorm = config.boolean("qk_norm", false);
  Dim intermediate{config.positiveInt("intermediate_size"),
                   "intermediate_size"};
  int64_t tracks = config.positiveInt("num_tracks");
  int64_t depth = config.positiveInt("track_block_depth");
  int64_t blocks = config.positiveInt("num_track_blocks");

  std::string pattern = config.string("attention_pattern");
  if (pattern.empty() ||
      pattern.find_first_not_of("LG") != std::string::npos)
    config.invalid("attention_pattern",
                   "must be a non-empty string of L (local) and G (global), "
                   "got \"" + pattern + "\"");
  if (pattern.empty())
    pattern = "G";
  std::string globalRope = config.string("global_rope", "none");
  if (globalRope != "none" && globalRope != "rope")
    config.invalid("global_rope",
                   "must be \"none\" or \"rope\", got \"" + globalRope + "\"");
  std::string combine = config.string("track_combine", "mean");
  if (combine != "mean" && combine != "sum")
    config.invalid("track_combine",
                   "must be \"mean\" or \"sum\", got \"" + combine + "\"");

  int64_t moeStep = config.positiveInt("moe_layer_step", 2);
  MoeSpec routing;
  routing.experts = {config.positiveInt("num_experts"), "num_experts"};
  routing.topK = config.positiveInt("num_experts_per_tok");
  if (routing.topK > routing.experts.size)
    config.fail("num_experts_per_tok (" + llvm::Twine(routing.topK) +
                ") exceeds num_experts (" +
                llvm::Twine(routing.experts.size) + ")");
  routing.normTopK = config.boolean("norm_topk_prob", false);
  routing.scoring = RouterScoring::softmax;
  Dim expertSize{config.positiveInt("moe_intermediate_size"),
                 "moe_intermediate_size"};

  auto trackLayer = [&](int64_t t, int64_t j) {
    std::string root = "model.tracks." + std::to_string(t) + ".layers";
    std::string prefix = layerPrefix(j, root);
    LayerSpec layer;
    layer.tag = "t" + std::to_string(t) + "." + std::to_string(j);
    layer.inputNorm =
        rmsNorm(prefix + ".input_layernorm.weight", dims.hidden, eps);
    layer.ffnNorm =
        rmsNorm(prefix + ".post_attention_layernorm.weight", dims.hidden, eps);

    AttentionSpec &attention = layer.attention;
    attention = llamaAttention(prefix + ".self_attn", dims, false, false);
    attention.cache = "track" + std::to_string(t) + ".layer" + std::to_string(j);
    bool local = pattern[j % pattern.size()] == 'L';
    setAttentionKind(config, attention,
                     local ? AttentionKind::local : AttentionKind::global,
                     "sliding_window");
    if (local || globalRope == "rope")
      attention.rope = rope;
    if (qkNorm) {
      for (auto [role, target] : {std::pair{"q_norm", &attention.qNorm},
                                  {"k_norm", &attention.kNorm}}) {
        NormSpec norm = rmsNorm(prefix + ".self_attn." + role + ".weight",
                                dims.headDim, eps);
        norm.groupSize = dims.headDim.size;
        *target = norm;
      }
    }

    layer.ffn.activation = activation;
    if ((j + 1) % moeStep != 0) {
      layer.ffn.dense = llamaMlp(prefix + ".mlp", intermediate);
      return layer;
    }
    MoeSpec moe = routing;
    moe.router = prefix + ".mlp.router.weight";
    moe.expertFfns =
        expertMlps(prefix + ".mlp.experts", moe.experts.size, expertSize);
    layer.ffn.moe = std::move(moe);
    return layer;
  };

  for (int64_t b = 0; b < blocks; ++b) {
    TrackBlockSpec block;
    block.combine = combine == "sum" ? TrackCombine::sum : TrackCombine::mean;
    for (int64_t t = 0; t < tracks; ++t) {
      std::vector<LayerSpec> layers;
      for (int64_t j = b * depth; j < (b + 1) * depth; ++j)
        layers.push_back(trackLayer(t, j));
      block.tracks.push_back(std::move(layers));
    }
    spec.trackBlocks.push_back(std::move(block));
  }
  llamaEnds(config, dims, spec, eps, /*tiedDefault=*/true);
}

} // namespace fmc::import
