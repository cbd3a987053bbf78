//===- CrossFormatTest.cpp - stories260K read from all four formats -------===//
//
// The same model in llama2.c, GGUF (F32, Q8_0, Q4_0) and Hugging Face form:
// the readers must agree on the config, on every tensor's shape, and, where
// the formats store the same numbers, on the bytes the TensorRefs point at.
//
//===----------------------------------------------------------------------===//

#include "import/ModelSource.h"

#include "TestUtil.h"

#include "gmock/gmock.h"

using namespace fmc::import;
using namespace fmc::import::test;

namespace {

class CrossFormat : public ::testing::Test {
protected:
  void SetUp() override {
    if (!haveStories())
      GTEST_SKIP() << "../shared/models/stories260K is not beside the checkout";
    auto load = [](llvm::Expected<ModelSource> source, ModelSource &into) {
      ASSERT_TRUE(static_cast<bool>(source))
          << llvm::toString(source.takeError());
      into = std::move(*source);
    };
    load(readLlama2c(storiesPath("stories260K.bin"), std::nullopt), bin);
    load(readGGUF(storiesPath("stories260K.gguf")), gguf);
    load(readGGUF(storiesPath("stories260K-Q8_0.gguf")), q8);
    load(readGGUF(storiesPath("stories260K-Q4_0.gguf")), q4);
    load(readHuggingFace(storiesPath("hf")), hf);
  }

  ModelSource bin, gguf, q8, q4, hf;
};

/// Rows of a [heads * headDim, cols] f32 matrix in Hugging Face's
/// rotate-half order put back in interleaved-pair order: HF row
/// h*headDim + i*(headDim/2) + j holds interleaved row h*headDim + 2j + i
/// (transformers' convert_llama_weights_to_hf permute()).
std::string undoRotateHalf(const std::string &bytes, int64_t heads,
                           int64_t headDim, int64_t cols) {
  std::string out(bytes.size(), '\0');
  size_t rowBytes = cols * 4;
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t j = 0; j < headDim / 2; ++j) {
        int64_t hfRow = h * headDim + i * (headDim / 2) + j;
        int64_t row = h * headDim + 2 * j + i;
        out.replace(row * rowBytes, rowBytes,
                    bytes.substr(hfRow * rowBytes, rowBytes));
      }
  return out;
}

TEST_F(CrossFormat, ConfigsAgree) {
  for (const char *key :
       {"hidden_size", "intermediate_size", "num_hidden_layers",
        "num_attention_heads", "num_key_value_heads", "vocab_size",
        "bos_token_id", "eos_token_id"}) {
    SCOPED_TRACE(key);
    std::optional<int64_t> expected = hf.config.getInteger(key);
    ASSERT_TRUE(expected.has_value());
    EXPECT_EQ(bin.config.getInteger(key), expected);
    EXPECT_EQ(gguf.config.getInteger(key), expected);
    EXPECT_EQ(q8.config.getInteger(key), expected);
    EXPECT_EQ(q4.config.getInteger(key), expected);
  }
  for (const ModelSource *source : {&bin, &gguf, &q8, &q4}) {
    EXPECT_EQ(source->config.getString("model_type"), "llama");
    EXPECT_EQ(source->config.getNumber("rope_theta"), 10000.0);
    // GGUF stores the epsilon as f32.
    EXPECT_EQ(static_cast<float>(*source->config.getNumber("rms_norm_eps")),
              1e-5f);
    EXPECT_EQ(source->config.getString("fmc_rope_layout"), "interleaved");
  }
  EXPECT_EQ(hf.config.getString("fmc_rope_layout"), std::nullopt);
  EXPECT_EQ(bin.config.getInteger("max_position_embeddings"), 512);
  EXPECT_EQ(hf.config.getInteger("max_position_embeddings"), 512);
  // The converter's default context, not the model's (README).
  EXPECT_EQ(gguf.config.getInteger("max_position_embeddings"), 128);
  EXPECT_EQ(bin.config.getBoolean("tie_word_embeddings"), true);
  EXPECT_EQ(hf.config.getBoolean("tie_word_embeddings"), true);
  EXPECT_EQ(gguf.config.getBoolean("tie_word_embeddings"), false);
}

TEST_F(CrossFormat, SameTensorsInTheSameOrderWithTheSameShapes) {
  ASSERT_EQ(bin.tensors.size(), 47u);
  ASSERT_EQ(hf.tensors.size(), 47u);
  for (const ModelSource *source : {&gguf, &q8, &q4})
    ASSERT_EQ(source->tensors.size(), 48u); // Plus the untied lm_head.
  for (size_t i = 0; i < bin.tensors.size(); ++i) {
    const TensorRef &expected = bin.tensors[i];
    SCOPED_TRACE(expected.name);
    for (const ModelSource *source : {&hf, &gguf, &q8, &q4}) {
      EXPECT_EQ(source->tensors[i].name, expected.name);
      EXPECT_EQ(source->tensors[i].shape, expected.shape);
    }
    EXPECT_EQ(hf.tensors[i].dtype, DType::F32);
    EXPECT_EQ(gguf.tensors[i].dtype, DType::F32);
  }
  EXPECT_EQ(gguf.tensors.back().name, "lm_head.weight");
  EXPECT_EQ(gguf.tensors.back().shape, std::vector<int64_t>({512, 64}));
}

TEST_F(CrossFormat, UnpermutedTensorsAreBitIdentical) {
  int compared = 0;
  for (const TensorRef &tensor : bin.tensors) {
    llvm::StringRef name = tensor.name;
    if (name.contains("q_proj") || name.contains("k_proj"))
      continue;
    SCOPED_TRACE(tensor.name);
    std::string expected = tensorBytes(tensor);
    ASSERT_EQ(expected.size(), tensor.bytes);
    EXPECT_TRUE(tensorBytes(*gguf.find(name)) == expected);
    EXPECT_TRUE(tensorBytes(*hf.find(name)) == expected);
    ++compared;
  }
  EXPECT_EQ(compared, 47 - 10);
}

TEST_F(CrossFormat, QueryAndKeyRowsDifferOnlyByTheRotateHalfPermutation) {
  const int64_t dim = 64, heads = 8, kvHeads = 4, headDim = 8;
  for (int layer = 0; layer < 5; ++layer) {
    for (auto [proj, projHeads] : {std::pair{"q_proj", heads},
                                   std::pair{"k_proj", kvHeads}}) {
      std::string name = "model.layers." + std::to_string(layer) +
                         ".self_attn." + proj + ".weight";
      SCOPED_TRACE(name);
      std::string interleaved = tensorBytes(*bin.find(name));
      // llama2.c and GGUF both keep the interleaved layout.
      EXPECT_TRUE(tensorBytes(*gguf.find(name)) == interleaved);
      // Hugging Face permutes the rows; undoing that gives the same bytes.
      std::string rotateHalf = tensorBytes(*hf.find(name));
      EXPECT_FALSE(rotateHalf == interleaved);
      EXPECT_TRUE(undoRotateHalf(rotateHalf, projHeads, headDim, dim) ==
                  interleaved);
    }
  }
}

TEST_F(CrossFormat, GGUFStoresTheTiedClassifierAsItsOwnTensor) {
  const TensorRef *head = gguf.find("lm_head.weight");
  const TensorRef *embed = gguf.find("model.embed_tokens.weight");
  ASSERT_NE(head, nullptr);
  EXPECT_NE(head->offset, embed->offset);
  EXPECT_EQ(head->bytes, embed->bytes);
  // A copy of the embedding: the model is tied, the file is not.
  EXPECT_TRUE(tensorBytes(*head) == tensorBytes(*embed));
  EXPECT_EQ(bin.find("lm_head.weight"), nullptr);
  EXPECT_EQ(hf.find("lm_head.weight"), nullptr);
}

TEST_F(CrossFormat, QuantizedFilesKeepUnquantizedTensorsExact) {
  // Norms stay F32 in the quantized files: same bytes as the .bin.
  for (const ModelSource *source : {&q8, &q4}) {
    for (const TensorRef &tensor : source->tensors) {
      if (tensor.dtype != DType::F32)
        continue;
      SCOPED_TRACE(tensor.name);
      EXPECT_TRUE(llvm::StringRef(tensor.name).ends_with("norm.weight"));
      EXPECT_TRUE(tensorBytes(tensor) == tensorBytes(*bin.find(tensor.name)));
    }
  }
}

} // namespace
