//===- ImportBuilderTest.cpp - buildFmModule on in-memory sources ---------===//
//
// The builder never reads tensor bytes, so these tests describe models in
// memory (a config and a tensor table with made-up offsets) and check the
// module's structure and the builder's diagnostics. Whole-file imports of
// every architecture are the lit tests under test/Import/.
//
//===----------------------------------------------------------------------===//

#include "import/builder/Builder.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

using namespace fmc::import;
using namespace mlir;

namespace {

/// A model source built up in memory; tensors are F32, laid out one after
/// the other in "model.safetensors".
struct SourceBuilder {
  ModelSource source;
  uint64_t offset = 0;

  explicit SourceBuilder(llvm::json::Object config) {
    source.config = std::move(config);
    source.origin = "mem";
  }
  void add(std::string name, std::vector<int64_t> shape,
           DType dtype = DType::F32) {
    uint64_t elements = 1;
    for (int64_t d : shape)
      elements *= d;
    uint64_t bytes = dtype == DType::F32 ? elements * 4 : elements * 2;
    source.tensors.push_back({std::move(name), std::move(shape), dtype,
                              "model.safetensors", offset, bytes});
    offset += bytes;
  }
  void remove(llvm::StringRef name) {
    llvm::erase_if(source.tensors,
                   [&](const TensorRef &t) { return t.name == name; });
  }
  TensorRef *find(llvm::StringRef name) {
    for (TensorRef &t : source.tensors)
      if (t.name == name)
        return &t;
    return nullptr;
  }
};

constexpr int64_t kHidden = 64, kHeads = 8, kKvHeads = 4, kHeadDim = 8,
                  kFfn = 172, kVocab = 512;

llvm::json::Object llamaConfig(int64_t layers) {
  return llvm::json::Object{
      {"model_type", "llama"},
      {"hidden_size", kHidden},
      {"intermediate_size", kFfn},
      {"num_hidden_layers", layers},
      {"num_attention_heads", kHeads},
      {"num_key_value_heads", kKvHeads},
      {"vocab_size", kVocab},
      {"max_position_embeddings", 512},
      {"rms_norm_eps", 1e-5},
      {"rope_theta", 10000.0},
      {"tie_word_embeddings", true},
      {"bos_token_id", 1},
      {"eos_token_id", 2},
  };
}

void addLlamaLayer(SourceBuilder &b, const std::string &p, bool kv = true) {
  b.add(p + ".input_layernorm.weight", {kHidden});
  b.add(p + ".self_attn.q_proj.weight", {kHeads * kHeadDim, kHidden});
  if (kv) {
    b.add(p + ".self_attn.k_proj.weight", {kKvHeads * kHeadDim, kHidden});
    b.add(p + ".self_attn.v_proj.weight", {kKvHeads * kHeadDim, kHidden});
  }
  b.add(p + ".self_attn.o_proj.weight", {kHidden, kHeads * kHeadDim});
  b.add(p + ".post_attention_layernorm.weight", {kHidden});
}

void addMlp(SourceBuilder &b, const std::string &p, int64_t inter = kFfn) {
  b.add(p + ".gate_proj.weight", {inter, kHidden});
  b.add(p + ".up_proj.weight", {inter, kHidden});
  b.add(p + ".down_proj.weight", {kHidden, inter});
}

SourceBuilder llama(int64_t layers) {
  SourceBuilder b(llamaConfig(layers));
  b.add("model.embed_tokens.weight", {kVocab, kHidden});
  for (int64_t i = 0; i < layers; ++i) {
    std::string p = "model.layers." + std::to_string(i);
    addLlamaLayer(b, p);
    addMlp(b, p + ".mlp");
  }
  b.add("model.norm.weight", {kHidden});
  return b;
}

class BuilderTest : public ::testing::Test {
protected:
  MLIRContext context;

  /// The module as text, or the error message prefixed with "error: ".
  std::string build(const ModelSource &source) {
    auto module = buildFmModule(context, source);
    if (!module)
      return "error: " + llvm::toString(module.takeError());
    std::string text;
    llvm::raw_string_ostream os(text);
    (*module)->print(os);
    return text;
  }
  static size_t count(const std::string &text, const std::string &needle) {
    size_t n = 0;
    for (size_t at = text.find(needle); at != std::string::npos;
         at = text.find(needle, at + 1))
      ++n;
    return n;
  }
};

TEST_F(BuilderTest, LlamaHasOneParamPerTensorAndOneCachePerLayer) {
  SourceBuilder b = llama(5);
  b.source.tokenizer =
      TokenizerRef{TokenizerRef::Format::Llama2c, "tok512.bin"};
  std::string ir = build(b.source);
  ASSERT_EQ(ir.find("error:"), std::string::npos) << ir;
  EXPECT_EQ(count(ir, "fm.param @"), 47u) << ir;
  EXPECT_EQ(count(ir, "fm.kv_cache @"), 5u);
  EXPECT_EQ(
      count(ir, "linear capacity = 512, kv_heads = 4, head_dim = 8 : f32"), 5u);
  EXPECT_EQ(count(ir, "fm.rope rotate_half"), 10u);
  EXPECT_EQ(count(ir, "fm.attention global"), 5u);
  EXPECT_NE(ir.find("fm.architecture = \"llama\""), std::string::npos);
  EXPECT_NE(ir.find("fm.context_length = 512 : i64"), std::string::npos);
  EXPECT_NE(ir.find("fm.tokenizer llama2c \"tok512.bin\" bos = 1, eos = 2"),
            std::string::npos);
  // The tied head reads the embedding table.
  EXPECT_NE(ir.find(", @model.embed_tokens.weight : tensor<?x64xf32> -> "
                    "tensor<?x512xf32>"),
            std::string::npos)
      << ir;
}

TEST_F(BuilderTest, ParamsFollowUseOrderNotFileOrder) {
  SourceBuilder b = llama(1);
  std::reverse(b.source.tensors.begin(), b.source.tensors.end());
  std::string ir = build(b.source);
  size_t embed = ir.find("fm.param @model.embed_tokens.weight");
  size_t norm = ir.find("fm.param @model.norm.weight");
  ASSERT_NE(embed, std::string::npos) << ir;
  EXPECT_LT(embed, norm);
}

TEST_F(BuilderTest, InterleavedLayoutFromReaderKey) {
  SourceBuilder b = llama(1);
  b.source.config["fmc_rope_layout"] = "interleaved";
  std::string ir = build(b.source);
  EXPECT_EQ(count(ir, "fm.rope interleaved"), 2u) << ir;
}

TEST_F(BuilderTest, UntiedHeadUsesLmHead) {
  SourceBuilder b = llama(1);
  b.source.config["tie_word_embeddings"] = false;
  b.add("lm_head.weight", {kVocab, kHidden});
  std::string ir = build(b.source);
  EXPECT_NE(ir.find("fm.param @lm_head.weight"), std::string::npos) << ir;
}

TEST_F(BuilderTest, F16TensorsKeepTheirElementType) {
  SourceBuilder b(llamaConfig(1));
  b.add("model.embed_tokens.weight", {kVocab, kHidden}, DType::F16);
  addLlamaLayer(b, "model.layers.0");
  addMlp(b, "model.layers.0.mlp");
  b.add("model.norm.weight", {kHidden});
  std::string ir = build(b.source);
  EXPECT_NE(ir.find("tensor<512x64xf16> from <\"model.safetensors\", "
                    "offset = 0, dtype = f16>"),
            std::string::npos)
      << ir;
}

TEST_F(BuilderTest, TokenIdsFromListsAndNulls) {
  SourceBuilder b = llama(1);
  b.source.tokenizer = TokenizerRef{TokenizerRef::Format::HFJson, "t.json"};
  b.source.config["bos_token_id"] = nullptr;
  b.source.config["eos_token_id"] = llvm::json::Array{7, 2};
  std::string ir = build(b.source);
  EXPECT_NE(ir.find("fm.tokenizer hf_json \"t.json\" bos = -1, eos = 7 "
                    "{add_bos = false}"),
            std::string::npos)
      << ir;
}

TEST_F(BuilderTest, GemmaEmbeddingScaleIsRoundedToTheWeightDtype) {
  // hidden 3840: sqrt = 61.9677..., which BF16 rounds to 62.
  llvm::json::Object config{{"model_type", "gemma2"},
                            {"hidden_size", 3840},
                            {"intermediate_size", 16},
                            {"num_hidden_layers", 1},
                            {"num_attention_heads", 1},
                            {"num_key_value_heads", 1},
                            {"head_dim", 8},
                            {"vocab_size", 4},
                            {"max_position_embeddings", 8},
                            {"sliding_window", 4}};
  SourceBuilder b(std::move(config));
  b.add("model.embed_tokens.weight", {4, 3840}, DType::BF16);
  std::string p = "model.layers.0";
  for (const char *norm :
       {"input_layernorm", "post_attention_layernorm",
        "pre_feedforward_layernorm", "post_feedforward_layernorm"})
    b.add(p + "." + norm + ".weight", {3840});
  b.add(p + ".self_attn.q_proj.weight", {8, 3840});
  b.add(p + ".self_attn.k_proj.weight", {8, 3840});
  b.add(p + ".self_attn.v_proj.weight", {8, 3840});
  b.add(p + ".self_attn.o_proj.weight", {3840, 8});
  b.add(p + ".mlp.gate_proj.weight", {16, 3840});
  b.add(p + ".mlp.up_proj.weight", {16, 3840});
  b.add(p + ".mlp.down_proj.weight", {3840, 16});
  b.add("model.norm.weight", {3840});
  std::string ir = build(b.source);
  EXPECT_NE(ir.find("{scale = 6.200000e+01 : f64}"), std::string::npos) << ir;
}

//===----------------------------------------------------------------------===//
// Diagnostics
//===----------------------------------------------------------------------===//

TEST_F(BuilderTest, UnknownArchitecture) {
  SourceBuilder b = llama(1);
  b.source.config["model_type"] = "gpt_neox";
  EXPECT_EQ(build(b.source).rfind(
                "error: mem: config field 'model_type' = \"gpt_neox\" is not a "
                "supported architecture (supported: llama, mistral",
                0),
            0u)
      << build(b.source);
}

TEST_F(BuilderTest, MissingField) {
  SourceBuilder b = llama(1);
  b.source.config.erase("hidden_size");
  EXPECT_EQ(build(b.source),
            "error: mem: config field 'hidden_size' is missing");
}

TEST_F(BuilderTest, InvalidField) {
  SourceBuilder b = llama(1);
  b.source.config["num_attention_heads"] = "eight";
  EXPECT_EQ(build(b.source), "error: mem: config field 'num_attention_heads' "
                             "must be a positive integer, got \"eight\"");
}

TEST_F(BuilderTest, ImplausibleCountsAreRejectedBeforeBuilding) {
  SourceBuilder b = llama(1);
  b.source.config["num_hidden_layers"] = 1000000000;
  EXPECT_EQ(build(b.source), "error: mem: config field 'num_hidden_layers' = "
                             "1000000000 is more than the 11 tensors the "
                             "model has");
  b.source.config["num_hidden_layers"] = int64_t(1) << 40;
  EXPECT_EQ(build(b.source), "error: mem: config field 'num_hidden_layers' = "
                             "1099511627776 is too large (at most 2^31 - 1)");
}

TEST_F(BuilderTest, HeadsNotMultipleOfKvHeads) {
  SourceBuilder b = llama(1);
  b.source.config["num_key_value_heads"] = 3;
  EXPECT_EQ(build(b.source), "error: mem: num_attention_heads (8) must be a "
                             "multiple of num_key_value_heads (3)");
}

TEST_F(BuilderTest, MultimodalWrapperIsRejected) {
  SourceBuilder b = llama(1);
  b.source.config["model_type"] = "gemma3";
  b.source.config["text_config"] = llvm::json::Object{{"hidden_size", 64}};
  EXPECT_EQ(build(b.source),
            "error: mem: config field 'text_config' is set: this is a "
            "multimodal checkpoint; fmc imports text-only decoders (a flat "
            "config, tensors under model.)");
}

TEST_F(BuilderTest, MissingTensor) {
  SourceBuilder b = llama(2);
  b.remove("model.layers.1.mlp.up_proj.weight");
  EXPECT_EQ(build(b.source),
            "error: mem: missing tensor 'model.layers.1.mlp.up_proj.weight'");
}

TEST_F(BuilderTest, ShapeDisagreesWithConfig) {
  SourceBuilder b = llama(1);
  b.find("model.layers.0.self_attn.k_proj.weight")->shape = {64, 64};
  EXPECT_EQ(build(b.source),
            "error: model.safetensors: tensor "
            "'model.layers.0.self_attn.k_proj.weight' has shape [64, 64], but "
            "mem implies [32, 64] (num_key_value_heads * (hidden_size / "
            "num_attention_heads) = 32, hidden_size = 64)");
}

TEST_F(BuilderTest, TensorOfALayerTheConfigLacks) {
  SourceBuilder b = llama(2);
  b.source.config["num_hidden_layers"] = 1;
  EXPECT_EQ(build(b.source),
            "error: model.safetensors: tensor "
            "'model.layers.1.input_layernorm.weight' is not used by the llama "
            "model that mem describes");
}

TEST_F(BuilderTest, I8IsRejected) {
  SourceBuilder b = llama(1);
  b.find("model.norm.weight")->dtype = DType::I8;
  b.find("model.norm.weight")->bytes = kHidden;
  EXPECT_EQ(build(b.source),
            "error: model.safetensors: tensor 'model.norm.weight' is stored as "
            "I8 without scales; fmc imports F32, F16, BF16 and ggml "
            "block-format tensors");
}

TEST_F(BuilderTest, ByteCountDisagreesWithShape) {
  SourceBuilder b = llama(1);
  b.find("model.norm.weight")->bytes = 100;
  EXPECT_EQ(build(b.source),
            "error: model.safetensors: tensor 'model.norm.weight' occupies 100 "
            "bytes, but shape [64] stored as f32 needs 256");
}

// default, linear, llama3 and yarn are applied (fmc-run-rope-scaling.test);
// any other type, or a type's missing field, names the key.
TEST_F(BuilderTest, RopeScalingOfAnotherTypeIsRejected) {
  SourceBuilder b = llama(1);
  b.source.config["rope_scaling"] =
      llvm::json::Object{{"rope_type", "dynamic"}, {"factor", 8.0}};
  EXPECT_EQ(build(b.source).rfind(
                "error: mem: config field 'rope_scaling.rope_type' = "
                "\"dynamic\" is not supported: fmc applies RoPE scaling of "
                "type default, linear, llama3 and yarn",
                0),
            0u)
      << build(b.source);
  b.source.config["rope_scaling"] =
      llvm::json::Object{{"type", "longrope"}, {"factor", 8.0}};
  EXPECT_EQ(build(b.source).rfind(
                "error: mem: config field 'rope_scaling.type' = \"longrope\"",
                0),
            0u)
      << build(b.source);
  b.source.config["rope_scaling"] =
      llvm::json::Object{{"rope_type", "llama3"}, {"factor", 8.0}};
  EXPECT_EQ(build(b.source).rfind("error: mem: config field "
                                  "'rope_scaling.low_freq_factor' is missing",
                                  0),
            0u)
      << build(b.source);
}

//===----------------------------------------------------------------------===//
// KV sharing (afm_on_device) and stacked experts
//===----------------------------------------------------------------------===//

TEST_F(BuilderTest, AfmOnDeviceReuseLayersReadTheLastRegularCache) {
  llvm::json::Object config = llamaConfig(4);
  config["model_type"] = "afm_on_device";
  config["num_kv_reuse_layers"] = 2;
  config["qk_norm"] = true;
  SourceBuilder b(std::move(config));
  b.add("model.embed_tokens.weight", {kVocab, kHidden});
  for (int i = 0; i < 4; ++i) {
    std::string p = "model.layers." + std::to_string(i);
    addLlamaLayer(b, p, /*kv=*/i < 2);
    b.add(p + ".self_attn.q_norm.weight", {kHeadDim});
    if (i < 2)
      b.add(p + ".self_attn.k_norm.weight", {kHeadDim});
    addMlp(b, p + ".mlp");
  }
  b.add("model.norm.weight", {kHidden});
  std::string ir = build(b.source);
  ASSERT_EQ(ir.find("error:"), std::string::npos) << ir;
  EXPECT_EQ(count(ir, "fm.kv_cache @"), 2u);
  EXPECT_EQ(count(ir, "reads @layer1 writes @layer1"), 1u) << ir;
  EXPECT_EQ(count(ir, "reads @layer1 heads"), 2u) << ir;
  EXPECT_EQ(count(ir, "{group_size = 8 : i64}"), 6u) << ir;
}

TEST_F(BuilderTest, AfmOnDeviceReuseLayerWithKProjIsReported) {
  llvm::json::Object config = llamaConfig(2);
  config["model_type"] = "afm_on_device";
  config["num_kv_reuse_layers"] = 1;
  SourceBuilder b(std::move(config));
  b.add("model.embed_tokens.weight", {kVocab, kHidden});
  for (int i = 0; i < 2; ++i) {
    std::string p = "model.layers." + std::to_string(i);
    addLlamaLayer(b, p);
    addMlp(b, p + ".mlp");
  }
  b.add("model.norm.weight", {kHidden});
  EXPECT_EQ(build(b.source),
            "error: model.safetensors: tensor "
            "'model.layers.1.self_attn.k_proj.weight' is not used by the "
            "afm_on_device model that mem describes");
}

TEST_F(BuilderTest, StackedExpertsAreSlicedInPlace) {
  llvm::json::Object config = llamaConfig(1);
  config["model_type"] = "olmoe";
  config["num_experts"] = 4;
  config["num_experts_per_tok"] = 2;
  config["intermediate_size"] = 32;
  SourceBuilder b(std::move(config));
  b.add("model.embed_tokens.weight", {kVocab, kHidden});
  addLlamaLayer(b, "model.layers.0");
  b.add("model.layers.0.self_attn.q_norm.weight", {kHeads * kHeadDim});
  b.add("model.layers.0.self_attn.k_norm.weight", {kKvHeads * kHeadDim});
  b.add("model.layers.0.mlp.gate.weight", {4, kHidden});
  b.add("model.layers.0.mlp.experts.gate_up_proj", {4, 64, kHidden});
  uint64_t gateUp = b.source.tensors.back().offset;
  b.add("model.layers.0.mlp.experts.down_proj", {4, kHidden, 32});
  uint64_t down = b.source.tensors.back().offset;
  b.add("model.norm.weight", {kHidden});
  std::string ir = build(b.source);
  ASSERT_EQ(ir.find("error:"), std::string::npos) << ir;
  // Expert 2's up rows: the second half of its [64, 64] slab.
  uint64_t slab = 64 * kHidden * 4;
  EXPECT_NE(ir.find("fm.param @model.layers.0.mlp.experts.2.up_proj.weight : "
                    "tensor<32x64xf32> from <\"model.safetensors\", "
                    "offset = " +
                    std::to_string(gateUp + 2 * slab + slab / 2)),
            std::string::npos)
      << ir;
  EXPECT_NE(ir.find("fm.param @model.layers.0.mlp.experts.3.down_proj.weight : "
                    "tensor<64x32xf32> from <\"model.safetensors\", "
                    "offset = " +
                    std::to_string(down + 3 * kHidden * 32 * 4)),
            std::string::npos)
      << ir;
  EXPECT_EQ(count(ir, "fm.glu silu"), 4u);
  EXPECT_NE(ir.find("fm.moe_combine"), std::string::npos);
}

} // namespace
