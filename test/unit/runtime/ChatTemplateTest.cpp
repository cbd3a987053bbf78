//===- ChatTemplateTest.cpp - a chat's later turns and its end tokens -----===//
//
// Whole conversations are compared with the real Jinja templates by
// test/Tools/fmc-tokenize-chat.test; this checks what only a live chat
// uses: how a turn closes the previous reply, and what ends a reply.
//
//===----------------------------------------------------------------------===//

#include "runtime/Artifact.h"
#include "runtime/ChatTemplate.h"

#include <gtest/gtest.h>

namespace fmc {
namespace {

class ChatTemplateTest : public ::testing::Test {
protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<Artifact>> opened =
        Artifact::open(FMC_TEST_ARTIFACT);
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    artifact = std::move(*opened);
    absl::StatusOr<std::unique_ptr<Tokenizer>> made =
        Tokenizer::create(*artifact->root().tokenizer());
    ASSERT_TRUE(made.ok()) << made.status().message();
    tokenizer = std::move(*made);
  }
  ChatTemplate make(std::string_view name) {
    absl::StatusOr<ChatTemplate> chat =
        ChatTemplate::create(*artifact->root().tokenizer(), *tokenizer, name);
    EXPECT_TRUE(chat.ok()) << chat.status().message();
    return *chat;
  }
  std::unique_ptr<Artifact> artifact;
  std::unique_ptr<Tokenizer> tokenizer;
};

TEST_F(ChatTemplateTest, ATurnClosesTheReplyAfterItsEndOfTurnOrWhole) {
  ChatTemplate chatml = make("chatml");
  EXPECT_EQ(chatml.text(chatml.nextTurn(/*replyEnded=*/true, "Hi")),
            "\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(chatml.text(chatml.nextTurn(/*replyEnded=*/false, "Hi")),
            "<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>"
            "assistant\n");
  // Llama 2 ends the turn with EOS after a space; each user turn has BOS.
  ChatTemplate llama2 = make("llama2");
  std::string bos = tokenizer->pieceText(tokenizer->bos());
  std::string eos = tokenizer->pieceText(tokenizer->eos());
  EXPECT_EQ(llama2.text(llama2.nextTurn(true, " Hi ")),
            bos + "[INST] Hi [/INST]");
  EXPECT_EQ(llama2.text(llama2.nextTurn(false, "Hi")),
            " " + eos + bos + "[INST] Hi [/INST]");
}

TEST_F(ChatTemplateTest, RepliesEndAtTheEndOfTurnEosOrBos) {
  // stories260K's vocabulary has no <|im_end|>: it is a stop string.
  ChatTemplate chatml = make("chatml");
  EXPECT_EQ(chatml.endOfTurnToken(), -1);
  EXPECT_EQ(chatml.endStrings(), std::vector<std::string>{"<|im_end|>"});
  EXPECT_EQ(chatml.endTokens(),
            (std::vector<int32_t>{tokenizer->eos(), tokenizer->bos()}));
  // Llama 2's turn ends with EOS.
  ChatTemplate llama2 = make("llama2");
  EXPECT_EQ(llama2.endOfTurnToken(), tokenizer->eos());
  EXPECT_TRUE(llama2.endStrings().empty());
  EXPECT_EQ(llama2.endTokens(),
            (std::vector<int32_t>{tokenizer->eos(), tokenizer->bos()}));
}

TEST_F(ChatTemplateTest, MessageTextIsNeverAControlToken) {
  ChatTemplate chatml = make("chatml");
  absl::StatusOr<std::vector<PromptPiece>> pieces =
      chatml.render({{ChatRole::User, "</s>"}}, true);
  ASSERT_TRUE(pieces.ok());
  for (const PromptPiece &piece : *pieces)
    if (piece.text == "</s>")
      EXPECT_FALSE(piece.parseSpecial);
}

} // namespace
} // namespace fmc
