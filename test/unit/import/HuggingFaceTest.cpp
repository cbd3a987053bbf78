//===- HuggingFaceTest.cpp - the Hugging Face directory reader ------------===//

#include "import/ModelSource.h"
#include "import/readers/Json.h"

#include "TestUtil.h"

#include "gmock/gmock.h"

using namespace fmc::import;
using namespace fmc::import::test;
using ::testing::HasSubstr;

namespace {

TEST(HuggingFace, ReadsStories260K) {
  FMC_REQUIRE_STORIES();
  FMC_ASSERT_OK_AND_ASSIGN(source, readHuggingFace(storiesPath("hf")));
  EXPECT_EQ(source.origin, storiesPath("hf"));
  // The config is config.json as is.
  EXPECT_EQ(source.config.getString("model_type"), "llama");
  EXPECT_EQ(source.config.getInteger("hidden_size"), 64);
  EXPECT_EQ(source.config.getInteger("intermediate_size"), 172);
  EXPECT_EQ(source.config.getInteger("num_hidden_layers"), 5);
  EXPECT_EQ(source.config.getInteger("num_attention_heads"), 8);
  EXPECT_EQ(source.config.getInteger("num_key_value_heads"), 4);
  EXPECT_EQ(source.config.getInteger("vocab_size"), 512);
  EXPECT_EQ(source.config.getNumber("rms_norm_eps"), 1e-5);
  EXPECT_EQ(source.config.getBoolean("tie_word_embeddings"), true);
  EXPECT_EQ(source.config.getString("torch_dtype"), "float32");

  // 1 embedding + 5 x 9 per layer + final norm; tied, so no lm_head.
  EXPECT_EQ(source.tensors.size(), 47u);
  const TensorRef *embed = source.find("model.embed_tokens.weight");
  ASSERT_NE(embed, nullptr);
  EXPECT_EQ(embed->shape, std::vector<int64_t>({512, 64}));
  EXPECT_EQ(embed->dtype, DType::F32);
  EXPECT_EQ(embed->bytes, 512u * 64 * 4);
  EXPECT_EQ(embed->file, storiesPath("hf/model.safetensors"));
  const TensorRef *down = source.find("model.layers.4.mlp.down_proj.weight");
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(down->shape, std::vector<int64_t>({64, 172}));
  EXPECT_EQ(source.find("lm_head.weight"), nullptr);
  // No tokenizer.json beside it.
  EXPECT_FALSE(source.tokenizer.has_value());
}

const char *kConfig = R"({"model_type": "llama", "hidden_size": 4})";

TEST(HuggingFace, ShardedDirectoryFollowsTheIndex) {
  TempDir tmp;
  tmp.write("config.json", kConfig);
  tmp.write("model-00001-of-00002.safetensors",
            safetensorsFile(R"({"a": {"dtype": "F32", "shape": [2],
                                      "data_offsets": [0, 8]}})",
                            8));
  tmp.write("model-00002-of-00002.safetensors",
            safetensorsFile(R"({"b": {"dtype": "F16", "shape": [2],
                                      "data_offsets": [0, 4]}})",
                            4));
  tmp.write("model.safetensors.index.json",
            R"({"metadata": {"total_size": 12}, "weight_map": {
                 "a": "model-00001-of-00002.safetensors",
                 "b": "model-00002-of-00002.safetensors"}})");
  // A stray safetensors file that the index does not name is not read.
  tmp.write("stray.safetensors", "garbage");
  tmp.write("tokenizer.json", "{}");
  FMC_ASSERT_OK_AND_ASSIGN(source, readHuggingFace(tmp.dir()));
  ASSERT_EQ(source.tensors.size(), 2u);
  EXPECT_EQ(source.find("a")->file,
            tmp.path("model-00001-of-00002.safetensors"));
  EXPECT_EQ(source.find("b")->file,
            tmp.path("model-00002-of-00002.safetensors"));
  EXPECT_EQ(source.find("b")->dtype, DType::F16);
  EXPECT_EQ(source.config.getInteger("hidden_size"), 4);
  ASSERT_TRUE(source.tokenizer.has_value());
  EXPECT_EQ(source.tokenizer->format, TokenizerRef::Format::HFJson);
  EXPECT_EQ(source.tokenizer->file, tmp.path("tokenizer.json"));
}

TEST(HuggingFace, MissingShard) {
  TempDir tmp;
  tmp.write("config.json", kConfig);
  tmp.write("model.safetensors.index.json",
            R"({"weight_map": {"a": "model-00001-of-00002.safetensors"}})");
  EXPECT_THAT(errorOf(readHuggingFace(tmp.dir())),
              HasSubstr("model.safetensors.index.json: weight_map names shard "
                        "'model-00001-of-00002.safetensors' (for tensor 'a'), "
                        "which does not exist"));
}

TEST(HuggingFace, IndexNamesTheWrongShard) {
  TempDir tmp;
  tmp.write("config.json", kConfig);
  tmp.write("one.safetensors", safetensorsFile("{}", 0));
  tmp.write("model.safetensors.index.json",
            R"({"weight_map": {"a": "one.safetensors"}})");
  EXPECT_THAT(errorOf(readHuggingFace(tmp.dir())),
              HasSubstr("weight_map puts tensor 'a' in 'one.safetensors', "
                        "which does not hold it"));
}

TEST(HuggingFace, IndexMayNotEscapeTheDirectory) {
  TempDir tmp;
  tmp.write("config.json", kConfig);
  tmp.write("model.safetensors.index.json",
            R"({"weight_map": {"a": "../elsewhere.safetensors"}})");
  EXPECT_THAT(errorOf(readHuggingFace(tmp.dir())),
              HasSubstr("weight_map: tensor 'a' maps to "
                        "'../elsewhere.safetensors', which is not a file "
                        "name"));
}

TEST(HuggingFace, IndexWithoutWeightMap) {
  TempDir tmp;
  tmp.write("config.json", kConfig);
  tmp.write("model.safetensors.index.json", R"({"metadata": {}})");
  EXPECT_THAT(errorOf(readHuggingFace(tmp.dir())),
              HasSubstr("model.safetensors.index.json: missing object "
                        "'weight_map'"));
}

TEST(HuggingFace, DuplicateTensorAcrossFiles) {
  TempDir tmp;
  tmp.write("config.json", kConfig);
  std::string shard = safetensorsFile(
      R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})", 4);
  tmp.write("x.safetensors", shard);
  tmp.write("y.safetensors", shard);
  EXPECT_THAT(errorOf(readHuggingFace(tmp.dir())),
              HasSubstr("y.safetensors: tensor 'a' is also in " +
                        tmp.path("x.safetensors")));
}

TEST(HuggingFace, BadShardHeaderNamesTheShard) {
  TempDir tmp;
  tmp.write("config.json", kConfig);
  tmp.write("model.safetensors",
            safetensorsFile(R"({"a": {"dtype": "F32", "shape": [1],
                                      "data_offsets": [0, 4]}})",
                            2));
  EXPECT_THAT(errorOf(readHuggingFace(tmp.dir())),
              HasSubstr(tmp.path("model.safetensors") +
                        ": tensor 'a': data_offsets [0, 4] exceed the 2 "
                        "bytes of data"));
}

TEST(HuggingFace, MalformedConfig) {
  TempDir tmp;
  tmp.write("config.json", "{\n  \"hidden_size\": 64\n  \"x\": 1\n}");
  tmp.write("model.safetensors", safetensorsFile("{}", 0));
  EXPECT_THAT(errorOf(readHuggingFace(tmp.dir())),
              HasSubstr("config.json: malformed JSON at line 3, column"));
}

// Issue 14: a config.json nested 50,000 deep overflowed the stack of
// llvm::json's recursive parser; nesting past kMaxJsonDepth is rejected
// before it parses (a string full of brackets is not nesting).
TEST(HuggingFace, DeeplyNestedConfig) {
  TempDir tmp;
  tmp.write("config.json", "{\"x\": " + std::string(50000, '[') +
                               std::string(50000, ']') + "}");
  tmp.write("model.safetensors", safetensorsFile("{}", 0));
  EXPECT_THAT(errorOf(readHuggingFace(tmp.dir())),
              HasSubstr("config.json: JSON nested deeper than 128 arrays or "
                        "objects"));
  // The limit itself parses.
  llvm::Expected<llvm::json::Value> atLimit = parseJson(
      "limit.json", "{\"x\": \"" + std::string(500, '[') + "\", \"y\": " +
                        std::string(127, '[') + std::string(127, ']') + "}");
  EXPECT_TRUE(static_cast<bool>(atLimit));
  if (!atLimit)
    llvm::consumeError(atLimit.takeError());
}

// Issue 14: llvm::json keeps the last of two equal keys.
TEST(HuggingFace, DuplicateConfigKey) {
  TempDir tmp;
  tmp.write("config.json", R"({"num_hidden_layers": 2, "hidden_size": 8,
                               "num_hidden_layers": 40})");
  tmp.write("model.safetensors", safetensorsFile("{}", 0));
  EXPECT_THAT(errorOf(readHuggingFace(tmp.dir())),
              HasSubstr("config.json: duplicate key 'num_hidden_layers'"));
}

TEST(HuggingFace, ConfigMustBeAnObject) {
  TempDir tmp;
  tmp.write("config.json", "[]");
  EXPECT_THAT(errorOf(readHuggingFace(tmp.dir())),
              HasSubstr("config.json: is an array, expected an object"));
}

TEST(HuggingFace, MissingConfig) {
  TempDir tmp;
  tmp.write("model.safetensors", safetensorsFile("{}", 0));
  EXPECT_THAT(errorOf(readHuggingFace(tmp.dir())),
              HasSubstr("config.json: no such file: a Hugging Face model "
                        "directory needs config.json"));
}

TEST(HuggingFace, NoWeights) {
  TempDir tmp;
  tmp.write("config.json", kConfig);
  EXPECT_THAT(errorOf(readHuggingFace(tmp.dir())),
              HasSubstr("no *.safetensors files and no "
                        "model.safetensors.index.json"));
}

TEST(HuggingFace, MissingDirectory) {
  TempDir tmp;
  EXPECT_THAT(errorOf(readHuggingFace(tmp.path("absent"))),
              HasSubstr(tmp.path("absent") + ": no such file or directory"));
  tmp.write("file", "x");
  EXPECT_THAT(errorOf(readHuggingFace(tmp.path("file"))),
              HasSubstr("file: is not a directory"));
}

} // namespace
