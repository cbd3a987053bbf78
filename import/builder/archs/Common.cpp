//===- Common.cpp - config facts most decoder architectures share ---------===//

#include "import/builder/archs/Common.h"

#include "llvm/ADT/StringSwitch.h"

using namespace llvm;
using namespace mlir::fm;

namespace fmc::import {

DecoderDims readDecoderDims(Config &config, StringRef layersKey) {
  DecoderDims dims;
  dims.hidden = {config.positiveInt("hidden_size"), "hidden_size"};
  dims.vocab = {config.positiveInt("vocab_size"), "vocab_size"};
  if (!layersKey.empty())
    dims.layers = {config.count(layersKey), layersKey.str()};
  dims.heads = {config.positiveInt("num_attention_heads"),
                "num_attention_heads"};
  dims.kvHeads = config.has("num_key_value_heads")
                     ? Dim{config.positiveInt("num_key_value_heads"),
                           "num_key_value_heads"}
                     : Dim{dims.heads.size, "num_attention_heads"};
  if (config.has("head_dim")) {
    dims.headDim = {config.positiveInt("head_dim"), "head_dim"};
  } else {
    if (dims.hidden.size % dims.heads.size != 0)
      config.fail("hidden_size (" + Twine(dims.hidden.size) +
                  ") is not a multiple of num_attention_heads (" +
                  Twine(dims.heads.size) + ") and there is no head_dim");
    dims.headDim = {std::max<int64_t>(1, dims.hidden.size / dims.heads.size),
                    "(hidden_size / num_attention_heads)"};
  }
  dims.contextLength = config.positiveInt("max_position_embeddings");
  return dims;
}

void checkHeads(Config &config, const DecoderDims &dims) {
  if (dims.heads.size % dims.kvHeads.size != 0)
    config.fail("num_attention_heads (" + Twine(dims.heads.size) +
                ") must be a multiple of num_key_value_heads (" +
                Twine(dims.kvHeads.size) + ")");
  if (dims.headDim.size % 2 != 0)
    config.fail(dims.headDim.field + " (" + Twine(dims.headDim.size) +
                ") must be even: RoPE rotates pairs of features");
}

RopeLayout ropeLayout(Config &config, RopeLayout architectureDefault) {
  if (!config.has("fmc_rope_layout"))
    return architectureDefault;
  std::string layout = config.string("fmc_rope_layout");
  if (layout == "interleaved")
    return RopeLayout::interleaved;
  if (layout == "rotate_half")
    return RopeLayout::rotate_half;
  config.invalid("fmc_rope_layout",
                 "must be \"interleaved\" or \"rotate_half\", got \"" + layout +
                     "\"");
  return architectureDefault;
}

double ropeTheta(Config &config, double fallback) {
  if (config.has("rope_theta"))
    return config.positiveNumber("rope_theta");
  return config.positiveNumber("rope_parameters.rope_theta", fallback);
}

RopeSpec readRope(Config &config, RopeLayout architectureDefault,
                  double defaultTheta) {
  RopeSpec rope;
  rope.scaling = readRopeScaling(config);
  rope.layout = ropeLayout(config, architectureDefault);
  rope.theta = ropeTheta(config, defaultTheta);
  if (config.has("partial_rotary_factor")) {
    rope.rotaryFraction = config.positiveNumber("partial_rotary_factor");
    if (rope.rotaryFraction > 1.0)
      config.invalid("partial_rotary_factor",
                     "must be at most 1, got " +
                         std::to_string(rope.rotaryFraction));
  }
  return rope;
}

Activation readActivation(Config &config, StringRef key, StringRef fallback) {
  std::string name = config.string(key, fallback);
  std::optional<Activation> activation =
      StringSwitch<std::optional<Activation>>(name)
          .Cases({"silu", "swish"}, Activation::silu)
          .Case("gelu", Activation::gelu)
          .Cases({"gelu_pytorch_tanh", "gelu_new", "gelu_tanh"},
                 Activation::gelu_tanh)
          .Case("relu", Activation::relu)
          .Default(std::nullopt);
  if (!activation) {
    config.invalid(key, "= \"" + name +
                            "\" is not a supported activation (silu, gelu, "
                            "gelu_pytorch_tanh, relu)");
    return Activation::silu;
  }
  return *activation;
}

std::vector<AttentionKind>
readLayerKinds(Config &config, int64_t layers,
               function_ref<AttentionKind(int64_t)> pattern) {
  std::vector<AttentionKind> kinds;
  if (std::optional<std::vector<std::string>> types =
          config.stringList("layer_types")) {
    if (static_cast<int64_t>(types->size()) != layers) {
      config.invalid("layer_types",
                     "has " + Twine(types->size()) +
                         " entries, but num_hidden_layers = " + Twine(layers));
      return std::vector<AttentionKind>(layers, AttentionKind::global);
    }
    for (const std::string &type : *types) {
      std::optional<AttentionKind> kind =
          StringSwitch<std::optional<AttentionKind>>(type)
              .Case("full_attention", AttentionKind::global)
              .Case("sliding_attention", AttentionKind::local)
              .Case("chunked_attention", AttentionKind::chunked)
              .Default(std::nullopt);
      if (!kind) {
        config.invalid("layer_types",
                       "has \"" + type +
                           "\"; expected full_attention, sliding_attention "
                           "or chunked_attention");
        kind = AttentionKind::global;
      }
      kinds.push_back(*kind);
    }
    return kinds;
  }
  for (int64_t i = 0; i < layers; ++i)
    kinds.push_back(pattern(i));
  return kinds;
}

std::string layerPrefix(int64_t index, StringRef root) {
  return (root + "." + Twine(index)).str();
}

NormSpec rmsNorm(std::string weight, Dim size, double eps,
                 double weightOffset) {
  NormSpec norm;
  norm.weight = std::move(weight);
  norm.size = std::move(size);
  norm.eps = eps;
  norm.weightOffset = weightOffset;
  return norm;
}

AttentionSpec llamaAttention(const std::string &prefix, const DecoderDims &dims,
                             bool qkvBias, bool oBias) {
  AttentionSpec attention;
  attention.heads = dims.heads;
  attention.kvHeads = dims.kvHeads;
  attention.headDim = dims.headDim;
  auto proj = [&](StringRef name, bool bias) {
    ProjSpec spec;
    spec.weight = prefix + "." + name.str() + ".weight";
    if (bias)
      spec.bias = prefix + "." + name.str() + ".bias";
    return spec;
  };
  attention.q = proj("q_proj", qkvBias);
  attention.k = proj("k_proj", qkvBias);
  attention.v = proj("v_proj", qkvBias);
  attention.o = proj("o_proj", oBias);
  return attention;
}

GluSpec llamaMlp(const std::string &prefix, Dim intermediate) {
  return {prefix + ".gate_proj.weight", prefix + ".up_proj.weight",
          prefix + ".down_proj.weight", std::move(intermediate)};
}

std::vector<GluSpec> expertMlps(const std::string &prefix, int64_t experts,
                                Dim intermediate) {
  std::vector<GluSpec> result;
  for (int64_t e = 0; e < experts; ++e)
    result.push_back(llamaMlp(prefix + "." + std::to_string(e), intermediate));
  return result;
}

LayerSpec llamaLayer(int64_t index, const DecoderDims &dims, double eps,
                     bool qkvBias, bool oBias) {
  std::string prefix = layerPrefix(index);
  LayerSpec layer;
  layer.tag = std::to_string(index);
  layer.inputNorm =
      rmsNorm(prefix + ".input_layernorm.weight", dims.hidden, eps);
  layer.ffnNorm =
      rmsNorm(prefix + ".post_attention_layernorm.weight", dims.hidden, eps);
  layer.attention = llamaAttention(prefix + ".self_attn", dims, qkvBias, oBias);
  layer.attention.cache = "layer" + layer.tag;
  return layer;
}

void setAttentionKind(Config &config, AttentionSpec &attention,
                      AttentionKind kind, StringRef windowKey) {
  attention.kind = kind;
  if (kind != AttentionKind::global)
    attention.window = config.positiveInt(windowKey);
}

void llamaEnds(Config &config, const DecoderDims &dims, ModelSpec &spec,
               double eps, bool tiedDefault) {
  spec.hidden = dims.hidden;
  spec.vocab = dims.vocab;
  spec.contextLength = dims.contextLength;
  spec.embedding = "model.embed_tokens.weight";
  spec.finalNorm = rmsNorm("model.norm.weight", dims.hidden, eps);
  // Tied as Hugging Face ties: a tied model's lm_head.weight, if the file
  // has one, is a copy that the loader replaces by the embedding.
  if (config.boolean("tie_word_embeddings", tiedDefault)) {
    spec.outputWeight = spec.embedding;
    spec.ignoredTensors.push_back("lm_head.weight");
  } else {
    spec.outputWeight = "lm_head.weight";
  }
}

} // namespace fmc::import
