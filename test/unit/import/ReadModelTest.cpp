//===- ReadModelTest.cpp - choosing the reader by the path ----------------===//

#include "import/ModelSource.h"

#include "GGUFWriter.h"
#include "TestUtil.h"

#include "gmock/gmock.h"
#include "llvm/Support/FileSystem.h"

using namespace fmc::import;
using namespace fmc::import::test;
using ::testing::HasSubstr;

namespace {

TEST(ReadModel, DispatchesOnWhatThePathIs) {
  FMC_REQUIRE_STORIES();
  // A directory: Hugging Face (its config has "torch_dtype"; the others
  // don't).
  FMC_ASSERT_OK_AND_ASSIGN(hf, readModel(storiesPath("hf"), std::nullopt));
  EXPECT_EQ(hf.config.getString("torch_dtype"), "float32");
  EXPECT_FALSE(hf.tokenizer.has_value());
  // "GGUF" magic: GGUF, with its own tokenizer.
  FMC_ASSERT_OK_AND_ASSIGN(gguf,
                           readModel(storiesPath("stories260K.gguf"),
                                     std::nullopt));
  EXPECT_EQ(gguf.config.getInteger("max_position_embeddings"), 128);
  ASSERT_TRUE(gguf.tokenizer.has_value());
  EXPECT_EQ(gguf.tokenizer->format, TokenizerRef::Format::GGUF);
  // Anything else: llama2.c.
  FMC_ASSERT_OK_AND_ASSIGN(bin, readModel(storiesPath("stories260K.bin"),
                                          storiesPath("tok512.bin")));
  EXPECT_EQ(bin.config.getInteger("max_position_embeddings"), 512);
  EXPECT_EQ(bin.origin, storiesPath("stories260K.bin"));
  ASSERT_TRUE(bin.tokenizer.has_value());
  EXPECT_EQ(bin.tokenizer->format, TokenizerRef::Format::Llama2c);
  EXPECT_EQ(bin.tokenizer->file, storiesPath("tok512.bin"));
}

TEST(ReadModel, ExplicitTokenizerOverridesAndIsRecognised) {
  FMC_REQUIRE_STORIES();
  FMC_ASSERT_OK_AND_ASSIGN(hf, readModel(storiesPath("hf"),
                                         storiesPath("tok512.bin")));
  ASSERT_TRUE(hf.tokenizer.has_value());
  EXPECT_EQ(hf.tokenizer->format, TokenizerRef::Format::Llama2c);
  FMC_ASSERT_OK_AND_ASSIGN(
      bin, readModel(storiesPath("stories260K.bin"),
                     storiesPath("stories260K-Q8_0.gguf")));
  EXPECT_EQ(bin.tokenizer->format, TokenizerRef::Format::GGUF);
  TempDir tmp;
  std::string json = tmp.write("tokenizer.json", "{}");
  FMC_ASSERT_OK_AND_ASSIGN(gguf,
                           readModel(storiesPath("stories260K.gguf"), json));
  EXPECT_EQ(gguf.tokenizer->format, TokenizerRef::Format::HFJson);
  EXPECT_EQ(gguf.tokenizer->file, json);
}

TEST(ReadModel, MissingPaths) {
  TempDir tmp;
  EXPECT_THAT(errorOf(readModel(tmp.path("nothing.bin"), std::nullopt)),
              HasSubstr(tmp.path("nothing.bin") +
                        ": no such file or directory"));
  FMC_REQUIRE_STORIES();
  EXPECT_THAT(errorOf(readModel(storiesPath("stories260K.gguf"),
                                tmp.path("tok.bin"))),
              HasSubstr("tok.bin: No such file or directory"));
}

TEST(ReadModel, ErrorsComeFromTheChosenReader) {
  TempDir tmp;
  // Short and without "GGUF": read as llama2.c.
  EXPECT_THAT(errorOf(readModel(tmp.write("x.bin", "GGU"), std::nullopt)),
              HasSubstr("x.bin: truncated: header field 'dim' needs 4 bytes"));
  EXPECT_THAT(errorOf(readModel(tmp.write("empty.bin", ""), std::nullopt)),
              HasSubstr("empty.bin: truncated: header field 'dim'"));
  GGUFWriter w;
  w.version = 9;
  EXPECT_THAT(errorOf(readModel(tmp.write("x.gguf", w.build()), std::nullopt)),
              HasSubstr("x.gguf: GGUF version 9 is not supported"));
  std::string dir = tmp.path("hf");
  ASSERT_FALSE(llvm::sys::fs::create_directory(dir));
  EXPECT_THAT(errorOf(readModel(dir, std::nullopt)),
              HasSubstr("config.json: no such file"));
}

} // namespace
