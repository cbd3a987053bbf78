//===- ChatTemplate.cpp - the chat-template families, as one table --------===//
//
// Each row of kFormats is one family's official Hugging Face template,
// reduced to what it writes for system, user and assistant messages:
//   llama2   meta-llama/Llama-2-*-chat-hf
//   llama3   meta-llama/Meta-Llama-3-*-Instruct
//   chatml   Qwen/Qwen2*-Instruct, teknium/OpenHermes-2.5, ...
//   gemma    google/gemma-3-*-it (gemma-2: the same without a system prompt)
//   mistral  mistralai/Mistral-7B-Instruct-v0.2 (its v1-tokenizer template
//            with a system prompt in the first user message)
//   phi3     microsoft/Phi-3*-instruct
//   command-r CohereForAI/c4ai-command-r*
//   deepseek deepseek-ai/DeepSeek-V3, DeepSeek-R1 (and its distills)
// In the table's strings "{bos}" and "{eos}" stand for the vocabulary's BOS
// and EOS tokens (bos_token and eos_token in the Jinja templates).
//
//===----------------------------------------------------------------------===//

#include "runtime/ChatTemplate.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include <algorithm>
#include <ctime>

namespace fmc {

/// Where BOS goes.
enum class ChatBos {
  None,        ///< Nowhere (the template writes no bos_token).
  Start,       ///< Once, first.
  EachUserTurn ///< Before every user turn (Llama 2).
};

/// Where the system prompt goes.
enum class ChatSystem {
  OwnTurn,   ///< A turn of its own, first (after BOS).
  FirstUser, ///< Inside the first user turn, before the user's text.
  Start,     ///< Bare, first after BOS (DeepSeek).
};

/// What a role's message is written between; `trim`: its text is stripped
/// of leading and trailing white space first (Jinja's trim/strip()).
struct ChatRoleFormat {
  const char *prefix;
  const char *suffix;
  bool trim;
};

struct ChatFormat {
  schema::ChatTemplateFamily family;
  const char *name;
  ChatBos bos;
  ChatSystem systemPlacement;
  /// With ChatSystem::FirstUser: what the system text is wrapped in before
  /// the user's text.
  ChatRoleFormat system, user, assistant;
  /// FirstUser: the system prompt and the first user message are stripped
  /// together, as one text (Llama 2), not the user's alone.
  bool trimAfterMerge;
  /// Opens the assistant's reply.
  const char *generationPrompt;
  /// The end of the assistant's turn, which the model generates: a part of
  /// assistant.suffix.
  const char *endOfTurn;
  /// ChatML: a default system prompt is the literal text that follows this
  /// in the template, when the template has one.
  const char *defaultSystemAfter;
  /// Appended to the generation prompt when the template writes the
  /// generation prompt followed by it (DeepSeek-R1 opens its thinking).
  const char *thinkingPrompt;
  /// An assistant message's text keeps only what follows its last
  /// "</think>" (DeepSeek-R1 drops earlier reasoning from the history).
  bool dropThinking;
  /// Llama 3.1+: a template that writes "Cutting Knowledge Date" always
  /// writes the system turn, opening with that date and today's
  /// (datedSystemPreamble).
  bool datedSystem = false;
};

namespace {

#define FW_BAR "\xEF\xBD\x9C" // U+FF5C FULLWIDTH VERTICAL LINE
#define SPM_SPACE "\xE2\x96\x81" // U+2581

const ChatFormat kFormats[] = {
    {schema::ChatTemplateFamily::Llama2, "llama2", ChatBos::EachUserTurn,
     ChatSystem::FirstUser,
     /*system=*/{"<<SYS>>\n", "\n<</SYS>>\n\n", false},
     /*user=*/{"[INST] ", " [/INST]", true},
     /*assistant=*/{" ", " {eos}", true},
     /*trimAfterMerge=*/true, /*generationPrompt=*/"", /*endOfTurn=*/"{eos}",
     nullptr, nullptr, false},
    {schema::ChatTemplateFamily::Llama3, "llama3", ChatBos::Start,
     ChatSystem::OwnTurn,
     {"<|start_header_id|>system<|end_header_id|>\n\n", "<|eot_id|>", true},
     {"<|start_header_id|>user<|end_header_id|>\n\n", "<|eot_id|>", true},
     {"<|start_header_id|>assistant<|end_header_id|>\n\n", "<|eot_id|>", true},
     false, "<|start_header_id|>assistant<|end_header_id|>\n\n", "<|eot_id|>",
     nullptr, nullptr, false, /*datedSystem=*/true},
    {schema::ChatTemplateFamily::ChatML, "chatml", ChatBos::None,
     ChatSystem::OwnTurn, {"<|im_start|>system\n", "<|im_end|>\n", false},
     {"<|im_start|>user\n", "<|im_end|>\n", false},
     {"<|im_start|>assistant\n", "<|im_end|>\n", false}, false,
     "<|im_start|>assistant\n", "<|im_end|>", "<|im_start|>system", nullptr,
     false},
    {schema::ChatTemplateFamily::Gemma, "gemma", ChatBos::Start,
     ChatSystem::FirstUser, {"", "\n\n", false},
     {"<start_of_turn>user\n", "<end_of_turn>\n", true},
     {"<start_of_turn>model\n", "<end_of_turn>\n", true}, false,
     "<start_of_turn>model\n", "<end_of_turn>", nullptr, nullptr, false},
    {schema::ChatTemplateFamily::Mistral, "mistral", ChatBos::Start,
     ChatSystem::FirstUser, {"", "\n\n", false}, {" [INST] ", " [/INST]", false},
     {" ", "{eos}", false}, false, "", "{eos}", nullptr, nullptr, false},
    {schema::ChatTemplateFamily::Phi3, "phi3", ChatBos::Start,
     ChatSystem::OwnTurn, {"<|system|>\n", "<|end|>\n", false},
     {"<|user|>\n", "<|end|>\n", false},
     {"<|assistant|>\n", "<|end|>\n", false}, false, "<|assistant|>\n",
     "<|end|>", nullptr, nullptr, false},
    {schema::ChatTemplateFamily::CommandR, "command-r", ChatBos::Start,
     ChatSystem::OwnTurn,
     {"<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>", "<|END_OF_TURN_TOKEN|>",
      false},
     {"<|START_OF_TURN_TOKEN|><|USER_TOKEN|>", "<|END_OF_TURN_TOKEN|>", true},
     {"<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>", "<|END_OF_TURN_TOKEN|>",
      true},
     false, "<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>", "<|END_OF_TURN_TOKEN|>",
     nullptr, nullptr, false},
    {schema::ChatTemplateFamily::DeepSeek, "deepseek", ChatBos::Start,
     ChatSystem::Start, {"", "", false}, {"<" FW_BAR "User" FW_BAR ">", "", false},
     {"<" FW_BAR "Assistant" FW_BAR ">",
      "<" FW_BAR "end" SPM_SPACE "of" SPM_SPACE "sentence" FW_BAR ">", false},
     false, "<" FW_BAR "Assistant" FW_BAR ">",
     "<" FW_BAR "end" SPM_SPACE "of" SPM_SPACE "sentence" FW_BAR ">", nullptr,
     "<think>\n", true},
};

const ChatFormat *formatOf(schema::ChatTemplateFamily family) {
  for (const ChatFormat &format : kFormats)
    if (format.family == family)
      return &format;
  return nullptr;
}

std::string_view strip(std::string_view text) {
  constexpr std::string_view kSpace = " \t\n\r\v\f";
  size_t begin = text.find_first_not_of(kSpace);
  if (begin == std::string_view::npos)
    return {};
  return text.substr(begin, text.find_last_not_of(kSpace) - begin + 1);
}

/// The literal system prompt a ChatML template writes when the
/// conversation has none: the text between `marker` and the next
/// <|im_end|> in a template like Qwen's
///   {{ '<|im_start|>system\nYou are a helpful assistant<|im_end|>\n' }}
/// (the newline written as such or as \n); occurrences that hold template
/// code (a quote, a brace, a +) are not literal and are skipped.
std::string defaultSystemOf(std::string_view source, std::string_view marker) {
  for (size_t at = source.find(marker); at != std::string_view::npos;
       at = source.find(marker, at + 1)) {
    std::string_view rest = source.substr(at + marker.size());
    if (rest.substr(0, 1) == "\n")
      rest.remove_prefix(1);
    else if (rest.substr(0, 2) == "\\n")
      rest.remove_prefix(2);
    else
      continue;
    size_t end = rest.find("<|im_end|>");
    if (end == std::string_view::npos)
      continue;
    std::string_view text = rest.substr(0, end);
    if (text.empty() || text.find_first_of("'\"{}+") != std::string_view::npos)
      continue;
    return std::string(text);
  }
  return "";
}

/// The opening of the system turn of a Llama 3.1+ template: its knowledge
/// date line and "Today Date: " with the template's date_string default
/// (Llama 3.1: "26 Jul 2024") or, for a template that asks strftime_now
/// (Llama 3.2, 3.3), today's date as it formats it. Empty when the template
/// writes no such lines (Llama 3).
std::string datedSystemPreamble(std::string_view source) {
  constexpr std::string_view kMarker = "Cutting Knowledge Date:";
  size_t at = source.find(kMarker);
  if (at == std::string_view::npos)
    return "";
  // The line as written: up to its escaped or literal newline.
  size_t end = source.find_first_of("\\\n\"", at);
  std::string knowledge(source.substr(at, end == std::string_view::npos
                                              ? std::string_view::npos
                                              : end - at));
  std::string date = "26 Jul 2024";
  constexpr std::string_view kDefault = "set date_string = \"";
  if (size_t d = source.find(kDefault); d != std::string_view::npos) {
    size_t from = d + kDefault.size();
    size_t to = source.find('"', from);
    if (to != std::string_view::npos)
      date = std::string(source.substr(from, to - from));
  }
  if (source.find("strftime_now") != std::string_view::npos) {
    std::time_t now = std::time(nullptr);
    char buffer[32];
    if (std::strftime(buffer, sizeof buffer, "%d %b %Y", std::localtime(&now)))
      date = buffer;
  }
  return absl::StrCat(knowledge, "\nToday Date: ", date, "\n\n");
}

} // namespace

std::string ChatTemplate::familyNames() {
  std::vector<const char *> names;
  for (const ChatFormat &format : kFormats)
    names.push_back(format.name);
  return absl::StrJoin(names, ", ");
}

std::string_view ChatTemplate::familyName(schema::ChatTemplateFamily family) {
  const ChatFormat *format = formatOf(family);
  return format ? format->name : "none";
}

std::string_view ChatTemplate::name() const { return format->name; }

absl::StatusOr<ChatTemplate>
ChatTemplate::create(const schema::Tokenizer &table, const Tokenizer &tokenizer,
                     std::string_view forcedName) {
  schema::ChatTemplateFamily recognised = table.chat_family();
  std::string_view source =
      table.chat_template() ? table.chat_template()->string_view() : "";
  const ChatFormat *format = nullptr;
  if (!forcedName.empty()) {
    for (const ChatFormat &candidate : kFormats)
      if (forcedName == candidate.name)
        format = &candidate;
    if (!format)
      return absl::InvalidArgumentError(
          absl::StrCat("unknown chat template '", std::string(forcedName),
                       "'; the known ones are ", familyNames()));
  } else {
    format = formatOf(recognised);
    if (!format)
      return absl::FailedPreconditionError(absl::StrCat(
          source.empty() ? "the model has no chat template"
                         : "the model's chat template is not one fmc-run "
                           "recognises",
          "; name its family with --chat-template NAME, one of ",
          familyNames()));
  }

  ChatTemplate result(*format, tokenizer);
  // What the model's own template says applies only to its own family.
  bool own = format->family == recognised && !source.empty();
  result.bosAtStart = format->bos == ChatBos::Start &&
                      (!own || source.find("bos_token") != std::string::npos);
  if (own && format->defaultSystemAfter)
    result.defaultSystem_ = defaultSystemOf(source, format->defaultSystemAfter);
  if (own && format->datedSystem)
    result.systemPreamble_ = datedSystemPreamble(source);
  if (own && format->thinkingPrompt)
    result.thinking =
        source.find(absl::StrCat(format->generationPrompt,
                                 format->thinkingPrompt)) != std::string::npos ||
        source.find(absl::StrCat(format->generationPrompt, "<think>\\n")) !=
            std::string::npos;

  // The reply ends at the end-of-turn token, or at EOS or BOS (which
  // starts another text); an end-of-turn text that is no token of this
  // vocabulary is a stop string.
  std::string_view end = format->endOfTurn;
  if (end == "{eos}") {
    result.endOfTurnToken_ = tokenizer.eos();
  } else {
    result.endOfTurnToken_ = tokenizer.tokenId(end);
    if (result.endOfTurnToken_ < 0)
      result.endStrings_.emplace_back(end);
  }
  for (int32_t token :
       {result.endOfTurnToken_, tokenizer.eos(), tokenizer.bos()})
    if (token >= 0 && std::find(result.endTokens_.begin(),
                                result.endTokens_.end(),
                                token) == result.endTokens_.end())
      result.endTokens_.push_back(token);
  return result;
}

void ChatTemplate::appendTemplate(std::string_view text,
                                  std::vector<PromptPiece> &out) const {
  while (!text.empty()) {
    size_t at = std::min(text.find("{bos}"), text.find("{eos}"));
    if (at == std::string_view::npos) {
      out.push_back({std::string(text), /*parseSpecial=*/true});
      return;
    }
    if (at > 0)
      out.push_back({std::string(text.substr(0, at)), true});
    int32_t token =
        text.substr(at, 5) == "{bos}" ? tokenizer->bos() : tokenizer->eos();
    if (token >= 0)
      out.push_back({"", false, token});
    text.remove_prefix(at + 5);
  }
}

void ChatTemplate::appendUser(std::string_view content,
                              const ChatMessage *system,
                              std::vector<PromptPiece> &out) const {
  if (format->bos == ChatBos::EachUserTurn && tokenizer->bos() >= 0)
    out.push_back({"", false, tokenizer->bos()});
  appendTemplate(format->user.prefix, out);
  if (system && format->trimAfterMerge) {
    std::string merged = absl::StrCat(format->system.prefix, system->content,
                                      format->system.suffix,
                                      std::string(content));
    out.push_back({std::string(strip(merged)), false});
  } else {
    if (system) {
      appendTemplate(format->system.prefix, out);
      out.push_back({system->content, false});
      appendTemplate(format->system.suffix, out);
    }
    out.push_back(
        {std::string(format->user.trim ? strip(content) : content), false});
  }
  appendTemplate(format->user.suffix, out);
}

void ChatTemplate::appendGenerationPrompt(std::vector<PromptPiece> &out) const {
  appendTemplate(format->generationPrompt, out);
  if (thinking)
    appendTemplate(format->thinkingPrompt, out);
}

absl::StatusOr<std::vector<PromptPiece>>
ChatTemplate::render(const std::vector<ChatMessage> &messages,
                     bool addGenerationPrompt) const {
  std::vector<PromptPiece> out;
  size_t first = 0;
  ChatMessage defaulted{ChatRole::System, defaultSystem_};
  const ChatMessage *system = defaultSystem_.empty() ? nullptr : &defaulted;
  if (!messages.empty() && messages[0].role == ChatRole::System) {
    system = &messages[0];
    first = 1;
  }
  for (size_t i = first; i < messages.size(); ++i) {
    ChatRole expected =
        (i - first) % 2 == 0 ? ChatRole::User : ChatRole::Assistant;
    if (messages[i].role != expected)
      return absl::InvalidArgumentError(absl::StrCat(
          "message ", i + 1, " is a ",
          messages[i].role == ChatRole::System ? "system"
          : messages[i].role == ChatRole::User ? "user"
                                               : "assistant",
          " message, expected a",
          expected == ChatRole::User ? " user" : "n assistant",
          " one: after an optional system message, user and assistant "
          "messages alternate, the user's first"));
  }

  if (bosAtStart && tokenizer->bos() >= 0)
    out.push_back({"", false, tokenizer->bos()});
  if (system && format->systemPlacement == ChatSystem::Start) {
    out.push_back({system->content, false});
  } else if ((system || !systemPreamble_.empty()) &&
             format->systemPlacement == ChatSystem::OwnTurn) {
    // A dated template writes its system turn with or without a message.
    std::string_view content = system ? std::string_view(system->content) : "";
    appendTemplate(format->system.prefix, out);
    out.push_back({systemPreamble_ +
                       std::string(format->system.trim ? strip(content)
                                                       : content),
                   false});
    appendTemplate(format->system.suffix, out);
  }
  for (size_t i = first; i < messages.size(); ++i) {
    const ChatMessage &message = messages[i];
    if (message.role == ChatRole::User) {
      bool merge =
          i == first && format->systemPlacement == ChatSystem::FirstUser;
      appendUser(message.content, merge ? system : nullptr, out);
      continue;
    }
    std::string_view content = message.content;
    if (format->dropThinking)
      if (size_t at = content.rfind("</think>"); at != std::string_view::npos)
        content.remove_prefix(at + 8);
    appendTemplate(format->assistant.prefix, out);
    out.push_back(
        {std::string(format->assistant.trim ? strip(content) : content),
         false});
    appendTemplate(format->assistant.suffix, out);
  }
  if (addGenerationPrompt)
    appendGenerationPrompt(out);
  return out;
}

std::vector<PromptPiece> ChatTemplate::nextTurn(bool replyEnded,
                                                std::string_view user) const {
  std::vector<PromptPiece> out;
  std::string_view close = format->assistant.suffix;
  if (replyEnded) {
    size_t at = close.find(format->endOfTurn);
    if (at != std::string_view::npos)
      close.remove_prefix(at + std::string_view(format->endOfTurn).size());
  }
  appendTemplate(close, out);
  appendUser(user, nullptr, out);
  appendGenerationPrompt(out);
  return out;
}

std::string ChatTemplate::text(const std::vector<PromptPiece> &pieces) const {
  std::string out;
  for (const PromptPiece &piece : pieces)
    out += piece.token >= 0 ? tokenizer->pieceText(piece.token) : piece.text;
  return out;
}

} // namespace fmc
