//===- GGUFArchitecturesTest.cpp - GGUF architectures and the key policy --===//

#include "import/ModelSource.h"

#include "GGUFWriter.h"
#include "TestUtil.h"

#include "gmock/gmock.h"

using namespace fmc::import;
using namespace fmc::import::test;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

namespace {

constexpr uint32_t kF32 = 0, kQ8_0 = 8;

/// The keys every architecture needs: hidden 32, 2 heads of 16, `layers`.
GGUFWriter &tiny(GGUFWriter &w, llvm::StringRef arch, uint32_t layers = 1) {
  std::string a = arch.str();
  return w.str("general.architecture", arch)
      .u32(a + ".embedding_length", 32)
      .u32(a + ".feed_forward_length", 64)
      .u32(a + ".block_count", layers)
      .u32(a + ".attention.head_count", 2)
      .u32(a + ".attention.head_count_kv", 1)
      .u32(a + ".context_length", 16)
      .u32(a + ".vocab_size", 8)
      .f32(a + ".attention.layer_norm_rms_epsilon", 1e-6f);
}

ModelSource read(const GGUFWriter &w) {
  TempDir tmp;
  llvm::Expected<ModelSource> source = readGGUF(tmp.write("m.gguf", w.build()));
  if (!source) {
    ADD_FAILURE() << llvm::toString(source.takeError());
    return {};
  }
  return std::move(*source);
}

std::string error(const GGUFWriter &w) {
  TempDir tmp;
  return errorOf(readGGUF(tmp.write("m.gguf", w.build())));
}

std::vector<std::string> names(const ModelSource &source) {
  std::vector<std::string> result;
  for (const TensorRef &tensor : source.tensors)
    result.push_back(tensor.name);
  return result;
}

TEST(GGUFArchitectures, MixtralSlicesStackedExpertsInPlace) {
  GGUFWriter w;
  tiny(w, "llama")
      .u32("llama.expert_count", 3)
      .u32("llama.expert_used_count", 2);
  // [experts, rows, cols] = [3, 64, 32] Q8_0: 64 rows of 34 bytes each.
  w.tensor("blk.0.ffn_gate_inp.weight", {32, 3}, kF32, 3 * 32 * 4)
      .tensor("blk.0.ffn_gate_exps.weight", {32, 64, 3}, kQ8_0, 3 * 64 * 34)
      .tensor("blk.0.ffn_down_exps.weight", {64, 32, 3}, kQ8_0, 3 * 32 * 68);
  uint64_t dataStart;
  w.build(&dataStart);
  ModelSource source = read(w);
  EXPECT_EQ(source.config.getString("model_type"), "mixtral");
  EXPECT_EQ(source.config.getInteger("num_local_experts"), 3);
  EXPECT_EQ(source.config.getInteger("num_experts_per_tok"), 2);
  EXPECT_EQ(source.config.getString("fmc_rope_layout"), "interleaved");
  const TensorRef *router =
      source.find("model.layers.0.block_sparse_moe.gate.weight");
  ASSERT_NE(router, nullptr);
  EXPECT_EQ(router->shape, std::vector<int64_t>({3, 32}));
  const TensorRef *gate0 =
      source.find("model.layers.0.block_sparse_moe.experts.0.w1.weight");
  const TensorRef *gate2 =
      source.find("model.layers.0.block_sparse_moe.experts.2.w1.weight");
  const TensorRef *down1 =
      source.find("model.layers.0.block_sparse_moe.experts.1.w2.weight");
  ASSERT_NE(gate0, nullptr);
  ASSERT_NE(gate2, nullptr);
  ASSERT_NE(down1, nullptr);
  EXPECT_EQ(gate2->shape, std::vector<int64_t>({64, 32}));
  EXPECT_EQ(gate2->dtype, DType::Q8_0);
  EXPECT_EQ(gate2->bytes, 64u * 34);
  EXPECT_EQ(gate2->offset, gate0->offset + 2 * 64 * 34);
  EXPECT_EQ(down1->shape, std::vector<int64_t>({32, 64}));
  EXPECT_EQ(down1->bytes, 32u * 68);
  EXPECT_FALSE(source.find("model.layers.0.block_sparse_moe.experts.3.w1."
                           "weight"));
}

TEST(GGUFArchitectures, StackedExpertsMustMatchExpertCount) {
  GGUFWriter w;
  tiny(w, "llama")
      .u32("llama.expert_count", 4)
      .u32("llama.expert_used_count", 2);
  w.tensor("blk.0.ffn_up_exps.weight", {32, 64, 3}, kF32, 3 * 64 * 32 * 4);
  EXPECT_THAT(error(w),
              HasSubstr("m.gguf: tensor 'blk.0.ffn_up_exps.weight' has shape "
                        "[3, 64, 32], expected [4, rows, cols]: stacked "
                        "experts, as many as 'llama.expert_count' = 4"));
}

TEST(GGUFArchitectures, Qwen2MoeSharedExpertAndNeoxRope) {
  GGUFWriter w;
  tiny(w, "qwen2moe")
      .u32("qwen2moe.expert_count", 2)
      .u32("qwen2moe.expert_used_count", 2)
      .u32("qwen2moe.expert_feed_forward_length", 32)
      .u32("qwen2moe.expert_shared_feed_forward_length", 96);
  w.tensor("blk.0.attn_q.bias", {32}, kF32, 128)
      .tensor("blk.0.ffn_gate_inp_shexp.weight", {32}, kF32, 128)
      .tensor("blk.0.ffn_up_shexp.weight", {32, 96}, kF32, 96 * 32 * 4)
      .tensor("blk.0.ffn_up_exps.weight", {32, 32, 2}, kF32, 2 * 32 * 32 * 4);
  ModelSource source = read(w);
  EXPECT_EQ(source.config.getString("model_type"), "qwen2_moe");
  EXPECT_FALSE(source.config.get("fmc_rope_layout")); // NEOX: rotate-half.
  EXPECT_EQ(source.config.getBoolean("norm_topk_prob"), false);
  EXPECT_EQ(source.config.getInteger("decoder_sparse_step"), 1);
  EXPECT_EQ(source.config.getInteger("moe_intermediate_size"), 32);
  EXPECT_EQ(source.config.getInteger("shared_expert_intermediate_size"), 96);
  EXPECT_THAT(names(source),
              ElementsAre("model.layers.0.mlp.experts.0.up_proj.weight",
                          "model.layers.0.mlp.experts.1.up_proj.weight",
                          "model.layers.0.mlp.shared_expert.up_proj.weight",
                          "model.layers.0.mlp.shared_expert_gate.weight",
                          "model.layers.0.self_attn.q_proj.bias"));
  EXPECT_EQ(source.find("model.layers.0.mlp.shared_expert_gate.weight")->shape,
            std::vector<int64_t>({1, 32}));
}

TEST(GGUFArchitectures, Gemma3WindowsRopeBasesAndNorms) {
  GGUFWriter w;
  tiny(w, "gemma3", 3)
      .u32("gemma3.attention.key_length", 16)
      .u32("gemma3.attention.value_length", 16)
      .f32("gemma3.rope.freq_base", 1e6f)
      .f32("gemma3.rope.freq_base_swa", 1e4f)
      .u32("gemma3.attention.sliding_window", 4)
      .u32("gemma3.attention.sliding_window_pattern", 3);
  w.tensor("blk.0.ffn_norm.weight", {32}, kF32, 128)
      .tensor("blk.0.post_attention_norm.weight", {32}, kF32, 128)
      .tensor("blk.0.post_ffw_norm.weight", {32}, kF32, 128)
      .tensor("blk.0.attn_q_norm.weight", {16}, kF32, 64);
  ModelSource source = read(w);
  EXPECT_EQ(source.config.getString("model_type"), "gemma3_text");
  EXPECT_EQ(source.config.getInteger("sliding_window"), 4);
  EXPECT_EQ(source.config.getInteger("sliding_window_pattern"), 3);
  EXPECT_EQ(source.config.getNumber("rope_theta"), 1e6);
  EXPECT_EQ(source.config.getNumber("rope_local_base_freq"), 1e4);
  EXPECT_EQ(source.config.getInteger("query_pre_attn_scalar"), 16);
  EXPECT_EQ(source.config.getBoolean("fmc_norm_offset_folded"), true);
  EXPECT_FALSE(source.config.get("final_logit_softcapping"));
  EXPECT_FALSE(source.config.get("fmc_rope_layout"));
  EXPECT_THAT(names(source),
              ElementsAre("model.layers.0.post_attention_layernorm.weight",
                          "model.layers.0.post_feedforward_layernorm.weight",
                          "model.layers.0.pre_feedforward_layernorm.weight",
                          "model.layers.0.self_attn.q_norm.weight"));

  // One flag per layer, as newer converters write it.
  GGUFWriter flags;
  tiny(flags, "gemma3", 3)
      .u32("gemma3.attention.sliding_window", 4)
      .array<uint8_t>("gemma3.attention.sliding_window_pattern", 7, {1, 0, 1});
  ModelSource perLayer = read(flags);
  const llvm::json::Array *types = perLayer.config.getArray("layer_types");
  ASSERT_NE(types, nullptr);
  EXPECT_EQ((*types)[0].getAsString(), "sliding_attention");
  EXPECT_EQ((*types)[1].getAsString(), "full_attention");

  GGUFWriter wrongLength;
  tiny(wrongLength, "gemma3")
      .u32("gemma3.attention.sliding_window", 4)
      .array<uint8_t>("gemma3.attention.sliding_window_pattern", 7, {1, 0});
  EXPECT_THAT(error(wrongLength),
              HasSubstr("metadata 'gemma3.attention.sliding_window_pattern' "
                        "has 2 entries, but block_count = 1"));
}

TEST(GGUFArchitectures, Gemma2DefaultsFollowLlamaCpp) {
  GGUFWriter w;
  tiny(w, "gemma2").u32("gemma2.attention.sliding_window", 8);
  ModelSource source = read(w);
  EXPECT_EQ(source.config.getString("model_type"), "gemma2");
  EXPECT_EQ(source.config.getNumber("attn_logit_softcapping"), 50.0);
  EXPECT_EQ(source.config.getNumber("final_logit_softcapping"), 30.0);
  EXPECT_EQ(source.config.getInteger("sliding_window_pattern"), 2);
  GGUFWriter noWindow;
  tiny(noWindow, "gemma2");
  EXPECT_THAT(error(noWindow),
              HasSubstr("missing metadata 'gemma2.attention.sliding_window'"));
}

TEST(GGUFArchitectures, Cohere2OlmoeAndLlama4Configs) {
  GGUFWriter cohere;
  cohere.str("general.architecture", "cohere2")
      .u32("cohere2.embedding_length", 32)
      .u32("cohere2.feed_forward_length", 64)
      .u32("cohere2.block_count", 4)
      .u32("cohere2.attention.head_count", 2)
      .u32("cohere2.context_length", 16)
      .u32("cohere2.vocab_size", 8)
      .u32("cohere2.rope.dimension_count", 16)
      .str("cohere2.rope.scaling.type", "none")
      .f32("cohere2.attention.layer_norm_epsilon", 1e-5f)
      .f32("cohere2.logit_scale", 0.25f)
      .u32("cohere2.attention.sliding_window", 4);
  ModelSource c = read(cohere);
  EXPECT_EQ(c.config.getString("model_type"), "cohere2");
  EXPECT_EQ(c.config.getNumber("logit_scale"), 0.25);
  EXPECT_EQ(c.config.getInteger("sliding_window_pattern"), 4);
  EXPECT_TRUE(c.config.getNumber("layer_norm_eps").has_value());
  EXPECT_FALSE(c.config.get("fmc_rope_layout")); // HF layout is interleaved.

  GGUFWriter olmoe;
  tiny(olmoe, "olmoe")
      .u32("olmoe.expert_count", 4)
      .u32("olmoe.expert_used_count", 2);
  ModelSource o = read(olmoe);
  EXPECT_EQ(o.config.getString("model_type"), "olmoe");
  EXPECT_EQ(o.config.getBoolean("norm_topk_prob"), false);
  EXPECT_EQ(o.config.getInteger("num_experts"), 4);

  GGUFWriter llama4;
  tiny(llama4, "llama4")
      .u32("llama4.expert_count", 16)
      .u32("llama4.expert_used_count", 1)
      .u32("llama4.expert_feed_forward_length", 24)
      .u32("llama4.interleave_moe_layer_step", 1);
  llama4.tensor("blk.0.ffn_gate_inp.weight", {32, 16}, kF32, 16 * 32 * 4)
      .tensor("blk.0.ffn_down_shexp.weight", {24, 32}, kF32, 24 * 32 * 4);
  ModelSource l = read(llama4);
  EXPECT_EQ(l.config.getString("model_type"), "llama4_text");
  EXPECT_EQ(l.config.getInteger("intermediate_size"), 24);
  EXPECT_EQ(l.config.getInteger("intermediate_size_mlp"), 64);
  EXPECT_EQ(l.config.getInteger("attention_chunk_size"), 8192);
  EXPECT_EQ(l.config.getBoolean("use_qk_norm"), true);
  EXPECT_THAT(names(l), ElementsAre("model.layers.0.feed_forward.router.weight",
                                    "model.layers.0.feed_forward.shared_expert."
                                    "down_proj.weight"));
}

TEST(GGUFArchitectures, UnknownKeysAreErrors) {
  GGUFWriter arch;
  tiny(arch, "llama").u32("llama.attention.sliding_window", 4096);
  EXPECT_THAT(error(arch),
              HasSubstr("m.gguf: GGUF key 'llama.attention.sliding_window' is "
                        "not supported by fmc (fmc's llama mapping does not "
                        "apply it)"));
  GGUFWriter other;
  tiny(other, "qwen2").u32("split.count", 2);
  EXPECT_THAT(error(other),
              HasSubstr("m.gguf: GGUF key 'split.count' is not supported by "
                        "fmc (not a key of the qwen2 architecture, general.*, "
                        "tokenizer.* or quantize.*)"));
  // A key of another architecture is not this one's.
  GGUFWriter foreign;
  tiny(foreign, "qwen2").f32("qwen2.logit_scale", 0.5f);
  EXPECT_THAT(error(foreign), HasSubstr("GGUF key 'qwen2.logit_scale' is not "
                                        "supported by fmc"));
  // Irrelevant keys pass.
  GGUFWriter fine;
  tiny(fine, "llama")
      .str("general.license", "mit")
      .u32("general.quantization_version", 2)
      .str("quantize.imatrix.file", "x.dat")
      .u32("llama.rope.scaling.original_context_length", 8192)
      .str("llama.rope.scaling.type", "none");
  EXPECT_EQ(read(fine).config.getString("model_type"), "llama");
}

// Partial rotary, linear and YaRN scaling become Hugging Face keys.
TEST(GGUFArchitectures, RopeScalingAsHuggingFaceKeys) {
  GGUFWriter yarn;
  tiny(yarn, "qwen2")
      .str("qwen2.rope.scaling.type", "yarn")
      .f32("qwen2.rope.scaling.factor", 4.0f)
      .u32("qwen2.rope.scaling.original_context_length", 64);
  llvm::json::Object config = read(yarn).config;
  const llvm::json::Object *scaling = config.getObject("rope_scaling");
  ASSERT_NE(scaling, nullptr);
  EXPECT_EQ(scaling->getString("rope_type"), "yarn");
  EXPECT_EQ(scaling->getNumber("factor"), 4.0);
  EXPECT_EQ(scaling->getInteger("original_max_position_embeddings"), 64);
  // No type: llama.cpp's linear.
  GGUFWriter linear;
  tiny(linear, "llama").f32("llama.rope.scaling.factor", 8.0f);
  config = read(linear).config;
  scaling = config.getObject("rope_scaling");
  ASSERT_NE(scaling, nullptr);
  EXPECT_EQ(scaling->getString("rope_type"), "linear");
  EXPECT_EQ(scaling->getNumber("factor"), 8.0);
  GGUFWriter partial;
  tiny(partial, "llama").u32("llama.rope.dimension_count", 8);
  EXPECT_EQ(read(partial).config.getNumber("partial_rotary_factor"), 0.5);
  // llama's rope_freqs.weight: read into the config, not a tensor.
  GGUFWriter freqs;
  tiny(freqs, "llama").tensor("rope_freqs.weight", {8}, kF32, 32);
  ModelSource source = read(freqs);
  const llvm::json::Array *factors =
      source.config.getArray("fmc_rope_freq_factors");
  ASSERT_NE(factors, nullptr);
  EXPECT_EQ(factors->size(), 8u);
  EXPECT_EQ(source.find("rope_freqs.weight"), nullptr);
}

TEST(GGUFArchitectures, UnsupportedValuesNameTheKey) {
  GGUFWriter longrope;
  tiny(longrope, "qwen2").str("qwen2.rope.scaling.type", "longrope");
  EXPECT_THAT(error(longrope),
              HasSubstr("m.gguf: GGUF key 'qwen2.rope.scaling.type' is not "
                        "supported by fmc (= \"longrope\": fmc applies "
                        "none, linear and yarn)"));
  GGUFWriter none;
  tiny(none, "llama")
      .str("llama.rope.scaling.type", "none")
      .f32("llama.rope.scaling.factor", 8.0f);
  EXPECT_THAT(error(none),
              HasSubstr("GGUF key 'llama.rope.scaling.factor' is not "
                        "supported by fmc (= 8 with rope.scaling.type "
                        "\"none\": state the type)"));
  GGUFWriter wide;
  tiny(wide, "llama").u32("llama.rope.dimension_count", 18);
  EXPECT_THAT(error(wide),
              HasSubstr("GGUF key 'llama.rope.dimension_count' is not "
                        "supported by fmc (= 18: RoPE turns an even number "
                        "of features, at most the head dimension 16)"));
  // rope_freqs.weight: rotary / 2 positive f32 divisors.
  GGUFWriter freqShape;
  tiny(freqShape, "llama").tensor("rope_freqs.weight", {4}, kF32, 16);
  EXPECT_THAT(error(freqShape),
              HasSubstr("m.gguf: tensor 'rope_freqs.weight' must be F32 of "
                        "shape [8] (rope.dimension_count / 2), got 1 "
                        "dimensions of 4"));
  GGUFWriter extra;
  tiny(extra, "llama").f32("llama.rope.scaling.yarn_beta_fast", 16.0f);
  EXPECT_THAT(error(extra),
              HasSubstr("GGUF key 'llama.rope.scaling.yarn_beta_fast' is not "
                        "supported by fmc"));
  GGUFWriter values;
  tiny(values, "gemma2")
      .u32("gemma2.attention.sliding_window", 8)
      .u32("gemma2.attention.key_length", 16)
      .u32("gemma2.attention.value_length", 32);
  EXPECT_THAT(error(values),
              HasSubstr("GGUF key 'gemma2.attention.value_length' is not "
                        "supported by fmc (= 32: fm.attention needs value "
                        "heads as wide as key heads (16))"));
  GGUFWriter used;
  tiny(used, "llama")
      .u32("llama.expert_count", 2)
      .u32("llama.expert_used_count", 3);
  EXPECT_THAT(error(used), HasSubstr("metadata 'llama.expert_used_count' = 3 "
                                     "exceeds 'llama.expert_count' = 2"));
}

TEST(GGUFArchitectures, UnsupportedArchitecture) {
  GGUFWriter w;
  w.str("general.architecture", "phi3");
  EXPECT_THAT(error(w), HasSubstr("m.gguf: unsupported GGUF architecture "
                                  "'phi3' (fmc reads llama (and Mixtral), "
                                  "qwen2, qwen2moe, olmoe, gemma2, gemma3, "
                                  "cohere2, llama4)"));
}

} // namespace
