//===- TokenizerTest.cpp - SentencePiece and byte-level BPE ---------------===//

#include "runtime/Tokenizer.h"
#include "runtime/Artifact.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace fmc {
namespace {

std::unique_ptr<Tokenizer> storiesTokenizer(std::unique_ptr<Artifact> &holder) {
  absl::StatusOr<std::unique_ptr<Artifact>> artifact =
      Artifact::open(FMC_TEST_ARTIFACT);
  if (!artifact.ok()) {
    ADD_FAILURE() << artifact.status().message();
    return nullptr;
  }
  holder = std::move(*artifact);
  absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer =
      Tokenizer::create(*holder->root().tokenizer());
  EXPECT_TRUE(tokenizer.ok());
  return tokenizer.ok() ? std::move(*tokenizer) : nullptr;
}

std::string decodeAll(const Tokenizer &t, const std::vector<int32_t> &ids,
                      int32_t first) {
  std::string text;
  int32_t previous = first;
  for (int32_t id : ids) {
    text += t.decode(previous, id);
    previous = id;
  }
  return text;
}

TEST(SentencePiece, EncodesTheStoriesPromptAsLlama2cDoes) {
  std::unique_ptr<Artifact> artifact;
  std::unique_ptr<Tokenizer> t = storiesTokenizer(artifact);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->size(), 512);
  EXPECT_EQ(t->bos(), 1);
  EXPECT_EQ(t->eos(), 2);
  EXPECT_TRUE(t->addBos());
  EXPECT_EQ(t->encode("Once upon a time"),
            (std::vector<int32_t>{403, 407, 261, 378}));
  EXPECT_EQ(t->decode(1, 403),
            "Once"); // The dummy-prefix space goes after BOS.
  EXPECT_EQ(t->decode(403, 407), " upon");
  EXPECT_EQ(t->decode(403, 1), ""); // BOS and EOS print nothing.
  EXPECT_EQ(t->decode(403, 2), "");
  EXPECT_TRUE(t->encode("").empty());
}

TEST(SentencePiece, RoundTripsTextWithByteFallback) {
  std::unique_ptr<Artifact> artifact;
  std::unique_ptr<Tokenizer> t = storiesTokenizer(artifact);
  ASSERT_TRUE(t);
  for (std::string text :
       {"Lily saw a big dog.\nIt was happy!", "caf\xc3\xa9 \xe2\x98\x83 ok",
        " leading space", "tabs\tand  two spaces", "\x01\xff raw bytes"}) {
    std::vector<int32_t> ids = t->encode(text);
    EXPECT_EQ(decodeAll(*t, ids, t->bos()), text) << "text: " << text;
  }
  // The snowman is not a token: it falls back to its three UTF-8 bytes
  // (<0xE2> <0x98> <0x83>, ids 3 + byte in llama2.c vocabularies).
  std::vector<int32_t> ids = t->encode("\xe2\x98\x83");
  ASSERT_GE(ids.size(), 3u);
  EXPECT_EQ(std::vector<int32_t>(ids.end() - 3, ids.end()),
            (std::vector<int32_t>{3 + 0xe2, 3 + 0x98, 3 + 0x83}));
}

/// A byte-level BPE vocabulary: the 256 byte symbols, a few merges, and
/// an end-of-text token.
std::vector<uint8_t> buildByteLevelVocabulary() {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<std::string> tokens;
  // GPT-2's byte map: printable bytes stand for themselves, the rest map to
  // U+0100 upwards in byte order.
  int next = 256;
  for (int b = 0; b < 256; ++b) {
    bool printable =
        (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
    int cp = printable ? b : next++;
    std::string s;
    if (cp < 0x80) {
      s += static_cast<char>(cp);
    } else {
      s += static_cast<char>(0xc0 | (cp >> 6));
      s += static_cast<char>(0x80 | (cp & 0x3f));
    }
    tokens.push_back(s);
  }
  auto id = [&](const std::string &s) {
    for (size_t i = 0; i < tokens.size(); ++i)
      if (tokens[i] == s)
        return static_cast<int32_t>(i);
    tokens.push_back(s);
    return static_cast<int32_t>(tokens.size() - 1);
  };
  const std::string g = "\xc4\xa0"; // "Ġ", the space byte's symbol.
  std::vector<std::pair<std::string, std::string>> merges = {
      {"l", "l"}, {"h", "e"}, {"he", "ll"}, {"hell", "o"}, {g, "w"}};
  std::vector<int32_t> left, right, result;
  for (auto &[a, b] : merges) {
    left.push_back(id(a));
    right.push_back(id(b));
    result.push_back(id(a + b));
  }
  int32_t eos = id("<|endoftext|>");
  std::vector<flatbuffers::Offset<flatbuffers::String>> strings;
  for (const std::string &s : tokens)
    strings.push_back(fbb.CreateString(s));
  auto tokensVec = fbb.CreateVector(strings);
  auto l = fbb.CreateVector(left), r = fbb.CreateVector(right),
       m = fbb.CreateVector(result);
  schema::TokenizerBuilder builder(fbb);
  builder.add_kind(schema::TokenizerKind::ByteLevelBPE);
  builder.add_tokens(tokensVec);
  builder.add_merge_left(l);
  builder.add_merge_right(r);
  builder.add_merge_result(m);
  builder.add_bos_id(eos);
  builder.add_eos_id(eos);
  builder.add_add_bos(false);
  fbb.Finish(builder.Finish());
  return std::vector<uint8_t>(fbb.GetBufferPointer(),
                              fbb.GetBufferPointer() + fbb.GetSize());
}

TEST(ByteLevelBpe, MergesByRankAndRoundTripsBytes) {
  std::vector<uint8_t> buffer = buildByteLevelVocabulary();
  const auto *vocab = flatbuffers::GetRoot<schema::Tokenizer>(buffer.data());
  absl::StatusOr<std::unique_ptr<Tokenizer>> made = Tokenizer::create(*vocab);
  ASSERT_TRUE(made.ok());
  const Tokenizer &t = **made;
  auto tokenText = [&](int32_t id) { return vocab->tokens()->Get(id)->str(); };

  std::vector<int32_t> ids = t.encode("hello world");
  std::vector<std::string> texts;
  for (int32_t id : ids)
    texts.push_back(tokenText(id));
  EXPECT_EQ(texts, (std::vector<std::string>{"hello", "\xc4\xa0w", "o", "r",
                                             "l", "d"}));
  EXPECT_EQ(decodeAll(t, ids, -1), "hello world");

  for (std::string text :
       {"hell hello\n\nll", "tab\there \xe2\x98\x83 \x01 done"})
    EXPECT_EQ(decodeAll(t, t.encode(text), -1), text) << "text: " << text;
  EXPECT_EQ(t.decode(-1, t.eos()), "");
}

TEST(ByteLevelBpe, Gpt2PreTokenizerSplits) {
  std::vector<std::string_view> pieces = splitGpt2("I'm  fine!\n\nok 123");
  EXPECT_EQ(pieces, (std::vector<std::string_view>{"I", "'m", " ", " fine", "!",
                                                   "\n", "\n", "ok", " 123"}));
  pieces = splitGpt2("Hello world  ");
  EXPECT_EQ(pieces, (std::vector<std::string_view>{"Hello", " world", "  "}));
  pieces = splitGpt2("caf\xc3\xa9 don't");
  EXPECT_EQ(pieces,
            (std::vector<std::string_view>{"caf\xc3\xa9", " don", "'t"}));
}

} // namespace
} // namespace fmc
