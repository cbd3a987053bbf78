//===- AfmOnDevice.cpp - afm_on_device (Apple's ~3B on-device model) ------===//
//
// ../shared/AFM-CONFIGS.md: a pre-norm Llama-style decoder with per-head
// qk-norm (q_norm / k_norm of [head_dim], before RoPE) whose last
// num_kv_reuse_layers layers have no k_proj, v_proj or k_norm: they attend
// to the cache of the last regular layer (index num_hidden_layers -
// num_kv_reuse_layers - 1), which holds its post-norm, post-RoPE keys, and
// write no cache of their own.
//
//===----------------------------------------------------------------------===//

#include "import/builder/archs/Architectures.h"
#include "import/builder/archs/Common.h"

using namespace mlir::fm;

namespace fmc::import {

void describeAfmOnDevice(ArchContext &context, ModelSpec &spec) {
  Config &config = context.config;
  DecoderDims dims = readDecoderDims(config);
  checkHeads(config, dims);
  double eps = config.positiveNumber("rms_norm_eps", 1e-5);
  RopeSpec rope = readRope(config, RopeLayout::rotate_half, 500000.0);
  Activation activation = readActivation(config, "hidden_act", "silu");
  Dim intermediate{config.positiveInt("intermediate_size"),
                   "intermediate_size"};
  bool qkNorm = config.boolean("qk_norm", false);
  int64_t layers = dims.layers.size;
  int64_t reuse = config.nonNegativeInt("num_kv_reuse_layers", 0);
  if (reuse >= layers) {
    config.invalid("num_kv_reuse_layers",
                   "= " + llvm::Twine(reuse) +
                       " leaves no layer to write the shared cache "
                       "(num_hidden_layers = " +
                       llvm::Twine(layers) + ")");
    reuse = 0;
  }
  int64_t firstReader = layers - reuse;
  std::string sharedCache = "layer" + std::to_string(firstReader - 1);

  for (int64_t i = 0; i < layers; ++i) {
    std::string prefix = layerPrefix(i);
    LayerSpec layer = llamaLayer(i, dims, eps, false, false);
    AttentionSpec &attention = layer.attention;
    attention.rope = rope;
    auto headNorm = [&](const char *role) {
      NormSpec norm = rmsNorm(prefix + ".self_attn." + role + ".weight",
                              dims.headDim, eps);
      norm.groupSize = dims.headDim.size;
      return norm;
    };
    if (qkNorm)
      attention.qNorm = headNorm("q_norm");
    if (i >= firstReader) {
      attention.k = attention.v = ProjSpec();
      attention.cache = sharedCache;
    } else if (qkNorm) {
      attention.kNorm = headNorm("k_norm");
    }
    layer.ffn.activation = activation;
    layer.ffn.dense = llamaMlp(prefix + ".mlp", intermediate);
    spec.layers.push_back(std::move(layer));
  }
  llamaEnds(config, dims, spec, eps, /*tiedDefault=*/true);
}

} // namespace fmc::import
