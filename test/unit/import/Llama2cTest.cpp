//===- Llama2cTest.cpp - the llama2.c checkpoint reader -------------------===//

#include "import/ModelSource.h"

#include "TestUtil.h"

#include "gmock/gmock.h"

#include <cstring>

using namespace fmc::import;
using namespace fmc::import::test;
using ::testing::HasSubstr;

namespace {

/// A llama2.c checkpoint with `header` and `floats` fp32 values numbered
/// 0, 1, 2, ... so a tensor's first value tells where it starts.
std::string checkpoint(std::vector<int32_t> header, size_t floats) {
  std::string file(header.size() * 4, '\0');
  std::memcpy(file.data(), header.data(), file.size());
  for (size_t i = 0; i < floats; ++i) {
    float value = static_cast<float>(i);
    file.append(reinterpret_cast<const char *>(&value), 4);
  }
  return file;
}

float firstFloat(const TensorRef &tensor) {
  float value;
  std::memcpy(&value, tensorBytes(tensor).data(), 4);
  return value;
}

TEST(Llama2c, ReadsStories260K) {
  FMC_REQUIRE_STORIES();
  FMC_ASSERT_OK_AND_ASSIGN(
      source, readLlama2c(storiesPath("stories260K.bin"),
                          storiesPath("tok512.bin")));
  const llvm::json::Object &c = source.config;
  EXPECT_EQ(c.getString("model_type"), "llama");
  EXPECT_EQ(c.getInteger("hidden_size"), 64);
  EXPECT_EQ(c.getInteger("intermediate_size"), 172);
  EXPECT_EQ(c.getInteger("num_hidden_layers"), 5);
  EXPECT_EQ(c.getInteger("num_attention_heads"), 8);
  EXPECT_EQ(c.getInteger("num_key_value_heads"), 4);
  EXPECT_EQ(c.getInteger("vocab_size"), 512);
  EXPECT_EQ(c.getInteger("max_position_embeddings"), 512);
  EXPECT_EQ(c.getNumber("rms_norm_eps"), 1e-5);
  EXPECT_EQ(c.getNumber("rope_theta"), 10000.0);
  EXPECT_EQ(c.getBoolean("tie_word_embeddings"), true);
  EXPECT_EQ(c.getInteger("bos_token_id"), 1);
  EXPECT_EQ(c.getInteger("eos_token_id"), 2);
  EXPECT_EQ(c.getString("fmc_rope_layout"), "interleaved");

  ASSERT_EQ(source.tensors.size(), 47u);
  // Layer-major order, as Hugging Face lists them.
  EXPECT_EQ(source.tensors[0].name, "model.embed_tokens.weight");
  EXPECT_EQ(source.tensors[1].name, "model.layers.0.input_layernorm.weight");
  EXPECT_EQ(source.tensors[2].name, "model.layers.0.self_attn.q_proj.weight");
  EXPECT_EQ(source.tensors[9].name, "model.layers.0.mlp.up_proj.weight");
  EXPECT_EQ(source.tensors[10].name, "model.layers.1.input_layernorm.weight");
  EXPECT_EQ(source.tensors[46].name, "model.norm.weight");
  EXPECT_EQ(source.find("lm_head.weight"), nullptr);

  const TensorRef *embed = source.find("model.embed_tokens.weight");
  EXPECT_EQ(embed->offset, 28u);
  EXPECT_EQ(embed->bytes, 512u * 64 * 4);
  EXPECT_EQ(embed->file, storiesPath("stories260K.bin"));
  // wq follows token_embedding and the 5 stacked rms_att vectors; layer 1's
  // slice is one 64 x 64 matrix further.
  EXPECT_EQ(source.find("model.layers.0.self_attn.q_proj.weight")->offset,
            28u + 4 * (512 * 64 + 5 * 64));
  EXPECT_EQ(source.find("model.layers.1.self_attn.q_proj.weight")->offset,
            28u + 4 * (512 * 64 + 5 * 64 + 64 * 64));
  EXPECT_EQ(source.find("model.layers.3.self_attn.k_proj.weight")->shape,
            std::vector<int64_t>({32, 64}));
  EXPECT_EQ(source.find("model.layers.2.mlp.down_proj.weight")->shape,
            std::vector<int64_t>({64, 172}));
  EXPECT_EQ(source.find("model.layers.2.mlp.gate_proj.weight")->shape,
            std::vector<int64_t>({172, 64}));
  // rms_final is the last tensor before the 2 x 512 x 4 floats of RoPE
  // tables that end the file.
  EXPECT_EQ(source.find("model.norm.weight")->offset,
            1056540u - 2 * 512 * 4 * 4 - 64 * 4);

  ASSERT_TRUE(source.tokenizer.has_value());
  EXPECT_EQ(source.tokenizer->format, TokenizerRef::Format::Llama2c);
  EXPECT_EQ(source.tokenizer->file, storiesPath("tok512.bin"));
}

// dim 4, hidden 8, 1 layer, 2 heads, 1 KV head, vocab 3 (untied), seq 2:
// 12 + 4 + 16 + 8 + 8 + 16 + 4 + 32 + 32 + 32 + 4 floats of weights, 2 x 2 of
// RoPE tables, then the 12 of wcls.
const std::vector<int32_t> kUntied = {4, 8, 1, 2, 1, -3, 2};
constexpr size_t kUntiedFloats = 168 + 4 + 12;

TEST(Llama2c, NegativeVocabSizeMeansAnUntiedClassifier) {
  TempDir tmp;
  std::string file =
      tmp.write("untied.bin", checkpoint(kUntied, kUntiedFloats));
  FMC_ASSERT_OK_AND_ASSIGN(source, readLlama2c(file, std::nullopt));
  EXPECT_EQ(source.config.getBoolean("tie_word_embeddings"), false);
  EXPECT_EQ(source.config.getInteger("vocab_size"), 3);
  EXPECT_FALSE(source.tokenizer.has_value());
  ASSERT_EQ(source.tensors.size(), 12u);
  EXPECT_EQ(source.tensors.back().name, "lm_head.weight");
  const TensorRef *head = source.find("lm_head.weight");
  ASSERT_NE(head, nullptr);
  EXPECT_EQ(head->shape, std::vector<int64_t>({3, 4}));
  EXPECT_EQ(firstFloat(*head), 172.0f); // After the RoPE tables.
  EXPECT_EQ(firstFloat(*source.find("model.norm.weight")), 164.0f);
  EXPECT_EQ(firstFloat(*source.find("model.layers.0.self_attn.v_proj.weight")),
            40.0f);
  EXPECT_EQ(firstFloat(*source.find("model.layers.0.mlp.up_proj.weight")),
            132.0f);
}

TEST(Llama2c, TruncatedHeader) {
  TempDir tmp;
  std::string file = tmp.write("short.bin", checkpoint({64, 172}, 0) + "ab");
  EXPECT_THAT(errorOf(readLlama2c(file, std::nullopt)),
              HasSubstr("short.bin: truncated: header field 'n_layers' needs "
                        "4 bytes at offset 8, but the file ends at 10"));
}

TEST(Llama2c, TruncatedData) {
  TempDir tmp;
  std::string file =
      tmp.write("cut.bin", checkpoint(kUntied, kUntiedFloats - 1));
  EXPECT_THAT(errorOf(readLlama2c(file, std::nullopt)),
              HasSubstr("cut.bin: truncated: file is 760 bytes, but the header "
                        "(dim 4, hidden_dim 8, n_layers 1, n_heads 2, "
                        "n_kv_heads 1, vocab_size -3, seq_len 2) describes "
                        "764 bytes"));
}

TEST(Llama2c, TrailingBytes) {
  TempDir tmp;
  std::string file =
      tmp.write("long.bin", checkpoint(kUntied, kUntiedFloats + 1));
  EXPECT_THAT(errorOf(readLlama2c(file, std::nullopt)),
              HasSubstr("long.bin: file is 768 bytes, but the header (dim 4, "
                        "hidden_dim 8, n_layers 1, n_heads 2, n_kv_heads 1, "
                        "vocab_size -3, seq_len 2) describes 764 bytes "
                        "(trailing bytes)"));
}

TEST(Llama2c, InvalidHeaderFields) {
  TempDir tmp;
  auto error = [&](std::vector<int32_t> header) {
    return errorOf(
        readLlama2c(tmp.write("bad.bin", checkpoint(header, 16)),
                    std::nullopt));
  };
  EXPECT_THAT(error({4, 0, 1, 2, 1, 3, 2}),
              HasSubstr("bad.bin: header field 'hidden_dim' is 0, expected a "
                        "positive value"));
  EXPECT_THAT(error({4, 8, 1, 2, 1, 3, -2}),
              HasSubstr("header field 'seq_len' is -2, expected a positive "
                        "value"));
  EXPECT_THAT(error({4, 8, 1, 3, 1, 3, 2}),
              HasSubstr("header field 'dim' 4 is not a multiple of 'n_heads' "
                        "3"));
  EXPECT_THAT(error({4, 8, 1, 2, 3, 3, 2}),
              HasSubstr("header field 'n_heads' 2 is not a multiple of "
                        "'n_kv_heads' 3"));
  EXPECT_THAT(error({0x7fffffff, 0x7fffffff, 0x7fffffff, 1, 1, 0x7fffffff,
                     0x7fffffff}),
              HasSubstr("describes more than 2^64 bytes"));
}

TEST(Llama2c, HeaderDescribingBillionsOfTensorsIsRejectedBySize) {
  TempDir tmp;
  // 2^31 - 1 layers of 1-element tensors: a few GB of TensorRefs if the
  // reader created them before checking the file size.
  std::string file =
      tmp.write("many.bin", checkpoint({1, 1, 0x7fffffff, 1, 1, 1, 2}, 4));
  EXPECT_THAT(errorOf(readLlama2c(file, std::nullopt)),
              HasSubstr("truncated: file is 44 bytes"));
}

TEST(Llama2c, ExportVersionMagic) {
  TempDir tmp;
  std::string file =
      tmp.write("v1.bin", checkpoint({0x616b3432, 1, 0, 0, 0, 0, 0}, 8));
  EXPECT_THAT(errorOf(readLlama2c(file, std::nullopt)),
              HasSubstr("v1.bin: a llama2.c export-version file (magic "
                        "'ak42'); fmc reads the legacy format"));
}

TEST(Llama2c, MissingFiles) {
  TempDir tmp;
  EXPECT_THAT(errorOf(readLlama2c(tmp.path("absent.bin"), std::nullopt)),
              HasSubstr("absent.bin: No such file or directory"));
  std::string file = tmp.write("ok.bin", checkpoint(kUntied, kUntiedFloats));
  EXPECT_THAT(errorOf(readLlama2c(file, tmp.path("tok.bin"))),
              HasSubstr("tok.bin: No such file or directory"));
}

} // namespace
