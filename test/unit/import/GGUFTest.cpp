//===- GGUFTest.cpp - the GGUF container and llama reader -----------------===//

#include "import/ModelSource.h"
#include "import/readers/GGUFFile.h"

#include "GGUFWriter.h"
#include "TestUtil.h"

#include "gmock/gmock.h"

using namespace fmc::import;
using namespace fmc::import::test;
using ::testing::HasSubstr;

namespace {

constexpr uint32_t kF32 = 0, kF16 = 1, kQ4_0 = 2, kQ8_0 = 8, kQ4_K = 12,
                   kBF16 = 30;

TEST(GGUF, ReadsStories260K) {
  FMC_REQUIRE_STORIES();
  std::string path = storiesPath("stories260K.gguf");
  FMC_ASSERT_OK_AND_ASSIGN(source, readGGUF(path));
  const llvm::json::Object &c = source.config;
  EXPECT_EQ(c.getString("model_type"), "llama");
  EXPECT_EQ(c.getInteger("hidden_size"), 64);
  EXPECT_EQ(c.getInteger("intermediate_size"), 172);
  EXPECT_EQ(c.getInteger("num_hidden_layers"), 5);
  EXPECT_EQ(c.getInteger("num_attention_heads"), 8);
  EXPECT_EQ(c.getInteger("num_key_value_heads"), 4);
  EXPECT_EQ(c.getInteger("vocab_size"), 512); // From the token list.
  // The converter's default, not the model's limit (see the README).
  EXPECT_EQ(c.getInteger("max_position_embeddings"), 128);
  EXPECT_EQ(c.getNumber("rms_norm_eps"), static_cast<double>(1e-5f));
  EXPECT_EQ(c.getNumber("rope_theta"), 10000.0); // Absent: the default.
  EXPECT_EQ(c.getInteger("bos_token_id"), 1);
  EXPECT_EQ(c.getInteger("eos_token_id"), 2);
  EXPECT_EQ(c.getBoolean("tie_word_embeddings"), false);
  EXPECT_EQ(c.getString("fmc_rope_layout"), "interleaved");

  ASSERT_EQ(source.tensors.size(), 48u);
  const TensorRef *embed = source.find("model.embed_tokens.weight");
  ASSERT_NE(embed, nullptr);
  EXPECT_EQ(embed->shape, std::vector<int64_t>({512, 64})); // Dims reversed.
  EXPECT_EQ(embed->dtype, DType::F32);
  // Tensor infos end at 14152; the data starts at the next multiple of 32.
  EXPECT_EQ(embed->offset, 14176u);
  EXPECT_EQ(embed->file, path);
  const TensorRef *head = source.find("lm_head.weight");
  ASSERT_NE(head, nullptr);
  EXPECT_EQ(head->offset, 14176u + 131328);
  EXPECT_EQ(source.find("model.layers.0.self_attn.k_proj.weight")->shape,
            std::vector<int64_t>({32, 64}));
  EXPECT_EQ(source.find("model.layers.4.mlp.down_proj.weight")->shape,
            std::vector<int64_t>({64, 172}));
  EXPECT_NE(source.find("model.layers.4.post_attention_layernorm.weight"),
            nullptr);
  EXPECT_NE(source.find("model.norm.weight"), nullptr);
  // The canonical order: embedding, layers, final norm, lm_head.
  EXPECT_EQ(source.tensors.front().name, "model.embed_tokens.weight");
  EXPECT_EQ(source.tensors[1].name, "model.layers.0.input_layernorm.weight");
  EXPECT_EQ(source.tensors[46].name, "model.norm.weight");
  EXPECT_EQ(source.tensors[47].name, "lm_head.weight");

  ASSERT_TRUE(source.tokenizer.has_value());
  EXPECT_EQ(source.tokenizer->format, TokenizerRef::Format::GGUF);
  EXPECT_EQ(source.tokenizer->file, path);
}

TEST(GGUF, ReadsQuantizedStories260K) {
  FMC_REQUIRE_STORIES();
  for (auto [file, dtype] : {std::pair{"stories260K-Q8_0.gguf", DType::Q8_0},
                             std::pair{"stories260K-Q4_0.gguf", DType::Q4_0}}) {
    SCOPED_TRACE(file);
    FMC_ASSERT_OK_AND_ASSIGN(source, readGGUF(storiesPath(file)));
    const TensorRef *q = source.find("model.layers.2.self_attn.q_proj.weight");
    ASSERT_NE(q, nullptr);
    EXPECT_EQ(q->dtype, dtype);
    EXPECT_EQ(q->shape, std::vector<int64_t>({64, 64}));
    EXPECT_EQ(q->bytes, 64u * 64 / 32 * (dtype == DType::Q8_0 ? 34 : 18));
    // 172 columns are not a multiple of 32: down_proj falls back to F16.
    const TensorRef *down = source.find("model.layers.2.mlp.down_proj.weight");
    EXPECT_EQ(down->dtype, DType::F16);
    EXPECT_EQ(down->bytes, 64u * 172 * 2);
    EXPECT_EQ(source.find("model.norm.weight")->dtype, DType::F32);
    EXPECT_EQ(source.find("lm_head.weight")->dtype, DType::Q8_0);
    EXPECT_EQ(source.tensors.size(), 48u);
    // Aligned (the default 32) and inside the file.
    for (const TensorRef &tensor : source.tensors) {
      EXPECT_EQ(tensor.offset % 32, 0u) << tensor.name;
      EXPECT_EQ(tensorBytes(tensor).size(), tensor.bytes) << tensor.name;
    }
  }
}

TEST(GGUF, ParsesEveryMetadataType) {
  GGUFWriter w;
  w.version = 2;
  w.raw("u8", 0, le<uint8_t>(200))
      .raw("i8", 1, le<int8_t>(-5))
      .raw("u16", 2, le<uint16_t>(60000))
      .raw("i16", 3, le<int16_t>(-30000))
      .u32("u32", 4000000000u)
      .i32("i32", -7)
      .f32("f32", 0.5f)
      .boolean("bool", true)
      .str("string", "hello")
      .raw("u64", 10, le<uint64_t>(UINT64_MAX))
      .raw("i64", 11, le<int64_t>(-(int64_t(1) << 40)))
      .raw("f64", 12, le<double>(0.25))
      .array<int32_t>("ints", 5, {1, -2, 3})
      .strings("strings", {"a", "", "ccc"})
      // An array of two arrays of u8.
      .raw("nested", 9,
           le<uint32_t>(9) + le<uint64_t>(2) + le<uint32_t>(0) +
               le<uint64_t>(1) + "\x07" + le<uint32_t>(0) + le<uint64_t>(0));
  std::string bytes = w.build();
  FMC_ASSERT_OK_AND_ASSIGN(gguf, parseGGUFFile("t.gguf", bytes));
  EXPECT_EQ(gguf.version, 2u);
  EXPECT_EQ(gguf.find("u8")->getInteger(), 200);
  EXPECT_EQ(gguf.find("i8")->getInteger(), -5);
  EXPECT_EQ(gguf.find("u16")->getInteger(), 60000);
  EXPECT_EQ(gguf.find("i16")->getInteger(), -30000);
  EXPECT_EQ(gguf.find("u32")->getInteger(), 4000000000);
  EXPECT_EQ(gguf.find("i32")->getInteger(), -7);
  EXPECT_EQ(gguf.find("f32")->getNumber(), 0.5);
  EXPECT_EQ(gguf.find("f32")->getInteger(), std::nullopt);
  EXPECT_EQ(gguf.find("bool")->getBool(), true);
  EXPECT_EQ(gguf.find("string")->getString(), "hello");
  EXPECT_EQ(gguf.find("u64")->getInteger(), std::nullopt); // Beyond int64.
  EXPECT_EQ(gguf.find("u64")->unsignedValue, UINT64_MAX);
  EXPECT_EQ(gguf.find("i64")->getInteger(), -(int64_t(1) << 40));
  EXPECT_EQ(gguf.find("f64")->getNumber(), 0.25);
  const auto *ints = gguf.find("ints")->getArray(GGUFType::I32);
  ASSERT_NE(ints, nullptr);
  ASSERT_EQ(ints->size(), 3u);
  EXPECT_EQ((*ints)[1].getInteger(), -2);
  EXPECT_EQ(gguf.find("ints")->getArray(GGUFType::String), nullptr);
  const auto *strings = gguf.find("strings")->getArray(GGUFType::String);
  ASSERT_NE(strings, nullptr);
  EXPECT_EQ((*strings)[2].getString(), "ccc");
  EXPECT_EQ((*strings)[1].getString(), "");
  const auto *nested = gguf.find("nested")->getArray(GGUFType::Array);
  ASSERT_NE(nested, nullptr);
  ASSERT_EQ(nested->size(), 2u);
  EXPECT_EQ((*nested)[0].elements.at(0).getInteger(), 7);
  EXPECT_TRUE((*nested)[1].elements.empty());
  EXPECT_EQ(gguf.alignment, 32u);
  EXPECT_EQ(gguf.dataStart, bytes.size());
}

TEST(GGUF, HonoursGeneralAlignment) {
  GGUFWriter w;
  w.alignment = 64;
  tinyLlama(w).u32("general.alignment", 64);
  w.tensor("token_embd.weight", {32, 8}, kF32, 32 * 8 * 4)
      .tensor("output_norm.weight", {32}, kF32, 32 * 4);
  uint64_t dataStart;
  std::string bytes = w.build(&dataStart);
  EXPECT_EQ(dataStart % 64, 0u);
  TempDir tmp;
  FMC_ASSERT_OK_AND_ASSIGN(source, readGGUF(tmp.write("a.gguf", bytes)));
  EXPECT_EQ(source.find("model.embed_tokens.weight")->offset, dataStart);
  EXPECT_EQ(source.find("model.norm.weight")->offset, dataStart + 1024);
  // No token list: the vocabulary size comes from the embedding.
  EXPECT_EQ(source.config.getInteger("vocab_size"), 8);
  EXPECT_EQ(source.config.getInteger("num_key_value_heads"), 2); // Default.
  EXPECT_EQ(source.config.getBoolean("tie_word_embeddings"), true);
  EXPECT_FALSE(source.config.get("bos_token_id"));
  EXPECT_FALSE(source.tokenizer.has_value());
}

TEST(GGUF, MapsTensorNamesAndDTypes) {
  GGUFWriter w;
  tinyLlama(w)
      .u32("llama.attention.head_count_kv", 1)
      .u32("llama.attention.key_length", 16)
      .f32("llama.rope.freq_base", 500000.0f)
      .u32("llama.vocab_size", 99)
      .u32("tokenizer.ggml.bos_token_id", 5)
      .u32("tokenizer.ggml.eos_token_id", 0xffffffffu); // "None".
  w.tensor("blk.0.attn_q.weight", {32, 32}, kQ8_0, 32 * 34)
      .tensor("blk.0.attn_q.bias", {32}, kBF16, 64)
      .tensor("blk.0.attn_k.weight", {32, 16}, kQ4_0, 16 * 18)
      .tensor("blk.0.attn_v.weight", {32, 16}, kF16, 16 * 32 * 2)
      .tensor("blk.0.attn_output.weight", {32, 32}, kF32, 32 * 32 * 4)
      .tensor("blk.0.attn_norm.weight", {32}, kF32, 128)
      .tensor("blk.0.ffn_norm.weight", {32}, kF32, 128)
      .tensor("blk.0.ffn_gate.weight", {32, 64}, kF32, 64 * 32 * 4)
      .tensor("blk.0.ffn_up.weight", {32, 64}, kF32, 64 * 32 * 4)
      .tensor("blk.0.ffn_down.weight", {64, 32}, kF32, 64 * 32 * 4)
      .tensor("rope_freqs.weight", {8}, kF32, 32);
  TempDir tmp;
  FMC_ASSERT_OK_AND_ASSIGN(source, readGGUF(tmp.write("m.gguf", w.build())));
  std::vector<std::string> names;
  for (const TensorRef &tensor : source.tensors)
    names.push_back(tensor.name);
  EXPECT_THAT(names, ::testing::ElementsAre(
                         "model.layers.0.input_layernorm.weight",
                         "model.layers.0.self_attn.q_proj.weight",
                         "model.layers.0.self_attn.k_proj.weight",
                         "model.layers.0.self_attn.v_proj.weight",
                         "model.layers.0.self_attn.o_proj.weight",
                         "model.layers.0.post_attention_layernorm.weight",
                         "model.layers.0.mlp.gate_proj.weight",
                         "model.layers.0.mlp.down_proj.weight",
                         "model.layers.0.mlp.up_proj.weight",
                         "model.layers.0.self_attn.q_proj.bias"));
  // llama's rope_freqs.weight is RoPE scaling: read into the config.
  ASSERT_NE(source.config.getArray("fmc_rope_freq_factors"), nullptr);
  EXPECT_EQ(source.config.getArray("fmc_rope_freq_factors")->size(), 8u);
  EXPECT_EQ(source.find("model.layers.0.self_attn.q_proj.bias")->dtype,
            DType::BF16);
  EXPECT_EQ(source.find("model.layers.0.self_attn.k_proj.weight")->dtype,
            DType::Q4_0);
  EXPECT_EQ(source.find("model.layers.0.self_attn.k_proj.weight")->shape,
            std::vector<int64_t>({16, 32}));
  EXPECT_EQ(source.find("model.layers.0.mlp.down_proj.weight")->shape,
            std::vector<int64_t>({32, 64}));
  EXPECT_EQ(source.config.getInteger("num_key_value_heads"), 1);
  EXPECT_EQ(source.config.getInteger("head_dim"), 16);
  EXPECT_EQ(source.config.getNumber("rope_theta"), 500000.0);
  EXPECT_EQ(source.config.getInteger("vocab_size"), 99);
  EXPECT_EQ(source.config.getInteger("bos_token_id"), 5);
  EXPECT_FALSE(source.config.get("eos_token_id"));
}

/// readGGUF's message for the file `w` builds.
std::string ggufError(const GGUFWriter &w) {
  TempDir tmp;
  return errorOf(readGGUF(tmp.write("model.gguf", w.build())));
}

TEST(GGUF, WrongMagic) {
  GGUFWriter w;
  w.magic = "GGML";
  EXPECT_THAT(ggufError(w), HasSubstr("model.gguf: not a GGUF file: magic "
                                      "'GGML', expected 'GGUF'"));
  w.magic = std::string("\x00\xff\x01", 3) + "A";
  EXPECT_THAT(ggufError(w), HasSubstr("magic '\\x00\\xff\\x01A'"));
}

TEST(GGUF, UnsupportedVersion) {
  GGUFWriter w;
  w.version = 1;
  EXPECT_THAT(ggufError(w), HasSubstr("model.gguf: GGUF version 1 is not "
                                      "supported (fmc reads versions 2 and "
                                      "3)"));
}

TEST(GGUF, TruncatedHeader) {
  TempDir tmp;
  std::string bytes = GGUFWriter().build().substr(0, 14);
  EXPECT_THAT(errorOf(readGGUF(tmp.write("t.gguf", bytes))),
              HasSubstr("t.gguf: truncated: the tensor count needs 8 bytes at "
                        "offset 8, but the file ends at 14"));
  EXPECT_THAT(errorOf(readGGUF(tmp.write("t.gguf", "GG"))),
              HasSubstr("t.gguf: truncated: the magic needs 4 bytes"));
}

TEST(GGUF, TruncatedMetadata) {
  GGUFWriter w;
  tinyLlama(w).str("general.name", "a long name that the file cuts off");
  std::string bytes = w.build();
  // Cut inside the last string; then the file also has no room for it.
  size_t cut = bytes.find("cuts");
  TempDir tmp;
  EXPECT_THAT(errorOf(readGGUF(tmp.write("t.gguf", bytes.substr(0, cut)))),
              HasSubstr("t.gguf: truncated: metadata 'general.name' needs 34 "
                        "bytes at offset"));
}

TEST(GGUF, TruncatedTensorData) {
  GGUFWriter w;
  tinyLlama(w).tensor("token_embd.weight", {32, 8}, kF32, 32 * 8 * 4);
  std::string bytes = w.build();
  TempDir tmp;
  EXPECT_THAT(
      errorOf(readGGUF(tmp.write("t.gguf", bytes.substr(0, bytes.size() - 4)))),
      HasSubstr("t.gguf: tensor 'token_embd.weight': offset 0 + 1024 bytes "
                "exceed the 1020 bytes of tensor data"));
}

TEST(GGUF, TensorOffsetOutOfRange) {
  GGUFWriter w;
  tinyLlama(w)
      .tensor("output_norm.weight", {32}, kF32, 128)
      .tensor("token_embd.weight", {32, 8}, kF32, 0, /*offset=*/1u << 20);
  EXPECT_THAT(ggufError(w),
              HasSubstr("model.gguf: tensor 'token_embd.weight': offset "
                        "1048576 + 1024 bytes exceed the 128 bytes of tensor "
                        "data"));
  GGUFWriter huge;
  tinyLlama(huge).tensor("output_norm.weight", {32}, kF32, 128,
                         /*offset=*/UINT64_MAX - 31);
  EXPECT_THAT(ggufError(huge), HasSubstr("offset 18446744073709551584 + 128 "
                                         "bytes exceed the 0 bytes"));
}

TEST(GGUF, MisalignedOffset) {
  GGUFWriter w;
  tinyLlama(w).tensor("output_norm.weight", {32}, kF32, 0, /*offset=*/4);
  EXPECT_THAT(ggufError(w),
              HasSubstr("tensor 'output_norm.weight': offset 4 is not a "
                        "multiple of the alignment 32"));
}

TEST(GGUF, OverlappingTensors) {
  GGUFWriter w;
  tinyLlama(w)
      .tensor("token_embd.weight", {32, 8}, kF32, 32 * 8 * 4)
      .tensor("output_norm.weight", {32}, kF32, 0, /*offset=*/64);
  EXPECT_THAT(ggufError(w), HasSubstr("tensors 'token_embd.weight' and "
                                      "'output_norm.weight' overlap"));
}

TEST(GGUF, UnsupportedTensorType) {
  GGUFWriter w;
  // IQ2_XXS: a lattice codebook format fmc does not decode.
  tinyLlama(w).tensor("blk.0.attn_q.weight", {256, 32}, 16, 66 * 32);
  EXPECT_THAT(ggufError(w),
              HasSubstr("model.gguf: tensor 'blk.0.attn_q.weight': "
                        "unsupported ggml type 16 (IQ2_XXS); fmc reads F32, "
                        "F16, BF16 and the block formats Q4_0, Q4_1, Q5_0, "
                        "Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, "
                        "IQ4_XS, TQ1_0 and TQ2_0"));
  GGUFWriter unknown;
  tinyLlama(unknown).tensor("x", {4}, 1000, 4);
  EXPECT_THAT(ggufError(unknown),
              HasSubstr("tensor 'x': unsupported ggml type 1000 (unknown)"));
}

TEST(GGUF, QuantizedRowsMustBeWholeBlocks) {
  GGUFWriter w;
  tinyLlama(w).tensor("blk.0.ffn_down.weight", {172, 64}, kQ8_0, 64 * 6 * 34);
  EXPECT_THAT(ggufError(w),
              HasSubstr("tensor 'blk.0.ffn_down.weight': Q8_0 needs an "
                        "innermost dimension that is a multiple of 32, not "
                        "172"));
  GGUFWriter k;
  tinyLlama(k).tensor("blk.0.ffn_down.weight", {128, 64}, kQ4_K, 64 * 144);
  EXPECT_THAT(ggufError(k),
              HasSubstr("tensor 'blk.0.ffn_down.weight': Q4_K needs an "
                        "innermost dimension that is a multiple of 256, not "
                        "128"));
}

TEST(GGUF, TooManyDims) {
  GGUFWriter w;
  tinyLlama(w).tensor("t", {1, 1, 1, 1, 1}, kF32, 4);
  EXPECT_THAT(ggufError(w), HasSubstr("tensor 't': n_dims 5 exceeds GGML's 4"));
}

TEST(GGUF, DuplicateKeysAndTensors) {
  GGUFWriter keys;
  tinyLlama(keys).u32("llama.block_count", 2);
  EXPECT_THAT(ggufError(keys),
              HasSubstr("model.gguf: duplicate metadata 'llama.block_count'"));
  GGUFWriter tensors;
  tinyLlama(tensors)
      .tensor("output_norm.weight", {32}, kF32, 128)
      .tensor("output_norm.weight", {32}, kF32, 128);
  EXPECT_THAT(ggufError(tensors),
              HasSubstr("model.gguf: duplicate tensor 'output_norm.weight'"));
  GGUFWriter aliases;
  tinyLlama(aliases)
      .tensor("output_norm.weight", {32}, kF32, 128)
      .tensor("model.norm.weight", {32}, kF32, 128);
  EXPECT_THAT(ggufError(aliases),
              HasSubstr("tensors 'output_norm.weight' and 'model.norm.weight' "
                        "both map to 'model.norm.weight'"));
}

TEST(GGUF, MalformedValues) {
  GGUFWriter badBool;
  tinyLlama(badBool).raw("flag", 7, "\x02");
  EXPECT_THAT(ggufError(badBool),
              HasSubstr("metadata 'flag': bool value 2 is neither 0 nor 1"));
  GGUFWriter badType;
  tinyLlama(badType).raw("x", 13, "");
  EXPECT_THAT(ggufError(badType), HasSubstr("metadata 'x': unknown value type "
                                            "13"));
  GGUFWriter badElement;
  tinyLlama(badElement).raw("x", 9, le<uint32_t>(77) + le<uint64_t>(0));
  EXPECT_THAT(ggufError(badElement),
              HasSubstr("metadata 'x': unknown array element type 77"));
  GGUFWriter hugeArray;
  tinyLlama(hugeArray).raw("x", 9, le<uint32_t>(8) + le<uint64_t>(1ull << 60));
  EXPECT_THAT(ggufError(hugeArray),
              HasSubstr("truncated: metadata 'x': 1152921504606846976 string "
                        "elements do not fit in the"));
  GGUFWriter deep;
  std::string value;
  for (int i = 0; i < 5; ++i)
    value += le<uint32_t>(9) + le<uint64_t>(1);
  tinyLlama(deep).raw("x", 9, value + le<uint32_t>(0) + le<uint64_t>(0));
  EXPECT_THAT(ggufError(deep),
              HasSubstr("metadata 'x'[0][0][0][0]: arrays nested deeper than "
                        "4"));
  GGUFWriter counts;
  counts.raw("x", 4, le<uint32_t>(1));
  std::string bytes = counts.build();
  bytes.replace(16, 8, le<uint64_t>(1ull << 62)); // The metadata count.
  TempDir tmp;
  EXPECT_THAT(errorOf(readGGUF(tmp.write("c.gguf", bytes))),
              HasSubstr("truncated: 4611686018427387904 metadata entries do "
                        "not fit"));
}

TEST(GGUF, BadAlignment) {
  GGUFWriter w;
  tinyLlama(w).u32("general.alignment", 48);
  EXPECT_THAT(ggufError(w), HasSubstr("metadata 'general.alignment' must be a "
                                      "power of two, not 48"));
  GGUFWriter s;
  tinyLlama(s).str("general.alignment", "32");
  EXPECT_THAT(ggufError(s), HasSubstr("metadata 'general.alignment' must be a "
                                      "power of two, not a string"));
}

TEST(GGUF, UnsupportedArchitecture) {
  GGUFWriter w;
  w.str("general.architecture", "falcon");
  EXPECT_THAT(ggufError(w),
              HasSubstr("model.gguf: unsupported GGUF architecture 'falcon' "
                        "(fmc reads llama (and Mixtral), qwen2, "));
  EXPECT_THAT(ggufError(GGUFWriter()),
              HasSubstr("model.gguf: missing metadata 'general.architecture'"));
}

TEST(GGUF, MissingOrMistypedLlamaMetadata) {
  GGUFWriter missing;
  missing.str("general.architecture", "llama")
      .u32("llama.embedding_length", 32)
      .u32("llama.attention.head_count", 2);
  EXPECT_THAT(ggufError(missing), HasSubstr("model.gguf: missing metadata "
                                            "'llama.feed_forward_length'"));
  GGUFWriter mistyped;
  mistyped.str("general.architecture", "llama")
      .u32("llama.attention.head_count", 2)
      .str("llama.embedding_length", "32");
  EXPECT_THAT(ggufError(mistyped),
              HasSubstr("model.gguf: metadata 'llama.embedding_length' is a "
                        "string, expected an integer"));
  GGUFWriter zero;
  zero.str("general.architecture", "llama")
      .i32("llama.attention.head_count", 0);
  EXPECT_THAT(ggufError(zero),
              HasSubstr("metadata 'llama.attention.head_count' is 0, expected "
                        "a positive integer"));
  GGUFWriter eps;
  tinyLlama(eps).str("llama.rope.freq_base", "high");
  EXPECT_THAT(ggufError(eps), HasSubstr("metadata 'llama.rope.freq_base' is a "
                                        "string, expected a number"));
  GGUFWriter noVocab;
  tinyLlama(noVocab);
  EXPECT_THAT(ggufError(noVocab), HasSubstr("cannot tell the vocabulary size"));
}

TEST(GGUF, MissingFile) {
  TempDir tmp;
  EXPECT_THAT(errorOf(readGGUF(tmp.path("absent.gguf"))),
              HasSubstr("absent.gguf: No such file or directory"));
}

} // namespace
