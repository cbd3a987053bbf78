//===- ChatTemplate.h - a conversation as the model was trained on it -----===//
//
// A chat model expects its conversation in the format of its chat template
// (Jinja, in the model's files). The runtime does not execute Jinja: it
// renders the families it knows from one table (ChatTemplate.cpp) that says
// per family what comes before and after each role's message, where BOS and
// the system prompt go and which token ends the assistant's turn, so that a
// rendered conversation gets the ids the Jinja template gives (the test
// test/Tools/fmc-tokenize-chat.test compares them). The importer names the
// family it recognised in the model's template (schema::Tokenizer::
// chat_family) and keeps the template's text, from which a few details are
// read (whether it writes BOS, a default system prompt).
//
// Message text is rendered as plain text (PromptPiece::parseSpecial unset):
// what a user types cannot become a control token.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_CHATTEMPLATE_H
#define FMC_RUNTIME_CHATTEMPLATE_H

#include "runtime/Tokenizer.h"

#include "absl/status/statusor.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fmc {

enum class ChatRole { System, User, Assistant };

struct ChatMessage {
  ChatRole role;
  std::string content;
};

struct ChatFormat;

class ChatTemplate {
public:
  /// The template of `table`'s model: the family named `forcedName`
  /// (--chat-template) when not empty, else the family the importer
  /// recognised. Errors name the known families when `forcedName` is not
  /// one of them or the model's template was not recognised.
  static absl::StatusOr<ChatTemplate> create(const schema::Tokenizer &table,
                                             const Tokenizer &tokenizer,
                                             std::string_view forcedName);

  /// The family names, comma-separated, for messages and --help.
  static std::string familyNames();

  /// The name of `family` ("none" for None or an unknown value).
  static std::string_view familyName(schema::ChatTemplateFamily family);

  /// The family's name ("llama3", "chatml", ...).
  std::string_view name() const;

  /// The system prompt the model's template writes when the conversation
  /// has none (Qwen's ChatML), or empty.
  const std::string &defaultSystem() const { return defaultSystem_; }

  /// A whole conversation: an optional system message, then user and
  /// assistant messages in turn starting with the user's; then, when
  /// `addGenerationPrompt`, what opens the assistant's reply. This is what
  /// the model's Jinja template renders for the same messages.
  absl::StatusOr<std::vector<PromptPiece>>
  render(const std::vector<ChatMessage> &messages,
         bool addGenerationPrompt) const;

  /// A chat's later turn, after the assistant's reply that is already in
  /// the KV cache: the end of the reply's turn (only what follows the
  /// end-of-turn token when the reply ended with it: `replyEnded`), the
  /// user's message and the generation prompt. The first turn is
  /// render({system, user}, true).
  std::vector<PromptPiece> nextTurn(bool replyEnded,
                                    std::string_view user) const;

  /// Tokens that end the assistant's reply: the end-of-turn token, EOS and
  /// BOS.
  const std::vector<int32_t> &endTokens() const { return endTokens_; }
  /// The token that ends the assistant's turn in the template (EOS for
  /// some families), or -1 when its text is no token.
  int32_t endOfTurnToken() const { return endOfTurnToken_; }
  /// The end-of-turn text when it is not one token of the vocabulary (a
  /// template forced on another model's vocabulary): a stop string.
  const std::vector<std::string> &endStrings() const { return endStrings_; }

  /// `pieces` as text, tokens by their text: what --print-rendered shows.
  std::string text(const std::vector<PromptPiece> &pieces) const;

private:
  ChatTemplate(const ChatFormat &format, const Tokenizer &tokenizer)
      : format(&format), tokenizer(&tokenizer) {}

  void appendTemplate(std::string_view text,
                      std::vector<PromptPiece> &out) const;
  void appendUser(std::string_view content, const ChatMessage *system,
                  std::vector<PromptPiece> &out) const;
  void appendGenerationPrompt(std::vector<PromptPiece> &out) const;

  const ChatFormat *format;
  const Tokenizer *tokenizer;
  bool bosAtStart = false;
  bool thinking = false;
  std::string defaultSystem_;
  /// Llama 3.1+: what opens the system turn, which is always written.
  std::string systemPreamble_;
  int32_t endOfTurnToken_ = -1;
  std::vector<int32_t> endTokens_;
  std::vector<std::string> endStrings_;
};

} // namespace fmc

#endif // FMC_RUNTIME_CHATTEMPLATE_H
