//===- VocabularyTest.cpp - tokenizers from the three formats -------------===//

#include "import/Vocabulary.h"

#include "GGUFWriter.h"
#include "TestUtil.h"

#include "gmock/gmock.h"

using namespace fmc::import;
using namespace fmc::import::test;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using TokenType = Vocabulary::TokenType;

namespace {

TEST(Vocabulary, ReadsLlama2cTok512) {
  FMC_REQUIRE_STORIES();
  FMC_ASSERT_OK_AND_ASSIGN(vocab, readVocabulary({TokenizerRef::Format::Llama2c,
                                                  storiesPath("tok512.bin")}));
  EXPECT_EQ(vocab.kind, Vocabulary::Kind::SentencePiece);
  ASSERT_EQ(vocab.tokens.size(), 512u);
  ASSERT_EQ(vocab.scores.size(), 512u);
  EXPECT_EQ(vocab.tokens[0], "<unk>");
  EXPECT_EQ(vocab.tokens[1], "\n<s>\n");
  EXPECT_EQ(vocab.tokens[3], "<0x00>");
  EXPECT_EQ(vocab.tokens[259], " t"); // llama2.c spells "▁" as a space.
  EXPECT_EQ(vocab.scores[260], -1.0f);
  EXPECT_EQ(vocab.tokens[511], "\xe2\x80\x8a");
  EXPECT_EQ(vocab.scores[511], -252.0f);
  EXPECT_EQ(vocab.bosId, 1);
  EXPECT_EQ(vocab.eosId, 2);
  EXPECT_TRUE(vocab.addBos);
  EXPECT_TRUE(vocab.merges.empty());
  EXPECT_TRUE(vocab.tokenTypes.empty());
}

TEST(Vocabulary, GGUFAgreesWithLlama2c) {
  FMC_REQUIRE_STORIES();
  FMC_ASSERT_OK_AND_ASSIGN(bin, readVocabulary({TokenizerRef::Format::Llama2c,
                                                storiesPath("tok512.bin")}));
  for (const char *file :
       {"stories260K.gguf", "stories260K-Q8_0.gguf", "stories260K-Q4_0.gguf"}) {
    SCOPED_TRACE(file);
    FMC_ASSERT_OK_AND_ASSIGN(
        gguf, readVocabulary({TokenizerRef::Format::GGUF, storiesPath(file)}));
    EXPECT_EQ(gguf.kind, Vocabulary::Kind::SentencePiece);
    ASSERT_EQ(gguf.tokens.size(), 512u);
    EXPECT_EQ(gguf.scores, bin.scores);
    EXPECT_EQ(gguf.bosId, 1);
    EXPECT_EQ(gguf.eosId, 2);
    EXPECT_TRUE(gguf.addBos);
    // The same 512 tokens: GGUF keeps SentencePiece's "▁" where llama2.c has
    // a space, and spells BOS/EOS without llama2.c's newlines.
    EXPECT_EQ(gguf.tokens[1], "<s>");
    EXPECT_EQ(gguf.tokens[2], "</s>");
    for (size_t i = 0; i < 512; ++i) {
      if (i == 1 || i == 2)
        continue;
      std::string spaced;
      for (llvm::StringRef rest = gguf.tokens[i]; !rest.empty();) {
        if (rest.consume_front("\xe2\x96\x81")) {
          spaced += ' ';
        } else {
          spaced += rest.front();
          rest = rest.drop_front();
        }
      }
      EXPECT_EQ(spaced, bin.tokens[i]) << "token " << i;
    }
    ASSERT_EQ(gguf.tokenTypes.size(), 512u);
    EXPECT_EQ(gguf.tokenTypes[0], TokenType::Unknown);
    EXPECT_EQ(gguf.tokenTypes[1], TokenType::Control);
    EXPECT_EQ(gguf.tokenTypes[3], TokenType::Byte);
    EXPECT_EQ(gguf.tokenTypes[300], TokenType::Normal);
  }
}

//===----------------------------------------------------------------------===//
// llama2.c tok*.bin
//===----------------------------------------------------------------------===//

/// A llama2.c tokenizer file.
std::string tokFile(int32_t maxLength,
                    const std::vector<std::pair<float, std::string>> &tokens) {
  std::string file = le(maxLength);
  for (const auto &[score, text] : tokens)
    file += le(score) + le<int32_t>(text.size()) + text;
  return file;
}

std::string llama2cError(llvm::StringRef bytes) {
  TempDir tmp;
  return errorOf(readVocabulary(
      {TokenizerRef::Format::Llama2c, tmp.write("tok.bin", bytes)}));
}

TEST(Vocabulary, Llama2cErrors) {
  std::string good =
      tokFile(3, {{0, "<u>"}, {0, "<s>"}, {0, "</"}, {-1, "ab"}});
  EXPECT_THAT(llama2cError(good.substr(0, good.size() - 1)),
              HasSubstr("tok.bin: truncated: token 3 text needs 2 bytes at "
                        "offset 44, but the file ends at 45"));
  EXPECT_THAT(llama2cError(good.substr(0, good.size() - 4)),
              HasSubstr("truncated: token 3 length needs 4 bytes"));
  EXPECT_THAT(llama2cError(tokFile(2, {{0, "abc"}})),
              HasSubstr("tok.bin: token 0 has length 3, outside [0, "
                        "max_token_length 2]"));
  std::string negative = le<int32_t>(4) + le<float>(0) + le<int32_t>(-1);
  EXPECT_THAT(llama2cError(negative),
              HasSubstr("token 0 has length -1, outside"));
  EXPECT_THAT(llama2cError(le<int32_t>(0)),
              HasSubstr("tok.bin: max_token_length is 0, expected a positive "
                        "value"));
  EXPECT_THAT(llama2cError(le<int32_t>(5)),
              HasSubstr("tok.bin: no tokens after max_token_length"));
  EXPECT_THAT(llama2cError(tokFile(1, {{0, "a"}, {0, "b"}})),
              HasSubstr("has 2 tokens, too few for llama2.c's BOS 1 and EOS "
                        "2"));
  EXPECT_THAT(llama2cError("ab"),
              HasSubstr("truncated: max_token_length needs 4 bytes"));
  TempDir tmp;
  EXPECT_THAT(errorOf(readVocabulary(
                  {TokenizerRef::Format::Llama2c, tmp.path("absent.bin")})),
              HasSubstr("absent.bin: No such file or directory"));
}

//===----------------------------------------------------------------------===//
// GGUF tokenizer.ggml.*
//===----------------------------------------------------------------------===//

std::string ggufVocabError(const GGUFWriter &w) {
  TempDir tmp;
  return errorOf(readVocabulary(
      {TokenizerRef::Format::GGUF, tmp.write("v.gguf", w.build())}));
}

GGUFWriter gpt2Tokenizer() {
  GGUFWriter w;
  w.str("tokenizer.ggml.model", "gpt2")
      .strings("tokenizer.ggml.tokens", {"a", "b", "ab", "Ġ", "Ġab", "<|e|>"})
      .array<int32_t>("tokenizer.ggml.token_type", 5, {1, 1, 1, 1, 1, 3})
      .strings("tokenizer.ggml.merges", {"a b", "Ġ ab"})
      .u32("tokenizer.ggml.eos_token_id", 5);
  return w;
}

TEST(Vocabulary, GGUFByteLevelBPE) {
  TempDir tmp;
  FMC_ASSERT_OK_AND_ASSIGN(
      vocab, readVocabulary({TokenizerRef::Format::GGUF,
                             tmp.write("v.gguf", gpt2Tokenizer().build())}));
  EXPECT_EQ(vocab.kind, Vocabulary::Kind::ByteLevelBPE);
  EXPECT_EQ(vocab.tokens.size(), 6u);
  EXPECT_THAT(vocab.merges, ElementsAre(Pair("a", "b"), Pair("Ġ", "ab")));
  EXPECT_TRUE(vocab.scores.empty());
  EXPECT_EQ(vocab.tokenTypes[5], TokenType::Control);
  EXPECT_EQ(vocab.bosId, -1);
  EXPECT_EQ(vocab.eosId, 5);
  EXPECT_FALSE(vocab.addBos); // llama.cpp's default for BPE.

  GGUFWriter withFlag = gpt2Tokenizer();
  withFlag.boolean("tokenizer.ggml.add_bos_token", true)
      .u32("tokenizer.ggml.bos_token_id", 0xffffffffu);
  FMC_ASSERT_OK_AND_ASSIGN(
      flagged, readVocabulary({TokenizerRef::Format::GGUF,
                               tmp.write("f.gguf", withFlag.build())}));
  EXPECT_TRUE(flagged.addBos);
  EXPECT_EQ(flagged.bosId, -1);
}

TEST(Vocabulary, GGUFErrors) {
  EXPECT_THAT(ggufVocabError(GGUFWriter()),
              HasSubstr("v.gguf: has no tokenizer: missing metadata "
                        "'tokenizer.ggml.model'"));
  GGUFWriter bert;
  bert.str("tokenizer.ggml.model", "bert");
  EXPECT_THAT(ggufVocabError(bert),
              HasSubstr("v.gguf: unsupported tokenizer model 'bert' (fmc "
                        "reads 'llama', 'gpt2' and 'gemma4')"));
  GGUFWriter noTokens;
  noTokens.str("tokenizer.ggml.model", "llama");
  EXPECT_THAT(ggufVocabError(noTokens),
              HasSubstr("missing or empty metadata 'tokenizer.ggml.tokens'"));
  GGUFWriter noScores;
  noScores.str("tokenizer.ggml.model", "llama")
      .strings("tokenizer.ggml.tokens", {"a"});
  EXPECT_THAT(ggufVocabError(noScores),
              HasSubstr("missing metadata 'tokenizer.ggml.scores', which a "
                        "'llama' tokenizer merges by"));
  GGUFWriter shortScores;
  shortScores.str("tokenizer.ggml.model", "llama")
      .strings("tokenizer.ggml.tokens", {"a", "b"})
      .array<float>("tokenizer.ggml.scores", 6, {0.5f});
  EXPECT_THAT(ggufVocabError(shortScores),
              HasSubstr("metadata 'tokenizer.ggml.scores' has 1 entries, but "
                        "there are 2 tokens"));
  GGUFWriter intScores;
  intScores.str("tokenizer.ggml.model", "llama")
      .strings("tokenizer.ggml.tokens", {"a"})
      .array<int32_t>("tokenizer.ggml.scores", 5, {1});
  EXPECT_THAT(ggufVocabError(intScores),
              HasSubstr("metadata 'tokenizer.ggml.scores' is not an array of "
                        "f32"));
  GGUFWriter types;
  types.str("tokenizer.ggml.model", "gpt2")
      .strings("tokenizer.ggml.tokens", {"a"})
      .strings("tokenizer.ggml.merges", {})
      .array<int32_t>("tokenizer.ggml.token_type", 5, {9});
  EXPECT_THAT(ggufVocabError(types),
              HasSubstr("metadata 'tokenizer.ggml.token_type' gives token 0 "
                        "the unknown type 9"));
  GGUFWriter merge;
  merge.str("tokenizer.ggml.model", "gpt2")
      .strings("tokenizer.ggml.tokens", {"a"})
      .strings("tokenizer.ggml.merges", {"a b", " ab"});
  EXPECT_THAT(ggufVocabError(merge),
              HasSubstr("metadata 'tokenizer.ggml.merges' entry 1 has no "
                        "space separating two tokens"));
  GGUFWriter noMerges;
  noMerges.str("tokenizer.ggml.model", "gpt2")
      .strings("tokenizer.ggml.tokens", {"a"});
  EXPECT_THAT(ggufVocabError(noMerges),
              HasSubstr("missing metadata 'tokenizer.ggml.merges', which a "
                        "'gpt2' tokenizer merges by"));
  GGUFWriter bos = gpt2Tokenizer();
  bos.u32("tokenizer.ggml.bos_token_id", 6);
  EXPECT_THAT(ggufVocabError(bos),
              HasSubstr("metadata 'tokenizer.ggml.bos_token_id' is 6, not a "
                        "token id (there are 6 tokens)"));
  GGUFWriter pre = gpt2Tokenizer();
  pre.str("tokenizer.ggml.pre", "llama-9");
  EXPECT_THAT(ggufVocabError(pre),
              HasSubstr("unknown pre-tokenizer 'llama-9' (metadata "
                        "'tokenizer.ggml.pre'); fmc knows default, gpt-2"));
  GGUFWriter flag = gpt2Tokenizer();
  flag.u32("tokenizer.ggml.add_bos_token", 1);
  EXPECT_THAT(ggufVocabError(flag),
              HasSubstr("metadata 'tokenizer.ggml.add_bos_token' is not a "
                        "bool"));
}

//===----------------------------------------------------------------------===//
// Hugging Face tokenizer.json
//===----------------------------------------------------------------------===//

const char *kByteLevelJson = R"({
  "added_tokens": [
    {"id": 5, "content": "<|end|>", "special": true},
    {"id": 6, "content": "<|user|>", "special": false}],
  "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
    {"type": "Split", "pattern": {"Regex": "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}},
    {"type": "ByteLevel", "add_prefix_space": false, "use_regex": false}]},
  "post_processor": {"type": "TemplateProcessing",
    "single": [{"SpecialToken": {"id": "<|begin|>", "type_id": 0}},
               {"Sequence": {"id": "A", "type_id": 0}}]},
  "decoder": {"type": "ByteLevel"},
  "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "Ġ": 3,
                                     "<|begin|>": 4},
            "merges": ["a b", ["Ġ", "ab"]]}
})";

TEST(Vocabulary, HFByteLevelBPE) {
  TempDir tmp;
  std::string json = tmp.write("tokenizer.json", kByteLevelJson);
  FMC_ASSERT_OK_AND_ASSIGN(
      vocab, readVocabulary({TokenizerRef::Format::HFJson, json}));
  EXPECT_EQ(vocab.kind, Vocabulary::Kind::ByteLevelBPE);
  EXPECT_EQ(vocab.preTokenizer, Vocabulary::PreTokenizer::Llama3);
  EXPECT_THAT(vocab.tokens, ElementsAre("a", "b", "ab", "Ġ", "<|begin|>",
                                        "<|end|>", "<|user|>"));
  EXPECT_THAT(vocab.merges, ElementsAre(Pair("a", "b"), Pair("Ġ", "ab")));
  EXPECT_THAT(vocab.tokenTypes,
              ElementsAre(TokenType::Normal, TokenType::Normal,
                          TokenType::Normal, TokenType::Normal,
                          TokenType::Normal, TokenType::Control,
                          TokenType::UserDefined));
  EXPECT_TRUE(vocab.scores.empty());
  // No tokenizer_config.json: no BOS/EOS.
  EXPECT_EQ(vocab.bosId, -1);
  EXPECT_EQ(vocab.eosId, -1);
  EXPECT_FALSE(vocab.addBos);

  // With one: BOS/EOS by their text (a string or an AddedToken object); the
  // template that starts with BOS means BOS is added.
  tmp.write("tokenizer_config.json",
            R"({"bos_token": "<|begin|>",
                "eos_token": {"content": "<|end|>", "lstrip": false}})");
  FMC_ASSERT_OK_AND_ASSIGN(
      configured, readVocabulary({TokenizerRef::Format::HFJson, json}));
  EXPECT_EQ(configured.bosId, 4);
  EXPECT_EQ(configured.eosId, 5);
  EXPECT_TRUE(configured.addBos);
  // An explicit add_bos_token wins.
  tmp.write("tokenizer_config.json",
            R"({"bos_token": "<|begin|>", "add_bos_token": false,
                "eos_token": null})");
  FMC_ASSERT_OK_AND_ASSIGN(
      explicitFlag, readVocabulary({TokenizerRef::Format::HFJson, json}));
  EXPECT_FALSE(explicitFlag.addBos);
  EXPECT_EQ(explicitFlag.eosId, -1);
}

TEST(Vocabulary, HFSentencePieceStyleBPE) {
  TempDir tmp;
  std::string json = tmp.write("tokenizer.json", R"({
    "added_tokens": [{"id": 1, "content": "<s>", "special": true}],
    "decoder": {"type": "Sequence", "decoders": [
      {"type": "Replace"}, {"type": "ByteFallback"}]},
    "model": {"type": "BPE", "byte_fallback": true, "unk_token": "<unk>",
              "vocab": {"<unk>": 0, "<s>": 1, "<0x0A>": 2, "▁": 3, "a": 4,
                        "▁a": 5},
              "merges": ["▁ a"]}})");
  tmp.write("tokenizer_config.json",
            R"({"bos_token": "<s>", "add_bos_token": true})");
  FMC_ASSERT_OK_AND_ASSIGN(
      vocab, readVocabulary({TokenizerRef::Format::HFJson, json}));
  EXPECT_EQ(vocab.kind, Vocabulary::Kind::SentencePiece);
  EXPECT_THAT(vocab.merges, ElementsAre(Pair("▁", "a")));
  EXPECT_THAT(vocab.tokenTypes,
              ElementsAre(TokenType::Unknown, TokenType::Control,
                          TokenType::Byte, TokenType::Normal, TokenType::Normal,
                          TokenType::Normal));
  EXPECT_EQ(vocab.bosId, 1);
  EXPECT_TRUE(vocab.addBos);
}

std::string hfError(llvm::StringRef json,
                    std::optional<llvm::StringRef> config = std::nullopt) {
  TempDir tmp;
  if (config)
    tmp.write("tokenizer_config.json", *config);
  return errorOf(readVocabulary(
      {TokenizerRef::Format::HFJson, tmp.write("tokenizer.json", json)}));
}

TEST(Vocabulary, HFErrors) {
  EXPECT_THAT(hfError("{\"model\": " + std::string(50000, '{') + "}"),
              HasSubstr("tokenizer.json: JSON nested deeper than 128 arrays "
                        "or objects"));
  EXPECT_THAT(hfError("{\"model\": {\n\"vocab\": {\"a\": 0,}}}"),
              HasSubstr("tokenizer.json: malformed JSON at line 2, column"));
  EXPECT_THAT(hfError(R"({"model": {"type": "Unigram", "vocab": []}})"),
              HasSubstr("tokenizer.json: unsupported tokenizer model "
                        "'Unigram' (fmc reads 'BPE')"));
  EXPECT_THAT(hfError(R"({"model": {"vocab": {}}})"),
              HasSubstr("unsupported tokenizer model '(no type)'"));
  EXPECT_THAT(hfError(R"({"decoder": {"type": "ByteLevel"}})"),
              HasSubstr("tokenizer.json: missing object 'model'"));
  EXPECT_THAT(hfError(R"({"model": {"type": "BPE", "vocab": {"a": 0},
                                    "merges": []}})"),
              HasSubstr("BPE model is neither byte-level"));
  // Three entries (an added token repeats a vocab one), ids 0 and 2.
  const char *holes = R"({"decoder": {"type": "ByteLevel"},
      "added_tokens": [{"id": 0, "content": "a"}],
      "model": {"type": "BPE", "vocab": {"a": 0, "c": 2}, "merges": []}})";
  EXPECT_THAT(hfError(holes),
              HasSubstr("tokenizer.json: token id 1 has no token in "
                        "model.vocab or added_tokens"));
  const char *clash = R"({"decoder": {"type": "ByteLevel"},
      "model": {"type": "BPE", "vocab": {"a": 0, "b": 0}, "merges": []}})";
  EXPECT_THAT(hfError(clash), HasSubstr("both have id 0"));
  const char *far = R"({"decoder": {"type": "ByteLevel"},
      "model": {"type": "BPE", "vocab": {"a": 0, "b": 4000000000},
                "merges": []}})";
  EXPECT_THAT(hfError(far),
              HasSubstr("model.vocab: token 'b' has id 4000000000, outside "
                        "[0, 2)"));
  const char *addedClash = R"({"decoder": {"type": "ByteLevel"},
      "added_tokens": [{"id": 0, "content": "<x>"}],
      "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}})";
  EXPECT_THAT(hfError(addedClash),
              HasSubstr("added_tokens: tokens 'a' and '<x>' both have id 0"));
  const char *badAdded = R"({"decoder": {"type": "ByteLevel"},
      "added_tokens": [{"content": "<x>"}],
      "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}})";
  EXPECT_THAT(hfError(badAdded),
              HasSubstr("added_tokens[0]: expected an object with integer "
                        "'id' and string 'content'"));
  const char *badMerge = R"({"decoder": {"type": "ByteLevel"},
      "model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b", "ab"]}})";
  EXPECT_THAT(hfError(badMerge),
              HasSubstr("model.merges[1]: no space separating two tokens"));
  const char *badPair = R"({"decoder": {"type": "ByteLevel"},
      "model": {"type": "BPE", "vocab": {"a": 0}, "merges": [["a"]]}})";
  EXPECT_THAT(hfError(badPair),
              HasSubstr("model.merges[0]: expected \"a b\" or [\"a\", "
                        "\"b\"]"));
  const char *ok = R"({"decoder": {"type": "ByteLevel"},
      "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}})";
  EXPECT_THAT(hfError(ok, R"({"bos_token": "<s>"})"),
              HasSubstr("tokenizer_config.json: bos_token '<s>' is not a token "
                        "of "));
  EXPECT_THAT(hfError(ok, R"({"add_bos_token": "yes"})"),
              HasSubstr("tokenizer_config.json: add_bos_token is a string, "
                        "expected a boolean"));
  EXPECT_THAT(hfError(ok, "{\"bos_token\": }"),
              HasSubstr("tokenizer_config.json: malformed JSON at line 1"));
  TempDir tmp;
  EXPECT_THAT(errorOf(readVocabulary(
                  {TokenizerRef::Format::HFJson, tmp.path("tokenizer.json")})),
              HasSubstr("tokenizer.json: No such file or directory"));
}

} // namespace
